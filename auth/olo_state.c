/* Pending logins: state (CSRF, RFC 6749 10.12), nonce (ID token replay, OIDC Core 3.1.2.1) and
 * PKCE verifier (code injection, RFC 7636) travel sealed in a cookie named after the state. */
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include <apr_strings.h>
#include "olo_state.h"
#include "../jwt/olo_json.h"
#include "olo_cookie.h"
#include "olo_pkce.h"
#include "olo_url.h"
#include "../jwt/olo_b64.h"

#define OLO_STATE_NONCE_BYTES 24
#define OLO_STATE_MIN_LEN 16
#define OLO_STATE_MAX_LEN 64
#define OLO_STATE_MAX_FUTURE_SEC 60     /* clock steps between the servers of a cluster */
#define OLO_STATE_MAX_SEC 253402300799LL /* 9999-12-31: apr_time_from_sec() cannot overflow */

apr_status_t olo_state_new(olo_pending_t **ppending, apr_pool_t *p, olo_rand_fn source,
                           const char *target, apr_time_t now)
{
    olo_pending_t *pending = apr_pcalloc(p, sizeof(*pending));
    apr_status_t rv = APR_EGENERAL;

    /* three independent secrets: knowing one (state shows in the URL) gives nothing of the
     * others */
    if ((pending->state = olo_rand_token(p, source, OLO_STATE_BYTES)) == NULL
        || (pending->nonce = olo_rand_token(p, source, OLO_STATE_NONCE_BYTES)) == NULL) {
        goto cleanup;
    }
    if ((rv = olo_pkce_verifier(&pending->verifier, p, source)) != APR_SUCCESS) {
        goto cleanup;
    }
    /* the caller checked already; an open redirect is worth a second look */
    pending->target = olo_url_local_target(target);
    pending->created = now;
cleanup:
    *ppending = (rv == APR_SUCCESS) ? pending : NULL;
    return rv;
}

int olo_state_is_well_formed(const char *state)
{
    apr_size_t len = state ? strnlen(state, OLO_STATE_MAX_LEN + 1) : 0;

    /* the state goes into a cookie name: only base64url can be there unquoted */
    return len >= OLO_STATE_MIN_LEN && len <= OLO_STATE_MAX_LEN && olo_b64_is_valid(state, len);
}

const char *olo_state_cookie_name(apr_pool_t *p, const char *state)
{
    return apr_pstrcat(p, OLO_STATE_COOKIE_PREFIX, state, NULL);
}

apr_status_t olo_state_seal(const char **pvalue, apr_pool_t *p, const olo_seal_key_t *key,
                            const olo_pending_t *pending)
{
    const char *value = NULL;
    apr_status_t rv = APR_EINVAL;
    apr_size_t len;
    json_t *json;
    char *text;

    if (!olo_state_is_well_formed(pending->state)) {
        goto cleanup;
    }
    /* json_pack fails on a NULL nonce, verifier or target */
    json = olo_json_own(p, json_pack("{s:s, s:s, s:s, s:s, s:I}", "s", pending->state,
                                     "n", pending->nonce, "v", pending->verifier,
                                     "t", pending->target,
                                     "c", (json_int_t)apr_time_sec(pending->created)));
    if (json == NULL) {
        goto cleanup;
    }
    if ((rv = olo_json_dump(&text, &len, p, json)) != APR_SUCCESS) {
        goto cleanup;
    }
    /* the cookie name, state included, is the additional data: a value moved to another
     * pending login's cookie does not open */
    rv = olo_seal(&value, p, key, olo_state_cookie_name(p, pending->state),
                  (const unsigned char *)text, len);
cleanup:
    *pvalue = (rv == APR_SUCCESS) ? value : NULL;
    return rv;
}

/* The pending login in an unsealed cookie; its strings belong to the JSON, owned by p. */
static apr_status_t olo_state_parse(olo_pending_t **ppending, apr_pool_t *p,
                                    const unsigned char *plain, apr_size_t len)
{
    olo_pending_t *pending = apr_pcalloc(p, sizeof(*pending));
    json_int_t created = -1;
    json_t *json = olo_json_load(p, (const char *)plain, len);

    if (json == NULL) {
        return APR_EINVAL;
    }
    if (json_unpack(json, "{s:s, s:s, s:s, s:s, s:I}", "s", &pending->state,
                    "n", &pending->nonce, "v", &pending->verifier, "t", &pending->target,
                    "c", &created) != 0
        || created < 0 || created > OLO_STATE_MAX_SEC) {
        return APR_EINVAL;
    }
    pending->created = apr_time_from_sec(created);
    *ppending = pending;
    return APR_SUCCESS;
}

