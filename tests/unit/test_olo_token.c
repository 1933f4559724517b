/* olo_token: the authorization code exchange (RFC 6749 4.1.3, 5; OIDC Core 3.1.3). */
#include <string.h>
#include <apr_strings.h>
#include "olo_test.h"
#include "../../auth/olo_token.h"

#define ID_TOKEN "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln"

static const char *last_why;

static olo_tokens_t *parse(olo_reason_t want, const char **perror, int status, const char *body)
{
    static olo_tokens_t unchanged;
    olo_tokens_t *tokens = &unchanged;
    olo_reason_t reason = OLO_R__COUNT;
    last_why = "unchanged";
    apr_status_t rv = olo_token_parse(&tokens, &reason, perror, &last_why, olo_test_pool, status,
                                      body, body ? strlen(body) : 0);

    ck_assert_int_eq(reason, want);
    ck_assert_int_eq(rv == APR_SUCCESS, want == OLO_OK);
    if (want != OLO_OK) {
        ck_assert_ptr_null(tokens);
        ck_assert_ptr_nonnull(last_why);    /* a failure always says why, for the log */
    }
    else {
        ck_assert_ptr_null(last_why);
    }
    return tokens;
}

START_TEST(test_token_form_for_confidential_client)
{
    ck_assert_str_eq(olo_token_code_form(olo_test_pool, "c0de/+=", "https://rp.example/cb?x=1",
                                         "client", "verifier-._~", 0),
                     "grant_type=authorization_code&code=c0de%2F%2B%3D"
                     "&redirect_uri=https%3A%2F%2Frp.example%2Fcb%3Fx%3D1"
                     "&code_verifier=verifier-._~");
}
END_TEST

START_TEST(test_token_form_for_public_client)
{
    ck_assert_str_eq(olo_token_code_form(olo_test_pool, "abc", "https://rp.example/cb",
                                         "my client", "v", 1),
                     "grant_type=authorization_code&code=abc"
                     "&redirect_uri=https%3A%2F%2Frp.example%2Fcb&code_verifier=v"
                     "&client_id=my%20client");
}
END_TEST

START_TEST(test_token_basic_auth_rfc6749_example)
{
    ck_assert_str_eq(olo_token_basic_auth(olo_test_pool, "s6BhdRkqt3", "7Fjfp0ZBr1KtDRbnfVdmIw"),
                     "Basic czZCaGRSa3F0Mzo3RmpmcDBaQnIxS3REUmJuZlZkbUl3");
}
END_TEST

START_TEST(test_token_basic_auth_encodes_before_joining)
{
    /* "a%3Ab:p%20w": the ":" of the id cannot be read as the separator */
    ck_assert_str_eq(olo_token_basic_auth(olo_test_pool, "a:b", "p w"), "Basic YSUzQWI6cCUyMHc=");
}
END_TEST

START_TEST(test_token_parses_success)
{
    olo_tokens_t *tokens = parse(OLO_OK, NULL, 200,
                                 "{\"access_token\":\"at\",\"token_type\":\"Bearer\","
                                 "\"refresh_token\":\"rt\",\"expires_in\":3600,"
                                 "\"id_token\":\"" ID_TOKEN "\"}");

    ck_assert_str_eq(tokens->id_token, ID_TOKEN);
    ck_assert_str_eq(tokens->access_token, "at");
    ck_assert_str_eq(tokens->refresh_token, "rt");
    ck_assert_int_eq(tokens->expires_in, 3600);
}
END_TEST

START_TEST(test_token_optional_members_absent)
{
    olo_tokens_t *tokens = parse(OLO_OK, NULL, 200, "{\"id_token\":\"" ID_TOKEN "\"}");

    ck_assert_ptr_null(tokens->access_token);
    ck_assert_ptr_null(tokens->refresh_token);
    ck_assert_int_eq(tokens->expires_in, 0);
}
END_TEST

