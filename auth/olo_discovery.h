#ifndef OLO_DISCOVERY_H
#define OLO_DISCOVERY_H

#include <apr_pools.h>
#include "../jwt/olo_reason.h"

#define OLO_DISCOVERY_MAX_BYTES (256 * 1024)

/** The provider metadata the module uses (OpenID Connect Discovery 1.0 section 3). */
typedef struct olo_metadata_t {
    const char *issuer;
    const char *authorization_endpoint;
    const char *token_endpoint;
    const char *jwks_uri;
    const char *end_session_endpoint;   /* NULL when the provider has none */
    const char *userinfo_endpoint;      /* NULL when absent */
} olo_metadata_t;

/** issuer without a trailing "/" + "/.well-known/openid-configuration". */
const char *olo_discovery_url(apr_pool_t *p, const char *issuer);

/**
 * Parses a discovery document (at most OLO_DISCOVERY_MAX_BYTES, a JSON object without
 * duplicate members). The issuer must equal expected_issuer exactly
 * (OLO_R_ISSUER_MISMATCH: a document for another tenant, or a spoofed one); the
 * authorization, token and jwks endpoints must be https URLs (olo_url_check_https); when
 * code_challenge_methods_supported is present it must list S256. An end_session or userinfo
 * endpoint that is not an https URL is treated as absent. Other failures:
 * OLO_R_PROVIDER_BAD_RESPONSE. Strings are copied into p; the document is not kept.
 */
apr_status_t olo_discovery_parse(olo_metadata_t **pmd, olo_reason_t *preason, apr_pool_t *p,
                                 const char *json, apr_size_t len, const char *expected_issuer);

#endif
