/* Renewing a session's ID token: when it is due, what is sent, and what is refused. */
#include <string.h>
#include <apr_strings.h>
#include "olo_test.h"
#include "olo_idp.h"
#include "../../auth/olo_refresh.h"

#define MIN apr_time_from_sec(60)

static olo_session_t *session_of(fixture_t *f)
{
    olo_session_t *s = NULL;
    olo_outcome_t out;
    route_tokens(f, id_token(key_a, "nonce-1", NULL), "rt-1");
    ck_assert_int_eq(olo_callback_finish(&s, &out, olo_test_pool, &f->prov, &f->client,
                                         &f->pending, "code-1", olo_test_rand, OLO_TEST_NOW), 0);
    return s;
}

/* The session's renewal at `when` through the fixture's provider. */
static apr_status_t renew(fixture_t *f, const olo_session_t *s, olo_session_t **pfresh,
                          olo_outcome_t *out, apr_time_t when)
{
    return olo_refresh_session(pfresh, out, olo_test_pool, &f->prov, &f->client, s, when);
}

START_TEST(refresh_due_within_margin_only_with_refresh_token)
{
    olo_session_t s = {.refresh_token = "rt", .token_expires = OLO_TEST_NOW + 10 * MIN};
    ck_assert(!olo_refresh_due(&s, MIN, OLO_TEST_NOW + 8 * MIN));
    ck_assert(olo_refresh_due(&s, MIN, OLO_TEST_NOW + 9 * MIN));
    s.refresh_token = NULL;
    ck_assert(!olo_refresh_due(&s, MIN, OLO_TEST_NOW + 20 * MIN));
}
END_TEST

/* A token that lives less than the margin is renewed half-way through its life, not at once
 * (and its successor not at once again): a 20 s token at 10 s, whatever the 60 s margin. */
START_TEST(margin_is_at_most_half_the_token_lifetime)
{
    apr_interval_time_t sec = apr_time_from_sec(1);
    olo_session_t s = {.refresh_token = "rt", .token_issued = OLO_TEST_NOW,
                       .token_expires = OLO_TEST_NOW + 20 * sec};
    ck_assert(olo_refresh_margin(&s, MIN) == 10 * sec);
    ck_assert(!olo_refresh_due(&s, MIN, OLO_TEST_NOW));
    ck_assert(!olo_refresh_due(&s, MIN, OLO_TEST_NOW + 9 * sec));
    ck_assert(olo_refresh_due(&s, MIN, OLO_TEST_NOW + 10 * sec));
    s.token_expires = OLO_TEST_NOW + 3600 * sec;          /* long-lived: the margin itself */
    ck_assert(olo_refresh_margin(&s, MIN) == MIN);
    s.token_expires = OLO_TEST_NOW + 60 * sec;
    ck_assert(olo_refresh_margin(&s, MIN) == 30 * sec);
    s.token_issued = 0;                                 /* a cookie from before iat was kept */
    ck_assert(olo_refresh_margin(&s, MIN) == MIN);
    s.token_issued = s.token_expires + sec;             /* nonsense: the margin as set */
    ck_assert(olo_refresh_margin(&s, MIN) == MIN);
}
END_TEST

/* Lock and result are per token being replaced: two tokens of one session that expire in the
 * same second never share them. */
START_TEST(renewal_keys_follow_the_token_being_replaced)
{
    olo_session_t a = {.id = "sess-1", .id_token = "token-a", .refresh_token = "rt",
                       .token_expires = OLO_TEST_NOW};
    olo_session_t b = a;
    b.id_token = "token-b";
    const char *lock_a = olo_refresh_key(olo_test_pool, "rf:", &a);
    ck_assert_ptr_nonnull(lock_a);
    ck_assert_str_eq(lock_a, olo_refresh_key(olo_test_pool, "rf:", &a));
    ck_assert_str_ne(lock_a, olo_refresh_key(olo_test_pool, "rf:", &b));
    ck_assert_str_ne(lock_a, olo_refresh_key(olo_test_pool, "rs:", &a));
    ck_assert(!strncmp(olo_refresh_key(olo_test_pool, "rs:", &a), "rs:", 3));
    /* no token value in the key (keys may be listed by whoever reads the cache) */
    ck_assert_ptr_null(strstr(lock_a, "token-a"));
    b = a;
    b.id = "sess-2";
    ck_assert_str_ne(lock_a, olo_refresh_key(olo_test_pool, "rf:", &b));
    b = a;
    b.id_token = NULL;      /* ForwardIDToken off and nothing kept: the refresh token names it */
    ck_assert_str_ne(lock_a, olo_refresh_key(olo_test_pool, "rf:", &b));
}
END_TEST

