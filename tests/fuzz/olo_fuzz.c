/* The shared part of the fuzz targets. The one unusual piece is apr_palloc. A pool hands out
 * slices of 8 KiB blocks, so a write past the end of an allocation lands in the next slice and
 * AddressSanitizer never sees it; and Debian's APR maps those blocks with mmap, which
 * LeakSanitizer does not scan, so whatever only a pool points to (cjose keys, jansson values
 * behind their cleanups) would be reported as leaked. This file's apr_palloc, which wins over
 * libapr's both for the module's calls and for libapr's own calls through its PLT, mallocs
 * every allocation separately and frees it when its pool is cleared. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <cjose/header.h>
#include <cjose/jws.h>
#include "olo_fuzz.h"
#include "../../auth/olo_discovery.h"
#include "../../jwt/olo_json.h"

#ifndef OLO_FUZZ_KEYS_FILE
#define OLO_FUZZ_KEYS_FILE "tests/fuzz/keys.json"
#endif

/* ------------------------------------------------------------------------------------------
 * Pool allocations AddressSanitizer can see
 */

typedef void *olo_fuzz_palloc_fn(apr_pool_t *p, apr_size_t size);

typedef struct olo_fuzz_blocks_t {
    struct olo_fuzz_blocks_t *next;
    apr_pool_t *pool;
    void **mem;
    size_t n, cap;
} olo_fuzz_blocks_t;

static olo_fuzz_palloc_fn *olo_fuzz_real_palloc;
static olo_fuzz_blocks_t *olo_fuzz_blocks;
static int olo_fuzz_inside;         /* our own bookkeeping is calling into APR */

void olo_fuzz_fail(const char *file, int line, const char *what)
{
    fprintf(stderr, "%s:%d: invariant does not hold: %s\n", file, line, what);
    abort();
}

static apr_status_t olo_fuzz_blocks_free(void *data)
{
    olo_fuzz_blocks_t *rec = data, **pp;

    for (size_t i = 0; i < rec->n; i++) {
        free(rec->mem[i]);
    }
    for (pp = &olo_fuzz_blocks; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == rec) {
            *pp = rec->next;
            break;
        }
    }
    free(rec->mem);
    free(rec);
    return APR_SUCCESS;
}

static olo_fuzz_blocks_t *olo_fuzz_blocks_of(apr_pool_t *p)
{
    olo_fuzz_blocks_t *rec;

    for (rec = olo_fuzz_blocks; rec != NULL; rec = rec->next) {
        if (rec->pool == p) {
            return rec;
        }
    }
    if ((rec = calloc(1, sizeof(*rec))) == NULL) {
        abort();
    }
    rec->pool = p;
    rec->next = olo_fuzz_blocks;
    olo_fuzz_blocks = rec;
    /* the cleanup's own record comes from the real allocator (olo_fuzz_inside) */
    olo_fuzz_inside = 1;
    apr_pool_cleanup_register(p, rec, olo_fuzz_blocks_free, apr_pool_cleanup_null);
    olo_fuzz_inside = 0;
    return rec;
}

void *apr_palloc(apr_pool_t *p, apr_size_t size)
{
    olo_fuzz_blocks_t *rec;
    void *mem;

    if (olo_fuzz_real_palloc == NULL) {
        olo_fuzz_real_palloc = (olo_fuzz_palloc_fn *)dlsym(RTLD_NEXT, "apr_palloc");
    }
    if (olo_fuzz_inside) {
        return olo_fuzz_real_palloc(p, size);
    }
    rec = olo_fuzz_blocks_of(p);
    if (rec->n == rec->cap) {
        rec->cap = rec->cap ? 2 * rec->cap : 16;
        if ((rec->mem = realloc(rec->mem, rec->cap * sizeof(void *))) == NULL) {
            abort();
        }
    }
    if ((mem = malloc(size ? size : 1)) == NULL) {
        abort();
    }
    rec->mem[rec->n++] = mem;
    return mem;
}

/* ------------------------------------------------------------------------------------------
 * Process-wide state
 */

static apr_pool_t *olo_fuzz_pool;
static olo_fuzz_keys_t olo_fuzz_the_keys;

apr_pool_t *olo_fuzz_global_pool(void)
{
    return olo_fuzz_pool;
}

