/* jwt/olo_claims: one test per ID token rule (OIDC Core 3.1.3.7), against a fixed clock. */
#include <string.h>
#include <apr_strings.h>
#include "olo_test.h"
#include "../../jwt/olo_claims.h"

#define ISS    "https://example.onelogin.com/oidc/2"
#define CLIENT "client-123"
#define NOW_S  ((json_int_t)apr_time_sec(OLO_TEST_NOW))
#define SKEW_S 60

static const olo_expect_t want = {
    .issuer = ISS,
    .client_id = CLIENT,
    .nonce = "n-0S6_WzA2Mj",
    .skew = apr_time_from_sec(SKEW_S),
    .max_age = apr_time_from_sec(3600),
};

static apr_status_t claims_free(void *json)
{
    json_decref(json);
    return APR_SUCCESS;
}

/* A bot token as OpenMetadata mints them: its own iss, no aud, maybe no exp. */
static olo_reason_t check_bearer(const char *text, const char *issuer, const char *audience,
                                 int require_exp)
{
    apr_array_header_t *iss = NULL, *aud = NULL;
    olo_reason_t reason = OLO_R__COUNT;
    if (issuer) {
        iss = apr_array_make(olo_test_pool, 1, sizeof(const char *));
        APR_ARRAY_PUSH(iss, const char *) = issuer;
    }
    if (audience) {
        aud = apr_array_make(olo_test_pool, 1, sizeof(const char *));
        APR_ARRAY_PUSH(aud, const char *) = audience;
    }
    olo_bearer_expect_t w = {iss, aud, require_exp, apr_time_from_sec(SKEW_S)};
    json_t *c = json_loads(text, 0, NULL);
    ck_assert_ptr_nonnull(c);
    apr_pool_cleanup_register(olo_test_pool, c, claims_free, apr_pool_cleanup_null);
    apr_status_t rv = olo_claims_check_bearer(&reason, c, &w, OLO_TEST_NOW);
    ck_assert_int_eq(rv, reason == OLO_OK ? APR_SUCCESS : APR_EGENERAL);
    return reason;
}

#define BOT "{\"iss\":\"open-metadata.org\",\"sub\":\"ingestion-bot\""

/* A token that passes every rule; each test breaks exactly one thing. */
static json_t *good_claims(void)
{
    json_t *c = json_pack("{s:s, s:s, s:s, s:I, s:I, s:s}", "iss", ISS, "sub", "248289761001",
                          "aud", CLIENT, "exp", NOW_S + 300, "iat", NOW_S - 10, "nonce",
                          want.nonce);

    apr_pool_cleanup_register(olo_test_pool, c, claims_free, apr_pool_cleanup_null);
    return c;
}

static json_t *parse(const char *text)
{
    json_t *c = json_loads(text, 0, NULL);

    ck_assert_ptr_nonnull(c);
    apr_pool_cleanup_register(olo_test_pool, c, claims_free, apr_pool_cleanup_null);
    return c;
}

static olo_reason_t check(json_t *c, const olo_expect_t *w)
{
    olo_reason_t reason = OLO_R__COUNT;
    apr_status_t rv = olo_claims_check(&reason, c, w, OLO_TEST_NOW);

    ck_assert_int_eq(rv, reason == OLO_OK ? APR_SUCCESS : APR_EGENERAL);
    return reason;
}

START_TEST(good_token_accepted)
{
    ck_assert_int_eq(check(good_claims(), &want), OLO_OK);
}
END_TEST

START_TEST(exp_expired_by_one_second_beyond_skew)
{
    json_t *c = good_claims();

    json_object_set_new(c, "exp", json_integer(NOW_S - SKEW_S - 1));
    ck_assert_int_eq(check(c, &want), OLO_R_EXPIRED);
}
END_TEST

START_TEST(exp_at_skew_boundary_refused)
{
    json_t *c = good_claims();

    /* exp must be strictly after now - skew. */
    json_object_set_new(c, "exp", json_integer(NOW_S - SKEW_S));
    ck_assert_int_eq(check(c, &want), OLO_R_EXPIRED);
}
END_TEST

START_TEST(exp_within_skew_accepted)
{
    json_t *c = good_claims();

    json_object_set_new(c, "exp", json_integer(NOW_S - SKEW_S + 1));
    ck_assert_int_eq(check(c, &want), OLO_OK);
}
END_TEST

