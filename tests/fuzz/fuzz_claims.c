/* Claim checks on any JSON a signed token could carry: the issuer signs, but the checks must
 * hold whatever it signed (a compromised or sloppy tenant, a bot token minted by hand). */
#include <string.h>
#include <apr_tables.h>
#include "olo_fuzz.h"
#include "../../auth/olo_config.h"
#include "../../auth/olo_login.h"
#include "../../jwt/olo_claims.h"
#include "../../jwt/olo_json.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    olo_fuzz_init();
    return 0;
}

static const olo_expect_t wants[] = {
    {OLO_FUZZ_ISSUER, OLO_FUZZ_CLIENT_ID, OLO_FUZZ_NONCE, 60 * APR_USEC_PER_SEC, 0, 0},
    {OLO_FUZZ_ISSUER, OLO_FUZZ_CLIENT_ID, NULL, 0, 3600 * APR_USEC_PER_SEC, 0},
    /* as at the callback: time refusals may be diagnosed as clock-skew */
    {OLO_FUZZ_ISSUER, OLO_FUZZ_CLIENT_ID, OLO_FUZZ_NONCE, 60 * APR_USEC_PER_SEC,
     600 * APR_USEC_PER_SEC, 1},
};

/* What a passing ID token must say, checked by hand. */
static void check_id_token(json_t *claims, const olo_expect_t *want)
{
    json_t *exp = json_object_get(claims, "exp");
    json_t *iat = json_object_get(claims, "iat");
    json_t *aud = json_object_get(claims, "aud");
    const char *sub = olo_claims_string(claims, "sub");
    double now = (double)apr_time_sec(OLO_FUZZ_NOW);
    double skew = (double)apr_time_sec(want->skew);

    OLO_FUZZ_ASSERT(strcmp(olo_claims_string(claims, "iss"), want->issuer) == 0);
    OLO_FUZZ_ASSERT(olo_claims_match(claims, "aud", want->client_id));
    OLO_FUZZ_ASSERT(!json_is_array(aud) || json_array_size(aud) == 1
                    || olo_claims_string(claims, "azp") != NULL);
    OLO_FUZZ_ASSERT(json_is_number(exp) && json_number_value(exp) > now - skew - 1);
    OLO_FUZZ_ASSERT(json_is_number(iat) && json_number_value(iat) <= now + skew + 1);
    OLO_FUZZ_ASSERT(sub != NULL && *sub != '\0');
    OLO_FUZZ_ASSERT(want->nonce == NULL
                    || strcmp(olo_claims_string(claims, "nonce"), want->nonce) == 0);
}

/* What the glue does with claims that passed: the identity it hands to the backend. */
static void check_identity(apr_pool_t *p, json_t *claims)
{
    static const char *const email[] = {"email", NULL}, *const sub[] = {"sub", NULL};
    static const char *const groups[] = {"groups", "email", NULL};
    static const char *const *const user_claims[] = {email, sub, groups,
                                                     olo_default_user_claims};
    olo_tokens_t tokens = {"id.token.x", NULL, NULL, 0};

    for (size_t i = 0; i < sizeof(user_claims) / sizeof(user_claims[0]); i++) {
        olo_client_t client = {OLO_FUZZ_CLIENT_ID, NULL, "/callback", "openid", user_claims[i],
                               apr_time_from_sec(60), apr_time_from_sec(28800)};
        olo_session_t session = {0};
        olo_outcome_t out = {OLO_OK, NULL};

        if (olo_login_identity(&session, &out, p, claims, &client, &tokens) == APR_SUCCESS) {
            /* REMOTE_USER and X-OneLogin-User: never empty, never able to split a header */
            OLO_FUZZ_ASSERT(session.user != NULL && *session.user != '\0');
            OLO_FUZZ_ASSERT(olo_session_is_printable(session.user));
        }
    }
}

static void check_bearer(apr_pool_t *p, json_t *claims)
{
    apr_array_header_t *issuers = apr_array_make(p, 2, sizeof(const char *));
    apr_array_header_t *auds = apr_array_make(p, 2, sizeof(const char *));
    olo_reason_t reason = OLO_OK;

    APR_ARRAY_PUSH(issuers, const char *) = OLO_FUZZ_BOT_ISSUER;
    APR_ARRAY_PUSH(issuers, const char *) = OLO_FUZZ_ISSUER;
    APR_ARRAY_PUSH(auds, const char *) = OLO_FUZZ_CLIENT_ID;
    for (int i = 0; i < 4; i++) {
        olo_bearer_expect_t want = {(i & 1) ? issuers : NULL, (i & 2) ? auds : NULL, i & 1,
                                    60 * APR_USEC_PER_SEC};
        if (olo_claims_check_bearer(&reason, claims, &want, OLO_FUZZ_NOW) == APR_SUCCESS) {
            OLO_FUZZ_ASSERT(reason == OLO_OK && json_is_object(claims));
            OLO_FUZZ_ASSERT(!want.require_exp || json_is_number(json_object_get(claims, "exp")));
            check_identity(p, claims);
        }
        else {
            OLO_FUZZ_ASSERT(reason != OLO_OK);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = {"email", "groups", "aud", "sub", "exp", "roles", ""};
    apr_pool_t *p = olo_fuzz_begin();
    json_t *claims = olo_json_load(p, (const char *)data, size);
    olo_reason_t reason = OLO_OK;

    if (claims == NULL) {
        olo_fuzz_end(p);
        return 0;
    }
    for (size_t i = 0; i < sizeof(wants) / sizeof(wants[0]); i++) {
        if (olo_claims_check(&reason, claims, &wants[i], OLO_FUZZ_NOW) == APR_SUCCESS) {
            OLO_FUZZ_ASSERT(reason == OLO_OK);
            check_id_token(claims, &wants[i]);
            check_identity(p, claims);
        }
        else {
            OLO_FUZZ_ASSERT((reason > OLO_OK && reason <= OLO_R_SUB_MISSING)
                            || (reason == OLO_R_CLOCK_SKEW && wants[i].just_issued));
        }
    }
    check_bearer(p, claims);
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        olo_claims_text(p, claims, names[i]);
        olo_claims_match(claims, names[i], "admins");
    }
    olo_fuzz_end(p);
    return 0;
}
