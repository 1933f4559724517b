/* Directive values. They come from the operator, not the network, but a typo must give a
 * message, never a crash at startup. */
#include <string.h>
#include "olo_fuzz.h"
#include "../../auth/olo_config.h"
#include "../../auth/olo_url.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    olo_fuzz_init();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = olo_fuzz_begin();
    const char *value = olo_fuzz_cstr(p, data, size);
    int secs = -1;

    if (olo_config_check_issuer(p, value) == NULL) {
        OLO_FUZZ_ASSERT(olo_url_check_https(value) == APR_SUCCESS);
        OLO_FUZZ_ASSERT(strpbrk(value, "?#") == NULL);
    }
    olo_config_check_secret(p, value);
    if (olo_config_check_path(p, value) == NULL) {
        OLO_FUZZ_ASSERT(value[0] == '/' && value[1] != '/' && !strpbrk(value, "?# \t\r\n\\"));
    }
    /* a redirect URI that passes has a local path the callback handler can match */
    if (olo_config_check_redirect_uri(p, value) == NULL) {
        const char *path = olo_config_redirect_path(p, value);
        OLO_FUZZ_ASSERT(path != NULL && path[0] == '/' && olo_config_check_path(p, path) == NULL);
    }
    if (olo_config_parse_seconds(&secs, p, value, 0, 86400 * 365) == NULL) {
        OLO_FUZZ_ASSERT(secs >= 0 && secs <= 86400 * 365);
    }
    olo_fuzz_end(p);
    return 0;
}
