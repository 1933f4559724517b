/* olo_rand: the random source behind state, nonce and verifier. */
#include <string.h>
#include "olo_test.h"
#include "../../auth/olo_rand.h"
#include "../../jwt/olo_b64.h"

static apr_status_t rand_fb_ff(unsigned char *buf, apr_size_t len)
{
    for (apr_size_t i = 0; i < len; i++) {
        buf[i] = (i % 2) ? 0xff : 0xfb;
    }
    return APR_SUCCESS;
}

START_TEST(test_rand_bytes_fills_fresh_values)
{
    unsigned char a[32], b[32];

    ck_assert_int_eq(olo_rand_bytes(a, sizeof(a)), APR_SUCCESS);
    ck_assert_int_eq(olo_rand_bytes(b, sizeof(b)), APR_SUCCESS);
    ck_assert(memcmp(a, b, sizeof(a)) != 0);
}
END_TEST

START_TEST(test_rand_token_is_base64url_of_nbytes)
{
    const char *token = olo_rand_token(olo_test_pool, olo_test_rand, 24);
    unsigned char *raw;
    apr_size_t len;

    ck_assert_ptr_nonnull(token);
    ck_assert_uint_eq(strlen(token), 32);
    ck_assert_int_eq(olo_b64_decode(&raw, &len, olo_test_pool, token, strlen(token)),
                     APR_SUCCESS);
    ck_assert_uint_eq(len, 24);
}
END_TEST

START_TEST(test_rand_token_uses_url_alphabet_without_padding)
{
    /* 0xfb 0xff are the bytes where base64 and base64url differ ("+/" vs "-_") */
    ck_assert_str_eq(olo_rand_token(olo_test_pool, rand_fb_ff, 2), "-_8");
}
END_TEST

START_TEST(test_rand_token_null_when_source_fails)
{
    ck_assert_ptr_null(olo_rand_token(olo_test_pool, olo_test_rand_fail, 16));
}
END_TEST

START_TEST(test_rand_token_from_real_source_differs)
{
    const char *a = olo_rand_token(olo_test_pool, olo_rand_bytes, 32);
    const char *b = olo_rand_token(olo_test_pool, olo_rand_bytes, 32);

    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    ck_assert_str_ne(a, b);
}
END_TEST

Suite *olo_suite_rand(void)
{
    Suite *s = suite_create("rand");
    TCase *tc = tcase_create("rand");

    olo_test_add_pool_fixture(tc);
    tcase_add_test(tc, test_rand_bytes_fills_fresh_values);
    tcase_add_test(tc, test_rand_token_is_base64url_of_nbytes);
    tcase_add_test(tc, test_rand_token_uses_url_alphabet_without_padding);
    tcase_add_test(tc, test_rand_token_null_when_source_fails);
    tcase_add_test(tc, test_rand_token_from_real_source_differs);
    suite_add_tcase(s, tc);
    return s;
}
