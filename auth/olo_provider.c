/* Discovery and JWKS through the shared cache. Cached JWKS entries carry their fetch time
 * ("<seconds>\n<json>"), for whoever reads the cache. */
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include "olo_provider.h"

#define OLO_PROVIDER_KEY_MD "md:"
#define OLO_PROVIDER_KEY_JWKS "jwks:"
#define OLO_PROVIDER_KEY_REFETCH "jr:"
#define OLO_PROVIDER_KEY_FAILED "pf:"
/* A "pf:" entry holds this and the reason's name; any other value is a fetch in flight (the
 * claim's random token). */
#define OLO_PROVIDER_FAILED_MARK "failed "
#define OLO_PROVIDER_POLL apr_time_from_msec(100)

/* The provider's failures, worth remembering; the cache's or a token's are not. */
static const olo_reason_t olo_provider_markable[] = {
    OLO_R_PROVIDER_UNREACHABLE, OLO_R_PROVIDER_BAD_RESPONSE, OLO_R_ISSUER_MISMATCH,
};
#define OLO_PROVIDER_MARKABLE (sizeof(olo_provider_markable) / sizeof(olo_provider_markable[0]))

typedef enum {
    OLO_PROVIDER_MARK_NONE,
    OLO_PROVIDER_MARK_FETCHING,     /* another request is asking the provider */
    OLO_PROVIDER_MARK_FAILED,
} olo_provider_mark_t;

apr_status_t olo_outcome_set(olo_outcome_t *out, apr_status_t rv, olo_reason_t reason,
                             const char *detail)
{
    out->reason = reason;
    out->detail = detail;
    return rv;
}

static int olo_provider_is_markable(olo_reason_t reason)
{
    for (apr_size_t i = 0; i < OLO_PROVIDER_MARKABLE; i++) {
        if (olo_provider_markable[i] == reason) {
            return 1;
        }
    }
    return 0;
}

static const char *olo_provider_mark_key(apr_pool_t *p, const char *url)
{
    return apr_pstrcat(p, OLO_PROVIDER_KEY_FAILED, url, NULL);
}

/* A cache that cannot answer knows nothing: the fetch goes ahead, as it would without marks. */
static olo_provider_mark_t olo_provider_mark_read(olo_reason_t *preason, apr_pool_t *p,
                                                  const olo_provider_t *prov, const char *key)
{
    char *value = NULL;
    apr_size_t len = 0, plen = strlen(OLO_PROVIDER_FAILED_MARK);
    if (prov->cache->retrieve(prov->cache->baton, p, key, &value, &len) != APR_SUCCESS) {
        return OLO_PROVIDER_MARK_NONE;
    }
    if (len <= plen || memcmp(value, OLO_PROVIDER_FAILED_MARK, plen)) {
        return OLO_PROVIDER_MARK_FETCHING;
    }
    const char *name = apr_pstrmemdup(p, value + plen, len - plen);
    for (apr_size_t i = 0; i < OLO_PROVIDER_MARKABLE; i++) {
        if (!strcmp(name, olo_reason_name(olo_provider_markable[i]))) {
            *preason = olo_provider_markable[i];
            return OLO_PROVIDER_MARK_FAILED;
        }
    }
    return OLO_PROVIDER_MARK_NONE;  /* written by another version: ask the provider */
}

static apr_status_t olo_provider_refuse(olo_outcome_t *out, apr_pool_t *p,
                                        const olo_provider_t *prov, const char *url,
                                        olo_reason_t reason)
{
    apr_status_t rv = olo_outcome_set(
        out, reason == OLO_R_PROVIDER_UNREACHABLE ? APR_ECONNREFUSED : APR_EINVAL, reason,
        apr_psprintf(p, "%s failed moments ago (%s); not asked again for up to %d s", url,
                     olo_reason_name(reason), OLO_PROVIDER_MARK_SEC));
    if (prov->marked) {
        prov->marked(prov->marked_baton, url, out, 0);
    }
    return rv;
}

apr_status_t olo_provider_recall(olo_outcome_t *out, apr_pool_t *p, const olo_provider_t *prov,
                                 const char *url)
{
    olo_reason_t reason = OLO_OK;
    if (olo_provider_mark_read(&reason, p, prov, olo_provider_mark_key(p, url))
        != OLO_PROVIDER_MARK_FAILED) {
        return APR_SUCCESS;
    }
    return olo_provider_refuse(out, p, prov, url, reason);
}

