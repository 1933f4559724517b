/* The seed corpora of the fuzz targets, made with the same fixed keys, secret and clock as the
 * targets, so sealed cookies open and signed tokens verify.
 *   make_seeds keys FILE   writes a fresh test-only key set (fuzz-rsa, fuzz-ec, fuzz-bot)
 *   make_seeds corpus DIR  writes the seeds DIR/<target>/<seed> that do not exist yet (all of
 *                          them with OLO_SEEDS_REWRITE set), from the keys in OLO_FUZZ_KEYS
 * The corpora are committed; run again when a seed is added or a format changes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <apr_strings.h>
#include "olo_fuzz.h"
#include "../../auth/olo_session.h"
#include "../../auth/olo_state.h"
#include "../../jwt/olo_b64.h"

#define HOUR 3600
#define NOW_SEC ((long)apr_time_sec(OLO_FUZZ_NOW))
#define STATE "c3RhdGUtZnV6ei0wMTIzNDU2Nzg5YWJj"    /* 32 base64url characters */

static apr_pool_t *seeds_pool;
static const char *seeds_dir;

static void seeds_write(const char *target, const char *name, const char *data, size_t len)
{
    const char *dir = apr_pstrcat(seeds_pool, seeds_dir, "/", target, NULL);
    const char *path = apr_pstrcat(seeds_pool, dir, "/", name, NULL);
    FILE *f;

    /* signatures and seals are random: rewriting a seed that exists only churns the tree */
    if (getenv("OLO_SEEDS_REWRITE") == NULL && access(path, F_OK) == 0) {
        return;
    }
    if ((mkdir(seeds_dir, 0755) != 0 && errno != EEXIST)
        || (mkdir(dir, 0755) != 0 && errno != EEXIST) || (f = fopen(path, "wb")) == NULL
        || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        fprintf(stderr, "make_seeds: cannot write %s\n", path);
        exit(1);
    }
}

static void seed(const char *target, const char *name, const char *text)
{
    seeds_write(target, name, text, strlen(text));
}

/* ------------------------------------------------------------------------------------------
 * Keys
 */

static int seeds_keys(const char *file)
{
    static const uint8_t e[] = {0x01, 0x00, 0x01};
    static const char *const kids[] = {"fuzz-rsa", "fuzz-ec", "fuzz-bot"};
    json_t *keys = json_array();
    json_t *doc = json_pack("{s:o}", "keys", keys);
    cjose_err err;
    FILE *f;
    int rc;

    for (int i = 0; i < 3; i++) {
        cjose_jwk_t *jwk = (i == 0) ? cjose_jwk_create_RSA_random(2048, e, sizeof(e), &err)
                                    : cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_256, &err);
        char *text;

        if (jwk == NULL || !cjose_jwk_set_kid(jwk, kids[i], strlen(kids[i]), &err)
            || (text = cjose_jwk_to_json(jwk, true, &err)) == NULL) {
            fprintf(stderr, "make_seeds: cjose: %s\n", err.message);
            return 1;
        }
        json_array_append_new(keys, json_loads(text, 0, NULL));
        free(text);
        cjose_jwk_release(jwk);
    }
    rc = (f = fopen(file, "w")) == NULL || json_dumpf(doc, f, JSON_INDENT(2)) != 0
         || fputc('\n', f) == EOF || fclose(f) != 0;
    json_decref(doc);
    return rc;
}

/* ------------------------------------------------------------------------------------------
 * Cookies
 */

static const char *seeds_session(long created, long expires, int full)
{
    olo_session_t s = {0};
    const char *value = NULL;

    s.id = "c2Vzc2lvbi1pZC0xMjM0NTY3";
    s.user = "jdoe@fuzz.example";
    s.sub = "48213977";
    s.created = apr_time_from_sec(created);
    s.expires = apr_time_from_sec(expires);
    s.last_seen = apr_time_from_sec(created + 60);
    if (full) {
        s.email = "jdoe@fuzz.example";
        s.name = "J\xc3\xa9r\xc3\xb4me Doe";
        s.groups = "admins,staff";
        s.id_token = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImZ1enotcnNhIn0.eyJzdWIiOiI0ODIxMzk3NyJ9.c2ln";
        s.refresh_token = "rt-1f0c9a";
        s.token_expires = apr_time_from_sec(NOW_SEC + HOUR);
    }
    if (olo_session_seal(&value, seeds_pool, olo_fuzz_keys()->session, &s) != APR_SUCCESS) {
        exit(1);
    }
    return value;
}

