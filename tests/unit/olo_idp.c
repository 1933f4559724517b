/* The fake provider shared by the login and refresh suites. */
#include <string.h>
#include <apr_strings.h>
#include "olo_test.h"
#include "olo_idp.h"

cjose_jwk_t *key_a;
cjose_jwk_t *key_b;

void olo_idp_keys_setup(void)
{
    static const uint8_t e[] = {0x01, 0x00, 0x01};
    key_a = cjose_jwk_create_RSA_random(2048, e, sizeof(e), NULL);
    key_b = cjose_jwk_create_RSA_random(2048, e, sizeof(e), NULL);
    cjose_jwk_set_kid(key_a, "key-a", 5, NULL);
    cjose_jwk_set_kid(key_b, "key-b", 5, NULL);
}

void olo_idp_keys_teardown(void)
{
    cjose_jwk_release(key_a);
    cjose_jwk_release(key_b);
}

const char *jwks_of(cjose_jwk_t *key)
{
    char *pub = cjose_jwk_to_json(key, false, NULL);
    const char *json = apr_psprintf(olo_test_pool, "{\"keys\":[%s]}", pub);
    free(pub);
    return json;
}

/* An ID token as the provider would sign it, with claims changed by `extra` (JSON members). */
const char *id_token(cjose_jwk_t *key, const char *nonce, const char *extra)
{
    return id_token_at(key, nonce, OLO_TEST_NOW, extra);
}

const char *id_token_at(cjose_jwk_t *key, const char *nonce, apr_time_t issued, const char *extra)
{
    long now = (long)apr_time_sec(issued);
    const char *payload = apr_psprintf(
        olo_test_pool,
        "{\"iss\":\"" ISSUER "\",\"aud\":\"" CLIENT "\",\"sub\":\"u1\",\"email\":\"alice@example.com\","
        "\"name\":\"Alice\",\"groups\":[\"Admins\",\"Everyone\"],\"nonce\":\"%s\",\"iat\":%ld,"
        "\"exp\":%ld%s%s}", nonce, now, now + 600, extra ? "," : "", extra ? extra : "");
    return signed_jwt(key, payload);
}

const char *signed_jwt(cjose_jwk_t *key, const char *payload)
{
    json_t *hdr = json_pack("{s:s, s:s}", "alg", "RS256", "kid", cjose_jwk_get_kid(key, NULL));
    cjose_jws_t *jws = cjose_jws_sign(key, hdr, (const uint8_t *)payload, strlen(payload), NULL);
    const char *compact = NULL;
    cjose_jws_export(jws, &compact, NULL);
    const char *copy = apr_pstrdup(olo_test_pool, compact);
    cjose_jws_release(jws);
    json_decref(hdr);
    return copy;
}

void route_tokens(fixture_t *f, const char *token, const char *refresh_token)
{
    const char *rt = refresh_token
                         ? apr_psprintf(olo_test_pool, ",\"refresh_token\":\"%s\"", refresh_token)
                         : "";
    olo_fake_http_route(f->http, TOKEN_URI, 200,
                        apr_psprintf(olo_test_pool, "{\"access_token\":\"at\",\"token_type\":"
                                     "\"Bearer\",\"expires_in\":600,\"id_token\":\"%s\"%s}",
                                     token, rt));
}

fixture_t *fixture(void)
{
    fixture_t *f = apr_pcalloc(olo_test_pool, sizeof(*f));
    f->http = olo_fake_http_make(olo_test_pool);
    f->cache = olo_fake_cache_make(olo_test_pool);
    olo_fake_http_route(f->http, DISCOVERY, 200,
                        "{\"issuer\":\"" ISSUER "\",\"authorization_endpoint\":\"" ISSUER "/auth\","
                        "\"token_endpoint\":\"" TOKEN_URI "\",\"jwks_uri\":\"" JWKS_URI "\","
                        "\"code_challenge_methods_supported\":[\"S256\"]}");
    olo_fake_http_route(f->http, JWKS_URI, 200, jwks_of(key_a));
    f->prov = (olo_provider_t){ISSUER, &f->http->http, &f->cache->cache, apr_time_from_sec(3600),
                               apr_time_from_sec(3600), apr_time_from_sec(30), NULL, 0,
                               NULL, NULL, NULL, NULL};
    f->client = (olo_client_t){CLIENT, NULL, "https://app.example/callback",
                               "openid email profile", olo_default_user_claims,
                               apr_time_from_sec(60),
                               apr_time_from_sec(28800)};
    f->pending = (olo_pending_t){"state-0123456789abcdef", "nonce-1", "verifier-abc", "/landing",
                                 OLO_TEST_NOW};
    return f;
}

