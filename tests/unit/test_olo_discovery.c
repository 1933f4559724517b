/* olo_discovery: the provider metadata document (OpenID Connect Discovery 1.0). */
#include <string.h>
#include <apr_strings.h>
#include "olo_test.h"
#include "../../auth/olo_discovery.h"

#define ISSUER "https://acme.onelogin.com/oidc/2"
#define METHODS "code_challenge_methods_supported"

/* A OneLogin-like document; `extra` goes in as further members (may override none). */
static const char *doc_with(const char *issuer, const char *token_endpoint, const char *extra)
{
    return apr_psprintf(olo_test_pool,
                        "{\"issuer\":\"%s\","
                        "\"authorization_endpoint\":\"" ISSUER "/auth\","
                        "\"token_endpoint\":\"%s\","
                        "\"jwks_uri\":\"" ISSUER "/certs\","
                        "\"response_types_supported\":[\"code\"],"
                        "\"scopes_supported\":[\"openid\",\"profile\",\"email\",\"groups\"]%s}",
                        issuer, token_endpoint, extra);
}

static const char *good_doc(const char *extra)
{
    return doc_with(ISSUER, ISSUER "/token", extra);
}

static olo_metadata_t *parse(olo_reason_t want, const char *json)
{
    static olo_metadata_t unchanged;
    olo_metadata_t *md = &unchanged;
    olo_reason_t reason = OLO_R__COUNT;
    apr_status_t rv = olo_discovery_parse(&md, &reason, olo_test_pool, json, strlen(json), ISSUER);

    ck_assert_int_eq(reason, want);
    ck_assert_int_eq(rv == APR_SUCCESS, want == OLO_OK);
    if (want != OLO_OK) {
        ck_assert_ptr_null(md);
    }
    return md;
}

START_TEST(test_discovery_url_strips_one_trailing_slash)
{
    ck_assert_str_eq(olo_discovery_url(olo_test_pool, ISSUER),
                     ISSUER "/.well-known/openid-configuration");
    ck_assert_str_eq(olo_discovery_url(olo_test_pool, ISSUER "/"),
                     ISSUER "/.well-known/openid-configuration");
    ck_assert_str_eq(olo_discovery_url(olo_test_pool, "https://idp.example//"),
                     "https://idp.example//.well-known/openid-configuration");
}
END_TEST

START_TEST(test_discovery_parses_document)
{
    olo_metadata_t *md = parse(OLO_OK, good_doc(
        ",\"end_session_endpoint\":\"" ISSUER "/logout\",\"userinfo_endpoint\":\"" ISSUER "/me\""
        ",\"" METHODS "\":[\"plain\",\"S256\"]"));

    ck_assert_str_eq(md->issuer, ISSUER);
    ck_assert_str_eq(md->authorization_endpoint, ISSUER "/auth");
    ck_assert_str_eq(md->token_endpoint, ISSUER "/token");
    ck_assert_str_eq(md->jwks_uri, ISSUER "/certs");
    ck_assert_str_eq(md->end_session_endpoint, ISSUER "/logout");
    ck_assert_str_eq(md->userinfo_endpoint, ISSUER "/me");
}
END_TEST

START_TEST(test_discovery_optional_endpoints_absent)
{
    olo_metadata_t *md = parse(OLO_OK, good_doc(""));

    ck_assert_ptr_null(md->end_session_endpoint);
    ck_assert_ptr_null(md->userinfo_endpoint);
}
END_TEST

START_TEST(test_discovery_optional_http_endpoints_ignored)
{
    olo_metadata_t *md = parse(OLO_OK, good_doc(",\"end_session_endpoint\":\"http://x/logout\""
                                                ",\"userinfo_endpoint\":42"));

    ck_assert_ptr_null(md->end_session_endpoint);
    ck_assert_ptr_null(md->userinfo_endpoint);
}
END_TEST

START_TEST(test_discovery_wrong_issuer)
{
    parse(OLO_R_ISSUER_MISMATCH,
          doc_with("https://evil.onelogin.com/oidc/2", ISSUER "/token", ""));
    /* exact comparison: a trailing slash is another issuer */
    parse(OLO_R_ISSUER_MISMATCH, doc_with(ISSUER "/", ISSUER "/token", ""));
}
END_TEST

START_TEST(test_discovery_http_endpoint_refused)
{
    parse(OLO_R_PROVIDER_BAD_RESPONSE, doc_with(ISSUER, "http://acme.onelogin.com/token", ""));
}
END_TEST