static const char *seeds_state(const char *state, long created, const char *target)
{
    olo_pending_t pending = {state, "bm9uY2UtZnV6ei0wMTIzNDU2Nzg5YWJjZGVm",
                             "dmVyaWZpZXItZnV6ei0wMTIzNDU2Nzg5YWJjZGVmZ2hpamtsbW5vcA",
                             target, apr_time_from_sec(created)};
    const char *value = NULL;

    if (olo_state_seal(&value, seeds_pool, olo_fuzz_keys()->state, &pending) != APR_SUCCESS) {
        exit(1);
    }
    return value;
}

static void seeds_session_cookie(void)
{
    const char *t = "session_cookie";
    const char *good = seeds_session(NOW_SEC - HOUR, NOW_SEC + 7 * HOUR, 1);

    /* '0': the cookie value as sent; '1': plaintext sealed by the target; '2': Cookie header */
    seed(t, "raw-full", apr_pstrcat(seeds_pool, "0", good, NULL));
    seed(t, "raw-minimal",
         apr_pstrcat(seeds_pool, "0", seeds_session(NOW_SEC - 60, NOW_SEC + HOUR, 0), NULL));
    seed(t, "raw-expired",
         apr_pstrcat(seeds_pool, "0", seeds_session(NOW_SEC - 9 * HOUR, NOW_SEC - HOUR, 1), NULL));
    seed(t, "raw-state-value",
         apr_pstrcat(seeds_pool, "0", seeds_state(STATE, NOW_SEC - 30, "/app"), NULL));
    seed(t, "raw-short", "0AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0");
    seed(t, "sealed-full",
         apr_psprintf(seeds_pool,
                      "1{\"i\":\"c2Vzc2lvbi1pZA\",\"u\":\"jdoe@fuzz.example\",\"s\":\"48213977\","
                      "\"e\":\"jdoe@fuzz.example\",\"n\":\"J. Doe\",\"g\":\"admins,staff\","
                      "\"t\":\"a.b.c\",\"r\":\"rt\",\"te\":%ld,\"c\":%ld,\"x\":%ld,\"a\":%ld}",
                      NOW_SEC + HOUR, NOW_SEC - HOUR, NOW_SEC + HOUR, NOW_SEC - 60));
    seed(t, "sealed-types",
         "1{\"i\":1,\"u\":[\"x\"],\"s\":null,\"c\":1.5,\"x\":-1,\"a\":253402300800}");
    seed(t, "sealed-huge-times",
         "1{\"i\":\"i\",\"u\":\"u\",\"s\":\"s\",\"te\":9223372036854775807,"
         "\"c\":0,\"x\":253402300799,\"a\":253402300799}");
    seed(t, "sealed-duplicate", "1{\"i\":\"i\",\"u\":\"u\",\"u\":\"admin\",\"s\":\"s\"}");
    seed(t, "sealed-not-json", "1\xff\xfe{");
    seed(t, "header",
         apr_pstrcat(seeds_pool, "2theme=dark; olo_session=", good, "; olo_state_x=1", NULL));
    seed(t, "header-quoted", apr_pstrcat(seeds_pool, "2olo_session=\"", good, "\"", NULL));
}

