/* jwt/olo_seal: cookies only open for the secret, purpose and cookie name they were made for. */
#include <string.h>
#include <apr_strings.h>
#include "olo_test.h"
#include "../../jwt/olo_b64.h"
#include "../../jwt/olo_seal.h"

#define SECRET "0123456789abcdef0123456789abcdef"     /* exactly OLO_SEAL_MIN_SECRET bytes */
#define COOKIE "olo_session"
#define PLAIN  "{\"sub\":\"248289761001\",\"exp\":1700003600}"

static olo_seal_key_t *derive(const char *secret, const char *purpose)
{
    olo_seal_key_t *key = NULL;

    ck_assert_int_eq(olo_seal_key_derive(&key, olo_test_pool, secret, strlen(secret), purpose),
                     APR_SUCCESS);
    ck_assert_ptr_nonnull(key);
    return key;
}

static const char *seal(const olo_seal_key_t *key, const char *aad, const char *plain)
{
    const char *sealed = NULL;

    ck_assert_int_eq(olo_seal(&sealed, olo_test_pool, key, aad, (const unsigned char *)plain,
                              strlen(plain)),
                     APR_SUCCESS);
    ck_assert_ptr_nonnull(sealed);
    return sealed;
}

static apr_status_t unseal(const olo_seal_key_t *key, const char *aad, const char *sealed)
{
    unsigned char *plain = NULL;
    apr_size_t len = 0;
    apr_status_t rv = olo_unseal(&plain, &len, olo_test_pool, key, aad, sealed);

    if (rv != APR_SUCCESS) {
        ck_assert_ptr_null(plain);
    }
    return rv;
}

/* The sealed text with raw byte i flipped, re-encoded so only the content changed. */
static const char *flip_byte(const char *sealed, apr_size_t i)
{
    unsigned char *raw = NULL;
    apr_size_t len = 0;

    ck_assert_int_eq(olo_b64_decode(&raw, &len, olo_test_pool, sealed, strlen(sealed)),
                     APR_SUCCESS);
    ck_assert_uint_lt(i, len);
    raw[i] ^= 0x01;
    return olo_b64_encode(olo_test_pool, raw, len);
}

START_TEST(round_trip)
{
    olo_seal_key_t *key = derive(SECRET, "session");
    unsigned char *plain = NULL;
    apr_size_t len = 0;

    ck_assert_int_eq(olo_unseal(&plain, &len, olo_test_pool, key, COOKIE,
                                seal(key, COOKIE, PLAIN)),
                     APR_SUCCESS);
    ck_assert_uint_eq(len, strlen(PLAIN));
    ck_assert_str_eq((const char *)plain, PLAIN);
}
END_TEST

START_TEST(format_is_version_nonce_ciphertext_tag)
{
    olo_seal_key_t *key = derive(SECRET, "session");
    const char *sealed = seal(key, COOKIE, PLAIN);
    unsigned char *raw = NULL;
    apr_size_t len = 0;

    ck_assert(olo_b64_is_valid(sealed, strlen(sealed)));
    ck_assert_int_eq(olo_b64_decode(&raw, &len, olo_test_pool, sealed, strlen(sealed)),
                     APR_SUCCESS);
    ck_assert_uint_eq(len, 1 + 12 + strlen(PLAIN) + 16);
    ck_assert_int_eq(raw[0], 0x01);
}
END_TEST

START_TEST(same_plaintext_seals_differently)
{
    olo_seal_key_t *key = derive(SECRET, "session");

    ck_assert_str_ne(seal(key, COOKIE, PLAIN), seal(key, COOKIE, PLAIN));
}
END_TEST

START_TEST(empty_plaintext_round_trips)
{
    olo_seal_key_t *key = derive(SECRET, "session");
    unsigned char *plain = NULL;
    apr_size_t len = 7;

    ck_assert_int_eq(olo_unseal(&plain, &len, olo_test_pool, key, COOKIE, seal(key, COOKIE, "")),
                     APR_SUCCESS);
    ck_assert_uint_eq(len, 0);
    ck_assert_str_eq((const char *)plain, "");
}
END_TEST

