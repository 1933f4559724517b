#ifndef OLO_HASH_H
#define OLO_HASH_H

#include <apr_pools.h>

/** base64url(SHA-256(data[0..len))), allocated from p; NULL when OpenSSL fails. */
const char *olo_hash_sha256(apr_pool_t *p, const void *data, apr_size_t len);

#endif
