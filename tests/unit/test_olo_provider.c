/* auth/olo_provider: what it tells its optional observer (the module's counters) about
 * fetches, the refetch limit, and failures remembered for a few seconds; what logins do with
 * rotated keys is in test_olo_login.c. */
#include <string.h>
#include "olo_test.h"
#include "../../auth/olo_provider.h"

#include "olo_idp.h"

/* The observer has no baton: a test-wide tally, emptied by each test. */
static int told[OLO_PROVIDER_REFETCH_JWKS + 1];

static void tally(olo_provider_event_t event)
{
    told[event]++;
}

static fixture_t *observed(void)
{
    fixture_t *f = fixture();
    memset(told, 0, sizeof(told));
    f->prov.notify = tally;
    return f;
}

static apr_status_t jwks_at(fixture_t *f, olo_jwks_want_t want, apr_time_t now)
{
    olo_jwks_t *jwks = NULL;
    olo_outcome_t out = {OLO_OK, NULL};
    f->cache->clock = now;
    return olo_provider_jwks(&jwks, &out, olo_test_pool, &f->prov, JWKS_URI, want, now);
}

#define CACHED OLO_JWKS_CACHED
#define REFETCH OLO_JWKS_REFETCH
#define LIMITED OLO_JWKS_REFETCH_LIMITED
#define SEC(n) (OLO_TEST_NOW + apr_time_from_sec(n))

START_TEST(discovery_is_told_once_then_cached)
{
    fixture_t *f = observed();
    olo_metadata_t *md = NULL;
    olo_outcome_t out;
    ck_assert_int_eq(olo_provider_metadata(&md, &out, olo_test_pool, &f->prov, OLO_TEST_NOW), 0);
    ck_assert_int_eq(olo_provider_metadata(&md, &out, olo_test_pool, &f->prov, OLO_TEST_NOW), 0);
    ck_assert_int_eq(told[OLO_PROVIDER_FETCH_DISCOVERY], 1);
    ck_assert_int_eq(told[OLO_PROVIDER_FETCH_JWKS], 0);
}
END_TEST

START_TEST(a_failed_fetch_is_told_too)
{
    fixture_t *f = observed();
    olo_metadata_t *md = NULL;
    olo_outcome_t out;
    f->prov.issuer = "https://down.example/oidc/2";     /* the fake transport: refused */
    ck_assert_int_ne(olo_provider_metadata(&md, &out, olo_test_pool, &f->prov, OLO_TEST_NOW), 0);
    ck_assert_int_eq(out.reason, OLO_R_PROVIDER_UNREACHABLE);
    ck_assert_int_eq(told[OLO_PROVIDER_FETCH_DISCOVERY], 1);
}
END_TEST

START_TEST(jwks_is_told_once_then_cached)
{
    fixture_t *f = observed();
    ck_assert_int_eq(jwks_at(f, CACHED, OLO_TEST_NOW), 0);
    ck_assert_int_eq(jwks_at(f, CACHED, OLO_TEST_NOW), 0);
    ck_assert_int_eq(told[OLO_PROVIDER_FETCH_JWKS], 1);
    ck_assert_int_eq(told[OLO_PROVIDER_REFETCH_JWKS], 0);
}
END_TEST

/* A token from the token endpoint names an unknown kid a second after the ordinary fetch: the
 * provider rotated, and is asked again at once, however recent the last fetch. */
START_TEST(refetch_for_the_providers_own_token_is_never_limited)
{
    fixture_t *f = observed();
    ck_assert_int_eq(jwks_at(f, CACHED, OLO_TEST_NOW), 0);
    ck_assert_int_eq(jwks_at(f, REFETCH, SEC(1)), 0);
    ck_assert_int_eq(jwks_at(f, REFETCH, SEC(1)), 0);
    ck_assert_int_eq(told[OLO_PROVIDER_REFETCH_JWKS], 2);
    ck_assert_int_eq(told[OLO_PROVIDER_FETCH_JWKS], 3);
    ck_assert_int_eq(olo_fake_http_count(f->http, JWKS_URI), 3);
    /* ...and a client's token right after may still force one: those did not count */
    ck_assert_int_eq(jwks_at(f, LIMITED, SEC(2)), 0);
    ck_assert_int_eq(olo_fake_http_count(f->http, JWKS_URI), 4);
}
END_TEST

/* The limit counts only the refetches that clients' unknown kids forced, not ordinary fetches:
 * a bearer token with a new kid right after a login's fetch is checked against fresh keys. */
