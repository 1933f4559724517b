/*
 * httpd glue for shared state: the mod_socache providers named by OneLoginCache (shmcb on one
 * machine, redis or memcache across nodes) behind auth/'s olo_cache_t seam. Instances are
 * created during the configuration check, initialised once in the parent, and shared by all
 * children; non-MT-safe providers (shmcb) are used under one global mutex.
 */
#include <dlfcn.h>
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
#define OLO_CLAIM_SETTLE_MS 50              /* far longer than two nodes' writes can be apart */
#define OLO_KEPT_KEY "onelogin_oidc:kept:" /* process pool: what outlives a reload */

/* shmcb segment sizes (bytes; shmcb takes less than 64 MiB per segment). The sessions part
 * is the operator's SIZE; the other two are the module's own (docs/configuration.md). */
#define OLO_SHMCB_SESSIONS_SIZE (32 * 1024 * 1024)
#define OLO_SHMCB_SHARED_SIZE (8 * 1024 * 1024)
#define OLO_SHMCB_STATES_SIZE (2 * 1024 * 1024)
/* shmcb sizes its index from avg_id_len + avg_obj_size alone, and each entry also costs a
 * 24-byte index record: hinting the record in avg_obj_size balances index and data areas. */
#define OLO_SHMCB_INDEX_RECORD 24
#define OLO_SERVER_SESSION_BYTES 2048       /* a sealed server-store session: ~1.6 KB measured, more with groups */

/* One provider instance; for shmcb one per part, kept across reloads in the process pool. */
typedef struct olo_socache_part_t {
    ap_socache_instance_t *instance;
    int initialised;
} olo_socache_part_t;

struct olo_socache_t {
    const char *spec;
    const ap_socache_provider_t *provider;  /* looked up again each cycle: DSOs reload */
    olo_socache_part_t *parts[OLO_CACHE_PART__COUNT];   /* the same one when not split */
    int kept;                           /* shmcb: parts live in the process pool */
    int server_store;                   /* a server keeps whole sessions here (hints) */
    server_rec *s;
    volatile apr_time_t alive_until;    /* per child: a network cache answered a write lately */
};

static const char *const olo_part_names[OLO_CACHE_PART__COUNT] = {"shared", "sessions",
                                                                  "states"};

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

/* shmcb's "PATH(SIZE)" for one part: the operator's PATH and SIZE for the sessions, the
 * module's sizes beside PATH for the others. The path serves only where anonymous shared
 * memory does not exist. */
static const char *olo_shmcb_part_args(apr_pool_t *p, const char *args, olo_cache_part_t part)
{
    static const apr_size_t sizes[OLO_CACHE_PART__COUNT] = {
        OLO_SHMCB_SHARED_SIZE, OLO_SHMCB_SESSIONS_SIZE, OLO_SHMCB_STATES_SIZE};
    const char *open = args ? strrchr(args, '(') : NULL;
    const char *path = open ? apr_pstrmemdup(p, args, open - args) : args;
    const char *size = (open && part == OLO_CACHE_PART_SESSIONS) ? open
                           : apr_psprintf(p, "(%" APR_SIZE_T_FMT ")", sizes[part]);
    if (!path || !*path) {
        path = ap_runtime_dir_relative(p, "onelogin-oidc.cache");
    }
    if (part != OLO_CACHE_PART_SESSIONS) {
        path = apr_pstrcat(p, path, ".", olo_part_names[part], NULL);
    }
    return apr_pstrcat(p, path, size, NULL);
}

/* What outlives a reload lives in the process pool's userdata. The key is copied there: this
 * module's code (and its string literals) is unloaded at each reload. */
static void *olo_kept_find(apr_pool_t *pproc, const char *key)
{
    void *found = NULL;
    apr_pool_userdata_get(&found, key, pproc);
    return found;
}

static void olo_kept_keep(apr_pool_t *pproc, const char *key, void *data)
{
    apr_pool_userdata_set(data, apr_pstrdup(pproc, key), apr_pool_cleanup_null, pproc);
}

/* A shmcb part made in an earlier cycle of this process, or a new one that will be kept: a
 * graceful restart or a restart must not forget sessions. */
static const char *olo_socache_kept_part(olo_socache_part_t **ppart, olo_socache_t *cache,
                                         apr_pool_t *ptemp, server_rec *s, const char *args,
                                         olo_cache_part_t part)
{
    apr_pool_t *pproc = s->process->pool;
    const char *key = apr_pstrcat(ptemp, OLO_KEPT_KEY, cache->spec, "#", olo_part_names[part],
                                  NULL);
    void *found = olo_kept_find(pproc, key);
    if (found) {
        *ppart = found;
        return NULL;
    }
    olo_socache_part_t *kept = apr_pcalloc(pproc, sizeof(*kept));
    const char *err = cache->provider->create(&kept->instance,
                                              olo_shmcb_part_args(pproc, args, part), ptemp,
                                              pproc);
    if (!err) {
        olo_kept_keep(pproc, key, kept);
        *ppart = kept;
    }
    return err;
}

