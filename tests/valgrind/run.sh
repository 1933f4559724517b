#!/bin/sh
# make test-valgrind: integration flows against apache2 -X under valgrind memcheck.
#
#   sh tests/valgrind/run.sh                      # the default flows below
#   sh tests/valgrind/run.sh -k callback          # extra arguments go to pytest
#   OLO_VALGRIND_TESTS="test_login.py" sh tests/valgrind/run.sh
#
# Every apache2 the selected tests start runs as one process (-X, event MPM) under
# memcheck (tests/valgrind/olo_valgrind.py). At the end tests/valgrind/report.py reads the
# XML logs and fails on any invalid read/write, on a definite leak or an uninitialised-value
# use with a module frame, or on a process that left no leak report. The logs stay in
# $OLO_VALGRIND_DIR (default: a fresh /tmp/olo-valgrind-*); OLO_VALGRIND_TRACK_ORIGINS=1 adds
# --track-origins=yes (slower) to find where an uninitialised value came from.
set -u
cd "$(dirname "$0")/../.." || exit 2

for need in valgrind /usr/sbin/apache2 .libs/mod_onelogin_oidc.so; do
    command -v "$need" >/dev/null 2>&1 || [ -e "$need" ] || {
        echo "test-valgrind: $need is missing (apt-get install valgrind; make module)" >&2
        exit 2
    }
done

# The flows: the login, the tokens, the callback's refusals, the renewal, bearer tokens.
# Deselected: tests that measure wall-clock time in seconds, which valgrind (20-50x slower)
# makes meaningless, not wrong.
TESTS=${OLO_VALGRIND_TESTS:-"test_login.py test_tokens.py test_callback_errors.py test_refresh.py test_bearer.py"}
DESELECT=${OLO_VALGRIND_DESELECT-"test_idle_session_needs_a_new_login or test_session_max_age_holds_despite_activity"}

OUT=${OLO_VALGRIND_DIR:-$(mktemp -d /tmp/olo-valgrind-XXXXXX)}
mkdir -p "$OUT"
rm -f "$OUT"/*.xml "$OUT"/*.log "$OUT"/*.requests "$OUT"/*.killed "$OUT"/*.apache2.sh
export OLO_VALGRIND_DIR="$OUT"
# The suite's run directory (CA, provider state, httpd roots) goes inside $OUT, out of the
# way of anything that sweeps /tmp/olo-it-*; httpd's child (nobody) must traverse it.
mkdir -p "$OUT/tmp"
chmod 755 "$OUT" "$OUT/tmp"
export TMPDIR="$OUT/tmp"

set --  "$@"
paths=""
for t in $TESTS; do paths="$paths tests/integration/$t"; done
if [ -n "$DESELECT" ]; then set -- -k "not ($DESELECT)" "$@"; fi

echo "test-valgrind: logs in $OUT"
# shellcheck disable=SC2086  # $paths is a list of words
PYTHONPATH="tests/valgrind:tests/integration${PYTHONPATH:+:$PYTHONPATH}" \
    /usr/bin/python3 -m pytest -p olo_valgrind -p no:cacheprovider -q $paths "$@"
tests_rc=$?

/usr/bin/python3 tests/valgrind/report.py "$OUT"
report_rc=$?

if [ "$tests_rc" -ne 0 ]; then
    echo "test-valgrind: the integration tests failed under valgrind (pytest exit $tests_rc)" >&2
fi
[ "$tests_rc" -eq 0 ] && [ "$report_rc" -eq 0 ]
