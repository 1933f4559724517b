/* jwt/olo_jws: ID token signatures. Keys are generated per test case with cjose; tokens are
 * signed with cjose or, for the attacks, put together by hand. */
#include <stdarg.h>
#include <string.h>
#include <apr_strings.h>
#include <cjose/header.h>
#include <cjose/jws.h>
#include <cjose/util.h>
#include "olo_test.h"
#include "../../jwt/olo_b64.h"
#include "../../jwt/olo_jws.h"

#define CLAIMS "{\"iss\":\"https://idp.example\",\"sub\":\"u1\",\"aud\":\"client\"}"

static cjose_jwk_t *rsa_key;     /* signs RS256 and PS256 */
static cjose_jwk_t *rsa_other;   /* a second RSA key of the provider */
static cjose_jwk_t *ec_key;      /* signs ES256 */

static void keys_create(void)
{
    rsa_key = cjose_jwk_create_RSA_random(2048, NULL, 0, NULL);
    rsa_other = cjose_jwk_create_RSA_random(2048, NULL, 0, NULL);
    ec_key = cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_256, NULL);
}

static void keys_release(void)
{
    cjose_jwk_release(rsa_key);
    cjose_jwk_release(rsa_other);
    cjose_jwk_release(ec_key);
}

/* The public JWK of k as a provider would publish it, with kid (and alg when non-NULL). */
static const char *published(cjose_jwk_t *k, const char *kid, const char *alg)
{
    char *pub = cjose_jwk_to_json(k, false, NULL);
    json_t *obj = json_loads(pub, 0, NULL);
    char *text;
    const char *copy;

    ck_assert_ptr_nonnull(obj);
    json_object_set_new(obj, "kid", json_string(kid));
    if (alg != NULL) {
        json_object_set_new(obj, "alg", json_string(alg));
    }
    text = json_dumps(obj, JSON_COMPACT);
    copy = apr_pstrdup(olo_test_pool, text);
    free(text);
    json_decref(obj);
    cjose_get_dealloc()(pub);
    return copy;
}

/* A key set from published keys (NULL-terminated). */
static olo_jwks_t *keyset(const char *first, ...)
{
    olo_jwks_t *jwks = NULL;
    const char *json = apr_pstrcat(olo_test_pool, "{\"keys\":[", first, NULL);
    const char *next;
    va_list ap;

    va_start(ap, first);
    while ((next = va_arg(ap, const char *)) != NULL) {
        json = apr_pstrcat(olo_test_pool, json, ",", next, NULL);
    }
    va_end(ap);
    json = apr_pstrcat(olo_test_pool, json, "]}", NULL);
    ck_assert_int_eq(olo_jwks_parse(&jwks, olo_test_pool, json, strlen(json)), APR_SUCCESS);
    return jwks;
}

static const char *sign(cjose_jwk_t *k, const char *alg, const char *kid, const char *payload)
{
    cjose_header_t *hdr = cjose_header_new(NULL);
    cjose_jws_t *jws;
    const char *compact = NULL;

    cjose_header_set(hdr, CJOSE_HDR_ALG, alg, NULL);
    if (kid != NULL) {
        cjose_header_set(hdr, CJOSE_HDR_KID, kid, NULL);
    }
    jws = cjose_jws_sign(k, hdr, (const uint8_t *)payload, strlen(payload), NULL);
    ck_assert_ptr_nonnull(jws);
    ck_assert(cjose_jws_export(jws, &compact, NULL));
    compact = apr_pstrdup(olo_test_pool, compact);
    cjose_jws_release(jws);
    cjose_header_release(hdr);
    return compact;
}

static const char *b64(const char *text)
{
    return olo_b64_encode(olo_test_pool, (const unsigned char *)text, strlen(text));
}

/* A token put together by hand, as an attacker would. */
static const char *craft(const char *header, const char *payload, const char *sig)
{
    return apr_pstrcat(olo_test_pool, b64(header), ".", b64(payload), ".", sig, NULL);
}

