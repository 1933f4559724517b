/* Renewing the ID token of a session with its refresh token. */
#include <string.h>
#include <apr_strings.h>
#include "olo_refresh.h"
#include "olo_token.h"

int olo_refresh_due(const olo_session_t *session, apr_interval_time_t margin, apr_time_t now)
{
    return session->refresh_token && session->token_expires > 0
           && now + margin >= session->token_expires;
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
                         apr_time_from_sec(OLO_STATE_TTL_SEC)};
    const char *form = olo_token_refresh_form(p, session->refresh_token, client->client_id,
                                              client->client_secret == NULL);
    apr_status_t rv = olo_callback_grant(&tokens, &claims, out, p, prov, client, form, &want, now);
    if (rv == APR_SUCCESS) {
        rv = olo_refresh_merge(&fresh, out, p, client, session, claims, tokens, now);
    }
    else if (out->reason == OLO_R_TOKEN_ENDPOINT_ERROR) {
        out->reason = OLO_R_REFRESH_FAILED;
    }
    *pfresh = (rv == APR_SUCCESS) ? fresh : NULL;
    return rv;
}