START_TEST(refetch_limit_counts_only_forced_refetches)
{
    fixture_t *f = observed();
    ck_assert_int_eq(jwks_at(f, CACHED, OLO_TEST_NOW), 0);
    ck_assert_int_eq(jwks_at(f, LIMITED, SEC(1)), 0);
    ck_assert_int_eq(jwks_at(f, LIMITED, SEC(2)), APR_EAGAIN);
    ck_assert_int_eq(jwks_at(f, LIMITED, SEC(30)), APR_EAGAIN);
    ck_assert_int_eq(told[OLO_PROVIDER_REFETCH_JWKS], 1);
    ck_assert_int_eq(told[OLO_PROVIDER_FETCH_JWKS], 2);
    /* the interval after the forced one, not after the ordinary fetch */
    ck_assert_int_eq(jwks_at(f, LIMITED, SEC(31)), 0);
    ck_assert_int_eq(olo_fake_http_count(f->http, JWKS_URI), 3);
}
END_TEST

/* The limit lives in the cache, for every child and node; a cache that forgot the marker only
 * allows one more fetch. */
START_TEST(refetch_limit_forgotten_allows_one_more_fetch)
{
    fixture_t *f = observed();
    ck_assert_int_eq(jwks_at(f, LIMITED, OLO_TEST_NOW), 0);
    ck_assert_int_eq(jwks_at(f, LIMITED, SEC(1)), APR_EAGAIN);
    f->cache->entries = apr_hash_make(olo_test_pool);
    ck_assert_int_eq(jwks_at(f, LIMITED, SEC(2)), 0);
    ck_assert_int_eq(jwks_at(f, LIMITED, SEC(3)), APR_EAGAIN);
    ck_assert_int_eq(olo_fake_http_count(f->http, JWKS_URI), 2);
}
END_TEST

START_TEST(without_observer_nothing_breaks)
{
    fixture_t *f = fixture();
    olo_metadata_t *md = NULL;
    olo_outcome_t out;
    ck_assert_ptr_null(f->prov.notify);
    ck_assert_int_eq(olo_provider_metadata(&md, &out, olo_test_pool, &f->prov, OLO_TEST_NOW), 0);
    ck_assert_int_eq(jwks_at(f, CACHED, OLO_TEST_NOW - apr_time_from_sec(300)), 0);
    ck_assert_int_eq(jwks_at(f, REFETCH, OLO_TEST_NOW), 0);
    ck_assert_int_eq(jwks_at(f, LIMITED, OLO_TEST_NOW), 0);
}
END_TEST

/* ------------------------------------------------------------------------------------------
 * Failures remembered for OLO_PROVIDER_MARK_SEC in the shared cache ("pf:" + URL)
 */

#define DOWN_ISSUER "https://down.example/oidc/2"   /* the fake transport: refused */
#define DOWN_DISCOVERY DOWN_ISSUER "/.well-known/openid-configuration"

static int marks_set, refusals;     /* what prov->marked was told */
static apr_time_t fetch_ended;      /* prov->clock: when the fetch ended */
static int pauses;
static fixture_t *other_fixture;    /* whose fetch completes during a pause, when set */

static void on_marked(void *baton, const char *url, const olo_outcome_t *out, int fresh)
{
    (void)baton, (void)url, (void)out;
    fresh ? marks_set++ : refusals++;
}

static apr_time_t fake_clock(void)
{
    return fetch_ended;
}

/* Another request, on another child, fetches the document meanwhile (it does not wait). */
static void fake_pause(apr_interval_time_t interval)
{
    (void)interval;
    if (pauses++ == 0 && other_fixture) {
        olo_provider_t other = other_fixture->prov;
        olo_metadata_t *md = NULL;
        olo_outcome_t out = {OLO_OK, NULL};
        other.fetch_wait = 0;
        other.pause = NULL;
        olo_provider_metadata(&md, &out, olo_test_pool, &other, other_fixture->cache->clock);
    }
}

static fixture_t *remembering(void)
{
    fixture_t *f = observed();
    marks_set = refusals = pauses = 0;
    other_fixture = NULL;
    f->prov.marked = on_marked;
    return f;
}

static apr_status_t metadata_at(fixture_t *f, olo_outcome_t *out, apr_time_t now)
{
    olo_metadata_t *md = NULL;
    f->cache->clock = now;
    *out = (olo_outcome_t){OLO_OK, NULL};
    return olo_provider_metadata(&md, out, olo_test_pool, &f->prov, now);
}

