#ifndef OLO_CACHE_H
#define OLO_CACHE_H

#include <apr_pools.h>
#include <apr_time.h>

/**
 * The shared-state seam: in httpd a mod_socache provider (shmcb, redis, memcache) so all
 * children and nodes share one copy; in unit tests a table.
 * retrieve: APR_NOTFOUND when absent or expired. claim: stores key only when absent,
 * APR_EEXIST when it was already there (single-use values: states, refresh locks).
 * Any other status means the cache itself failed.
 *
 * Keys are written "kind:name" ("sl:<session id>"); the kind says what the entry is and,
 * below, where it lives and what losing it early means (docs/security.md, "Shared state").
 */
typedef struct olo_cache_t {
    void *baton;
    apr_status_t (*store)(void *baton, apr_pool_t *p, const char *key, const char *value,
                          apr_size_t len, apr_time_t expiry);
    apr_status_t (*retrieve)(void *baton, apr_pool_t *p, const char *key, char **pvalue,
                             apr_size_t *plen);
    apr_status_t (*claim)(void *baton, apr_pool_t *p, const char *key, apr_time_t expiry);
    apr_status_t (*remove)(void *baton, apr_pool_t *p, const char *key);
} olo_cache_t;

/*
 * The kinds, and what each may lose. Every answer to a forgotten entry fails closed:
 *   sl  a cookie-store session is live (the allow-list). Gone: the session is over; the user
 *       logs in again. Never written by an unauthenticated request.
 *   rv  a session was logged out. Only tells "logged out" from "forgotten" in logs and
 *       counters; no decision depends on it.
 *   ss  a server-store session. Gone: the session is over.
 *   st  a login state was used. Gone early: a replayed callback reaches the provider, which
 *       redeems a code once (RFC 6749 4.1.2) and checks its PKCE verifier.
 *   bv  a bearer token verified under one policy. Gone: the token is verified again.
 *   rf, rs  a renewal in flight and its result. Gone: the request renews or waits again.
 *   md, jwks  provider documents. Gone: fetched again.
 *   jr  an unknown kid in a client's bearer token made us refetch a JWKS (the rate limit).
 *       Gone early: one more refetch is allowed.
 *   pf  a fetch from the provider (by URL) is in flight, or failed moments ago. Gone early:
 *       one more request asks the provider (and waits for its timeout if it hangs).
 */
#define OLO_CACHE_KIND_MAX 8        /* longest kind, without the colon */
#define OLO_CACHE_HASH_BYTES 16     /* 128 bits of SHA-256: collisions need 2^64 keys */
#define OLO_CACHE_ID_MAX (OLO_CACHE_HASH_BYTES + OLO_CACHE_KIND_MAX)

/** Where an entry lives: mod_socache_shmcb evicts the oldest entry of a full segment before
 * it expires, so entries that logins depend on get a segment no anonymous request writes to.
 * Network caches hold every part in one instance. */
typedef enum {
    OLO_CACHE_PART_SHARED,      /* provider documents, verdicts, renewals */
    OLO_CACHE_PART_SESSIONS,    /* sl, rv, ss: written only for logged-in users */
    OLO_CACHE_PART_STATES,      /* st: written by anyone who completes a callback */
    OLO_CACHE_PART__COUNT
} olo_cache_part_t;

/**
 * The id the socache provider sees for key "kind:name": the first OLO_CACHE_HASH_BYTES of
 * SHA-256 over the whole key, then the kind. Uniform first bytes, so shmcb spreads entries
 * over all its sub-caches (it picks one by the id's first byte), and no token or session id
 * reaches the cache's key space. Returns the id's length; 0 when the key has no kind of at
 * most OLO_CACHE_KIND_MAX characters before a colon, or SHA-256 fails.
 */
apr_size_t olo_cache_id(unsigned char id[OLO_CACHE_ID_MAX], const char *key);

/** The part a key's kind lives in (unknown kinds: OLO_CACHE_PART_SHARED). */
olo_cache_part_t olo_cache_part(const char *key);

/** The largest value an entry of that key's kind holds: a small read buffer for markers. */
apr_size_t olo_cache_value_max(const char *key);

#endif
