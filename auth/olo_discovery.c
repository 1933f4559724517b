/* OpenID Connect Discovery 1.0: the provider document, parsed once per cache refresh. */
#include <string.h>
#include <jansson.h>
#include <apr_strings.h>
#include "olo_discovery.h"
#include "../jwt/olo_json.h"
#include "olo_url.h"

#define OLO_DISCOVERY_PATH "/.well-known/openid-configuration"

const char *olo_discovery_url(apr_pool_t *p, const char *issuer)
{
    apr_size_t len;

    if (issuer == NULL) {
        return NULL;
    }
    len = strlen(issuer);
    /* Discovery 4.1: a terminating "/" of the issuer is removed before the path is added */
    if (len > 0 && issuer[len - 1] == '/') {
        len--;
    }
    return apr_psprintf(p, "%.*s%s", (int)len, issuer, OLO_DISCOVERY_PATH);
}

/* member `name` of doc when it is a string holding an https URL, else NULL */
static const char *olo_discovery_https(json_t *doc, const char *name)
{
    const char *url = json_string_value(json_object_get(doc, name));

    return (url != NULL && olo_url_check_https(url) == APR_SUCCESS) ? url : NULL;
}

static int olo_discovery_has_s256(json_t *doc)
{
    json_t *methods = json_object_get(doc, "code_challenge_methods_supported");
    json_t *method;
    size_t i;

    /* absent: the provider does not say, and S256 is still sent. Listed without S256: the
     * provider would ignore or refuse the challenge and the code would lose its binding. */
    if (methods == NULL) {
        return 1;
    }
    if (!json_is_array(methods)) {
        return 0;
    }
    json_array_foreach(methods, i, method) {
        const char *name = json_string_value(method);
        if (name != NULL && strcmp(name, "S256") == 0) {
            return 1;
        }
    }
    return 0;
}

/* Fills md from doc; the strings still belong to doc. */
static olo_reason_t olo_discovery_read(olo_metadata_t *md, json_t *doc,
                                       const char *expected_issuer)
{
    if ((md->issuer = json_string_value(json_object_get(doc, "issuer"))) == NULL) {
        return OLO_R_PROVIDER_BAD_RESPONSE;
    }
    /* Discovery 4.3: the issuer must be identical to the one the document was fetched for,
     * or another tenant's (or an attacker's) keys and endpoints would be trusted as ours */
    if (expected_issuer == NULL || strcmp(md->issuer, expected_issuer) != 0) {
        return OLO_R_ISSUER_MISMATCH;
    }
    /* codes, tokens and keys over plain http could be read or swapped on the way */
    md->authorization_endpoint = olo_discovery_https(doc, "authorization_endpoint");
    md->token_endpoint = olo_discovery_https(doc, "token_endpoint");
    md->jwks_uri = olo_discovery_https(doc, "jwks_uri");
    if (md->authorization_endpoint == NULL || md->token_endpoint == NULL
        || md->jwks_uri == NULL || !olo_discovery_has_s256(doc)) {
        return OLO_R_PROVIDER_BAD_RESPONSE;
    }
    /* optional: an unusable one is treated as absent rather than failing every login */
    md->end_session_endpoint = olo_discovery_https(doc, "end_session_endpoint");
    md->userinfo_endpoint = olo_discovery_https(doc, "userinfo_endpoint");
    return OLO_OK;
}

/* The metadata lives as long as the cache pool; the document it came from (claims, scopes,
 * up to OLO_DISCOVERY_MAX_BYTES) does not. */
static olo_metadata_t *olo_discovery_copy(apr_pool_t *p, const olo_metadata_t *found)
{
    olo_metadata_t *md = apr_pcalloc(p, sizeof(*md));

    md->issuer = apr_pstrdup(p, found->issuer);
    md->authorization_endpoint = apr_pstrdup(p, found->authorization_endpoint);
    md->token_endpoint = apr_pstrdup(p, found->token_endpoint);
    md->jwks_uri = apr_pstrdup(p, found->jwks_uri);
    md->end_session_endpoint = apr_pstrdup(p, found->end_session_endpoint);
    md->userinfo_endpoint = apr_pstrdup(p, found->userinfo_endpoint);
    return md;
}

apr_status_t olo_discovery_parse(olo_metadata_t **pmd, olo_reason_t *preason, apr_pool_t *p,
                                 const char *json, apr_size_t len, const char *expected_issuer)
{
    olo_metadata_t found, *md = NULL;
    olo_reason_t reason = OLO_R_PROVIDER_BAD_RESPONSE;
    apr_status_t rv = APR_EGENERAL;
    apr_pool_t *tmp = NULL;
    json_t *doc;

    memset(&found, 0, sizeof(found));
    if (json == NULL || len == 0 || len > OLO_DISCOVERY_MAX_BYTES
        || apr_pool_create(&tmp, p) != APR_SUCCESS) {
        goto cleanup;
    }
    /* duplicate members would make "which issuer" depend on the parser */
    if ((doc = olo_json_load(tmp, json, len)) == NULL) {
        goto cleanup;
    }
    if (!json_is_object(doc)) {
        goto cleanup;
    }
    if ((reason = olo_discovery_read(&found, doc, expected_issuer)) != OLO_OK) {
        goto cleanup;
    }
    md = olo_discovery_copy(p, &found);
    rv = APR_SUCCESS;
cleanup:
    if (tmp != NULL) {
        apr_pool_destroy(tmp);
    }
    if (preason != NULL) {
        *preason = (rv == APR_SUCCESS) ? OLO_OK : reason;
    }
    *pmd = (rv == APR_SUCCESS) ? md : NULL;
    return rv;
}