const olo_fuzz_keys_t *olo_fuzz_keys(void)
{
    return &olo_fuzz_the_keys;
}

apr_pool_t *olo_fuzz_begin(void)
{
    apr_pool_t *p = NULL;

    if (apr_pool_create(&p, olo_fuzz_pool) != APR_SUCCESS) {
        abort();
    }
    return p;
}

void olo_fuzz_end(apr_pool_t *p)
{
    apr_pool_destroy(p);
}

const char *olo_fuzz_cstr(apr_pool_t *p, const uint8_t *data, size_t size)
{
    return apr_pstrndup(p, (const char *)data, size);
}

const char *olo_fuzz_split(const uint8_t **prest, size_t *prestlen, apr_pool_t *p,
                           const uint8_t *data, size_t size, uint8_t sep)
{
    const uint8_t *at = memchr(data, sep, size);

    *prest = at ? at + 1 : NULL;
    *prestlen = at ? size - (size_t)(at + 1 - data) : 0;
    return apr_pstrmemdup(p, (const char *)data, at ? (size_t)(at - data) : size);
}

const char *olo_fuzz_sign(apr_pool_t *p, const cjose_jwk_t *jwk, const char *alg,
                          const char *kid, json_t *extra, const uint8_t *payload, size_t len)
{
    cjose_err err;
    cjose_header_t *hdr = cjose_header_new(&err);
    cjose_jws_t *jws = NULL;
    const char *compact = NULL, *out = NULL;

    if (hdr == NULL) {
        return NULL;
    }
    if (json_is_object(extra)) {
        json_object_update((json_t *)hdr, extra);
    }
    if (cjose_header_set(hdr, CJOSE_HDR_ALG, alg, &err)
        && (kid == NULL || cjose_header_set(hdr, CJOSE_HDR_KID, kid, &err))
        && (jws = cjose_jws_sign(jwk, hdr, payload, len, &err)) != NULL
        && cjose_jws_export(jws, &compact, &err)) {
        out = apr_pstrdup(p, compact);
    }
    cjose_jws_release(jws);
    cjose_header_release(hdr);
    return out;
}

/* ------------------------------------------------------------------------------------------
 * Keys
 */

static char *olo_fuzz_read_file(apr_pool_t *p, const char *path)
{
    FILE *f = fopen(path, "rb");
    char *text = NULL;
    long len;

    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0
        || fseek(f, 0, SEEK_SET) != 0) {
        fprintf(stderr, "fuzz: cannot read %s\n", path);
        abort();
    }
    text = apr_palloc(p, (apr_size_t)len + 1);
    if (fread(text, 1, (size_t)len, f) != (size_t)len) {
        abort();
    }
    text[len] = '\0';
    fclose(f);
    return text;
}

/* The public members only, as a provider publishes them. */
static json_t *olo_fuzz_public(json_t *jwk)
{
    static const char *const priv[] = {"d", "p", "q", "dp", "dq", "qi", "oth", NULL};
    json_t *pub = json_deep_copy(jwk);

    for (int i = 0; priv[i] != NULL; i++) {
        json_object_del(pub, priv[i]);
    }
    return pub;
}

static cjose_jwk_t *olo_fuzz_private(json_t *jwk)
{
    cjose_err err;
    char *text = json_dumps(jwk, JSON_COMPACT);
    cjose_jwk_t *key = text ? cjose_jwk_import(text, strlen(text), &err) : NULL;

    free(text);
    if (key == NULL) {
        abort();
    }
    return key;
}

static const char *olo_fuzz_jwks_text(apr_pool_t *p, json_t *keys, size_t from, size_t to)
{
    json_t *set = json_array();
    json_t *doc = json_pack("{s:o}", "keys", set);
    char *text;
    const char *out;

    for (size_t i = from; i < to; i++) {
        json_array_append_new(set, olo_fuzz_public(json_array_get(keys, i)));
    }
    text = json_dumps(doc, JSON_COMPACT);
    out = apr_pstrdup(p, text);
    free(text);
    json_decref(doc);
    return out;
}

