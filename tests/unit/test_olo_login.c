/* The login flow through its seams: discovery and keys cached, the authorization request,
 * the code exchange (public and confidential client), ID token checks and key rotation. */
#include <string.h>
#include <cjose/cjose.h>
#include <apr_strings.h>
#include "olo_test.h"
#include "../../auth/olo_login.h"
#include "../../auth/olo_pkce.h"

#include "olo_idp.h"

static apr_status_t finish(fixture_t *f, olo_session_t **ps, olo_outcome_t *out)
{
    return olo_callback_finish(ps, out, olo_test_pool, &f->prov, &f->client, &f->pending, "code-1",
                               olo_test_rand, OLO_TEST_NOW);
}

START_TEST(login_url_carries_pkce_state_and_nonce)
{
    fixture_t *f = fixture();
    olo_metadata_t *md = NULL;
    olo_outcome_t out;
    ck_assert_int_eq(olo_provider_metadata(&md, &out, olo_test_pool, &f->prov, OLO_TEST_NOW), 0);
    const char *url = olo_login_url(olo_test_pool, md, &f->client, &f->pending);
    const char *challenge = olo_pkce_challenge(olo_test_pool, f->pending.verifier);
    ck_assert(!strncmp(url, ISSUER "/auth?response_type=code&client_id=" CLIENT, 53));
    ck_assert_ptr_nonnull(strstr(url, "&redirect_uri=https%3A%2F%2Fapp.example%2Fcallback"));
    ck_assert_ptr_nonnull(strstr(url, "&scope=openid%20email%20profile"));
    ck_assert_ptr_nonnull(strstr(url, "&state=state-0123456789abcdef"));
    ck_assert_ptr_nonnull(strstr(url, "&nonce=nonce-1"));
    ck_assert_ptr_nonnull(strstr(url, apr_pstrcat(olo_test_pool, "&code_challenge=", challenge, "&",
                                                  NULL)));
    ck_assert_ptr_nonnull(strstr(url, "&code_challenge_method=S256"));
    ck_assert_ptr_null(strstr(url, "verifier-abc"));
}
END_TEST

START_TEST(metadata_is_discovered_once_then_cached)
{
    fixture_t *f = fixture();
    olo_metadata_t *md = NULL;
    olo_outcome_t out;
    ck_assert_int_eq(olo_provider_metadata(&md, &out, olo_test_pool, &f->prov, OLO_TEST_NOW), 0);
    ck_assert_int_eq(olo_provider_metadata(&md, &out, olo_test_pool, &f->prov, OLO_TEST_NOW), 0);
    ck_assert_int_eq(olo_fake_http_count(f->http, DISCOVERY), 1);
    ck_assert_str_eq(md->token_endpoint, TOKEN_URI);
}
END_TEST

START_TEST(metadata_for_another_issuer_refused)
{
    fixture_t *f = fixture();
    olo_metadata_t *md = NULL;
    olo_outcome_t out;
    olo_fake_http_route(f->http, DISCOVERY, 200,
                        "{\"issuer\":\"https://evil.example/oidc/2\",\"authorization_endpoint\":"
                        "\"https://evil.example/auth\",\"token_endpoint\":\"https://evil.example/t\","
                        "\"jwks_uri\":\"https://evil.example/certs\"}");
    ck_assert_int_ne(olo_provider_metadata(&md, &out, olo_test_pool, &f->prov, OLO_TEST_NOW), 0);
    ck_assert_int_eq(out.reason, OLO_R_ISSUER_MISMATCH);
    ck_assert_ptr_null(md);
}
END_TEST

START_TEST(metadata_provider_down_is_unreachable)
{
    fixture_t *f = fixture();
    olo_metadata_t *md = NULL;
    olo_outcome_t out;
    f->prov.issuer = "https://down.example/oidc/2";
    ck_assert_int_eq(olo_provider_metadata(&md, &out, olo_test_pool, &f->prov, OLO_TEST_NOW),
                     APR_ECONNREFUSED);
    ck_assert_int_eq(out.reason, OLO_R_PROVIDER_UNREACHABLE);
}
END_TEST