static olo_reason_t olo_state_check_time(apr_time_t created, apr_time_t now)
{
    /* a login left open too long may be a lifted cookie waiting for a stolen code */
    if (created + apr_time_from_sec(OLO_STATE_TTL_SEC) <= now) {
        return OLO_R_STATE_EXPIRED;
    }
    /* made in the future: not by this cluster's clocks, so not one of our logins */
    if (created > now + apr_time_from_sec(OLO_STATE_MAX_FUTURE_SEC)) {
        return OLO_R_STATE_UNKNOWN;
    }
    return OLO_OK;
}

apr_status_t olo_state_open(olo_pending_t **ppending, olo_reason_t *preason, apr_pool_t *p,
                            const olo_seal_key_t *key, const char *state, const char *value,
                            apr_time_t now)
{
    olo_pending_t *pending = NULL;
    olo_reason_t reason = OLO_R_STATE_UNKNOWN;
    apr_status_t rv = APR_EGENERAL;
    unsigned char *plain;
    apr_size_t len;

    /* a cookie that does not open (tampered, another login's, another secret) or does not
     * parse is as good as none: the callback cannot be tied to a login of this browser */
    if (!olo_state_is_well_formed(state) || value == NULL
        || olo_unseal(&plain, &len, p, key, olo_state_cookie_name(p, state), value) != APR_SUCCESS
        || olo_state_parse(&pending, p, plain, len) != APR_SUCCESS
        || strcmp(pending->state, state) != 0) {
        goto cleanup;
    }
    if ((reason = olo_state_check_time(pending->created, now)) != OLO_OK) {
        goto cleanup;
    }
    pending->target = olo_url_local_target(pending->target);
    rv = APR_SUCCESS;
cleanup:
    if (preason != NULL) {
        *preason = (rv == APR_SUCCESS) ? OLO_OK : reason;
    }
    *ppending = (rv == APR_SUCCESS) ? pending : NULL;
    return rv;
}

typedef struct olo_state_entry_t {
    const char *name;
    olo_pending_t *pending;
} olo_state_entry_t;

static int olo_state_entry_cmp(const void *a, const void *b)
{
    apr_time_t ta = ((const olo_state_entry_t *)a)->pending->created;
    apr_time_t tb = ((const olo_state_entry_t *)b)->pending->created;
    return (ta > tb) - (ta < tb);
}

apr_array_header_t *olo_state_stale_dropped(apr_array_header_t **pdropped, apr_pool_t *p,
                                            const olo_seal_key_t *key, const char *cookie_header,
                                            int keep, apr_time_t now)
{
    apr_array_header_t *names = olo_cookie_names(p, cookie_header, OLO_STATE_COOKIE_PREFIX);
    apr_array_header_t *stale = apr_array_make(p, 2, sizeof(const char *));
    apr_array_header_t *alive = apr_array_make(p, names->nelts, sizeof(olo_state_entry_t));
    apr_array_header_t *dropped = apr_array_make(p, 1, sizeof(olo_pending_t *));

    for (int i = 0; i < names->nelts; i++) {
        const char *name = APR_ARRAY_IDX(names, i, const char *);
        const char *state = name + strlen(OLO_STATE_COOKIE_PREFIX);
        olo_pending_t *pending = NULL;
        if (olo_state_open(&pending, NULL, p, key, state, olo_cookie_get(p, cookie_header, name),
                           now) == APR_SUCCESS) {
            APR_ARRAY_PUSH(alive, olo_state_entry_t) = (olo_state_entry_t){name, pending};
        }
        else {
            APR_ARRAY_PUSH(stale, const char *) = name;
        }
    }
    qsort(alive->elts, alive->nelts, sizeof(olo_state_entry_t), olo_state_entry_cmp);
    for (int i = 0; i < alive->nelts - keep; i++) {
        olo_state_entry_t *entry = &APR_ARRAY_IDX(alive, i, olo_state_entry_t);
        APR_ARRAY_PUSH(stale, const char *) = entry->name;
        APR_ARRAY_PUSH(dropped, olo_pending_t *) = entry->pending;
    }
    *pdropped = dropped;
    return stale;
}

apr_array_header_t *olo_state_stale(apr_pool_t *p, const olo_seal_key_t *key,
                                    const char *cookie_header, int keep, apr_time_t now)
{
    apr_array_header_t *dropped = NULL;
    return olo_state_stale_dropped(&dropped, p, key, cookie_header, keep, now);
}

