/* Random bytes and tokens for state, nonce and PKCE verifier. */
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include "olo_rand.h"
#include "../jwt/olo_b64.h"

apr_status_t olo_rand_bytes(unsigned char *buf, apr_size_t len)
{
    /* RAND_bytes takes an int: refuse rather than silently fill only part of buf */
    if (len > INT_MAX) {
        return APR_EINVAL;
    }
    /* a failing CSPRNG must fail the login, never yield guessable state or verifiers */
    return RAND_bytes(buf, (int)len) == 1 ? APR_SUCCESS : APR_EGENERAL;
}

const char *olo_rand_token(apr_pool_t *p, olo_rand_fn source, apr_size_t nbytes)
{
    unsigned char *buf = apr_palloc(p, nbytes ? nbytes : 1);
    const char *token = NULL;

    if (source(buf, nbytes) == APR_SUCCESS) {
        token = olo_b64_encode(p, buf, nbytes);
    }
    /* the raw bytes are the secret in another spelling; do not leave them in the pool */
    OPENSSL_cleanse(buf, nbytes);
    return token;
}
