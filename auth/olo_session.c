/* The session cookie. Opened on every authenticated request, so the path is one unseal and
 * one JSON parse, with the strings left where the pool-owned JSON holds them. */
#include <string.h>
#include <jansson.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include "olo_session.h"
#include "../jwt/olo_json.h"

#define OLO_SESSION_HANDLE_AAD OLO_SESSION_COOKIE "#handle"
#define OLO_SESSION_MAX_SEC 253402300799LL /* 9999-12-31: apr_time_from_sec() cannot overflow */

apr_status_t olo_session_seal(const char **pvalue, apr_pool_t *p, const olo_seal_key_t *key,
                              const olo_session_t *session)
{
    return olo_session_seal_as(pvalue, p, key, OLO_SESSION_COOKIE, session);
}

apr_status_t olo_session_seal_as(const char **pvalue, apr_pool_t *p, const olo_seal_key_t *key,
                                 const char *aad, const olo_session_t *session)
{
    const char *value = NULL;
    apr_status_t rv = APR_EINVAL;
    apr_size_t len;
    json_t *json;
    char *text;

    /* an empty user would become an empty REMOTE_USER */
    if (session->user == NULL || session->user[0] == '\0' || session->sub == NULL
        || session->sub[0] == '\0' || session->id == NULL || session->id[0] == '\0') {
        goto cleanup;
    }
    /* "s*" leaves a NULL member out: the cookie stays small */
    json = olo_json_own(p, json_pack("{s:s, s:s, s:s, s:s*, s:s*, s:s*, s:s*, s:s*, s:I, s:I, "
                                     "s:I, s:I, s:I}",
                                     "i", session->id, "u", session->user, "s", session->sub,
                                     "e", session->email, "n", session->name,
                                     "g", session->groups, "t", session->id_token,
                                     "r", session->refresh_token,
                                     "te", (json_int_t)apr_time_sec(session->token_expires),
                                     "ti", (json_int_t)apr_time_sec(session->token_issued),
                                     "c", (json_int_t)apr_time_sec(session->created),
                                     "x", (json_int_t)apr_time_sec(session->expires),
                                     "a", (json_int_t)apr_time_sec(session->last_seen)));
    if (json == NULL) {
        goto cleanup;
    }
    if ((rv = olo_json_dump(&text, &len, p, json)) != APR_SUCCESS) {
        goto cleanup;
    }
    /* the cookie name (or what else holds it) is the additional data: a state cookie value
     * does not open here, nor a verdict as a session */
    rv = olo_seal(&value, p, key, aad, (const unsigned char *)text, len);
cleanup:
    *pvalue = (rv == APR_SUCCESS) ? value : NULL;
    return rv;
}

int olo_session_is_printable(const char *s)
{
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if ((*c < 0x20 && *c != '\t') || *c == 0x7f) {
            return 0;
        }
    }
    return 1;
}

void olo_session_mark_printable(olo_session_t *session)
{
    const struct { const char *value; unsigned bit; } fields[] = {
        {session->user, OLO_SESSION_PRINTABLE_USER},
        {session->email, OLO_SESSION_PRINTABLE_EMAIL},
        {session->name, OLO_SESSION_PRINTABLE_NAME},
        {session->groups, OLO_SESSION_PRINTABLE_GROUPS},
    };
    session->printable = 0;
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        if (fields[i].value && olo_session_is_printable(fields[i].value)) {
            session->printable |= fields[i].bit;
        }
    }
}

static int olo_session_time_ok(json_int_t t)
{
    return t >= 0 && t <= OLO_SESSION_MAX_SEC;
}

