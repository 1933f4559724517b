/* olo_session: the sealed session cookie, opened on every authenticated request. */
#include <string.h>
#include <apr_strings.h>
#include "olo_test.h"
#include "../../auth/olo_session.h"

#define SECRET "0123456789abcdef0123456789abcdef"
#define OTHER_SECRET "fedcba9876543210fedcba9876543210"
#define HOUR apr_time_from_sec(3600)

static const olo_seal_key_t *key_for(const char *secret, const char *purpose)
{
    olo_seal_key_t *key = NULL;

    ck_assert_int_eq(olo_seal_key_derive(&key, olo_test_pool, secret, strlen(secret), purpose),
                     APR_SUCCESS);
    return key;
}

static olo_session_t *full_session(void)
{
    olo_session_t *session = apr_pcalloc(olo_test_pool, sizeof(*session));

    session->id = "c2Vzc2lvbi1pZC0xMjM0";
    session->user = "jdoe@example.com";
    session->sub = "12345";
    session->email = "jdoe@example.com";
    session->name = "J\xc3\xa9r\xc3\xb4me Doe";
    session->groups = "admins,staff";
    session->id_token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NSJ9.c2ln";
    session->refresh_token = "rt-abc";
    session->token_expires = OLO_TEST_NOW + HOUR;
    session->token_issued = OLO_TEST_NOW - 60 * 1000000LL;
    session->created = OLO_TEST_NOW;
    session->expires = OLO_TEST_NOW + 8 * HOUR;
    session->last_seen = OLO_TEST_NOW;
    return session;
}

static const char *seal(const olo_session_t *session)
{
    const char *value = NULL;

    ck_assert_int_eq(olo_session_seal(&value, olo_test_pool, key_for(SECRET, "session"),
                                      session),
                     APR_SUCCESS);
    return value;
}

static const char *seal_raw(const char *aad, const char *plain)
{
    const char *value = NULL;

    ck_assert_int_eq(olo_seal(&value, olo_test_pool, key_for(SECRET, "session"), aad,
                              (const unsigned char *)plain, strlen(plain)),
                     APR_SUCCESS);
    return value;
}

static olo_session_t *open_at(olo_reason_t want, const olo_seal_key_t *key, const char *value,
                              apr_time_t now)
{
    static olo_session_t unchanged;
    olo_session_t *session = &unchanged;
    olo_reason_t reason = OLO_R__COUNT;
    apr_status_t rv = olo_session_open(&session, &reason, olo_test_pool, key, value, now);

    ck_assert_int_eq(reason, want);
    ck_assert_int_eq(rv == APR_SUCCESS, want == OLO_OK);
    if (want != OLO_OK) {
        ck_assert_ptr_null(session);
    }
    return session;
}

static olo_session_t *open_now(olo_reason_t want, const char *value)
{
    return open_at(want, key_for(SECRET, "session"), value, OLO_TEST_NOW + HOUR);
}

START_TEST(test_session_round_trip)
{
    olo_session_t *sent = full_session();
    olo_session_t *got = open_now(OLO_OK, seal(sent));

    ck_assert_str_eq(got->user, sent->user);
    ck_assert_str_eq(got->sub, sent->sub);
    ck_assert_str_eq(got->email, sent->email);
    ck_assert_str_eq(got->name, sent->name);
    ck_assert_str_eq(got->groups, sent->groups);
    ck_assert_str_eq(got->id_token, sent->id_token);
    ck_assert(got->created == sent->created);
    ck_assert(got->expires == sent->expires);
    ck_assert_str_eq(got->id, sent->id);
    ck_assert_str_eq(got->refresh_token, sent->refresh_token);
    ck_assert(got->token_expires == sent->token_expires);
    ck_assert(got->token_issued == sent->token_issued);
    ck_assert(got->last_seen == sent->last_seen);
}
END_TEST

START_TEST(test_session_without_id_is_not_sealed)
{
    olo_session_t *sent = full_session();
    const char *value = NULL;

    sent->id = NULL;
    ck_assert_int_ne(olo_session_seal(&value, olo_test_pool, key_for(SECRET, "session"), sent),
                     APR_SUCCESS);
}
END_TEST

START_TEST(test_session_idle_after_timeout_not_before)
{
    olo_session_t *s = full_session();
    apr_interval_time_t idle = apr_time_from_sec(600);

    ck_assert(!olo_session_is_idle(s, idle, s->last_seen + idle));
    ck_assert(olo_session_is_idle(s, idle, s->last_seen + idle + apr_time_from_sec(1)));
    ck_assert(!olo_session_is_idle(s, 0, s->last_seen + 100 * HOUR));
}
END_TEST