static void seeds_state_cookie(void)
{
    const char *t = "state_cookie";
    const char *other = "b3RoZXItc3RhdGUtMDEyMzQ1Njc4OWFi";
    const char *good = seeds_state(STATE, NOW_SEC - 30, "/app/dashboard?tab=1");

    /* '0': "state\nvalue"; '1': "state\nplaintext" sealed by the target; '2': Cookie header */
    seed(t, "raw-valid", apr_pstrcat(seeds_pool, "0" STATE "\n", good, NULL));
    seed(t, "raw-other-state", apr_pstrcat(seeds_pool, "0", other, "\n", good, NULL));
    seed(t, "raw-expired", apr_pstrcat(seeds_pool, "0" STATE "\n",
                                       seeds_state(STATE, NOW_SEC - 601, "/"), NULL));
    seed(t, "raw-future", apr_pstrcat(seeds_pool, "0" STATE "\n",
                                      seeds_state(STATE, NOW_SEC + 61, "/"), NULL));
    seed(t, "sealed-valid",
         apr_psprintf(seeds_pool,
                      "1" STATE "\n{\"s\":\"" STATE "\",\"n\":\"nonce\",\"v\":\"verifier\","
                      "\"t\":\"/x\",\"c\":%ld}", NOW_SEC - 10));
    seed(t, "sealed-evil-target",
         apr_psprintf(seeds_pool,
                      "1" STATE "\n{\"s\":\"" STATE "\",\"n\":\"n\",\"v\":\"v\","
                      "\"t\":\"//evil.example\",\"c\":%ld}", NOW_SEC));
    seed(t, "sealed-types", "1" STATE "\n{\"s\":\"" STATE "\",\"n\":1,\"v\":[],\"c\":1e300}");
    /* first byte '5': Cookie header mode, keeping 1 (53 % 4) of the three valid ones */
    seed(t, "header-three-pending",
         apr_pstrcat(seeds_pool, "5olo_state_", STATE, "=", good, "; olo_state_", other, "=",
                     seeds_state(other, NOW_SEC - 300, "/a"), "; olo_state_",
                     "dGhpcmQtc3RhdGUtMDEyMzQ1Njc4OWFi=",
                     seeds_state("dGhpcmQtc3RhdGUtMDEyMzQ1Njc4OWFi", NOW_SEC - 5, "/b"), NULL));
    seed(t, "header-stale",
         apr_pstrcat(seeds_pool, "2olo_state_", STATE, "=", good, "; olo_state_", other, "=",
                     seeds_state(other, NOW_SEC - 700, "/"), "; olo_state_short=abc; "
                     "olo_session=x", NULL));
}

/* ------------------------------------------------------------------------------------------
 * Tokens
 */

static const char *seeds_claims(const char *iss, long iat, long exp, const char *extra)
{
    return apr_psprintf(seeds_pool,
                        "{\"iss\":\"%s\",\"sub\":\"48213977\",\"aud\":\"" OLO_FUZZ_CLIENT_ID "\","
                        "\"exp\":%ld,\"iat\":%ld,\"nonce\":\"" OLO_FUZZ_NONCE "\","
                        "\"email\":\"jdoe@fuzz.example\",\"name\":\"Jane Doe\","
                        "\"groups\":[\"admins\",\"staff\"]%s}",
                        iss, exp, iat, extra ? extra : "");
}

static const char *seeds_sign(const cjose_jwk_t *jwk, const char *alg, const char *kid,
                              const char *payload)
{
    const char *jws = olo_fuzz_sign(seeds_pool, jwk, alg, kid, NULL,
                                    (const uint8_t *)payload, strlen(payload));
    if (jws == NULL) {
        exit(1);
    }
    return jws;
}

/* Header and payload as given, then a signature segment: for tokens cjose would not make. */
static const char *seeds_unsigned(const char *header, const char *payload, const char *sig)
{
    return apr_pstrcat(seeds_pool,
                       olo_b64_encode(seeds_pool, (const unsigned char *)header, strlen(header)),
                       ".",
                       olo_b64_encode(seeds_pool, (const unsigned char *)payload, strlen(payload)),
                       ".", sig, NULL);
}

