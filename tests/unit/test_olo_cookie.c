/* olo_cookie: Cookie header parsing and Set-Cookie formatting (RFC 6265). */
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include "olo_test.h"
#include "../../auth/olo_cookie.h"

static const char *get(const char *header, const char *name)
{
    return olo_cookie_get(olo_test_pool, header, name);
}

START_TEST(test_cookie_get_finds_value)
{
    ck_assert_str_eq(get("a=1; olo_session=xyz; b=2", "olo_session"), "xyz");
    ck_assert_str_eq(get("olo_session=xyz", "olo_session"), "xyz");
}
END_TEST

START_TEST(test_cookie_get_tolerates_spaces)
{
    ck_assert_str_eq(get("  a = 1 ;b=2\t;  c  =  3  ", "c"), "3");
    ck_assert_str_eq(get("  a = 1 ;b=2", "a"), "1");
}
END_TEST

START_TEST(test_cookie_get_strips_double_quotes)
{
    ck_assert_str_eq(get("a=\"quoted\"; b=2", "a"), "quoted");
    ck_assert_str_eq(get("a=\"\"", "a"), "");
    ck_assert_str_eq(get("a=\"", "a"), "\"");
}
END_TEST

START_TEST(test_cookie_get_empty_value)
{
    ck_assert_str_eq(get("a=; b=2", "a"), "");
    ck_assert_str_eq(get("b=2; a=", "a"), "");
}
END_TEST

START_TEST(test_cookie_get_skips_pairs_without_equals)
{
    ck_assert_str_eq(get("junk; a=1", "a"), "1");
    ck_assert_ptr_null(get("a; b=1", "a"));
}
END_TEST

START_TEST(test_cookie_get_splits_on_comma)
{
    /* httpd joins two Cookie headers with ", " */
    ck_assert_str_eq(get("a=1, olo_session=xyz", "olo_session"), "xyz");
}
END_TEST

START_TEST(test_cookie_get_exact_name)
{
    ck_assert_str_eq(get("olo_session_x=1; olo_session=2", "olo_session"), "2");
    ck_assert_ptr_null(get("OLO_SESSION=1; xolo_session=2", "olo_session"));
    ck_assert_str_eq(get("a=b=c", "a"), "b=c");
}
END_TEST

START_TEST(test_cookie_get_first_of_duplicates)
{
    ck_assert_str_eq(get("a=1; a=2", "a"), "1");
}
END_TEST

START_TEST(test_cookie_get_absent)
{
    ck_assert_ptr_null(get(NULL, "a"));
    ck_assert_ptr_null(get("", "a"));
    ck_assert_ptr_null(get(";;, ;", "a"));
    ck_assert_ptr_null(get("b=1;", "a"));
    ck_assert_ptr_null(get("=1", ""));
}
END_TEST

START_TEST(test_cookie_get_stays_inside_header)
{
    /* a heap copy exactly as long as the header: ASan reports any read past its end */
    const char *header = "a=1; last";
    char *exact = malloc(strlen(header) + 1);

    memcpy(exact, header, strlen(header) + 1);
    ck_assert_ptr_null(get(exact, "last"));
    exact[strlen(header) - 4] = '=';
    ck_assert_ptr_null(get(exact, "zzz"));
    free(exact);
}
END_TEST

START_TEST(test_cookie_names_by_prefix)
{
    apr_array_header_t *names = olo_cookie_names(
        olo_test_pool, "olo_state_A=1; x=2; olo_state_B=3; olo_stat=4; olo_state_C", "olo_state_");

    ck_assert_int_eq(names->nelts, 2);
    ck_assert_str_eq(APR_ARRAY_IDX(names, 0, const char *), "olo_state_A");
    ck_assert_str_eq(APR_ARRAY_IDX(names, 1, const char *), "olo_state_B");
}
END_TEST

START_TEST(test_cookie_names_capped_at_64)
{
    const char *header = "";
    apr_array_header_t *names;

    for (int i = 0; i < 100; i++) {
        header = apr_psprintf(olo_test_pool, "%solo_state_%d=v; ", header, i);
    }
    names = olo_cookie_names(olo_test_pool, header, "olo_state_");
    ck_assert_int_eq(names->nelts, 64);
}
END_TEST

START_TEST(test_cookie_names_empty_header)
{
    ck_assert_int_eq(olo_cookie_names(olo_test_pool, NULL, "olo_")->nelts, 0);
    ck_assert_int_eq(olo_cookie_names(olo_test_pool, "", "olo_")->nelts, 0);
    ck_assert_int_eq(olo_cookie_names(olo_test_pool, "a=1; b=2", NULL)->nelts, 2);
}
END_TEST

START_TEST(test_cookie_format_all_attributes_in_order)
{
    olo_cookie_attrs_t attrs = {1, 1, "Lax", NULL, 3600};

    ck_assert_str_eq(olo_cookie_format(olo_test_pool, "olo_session", "v", &attrs),
                     "olo_session=v; Path=/; Max-Age=3600; HttpOnly; Secure; SameSite=Lax");
}
END_TEST

