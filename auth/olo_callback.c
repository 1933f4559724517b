/* The redirect URI: what the provider sends back, and redeeming it for a session. */
#include <string.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include "olo_login.h"
#include "olo_token.h"
#include "olo_url.h"

#define OLO_CALLBACK_MAX_QUERY 8192
#define OLO_CALLBACK_MAX_CODE 2048
#define OLO_CALLBACK_MAX_ERROR 64

/* Keeps a provider error code printable and short: it ends up in a log line and a page. */
static const char *olo_callback_sanitise(apr_pool_t *p, const char *s)
{
    char *out = apr_pstrndup(p, s, OLO_CALLBACK_MAX_ERROR);
    for (char *c = out; *c; c++) {
        if (!apr_isalnum(*c) && *c != '_' && *c != '-' && *c != '.') {
            *c = '?';
        }
    }
    return out;
}

/* APR_ENOENT (absent) is fine for optional parameters; anything else is not. */
static apr_status_t olo_callback_param(const char **pvalue, apr_pool_t *p, const char *query,
                                       const char *name)
{
    apr_status_t rv = olo_url_query_get(pvalue, p, query, name);
    if (rv == APR_ENOENT) {
        *pvalue = NULL;
        return APR_SUCCESS;
    }
    return rv;
}

apr_status_t olo_callback_parse(olo_callback_params_t **pparams, olo_outcome_t *out,
                                apr_pool_t *p, const char *query)
{
    olo_callback_params_t *params = apr_pcalloc(p, sizeof(*params));
    const char *error = NULL;
    apr_status_t rv = APR_EINVAL;

    if (!query || strlen(query) > OLO_CALLBACK_MAX_QUERY) {
        olo_outcome_set(out, rv, OLO_R_CALLBACK_INVALID, "callback without a query, or oversized");
        goto cleanup;
    }
    if (olo_callback_param(&params->state, p, query, "state") != APR_SUCCESS
        || olo_callback_param(&params->code, p, query, "code") != APR_SUCCESS
        || olo_callback_param(&error, p, query, "error") != APR_SUCCESS) {
        olo_outcome_set(out, rv, OLO_R_CALLBACK_INVALID, "callback parameter repeated or malformed");
        goto cleanup;
    }
    if (!params->state || !olo_state_is_well_formed(params->state)) {
        olo_outcome_set(out, rv, OLO_R_CALLBACK_INVALID, "callback without a well-formed state");
        goto cleanup;
    }
    if (params->code && (!*params->code || strlen(params->code) > OLO_CALLBACK_MAX_CODE)) {
        olo_outcome_set(out, rv, OLO_R_CALLBACK_INVALID, "callback code empty or oversized");
        goto cleanup;
    }
    params->error = error ? olo_callback_sanitise(p, error) : NULL;
    if (!params->error && !params->code) {
        olo_outcome_set(out, rv, OLO_R_CALLBACK_INVALID, "callback with neither code nor error");
        goto cleanup;
    }
    rv = olo_outcome_set(out, APR_SUCCESS, OLO_OK, NULL);
cleanup:
    *pparams = (rv == APR_SUCCESS) ? params : NULL;
    return rv;
}

apr_status_t olo_callback_post_token(olo_tokens_t **ptokens, olo_outcome_t *out, apr_pool_t *p,
                                     const olo_provider_t *prov, const olo_metadata_t *md,
                                     const olo_client_t *client, const char *grant_form,
                                     apr_time_t now)
{
    olo_http_response_t *resp = NULL;
    const char *error = NULL;
    /* A confidential client authenticates with client_secret_basic and sends no secret in
     * the body (RFC 6749 2.3.1); a public one named itself in the form. */
    const char *auth = client->client_secret
                           ? olo_token_basic_auth(p, client->client_id, client->client_secret)
                           : NULL;
    apr_status_t rv = olo_provider_recall(out, p, prov, md->token_endpoint);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = prov->http->fetch(&resp, &error, p, prov->http->baton, md->token_endpoint, grant_form,
                           auth);
    if (rv != APR_SUCCESS) {
        olo_outcome_set(out, rv, OLO_R_PROVIDER_UNREACHABLE,
                        apr_psprintf(p, "POST %s: %s", md->token_endpoint, error));
        /* Only a provider that could not be reached is remembered: an error status may
         * concern this one code or refresh token. */
        olo_provider_remember(prov, p, md->token_endpoint, out, now);
        return rv;
    }
    const char *why = NULL;
    rv = olo_token_parse(ptokens, &out->reason, &error, &why, p, resp->status, resp->body,
                         resp->len);
    if (rv != APR_SUCCESS) {
        out->detail = apr_psprintf(p, "token endpoint answered HTTP %d: %s", resp->status, why);
    }
    return rv;
}

apr_status_t olo_callback_grant(olo_tokens_t **ptokens, json_t **pclaims, olo_outcome_t *out,
                                apr_pool_t *p, const olo_provider_t *prov,
                                const olo_client_t *client, const char *grant_form,
                                const olo_expect_t *want, int id_token_optional, apr_time_t now)
{
    olo_metadata_t *md = NULL;
    olo_tokens_t *tokens = NULL;
    json_t *claims = NULL;
    apr_status_t rv = olo_provider_metadata(&md, out, p, prov, now);
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    rv = olo_callback_post_token(&tokens, out, p, prov, md, client, grant_form, now);
    if (rv != APR_SUCCESS || (!tokens->id_token && id_token_optional)) {
        goto cleanup;
    }
    if (!tokens->id_token) {
        /* OIDC Core 3.1.3.3: the answer to an authorization code grant for openid has one */
        rv = olo_outcome_set(out, APR_EINVAL, OLO_R_PROVIDER_BAD_RESPONSE,
                             "no id_token in the token endpoint's answer");
        goto cleanup;
    }
    rv = olo_login_verify_token(&claims, out, p, prov, md, tokens->id_token, want,
                                OLO_JWKS_REFETCH, now);
cleanup:
    *ptokens = (rv == APR_SUCCESS) ? tokens : NULL;
    *pclaims = (rv == APR_SUCCESS) ? claims : NULL;
    return rv;
}

apr_status_t olo_callback_finish(olo_session_t **psession, olo_outcome_t *out, apr_pool_t *p,
                                 const olo_provider_t *prov, const olo_client_t *client,
                                 const olo_pending_t *pending, const char *code, olo_rand_fn rand,
                                 apr_time_t now)
{
    olo_tokens_t *tokens = NULL;
    json_t *claims = NULL;
    olo_session_t *session = NULL;
    /* just issued: the token endpoint dates it by the provider's clock as it answers */
    olo_expect_t want = {prov->issuer, client->client_id, pending->nonce, client->skew,
                         apr_time_from_sec(OLO_STATE_TTL_SEC), 1};
    const char *form = olo_token_code_form(p, code, client->redirect_uri, client->client_id,
                                           pending->verifier, client->client_secret == NULL);
    apr_status_t rv = olo_callback_grant(&tokens, &claims, out, p, prov, client, form, &want, 0,
                                         now);
    if (rv == APR_SUCCESS) {
        rv = olo_login_session(&session, out, p, claims, client, tokens, rand, now);
    }
    *psession = (rv == APR_SUCCESS) ? session : NULL;
    return rv;
}
