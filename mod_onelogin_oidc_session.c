/*
 * httpd glue for what every request of an `AuthType OneLogin` location does: open the session
 * cookie, keep the session alive (idle time, ID token renewal), honour logouts made elsewhere,
 * accept clients' own bearer tokens, and hand the identity to the backend. The common case, a
 * valid session, costs one cookie decrypt, one small parse and one cache look-up.
 */
#include <string.h>

#include <http_core.h>
#include <http_protocol.h>
#include <http_request.h>
#include <apr_atomic.h>
#include <apr_strings.h>

#include "mod_onelogin_oidc.h"
#include "auth/olo_bearer.h"
#include "auth/olo_cookie.h"
#include "auth/olo_refresh.h"

APLOG_USE_MODULE(onelogin_oidc);

#define OLO_REFRESH_LOCK_SEC 30     /* one renewal per token in flight, across children and nodes */
#define OLO_REFRESH_KEEP_SEC 300    /* how long a renewal's result serves late requests */
#define OLO_REFRESH_WAIT_MS 3000    /* the longest a request that lost the race waits for it */
#define OLO_REFRESH_POLL_MS 50
#define OLO_REFRESH_RACE_WAIT_MS 1000 /* a refused renewal looks this long for a racer's result */
#define OLO_REFRESH_FAILED_MARK "-" /* the result of a renewal that failed for a passing reason */
#define OLO_VERDICT_MAX_SEC 300     /* how long a verified bearer token is believed */

olo_req_t *olo_req_make(request_rec *r, olo_server_conf_t *conf)
{
    olo_req_t *req = apr_pcalloc(r->pool, sizeof(*req));
    req->r = r;
    req->conf = conf;
    req->rt = conf->runtime;
    req->dconf = ap_get_module_config(r->per_dir_config, &onelogin_oidc_module);
    req->cookies = apr_table_get(r->headers_in, "Cookie");
    if (req->cookies) {
        /* One pass: the session cookie, and what the backend will see instead of the header. */
        static const char *const own[] = {OLO_SESSION_COOKIE, OLO_STATE_COOKIE_PREFIX,
                                          OLO_STATE_DROPPED_COOKIE, NULL};
        req->cookies_rest = olo_cookie_without_get(r->pool, req->cookies, own,
                                                   OLO_SESSION_COOKIE, &req->session_cookie);
    }
    olo_socache_bind(&req->cache, &req->cache_baton, req->rt->socache, r->server);
    return req;
}

static const char *olo_key(request_rec *r, const char *prefix, const char *id)
{
    return apr_pstrcat(r->pool, prefix, id, NULL);
}

/* ------------------------------------------------------------------------------------------
 * The session cookie
 */

/* Whether the end of this session was recorded (a logout, an idle end, a refused renewal): a
 * missing allow-list entry is then that end, not a cache that forgot (for the log and the
 * counters only). */
static int olo_session_was_ended(olo_req_t *req, const olo_session_t *session)
{
    char *value = NULL;
    apr_size_t len = 0;
    return req->cache.retrieve(req->cache.baton, req->r->pool,
                               olo_key(req->r, "rv:", session->id), &value, &len)
           == APR_SUCCESS;
}

/* A cache that forgets live sessions is too small (or was emptied by a stop): say so, at most
 * once a minute per child, and count every one. */
static void olo_session_forgotten(olo_req_t *req, const olo_session_t *session)
{
    static volatile apr_uint32_t warned_at;
    apr_uint32_t now = (apr_uint32_t)apr_time_sec(apr_time_now());
    apr_uint32_t last = apr_atomic_read32(&warned_at);
    int level = APLOG_INFO;
    if (now - last >= 60 && apr_atomic_cas32(&warned_at, now, last) == last) {
        level = APLOG_WARNING;
    }
    olo_log_rerror(APLOG_MARK, level, 0, req->r, OLO_LOGNO(00052)
                   "the session of %s is no longer in the cache, and no logout ended it: the "
                   "cache forgot it (OneLoginCache too small for the sessions it holds, or "
                   "emptied by a stop); the user signs in again", session->user);
}

/* Cookie store: the session counts while its entry (sl:) is in the cache, an allow-list. A
 * logout deletes the entry, so no copy of the cookie comes back, whatever the cache forgets
 * later: an entry the cache loses ends the session too, which fails closed. */
