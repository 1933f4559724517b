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
#include <apr_atomic.h>
#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>

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
/* A network cache that stopped answering is tried again on a fresh instance after this
 * pause, doubled at each failed try up to the most: it answers again within a second of
 * its return, and an outage costs each child about one connection attempt a second. */
#define OLO_RETRY_FIRST_MS 250
#define OLO_RETRY_MOST_MS 1000
#define OLO_PROBE_KEY "alive:probe"

/* A network cache's provider instance in one child. apr_redis and apr_memcache mark a server
 * dead at its first failed call and try it again only every 5 s, through pooled connections
 * its restart broke (each fails once more and marks it dead again): recovery took 9 s.
 * So a failed instance is dropped for a fresh one (new pool of connections, server live),
 * tested with one call before requests use it; the last call using the old one frees it. */
typedef enum {
    OLO_GEN_UNTESTED,   /* fresh: one caller tests it, the others are refused meanwhile */
    OLO_GEN_LIVE,
    OLO_GEN_FAILED
} olo_gen_state_t;

typedef struct olo_socache_gen_t {
    ap_socache_instance_t *instance;
    apr_pool_t *pool;                   /* its own: destroying it closes its connections */
    apr_uint32_t refs;                  /* calls using it now */
    olo_gen_state_t state;
} olo_socache_gen_t;

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
    const char *args;                   /* the provider's arguments, for fresh instances */
    /* Per child, network caches only: the instance in use (under lock), the next moment a
     * failed one may be replaced and the pause after that, the outage being counted. */
    apr_thread_mutex_t *lock;
    server_rec *main_s;                 /* whose RedisTimeout etc. fresh instances follow */
    olo_socache_gen_t *gen;
    apr_time_t retry_at;
    apr_interval_time_t retry_pause;
    apr_time_t down_since;              /* 0: answering */
    apr_uint32_t refused;               /* calls refused during this outage */
    olo_throttle_t down_log;
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
        cache->args = args;
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

/* ------------------------------------------------------------------------------------------
 * Network caches: one instance per child at a time, replaced when it fails
 */

/* A fresh instance in a pool of its own, parented by APR's global pool (whose allocator is
 * thread-safe): instances come and go while the child's threads run. */
static olo_socache_gen_t *olo_socache_gen_make(olo_socache_t *cache)
{
    apr_pool_t *pool = NULL;
    ap_socache_instance_t *instance = NULL;
    struct ap_socache_hints hints = olo_socache_hints(cache, OLO_CACHE_PART_SESSIONS);
    if (apr_pool_create(&pool, NULL) != APR_SUCCESS) {
        return NULL;
    }
    if (cache->provider->create(&instance, cache->args, pool, pool) != NULL
        || cache->provider->init(instance, OLO_CACHE_NAME, &hints, cache->main_s, pool)
               != APR_SUCCESS) {
        apr_pool_destroy(pool);
        return NULL;
    }
    olo_socache_gen_t *gen = apr_pcalloc(pool, sizeof(*gen));
    gen->instance = instance;
    gen->pool = pool;
    gen->state = OLO_GEN_UNTESTED;
    return gen;
}

/* Each child starts with an instance of its own, so every instance it uses can be freed. */
static void olo_socache_child_network(olo_socache_t *cache, apr_pool_t *pchild, server_rec *s)
{
    apr_status_t rv = apr_thread_mutex_create(&cache->lock, APR_THREAD_MUTEX_DEFAULT, pchild);
    cache->main_s = s;      /* as the parent's instance (post_config) */
    olo_socache_gen_t *gen = rv == APR_SUCCESS ? olo_socache_gen_make(cache) : NULL;
    if (!gen) {
        /* Fail closed: without it every call of this child is refused (503). */
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, OLO_LOGNO(00070)
                     "OneLoginCache %s: could not prepare the cache in this child",
                     cache->spec);
        cache->lock = NULL;
        return;
    }
    gen->state = OLO_GEN_LIVE;
    cache->gen = gen;
    cache->retry_pause = apr_time_from_msec(OLO_RETRY_FIRST_MS);
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
    for (apr_hash_index_t *hi = apr_hash_first(p, olo_socaches); hi; hi = apr_hash_next(hi)) {
        olo_socache_t *cache = apr_hash_this_val(hi);
        if (olo_socache_is_network(cache)) {
            olo_socache_child_network(cache, p, s);
        }
    }
}