START_TEST(metadata_provider_500_is_bad_response)
{
    fixture_t *f = fixture();
    olo_metadata_t *md = NULL;
    olo_outcome_t out;
    olo_fake_http_route(f->http, DISCOVERY, 500, "oops");
    ck_assert_int_ne(olo_provider_metadata(&md, &out, olo_test_pool, &f->prov, OLO_TEST_NOW), 0);
    ck_assert_int_eq(out.reason, OLO_R_PROVIDER_BAD_RESPONSE);
}
END_TEST

START_TEST(cache_down_is_reported)
{
    fixture_t *f = fixture();
    olo_metadata_t *md = NULL;
    olo_outcome_t out;
    f->cache->fail = 1;
    ck_assert_int_ne(olo_provider_metadata(&md, &out, olo_test_pool, &f->prov, OLO_TEST_NOW), 0);
    ck_assert_int_eq(out.reason, OLO_R_CACHE_UNAVAILABLE);
}
END_TEST

START_TEST(public_client_redeems_code_with_verifier_and_no_secret)
{
    fixture_t *f = fixture();
    olo_session_t *s = NULL;
    olo_outcome_t out;
    route_token(f, id_token(key_a, "nonce-1", NULL));
    ck_assert_int_eq(finish(f, &s, &out), APR_SUCCESS);
    ck_assert_str_eq(f->http->last_url, TOKEN_URI);
    ck_assert_ptr_nonnull(strstr(f->http->last_form, "code_verifier=verifier-abc"));
    ck_assert_ptr_nonnull(strstr(f->http->last_form, "client_id=" CLIENT));
    ck_assert_ptr_null(strstr(f->http->last_form, "client_secret"));
    ck_assert_ptr_null(f->http->last_authorization);
    ck_assert_str_eq(s->user, "alice@example.com");
    ck_assert_str_eq(s->groups, "Admins,Everyone");
    ck_assert(s->expires == OLO_TEST_NOW + apr_time_from_sec(28800));
    ck_assert(s->token_expires == OLO_TEST_NOW + apr_time_from_sec(600));
    ck_assert(s->last_seen == OLO_TEST_NOW);
    ck_assert_int_eq(strlen(s->id), 24);
}
END_TEST

START_TEST(confidential_client_uses_basic_auth)
{
    fixture_t *f = fixture();
    olo_session_t *s = NULL;
    olo_outcome_t out;
    f->client.client_secret = "s3cret";
    route_token(f, id_token(key_a, "nonce-1", NULL));
    ck_assert_int_eq(finish(f, &s, &out), APR_SUCCESS);
    ck_assert(!strncmp(f->http->last_authorization, "Basic ", 6));
    ck_assert_ptr_null(strstr(f->http->last_form, "s3cret"));
    ck_assert_ptr_nonnull(strstr(f->http->last_form, "code_verifier=verifier-abc"));
}
END_TEST

START_TEST(token_endpoint_refusal_is_reported)
{
    fixture_t *f = fixture();
    olo_session_t *s = NULL;
    olo_outcome_t out;
    olo_fake_http_route(f->http, TOKEN_URI, 400, "{\"error\":\"invalid_grant\"}");
    ck_assert_int_ne(finish(f, &s, &out), APR_SUCCESS);
    ck_assert_int_eq(out.reason, OLO_R_TOKEN_ENDPOINT_ERROR);
    ck_assert_ptr_nonnull(strstr(out.detail, "invalid_grant"));
    ck_assert_ptr_null(s);
}
END_TEST

START_TEST(nonce_of_another_login_refused)
{
    fixture_t *f = fixture();
    olo_session_t *s = NULL;
    olo_outcome_t out;
    route_token(f, id_token(key_a, "nonce-of-someone-else", NULL));
    ck_assert_int_ne(finish(f, &s, &out), APR_SUCCESS);
    ck_assert_int_eq(out.reason, OLO_R_NONCE_MISMATCH);
}
END_TEST

/* A kid the provider does not publish even after asking again: refused, after one refetch. */
START_TEST(token_signed_by_unknown_key_refused)
{
    fixture_t *f = fixture();
    olo_session_t *s = NULL;
    olo_outcome_t out;
    olo_jwks_t *jwks = NULL;
    ck_assert_int_eq(olo_provider_jwks(&jwks, &out, olo_test_pool, &f->prov,
                                       JWKS_URI, OLO_JWKS_CACHED, OLO_TEST_NOW), 0);
    route_token(f, id_token(key_b, "nonce-1", NULL));
    ck_assert_int_ne(finish(f, &s, &out), APR_SUCCESS);
    ck_assert_int_eq(out.reason, OLO_R_KID_UNKNOWN);
    ck_assert_int_eq(olo_fake_http_count(f->http, JWKS_URI), 2);
}
END_TEST