static apr_status_t olo_session_check_live(olo_req_t *req, const olo_session_t *session,
                                           olo_reason_t *preason)
{
    char *value = NULL;
    apr_size_t len = 0;
    apr_status_t rv = req->cache.retrieve(req->cache.baton, req->r->pool,
                                          olo_key(req->r, "sl:", session->id), &value, &len);
    if (rv == APR_NOTFOUND && olo_session_was_ended(req, session)) {
        *preason = OLO_R_SESSION_REVOKED;
    }
    else if (rv == APR_NOTFOUND) {
        *preason = OLO_R_SESSION_FORGOTTEN;
        olo_session_forgotten(req, session);
    }
    else if (rv != APR_SUCCESS) {
        *preason = OLO_R_CACHE_UNAVAILABLE;
    }
    return rv;
}

/* The session sealed in the cookie itself (OneLoginSessionStore cookie). */
static olo_session_t *olo_session_from_cookie(olo_req_t *req, const char *value,
                                              olo_reason_t *preason)
{
    olo_session_t *session = NULL;
    if (olo_session_open_memo(&session, preason, req->r->pool, req->rt->session_key,
                              req->rt->memo, value, apr_time_now()) != APR_SUCCESS) {
        return NULL;
    }
    return olo_session_check_live(req, session, preason) == APR_SUCCESS ? session : NULL;
}

/* The session the cookie's handle names in the cache (OneLoginSessionStore server). A logout
 * deletes the entry, so its absence is the revocation check. */
static olo_session_t *olo_session_from_store(olo_req_t *req, const char *value,
                                             olo_reason_t *preason)
{
    request_rec *r = req->r;
    olo_session_t *session = NULL;
    const char *id = NULL;
    char *sealed = NULL;
    apr_size_t len = 0;
    *preason = OLO_R_COOKIE_INVALID;
    if (olo_session_handle_open_memo(&id, r->pool, req->rt->session_key, req->rt->handle_memo,
                                     value) != APR_SUCCESS) {
        return NULL;
    }
    apr_status_t rv = req->cache.retrieve(req->cache.baton, r->pool,
                                          olo_session_store_key(r->pool, id), &sealed, &len);
    if (rv != APR_SUCCESS) {
        *preason = rv == APR_NOTFOUND ? OLO_R_SESSION_REVOKED : OLO_R_CACHE_UNAVAILABLE;
        return NULL;
    }
    /* An entry that does not open, or names another session, counts as absent. */
    if (olo_session_open_memo(&session, preason, r->pool, req->rt->session_key, req->rt->memo,
                              sealed, apr_time_now()) != APR_SUCCESS
        && *preason == OLO_R_SESSION_EXPIRED) {
        return NULL;    /* its max age passed a moment before the cache let it go */
    }
    if (!session || strcmp(session->id, id)) {
        olo_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, OLO_LOGNO(00051)
                       "stored session %s does not open or names another session (tampered "
                       "cache, or another secret); treated as absent", id);
        *preason = OLO_R_SESSION_REVOKED;
        return NULL;
    }
    req->stored_id = id;
    return session;
}

static olo_session_t *olo_session_load(olo_req_t *req, const char *value, olo_reason_t *preason)
{
    return req->conf->session_store == OLO_STORE_SERVER
               ? olo_session_from_store(req, value, preason)
               : olo_session_from_cookie(req, value, preason);
}

/* An outage refuses every request with a session: one line per interval and child, with the
 * count of those not logged (the refusals are counted on the status page). */
static void olo_session_unavailable(olo_req_t *req)
{
    static olo_throttle_t throttle;
    apr_uint32_t held = 0;
    if (olo_throttle_pass(&throttle, OLO_OUTAGE_LOG_INTERVAL, &held)) {
        olo_log_rerror(APLOG_MARK, APLOG_ERR, 0, req->r, OLO_LOGNO(00041)
                       "cache unavailable: cannot check the session (%u more since the last "
                       "such line)", held);
    }
}