START_TEST(test_discovery_missing_endpoint_refused)
{
    parse(OLO_R_PROVIDER_BAD_RESPONSE,
          "{\"issuer\":\"" ISSUER "\",\"authorization_endpoint\":\"" ISSUER "/auth\","
          "\"token_endpoint\":\"" ISSUER "/token\"}");
    parse(OLO_R_PROVIDER_BAD_RESPONSE,
          "{\"issuer\":\"" ISSUER "\",\"jwks_uri\":\"" ISSUER "/certs\","
          "\"token_endpoint\":\"" ISSUER "/token\"}");
    parse(OLO_R_PROVIDER_BAD_RESPONSE,
          "{\"authorization_endpoint\":\"" ISSUER "/auth\",\"jwks_uri\":\"" ISSUER "/certs\","
          "\"token_endpoint\":\"" ISSUER "/token\"}");
}
END_TEST

START_TEST(test_discovery_missing_s256_refused)
{
    parse(OLO_R_PROVIDER_BAD_RESPONSE, good_doc(",\"" METHODS "\":[\"plain\"]"));
    parse(OLO_R_PROVIDER_BAD_RESPONSE, good_doc(",\"" METHODS "\":[]"));
    parse(OLO_R_PROVIDER_BAD_RESPONSE, good_doc(",\"" METHODS "\":\"S256\""));
}
END_TEST

START_TEST(test_discovery_truncated_json_refused)
{
    const char *json = good_doc("");

    parse(OLO_R_PROVIDER_BAD_RESPONSE, apr_pstrndup(olo_test_pool, json, strlen(json) - 1));
    parse(OLO_R_PROVIDER_BAD_RESPONSE, "");
}
END_TEST

START_TEST(test_discovery_not_an_object_refused)
{
    parse(OLO_R_PROVIDER_BAD_RESPONSE, "[\"" ISSUER "\"]");
    parse(OLO_R_PROVIDER_BAD_RESPONSE, "<html>Service Unavailable</html>");
}
END_TEST

START_TEST(test_discovery_duplicate_member_refused)
{
    parse(OLO_R_PROVIDER_BAD_RESPONSE, good_doc(",\"issuer\":\"" ISSUER "\""));
}
END_TEST

START_TEST(test_discovery_oversized_refused)
{
    const char *json = good_doc("");
    olo_metadata_t *md = NULL;
    olo_reason_t reason = OLO_OK;

    /* the length, not the text, is what is refused: no need to build 256 KiB */
    ck_assert_int_ne(olo_discovery_parse(&md, &reason, olo_test_pool, json,
                                         OLO_DISCOVERY_MAX_BYTES + 1, ISSUER),
                     APR_SUCCESS);
    ck_assert_int_eq(reason, OLO_R_PROVIDER_BAD_RESPONSE);
    ck_assert_ptr_null(md);
}
END_TEST

START_TEST(test_discovery_uses_only_len_bytes)
{
    const char *json = apr_pstrcat(olo_test_pool, good_doc(""), "trailing garbage", NULL);
    olo_metadata_t *md = NULL;

    ck_assert_int_eq(olo_discovery_parse(&md, NULL, olo_test_pool, json,
                                         strlen(json) - strlen("trailing garbage"), ISSUER),
                     APR_SUCCESS);
    ck_assert_str_eq(md->issuer, ISSUER);
}
END_TEST

Suite *olo_suite_discovery(void)
{
    Suite *s = suite_create("discovery");
    TCase *tc = tcase_create("discovery");

    olo_test_add_pool_fixture(tc);
    tcase_add_test(tc, test_discovery_url_strips_one_trailing_slash);
    tcase_add_test(tc, test_discovery_parses_document);
    tcase_add_test(tc, test_discovery_optional_endpoints_absent);
    tcase_add_test(tc, test_discovery_optional_http_endpoints_ignored);
    tcase_add_test(tc, test_discovery_wrong_issuer);
    tcase_add_test(tc, test_discovery_http_endpoint_refused);
    tcase_add_test(tc, test_discovery_missing_endpoint_refused);
    tcase_add_test(tc, test_discovery_missing_s256_refused);
    tcase_add_test(tc, test_discovery_truncated_json_refused);
    tcase_add_test(tc, test_discovery_not_an_object_refused);
    tcase_add_test(tc, test_discovery_duplicate_member_refused);
    tcase_add_test(tc, test_discovery_oversized_refused);
    tcase_add_test(tc, test_discovery_uses_only_len_bytes);
    suite_add_tcase(s, tc);
    return s;
}