/* Segment i of a compact token, as a new string. */
static const char *segment(const char *compact, int i)
{
    char *copy = apr_pstrdup(olo_test_pool, compact);
    char *last = NULL;
    char *seg = apr_strtok(copy, ".", &last);

    while (i-- > 0) {
        seg = apr_strtok(NULL, ".", &last);
    }
    return seg;
}

static olo_reason_t verify(apr_status_t want_rv, const char *compact, const olo_jwks_t *keys,
                           const char *const *allowed)
{
    olo_jws_t *jws = (olo_jws_t *)olo_test_pool;
    olo_reason_t reason = OLO_R__COUNT;
    apr_status_t rv = olo_jws_verify(&jws, &reason, olo_test_pool, compact, keys, allowed);

    ck_assert_int_eq(rv, want_rv);
    if (rv == APR_SUCCESS) {
        ck_assert_ptr_nonnull(jws);
        ck_assert_str_eq(json_string_value(json_object_get(jws->claims, "sub")), "u1");
    }
    else {
        ck_assert_ptr_null(jws);
    }
    return reason;
}

START_TEST(rs256_valid)
{
    olo_jwks_t *keys = keyset(published(rsa_key, "rsa-1", "RS256"), NULL);
    olo_jws_t *jws = NULL;
    olo_reason_t reason;

    ck_assert_int_eq(olo_jws_verify(&jws, &reason, olo_test_pool,
                                    sign(rsa_key, "RS256", "rsa-1", CLAIMS), keys, NULL),
                     APR_SUCCESS);
    ck_assert_int_eq(reason, OLO_OK);
    ck_assert_str_eq(jws->alg, "RS256");
    ck_assert_str_eq(jws->kid, "rsa-1");
    ck_assert_str_eq(json_string_value(json_object_get(jws->claims, "iss")),
                     "https://idp.example");
}
END_TEST

START_TEST(ps256_valid)
{
    olo_jwks_t *keys = keyset(published(rsa_key, "rsa-1", NULL), NULL);

    ck_assert_int_eq(verify(APR_SUCCESS, sign(rsa_key, "PS256", "rsa-1", CLAIMS), keys, NULL),
                     OLO_OK);
}
END_TEST

START_TEST(es256_valid)
{
    olo_jwks_t *keys = keyset(published(rsa_key, "rsa-1", NULL), published(ec_key, "ec-1", NULL),
                              NULL);

    ck_assert_int_eq(verify(APR_SUCCESS, sign(ec_key, "ES256", "ec-1", CLAIMS), keys, NULL),
                     OLO_OK);
}
END_TEST

START_TEST(bad_signature_refused)
{
    olo_jwks_t *keys = keyset(published(rsa_key, "rsa-1", NULL), published(ec_key, "ec-1", NULL),
                              NULL);
    const char *tokens[] = {sign(rsa_key, "RS256", "rsa-1", CLAIMS),
                            sign(rsa_key, "PS256", "rsa-1", CLAIMS),
                            sign(ec_key, "ES256", "ec-1", CLAIMS)};

    for (int i = 0; i < 3; i++) {
        char *t = apr_pstrdup(olo_test_pool, tokens[i]);
        char *mid = t + strlen(t) - strlen(segment(t, 2)) / 2;

        /* Still valid base64url, so only the signature check can catch it. */
        *mid = (*mid == 'A') ? 'B' : 'A';
        ck_assert_int_eq(verify(APR_EGENERAL, t, keys, NULL), OLO_R_BAD_SIGNATURE);
    }
}
END_TEST

START_TEST(signed_by_other_key_refused)
{
    olo_jwks_t *keys = keyset(published(rsa_key, "rsa-1", NULL), NULL);

    ck_assert_int_eq(verify(APR_EGENERAL, sign(rsa_other, "RS256", "rsa-1", CLAIMS), keys, NULL),
                     OLO_R_BAD_SIGNATURE);
}
END_TEST

START_TEST(payload_swapped_refused)
{
    olo_jwks_t *keys = keyset(published(rsa_key, "rsa-1", NULL), NULL);
    const char *t = sign(rsa_key, "RS256", "rsa-1", CLAIMS);
    const char *forged = apr_pstrcat(olo_test_pool, segment(t, 0), ".",
                                     b64("{\"iss\":\"https://idp.example\",\"sub\":\"admin\"}"),
                                     ".", segment(t, 2), NULL);

    ck_assert_int_eq(verify(APR_EGENERAL, forged, keys, NULL), OLO_R_BAD_SIGNATURE);
}
END_TEST

