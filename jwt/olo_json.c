/* Pool ownership for jansson values: registered once, released once, here only. */
#include "olo_json.h"

static apr_status_t olo_json_free(void *json)
{
    json_decref(json);
    return APR_SUCCESS;
}

json_t *olo_json_own(apr_pool_t *p, json_t *json)
{
    if (json) {
        apr_pool_cleanup_register(p, json, olo_json_free, apr_pool_cleanup_null);
    }
    return json;
}

void olo_json_release(apr_pool_t *p, json_t *json)
{
    if (json) {
        apr_pool_cleanup_run(p, json, olo_json_free);
    }
}

json_t *olo_json_load(apr_pool_t *p, const char *text, apr_size_t len)
{
    return olo_json_own(p, json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL));
}

apr_status_t olo_json_dump(char **ptext, apr_size_t *plen, apr_pool_t *p, const json_t *json)
{
    apr_size_t len = json_dumpb(json, NULL, 0, JSON_COMPACT);
    char *text = NULL;
    apr_status_t rv = APR_EGENERAL;

    if (len > 0) {
        text = apr_palloc(p, len);
        rv = (json_dumpb(json, text, len, JSON_COMPACT) == len) ? APR_SUCCESS : APR_EGENERAL;
    }
    *ptext = (rv == APR_SUCCESS) ? text : NULL;
    *plen = (rv == APR_SUCCESS) ? len : 0;
    return rv;
}
