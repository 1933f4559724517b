/* Cookie sealing with AES-256-GCM. Runs on every request from many threads: the key and the
 * cipher are prepared once at startup and only read afterwards; each call has its own
 * cipher context. */
#include <string.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include "olo_b64.h"
#include "olo_seal.h"

#define OLO_SEAL_VERSION  0x01
#define OLO_SEAL_KEY_LEN  32    /* AES-256 */
#define OLO_SEAL_NONCE    12    /* the GCM nonce size that needs no extra hashing (SP 800-38D) */
#define OLO_SEAL_TAG      16
#define OLO_SEAL_OVERHEAD (1 + OLO_SEAL_NONCE + OLO_SEAL_TAG)
/* Largest plaintext whose sealed text still fits OLO_SEAL_MAX_TEXT, so we never set a cookie
 * that we would refuse to open. */
#define OLO_SEAL_MAX_PLAIN ((OLO_SEAL_MAX_TEXT / 4) * 3 - OLO_SEAL_OVERHEAD)

/* Changing the salt invalidates every cookie ever sealed: it names the format version. */
static const char olo_seal_salt[] = "mod_onelogin_oidc seal v1";

struct olo_seal_key_t {
    unsigned char key[OLO_SEAL_KEY_LEN];
    EVP_CIPHER *cipher;     /* fetched once; OpenSSL reference-counts it for concurrent use */
    const olo_seal_key_t *older;    /* the previous secret's key, still opened during rotation */
};

static apr_status_t olo_seal_key_free(void *data)
{
    olo_seal_key_t *key = data;

    OPENSSL_cleanse(key->key, sizeof(key->key));
    EVP_CIPHER_free(key->cipher);
    key->cipher = NULL;
    return APR_SUCCESS;
}

/* HKDF-SHA256 (RFC 5869): the purpose goes into info so that the state and session keys are
 * independent even though the operator configures one secret. */
static apr_status_t olo_seal_hkdf(unsigned char *out, const char *secret, apr_size_t len,
                                  const char *purpose)
{
    static char digest[] = "SHA256";
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)secret, len),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)olo_seal_salt,
                                          sizeof(olo_seal_salt) - 1),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)purpose, strlen(purpose)),
        OSSL_PARAM_construct_end(),
    };
    apr_status_t rv = APR_EGENERAL;

    if (ctx != NULL && EVP_KDF_derive(ctx, out, OLO_SEAL_KEY_LEN, params) == 1) {
        rv = APR_SUCCESS;
    }
    EVP_KDF_CTX_free(ctx);
    EVP_KDF_free(kdf);
    return rv;
}

apr_status_t olo_seal_key_derive(olo_seal_key_t **pkey, apr_pool_t *p, const char *secret,
                                 apr_size_t len, const char *purpose)
{
    olo_seal_key_t *key = NULL;
    apr_status_t rv = APR_EINVAL;

    if (secret == NULL || len < OLO_SEAL_MIN_SECRET || purpose == NULL || *purpose == '\0') {
        goto cleanup;
    }
    key = apr_pcalloc(p, sizeof(*key));
    apr_pool_cleanup_register(p, key, olo_seal_key_free, apr_pool_cleanup_null);
    if ((rv = olo_seal_hkdf(key->key, secret, len, purpose)) == APR_SUCCESS
        && (key->cipher = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL)) == NULL) {
        rv = APR_EGENERAL;
    }
    if (rv != APR_SUCCESS) {
        apr_pool_cleanup_run(p, key, olo_seal_key_free);
    }
cleanup:
    *pkey = (rv == APR_SUCCESS) ? key : NULL;
    return rv;
}

/* One AES-256-GCM pass over in[0..len) into out. enc = 1 seals and writes the tag; enc = 0
 * opens and fails unless the tag matches, which covers the nonce, the aad and the data. */
