/* jwt/olo_jwks: a provider's key set, where one bad key must not cost the good ones and no
 * input may reach cjose's aborting base64url decoder. */
#include <string.h>
#include <apr_strings.h>
#include "olo_test.h"
#include "../../jwt/olo_b64.h"
#include <cjose/util.h>
#include "../../jwt/olo_jwks.h"

/* Public halves of keys generated for these tests with cjose (RSA 2048, EC P-256). */
#define RSA_N                                                                                  \
    "q1pxnHuvPoN-qzZ8YFYq9Z1v5BfLtcLQV8BEeQu07H9rKPdl-6owqB0sLT_BbVpi2cDoqVGfgzyOsJRmy5C1YVHlrP" \
    "WDOBuqBbUteI_RWeTaW_eDQjZfM1JAZQt3-XytCTxNAE0C4f0hgs03bxzvKbG44s0dz8tmKcRAsE9RdmVYjscFprRj" \
    "Ql0CsYE5c2BsDmFXfJrFlf_5Em6qwsJBb27qcsXOmYP2pBP0bNpPyUDEIAj1hZjd6WLMElLa8F60P2IJyA_6xsHQYj" \
    "1yZ1FQfpErvMZGmtaGupjcAtC8KUb7dkWtFuFxbehTEQcMAbYjK3YJp3-BuksVt673FWAUuw"
#define EC_X "dF2Hvhe8bKmnIpp0rOIIy7jW_0YcQUm3ecPd3Jvdx8s"
#define EC_Y "-hD7TSXhoz23BSIj9HTK_hix-MJW_ha1iwXY9dWvWIw"

#define RSA_KEY(kid) "{\"kty\":\"RSA\",\"kid\":\"" kid "\",\"use\":\"sig\",\"alg\":\"RS256\"," \
                     "\"n\":\"" RSA_N "\",\"e\":\"AQAB\"}"
#define EC_KEY(kid)  "{\"kty\":\"EC\",\"kid\":\"" kid "\",\"crv\":\"P-256\"," \
                     "\"x\":\"" EC_X "\",\"y\":\"" EC_Y "\"}"

static apr_status_t parse(olo_jwks_t **pjwks, const char *json)
{
    return olo_jwks_parse(pjwks, olo_test_pool, json, strlen(json));
}

/* A set of one good RSA key ("good") after `other`; only "good" may survive. */
static void assert_only_good_survives(const char *other)
{
    olo_jwks_t *jwks = NULL;
    const char *json = apr_pstrcat(olo_test_pool, "{\"keys\":[", other, ",", RSA_KEY("good"),
                                   "]}", NULL);

    ck_assert_int_eq(parse(&jwks, json), APR_SUCCESS);
    ck_assert_int_eq(jwks->nkeys, 1);
    ck_assert_str_eq(jwks->keys[0].kid, "good");
}

START_TEST(good_rsa_and_ec_set_parsed)
{
    olo_jwks_t *jwks = NULL;

    ck_assert_int_eq(parse(&jwks, "{\"keys\":[" RSA_KEY("rsa-1") "," EC_KEY("ec-1") "]}"),
                     APR_SUCCESS);
    ck_assert_int_eq(jwks->nkeys, 2);
    ck_assert_str_eq(jwks->keys[0].kty, "RSA");
    ck_assert_str_eq(jwks->keys[0].alg, "RS256");
    ck_assert_ptr_null(jwks->keys[0].crv);
    ck_assert_ptr_nonnull(jwks->keys[0].jwk);
    ck_assert_uint_eq(cjose_jwk_get_keysize(jwks->keys[0].jwk, NULL), 2048);
    ck_assert_str_eq(jwks->keys[1].kty, "EC");
    ck_assert_str_eq(jwks->keys[1].crv, "P-256");
    ck_assert_ptr_null(jwks->keys[1].alg);
    ck_assert_ptr_nonnull(jwks->keys[1].jwk);
}
END_TEST

START_TEST(find_by_kid)
{
    olo_jwks_t *jwks = NULL;

    ck_assert_int_eq(parse(&jwks, "{\"keys\":[" RSA_KEY("rsa-1") "," EC_KEY("ec-1") "]}"),
                     APR_SUCCESS);
    ck_assert_str_eq(olo_jwks_find(jwks, "ec-1")->kty, "EC");
    ck_assert_str_eq(olo_jwks_find(jwks, "rsa-1")->kty, "RSA");
    ck_assert_ptr_null(olo_jwks_find(jwks, "rsa-2"));
    ck_assert_ptr_null(olo_jwks_find(jwks, NULL));
    ck_assert_ptr_null(olo_jwks_find(NULL, "rsa-1"));
}
END_TEST

START_TEST(key_without_kid_kept)
{
    olo_jwks_t *jwks = NULL;

    ck_assert_int_eq(parse(&jwks, "{\"keys\":[{\"kty\":\"RSA\",\"n\":\"" RSA_N
                                  "\",\"e\":\"AQAB\"}]}"),
                     APR_SUCCESS);
    ck_assert_int_eq(jwks->nkeys, 1);
    ck_assert_ptr_null(jwks->keys[0].kid);
}
END_TEST

