/* JWS verification. Everything an attacker controls is checked here before cjose sees it:
 * the compact form is split and its segments validated (cjose 0.6.2.1 aborts on some bad
 * base64url), the header is read with our own decoder, the algorithm and key are chosen by
 * us, never by the token, and the payload is only interpreted once the signature holds. */
#include <string.h>
#include <apr_strings.h>
#include <cjose/jws.h>
#include "olo_b64.h"
#include "olo_jws.h"
#include "olo_json.h"

typedef apr_size_t olo_jws_siglen_fn(const olo_jwk_t *key);

/* What an algorithm needs from its key. Algorithms outside this table are refused even when
 * `allowed` names them: the key and signature checks below only know these. */
typedef struct olo_jws_alg_t {
    const char *alg;
    const char *kty;
    const char *crv;                /* NULL: the key type has no curve */
    olo_jws_siglen_fn *siglen;      /* exact signature length in bytes for this key */
} olo_jws_alg_t;

typedef struct olo_jws_parts_t {
    const char *seg[3];             /* header, payload, signature; not NUL-terminated */
    apr_size_t len[3];
    apr_size_t total;
} olo_jws_parts_t;

const char *const olo_jws_default_algs[] = {"RS256", "PS256", "ES256", NULL};

/* RSASSA signatures are exactly as long as the modulus (RFC 8017 sections 8.1.1, 8.2.1). */
static apr_size_t olo_jws_siglen_rsa(const olo_jwk_t *key)
{
    cjose_err err;

    return (cjose_jwk_get_keysize(key->jwk, &err) + 7) / 8;
}

/* ES256 is R || S, 32 bytes each (RFC 7518 section 3.4), never DER. */
static apr_size_t olo_jws_siglen_p256(const olo_jwk_t *key)
{
    (void)key;
    return 64;
}

static const olo_jws_alg_t olo_jws_algs[] = {
    {"RS256", "RSA", NULL, olo_jws_siglen_rsa},
    {"PS256", "RSA", NULL, olo_jws_siglen_rsa},
    {"ES256", "EC", "P-256", olo_jws_siglen_p256},
};

static apr_status_t olo_jws_cjose_free(void *jws)
{
    cjose_jws_release(jws);
    return APR_SUCCESS;
}

/* Exactly three segments, each strict base64url; header and payload non-empty. An empty
 * signature passes here so that an unsigned ("none") token is reported as such. */
static apr_status_t olo_jws_split(olo_jws_parts_t *pparts, const char *compact)
{
    olo_jws_parts_t parts;
    apr_size_t total = compact ? strnlen(compact, OLO_JWS_MAX_BYTES + 1) : 0;
    const char *s = compact;
    apr_status_t rv = APR_EINVAL;

    if (compact == NULL || total > OLO_JWS_MAX_BYTES) {
        goto cleanup;
    }
    for (int i = 0; i < 3; i++) {
        const char *dot = strchr(s, '.');
        const char *end = (i < 2) ? dot : compact + total;

        /* Two segments, or four and more: not a compact JWS (a JWE has five). */
        if (end == NULL || (i == 2 && dot != NULL)) {
            goto cleanup;
        }
        parts.seg[i] = s;
        parts.len[i] = (apr_size_t)(end - s);
        if (!olo_b64_is_valid(s, parts.len[i]) || (i < 2 && parts.len[i] == 0)) {
            goto cleanup;
        }
        s = end + 1;
    }
    parts.total = total;
    rv = APR_SUCCESS;
cleanup:
    if (rv == APR_SUCCESS) {
        *pparts = parts;
    }
    return rv;
}

/* One segment decoded and parsed as a JSON object owned by p. Duplicate members are refused:
 * two parsers picking different "alg" or "aud" values is a known way around checks. */
