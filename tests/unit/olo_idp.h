#ifndef OLO_IDP_H
#define OLO_IDP_H

/* A provider as the login and refresh suites see it: discovery, keys and token answers served
 * by the fake transport, ID tokens signed in-test with cjose. */

#include <cjose/cjose.h>
#include "olo_fakes.h"
#include "../../auth/olo_config.h"
#include "../../auth/olo_login.h"

#define ISSUER "https://idp.example/oidc/2"
#define DISCOVERY ISSUER "/.well-known/openid-configuration"
#define JWKS_URI ISSUER "/certs"
#define TOKEN_URI ISSUER "/token"
#define CLIENT "client-1"

extern cjose_jwk_t *key_a;     /* the provider's key */
extern cjose_jwk_t *key_b;     /* the key it rotates to */

typedef struct fixture_t {
    olo_fake_http_t *http;
    olo_fake_cache_t *cache;
    olo_provider_t prov;
    olo_client_t client;
    olo_pending_t pending;
} fixture_t;

/* Unchecked fixture: RSA key generation is slow, so once per test case. */
void olo_idp_keys_setup(void);
void olo_idp_keys_teardown(void);

/** {"keys":[public key]} */
const char *jwks_of(cjose_jwk_t *key);
/** An ID token as the provider would sign it, claims changed by `extra` (JSON members). */
const char *id_token(cjose_jwk_t *key, const char *nonce, const char *extra);
/** The same, issued at `issued` and valid ten minutes from then. */
const char *id_token_at(cjose_jwk_t *key, const char *nonce, apr_time_t issued, const char *extra);
/** payload (JSON text) signed RS256 by key, with its kid. */
const char *signed_jwt(cjose_jwk_t *key, const char *payload);
/** The token endpoint answers with token (and refresh_token when non-NULL). */
void route_tokens(fixture_t *f, const char *token, const char *refresh_token);
#define route_token(f, token) route_tokens((f), (token), NULL)
/** A provider with discovery and key_a's JWKS routed, a public client and a pending login. */
fixture_t *fixture(void);

#endif