void olo_provider_remember(const olo_provider_t *prov, apr_pool_t *p, const char *url,
                           const olo_outcome_t *out, apr_time_t now)
{
    const char *key = olo_provider_mark_key(p, url);
    olo_reason_t known = OLO_OK;
    if (!olo_provider_is_markable(out->reason)
        || olo_provider_mark_read(&known, p, prov, key) == OLO_PROVIDER_MARK_FAILED) {
        return;
    }
    /* From the fetch's end: a timeout must not use up the mark's time. */
    apr_time_t until = (prov->clock ? prov->clock() : now)
                       + apr_time_from_sec(OLO_PROVIDER_MARK_SEC);
    const char *value = apr_pstrcat(p, OLO_PROVIDER_FAILED_MARK, olo_reason_name(out->reason),
                                    NULL);
    if (prov->cache->store(prov->cache->baton, p, key, value, strlen(value), until)
            == APR_SUCCESS
        && prov->marked) {
        prov->marked(prov->marked_baton, url, out, 1);
    }
}

apr_status_t olo_provider_check_reachable(olo_outcome_t *out, apr_pool_t *p,
                                          const olo_provider_t *prov, const olo_metadata_t *md)
{
    const char *needed[] = {md->token_endpoint, md->jwks_uri};
    for (apr_size_t i = 0; i < sizeof(needed) / sizeof(needed[0]); i++) {
        olo_reason_t reason = OLO_OK;
        /* Only a provider that could not be reached: a bad answer may concern one request,
         * and the keys may still be cached. */
        if (needed[i]
            && olo_provider_mark_read(&reason, p, prov, olo_provider_mark_key(p, needed[i]))
                   == OLO_PROVIDER_MARK_FAILED
            && reason == OLO_R_PROVIDER_UNREACHABLE) {
            return olo_provider_refuse(out, p, prov, needed[i], reason);
        }
    }
    return APR_SUCCESS;
}

/* Whose turn it is to fetch url. APR_NOTFOUND: this request's (it holds the claim, or waited
 * fetch_wait in vain); APR_EAGAIN: another request fetched it meanwhile, look in the cache
 * again; otherwise the failure that fetch met, remembered. One request asks a hung provider,
 * not every request that arrives during its timeout. */
static apr_status_t olo_provider_turn(olo_outcome_t *out, apr_pool_t *p,
                                      const olo_provider_t *prov, const char *url,
                                      apr_time_t now)
{
    const char *key = olo_provider_mark_key(p, url);
    olo_reason_t reason = OLO_OK;
    apr_interval_time_t waited = 0;
    for (;;) {
        olo_provider_mark_t mark = olo_provider_mark_read(&reason, p, prov, key);
        if (mark == OLO_PROVIDER_MARK_FAILED) {
            return olo_provider_refuse(out, p, prov, url, reason);
        }
        if (mark == OLO_PROVIDER_MARK_NONE && waited > 0) {
            return APR_EAGAIN;
        }
        /* The claim outlives this fetch; a cache that cannot claim lets every request fetch. */
        if (mark == OLO_PROVIDER_MARK_NONE
            && prov->cache->claim(prov->cache->baton, p, key,
                                  now + waited + prov->fetch_wait + apr_time_from_sec(1))
                   != APR_EEXIST) {
            return APR_NOTFOUND;
        }
        if (waited >= prov->fetch_wait || !prov->pause) {
            return APR_NOTFOUND;
        }
        prov->pause(OLO_PROVIDER_POLL);
        waited += OLO_PROVIDER_POLL;
    }
}

/* After a fetch: a success ends the claim (and any mark); a failure is remembered. */
static void olo_provider_settle(const olo_provider_t *prov, apr_pool_t *p, const char *url,
                                const olo_outcome_t *out, apr_status_t rv, apr_time_t now)
{
    if (rv != APR_SUCCESS && olo_provider_is_markable(out->reason)) {
        olo_provider_remember(prov, p, url, out, now);
    }
    else {
        prov->cache->remove(prov->cache->baton, p, olo_provider_mark_key(p, url));
    }
}

apr_status_t olo_provider_get(const char **pbody, apr_size_t *plen, olo_outcome_t *out,
                              apr_pool_t *p, const olo_http_t *http, const char *url)
{
    olo_http_response_t *resp = NULL;
    const char *error = NULL;
    apr_status_t rv = http->fetch(&resp, &error, p, http->baton, url, NULL, NULL);
    if (rv != APR_SUCCESS) {
        return olo_outcome_set(out, rv, OLO_R_PROVIDER_UNREACHABLE,
                               apr_psprintf(p, "GET %s: %s", url, error));
    }
    if (resp->status != 200) {
        return olo_outcome_set(out, APR_EINVAL, OLO_R_PROVIDER_BAD_RESPONSE,
                               apr_psprintf(p, "GET %s: HTTP %d", url, resp->status));
    }
    *pbody = resp->body;
    *plen = resp->len;
    return APR_SUCCESS;
}

