#ifndef OLO_JSON_H
#define OLO_JSON_H

#include <apr_pools.h>
#include <jansson.h>

/**
 * jansson objects owned by pools: the one place that releases them. Every JSON text the
 * module reads comes from outside (provider answers, tokens, cookies), so parsing refuses
 * duplicate members: "which issuer" must not depend on the parser.
 */

/** Hands json to p (json_decref when p is cleared) and returns it; NULL stays NULL. */
json_t *olo_json_own(apr_pool_t *p, json_t *json);

/** Releases an owned json now rather than when p is cleared (scratch values). */
void olo_json_release(apr_pool_t *p, json_t *json);

/** Parses text[0..len), refusing duplicate members; owned by p. NULL when not JSON. */
json_t *olo_json_load(apr_pool_t *p, const char *text, apr_size_t len);

/** Compact JSON text of json, allocated from p, not NUL-terminated. */
apr_status_t olo_json_dump(char **ptext, apr_size_t *plen, apr_pool_t *p, const json_t *json);

#endif
