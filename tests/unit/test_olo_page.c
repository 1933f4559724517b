/* Error pages: escaped, informative, and the JSON form parses. */
#include <string.h>
#include <jansson.h>
#include "olo_test.h"
#include "../../auth/olo_page.h"

START_TEST(escape_neutralises_markup)
{
    ck_assert_str_eq(olo_page_escape(olo_test_pool, "<a href=\"x\">'&'</a>"),
                     "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    ck_assert_str_eq(olo_page_escape(olo_test_pool, ""), "");
}
END_TEST

START_TEST(html_page_says_what_happened_and_offers_a_new_login)
{
    const char *html = olo_page_html(olo_test_pool, 400, OLO_R_STATE_EXPIRED, "/signin");
    ck_assert_ptr_nonnull(strstr(html, "<h1>Login could not be completed</h1>"));
    ck_assert_ptr_nonnull(strstr(html, olo_page_escape(olo_test_pool,
                                                      olo_reason_text(OLO_R_STATE_EXPIRED))));
    ck_assert_ptr_nonnull(strstr(html, "href=\"/signin\""));
    ck_assert_ptr_nonnull(strstr(html, olo_reason_name(OLO_R_STATE_EXPIRED)));
}
END_TEST

START_TEST(html_page_escapes_the_retry_link)
{
    const char *html = olo_page_html(olo_test_pool, 401, OLO_R_EXPIRED, "/\"><script>");
    ck_assert_ptr_null(strstr(html, "<script>"));
}
END_TEST

START_TEST(json_body_parses_with_error_and_message)
{
    const char *body = olo_page_json(olo_test_pool, OLO_R_BAD_SIGNATURE);
    json_t *obj = json_loads(body, 0, NULL);
    ck_assert_ptr_nonnull(obj);
    ck_assert_str_eq(json_string_value(json_object_get(obj, "error")),
                     olo_reason_name(OLO_R_BAD_SIGNATURE));
    ck_assert_ptr_nonnull(json_string_value(json_object_get(obj, "message")));
    json_decref(obj);
}
END_TEST

START_TEST(titles_follow_status)
{
    ck_assert_str_eq(olo_page_title(503), "Login service unavailable");
    ck_assert_str_eq(olo_page_title(502), "Login service unavailable");
    ck_assert_str_eq(olo_page_title(401), "Login required");
    ck_assert_str_eq(olo_page_title(418), "Login error");
}
END_TEST

START_TEST(clock_skew_page_offers_no_sign_in_again)
{
    const char *html = olo_page_html(olo_test_pool, 503, OLO_R_CLOCK_SKEW, "/signin");
    ck_assert_ptr_null(strstr(html, "<a "));
    ck_assert_ptr_null(strstr(html, "Sign in again"));
    ck_assert_ptr_nonnull(strstr(html, "clock"));
    ck_assert_ptr_nonnull(strstr(html, "503 clock-skew"));
}
END_TEST

START_TEST(html_link_page_escapes_its_link)
{
    const char *html = olo_page_html_link(olo_test_pool, 400, OLO_R_STATE_DROPPED,
                                          "/signin?target=%2F&x=\"><script>", "Start <again>");
    ck_assert_ptr_null(strstr(html, "<script>"));
    ck_assert_ptr_nonnull(strstr(html, "href=\"/signin?target=%2F&amp;x=&quot;&gt;"));
    ck_assert_ptr_nonnull(strstr(html, ">Start &lt;again&gt;</a>"));
    ck_assert_ptr_null(strstr(olo_page_html_link(olo_test_pool, 400, OLO_R_STATE_DROPPED, NULL,
                                                 "x"), "<a "));
}
END_TEST

Suite *olo_suite_page(void)
{
    Suite *s = suite_create("page");
    TCase *tc = tcase_create("page");
    olo_test_add_pool_fixture(tc);
    tcase_add_test(tc, escape_neutralises_markup);
    tcase_add_test(tc, html_page_says_what_happened_and_offers_a_new_login);
    tcase_add_test(tc, html_page_escapes_the_retry_link);
    tcase_add_test(tc, json_body_parses_with_error_and_message);
    tcase_add_test(tc, titles_follow_status);
    tcase_add_test(tc, clock_skew_page_offers_no_sign_in_again);
    tcase_add_test(tc, html_link_page_escapes_its_link);
    suite_add_tcase(s, tc);
    return s;
}