/* A kept segment's pool cleanup is code of the provider's module, which httpd unloads and
 * loads again at each reload: keep that module mapped for the life of the process, or the
 * cleanup at exit jumps into unmapped memory. */
static int olo_socache_pin(const ap_socache_provider_t *provider)
{
    Dl_info info;
    return dladdr((void *)provider->create, &info) && info.dli_fname
           && dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE) != NULL;
}

static const char *olo_socache_make(olo_socache_t *cache, apr_pool_t *pconf, apr_pool_t *ptemp,
                                    server_rec *s, const char *args)
{
    const char *err = NULL;
    if (cache->kept && !olo_socache_pin(cache->provider)) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, OLO_LOGNO(00008)
                     "OneLoginCache %s: cannot keep the provider's module loaded (%s): the "
                     "cache starts empty at every reload", cache->spec, dlerror());
        cache->kept = 0;
    }
    if (!cache->kept) {
        olo_socache_part_t *one = apr_pcalloc(pconf, sizeof(*one));
        err = cache->provider->create(&one->instance, args, ptemp, pconf);
        for (int i = 0; i < OLO_CACHE_PART__COUNT; i++) {
            cache->parts[i] = one;
        }
        return err;
    }
    for (int i = 0; i < OLO_CACHE_PART__COUNT && !err; i++) {
        err = olo_socache_kept_part(&cache->parts[i], cache, ptemp, s, args, i);
    }
    return err;
}

const char *olo_socache_get(olo_socache_t **psocache, apr_pool_t *pconf, apr_pool_t *ptemp,
                            server_rec *s, const char *spec, int server_store)
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
            /* shmcb evicts early and forgets at each reload: the one to split and keep */
            cache->kept = !strncmp(spec, "shmcb", 5) && (spec[5] == ':' || !spec[5]);
            err = olo_socache_make(cache, pconf, ptemp, s, args);
        }
        if (!err) {
            apr_hash_set(olo_socaches, spec, APR_HASH_KEY_STRING, cache);
        }
    }
    if (!err) {
        cache->server_store |= server_store;
    }
    *psocache = err ? NULL : cache;
    return err ? apr_psprintf(pconf, "OneLoginCache %s: %s", spec, err) : NULL;
}

static apr_status_t olo_socache_destroy(void *data)
{
    olo_socache_t *cache = data;
    cache->provider->destroy(cache->parts[0]->instance, cache->s);
    return APR_SUCCESS;
}

int olo_socache_pre_config(apr_pool_t *pconf)
{
    return ap_mutex_register(pconf, OLO_MUTEX_TYPE, NULL, APR_LOCK_DEFAULT, 0) == APR_SUCCESS
               ? OK : HTTP_INTERNAL_SERVER_ERROR;
}

/* What shmcb should expect of a part's entries: id and value lengths as written. */
static struct ap_socache_hints olo_socache_hints(const olo_socache_t *cache,
                                                 olo_cache_part_t part)
{
    unsigned int value = 1024;  /* shared: verdicts, renewal results, provider documents */
    if (part == OLO_CACHE_PART_SESSIONS) {
        value = cache->server_store ? OLO_SERVER_SESSION_BYTES : 1;
    }
    else if (part == OLO_CACHE_PART_STATES) {
        value = 16;
    }
    struct ap_socache_hints hints = {OLO_CACHE_HASH_BYTES + 2, value + OLO_SHMCB_INDEX_RECORD,
                                     300};
    return hints;
}

static const char *olo_socache_namespace(apr_pool_t *p, olo_cache_part_t part)
{
    return part == OLO_CACHE_PART_SESSIONS
               ? OLO_CACHE_NAME : apr_pstrcat(p, OLO_CACHE_NAME "_", olo_part_names[part], NULL);
}

static apr_status_t olo_socache_init(olo_socache_t *cache, apr_pool_t *pconf, server_rec *s)
{
    apr_pool_t *pool = cache->kept ? s->process->pool : pconf;
    for (int i = 0; i < OLO_CACHE_PART__COUNT; i++) {
        olo_socache_part_t *part = cache->parts[i];
        if (part->initialised) {
            continue;
        }
        /* One instance for all parts (network caches): named and sized as the sessions'. */
        olo_cache_part_t as = cache->kept ? (olo_cache_part_t)i : OLO_CACHE_PART_SESSIONS;
        struct ap_socache_hints hints = olo_socache_hints(cache, as);
        apr_status_t rv = cache->provider->init(part->instance, olo_socache_namespace(pool, as),
                                                &hints, s, pool);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        part->initialised = 1;
    }
    if (!cache->kept) {
        apr_pool_cleanup_register(pconf, cache, olo_socache_destroy, apr_pool_cleanup_null);
    }
    return APR_SUCCESS;
}