static void seeds_jws(void)
{
    const char *t = "jws";
    const olo_fuzz_keys_t *k = olo_fuzz_keys();
    const char *claims = seeds_claims(OLO_FUZZ_ISSUER, NOW_SEC - 60, NOW_SEC + HOUR, NULL);

    /* '0': compact JWS as received; '1'/'2'/'3': "extra header JSON\npayload" signed by the
     * target with ES256 / RS256 / PS256 */
    seed(t, "rs256", apr_pstrcat(seeds_pool, "0", seeds_sign(k->rsa, "RS256", "fuzz-rsa", claims),
                                 NULL));
    seed(t, "ps256", apr_pstrcat(seeds_pool, "0", seeds_sign(k->rsa, "PS256", "fuzz-rsa", claims),
                                 NULL));
    seed(t, "es256", apr_pstrcat(seeds_pool, "0", seeds_sign(k->ec, "ES256", "fuzz-ec", claims),
                                 NULL));
    seed(t, "es256-no-kid",
         apr_pstrcat(seeds_pool, "0", seeds_sign(k->ec, "ES256", NULL, claims), NULL));
    seed(t, "rs256-unknown-kid",
         apr_pstrcat(seeds_pool, "0", seeds_sign(k->rsa, "RS256", "rotated", claims), NULL));
    seed(t, "bot-es256",
         apr_pstrcat(seeds_pool, "0", seeds_sign(k->bot, "ES256", "fuzz-bot", claims), NULL));
    seed(t, "alg-none",
         apr_pstrcat(seeds_pool, "0", seeds_unsigned("{\"alg\":\"none\"}", claims, ""), NULL));
    seed(t, "alg-hs256",
         apr_pstrcat(seeds_pool, "0",
                     seeds_unsigned("{\"alg\":\"HS256\",\"kid\":\"fuzz-rsa\"}", claims,
                                    "c2lnbmF0dXJlLWJ5dGVzLTAxMjM0NTY3ODlhYmNkZWY"), NULL));
    seed(t, "crit", apr_pstrcat(seeds_pool, "0",
                                seeds_unsigned("{\"alg\":\"RS256\",\"crit\":[\"exp\"]}", claims,
                                               "c2ln"), NULL));
    seed(t, "padding", "0eyJhbGciOiJSUzI1NiJ9.a=.c2ln");
    seed(t, "jwe-five-parts", "0eyJhbGciOiJSU0EtT0FFUCJ9.a2V5.aXY.Y2lwaGVy.dGFn");
    seed(t, "sign-es256", apr_pstrcat(seeds_pool, "1{\"typ\":\"JWT\"}\n", claims, NULL));
    seed(t, "sign-rs256", apr_pstrcat(seeds_pool, "2{}\n", claims, NULL));
    seed(t, "sign-ps256-multi-aud",
         apr_pstrcat(seeds_pool, "3{\"typ\":\"JWT\",\"x5t\":\"abc\"}\n",
                     seeds_claims(OLO_FUZZ_ISSUER, NOW_SEC, NOW_SEC + 60,
                                  ",\"aud\":[\"" OLO_FUZZ_CLIENT_ID "\",\"other\"],"
                                  "\"azp\":\"" OLO_FUZZ_CLIENT_ID "\""), NULL));
    seed(t, "sign-es256-kid-object", apr_pstrcat(seeds_pool, "1{\"kid\":{\"a\":1}}\n[1,2]", NULL));
}

static void seeds_jwks(void)
{
    const char *t = "jwks";
    const olo_fuzz_keys_t *k = olo_fuzz_keys();

    seed(t, "provider", k->jwks_json);
    seed(t, "bot", k->bot_jwks_json);
    seed(t, "onelogin-like",
         apr_psprintf(seeds_pool, "{\"keys\":[%.*s,\"use\":\"sig\",\"alg\":\"RS256\"}]}",
                      (int)(strchr(k->jwks_json + 9, '}') - (k->jwks_json + 9)),
                      k->jwks_json + 9));
    seed(t, "mixed",
         "{\"keys\":[{\"kty\":\"oct\",\"k\":\"c2VjcmV0\",\"kid\":\"h\"},"
         "{\"kty\":\"RSA\",\"use\":\"enc\",\"n\":\"AQAB\",\"e\":\"AQAB\"},"
         "{\"kty\":\"EC\",\"crv\":\"P-384\",\"x\":\"AA\",\"y\":\"AA\"},"
         "{\"kty\":\"RSA\",\"n\":\"x-y_z\",\"e\":\"AQAB\",\"kid\":7},"
         "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\","
         "\"y\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"},"
         "null,[],\"key\"]}");
    seed(t, "padding", "{\"keys\":[{\"kty\":\"RSA\",\"n\":\"a=\",\"e\":\"AQAB\"}]}");
    seed(t, "empty", "{\"keys\":[]}");
    seed(t, "not-a-set", "[{\"kty\":\"RSA\"}]");
}

