/* Where the browser lands after login: the path of the protected request, or ?target= of
 * the login path. An accepted target must stay on this site whatever a browser makes of it. */
#include <string.h>
#include <strings.h>
#include "olo_fuzz.h"
#include "../../auth/olo_url.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    olo_fuzz_init();
    return 0;
}

static int hex(char c)
{
    return (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10
         : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
}

/* The local-path rule, applied to s and to s decoded once (a second, independent decoder). */
static void check_local(apr_pool_t *p, const char *s)
{
    size_t len = strlen(s);
    char *dec = apr_palloc(p, len + 1);
    size_t n = 0;

    OLO_FUZZ_ASSERT(len >= 1 && len <= OLO_URL_MAX_TARGET);
    OLO_FUZZ_ASSERT(s[0] == '/' && s[1] != '/' && s[1] != '\\');
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        OLO_FUZZ_ASSERT(c >= 0x21 && c != 0x7f && c != '\\');
        if (c == '%') {
            OLO_FUZZ_ASSERT(i + 2 < len && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0);
            c = (unsigned char)(hex(s[i + 1]) * 16 + hex(s[i + 2]));
            i += 2;
        }
        dec[n++] = (char)c;
    }
    OLO_FUZZ_ASSERT(n >= 1 && dec[0] == '/');
    OLO_FUZZ_ASSERT(n == 1 || (dec[1] != '/' && dec[1] != '\\'));
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)dec[i];
        OLO_FUZZ_ASSERT(c >= 0x20 && c != 0x7f && c != '\\');
    }
}

static void check_target(apr_pool_t *p, const char *target)
{
    const char *landing = olo_url_local_target(target);

    if (olo_url_is_local_target(target)) {
        check_local(p, target);
        OLO_FUZZ_ASSERT(landing == target);
    }
    else {
        OLO_FUZZ_ASSERT(strcmp(landing, "/") == 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = olo_fuzz_begin();
    const char *input = olo_fuzz_cstr(p, data, size);
    const char *target = NULL;

    /* the path as requested, then ?target= of the login path after query decoding */
    check_target(p, input);
    if (olo_url_query_get(&target, p, input, "target") == APR_SUCCESS) {
        check_target(p, target);
    }
    /* the provider's endpoints pass the https rule; what it lets through names a host */
    if (olo_url_check_https(input) == APR_SUCCESS) {
        const char *host = input + 8;
        size_t hlen = strcspn(host, "/?#");
        OLO_FUZZ_ASSERT(strncasecmp(input, "https://", 8) == 0 && hlen > 0 && host[0] != ':');
        OLO_FUZZ_ASSERT(memchr(host, '@', hlen) == NULL && strpbrk(input, " \\\t\r\n") == NULL);
    }
    olo_fuzz_end(p);
    return 0;
}