START_TEST(test_session_touch_every_quarter_of_idle)
{
    olo_session_t *s = full_session();
    apr_interval_time_t idle = apr_time_from_sec(600);

    ck_assert(!olo_session_needs_touch(s, idle, s->last_seen + apr_time_from_sec(149)));
    ck_assert(olo_session_needs_touch(s, idle, s->last_seen + apr_time_from_sec(150)));
    /* a tiny idle timeout still waits a second between cookie updates */
    ck_assert(!olo_session_needs_touch(s, apr_time_from_sec(2), s->last_seen + 500000));
}
END_TEST

START_TEST(test_session_round_trip_without_optional_members)
{
    olo_session_t *sent = full_session();
    olo_session_t *got;

    sent->email = sent->name = sent->groups = sent->id_token = NULL;
    got = open_now(OLO_OK, seal(sent));
    ck_assert_str_eq(got->user, sent->user);
    ck_assert_ptr_null(got->email);
    ck_assert_ptr_null(got->name);
    ck_assert_ptr_null(got->groups);
    ck_assert_ptr_null(got->id_token);
}
END_TEST

START_TEST(test_session_valid_one_second_before_expiry)
{
    olo_session_t *sent = full_session();

    open_at(OLO_OK, key_for(SECRET, "session"), seal(sent),
            sent->expires - apr_time_from_sec(1));
}
END_TEST

START_TEST(test_session_expired_at_expiry)
{
    olo_session_t *sent = full_session();

    open_at(OLO_R_SESSION_EXPIRED, key_for(SECRET, "session"), seal(sent), sent->expires);
    open_at(OLO_R_SESSION_EXPIRED, key_for(SECRET, "session"), seal(sent),
            sent->expires + apr_time_from_sec(1));
}
END_TEST

START_TEST(test_session_tampered_cookie_refused)
{
    char *value = apr_pstrdup(olo_test_pool, seal(full_session()));
    apr_size_t mid = strlen(value) / 2;

    value[mid] = (value[mid] == 'A') ? 'B' : 'A';
    open_now(OLO_R_COOKIE_INVALID, value);
}
END_TEST

START_TEST(test_session_other_secret_refused)
{
    open_at(OLO_R_COOKIE_INVALID, key_for(OTHER_SECRET, "session"), seal(full_session()),
            OLO_TEST_NOW + HOUR);
}
END_TEST

START_TEST(test_session_state_cookie_refused)
{
    const char *json = "{\"i\":\"id1\",\"u\":\"jdoe\",\"s\":\"1\",\"c\":1700000000,\"x\":1800000000,"
                       "\"a\":1700000000}";

    /* right key, but sealed for another cookie name */
    open_now(OLO_R_COOKIE_INVALID, seal_raw("olo_state_abcdefghijklmnop", json));
    open_now(OLO_OK, seal_raw(OLO_SESSION_COOKIE, json));
}
END_TEST

START_TEST(test_session_missing_or_garbage_value_refused)
{
    open_now(OLO_R_COOKIE_INVALID, NULL);
    open_now(OLO_R_COOKIE_INVALID, "");
    open_now(OLO_R_COOKIE_INVALID, "not-a-session-cookie");
}
END_TEST

START_TEST(test_session_without_user_or_sub_refused)
{
    open_now(OLO_R_COOKIE_INVALID,
             seal_raw(OLO_SESSION_COOKIE, "{\"s\":\"1\",\"c\":1700000000,\"x\":1800000000}"));
    open_now(OLO_R_COOKIE_INVALID,
             seal_raw(OLO_SESSION_COOKIE, "{\"u\":\"jdoe\",\"c\":1700000000,\"x\":1800000000}"));
    open_now(OLO_R_COOKIE_INVALID, seal_raw(OLO_SESSION_COOKIE,
                                            "{\"u\":\"\",\"s\":\"1\",\"c\":1,\"x\":1800000000}"));
}
END_TEST

START_TEST(test_session_bad_json_refused)
{
    open_now(OLO_R_COOKIE_INVALID, seal_raw(OLO_SESSION_COOKIE, "{\"u\":\"jdoe\""));
    open_now(OLO_R_COOKIE_INVALID, seal_raw(OLO_SESSION_COOKIE, "[\"jdoe\"]"));
    open_now(OLO_R_COOKIE_INVALID, seal_raw(OLO_SESSION_COOKIE,
                                            "{\"u\":\"j\",\"s\":\"1\",\"c\":\"x\",\"x\":1}"));
    open_now(OLO_R_COOKIE_INVALID, seal_raw(OLO_SESSION_COOKIE,
                                            "{\"u\":\"j\",\"s\":\"1\",\"e\":7,\"c\":1,\"x\":1}"));
}
END_TEST