static void seeds_claims_target(void)
{
    const char *t = "claims";

    seed(t, "id-token", seeds_claims(OLO_FUZZ_ISSUER, NOW_SEC - 60, NOW_SEC + HOUR, NULL));
    seed(t, "multi-aud-azp",
         seeds_claims(OLO_FUZZ_ISSUER, NOW_SEC, NOW_SEC + 60,
                      ",\"aud\":[\"" OLO_FUZZ_CLIENT_ID "\",\"b\"],\"azp\":\"" OLO_FUZZ_CLIENT_ID
                      "\",\"nbf\":1.5"));
    seed(t, "real-times",
         apr_psprintf(seeds_pool,
                      "{\"iss\":\"" OLO_FUZZ_ISSUER "\",\"aud\":[\"" OLO_FUZZ_CLIENT_ID "\"],"
                      "\"sub\":\"s\",\"exp\":%ld.75,\"iat\":%ld.25,\"nbf\":%ld.5,"
                      "\"email\":42}", NOW_SEC + 1, NOW_SEC, NOW_SEC));
    seed(t, "bot",
         apr_psprintf(seeds_pool,
                      "{\"iss\":\"" OLO_FUZZ_BOT_ISSUER "\",\"sub\":\"ingestion-bot\","
                      "\"email\":\"ingestion-bot@open-metadata.org\",\"isBot\":true,"
                      "\"tokenType\":\"BOT\",\"iat\":%ld}", NOW_SEC - 100));
    seed(t, "huge-numbers",
         "{\"iss\":\"" OLO_FUZZ_ISSUER "\",\"aud\":\"" OLO_FUZZ_CLIENT_ID "\",\"sub\":\"s\","
         "\"exp\":1e308,\"iat\":-9223372036854775808,\"nbf\":9223372036854775807}");
    seed(t, "wrong-types", "{\"iss\":[],\"aud\":{},\"azp\":1,\"exp\":\"soon\",\"sub\":\"\"}");
    seed(t, "array", "[1,2,3]");
}