START_TEST(tamper_any_byte_refused)
{
    olo_seal_key_t *key = derive(SECRET, "session");
    const char *sealed = seal(key, COOKIE, PLAIN);
    apr_size_t rawlen = 1 + 12 + strlen(PLAIN) + 16;

    /* Nonce, ciphertext and tag are all covered by the tag. */
    for (apr_size_t i = 1; i < rawlen; i++) {
        ck_assert_msg(unseal(key, COOKIE, flip_byte(sealed, i)) == APR_EGENERAL,
                      "flipping byte %zu was not detected", i);
    }
}
END_TEST

START_TEST(unknown_version_refused)
{
    olo_seal_key_t *key = derive(SECRET, "session");

    ck_assert_int_eq(unseal(key, COOKIE, flip_byte(seal(key, COOKIE, PLAIN), 0)), APR_EINVAL);
}
END_TEST

START_TEST(other_aad_refused)
{
    olo_seal_key_t *key = derive(SECRET, "session");
    const char *sealed = seal(key, COOKIE, PLAIN);

    ck_assert_int_eq(unseal(key, "olo_state", sealed), APR_EGENERAL);
    ck_assert_int_eq(unseal(key, NULL, sealed), APR_EGENERAL);
}
END_TEST

START_TEST(other_purpose_refused)
{
    olo_seal_key_t *session = derive(SECRET, "session");
    olo_seal_key_t *state = derive(SECRET, "state");

    ck_assert_int_eq(unseal(state, COOKIE, seal(session, COOKIE, PLAIN)), APR_EGENERAL);
}
END_TEST

START_TEST(other_secret_refused)
{
    olo_seal_key_t *key = derive(SECRET, "session");
    olo_seal_key_t *other = derive("1123456789abcdef0123456789abcdef", "session");

    ck_assert_int_eq(unseal(other, COOKIE, seal(key, COOKIE, PLAIN)), APR_EGENERAL);
}
END_TEST

START_TEST(previous_secret_opens_during_rotation)
{
    olo_seal_key_t *current = derive("1123456789abcdef0123456789abcdef", "session");
    olo_seal_key_t *previous = derive(SECRET, "session");
    const char *old_cookie = seal(previous, COOKIE, PLAIN);

    ck_assert_int_eq(unseal(current, COOKIE, old_cookie), APR_EGENERAL);
    olo_seal_key_accept_older(current, previous);
    ck_assert_int_eq(unseal(current, COOKIE, old_cookie), APR_SUCCESS);
    ck_assert_int_eq(unseal(current, COOKIE, seal(current, COOKIE, PLAIN)), APR_SUCCESS);
    /* new values are sealed under the current secret only */
    ck_assert_int_eq(unseal(previous, COOKIE, seal(current, COOKIE, PLAIN)), APR_EGENERAL);
    /* the older key does not widen what a tampered value can do */
    char *tampered = apr_pstrdup(olo_test_pool, old_cookie);
    tampered[20] = tampered[20] == 'A' ? 'B' : 'A';
    ck_assert_int_eq(unseal(current, COOKIE, tampered), APR_EGENERAL);
}
END_TEST

START_TEST(same_secret_derives_same_key)
{
    /* A restart (or another child) must open what was sealed before it. */
    olo_seal_key_t *a = derive(SECRET, "session");
    olo_seal_key_t *b = derive(SECRET, "session");

    ck_assert_int_eq(unseal(b, COOKIE, seal(a, COOKIE, PLAIN)), APR_SUCCESS);
}
END_TEST

START_TEST(secret_of_31_bytes_refused_at_derive)
{
    olo_seal_key_t *key = (olo_seal_key_t *)olo_test_pool;

    ck_assert_int_eq(olo_seal_key_derive(&key, olo_test_pool, SECRET, 31, "session"), APR_EINVAL);
    ck_assert_ptr_null(key);
}
END_TEST

START_TEST(empty_purpose_refused_at_derive)
{
    olo_seal_key_t *key = NULL;

    ck_assert_int_eq(olo_seal_key_derive(&key, olo_test_pool, SECRET, 32, ""), APR_EINVAL);
    ck_assert_int_eq(olo_seal_key_derive(&key, olo_test_pool, SECRET, 32, NULL), APR_EINVAL);
}
END_TEST

