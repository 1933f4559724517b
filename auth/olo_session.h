#ifndef OLO_SESSION_H
#define OLO_SESSION_H

#include <apr_pools.h>
#include <apr_time.h>
#include <jansson.h>
#include "../jwt/olo_reason.h"
#include "../jwt/olo_seal.h"

#define OLO_SESSION_COOKIE "olo_session"

/** What a logged-in browser carries, sealed, in its session cookie. */
typedef struct olo_session_t {
    const char *id;         /* random; names the session in the cache (revocation, refresh) */
    const char *user;       /* REMOTE_USER: the RemoteUserClaim value */
    const char *sub;
    const char *email;      /* NULL when the token has none */
    const char *name;
    const char *groups;     /* comma-joined, NULL when absent */
    const char *id_token;   /* forwarded to the backend; NULL when not kept */
    const char *refresh_token;  /* NULL when the provider gave none */
    apr_time_t token_expires;   /* the ID token's exp; 0 when unknown */
    apr_time_t token_issued;    /* the ID token's iat; 0 when unknown (older cookies) */
    apr_time_t created;     /* login time */
    apr_time_t expires;     /* created + OneLoginSessionMaxAge */
    apr_time_t last_seen;   /* last request, to the granularity of olo_session_needs_touch */
    unsigned printable;     /* OLO_SESSION_PRINTABLE_* bits: fields fit for a request header */
} olo_session_t;

/* Claims are the provider's data: one holding a control character (a CR or LF would split a
 * header at the backend) is kept but never sent as a header. Worked out once per session
 * (olo_session_mark_printable), so a remembered session is not scanned on every request; a
 * bit left clear is the safe default. */
#define OLO_SESSION_PRINTABLE_USER   (1u << 0)
#define OLO_SESSION_PRINTABLE_EMAIL  (1u << 1)
#define OLO_SESSION_PRINTABLE_NAME   (1u << 2)
#define OLO_SESSION_PRINTABLE_GROUPS (1u << 3)

/** True when s holds no control character but HTAB: safe as an HTTP header value. */
int olo_session_is_printable(const char *s);

/** Sets session->printable from its user, email, name and groups (absent ones stay clear). */
void olo_session_mark_printable(olo_session_t *session);

#define OLO_SESSION_ID_BYTES 18     /* 24 base64url characters */

/** Seals the session for the OLO_SESSION_COOKIE cookie; NULL members are left out.
 * APR_EINVAL when user or sub is NULL or empty. Times are kept to the second. */
apr_status_t olo_session_seal(const char **pvalue, apr_pool_t *p, const olo_seal_key_t *key,
                              const olo_session_t *session);

/** olo_session_seal with other additional data than the cookie name: for what is kept
 * elsewhere (a cached bearer verdict), so it never opens as a session cookie. */
apr_status_t olo_session_seal_as(const char **pvalue, apr_pool_t *p, const olo_seal_key_t *key,
                                 const char *aad, const olo_session_t *session);

/**
 * Opens a session cookie value: OLO_R_COOKIE_INVALID when it does not decrypt or parse,
 * OLO_R_SESSION_EXPIRED when now >= expires. Strings are allocated from p.
 */
apr_status_t olo_session_open(olo_session_t **psession, olo_reason_t *preason, apr_pool_t *p,
                              const olo_seal_key_t *key, const char *value, apr_time_t now);

/** olo_session_open of a value sealed with olo_session_seal_as(aad). */
apr_status_t olo_session_open_as(olo_session_t **psession, olo_reason_t *preason, apr_pool_t *p,
                                 const olo_seal_key_t *key, const char *aad, const char *value,
                                 apr_time_t now);

/** True when the session saw no request for longer than idle (0: no idle limit). */
int olo_session_is_idle(const olo_session_t *session, apr_interval_time_t idle, apr_time_t now);

/**
 * True when last_seen should be moved to now and the cookie sent again: only every quarter
 * of the idle timeout (at least a second), so most requests set no cookie.
 */
int olo_session_needs_touch(const olo_session_t *session, apr_interval_time_t idle,
                            apr_time_t now);

/* ------------------------------------------------------------------------------------------
 * OneLoginSessionStore server: the cookie carries a sealed handle naming the session, and the
 * sealed session lives in the cache under olo_session_store_key(id). The handle is sealed so
 * that a cache reader who sees the ids in the keys still cannot make a cookie, and a made-up
 * cookie is refused before any cache look-up.
 */

/** Seals the handle cookie value for session id. */
apr_status_t olo_session_handle_seal(const char **pvalue, apr_pool_t *p,
                                     const olo_seal_key_t *key, const char *id);

/** The session id in a handle cookie; APR_EINVAL when it does not unseal to a well-formed id
 * (a session cookie of the cookie store, tampered, foreign). */
apr_status_t olo_session_handle_open(const char **pid, apr_pool_t *p, const olo_seal_key_t *key,
                                     const char *value);

/** The cache key of the session with that id. */
const char *olo_session_store_key(apr_pool_t *p, const char *id);

/** When the stored session is dropped from the cache: after the idle timeout (0: none), never
 * later than the session's own end. */
apr_time_t olo_session_store_expiry(const olo_session_t *session, apr_interval_time_t idle,
                                    apr_time_t now);

#endif
