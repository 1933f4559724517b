/*
 * httpd glue for shared state: the mod_socache providers named by OneLoginCache (shmcb on one
 * machine, redis or memcache across nodes) behind auth/'s olo_cache_t seam. Instances are
 * created during the configuration check, initialised once in the parent, and shared by all
 * children; non-MT-safe providers (shmcb) are used under one global mutex.
 */
#include <string.h>

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <ap_provider.h>
#include <util_mutex.h>
#include <apr_hash.h>
#include <apr_strings.h>

#include "mod_onelogin_oidc_cache.h"
#include "mod_onelogin_oidc.h"
#include "auth/olo_rand.h"

APLOG_USE_MODULE(onelogin_oidc);

#define OLO_MUTEX_TYPE "onelogin-oidc-cache"
#define OLO_CACHE_NAME "onelogin_oidc"
#define OLO_CACHE_MAX_VALUE (64 * 1024)   /* discovery and JWKS documents are a few KiB */
#define OLO_CLAIM_SETTLE_MS 50              /* far longer than two nodes' writes can be apart */

struct olo_socache_t {
    const char *spec;
    const ap_socache_provider_t *provider;
    ap_socache_instance_t *instance;
    server_rec *s;
    volatile apr_time_t alive_until;    /* per child: a network cache answered a write lately */
};

/* shmcb and dbm live on this machine and need our mutex; redis and memcache are across the
 * network, where "not found" can also mean "no server reachable". */
static int olo_socache_is_network(const olo_socache_t *cache)
{
    return !(cache->provider->flags & AP_SOCACHE_FLAG_NOTMPSAFE);
}

static apr_global_mutex_t *olo_mutex;   /* held around calls of non-MT-safe providers */
static apr_hash_t *olo_socaches;        /* spec -> olo_socache_t, per configuration cycle */

const char *olo_socache_lookup(const ap_socache_provider_t **pprovider, const char **pargs,
                               apr_pool_t *p, const char *spec)
{
    const char *colon = ap_strchr_c(spec, ':');
    const char *name = colon ? apr_pstrmemdup(p, spec, colon - spec) : spec;
    *pargs = colon ? colon + 1 : NULL;
    *pprovider = ap_lookup_provider(AP_SOCACHE_PROVIDER_GROUP, name, AP_SOCACHE_PROVIDER_VERSION);
    if (!*pprovider) {
        return apr_psprintf(p, "unknown socache provider '%s' (is mod_socache_%s loaded, "
                               "before this directive?)", name, name);
    }
    return NULL;
}

void olo_socache_reset(apr_pool_t *pconf)
{
    olo_socaches = apr_hash_make(pconf);
}

const char *olo_socache_get(olo_socache_t **psocache, apr_pool_t *pconf, apr_pool_t *ptemp,
                            server_rec *s, const char *spec)
{
    olo_socache_t *cache = apr_hash_get(olo_socaches, spec, APR_HASH_KEY_STRING);
    const char *args = NULL;
    const char *err = NULL;
    if (!cache) {
        cache = apr_pcalloc(pconf, sizeof(*cache));
        cache->spec = spec;
        cache->s = s;
        err = olo_socache_lookup(&cache->provider, &args, pconf, spec);
        if (!err) {
            err = cache->provider->create(&cache->instance, args, ptemp, pconf);
        }
        if (!err) {
            apr_hash_set(olo_socaches, spec, APR_HASH_KEY_STRING, cache);
        }
    }
    *psocache = err ? NULL : cache;
    return err ? apr_psprintf(pconf, "OneLoginCache %s: %s", spec, err) : NULL;
}

static apr_status_t olo_socache_destroy(void *data)
{
    olo_socache_t *cache = data;
    cache->provider->destroy(cache->instance, cache->s);
    return APR_SUCCESS;
}

int olo_socache_pre_config(apr_pool_t *pconf)
{
    return ap_mutex_register(pconf, OLO_MUTEX_TYPE, NULL, APR_LOCK_DEFAULT, 0) == APR_SUCCESS
               ? OK : HTTP_INTERNAL_SERVER_ERROR;
}

int olo_socache_post_config(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s)
{
    struct ap_socache_hints hints = {64, 2048, 300};
    int need_mutex = 0;
    for (apr_hash_index_t *hi = apr_hash_first(ptemp, olo_socaches); hi; hi = apr_hash_next(hi)) {
        olo_socache_t *cache = apr_hash_this_val(hi);
        apr_status_t rv = cache->provider->init(cache->instance, OLO_CACHE_NAME, &hints, s, pconf);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s, OLO_LOGNO(00003)
                         "OneLoginCache %s: the cache could not be initialised", cache->spec);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        apr_pool_cleanup_register(pconf, cache, olo_socache_destroy, apr_pool_cleanup_null);
        need_mutex |= (cache->provider->flags & AP_SOCACHE_FLAG_NOTMPSAFE);
    }
    olo_mutex = NULL;
    if (need_mutex) {
        apr_status_t rv = ap_global_mutex_create(&olo_mutex, NULL, OLO_MUTEX_TYPE, NULL, s,
                                                 pconf, 0);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s, OLO_LOGNO(00004)
                         "could not create the cache mutex");
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    return OK;
}

void olo_socache_child_init(apr_pool_t *p, server_rec *s)
{
    if (olo_mutex) {
        apr_status_t rv = apr_global_mutex_child_init(&olo_mutex,
                                                      apr_global_mutex_lockfile(olo_mutex), p);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, OLO_LOGNO(00005)
                         "could not attach to the cache mutex in this child");
        }
    }
}

