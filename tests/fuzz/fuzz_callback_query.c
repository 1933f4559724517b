/* The query string of a request to the redirect URI: anyone can send one. */
#include <string.h>
#include <apr_lib.h>
#include "olo_fuzz.h"
#include "../../auth/olo_login.h"
#include "../../auth/olo_state.h"
#include "../../auth/olo_url.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    olo_fuzz_init();
    return 0;
}

/* Names the module asks for, names it never asks for, and the edge cases of matching. */
static const char *const names[] = {"state", "code", "error", "target", "iss",
                                    "error_description", "session_state", "", "a b", "%",
                                    NULL};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = olo_fuzz_begin();
    const char *query = olo_fuzz_cstr(p, data, size);
    olo_callback_params_t *params = NULL;
    olo_outcome_t out = {OLO_OK, NULL};

    if (olo_callback_parse(&params, &out, p, query) == APR_SUCCESS) {
        OLO_FUZZ_ASSERT(out.reason == OLO_OK && params != NULL);
        OLO_FUZZ_ASSERT(olo_state_is_well_formed(params->state));
        OLO_FUZZ_ASSERT(params->code != NULL || params->error != NULL);
        OLO_FUZZ_ASSERT(params->code == NULL || (*params->code && strlen(params->code) <= 2048));
        /* the provider's error code reaches a log line and a page: short and plain */
        for (const char *c = params->error; c && *c; c++) {
            OLO_FUZZ_ASSERT(apr_isalnum(*c) || strchr("_-.?", *c));
        }
        OLO_FUZZ_ASSERT(params->error == NULL || strlen(params->error) <= 64);
    }
    else {
        OLO_FUZZ_ASSERT(params == NULL && out.reason == OLO_R_CALLBACK_INVALID);
    }
    for (int i = 0; names[i] != NULL; i++) {
        const char *value = NULL;
        apr_status_t rv = olo_url_query_get(&value, p, query, names[i]);

        OLO_FUZZ_ASSERT(rv == APR_SUCCESS || rv == APR_ENOENT || rv == APR_EINVAL);
        OLO_FUZZ_ASSERT((rv == APR_SUCCESS) == (value != NULL));
        OLO_FUZZ_ASSERT(value == NULL || strlen(value) <= strlen(query));
    }
    olo_fuzz_end(p);
    return 0;
}
