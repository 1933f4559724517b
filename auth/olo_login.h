#ifndef OLO_LOGIN_H
#define OLO_LOGIN_H

#include <apr_pools.h>
#include <apr_time.h>
#include "olo_discovery.h"
#include "olo_provider.h"
#include "olo_session.h"
#include "olo_state.h"
#include "olo_token.h"
#include "../jwt/olo_claims.h"

/** This relying party as the provider knows it, plus what a session must hold. */
typedef struct olo_client_t {
    const char *client_id;
    const char *client_secret;      /* NULL: public client, PKCE only ("None (PKCE)") */
    const char *redirect_uri;       /* absolute */
    const char *scope;
    const char *const *user_claims; /* NULL-terminated; the first present becomes REMOTE_USER */
    apr_interval_time_t skew;
    apr_interval_time_t session_max_age;
} olo_client_t;

/**
 * The authorization request for a pending login (OIDC Core 3.1.2.1 with RFC 7636):
 * response_type=code, client_id, redirect_uri, scope, state, nonce, code_challenge and
 * code_challenge_method=S256, appended to the authorization endpoint. Allocated from p.
 */
const char *olo_login_url(apr_pool_t *p, const olo_metadata_t *md, const olo_client_t *client,
                          const olo_pending_t *pending);

/** The parameters of a request to the redirect URI. */
typedef struct olo_callback_params_t {
    const char *state;
    const char *code;
    const char *error;          /* the provider refused: error=..., sanitised */
} olo_callback_params_t;

/**
 * Reads state, code and error from the callback query. OLO_R_CALLBACK_INVALID (APR_EINVAL)
 * for a missing or malformed state, a repeated parameter, or an oversized query.
 */
apr_status_t olo_callback_parse(olo_callback_params_t **pparams, olo_outcome_t *out,
                                apr_pool_t *p, const char *query);

/**
 * Finishes a login: redeems code with the pending login's PKCE verifier at the token
 * endpoint, verifies the ID token (signature against the JWKS, refetched once on an unknown
 * kid, then iss, aud, azp, exp, iat, nbf and the pending nonce) and builds the session.
 */
apr_status_t olo_callback_finish(olo_session_t **psession, olo_outcome_t *out, apr_pool_t *p,
                                 const olo_provider_t *prov, const olo_client_t *client,
                                 const olo_pending_t *pending, const char *code, olo_rand_fn rand,
                                 apr_time_t now);

/**
 * POSTs a grant form to the token endpoint, authenticating a confidential client with
 * client_secret_basic, and parses the answer (olo_token_parse). A token endpoint that could
 * not be reached is remembered (olo_provider_remember): until the mark ends, a POST fails at
 * once with OLO_R_PROVIDER_UNREACHABLE (prov->marked is told).
 */
apr_status_t olo_callback_post_token(olo_tokens_t **ptokens, olo_outcome_t *out, apr_pool_t *p,
                                     const olo_provider_t *prov, const olo_metadata_t *md,
                                     const olo_client_t *client, const char *grant_form,
                                     apr_time_t now);

/**
 * A token grant from start to verified claims: discovery, the POST of grant_form, and the ID
 * token in the answer checked against want (signature, then claims). An answer without an ID
 * token is OLO_R_PROVIDER_BAD_RESPONSE, unless id_token_optional (a refresh, OIDC Core 12.2):
 * then success with tokens->id_token and *pclaims NULL.
 */
apr_status_t olo_callback_grant(olo_tokens_t **ptokens, json_t **pclaims, olo_outcome_t *out,
                                apr_pool_t *p, const olo_provider_t *prov,
                                const olo_client_t *client, const char *grant_form,
                                const olo_expect_t *want, int id_token_optional, apr_time_t now);

/**
 * Verifies an ID token with the provider's keys, then checks its claims against want. When
 * the cached keys lack its kid (key rotation) they are fetched again as on_unknown_kid says:
 * OLO_JWKS_REFETCH for a token from the token endpoint, OLO_JWKS_REFETCH_LIMITED for one a
 * client presents.
 */
apr_status_t olo_login_verify_token(json_t **pclaims, olo_outcome_t *out, apr_pool_t *p,
                                    const olo_provider_t *prov, const olo_metadata_t *md,
                                    const char *id_token, const olo_expect_t *want,
                                    olo_jwks_want_t on_unknown_kid, apr_time_t now);


/**
 * The value of the first of names (NULL-terminated) that claims holds as a non-empty string
 * (or number, or array, as olo_claims_text renders them), with *pclaim naming it; NULL when
 * none is present. OpenMetadata picks its principal the same way (jwtPrincipalClaims).
 */
const char *olo_login_user(apr_pool_t *p, json_t *claims, const char *const *names,
                           const char **pclaim);

/**
 * Fills the identity of session (user, sub, email, name, groups, tokens and the ID token's
 * expiry and issue time) from verified claims; the user is the first present user claim.
 * OLO_R_USER_CLAIM_MISSING when none is present, OLO_R_USER_CLAIM_INVALID when the chosen
 * one holds control characters.
 */
apr_status_t olo_login_identity(olo_session_t *session, olo_outcome_t *out, apr_pool_t *p,
                                json_t *claims, const olo_client_t *client,
                                const olo_tokens_t *tokens);

/**
 * A session from verified claims and the tokens that carried them, with a fresh random id;
 * OLO_R_USER_CLAIM_MISSING when the user claim is absent.
 */
apr_status_t olo_login_session(olo_session_t **psession, olo_outcome_t *out, apr_pool_t *p,
                               json_t *claims, const olo_client_t *client,
                               const olo_tokens_t *tokens, olo_rand_fn rand, apr_time_t now);

#endif
