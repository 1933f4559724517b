/* JWKS parsing. The document comes from the network, so every member cjose would decode is
 * checked here first, and cjose only ever sees a small object we built from checked public
 * members. */
#include <string.h>
#include <apr_strings.h>
#include <jansson.h>
#include "olo_b64.h"
#include "olo_jwks.h"
#include "olo_json.h"

/* RFC 7518 section 3.3: RSA keys below 2048 bits MUST NOT be used; the upper bound keeps a
 * hostile document from making us do huge modular exponentiations. */
#define OLO_JWKS_RSA_MIN_BITS 2048
#define OLO_JWKS_RSA_MAX_BITS 8192
#define OLO_JWKS_RSA_MAX_E    8     /* bytes; providers use 65537 */
#define OLO_JWKS_P256_COORD   32    /* RFC 7518 section 6.2.1.2: full coordinate length */

typedef apr_status_t olo_jwks_build_fn(json_t **ppub, apr_pool_t *p, json_t *jkey);

typedef struct olo_jwks_kty_t {
    const char *kty;
    olo_jwks_build_fn *build;   /* copies the checked public members into a new object */
} olo_jwks_kty_t;

static apr_status_t olo_jwks_jwk_free(void *jwk)
{
    cjose_jwk_release(jwk);
    return APR_SUCCESS;
}

/* A base64url member decoded strictly; NULL when absent, not a string or not canonical. */
static const unsigned char *olo_jwks_member(apr_size_t *plen, apr_pool_t *p, json_t *jkey,
                                            const char *name, apr_size_t maxlen)
{
    const char *s = json_string_value(json_object_get(jkey, name));
    unsigned char *bin = NULL;
    apr_size_t len = 0;

    if (s == NULL || strlen(s) > maxlen
        || olo_b64_decode(&bin, &len, p, s, strlen(s)) != APR_SUCCESS) {
        return NULL;
    }
    *plen = len;
    return bin;
}

/* Bits of a big-endian unsigned integer, ignoring the leading zero octets some libraries emit. */
static apr_size_t olo_jwks_bits(const unsigned char *bin, apr_size_t len)
{
    apr_size_t i = 0;
    apr_size_t bits;

    while (i < len && bin[i] == 0) {
        i++;
    }
    if (i == len) {
        return 0;
    }
    bits = (len - i) * 8;
    for (unsigned char top = bin[i]; (top & 0x80) == 0; top <<= 1) {
        bits--;
    }
    return bits;
}

static apr_status_t olo_jwks_build_rsa(json_t **ppub, apr_pool_t *p, json_t *jkey)
{
    apr_size_t nlen = 0, elen = 0;
    const unsigned char *n = olo_jwks_member(&nlen, p, jkey, "n", OLO_JWKS_RSA_MAX_BITS / 6 + 8);
    const unsigned char *e = olo_jwks_member(&elen, p, jkey, "e", 16);
    apr_size_t bits = n ? olo_jwks_bits(n, nlen) : 0;

    int ok = n != NULL && e != NULL && bits >= OLO_JWKS_RSA_MIN_BITS
             && bits <= OLO_JWKS_RSA_MAX_BITS && elen <= OLO_JWKS_RSA_MAX_E
             && olo_jwks_bits(e, elen) >= 2;

    /* Only n and e: a private exponent or CRT values published by mistake are never loaded. */
    *ppub = ok ? json_pack("{s:s, s:O, s:O}", "kty", "RSA", "n", json_object_get(jkey, "n"),
                           "e", json_object_get(jkey, "e"))
               : NULL;
    return *ppub ? APR_SUCCESS : APR_EINVAL;
}

static apr_status_t olo_jwks_build_ec(json_t **ppub, apr_pool_t *p, json_t *jkey)
{
    apr_size_t xlen = 0, ylen = 0;
    const char *crv = json_string_value(json_object_get(jkey, "crv"));
    const unsigned char *x = olo_jwks_member(&xlen, p, jkey, "x", 64);
    const unsigned char *y = olo_jwks_member(&ylen, p, jkey, "y", 64);

    /* Only P-256 is needed for ES256; other curves would need other algorithms. */
    int ok = crv != NULL && strcmp(crv, "P-256") == 0 && x != NULL && y != NULL
             && xlen == OLO_JWKS_P256_COORD && ylen == OLO_JWKS_P256_COORD;

    *ppub = ok ? json_pack("{s:s, s:s, s:O, s:O}", "kty", "EC", "crv", "P-256",
                           "x", json_object_get(jkey, "x"), "y", json_object_get(jkey, "y"))
               : NULL;
    return *ppub ? APR_SUCCESS : APR_EINVAL;
}

/* "oct" is absent on purpose: a symmetric key in a provider's public set can only serve an
 * HMAC-confusion attack. */
static const olo_jwks_kty_t olo_jwks_ktys[] = {
    {"RSA", olo_jwks_build_rsa},
    {"EC", olo_jwks_build_ec},
};

static const olo_jwks_kty_t *olo_jwks_kty_find(const char *kty)
{
    for (apr_size_t i = 0; kty && i < sizeof(olo_jwks_ktys) / sizeof(olo_jwks_ktys[0]); i++) {
        if (strcmp(olo_jwks_ktys[i].kty, kty) == 0) {
            return &olo_jwks_ktys[i];
        }
    }
    return NULL;
}

/* Optional string member: absent is fine, present with another type makes the key suspect.
 * The value points into the document; it is copied once the key is known to be usable. */
