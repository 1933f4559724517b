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

/** True when the session has a refresh token and its ID token expires within margin. */
int olo_refresh_due(const olo_session_t *session, apr_interval_time_t margin, apr_time_t now);

/**
 * Redeems the session's refresh token and verifies the new ID token like a login's (signature,
 * iss, aud, azp, exp, iat) without a nonce, and with the same sub (OIDC Core 12.2). The new
 * session keeps id, created and expires, takes the new ID token, its expiry, the new refresh
 * token when one came (else the old) and the claims. OLO_R_REFRESH_FAILED with the provider's
 * words in out->detail when the token endpoint refuses; other reasons as for a login.
 */
apr_status_t olo_refresh_session(olo_session_t **pfresh, olo_outcome_t *out, apr_pool_t *p,
                                 const olo_provider_t *prov, const olo_client_t *client,
                                 const olo_session_t *session, apr_time_t now);

#endif
