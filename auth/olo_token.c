/* The token endpoint exchange (RFC 6749 4.1.3 and 5, OpenID Connect Core 3.1.3). */
#include <string.h>
#include <strings.h>
#include <jansson.h>
#include <apr_base64.h>
#include <apr_strings.h>
#include "olo_token.h"
#include "../jwt/olo_json.h"
#include "olo_url.h"

#define OLO_TOKEN_MAX_ERROR 64

/* RFC 6749 3.2.1: a client without a secret names itself in the body */
static const char *olo_token_with_client_id(apr_pool_t *p, const char *form,
                                            const char *client_id, int with_client_id)
{
    if (!with_client_id) {
        return form;
    }
    return apr_pstrcat(p, form, "&client_id=", olo_url_encode(p, client_id), NULL);
}

const char *olo_token_code_form(apr_pool_t *p, const char *code, const char *redirect_uri,
                                const char *client_id, const char *verifier, int with_client_id)
{
    const char *form = apr_pstrcat(p, "grant_type=authorization_code&code=",
                                   olo_url_encode(p, code),
                                   "&redirect_uri=", olo_url_encode(p, redirect_uri),
                                   "&code_verifier=", olo_url_encode(p, verifier), NULL);

    return olo_token_with_client_id(p, form, client_id, with_client_id);
}

const char *olo_token_refresh_form(apr_pool_t *p, const char *refresh_token,
                                   const char *client_id, int with_client_id)
{
    const char *form = apr_pstrcat(p, "grant_type=refresh_token&refresh_token=",
                                   olo_url_encode(p, refresh_token), NULL);
    return olo_token_with_client_id(p, form, client_id, with_client_id);
}

const char *olo_token_basic_auth(apr_pool_t *p, const char *client_id, const char *secret)
{
    static const char scheme[] = "Basic ";
    /* RFC 6749 2.3.1: id and secret are form-encoded first, so a ":" in the id cannot move
     * the split between them */
    const char *plain = apr_pstrcat(p, olo_url_encode(p, client_id), ":",
                                    olo_url_encode(p, secret), NULL);
    int len = (int)strlen(plain);
    char *header = apr_palloc(p, sizeof(scheme) - 1 + apr_base64_encode_len(len));

    memcpy(header, scheme, sizeof(scheme) - 1);
    apr_base64_encode(header + sizeof(scheme) - 1, plain, len);
    return header;
}

/* The error code of an RFC 6749 5.2 answer, or NULL. It ends up in a log line and on an error
 * page, so only the characters 5.2 allows (printable ASCII but " and \) pass, at most 64. */
static const char *olo_token_error_code(apr_pool_t *p, json_t *json)
{
    const char *error = json_string_value(json_object_get(json, "error"));
    apr_size_t i, len;
    char *code;

    if (error == NULL || error[0] == '\0') {
        return NULL;
    }
    len = strnlen(error, OLO_TOKEN_MAX_ERROR);
    code = apr_pstrmemdup(p, error, len);
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)code[i];
        if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') {
            code[i] = '?';
        }
    }
    return code;
}

/* The tokens of a successful answer; the strings belong to json, owned by p. */
static const char *olo_token_read(olo_tokens_t **ptokens, apr_pool_t *p, json_t *json)
{
    olo_tokens_t *tokens = apr_pcalloc(p, sizeof(*tokens));
    json_t *id_token = json_object_get(json, "id_token");
    json_t *type = json_object_get(json, "token_type");
    json_t *expires_in = json_object_get(json, "expires_in");

    /* OIDC Core 12.2: a refresh answer may leave the ID token out; whoever asked for the grant
     * knows whether it needs one. Present, it must be a non-empty string. */
    if (id_token && (!json_is_string(id_token) || !json_string_value(id_token)[0])) {
        return "id_token is not a non-empty string";
    }
    tokens->id_token = json_string_value(id_token);
    /* OIDC Core 3.1.3.3: token_type is Bearer, compared case-insensitively (RFC 6749 5.1) */
    if (type != NULL
        && (!json_is_string(type) || strcasecmp(json_string_value(type), "Bearer") != 0)) {
        return "token_type is not Bearer";
    }
    tokens->access_token = json_string_value(json_object_get(json, "access_token"));
    tokens->refresh_token = json_string_value(json_object_get(json, "refresh_token"));
    if (json_is_integer(expires_in) && json_integer_value(expires_in) > 0) {
        tokens->expires_in = (long)json_integer_value(expires_in);
    }
    *ptokens = tokens;
    return NULL;
}

/* Why an answer that is not a success, nor an RFC 6749 5.2 error, was refused. */
static const char *olo_token_unexpected(int http_status)
{
    return http_status == 200 ? "the answer is not a token response"
                              : "the status is neither 200 nor an RFC 6749 error answer";
}

apr_status_t olo_token_parse(olo_tokens_t **ptokens, olo_reason_t *preason, const char **perror,
                             const char **pwhy, apr_pool_t *p, int http_status,
                             const char *body, apr_size_t len)
{
    olo_tokens_t *tokens = NULL;
    olo_reason_t reason = OLO_R_PROVIDER_BAD_RESPONSE;
    const char *error = NULL;
    const char *why = NULL;
    json_t *json;

    /* duplicate members would make "which id_token" depend on the parser */
    if (body == NULL || len == 0) {
        why = "the body is empty";
    }
    else if (len > OLO_TOKEN_MAX_BYTES) {
        why = "the body is oversized";
    }
    else if ((json = olo_json_load(p, body, len)) == NULL) {
        why = "the body is not JSON (or repeats a member)";
    }
    else if (!json_is_object(json)) {
        why = "the body is not a JSON object";
    }
    else if (http_status == 200) {
        why = olo_token_read(&tokens, p, json);
    }
    /* RFC 6749 5.2: an error answer is 400, or 401 when client authentication failed */
    else if ((http_status == 400 || http_status == 401)
             && (error = olo_token_error_code(p, json)) != NULL) {
        reason = OLO_R_TOKEN_ENDPOINT_ERROR;
        why = apr_pstrcat(p, "error=", error, NULL);
    }
    else {
        why = olo_token_unexpected(http_status);
    }
    if (!why && !tokens) {
        why = olo_token_unexpected(http_status);
    }
    if (preason != NULL) {
        *preason = why ? reason : OLO_OK;
    }
    if (perror != NULL) {
        *perror = why ? error : NULL;
    }
    if (pwhy != NULL) {
        *pwhy = why;
    }
    *ptokens = why ? NULL : tokens;
    return why ? APR_EGENERAL : APR_SUCCESS;
}