/* t with its signature re-encoded, delta bytes shorter (< 0) or longer (> 0, zero bytes). */
static const char *resized_signature(const char *t, apr_ssize_t delta)
{
    const char *s = segment(t, 2);
    unsigned char *sig = NULL, *out;
    apr_size_t len = 0;

    ck_assert_int_eq(olo_b64_decode(&sig, &len, olo_test_pool, s, strlen(s)), APR_SUCCESS);
    out = apr_pcalloc(olo_test_pool, len + 8);
    memcpy(out, sig, len);
    return apr_pstrcat(olo_test_pool, segment(t, 0), ".", segment(t, 1), ".",
                       olo_b64_encode(olo_test_pool, out, (apr_size_t)((apr_ssize_t)len + delta)),
                       NULL);
}

START_TEST(signature_of_wrong_length_refused)
{
    olo_jwks_t *keys = keyset(published(rsa_key, "rsa-1", NULL), published(ec_key, "ec-1", NULL),
                              NULL);
    const char *rs = sign(rsa_key, "RS256", "rsa-1", CLAIMS);
    const char *es = sign(ec_key, "ES256", "ec-1", CLAIMS);

    ck_assert_int_eq(verify(APR_EGENERAL, resized_signature(rs, -1), keys, NULL),
                     OLO_R_BAD_SIGNATURE);
    ck_assert_int_eq(verify(APR_EGENERAL, resized_signature(rs, +1), keys, NULL),
                     OLO_R_BAD_SIGNATURE);
    ck_assert_int_eq(verify(APR_EGENERAL, resized_signature(es, -1), keys, NULL),
                     OLO_R_BAD_SIGNATURE);
    ck_assert_int_eq(verify(APR_EGENERAL, resized_signature(es, +1), keys, NULL),
                     OLO_R_BAD_SIGNATURE);
    /* The unchanged signature, re-encoded the same way, still verifies. */
    ck_assert_int_eq(verify(APR_SUCCESS, resized_signature(es, 0), keys, NULL), OLO_OK);
}
END_TEST

START_TEST(non_canonical_signature_encoding_refused)
{
    olo_jwks_t *keys = keyset(published(rsa_key, "rsa-1", NULL), NULL);
    char *t = apr_pstrdup(olo_test_pool, sign(rsa_key, "RS256", "rsa-1", CLAIMS));
    char *last = t + strlen(t) - 1;

    /* 256 bytes leave 4 unused bits in the last character; setting one spells the same
     * signature differently. */
    *last = (char)(*last == 'A' ? 'B' : *last + 1);
    ck_assert_int_eq(verify(APR_EINVAL, t, keys, NULL), OLO_R_TOKEN_MALFORMED);
}
END_TEST

START_TEST(alg_none_refused)
{
    olo_jwks_t *keys = keyset(published(rsa_key, "rsa-1", NULL), NULL);
    const char *const anything[] = {"none", "RS256", NULL};

    ck_assert_int_eq(verify(APR_EINVAL, craft("{\"alg\":\"none\",\"kid\":\"rsa-1\"}", CLAIMS, ""),
                            keys, anything),
                     OLO_R_ALG_NOT_ALLOWED);
    ck_assert_int_eq(verify(APR_EINVAL, craft("{\"alg\":\"none\"}", CLAIMS, ""), keys, NULL),
                     OLO_R_ALG_NOT_ALLOWED);
    ck_assert_int_eq(verify(APR_EINVAL, craft("{\"alg\":\"NONE\"}", CLAIMS, ""), keys, anything),
                     OLO_R_ALG_NOT_ALLOWED);
}
END_TEST

