/* olo_state: pending logins sealed in a cookie named after their state. */
#include <stdio.h>
#include <string.h>
#include <apr_strings.h>
#include "olo_test.h"
#include "../../auth/olo_state.h"
#include "../../auth/olo_pkce.h"

#define SECRET "0123456789abcdef0123456789abcdef"
#define OTHER_SECRET "fedcba9876543210fedcba9876543210"

static const olo_seal_key_t *key_for(const char *secret, const char *purpose)
{
    olo_seal_key_t *key = NULL;

    ck_assert_int_eq(olo_seal_key_derive(&key, olo_test_pool, secret, strlen(secret), purpose),
                     APR_SUCCESS);
    return key;
}

static olo_pending_t *new_pending(const char *target)
{
    olo_pending_t *pending = NULL;

    ck_assert_int_eq(olo_state_new(&pending, olo_test_pool, olo_test_rand, target, OLO_TEST_NOW),
                     APR_SUCCESS);
    return pending;
}

static const char *seal(const olo_pending_t *pending)
{
    const char *value = NULL;

    ck_assert_int_eq(olo_state_seal(&value, olo_test_pool, key_for(SECRET, "state"), pending),
                     APR_SUCCESS);
    return value;
}

/* Opens value for state at now; checks the outcome and returns the pending login. */
static olo_pending_t *open_at(olo_reason_t want, const olo_seal_key_t *key, const char *state,
                              const char *value, apr_time_t now)
{
    static olo_pending_t unchanged;
    olo_pending_t *pending = &unchanged;
    olo_reason_t reason = OLO_R__COUNT;
    apr_status_t rv = olo_state_open(&pending, &reason, olo_test_pool, key, state, value, now);

    ck_assert_int_eq(reason, want);
    ck_assert_int_eq(rv == APR_SUCCESS, want == OLO_OK);
    if (want != OLO_OK) {
        ck_assert_ptr_null(pending);
    }
    return pending;
}

static olo_pending_t *open_now(olo_reason_t want, const char *state, const char *value)
{
    return open_at(want, key_for(SECRET, "state"), state, value, OLO_TEST_NOW);
}

START_TEST(test_state_new_makes_fresh_secrets)
{
    olo_pending_t *a = new_pending("/app");
    olo_pending_t *b = new_pending("/app");

    ck_assert_uint_eq(strlen(a->state), 32);
    ck_assert_uint_eq(strlen(a->nonce), 32);
    ck_assert_uint_eq(strlen(a->verifier), 43);
    ck_assert(olo_state_is_well_formed(a->state));
    ck_assert_str_ne(a->state, a->nonce);
    ck_assert_str_ne(a->state, b->state);
    ck_assert_str_ne(a->verifier, b->verifier);
    ck_assert_str_eq(a->target, "/app");
    ck_assert(a->created == OLO_TEST_NOW);
}
END_TEST

START_TEST(test_state_new_fails_with_source)
{
    static olo_pending_t unchanged;
    olo_pending_t *pending = &unchanged;

    ck_assert_int_ne(olo_state_new(&pending, olo_test_pool, olo_test_rand_fail, "/",
                                   OLO_TEST_NOW),
                     APR_SUCCESS);
    ck_assert_ptr_null(pending);
}
END_TEST

START_TEST(test_state_new_refuses_foreign_target)
{
    ck_assert_str_eq(new_pending("https://evil.example/")->target, "/");
    ck_assert_str_eq(new_pending(NULL)->target, "/");
}
END_TEST

START_TEST(test_state_well_formed)
{
    ck_assert(olo_state_is_well_formed("abcdefghijklmnop"));
    ck_assert(olo_state_is_well_formed("ABCDEFGHIJKLMNOPQRSTUVWXYZab-_01"));
    ck_assert(!olo_state_is_well_formed("abcdefghijklmno"));      /* 15 */
    ck_assert(!olo_state_is_well_formed(apr_pstrcat(olo_test_pool, "abcdefghijklmnop",
                                                    "abcdefghijklmnopabcdefghijklmnop",
                                                    "abcdefghijklmnopa", NULL))); /* 65 */
    ck_assert(!olo_state_is_well_formed("abcdefghijklmno+"));
    ck_assert(!olo_state_is_well_formed("abcdefghij;lmnop"));
    ck_assert(!olo_state_is_well_formed(""));
    ck_assert(!olo_state_is_well_formed(NULL));
}
END_TEST

