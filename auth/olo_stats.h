#ifndef OLO_STATS_H
#define OLO_STATS_H

#include <apr_pools.h>
#include "olo_provider.h"
#include "../jwt/olo_reason.h"

/**
 * The module's counters: a fixed set of 64-bit slots in memory the caller provides (in httpd
 * one shared memory segment that every child counts into), incremented atomically and never
 * reset, rendered in the Prometheus text exposition format 0.0.4.
 */

/** Counted once per event. Slots of one metric are adjacent (they share HELP and TYPE). */
typedef enum {
    OLO_STAT_LOGINS_STARTED,    /* a browser sent to the provider with a new state */
    OLO_STAT_LOGINS_COMPLETED,  /* a callback that ended in a session */
    OLO_STAT_RENEWALS_OK,       /* ID token renewed with the refresh token */
    OLO_STAT_RENEWALS_FAILED,
    OLO_STAT_LOGOUTS,           /* requests to the logout path */
    OLO_STAT_BEARER_ACCEPTED,   /* a client's own bearer token verified */
    OLO_STAT_CACHE_HIT,         /* look-ups in OneLoginCache */
    OLO_STAT_CACHE_MISS,
    OLO_STAT_CACHE_ERROR,
    OLO_STAT_FETCH_DISCOVERY,   /* documents fetched from the network */
    OLO_STAT_FETCH_JWKS,
    OLO_STAT_JWKS_REFETCH,      /* a JWKS fetched again early, for a token's unknown kid */
    OLO_STAT__COUNT
} olo_stat_t;

/** Counted per reason, labelled reason="<olo_reason_name()>". */
typedef enum {
    OLO_STAT_LOGINS_FAILED,     /* at the start (provider unavailable) or at the callback */
    OLO_STAT_SESSIONS_REFUSED,  /* a session cookie not accepted */
    OLO_STAT_BEARER_REFUSED,    /* a client's own bearer token that does not verify */
    OLO_STAT_REASONED__COUNT
} olo_stat_reasoned_t;

typedef struct olo_stats_t {
    void *slots;                /* olo_stats_size() bytes; NULL: counting is off */
} olo_stats_t;

/** Bytes of memory the counters need. */
apr_size_t olo_stats_size(void);

/** Uses memory (olo_stats_size() bytes, suitably aligned) for the counters and zeroes them;
 * NULL memory turns counting off (every add is ignored, every read is 0). */
void olo_stats_init(olo_stats_t *stats, void *memory);

/** One more of stat. Lock-free and safe from any thread or process sharing the memory;
 * out-of-range values are ignored. */
void olo_stats_add(const olo_stats_t *stats, olo_stat_t stat);

/** One more of family for reason; an out-of-range reason counts as reason="unknown". */
void olo_stats_add_reason(const olo_stats_t *stats, olo_stat_reasoned_t family,
                          olo_reason_t reason);

/** A cache look-up's status: APR_SUCCESS a hit, APR_NOTFOUND a miss, anything else an error. */
void olo_stats_add_lookup(const olo_stats_t *stats, apr_status_t rv);

/** A fetch the provider layer reports (olo_provider_t.notify). */
void olo_stats_add_provider_event(const olo_stats_t *stats, olo_provider_event_t event);

/** Current values (for tests and the renderer). */
apr_uint64_t olo_stats_get(const olo_stats_t *stats, olo_stat_t stat);
apr_uint64_t olo_stats_get_reason(const olo_stats_t *stats, olo_stat_reasoned_t family,
                                  olo_reason_t reason);

/**
 * Every counter as Prometheus text (exposition format 0.0.4), allocated from p: each metric
 * with its # HELP and # TYPE lines; per-reason series only once they are non-zero.
 */
const char *olo_stats_render(apr_pool_t *p, const olo_stats_t *stats);

#endif
