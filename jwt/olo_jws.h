#ifndef OLO_JWS_H
#define OLO_JWS_H

#include <apr_pools.h>
#include <jansson.h>
#include "olo_jwks.h"
#include "olo_reason.h"

/** Largest compact JWS accepted, in bytes. */
#define OLO_JWS_MAX_BYTES (16 * 1024)

typedef struct olo_jws_t {
    const char *alg;
    const char *kid;            /* NULL when the header has none */
    json_t *claims;             /* the payload object; decref'd when the pool is cleared */
} olo_jws_t;

/** Signature algorithms accepted for ID tokens: RS256, PS256, ES256. */
extern const char *const olo_jws_default_algs[];

/**
 * Verifies compact JWS `compact` with `keys`, accepting only algorithms listed in `allowed`
 * (NULL-terminated; NULL means olo_jws_default_algs) that this file also supports (RS256,
 * PS256, ES256). "none" and every HMAC algorithm are refused whatever `allowed` says,
 * and the key type must match the algorithm (RSA for RS/PS, EC P-256 for ES256), so a
 * public key can never serve as an HMAC secret. The key is the one named by kid; without a
 * kid only a JWKS holding exactly one key of the right type is accepted.
 * A key that pins "alg" serves only that algorithm. A kid naming only keys of the wrong type
 * gives OLO_R_NO_KEY. The signature length must be exact for the key (RSA: modulus size,
 * ES256: 64 bytes), otherwise OLO_R_BAD_SIGNATURE. A "crit" header is refused as malformed,
 * and so are duplicate members in header or payload and a payload that is not an object.
 * All segments are validated (alphabet, length, size) before cjose sees them, and the
 * payload is parsed only after the signature verified.
 * On success *pjws is allocated from p and *preason is OLO_OK. Otherwise *pjws is NULL and
 * *preason says why: OLO_R_TOKEN_MALFORMED, OLO_R_ALG_NOT_ALLOWED, OLO_R_KID_UNKNOWN,
 * OLO_R_NO_KEY or OLO_R_BAD_SIGNATURE.
 * APR_EINVAL for malformed input or a refused algorithm, APR_ENOENT for a missing key,
 * APR_EGENERAL when the signature does not verify.
 */
apr_status_t olo_jws_verify(olo_jws_t **pjws, olo_reason_t *preason, apr_pool_t *p,
                            const char *compact, const olo_jwks_t *keys,
                            const char *const *allowed);

/**
 * Decodes the payload of a compact JWS WITHOUT verifying it (for claims of a token that was
 * verified earlier and stored sealed). *pclaims is an object released with p.
 * APR_EINVAL when malformed.
 */
apr_status_t olo_jws_peek_claims(json_t **pclaims, apr_pool_t *p, const char *compact);

#endif