START_TEST(hs256_with_public_key_as_secret_refused)
{
    const char *pub = published(rsa_key, "rsa-1", NULL);
    olo_jwks_t *keys = keyset(pub, NULL);
    const char *const careless[] = {"RS256", "HS256", NULL};
    cjose_jwk_t *secret = cjose_jwk_create_oct_spec((const uint8_t *)pub, strlen(pub), NULL);
    const char *forged = sign(secret, "HS256", "rsa-1", CLAIMS);

    cjose_jwk_release(secret);
    ck_assert_int_eq(verify(APR_EINVAL, forged, keys, careless), OLO_R_ALG_NOT_ALLOWED);
    ck_assert_int_eq(verify(APR_EINVAL, forged, keys, NULL), OLO_R_ALG_NOT_ALLOWED);
}
END_TEST

START_TEST(alg_outside_allowed_refused)
{
    olo_jwks_t *keys = keyset(published(ec_key, "ec-1", NULL), NULL);
    const char *const rs_only[] = {"RS256", NULL};

    ck_assert_int_eq(verify(APR_EINVAL, sign(ec_key, "ES256", "ec-1", CLAIMS), keys, rs_only),
                     OLO_R_ALG_NOT_ALLOWED);
}
END_TEST

START_TEST(unsupported_alg_refused_even_if_allowed)
{
    olo_jwks_t *keys = keyset(published(rsa_key, "rsa-1", NULL), NULL);
    const char *const rs384[] = {"RS384", NULL};

    ck_assert_int_eq(verify(APR_EINVAL, sign(rsa_key, "RS384", "rsa-1", CLAIMS), keys, rs384),
                     OLO_R_ALG_NOT_ALLOWED);
}
END_TEST

START_TEST(rs256_token_with_ec_key_of_same_kid_refused)
{
    olo_jwks_t *keys = keyset(published(ec_key, "k1", NULL), NULL);

    ck_assert_int_eq(verify(APR_ENOENT, sign(rsa_key, "RS256", "k1", CLAIMS), keys, NULL),
                     OLO_R_NO_KEY);
}
END_TEST

START_TEST(key_pinned_to_other_alg_refused)
{
    olo_jwks_t *keys = keyset(published(rsa_key, "rsa-1", "RS256"), NULL);

    ck_assert_int_eq(verify(APR_ENOENT, sign(rsa_key, "PS256", "rsa-1", CLAIMS), keys, NULL),
                     OLO_R_NO_KEY);
}
END_TEST

START_TEST(kid_unknown_refused)
{
    olo_jwks_t *keys = keyset(published(rsa_key, "rsa-1", NULL), NULL);

    ck_assert_int_eq(verify(APR_ENOENT, sign(rsa_key, "RS256", "rsa-2", CLAIMS), keys, NULL),
                     OLO_R_KID_UNKNOWN);
}
END_TEST

START_TEST(kid_picks_among_several_keys)
{
    olo_jwks_t *keys = keyset(published(rsa_other, "rsa-0", NULL),
                              published(rsa_key, "rsa-1", NULL), NULL);

    ck_assert_int_eq(verify(APR_SUCCESS, sign(rsa_key, "RS256", "rsa-1", CLAIMS), keys, NULL),
                     OLO_OK);
}
END_TEST

START_TEST(no_kid_one_key_accepted)
{
    olo_jwks_t *keys = keyset(published(rsa_key, "rsa-1", NULL), NULL);

    ck_assert_int_eq(verify(APR_SUCCESS, sign(rsa_key, "RS256", NULL, CLAIMS), keys, NULL),
                     OLO_OK);
}
END_TEST

START_TEST(no_kid_one_key_of_the_right_type_accepted)
{
    olo_jwks_t *keys = keyset(published(ec_key, "ec-1", NULL), published(rsa_key, "rsa-1", NULL),
                              NULL);

    ck_assert_int_eq(verify(APR_SUCCESS, sign(rsa_key, "RS256", NULL, CLAIMS), keys, NULL),
                     OLO_OK);
}
END_TEST

START_TEST(no_kid_two_keys_refused)
{
    olo_jwks_t *keys = keyset(published(rsa_other, "rsa-0", NULL),
                              published(rsa_key, "rsa-1", NULL), NULL);

    ck_assert_int_eq(verify(APR_ENOENT, sign(rsa_key, "RS256", NULL, CLAIMS), keys, NULL),
                     OLO_R_NO_KEY);
}
END_TEST