/* The session this browser holds, or NULL with the reason it does not count. */
static olo_session_t *olo_session_current(olo_req_t *req, olo_reason_t *preason)
{
    request_rec *r = req->r;
    const char *value = olo_cookie_is_chunked(req->session_cookie)
                            ? olo_cookie_get_chunked(r->pool, req->cookies, OLO_SESSION_COOKIE)
                            : req->session_cookie;
    *preason = OLO_R_LOGIN_REQUIRED;
    if (!value || !*value) {
        return NULL;
    }
    olo_session_t *session = olo_session_load(req, value, preason);
    if (!session && *preason == OLO_R_CACHE_UNAVAILABLE) {
        /* Unable to tell whether a logout ended it: neither accept nor forget the cookie. */
        olo_session_unavailable(req);
        olo_stats_count_reason(OLO_STAT_SESSIONS_REFUSED, *preason);
        return NULL;
    }
    if (!session) {
        /* Tampered, foreign, made with an old secret, for the other store, or over. */
        olo_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, OLO_LOGNO(00030)
                       "session cookie not accepted (%s); treating as no session",
                       olo_reason_name(*preason));
        olo_stats_count_reason(OLO_STAT_SESSIONS_REFUSED, *preason);
        if (*preason != OLO_R_COOKIE_INVALID) {
            olo_set_session_cookie(req, NULL);
        }
        return NULL;
    }
    if (olo_session_is_idle(session, apr_time_from_sec(req->conf->idle_timeout),
                            apr_time_now())) {
        *preason = OLO_R_SESSION_IDLE;
        olo_stats_count_reason(OLO_STAT_SESSIONS_REFUSED, *preason);
        olo_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, OLO_LOGNO(00042)
                       "session of %s ended (%s)", session->user, olo_reason_name(*preason));
        olo_session_end(req, session);
        return NULL;
    }
    return session;
}

/* The cookie store's value is the sealed session; the server store keeps it in the cache
 * until the idle timeout and sends the browser a handle once, when the session is new. */
static apr_status_t olo_session_keep_sealed(olo_req_t *req, const olo_session_t *session,
                                            const char *sealed)
{
    request_rec *r = req->r;
    const char *handle = NULL;
    apr_status_t rv;
    if (req->conf->session_store == OLO_STORE_COOKIE) {
        return olo_set_session_cookie(req, sealed);
    }
    apr_time_t expiry = olo_session_store_expiry(
        session, apr_time_from_sec(req->conf->idle_timeout), apr_time_now());
    rv = req->cache.store(req->cache.baton, r->pool, olo_session_store_key(r->pool, session->id),
                          sealed, strlen(sealed), expiry);
    if (rv != APR_SUCCESS) {
        olo_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, OLO_LOGNO(00049)
                       "could not store the session of %s in the cache", session->user);
        return APR_EGENERAL;
    }
    if (req->stored_id && !strcmp(req->stored_id, session->id)) {
        return APR_SUCCESS;
    }
    rv = olo_session_handle_seal(&handle, r->pool, req->rt->session_key, session->id);
    return rv == APR_SUCCESS ? olo_set_session_cookie(req, handle) : rv;
}

apr_status_t olo_session_save(olo_req_t *req, const olo_session_t *session)
{
    const char *sealed = NULL;
    apr_status_t rv = olo_session_seal(&sealed, req->r->pool, req->rt->session_key, session);
    return rv == APR_SUCCESS ? olo_session_keep_sealed(req, session, sealed) : rv;
}

apr_status_t olo_session_begin(olo_req_t *req, const olo_session_t *session)
{
    request_rec *r = req->r;
    if (req->conf->session_store == OLO_STORE_COOKIE) {
        apr_status_t rv = req->cache.store(req->cache.baton, r->pool,
                                           olo_key(r, "sl:", session->id), "1", 1,
                                           session->expires);
        if (rv != APR_SUCCESS) {
            olo_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, OLO_LOGNO(00053)
                           "could not record the new session of %s in the cache",
                           session->user);
            return APR_EGENERAL;
        }
    }
    return olo_session_save(req, session);
}

/* What a session is in the cache: its allow-list entry, or the stored session itself. */
static const char *olo_session_cache_key(olo_req_t *req, const olo_session_t *session)
{
    return req->conf->session_store == OLO_STORE_SERVER
               ? olo_session_store_key(req->r->pool, session->id)
               : olo_key(req->r, "sl:", session->id);
}

void olo_session_drop(olo_req_t *req, const olo_session_t *session)
{
    request_rec *r = req->r;
    olo_set_session_cookie(req, NULL);
    if (!session) {
        return;
    }
    apr_status_t rv = req->cache.remove(req->cache.baton, r->pool,
                                        olo_session_cache_key(req, session));
    if (rv != APR_SUCCESS && rv != APR_NOTFOUND) {
        olo_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, OLO_LOGNO(00050)
                       "could not delete the session of %s from the cache: a copy of its "
                       "cookie stays valid until the cache is back and forgets it, or it "
                       "expires", session->user);
    }
}

