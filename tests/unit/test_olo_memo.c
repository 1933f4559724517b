/* olo_memo: the per-process memo of opened session cookies. */
#include <string.h>
#include <apr_strings.h>
#include "olo_test.h"
#include "../../auth/olo_memo.h"

#define SECRET "0123456789abcdef0123456789abcdef"
#define HOUR apr_time_from_sec(3600)

static const olo_seal_key_t *session_key(void)
{
    olo_seal_key_t *key = NULL;
    ck_assert_int_eq(olo_seal_key_derive(&key, olo_test_pool, SECRET, strlen(SECRET),
                                         "session"), APR_SUCCESS);
    return key;
}

static olo_session_t *a_session(const char *user)
{
    olo_session_t *s = apr_pcalloc(olo_test_pool, sizeof(*s));
    s->id = "c2Vzc2lvbi1pZC0xMjM0NTY3";
    s->user = user;
    s->sub = "12345";
    s->groups = "admins,staff";
    s->id_token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NSJ9.c2ln";
    s->token_expires = OLO_TEST_NOW + HOUR;
    s->created = s->last_seen = OLO_TEST_NOW;
    s->expires = OLO_TEST_NOW + 8 * HOUR;
    return s;
}

static olo_memo_t *a_memo(apr_size_t slots)
{
    olo_memo_t *memo = NULL;
    ck_assert_int_eq(olo_memo_create(&memo, olo_test_pool, slots), APR_SUCCESS);
    return memo;
}

START_TEST(test_memo_answers_only_what_was_put)
{
    olo_memo_t *memo = a_memo(16);
    ck_assert_ptr_null(olo_memo_get(memo, olo_test_pool, "sealed-value-1"));
    olo_memo_put(memo, "sealed-value-1", a_session("jdoe@example.com"));
    olo_session_t *got = olo_memo_get(memo, olo_test_pool, "sealed-value-1");
    ck_assert_ptr_nonnull(got);
    ck_assert_str_eq(got->user, "jdoe@example.com");
    ck_assert_str_eq(got->groups, "admins,staff");
    ck_assert_ptr_null(got->email);
    ck_assert(got->expires == OLO_TEST_NOW + 8 * HOUR);
    /* a value differing anywhere, even with the same tail (same slot), is not answered */
    ck_assert_ptr_null(olo_memo_get(memo, olo_test_pool, "Sealed-value-1"));
    ck_assert_ptr_null(olo_memo_get(memo, olo_test_pool, "sealed-value-1x"));
    ck_assert_ptr_null(olo_memo_get(memo, olo_test_pool, "value-1"));
}
END_TEST

START_TEST(test_memo_hands_out_copies)
{
    olo_memo_t *memo = a_memo(16);
    olo_session_t *put = a_session("jdoe@example.com");
    olo_memo_put(memo, "v", put);
    put->user = "changed@example.com";              /* the memo kept its own copy */
    olo_session_t *got = olo_memo_get(memo, olo_test_pool, "v");
    ck_assert_str_eq(got->user, "jdoe@example.com");
    ((char *)got->user)[0] = 'X';                   /* and hands out copies */
    got->expires = 0;
    got = olo_memo_get(memo, olo_test_pool, "v");
    ck_assert_str_eq(got->user, "jdoe@example.com");
    ck_assert(got->expires == OLO_TEST_NOW + 8 * HOUR);
}
END_TEST

START_TEST(test_memo_is_bounded)
{
    olo_memo_t *memo = a_memo(1);                   /* one slot: each put evicts */
    olo_memo_put(memo, "first", a_session("a@example.com"));
    olo_memo_put(memo, "second", a_session("b@example.com"));
    ck_assert_ptr_null(olo_memo_get(memo, olo_test_pool, "first"));
    ck_assert_str_eq(olo_memo_get(memo, olo_test_pool, "second")->user, "b@example.com");
    /* 64 values into 4 slots: at most 4 answered */
    memo = a_memo(3);
    int hits = 0;
    for (int i = 0; i < 64; i++) {
        olo_memo_put(memo, apr_psprintf(olo_test_pool, "value-%02d", i), a_session("c@e"));
    }
    for (int i = 0; i < 64; i++) {
        hits += olo_memo_get(memo, olo_test_pool, apr_psprintf(olo_test_pool, "value-%02d", i))
                != NULL;
    }
    ck_assert_int_ge(hits, 1);
    ck_assert_int_le(hits, 4);
}
END_TEST