START_TEST(test_state_cookie_name)
{
    ck_assert_str_eq(olo_state_cookie_name(olo_test_pool, "abc"), "olo_state_abc");
}
END_TEST

START_TEST(test_state_round_trip)
{
    olo_pending_t *sent = new_pending("/app/page?x=1");
    olo_pending_t *got = open_now(OLO_OK, sent->state, seal(sent));

    ck_assert_str_eq(got->state, sent->state);
    ck_assert_str_eq(got->nonce, sent->nonce);
    ck_assert_str_eq(got->verifier, sent->verifier);
    ck_assert_str_eq(got->target, "/app/page?x=1");
    ck_assert(got->created == OLO_TEST_NOW);
}
END_TEST

START_TEST(test_state_tampered_cookie_refused)
{
    olo_pending_t *sent = new_pending("/");
    char *value = apr_pstrdup(olo_test_pool, seal(sent));
    apr_size_t mid = strlen(value) / 2;

    value[mid] = (value[mid] == 'A') ? 'B' : 'A';
    open_now(OLO_R_STATE_UNKNOWN, sent->state, value);
}
END_TEST

START_TEST(test_state_cookie_of_another_state_refused)
{
    olo_pending_t *a = new_pending("/");
    olo_pending_t *b = new_pending("/");

    /* a's cookie value presented under b's state: the cookie name is sealed in */
    open_now(OLO_R_STATE_UNKNOWN, b->state, seal(a));
}
END_TEST

START_TEST(test_state_other_secret_refused)
{
    olo_pending_t *sent = new_pending("/");

    open_at(OLO_R_STATE_UNKNOWN, key_for(OTHER_SECRET, "state"), sent->state, seal(sent),
            OLO_TEST_NOW);
}
END_TEST

START_TEST(test_state_session_key_refused)
{
    olo_pending_t *sent = new_pending("/");

    open_at(OLO_R_STATE_UNKNOWN, key_for(SECRET, "session"), sent->state, seal(sent),
            OLO_TEST_NOW);
}
END_TEST

START_TEST(test_state_missing_or_garbage_value_refused)
{
    olo_pending_t *sent = new_pending("/");

    open_now(OLO_R_STATE_UNKNOWN, sent->state, NULL);
    open_now(OLO_R_STATE_UNKNOWN, sent->state, "");
    open_now(OLO_R_STATE_UNKNOWN, sent->state, "not+base64url");
}
END_TEST

START_TEST(test_state_malformed_state_refused)
{
    olo_pending_t *sent = new_pending("/");

    open_now(OLO_R_STATE_UNKNOWN, "short", seal(sent));
    open_now(OLO_R_STATE_UNKNOWN, NULL, seal(sent));
}
END_TEST

START_TEST(test_state_valid_one_second_before_ttl)
{
    olo_pending_t *sent = new_pending("/");

    open_at(OLO_OK, key_for(SECRET, "state"), sent->state, seal(sent),
            OLO_TEST_NOW + apr_time_from_sec(OLO_STATE_TTL_SEC - 1));
}
END_TEST

START_TEST(test_state_expired_at_ttl)
{
    olo_pending_t *sent = new_pending("/");

    open_at(OLO_R_STATE_EXPIRED, key_for(SECRET, "state"), sent->state, seal(sent),
            OLO_TEST_NOW + apr_time_from_sec(OLO_STATE_TTL_SEC));
}
END_TEST

START_TEST(test_state_expired_by_one_second)
{
    olo_pending_t *sent = new_pending("/");

    open_at(OLO_R_STATE_EXPIRED, key_for(SECRET, "state"), sent->state, seal(sent),
            OLO_TEST_NOW + apr_time_from_sec(OLO_STATE_TTL_SEC + 1));
}
END_TEST