static int olo_seal_gcm(const olo_seal_key_t *key, int enc, const unsigned char *nonce,
                        const char *aad, const unsigned char *in, apr_size_t len,
                        unsigned char *out, unsigned char *tag)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    const unsigned char *ad = (const unsigned char *)aad;
    int adlen = aad ? (int)strlen(aad) : 0;
    int outl = 0;
    int ok = ctx != NULL && EVP_CipherInit_ex2(ctx, key->cipher, key->key, nonce, enc, NULL) == 1
             && (adlen == 0 || EVP_CipherUpdate(ctx, NULL, &outl, ad, adlen) == 1)
             && (len == 0 || EVP_CipherUpdate(ctx, out, &outl, in, (int)len) == 1)
             && (enc || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, OLO_SEAL_TAG, tag) == 1)
             && EVP_CipherFinal_ex(ctx, out + len, &outl) == 1
             && (!enc || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, OLO_SEAL_TAG, tag) == 1);

    EVP_CIPHER_CTX_free(ctx);
    return ok;
}

apr_status_t olo_seal(const char **psealed, apr_pool_t *p, const olo_seal_key_t *key,
                      const char *aad, const unsigned char *plain, apr_size_t len)
{
    const char *sealed = NULL;
    unsigned char *raw = NULL;
    apr_status_t rv = APR_EINVAL;

    if (key == NULL || (plain == NULL && len > 0) || len > OLO_SEAL_MAX_PLAIN
        || (aad != NULL && strlen(aad) > OLO_SEAL_MAX_TEXT)) {
        goto cleanup;
    }
    raw = apr_palloc(p, len + OLO_SEAL_OVERHEAD);
    raw[0] = OLO_SEAL_VERSION;
    rv = APR_EGENERAL;
    /* A fresh random nonce per value: reusing one under the same key breaks GCM entirely. */
    if (RAND_bytes(raw + 1, OLO_SEAL_NONCE) != 1
        || !olo_seal_gcm(key, 1, raw + 1, aad, plain, len, raw + 1 + OLO_SEAL_NONCE,
                         raw + 1 + OLO_SEAL_NONCE + len)) {
        goto cleanup;
    }
    sealed = olo_b64_encode(p, raw, len + OLO_SEAL_OVERHEAD);
    rv = APR_SUCCESS;
cleanup:
    *psealed = (rv == APR_SUCCESS) ? sealed : NULL;
    return rv;
}

apr_status_t olo_unseal(unsigned char **pplain, apr_size_t *plen, apr_pool_t *p,
                        const olo_seal_key_t *key, const char *aad, const char *sealed)
{
    unsigned char *raw = NULL, *plain = NULL;
    apr_size_t rawlen = 0, len = 0;
    apr_size_t textlen = sealed ? strnlen(sealed, OLO_SEAL_MAX_TEXT + 1) : 0;
    apr_status_t rv = APR_EINVAL;

    if (key == NULL || sealed == NULL || textlen > OLO_SEAL_MAX_TEXT
        || (aad != NULL && strlen(aad) > OLO_SEAL_MAX_TEXT)
        || olo_b64_decode(&raw, &rawlen, p, sealed, textlen) != APR_SUCCESS
        || rawlen < OLO_SEAL_OVERHEAD || raw[0] != OLO_SEAL_VERSION) {
        goto cleanup;
    }
    len = rawlen - OLO_SEAL_OVERHEAD;
    plain = apr_palloc(p, len + 1);
    rv = APR_EGENERAL;
    /* During a rotation of the operator's secret, values sealed under the previous one still
     * open, so nobody is logged out at the switch; anything new is sealed under the current. */
    for (const olo_seal_key_t *k = key; k != NULL && rv != APR_SUCCESS; k = k->older) {
        if (olo_seal_gcm(k, 0, raw + 1, aad, raw + 1 + OLO_SEAL_NONCE, len, plain,
                         raw + 1 + OLO_SEAL_NONCE + len)) {
            rv = APR_SUCCESS;
        }
    }
    if (rv != APR_SUCCESS) {
        /* GCM releases plaintext before the tag check: do not leave forged data behind. */
        OPENSSL_cleanse(plain, len);
        goto cleanup;
    }
    plain[len] = '\0';
cleanup:
    *pplain = (rv == APR_SUCCESS) ? plain : NULL;
    *plen = (rv == APR_SUCCESS) ? len : 0;
    return rv;
}

void olo_seal_key_accept_older(olo_seal_key_t *key, const olo_seal_key_t *older)
{
    key->older = older;
}
