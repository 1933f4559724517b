/* Starting a login and turning a verified ID token into a session. */
#include <apr_strings.h>
#include "olo_login.h"
#include "olo_pkce.h"
#include "olo_rand.h"
#include "olo_url.h"
#include "../jwt/olo_jws.h"

const char *olo_login_url(apr_pool_t *p, const olo_metadata_t *md, const olo_client_t *client,
                          const olo_pending_t *pending)
{
    const char *url = md->authorization_endpoint;
    url = olo_url_add_param(p, url, "response_type", "code");
    url = olo_url_add_param(p, url, "client_id", client->client_id);
    url = olo_url_add_param(p, url, "redirect_uri", client->redirect_uri);
    url = olo_url_add_param(p, url, "scope", client->scope);
    url = olo_url_add_param(p, url, "state", pending->state);
    url = olo_url_add_param(p, url, "nonce", pending->nonce);
    url = olo_url_add_param(p, url, "code_challenge", olo_pkce_challenge(p, pending->verifier));
    return olo_url_add_param(p, url, "code_challenge_method", "S256");
}

static apr_status_t olo_login_verify_with(olo_jws_t **pjws, olo_outcome_t *out, apr_pool_t *p,
                                          const olo_provider_t *prov, const char *jwks_uri,
                                          const char *id_token, olo_jwks_want_t want,
                                          apr_time_t now)
{
    olo_jwks_t *jwks = NULL;
    apr_status_t rv = olo_provider_jwks(&jwks, out, p, prov, jwks_uri, want, now);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    return olo_jws_verify(pjws, &out->reason, p, id_token, jwks, olo_jws_default_algs);
}

static apr_status_t olo_login_check_signature(olo_jws_t **pjws, olo_outcome_t *out,
                                              apr_pool_t *p, const olo_provider_t *prov,
                                              const olo_metadata_t *md, const char *id_token,
                                              olo_jwks_want_t on_unknown_kid, apr_time_t now)
{
    apr_status_t rv = olo_login_verify_with(pjws, out, p, prov, md->jwks_uri, id_token,
                                            OLO_JWKS_CACHED, now);
    if (rv == APR_SUCCESS || out->reason != OLO_R_KID_UNKNOWN
        || on_unknown_kid == OLO_JWKS_CACHED) {
        return rv;
    }
    if (on_unknown_kid == OLO_JWKS_REFETCH) {
        /* The provider rotated its keys. olo_provider_jwks lets one request fetch them; the
         * others that arrive meanwhile wait for its result. */
        return olo_login_verify_with(pjws, out, p, prov, md->jwks_uri, id_token,
                                     OLO_JWKS_REFETCH, now);
    }
    /* A client's token: ask again only within the rate limit olo_provider_jwks enforces. */
    olo_outcome_t refetch = {OLO_OK, NULL};
    olo_jwks_t *jwks = NULL;
    if (olo_provider_jwks(&jwks, &refetch, p, prov, md->jwks_uri, on_unknown_kid, now)
        != APR_SUCCESS) {
        out->detail = refetch.detail;
        return rv;
    }
    return olo_jws_verify(pjws, &out->reason, p, id_token, jwks, olo_jws_default_algs);
}

static int olo_login_time_refusal(olo_reason_t reason)
{
    return reason == OLO_R_EXPIRED || reason == OLO_R_IAT_INVALID || reason == OLO_R_NBF_FUTURE
           || reason == OLO_R_CLOCK_SKEW;
}

