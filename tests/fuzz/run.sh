#!/bin/sh
# libFuzzer targets for the parsers that read what the outside sends.
#   run.sh build              compile every target into tests/fuzz/build/
#   run.sh smoke [SECONDS]    build, fuzz each target SECONDS (default 5) from a copy of its
#                             corpus, then replay tests/fuzz/regressions/<target>/
#   run.sh full [SECONDS]     the same, 120 s each by default; the grown corpora are kept in
#                             tests/fuzz/build/work/<target>/ for the next run
#   run.sh replay             build and replay the seeds and regression inputs once each
#   run.sh one TARGET ARGS... run one target with libFuzzer arguments (reproduce a finding)
#   run.sh seeds              rebuild make_seeds, add missing seeds to tests/fuzz/corpus/
# Targets run one after the other. Exit status 1 on any crash, leak, timeout or build error;
# the last line is "fuzz: N targets, M executions, K crashes".

# Flag lists ($CFLAGS, $own, $objs, ...) are split on purpose.
# shellcheck disable=SC2086,SC2089,SC2090,SC2012
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$here/build
TARGETS=${FUZZ_TARGETS:-"session_cookie state_cookie callback_query redirect_target jws jwks \
claims discovery token bearer_header cookie_header config_value cache_key"}
CC=${FUZZ_CC:-clang}
FUZZ_FLAGS="-max_len=65536 -timeout=5 -rss_limit_mb=1024 -detect_leaks=1 -print_final_stats=1"

deps() {
    if ! command -v "$CC" >/dev/null || ! echo 'int LLVMFuzzerTestOneInput(const char *d, long n)
        { return 0; }' | "$CC" -x c -fsanitize=fuzzer -o /dev/null - 2>/dev/null; then
        echo "fuzz: $CC with libFuzzer is missing (apt-get install -y clang libclang-rt-14-dev)" >&2
        exit 1
    fi
}

# cc_obj SRC OBJ FLAGS...: compile when the object is older than the source or any header
cc_obj() {
    src=$1 obj=$2
    shift 2
    if [ -f "$obj" ] && [ -z "$(find "$src" "$root/jwt" "$root/auth" "$here" -maxdepth 1 \
            -name '*.[ch]' -newer "$obj" 2>/dev/null | head -n 1)" ]; then
        return 0
    fi
    "$CC" $CFLAGS "$@" -c "$src" -o "$obj"
}