/* The instance a call may use, referenced; NULL while the cache is known not to answer, so
 * an outage costs no round trip per request. *ptest: the caller tests a fresh one first. */
static olo_socache_gen_t *olo_socache_gen_acquire(olo_socache_t *cache, int *ptest)
{
    olo_socache_gen_t *gen = NULL;
    apr_pool_t *unused = NULL;
    apr_time_t now = apr_time_now();
    *ptest = 0;
    if (!cache->lock) {
        return NULL;
    }
    apr_thread_mutex_lock(cache->lock);
    if (cache->gen->state == OLO_GEN_FAILED && now >= cache->retry_at) {
        olo_socache_gen_t *fresh = olo_socache_gen_make(cache);
        cache->retry_at = now + cache->retry_pause;
        cache->retry_pause = (cache->retry_pause * 2 < apr_time_from_msec(OLO_RETRY_MOST_MS))
                                 ? cache->retry_pause * 2 : apr_time_from_msec(OLO_RETRY_MOST_MS);
        if (fresh) {
            unused = cache->gen->refs ? NULL : cache->gen->pool;
            cache->gen = gen = fresh;
            *ptest = 1;
        }
    }
    else if (cache->gen->state == OLO_GEN_LIVE) {
        gen = cache->gen;
    }
    if (gen) {
        gen->refs++;
    }
    apr_thread_mutex_unlock(cache->lock);
    if (unused) {
        apr_pool_destroy(unused);   /* replaced, and no call holds it */
    }
    return gen;
}

/* The last call using a replaced instance frees it (and closes its connections). */
static void olo_socache_gen_release(olo_socache_t *cache, olo_socache_gen_t *gen)
{
    apr_pool_t *unused = NULL;
    apr_thread_mutex_lock(cache->lock);
    if (--gen->refs == 0 && gen != cache->gen) {
        unused = gen->pool;
    }
    apr_thread_mutex_unlock(cache->lock);
    if (unused) {
        apr_pool_destroy(unused);
    }
}

/* A live instance that fails may only have met a connection its server's restart broke: it
 * is replaced at the next call. A fresh one failing means the server is away: pause. */
static void olo_socache_gen_failed(olo_socache_t *cache, olo_socache_gen_t *gen)
{
    apr_thread_mutex_lock(cache->lock);
    if (gen == cache->gen && gen->state == OLO_GEN_LIVE) {
        cache->retry_at = 0;
    }
    gen->state = OLO_GEN_FAILED;
    apr_thread_mutex_unlock(cache->lock);
}

static olo_gen_state_t olo_socache_gen_state(olo_socache_t *cache, olo_socache_gen_t *gen)
{
    apr_thread_mutex_lock(cache->lock);
    olo_gen_state_t state = gen->state;
    apr_thread_mutex_unlock(cache->lock);
    return state;
}

/* ------------------------------------------------------------------------------------------
 * Calls
 */

typedef enum { OLO_OP_STORE, OLO_OP_RETRIEVE, OLO_OP_REMOVE } olo_socache_op_kind_t;

/* One provider call: the key, and the value stored or the buffer retrieved into. */
typedef struct olo_socache_op_t {
    olo_socache_op_kind_t kind;
    const char *key;
    unsigned char *data;
    unsigned int len;       /* store: the value's length; retrieve: what was read */
    unsigned int size;      /* retrieve: the buffer's size */
    apr_time_t expiry;
} olo_socache_op_t;

#define OLO_SOCACHE_DOWN APR_ECONNREFUSED   /* what callers see while nothing answers */