/* The provider rotates a second after the keys were fetched (by the first login): the very
 * next login refetches and succeeds, and the one after that uses the fresh keys. */
START_TEST(key_rotation_right_after_a_fetch_refetches_keys_once)
{
    fixture_t *f = fixture();
    olo_session_t *s = NULL;
    olo_outcome_t out;
    olo_jwks_t *jwks = NULL;
    ck_assert_int_eq(olo_provider_jwks(&jwks, &out, olo_test_pool, &f->prov,
                                       JWKS_URI, OLO_JWKS_CACHED, OLO_TEST_NOW), 0);
    olo_fake_http_route(f->http, JWKS_URI, 200, jwks_of(key_b));   /* the provider rotated */
    route_token(f, id_token(key_b, "nonce-1", NULL));
    ck_assert_int_eq(finish(f, &s, &out), APR_SUCCESS);
    ck_assert_int_eq(olo_fake_http_count(f->http, JWKS_URI), 2);
    ck_assert_int_eq(finish(f, &s, &out), APR_SUCCESS);
    ck_assert_int_eq(olo_fake_http_count(f->http, JWKS_URI), 2);
}
END_TEST

/* A client's bearer token with an unknown kid may force a refetch only once per interval. */
START_TEST(bearer_kids_refetch_within_the_limit)
{
    fixture_t *f = fixture();
    olo_metadata_t *md = NULL;
    olo_outcome_t out;
    olo_expect_t want = {ISSUER, CLIENT, NULL, apr_time_from_sec(60), 0, 0};
    json_t *claims = NULL;
    const char *token = id_token(key_b, NULL, NULL);
    ck_assert_int_eq(olo_provider_metadata(&md, &out, olo_test_pool, &f->prov, OLO_TEST_NOW), 0);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_ne(olo_login_verify_token(&claims, &out, olo_test_pool, &f->prov, md, token,
                                                &want, OLO_JWKS_REFETCH_LIMITED, OLO_TEST_NOW),
                         APR_SUCCESS);
        ck_assert_int_eq(out.reason, OLO_R_KID_UNKNOWN);
    }
    ck_assert_int_eq(olo_fake_http_count(f->http, JWKS_URI), 2);
}
END_TEST

/* REMOTE_USER is the first present claim of the list: OpenMetadata's jwtPrincipalClaims. */
START_TEST(user_is_the_first_present_claim)
{
    fixture_t *f = fixture();
    olo_session_t *s = NULL;
    olo_outcome_t out;
    static const char *const upn_first[] = {"upn", "preferred_username", "email", NULL};
    json_t *claims = json_pack("{s:s, s:s}", "sub", "svc-1", "preferred_username", "ingestion");
    const char *claim = NULL;
    ck_assert_str_eq(olo_login_user(olo_test_pool, claims, olo_default_user_claims, &claim),
                     "ingestion");
    ck_assert_str_eq(claim, "preferred_username");
    json_object_del(claims, "preferred_username");
    ck_assert_str_eq(olo_login_user(olo_test_pool, claims, olo_default_user_claims, &claim),
                     "svc-1");
    json_object_set_new(claims, "email", json_string(""));  /* empty is absent */
    ck_assert_str_eq(olo_login_user(olo_test_pool, claims, olo_default_user_claims, &claim),
                     "svc-1");
    ck_assert_ptr_null(olo_login_user(olo_test_pool, claims, upn_first, &claim));
    ck_assert_ptr_null(claim);
    json_decref(claims);
    f->client.user_claims = upn_first;
    route_token(f, id_token(key_a, "nonce-1", "\"preferred_username\":\"alice.p\""));
    ck_assert_int_eq(finish(f, &s, &out), APR_SUCCESS);
    ck_assert_str_eq(s->user, "alice.p");
}
END_TEST

START_TEST(missing_user_claim_refused)
{
    fixture_t *f = fixture();
    olo_session_t *s = NULL;
    olo_outcome_t out;
    static const char *const claims[] = {"preferred_username", "upn", NULL};
    f->client.user_claims = claims;
    route_token(f, id_token(key_a, "nonce-1", NULL));
    ck_assert_int_ne(finish(f, &s, &out), APR_SUCCESS);
    ck_assert_int_eq(out.reason, OLO_R_USER_CLAIM_MISSING);
    ck_assert_ptr_nonnull(strstr(out.detail, "'preferred_username', 'upn'"));
}
END_TEST