do_build() {
    deps
    mkdir -p "$build/obj"
    APR_CFLAGS="$(apr-1-config --cflags --cppflags --includes) $(apu-1-config --includes)"
    APR_LIBS="$(apr-1-config --link-ld --libs) $(apu-1-config --link-ld)"
    PKG_CFLAGS=$(pkg-config --cflags cjose jansson libcrypto libcurl)
    PKG_LIBS=$(pkg-config --libs cjose jansson libcrypto libcurl)
    SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
    CFLAGS="-std=gnu11 -g -O1 $SAN $APR_CFLAGS $PKG_CFLAGS"
    objs=""
    # the pure sources exactly as the module and the unit tests compile them
    for src in "$root"/jwt/*.c "$root"/auth/*.c; do
        obj=$build/obj/$(basename "$(dirname "$src")")_$(basename "$src" .c).o
        cc_obj "$src" "$obj" -fsanitize=fuzzer-no-link
        objs="$objs $obj"
    done
    own="-Wall -Wextra -Werror -Wno-unused-parameter -DOLO_FUZZ_KEYS_FILE=\"$here/keys.json\""
    cc_obj "$here/olo_fuzz.c" "$build/obj/olo_fuzz.o" -fsanitize=fuzzer-no-link $own
    for t in $TARGETS; do
        cc_obj "$here/fuzz_$t.c" "$build/obj/fuzz_$t.o" -fsanitize=fuzzer-no-link $own
        "$CC" $CFLAGS -fsanitize=fuzzer -o "$build/fuzz_$t" "$build/obj/fuzz_$t.o" \
            "$build/obj/olo_fuzz.o" $objs $APR_LIBS $PKG_LIBS -ldl
    done
    cc_obj "$here/make_seeds.c" "$build/obj/make_seeds.o" $own
    "$CC" $CFLAGS -o "$build/make_seeds" "$build/obj/make_seeds.o" "$build/obj/olo_fuzz.o" \
        $objs $APR_LIBS $PKG_LIBS -ldl -fsanitize=fuzzer-no-link
}

total_execs=0
total_crashes=0
ran=0

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

# fuzz TARGET SECONDS WORKDIR: one timed run over WORKDIR (which it grows)
fuzz() {
    t=$1 secs=$2 work=$3
    log=$build/logs/$t.log
    mkdir -p "$build/logs" "$build/artifacts/$t" "$work"
    if [ -d "$here/corpus/$t" ]; then
        cp -p "$here/corpus/$t"/* "$work"/ 2>/dev/null || true
    fi
    rc=0
    "$build/fuzz_$t" $FUZZ_FLAGS $EXTRA -max_total_time="$secs" \
        -artifact_prefix="$build/artifacts/$t/" "$work" >"$log" 2>&1 || rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    execs=${execs:-0}
    total_execs=$((total_execs + execs))
    ran=$((ran + 1))
    if [ "$rc" -ne 0 ]; then
        total_crashes=$((total_crashes + 1))
        echo "fuzz: $t: FAILED after $execs executions (exit $rc); log $log:" >&2
        grep -E '^(==[0-9]+==ERROR|SUMMARY|artifact_prefix|Test unit written|.*invariant)' \
            "$log" >&2 || tail -n 30 "$log" >&2
    else
        echo "fuzz: $t: $execs executions in $secs s ($(ls "$work" | wc -l) corpus entries)"
    fi
}

# replay TARGET DIR: every file once
replay() {
    t=$1 dir=$2
    [ -d "$dir" ] && [ -n "$(ls -A "$dir" 2>/dev/null)" ] || return 0
    log=$build/logs/$t.replay.log
    mkdir -p "$build/logs"
    rc=0
    "$build/fuzz_$t" $FUZZ_FLAGS "$dir"/* >"$log" 2>&1 || rc=$?
    n=$(ls "$dir" | wc -l)
    total_execs=$((total_execs + n))
    if [ "$rc" -ne 0 ]; then
        total_crashes=$((total_crashes + 1))
        echo "fuzz: $t: replay of $dir FAILED (exit $rc); log $log:" >&2
        grep -E '^(==[0-9]+==ERROR|SUMMARY|Running:|.*invariant)' "$log" | tail -n 20 >&2 || true
    else
        echo "fuzz: $t: $n inputs of $(basename "$(dirname "$dir")")/ replayed"
    fi
}

summary() {
    echo "fuzz: $ran targets, $total_execs executions, $total_crashes crashes"
    [ "$total_crashes" -eq 0 ]
}

mode=${1:-smoke}
case $mode in
build)
    do_build
    ;;
smoke | full)
    if [ "$mode" = smoke ]; then secs=${2:-5}; EXTRA=""; else secs=${2:-120}; EXTRA="-use_value_profile=1"; fi
    do_build
    for t in $TARGETS; do
        if [ "$mode" = smoke ]; then
            work=$(mktemp -d "${TMPDIR:-/tmp}/olo-fuzz-$t.XXXXXX")
            fuzz "$t" "$secs" "$work"
            rm -rf "$work"
        else
            fuzz "$t" "$secs" "$build/work/$t"
        fi
        replay "$t" "$here/regressions/$t"
    done
    summary
    ;;
replay)
    do_build
    for t in $TARGETS; do
        replay "$t" "$here/corpus/$t"
        replay "$t" "$here/regressions/$t"
        ran=$((ran + 1))
    done
    summary
    ;;
one)
    [ $# -ge 2 ] || { echo "usage: run.sh one TARGET [libFuzzer args]" >&2; exit 2; }
    t=$2
    shift 2
    TARGETS=$t
    do_build
    exec "$build/fuzz_$t" $FUZZ_FLAGS "$@"
    ;;
seeds)
    do_build
    OLO_FUZZ_KEYS=$here/keys.json "$build/make_seeds" corpus "$here/corpus"
    ;;
*)
    sed -n '2,12p' "$0" >&2
    exit 2
    ;;
esac
