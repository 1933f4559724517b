#ifndef OLO_B64_H
#define OLO_B64_H

#include <apr_pools.h>

/**
 * Strict base64url without padding (RFC 7515 section 2). Every byte that reaches cjose
 * passes through olo_b64_is_valid first: libcjose 0.6.2.1 aborts the process on some
 * malformed input (for example a segment ending in "a=").
 */

/** True when s[0..len) holds only [A-Za-z0-9_-] and len % 4 != 1 (an impossible length). */
int olo_b64_is_valid(const char *s, apr_size_t len);

/**
 * Decodes s[0..len). *pout is NUL-terminated (not counted in *poutlen), allocated from p.
 * APR_EINVAL when olo_b64_is_valid fails or the unused trailing bits are not zero.
 */
apr_status_t olo_b64_decode(unsigned char **pout, apr_size_t *poutlen, apr_pool_t *p,
                            const char *s, apr_size_t len);

/** Encodes data[0..len) without padding; allocated from p. */
const char *olo_b64_encode(apr_pool_t *p, const unsigned char *data, apr_size_t len);

#endif
