#ifndef OLO_PKCE_H
#define OLO_PKCE_H

#include <apr_pools.h>
#include "olo_rand.h"

/** 32 random bytes give the 43-character verifier RFC 7636 section 4.1 recommends. */
#define OLO_PKCE_VERIFIER_BYTES 32

/** A fresh code_verifier from rand, allocated from p. APR_EGENERAL when rand fails. */
apr_status_t olo_pkce_verifier(const char **pverifier, apr_pool_t *p, olo_rand_fn rand);

/** The S256 code_challenge: base64url(SHA-256(verifier)), allocated from p. */
const char *olo_pkce_challenge(apr_pool_t *p, const char *verifier);

#endif