START_TEST(test_state_from_the_future_refused)
{
    olo_pending_t *sent = new_pending("/");

    open_at(OLO_OK, key_for(SECRET, "state"), sent->state, seal(sent),
            OLO_TEST_NOW - apr_time_from_sec(60));
    open_at(OLO_R_STATE_UNKNOWN, key_for(SECRET, "state"), sent->state, seal(sent),
            OLO_TEST_NOW - apr_time_from_sec(61));
}
END_TEST

START_TEST(test_state_foreign_target_replaced_on_open)
{
    olo_pending_t *sent = new_pending("/");

    /* a cookie sealed by an older or buggy writer still cannot redirect elsewhere */
    sent->target = "//evil.example";
    ck_assert_str_eq(open_now(OLO_OK, sent->state, seal(sent))->target, "/");
}
END_TEST

START_TEST(test_state_seal_refuses_incomplete)
{
    olo_pending_t *sent = new_pending("/");
    const char *value = "unchanged";
    const olo_seal_key_t *key = key_for(SECRET, "state");

    sent->verifier = NULL;
    ck_assert_int_ne(olo_state_seal(&value, olo_test_pool, key, sent), APR_SUCCESS);
    ck_assert_ptr_null(value);
    sent->state = "bad state";
    ck_assert_int_ne(olo_state_seal(&value, olo_test_pool, key, sent), APR_SUCCESS);
}
END_TEST

START_TEST(test_state_sealed_wrong_shape_refused)
{
    olo_pending_t *sent = new_pending("/");
    const char *name = olo_state_cookie_name(olo_test_pool, sent->state);
    const char *json = apr_psprintf(olo_test_pool, "{\"s\":\"%s\",\"n\":\"x\",\"t\":\"/\","
                                    "\"c\":1700000000}", sent->state);   /* no "v" */
    const char *value = NULL;

    ck_assert_int_eq(olo_seal(&value, olo_test_pool, key_for(SECRET, "state"), name,
                              (const unsigned char *)json, strlen(json)),
                     APR_SUCCESS);
    open_now(OLO_R_STATE_UNKNOWN, sent->state, value);
    ck_assert_int_eq(olo_seal(&value, olo_test_pool, key_for(SECRET, "state"), name,
                              (const unsigned char *)"[1", 2),
                     APR_SUCCESS);
    open_now(OLO_R_STATE_UNKNOWN, sent->state, value);
}
END_TEST


/* A Cookie header holding the pending logins created at the given second offsets. */
static const char *header_with(apr_array_header_t *names, const int *ages, int n)
{
    const char *header = "app=1";
    for (int i = 0; i < n; i++) {
        olo_pending_t *pending = NULL;
        ck_assert_int_eq(olo_state_new(&pending, olo_test_pool, olo_test_rand, "/",
                                       OLO_TEST_NOW - apr_time_from_sec(ages[i])), APR_SUCCESS);
        const char *name = olo_state_cookie_name(olo_test_pool, pending->state);
        APR_ARRAY_PUSH(names, const char *) = name;
        header = apr_pstrcat(olo_test_pool, header, "; ", name, "=", seal(pending), NULL);
    }
    return header;
}

static int contains(apr_array_header_t *list, const char *name)
{
    for (int i = 0; i < list->nelts; i++) {
        if (!strcmp(APR_ARRAY_IDX(list, i, const char *), name)) {
            return 1;
        }
    }
    return 0;
}

START_TEST(test_state_stale_drops_oldest_beyond_keep)
{
    apr_array_header_t *names = apr_array_make(olo_test_pool, 4, sizeof(const char *));
    const int ages[] = {30, 90, 10, 60};
    const char *header = header_with(names, ages, 4);
    apr_array_header_t *stale = olo_state_stale(olo_test_pool, key_for(SECRET, "state"), header, 2,
                                                OLO_TEST_NOW);
    ck_assert_int_eq(stale->nelts, 2);
    ck_assert(contains(stale, APR_ARRAY_IDX(names, 1, const char *)));   /* 90 s old */
    ck_assert(contains(stale, APR_ARRAY_IDX(names, 3, const char *)));   /* 60 s old */
}
END_TEST