START_TEST(test_session_time_out_of_range_refused)
{
    open_now(OLO_R_COOKIE_INVALID,
             seal_raw(OLO_SESSION_COOKIE,
                      "{\"u\":\"j\",\"s\":\"1\",\"c\":1,\"x\":9223372036854775807}"));
    open_now(OLO_R_COOKIE_INVALID,
             seal_raw(OLO_SESSION_COOKIE, "{\"u\":\"j\",\"s\":\"1\",\"c\":-1,\"x\":1800000000}"));
}
END_TEST

START_TEST(test_session_seal_requires_user_and_sub)
{
    olo_session_t *sent = full_session();
    const char *value = "unchanged";
    const olo_seal_key_t *key = key_for(SECRET, "session");

    sent->user = NULL;
    ck_assert_int_ne(olo_session_seal(&value, olo_test_pool, key, sent), APR_SUCCESS);
    ck_assert_ptr_null(value);
    sent = full_session();
    sent->sub = "";
    ck_assert_int_ne(olo_session_seal(&value, olo_test_pool, key, sent), APR_SUCCESS);
}
END_TEST

START_TEST(test_session_printable_fields_marked_when_opened)
{
    olo_session_t *sent = full_session();
    olo_session_t *got = NULL;
    sent->name = "Eve\x1b[31m";            /* a terminal escape in the name */
    sent->groups = "admins\r\nX-Evil: 1";  /* header splitting in a claim */
    sent->email = NULL;
    got = open_at(OLO_OK, key_for(SECRET, "session"), seal(sent), OLO_TEST_NOW);
    ck_assert_uint_eq(got->printable, OLO_SESSION_PRINTABLE_USER);
    /* clear bits are the default: a session nobody marked forwards nothing */
    olo_session_t blank = {0};
    blank.user = "a@b";
    ck_assert_uint_eq(blank.printable, 0);
    olo_session_mark_printable(&blank);
    ck_assert_uint_eq(blank.printable, OLO_SESSION_PRINTABLE_USER);
}
END_TEST

#define GOOD_ID "c2Vzc2lvbi1pZC0xMjM0NTY3"   /* 24 base64url characters */

START_TEST(test_handle_round_trip)
{
    const olo_seal_key_t *key = key_for(SECRET, "session");
    const char *value = NULL, *id = NULL;

    ck_assert_int_eq(olo_session_handle_seal(&value, olo_test_pool, key, GOOD_ID), APR_SUCCESS);
    ck_assert_ptr_null(strstr(value, GOOD_ID));
    ck_assert_int_eq(olo_session_handle_open(&id, olo_test_pool, key, value), APR_SUCCESS);
    ck_assert_str_eq(id, GOOD_ID);
}
END_TEST

START_TEST(test_handle_and_session_do_not_open_as_each_other)
{
    const olo_seal_key_t *key = key_for(SECRET, "session");
    const char *handle = NULL, *id = NULL;
    olo_session_t *session = NULL;

    ck_assert_int_eq(olo_session_handle_seal(&handle, olo_test_pool, key, GOOD_ID), APR_SUCCESS);
    ck_assert_int_ne(olo_session_open(&session, NULL, olo_test_pool, key, handle, OLO_TEST_NOW),
                     APR_SUCCESS);
    ck_assert_int_ne(olo_session_handle_open(&id, olo_test_pool, key, seal(full_session())),
                     APR_SUCCESS);
    ck_assert_ptr_null(id);
}
END_TEST

START_TEST(test_handle_refused_when_foreign_or_malformed)
{
    const olo_seal_key_t *key = key_for(SECRET, "session");
    const char *handle = NULL, *id = NULL;

    ck_assert_int_eq(olo_session_handle_seal(&handle, olo_test_pool, key_for(OTHER_SECRET,
                                             "session"), GOOD_ID), APR_SUCCESS);
    ck_assert_int_ne(olo_session_handle_open(&id, olo_test_pool, key, handle), APR_SUCCESS);
    /* sealed right, but not an id: too short, or a character a key must not hold */
    ck_assert_int_eq(olo_session_handle_seal(&handle, olo_test_pool, key, "short"), APR_SUCCESS);
    ck_assert_int_ne(olo_session_handle_open(&id, olo_test_pool, key, handle), APR_SUCCESS);
    ck_assert_int_eq(olo_session_handle_seal(&handle, olo_test_pool, key,
                                             "c2Vzc2lvbi1pZC0xMjM0NT:3"), APR_SUCCESS);
    ck_assert_int_ne(olo_session_handle_open(&id, olo_test_pool, key, handle), APR_SUCCESS);
    ck_assert_int_ne(olo_session_handle_open(&id, olo_test_pool, key, NULL), APR_SUCCESS);
    ck_assert_int_ne(olo_session_handle_open(&id, olo_test_pool, key, GOOD_ID), APR_SUCCESS);
    ck_assert_ptr_null(id);
}
END_TEST

