/* Proof Key for Code Exchange (RFC 7636), S256 only: "plain" gives no protection against an
 * attacker who reads the authorization request. */
#include <string.h>
#include "olo_pkce.h"
#include "../jwt/olo_b64.h"
#include "../jwt/olo_hash.h"

apr_status_t olo_pkce_verifier(const char **pverifier, apr_pool_t *p, olo_rand_fn rand)
{
    /* base64url of 32 bytes is 43 characters of the RFC 7636 4.1 unreserved set */
    const char *verifier = olo_rand_token(p, rand, OLO_PKCE_VERIFIER_BYTES);
    apr_status_t rv = verifier ? APR_SUCCESS : APR_EGENERAL;

    *pverifier = (rv == APR_SUCCESS) ? verifier : NULL;
    return rv;
}

const char *olo_pkce_challenge(apr_pool_t *p, const char *verifier)
{
    /* RFC 7636 4.2: BASE64URL-ENCODE(SHA256(ASCII(code_verifier))) */
    return verifier ? olo_hash_sha256(p, verifier, strlen(verifier)) : NULL;
}