START_TEST(test_state_stale_drops_expired_and_garbage)
{
    apr_array_header_t *names = apr_array_make(olo_test_pool, 4, sizeof(const char *));
    const int ages[] = {OLO_STATE_TTL_SEC + 1, 5};
    const char *header = apr_pstrcat(olo_test_pool, header_with(names, ages, 2),
                                     "; olo_state_garbage=xyz", NULL);
    apr_array_header_t *stale = olo_state_stale(olo_test_pool, key_for(SECRET, "state"), header,
                                                OLO_STATE_MAX_PENDING, OLO_TEST_NOW);
    ck_assert_int_eq(stale->nelts, 2);
    ck_assert(contains(stale, APR_ARRAY_IDX(names, 0, const char *)));
    ck_assert(contains(stale, "olo_state_garbage"));
}
END_TEST

START_TEST(test_state_stale_none_when_within_cap)
{
    apr_array_header_t *names = apr_array_make(olo_test_pool, 4, sizeof(const char *));
    const int ages[] = {1, 2};
    apr_array_header_t *stale = olo_state_stale(olo_test_pool, key_for(SECRET, "state"),
                                                header_with(names, ages, 2), 7, OLO_TEST_NOW);
    ck_assert_int_eq(stale->nelts, 0);
    ck_assert_int_eq(olo_state_stale(olo_test_pool, key_for(SECRET, "state"), NULL, 7,
                                     OLO_TEST_NOW)->nelts, 0);
}
END_TEST

START_TEST(test_state_stale_dropped_names_the_valid_ones_dropped_for_the_cap)
{
    apr_array_header_t *names = apr_array_make(olo_test_pool, 4, sizeof(const char *));
    const int ages[] = {30, 90, OLO_STATE_TTL_SEC + 1, 60};
    apr_array_header_t *dropped = NULL;
    apr_array_header_t *stale = olo_state_stale_dropped(&dropped, olo_test_pool,
                                                        key_for(SECRET, "state"),
                                                        header_with(names, ages, 4), 1,
                                                        OLO_TEST_NOW);
    ck_assert_int_eq(stale->nelts, 3);
    /* the expired one is stale, not dropped: its callback is "expired" anyway */
    ck_assert_int_eq(dropped->nelts, 2);
    ck_assert_str_eq(olo_state_cookie_name(olo_test_pool,
                                           APR_ARRAY_IDX(dropped, 0, olo_pending_t *)->state),
                     APR_ARRAY_IDX(names, 1, const char *));   /* oldest first */
    ck_assert_str_eq(olo_state_cookie_name(olo_test_pool,
                                           APR_ARRAY_IDX(dropped, 1, olo_pending_t *)->state),
                     APR_ARRAY_IDX(names, 3, const char *));
}
END_TEST

/* The dropped-logins cookie after dropping pendings (oldest first) onto current. */
static const char *dropped_add(const char *current, olo_pending_t **pendings, int n,
                               apr_time_t now)
{
    apr_array_header_t *dropped = apr_array_make(olo_test_pool, n, sizeof(olo_pending_t *));
    const char *value = NULL;
    for (int i = 0; i < n; i++) {
        APR_ARRAY_PUSH(dropped, olo_pending_t *) = pendings[i];
    }
    ck_assert_int_eq(olo_state_dropped_add(&value, olo_test_pool, key_for(SECRET, "state"),
                                           current, dropped, now), APR_SUCCESS);
    ck_assert_ptr_nonnull(value);
    return value;
}

static const char *dropped_find(const olo_seal_key_t *key, const char *value, const char *state,
                                apr_time_t now)
{
    const char *target = "unchanged";
    apr_status_t rv = olo_state_dropped_find(&target, olo_test_pool, key, value, state, now);
    ck_assert_int_eq(rv == APR_SUCCESS, target != NULL);
    return target;
}

