#ifndef OLO_REFRESH_H
#define OLO_REFRESH_H

#include <apr_pools.h>
#include <apr_time.h>
#include "olo_login.h"
#include "olo_session.h"

/**
 * Renewing a session's ID token before it expires. OneLogin's ID tokens live far shorter than a
 * working day and OpenMetadata checks exp with no leeway, so the forwarded token is renewed a
 * margin ahead of its expiry with the refresh token (RFC 6749 section 6).
 */

/**
 * How long before its exp a session's ID token is renewed: margin (OneLoginRefreshMargin), but
 * at most half the token's lifetime (exp - iat), so a token that lives less than the margin is
 * not renewed at once, and its successor not at once again. margin when iat is unknown.
 */
apr_interval_time_t olo_refresh_margin(const olo_session_t *session, apr_interval_time_t margin);

/** True when the session has a refresh token and its ID token expires within the effective
 * margin (olo_refresh_margin). */
int olo_refresh_due(const olo_session_t *session, apr_interval_time_t margin, apr_time_t now);

/**
 * The cache key of kind ("rf:" the lock, "rs:" the result) for renewing this session's current
 * token: a digest of the session id and the token being replaced (the ID token, else the
 * refresh token). Two tokens that expire in the same second never share a lock; the next
 * renewal of the session takes a new one. NULL when hashing fails.
 */
const char *olo_refresh_key(apr_pool_t *p, const char *kind, const olo_session_t *session);

/** True for failures that say nothing about the session (the provider or the cache is
 * unreachable, or answered nonsense): a session whose ID token is still valid survives them.
 * False for refusals (invalid_grant, another subject, a renewed token that does not verify). */
int olo_refresh_failure_is_transient(olo_reason_t reason);

/**
 * Redeems the session's refresh token and verifies the new ID token like a login's (signature,
 * iss, aud, azp, exp, iat) without a nonce, and with the same sub (OIDC Core 12.2). The new
 * session keeps id, created and expires, takes the new ID token, its expiry, the new refresh
 * token when one came (else the old) and the claims. An answer without an ID token (OIDC Core
 * 12.2) keeps the session's identity and ID token and drops the refresh token, which cannot
 * renew it: success, with out->detail saying so. OLO_R_REFRESH_FAILED with the provider's
 * words in out->detail when the token endpoint refuses; other reasons as for a login.
 */
apr_status_t olo_refresh_session(olo_session_t **pfresh, olo_outcome_t *out, apr_pool_t *p,
                                 const olo_provider_t *prov, const olo_client_t *client,
                                 const olo_session_t *session, apr_time_t now);

#endif
