/* auth/olo_provider: what it tells its optional observer (the module's counters) about
 * fetches; caching and refetch limits themselves are specified in test_olo_login.c. */
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

static apr_status_t jwks_at(fixture_t *f, int refetch, apr_time_t now)
{
    olo_jwks_t *jwks = NULL;
    olo_outcome_t out = {OLO_OK, NULL};
    return olo_provider_jwks(&jwks, &out, olo_test_pool, &f->prov, JWKS_URI, refetch, now);
}

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
    ck_assert_int_eq(jwks_at(f, 0, OLO_TEST_NOW), 0);
    ck_assert_int_eq(jwks_at(f, 0, OLO_TEST_NOW), 0);
    ck_assert_int_eq(told[OLO_PROVIDER_FETCH_JWKS], 1);
    ck_assert_int_eq(told[OLO_PROVIDER_REFETCH_JWKS], 0);
}
END_TEST

START_TEST(refetch_for_unknown_kid_is_told_with_its_fetch)
{
    fixture_t *f = observed();
    ck_assert_int_eq(jwks_at(f, 0, OLO_TEST_NOW - apr_time_from_sec(300)), 0);
    ck_assert_int_eq(jwks_at(f, 1, OLO_TEST_NOW), 0);
    ck_assert_int_eq(told[OLO_PROVIDER_REFETCH_JWKS], 1);
    ck_assert_int_eq(told[OLO_PROVIDER_FETCH_JWKS], 2);
    ck_assert_int_eq(olo_fake_http_count(f->http, JWKS_URI), 2);
}
END_TEST

START_TEST(refetch_refused_by_the_rate_limit_is_not_told)
{
    fixture_t *f = observed();
    ck_assert_int_eq(jwks_at(f, 0, OLO_TEST_NOW), 0);
    ck_assert_int_eq(jwks_at(f, 1, OLO_TEST_NOW + apr_time_from_sec(1)), APR_EAGAIN);
    ck_assert_int_eq(told[OLO_PROVIDER_REFETCH_JWKS], 0);
    ck_assert_int_eq(told[OLO_PROVIDER_FETCH_JWKS], 1);
}
END_TEST

START_TEST(without_observer_nothing_breaks)
{
    fixture_t *f = fixture();
    olo_metadata_t *md = NULL;
    olo_outcome_t out;
    ck_assert_ptr_null(f->prov.notify);
    ck_assert_int_eq(olo_provider_metadata(&md, &out, olo_test_pool, &f->prov, OLO_TEST_NOW), 0);
    ck_assert_int_eq(jwks_at(f, 0, OLO_TEST_NOW - apr_time_from_sec(300)), 0);
    ck_assert_int_eq(jwks_at(f, 1, OLO_TEST_NOW), 0);
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
    tcase_add_test(tc, refetch_for_unknown_kid_is_told_with_its_fetch);
    tcase_add_test(tc, refetch_refused_by_the_rate_limit_is_not_told);
    tcase_add_test(tc, without_observer_nothing_breaks);
    suite_add_tcase(s, tc);
    return s;
}