/* The remembered logins in the dropped-logins cookie, newest first; empty when it does not
 * open: a forged or foreign list must not name targets. */
static json_t *olo_state_dropped_open(apr_pool_t *p, const olo_seal_key_t *key, const char *value)
{
    unsigned char *plain = NULL;
    apr_size_t len = 0;
    json_t *list = NULL;

    if (value && *value
        && olo_unseal(&plain, &len, p, key, OLO_STATE_DROPPED_COOKIE, value) == APR_SUCCESS) {
        list = olo_json_load(p, (const char *)plain, len);
    }
    return json_is_array(list) ? list : olo_json_own(p, json_array());
}

/* An entry's state, target and birth; 0 when it is malformed or its login has timed out. */
static int olo_state_dropped_entry(const char **pstate, const char **ptarget, json_t *entry,
                                   apr_time_t now)
{
    json_int_t created = -1;

    if (json_unpack(entry, "{s:s, s:s, s:I}", "s", pstate, "t", ptarget, "c", &created) != 0
        || created < 0 || created > OLO_STATE_MAX_SEC) {
        return 0;
    }
    return olo_state_check_time(apr_time_from_sec(created), now) == OLO_OK;
}

static void olo_state_dropped_push(json_t *list, const olo_pending_t *pending)
{
    json_array_append_new(list, json_pack("{s:s, s:s, s:I}", "s", pending->state,
                                          "t", pending->target,
                                          "c", (json_int_t)apr_time_sec(pending->created)));
}

/* The oldest entries go first when the cookie would grow past its budget. */
static apr_status_t olo_state_dropped_fit(char **ptext, apr_size_t *plen, apr_pool_t *p,
                                          json_t *list)
{
    while (json_array_size(list) > OLO_STATE_MAX_PENDING) {
        json_array_remove(list, json_array_size(list) - 1);
    }
    while (json_array_size(list) > 0) {
        apr_status_t rv = olo_json_dump(ptext, plen, p, list);
        if (rv != APR_SUCCESS || *plen <= OLO_STATE_DROPPED_MAX_BYTES) {
            return rv;
        }
        json_array_remove(list, json_array_size(list) - 1);
    }
    return APR_NOTFOUND;
}

apr_status_t olo_state_dropped_add(const char **pvalue, apr_pool_t *p, const olo_seal_key_t *key,
                                   const char *current, const apr_array_header_t *dropped,
                                   apr_time_t now)
{
    json_t *old = olo_state_dropped_open(p, key, current);
    json_t *list = olo_json_own(p, json_array());
    const char *value = NULL, *state, *target;
    char *text = NULL;
    apr_size_t len = 0;
    apr_status_t rv = APR_ENOMEM;

    if (list == NULL) {
        goto cleanup;
    }
    for (int i = dropped->nelts - 1; i >= 0; i--) {
        olo_state_dropped_push(list, APR_ARRAY_IDX(dropped, i, const olo_pending_t *));
    }
    for (size_t i = 0; i < json_array_size(old); i++) {
        if (olo_state_dropped_entry(&state, &target, json_array_get(old, i), now)) {
            json_array_append(list, json_array_get(old, i));
        }
    }
    if ((rv = olo_state_dropped_fit(&text, &len, p, list)) == APR_SUCCESS) {
        rv = olo_seal(&value, p, key, OLO_STATE_DROPPED_COOKIE, (const unsigned char *)text, len);
    }
cleanup:
    *pvalue = (rv == APR_SUCCESS) ? value : NULL;
    return rv;
}

apr_status_t olo_state_dropped_find(const char **ptarget, apr_pool_t *p, const olo_seal_key_t *key,
                                    const char *value, const char *state, apr_time_t now)
{
    json_t *list = olo_state_dropped_open(p, key, value);
    const char *s = NULL, *target = NULL;
    apr_status_t rv = APR_NOTFOUND;

    for (size_t i = 0; state && i < json_array_size(list) && rv != APR_SUCCESS; i++) {
        if (olo_state_dropped_entry(&s, &target, json_array_get(list, i), now)
            && strcmp(s, state) == 0) {
            rv = APR_SUCCESS;
        }
    }
    /* the list is sealed by us, yet a target only ever leaves as a local path */
    *ptarget = (rv == APR_SUCCESS) ? olo_url_local_target(target) : NULL;
    return rv;
}