START_TEST(malformed_key_next_to_good_one_keeps_good_one)
{
    assert_only_good_survives("{\"kty\":\"RSA\",\"kid\":\"bad\",\"n\":\"not base64\","
                              "\"e\":\"AQAB\"}");
    assert_only_good_survives("{\"kty\":\"RSA\",\"kid\":\"bad\",\"e\":\"AQAB\"}");
    assert_only_good_survives("\"just a string\"");
    assert_only_good_survives("{\"kty\":\"RSA\",\"kid\":17,\"n\":\"" RSA_N "\",\"e\":\"AQAB\"}");
}
END_TEST

START_TEST(oct_key_skipped)
{
    assert_only_good_survives("{\"kty\":\"oct\",\"kid\":\"hmac\",\"k\":\"" EC_X "\"}");
}
END_TEST

START_TEST(use_enc_skipped)
{
    assert_only_good_survives("{\"kty\":\"RSA\",\"kid\":\"enc\",\"use\":\"enc\",\"n\":\"" RSA_N
                              "\",\"e\":\"AQAB\"}");
}
END_TEST

START_TEST(unknown_kty_skipped)
{
    assert_only_good_survives("{\"kty\":\"OKP\",\"kid\":\"ed\",\"crv\":\"Ed25519\","
                              "\"x\":\"" EC_X "\"}");
}
END_TEST

START_TEST(invalid_base64url_in_n_skipped)
{
    /* Each of these aborts the process if it reaches cjose 0.6.2.1. */
    assert_only_good_survives("{\"kty\":\"RSA\",\"kid\":\"bad\",\"n\":\"a=\",\"e\":\"AQAB\"}");
    assert_only_good_survives("{\"kty\":\"RSA\",\"kid\":\"bad\",\"n\":\"" RSA_N "a=\","
                              "\"e\":\"AQAB\"}");
    assert_only_good_survives("{\"kty\":\"RSA\",\"kid\":\"bad\",\"n\":\"" RSA_N "\","
                              "\"e\":\"AQ=\"}");
}
END_TEST

START_TEST(invalid_base64url_in_ec_coordinates_skipped)
{
    assert_only_good_survives("{\"kty\":\"EC\",\"kid\":\"bad\",\"crv\":\"P-256\","
                              "\"x\":\"a=\",\"y\":\"" EC_Y "\"}");
    assert_only_good_survives("{\"kty\":\"EC\",\"kid\":\"bad\",\"crv\":\"P-256\","
                              "\"x\":\"" EC_X "\",\"y\":\"" EC_Y "=\"}");
}
END_TEST

START_TEST(ec_other_curve_skipped)
{
    assert_only_good_survives("{\"kty\":\"EC\",\"kid\":\"p384\",\"crv\":\"P-384\","
                              "\"x\":\"" EC_X "\",\"y\":\"" EC_Y "\"}");
}
END_TEST

START_TEST(ec_short_coordinate_skipped)
{
    /* 31 bytes: RFC 7518 section 6.2.1.2 requires the full 32. */
    assert_only_good_survives("{\"kty\":\"EC\",\"kid\":\"short\",\"crv\":\"P-256\","
                              "\"x\":\"AF2Hvhe8bKmnIpp0rOIIy7jW_0YcQUm3ecPd3Jvdxw\","
                              "\"y\":\"" EC_Y "\"}");
}
END_TEST

START_TEST(ec_point_off_the_curve_skipped)
{
    const char *one = olo_b64_encode(olo_test_pool,
                                     (const unsigned char *)"\x01\x01\x01\x01\x01\x01\x01\x01"
                                                            "\x01\x01\x01\x01\x01\x01\x01\x01"
                                                            "\x01\x01\x01\x01\x01\x01\x01\x01"
                                                            "\x01\x01\x01\x01\x01\x01\x01\x01",
                                     32);

    assert_only_good_survives(apr_psprintf(olo_test_pool,
                                           "{\"kty\":\"EC\",\"kid\":\"off\",\"crv\":\"P-256\","
                                           "\"x\":\"%s\",\"y\":\"%s\"}",
                                           one, one));
}
END_TEST

START_TEST(rsa_below_2048_bits_skipped)
{
    unsigned char modulus[128];
    const char *n;

    memset(modulus, 0xc3, sizeof(modulus));
    n = olo_b64_encode(olo_test_pool, modulus, sizeof(modulus));
    assert_only_good_survives(apr_psprintf(olo_test_pool,
                                           "{\"kty\":\"RSA\",\"kid\":\"weak\",\"n\":\"%s\","
                                           "\"e\":\"AQAB\"}",
                                           n));
}
END_TEST

START_TEST(private_members_ignored)
{
    olo_jwks_t *jwks = NULL;
    char *exported;

    ck_assert_int_eq(parse(&jwks, "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"leaked\",\"n\":\"" RSA_N
                                  "\",\"e\":\"AQAB\",\"d\":\"" EC_X "\",\"p\":\"" EC_X "\"}]}"),
                     APR_SUCCESS);
    ck_assert_int_eq(jwks->nkeys, 1);
    exported = cjose_jwk_to_json(jwks->keys[0].jwk, true, NULL);
    ck_assert_ptr_nonnull(exported);
    ck_assert_ptr_null(strstr(exported, "\"d\""));
    cjose_get_dealloc()(exported);
}
END_TEST

