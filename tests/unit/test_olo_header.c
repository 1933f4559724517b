/* auth/olo_header: the client headers that would speak for the module, in any spelling. */
#include "olo_test.h"
#include "../../auth/olo_header.h"

START_TEST(identity_headers_in_any_case_and_with_underscores)
{
    static const char *const reserved[] = {
        "X-OneLogin-User", "x-onelogin-groups", "X_OneLogin_User", "X_ONELOGIN_EMAIL",
        "x-OneLogin_Name", "X-OneLogin-", "X-Auth-Params-Email", "x_auth_params_email",
        "OIDC_CLAIM_email", "OIDC-CLAIM-groups", "oidc_claim_sub", "OIDC_access_token",
        "OIDC_id_token", "OIDC_access_token_expires", "oidc-id-token-payload", NULL};
    for (int i = 0; reserved[i]; i++) {
        ck_assert_msg(olo_header_is_reserved(reserved[i]), "%s passed", reserved[i]);
    }
}
END_TEST

START_TEST(other_headers_pass)
{
    static const char *const others[] = {
        "X-OneLogin", "X-OneLoginUser", "X-Auth-Params-Email-Extra", "X-Auth-Params",
        "OIDC", "OIDCX", "Authorization", "X-Remote-User", "Cookie", "X-Oauth-Scopes", "",
        "Accept", "X-Forwarded-For", NULL};
    for (int i = 0; others[i]; i++) {
        ck_assert_msg(!olo_header_is_reserved(others[i]), "%s was taken", others[i]);
    }
}
END_TEST

Suite *olo_suite_header(void)
{
    Suite *s = suite_create("header");
    TCase *tc = tcase_create("header");
    olo_test_add_pool_fixture(tc);
    tcase_add_test(tc, identity_headers_in_any_case_and_with_underscores);
    tcase_add_test(tc, other_headers_pass);
    suite_add_tcase(s, tc);
    return s;
}
