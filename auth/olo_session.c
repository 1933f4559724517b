/* The session cookie. Opened on every authenticated request, so the path is one unseal and
 * one JSON parse, with the strings left where the pool-owned JSON holds them. */
#include <string.h>
#include <jansson.h>
#include <apr_strings.h>
#include "olo_session.h"
#include "../jwt/olo_json.h"

#define OLO_SESSION_MAX_SEC 253402300799LL /* 9999-12-31: apr_time_from_sec() cannot overflow */

apr_status_t olo_session_seal(const char **pvalue, apr_pool_t *p, const olo_seal_key_t *key,
                              const olo_session_t *session)
{
    const char *value = NULL;
    apr_status_t rv = APR_EINVAL;
    apr_size_t len;
    json_t *json;
    char *text;

    /* an empty user would become an empty REMOTE_USER */
    if (session->user == NULL || session->user[0] == '\0' || session->sub == NULL
        || session->sub[0] == '\0') {
        goto cleanup;
    }
    /* "s*" leaves a NULL member out: the cookie stays small */
    json = olo_json_own(p, json_pack("{s:s, s:s, s:s*, s:s*, s:s*, s:s*, s:I, s:I}",
                                     "u", session->user, "s", session->sub,
                                     "e", session->email, "n", session->name,
                                     "g", session->groups, "t", session->id_token,
                                     "c", (json_int_t)apr_time_sec(session->created),
                                     "x", (json_int_t)apr_time_sec(session->expires)));
    if (json == NULL) {
        goto cleanup;
    }
    if ((rv = olo_json_dump(&text, &len, p, json)) != APR_SUCCESS) {
        goto cleanup;
    }
    /* the cookie name is the additional data: a state cookie value does not open here */
    rv = olo_seal(&value, p, key, OLO_SESSION_COOKIE, (const unsigned char *)text, len);
cleanup:
    *pvalue = (rv == APR_SUCCESS) ? value : NULL;
    return rv;
}

/* The session in an unsealed cookie; its strings belong to the JSON, owned by p. */
static apr_status_t olo_session_parse(olo_session_t **psession, apr_pool_t *p,
                                      const unsigned char *plain, apr_size_t len)
{
    olo_session_t *session = apr_pcalloc(p, sizeof(*session));
    json_int_t created = -1, expires = -1;
    json_t *json = olo_json_load(p, (const char *)plain, len);

    if (json == NULL) {
        return APR_EINVAL;
    }
    if (json_unpack(json, "{s:s, s:s, s?s, s?s, s?s, s?s, s:I, s:I}", "u", &session->user,
                    "s", &session->sub, "e", &session->email, "n", &session->name,
                    "g", &session->groups, "t", &session->id_token, "c", &created,
                    "x", &expires) != 0
        || session->user[0] == '\0' || session->sub[0] == '\0'
        || created < 0 || created > OLO_SESSION_MAX_SEC
        || expires < 0 || expires > OLO_SESSION_MAX_SEC) {
        return APR_EINVAL;
    }
    session->created = apr_time_from_sec(created);
    session->expires = apr_time_from_sec(expires);
    *psession = session;
    return APR_SUCCESS;
}

apr_status_t olo_session_open(olo_session_t **psession, olo_reason_t *preason, apr_pool_t *p,
                              const olo_seal_key_t *key, const char *value, apr_time_t now)
{
    olo_session_t *session = NULL;
    olo_reason_t reason = OLO_R_COOKIE_INVALID;
    apr_status_t rv = APR_EGENERAL;
    unsigned char *plain;
    apr_size_t len;

    /* tampered, sealed with an old secret or for another cookie: not a session */
    if (value == NULL
        || olo_unseal(&plain, &len, p, key, OLO_SESSION_COOKIE, value) != APR_SUCCESS
        || olo_session_parse(&session, p, plain, len) != APR_SUCCESS) {
        goto cleanup;
    }
    /* the lifetime is in the sealed text: a browser cannot extend it by keeping the cookie */
    if (now >= session->expires) {
        reason = OLO_R_SESSION_EXPIRED;
        goto cleanup;
    }
    rv = APR_SUCCESS;
cleanup:
    if (preason != NULL) {
        *preason = (rv == APR_SUCCESS) ? OLO_OK : reason;
    }
    *psession = (rv == APR_SUCCESS) ? session : NULL;
    return rv;
}