void olo_session_end(olo_req_t *req, const olo_session_t *session)
{
    request_rec *r = req->r;
    olo_session_drop(req, session);
    if (!session || req->conf->session_store != OLO_STORE_COOKIE) {
        return;
    }
    /* Dropping the entry ended the session; this record only lets a later copy of its cookie
     * be told apart from a session the cache forgot (logs and counters): a cache that loses
     * it still refuses the copy. */
    apr_status_t rv = req->cache.store(req->cache.baton, r->pool, olo_key(r, "rv:", session->id),
                                       "1", 1, session->expires);
    if (rv != APR_SUCCESS) {
        olo_log_rerror(APLOG_MARK, APLOG_INFO, rv, r, OLO_LOGNO(00040)
                       "could not record the end of the session in the cache (it is ended all "
                       "the same)");
    }
}

/* ------------------------------------------------------------------------------------------
 * ID token renewal
 */

/* The cache entries of one renewal: the lock its first request takes, and its result. Both
 * are keyed by the token being replaced, so tokens that expire in the same second, or the
 * renewed token and its predecessor, never share them. */
typedef struct olo_renewal_t {
    const char *lock;
    const char *result;
} olo_renewal_t;

/* What another request left as the result of this renewal: 1 with *pfresh the renewed
 * session, or NULL when that renewal failed for a passing reason (the current token serves
 * meanwhile); 0 when there is no word yet. */
static int olo_refresh_result(olo_req_t *req, const olo_renewal_t *renewal,
                              const olo_session_t *session, olo_session_t **pfresh)
{
    request_rec *r = req->r;
    olo_reason_t reason;
    char *value = NULL;
    apr_size_t len = 0;
    *pfresh = NULL;
    if (req->cache.retrieve(req->cache.baton, r->pool, renewal->result, &value, &len)
        != APR_SUCCESS) {
        return 0;
    }
    if (!strcmp(value, OLO_REFRESH_FAILED_MARK)) {
        return 1;
    }
    olo_session_t *fresh = NULL;
    if (olo_session_open(&fresh, &reason, r->pool, req->rt->session_key, value, apr_time_now())
            != APR_SUCCESS
        || strcmp(fresh->id, session->id)) {
        return 0;
    }
    *pfresh = fresh;
    return 1;
}

/* Lost the race for the renewal: wait a moment (at most OLO_REFRESH_WAIT_MS) for the winner's
 * result, so every request forwards the new token. */
static int olo_refresh_await(olo_req_t *req, const olo_renewal_t *renewal,
                             const olo_session_t *session, int wait_ms, olo_session_t **pfresh)
{
    for (int waited = 0; waited <= wait_ms; waited += OLO_REFRESH_POLL_MS) {
        if (olo_refresh_result(req, renewal, session, pfresh)) {
            return 1;
        }
        apr_sleep(apr_time_from_msec(OLO_REFRESH_POLL_MS));
    }
    return 0;
}

/* Whether the backend would still accept the session's ID token: one past its exp is never
 * forwarded (OpenMetadata checks exp with no leeway). */
static int olo_token_still_valid(const olo_req_t *req, const olo_session_t *session)
{
    return !olo_config_dir_forward_id_token(req->dconf) || !session->id_token
           || apr_time_now() < session->token_expires;
}

/* The session this request goes on with once a renewal was due: the renewed one, else the
 * current one while its token is valid, else none (a browser logs in again, a script gets
 * 401) without ending the session, whose renewal may still complete. */
static olo_session_t *olo_refresh_settle(olo_req_t *req, olo_session_t *session,
                                         olo_session_t *fresh, olo_reason_t *preason)
{
    if (fresh) {
        olo_session_save(req, fresh);
        return fresh;
    }
    if (olo_token_still_valid(req, session)) {
        return session;
    }
    olo_log_rerror(APLOG_MARK, APLOG_INFO, 0, req->r, OLO_LOGNO(00055)
                   "ID token of %s has expired and its renewal has not completed: the token is "
                   "not forwarded, the request is treated as without a session", session->user);
    *preason = OLO_R_REFRESH_FAILED;
    olo_stats_count_reason(OLO_STAT_SESSIONS_REFUSED, *preason);
    return NULL;
}

/* A renewal that failed for a passing reason while the token is still valid: the token serves,
 * racing requests learn at once that they need not wait, and the next try comes after a
 * backoff that leaves time for another before the token expires. */