START_TEST(test_state_dropped_remembers_target_until_the_ttl)
{
    olo_pending_t *a = new_pending("/reports?id=7"), *b = new_pending("/");
    const olo_seal_key_t *key = key_for(SECRET, "state");
    const char *value = dropped_add(NULL, &a, 1, OLO_TEST_NOW);
    ck_assert_str_eq(dropped_find(key, value, a->state, OLO_TEST_NOW), "/reports?id=7");
    ck_assert_ptr_null(dropped_find(key, value, b->state, OLO_TEST_NOW));
    ck_assert_str_eq(dropped_find(key, value, a->state,
                                  OLO_TEST_NOW + apr_time_from_sec(OLO_STATE_TTL_SEC - 1)),
                     "/reports?id=7");
    ck_assert_ptr_null(dropped_find(key, value, a->state,
                                    OLO_TEST_NOW + apr_time_from_sec(OLO_STATE_TTL_SEC)));
    /* a second drop keeps the first */
    value = dropped_add(value, &b, 1, OLO_TEST_NOW);
    ck_assert_str_eq(dropped_find(key, value, a->state, OLO_TEST_NOW), "/reports?id=7");
    ck_assert_str_eq(dropped_find(key, value, b->state, OLO_TEST_NOW), "/");
}
END_TEST

START_TEST(test_state_dropped_forged_or_foreign_names_nothing)
{
    olo_pending_t *a = new_pending("/x");
    const char *value = dropped_add(NULL, &a, 1, OLO_TEST_NOW);
    char *tampered = apr_pstrdup(olo_test_pool, value);
    tampered[strlen(tampered) / 2] ^= 1;
    ck_assert_ptr_null(dropped_find(key_for(SECRET, "state"), tampered, a->state, OLO_TEST_NOW));
    ck_assert_ptr_null(dropped_find(key_for(OTHER_SECRET, "state"), value, a->state,
                                    OLO_TEST_NOW));
    ck_assert_ptr_null(dropped_find(key_for(SECRET, "session"), value, a->state, OLO_TEST_NOW));
    ck_assert_ptr_null(dropped_find(key_for(SECRET, "state"), NULL, a->state, OLO_TEST_NOW));
    ck_assert_ptr_null(dropped_find(key_for(SECRET, "state"), "", a->state, OLO_TEST_NOW));
    /* a state cookie's value is not a dropped list: the cookie name is the sealed AAD */
    ck_assert_ptr_null(dropped_find(key_for(SECRET, "state"), seal(a), a->state, OLO_TEST_NOW));
}
END_TEST

START_TEST(test_state_dropped_target_leaves_only_as_a_local_path)
{
    olo_pending_t *a = new_pending("/");
    a->target = "https://evil.example/";    /* as if a pending login had carried it */
    const char *value = dropped_add(NULL, &a, 1, OLO_TEST_NOW);
    ck_assert_str_eq(dropped_find(key_for(SECRET, "state"), value, a->state, OLO_TEST_NOW), "/");
}
END_TEST

START_TEST(test_state_dropped_keeps_the_newest_within_cap_and_budget)
{
    const olo_seal_key_t *key = key_for(SECRET, "state");
    olo_pending_t *p[OLO_STATE_MAX_PENDING + 2];
    for (int i = 0; i < OLO_STATE_MAX_PENDING + 2; i++) {
        p[i] = new_pending("/");
    }
    const char *value = dropped_add(NULL, p, OLO_STATE_MAX_PENDING + 2, OLO_TEST_NOW);
    ck_assert_ptr_null(dropped_find(key, value, p[0]->state, OLO_TEST_NOW));
    ck_assert_ptr_null(dropped_find(key, value, p[1]->state, OLO_TEST_NOW));
    for (int i = 2; i < OLO_STATE_MAX_PENDING + 2; i++) {
        ck_assert_str_eq(dropped_find(key, value, p[i]->state, OLO_TEST_NOW), "/");
    }
    /* a long target pushes the oldest out; one beyond the budget alone is not remembered */
    olo_pending_t *wide = new_pending("/");
    wide->target = apr_pstrcat(olo_test_pool, "/", apr_psprintf(olo_test_pool, "%0600d", 0),
                               NULL);
    value = dropped_add(value, &wide, 1, OLO_TEST_NOW);
    ck_assert_ptr_nonnull(dropped_find(key, value, wide->state, OLO_TEST_NOW));
    ck_assert_ptr_null(dropped_find(key, value, p[2]->state, OLO_TEST_NOW));
    ck_assert_ptr_nonnull(dropped_find(key, value, p[OLO_STATE_MAX_PENDING + 1]->state,
                                       OLO_TEST_NOW));
    wide->target = apr_psprintf(olo_test_pool, "/%02000d", 0);
    apr_array_header_t *one = apr_array_make(olo_test_pool, 1, sizeof(olo_pending_t *));
    APR_ARRAY_PUSH(one, olo_pending_t *) = wide;
    const char *none = "unchanged";
    ck_assert_int_eq(olo_state_dropped_add(&none, olo_test_pool, key, NULL, one, OLO_TEST_NOW),
                     APR_NOTFOUND);
    ck_assert_ptr_null(none);
}
END_TEST

