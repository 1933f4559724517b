/* olo_pkce: RFC 7636 S256. */
#include <string.h>
#include "olo_test.h"
#include "../../auth/olo_pkce.h"

/* RFC 7636 Appendix B: the 32 octets behind the example verifier */
static apr_status_t rand_rfc7636(unsigned char *buf, apr_size_t len)
{
    static const unsigned char octets[32] = {
        116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186,
        22, 212, 37, 77, 105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121};

    if (len != sizeof(octets)) {
        return APR_EINVAL;
    }
    memcpy(buf, octets, len);
    return APR_SUCCESS;
}

START_TEST(test_pkce_challenge_matches_rfc7636_appendix_b)
{
    ck_assert_str_eq(olo_pkce_challenge(olo_test_pool,
                                        "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
                     "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}
END_TEST

START_TEST(test_pkce_verifier_from_rfc7636_octets)
{
    const char *verifier = NULL;

    ck_assert_int_eq(olo_pkce_verifier(&verifier, olo_test_pool, rand_rfc7636), APR_SUCCESS);
    ck_assert_str_eq(verifier, "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
}
END_TEST

START_TEST(test_pkce_verifier_is_43_unreserved_chars)
{
    const char *verifier = NULL;

    ck_assert_int_eq(olo_pkce_verifier(&verifier, olo_test_pool, olo_test_rand), APR_SUCCESS);
    ck_assert_uint_eq(strlen(verifier), 43);
    /* RFC 7636 4.1: ALPHA / DIGIT / "-" / "." / "_" / "~" */
    ck_assert_uint_eq(strspn(verifier, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                       "0123456789-._~"),
                      43);
}
END_TEST

START_TEST(test_pkce_verifier_fails_with_source)
{
    const char *verifier = "unchanged";

    ck_assert_int_eq(olo_pkce_verifier(&verifier, olo_test_pool, olo_test_rand_fail),
                     APR_EGENERAL);
    ck_assert_ptr_null(verifier);
}
END_TEST

START_TEST(test_pkce_challenge_of_null_is_null)
{
    ck_assert_ptr_null(olo_pkce_challenge(olo_test_pool, NULL));
}
END_TEST

Suite *olo_suite_pkce(void)
{
    Suite *s = suite_create("pkce");
    TCase *tc = tcase_create("pkce");

    olo_test_add_pool_fixture(tc);
    tcase_add_test(tc, test_pkce_challenge_matches_rfc7636_appendix_b);
    tcase_add_test(tc, test_pkce_verifier_from_rfc7636_octets);
    tcase_add_test(tc, test_pkce_verifier_is_43_unreserved_chars);
    tcase_add_test(tc, test_pkce_verifier_fails_with_source);
    tcase_add_test(tc, test_pkce_challenge_of_null_is_null);
    suite_add_tcase(s, tc);
    return s;
}
