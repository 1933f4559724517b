/* The token endpoint's answer. First byte % 4 picks the HTTP status: 0 -> 200, 1 -> 400,
 * 2 -> 401, 3 -> another one; the rest is the body. */
#include <string.h>
#include "olo_fuzz.h"
#include "../../auth/olo_token.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    olo_fuzz_init();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int statuses[] = {200, 400, 401};
    apr_pool_t *p;
    olo_tokens_t *tokens = NULL;
    olo_reason_t reason = OLO_OK;
    const char *error = NULL;
    const char *why = NULL;
    int status;
    char *body;

    if (size < 1) {
        return 0;
    }
    status = (data[0] % 4 < 3) ? statuses[data[0] % 4] : 100 + data[0];
    p = olo_fuzz_begin();
    /* like the transport's: NUL-terminated, and the length is what counts */
    body = apr_palloc(p, size);
    memcpy(body, data + 1, size - 1);
    body[size - 1] = '\0';
    if (olo_token_parse(&tokens, &reason, &error, &why, p, status, body, size - 1)
        == APR_SUCCESS) {
        OLO_FUZZ_ASSERT(status == 200 && reason == OLO_OK && error == NULL && why == NULL);
        /* an answer may lack the ID token (a refresh), never hold an empty one */
        OLO_FUZZ_ASSERT(tokens->id_token == NULL || *tokens->id_token != '\0');
        OLO_FUZZ_ASSERT(tokens->expires_in >= 0);
    }
    else {
        OLO_FUZZ_ASSERT(tokens == NULL && why != NULL && *why);
        OLO_FUZZ_ASSERT((reason == OLO_R_TOKEN_ENDPOINT_ERROR) == (error != NULL));
        OLO_FUZZ_ASSERT(reason == OLO_R_TOKEN_ENDPOINT_ERROR
                        || reason == OLO_R_PROVIDER_BAD_RESPONSE);
        /* the error code lands in a log line and on a page */
        OLO_FUZZ_ASSERT(error == NULL || (*error && strlen(error) <= 64));
        for (const char *c = error; c && *c; c++) {
            OLO_FUZZ_ASSERT(*c >= 0x20 && *c <= 0x7e && *c != '"' && *c != '\\');
        }
    }
    olo_fuzz_end(p);
    return 0;
}
