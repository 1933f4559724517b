#ifndef OLO_RAND_H
#define OLO_RAND_H

#include <apr_pools.h>

/** A source of random bytes; a seam so unit tests can fix the values. */
typedef apr_status_t (*olo_rand_fn)(unsigned char *buf, apr_size_t len);

/** Cryptographically strong random bytes (OpenSSL RAND_bytes). */
apr_status_t olo_rand_bytes(unsigned char *buf, apr_size_t len);

/** base64url text of nbytes random bytes, or NULL when the source fails. */
const char *olo_rand_token(apr_pool_t *p, olo_rand_fn rand, apr_size_t nbytes);

#endif
