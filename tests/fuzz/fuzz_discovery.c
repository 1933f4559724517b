/* The provider's discovery document: whoever answers for the issuer's host (or sits between)
 * writes it. */
#include <string.h>
#include "olo_fuzz.h"
#include "../../auth/olo_discovery.h"
#include "../../auth/olo_url.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    olo_fuzz_init();
    return 0;
}

static int https_or_null(const char *url)
{
    return url == NULL || olo_url_check_https(url) == APR_SUCCESS;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = olo_fuzz_begin();
    /* an exact-length copy: the parser gets a length and must not read a byte further */
    char *json = apr_palloc(p, size ? size : 1);
    olo_metadata_t *md = NULL;
    olo_reason_t reason = OLO_OK;

    memcpy(json, data, size);
    if (olo_discovery_parse(&md, &reason, p, json, size, OLO_FUZZ_ISSUER) == APR_SUCCESS) {
        OLO_FUZZ_ASSERT(reason == OLO_OK && md != NULL);
        OLO_FUZZ_ASSERT(strcmp(md->issuer, OLO_FUZZ_ISSUER) == 0);
        OLO_FUZZ_ASSERT(md->authorization_endpoint && md->token_endpoint && md->jwks_uri);
        OLO_FUZZ_ASSERT(https_or_null(md->authorization_endpoint)
                        && https_or_null(md->token_endpoint) && https_or_null(md->jwks_uri)
                        && https_or_null(md->end_session_endpoint)
                        && https_or_null(md->userinfo_endpoint));
    }
    else {
        OLO_FUZZ_ASSERT(md == NULL);
        OLO_FUZZ_ASSERT(reason == OLO_R_PROVIDER_BAD_RESPONSE || reason == OLO_R_ISSUER_MISMATCH);
    }
    olo_fuzz_end(p);
    return 0;
}