static olo_session_t *olo_refresh_postpone(olo_req_t *req, const olo_renewal_t *renewal,
                                           olo_session_t *session, const olo_outcome_t *out)
{
    request_rec *r = req->r;
    apr_time_t now = apr_time_now();
    apr_interval_time_t backoff = (session->token_expires - now) / 3;
    if (backoff > apr_time_from_sec(OLO_REFRESH_LOCK_SEC)) {
        backoff = apr_time_from_sec(OLO_REFRESH_LOCK_SEC);
    }
    if (backoff < apr_time_from_sec(1)) {
        backoff = apr_time_from_sec(1);
    }
    olo_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, OLO_LOGNO(00054)
                   "ID token renewal for %s failed (%s): %s; the current token serves until it "
                   "expires in %" APR_TIME_T_FMT " s, next try in %" APR_TIME_T_FMT " s",
                   session->user, olo_reason_name(out->reason), out->detail ? out->detail : "",
                   apr_time_sec(session->token_expires - now), apr_time_sec(backoff));
    req->cache.store(req->cache.baton, r->pool, renewal->result, OLO_REFRESH_FAILED_MARK,
                     strlen(OLO_REFRESH_FAILED_MARK), now + backoff);
    req->cache.remove(req->cache.baton, r->pool, renewal->lock);
    return session;
}

static olo_session_t *olo_refresh_now(olo_req_t *req, const olo_renewal_t *renewal,
                                      olo_session_t *session, olo_reason_t *preason)
{
    request_rec *r = req->r;
    olo_session_t *fresh = NULL;
    olo_outcome_t out = {OLO_OK, NULL};
    const char *sealed = NULL;
    apr_time_t now = apr_time_now();
    if (olo_refresh_session(&fresh, &out, r->pool, &req->prov, &req->client, session, now)
        != APR_SUCCESS) {
        olo_stats_count(OLO_STAT_RENEWALS_FAILED);
        if (olo_refresh_failure_is_transient(out.reason) && olo_token_still_valid(req, session)) {
            return olo_refresh_postpone(req, renewal, session, &out);
        }
        /* Redis and memcached have no atomic add: two nodes may both have taken the lock, and
         * a provider with strict refresh-token rotation refuses the second. The winner's
         * result then shows up in a moment; the session is not over. */
        if (out.reason == OLO_R_REFRESH_FAILED
            && olo_refresh_await(req, renewal, session, OLO_REFRESH_RACE_WAIT_MS, &fresh)
            && fresh) {
            olo_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, OLO_LOGNO(00056)
                           "ID token renewal for %s was refused (%s), but another request had "
                           "just renewed the same token: its result serves", session->user,
                           out.detail ? out.detail : "");
            return olo_refresh_settle(req, session, fresh, preason);
        }
        olo_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, OLO_LOGNO(00043)
                       "ID token renewal for %s failed (%s): %s; the session ends",
                       session->user, olo_reason_name(out.reason), out.detail ? out.detail : "");
        *preason = OLO_R_REFRESH_FAILED;
        olo_session_end(req, session);
        return NULL;
    }
    /* Sealed once: the result for racing requests, and the session kept for this browser. */
    if (olo_session_seal(&sealed, r->pool, req->rt->session_key, fresh) == APR_SUCCESS) {
        req->cache.store(req->cache.baton, r->pool, renewal->result, sealed, strlen(sealed),
                         now + apr_time_from_sec(OLO_REFRESH_KEEP_SEC));
        olo_session_keep_sealed(req, fresh, sealed);
    }
    olo_stats_count(OLO_STAT_RENEWALS_OK);
    olo_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, OLO_LOGNO(00044)
                   "ID token renewed for %s%s%s", fresh->user, out.detail ? ": " : "",
                   out.detail ? out.detail : "");
    return fresh;
}

/* Renews the ID token a margin before it expires, once per token however many requests race,
 * on any child or node: the one that claims the lock asks the provider, the others use its
 * result. */
static olo_session_t *olo_refresh_if_due(olo_req_t *req, olo_session_t *session,
                                         olo_reason_t *preason)
{
    request_rec *r = req->r;
    apr_time_t now = apr_time_now();
    olo_session_t *fresh = NULL;
    if (!olo_refresh_due(session, apr_time_from_sec(req->conf->refresh_margin), now)) {
        return session;
    }
    olo_renewal_t renewal = {olo_refresh_key(r->pool, "rf:", session),
                             olo_refresh_key(r->pool, "rs:", session)};
    if (!renewal.lock || !renewal.result) {
        return olo_refresh_settle(req, session, NULL, preason);
    }
    if (olo_refresh_result(req, &renewal, session, &fresh)) {
        return olo_refresh_settle(req, session, fresh, preason);
    }
    apr_status_t rv = req->cache.claim(req->cache.baton, r->pool, renewal.lock,
                                       now + apr_time_from_sec(OLO_REFRESH_LOCK_SEC));
    if (rv == APR_EEXIST) {
        olo_refresh_await(req, &renewal, session, OLO_REFRESH_WAIT_MS, &fresh);
        return olo_refresh_settle(req, session, fresh, preason);
    }
    olo_req_prepare_flow(req);
    return olo_refresh_now(req, &renewal, session, preason);
}