START_TEST(segment_count_other_than_three_refused)
{
    olo_jwks_t *keys = keyset(published(rsa_key, "rsa-1", NULL), NULL);
    const char *t = sign(rsa_key, "RS256", "rsa-1", CLAIMS);

    ck_assert_int_eq(verify(APR_EINVAL, apr_pstrcat(olo_test_pool, t, ".", segment(t, 2), NULL),
                            keys, NULL),
                     OLO_R_TOKEN_MALFORMED);
    ck_assert_int_eq(verify(APR_EINVAL, apr_pstrcat(olo_test_pool, segment(t, 0), ".",
                                                    segment(t, 1), NULL),
                            keys, NULL),
                     OLO_R_TOKEN_MALFORMED);
    ck_assert_int_eq(verify(APR_EINVAL, segment(t, 0), keys, NULL), OLO_R_TOKEN_MALFORMED);
    ck_assert_int_eq(verify(APR_EINVAL, "", keys, NULL), OLO_R_TOKEN_MALFORMED);
    ck_assert_int_eq(verify(APR_EINVAL, NULL, keys, NULL), OLO_R_TOKEN_MALFORMED);
}
END_TEST

START_TEST(empty_segments_refused)
{
    olo_jwks_t *keys = keyset(published(rsa_key, "rsa-1", NULL), NULL);
    const char *t = sign(rsa_key, "RS256", "rsa-1", CLAIMS);
    const char *h = segment(t, 0), *p = segment(t, 1), *s = segment(t, 2);

    ck_assert_int_eq(verify(APR_EINVAL, apr_pstrcat(olo_test_pool, ".", p, ".", s, NULL), keys,
                            NULL),
                     OLO_R_TOKEN_MALFORMED);
    ck_assert_int_eq(verify(APR_EINVAL, apr_pstrcat(olo_test_pool, h, "..", s, NULL), keys, NULL),
                     OLO_R_TOKEN_MALFORMED);
    ck_assert_int_eq(verify(APR_EINVAL, "..", keys, NULL), OLO_R_TOKEN_MALFORMED);
    /* An empty signature with a real algorithm cannot match the key's signature length. */
    ck_assert_int_eq(verify(APR_EGENERAL, apr_pstrcat(olo_test_pool, h, ".", p, ".", NULL), keys,
                            NULL),
                     OLO_R_BAD_SIGNATURE);
}
END_TEST

START_TEST(oversized_token_refused)
{
    olo_jwks_t *keys = keyset(published(rsa_key, "rsa-1", NULL), NULL);
    char *big = apr_palloc(olo_test_pool, OLO_JWS_MAX_BYTES);
    const char *payload;

    memset(big, 'x', OLO_JWS_MAX_BYTES - 1);
    big[OLO_JWS_MAX_BYTES - 1] = '\0';
    payload = apr_psprintf(olo_test_pool, "{\"sub\":\"u1\",\"pad\":\"%s\"}", big + 4096);
    ck_assert_int_eq(verify(APR_EINVAL, sign(rsa_key, "RS256", "rsa-1", payload), keys, NULL),
                     OLO_R_TOKEN_MALFORMED);
}
END_TEST

START_TEST(cjose_crasher_segments_refused)
{
    olo_jwks_t *keys = keyset(published(rsa_key, "rsa-1", NULL), NULL);
    const char *t = sign(rsa_key, "RS256", "rsa-1", CLAIMS);
    const char *h = segment(t, 0), *p = segment(t, 1), *s = segment(t, 2);
    const char *bad[] = {
        apr_pstrcat(olo_test_pool, "a=.", p, ".", s, NULL),
        apr_pstrcat(olo_test_pool, h, ".a=.", s, NULL),
        apr_pstrcat(olo_test_pool, h, ".", p, ".a=", NULL),
        apr_pstrcat(olo_test_pool, h, "a=.", p, ".", s, NULL),
        apr_pstrcat(olo_test_pool, h, ".", p, "a=.", s, NULL),
        apr_pstrcat(olo_test_pool, h, ".", p, ".", s, "a=", NULL),
        apr_pstrcat(olo_test_pool, h, ".", p, ".", s, "B", NULL),
        apr_pstrcat(olo_test_pool, h, ".", p, ".", s, "==", NULL),
        apr_pstrcat(olo_test_pool, h, ".", p, ".+", s + 1, NULL),
    };

    for (apr_size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_int_eq(verify(APR_EINVAL, bad[i], keys, NULL), OLO_R_TOKEN_MALFORMED);
    }
}
END_TEST