/* A hung or dead provider costs one timeout per mark, not one per request. */
START_TEST(a_failed_discovery_is_remembered_for_a_few_seconds)
{
    fixture_t *f = remembering();
    olo_outcome_t out;
    f->prov.issuer = DOWN_ISSUER;
    ck_assert_int_ne(metadata_at(f, &out, OLO_TEST_NOW), 0);
    ck_assert_int_eq(out.reason, OLO_R_PROVIDER_UNREACHABLE);
    ck_assert_int_eq(metadata_at(f, &out, SEC(OLO_PROVIDER_MARK_SEC - 1)), APR_ECONNREFUSED);
    ck_assert_int_eq(out.reason, OLO_R_PROVIDER_UNREACHABLE);
    ck_assert_ptr_nonnull(strstr(out.detail, DOWN_DISCOVERY));
    ck_assert_int_eq(olo_fake_http_count(f->http, DOWN_DISCOVERY), 1);
    ck_assert_int_eq(marks_set, 1);
    ck_assert_int_eq(refusals, 1);
    /* the mark over: asked again, and remembered again */
    ck_assert_int_ne(metadata_at(f, &out, SEC(OLO_PROVIDER_MARK_SEC)), 0);
    ck_assert_int_eq(olo_fake_http_count(f->http, DOWN_DISCOVERY), 2);
    ck_assert_int_eq(marks_set, 2);
}
END_TEST

START_TEST(a_bad_answer_is_remembered_with_its_reason)
{
    fixture_t *f = remembering();
    olo_outcome_t out;
    olo_fake_http_route(f->http, DISCOVERY, 500, "oops");
    ck_assert_int_eq(metadata_at(f, &out, OLO_TEST_NOW), APR_EINVAL);
    ck_assert_int_eq(out.reason, OLO_R_PROVIDER_BAD_RESPONSE);
    ck_assert_int_eq(metadata_at(f, &out, SEC(1)), APR_EINVAL);
    ck_assert_int_eq(out.reason, OLO_R_PROVIDER_BAD_RESPONSE);
    ck_assert_int_eq(olo_fake_http_count(f->http, DISCOVERY), 1);
    ck_assert_int_eq(refusals, 1);
}
END_TEST

/* The fetch timed out: the mark runs from its end, not from the request's start. */
START_TEST(the_time_a_fetch_took_does_not_use_up_the_mark)
{
    fixture_t *f = remembering();
    olo_outcome_t out;
    f->prov.issuer = DOWN_ISSUER;
    f->prov.clock = fake_clock;
    fetch_ended = SEC(5);
    ck_assert_int_ne(metadata_at(f, &out, OLO_TEST_NOW), 0);
    ck_assert_int_eq(metadata_at(f, &out, SEC(5 + OLO_PROVIDER_MARK_SEC - 1)), APR_ECONNREFUSED);
    ck_assert_int_eq(olo_fake_http_count(f->http, DOWN_DISCOVERY), 1);
}
END_TEST

/* Only a needed fetch is refused: keys still cached serve, whatever failed since. */
START_TEST(a_cached_document_is_served_whatever_failed)
{
    fixture_t *f = remembering();
    ck_assert_int_eq(jwks_at(f, CACHED, OLO_TEST_NOW), 0);
    olo_fake_http_route(f->http, JWKS_URI, 500, "oops");
    ck_assert_int_eq(jwks_at(f, REFETCH, SEC(1)), APR_EINVAL);
    ck_assert_int_eq(marks_set, 1);
    ck_assert_int_eq(jwks_at(f, CACHED, SEC(2)), 0);
    ck_assert_int_eq(jwks_at(f, REFETCH, SEC(2)), APR_EINVAL);
    ck_assert_int_eq(olo_fake_http_count(f->http, JWKS_URI), 2);
}
END_TEST

/* The cache forgot the mark: one more request asks the provider, nothing worse. */
START_TEST(a_forgotten_mark_costs_one_more_fetch)
{
    fixture_t *f = remembering();
    olo_outcome_t out;
    f->prov.issuer = DOWN_ISSUER;
    ck_assert_int_ne(metadata_at(f, &out, OLO_TEST_NOW), 0);
    f->cache->entries = apr_hash_make(olo_test_pool);
    ck_assert_int_ne(metadata_at(f, &out, SEC(1)), 0);
    ck_assert_int_ne(metadata_at(f, &out, SEC(2)), 0);
    ck_assert_int_eq(olo_fake_http_count(f->http, DOWN_DISCOVERY), 2);
}
END_TEST

