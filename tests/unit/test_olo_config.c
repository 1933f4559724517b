/* Configuration: unset until set, child wins in merges, defaults in one place, value checks. */
#include <string.h>
#include "olo_test.h"
#include "../../auth/olo_config.h"

START_TEST(server_fields_start_unset)
{
    olo_server_conf_t *c = olo_config_server_create(olo_test_pool);
    ck_assert_ptr_null(c->issuer);
    ck_assert_int_eq(c->session_max_age, OLO_UNSET);
    ck_assert_int_eq(c->cookie_secure, OLO_UNSET);
    ck_assert(!olo_config_server_is_used(c));
}
END_TEST

START_TEST(vhost_value_wins_over_main)
{
    olo_server_conf_t *base = olo_config_server_create(olo_test_pool);
    olo_server_conf_t *add = olo_config_server_create(olo_test_pool);
    base->issuer = "https://main.example/oidc/2";
    base->client_id = "main";
    base->session_max_age = 100;
    add->client_id = "vhost";
    add->cookie_secure = 0;
    olo_server_conf_t *m = olo_config_server_merge(olo_test_pool, base, add);
    ck_assert_str_eq(m->issuer, "https://main.example/oidc/2");
    ck_assert_str_eq(m->client_id, "vhost");
    ck_assert_int_eq(m->session_max_age, 100);
    ck_assert_int_eq(m->cookie_secure, 0);  /* an explicit Off is kept, not mistaken for unset */
}
END_TEST

START_TEST(defaults_fill_only_unset_fields)
{
    olo_server_conf_t *c = olo_config_server_create(olo_test_pool);
    c->cookie_secure = 0;
    c->scope = "openid groups";
    olo_config_server_defaults(c);
    ck_assert_int_eq(c->cookie_secure, 0);
    ck_assert_str_eq(c->scope, "openid groups");
    ck_assert_str_eq(c->redirect_uri, "/callback");
    ck_assert_str_eq(c->login_path, "/signin");
    /* OpenMetadata's jwtPrincipalClaims order */
    ck_assert_str_eq(c->user_claims[0], "email");
    ck_assert_str_eq(c->user_claims[1], "preferred_username");
    ck_assert_str_eq(c->user_claims[2], "sub");
    ck_assert_ptr_null(c->user_claims[3]);
    ck_assert_str_eq(c->cache, "shmcb");
    ck_assert_int_eq(c->session_max_age, 28800);
    ck_assert_int_le(c->http_timeout, 10);   /* a hung provider must not hold a worker long */
}
END_TEST

START_TEST(problem_names_missing_issuer_then_client_then_secret)
{
    olo_server_conf_t *c = olo_config_server_create(olo_test_pool);
    ck_assert_ptr_nonnull(strstr(olo_config_server_problem(olo_test_pool, c), "OneLoginIssuer"));
    c->issuer = "https://x.example/oidc/2";
    ck_assert_ptr_nonnull(strstr(olo_config_server_problem(olo_test_pool, c), "OneLoginClientID"));
    c->client_id = "id";
    ck_assert_ptr_nonnull(strstr(olo_config_server_problem(olo_test_pool, c),
                                 "OneLoginSessionSecret"));
    c->session_secret = "0123456789abcdef0123456789abcdef";
    ck_assert_ptr_null(olo_config_server_problem(olo_test_pool, c));
}
END_TEST

START_TEST(issuer_must_be_https_url)
{
    ck_assert_ptr_null(olo_config_check_issuer(olo_test_pool, "https://a.onelogin.com/oidc/2"));
    ck_assert_ptr_nonnull(olo_config_check_issuer(olo_test_pool, "http://a.onelogin.com/oidc/2"));
    ck_assert_ptr_nonnull(olo_config_check_issuer(olo_test_pool, "ftp://x"));
    ck_assert_ptr_nonnull(olo_config_check_issuer(olo_test_pool, "not a url"));
    ck_assert_ptr_nonnull(olo_config_check_issuer(olo_test_pool, "https://a.example/x?y=1"));
}
END_TEST

START_TEST(secret_needs_32_bytes)
{
    ck_assert_ptr_nonnull(olo_config_check_secret(olo_test_pool, "0123456789abcdef0123456789abcde"));
    ck_assert_ptr_null(olo_config_check_secret(olo_test_pool, "0123456789abcdef0123456789abcdef"));
}
END_TEST

START_TEST(paths_must_be_local)
{
    ck_assert_ptr_null(olo_config_check_path(olo_test_pool, "/signin"));
    ck_assert_ptr_nonnull(olo_config_check_path(olo_test_pool, "signin"));
    ck_assert_ptr_nonnull(olo_config_check_path(olo_test_pool, "//evil.example"));
    ck_assert_ptr_nonnull(olo_config_check_path(olo_test_pool, "/a?b"));
}
END_TEST

START_TEST(redirect_uri_path_or_absolute_url)
{
    ck_assert_ptr_null(olo_config_check_redirect_uri(olo_test_pool, "/callback"));
    ck_assert_ptr_null(olo_config_check_redirect_uri(olo_test_pool, "https://app.example/callback"));
    ck_assert_ptr_nonnull(olo_config_check_redirect_uri(olo_test_pool, "ftp://app.example/cb"));
    ck_assert_ptr_nonnull(olo_config_check_redirect_uri(olo_test_pool, "https://app.example"));
    ck_assert_str_eq(olo_config_redirect_path(olo_test_pool, "https://app.example/cb"), "/cb");
    ck_assert_str_eq(olo_config_redirect_path(olo_test_pool, "/callback"), "/callback");
}
END_TEST

