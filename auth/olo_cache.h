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

#endif
