/* Bearer tokens presented by clients, checked against every trusted key set. */
#include <string.h>
#include <apr_strings.h>
#include "olo_bearer.h"
#include "../jwt/olo_hash.h"
#include "../jwt/olo_jws.h"

const char *olo_bearer_token(const char *authorization)
{
    if (!authorization || strncasecmp(authorization, "Bearer ", 7)) {
        return NULL;
    }
    const char *token = authorization + 7;
    while (*token == ' ') {
        token++;
    }
    apr_size_t len = strlen(token);
    return (len > 0 && len <= OLO_BEARER_MAX_BYTES) ? token : NULL;
}

/* The issuer's keys hold no key for this token: it may come from another trusted set. */
static int olo_bearer_try_others(olo_reason_t reason)
{
    return reason == OLO_R_KID_UNKNOWN || reason == OLO_R_NO_KEY;
}

/* Only the provider's own keys speak for its issuer: a key of another set (a bot key) that
 * signs iss = the provider would otherwise pass as any OneLogin user. */
static int olo_bearer_speaks_for(json_t *claims, const char *issuer)
{
    const char *iss = json_string_value(json_object_get(claims, "iss"));
    return iss && !strcmp(iss, issuer);
}

static apr_status_t olo_bearer_verify_extra(json_t **pclaims, olo_outcome_t *out, apr_pool_t *p,
                                            const olo_provider_t *prov,
                                            const olo_bearer_policy_t *policy, const char *token,
                                            apr_time_t now)
{
    apr_status_t rv = APR_ENOENT;
    for (int i = 0; policy->jwks_uris && i < policy->jwks_uris->nelts; i++) {
        const char *uri = APR_ARRAY_IDX(policy->jwks_uris, i, const char *);
        olo_jwks_t *jwks = NULL;
        olo_jws_t *jws = NULL;
        if (olo_provider_jwks(&jwks, out, p, prov, uri, OLO_JWKS_CACHED, now) != APR_SUCCESS) {
            continue;   /* one unreachable key set does not hide the others */
        }
        rv = olo_jws_verify(&jws, &out->reason, p, token, jwks, olo_jws_default_algs);
        if (rv == APR_SUCCESS) {
            rv = olo_claims_check_bearer(&out->reason, jws->claims, &policy->expect, now);
            out->detail = apr_psprintf(p, "bearer token (kid %s) from %s %s",
                                       jws->kid ? jws->kid : "none", uri,
                                       rv == APR_SUCCESS ? "accepted" : "claims refused");
            if (rv == APR_SUCCESS && olo_bearer_speaks_for(jws->claims, prov->issuer)) {
                rv = olo_outcome_set(out, APR_EGENERAL, OLO_R_ISS_MISMATCH,
                                     apr_psprintf(p, "bearer token from %s claims the "
                                                  "provider's issuer", uri));
            }
            *pclaims = (rv == APR_SUCCESS) ? jws->claims : NULL;
            return rv;
        }
        if (!olo_bearer_try_others(out->reason)) {
            out->detail = apr_psprintf(p, "bearer token refused by the keys at %s", uri);
            return rv;
        }
    }
    return rv;
}

/* The backend (OpenMetadata) checks exp with no leeway: a token inside our clock-skew
 * tolerance but past its exp would only be refused one hop later. */
static apr_status_t olo_bearer_live(json_t *claims, olo_outcome_t *out, apr_time_t now)
{
    json_t *exp = json_object_get(claims, "exp");
    if (json_is_number(exp) && json_number_value(exp) <= (double)apr_time_sec(now)) {
        out->reason = OLO_R_EXPIRED;
        out->detail = "bearer token past its exp";
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

static apr_status_t olo_bearer_check(json_t **pclaims, olo_outcome_t *out, apr_pool_t *p,
                                     const olo_provider_t *prov, const olo_client_t *client,
                                     const olo_bearer_policy_t *policy, const char *token,
                                     apr_time_t now)
{
    olo_metadata_t *md = NULL;
    /* a client's token: its age says nothing about the clocks */
    olo_expect_t want = {prov->issuer, client->client_id, NULL, client->skew, 0, 0};
    apr_status_t rv = olo_provider_metadata(&md, out, p, prov, now);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    out->detail = NULL;
    rv = olo_login_verify_token(pclaims, out, p, prov, md, token, &want,
                                OLO_JWKS_REFETCH_LIMITED, now);
    if (rv == APR_SUCCESS || !olo_bearer_try_others(out->reason)
        || !policy->jwks_uris || policy->jwks_uris->nelts == 0) {
        return rv;
    }
    olo_outcome_t first = *out;
    rv = olo_bearer_verify_extra(pclaims, out, p, prov, policy, token, now);
    if (rv == APR_ENOENT) {
        *out = first;   /* no set held the key: the issuer's answer explains it best */
    }
    return rv;
}

apr_status_t olo_bearer_verify(json_t **pclaims, olo_outcome_t *out, apr_pool_t *p,
                               const olo_provider_t *prov, const olo_client_t *client,
                               const olo_bearer_policy_t *policy, const char *token,
                               apr_time_t now)
{
    json_t *claims = NULL;
    apr_status_t rv = olo_bearer_check(&claims, out, p, prov, client, policy, token, now);
    if (rv == APR_SUCCESS) {
        rv = olo_bearer_live(claims, out, now);
    }
    *pclaims = (rv == APR_SUCCESS) ? claims : NULL;
    return rv;
}

/* One field into the digest: its length first, so no two field lists encode alike. */
static void olo_bearer_digest_field(apr_array_header_t *text, const char *value)
{
    const char *field = value ? apr_psprintf(text->pool, "%" APR_SIZE_T_FMT ":%s;",
                                             strlen(value), value) : "-;";
    APR_ARRAY_PUSH(text, const char *) = field;
}

static void olo_bearer_digest_list(apr_array_header_t *text, const apr_array_header_t *list)
{
    int n = list ? list->nelts : -1;    /* unset (any) differs from an empty list */
    APR_ARRAY_PUSH(text, const char *) = apr_psprintf(text->pool, "[%d;", n);
    for (int i = 0; i < n; i++) {
        olo_bearer_digest_field(text, APR_ARRAY_IDX(list, i, const char *));
    }
}

const char *olo_bearer_policy_digest(apr_pool_t *p, const char *issuer, const char *client_id,
                                     const olo_bearer_policy_t *policy)
{
    apr_array_header_t *text = apr_array_make(p, 16, sizeof(const char *));
    olo_bearer_digest_field(text, issuer);
    olo_bearer_digest_field(text, client_id);
    olo_bearer_digest_list(text, policy->jwks_uris);
    olo_bearer_digest_list(text, policy->expect.issuers);
    olo_bearer_digest_list(text, policy->expect.audiences);
    APR_ARRAY_PUSH(text, const char *) = "<";
    for (int i = 0; policy->user_claims && policy->user_claims[i]; i++) {
        olo_bearer_digest_field(text, policy->user_claims[i]);
    }
    APR_ARRAY_PUSH(text, const char *) = apr_psprintf(p, "exp=%d;skew=%" APR_TIME_T_FMT,
                                                      policy->expect.require_exp ? 1 : 0,
                                                      policy->expect.skew);
    const char *joined = apr_array_pstrcat(p, text, 0);
    return olo_hash_sha256(p, joined, strlen(joined));
}