static void olo_fuzz_load_keys(apr_pool_t *p)
{
    olo_fuzz_keys_t *k = &olo_fuzz_the_keys;
    const char *path = getenv("OLO_FUZZ_KEYS") ? getenv("OLO_FUZZ_KEYS") : OLO_FUZZ_KEYS_FILE;
    json_t *doc = json_loads(olo_fuzz_read_file(p, path), 0, NULL);
    json_t *keys = json_object_get(doc, "keys");
    olo_seal_key_t *session = NULL, *state = NULL;
    olo_jwks_t *jwks = NULL;

    /* keys.json: fuzz-rsa, fuzz-ec (the provider's set), fuzz-bot (the extra set) */
    if (json_array_size(keys) != 3
        || olo_seal_key_derive(&session, p, OLO_FUZZ_SECRET, strlen(OLO_FUZZ_SECRET), "session")
        || olo_seal_key_derive(&state, p, OLO_FUZZ_SECRET, strlen(OLO_FUZZ_SECRET), "state")) {
        fprintf(stderr, "fuzz: %s is not the three-key set, or the seal keys failed\n", path);
        abort();
    }
    k->session = session;
    k->state = state;
    k->rsa = olo_fuzz_private(json_array_get(keys, 0));
    k->ec = olo_fuzz_private(json_array_get(keys, 1));
    k->bot = olo_fuzz_private(json_array_get(keys, 2));
    k->jwks_json = olo_fuzz_jwks_text(p, keys, 0, 2);
    k->bot_jwks_json = olo_fuzz_jwks_text(p, keys, 2, 3);
    if (olo_jwks_parse(&jwks, p, k->jwks_json, strlen(k->jwks_json)) != APR_SUCCESS
        || jwks->nkeys != 2) {
        abort();
    }
    k->jwks = jwks;
    json_decref(doc);
}

/* ------------------------------------------------------------------------------------------
 * The provider, from memory
 */

#define OLO_FUZZ_CACHE_SLOTS 8

typedef struct olo_fuzz_entry_t {
    const char *key;
    const char *value;
    apr_size_t len;
} olo_fuzz_entry_t;

static olo_fuzz_entry_t olo_fuzz_cache_entries[OLO_FUZZ_CACHE_SLOTS];
static int olo_fuzz_cache_frozen;
static const char *olo_fuzz_discovery_doc;
static olo_http_t olo_fuzz_http;
static olo_cache_t olo_fuzz_cache;
static olo_provider_t olo_fuzz_prov;

static apr_status_t olo_fuzz_fetch(olo_http_response_t **presp, const char **perror,
                                   apr_pool_t *p, void *baton, const char *url, const char *form,
                                   const char *authorization)
{
    olo_http_response_t *resp = apr_pcalloc(p, sizeof(*resp));
    const char *body = NULL;

    (void)baton, (void)form, (void)authorization;
    if (strcmp(url, olo_discovery_url(p, OLO_FUZZ_ISSUER)) == 0) {
        body = olo_fuzz_discovery_doc;
    }
    else if (strcmp(url, OLO_FUZZ_JWKS_URI) == 0) {
        body = olo_fuzz_the_keys.jwks_json;
    }
    else if (strcmp(url, OLO_FUZZ_BOT_JWKS_URI) == 0) {
        body = olo_fuzz_the_keys.bot_jwks_json;
    }
    if (body == NULL) {
        *perror = "no such URL in the fuzz provider";
        return APR_EGENERAL;
    }
    resp->status = 200;
    resp->body = apr_pstrdup(p, body);
    resp->len = strlen(body);
    *presp = resp;
    return APR_SUCCESS;
}

static apr_status_t olo_fuzz_cache_store(void *baton, apr_pool_t *p, const char *key,
                                         const char *value, apr_size_t len, apr_time_t expiry)
{
    (void)baton, (void)p, (void)expiry;
    if (olo_fuzz_cache_frozen) {
        return APR_SUCCESS;
    }
    for (int i = 0; i < OLO_FUZZ_CACHE_SLOTS; i++) {
        olo_fuzz_entry_t *e = &olo_fuzz_cache_entries[i];
        if (e->key == NULL || strcmp(e->key, key) == 0) {
            e->key = apr_pstrdup(olo_fuzz_pool, key);
            e->value = apr_pstrmemdup(olo_fuzz_pool, value, len);
            e->len = len;
            return APR_SUCCESS;
        }
    }
    return APR_ENOSPC;
}