/* A provider back answers at once after the mark, and leaves nothing remembered. */
START_TEST(a_success_ends_the_mark)
{
    fixture_t *f = remembering();
    olo_outcome_t out;
    olo_fake_http_route(f->http, JWKS_URI, 503, "down");
    ck_assert_int_ne(jwks_at(f, CACHED, OLO_TEST_NOW), 0);
    olo_fake_http_route(f->http, JWKS_URI, 200, jwks_of(key_a));
    ck_assert_int_ne(jwks_at(f, CACHED, SEC(1)), 0);
    ck_assert_int_eq(jwks_at(f, CACHED, SEC(OLO_PROVIDER_MARK_SEC)), 0);
    ck_assert_int_eq(olo_provider_recall(&out, olo_test_pool, &f->prov, JWKS_URI), 0);
    ck_assert_int_eq(jwks_at(f, REFETCH, SEC(OLO_PROVIDER_MARK_SEC)), 0);
    ck_assert_int_eq(olo_fake_http_count(f->http, JWKS_URI), 3);
}
END_TEST

/* Another request is fetching: this one waits for its document instead of asking too. */
START_TEST(one_request_fetches_while_the_others_wait)
{
    fixture_t *f = remembering();
    olo_outcome_t out;
    f->cache->clock = OLO_TEST_NOW;
    f->cache->cache.claim(f->cache, olo_test_pool, "pf:" DISCOVERY, SEC(60));
    other_fixture = f;
    f->prov.fetch_wait = apr_time_from_sec(6);
    f->prov.pause = fake_pause;
    ck_assert_int_eq(metadata_at(f, &out, OLO_TEST_NOW), 0);
    ck_assert_int_eq(olo_fake_http_count(f->http, DISCOVERY), 1);
    ck_assert_int_eq(pauses, 1);
}
END_TEST

START_TEST(the_failure_of_the_fetch_waited_for_is_shared)
{
    fixture_t *f = remembering();
    olo_outcome_t out;
    f->prov.issuer = DOWN_ISSUER;
    f->cache->clock = OLO_TEST_NOW;
    f->cache->cache.claim(f->cache, olo_test_pool, "pf:" DOWN_DISCOVERY, SEC(60));
    other_fixture = f;
    f->prov.fetch_wait = apr_time_from_sec(6);
    f->prov.pause = fake_pause;
    ck_assert_int_eq(metadata_at(f, &out, OLO_TEST_NOW), APR_ECONNREFUSED);
    ck_assert_int_eq(out.reason, OLO_R_PROVIDER_UNREACHABLE);
    ck_assert_int_eq(olo_fake_http_count(f->http, DOWN_DISCOVERY), 1);
    ck_assert_int_eq(marks_set, 1);
}
END_TEST

/* The fetcher never reports (its child died): the wait is bounded, then this one asks. */
START_TEST(a_waiter_asks_itself_after_fetch_wait)
{
    fixture_t *f = remembering();
    olo_outcome_t out;
    f->cache->clock = OLO_TEST_NOW;
    f->cache->cache.claim(f->cache, olo_test_pool, "pf:" DISCOVERY, SEC(60));
    f->prov.fetch_wait = apr_time_from_sec(1);
    f->prov.pause = fake_pause;
    ck_assert_int_eq(metadata_at(f, &out, OLO_TEST_NOW), 0);
    ck_assert_int_eq(olo_fake_http_count(f->http, DISCOVERY), 1);
    ck_assert_int_eq(pauses, 10);
}
END_TEST

/* The token endpoint: a failure to reach it is remembered; an error status, which may concern
 * one code, is not. */
START_TEST(an_unreachable_token_endpoint_is_remembered)
{
    fixture_t *f = remembering();
    olo_metadata_t *md = NULL;
    olo_tokens_t *tokens = NULL;
    olo_outcome_t out = {OLO_OK, NULL};
    ck_assert_int_eq(olo_provider_metadata(&md, &out, olo_test_pool, &f->prov, OLO_TEST_NOW), 0);
    for (int i = 0; i < 2; i++) {
        ck_assert_int_ne(olo_callback_post_token(&tokens, &out, olo_test_pool, &f->prov, md,
                                                 &f->client, "grant_type=x", OLO_TEST_NOW), 0);
        ck_assert_int_eq(out.reason, OLO_R_PROVIDER_UNREACHABLE);
    }
    ck_assert_int_eq(olo_fake_http_count(f->http, TOKEN_URI), 1);
    ck_assert_int_eq(marks_set, 1);

    f->cache->entries = apr_hash_make(olo_test_pool);
    olo_fake_http_route(f->http, TOKEN_URI, 500, "oops");
    for (int i = 0; i < 2; i++) {
        ck_assert_int_ne(olo_callback_post_token(&tokens, &out, olo_test_pool, &f->prov, md,
                                                 &f->client, "grant_type=x", OLO_TEST_NOW), 0);
        ck_assert_int_eq(out.reason, OLO_R_PROVIDER_BAD_RESPONSE);
    }
    ck_assert_int_eq(olo_fake_http_count(f->http, TOKEN_URI), 3);
}
END_TEST

