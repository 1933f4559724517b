#include <string.h>
#include <apr_strings.h>
#include "olo_fakes.h"

static apr_status_t olo_fake_http_fetch(olo_http_response_t **presp, const char **perror,
                                        apr_pool_t *p, void *baton, const char *url,
                                        const char *form, const char *authorization)
{
    olo_fake_http_t *fake = baton;
    fake->calls++;
    if (form) {
        fake->last_url = apr_pstrdup(fake->p, url);
        fake->last_form = apr_pstrdup(fake->p, form);
        fake->last_authorization = authorization ? apr_pstrdup(fake->p, authorization) : NULL;
    }
    int *count = apr_hash_get(fake->routes, apr_pstrcat(p, "#", url, NULL), APR_HASH_KEY_STRING);
    if (!count) {
        count = apr_pcalloc(fake->p, sizeof(*count));
        apr_hash_set(fake->routes, apr_pstrcat(fake->p, "#", url, NULL), APR_HASH_KEY_STRING, count);
    }
    (*count)++;
    olo_http_response_t *resp = apr_hash_get(fake->routes, url, APR_HASH_KEY_STRING);
    if (!resp) {
        *perror = "connection refused (fake)";
        *presp = NULL;
        return APR_ECONNREFUSED;
    }
    *presp = resp;
    return APR_SUCCESS;
}

olo_fake_http_t *olo_fake_http_make(apr_pool_t *p)
{
    olo_fake_http_t *fake = apr_pcalloc(p, sizeof(*fake));
    fake->p = p;
    fake->routes = apr_hash_make(p);
    fake->http.fetch = olo_fake_http_fetch;
    fake->http.baton = fake;
    return fake;
}

void olo_fake_http_route(olo_fake_http_t *fake, const char *url, int status, const char *body)
{
    olo_http_response_t *resp = apr_pcalloc(fake->p, sizeof(*resp));
    resp->status = status;
    resp->body = apr_pstrdup(fake->p, body);
    resp->len = strlen(body);
    apr_hash_set(fake->routes, apr_pstrdup(fake->p, url), APR_HASH_KEY_STRING, resp);
}

int olo_fake_http_count(olo_fake_http_t *fake, const char *url)
{
    int *count = apr_hash_get(fake->routes, apr_pstrcat(fake->p, "#", url, NULL),
                              APR_HASH_KEY_STRING);
    return count ? *count : 0;
}

typedef struct olo_fake_entry_t {
    char *value;
    apr_size_t len;
    apr_time_t expiry;
} olo_fake_entry_t;

static apr_status_t olo_fake_cache_store(void *baton, apr_pool_t *p, const char *key,
                                         const char *value, apr_size_t len, apr_time_t expiry)
{
    olo_fake_cache_t *fake = baton;
    if (fake->fail) {
        return APR_EGENERAL;
    }
    olo_fake_entry_t *e = apr_pcalloc(fake->p, sizeof(*e));
    e->value = apr_pstrmemdup(fake->p, value, len);
    e->len = len;
    e->expiry = expiry;
    apr_hash_set(fake->entries, apr_pstrdup(fake->p, key), APR_HASH_KEY_STRING, e);
    return APR_SUCCESS;
}

static apr_status_t olo_fake_cache_retrieve(void *baton, apr_pool_t *p, const char *key,
                                            char **pvalue, apr_size_t *plen)
{
    olo_fake_cache_t *fake = baton;
    if (fake->fail) {
        return APR_EGENERAL;
    }
    olo_fake_entry_t *e = apr_hash_get(fake->entries, key, APR_HASH_KEY_STRING);
    if (!e || (fake->clock && e->expiry && e->expiry <= fake->clock)) {
        return APR_NOTFOUND;
    }
    *pvalue = apr_pstrmemdup(p, e->value, e->len);
    *plen = e->len;
    return APR_SUCCESS;
}

static apr_status_t olo_fake_cache_claim(void *baton, apr_pool_t *p, const char *key,
                                         apr_time_t expiry)
{
    olo_fake_cache_t *fake = baton;
    char *value = NULL;
    apr_size_t len = 0;
    apr_status_t rv = olo_fake_cache_retrieve(baton, p, key, &value, &len);
    if (rv == APR_SUCCESS) {
        return APR_EEXIST;
    }
    return rv == APR_NOTFOUND ? olo_fake_cache_store(fake, p, key, "1", 1, expiry) : rv;
}

static apr_status_t olo_fake_cache_remove(void *baton, apr_pool_t *p, const char *key)
{
    olo_fake_cache_t *fake = baton;
    apr_hash_set(fake->entries, key, APR_HASH_KEY_STRING, NULL);
    return APR_SUCCESS;
}

olo_fake_cache_t *olo_fake_cache_make(apr_pool_t *p)
{
    olo_fake_cache_t *fake = apr_pcalloc(p, sizeof(*fake));
    fake->p = p;
    fake->entries = apr_hash_make(p);
    fake->cache = (olo_cache_t){fake, olo_fake_cache_store, olo_fake_cache_retrieve,
                                olo_fake_cache_claim, olo_fake_cache_remove};
    return fake;
}