START_TEST(payload_not_an_object_refused)
{
    olo_jwks_t *keys = keyset(published(rsa_key, "rsa-1", NULL), NULL);

    ck_assert_int_eq(verify(APR_EINVAL, sign(rsa_key, "RS256", "rsa-1", "[\"u1\"]"), keys, NULL),
                     OLO_R_TOKEN_MALFORMED);
    ck_assert_int_eq(verify(APR_EINVAL, sign(rsa_key, "RS256", "rsa-1", "\"u1\""), keys, NULL),
                     OLO_R_TOKEN_MALFORMED);
    ck_assert_int_eq(verify(APR_EINVAL, sign(rsa_key, "RS256", "rsa-1", "not json"), keys, NULL),
                     OLO_R_TOKEN_MALFORMED);
}
END_TEST

START_TEST(payload_with_duplicate_claims_refused)
{
    olo_jwks_t *keys = keyset(published(rsa_key, "rsa-1", NULL), NULL);
    const char *dup = "{\"sub\":\"u1\",\"aud\":\"client\",\"aud\":\"other\"}";

    ck_assert_int_eq(verify(APR_EINVAL, sign(rsa_key, "RS256", "rsa-1", dup), keys, NULL),
                     OLO_R_TOKEN_MALFORMED);
}
END_TEST

START_TEST(header_without_alg_refused)
{
    olo_jwks_t *keys = keyset(published(rsa_key, "rsa-1", NULL), NULL);
    const char *s = segment(sign(rsa_key, "RS256", "rsa-1", CLAIMS), 2);

    ck_assert_int_eq(verify(APR_EINVAL, craft("{\"kid\":\"rsa-1\"}", CLAIMS, s), keys, NULL),
                     OLO_R_TOKEN_MALFORMED);
    ck_assert_int_eq(verify(APR_EINVAL, craft("{\"alg\":256}", CLAIMS, s), keys, NULL),
                     OLO_R_TOKEN_MALFORMED);
    ck_assert_int_eq(verify(APR_EINVAL, craft("not json", CLAIMS, s), keys, NULL),
                     OLO_R_TOKEN_MALFORMED);
    ck_assert_int_eq(verify(APR_EINVAL, craft("[\"RS256\"]", CLAIMS, s), keys, NULL),
                     OLO_R_TOKEN_MALFORMED);
}
END_TEST

START_TEST(header_kid_not_a_string_refused)
{
    olo_jwks_t *keys = keyset(published(rsa_key, "rsa-1", NULL), NULL);
    const char *s = segment(sign(rsa_key, "RS256", "rsa-1", CLAIMS), 2);

    ck_assert_int_eq(verify(APR_EINVAL, craft("{\"alg\":\"RS256\",\"kid\":1}", CLAIMS, s), keys,
                            NULL),
                     OLO_R_TOKEN_MALFORMED);
}
END_TEST

START_TEST(header_duplicate_alg_refused)
{
    olo_jwks_t *keys = keyset(published(rsa_key, "rsa-1", NULL), NULL);
    const char *s = segment(sign(rsa_key, "RS256", "rsa-1", CLAIMS), 2);

    ck_assert_int_eq(verify(APR_EINVAL, craft("{\"alg\":\"none\",\"alg\":\"RS256\"}", CLAIMS, s),
                            keys, NULL),
                     OLO_R_TOKEN_MALFORMED);
}
END_TEST

START_TEST(crit_header_refused)
{
    olo_jwks_t *keys = keyset(published(rsa_key, "rsa-1", NULL), NULL);
    const char *s = segment(sign(rsa_key, "RS256", "rsa-1", CLAIMS), 2);

    ck_assert_int_eq(verify(APR_EINVAL,
                            craft("{\"alg\":\"RS256\",\"kid\":\"rsa-1\",\"crit\":[\"x\"],\"x\":1}",
                                  CLAIMS, s),
                            keys, NULL),
                     OLO_R_TOKEN_MALFORMED);
}
END_TEST