/* Login start with cached metadata: refused only when the provider could not be reached
 * moments ago at an endpoint the login needs. */
START_TEST(a_login_is_not_sent_to_a_provider_unreachable_moments_ago)
{
    fixture_t *f = remembering();
    olo_metadata_t *md = NULL;
    olo_outcome_t out = {OLO_OK, NULL};
    ck_assert_int_eq(olo_provider_metadata(&md, &out, olo_test_pool, &f->prov, OLO_TEST_NOW), 0);
    ck_assert_int_eq(olo_provider_check_reachable(&out, olo_test_pool, &f->prov, md), 0);
    olo_outcome_t bad = {OLO_R_PROVIDER_BAD_RESPONSE, "HTTP 500"};
    olo_provider_remember(&f->prov, olo_test_pool, JWKS_URI, &bad, OLO_TEST_NOW);
    ck_assert_int_eq(olo_provider_check_reachable(&out, olo_test_pool, &f->prov, md), 0);
    olo_outcome_t down = {OLO_R_PROVIDER_UNREACHABLE, "timed out"};
    olo_provider_remember(&f->prov, olo_test_pool, TOKEN_URI, &down, OLO_TEST_NOW);
    ck_assert_int_eq(olo_provider_check_reachable(&out, olo_test_pool, &f->prov, md),
                     APR_ECONNREFUSED);
    ck_assert_int_eq(out.reason, OLO_R_PROVIDER_UNREACHABLE);
    ck_assert_int_eq(marks_set, 2);
    /* the cache's own failures and the tokens' are never remembered */
    olo_outcome_t cache = {OLO_R_CACHE_UNAVAILABLE, "down"};
    olo_provider_remember(&f->prov, olo_test_pool, DISCOVERY, &cache, OLO_TEST_NOW);
    ck_assert_int_eq(olo_provider_recall(&out, olo_test_pool, &f->prov, DISCOVERY), 0);
    ck_assert_int_eq(marks_set, 2);
}
END_TEST

Suite *olo_suite_provider(void)
{
    Suite *s = suite_create("olo_provider");
    TCase *tc = tcase_create("provider");

    tcase_add_unchecked_fixture(tc, olo_idp_keys_setup, olo_idp_keys_teardown);
    olo_test_add_pool_fixture(tc);
    tcase_add_test(tc, discovery_is_told_once_then_cached);
    tcase_add_test(tc, a_failed_fetch_is_told_too);
    tcase_add_test(tc, jwks_is_told_once_then_cached);
    tcase_add_test(tc, refetch_for_the_providers_own_token_is_never_limited);
    tcase_add_test(tc, refetch_limit_counts_only_forced_refetches);
    tcase_add_test(tc, refetch_limit_forgotten_allows_one_more_fetch);
    tcase_add_test(tc, without_observer_nothing_breaks);
    tcase_add_test(tc, a_failed_discovery_is_remembered_for_a_few_seconds);
    tcase_add_test(tc, a_bad_answer_is_remembered_with_its_reason);
    tcase_add_test(tc, the_time_a_fetch_took_does_not_use_up_the_mark);
    tcase_add_test(tc, a_cached_document_is_served_whatever_failed);
    tcase_add_test(tc, a_forgotten_mark_costs_one_more_fetch);
    tcase_add_test(tc, a_success_ends_the_mark);
    tcase_add_test(tc, one_request_fetches_while_the_others_wait);
    tcase_add_test(tc, the_failure_of_the_fetch_waited_for_is_shared);
    tcase_add_test(tc, a_waiter_asks_itself_after_fetch_wait);
    tcase_add_test(tc, an_unreachable_token_endpoint_is_remembered);
    tcase_add_test(tc, a_login_is_not_sent_to_a_provider_unreachable_moments_ago);
    suite_add_tcase(s, tc);
    return s;
}
