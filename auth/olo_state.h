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
/* Remembers, sealed, the pending logins the cap dropped, so their callbacks can say so. */
#define OLO_STATE_DROPPED_COOKIE "olo_dropped"
#define OLO_STATE_DROPPED_MAX_BYTES 1024    /* its JSON: 8 logins with targets of ~60 bytes */

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

/**
 * olo_state_stale, and *pdropped the pending logins (olo_pending_t *, oldest first) among them
 * that were still valid: dropped only because `keep` newer ones remain.
 */
apr_array_header_t *olo_state_stale_dropped(apr_array_header_t **pdropped, apr_pool_t *p,
                                            const olo_seal_key_t *key, const char *cookie_header,
                                            int keep, apr_time_t now);

/**
 * The new value of the OLO_STATE_DROPPED_COOKIE cookie: the state, target and birth of each of
 * `dropped` (olo_pending_t *, oldest first), then what `current` (its present value, may be
 * NULL; ignored when it does not open) remembers, newest first, leaving out logins as old as
 * OLO_STATE_TTL_SEC, and the oldest beyond OLO_STATE_MAX_PENDING entries or
 * OLO_STATE_DROPPED_MAX_BYTES of JSON. APR_NOTFOUND when nothing is left to remember.
 */
apr_status_t olo_state_dropped_add(const char **pvalue, apr_pool_t *p, const olo_seal_key_t *key,
                                   const char *current, const apr_array_header_t *dropped,
                                   apr_time_t now);

/**
 * The target (re-checked as local) of the pending login `state` that the dropped-logins cookie
 * `value` remembers. APR_NOTFOUND when it does not: no cookie, tampered, another secret, not
 * listed, or as old as OLO_STATE_TTL_SEC.
 */
apr_status_t olo_state_dropped_find(const char **ptarget, apr_pool_t *p, const olo_seal_key_t *key,
                                    const char *value, const char *state, apr_time_t now);

#endif
