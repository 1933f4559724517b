#ifndef OLO_STATE_H
#define OLO_STATE_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>
#include "olo_rand.h"
#include "../jwt/olo_reason.h"
#include "../jwt/olo_seal.h"

/**
 * A pending login: what the callback needs to finish it. It travels sealed in a cookie named
 * OLO_STATE_COOKIE_PREFIX + state, one per login in progress, so several tabs can log in at
 * once; the state value in the cookie name lets the callback find its cookie directly.
 */
#define OLO_STATE_COOKIE_PREFIX "olo_state_"
#define OLO_STATE_BYTES 24              /* 32 base64url characters */
#define OLO_STATE_TTL_SEC 600           /* a login left open longer starts again */
#define OLO_STATE_MAX_PENDING 8         /* older pending logins are dropped past this */

typedef struct olo_pending_t {
    const char *state;
    const char *nonce;
    const char *verifier;   /* PKCE code_verifier */
    const char *target;     /* local URL to land on after login */
    apr_time_t created;
} olo_pending_t;

/** A new pending login with fresh state, nonce and verifier. target must already be local. */
apr_status_t olo_state_new(olo_pending_t **ppending, apr_pool_t *p, olo_rand_fn rand,
                           const char *target, apr_time_t now);

/** True when state has the shape this module issues (base64url, 16..64 characters). */
int olo_state_is_well_formed(const char *state);

/** OLO_STATE_COOKIE_PREFIX + state. */
const char *olo_state_cookie_name(apr_pool_t *p, const char *state);

/** Seals pending for its cookie (the cookie name is the additional data). */
apr_status_t olo_state_seal(const char **pvalue, apr_pool_t *p, const olo_seal_key_t *key,
                            const olo_pending_t *pending);

/**
 * Opens the cookie value sealed for `state`. Refuses a malformed state, a missing value, a
 * value that does not decrypt or parse, whose state differs, or created more than 60 s in the
 * future (OLO_R_STATE_UNKNOWN), or as old as OLO_STATE_TTL_SEC (OLO_R_STATE_EXPIRED).
 * The returned target is re-checked as local ("/" otherwise). *preason (may be NULL) is
 * OLO_OK on success.
 */
apr_status_t olo_state_open(olo_pending_t **ppending, olo_reason_t *preason, apr_pool_t *p,
                            const olo_seal_key_t *key, const char *state, const char *value,
                            apr_time_t now);

/**
 * Names of the pending-login cookies in cookie_header the browser should drop: those that no
 * longer open (tampered, expired, other secret) and the oldest beyond `keep` valid ones, so a
 * browser that starts many logins never carries more than OLO_STATE_MAX_PENDING of them.
 */
apr_array_header_t *olo_state_stale(apr_pool_t *p, const olo_seal_key_t *key,
                                    const char *cookie_header, int keep, apr_time_t now);

#endif