static void seeds_discovery(void)
{
    const char *t = "discovery";
    const char *i = OLO_FUZZ_ISSUER;

    seed(t, "onelogin",
         apr_psprintf(seeds_pool,
                      "{\"acr_values_supported\":[\"onelogin:nist:level:1:re-auth\"],"
                      "\"authorization_endpoint\":\"%s/auth\",\"claims_parameter_supported\":true,"
                      "\"claims_supported\":[\"acr\",\"auth_time\",\"company\",\"department\","
                      "\"email\",\"email_verified\",\"family_name\",\"given_name\",\"groups\","
                      "\"iss\",\"locale_code\",\"name\",\"phone_number\",\"preferred_username\","
                      "\"sid\",\"sub\",\"title\",\"updated_at\"],"
                      "\"code_challenge_methods_supported\":[\"S256\"],"
                      "\"end_session_endpoint\":\"%s/logout\",\"grant_types_supported\":"
                      "[\"authorization_code\",\"implicit\",\"refresh_token\",\"client_credentials\","
                      "\"password\"],\"id_token_signing_alg_values_supported\":[\"RS256\"],"
                      "\"introspection_endpoint\":\"%s/token/introspection\","
                      "\"issuer\":\"%s\",\"jwks_uri\":\"%s/certs\","
                      "\"request_parameter_supported\":false,\"request_uri_parameter_supported\":"
                      "false,\"response_modes_supported\":[\"form_post\",\"fragment\",\"query\"],"
                      "\"response_types_supported\":[\"code\",\"id_token token\",\"id_token\"],"
                      "\"revocation_endpoint\":\"%s/token/revocation\",\"scopes_supported\":"
                      "[\"openid\",\"name\",\"profile\",\"groups\",\"email\",\"params\","
                      "\"phone\"],\"subject_types_supported\":[\"public\"],"
                      "\"token_endpoint\":\"%s/token\",\"token_endpoint_auth_methods_supported\":"
                      "[\"client_secret_basic\",\"client_secret_post\",\"none\"],"
                      "\"userinfo_endpoint\":\"%s/me\",\"userinfo_signing_alg_values_supported\":[]}",
                      i, i, i, i, i, i, i, i));
    seed(t, "minimal",
         apr_psprintf(seeds_pool,
                      "{\"issuer\":\"%s\",\"authorization_endpoint\":\"https://a.example/x\","
                      "\"token_endpoint\":\"HTTPS://t.example:8443/t?x=1\","
                      "\"jwks_uri\":\"https://k.example/k\"}", i));
    seed(t, "plain-s256-http",
         apr_psprintf(seeds_pool,
                      "{\"issuer\":\"%s\",\"authorization_endpoint\":\"http://a.example/x\","
                      "\"token_endpoint\":\"https://user@t.example/t\",\"jwks_uri\":\"https://\","
                      "\"code_challenge_methods_supported\":[\"plain\"],"
                      "\"end_session_endpoint\":\"javascript:alert(1)\"}", i));
    seed(t, "other-issuer", "{\"issuer\":\"https://evil.onelogin.com/oidc/2\"}");
    seed(t, "duplicate-issuer",
         apr_psprintf(seeds_pool, "{\"issuer\":\"%s\",\"issuer\":\"https://evil.example\"}", i));
}

static void seeds_token(void)
{
    const char *t = "token";
    const char *claims = seeds_claims(OLO_FUZZ_ISSUER, NOW_SEC - 60, NOW_SEC + HOUR, NULL);
    const char *idt = seeds_sign(olo_fuzz_keys()->rsa, "RS256", "fuzz-rsa", claims);

    /* first byte % 4: 0 -> HTTP 200, 1 -> 400, 2 -> 401, 3 -> another status */
    seed(t, "ok", apr_psprintf(seeds_pool,
                               "0{\"access_token\":\"at-9f8e7d\",\"expires_in\":3600,"
                               "\"id_token\":\"%s\",\"refresh_token\":\"rt-1f0c9a\","
                               "\"scope\":\"openid email profile\",\"token_type\":\"Bearer\"}",
                               idt));
    seed(t, "ok-minimal", "0{\"id_token\":\"x\",\"token_type\":\"bearer\",\"expires_in\":-5}");
    seed(t, "no-id-token", "0{\"access_token\":\"at\",\"token_type\":\"mac\"}");
    seed(t, "invalid-grant",
         "1{\"error\":\"invalid_grant\",\"error_description\":\"Authorization code is invalid\"}");
    seed(t, "invalid-client", "2{\"error\":\"invalid_client\\u0007\\\"\\\\\\u00e9\"}");
    seed(t, "server-error", "3<html><body>502 Bad Gateway</body></html>");
}