/* Without a refresh token an expired ID token cannot be replaced, and forwarding it is useless
 * (the backend refuses it): end the session, so a browser logs in again (silently, thanks to
 * the provider's single sign-on) and an API client sees 401. */
static int olo_session_token_dead(const olo_req_t *req, const olo_session_t *session)
{
    return !session->refresh_token && session->token_expires > 0
           && olo_config_dir_forward_id_token(req->dconf)
           && apr_time_now() >= session->token_expires;
}

/* The session stays alive while used: renewal when due, last activity now and then. */
static olo_session_t *olo_session_maintain(olo_req_t *req, olo_session_t *session,
                                           olo_reason_t *preason)
{
    apr_time_t before = session->token_expires;
    if (olo_session_token_dead(req, session)) {
        olo_log_rerror(APLOG_MARK, APLOG_INFO, 0, req->r, OLO_LOGNO(00047)
                       "ID token of %s expired and cannot be renewed (no refresh token, or the "
                       "provider's renewals carry no ID token): the session ends",
                       session->user);
        *preason = OLO_R_SESSION_EXPIRED;
        olo_stats_count_reason(OLO_STAT_SESSIONS_REFUSED, *preason);
        olo_session_end(req, session);
        return NULL;
    }
    session = olo_refresh_if_due(req, session, preason);
    if (session && session->token_expires == before
        && olo_session_needs_touch(session, apr_time_from_sec(req->conf->idle_timeout),
                                   apr_time_now())) {
        session->last_seen = apr_time_now();
        olo_session_save(req, session);
    }
    return session;
}

/* ------------------------------------------------------------------------------------------
 * Bearer tokens sent by clients
 */

static olo_bearer_policy_t olo_bearer_policy(const olo_req_t *req)
{
    const olo_dir_conf_t *d = req->dconf;
    olo_bearer_policy_t policy = {d->bearer_jwks,
                                  {d->bearer_issuers, d->bearer_audiences,
                                   olo_config_dir_bearer_require_exp(d),
                                   apr_time_from_sec(req->conf->clock_skew)},
                                  req->conf->user_claims};
    return policy;
}

/* How long a verified token is believed without checking it again. */
static apr_time_t olo_verdict_expiry(const olo_session_t *identity, apr_time_t now)
{
    apr_time_t limit = now + apr_time_from_sec(OLO_VERDICT_MAX_SEC);
    return (identity->token_expires > 0 && identity->token_expires < limit)
               ? identity->token_expires : limit;
}

static olo_session_t *olo_bearer_verified(olo_req_t *req, const olo_bearer_policy_t *policy,
                                          const char *token, olo_outcome_t *out)
{
    request_rec *r = req->r;
    apr_time_t now = apr_time_now();
    olo_tokens_t none = {0};
    json_t *claims = NULL;
    olo_req_prepare_flow(req);
    if (olo_bearer_verify(&claims, out, r->pool, &req->prov, &req->client, policy, token, now)
        != APR_SUCCESS) {
        return NULL;
    }
    olo_session_t *identity = apr_pcalloc(r->pool, sizeof(*identity));
    if (olo_login_identity(identity, out, r->pool, claims, &req->client, &none) != APR_SUCCESS) {
        return NULL;
    }
    identity->id = OLO_BEARER_ID;
    identity->created = identity->last_seen = now;
    identity->expires = olo_verdict_expiry(identity, now);
    return identity;
}

/* The identity in a client's bearer token. Verdicts are cached so a web app's many API calls
 * cost one signature check, each keyed and sealed under the policy it was reached under (a
 * digest of issuer, client id and this location's bearer rules): a token judged here is
 * judged again wherever the rules differ. NULL with out->reason when it does not verify. */