/* Observers (counters) are optional. */
static void olo_provider_tell(const olo_provider_t *prov, olo_provider_event_t event)
{
    if (prov->notify) {
        prov->notify(event);
    }
}

static apr_status_t olo_provider_cache_get(const olo_provider_t *prov, apr_pool_t *p,
                                           const char *key, char **pvalue, apr_size_t *plen,
                                           olo_outcome_t *out)
{
    apr_status_t rv = prov->cache->retrieve(prov->cache->baton, p, key, pvalue, plen);
    if (rv != APR_SUCCESS && rv != APR_NOTFOUND) {
        return olo_outcome_set(out, rv, OLO_R_CACHE_UNAVAILABLE, "cache lookup failed");
    }
    return rv;
}

/* A cached entry that no longer parses counts as absent. */
static apr_status_t olo_provider_metadata_cached(olo_metadata_t **pmd, olo_outcome_t *out,
                                                 apr_pool_t *p, const olo_provider_t *prov,
                                                 const char *key)
{
    char *cached = NULL;
    apr_size_t len = 0;
    apr_status_t rv = olo_provider_cache_get(prov, p, key, &cached, &len, out);
    if (rv == APR_SUCCESS
        && olo_discovery_parse(pmd, &out->reason, p, cached, len, prov->issuer) != APR_SUCCESS) {
        rv = APR_NOTFOUND;
    }
    return rv;
}

static apr_status_t olo_provider_discover(olo_metadata_t **pmd, olo_outcome_t *out,
                                          apr_pool_t *p, const olo_provider_t *prov,
                                          const char *url, const char *key, apr_time_t now)
{
    const char *body = NULL;
    apr_size_t len = 0;
    olo_provider_tell(prov, OLO_PROVIDER_FETCH_DISCOVERY);
    apr_status_t rv = olo_provider_get(&body, &len, out, p, prov->http, url);
    if (rv == APR_SUCCESS
        && (rv = olo_discovery_parse(pmd, &out->reason, p, body, len, prov->issuer))
               != APR_SUCCESS) {
        out->detail = apr_psprintf(p, "discovery document at %s refused", url);
    }
    if (rv == APR_SUCCESS) {
        /* A cache that cannot store is not fatal here: the next request discovers again. */
        prov->cache->store(prov->cache->baton, p, key, body, len, now + prov->metadata_ttl);
    }
    olo_provider_settle(prov, p, url, out, rv, now);
    return rv;
}

apr_status_t olo_provider_metadata(olo_metadata_t **pmd, olo_outcome_t *out, apr_pool_t *p,
                                   const olo_provider_t *prov, apr_time_t now)
{
    const char *key = apr_pstrcat(p, OLO_PROVIDER_KEY_MD, prov->issuer, NULL);
    const char *url = olo_discovery_url(p, prov->issuer);
    olo_metadata_t *md = NULL;

    apr_status_t rv = olo_provider_metadata_cached(&md, out, p, prov, key);
    if (rv == APR_NOTFOUND && (rv = olo_provider_turn(out, p, prov, url, now)) == APR_EAGAIN) {
        rv = olo_provider_metadata_cached(&md, out, p, prov, key);
    }
    if (rv == APR_NOTFOUND) {
        rv = olo_provider_discover(&md, out, p, prov, url, key, now);
    }
    *pmd = (rv == APR_SUCCESS) ? md : NULL;
    if (rv == APR_SUCCESS) {
        olo_outcome_set(out, rv, OLO_OK, NULL);
    }
    return rv;
}

/* Splits a cached JWKS entry into fetch time and document. */
static apr_status_t olo_provider_jwks_unpack(apr_time_t *pfetched, const char **pjson,
                                             apr_size_t *plen, const char *value, apr_size_t len)
{
    const char *nl = memchr(value, '\n', len);
    if (!nl) {
        return APR_EINVAL;
    }
    *pfetched = apr_time_from_sec(strtoll(value, NULL, 10));
    *pjson = nl + 1;
    *plen = len - (apr_size_t)(nl + 1 - value);
    return APR_SUCCESS;
}