static void seeds_bearer(void)
{
    const char *t = "bearer_header";
    const olo_fuzz_keys_t *k = olo_fuzz_keys();
    const char *claims = seeds_claims(OLO_FUZZ_ISSUER, NOW_SEC - 60, NOW_SEC + HOUR, NULL);
    const char *bot = apr_psprintf(seeds_pool,
                                   "{\"iss\":\"" OLO_FUZZ_BOT_ISSUER "\",\"sub\":\"ingestion-bot\","
                                   "\"email\":\"ingestion-bot@open-metadata.org\","
                                   "\"isBot\":true,\"iat\":%ld}", NOW_SEC - 100);

    /* raw Authorization header, or \x01 / \x02 + claims signed by the target with the
     * provider's RSA key / the bot key */
    seed(t, "id-token", apr_pstrcat(seeds_pool, "Bearer ",
                                    seeds_sign(k->rsa, "RS256", "fuzz-rsa", claims), NULL));
    seed(t, "bot-token", apr_pstrcat(seeds_pool, "bearer   ",
                                     seeds_sign(k->bot, "ES256", "fuzz-bot", bot), NULL));
    seed(t, "basic", "Basic amRvZTpzZWNyZXQ=");
    seed(t, "empty", "Bearer ");
    seed(t, "sign-id", apr_pstrcat(seeds_pool, "\x01", claims, NULL));
    seed(t, "sign-bot", apr_pstrcat(seeds_pool, "\x02", bot, NULL));
    seed(t, "sign-expired",
         apr_pstrcat(seeds_pool, "\x01",
                     seeds_claims(OLO_FUZZ_ISSUER, NOW_SEC - 100, NOW_SEC - 10, NULL), NULL));
}

/* ------------------------------------------------------------------------------------------
 * Headers, queries, paths
 */

static void seeds_text(void)
{
    const char *sess = seeds_session(NOW_SEC - HOUR, NOW_SEC + HOUR, 0);

    seed("cookie_header", "browser",
         apr_pstrcat(seeds_pool, "_ga=GA1.2.3; olo_session=", sess, "; theme=dark", NULL));
    seed("cookie_header", "joined", "a=1, olo_state_abc=2,b=\"q\" ; olo_session=\"\"");
    seed("cookie_header", "odd", ";;=x; novalue; =; \t olo_state_ = y ;olo_");
    seed("callback_query", "code",
         "code=c0de-4a8f&state=" STATE "&session_state=abc.def");
    seed("callback_query", "error",
         "error=access_denied&error_description=User+cancelled&state=" STATE);
    seed("callback_query", "escapes", "st%61te=" STATE "&code=%41%2b+%7e&iss=https%3A%2F%2Fx");
    seed("callback_query", "repeated", "state=" STATE "&code=a&code=b");
    seed("callback_query", "bad-escape", "state=" STATE "&code=%zz&%=1");
    seed("callback_query", "nul", "state=" STATE "&code=a%00b");
    seed("redirect_target", "plain", "/app/dashboard?tab=1#top");
    seed("redirect_target", "root", "/");
    seed("redirect_target", "evil-slashes", "//evil.example");
    seed("redirect_target", "evil-backslash", "/\\evil.example");
    seed("redirect_target", "evil-escaped-backslash", "/%5Cevil");
    seed("redirect_target", "evil-escaped-slash", "/%2F%2Fevil.example");
    seed("redirect_target", "evil-absolute", "https://evil.example");
    seed("redirect_target", "evil-tab", "/\t/evil.example");
    seed("redirect_target", "evil-query", "target=%2F%2Fevil.example&x=1");
    seed("redirect_target", "query", "target=%2Fapp%2Fpage%3Fa%3D1");
    seed("redirect_target", "double-escape", "/%252F%252Fevil");
    seed("config_value", "issuer", OLO_FUZZ_ISSUER);
    seed("config_value", "redirect-uri", "https://app.fuzz.example:8443/callback");
    seed("config_value", "path", "/signin");
    seed("config_value", "seconds", "28800");
    seed("config_value", "odd-uri", "http://[::1]:80?x#y");
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "keys") == 0) {
        return seeds_keys(argv[2]);
    }
    if (argc != 3 || strcmp(argv[1], "corpus") != 0) {
        fprintf(stderr, "usage: make_seeds keys FILE | make_seeds corpus DIR\n");
        return 2;
    }
    olo_fuzz_init();
    seeds_pool = olo_fuzz_global_pool();
    seeds_dir = argv[2];
    seeds_session_cookie();
    seeds_state_cookie();
    seeds_jws();
    seeds_jwks();
    seeds_claims_target();
    seeds_discovery();
    seeds_token();
    seeds_bearer();
    seeds_text();
    return 0;
}