START_TEST(test_token_type_bearer_any_case)
{
    parse(OLO_OK, NULL, 200, "{\"token_type\":\"bearer\",\"id_token\":\"" ID_TOKEN "\"}");
    parse(OLO_R_PROVIDER_BAD_RESPONSE, NULL, 200,
          "{\"token_type\":\"mac\",\"id_token\":\"" ID_TOKEN "\"}");
    parse(OLO_R_PROVIDER_BAD_RESPONSE, NULL, 200,
          "{\"token_type\":1,\"id_token\":\"" ID_TOKEN "\"}");
}
END_TEST

/* OIDC Core 12.2: a refresh answer may carry no ID token (Glewlwyd's never does); the grant's
 * caller decides whether it needs one. A present but empty or non-string one is refused. */
START_TEST(test_token_without_id_token)
{
    olo_tokens_t *tokens = parse(OLO_OK, NULL, 200,
                                 "{\"access_token\":\"at\",\"refresh_token\":\"rt\","
                                 "\"expires_in\":120}");
    ck_assert_ptr_null(tokens->id_token);
    ck_assert_str_eq(tokens->refresh_token, "rt");
    ck_assert_int_eq(tokens->expires_in, 120);
    parse(OLO_R_PROVIDER_BAD_RESPONSE, NULL, 200, "{\"id_token\":\"\"}");
    ck_assert_str_eq(last_why, "id_token is not a non-empty string");
    parse(OLO_R_PROVIDER_BAD_RESPONSE, NULL, 200, "{\"id_token\":{\"sub\":\"1\"}}");
    parse(OLO_R_PROVIDER_BAD_RESPONSE, NULL, 200, "{\"id_token\":null}");
}
END_TEST

/* The log names the cause, not only the status. */
START_TEST(test_token_refusal_says_why)
{
    const char *error = NULL;
    parse(OLO_R_TOKEN_ENDPOINT_ERROR, &error, 400, "{\"error\":\"invalid_grant\"}");
    ck_assert_str_eq(last_why, "error=invalid_grant");
    parse(OLO_R_PROVIDER_BAD_RESPONSE, &error, 200, "not json");
    ck_assert_ptr_null(error);
    ck_assert_ptr_nonnull(strstr(last_why, "not JSON"));
    parse(OLO_R_PROVIDER_BAD_RESPONSE, NULL, 200, "[1]");
    ck_assert_str_eq(last_why, "the body is not a JSON object");
    parse(OLO_R_PROVIDER_BAD_RESPONSE, NULL, 500, "{\"error\":\"server_error\"}");
    ck_assert_ptr_nonnull(strstr(last_why, "neither 200 nor"));
    parse(OLO_R_PROVIDER_BAD_RESPONSE, NULL, 200, "{\"token_type\":\"mac\"}");
    ck_assert_str_eq(last_why, "token_type is not Bearer");
}
END_TEST

START_TEST(test_token_duplicate_id_token_refused)
{
    parse(OLO_R_PROVIDER_BAD_RESPONSE, NULL, 200,
          "{\"id_token\":\"" ID_TOKEN "\",\"id_token\":\"other\"}");
}
END_TEST

START_TEST(test_token_error_answer)
{
    const char *error = NULL;

    parse(OLO_R_TOKEN_ENDPOINT_ERROR, &error, 400,
          "{\"error\":\"invalid_grant\",\"error_description\":\"code expired\"}");
    ck_assert_str_eq(error, "invalid_grant");
    parse(OLO_R_TOKEN_ENDPOINT_ERROR, &error, 401, "{\"error\":\"invalid_client\"}");
    ck_assert_str_eq(error, "invalid_client");
    parse(OLO_R_TOKEN_ENDPOINT_ERROR, NULL, 400, "{\"error\":\"invalid_grant\"}");
}
END_TEST