START_TEST(only_passing_failures_keep_a_valid_session)
{
    ck_assert(olo_refresh_failure_is_transient(OLO_R_PROVIDER_UNREACHABLE));
    ck_assert(olo_refresh_failure_is_transient(OLO_R_PROVIDER_BAD_RESPONSE));
    ck_assert(olo_refresh_failure_is_transient(OLO_R_CACHE_UNAVAILABLE));
    ck_assert(!olo_refresh_failure_is_transient(OLO_R_REFRESH_FAILED));
    ck_assert(!olo_refresh_failure_is_transient(OLO_R_BAD_SIGNATURE));
    ck_assert(!olo_refresh_failure_is_transient(OLO_R_ISS_MISMATCH));
    ck_assert(!olo_refresh_failure_is_transient(OLO_R_USER_CLAIM_MISSING));
}
END_TEST

START_TEST(login_keeps_the_refresh_token)
{
    olo_session_t *s = session_of(fixture());
    ck_assert_str_eq(s->refresh_token, "rt-1");
}
END_TEST

START_TEST(refresh_sends_grant_with_client_id_and_no_secret)
{
    fixture_t *f = fixture();
    olo_session_t *s = session_of(f);
    olo_session_t *fresh = NULL;
    olo_outcome_t out;
    apr_time_t later = OLO_TEST_NOW + 9 * MIN;
    route_tokens(f, id_token_at(key_a, "ignored", later, NULL), "rt-2");
    ck_assert_int_eq(renew(f, s, &fresh, &out, later), APR_SUCCESS);
    ck_assert_ptr_nonnull(strstr(f->http->last_form, "grant_type=refresh_token"));
    ck_assert_ptr_nonnull(strstr(f->http->last_form, "refresh_token=rt-1"));
    ck_assert_ptr_nonnull(strstr(f->http->last_form, "client_id=" CLIENT));
    ck_assert_ptr_null(f->http->last_authorization);
    ck_assert_str_eq(fresh->id, s->id);
    ck_assert(fresh->created == s->created);
    ck_assert(fresh->expires == s->expires);
    ck_assert(fresh->token_expires == later + apr_time_from_sec(600));
    ck_assert_str_eq(fresh->refresh_token, "rt-2");
    ck_assert_str_ne(fresh->id_token, s->id_token);
    olo_seal_key_t *key = NULL;
    const char *sealed = NULL;
    ck_assert_int_eq(olo_seal_key_derive(&key, olo_test_pool, "0123456789abcdef0123456789abcdef",
                                         32, "session"), APR_SUCCESS);
    ck_assert_int_eq(olo_session_seal(&sealed, olo_test_pool, key, fresh), APR_SUCCESS);
}
END_TEST

START_TEST(refresh_refused_by_provider_fails)
{
    fixture_t *f = fixture();
    olo_session_t *s = session_of(f);
    olo_session_t *fresh = NULL;
    olo_outcome_t out;
    olo_fake_http_route(f->http, TOKEN_URI, 400, "{\"error\":\"invalid_grant\"}");
    ck_assert_int_ne(renew(f, s, &fresh, &out, OLO_TEST_NOW), APR_SUCCESS);
    ck_assert_int_eq(out.reason, OLO_R_REFRESH_FAILED);
    ck_assert_ptr_null(fresh);
}
END_TEST

START_TEST(refreshed_token_for_another_subject_refused)
{
    fixture_t *f = fixture();
    olo_session_t *s = session_of(f);
    olo_session_t *fresh = NULL;
    olo_outcome_t out;
    s->sub = "not-u1";   /* the session was for another subject than the token names */
    route_tokens(f, id_token(key_a, "x", NULL), NULL);
    ck_assert_int_ne(renew(f, s, &fresh, &out, OLO_TEST_NOW), APR_SUCCESS);
    ck_assert_int_eq(out.reason, OLO_R_REFRESH_FAILED);
}
END_TEST

START_TEST(refreshed_token_with_bad_signature_refused)
{
    fixture_t *f = fixture();
    olo_session_t *s = session_of(f);
    olo_session_t *fresh = NULL;
    olo_outcome_t out;
    char *forged = apr_pstrdup(olo_test_pool, id_token(key_a, "x", NULL));
    forged[strlen(forged) - 5] = (forged[strlen(forged) - 5] == 'A') ? 'B' : 'A';
    route_tokens(f, forged, NULL);
    ck_assert_int_ne(renew(f, s, &fresh, &out, OLO_TEST_NOW), APR_SUCCESS);
    ck_assert_int_eq(out.reason, OLO_R_BAD_SIGNATURE);
}
END_TEST

/* OIDC Core 12.2: the answer may carry no ID token (Glewlwyd's never does). The session keeps
 * its identity and ID token; the refresh token cannot renew that, so it goes, and the session
 * ends when the token expires (the no-refresh-token rule) instead of renewing on every request. */
START_TEST(refresh_answer_without_id_token_keeps_the_session)
{
    fixture_t *f = fixture();
    olo_session_t *s = session_of(f);
    olo_session_t *fresh = NULL;
    olo_outcome_t out;
    apr_time_t later = OLO_TEST_NOW + 9 * MIN;
    olo_fake_http_route(f->http, TOKEN_URI, 200,
                        "{\"access_token\":\"at-2\",\"token_type\":\"bearer\","
                        "\"expires_in\":120,\"refresh_token\":\"rt-2\"}");
    ck_assert_int_eq(renew(f, s, &fresh, &out, later), APR_SUCCESS);
    ck_assert_str_eq(fresh->id, s->id);
    ck_assert_str_eq(fresh->user, s->user);
    ck_assert_str_eq(fresh->id_token, s->id_token);
    ck_assert(fresh->token_expires == s->token_expires);
    ck_assert(fresh->last_seen == later);
    ck_assert_ptr_null(fresh->refresh_token);
    ck_assert(!olo_refresh_due(fresh, MIN, later));
    ck_assert_ptr_nonnull(strstr(out.detail, "no id_token"));
}
END_TEST