/* The provider sees a hash of the key, never the key itself (auth/olo_cache.h). */
static apr_status_t olo_socache_run(const olo_socache_t *cache, ap_socache_instance_t *instance,
                                    server_rec *s, olo_socache_op_t *op, apr_pool_t *p)
{
    unsigned char id[OLO_CACHE_ID_MAX];
    unsigned int id_len = (unsigned int)olo_cache_id(id, op->key);
    unsigned int len = op->size;
    apr_status_t rv = APR_EINVAL;
    if (!id_len) {
        return rv;
    }
    switch (op->kind) {
    case OLO_OP_STORE:
        rv = cache->provider->store(instance, s, id, id_len, op->expiry, op->data, op->len, p);
        break;
    case OLO_OP_RETRIEVE:
        rv = cache->provider->retrieve(instance, s, id, id_len, op->data, &len, p);
        op->len = (rv == APR_SUCCESS) ? len : 0;
        break;
    default:
        rv = cache->provider->remove(instance, s, id, id_len, p);
    }
    return rv;
}

/* Whether rv says that no server answered, rather than an answer or a local refusal.
 * apr_redis and apr_memcache store "not found" when they hold every server for dead. A
 * store's EGENERAL is a refusal (a full Redis); a read's or a delete's, a reply that makes no
 * sense: apr_memcache's answer on a connection the server's restart closed. */
static int olo_socache_unreachable(const olo_socache_op_t *op, apr_status_t rv)
{
    switch (rv) {
    case APR_SUCCESS:
    case APR_EINVAL:
    case APR_ENOMEM:
    case APR_EEXIST:
        return 0;
    case APR_EGENERAL:
    case APR_NOTFOUND:
        return op->kind == OLO_OP_STORE ? rv == APR_NOTFOUND : rv == APR_EGENERAL;
    default:
        return 1;
    }
}

/* The same clients also answer "not found" to reads and deletes without asking a server they
 * hold for dead. An absence counts only when a write through the same instance goes through
 * after it, the instance not having failed meanwhile: a dead server is tried again only 5 s
 * later, long after the call that found it dead marked the instance failed. So an outage
 * reads as an outage: never "session over", and a logout is never taken as done. */
static apr_status_t olo_socache_confirm_absent(olo_socache_baton_t *b, olo_socache_gen_t *gen,
                                               apr_pool_t *p)
{
    olo_socache_op_t probe = {OLO_OP_STORE, OLO_PROBE_KEY, (unsigned char *)"1", 1, 0,
                              apr_time_now() + apr_time_from_sec(3600)};
    apr_status_t rv = olo_socache_run(b->socache, gen->instance, b->s, &probe, p);
    if (rv == APR_SUCCESS) {
        return olo_socache_gen_state(b->socache, gen) == OLO_GEN_FAILED ? OLO_SOCACHE_DOWN
                                                                        : APR_NOTFOUND;
    }
    return olo_socache_unreachable(&probe, rv) ? OLO_SOCACHE_DOWN : rv;
}

/* A cache that answers again: say so once, with what the outage cost. */
static void olo_socache_answering(olo_socache_baton_t *b)
{
    static olo_throttle_t throttle;
    olo_socache_t *cache = b->socache;
    apr_uint32_t held = 0;
    apr_thread_mutex_lock(cache->lock);
    apr_time_t since = cache->down_since;
    apr_uint32_t refused = cache->refused;
    cache->down_since = 0;
    cache->refused = 0;
    cache->retry_pause = apr_time_from_msec(OLO_RETRY_FIRST_MS);
    apr_thread_mutex_unlock(cache->lock);
    if (since && olo_throttle_pass(&throttle, OLO_OUTAGE_LOG_INTERVAL, &held)) {
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, b->s, OLO_LOGNO(00069)
                     "OneLoginCache %s answers again after %" APR_TIME_T_FMT " ms; %u calls "
                     "were refused meanwhile", cache->spec,
                     apr_time_as_msec(apr_time_now() - since), refused);
    }
}

/* One line when a network cache stops answering, then at most one per interval while it
 * stays away, counting the calls refused in between: not one line per request. */
