/* A JWKS document: the provider's, or an extra set (OneLoginBearerJWKS) that another
 * application serves. Whatever it holds, parsing must not crash, and what it keeps must be
 * usable keys; tokens signed by the test keys are then verified against the parsed set. */
#include <string.h>
#include "olo_fuzz.h"
#include "../../jwt/olo_jwks.h"
#include "../../jwt/olo_jws.h"

static const char *tokens[4];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static const char payload[] = "{\"iss\":\"" OLO_FUZZ_ISSUER "\",\"sub\":\"x\"}";
    const olo_fuzz_keys_t *k;
    apr_pool_t *p;

    (void)argc, (void)argv;
    olo_fuzz_init();
    k = olo_fuzz_keys();
    p = olo_fuzz_global_pool();
    tokens[0] = olo_fuzz_sign(p, k->rsa, "RS256", "fuzz-rsa", NULL, (const uint8_t *)payload,
                              strlen(payload));
    tokens[1] = olo_fuzz_sign(p, k->rsa, "PS256", NULL, NULL, (const uint8_t *)payload,
                              strlen(payload));
    tokens[2] = olo_fuzz_sign(p, k->ec, "ES256", "fuzz-ec", NULL, (const uint8_t *)payload,
                              strlen(payload));
    tokens[3] = olo_fuzz_sign(p, k->bot, "ES256", NULL, NULL, (const uint8_t *)payload,
                              strlen(payload));
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = olo_fuzz_begin();
    /* an exact-length copy: the parser gets a length and must not read a byte further */
    char *json = apr_palloc(p, size ? size : 1);
    olo_jwks_t *jwks = NULL;

    memcpy(json, data, size);
    if (olo_jwks_parse(&jwks, p, json, size) == APR_SUCCESS) {
        OLO_FUZZ_ASSERT(jwks->nkeys >= 1 && jwks->nkeys <= OLO_JWKS_MAX_KEYS);
        for (int i = 0; i < jwks->nkeys; i++) {
            const olo_jwk_t *key = &jwks->keys[i];
            OLO_FUZZ_ASSERT(key->jwk != NULL && key->kty != NULL);
            OLO_FUZZ_ASSERT(strcmp(key->kty, "RSA") == 0
                            || (strcmp(key->kty, "EC") == 0 && strcmp(key->crv, "P-256") == 0));
            OLO_FUZZ_ASSERT(key->kid == NULL || olo_jwks_find(jwks, key->kid) != NULL);
        }
        for (size_t i = 0; i < sizeof(tokens) / sizeof(tokens[0]); i++) {
            olo_jws_t *jws = NULL;
            olo_reason_t reason;
            olo_jws_verify(&jws, &reason, p, tokens[i], jwks, NULL);
        }
    }
    else {
        OLO_FUZZ_ASSERT(jwks == NULL);
    }
    olo_fuzz_end(p);
    return 0;
}