/* A login's answer must carry one (OIDC Core 3.1.3.3), and the log says that is what lacked. */
START_TEST(code_answer_without_id_token_refused_with_its_cause)
{
    fixture_t *f = fixture();
    olo_session_t *s = NULL;
    olo_outcome_t out;
    olo_fake_http_route(f->http, TOKEN_URI, 200, "{\"access_token\":\"at\"}");
    ck_assert_int_ne(olo_callback_finish(&s, &out, olo_test_pool, &f->prov, &f->client,
                                         &f->pending, "code-1", olo_test_rand, OLO_TEST_NOW), 0);
    ck_assert_int_eq(out.reason, OLO_R_PROVIDER_BAD_RESPONSE);
    ck_assert_ptr_nonnull(strstr(out.detail, "no id_token"));
}
END_TEST

START_TEST(refusal_names_the_providers_error)
{
    fixture_t *f = fixture();
    olo_session_t *s = session_of(f);
    olo_session_t *fresh = NULL;
    olo_outcome_t out;
    olo_fake_http_route(f->http, TOKEN_URI, 400, "{\"error\":\"invalid_grant\"}");
    ck_assert_int_ne(renew(f, s, &fresh, &out, OLO_TEST_NOW), APR_SUCCESS);
    ck_assert_ptr_nonnull(strstr(out.detail, "error=invalid_grant"));
    olo_fake_http_route(f->http, TOKEN_URI, 503, "busy");
    ck_assert_int_ne(renew(f, s, &fresh, &out, OLO_TEST_NOW), APR_SUCCESS);
    ck_assert_int_eq(out.reason, OLO_R_PROVIDER_BAD_RESPONSE);
    ck_assert_ptr_nonnull(strstr(out.detail, "HTTP 503"));
    ck_assert_ptr_nonnull(strstr(out.detail, "not JSON"));
}
END_TEST

START_TEST(renewed_session_records_the_new_tokens_lifetime)
{
    fixture_t *f = fixture();
    olo_session_t *s = session_of(f);
    olo_session_t *fresh = NULL;
    olo_outcome_t out;
    apr_time_t later = OLO_TEST_NOW + 9 * MIN;
    ck_assert(s->token_issued == OLO_TEST_NOW);
    route_tokens(f, id_token_at(key_a, "ignored", later, NULL), "rt-2");
    ck_assert_int_eq(renew(f, s, &fresh, &out, later), APR_SUCCESS);
    ck_assert(fresh->token_issued == later);
    ck_assert_ptr_null(out.detail);
}
END_TEST

START_TEST(refresh_without_new_refresh_token_keeps_the_old)
{
    fixture_t *f = fixture();
    olo_session_t *s = session_of(f);
    olo_session_t *fresh = NULL;
    olo_outcome_t out;
    route_tokens(f, id_token(key_a, "x", NULL), NULL);
    ck_assert_int_eq(renew(f, s, &fresh, &out, OLO_TEST_NOW), APR_SUCCESS);
    ck_assert_str_eq(fresh->refresh_token, "rt-1");
}
END_TEST

Suite *olo_suite_refresh(void)
{
    Suite *s = suite_create("refresh");
    TCase *tc = tcase_create("refresh");
    tcase_set_timeout(tc, 60);
    tcase_add_unchecked_fixture(tc, olo_idp_keys_setup, olo_idp_keys_teardown);
    olo_test_add_pool_fixture(tc);
    tcase_add_test(tc, refresh_due_within_margin_only_with_refresh_token);
    tcase_add_test(tc, margin_is_at_most_half_the_token_lifetime);
    tcase_add_test(tc, renewal_keys_follow_the_token_being_replaced);
    tcase_add_test(tc, only_passing_failures_keep_a_valid_session);
    tcase_add_test(tc, refresh_answer_without_id_token_keeps_the_session);
    tcase_add_test(tc, code_answer_without_id_token_refused_with_its_cause);
    tcase_add_test(tc, refusal_names_the_providers_error);
    tcase_add_test(tc, renewed_session_records_the_new_tokens_lifetime);
    tcase_add_test(tc, login_keeps_the_refresh_token);
    tcase_add_test(tc, refresh_sends_grant_with_client_id_and_no_secret);
    tcase_add_test(tc, refresh_refused_by_provider_fails);
    tcase_add_test(tc, refreshed_token_for_another_subject_refused);
    tcase_add_test(tc, refreshed_token_with_bad_signature_refused);
    tcase_add_test(tc, refresh_without_new_refresh_token_keeps_the_old);
    suite_add_tcase(s, tc);
    return s;
}
