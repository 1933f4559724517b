/* auth/olo_provider: what it tells its optional observer (the module's counters) about
 * fetches, and the refetch limit; what logins do with rotated keys is in test_olo_login.c. */
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
    suite_add_tcase(s, tc);
    return s;
}
