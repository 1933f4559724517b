/* What reaches mod_socache of the module's keys, and the policy a bearer verdict is cached
 * under. The input is split at its first NUL: before it a cache key ("kind:name", where the
 * name may hold a token, a URL or a session id), after it the bearer policy, one value per
 * line, lines starting with 'j', 'i' or 'a' going to the JWKS, issuer or audience list. */
#include <string.h>
#include <apr_strings.h>
#include "olo_fuzz.h"
#include "../../auth/olo_bearer.h"
#include "../../auth/olo_cache.h"
#include "../../auth/olo_header.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    olo_fuzz_init();
    return 0;
}

static void check_key(const char *key)
{
    unsigned char id[OLO_CACHE_ID_MAX], again[OLO_CACHE_ID_MAX];
    apr_size_t len = olo_cache_id(id, key);
    const char *colon = strchr(key, ':');
    if (len == 0) {
        /* no kind of 1..8 characters before a colon */
        OLO_FUZZ_ASSERT(!colon || colon == key || colon - key > OLO_CACHE_KIND_MAX);
        return;
    }
    OLO_FUZZ_ASSERT(colon && len == OLO_CACHE_HASH_BYTES + (apr_size_t)(colon - key));
    OLO_FUZZ_ASSERT(!memcmp(id + OLO_CACHE_HASH_BYTES, key, colon - key));
    OLO_FUZZ_ASSERT(olo_cache_id(again, key) == len && !memcmp(id, again, len));
    OLO_FUZZ_ASSERT(olo_cache_part(key) < OLO_CACHE_PART__COUNT);
    OLO_FUZZ_ASSERT(olo_cache_value_max(key) >= 16);
    (void)olo_header_is_reserved(key);
}

static olo_bearer_policy_t policy_of(apr_pool_t *p, char *text)
{
    olo_bearer_policy_t policy = {NULL, {NULL, NULL, 1, apr_time_from_sec(60)}, NULL};
    apr_array_header_t *lists[3] = {apr_array_make(p, 2, sizeof(char *)),
                                    apr_array_make(p, 2, sizeof(char *)),
                                    apr_array_make(p, 2, sizeof(char *))};
    char *last = NULL;
    for (char *line = apr_strtok(text, "\n", &last); line; line = apr_strtok(NULL, "\n", &last)) {
        const char *which = strchr("jia", line[0]);
        if (which && line[0]) {
            APR_ARRAY_PUSH(lists[which - "jia"], const char *) = line + 1;
        }
        else {
            policy.expect.require_exp = !policy.expect.require_exp;
        }
    }
    policy.jwks_uris = lists[0]->nelts ? lists[0] : NULL;
    policy.expect.issuers = lists[1]->nelts ? lists[1] : NULL;
    policy.expect.audiences = lists[2];
    return policy;
}

static void check_policy(apr_pool_t *p, char *text)
{
    olo_bearer_policy_t policy = policy_of(p, text);
    const char *d = olo_bearer_policy_digest(p, OLO_FUZZ_ISSUER, OLO_FUZZ_CLIENT_ID, &policy);
    OLO_FUZZ_ASSERT(d && strlen(d) == 43);
    OLO_FUZZ_ASSERT(!strcmp(d, olo_bearer_policy_digest(p, OLO_FUZZ_ISSUER, OLO_FUZZ_CLIENT_ID,
                                                        &policy)));
    /* one more audience is another policy */
    APR_ARRAY_PUSH((apr_array_header_t *)policy.expect.audiences, const char *) = "";
    OLO_FUZZ_ASSERT(strcmp(d, olo_bearer_policy_digest(p, OLO_FUZZ_ISSUER, OLO_FUZZ_CLIENT_ID,
                                                       &policy)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = olo_fuzz_begin();
    const uint8_t *nul = memchr(data, 0, size);
    size_t key_len = nul ? (size_t)(nul - data) : size;
    check_key(apr_pstrmemdup(p, (const char *)data, key_len));
    if (nul) {
        check_policy(p, apr_pstrmemdup(p, (const char *)nul + 1, size - key_len - 1));
    }
    olo_fuzz_end(p);
    return 0;
}
