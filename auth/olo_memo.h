#ifndef OLO_MEMO_H
#define OLO_MEMO_H

#include <apr_pools.h>
#include "olo_session.h"

/**
 * What opening a sealed session produced, remembered per process: a browser sends the same
 * cookie with every request, and opening it (base64url, AES-GCM, JSON) costs far more than the
 * rest of the request. A hit costs one comparison of the whole sealed text and one copy.
 *
 * Direct-mapped and bounded: `slots` entries at most (a power of two), a new value evicts the
 * one in its slot. Keyed by the exact sealed text, so only a value that opened before (with
 * this key: one memo per key) is answered, and the answer is what opening it gave. Safe to
 * share between threads (one mutex, held for a comparison and a copy).
 */
typedef struct olo_memo_t olo_memo_t;

/** A memo of `slots` entries (rounded up to a power of two, at least 1); malloc'd storage
 * freed with p. APR_ENOMEM or a mutex failure otherwise. */
apr_status_t olo_memo_create(olo_memo_t **pmemo, apr_pool_t *p, apr_size_t slots);

/** The session opened from sealed before, copied into p, or NULL. */
olo_session_t *olo_memo_get(olo_memo_t *memo, apr_pool_t *p, const char *sealed);

/** Remembers that sealed opened to session (both copied). */
void olo_memo_put(olo_memo_t *memo, const char *sealed, const olo_session_t *session);

/**
 * olo_session_open with a memo in front: a value opened before is answered from it (with the
 * expiry checked against now, as opening would); otherwise opened and, when it opens,
 * remembered. memo may be NULL (plain olo_session_open).
 */
apr_status_t olo_session_open_memo(olo_session_t **psession, olo_reason_t *preason,
                                   apr_pool_t *p, const olo_seal_key_t *key, olo_memo_t *memo,
                                   const char *value, apr_time_t now);

/**
 * olo_session_handle_open with a memo in front (memo may be NULL). Use a memo of its own for
 * handles: what it keeps for a handle is a session of which only the id is set.
 */
apr_status_t olo_session_handle_open_memo(const char **pid, apr_pool_t *p,
                                          const olo_seal_key_t *key, olo_memo_t *memo,
                                          const char *value);

#endif