/* An entry that does not unpack or parse counts as absent. */
static apr_status_t olo_provider_jwks_cached(olo_jwks_t **pjwks, olo_outcome_t *out,
                                             apr_pool_t *p, const olo_provider_t *prov,
                                             const char *key)
{
    char *cached = NULL;
    const char *json = NULL;
    apr_size_t len = 0, jlen = 0;
    apr_time_t fetched = 0;
    apr_status_t rv = olo_provider_cache_get(prov, p, key, &cached, &len, out);
    if (rv == APR_SUCCESS
        && (olo_provider_jwks_unpack(&fetched, &json, &jlen, cached, len) != APR_SUCCESS
            || olo_jwks_parse(pjwks, p, json, jlen) != APR_SUCCESS)) {
        rv = APR_NOTFOUND;
    }
    return rv;
}

static apr_status_t olo_provider_jwks_fetch(olo_jwks_t **pjwks, olo_outcome_t *out,
                                            apr_pool_t *p, const olo_provider_t *prov,
                                            const char *jwks_uri, const char *key,
                                            apr_time_t now)
{
    const char *body = NULL;
    apr_size_t len = 0;
    olo_provider_tell(prov, OLO_PROVIDER_FETCH_JWKS);
    apr_status_t rv = olo_provider_get(&body, &len, out, p, prov->http, jwks_uri);
    if (rv == APR_SUCCESS && (rv = olo_jwks_parse(pjwks, p, body, len)) != APR_SUCCESS) {
        olo_outcome_set(out, rv, OLO_R_PROVIDER_BAD_RESPONSE,
                        apr_psprintf(p, "JWKS at %s holds no usable key", jwks_uri));
    }
    if (rv == APR_SUCCESS) {
        const char *entry = apr_psprintf(p, "%" APR_TIME_T_FMT "\n%s", apr_time_sec(now), body);
        prov->cache->store(prov->cache->baton, p, key, entry, strlen(entry),
                           now + prov->jwks_ttl);
    }
    olo_provider_settle(prov, p, jwks_uri, out, rv, now);
    return rv;
}

/* A limited refetch takes a marker that lives for the refetch interval, in the shared cache so
 * that every child and node counts the same refetches. A cache that forgets the marker early
 * only allows one more fetch: the limit saves the provider work, no decision depends on it. */
static apr_status_t olo_provider_refetch_allowed(const olo_provider_t *prov, apr_pool_t *p,
                                                 const char *jwks_uri, apr_time_t now,
                                                 olo_outcome_t *out)
{
    const char *key = apr_pstrcat(p, OLO_PROVIDER_KEY_REFETCH, jwks_uri, NULL);
    apr_status_t rv = prov->cache->claim(prov->cache->baton, p, key,
                                         now + prov->jwks_refetch_interval);
    if (rv == APR_EEXIST) {
        return olo_outcome_set(out, APR_EAGAIN, OLO_R_KID_UNKNOWN,
                               "an unknown kid made us fetch the JWKS too recently; not asking "
                               "the provider again yet (OneLoginJWKSRefetchInterval)");
    }
    return APR_SUCCESS;     /* a cache that cannot count does not stop the refetch */
}

apr_status_t olo_provider_jwks(olo_jwks_t **pjwks, olo_outcome_t *out, apr_pool_t *p,
                               const olo_provider_t *prov, const char *jwks_uri,
                               olo_jwks_want_t want, apr_time_t now)
{
    const char *key = apr_pstrcat(p, OLO_PROVIDER_KEY_JWKS, jwks_uri, NULL);
    olo_jwks_t *jwks = NULL;
    apr_status_t rv = APR_NOTFOUND;     /* a refetch wants a fresh set, whatever is cached */

    if (want == OLO_JWKS_CACHED) {
        rv = olo_provider_jwks_cached(&jwks, out, p, prov, key);
    }
    else if (want == OLO_JWKS_REFETCH_LIMITED
             && (rv = olo_provider_refetch_allowed(prov, p, jwks_uri, now, out)) == APR_SUCCESS) {
        rv = APR_NOTFOUND;
    }
    /* A set another request fetched while this one waited is as fresh as a refetch. */
    if (rv == APR_NOTFOUND
        && (rv = olo_provider_turn(out, p, prov, jwks_uri, now)) == APR_EAGAIN) {
        rv = olo_provider_jwks_cached(&jwks, out, p, prov, key);
    }
    if (rv == APR_NOTFOUND) {
        if (want != OLO_JWKS_CACHED) {
            olo_provider_tell(prov, OLO_PROVIDER_REFETCH_JWKS);
        }
        rv = olo_provider_jwks_fetch(&jwks, out, p, prov, jwks_uri, key, now);
    }
    *pjwks = (rv == APR_SUCCESS) ? jwks : NULL;
    if (rv == APR_SUCCESS) {
        olo_outcome_set(out, rv, OLO_OK, NULL);
    }
    return rv;
}