START_TEST(not_json_refused)
{
    olo_jwks_t *jwks = (olo_jwks_t *)olo_test_pool;

    ck_assert_int_eq(parse(&jwks, "<html>502 Bad Gateway</html>"), APR_EINVAL);
    ck_assert_ptr_null(jwks);
    ck_assert_int_eq(parse(&jwks, "{\"keys\":[" RSA_KEY("a")), APR_EINVAL);
    ck_assert_int_eq(olo_jwks_parse(&jwks, olo_test_pool, NULL, 0), APR_EINVAL);
}
END_TEST

START_TEST(no_keys_refused)
{
    olo_jwks_t *jwks = NULL;

    ck_assert_int_eq(parse(&jwks, "{}"), APR_EINVAL);
    ck_assert_int_eq(parse(&jwks, "{\"keys\":[]}"), APR_EINVAL);
    ck_assert_int_eq(parse(&jwks, "{\"keys\":{}}"), APR_EINVAL);
    ck_assert_int_eq(parse(&jwks, "[" RSA_KEY("a") "]"), APR_EINVAL);
}
END_TEST

START_TEST(only_unusable_keys_refused)
{
    olo_jwks_t *jwks = NULL;

    ck_assert_int_eq(parse(&jwks, "{\"keys\":[{\"kty\":\"oct\",\"k\":\"" EC_X "\"},"
                                  "{\"kty\":\"RSA\",\"n\":\"a=\",\"e\":\"AQAB\"}]}"),
                     APR_EINVAL);
    ck_assert_ptr_null(jwks);
}
END_TEST

/* A valid document of exactly len bytes: one good key and a padding member. */
static const char *padded_document(apr_size_t len)
{
    const char *head = "{\"keys\":[" RSA_KEY("a") "],\"pad\":\"";
    char *json = apr_palloc(olo_test_pool, len + 1);

    memset(json, 'x', len);
    memcpy(json, head, strlen(head));
    memcpy(json + len - 2, "\"}", 2);
    json[len] = '\0';
    return json;
}

START_TEST(oversized_document_refused)
{
    olo_jwks_t *jwks = NULL;

    ck_assert_int_eq(parse(&jwks, padded_document(OLO_JWKS_MAX_BYTES + 1)), APR_EINVAL);
    ck_assert_int_eq(parse(&jwks, padded_document(OLO_JWKS_MAX_BYTES)), APR_SUCCESS);
}
END_TEST

START_TEST(too_many_keys_refused)
{
    olo_jwks_t *jwks = NULL;
    char *json = "{\"keys\":[" RSA_KEY("k");

    for (int i = 1; i <= OLO_JWKS_MAX_KEYS; i++) {
        json = apr_pstrcat(olo_test_pool, json, ",", RSA_KEY("k"), NULL);
    }
    json = apr_pstrcat(olo_test_pool, json, "]}", NULL);
    ck_assert_int_eq(parse(&jwks, json), APR_EINVAL);
}
END_TEST

START_TEST(duplicate_members_refused)
{
    olo_jwks_t *jwks = NULL;

    ck_assert_int_eq(parse(&jwks, "{\"keys\":[" RSA_KEY("a") "],\"keys\":[]}"), APR_EINVAL);
}
END_TEST

Suite *olo_suite_jwks(void)
{
    Suite *s = suite_create("olo_jwks");
    TCase *tc = tcase_create("jwks");

    olo_test_add_pool_fixture(tc);
    tcase_add_test(tc, good_rsa_and_ec_set_parsed);
    tcase_add_test(tc, find_by_kid);
    tcase_add_test(tc, key_without_kid_kept);
    tcase_add_test(tc, malformed_key_next_to_good_one_keeps_good_one);
    tcase_add_test(tc, oct_key_skipped);
    tcase_add_test(tc, use_enc_skipped);
    tcase_add_test(tc, unknown_kty_skipped);
    tcase_add_test(tc, invalid_base64url_in_n_skipped);
    tcase_add_test(tc, invalid_base64url_in_ec_coordinates_skipped);
    tcase_add_test(tc, ec_other_curve_skipped);
    tcase_add_test(tc, ec_short_coordinate_skipped);
    tcase_add_test(tc, ec_point_off_the_curve_skipped);
    tcase_add_test(tc, rsa_below_2048_bits_skipped);
    tcase_add_test(tc, private_members_ignored);
    tcase_add_test(tc, not_json_refused);
    tcase_add_test(tc, no_keys_refused);
    tcase_add_test(tc, only_unusable_keys_refused);
    tcase_add_test(tc, oversized_document_refused);
    tcase_add_test(tc, too_many_keys_refused);
    tcase_add_test(tc, duplicate_members_refused);
    suite_add_tcase(s, tc);
    return s;
}