START_TEST(exp_as_real_seconds_accepted)
{
    json_t *c = good_claims();

    json_object_set_new(c, "exp", json_real((double)NOW_S + 0.5));
    ck_assert_int_eq(check(c, &want), OLO_OK);
    json_object_set_new(c, "exp", json_real((double)(NOW_S - SKEW_S) - 0.5));
    ck_assert_int_eq(check(c, &want), OLO_R_EXPIRED);
}
END_TEST

START_TEST(exp_missing_refused)
{
    json_t *c = good_claims();

    json_object_del(c, "exp");
    ck_assert_int_eq(check(c, &want), OLO_R_EXPIRED);
}
END_TEST

START_TEST(exp_not_a_number_refused)
{
    json_t *c = good_claims();

    json_object_set_new(c, "exp", json_string("99999999999"));
    ck_assert_int_eq(check(c, &want), OLO_R_EXPIRED);
}
END_TEST

START_TEST(iat_in_the_future_refused)
{
    json_t *c = good_claims();

    json_object_set_new(c, "iat", json_integer(NOW_S + SKEW_S + 1));
    ck_assert_int_eq(check(c, &want), OLO_R_IAT_INVALID);
    json_object_set_new(c, "iat", json_integer(NOW_S + SKEW_S));
    ck_assert_int_eq(check(c, &want), OLO_OK);
}
END_TEST

START_TEST(iat_too_old_refused)
{
    json_t *c = good_claims();

    json_object_set_new(c, "iat", json_integer(NOW_S - 3600 - SKEW_S - 1));
    ck_assert_int_eq(check(c, &want), OLO_R_IAT_INVALID);
    json_object_set_new(c, "iat", json_integer(NOW_S - 3600 - SKEW_S));
    ck_assert_int_eq(check(c, &want), OLO_OK);
}
END_TEST

START_TEST(iat_old_accepted_without_max_age)
{
    olo_expect_t w = want;
    json_t *c = good_claims();

    w.max_age = 0;
    json_object_set_new(c, "iat", json_integer(NOW_S - 86400 * 365));
    ck_assert_int_eq(check(c, &w), OLO_OK);
}
END_TEST

START_TEST(iat_missing_refused)
{
    json_t *c = good_claims();

    json_object_del(c, "iat");
    ck_assert_int_eq(check(c, &want), OLO_R_IAT_INVALID);
}
END_TEST

START_TEST(nbf_in_the_future_refused)
{
    json_t *c = good_claims();

    json_object_set_new(c, "nbf", json_integer(NOW_S + SKEW_S + 1));
    ck_assert_int_eq(check(c, &want), OLO_R_NBF_FUTURE);
    json_object_set_new(c, "nbf", json_integer(NOW_S + SKEW_S));
    ck_assert_int_eq(check(c, &want), OLO_OK);
}
END_TEST

START_TEST(nbf_not_a_number_refused)
{
    json_t *c = good_claims();

    json_object_set_new(c, "nbf", json_string("yesterday"));
    ck_assert_int_eq(check(c, &want), OLO_R_NBF_FUTURE);
}
END_TEST

START_TEST(iss_wrong_refused)
{
    json_t *c = good_claims();

    json_object_set_new(c, "iss", json_string(ISS "/"));
    ck_assert_int_eq(check(c, &want), OLO_R_ISS_MISMATCH);
    json_object_del(c, "iss");
    ck_assert_int_eq(check(c, &want), OLO_R_ISS_MISMATCH);
}
END_TEST

START_TEST(aud_wrong_refused)
{
    json_t *c = good_claims();

    json_object_set_new(c, "aud", json_string("client-456"));
    ck_assert_int_eq(check(c, &want), OLO_R_AUD_MISMATCH);
    json_object_set_new(c, "aud", json_pack("[s]", "client-456"));
    ck_assert_int_eq(check(c, &want), OLO_R_AUD_MISMATCH);
}
END_TEST

START_TEST(aud_missing_refused)
{
    json_t *c = good_claims();

    json_object_del(c, "aud");
    ck_assert_int_eq(check(c, &want), OLO_R_AUD_MISMATCH);
}
END_TEST

START_TEST(aud_array_containing_client_with_azp_accepted)
{
    json_t *c = good_claims();

    json_object_set_new(c, "aud", json_pack("[s, s]", "other-api", CLIENT));
    json_object_set_new(c, "azp", json_string(CLIENT));
    ck_assert_int_eq(check(c, &want), OLO_OK);
}
END_TEST