static apr_status_t olo_jws_object(json_t **pobj, apr_pool_t *p, const char *seg, apr_size_t len)
{
    unsigned char *bin = NULL;
    apr_size_t binlen = 0;
    json_t *obj = NULL;
    apr_status_t rv;

    if ((rv = olo_b64_decode(&bin, &binlen, p, seg, len)) != APR_SUCCESS) {
        goto cleanup;
    }
    if ((obj = olo_json_load(p, (const char *)bin, binlen)) == NULL) {
        rv = APR_EINVAL;
        goto cleanup;
    }
    if (!json_is_object(obj)) {
        olo_json_release(p, obj);
        rv = APR_EINVAL;
    }
cleanup:
    *pobj = (rv == APR_SUCCESS) ? obj : NULL;
    return rv;
}

/* alg (required) and kid (optional) of the protected header, copied into p. */
static apr_status_t olo_jws_header(const char **palg, const char **pkid, apr_pool_t *p,
                                   const olo_jws_parts_t *parts)
{
    json_t *hdr = NULL;
    json_t *kid;
    const char *alg;
    apr_status_t rv;

    if ((rv = olo_jws_object(&hdr, p, parts->seg[0], parts->len[0])) != APR_SUCCESS) {
        goto cleanup;
    }
    alg = json_string_value(json_object_get(hdr, "alg"));
    kid = json_object_get(hdr, "kid");
    /* RFC 7515 section 4.1.11: extensions listed in crit that we do not understand make the
     * token invalid, and we understand none. */
    if (alg == NULL || (kid != NULL && !json_is_string(kid))
        || json_object_get(hdr, "crit") != NULL) {
        rv = APR_EINVAL;
    }
    else {
        *palg = apr_pstrdup(p, alg);
        *pkid = kid ? apr_pstrdup(p, json_string_value(kid)) : NULL;
    }
    olo_json_release(p, hdr);
cleanup:
    return rv;
}

static int olo_jws_listed(const char *const *list, const char *alg)
{
    for (; list != NULL && *list != NULL; list++) {
        if (strcmp(*list, alg) == 0) {
            return 1;
        }
    }
    return 0;
}

/* The token names its algorithm, but only our table and the operator's list decide. */
static apr_status_t olo_jws_alg_pick(const olo_jws_alg_t **pentry, const char *alg,
                                     const char *const *allowed)
{
    const olo_jws_alg_t *entry = NULL;

    /* "none" forges anything; HMAC with a public key as secret forges anything too. */
    if (strcmp(alg, "none") != 0 && strncmp(alg, "HS", 2) != 0
        && olo_jws_listed(allowed ? allowed : olo_jws_default_algs, alg)) {
        for (apr_size_t i = 0; i < sizeof(olo_jws_algs) / sizeof(olo_jws_algs[0]); i++) {
            entry = (strcmp(olo_jws_algs[i].alg, alg) == 0) ? &olo_jws_algs[i] : entry;
        }
    }
    if (entry != NULL) {
        *pentry = entry;
    }
    return entry ? APR_SUCCESS : APR_EINVAL;
}

/* Key type and curve must match the algorithm; a key that pins "alg" is used for that only
 * (RFC 7517 section 4.4). */
static int olo_jws_key_fits(const olo_jwk_t *key, const olo_jws_alg_t *entry)
{
    return strcmp(key->kty, entry->kty) == 0
           && (entry->crv == NULL || (key->crv != NULL && strcmp(key->crv, entry->crv) == 0))
           && (key->alg == NULL || strcmp(key->alg, entry->alg) == 0);
}

static apr_status_t olo_jws_key_pick(const olo_jwk_t **pkey, olo_reason_t *preason,
                                     const olo_jwks_t *keys, const olo_jws_alg_t *entry,
                                     const char *kid)
{
    const olo_jwk_t *found = NULL;
    int named = 0, fitting = 0;

    for (int i = 0; keys != NULL && i < keys->nkeys; i++) {
        const olo_jwk_t *key = &keys->keys[i];

        if (kid != NULL && (key->kid == NULL || strcmp(key->kid, kid) != 0)) {
            continue;
        }
        named++;
        if (olo_jws_key_fits(key, entry)) {
            fitting++;
            found = found ? found : key;
        }
    }
    /* Without kid, picking among several keys would be a guess; with kid the first fitting
     * key of that name is the provider's statement. */
    if (found == NULL || (kid == NULL && fitting != 1)) {
        *preason = (kid != NULL && named == 0) ? OLO_R_KID_UNKNOWN : OLO_R_NO_KEY;
        found = NULL;
    }
    else {
        *pkey = found;
    }
    return found ? APR_SUCCESS : APR_ENOENT;
}