static olo_session_t *olo_bearer_identity(olo_req_t *req, const char *token,
                                          olo_outcome_t *out)
{
    request_rec *r = req->r;
    olo_bearer_policy_t policy = olo_bearer_policy(req);
    const char *digest = olo_bearer_policy_digest(r->pool, req->conf->issuer,
                                                  req->conf->client_id, &policy);
    olo_session_t *identity = NULL;
    const char *sealed = NULL;
    char *value = NULL;
    apr_size_t len = 0;
    if (!digest) {
        out->reason = OLO_R_TOKEN_MALFORMED;
        return NULL;
    }
    const char *key = apr_pstrcat(r->pool, "bv:", digest, ":", token, NULL);
    const char *aad = apr_pstrcat(r->pool, "olo_verdict:", digest, NULL);
    if (req->cache.retrieve(req->cache.baton, r->pool, key, &value, &len) == APR_SUCCESS
        && olo_session_open_as(&identity, &out->reason, r->pool, req->rt->session_key, aad,
                               value, apr_time_now()) == APR_SUCCESS) {
        return identity;
    }
    identity = olo_bearer_verified(req, &policy, token, out);
    if (identity && olo_session_seal_as(&sealed, r->pool, req->rt->session_key, aad, identity)
                        == APR_SUCCESS) {
        req->cache.store(req->cache.baton, r->pool, key, sealed, strlen(sealed),
                         identity->expires);
    }
    return identity;
}

/* ------------------------------------------------------------------------------------------
 * Identity to the backend
 */

/* A client's own Authorization never reaches the backend beside a session: the session's ID
 * token takes its place, or nothing does. (A verified token of the client's is the identity
 * of its request instead: olo_with_bearer.) */
static void olo_forward_token(olo_req_t *req, const olo_session_t *session)
{
    request_rec *r = req->r;
    if (olo_config_dir_forward_id_token(req->dconf) && session->id_token) {
        apr_table_setn(r->headers_in, "Authorization",
                       apr_pstrcat(r->pool, "Bearer ", session->id_token, NULL));
    }
    else {
        apr_table_unset(r->headers_in, "Authorization");
    }
}

/* The backend's Cookie header without the module's own cookies. */
static void olo_cookies_for_backend(olo_req_t *req)
{
    if (!req->cookies) {
        return;
    }
    if (req->cookies_rest) {
        apr_table_setn(req->r->headers_in, "Cookie", req->cookies_rest);
    }
    else {
        apr_table_unset(req->r->headers_in, "Cookie");
    }
}

static void olo_identity_set(olo_req_t *req, const olo_session_t *session)
{
    request_rec *r = req->r;
    const struct { const char *header, *env, *value; unsigned bit; } fields[] = {
        /* REMOTE_USER for RequestHeader ... %{REMOTE_USER}s */
        {NULL, "REMOTE_USER", session->user, OLO_SESSION_PRINTABLE_USER},
        {"X-OneLogin-User", "ONELOGIN_USER", session->user, OLO_SESSION_PRINTABLE_USER},
        {"X-OneLogin-Email", "ONELOGIN_EMAIL", session->email, OLO_SESSION_PRINTABLE_EMAIL},
        {"X-OneLogin-Name", "ONELOGIN_NAME", session->name, OLO_SESSION_PRINTABLE_NAME},
        {"X-OneLogin-Groups", "ONELOGIN_GROUPS", session->groups, OLO_SESSION_PRINTABLE_GROUPS},
    };
    r->user = apr_pstrdup(r->pool, session->user);
    r->ap_auth_type = OLO_AUTH_TYPE;
    ap_set_module_config(r->request_config, &onelogin_oidc_module, (void *)session);
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        /* Claims are data from the provider: a CR or LF must never split a header, and other
         * controls would make a strict backend refuse every request of this user. */
        if (fields[i].value && (session->printable & fields[i].bit)) {
            if (fields[i].header) {
                apr_table_setn(r->headers_in, fields[i].header, fields[i].value);
            }
            apr_table_setn(r->subprocess_env, fields[i].env, fields[i].value);
        }
    }
    olo_cookies_for_backend(req);
}

/* ------------------------------------------------------------------------------------------
 * The request
 */

static int olo_path_is(const request_rec *r, const char *path)
{
    return r->parsed_uri.path && !strcmp(r->parsed_uri.path, path);
}

/* The module's own paths for a browser with a session; DECLINED for the others. */
static int olo_session_paths(olo_req_t *req, const olo_session_t *session)
{
    request_rec *r = req->r;
    /* The callback and /signin are shared with the backend's own login (OpenMetadata's web
     * app registers both): only a state this browser started with the module is ours. */
    if (olo_path_is(r, req->rt->redirect_path) && olo_callback_is_ours(req)) {
        olo_req_prepare_flow(req);
        return olo_handle_callback(req);
    }
    if (olo_path_is(r, req->conf->logout_path)) {
        olo_req_prepare_flow(req);
        return olo_handle_logout(req, session);
    }
    return DECLINED;
}

