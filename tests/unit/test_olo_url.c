/* olo_url: post-login targets (open redirect), callback queries (parameter pollution) and the
 * URLs the module builds. */
#include <string.h>
#include <apr_strings.h>
#include "olo_test.h"
#include "../../auth/olo_url.h"

#define ck_local(t) ck_assert_msg(olo_url_is_local_target(t), "refused: %s", t)
#define ck_not_local(t) ck_assert_msg(!olo_url_is_local_target(t), "accepted: %s", t)

/* a string of n bytes: "/" then "a"s */
static const char *long_path(apr_size_t n)
{
    char *s = apr_palloc(olo_test_pool, n + 1);

    memset(s, 'a', n);
    s[0] = '/';
    s[n] = '\0';
    return s;
}

START_TEST(test_local_accepts_paths)
{
    ck_local("/");
    ck_local("/a/b?x=1#f");
    ck_local("/path?next=https://x");
    ck_local("/a%20b");
    ck_local("/%7Euser/");
}
END_TEST

START_TEST(test_local_refuses_absolute_url)
{
    ck_not_local("https://evil.example");
    ck_not_local("javascript:alert(1)");
    ck_not_local("a/relative");
}
END_TEST

START_TEST(test_local_refuses_protocol_relative)
{
    ck_not_local("//evil.example");
    ck_not_local("/\\evil.example");
}
END_TEST

START_TEST(test_local_refuses_backslash_anywhere)
{
    ck_not_local("\\\\evil");
    ck_not_local("/a\\b");
}
END_TEST

START_TEST(test_local_refuses_encoded_slash_or_backslash)
{
    ck_not_local("/%2f/evil.example");
    ck_not_local("/%2F%2Fevil.example");
    ck_not_local("/%5Cevil.example");
    ck_not_local("/a%5cb");
}
END_TEST

START_TEST(test_local_refuses_control_and_space)
{
    ck_not_local("/a\r\nSet-Cookie:x");
    ck_not_local("/\t/evil.example");
    ck_not_local("/a\x7f");
    ck_not_local("/a b");
    ck_not_local("/a%0d%0aSet-Cookie:x");
    ck_not_local("/a%00");
}
END_TEST

START_TEST(test_local_refuses_bad_escape)
{
    ck_not_local("/a%zz");
    ck_not_local("/a%4");
    ck_not_local("/a%");
}
END_TEST

START_TEST(test_local_refuses_empty_and_null)
{
    ck_not_local("");
    ck_assert(!olo_url_is_local_target(NULL));
}
END_TEST

START_TEST(test_local_refuses_longer_than_max)
{
    ck_local(long_path(OLO_URL_MAX_TARGET));
    ck_not_local(long_path(OLO_URL_MAX_TARGET + 1));
}
END_TEST

START_TEST(test_local_target_falls_back_to_root)
{
    ck_assert_str_eq(olo_url_local_target("/app?x=1"), "/app?x=1");
    ck_assert_str_eq(olo_url_local_target("//evil.example"), "/");
    ck_assert_str_eq(olo_url_local_target(NULL), "/");
}
END_TEST

static const char *query_get(apr_status_t want, const char *query, const char *name)
{
    const char *value = "unchanged";

    ck_assert_int_eq(olo_url_query_get(&value, olo_test_pool, query, name), want);
    if (want != APR_SUCCESS) {
        ck_assert_ptr_null(value);
    }
    return value;
}

START_TEST(test_query_finds_parameter)
{
    ck_assert_str_eq(query_get(APR_SUCCESS, "code=abc&state=xyz", "state"), "xyz");
    ck_assert_str_eq(query_get(APR_SUCCESS, "code=abc&state=xyz", "code"), "abc");
}
END_TEST

START_TEST(test_query_decodes_plus_and_percent)
{
    ck_assert_str_eq(query_get(APR_SUCCESS, "e=bad+thing%21%2B", "e"), "bad thing!+");
}
END_TEST

START_TEST(test_query_decodes_names_before_matching)
{
    ck_assert_str_eq(query_get(APR_SUCCESS, "st%61te=x", "state"), "x");
    query_get(APR_ENOENT, "State=x&statex=y&xstate=z", "state");
}
END_TEST

START_TEST(test_query_absent_is_enoent)
{
    query_get(APR_ENOENT, "code=abc", "state");
    query_get(APR_ENOENT, "", "state");
    query_get(APR_ENOENT, NULL, "state");
}
END_TEST

START_TEST(test_query_splits_on_ampersand_only)
{
    ck_assert_str_eq(query_get(APR_SUCCESS, "code=a;state=x", "code"), "a;state=x");
    query_get(APR_ENOENT, "code=a;state=x", "state");
}
END_TEST

START_TEST(test_query_empty_value_and_no_equals)
{
    ck_assert_str_eq(query_get(APR_SUCCESS, "state=&code=1", "state"), "");
    ck_assert_str_eq(query_get(APR_SUCCESS, "code=1&state", "state"), "");
    ck_assert_str_eq(query_get(APR_SUCCESS, "&&code=a=b&", "code"), "a=b");
}
END_TEST

START_TEST(test_query_duplicate_is_pollution)
{
    query_get(APR_EINVAL, "state=a&code=c&state=b", "state");
    query_get(APR_EINVAL, "state=a&st%61te=a", "state");
}
END_TEST

START_TEST(test_query_bad_escape_refused)
{
    query_get(APR_EINVAL, "state=a%zz", "state");
    query_get(APR_EINVAL, "state=a%2", "state");
    query_get(APR_EINVAL, "st%xxate=a&state=b", "state");
}
END_TEST

START_TEST(test_query_decoded_nul_refused)
{
    query_get(APR_EINVAL, "state=abc%00def", "state");
}
END_TEST