/* The mutex lives as long as the kept segments: children of the old generation still use them
 * during a graceful restart, and must exclude the new ones. */
static apr_status_t olo_socache_mutex(server_rec *s)
{
    apr_pool_t *pproc = s->process->pool;
    olo_mutex = olo_kept_find(pproc, OLO_KEPT_KEY "mutex");
    if (olo_mutex) {
        return APR_SUCCESS;
    }
    apr_status_t rv = ap_global_mutex_create(&olo_mutex, NULL, OLO_MUTEX_TYPE, NULL, s, pproc,
                                             0);
    if (rv == APR_SUCCESS) {
        olo_kept_keep(pproc, OLO_KEPT_KEY "mutex", olo_mutex);
    }
    return rv;
}

int olo_socache_post_config(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s)
{
    int need_mutex = 0;
    olo_mutex = NULL;
    for (apr_hash_index_t *hi = apr_hash_first(ptemp, olo_socaches); hi; hi = apr_hash_next(hi)) {
        olo_socache_t *cache = apr_hash_this_val(hi);
        int fresh = !cache->parts[OLO_CACHE_PART_SESSIONS]->initialised;
        apr_status_t rv = olo_socache_init(cache, pconf, s);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s, OLO_LOGNO(00003)
                         "OneLoginCache %s: the cache could not be initialised", cache->spec);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        if (fresh && cache->kept) {
            ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s, OLO_LOGNO(00007)
                         "OneLoginCache %s: sessions live in this host's memory; they survive "
                         "graceful restarts and restarts, not a stop (then everyone signs in "
                         "again). To keep them past a stop, or share them between nodes, use "
                         "OneLoginCache redis or memcache (docs/configuration.md)", cache->spec);
        }
        need_mutex |= (cache->provider->flags & AP_SOCACHE_FLAG_NOTMPSAFE);
    }
    if (need_mutex) {
        apr_status_t rv = olo_socache_mutex(s);
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

/* The provider instance and id for a key: never the key itself (auth/olo_cache.h). */
typedef struct olo_socache_at_t {
    ap_socache_instance_t *instance;
    unsigned char id[OLO_CACHE_ID_MAX];
    unsigned int id_len;
} olo_socache_at_t;

static apr_status_t olo_socache_at(olo_socache_at_t *at, const olo_socache_t *cache,
                                   const char *key)
{
    at->instance = cache->parts[olo_cache_part(key)]->instance;
    at->id_len = (unsigned int)olo_cache_id(at->id, key);
    return at->id_len ? APR_SUCCESS : APR_EINVAL;
}

static apr_status_t olo_socache_store_locked(olo_socache_baton_t *b, apr_pool_t *p,
                                             const char *key, const char *value,
                                             apr_size_t len, apr_time_t expiry)
{
    olo_socache_at_t at;
    apr_status_t rv = olo_socache_at(&at, b->socache, key);
    if (rv == APR_SUCCESS) {
        rv = b->socache->provider->store(at.instance, b->s, at.id, at.id_len, expiry,
                                         (unsigned char *)value, (unsigned int)len, p);
    }
    return olo_socache_noted(b->socache, rv);
}

static apr_status_t olo_socache_retrieve_locked(olo_socache_baton_t *b, apr_pool_t *p,
                                                const char *key, char **pvalue, apr_size_t *plen)
{
    olo_socache_at_t at;
    unsigned int len = (unsigned int)olo_cache_value_max(key);
    unsigned char *buf = apr_palloc(p, len + 1);
    apr_status_t rv = olo_socache_at(&at, b->socache, key);
    if (rv == APR_SUCCESS) {
        rv = b->socache->provider->retrieve(at.instance, b->s, at.id, at.id_len, buf, &len, p);
    }
    rv = olo_socache_noted(b->socache, rv);
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
    apr_status_t rv = olo_socache_store_locked(b, p, "alive:probe", "1", 1,
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
    olo_socache_at_t at;
    apr_status_t rv = olo_socache_at(&at, b->socache, key);
    olo_socache_lock();
    if (rv == APR_SUCCESS) {
        rv = b->socache->provider->remove(at.instance, b->s, at.id, at.id_len, p);
    }
    rv = olo_socache_noted(b->socache, rv);
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
