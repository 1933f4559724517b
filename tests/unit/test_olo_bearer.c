/* Bearer tokens from clients: the issuer's ID tokens for this client, and tokens from an
 * extra trusted key set (OpenMetadata's bot JWKS) under the bearer policy. */
#include <string.h>
#include <apr_strings.h>
#include "olo_test.h"
#include "olo_idp.h"
#include "../../auth/olo_bearer.h"

#define BOT_JWKS "https://om.example/api/v1/system/config/jwks"

static olo_bearer_policy_t *bot_policy(const char *issuer)
{
    olo_bearer_policy_t *policy = apr_pcalloc(olo_test_pool, sizeof(*policy));
    apr_array_header_t *uris = apr_array_make(olo_test_pool, 1, sizeof(const char *));
    APR_ARRAY_PUSH(uris, const char *) = BOT_JWKS;
    policy->jwks_uris = uris;
    if (issuer) {
        apr_array_header_t *iss = apr_array_make(olo_test_pool, 1, sizeof(const char *));
        APR_ARRAY_PUSH(iss, const char *) = issuer;
        policy->expect.issuers = iss;
    }
    policy->expect.skew = apr_time_from_sec(60);
    return policy;
}

static const char *bot_token(const char *iss)
{
    return signed_jwt(key_b, apr_psprintf(olo_test_pool, "{\"iss\":\"%s\",\"sub\":\"ingestion-bot\","
                                          "\"email\":\"ingestion-bot@open-metadata.org\"}", iss));
}

static olo_reason_t verify(fixture_t *f, const olo_bearer_policy_t *policy, const char *token,
                           json_t **pclaims)
{
    olo_outcome_t out = {OLO_OK, NULL};
    json_t *claims = NULL;
    apr_status_t rv = olo_bearer_verify(&claims, &out, olo_test_pool, &f->prov, &f->client,
                                        policy, token, OLO_TEST_NOW);
    ck_assert_int_eq(rv == APR_SUCCESS, out.reason == OLO_OK);
    if (pclaims) {
        *pclaims = claims;
    }
    return out.reason;
}

START_TEST(bearer_header_parsing)
{
    ck_assert_str_eq(olo_bearer_token("Bearer abc.def.ghi"), "abc.def.ghi");
    ck_assert_str_eq(olo_bearer_token("bearer  abc"), "abc");
    ck_assert_ptr_null(olo_bearer_token("Basic dXNlcjpwdw=="));
    ck_assert_ptr_null(olo_bearer_token("Bearer "));
    ck_assert_ptr_null(olo_bearer_token("Bearerabc"));
    ck_assert_ptr_null(olo_bearer_token(NULL));
    char *huge = apr_palloc(olo_test_pool, OLO_BEARER_MAX_BYTES + 9);
    memcpy(huge, "Bearer ", 7);
    memset(huge + 7, 'a', OLO_BEARER_MAX_BYTES + 1);
    huge[OLO_BEARER_MAX_BYTES + 8] = '\0';
    ck_assert_ptr_null(olo_bearer_token(huge));
}
END_TEST

START_TEST(issuer_id_token_for_this_client_accepted)
{
    json_t *claims = NULL;
    ck_assert_int_eq(verify(fixture(), bot_policy(NULL), id_token(key_a, "n", NULL), &claims),
                     OLO_OK);
    ck_assert_str_eq(olo_claims_string(claims, "email"), "alice@example.com");
}
END_TEST

START_TEST(issuer_token_for_another_client_refused)
{
    const char *token = signed_jwt(key_a, apr_psprintf(olo_test_pool,
        "{\"iss\":\"" ISSUER "\",\"aud\":\"other\",\"sub\":\"u1\",\"iat\":%ld,\"exp\":%ld}",
        (long)apr_time_sec(OLO_TEST_NOW), (long)apr_time_sec(OLO_TEST_NOW) + 600));
    ck_assert_int_eq(verify(fixture(), bot_policy(NULL), token, NULL), OLO_R_AUD_MISMATCH);
}
END_TEST

START_TEST(bot_token_from_extra_jwks_accepted)
{
    fixture_t *f = fixture();
    json_t *claims = NULL;
    olo_fake_http_route(f->http, BOT_JWKS, 200, jwks_of(key_b));
    ck_assert_int_eq(verify(f, bot_policy("open-metadata.org"), bot_token("open-metadata.org"),
                            &claims), OLO_OK);
    ck_assert_str_eq(olo_claims_string(claims, "sub"), "ingestion-bot");
}
END_TEST

START_TEST(bot_token_with_unlisted_issuer_refused)
{
    fixture_t *f = fixture();
    olo_fake_http_route(f->http, BOT_JWKS, 200, jwks_of(key_b));
    ck_assert_int_eq(verify(f, bot_policy("open-metadata.org"), bot_token("evil.example"), NULL),
                     OLO_R_ISS_MISMATCH);
}
END_TEST

START_TEST(token_of_unknown_key_refused)
{
    fixture_t *f = fixture();
    olo_fake_http_route(f->http, BOT_JWKS, 200, jwks_of(key_a));   /* key_b is nowhere */
    ck_assert_int_eq(verify(f, bot_policy(NULL), bot_token("open-metadata.org"), NULL),
                     OLO_R_KID_UNKNOWN);
}
END_TEST

START_TEST(bot_token_without_extra_jwks_refused)
{
    olo_bearer_policy_t none = {0};
    ck_assert_int_eq(verify(fixture(), &none, bot_token("open-metadata.org"), NULL),
                     OLO_R_KID_UNKNOWN);
}
END_TEST