START_TEST(aud_single_entry_array_without_azp_accepted)
{
    json_t *c = good_claims();

    json_object_set_new(c, "aud", json_pack("[s]", CLIENT));
    ck_assert_int_eq(check(c, &want), OLO_OK);
}
END_TEST

START_TEST(aud_array_without_azp_refused)
{
    json_t *c = good_claims();

    json_object_set_new(c, "aud", json_pack("[s, s]", CLIENT, "other-api"));
    ck_assert_int_eq(check(c, &want), OLO_R_AZP_MISMATCH);
}
END_TEST

START_TEST(azp_wrong_refused)
{
    json_t *c = good_claims();

    json_object_set_new(c, "azp", json_string("client-456"));
    ck_assert_int_eq(check(c, &want), OLO_R_AZP_MISMATCH);
}
END_TEST

START_TEST(nonce_mismatch_refused)
{
    json_t *c = good_claims();

    json_object_set_new(c, "nonce", json_string("n-other"));
    ck_assert_int_eq(check(c, &want), OLO_R_NONCE_MISMATCH);
}
END_TEST

START_TEST(nonce_missing_refused)
{
    json_t *c = good_claims();

    json_object_del(c, "nonce");
    ck_assert_int_eq(check(c, &want), OLO_R_NONCE_MISMATCH);
}
END_TEST

START_TEST(nonce_not_checked_when_not_expected)
{
    olo_expect_t w = want;
    json_t *c = good_claims();

    w.nonce = NULL;
    json_object_set_new(c, "nonce", json_string("anything"));
    ck_assert_int_eq(check(c, &w), OLO_OK);
}
END_TEST

START_TEST(sub_missing_refused)
{
    json_t *c = good_claims();

    json_object_del(c, "sub");
    ck_assert_int_eq(check(c, &want), OLO_R_SUB_MISSING);
}
END_TEST

START_TEST(sub_empty_refused)
{
    json_t *c = good_claims();

    json_object_set_new(c, "sub", json_string(""));
    ck_assert_int_eq(check(c, &want), OLO_R_SUB_MISSING);
    json_object_set_new(c, "sub", json_integer(42));
    ck_assert_int_eq(check(c, &want), OLO_R_SUB_MISSING);
}
END_TEST

START_TEST(first_failure_in_documented_order)
{
    json_t *c = good_claims();

    json_object_del(c, "sub");
    json_object_set_new(c, "nonce", json_string("n-other"));
    json_object_set_new(c, "exp", json_integer(0));
    ck_assert_int_eq(check(c, &want), OLO_R_EXPIRED);
    json_object_set_new(c, "aud", json_string("client-456"));
    ck_assert_int_eq(check(c, &want), OLO_R_AUD_MISMATCH);
    json_object_set_new(c, "iss", json_string("https://evil.example"));
    ck_assert_int_eq(check(c, &want), OLO_R_ISS_MISMATCH);
}
END_TEST

START_TEST(claims_not_an_object_refused)
{
    ck_assert_int_eq(check(parse("[1, 2]"), &want), OLO_R_TOKEN_MALFORMED);
    ck_assert_int_eq(check(NULL, &want), OLO_R_TOKEN_MALFORMED);
}
END_TEST

START_TEST(string_returns_only_strings)
{
    json_t *c = parse("{\"email\": \"a@example.com\", \"n\": 1}");

    ck_assert_str_eq(olo_claims_string(c, "email"), "a@example.com");
    ck_assert_ptr_null(olo_claims_string(c, "n"));
    ck_assert_ptr_null(olo_claims_string(c, "missing"));
}
END_TEST

START_TEST(text_joins_arrays_with_commas)
{
    json_t *c = parse("{\"groups\": [\"admins\", \"dev ops\", \"x\"], \"one\": [\"solo\"],"
                      " \"none\": [], \"mixed\": [\"a\", 1]}");

    ck_assert_str_eq(olo_claims_text(olo_test_pool, c, "groups"), "admins,dev ops,x");
    ck_assert_str_eq(olo_claims_text(olo_test_pool, c, "one"), "solo");
    ck_assert_str_eq(olo_claims_text(olo_test_pool, c, "none"), "");
    ck_assert_ptr_null(olo_claims_text(olo_test_pool, c, "mixed"));
}
END_TEST

