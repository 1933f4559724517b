#ifndef OLO_FAKES_H
#define OLO_FAKES_H

/* Fakes for the two seams of auth/: a transport answering from a table of URLs, recording
 * what it was sent, and a cache in a hash table. */

#include <apr_hash.h>
#include "../../auth/olo_cache.h"
#include "../../auth/olo_http.h"

typedef struct olo_fake_http_t {
    apr_pool_t *p;
    apr_hash_t *routes;         /* url -> olo_http_response_t*, or NULL entry for "unreachable" */
    int calls;                  /* fetches made */
    const char *last_url;       /* of the last POST (the token request) */
    const char *last_form;
    const char *last_authorization;
    olo_http_t http;
} olo_fake_http_t;

olo_fake_http_t *olo_fake_http_make(apr_pool_t *p);
/** Answers url with status and body from now on. */
void olo_fake_http_route(olo_fake_http_t *fake, const char *url, int status, const char *body);
/** Counts fetches of one URL. */
int olo_fake_http_count(olo_fake_http_t *fake, const char *url);

typedef struct olo_fake_cache_t {
    apr_pool_t *p;
    apr_hash_t *entries;
    int fail;                   /* every call fails with APR_EGENERAL (cache down) */
    apr_time_t clock;           /* when set: entries whose expiry is not after it are gone */
    olo_cache_t cache;
} olo_fake_cache_t;

olo_fake_cache_t *olo_fake_cache_make(apr_pool_t *p);

#endif