START_TEST(peek_claims_reads_payload_unverified)
{
    json_t *claims = NULL;
    const char *t = craft("{\"alg\":\"RS256\"}", CLAIMS, "AAAA");

    ck_assert_int_eq(olo_jws_peek_claims(&claims, olo_test_pool, t), APR_SUCCESS);
    ck_assert_str_eq(json_string_value(json_object_get(claims, "sub")), "u1");
}
END_TEST

START_TEST(peek_claims_malformed_refused)
{
    json_t *claims = (json_t *)olo_test_pool;

    ck_assert_int_eq(olo_jws_peek_claims(&claims, olo_test_pool, "a=.a=.a="), APR_EINVAL);
    ck_assert_ptr_null(claims);
    ck_assert_int_eq(olo_jws_peek_claims(&claims, olo_test_pool,
                                         craft("{\"alg\":\"RS256\"}", "[1]", "AAAA")),
                     APR_EINVAL);
    ck_assert_int_eq(olo_jws_peek_claims(&claims, olo_test_pool, NULL), APR_EINVAL);
}
END_TEST

START_TEST(default_algs_are_rs256_ps256_es256)
{
    ck_assert_str_eq(olo_jws_default_algs[0], "RS256");
    ck_assert_str_eq(olo_jws_default_algs[1], "PS256");
    ck_assert_str_eq(olo_jws_default_algs[2], "ES256");
    ck_assert_ptr_null(olo_jws_default_algs[3]);
}
END_TEST

Suite *olo_suite_jws(void)
{
    Suite *s = suite_create("olo_jws");
    TCase *tc = tcase_create("jws");

    tcase_add_unchecked_fixture(tc, keys_create, keys_release);
    olo_test_add_pool_fixture(tc);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, rs256_valid);
    tcase_add_test(tc, ps256_valid);
    tcase_add_test(tc, es256_valid);
    tcase_add_test(tc, bad_signature_refused);
    tcase_add_test(tc, signed_by_other_key_refused);
    tcase_add_test(tc, payload_swapped_refused);
    tcase_add_test(tc, signature_of_wrong_length_refused);
    tcase_add_test(tc, non_canonical_signature_encoding_refused);
    tcase_add_test(tc, alg_none_refused);
    tcase_add_test(tc, hs256_with_public_key_as_secret_refused);
    tcase_add_test(tc, alg_outside_allowed_refused);
    tcase_add_test(tc, unsupported_alg_refused_even_if_allowed);
    tcase_add_test(tc, rs256_token_with_ec_key_of_same_kid_refused);
    tcase_add_test(tc, key_pinned_to_other_alg_refused);
    tcase_add_test(tc, kid_unknown_refused);
    tcase_add_test(tc, kid_picks_among_several_keys);
    tcase_add_test(tc, no_kid_one_key_accepted);
    tcase_add_test(tc, no_kid_one_key_of_the_right_type_accepted);
    tcase_add_test(tc, no_kid_two_keys_refused);
    tcase_add_test(tc, segment_count_other_than_three_refused);
    tcase_add_test(tc, empty_segments_refused);
    tcase_add_test(tc, oversized_token_refused);
    tcase_add_test(tc, cjose_crasher_segments_refused);
    tcase_add_test(tc, payload_not_an_object_refused);
    tcase_add_test(tc, payload_with_duplicate_claims_refused);
    tcase_add_test(tc, header_without_alg_refused);
    tcase_add_test(tc, header_kid_not_a_string_refused);
    tcase_add_test(tc, header_duplicate_alg_refused);
    tcase_add_test(tc, crit_header_refused);
    tcase_add_test(tc, peek_claims_reads_payload_unverified);
    tcase_add_test(tc, peek_claims_malformed_refused);
    tcase_add_test(tc, default_algs_are_rs256_ps256_es256);
    suite_add_tcase(s, tc);
    return s;
}
