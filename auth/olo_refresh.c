/* Renewing the ID token of a session with its refresh token. */
#include <string.h>
#include <apr_strings.h>
#include "olo_refresh.h"
#include "olo_token.h"
#include "../jwt/olo_hash.h"

apr_interval_time_t olo_refresh_margin(const olo_session_t *session, apr_interval_time_t margin)
{
    apr_time_t lifetime = session->token_expires - session->token_issued;
    if (session->token_issued > 0 && lifetime > 0 && margin > lifetime / 2) {
        return lifetime / 2;
    }
    return margin;
}

int olo_refresh_due(const olo_session_t *session, apr_interval_time_t margin, apr_time_t now)
{
    return session->refresh_token && session->token_expires > 0
           && now + olo_refresh_margin(session, margin) >= session->token_expires;
}

const char *olo_refresh_key(apr_pool_t *p, const char *kind, const olo_session_t *session)
{
    const char *replaced = session->id_token ? session->id_token : session->refresh_token;
    const char *text = apr_pstrcat(p, session->id, "\n", replaced ? replaced : "", NULL);
    const char *digest = olo_hash_sha256(p, text, strlen(text));
    return digest ? apr_pstrcat(p, kind, digest, NULL) : NULL;
}

int olo_refresh_failure_is_transient(olo_reason_t reason)
{
    return reason == OLO_R_PROVIDER_UNREACHABLE || reason == OLO_R_PROVIDER_BAD_RESPONSE
           || reason == OLO_R_CACHE_UNAVAILABLE;
}

/* The answer carried no ID token (OIDC Core 12.2): the session keeps the one it has, which
 * serves until its exp. The refresh token cannot renew it, so it is let go: the session then
 * ends like one that never had one (nothing to renew, so no renewal on every request). */
static olo_session_t *olo_refresh_keep(apr_pool_t *p, const olo_session_t *session,
                                       olo_outcome_t *out, apr_time_t now)
{
    olo_session_t *fresh = apr_pmemdup(p, session, sizeof(*session));
    fresh->refresh_token = NULL;
    fresh->last_seen = now;
    out->detail = "the provider's answer carries no id_token; the ID token serves until it "
                  "expires, and the session ends then";
    return fresh;
}

/* The fresh session: the old one's identity in time, the new token's in content. */
static apr_status_t olo_refresh_merge(olo_session_t **pfresh, olo_outcome_t *out, apr_pool_t *p,
                                      const olo_client_t *client, const olo_session_t *session,
                                      json_t *claims, const olo_tokens_t *tokens, apr_time_t now)
{
    const char *sub = olo_claims_string(claims, "sub");
    if (!sub || strcmp(sub, session->sub)) {
        return olo_outcome_set(out, APR_EGENERAL, OLO_R_REFRESH_FAILED,
                               "renewed ID token names another subject");
    }
    olo_session_t *fresh = apr_pmemdup(p, session, sizeof(*session));
    apr_status_t rv = olo_login_identity(fresh, out, p, claims, client, tokens);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    fresh->last_seen = now;
    if (!fresh->refresh_token) {
        fresh->refresh_token = session->refresh_token;
    }
    *pfresh = fresh;
    return APR_SUCCESS;
}

apr_status_t olo_refresh_session(olo_session_t **pfresh, olo_outcome_t *out, apr_pool_t *p,
                                 const olo_provider_t *prov, const olo_client_t *client,
                                 const olo_session_t *session, apr_time_t now)
{
    olo_tokens_t *tokens = NULL;
    json_t *claims = NULL;
    olo_session_t *fresh = NULL;
    olo_expect_t want = {prov->issuer, client->client_id, NULL, client->skew,
                         apr_time_from_sec(OLO_STATE_TTL_SEC), 1};
    const char *form = olo_token_refresh_form(p, session->refresh_token, client->client_id,
                                              client->client_secret == NULL);
    out->detail = NULL;
    apr_status_t rv = olo_callback_grant(&tokens, &claims, out, p, prov, client, form, &want, 1,
                                         now);
    if (rv == APR_SUCCESS && !tokens->id_token) {
        fresh = olo_refresh_keep(p, session, out, now);
    }
    else if (rv == APR_SUCCESS) {
        rv = olo_refresh_merge(&fresh, out, p, client, session, claims, tokens, now);
    }
    else if (out->reason == OLO_R_TOKEN_ENDPOINT_ERROR) {
        out->reason = OLO_R_REFRESH_FAILED;
    }
    *pfresh = (rv == APR_SUCCESS) ? fresh : NULL;
    return rv;
}