START_TEST(text_prints_scalars)
{
    json_t *c = parse("{\"s\": \"v\", \"i\": 1700000000, \"r\": 1.5, \"t\": true, \"f\": false,"
                      " \"z\": null, \"o\": {\"a\": 1}}");

    ck_assert_str_eq(olo_claims_text(olo_test_pool, c, "s"), "v");
    ck_assert_str_eq(olo_claims_text(olo_test_pool, c, "i"), "1700000000");
    ck_assert_str_eq(olo_claims_text(olo_test_pool, c, "r"), "1.5");
    ck_assert_str_eq(olo_claims_text(olo_test_pool, c, "t"), "true");
    ck_assert_str_eq(olo_claims_text(olo_test_pool, c, "f"), "false");
    ck_assert_ptr_null(olo_claims_text(olo_test_pool, c, "z"));
    ck_assert_ptr_null(olo_claims_text(olo_test_pool, c, "o"));
    ck_assert_ptr_null(olo_claims_text(olo_test_pool, c, "missing"));
}
END_TEST

START_TEST(match_string_and_array_membership)
{
    json_t *c = parse("{\"role\": \"admin\", \"groups\": [\"dev\", 7, \"ops\"]}");

    ck_assert(olo_claims_match(c, "role", "admin"));
    ck_assert(!olo_claims_match(c, "role", "Admin"));
    ck_assert(!olo_claims_match(c, "role", "adm"));
    ck_assert(olo_claims_match(c, "groups", "ops"));
    ck_assert(!olo_claims_match(c, "groups", "7"));
    ck_assert(!olo_claims_match(c, "groups", "qa"));
    ck_assert(!olo_claims_match(c, "missing", "admin"));
    ck_assert(!olo_claims_match(c, "role", NULL));
}
END_TEST


START_TEST(bearer_bot_token_without_exp_when_not_required)
{
    ck_assert_int_eq(check_bearer(BOT "}", "open-metadata.org", NULL, 0), OLO_OK);
    ck_assert_int_eq(check_bearer(BOT "}", "open-metadata.org", NULL, 1), OLO_R_EXPIRED);
}
END_TEST

START_TEST(bearer_issuer_must_be_listed)
{
    ck_assert_int_eq(check_bearer(BOT "}", "someone-else", NULL, 0), OLO_R_ISS_MISMATCH);
    ck_assert_int_eq(check_bearer(BOT "}", NULL, NULL, 0), OLO_OK);
}
END_TEST

START_TEST(bearer_audience_required_when_listed)
{
    ck_assert_int_eq(check_bearer(BOT "}", NULL, "om", 0), OLO_R_AUD_MISMATCH);
    ck_assert_int_eq(check_bearer(BOT ",\"aud\":[\"x\",\"om\"]}", NULL, "om", 0), OLO_OK);
}
END_TEST

START_TEST(bearer_expired_exp_refused_even_when_optional)
{
    const char *t = apr_psprintf(olo_test_pool, BOT ",\"exp\":%ld}",
                                 (long)(NOW_S - SKEW_S - 1));
    ck_assert_int_eq(check_bearer(t, NULL, NULL, 0), OLO_R_EXPIRED);
}
END_TEST

START_TEST(bearer_future_nbf_and_iat_refused)
{
    const char *nbf = apr_psprintf(olo_test_pool, BOT ",\"nbf\":%ld}",
                                   (long)(NOW_S + SKEW_S + 1));
    const char *iat = apr_psprintf(olo_test_pool, BOT ",\"iat\":%ld}",
                                   (long)(NOW_S + SKEW_S + 1));
    ck_assert_int_eq(check_bearer(nbf, NULL, NULL, 0), OLO_R_NBF_FUTURE);
    ck_assert_int_eq(check_bearer(iat, NULL, NULL, 0), OLO_R_IAT_INVALID);
}
END_TEST

/* A token as the token endpoint hands it out, dated `iat_ago` seconds before our now and
 * living `life` seconds: what a provider with its clock that far behind ours issues. */
static json_t *issued(long iat_ago, long life)
{
    json_t *c = good_claims();
    json_object_set_new(c, "iat", json_integer(NOW_S - iat_ago));
    json_object_set_new(c, "exp", json_integer(NOW_S - iat_ago + life));
    return c;
}