START_TEST(truncated_input_refused)
{
    olo_seal_key_t *key = derive(SECRET, "session");
    const char *sealed = seal(key, COOKIE, PLAIN);
    apr_size_t len = strlen(sealed);

    for (apr_size_t keep = 0; keep < len; keep++) {
        ck_assert_int_ne(unseal(key, COOKIE, apr_pstrndup(olo_test_pool, sealed, keep)),
                         APR_SUCCESS);
    }
    /* Shorter than version, nonce and tag: malformed, not merely forged. */
    ck_assert_int_eq(unseal(key, COOKIE, apr_pstrndup(olo_test_pool, sealed, 38)), APR_EINVAL);
}
END_TEST

START_TEST(garbage_input_refused)
{
    olo_seal_key_t *key = derive(SECRET, "session");
    unsigned char junk[80];

    ck_assert_int_eq(unseal(key, COOKIE, ""), APR_EINVAL);
    ck_assert_int_eq(unseal(key, COOKIE, "not a cookie!"), APR_EINVAL);
    ck_assert_int_eq(unseal(key, COOKIE, "a="), APR_EINVAL);
    ck_assert_int_eq(unseal(key, COOKIE, NULL), APR_EINVAL);
    olo_test_rand(junk, sizeof(junk));
    junk[0] = 0x01;
    ck_assert_int_eq(unseal(key, COOKIE, olo_b64_encode(olo_test_pool, junk, sizeof(junk))),
                     APR_EGENERAL);
}
END_TEST

START_TEST(oversized_input_refused)
{
    olo_seal_key_t *key = derive(SECRET, "session");
    char *big = apr_palloc(olo_test_pool, OLO_SEAL_MAX_TEXT + 2);

    memset(big, 'A', OLO_SEAL_MAX_TEXT + 1);
    big[OLO_SEAL_MAX_TEXT + 1] = '\0';
    ck_assert_int_eq(unseal(key, COOKIE, big), APR_EINVAL);
}
END_TEST

START_TEST(oversized_plaintext_refused_at_seal)
{
    olo_seal_key_t *key = derive(SECRET, "session");
    apr_size_t len = OLO_SEAL_MAX_TEXT;
    unsigned char *plain = apr_pcalloc(olo_test_pool, len);
    const char *sealed = "x";

    ck_assert_int_eq(olo_seal(&sealed, olo_test_pool, key, COOKIE, plain, len), APR_EINVAL);
    ck_assert_ptr_null(sealed);
}
END_TEST

START_TEST(largest_plaintext_round_trips)
{
    olo_seal_key_t *key = derive(SECRET, "session");
    apr_size_t len = OLO_SEAL_MAX_TEXT / 4 * 3 - 29;
    unsigned char *plain = apr_pcalloc(olo_test_pool, len);
    const char *sealed = NULL;

    ck_assert_int_eq(olo_seal(&sealed, olo_test_pool, key, COOKIE, plain, len), APR_SUCCESS);
    ck_assert_uint_le(strlen(sealed), OLO_SEAL_MAX_TEXT);
    ck_assert_int_eq(unseal(key, COOKIE, sealed), APR_SUCCESS);
}
END_TEST

Suite *olo_suite_seal(void)
{
    Suite *s = suite_create("olo_seal");
    TCase *tc = tcase_create("seal");

    olo_test_add_pool_fixture(tc);
    tcase_add_test(tc, round_trip);
    tcase_add_test(tc, format_is_version_nonce_ciphertext_tag);
    tcase_add_test(tc, same_plaintext_seals_differently);
    tcase_add_test(tc, empty_plaintext_round_trips);
    tcase_add_test(tc, tamper_any_byte_refused);
    tcase_add_test(tc, unknown_version_refused);
    tcase_add_test(tc, other_aad_refused);
    tcase_add_test(tc, other_purpose_refused);
    tcase_add_test(tc, previous_secret_opens_during_rotation);
    tcase_add_test(tc, other_secret_refused);
    tcase_add_test(tc, same_secret_derives_same_key);
    tcase_add_test(tc, secret_of_31_bytes_refused_at_derive);
    tcase_add_test(tc, empty_purpose_refused_at_derive);
    tcase_add_test(tc, truncated_input_refused);
    tcase_add_test(tc, garbage_input_refused);
    tcase_add_test(tc, oversized_input_refused);
    tcase_add_test(tc, oversized_plaintext_refused_at_seal);
    tcase_add_test(tc, largest_plaintext_round_trips);
    suite_add_tcase(s, tc);
    return s;
}
