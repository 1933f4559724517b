/* SHA-256 as base64url: PKCE challenges, and cache keys that must not hold a token itself. */
#include <openssl/evp.h>
#include "olo_hash.h"
#include "olo_b64.h"

const char *olo_hash_sha256(apr_pool_t *p, const void *data, apr_size_t len)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;

    if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1) {
        return NULL;
    }
    return olo_b64_encode(p, md, mdlen);
}