apr_status_t olo_login_verify_token(json_t **pclaims, olo_outcome_t *out, apr_pool_t *p,
                                    const olo_provider_t *prov, const olo_metadata_t *md,
                                    const char *id_token, const olo_expect_t *want,
                                    olo_jwks_want_t on_unknown_kid, apr_time_t now)
{
    olo_jws_t *jws = NULL;
    json_t *claims = NULL;
    apr_status_t rv = olo_login_check_signature(&jws, out, p, prov, md, id_token,
                                                on_unknown_kid, now);
    if (rv != APR_SUCCESS) {
        if (!out->detail) {
            out->detail = out->reason == OLO_R_TOKEN_MALFORMED
                              ? "ID token does not parse (segments, JSON or size)"
                              : "ID token signature refused";
        }
        goto cleanup;
    }
    rv = olo_claims_check(&out->reason, jws->claims, want, now);
    if (rv != APR_SUCCESS) {
        out->detail = apr_psprintf(p, "ID token (kid %s) claims refused",
                                   jws->kid ? jws->kid : "none");
        if (olo_login_time_refusal(out->reason)) {
            /* the times decide between an old token and clocks apart: the operator needs them */
            out->detail = apr_pstrcat(p, out->detail, ": ",
                                      olo_claims_times(p, jws->claims, want->skew, now), NULL);
        }
        goto cleanup;
    }
    claims = jws->claims;
cleanup:
    *pclaims = (rv == APR_SUCCESS) ? claims : NULL;
    return rv;
}

const char *olo_login_user(apr_pool_t *p, json_t *claims, const char *const *names,
                           const char **pclaim)
{
    for (int i = 0; names && names[i]; i++) {
        const char *value = olo_claims_text(p, claims, names[i]);
        if (value && *value) {
            *pclaim = names[i];
            return value;
        }
    }
    *pclaim = NULL;
    return NULL;
}

apr_status_t olo_login_identity(olo_session_t *session, olo_outcome_t *out, apr_pool_t *p,
                                json_t *claims, const olo_client_t *client,
                                const olo_tokens_t *tokens)
{
    const char *claim = NULL;
    const char *user = olo_login_user(p, claims, client->user_claims, &claim);
    if (!user) {
        const char *names = "";
        for (int i = 0; client->user_claims && client->user_claims[i]; i++) {
            names = apr_pstrcat(p, names, i ? ", " : "", "'", client->user_claims[i], "'", NULL);
        }
        return olo_outcome_set(out, APR_EINVAL, OLO_R_USER_CLAIM_MISSING,
                               apr_psprintf(p, "the token has none of the claims %s "
                                            "(OneLoginRemoteUserClaim)", names));
    }
    /* REMOTE_USER travels in headers (RequestHeader, mod_proxy) and logs: a CR or LF would split
     * a header at the backend, other controls make strict parsers refuse the request. */
    if (!olo_session_is_printable(user)) {
        return olo_outcome_set(out, APR_EINVAL, OLO_R_USER_CLAIM_INVALID,
                               apr_psprintf(p, "the '%s' claim holds control characters",
                                            claim));
    }
    json_t *exp = json_object_get(claims, "exp");
    json_t *iat = json_object_get(claims, "iat");
    session->user = user;
    session->sub = olo_claims_string(claims, "sub");
    session->email = olo_claims_string(claims, "email");
    session->name = olo_claims_string(claims, "name");
    session->groups = olo_claims_text(p, claims, "groups");
    session->id_token = tokens->id_token;
    session->refresh_token = tokens->refresh_token;
    session->token_expires = json_is_number(exp) ? apr_time_from_sec(json_number_value(exp)) : 0;
    session->token_issued = json_is_number(iat) ? apr_time_from_sec(json_number_value(iat)) : 0;
    olo_session_mark_printable(session);
    return olo_outcome_set(out, APR_SUCCESS, OLO_OK, NULL);
}

apr_status_t olo_login_session(olo_session_t **psession, olo_outcome_t *out, apr_pool_t *p,
                               json_t *claims, const olo_client_t *client,
                               const olo_tokens_t *tokens, olo_rand_fn rand, apr_time_t now)
{
    olo_session_t *session = apr_pcalloc(p, sizeof(*session));
    apr_status_t rv = olo_login_identity(session, out, p, claims, client, tokens);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    session->id = olo_rand_token(p, rand, OLO_SESSION_ID_BYTES);
    if (!session->id) {
        return olo_outcome_set(out, APR_EGENERAL, OLO_R_COOKIE_INVALID, "no random session id");
    }
    session->created = now;
    session->expires = now + client->session_max_age;
    session->last_seen = now;
    *psession = session;
    return APR_SUCCESS;
}
