#ifndef OLO_BEARER_H
#define OLO_BEARER_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <jansson.h>
#include "olo_login.h"
#include "../jwt/olo_claims.h"

/**
 * Requests that carry their own `Authorization: Bearer <JWT>`: the OpenMetadata web app's ID
 * token, a bot or ingestion JWT, a personal access token. Trusted when signed by the issuer's
 * keys (then it must be an ID token for this client) or by a key of an extra JWKS
 * (OneLoginBearerJWKS, then the bearer policy applies).
 */

#define OLO_BEARER_MAX_BYTES (16 * 1024)

typedef struct olo_bearer_policy_t {
    const apr_array_header_t *jwks_uris;    /* extra key sets (const char *), NULL: none */
    olo_bearer_expect_t expect;             /* what their tokens must say */
    const char *const *user_claims;         /* where the identity comes from (REMOTE_USER) */
} olo_bearer_policy_t;

/**
 * The token of an `Authorization: Bearer <token>` header value (scheme case-insensitive),
 * or NULL when the header is absent, of another scheme, empty or oversized.
 */
const char *olo_bearer_token(const char *authorization);

/**
 * Verifies token: first with the issuer's keys and the login rules without a nonce (iss, aud
 * and azp for this client, exp, iat), then, when those keys do not hold its kid, with each
 * extra key set and the policy; a token of an extra set that claims the provider's issuer is
 * refused (OLO_R_ISS_MISMATCH). Whatever the clock skew allows elsewhere, a token past its exp
 * is refused (the backend checks exp without leeway). *pclaims (owned by p) on success.
 */
apr_status_t olo_bearer_verify(json_t **pclaims, olo_outcome_t *out, apr_pool_t *p,
                               const olo_provider_t *prov, const olo_client_t *client,
                               const olo_bearer_policy_t *policy, const char *token,
                               apr_time_t now);

/**
 * A digest (base64url SHA-256) of everything a verdict on a token depends on: the provider's
 * issuer and the client id (for the provider's own tokens), the extra key sets, the issuers
 * and audiences they must name, RequireExp, the clock skew and the user claims (the verdict
 * holds the identity they picked). A cached verdict is keyed and
 * sealed under it, so a token accepted under one policy is judged again under another.
 * Policies that differ in any field, or in how a list splits into values, differ here; an
 * unset list (any) differs from an empty one. NULL when hashing fails.
 */
const char *olo_bearer_policy_digest(apr_pool_t *p, const char *issuer, const char *client_id,
                                     const olo_bearer_policy_t *policy);

#endif