START_TEST(token_past_exp_refused_despite_clock_skew)
{
    long now = (long)apr_time_sec(OLO_TEST_NOW);
    const char *token = signed_jwt(key_a, apr_psprintf(olo_test_pool,
        "{\"iss\":\"" ISSUER "\",\"aud\":\"" CLIENT "\",\"sub\":\"u1\",\"iat\":%ld,\"exp\":%ld}",
        now - 600, now - 5));   /* within the 60 s skew, yet expired */
    ck_assert_int_eq(verify(fixture(), bot_policy(NULL), token, NULL), OLO_R_EXPIRED);
}
END_TEST

START_TEST(garbage_bearer_refused)
{
    ck_assert_int_eq(verify(fixture(), bot_policy(NULL), "a=.b.c", NULL), OLO_R_TOKEN_MALFORMED);
}
END_TEST

START_TEST(extra_key_token_claiming_the_providers_issuer_refused)
{
    /* A bot key may not speak for OneLogin, with no OneLoginBearerIssuer set (any issuer). */
    fixture_t *f = fixture();
    olo_fake_http_route(f->http, BOT_JWKS, 200, jwks_of(key_b));
    ck_assert_int_eq(verify(f, bot_policy(NULL), bot_token(ISSUER), NULL), OLO_R_ISS_MISMATCH);
    ck_assert_int_eq(verify(f, bot_policy(NULL), bot_token("open-metadata.org"), NULL), OLO_OK);
}
END_TEST

static const char *digest(const olo_bearer_policy_t *policy)
{
    const char *d = olo_bearer_policy_digest(olo_test_pool, ISSUER, CLIENT, policy);
    ck_assert_ptr_nonnull(d);
    return d;
}

static apr_array_header_t *list_of(const char *a, const char *b)
{
    apr_array_header_t *list = apr_array_make(olo_test_pool, 2, sizeof(const char *));
    APR_ARRAY_PUSH(list, const char *) = a;
    if (b) {
        APR_ARRAY_PUSH(list, const char *) = b;
    }
    return list;
}

START_TEST(policy_digest_is_stable_and_changes_with_every_field)
{
    olo_bearer_policy_t base = *bot_policy("open-metadata.org");
    const char *d = digest(&base);
    ck_assert_str_eq(d, digest(bot_policy("open-metadata.org")));
    ck_assert_uint_eq(strlen(d), 43);

    olo_bearer_policy_t p = base;
    p.jwks_uris = NULL;
    ck_assert_str_ne(digest(&p), d);
    p = base;
    p.expect.issuers = NULL;
    ck_assert_str_ne(digest(&p), d);
    p = base;
    p.expect.audiences = list_of("om", NULL);
    ck_assert_str_ne(digest(&p), d);
    p = base;
    p.expect.require_exp = !base.expect.require_exp;
    ck_assert_str_ne(digest(&p), d);
    p = base;
    p.expect.skew = base.expect.skew + 1;
    ck_assert_str_ne(digest(&p), d);
    /* the verdict holds the identity the claim list picked */
    static const char *const by_sub[] = {"sub", NULL}, *const by_email[] = {"email", NULL};
    static const char *const both[] = {"email", "sub", NULL};
    p = base;
    p.user_claims = by_sub;
    const char *d_sub = digest(&p);
    ck_assert_str_ne(d_sub, d);
    p.user_claims = by_email;
    ck_assert_str_ne(digest(&p), d_sub);
    p.user_claims = both;
    ck_assert_str_ne(digest(&p), d_sub);
    ck_assert_str_ne(olo_bearer_policy_digest(olo_test_pool, ISSUER, "other-client", &base), d);
    ck_assert_str_ne(olo_bearer_policy_digest(olo_test_pool, ISSUER "/x", CLIENT, &base), d);
}
END_TEST

START_TEST(policy_digest_tells_how_lists_split)
{
    olo_bearer_policy_t a = {0}, b = {0}, c = {0};
    a.expect.audiences = list_of("ab", "c");
    b.expect.audiences = list_of("a", "bc");
    c.expect.audiences = apr_array_make(olo_test_pool, 1, sizeof(const char *));
    ck_assert_str_ne(digest(&a), digest(&b));
    /* an empty list is not "any" */
    olo_bearer_policy_t unset = {0};
    ck_assert_str_ne(digest(&c), digest(&unset));
    /* a value moved from one list into the next */
    olo_bearer_policy_t d = {0}, e = {0};
    d.expect.issuers = list_of("x", NULL);
    e.expect.audiences = list_of("x", NULL);
    ck_assert_str_ne(digest(&d), digest(&e));
}
END_TEST

Suite *olo_suite_bearer(void)
{
    Suite *s = suite_create("bearer");
    TCase *tc = tcase_create("bearer");
    tcase_set_timeout(tc, 60);
    tcase_add_unchecked_fixture(tc, olo_idp_keys_setup, olo_idp_keys_teardown);
    olo_test_add_pool_fixture(tc);
    tcase_add_test(tc, bearer_header_parsing);
    tcase_add_test(tc, issuer_id_token_for_this_client_accepted);
    tcase_add_test(tc, issuer_token_for_another_client_refused);
    tcase_add_test(tc, bot_token_from_extra_jwks_accepted);
    tcase_add_test(tc, bot_token_with_unlisted_issuer_refused);
    tcase_add_test(tc, token_of_unknown_key_refused);
    tcase_add_test(tc, bot_token_without_extra_jwks_refused);
    tcase_add_test(tc, token_past_exp_refused_despite_clock_skew);
    tcase_add_test(tc, garbage_bearer_refused);
    tcase_add_test(tc, extra_key_token_claiming_the_providers_issuer_refused);
    tcase_add_test(tc, policy_digest_is_stable_and_changes_with_every_field);
    tcase_add_test(tc, policy_digest_tells_how_lists_split);
    suite_add_tcase(s, tc);
    return s;
}