START_TEST(seconds_within_bounds)
{
    int v = 0;
    ck_assert_ptr_null(olo_config_parse_seconds(&v, olo_test_pool, "30", 1, 60));
    ck_assert_int_eq(v, 30);
    ck_assert_ptr_nonnull(olo_config_parse_seconds(&v, olo_test_pool, "0", 1, 60));
    ck_assert_ptr_nonnull(olo_config_parse_seconds(&v, olo_test_pool, "61", 1, 60));
    ck_assert_ptr_nonnull(olo_config_parse_seconds(&v, olo_test_pool, "5s", 1, 60));
    ck_assert_ptr_nonnull(olo_config_parse_seconds(&v, olo_test_pool, "", 1, 60));
    ck_assert_int_eq(v, 30);
}
END_TEST

START_TEST(session_store_cookie_or_server)
{
    olo_server_conf_t *conf = olo_config_server_create(olo_test_pool);
    int v = -7;
    olo_config_server_defaults(conf);
    ck_assert_int_eq(conf->session_store, OLO_STORE_COOKIE);
    ck_assert_ptr_null(olo_config_parse_store(&v, olo_test_pool, "Server"));
    ck_assert_int_eq(v, OLO_STORE_SERVER);
    ck_assert_ptr_null(olo_config_parse_store(&v, olo_test_pool, "cookie"));
    ck_assert_int_eq(v, OLO_STORE_COOKIE);
    ck_assert_ptr_nonnull(olo_config_parse_store(&v, olo_test_pool, "redis"));
    ck_assert_ptr_nonnull(olo_config_parse_store(&v, olo_test_pool, ""));
    ck_assert_int_eq(v, OLO_STORE_COOKIE);
}
END_TEST

START_TEST(remote_user_claims_are_an_ordered_list)
{
    const char *const *list = NULL;
    ck_assert_ptr_null(olo_config_parse_claims(&list, olo_test_pool, "  upn\temail  sub "));
    ck_assert_str_eq(list[0], "upn");
    ck_assert_str_eq(list[1], "email");
    ck_assert_str_eq(list[2], "sub");
    ck_assert_ptr_null(list[3]);
    ck_assert_ptr_null(olo_config_parse_claims(&list, olo_test_pool,
                                               "https://example.com/claims/login"));
    ck_assert_ptr_null(list[1]);
    /* the claim name reaches log lines and pages: no quotes, controls, nothing empty */
    ck_assert_ptr_nonnull(olo_config_parse_claims(&list, olo_test_pool, ""));
    ck_assert_ptr_nonnull(olo_config_parse_claims(&list, olo_test_pool, "email \"sub\""));
    ck_assert_ptr_nonnull(olo_config_parse_claims(&list, olo_test_pool, "a\x01b"));
    ck_assert_ptr_nonnull(olo_config_parse_claims(&list, olo_test_pool, "a b c d e f g h i"));
    ck_assert_ptr_null(olo_config_parse_claims(&list, olo_test_pool, "a b c d e f g h"));
}
END_TEST

START_TEST(dir_merge_and_defaults)
{
    olo_dir_conf_t *base = olo_config_dir_create(olo_test_pool);
    olo_dir_conf_t *add = olo_config_dir_create(olo_test_pool);
    ck_assert_int_eq(olo_config_dir_unauth(base), OLO_UNAUTH_AUTO);
    ck_assert_int_eq(olo_config_dir_forward_id_token(base), 1);
    base->unauth_action = OLO_UNAUTH_401;
    add->forward_id_token = 0;
    olo_dir_conf_t *m = olo_config_dir_merge(olo_test_pool, base, add);
    ck_assert_int_eq(olo_config_dir_unauth(m), OLO_UNAUTH_401);
    ck_assert_int_eq(olo_config_dir_forward_id_token(m), 0);
}
END_TEST

START_TEST(key_purpose_binds_issuer_and_client)
{
    const char *a = olo_config_key_purpose(olo_test_pool, "session", "https://i/oidc/2", "app-a");
    ck_assert_str_eq(a, olo_config_key_purpose(olo_test_pool, "session", "https://i/oidc/2",
                                               "app-a"));
    ck_assert_str_ne(a, olo_config_key_purpose(olo_test_pool, "session", "https://i/oidc/2",
                                               "app-b"));
    ck_assert_str_ne(a, olo_config_key_purpose(olo_test_pool, "state", "https://i/oidc/2",
                                               "app-a"));
    ck_assert_str_ne(a, olo_config_key_purpose(olo_test_pool, "session", "https://j/oidc/2",
                                               "app-a"));
    /* where issuer ends and client id starts is part of the label */
    ck_assert_str_ne(olo_config_key_purpose(olo_test_pool, "session", "https://i/a", "b:c"),
                     olo_config_key_purpose(olo_test_pool, "session", "https://i/a/1:b", "c"));
}
END_TEST

Suite *olo_suite_config(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("config");
    olo_test_add_pool_fixture(tc);
    tcase_add_test(tc, server_fields_start_unset);
    tcase_add_test(tc, vhost_value_wins_over_main);
    tcase_add_test(tc, defaults_fill_only_unset_fields);
    tcase_add_test(tc, problem_names_missing_issuer_then_client_then_secret);
    tcase_add_test(tc, issuer_must_be_https_url);
    tcase_add_test(tc, secret_needs_32_bytes);
    tcase_add_test(tc, paths_must_be_local);
    tcase_add_test(tc, redirect_uri_path_or_absolute_url);
    tcase_add_test(tc, seconds_within_bounds);
    tcase_add_test(tc, session_store_cookie_or_server);
    tcase_add_test(tc, remote_user_claims_are_an_ordered_list);
    tcase_add_test(tc, dir_merge_and_defaults);
    tcase_add_test(tc, key_purpose_binds_issuer_and_client);
    suite_add_tcase(s, tc);
    return s;
}
