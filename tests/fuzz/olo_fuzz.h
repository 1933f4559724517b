#ifndef OLO_FUZZ_H
#define OLO_FUZZ_H

/* What every fuzz target shares: APR set up once, a fresh pool per input whose allocations
 * AddressSanitizer can see one by one, the fixed keys and clock, and a provider that answers
 * from memory. Nothing here touches the network or the clock. */

#include <stddef.h>
#include <stdint.h>
#include <apr_pools.h>
#include <apr_time.h>
#include <cjose/jwk.h>
#include <jansson.h>
#include "../../auth/olo_provider.h"
#include "../../jwt/olo_jwks.h"
#include "../../jwt/olo_seal.h"

#define OLO_FUZZ_NOW apr_time_from_sec(1767225600)     /* 2026-01-01T00:00:00Z */
#define OLO_FUZZ_ISSUER "https://fuzz.onelogin.com/oidc/2"
#define OLO_FUZZ_CLIENT_ID "0oa-fuzz-client"
#define OLO_FUZZ_NONCE "fuzz-nonce-AAECAwQFBgcICQoLDA0ODxAR"
#define OLO_FUZZ_JWKS_URI OLO_FUZZ_ISSUER "/certs"
#define OLO_FUZZ_BOT_JWKS_URI "https://metadata.fuzz.example/api/v1/system/config/jwks"
#define OLO_FUZZ_BOT_ISSUER "open-metadata.org"
/* The seal secret of the fuzzers and their seeds; it protects nothing. */
#define OLO_FUZZ_SECRET "fuzzing only: this secret seals no real cookie"

/** Aborts with a message: an invariant of the code under test does not hold. */
#define OLO_FUZZ_ASSERT(cond) \
    ((cond) ? (void)0 : olo_fuzz_fail(__FILE__, __LINE__, #cond))
void olo_fuzz_fail(const char *file, int line, const char *what);

typedef struct olo_fuzz_keys_t {
    const olo_seal_key_t *session;  /* purpose "session", as the module derives it */
    const olo_seal_key_t *state;    /* purpose "state" */
    const olo_jwks_t *jwks;         /* the provider's set: fuzz-rsa and fuzz-ec */
    const char *jwks_json;          /* the same as a document */
    const char *bot_jwks_json;      /* the extra set: fuzz-bot */
    cjose_jwk_t *rsa;               /* private keys, to sign what a target needs signed */
    cjose_jwk_t *ec;
    cjose_jwk_t *bot;
} olo_fuzz_keys_t;

/** APR, the keys (from OLO_FUZZ_KEYS_FILE or $OLO_FUZZ_KEYS) and the provider; once. */
void olo_fuzz_init(void);

/** The pool that lives as long as the process (keys, provider). */
apr_pool_t *olo_fuzz_global_pool(void);

const olo_fuzz_keys_t *olo_fuzz_keys(void);

/**
 * A fresh pool for one input, destroyed by olo_fuzz_end. Every apr_palloc in the process is a
 * malloc of its own, freed when its pool is cleared, so an overflow of a pool allocation is
 * reported instead of landing in the pool's next block, and a leak is one LeakSanitizer sees.
 */
apr_pool_t *olo_fuzz_begin(void);
void olo_fuzz_end(apr_pool_t *p);

/** data[0..size) as a NUL-terminated string in p (cut at the first NUL byte it holds). */
const char *olo_fuzz_cstr(apr_pool_t *p, const uint8_t *data, size_t size);

/** The input split at the first byte equal to sep: *prest starts after it (NULL: no sep). */
const char *olo_fuzz_split(const uint8_t **prest, size_t *prestlen, apr_pool_t *p,
                           const uint8_t *data, size_t size, uint8_t sep);

/**
 * Compact JWS of payload[0..len) signed with jwk under alg; header gets alg, kid (when not
 * NULL) and every member of extra (an object, or NULL). NULL when cjose refuses.
 */
const char *olo_fuzz_sign(apr_pool_t *p, const cjose_jwk_t *jwk, const char *alg,
                          const char *kid, json_t *extra, const uint8_t *payload, size_t len);

/**
 * The provider: discovery for OLO_FUZZ_ISSUER, its JWKS at OLO_FUZZ_JWKS_URI and the bot set
 * at OLO_FUZZ_BOT_JWKS_URI, served from memory through a cache filled at start and frozen
 * afterwards, so every input meets the same state.
 */
const olo_provider_t *olo_fuzz_provider(void);

#endif