/* The backend with the session's identity; DECLINED when the session ended on the way. */
static int olo_with_session(olo_req_t *req, olo_session_t *session, olo_reason_t *preason)
{
    session = olo_session_maintain(req, session, preason);
    if (!session) {
        return DECLINED;
    }
    olo_identity_set(req, session);
    olo_forward_token(req, session);
    return OK;
}

/* OneLoginAcceptBearer On: a verified token is the identity of its request, whatever session
 * the browser also has (which is left as it is), and reaches the backend as it came. One that
 * does not verify is refused, unless a session can answer instead (DECLINED). */
static int olo_with_bearer(olo_req_t *req, const char *token, int has_session)
{
    olo_outcome_t out = {OLO_OK, NULL};
    olo_session_t *identity = olo_bearer_identity(req, token, &out);
    if (identity) {
        olo_stats_count(OLO_STAT_BEARER_ACCEPTED);
        /* Its claims answer `Require onelogin-claim`. */
        identity->id_token = token;
        olo_identity_set(req, identity);
        return OK;
    }
    olo_stats_count_reason(OLO_STAT_BEARER_REFUSED, out.reason);
    if (has_session) {
        olo_log_rerror(APLOG_MARK, APLOG_INFO, 0, req->r, OLO_LOGNO(00045)
                       "client's own bearer token does not verify (%s); the session's identity "
                       "and token serve instead", olo_reason_name(out.reason));
        return DECLINED;
    }
    /* A remembered provider failure was logged when it happened (OLO00063). */
    olo_log_rerror(APLOG_MARK, olo_req_failure_remembered(req->r) ? APLOG_DEBUG : APLOG_WARNING,
                   0, req->r,
                   OLO_LOGNO(00046) "bearer token refused (%s): %s",
                   olo_reason_name(out.reason), out.detail ? out.detail : "");
    /* An API client cannot follow a login: 401 with the reason, never a redirect. */
    return olo_send_error(req, out.reason == OLO_R_PROVIDER_UNREACHABLE
                                   ? HTTP_SERVICE_UNAVAILABLE : HTTP_UNAUTHORIZED,
                          out.reason);
}

/* OneLoginUnauthAction pass: anonymous, yet past `Require valid-user` here (an empty user that
 * no other location inherits), with nothing of the client's that speaks for a user. */
static int olo_anonymous(olo_req_t *req)
{
    req->r->user = "";
    apr_table_unset(req->r->headers_in, "Authorization");
    olo_cookies_for_backend(req);
    return OK;
}

/* A request without a session: the module's paths, else a login, a 401, or `pass`. */
static int olo_without_session(olo_req_t *req, olo_reason_t reason)
{
    request_rec *r = req->r;
    olo_req_prepare_flow(req);
    if (olo_path_is(r, req->rt->redirect_path)) {
        return olo_handle_callback(req);
    }
    if (olo_path_is(r, req->conf->login_path)) {
        return olo_handle_login_path(req);
    }
    if (olo_path_is(r, req->conf->logout_path)) {
        return olo_handle_logout(req, NULL);
    }
    if (olo_config_dir_unauth(req->dconf) == OLO_UNAUTH_PASS) {
        return olo_anonymous(req);
    }
    return olo_unauthenticated(req, reason);
}

int olo_request_authenticate(olo_req_t *req)
{
    request_rec *r = req->r;
    olo_reason_t reason = OLO_R_LOGIN_REQUIRED;
    int rc = DECLINED;
    olo_is_browser(r);  /* before the identity changes the request's headers */
    olo_session_t *session = olo_session_current(req, &reason);
    if (!session && reason == OLO_R_CACHE_UNAVAILABLE) {
        return olo_send_error(req, HTTP_SERVICE_UNAVAILABLE, reason);
    }
    if (session) {
        rc = olo_session_paths(req, session);
    }
    const char *token = olo_bearer_token(apr_table_get(r->headers_in, "Authorization"));
    if (rc == DECLINED && token && olo_config_dir_accept_bearer(req->dconf)) {
        rc = olo_with_bearer(req, token, session != NULL);
    }
    if (rc == DECLINED && session) {
        rc = olo_with_session(req, session, &reason);
    }
    return rc != DECLINED ? rc : olo_without_session(req, reason);
}