static void olo_socache_lock(void)
{
    if (olo_mutex) {
        apr_global_mutex_lock(olo_mutex);
    }
}

static void olo_socache_unlock(void)
{
    if (olo_mutex) {
        apr_global_mutex_unlock(olo_mutex);
    }
}

/* A failed call means the server went away: stop trusting absences until a write succeeds. */
static apr_status_t olo_socache_noted(olo_socache_t *cache, apr_status_t rv)
{
    if (rv != APR_SUCCESS && rv != APR_NOTFOUND) {
        cache->alive_until = 0;
    }
    return rv;
}

static apr_status_t olo_socache_store_locked(olo_socache_baton_t *b, apr_pool_t *p,
                                             const char *key, const char *value,
                                             apr_size_t len, apr_time_t expiry)
{
    return olo_socache_noted(b->socache,
                             b->socache->provider->store(b->socache->instance, b->s,
                                                         (const unsigned char *)key, strlen(key),
                                                         expiry, (unsigned char *)value, len, p));
}

static apr_status_t olo_socache_retrieve_locked(olo_socache_baton_t *b, apr_pool_t *p,
                                                const char *key, char **pvalue, apr_size_t *plen)
{
    unsigned int len = OLO_CACHE_MAX_VALUE;
    unsigned char *buf = apr_palloc(p, len + 1);
    apr_status_t rv = olo_socache_noted(
        b->socache, b->socache->provider->retrieve(b->socache->instance, b->s,
                                                   (const unsigned char *)key, strlen(key), buf,
                                                   &len, p));
    if (rv == APR_SUCCESS) {
        buf[len] = '\0';
        *pvalue = (char *)buf;
        *plen = len;
    }
    return rv;
}

static apr_status_t olo_socache_store(void *baton, apr_pool_t *p, const char *key,
                                      const char *value, apr_size_t len, apr_time_t expiry)
{
    olo_socache_lock();
    apr_status_t rv = olo_socache_store_locked(baton, p, key, value, len, expiry);
    olo_socache_unlock();
    return rv;
}

/* apr_redis and apr_memcache answer "not found" when no server is alive: before trusting an
 * absence, make sure a write goes through (at most once a second per child), so an outage
 * reads as an outage (a logout must not be forgotten because Redis is down). */
static apr_status_t olo_socache_absent(olo_socache_baton_t *b, apr_pool_t *p)
{
    olo_socache_t *cache = b->socache;
    apr_time_t now = apr_time_now();
    if (!olo_socache_is_network(cache) || now < cache->alive_until) {
        return APR_NOTFOUND;
    }
    apr_status_t rv = olo_socache_store_locked(b, p, "alive", "1", 1,
                                               now + apr_time_from_sec(3600));
    if (rv != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    cache->alive_until = now + apr_time_from_sec(1);
    return APR_NOTFOUND;
}

static apr_status_t olo_socache_retrieve(void *baton, apr_pool_t *p, const char *key,
                                         char **pvalue, apr_size_t *plen)
{
    olo_socache_lock();
    apr_status_t rv = olo_socache_retrieve_locked(baton, p, key, pvalue, plen);
    if (rv == APR_NOTFOUND) {
        rv = olo_socache_absent(baton, p);
    }
    olo_socache_unlock();
    olo_stats_count_lookup(rv);
    return rv;
}

/* Under the mutex, look-up and store are one step for this machine. A network cache has no
 * add-if-absent: two nodes may both find the key free and write. Each writes its own token,
 * lets the writes settle, and reads back: the last writer wins, and every contender agrees. */
static apr_status_t olo_socache_claim(void *baton, apr_pool_t *p, const char *key,
                                      apr_time_t expiry)
{
    olo_socache_baton_t *b = baton;
    char *value = NULL;
    apr_size_t len = 0;
    const char *token = olo_rand_token(p, olo_rand_bytes, 12);
    if (!token) {
        return APR_EGENERAL;
    }
    olo_socache_lock();
    apr_status_t rv = olo_socache_retrieve_locked(b, p, key, &value, &len);
    if (rv == APR_SUCCESS) {
        rv = APR_EEXIST;
    }
    else if (rv == APR_NOTFOUND) {
        rv = olo_socache_absent(b, p);
        rv = (rv == APR_NOTFOUND)
                 ? olo_socache_store_locked(b, p, key, token, strlen(token), expiry) : rv;
    }
    olo_socache_unlock();
    if (rv != APR_SUCCESS || !olo_socache_is_network(b->socache)) {
        return rv;
    }
    apr_sleep(apr_time_from_msec(OLO_CLAIM_SETTLE_MS));
    rv = olo_socache_retrieve_locked(b, p, key, &value, &len);
    if (rv != APR_SUCCESS) {
        return (rv == APR_NOTFOUND) ? APR_EEXIST : rv;
    }
    return (len == strlen(token) && !memcmp(value, token, len)) ? APR_SUCCESS : APR_EEXIST;
}

static apr_status_t olo_socache_remove(void *baton, apr_pool_t *p, const char *key)
{
    olo_socache_baton_t *b = baton;
    olo_socache_lock();
    apr_status_t rv = olo_socache_noted(
        b->socache, b->socache->provider->remove(b->socache->instance, b->s,
                                                 (const unsigned char *)key, strlen(key), p));
    olo_socache_unlock();
    return rv;
}

void olo_socache_bind(olo_cache_t *cache, olo_socache_baton_t *baton, olo_socache_t *socache,
                      server_rec *s)
{
    baton->socache = socache;
    baton->s = s;
    *cache = (olo_cache_t){baton, olo_socache_store, olo_socache_retrieve, olo_socache_claim,
                           olo_socache_remove};
}
