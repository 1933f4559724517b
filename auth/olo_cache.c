/* Cache ids: what mod_socache sees of the module's keys. */
#include <pthread.h>
#include <string.h>
#include <openssl/evp.h>
#include "olo_cache.h"

#define OLO_CACHE_VALUE_LARGE (64 * 1024)   /* discovery, JWKS, sealed sessions */
#define OLO_CACHE_VALUE_SMALL 64            /* markers and claim tokens */

/* The kind: 1..OLO_CACHE_KIND_MAX characters before the first colon; 0 when there is none. */
static apr_size_t olo_cache_kind_len(const char *key)
{
    const char *colon = strchr(key, ':');
    apr_size_t len = colon ? (apr_size_t)(colon - key) : 0;
    return (len >= 1 && len <= OLO_CACHE_KIND_MAX) ? len : 0;
}

static int olo_cache_kind_is(const char *key, const char *kind)
{
    apr_size_t len = strlen(kind);
    return !strncmp(key, kind, len) && key[len] == ':';
}

/* Every request hashes a key: fetched once, SHA-256 costs a fraction of what OpenSSL 3's
 * implicit fetch by EVP_sha256() costs on each call. */
static pthread_once_t olo_cache_sha256_once = PTHREAD_ONCE_INIT;
static EVP_MD *olo_cache_sha256;

static void olo_cache_sha256_fetch(void)
{
    olo_cache_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
}

apr_size_t olo_cache_id(unsigned char id[OLO_CACHE_ID_MAX], const char *key)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    apr_size_t kind = olo_cache_kind_len(key);
    pthread_once(&olo_cache_sha256_once, olo_cache_sha256_fetch);
    if (!kind || !olo_cache_sha256
        || EVP_Digest(key, strlen(key), md, &mdlen, olo_cache_sha256, NULL) != 1
        || mdlen < OLO_CACHE_HASH_BYTES) {
        return 0;
    }
    memcpy(id, md, OLO_CACHE_HASH_BYTES);
    /* The kind last: readable in a cache listing, and never the byte shmcb indexes by. */
    memcpy(id + OLO_CACHE_HASH_BYTES, key, kind);
    return OLO_CACHE_HASH_BYTES + kind;
}

olo_cache_part_t olo_cache_part(const char *key)
{
    if (olo_cache_kind_is(key, "sl") || olo_cache_kind_is(key, "rv")
        || olo_cache_kind_is(key, "ss")) {
        return OLO_CACHE_PART_SESSIONS;
    }
    return olo_cache_kind_is(key, "st") ? OLO_CACHE_PART_STATES : OLO_CACHE_PART_SHARED;
}

apr_size_t olo_cache_value_max(const char *key)
{
    static const char *const small[] = {"sl", "rv", "st", "rf", "jr", "pf", NULL};
    for (int i = 0; small[i]; i++) {
        if (olo_cache_kind_is(key, small[i])) {
            return OLO_CACHE_VALUE_SMALL;
        }
    }
    return OLO_CACHE_VALUE_LARGE;
}
