#ifndef OLO_JWKS_H
#define OLO_JWKS_H

#include <apr_pools.h>
#include <cjose/jwk.h>

/** Maximum JWKS document and key counts accepted from a provider. */
#define OLO_JWKS_MAX_BYTES (256 * 1024)
#define OLO_JWKS_MAX_KEYS  64

typedef struct olo_jwk_t {
    const char *kid;            /* NULL when the key has none */
    const char *kty;            /* "RSA" or "EC" (other types are skipped) */
    const char *alg;            /* NULL when the key does not pin one */
    const char *crv;            /* EC only */
    cjose_jwk_t *jwk;           /* released by the pool that parsed the set */
} olo_jwk_t;

typedef struct olo_jwks_t {
    int nkeys;
    const olo_jwk_t *keys;
} olo_jwks_t;

/**
 * Parses a JWKS document (`{"keys":[...]}`). Keeps RSA (2048 to 8192 bits) and EC P-256
 * public keys meant for signatures (`use` absent or "sig"); skips symmetric keys, encryption
 * keys and any key that is malformed (its base64url members are checked before cjose sees
 * them), so one broken key next to good ones does not take the set down. Only the public
 * members (n, e / crv, x, y) are imported: a "d" published by mistake is ignored.
 * The cjose objects are released with p.
 * APR_EINVAL: not JSON, no "keys" array, more than OLO_JWKS_MAX_BYTES or OLO_JWKS_MAX_KEYS,
 * or no usable key at all.
 */
apr_status_t olo_jwks_parse(olo_jwks_t **pjwks, apr_pool_t *p, const char *json, apr_size_t len);

/** The first key with this kid, or NULL (also for a NULL kid). */
const olo_jwk_t *olo_jwks_find(const olo_jwks_t *jwks, const char *kid);

#endif
