/* Compact JWS: ID tokens from the token endpoint and bearer tokens from any client. First
 * byte % 4: 0 the rest is the compact JWS; 1, 2, 3 the rest is "header members\npayload",
 * signed here with the test keys as ES256, RS256 or PS256, so that what follows a valid
 * signature (payload parsing, claim checks) is fuzzed too. */
#include <string.h>
#include "olo_fuzz.h"
#include "../../jwt/olo_claims.h"
#include "../../jwt/olo_json.h"
#include "../../jwt/olo_jws.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    olo_fuzz_init();
    return 0;
}

static const char *const only_rs256[] = {"RS256", NULL};
/* algorithms the verifier must refuse even when an operator lists them */
static const char *const careless[] = {"ES256", "HS256", "none", "RS384", "PS256", NULL};
static const char *const *const allowed_sets[] = {NULL, only_rs256, careless};

static int listed(const char *const *list, const char *alg)
{
    for (list = list ? list : olo_jws_default_algs; *list != NULL; list++) {
        if (strcmp(*list, alg) == 0) {
            return 1;
        }
    }
    return 0;
}

static void check_claims(apr_pool_t *p, json_t *claims)
{
    olo_expect_t want = {OLO_FUZZ_ISSUER, OLO_FUZZ_CLIENT_ID, OLO_FUZZ_NONCE,
                         apr_time_from_sec(60), 0, 1};
    olo_bearer_expect_t bearer = {NULL, NULL, 0, apr_time_from_sec(60)};
    olo_reason_t reason;

    (void)p;
    olo_claims_check(&reason, claims, &want, OLO_FUZZ_NOW);
    olo_claims_check_bearer(&reason, claims, &bearer, OLO_FUZZ_NOW);
}

/* Returns 1 when the token verified under the default algorithms. */
static int verify_all(apr_pool_t *p, const char *compact)
{
    const olo_jwks_t *keys = olo_fuzz_keys()->jwks;
    json_t *peeked = NULL;
    int ok_default = 0;

    for (size_t i = 0; i < sizeof(allowed_sets) / sizeof(allowed_sets[0]); i++) {
        olo_jws_t *jws = NULL;
        olo_reason_t reason = OLO_OK;
        apr_status_t rv = olo_jws_verify(&jws, &reason, p, compact, keys, allowed_sets[i]);

        if (rv != APR_SUCCESS) {
            OLO_FUZZ_ASSERT(jws == NULL && reason != OLO_OK);
            continue;
        }
        OLO_FUZZ_ASSERT(reason == OLO_OK && json_is_object(jws->claims));
        /* only our three algorithms, and only when the operator's list names them */
        OLO_FUZZ_ASSERT(listed(allowed_sets[i], jws->alg) && listed(NULL, jws->alg));
        OLO_FUZZ_ASSERT(jws->kid == NULL || olo_jwks_find(keys, jws->kid) != NULL);
        /* the unverified reading of a verified token is the same object */
        OLO_FUZZ_ASSERT(olo_jws_peek_claims(&peeked, p, compact) == APR_SUCCESS);
        OLO_FUZZ_ASSERT(json_equal(peeked, jws->claims));
        check_claims(p, jws->claims);
        ok_default |= (allowed_sets[i] == NULL);
    }
    if (olo_jws_peek_claims(&peeked, p, compact) == APR_SUCCESS) {
        OLO_FUZZ_ASSERT(json_is_object(peeked));
        check_claims(p, peeked);
    }
    return ok_default;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const algs[] = {NULL, "ES256", "RS256", "PS256"};
    const olo_fuzz_keys_t *k = olo_fuzz_keys();
    const uint8_t *payload = NULL;
    size_t plen = 0;
    apr_pool_t *p;
    int mode;

    if (size < 1) {
        return 0;
    }
    mode = data[0] % 4;
    p = olo_fuzz_begin();
    if (mode == 0) {
        verify_all(p, olo_fuzz_cstr(p, data + 1, size - 1));
    }
    else {
        const char *head = olo_fuzz_split(&payload, &plen, p, data + 1, size - 1, '\n');
        json_t *extra = payload ? olo_json_load(p, head, strlen(head)) : NULL;
        const char *kid = (mode == 1) ? "fuzz-ec" : "fuzz-rsa";
        const char *compact;

        if (payload == NULL) {
            payload = data + 1;
            plen = size - 1;
        }
        if (json_object_get(extra, "kid") != NULL) {
            kid = NULL;     /* the input's own kid, whatever its type */
        }
        compact = olo_fuzz_sign(p, mode == 1 ? k->ec : k->rsa, algs[mode], kid, extra, payload,
                                plen);
        if (compact != NULL) {
            int ok = verify_all(p, compact);
            json_t *obj = olo_json_load(p, (const char *)payload, plen);
            /* our own plain signature over a JSON object must verify */
            if ((extra == NULL || json_object_size(extra) == 0) && json_is_object(obj)
                && strlen(compact) <= OLO_JWS_MAX_BYTES
                && memchr(payload, '\0', plen) == NULL) {
                OLO_FUZZ_ASSERT(ok);
            }
        }
    }
    olo_fuzz_end(p);
    return 0;
}