/* The session in an unsealed cookie; its strings belong to the JSON, owned by p. */
static apr_status_t olo_session_parse(olo_session_t **psession, apr_pool_t *p,
                                      const unsigned char *plain, apr_size_t len)
{
    olo_session_t *session = apr_pcalloc(p, sizeof(*session));
    json_int_t created = -1, expires = -1, seen = -1, token_expires = 0, token_issued = 0;
    json_t *json = olo_json_load(p, (const char *)plain, len);

    if (json == NULL) {
        return APR_EINVAL;
    }
    if (json_unpack(json, "{s:s, s:s, s:s, s?s, s?s, s?s, s?s, s?s, s?I, s?I, s:I, s:I, s:I}",
                    "i", &session->id, "u", &session->user, "s", &session->sub,
                    "e", &session->email, "n", &session->name, "g", &session->groups,
                    "t", &session->id_token, "r", &session->refresh_token,
                    "te", &token_expires, "ti", &token_issued, "c", &created, "x", &expires,
                    "a", &seen) != 0
        || session->user[0] == '\0' || session->sub[0] == '\0' || session->id[0] == '\0'
        || !olo_session_time_ok(created) || !olo_session_time_ok(expires)
        || !olo_session_time_ok(seen) || !olo_session_time_ok(token_expires)
        || !olo_session_time_ok(token_issued)) {
        return APR_EINVAL;
    }
    session->created = apr_time_from_sec(created);
    session->expires = apr_time_from_sec(expires);
    session->last_seen = apr_time_from_sec(seen);
    session->token_expires = apr_time_from_sec(token_expires);
    session->token_issued = apr_time_from_sec(token_issued);
    olo_session_mark_printable(session);
    *psession = session;
    return APR_SUCCESS;
}

apr_status_t olo_session_open(olo_session_t **psession, olo_reason_t *preason, apr_pool_t *p,
                              const olo_seal_key_t *key, const char *value, apr_time_t now)
{
    return olo_session_open_as(psession, preason, p, key, OLO_SESSION_COOKIE, value, now);
}

apr_status_t olo_session_open_as(olo_session_t **psession, olo_reason_t *preason, apr_pool_t *p,
                                 const olo_seal_key_t *key, const char *aad, const char *value,
                                 apr_time_t now)
{
    olo_session_t *session = NULL;
    olo_reason_t reason = OLO_R_COOKIE_INVALID;
    apr_status_t rv = APR_EGENERAL;
    unsigned char *plain;
    apr_size_t len;

    /* tampered, sealed with an old secret or for another cookie: not a session */
    if (value == NULL
        || olo_unseal(&plain, &len, p, key, aad, value) != APR_SUCCESS
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

int olo_session_is_idle(const olo_session_t *session, apr_interval_time_t idle, apr_time_t now)
{
    return idle > 0 && now - session->last_seen > idle;
}

int olo_session_needs_touch(const olo_session_t *session, apr_interval_time_t idle,
                            apr_time_t now)
{
    apr_interval_time_t step = idle / 4;
    if (step < apr_time_from_sec(1)) {
        step = apr_time_from_sec(1);
    }
    return idle > 0 && now - session->last_seen >= step;
}

apr_status_t olo_session_handle_seal(const char **pvalue, apr_pool_t *p,
                                     const olo_seal_key_t *key, const char *id)
{
    /* its own additional data: a handle never opens as a session, nor a session as a handle */
    return olo_seal(pvalue, p, key, OLO_SESSION_HANDLE_AAD, (const unsigned char *)id,
                    strlen(id));
}

static int olo_session_id_is_well_formed(const unsigned char *id, apr_size_t len)
{
    if (len != (OLO_SESSION_ID_BYTES * 4) / 3) {
        return 0;
    }
    for (apr_size_t i = 0; i < len; i++) {
        if (!apr_isalnum(id[i]) && id[i] != '-' && id[i] != '_') {
            return 0;
        }
    }
    return 1;
}

apr_status_t olo_session_handle_open(const char **pid, apr_pool_t *p, const olo_seal_key_t *key,
                                     const char *value)
{
    unsigned char *plain = NULL;
    apr_size_t len = 0;
    *pid = NULL;
    if (value == NULL
        || olo_unseal(&plain, &len, p, key, OLO_SESSION_HANDLE_AAD, value) != APR_SUCCESS
        || !olo_session_id_is_well_formed(plain, len)) {
        return APR_EINVAL;
    }
    *pid = (const char *)plain;
    return APR_SUCCESS;
}

const char *olo_session_store_key(apr_pool_t *p, const char *id)
{
    return apr_pstrcat(p, "ss:", id, NULL);
}

apr_time_t olo_session_store_expiry(const olo_session_t *session, apr_interval_time_t idle,
                                    apr_time_t now)
{
    if (idle > 0 && now + idle < session->expires) {
        return now + idle;
    }
    return session->expires;
}