START_TEST(test_token_error_code_sanitised)
{
    const char *error = NULL;

    parse(OLO_R_TOKEN_ENDPOINT_ERROR, &error, 400, "{\"error\":\"bad\\r\\n\\\"x\\\\\\u00e9\"}");
    ck_assert_str_eq(error, "bad???x???");
    parse(OLO_R_TOKEN_ENDPOINT_ERROR, &error, 400,
          "{\"error\":\"0123456789012345678901234567890123456789012345678901234567890123456789\"}");
    ck_assert_uint_eq(strlen(error), 64);
}
END_TEST

START_TEST(test_token_error_without_code)
{
    const char *error = "unchanged";

    parse(OLO_R_PROVIDER_BAD_RESPONSE, &error, 400, "{\"error_description\":\"no\"}");
    ck_assert_ptr_null(error);
    parse(OLO_R_PROVIDER_BAD_RESPONSE, &error, 400, "{\"error\":\"\"}");
    parse(OLO_R_PROVIDER_BAD_RESPONSE, &error, 400, "{\"error\":7}");
}
END_TEST

START_TEST(test_token_500_answer)
{
    parse(OLO_R_PROVIDER_BAD_RESPONSE, NULL, 500, "{\"error\":\"server_error\"}");
    parse(OLO_R_PROVIDER_BAD_RESPONSE, NULL, 503, "Service Unavailable");
}
END_TEST

START_TEST(test_token_other_4xx_answer)
{
    parse(OLO_R_PROVIDER_BAD_RESPONSE, NULL, 403, "{\"error\":\"access_denied\"}");
}
END_TEST

START_TEST(test_token_non_json)
{
    parse(OLO_R_PROVIDER_BAD_RESPONSE, NULL, 200, "<html>ok</html>");
    parse(OLO_R_PROVIDER_BAD_RESPONSE, NULL, 200, "[\"" ID_TOKEN "\"]");
    parse(OLO_R_PROVIDER_BAD_RESPONSE, NULL, 200, "{\"id_token\":\"" ID_TOKEN "\"");
    parse(OLO_R_PROVIDER_BAD_RESPONSE, NULL, 200, "");
    parse(OLO_R_PROVIDER_BAD_RESPONSE, NULL, 200, NULL);
}
END_TEST

START_TEST(test_token_oversized)
{
    const char *body = "{\"id_token\":\"" ID_TOKEN "\"}";
    olo_tokens_t *tokens = NULL;
    olo_reason_t reason = OLO_OK;

    ck_assert_int_ne(olo_token_parse(&tokens, &reason, NULL, NULL, olo_test_pool, 200, body,
                                     OLO_TOKEN_MAX_BYTES + 1),
                     APR_SUCCESS);
    ck_assert_int_eq(reason, OLO_R_PROVIDER_BAD_RESPONSE);
}
END_TEST

Suite *olo_suite_token(void)
{
    Suite *s = suite_create("token");
    TCase *request = tcase_create("request");
    TCase *answer = tcase_create("answer");

    olo_test_add_pool_fixture(request);
    tcase_add_test(request, test_token_form_for_confidential_client);
    tcase_add_test(request, test_token_form_for_public_client);
    tcase_add_test(request, test_token_basic_auth_rfc6749_example);
    tcase_add_test(request, test_token_basic_auth_encodes_before_joining);
    suite_add_tcase(s, request);

    olo_test_add_pool_fixture(answer);
    tcase_add_test(answer, test_token_parses_success);
    tcase_add_test(answer, test_token_optional_members_absent);
    tcase_add_test(answer, test_token_type_bearer_any_case);
    tcase_add_test(answer, test_token_without_id_token);
    tcase_add_test(answer, test_token_refusal_says_why);
    tcase_add_test(answer, test_token_duplicate_id_token_refused);
    tcase_add_test(answer, test_token_error_answer);
    tcase_add_test(answer, test_token_error_code_sanitised);
    tcase_add_test(answer, test_token_error_without_code);
    tcase_add_test(answer, test_token_500_answer);
    tcase_add_test(answer, test_token_other_4xx_answer);
    tcase_add_test(answer, test_token_non_json);
    tcase_add_test(answer, test_token_oversized);
    suite_add_tcase(s, answer);
    return s;
}
