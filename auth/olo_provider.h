#ifndef OLO_PROVIDER_H
#define OLO_PROVIDER_H

#include <apr_pools.h>
#include <apr_time.h>
#include "olo_cache.h"
#include "olo_discovery.h"
#include "olo_http.h"
#include "../jwt/olo_jwks.h"
#include "../jwt/olo_reason.h"

/** What the provider layer reports to an observer (the module's counters). */
typedef enum {
    OLO_PROVIDER_FETCH_DISCOVERY,   /* a discovery document asked of the network */
    OLO_PROVIDER_FETCH_JWKS,        /* a JWKS asked of the network (also for a refetch) */
    OLO_PROVIDER_REFETCH_JWKS,      /* ...early, before its TTL, for a token's unknown kid */
} olo_provider_event_t;

/** Which key set a caller wants, and how far an unknown kid may send us to the network. */
typedef enum {
    OLO_JWKS_CACHED,            /* the cached set; fetched only when absent or past its TTL */
    OLO_JWKS_REFETCH,           /* a fresh set: a token from the token endpoint, over verified
                                 * TLS, named a kid we do not hold (the provider rotated) */
    OLO_JWKS_REFETCH_LIMITED,   /* a fresh set unless an unknown kid forced one within the
                                 * refetch interval: a client's bearer token may invent kids */
} olo_jwks_want_t;

typedef void olo_provider_notify_fn(olo_provider_event_t event);

struct olo_outcome_t;
/** Told when a failure of url starts being remembered (`fresh`: once, by the request whose
 * fetch failed), and when a request is turned away by a remembered failure (`fresh` 0). */
typedef void olo_provider_marked_fn(void *baton, const char *url,
                                    const struct olo_outcome_t *out, int fresh);

/** How long a failed fetch is remembered, on every child and node: meanwhile a request that
 * needs that URL fails at once with the same reason instead of waiting for the provider. */
#define OLO_PROVIDER_MARK_SEC 5

/**
 * The provider as seen through the shared cache: discovery metadata and the JWKS are fetched
 * once, cached with a TTL for every child and node, and the JWKS is refetched early when a
 * token names an unknown kid: at once for the provider's own answers, at most once per refetch
 * interval for tokens that clients present.
 */
typedef struct olo_provider_t {
    const char *issuer;
    const olo_http_t *http;
    const olo_cache_t *cache;
    apr_interval_time_t metadata_ttl;
    apr_interval_time_t jwks_ttl;
    apr_interval_time_t jwks_refetch_interval;  /* between refetches that bearer kids force */
    olo_provider_notify_fn *notify; /* optional: told before each fetch (whatever its outcome) */
    /* Optional, all of them (zero: no waiting, `now` as the clock, nothing told): */
    apr_interval_time_t fetch_wait; /* how long a request waits for another's fetch of the same
                                     * document (the HTTP timeout and a little) */
    void (*pause)(apr_interval_time_t); /* sleeps between looks at that fetch */
    apr_time_t (*clock)(void);      /* the time after a fetch, when a failure's mark starts */
    olo_provider_marked_fn *marked;
    void *marked_baton;
} olo_provider_t;

/** What went wrong, for the log: reason plus words (never secrets or bodies). */
typedef struct olo_outcome_t {
    olo_reason_t reason;
    const char *detail;
} olo_outcome_t;

/**
 * The provider's metadata, from the cache or freshly discovered.
 * Failures: OLO_R_PROVIDER_UNREACHABLE (APR_TIMEUP, APR_ECONNREFUSED, APR_EGENERAL),
 * OLO_R_PROVIDER_BAD_RESPONSE or OLO_R_ISSUER_MISMATCH (APR_EINVAL),
 * OLO_R_CACHE_UNAVAILABLE.
 *
 * Discovery and JWKS fetches share this: one request at a time fetches a document, on any
 * child or node (a claim in the cache); the others wait up to fetch_wait for its result. A
 * failure is remembered for OLO_PROVIDER_MARK_SEC ("pf:" + URL): a fetch of that URL needed
 * meanwhile fails at once with the same reason (prov->marked is told). A document still
 * cached is served as ever, whatever is remembered.
 */
apr_status_t olo_provider_metadata(olo_metadata_t **pmd, olo_outcome_t *out, apr_pool_t *p,
                                   const olo_provider_t *prov, apr_time_t now);

/**
 * The signing keys at jwks_uri (the provider's, or another trusted set), as `want` says.
 * OLO_JWKS_REFETCH_LIMITED answers APR_EAGAIN (OLO_R_KID_UNKNOWN) when another limited refetch
 * of that set happened within jwks_refetch_interval, on any child or node: a flood of tokens
 * with invented kids cannot make us hammer the provider. Ordinary fetches (absent, past the
 * TTL) and OLO_JWKS_REFETCH never count against that limit.
 */
apr_status_t olo_provider_jwks(olo_jwks_t **pjwks, olo_outcome_t *out, apr_pool_t *p,
                               const olo_provider_t *prov, const char *jwks_uri,
                               olo_jwks_want_t want, apr_time_t now);

/**
 * Whether a login sent to the provider now can complete, as far as the module knows without
 * asking it: APR_SUCCESS unless the token endpoint or the JWKS of md was found unreachable
 * within OLO_PROVIDER_MARK_SEC (on any child or node); then APR_ECONNREFUSED with
 * OLO_R_PROVIDER_UNREACHABLE (prov->marked is told). A provider nobody asked lately counts
 * as up.
 */
apr_status_t olo_provider_check_reachable(olo_outcome_t *out, apr_pool_t *p,
                                          const olo_provider_t *prov, const olo_metadata_t *md);

/**
 * A remembered failure of url: APR_SUCCESS when there is none (or the cache cannot tell);
 * otherwise its reason in out, APR_ECONNREFUSED (unreachable) or APR_EINVAL (a bad answer),
 * and prov->marked is told.
 */
apr_status_t olo_provider_recall(olo_outcome_t *out, apr_pool_t *p, const olo_provider_t *prov,
                                 const char *url);

/**
 * Remembers for OLO_PROVIDER_MARK_SEC that url failed with out->reason, and tells
 * prov->marked, unless that failure is remembered already. Reasons other than
 * OLO_R_PROVIDER_UNREACHABLE, OLO_R_PROVIDER_BAD_RESPONSE and OLO_R_ISSUER_MISMATCH are
 * not remembered. `now`: when the fetch began (prov->clock, when set, says when it ended).
 */
void olo_provider_remember(const olo_provider_t *prov, apr_pool_t *p, const char *url,
                           const olo_outcome_t *out, apr_time_t now);

/** Fetches url and checks for a 200 answer; the shared fetch step of discovery and JWKS. */
apr_status_t olo_provider_get(const char **pbody, apr_size_t *plen, olo_outcome_t *out,
                              apr_pool_t *p, const olo_http_t *http, const char *url);

/** Sets out to reason and detail; returns rv (for one-line failure exits). */
apr_status_t olo_outcome_set(olo_outcome_t *out, apr_status_t rv, olo_reason_t reason,
                             const char *detail);

#endif