START_TEST(test_query_longer_than_8k_refused)
{
    char *query = apr_pcalloc(olo_test_pool, 8194);

    memset(query, 'x', 8193);
    memcpy(query, "state=a&junk=", 13);
    query_get(APR_EINVAL, query, "state");
    query[8192] = '\0';
    ck_assert_str_eq(query_get(APR_SUCCESS, query, "state"), "a");
}
END_TEST

START_TEST(test_encode_keeps_only_unreserved)
{
    ck_assert_str_eq(olo_url_encode(olo_test_pool, "aZ09-._~"), "aZ09-._~");
    ck_assert_str_eq(olo_url_encode(olo_test_pool, "https://rp.example/cb?x=1&y=a b+c"),
                     "https%3A%2F%2Frp.example%2Fcb%3Fx%3D1%26y%3Da%20b%2Bc");
    ck_assert_str_eq(olo_url_encode(olo_test_pool, "\xc3\xa9"), "%C3%A9");
    ck_assert_str_eq(olo_url_encode(olo_test_pool, NULL), "");
}
END_TEST

START_TEST(test_add_param_picks_separator)
{
    ck_assert_str_eq(olo_url_add_param(olo_test_pool, "https://idp.example/auth", "state", "a b"),
                     "https://idp.example/auth?state=a%20b");
    ck_assert_str_eq(olo_url_add_param(olo_test_pool, "https://idp.example/auth?x=1", "n", "v"),
                     "https://idp.example/auth?x=1&n=v");
    ck_assert_str_eq(olo_url_add_param(olo_test_pool, "https://idp.example/auth?", "n", "v"),
                     "https://idp.example/auth?n=v");
}
END_TEST

START_TEST(test_https_accepts_absolute_https)
{
    ck_assert_int_eq(olo_url_check_https("https://idp.example"), APR_SUCCESS);
    ck_assert_int_eq(olo_url_check_https("https://idp.example:8443/oidc/2/token"), APR_SUCCESS);
    ck_assert_int_eq(olo_url_check_https("HTTPS://idp.example/"), APR_SUCCESS);
}
END_TEST

START_TEST(test_https_refuses_other_schemes)
{
    ck_assert_int_ne(olo_url_check_https("http://idp.example/token"), APR_SUCCESS);
    ck_assert_int_ne(olo_url_check_https("idp.example/token"), APR_SUCCESS);
    ck_assert_int_ne(olo_url_check_https(NULL), APR_SUCCESS);
}
END_TEST

START_TEST(test_https_refuses_missing_host)
{
    ck_assert_int_ne(olo_url_check_https("https://"), APR_SUCCESS);
    ck_assert_int_ne(olo_url_check_https("https:///token"), APR_SUCCESS);
    ck_assert_int_ne(olo_url_check_https("https://:443/token"), APR_SUCCESS);
}
END_TEST

START_TEST(test_https_refuses_userinfo)
{
    ck_assert_int_ne(olo_url_check_https("https://idp.example@evil.example/"), APR_SUCCESS);
}
END_TEST

START_TEST(test_https_refuses_space_and_control)
{
    ck_assert_int_ne(olo_url_check_https("https://idp.example/a b"), APR_SUCCESS);
    ck_assert_int_ne(olo_url_check_https("https://idp.example/\r\nX: y"), APR_SUCCESS);
    ck_assert_int_ne(olo_url_check_https("https://idp.example\\@evil.example/"), APR_SUCCESS);
}
END_TEST

Suite *olo_suite_url(void)
{
    Suite *s = suite_create("url");
    TCase *local = tcase_create("local_target");
    TCase *query = tcase_create("query");
    TCase *build = tcase_create("build");

    olo_test_add_pool_fixture(local);
    tcase_add_test(local, test_local_accepts_paths);
    tcase_add_test(local, test_local_refuses_absolute_url);
    tcase_add_test(local, test_local_refuses_protocol_relative);
    tcase_add_test(local, test_local_refuses_backslash_anywhere);
    tcase_add_test(local, test_local_refuses_encoded_slash_or_backslash);
    tcase_add_test(local, test_local_refuses_control_and_space);
    tcase_add_test(local, test_local_refuses_bad_escape);
    tcase_add_test(local, test_local_refuses_empty_and_null);
    tcase_add_test(local, test_local_refuses_longer_than_max);
    tcase_add_test(local, test_local_target_falls_back_to_root);
    suite_add_tcase(s, local);

    olo_test_add_pool_fixture(query);
    tcase_add_test(query, test_query_finds_parameter);
    tcase_add_test(query, test_query_decodes_plus_and_percent);
    tcase_add_test(query, test_query_decodes_names_before_matching);
    tcase_add_test(query, test_query_absent_is_enoent);
    tcase_add_test(query, test_query_splits_on_ampersand_only);
    tcase_add_test(query, test_query_empty_value_and_no_equals);
    tcase_add_test(query, test_query_duplicate_is_pollution);
    tcase_add_test(query, test_query_bad_escape_refused);
    tcase_add_test(query, test_query_decoded_nul_refused);
    tcase_add_test(query, test_query_longer_than_8k_refused);
    suite_add_tcase(s, query);

    olo_test_add_pool_fixture(build);
    tcase_add_test(build, test_encode_keeps_only_unreserved);
    tcase_add_test(build, test_add_param_picks_separator);
    tcase_add_test(build, test_https_accepts_absolute_https);
    tcase_add_test(build, test_https_refuses_other_schemes);
    tcase_add_test(build, test_https_refuses_missing_host);
    tcase_add_test(build, test_https_refuses_userinfo);
    tcase_add_test(build, test_https_refuses_space_and_control);
    suite_add_tcase(s, build);
    return s;
}