START_TEST(user_claim_with_control_characters_refused)
{
    fixture_t *f = fixture();
    olo_session_t *s = NULL;
    olo_outcome_t out;
    static const char *const claims[] = {"preferred_username", "email", NULL};
    f->client.user_claims = claims;
    route_token(f, id_token(key_a, "nonce-1", "\"preferred_username\":\"alice\\r\\nX-Injected: yes\""));
    ck_assert_int_ne(finish(f, &s, &out), APR_SUCCESS);
    ck_assert_int_eq(out.reason, OLO_R_USER_CLAIM_INVALID);
    ck_assert(!olo_session_is_printable("a\x7f"));
    ck_assert(!olo_session_is_printable("a\x1b[0m"));
    ck_assert(olo_session_is_printable("Ana\tMar\xc3\xad" "a"));
}
END_TEST

START_TEST(callback_needs_state_and_code_or_error)
{
    olo_callback_params_t *params = NULL;
    olo_outcome_t out;
    const char *state = "state=abcdefghijklmnopqrstuvwxyz012345";
    ck_assert_int_eq(olo_callback_parse(&params, &out, olo_test_pool,
                                        apr_pstrcat(olo_test_pool, "code=c&", state, NULL)), 0);
    ck_assert_str_eq(params->code, "c");
    ck_assert_int_ne(olo_callback_parse(&params, &out, olo_test_pool, "code=c"), 0);
    ck_assert_int_ne(olo_callback_parse(&params, &out, olo_test_pool, state), 0);
    ck_assert_int_ne(olo_callback_parse(&params, &out, olo_test_pool, NULL), 0);
    ck_assert_int_ne(olo_callback_parse(&params, &out, olo_test_pool,
                                        apr_pstrcat(olo_test_pool, "code=c&", state, "&", state,
                                                    NULL)), 0);
    ck_assert_int_eq(out.reason, OLO_R_CALLBACK_INVALID);
}
END_TEST

START_TEST(callback_error_is_sanitised)
{
    olo_callback_params_t *params = NULL;
    olo_outcome_t out;
    ck_assert_int_eq(olo_callback_parse(&params, &out, olo_test_pool,
                                        "error=access%0D%0Adenied<b>&state=abcdefghijklmnopqrstuv"), 0);
    ck_assert_str_eq(params->error, "access??denied?b?");
}
END_TEST

Suite *olo_suite_login(void)
{
    Suite *s = suite_create("login");
    TCase *tc = tcase_create("login");
    tcase_set_timeout(tc, 60);
    tcase_add_unchecked_fixture(tc, olo_idp_keys_setup, olo_idp_keys_teardown);
    olo_test_add_pool_fixture(tc);
    tcase_add_test(tc, login_url_carries_pkce_state_and_nonce);
    tcase_add_test(tc, metadata_is_discovered_once_then_cached);
    tcase_add_test(tc, metadata_for_another_issuer_refused);
    tcase_add_test(tc, metadata_provider_down_is_unreachable);
    tcase_add_test(tc, metadata_provider_500_is_bad_response);
    tcase_add_test(tc, cache_down_is_reported);
    tcase_add_test(tc, public_client_redeems_code_with_verifier_and_no_secret);
    tcase_add_test(tc, confidential_client_uses_basic_auth);
    tcase_add_test(tc, token_endpoint_refusal_is_reported);
    tcase_add_test(tc, nonce_of_another_login_refused);
    tcase_add_test(tc, token_signed_by_unknown_key_refused);
    tcase_add_test(tc, key_rotation_right_after_a_fetch_refetches_keys_once);
    tcase_add_test(tc, bearer_kids_refetch_within_the_limit);
    tcase_add_test(tc, user_is_the_first_present_claim);
    tcase_add_test(tc, missing_user_claim_refused);
    tcase_add_test(tc, user_claim_with_control_characters_refused);
    tcase_add_test(tc, callback_needs_state_and_code_or_error);
    tcase_add_test(tc, callback_error_is_sanitised);
    suite_add_tcase(s, tc);
    return s;
}
