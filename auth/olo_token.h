#ifndef OLO_TOKEN_H
#define OLO_TOKEN_H

#include <apr_pools.h>
#include "../jwt/olo_reason.h"

#define OLO_TOKEN_MAX_BYTES (64 * 1024)

/** A token endpoint answer (RFC 6749 section 5.1). */
typedef struct olo_tokens_t {
    const char *id_token;
    const char *access_token;
    const char *refresh_token;  /* NULL when none was issued */
    long expires_in;            /* 0 when absent */
} olo_tokens_t;

/**
 * The form body of an authorization_code grant: grant_type, code, redirect_uri,
 * code_verifier, and client_id when `with_client_id` (public clients, RFC 6749 3.2.1).
 */
const char *olo_token_code_form(apr_pool_t *p, const char *code, const char *redirect_uri,
                                const char *client_id, const char *verifier, int with_client_id);

/**
 * The form body of a refresh_token grant (RFC 6749 section 6), with client_id for public
 * clients. OneLogin answers with a new ID token; other providers may not (OIDC Core 12.2).
 */
const char *olo_token_refresh_form(apr_pool_t *p, const char *refresh_token,
                                   const char *client_id, int with_client_id);

/** "Basic " + base64(urlencode(id) ":" urlencode(secret)) (RFC 6749 section 2.3.1). */
const char *olo_token_basic_auth(apr_pool_t *p, const char *client_id, const char *secret);

/**
 * Parses a token endpoint answer of at most OLO_TOKEN_MAX_BYTES. HTTP 200 with a JSON object
 * (token_type "Bearer" in any case, when present; id_token, when present, a non-empty string):
 * success, strings allocated from p. The answer may lack an id_token (a refresh answer, OIDC
 * Core 12.2): tokens->id_token is then NULL and the caller decides. An error answer (400 or
 * 401 with {"error":...}, RFC 6749 5.2): OLO_R_TOKEN_ENDPOINT_ERROR, *perror set to the error
 * code (sanitised to printable ASCII, at most 64 bytes). Anything else (other statuses, not
 * JSON, duplicate members): OLO_R_PROVIDER_BAD_RESPONSE, *perror NULL. On failure *pwhy says
 * why in words for the log ("error=invalid_grant", "the body is not JSON"...). perror, pwhy
 * and preason may be NULL.
 */
apr_status_t olo_token_parse(olo_tokens_t **ptokens, olo_reason_t *preason, const char **perror,
                             const char **pwhy, apr_pool_t *p, int http_status,
                             const char *body, apr_size_t len);

#endif
