/* Discovery and JWKS through the shared cache. Cached JWKS entries carry their fetch time
 * ("<seconds>\n<json>"), for whoever reads the cache. */
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include "olo_provider.h"

#define OLO_PROVIDER_KEY_MD "md:"
#define OLO_PROVIDER_KEY_JWKS "jwks:"
#define OLO_PROVIDER_KEY_REFETCH "jr:"

apr_status_t olo_outcome_set(olo_outcome_t *out, apr_status_t rv, olo_reason_t reason,
                             const char *detail)
{
    out->reason = reason;
    out->detail = detail;
    return rv;
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

apr_status_t olo_provider_metadata(olo_metadata_t **pmd, olo_outcome_t *out, apr_pool_t *p,
                                   const olo_provider_t *prov, apr_time_t now)
{
    const char *key = apr_pstrcat(p, OLO_PROVIDER_KEY_MD, prov->issuer, NULL);
    olo_metadata_t *md = NULL;
    char *cached = NULL;
    const char *body = NULL;
    apr_size_t len = 0;

    apr_status_t rv = olo_provider_cache_get(prov, p, key, &cached, &len, out);
    if (rv == APR_SUCCESS) {
        /* A cached entry that no longer parses counts as absent. */
        if (olo_discovery_parse(&md, &out->reason, p, cached, len, prov->issuer) == APR_SUCCESS) {
            goto cleanup;
        }
    }
    else if (rv != APR_NOTFOUND) {
        goto cleanup;
    }
    const char *url = olo_discovery_url(p, prov->issuer);
    olo_provider_tell(prov, OLO_PROVIDER_FETCH_DISCOVERY);
    rv = olo_provider_get(&body, &len, out, p, prov->http, url);
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    rv = olo_discovery_parse(&md, &out->reason, p, body, len, prov->issuer);
    if (rv != APR_SUCCESS) {
        out->detail = apr_psprintf(p, "discovery document at %s refused", url);
        goto cleanup;
    }
    /* A cache that cannot store is not fatal here: the next request discovers again. */
    prov->cache->store(prov->cache->baton, p, key, body, len, now + prov->metadata_ttl);
cleanup:
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

static apr_status_t olo_provider_jwks_fetch(olo_jwks_t **pjwks, olo_outcome_t *out,
                                            apr_pool_t *p, const olo_provider_t *prov,
                                            const char *jwks_uri, const char *key,
                                            apr_time_t now)
{
    const char *body = NULL;
    apr_size_t len = 0;
    olo_provider_tell(prov, OLO_PROVIDER_FETCH_JWKS);
    apr_status_t rv = olo_provider_get(&body, &len, out, p, prov->http, jwks_uri);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = olo_jwks_parse(pjwks, p, body, len);
    if (rv != APR_SUCCESS) {
        return olo_outcome_set(out, rv, OLO_R_PROVIDER_BAD_RESPONSE,
                               apr_psprintf(p, "JWKS at %s holds no usable key", jwks_uri));
    }
    const char *entry = apr_psprintf(p, "%" APR_TIME_T_FMT "\n%s", apr_time_sec(now), body);
    prov->cache->store(prov->cache->baton, p, key, entry, strlen(entry), now + prov->jwks_ttl);
    return APR_SUCCESS;
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
    char *cached = NULL;
    const char *json = NULL;
    apr_size_t len = 0, jlen = 0;
    apr_time_t fetched = 0;
    apr_status_t rv;

    if (want == OLO_JWKS_CACHED) {
        rv = olo_provider_cache_get(prov, p, key, &cached, &len, out);
        if (rv != APR_SUCCESS && rv != APR_NOTFOUND) {
            goto cleanup;
        }
        if (rv == APR_SUCCESS
            && olo_provider_jwks_unpack(&fetched, &json, &jlen, cached, len) == APR_SUCCESS
            && olo_jwks_parse(&jwks, p, json, jlen) == APR_SUCCESS) {
            goto cleanup;
        }
    }
    else {
        if (want == OLO_JWKS_REFETCH_LIMITED
            && (rv = olo_provider_refetch_allowed(prov, p, jwks_uri, now, out)) != APR_SUCCESS) {
            goto cleanup;
        }
        olo_provider_tell(prov, OLO_PROVIDER_REFETCH_JWKS);
    }
    rv = olo_provider_jwks_fetch(&jwks, out, p, prov, jwks_uri, key, now);
cleanup:
    *pjwks = (rv == APR_SUCCESS) ? jwks : NULL;
    if (rv == APR_SUCCESS) {
        olo_outcome_set(out, rv, OLO_OK, NULL);
    }
    return rv;
}