static void olo_socache_outage(olo_socache_baton_t *b, apr_status_t rv)
{
    olo_socache_t *cache = b->socache;
    apr_uint32_t held = 0;
    apr_thread_mutex_lock(cache->lock);
    cache->down_since = cache->down_since ? cache->down_since : apr_time_now();
    cache->refused++;
    apr_thread_mutex_unlock(cache->lock);
    if (olo_throttle_pass(&cache->down_log, OLO_OUTAGE_LOG_INTERVAL, &held)) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, b->s, OLO_LOGNO(00068)
                     "OneLoginCache %s does not answer: what needs it gets 503 until it does "
                     "(tried again on fresh connections, at least once a second); %u calls "
                     "refused since the last such line", cache->spec, held);
    }
}

/* A fresh instance serves once its server answered one call: a delete of the probe key
 * ("not found" comes from the server here: a fresh instance holds its server for live). */
static apr_status_t olo_socache_gen_test(olo_socache_baton_t *b, olo_socache_gen_t *gen,
                                         apr_pool_t *p)
{
    olo_socache_op_t probe = {OLO_OP_REMOVE, OLO_PROBE_KEY, NULL, 0, 0, 0};
    apr_status_t rv = olo_socache_run(b->socache, gen->instance, b->s, &probe, p);
    if (rv != APR_SUCCESS && rv != APR_NOTFOUND) {
        return OLO_SOCACHE_DOWN;
    }
    apr_thread_mutex_lock(b->socache->lock);
    gen->state = (gen->state == OLO_GEN_UNTESTED) ? OLO_GEN_LIVE : gen->state;
    apr_thread_mutex_unlock(b->socache->lock);
    olo_socache_answering(b);
    return APR_SUCCESS;
}

static apr_status_t olo_socache_remote_once(olo_socache_baton_t *b, apr_pool_t *p,
                                            olo_socache_op_t *op)
{
    int test = 0;
    olo_socache_gen_t *gen = olo_socache_gen_acquire(b->socache, &test);
    if (!gen) {
        return OLO_SOCACHE_DOWN;
    }
    apr_status_t rv = test ? olo_socache_gen_test(b, gen, p) : APR_SUCCESS;
    if (rv == APR_SUCCESS) {
        rv = olo_socache_run(b->socache, gen->instance, b->s, op, p);
        if (rv == APR_NOTFOUND && op->kind != OLO_OP_STORE) {
            rv = olo_socache_confirm_absent(b, gen, p);
        }
    }
    if (olo_socache_unreachable(op, rv)) {
        olo_socache_gen_failed(b->socache, gen);
    }
    olo_socache_gen_release(b->socache, gen);
    return rv;
}

/* A first failure may be one pooled connection the server's restart broke: one more try, on
 * a fresh instance. Then the caller hears "unavailable" (never "not found"). */
static apr_status_t olo_socache_remote(olo_socache_baton_t *b, apr_pool_t *p,
                                       olo_socache_op_t *op)
{
    apr_status_t rv = olo_socache_remote_once(b, p, op);
    if (olo_socache_unreachable(op, rv)) {
        rv = olo_socache_remote_once(b, p, op);
    }
    if (olo_socache_unreachable(op, rv)) {
        olo_socache_outage(b, rv);
        rv = (rv == APR_NOTFOUND) ? OLO_SOCACHE_DOWN : rv;
    }
    return rv;
}

/* Local caches (shmcb, dbm) are not MT-safe: callers hold the global mutex around calls. */
static void olo_socache_lock(const olo_socache_t *cache)
{
    if (olo_mutex && !olo_socache_is_network(cache)) {
        apr_global_mutex_lock(olo_mutex);
    }
}

static void olo_socache_unlock(const olo_socache_t *cache)
{
    if (olo_mutex && !olo_socache_is_network(cache)) {
        apr_global_mutex_unlock(olo_mutex);
    }
}

/* Under olo_socache_lock(). */
static apr_status_t olo_socache_call(olo_socache_baton_t *b, apr_pool_t *p, olo_socache_op_t *op)
{
    if (olo_socache_is_network(b->socache)) {
        return olo_socache_remote(b, p, op);
    }
    return olo_socache_run(b->socache, b->socache->parts[olo_cache_part(op->key)]->instance,
                           b->s, op, p);
}