/* The signature: canonical encoding and exact length first (older cjose trusts the length it
 * is given, and a second spelling of one signature would make tokens malleable), then cjose. */
static apr_status_t olo_jws_signature(olo_reason_t *preason, apr_pool_t *p, const char *compact,
                                      const olo_jws_parts_t *parts, const olo_jws_alg_t *entry,
                                      const olo_jwk_t *key)
{
    cjose_jws_t *jws = NULL;
    unsigned char *sig = NULL;
    apr_size_t siglen = 0;
    cjose_err err;
    apr_status_t rv = APR_EINVAL;

    *preason = OLO_R_TOKEN_MALFORMED;
    if (olo_b64_decode(&sig, &siglen, p, parts->seg[2], parts->len[2]) != APR_SUCCESS) {
        goto cleanup;
    }
    *preason = OLO_R_BAD_SIGNATURE;
    rv = APR_EGENERAL;
    if (siglen != entry->siglen(key)) {
        goto cleanup;
    }
    if ((jws = cjose_jws_import(compact, parts->total, &err)) == NULL) {
        *preason = OLO_R_TOKEN_MALFORMED;
        rv = APR_EINVAL;
        goto cleanup;
    }
    apr_pool_cleanup_register(p, jws, olo_jws_cjose_free, apr_pool_cleanup_null);
    if (cjose_jws_verify(jws, key->jwk, &err)) {
        *preason = OLO_OK;
        rv = APR_SUCCESS;
    }
    apr_pool_cleanup_run(p, jws, olo_jws_cjose_free);
cleanup:
    return rv;
}

apr_status_t olo_jws_verify(olo_jws_t **pjws, olo_reason_t *preason, apr_pool_t *p,
                            const char *compact, const olo_jwks_t *keys,
                            const char *const *allowed)
{
    olo_jws_t *jws = apr_pcalloc(p, sizeof(*jws));
    olo_reason_t reason = OLO_R_TOKEN_MALFORMED;
    olo_jws_parts_t parts;
    const olo_jws_alg_t *entry = NULL;
    const olo_jwk_t *key = NULL;
    apr_status_t rv;

    if ((rv = olo_jws_split(&parts, compact)) != APR_SUCCESS
        || (rv = olo_jws_header(&jws->alg, &jws->kid, p, &parts)) != APR_SUCCESS) {
        goto cleanup;
    }
    reason = OLO_R_ALG_NOT_ALLOWED;
    if ((rv = olo_jws_alg_pick(&entry, jws->alg, allowed)) != APR_SUCCESS) {
        goto cleanup;
    }
    if ((rv = olo_jws_key_pick(&key, &reason, keys, entry, jws->kid)) != APR_SUCCESS
        || (rv = olo_jws_signature(&reason, p, compact, &parts, entry, key)) != APR_SUCCESS) {
        goto cleanup;
    }
    reason = OLO_R_TOKEN_MALFORMED;
    if ((rv = olo_jws_object(&jws->claims, p, parts.seg[1], parts.len[1])) != APR_SUCCESS) {
        goto cleanup;
    }
    reason = OLO_OK;
cleanup:
    *preason = reason;
    *pjws = (rv == APR_SUCCESS) ? jws : NULL;
    return rv;
}

apr_status_t olo_jws_peek_claims(json_t **pclaims, apr_pool_t *p, const char *compact)
{
    olo_jws_parts_t parts;
    json_t *claims = NULL;
    apr_status_t rv;

    if ((rv = olo_jws_split(&parts, compact)) != APR_SUCCESS) {
        goto cleanup;
    }
    rv = olo_jws_object(&claims, p, parts.seg[1], parts.len[1]);
cleanup:
    *pclaims = (rv == APR_SUCCESS) ? claims : NULL;
    return rv;
}