START_TEST(test_open_memo_remembers_only_what_opens)
{
    const olo_seal_key_t *key = session_key();
    olo_memo_t *memo = a_memo(16);
    const char *sealed = NULL;
    olo_session_t *s = NULL;
    olo_reason_t reason = OLO_OK;
    ck_assert_int_eq(olo_session_seal(&sealed, olo_test_pool, key, a_session("jdoe@e.com")),
                     APR_SUCCESS);
    ck_assert_ptr_null(olo_memo_get(memo, olo_test_pool, sealed));
    ck_assert_int_eq(olo_session_open_memo(&s, &reason, olo_test_pool, key, memo, sealed,
                                           OLO_TEST_NOW), APR_SUCCESS);
    ck_assert_ptr_nonnull(olo_memo_get(memo, olo_test_pool, sealed));
    ck_assert_int_eq(olo_session_open_memo(&s, &reason, olo_test_pool, key, memo, sealed,
                                           OLO_TEST_NOW + HOUR), APR_SUCCESS);
    ck_assert_str_eq(s->user, "jdoe@e.com");

    /* a tampered value is refused and never remembered */
    char *bad = apr_pstrdup(olo_test_pool, sealed);
    bad[10] = bad[10] == 'A' ? 'B' : 'A';
    ck_assert_int_ne(olo_session_open_memo(&s, &reason, olo_test_pool, key, memo, bad,
                                           OLO_TEST_NOW), APR_SUCCESS);
    ck_assert_int_eq(reason, OLO_R_COOKIE_INVALID);
    ck_assert_ptr_null(olo_memo_get(memo, olo_test_pool, bad));
}
END_TEST

START_TEST(test_open_memo_checks_expiry_on_a_hit)
{
    const olo_seal_key_t *key = session_key();
    olo_memo_t *memo = a_memo(16);
    const char *sealed = NULL;
    olo_session_t *s = NULL;
    olo_reason_t reason = OLO_OK;
    ck_assert_int_eq(olo_session_seal(&sealed, olo_test_pool, key, a_session("jdoe@e.com")),
                     APR_SUCCESS);
    ck_assert_int_eq(olo_session_open_memo(&s, &reason, olo_test_pool, key, memo, sealed,
                                           OLO_TEST_NOW), APR_SUCCESS);
    ck_assert_int_ne(olo_session_open_memo(&s, &reason, olo_test_pool, key, memo, sealed,
                                           OLO_TEST_NOW + 8 * HOUR), APR_SUCCESS);
    ck_assert_int_eq(reason, OLO_R_SESSION_EXPIRED);
    ck_assert_ptr_null(s);
    /* without a memo it is plain opening */
    ck_assert_int_eq(olo_session_open_memo(&s, &reason, olo_test_pool, key, NULL, sealed,
                                           OLO_TEST_NOW), APR_SUCCESS);
}
END_TEST

START_TEST(test_handle_memo_remembers_only_what_opens)
{
    const olo_seal_key_t *key = session_key();
    olo_memo_t *memo = a_memo(16);
    const char *handle = NULL, *id = NULL;
    ck_assert_int_eq(olo_session_handle_seal(&handle, olo_test_pool, key,
                                             "c2Vzc2lvbi1pZC0xMjM0NTY3"), APR_SUCCESS);
    ck_assert_int_eq(olo_session_handle_open_memo(&id, olo_test_pool, key, memo, handle),
                     APR_SUCCESS);
    ck_assert_str_eq(id, "c2Vzc2lvbi1pZC0xMjM0NTY3");
    ck_assert_ptr_nonnull(olo_memo_get(memo, olo_test_pool, handle));
    id = NULL;
    ck_assert_int_eq(olo_session_handle_open_memo(&id, olo_test_pool, key, memo, handle),
                     APR_SUCCESS);
    ck_assert_str_eq(id, "c2Vzc2lvbi1pZC0xMjM0NTY3");
    char *bad = apr_pstrdup(olo_test_pool, handle);
    bad[5] = bad[5] == 'A' ? 'B' : 'A';
    ck_assert_int_ne(olo_session_handle_open_memo(&id, olo_test_pool, key, memo, bad),
                     APR_SUCCESS);
    ck_assert_ptr_null(olo_memo_get(memo, olo_test_pool, bad));
}
END_TEST

Suite *olo_suite_memo(void)
{
    Suite *s = suite_create("memo");
    TCase *tc = tcase_create("memo");
    olo_test_add_pool_fixture(tc);
    tcase_add_test(tc, test_memo_answers_only_what_was_put);
    tcase_add_test(tc, test_memo_hands_out_copies);
    tcase_add_test(tc, test_memo_is_bounded);
    tcase_add_test(tc, test_open_memo_remembers_only_what_opens);
    tcase_add_test(tc, test_open_memo_checks_expiry_on_a_hit);
    tcase_add_test(tc, test_handle_memo_remembers_only_what_opens);
    suite_add_tcase(s, tc);
    return s;
}
