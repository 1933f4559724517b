#!/bin/sh
# Structural guards run by `make check`: layering, config create/merge coverage, log-id
# registry and directive reference. Each prints what is wrong; the last line is the summary.
cd "$(dirname "$0")/../.." || exit 2
passed=0
failed=0
pass() { passed=$((passed + 1)); }
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }

# 1. Dependencies point down: glue -> auth/ -> jwt/; the pure layers know nothing of httpd.
if grep -nE '#include [<"](httpd|http_[a-z_]+|ap_[a-z_]+|util_[a-z_]+|mod_[a-z_]+)\.h' auth/*.[ch] jwt/*.[ch]; then
    fail "auth/ or jwt/ includes an httpd header"
else pass; fi
if grep -nE '#include "\.\./auth/' jwt/*.[ch]; then
    fail "jwt/ includes from auth/"
else pass; fi

# 2. Every server/dir config field is initialised unset in create and handled in merge.
for struct in olo_server_conf_t olo_dir_conf_t; do
    fields=$(sed -n "/^typedef struct $struct {/,/^} $struct;/p" auth/olo_config.h \
             | grep -E '^\s+(const char \*|int |void \*|apr_array_header_t \*)' \
             | sed -E 's/^[^;]*[ *]([a-z_]+);.*/\1/')
    for f in $fields; do
        [ "$f" = runtime ] && continue
        if grep -qE "OLO_MERGE_(STR|INT|PTR)\($f\)" auth/olo_config.c; then pass
        else fail "$struct.$f is not merged in auth/olo_config.c"; fi
        if sed -n "/^typedef struct $struct {/,/^} $struct;/p" auth/olo_config.h | grep -qE "int $f;"; then
            if grep -qE "conf->$f = OLO_UNSET" auth/olo_config.c; then pass
            else fail "$struct.$f (int) does not start as OLO_UNSET"; fi
        fi
    done
done

# 3. Log ids: each used once, each registered in docs/log-ids.md.
ids=$(grep -ohE 'OLO_LOGNO\([0-9]{5}\)' mod_onelogin_oidc*.c auth/*.c jwt/*.c 2>/dev/null | grep -oE '[0-9]{5}')
dups=$(echo "$ids" | sort | uniq -d)
if [ -n "$dups" ]; then fail "log ids used more than once: $dups"; else pass; fi
for id in $ids; do
    if grep -q "OLO$id" docs/log-ids.md; then pass; else fail "OLO$id is not in docs/log-ids.md"; fi
done

# 4. Every directive in the code is documented in docs/directives.md.
#    Each section names its syntax, context and default, and shows an example.
for d in $(grep -oE 'AP_INIT_[A-Z0-9]+\("OneLogin[A-Za-z]+"' mod_onelogin_oidc.c | grep -oE 'OneLogin[A-Za-z]+'); do
    if grep -q "^## $d\b" docs/directives.md; then pass; else fail "$d is not documented in docs/directives.md"; fi
    section=$(sed -n "/^## $d\$/,/^## /p" docs/directives.md)
    for part in "Syntax: \`$d" "Context: " "Default: " "Example: \`$d"; do
        if printf '%s\n' "$section" | grep -qF -- "$part"; then pass
        else fail "docs/directives.md: $d lacks \"$part\""; fi
    done
done

# 5. Request log lines go through olo_log_rerror, which adds mod_unique_id's id.
if grep -nE '(^|[^_])ap_log_rerror\(' mod_onelogin_oidc*.c; then
    fail "a glue file logs for a request with ap_log_rerror instead of olo_log_rerror"
else pass; fi

echo "guards: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