START_TEST(test_store_expiry_is_idle_bounded_by_session_end)
{
    olo_session_t *session = full_session();     /* ends 8 hours after OLO_TEST_NOW */

    ck_assert(olo_session_store_expiry(session, HOUR, OLO_TEST_NOW) == OLO_TEST_NOW + HOUR);
    ck_assert(olo_session_store_expiry(session, HOUR, OLO_TEST_NOW + 7 * HOUR + 1)
              == session->expires);
    ck_assert(olo_session_store_expiry(session, 0, OLO_TEST_NOW) == session->expires);
    ck_assert_str_eq(olo_session_store_key(olo_test_pool, GOOD_ID), "ss:" GOOD_ID);
}
END_TEST

START_TEST(test_verdict_sealed_as_never_opens_as_a_session_cookie)
{
    const olo_seal_key_t *key = key_for(SECRET, "session");
    olo_session_t *sent = full_session();
    olo_session_t *got = NULL;
    olo_reason_t reason = OLO_OK;
    const char *verdict = NULL;
    ck_assert_int_eq(olo_session_seal_as(&verdict, olo_test_pool, key, "olo_verdict:d1", sent),
                     APR_SUCCESS);
    open_now(OLO_R_COOKIE_INVALID, verdict);
    ck_assert_int_eq(olo_session_open_as(&got, &reason, olo_test_pool, key, "olo_verdict:d2",
                                         verdict, OLO_TEST_NOW + HOUR), APR_EGENERAL);
    ck_assert_int_eq(olo_session_open_as(&got, &reason, olo_test_pool, key, "olo_verdict:d1",
                                         verdict, OLO_TEST_NOW + HOUR), APR_SUCCESS);
    ck_assert_str_eq(got->user, sent->user);
    /* ...nor a session cookie as a verdict */
    ck_assert_int_eq(olo_session_open_as(&got, &reason, olo_test_pool, key, "olo_verdict:d1",
                                         seal(sent), OLO_TEST_NOW + HOUR), APR_EGENERAL);
}
END_TEST

Suite *olo_suite_session(void)
{
    Suite *s = suite_create("session");
    TCase *tc = tcase_create("session");

    olo_test_add_pool_fixture(tc);
    tcase_add_test(tc, test_session_round_trip);
    tcase_add_test(tc, test_session_without_id_is_not_sealed);
    tcase_add_test(tc, test_session_idle_after_timeout_not_before);
    tcase_add_test(tc, test_session_touch_every_quarter_of_idle);
    tcase_add_test(tc, test_session_round_trip_without_optional_members);
    tcase_add_test(tc, test_session_valid_one_second_before_expiry);
    tcase_add_test(tc, test_session_expired_at_expiry);
    tcase_add_test(tc, test_session_tampered_cookie_refused);
    tcase_add_test(tc, test_session_other_secret_refused);
    tcase_add_test(tc, test_session_state_cookie_refused);
    tcase_add_test(tc, test_session_missing_or_garbage_value_refused);
    tcase_add_test(tc, test_session_without_user_or_sub_refused);
    tcase_add_test(tc, test_session_bad_json_refused);
    tcase_add_test(tc, test_session_time_out_of_range_refused);
    tcase_add_test(tc, test_session_seal_requires_user_and_sub);
    tcase_add_test(tc, test_session_printable_fields_marked_when_opened);
    tcase_add_test(tc, test_handle_round_trip);
    tcase_add_test(tc, test_handle_and_session_do_not_open_as_each_other);
    tcase_add_test(tc, test_handle_refused_when_foreign_or_malformed);
    tcase_add_test(tc, test_store_expiry_is_idle_bounded_by_session_end);
    tcase_add_test(tc, test_verdict_sealed_as_never_opens_as_a_session_cookie);
    suite_add_tcase(s, tc);
    return s;
}
