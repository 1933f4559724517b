#ifndef OLO_SEAL_H
#define OLO_SEAL_H

#include <apr_pools.h>

/**
 * Authenticated encryption for cookies: AES-256-GCM (OpenSSL) with a random 96-bit nonce,
 * keys derived with HKDF-SHA256 from the operator's secret and a purpose label, so the state
 * cookie key and the session cookie key differ. The cookie name goes into the additional
 * data, so a value sealed for one cookie is refused under another name.
 * Sealed text: base64url(version 0x01 | nonce[12] | ciphertext | tag[16]).
 */

#define OLO_SEAL_MIN_SECRET 32

typedef struct olo_seal_key_t olo_seal_key_t;

/**
 * Derives the key for `purpose` (e.g. "session", "state") from secret[0..len).
 * APR_EINVAL when len < OLO_SEAL_MIN_SECRET or purpose is NULL or empty. The key lives as
 * long as p (the config pool: derived once at startup, never per request); it is wiped
 * when p is cleared. Read-only afterwards: safe to share between threads.
 */
apr_status_t olo_seal_key_derive(olo_seal_key_t **pkey, apr_pool_t *p, const char *secret,
                                 apr_size_t len, const char *purpose);

/**
 * Lets olo_unseal with key also open values sealed with `older` (the same purpose derived from
 * the previous secret): the grace period of a secret rotation. Sealing always uses key. Call at
 * startup only, before the key is shared between threads.
 */
void olo_seal_key_accept_older(olo_seal_key_t *key, const olo_seal_key_t *older);

/**
 * Seals plain[0..len) for cookie `aad` (NULL counts as ""). *psealed is allocated from p.
 * APR_EINVAL when the result would exceed OLO_SEAL_MAX_TEXT; APR_EGENERAL when OpenSSL
 * (random source or cipher) fails.
 */
apr_status_t olo_seal(const char **psealed, apr_pool_t *p, const olo_seal_key_t *key,
                      const char *aad, const unsigned char *plain, apr_size_t len);

/**
 * Opens a sealed value. *pplain is NUL-terminated (not counted in *plen), allocated from p.
 * APR_EINVAL when malformed (not strict base64url, too short, unknown version byte) or
 * oversized (> OLO_SEAL_MAX_TEXT), APR_EGENERAL when the tag does not verify (tampered,
 * other cookie name, other purpose, other secret).
 */
#define OLO_SEAL_MAX_TEXT (64 * 1024)
apr_status_t olo_unseal(unsigned char **pplain, apr_size_t *plen, apr_pool_t *p,
                        const olo_seal_key_t *key, const char *aad, const char *sealed);

#endif
