#ifndef MOD_ONELOGIN_OIDC_CACHE_H
#define MOD_ONELOGIN_OIDC_CACHE_H

/* httpd glue for shared state: mod_socache providers behind auth/'s olo_cache_t seam. */

#include <httpd.h>
#include <ap_socache.h>
#include "auth/olo_cache.h"

/* Our own log id range (docs/log-ids.md), in the shape of httpd's APLOGNO. */
#define OLO_LOGNO(n) "OLO" #n ": "

/**
 * At most one log line per interval (seconds), per process: olo_throttle_pass() says whether
 * this one is written, and *pheld how many were held back since the last one written.
 * A zero-filled static is ready to use.
 */
typedef struct olo_throttle_t {
    volatile apr_uint32_t last;
    volatile apr_uint32_t held;
} olo_throttle_t;
#define OLO_OUTAGE_LOG_INTERVAL 10  /* a cache outage: one line per 10 s per child */
int olo_throttle_pass(olo_throttle_t *t, apr_uint32_t interval, apr_uint32_t *pheld);

/** The socache instances of one distinct OneLoginCache value, shared by the servers naming it. */
typedef struct olo_socache_t olo_socache_t;

/** What olo_cache_t calls carry: the instance and the server for the provider's logging. */
typedef struct olo_socache_baton_t {
    olo_socache_t *socache;
    server_rec *s;
} olo_socache_baton_t;

/**
 * Splits "provider:args" and looks the provider up, so a typo fails `apachectl -t`.
 * NULL on success, else a message (without the directive name).
 */
const char *olo_socache_lookup(const ap_socache_provider_t **pprovider, const char **pargs,
                               apr_pool_t *p, const char *spec);

/** Forgets the instances of the previous configuration cycle (from check_config). */
void olo_socache_reset(apr_pool_t *pconf);

/**
 * The instance for spec, created on first use in this cycle. shmcb is split into parts
 * (auth/olo_cache.h) kept in the process pool, so a graceful restart or a restart keeps what
 * they hold; server_store says a server keeps whole sessions there (for shmcb's sizing).
 * NULL or a message.
 */
const char *olo_socache_get(olo_socache_t **psocache, apr_pool_t *pconf, apr_pool_t *ptemp,
                            server_rec *s, const char *spec, int server_store);

/** Initialises every instance in the parent, and the mutex non-MT-safe providers need. */
int olo_socache_post_config(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s);

/** Registers the mutex type (pre_config) and attaches a child to the mutex (child_init). */
int olo_socache_pre_config(apr_pool_t *pconf);
void olo_socache_child_init(apr_pool_t *p, server_rec *s);

/** Fills cache with the socache-backed operations; baton must live as long as cache. */
void olo_socache_bind(olo_cache_t *cache, olo_socache_baton_t *baton, olo_socache_t *socache,
                      server_rec *s);

#endif