/* Like the socache wrapper of the module: a NUL-terminated copy in the caller's pool. */
static apr_status_t olo_fuzz_cache_retrieve(void *baton, apr_pool_t *p, const char *key,
                                            char **pvalue, apr_size_t *plen)
{
    (void)baton;
    for (int i = 0; i < OLO_FUZZ_CACHE_SLOTS && olo_fuzz_cache_entries[i].key; i++) {
        olo_fuzz_entry_t *e = &olo_fuzz_cache_entries[i];
        if (strcmp(e->key, key) == 0) {
            *pvalue = apr_pstrmemdup(p, e->value, e->len);
            *plen = e->len;
            return APR_SUCCESS;
        }
    }
    return APR_NOTFOUND;
}

static apr_status_t olo_fuzz_cache_claim(void *baton, apr_pool_t *p, const char *key,
                                         apr_time_t expiry)
{
    (void)baton, (void)p, (void)key, (void)expiry;
    return APR_SUCCESS;
}

static apr_status_t olo_fuzz_cache_remove(void *baton, apr_pool_t *p, const char *key)
{
    (void)baton, (void)p, (void)key;
    return APR_SUCCESS;
}

const olo_provider_t *olo_fuzz_provider(void)
{
    return &olo_fuzz_prov;
}

static void olo_fuzz_start_provider(apr_pool_t *p)
{
    olo_metadata_t *md = NULL;
    olo_jwks_t *jwks = NULL;
    olo_outcome_t out = {OLO_OK, NULL};

    olo_fuzz_discovery_doc = apr_psprintf(
        p, "{\"issuer\":\"%s\",\"authorization_endpoint\":\"%s/auth\","
           "\"token_endpoint\":\"%s/token\",\"jwks_uri\":\"%s\","
           "\"end_session_endpoint\":\"%s/logout\",\"userinfo_endpoint\":\"%s/me\","
           "\"code_challenge_methods_supported\":[\"S256\"],"
           "\"id_token_signing_alg_values_supported\":[\"RS256\"]}",
        OLO_FUZZ_ISSUER, OLO_FUZZ_ISSUER, OLO_FUZZ_ISSUER, OLO_FUZZ_JWKS_URI, OLO_FUZZ_ISSUER,
        OLO_FUZZ_ISSUER);
    olo_fuzz_http = (olo_http_t){olo_fuzz_fetch, NULL};
    olo_fuzz_cache = (olo_cache_t){NULL, olo_fuzz_cache_store, olo_fuzz_cache_retrieve,
                                   olo_fuzz_cache_claim, olo_fuzz_cache_remove};
    olo_fuzz_prov = (olo_provider_t){OLO_FUZZ_ISSUER, &olo_fuzz_http, &olo_fuzz_cache,
                                     apr_time_from_sec(3600), apr_time_from_sec(3600),
                                     apr_time_from_sec(30), NULL, 0, NULL, NULL, NULL,
                                     NULL};
    /* fill the cache as a running server has it; an unknown kid in a bearer token may force
     * one refetch (no marker of an earlier one), which goes to the fake transport */
    if (olo_provider_metadata(&md, &out, p, &olo_fuzz_prov, OLO_FUZZ_NOW) != APR_SUCCESS
        || olo_provider_jwks(&jwks, &out, p, &olo_fuzz_prov, OLO_FUZZ_JWKS_URI, OLO_JWKS_CACHED,
                             OLO_FUZZ_NOW - apr_time_from_sec(600)) != APR_SUCCESS
        || olo_provider_jwks(&jwks, &out, p, &olo_fuzz_prov, OLO_FUZZ_BOT_JWKS_URI, OLO_JWKS_CACHED,
                             OLO_FUZZ_NOW - apr_time_from_sec(600)) != APR_SUCCESS) {
        fprintf(stderr, "fuzz: the in-memory provider does not start: %s\n",
                out.detail ? out.detail : "?");
        abort();
    }
    olo_fuzz_cache_frozen = 1;
}

void olo_fuzz_init(void)
{
    static int done;

    if (done) {
        return;
    }
    done = 1;
    if (apr_initialize() != APR_SUCCESS || apr_pool_create(&olo_fuzz_pool, NULL) != APR_SUCCESS) {
        abort();
    }
    olo_fuzz_load_keys(olo_fuzz_pool);
    olo_fuzz_start_provider(olo_fuzz_pool);
}