START_TEST(test_state_dropped_reason_names_the_cap)
{
    char cap[32];
    snprintf(cap, sizeof(cap), "oldest of %d", OLO_STATE_MAX_PENDING);
    ck_assert_ptr_nonnull(strstr(olo_reason_text(OLO_R_STATE_DROPPED), cap));
    ck_assert_str_eq(olo_reason_name(OLO_R_STATE_DROPPED), "state-dropped");
    ck_assert_str_eq(olo_reason_name(OLO_R_CLOCK_SKEW), "clock-skew");
    ck_assert_ptr_null(strstr(olo_reason_text(OLO_R_CLOCK_SKEW), "sign in again"));
}
END_TEST

Suite *olo_suite_state(void)
{
    Suite *s = suite_create("state");
    TCase *make = tcase_create("new");
    TCase *cookie = tcase_create("cookie");

    olo_test_add_pool_fixture(make);
    tcase_add_test(make, test_state_new_makes_fresh_secrets);
    tcase_add_test(make, test_state_new_fails_with_source);
    tcase_add_test(make, test_state_new_refuses_foreign_target);
    tcase_add_test(make, test_state_well_formed);
    tcase_add_test(make, test_state_cookie_name);
    suite_add_tcase(s, make);

    olo_test_add_pool_fixture(cookie);
    tcase_add_test(cookie, test_state_round_trip);
    tcase_add_test(cookie, test_state_tampered_cookie_refused);
    tcase_add_test(cookie, test_state_cookie_of_another_state_refused);
    tcase_add_test(cookie, test_state_other_secret_refused);
    tcase_add_test(cookie, test_state_session_key_refused);
    tcase_add_test(cookie, test_state_missing_or_garbage_value_refused);
    tcase_add_test(cookie, test_state_malformed_state_refused);
    tcase_add_test(cookie, test_state_valid_one_second_before_ttl);
    tcase_add_test(cookie, test_state_expired_at_ttl);
    tcase_add_test(cookie, test_state_expired_by_one_second);
    tcase_add_test(cookie, test_state_from_the_future_refused);
    tcase_add_test(cookie, test_state_foreign_target_replaced_on_open);
    tcase_add_test(cookie, test_state_seal_refuses_incomplete);
    tcase_add_test(cookie, test_state_sealed_wrong_shape_refused);
    tcase_add_test(cookie, test_state_stale_drops_oldest_beyond_keep);
    tcase_add_test(cookie, test_state_stale_drops_expired_and_garbage);
    tcase_add_test(cookie, test_state_stale_none_when_within_cap);
    tcase_add_test(cookie, test_state_stale_dropped_names_the_valid_ones_dropped_for_the_cap);
    tcase_add_test(cookie, test_state_dropped_remembers_target_until_the_ttl);
    tcase_add_test(cookie, test_state_dropped_reason_names_the_cap);
    tcase_add_test(cookie, test_state_dropped_forged_or_foreign_names_nothing);
    tcase_add_test(cookie, test_state_dropped_target_leaves_only_as_a_local_path);
    tcase_add_test(cookie, test_state_dropped_keeps_the_newest_within_cap_and_budget);
    suite_add_tcase(s, cookie);
    return s;
}