static const olo_expect_t *fresh(long max_age_s)
{
    static olo_expect_t w;
    w = want;
    w.just_issued = 1;
    w.max_age = apr_time_from_sec(max_age_s);
    return &w;
}

START_TEST(clock_ahead_past_a_fresh_tokens_exp_is_clock_skew)
{
    /* httpd 10 min ahead, a 300 s token: expired by our clock, valid by the provider's */
    ck_assert_int_eq(check(issued(600, 300), fresh(600)), OLO_R_CLOCK_SKEW);
    ck_assert_int_eq(check(issued(600, 300), &want), OLO_R_EXPIRED);
}
END_TEST

START_TEST(clock_behind_a_fresh_tokens_iat_is_clock_skew)
{
    ck_assert_int_eq(check(issued(-600, 300), fresh(600)), OLO_R_CLOCK_SKEW);
    ck_assert_int_eq(check(issued(-600, 300), &want), OLO_R_IAT_INVALID);
}
END_TEST

START_TEST(clock_ahead_past_max_age_is_clock_skew)
{
    /* an hour-long token with httpd 15 min ahead: only "too old for this login" fails */
    ck_assert_int_eq(check(issued(900, 3600), fresh(600)), OLO_R_CLOCK_SKEW);
}
END_TEST

START_TEST(clock_behind_nbf_with_iat_is_clock_skew)
{
    json_t *c = issued(-600, 300);
    json_object_set_new(c, "nbf", json_integer(NOW_S + 600));
    ck_assert_int_eq(check(c, fresh(600)), OLO_R_CLOCK_SKEW);
}
END_TEST

START_TEST(clocks_within_skew_log_in)
{
    ck_assert_int_eq(check(issued(SKEW_S - 1, 300), fresh(600)), OLO_OK);
    ck_assert_int_eq(check(issued(-(SKEW_S - 1), 300), fresh(600)), OLO_OK);
}
END_TEST

START_TEST(clock_limit_is_inclusive)
{
    long limit = OLO_CLAIMS_CLOCK_LIMIT_SEC;
    ck_assert_int_eq(check(issued(limit, 300), fresh(600)), OLO_R_CLOCK_SKEW);
    ck_assert_int_eq(check(issued(limit + 1, 300), fresh(600)), OLO_R_EXPIRED);
    ck_assert_int_eq(check(issued(-limit, 300), fresh(600)), OLO_R_CLOCK_SKEW);
    ck_assert_int_eq(check(issued(-limit - 1, 300), fresh(600)), OLO_R_IAT_INVALID);
}
END_TEST

START_TEST(old_token_stays_expired)
{
    /* what a replayed token looks like: issued an hour ago, expired half an hour ago */
    ck_assert_int_eq(check(issued(3600, 1800), fresh(600)), OLO_R_EXPIRED);
}
END_TEST

START_TEST(token_invalid_at_its_own_iat_is_not_clock_skew)
{
    json_t *c = issued(600, 300);
    /* exp before iat: no clock makes this token valid */
    json_object_set_new(c, "exp", json_integer(NOW_S - 700));
    ck_assert_int_eq(check(c, fresh(600)), OLO_R_EXPIRED);
    /* nbf far beyond iat: the token says "not yet", whatever the clocks */
    c = issued(10, 300);
    json_object_set_new(c, "nbf", json_integer(NOW_S + 600));
    ck_assert_int_eq(check(c, fresh(600)), OLO_R_NBF_FUTURE);
}
END_TEST

START_TEST(clock_skew_needs_the_rest_of_the_token_to_be_ours)
{
    json_t *c = issued(600, 300);
    json_object_set_new(c, "nonce", json_string("someone-elses"));
    ck_assert_int_eq(check(c, fresh(600)), OLO_R_EXPIRED);
    c = issued(-600, 300);
    json_object_del(c, "sub");
    ck_assert_int_eq(check(c, fresh(600)), OLO_R_IAT_INVALID);
}
END_TEST