START_TEST(test_cookie_format_browser_session_cookie)
{
    olo_cookie_attrs_t attrs = {0, 1, NULL, "/app", -1};

    ck_assert_str_eq(olo_cookie_format(olo_test_pool, "a", "b", &attrs),
                     "a=b; Path=/app; HttpOnly");
}
END_TEST

START_TEST(test_cookie_format_delete)
{
    olo_cookie_attrs_t attrs = {1, 1, "None", NULL, 0};

    ck_assert_str_eq(olo_cookie_format(olo_test_pool, "olo_state_x", "", &attrs),
                     "olo_state_x=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; "
                     "HttpOnly; Secure; SameSite=None");
}
END_TEST

START_TEST(test_cookie_format_defaults)
{
    ck_assert_str_eq(olo_cookie_format(olo_test_pool, "a", NULL, NULL), "a=; Path=/");
}
END_TEST


static const char *const own_prefixes[] = {"olo_session", "olo_state_", NULL};

START_TEST(test_cookie_without_drops_own_cookies_keeps_others)
{
    const char *h = "app=1; olo_session=SEALED; olo_state_abc=X;theme=dark , olo_state_d=Y";
    ck_assert_str_eq(olo_cookie_without(olo_test_pool, h, own_prefixes), "app=1; theme=dark");
}
END_TEST

START_TEST(test_cookie_without_only_own_cookies_is_null)
{
    ck_assert_ptr_null(olo_cookie_without(olo_test_pool, "olo_session=a; olo_state_x=b",
                                          own_prefixes));
    ck_assert_ptr_null(olo_cookie_without(olo_test_pool, "", own_prefixes));
}
END_TEST

START_TEST(test_cookie_without_bare_separators_fit)
{
    /* Found by fuzzing: "a=1;b=2" became "a=1; b=2", one byte longer than the input. */
    ck_assert_str_eq(olo_cookie_without(olo_test_pool, "a=1;b=2", own_prefixes), "a=1; b=2");
    ck_assert_str_eq(olo_cookie_without(olo_test_pool, "a=;b=;c=;d=", own_prefixes),
                     "a=; b=; c=; d=");
}
END_TEST

START_TEST(test_cookie_without_keeps_lookalike_names)
{
    ck_assert_str_eq(olo_cookie_without(olo_test_pool, "xolo_session=1;olo_sess=2", own_prefixes),
                     "xolo_session=1; olo_sess=2");
}
END_TEST

START_TEST(test_cookie_without_get_is_both_in_one_pass)
{
    const char *h = "app=1; olo_session=\"SEALED\"; olo_session=second;theme=dark";
    const char *value = "stale";
    ck_assert_str_eq(olo_cookie_without_get(olo_test_pool, h, own_prefixes, "olo_session",
                                            &value), "app=1; theme=dark");
    ck_assert_str_eq(value, olo_cookie_get(olo_test_pool, h, "olo_session"));
    ck_assert_str_eq(value, "SEALED");
    ck_assert_ptr_null(olo_cookie_without_get(olo_test_pool, "a=1", own_prefixes, "olo_session",
                                              &value) ? NULL : "a=1 kept");
    ck_assert_ptr_null(value);
    ck_assert_ptr_null(olo_cookie_without_get(olo_test_pool, "olo_session=chunks:3",
                                              own_prefixes, "olo_session", &value));
    ck_assert(olo_cookie_is_chunked(value));
    ck_assert(!olo_cookie_is_chunked("chunks") && !olo_cookie_is_chunked(NULL));
}
END_TEST

/* The Cookie header a browser would send back after these Set-Cookie lines. */
static const char *browser_header(apr_array_header_t *lines)
{
    const char *header = "app=1";
    for (int i = 0; i < lines->nelts; i++) {
        const char *line = APR_ARRAY_IDX(lines, i, const char *);
        if (strstr(line, "Max-Age=0")) {
            continue;
        }
        header = apr_pstrcat(olo_test_pool, header, "; ",
                             apr_pstrndup(olo_test_pool, line, strcspn(line, ";")), NULL);
    }
    return header;
}

static const char *long_value(apr_size_t len)
{
    char *v = apr_palloc(olo_test_pool, len + 1);
    for (apr_size_t i = 0; i < len; i++) {
        v[i] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[i % 64];
    }
    v[len] = '\0';
    return v;
}

START_TEST(test_chunked_short_value_is_one_cookie)
{
    olo_cookie_attrs_t attrs = {1, 1, "Lax", "/", -1};
    apr_array_header_t *lines = olo_cookie_set_chunked(olo_test_pool, NULL, "olo_session", "abc",
                                                       &attrs);
    ck_assert_int_eq(lines->nelts, 1);
    ck_assert_str_eq(olo_cookie_get_chunked(olo_test_pool, browser_header(lines), "olo_session"),
                     "abc");
}
END_TEST

