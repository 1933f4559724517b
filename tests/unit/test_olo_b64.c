/* jwt/olo_b64: strict base64url, the gate in front of cjose. */
#include <string.h>
#include "olo_test.h"
#include "../../jwt/olo_b64.h"

static apr_status_t decode(const char *s, unsigned char **pout, apr_size_t *plen)
{
    return olo_b64_decode(pout, plen, olo_test_pool, s, strlen(s));
}

START_TEST(round_trip_every_length)
{
    unsigned char data[64];
    unsigned char *out = NULL;
    apr_size_t len = 0;

    olo_test_rand(data, sizeof(data));
    for (apr_size_t n = 0; n <= sizeof(data); n++) {
        const char *text = olo_b64_encode(olo_test_pool, data, n);

        ck_assert(olo_b64_is_valid(text, strlen(text)));
        ck_assert_int_eq(decode(text, &out, &len), APR_SUCCESS);
        ck_assert_uint_eq(len, n);
        ck_assert_mem_eq(out, data, n);
        ck_assert_int_eq(out[n], '\0');
    }
}
END_TEST

START_TEST(encode_known_vectors_rfc4648)
{
    /* RFC 4648 section 10 vectors, without padding. */
    ck_assert_str_eq(olo_b64_encode(olo_test_pool, (const unsigned char *)"", 0), "");
    ck_assert_str_eq(olo_b64_encode(olo_test_pool, (const unsigned char *)"f", 1), "Zg");
    ck_assert_str_eq(olo_b64_encode(olo_test_pool, (const unsigned char *)"fo", 2), "Zm8");
    ck_assert_str_eq(olo_b64_encode(olo_test_pool, (const unsigned char *)"foo", 3), "Zm9v");
    ck_assert_str_eq(olo_b64_encode(olo_test_pool, (const unsigned char *)"foobar", 6),
                     "Zm9vYmFy");
}
END_TEST

START_TEST(encode_uses_url_alphabet)
{
    const unsigned char data[] = {0xfb, 0xff, 0xbf};

    ck_assert_str_eq(olo_b64_encode(olo_test_pool, data, sizeof(data)), "-_-_");
}
END_TEST

START_TEST(standard_alphabet_refused)
{
    unsigned char *out = (unsigned char *)"x";
    apr_size_t len = 7;

    ck_assert(!olo_b64_is_valid("+/+/", 4));
    ck_assert_int_eq(decode("+/+/", &out, &len), APR_EINVAL);
    ck_assert_ptr_null(out);
    ck_assert_uint_eq(len, 0);
}
END_TEST

START_TEST(invalid_characters_refused)
{
    unsigned char *out;
    apr_size_t len;

    ck_assert_int_eq(decode("ab cd", &out, &len), APR_EINVAL);
    ck_assert_int_eq(decode("abc.", &out, &len), APR_EINVAL);
    ck_assert_int_eq(decode("abc\n", &out, &len), APR_EINVAL);
    ck_assert_int_eq(decode("ab\xc3\xa9", &out, &len), APR_EINVAL);
    ck_assert(!olo_b64_is_valid("ab\0d", 4));
}
END_TEST

START_TEST(padding_refused)
{
    unsigned char *out;
    apr_size_t len;

    ck_assert_int_eq(decode("Zg==", &out, &len), APR_EINVAL);
    ck_assert_int_eq(decode("Zm8=", &out, &len), APR_EINVAL);
}
END_TEST

START_TEST(length_mod4_eq_1_refused)
{
    unsigned char *out;
    apr_size_t len;

    ck_assert(!olo_b64_is_valid("A", 1));
    ck_assert(!olo_b64_is_valid("AAAAA", 5));
    ck_assert_int_eq(decode("AAAAA", &out, &len), APR_EINVAL);
}
END_TEST

START_TEST(nonzero_trailing_bits_refused)
{
    unsigned char *out;
    apr_size_t len;

    /* "Zg" is "f"; "Zh" carries the same byte with a stray bit set. */
    ck_assert_int_eq(decode("Zg", &out, &len), APR_SUCCESS);
    ck_assert_int_eq(decode("Zh", &out, &len), APR_EINVAL);
    ck_assert_int_eq(decode("Zm8", &out, &len), APR_SUCCESS);
    ck_assert_int_eq(decode("Zm9", &out, &len), APR_EINVAL);
}
END_TEST

START_TEST(cjose_crasher_a_equals_refused)
{
    unsigned char *out;
    apr_size_t len;

    ck_assert(!olo_b64_is_valid("a=", 2));
    ck_assert_int_eq(decode("a=", &out, &len), APR_EINVAL);
    ck_assert_int_eq(decode("eyJhbGciOiJSUzI1NiJ9a=", &out, &len), APR_EINVAL);
}
END_TEST

START_TEST(empty_input_is_empty_output)
{
    unsigned char *out = NULL;
    apr_size_t len = 9;

    ck_assert(olo_b64_is_valid("", 0));
    ck_assert_int_eq(decode("", &out, &len), APR_SUCCESS);
    ck_assert_uint_eq(len, 0);
    ck_assert_str_eq((const char *)out, "");
}
END_TEST

START_TEST(embedded_nul_bytes_survive)
{
    const unsigned char data[] = {'a', 0, 'b', 0};
    unsigned char *out;
    apr_size_t len;

    ck_assert_int_eq(decode(olo_b64_encode(olo_test_pool, data, 4), &out, &len), APR_SUCCESS);
    ck_assert_uint_eq(len, 4);
    ck_assert_mem_eq(out, data, 4);
}
END_TEST

Suite *olo_suite_b64(void)
{
    Suite *s = suite_create("olo_b64");
    TCase *tc = tcase_create("b64");

    olo_test_add_pool_fixture(tc);
    tcase_add_test(tc, round_trip_every_length);
    tcase_add_test(tc, encode_known_vectors_rfc4648);
    tcase_add_test(tc, encode_uses_url_alphabet);
    tcase_add_test(tc, standard_alphabet_refused);
    tcase_add_test(tc, invalid_characters_refused);
    tcase_add_test(tc, padding_refused);
    tcase_add_test(tc, length_mod4_eq_1_refused);
    tcase_add_test(tc, nonzero_trailing_bits_refused);
    tcase_add_test(tc, cjose_crasher_a_equals_refused);
    tcase_add_test(tc, empty_input_is_empty_output);
    tcase_add_test(tc, embedded_nul_bytes_survive);
    suite_add_tcase(s, tc);
    return s;
}