START_TEST(times_text_shows_both_clocks_and_the_difference)
{
    json_t *c = issued(600, 300);
    const char *text = olo_claims_times(olo_test_pool, c, apr_time_from_sec(SKEW_S), OLO_TEST_NOW);
    ck_assert_str_eq(text, "server time 1700000000 (2023-11-14T22:13:20Z); token iat 1699999400 "
                           "(2023-11-14T22:03:20Z), exp 1699999700 (2023-11-14T22:08:20Z), "
                           "nbf none; this server is 600 s ahead of the token's iat (skew 60 s)");
    c = issued(-600, 300);
    json_object_del(c, "exp");
    text = olo_claims_times(olo_test_pool, c, apr_time_from_sec(SKEW_S), OLO_TEST_NOW);
    ck_assert_ptr_nonnull(strstr(text, "exp none"));
    ck_assert_ptr_nonnull(strstr(text, "600 s behind the token's iat"));
    json_object_set_new(c, "iat", json_string("soon"));
    text = olo_claims_times(olo_test_pool, c, apr_time_from_sec(SKEW_S), OLO_TEST_NOW);
    ck_assert_ptr_nonnull(strstr(text, "iat none"));
    ck_assert_ptr_null(strstr(text, "ahead"));
}
END_TEST

Suite *olo_suite_claims(void)
{
    Suite *s = suite_create("olo_claims");
    TCase *tc = tcase_create("claims");

    olo_test_add_pool_fixture(tc);
    tcase_add_test(tc, good_token_accepted);
    tcase_add_test(tc, exp_expired_by_one_second_beyond_skew);
    tcase_add_test(tc, exp_at_skew_boundary_refused);
    tcase_add_test(tc, exp_within_skew_accepted);
    tcase_add_test(tc, exp_as_real_seconds_accepted);
    tcase_add_test(tc, exp_missing_refused);
    tcase_add_test(tc, exp_not_a_number_refused);
    tcase_add_test(tc, iat_in_the_future_refused);
    tcase_add_test(tc, iat_too_old_refused);
    tcase_add_test(tc, iat_old_accepted_without_max_age);
    tcase_add_test(tc, iat_missing_refused);
    tcase_add_test(tc, nbf_in_the_future_refused);
    tcase_add_test(tc, nbf_not_a_number_refused);
    tcase_add_test(tc, iss_wrong_refused);
    tcase_add_test(tc, aud_wrong_refused);
    tcase_add_test(tc, aud_missing_refused);
    tcase_add_test(tc, aud_array_containing_client_with_azp_accepted);
    tcase_add_test(tc, aud_single_entry_array_without_azp_accepted);
    tcase_add_test(tc, aud_array_without_azp_refused);
    tcase_add_test(tc, azp_wrong_refused);
    tcase_add_test(tc, nonce_mismatch_refused);
    tcase_add_test(tc, nonce_missing_refused);
    tcase_add_test(tc, nonce_not_checked_when_not_expected);
    tcase_add_test(tc, sub_missing_refused);
    tcase_add_test(tc, sub_empty_refused);
    tcase_add_test(tc, first_failure_in_documented_order);
    tcase_add_test(tc, claims_not_an_object_refused);
    tcase_add_test(tc, string_returns_only_strings);
    tcase_add_test(tc, text_joins_arrays_with_commas);
    tcase_add_test(tc, text_prints_scalars);
    tcase_add_test(tc, match_string_and_array_membership);
    tcase_add_test(tc, bearer_bot_token_without_exp_when_not_required);
    tcase_add_test(tc, bearer_issuer_must_be_listed);
    tcase_add_test(tc, bearer_audience_required_when_listed);
    tcase_add_test(tc, bearer_expired_exp_refused_even_when_optional);
    tcase_add_test(tc, bearer_future_nbf_and_iat_refused);
    tcase_add_test(tc, clock_ahead_past_a_fresh_tokens_exp_is_clock_skew);
    tcase_add_test(tc, clock_behind_a_fresh_tokens_iat_is_clock_skew);
    tcase_add_test(tc, clock_ahead_past_max_age_is_clock_skew);
    tcase_add_test(tc, clock_behind_nbf_with_iat_is_clock_skew);
    tcase_add_test(tc, clocks_within_skew_log_in);
    tcase_add_test(tc, clock_limit_is_inclusive);
    tcase_add_test(tc, old_token_stays_expired);
    tcase_add_test(tc, token_invalid_at_its_own_iat_is_not_clock_skew);
    tcase_add_test(tc, clock_skew_needs_the_rest_of_the_token_to_be_ours);
    tcase_add_test(tc, times_text_shows_both_clocks_and_the_difference);
    suite_add_tcase(s, tc);
    return s;
}