static int olo_jwks_opt_string(const char **pvalue, json_t *jkey, const char *name)
{
    json_t *v = json_object_get(jkey, name);

    if (v != NULL && !json_is_string(v)) {
        return 0;
    }
    *pvalue = json_string_value(v);
    return 1;
}

/* The metadata of one key; APR_ENOTIMPL for keys we do not use for signatures. */
static apr_status_t olo_jwks_key_meta(olo_jwk_t *pkey, const olo_jwks_kty_t **pkty, json_t *jkey)
{
    olo_jwk_t key = {0};
    const olo_jwks_kty_t *kty = NULL;
    const char *use = NULL;
    apr_status_t rv = APR_EINVAL;

    if (!json_is_object(jkey) || !olo_jwks_opt_string(&use, jkey, "use")
        || !olo_jwks_opt_string(&key.kid, jkey, "kid")
        || !olo_jwks_opt_string(&key.alg, jkey, "alg")
        || !olo_jwks_opt_string(&key.kty, jkey, "kty")) {
        goto cleanup;
    }
    /* RFC 7517 section 4.2: a key marked for encryption must not verify signatures. */
    rv = APR_ENOTIMPL;
    if ((use == NULL || strcmp(use, "sig") == 0) && (kty = olo_jwks_kty_find(key.kty)) != NULL) {
        key.crv = (strcmp(key.kty, "EC") == 0) ? "P-256" : NULL;
        rv = APR_SUCCESS;
    }
cleanup:
    if (rv == APR_SUCCESS) {
        *pkey = key;
        *pkty = kty;
    }
    return rv;
}

/* One key into p; everything transient (decoded members, the rebuilt JWK) goes to ptemp. */
static apr_status_t olo_jwks_key_import(olo_jwk_t *pkey, apr_pool_t *p, apr_pool_t *ptemp,
                                        json_t *jkey)
{
    olo_jwk_t key = {0};
    const olo_jwks_kty_t *kty = NULL;
    json_t *pub = NULL;
    cjose_err err;
    apr_status_t rv;

    if ((rv = olo_jwks_key_meta(&key, &kty, jkey)) != APR_SUCCESS
        || (rv = kty->build(&pub, ptemp, jkey)) != APR_SUCCESS) {
        goto cleanup;
    }
    olo_json_own(ptemp, pub);
    if ((key.jwk = cjose_jwk_import_json((cjose_header_t *)pub, &err)) == NULL) {
        rv = APR_EINVAL;    /* e.g. an EC point that is not on the curve */
        goto cleanup;
    }
    apr_pool_cleanup_register(p, key.jwk, olo_jwks_jwk_free, apr_pool_cleanup_null);
    key.kid = key.kid ? apr_pstrdup(p, key.kid) : NULL;
    key.alg = key.alg ? apr_pstrdup(p, key.alg) : NULL;
    key.kty = apr_pstrdup(p, key.kty);
cleanup:
    if (rv == APR_SUCCESS) {
        *pkey = key;
    }
    return rv;
}

static apr_status_t olo_jwks_load(json_t **pkeys, apr_pool_t *ptemp, const char *json,
                                  apr_size_t len)
{
    json_t *doc = NULL;
    json_t *keys = NULL;
    apr_status_t rv = APR_EINVAL;

    if (json == NULL || len > OLO_JWKS_MAX_BYTES) {
        goto cleanup;
    }
    if ((doc = olo_json_load(ptemp, json, len)) == NULL) {
        goto cleanup;
    }
    keys = json_object_get(doc, "keys");
    if (json_is_array(keys) && json_array_size(keys) > 0
        && json_array_size(keys) <= OLO_JWKS_MAX_KEYS) {
        rv = APR_SUCCESS;
    }
cleanup:
    *pkeys = (rv == APR_SUCCESS) ? keys : NULL;
    return rv;
}

apr_status_t olo_jwks_parse(olo_jwks_t **pjwks, apr_pool_t *p, const char *json, apr_size_t len)
{
    olo_jwks_t *jwks = NULL;
    olo_jwk_t *keys = NULL;
    apr_pool_t *ptemp = NULL;
    json_t *jkeys = NULL;
    int n = 0;
    apr_status_t rv;

    if ((rv = apr_pool_create(&ptemp, p)) != APR_SUCCESS
        || (rv = olo_jwks_load(&jkeys, ptemp, json, len)) != APR_SUCCESS) {
        goto cleanup;
    }
    keys = apr_pcalloc(p, json_array_size(jkeys) * sizeof(*keys));
    for (size_t i = 0; i < json_array_size(jkeys); i++) {
        /* A key we cannot use is skipped, not fatal: providers publish keys for other uses
         * and rotate in new types, and the rest of the set must keep working. */
        if (olo_jwks_key_import(&keys[n], p, ptemp, json_array_get(jkeys, i)) == APR_SUCCESS) {
            n++;
        }
    }
    rv = (n > 0) ? APR_SUCCESS : APR_EINVAL;
    if (rv == APR_SUCCESS) {
        jwks = apr_palloc(p, sizeof(*jwks));
        jwks->nkeys = n;
        jwks->keys = keys;
    }
cleanup:
    if (ptemp != NULL) {
        apr_pool_destroy(ptemp);
    }
    *pjwks = (rv == APR_SUCCESS) ? jwks : NULL;
    return rv;
}

const olo_jwk_t *olo_jwks_find(const olo_jwks_t *jwks, const char *kid)
{
    for (int i = 0; jwks != NULL && kid != NULL && i < jwks->nkeys; i++) {
        if (jwks->keys[i].kid != NULL && strcmp(jwks->keys[i].kid, kid) == 0) {
            return &jwks->keys[i];
        }
    }
    return NULL;
}
