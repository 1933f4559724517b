/* The Authorization header of any request to a location that accepts bearer tokens, through
 * the whole check: header, signature against the provider's set or the extra (bot) set,
 * claims, expiry, then the identity the backend is told. The first byte 0x01 or 0x02 makes
 * the rest a claims payload, signed here with the provider's RSA key or the bot key, so the
 * checks after a valid signature are reached; any other input is the header as sent. */
#include <string.h>
#include <strings.h>
#include <apr_strings.h>
#include "olo_fuzz.h"
#include "../../auth/olo_config.h"
#include "../../auth/olo_bearer.h"

static apr_array_header_t *jwks_uris;
static apr_array_header_t *issuers;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    apr_pool_t *p;

    (void)argc, (void)argv;
    olo_fuzz_init();
    p = olo_fuzz_global_pool();
    jwks_uris = apr_array_make(p, 1, sizeof(const char *));
    APR_ARRAY_PUSH(jwks_uris, const char *) = OLO_FUZZ_BOT_JWKS_URI;
    issuers = apr_array_make(p, 1, sizeof(const char *));
    APR_ARRAY_PUSH(issuers, const char *) = OLO_FUZZ_BOT_ISSUER;
    return 0;
}

static const char *header_of(apr_pool_t *p, const uint8_t *data, size_t size)
{
    const olo_fuzz_keys_t *k = olo_fuzz_keys();
    const char *jws = NULL;

    if (size >= 1 && (data[0] == 0x01 || data[0] == 0x02)) {
        jws = (data[0] == 0x01)
                  ? olo_fuzz_sign(p, k->rsa, "RS256", "fuzz-rsa", NULL, data + 1, size - 1)
                  : olo_fuzz_sign(p, k->bot, "ES256", "fuzz-bot", NULL, data + 1, size - 1);
        return jws ? apr_pstrcat(p, "Bearer ", jws, NULL) : NULL;
    }
    return olo_fuzz_cstr(p, data, size);
}

static void verify(apr_pool_t *p, const char *token, int require_exp)
{
    olo_client_t client = {OLO_FUZZ_CLIENT_ID, NULL, "/callback", "openid email",
                           olo_default_user_claims, apr_time_from_sec(60), apr_time_from_sec(28800)};
    olo_bearer_policy_t policy = {jwks_uris, {issuers, NULL, require_exp, apr_time_from_sec(60)},
                                  olo_default_user_claims};
    olo_outcome_t out = {OLO_OK, NULL};
    json_t *claims = NULL;
    json_t *exp;

    if (olo_bearer_verify(&claims, &out, p, olo_fuzz_provider(), &client, &policy, token,
                          OLO_FUZZ_NOW) != APR_SUCCESS) {
        OLO_FUZZ_ASSERT(claims == NULL && out.reason != OLO_OK);
        return;
    }
    OLO_FUZZ_ASSERT(json_is_object(claims));
    /* the backend checks exp without leeway: nothing past it is let through */
    exp = json_object_get(claims, "exp");
    OLO_FUZZ_ASSERT(exp == NULL
                    || json_number_value(exp) > (double)apr_time_sec(OLO_FUZZ_NOW));
    OLO_FUZZ_ASSERT(exp != NULL || !require_exp);
    {
        olo_session_t identity = {0};
        olo_tokens_t none = {token, NULL, NULL, 0};
        if (olo_login_identity(&identity, &out, p, claims, &client, &none) == APR_SUCCESS) {
            OLO_FUZZ_ASSERT(identity.user != NULL && *identity.user != '\0');
            OLO_FUZZ_ASSERT(strpbrk(identity.user, "\r\n") == NULL);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = olo_fuzz_begin();
    const char *header = header_of(p, data, size);
    const char *token = olo_bearer_token(header);

    if (token != NULL) {
        size_t len = strlen(token);
        OLO_FUZZ_ASSERT(strncasecmp(header, "Bearer ", 7) == 0);
        OLO_FUZZ_ASSERT(token > header && token < header + strlen(header));
        OLO_FUZZ_ASSERT(len > 0 && len <= OLO_BEARER_MAX_BYTES && token[0] != ' ');
        verify(p, token, size & 1);
    }
    olo_fuzz_end(p);
    return 0;
}