START_TEST(test_chunked_long_value_round_trips_under_4096)
{
    olo_cookie_attrs_t attrs = {1, 1, "Lax", "/", -1};
    const char *value = long_value(3 * OLO_COOKIE_CHUNK + 17);
    apr_array_header_t *lines = olo_cookie_set_chunked(olo_test_pool, NULL, "olo_session", value,
                                                       &attrs);
    ck_assert_int_eq(lines->nelts, 5);   /* the marker and four chunks */
    for (int i = 0; i < lines->nelts; i++) {
        ck_assert_int_le(strlen(APR_ARRAY_IDX(lines, i, const char *)), 4096);
    }
    ck_assert_str_eq(olo_cookie_get_chunked(olo_test_pool, browser_header(lines), "olo_session"),
                     value);
}
END_TEST

START_TEST(test_chunked_missing_chunk_is_no_value)
{
    const char *header = "olo_session=chunks:3; olo_session_1=aaa; olo_session_3=ccc";
    ck_assert_ptr_null(olo_cookie_get_chunked(olo_test_pool, header, "olo_session"));
    ck_assert_ptr_null(olo_cookie_get_chunked(olo_test_pool, "olo_session=chunks:99",
                                              "olo_session"));
    ck_assert_ptr_null(olo_cookie_get_chunked(olo_test_pool, "olo_session=chunks:2x",
                                              "olo_session"));
}
END_TEST

START_TEST(test_chunked_stale_chunks_are_deleted)
{
    olo_cookie_attrs_t attrs = {1, 1, "Lax", "/", -1};
    const char *header = "olo_session=chunks:3; olo_session_1=a; olo_session_2=b; olo_session_3=c";
    apr_array_header_t *lines = olo_cookie_set_chunked(olo_test_pool, header, "olo_session",
                                                       "small", &attrs);
    int deleted = 0;
    for (int i = 0; i < lines->nelts; i++) {
        const char *line = APR_ARRAY_IDX(lines, i, const char *);
        deleted += (strncmp(line, "olo_session_", 12) == 0 && strstr(line, "Max-Age=0") != NULL);
    }
    ck_assert_int_eq(deleted, 3);
}
END_TEST

START_TEST(test_chunked_too_long_refused)
{
    olo_cookie_attrs_t attrs = {1, 1, "Lax", "/", -1};
    ck_assert_ptr_null(olo_cookie_set_chunked(olo_test_pool, NULL, "olo_session",
                                              long_value(OLO_COOKIE_MAX_CHUNKS * OLO_COOKIE_CHUNK + 1),
                                              &attrs));
}
END_TEST

Suite *olo_suite_cookie(void)
{
    Suite *s = suite_create("cookie");
    TCase *parse = tcase_create("parse");
    TCase *format = tcase_create("format");

    olo_test_add_pool_fixture(parse);
    tcase_add_test(parse, test_cookie_get_finds_value);
    tcase_add_test(parse, test_cookie_get_tolerates_spaces);
    tcase_add_test(parse, test_cookie_get_strips_double_quotes);
    tcase_add_test(parse, test_cookie_get_empty_value);
    tcase_add_test(parse, test_cookie_get_skips_pairs_without_equals);
    tcase_add_test(parse, test_cookie_get_splits_on_comma);
    tcase_add_test(parse, test_cookie_get_exact_name);
    tcase_add_test(parse, test_cookie_get_first_of_duplicates);
    tcase_add_test(parse, test_cookie_get_absent);
    tcase_add_test(parse, test_cookie_get_stays_inside_header);
    tcase_add_test(parse, test_cookie_names_by_prefix);
    tcase_add_test(parse, test_cookie_names_capped_at_64);
    tcase_add_test(parse, test_cookie_names_empty_header);
    suite_add_tcase(s, parse);

    olo_test_add_pool_fixture(format);
    tcase_add_test(format, test_cookie_format_all_attributes_in_order);
    tcase_add_test(format, test_cookie_format_browser_session_cookie);
    tcase_add_test(format, test_cookie_format_delete);
    tcase_add_test(format, test_cookie_format_defaults);
    tcase_add_test(format, test_cookie_without_drops_own_cookies_keeps_others);
    tcase_add_test(format, test_cookie_without_only_own_cookies_is_null);
    tcase_add_test(format, test_cookie_without_keeps_lookalike_names);
    tcase_add_test(format, test_cookie_without_get_is_both_in_one_pass);
    tcase_add_test(format, test_cookie_without_bare_separators_fit);
    tcase_add_test(format, test_chunked_short_value_is_one_cookie);
    tcase_add_test(format, test_chunked_long_value_round_trips_under_4096);
    tcase_add_test(format, test_chunked_missing_chunk_is_no_value);
    tcase_add_test(format, test_chunked_stale_chunks_are_deleted);
    tcase_add_test(format, test_chunked_too_long_refused);
    suite_add_tcase(s, format);
    return s;
}