/* Under olo_socache_lock(). */
static apr_status_t olo_socache_read(olo_socache_baton_t *b, apr_pool_t *p, const char *key,
                                     char **pvalue, apr_size_t *plen)
{
    unsigned int size = (unsigned int)olo_cache_value_max(key);
    olo_socache_op_t op = {OLO_OP_RETRIEVE, key, apr_palloc(p, size + 1), 0, size, 0};
    apr_status_t rv = olo_socache_call(b, p, &op);
    if (rv == APR_SUCCESS) {
        op.data[op.len] = '\0';
        *pvalue = (char *)op.data;
        *plen = op.len;
    }
    return rv;
}

static apr_status_t olo_socache_store(void *baton, apr_pool_t *p, const char *key,
                                      const char *value, apr_size_t len, apr_time_t expiry)
{
    olo_socache_baton_t *b = baton;
    olo_socache_op_t op = {OLO_OP_STORE, key, (unsigned char *)value, (unsigned int)len, 0,
                           expiry};
    olo_socache_lock(b->socache);
    apr_status_t rv = olo_socache_call(b, p, &op);
    olo_socache_unlock(b->socache);
    return rv;
}

static apr_status_t olo_socache_retrieve(void *baton, apr_pool_t *p, const char *key,
                                         char **pvalue, apr_size_t *plen)
{
    olo_socache_baton_t *b = baton;
    olo_socache_lock(b->socache);
    apr_status_t rv = olo_socache_read(b, p, key, pvalue, plen);
    olo_socache_unlock(b->socache);
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
    olo_socache_op_t op = {OLO_OP_STORE, key, (unsigned char *)token,
                           (unsigned int)strlen(token), 0, expiry};
    olo_socache_lock(b->socache);
    apr_status_t rv = olo_socache_read(b, p, key, &value, &len);
    if (rv == APR_SUCCESS) {
        rv = APR_EEXIST;
    }
    else if (rv == APR_NOTFOUND) {
        rv = olo_socache_call(b, p, &op);
    }
    olo_socache_unlock(b->socache);
    if (rv != APR_SUCCESS || !olo_socache_is_network(b->socache)) {
        return rv;
    }
    apr_sleep(apr_time_from_msec(OLO_CLAIM_SETTLE_MS));
    rv = olo_socache_read(b, p, key, &value, &len);
    if (rv != APR_SUCCESS) {
        return (rv == APR_NOTFOUND) ? APR_EEXIST : rv;
    }
    return (len == strlen(token) && !memcmp(value, token, len)) ? APR_SUCCESS : APR_EEXIST;
}

static apr_status_t olo_socache_remove(void *baton, apr_pool_t *p, const char *key)
{
    olo_socache_baton_t *b = baton;
    olo_socache_op_t op = {OLO_OP_REMOVE, key, NULL, 0, 0, 0};
    olo_socache_lock(b->socache);
    apr_status_t rv = olo_socache_call(b, p, &op);
    olo_socache_unlock(b->socache);
    return rv;
}

int olo_throttle_pass(olo_throttle_t *t, apr_uint32_t interval, apr_uint32_t *pheld)
{
    apr_uint32_t now = (apr_uint32_t)apr_time_sec(apr_time_now());
    apr_uint32_t last = apr_atomic_read32(&t->last);
    if (now - last >= interval && apr_atomic_cas32(&t->last, now, last) == last) {
        *pheld = apr_atomic_xchg32(&t->held, 0);
        return 1;
    }
    apr_atomic_inc32(&t->held);
    return 0;
}

void olo_socache_bind(olo_cache_t *cache, olo_socache_baton_t *baton, olo_socache_t *socache,
                      server_rec *s)
{
    baton->socache = socache;
    baton->s = s;
    *cache = (olo_cache_t){baton, olo_socache_store, olo_socache_retrieve, olo_socache_claim,
                           olo_socache_remove};
}
