/*
 * httpd glue for the provider round trips: starting a login, the callback, logout, and the
 * module's own responses (pages, redirects, cookies). The decisions are made in auth/.
 */
#include <string.h>

#include <http_core.h>
#include <http_protocol.h>
#include <http_request.h>
#include <mod_core.h>
#include <apr_strings.h>

#include "mod_onelogin_oidc.h"
#include "auth/olo_cookie.h"
#include "auth/olo_page.h"
#include "auth/olo_rand.h"
#include "auth/olo_url.h"

APLOG_USE_MODULE(onelogin_oidc);

#define OLO_LOGOUT_STATE_BYTES 16

const char *olo_req_absolute(request_rec *r, const char *path_or_url)
{
    /* A path becomes absolute from the scheme and name httpd uses for this server
     * (ServerName https://host behind a TLS-terminating balancer yields https://). */
    if (path_or_url[0] == '/') {
        return ap_construct_url(r->pool, path_or_url, r);
    }
    return path_or_url;
}

#define OLO_NOTE_REMEMBERED "onelogin-provider-remembered"

/* One line per remembered failure, not one per request it turns away: those are noted, and
 * their own lines drop to debug. */
static void olo_provider_marked(void *baton, const char *url, const olo_outcome_t *out,
                                int fresh)
{
    request_rec *r = ((olo_req_t *)baton)->r;
    if (!fresh) {
        apr_table_setn(r->notes, OLO_NOTE_REMEMBERED, "1");
        return;
    }
    olo_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r, OLO_LOGNO(00063)
                   "provider failed (%s) at %s: remembered for %d s; requests that need it "
                   "meanwhile fail at once", olo_reason_name(out->reason), url,
                   OLO_PROVIDER_MARK_SEC);
}

int olo_req_failure_remembered(request_rec *r)
{
    return apr_table_get(r->notes, OLO_NOTE_REMEMBERED) != NULL;
}

void olo_req_prepare_flow(olo_req_t *req)
{
    request_rec *r = req->r;
    const olo_server_conf_t *conf = req->conf;
    req->prov = (olo_provider_t){conf->issuer, &req->rt->http, &req->cache,
                                 apr_time_from_sec(conf->metadata_ttl),
                                 apr_time_from_sec(conf->jwks_ttl),
                                 apr_time_from_sec(conf->jwks_refetch), olo_stats_provider_event,
                                 /* waits for another's fetch as long as that may take */
                                 apr_time_from_sec(conf->http_timeout + 1), apr_sleep,
                                 apr_time_now, olo_provider_marked, req};
    req->client = (olo_client_t){conf->client_id, conf->client_secret,
                                 olo_req_absolute(r, conf->redirect_uri), conf->scope,
                                 conf->user_claims, apr_time_from_sec(conf->clock_skew),
                                 apr_time_from_sec(conf->session_max_age)};
}

/* ------------------------------------------------------------------------------------------
 * Responses
 */

/* A browser navigation can follow a login redirect; a script cannot (it must see 401), and
 * a request that brings its own bearer token is an API client whatever it accepts. */
int olo_is_browser(request_rec *r)
{
    /* Decided once, from the headers as the client sent them: the module later puts its own
     * Authorization on the request for the backend. */
    const char *noted = apr_table_get(r->notes, "onelogin-browser");
    if (noted) {
        return noted[0] == '1';
    }
    const char *accept = apr_table_get(r->headers_in, "Accept");
    const char *xrw = apr_table_get(r->headers_in, "X-Requested-With");
    const char *authorization = apr_table_get(r->headers_in, "Authorization");
    int browser = accept && ap_strstr_c(accept, "text/html") && !(xrw && *xrw)
                  && !(authorization && !strncasecmp(authorization, "Bearer ", 7));
    apr_table_setn(r->notes, "onelogin-browser", browser ? "1" : "0");
    return browser;
}

void olo_set_cookie(olo_req_t *req, const char *name, const char *value, long max_age)
{
    olo_cookie_attrs_t attrs = {req->conf->cookie_secure, 1, "Lax", "/", max_age};
    apr_table_add(req->r->err_headers_out, "Set-Cookie",
                  olo_cookie_format(req->r->pool, name, value, &attrs));
}

apr_status_t olo_set_session_cookie(olo_req_t *req, const char *sealed)
{
    olo_cookie_attrs_t attrs = {req->conf->cookie_secure, 1, "Lax", "/", sealed ? -1 : 0};
    apr_array_header_t *lines = olo_cookie_set_chunked(req->r->pool, req->cookies,
                                                       OLO_SESSION_COOKIE, sealed ? sealed : "",
                                                       &attrs);
    if (!lines) {
        return APR_ENOSPC;
    }
    for (int i = 0; i < lines->nelts; i++) {
        apr_table_add(req->r->err_headers_out, "Set-Cookie", APR_ARRAY_IDX(lines, i, const char *));
    }
    return APR_SUCCESS;
}

int olo_send(request_rec *r, int status, const char *content_type, const char *body)
{
    r->status = status;
    apr_table_setn(r->err_headers_out, "Cache-Control", "no-store");
    ap_set_content_type(r, content_type);
    ap_set_content_length(r, strlen(body));
    if (!r->header_only) {
        ap_rputs(body, r);
    }
    /* The response is complete: httpd runs no handler and finalises it. */
    return DONE;
}

/* The one way an error leaves the module: HTML for browsers, JSON for everything else. */
static int olo_send_error_page(olo_req_t *req, int status, olo_reason_t reason,
                               const char *retry_href)
{
    request_rec *r = req->r;
    if (status == HTTP_UNAUTHORIZED) {
        /* RFC 6750 3: no error code when no credentials came; invalid_token when they failed. */
        apr_table_setn(r->err_headers_out, "WWW-Authenticate",
                       reason == OLO_R_LOGIN_REQUIRED
                           ? "Bearer realm=\"" OLO_AUTH_TYPE "\""
                           : apr_psprintf(r->pool, "Bearer realm=\"%s\", error=\"invalid_token\", "
                                          "error_description=\"%s\"", OLO_AUTH_TYPE,
                                          olo_reason_name(reason)));
    }
    if (status == HTTP_SERVICE_UNAVAILABLE
        && (reason == OLO_R_PROVIDER_UNREACHABLE || reason == OLO_R_CACHE_UNAVAILABLE)) {
        /* RFC 9110 10.2.3; by then a remembered provider failure has been forgotten. */
        apr_table_setn(r->err_headers_out, "Retry-After",
                       APR_STRINGIFY(OLO_PROVIDER_MARK_SEC));
    }
    /* For the operator's own error page (SSI, CGI) and the access log (%{ONELOGIN_ERROR}e). */
    apr_table_setn(r->subprocess_env, "ONELOGIN_ERROR", olo_reason_name(reason));
    if (ap_response_code_string(r, ap_index_of_response(status))) {
        /* An ErrorDocument for this status replaces the module's page: httpd serves it. */
        apr_table_setn(r->err_headers_out, "Cache-Control", "no-store");
        return status;
    }
    if (olo_is_browser(r)) {
        return olo_send(r, status, "text/html; charset=utf-8",
                        olo_page_html(r->pool, status, reason, retry_href));
    }
    return olo_send(r, status, "application/json", olo_page_json(r->pool, reason));
}

int olo_send_error(olo_req_t *req, int status, olo_reason_t reason)
{
    return olo_send_error_page(req, status, reason, req->conf->login_path);
}

int olo_send_redirect(request_rec *r, const char *location)
{
    apr_table_setn(r->headers_out, "Location", location);
    return olo_send(r, HTTP_MOVED_TEMPORARILY, "text/html; charset=utf-8",
                    apr_psprintf(r->pool, "<a href=\"%s\">continue</a>\n",
                                 ap_escape_html(r->pool, location)));
}

/* Provider failures: unreachable is 503 (try later), a bad answer is 502. */
static int olo_provider_status(olo_reason_t reason)
{
    switch (reason) {
    case OLO_R_PROVIDER_UNREACHABLE:
    case OLO_R_CACHE_UNAVAILABLE:
        return HTTP_SERVICE_UNAVAILABLE;
    default:
        return HTTP_BAD_GATEWAY;
    }
}

/* ------------------------------------------------------------------------------------------
 * Login start
 */

/* Logins dropped for the cap are remembered in a sealed cookie of the browser (no server
 * state an anonymous client could fill), so their callbacks can say what happened. */
static void olo_state_remember_dropped(olo_req_t *req, const apr_array_header_t *dropped,
                                       apr_time_t now)
{
    request_rec *r = req->r;
    const char *value = NULL;
    for (int i = 0; i < dropped->nelts; i++) {
        const olo_pending_t *pending = APR_ARRAY_IDX(dropped, i, const olo_pending_t *);
        olo_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, OLO_LOGNO(00058)
                       "login start: a pending login (started %" APR_TIME_T_FMT " s ago, "
                       "landing on %s) was dropped as the oldest of %d pending logins",
                       apr_time_sec(now - pending->created), pending->target,
                       OLO_STATE_MAX_PENDING);
    }
    if (olo_state_dropped_add(&value, r->pool, req->rt->state_key,
                              olo_cookie_get(r->pool, req->cookies, OLO_STATE_DROPPED_COOKIE),
                              dropped, now) == APR_SUCCESS) {
        olo_set_cookie(req, OLO_STATE_DROPPED_COOKIE, value, OLO_STATE_TTL_SEC);
    }
}

/* Drops pending logins that are stale or beyond the cap before adding one more. */
static void olo_state_prune(olo_req_t *req)
{
    apr_array_header_t *dropped = NULL;
    apr_time_t now = apr_time_now();
    apr_array_header_t *stale = olo_state_stale_dropped(&dropped, req->r->pool,
                                                        req->rt->state_key, req->cookies,
                                                        OLO_STATE_MAX_PENDING - 1, now);
    for (int i = 0; i < stale->nelts; i++) {
        olo_set_cookie(req, APR_ARRAY_IDX(stale, i, const char *), "", 0);
    }
    if (dropped->nelts > 0) {
        olo_state_remember_dropped(req, dropped, now);
    }
}

static int olo_login_begin(olo_req_t *req, const char *target)
{
    request_rec *r = req->r;
    olo_metadata_t *md = NULL;
    olo_pending_t *pending = NULL;
    olo_outcome_t out = {OLO_OK, NULL};
    const char *sealed = NULL;
    apr_time_t now = apr_time_now();

    if (olo_provider_metadata(&md, &out, r->pool, &req->prov, now) != APR_SUCCESS) {
        olo_log_rerror(APLOG_MARK, olo_req_failure_remembered(r) ? APLOG_DEBUG : APLOG_ERR, 0, r,
                       OLO_LOGNO(00010) "login cannot start: provider metadata unavailable "
                       "(%s): %s", olo_reason_name(out.reason), out.detail ? out.detail : "");
        olo_stats_count_reason(OLO_STAT_LOGINS_FAILED, out.reason);
        return olo_send_error(req, olo_provider_status(out.reason), out.reason);
    }
    /* A browser sent to a provider that just failed to answer us would only see its own
     * connection error. Without a recent failure the module cannot tell: it does not probe. */
    if (olo_provider_check_reachable(&out, r->pool, &req->prov, md) != APR_SUCCESS) {
        olo_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, OLO_LOGNO(00064)
                       "login not started: the provider was unreachable moments ago: %s",
                       out.detail ? out.detail : "");
        olo_stats_count_reason(OLO_STAT_LOGINS_FAILED, out.reason);
        return olo_send_error(req, HTTP_SERVICE_UNAVAILABLE, out.reason);
    }
    if (olo_state_new(&pending, r->pool, olo_rand_bytes, target, now) != APR_SUCCESS
        || olo_state_seal(&sealed, r->pool, req->rt->state_key, pending) != APR_SUCCESS) {
        olo_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, OLO_LOGNO(00011)
                       "login cannot start: could not create the state cookie");
        return olo_send(r, HTTP_INTERNAL_SERVER_ERROR, "text/plain", "internal error\n");
    }
    olo_state_prune(req);
    olo_set_cookie(req, olo_state_cookie_name(r->pool, pending->state), sealed,
                   OLO_STATE_TTL_SEC);
    olo_stats_count(OLO_STAT_LOGINS_STARTED);
    olo_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, OLO_LOGNO(00012)
                   "login started with redirect_uri %s, landing on %s after the provider",
                   req->client.redirect_uri, pending->target);
    return olo_send_redirect(r, olo_login_url(r->pool, md, &req->client, pending));
}

/* What a request without a session gets: a login for browsers, 401 for scripts. */
int olo_unauthenticated(olo_req_t *req, olo_reason_t reason)
{
    request_rec *r = req->r;
    olo_unauth_t action = olo_config_dir_unauth(req->dconf);
    if (action == OLO_UNAUTH_REDIRECT || (action == OLO_UNAUTH_AUTO && olo_is_browser(r))) {
        int local = (r->method_number == M_GET);
        return olo_login_begin(req, local ? olo_url_local_target(r->unparsed_uri) : "/");
    }
    olo_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, OLO_LOGNO(00013)
                   "no session (%s): answering 401 to a non-browser request",
                   olo_reason_name(reason));
    return olo_send_error(req, HTTP_UNAUTHORIZED, reason);
}

int olo_handle_login_path(olo_req_t *req)
{
    request_rec *r = req->r;
    const char *target = NULL;
    if (olo_url_query_get(&target, r->pool, r->args, "target") != APR_SUCCESS) {
        target = "/";
    }
    if (!olo_url_is_local_target(target)) {
        olo_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, OLO_LOGNO(00014)
                       "login target refused (not a local path); landing on / instead");
    }
    return olo_login_begin(req, olo_url_local_target(target));
}

/* ------------------------------------------------------------------------------------------
 * Callback
 */

static int olo_callback_refuse(olo_req_t *req, int status, const olo_outcome_t *out,
                               const char *logno_text)
{
    /* A remembered provider failure was logged when it happened (OLO00063). */
    int level = olo_req_failure_remembered(req->r) ? APLOG_DEBUG
                : status >= 500                        ? APLOG_ERR
                                                       : APLOG_WARNING;
    olo_log_rerror(APLOG_MARK, level, 0, req->r, "%s (%s): %s",
                   logno_text, olo_reason_name(out->reason), out->detail ? out->detail : "");
    olo_stats_count_reason(OLO_STAT_LOGINS_FAILED, out->reason);
    return olo_send_error(req, status, out->reason);
}

/* The target of this browser's pending login for state that was dropped for the cap, or NULL:
 * then the state is simply unknown (also when the remembering cookie is gone: fail closed). */
static const char *olo_callback_dropped_target(olo_req_t *req, const char *state)
{
    request_rec *r = req->r;
    const char *target = NULL;
    const char *value = olo_cookie_get(r->pool, req->cookies, OLO_STATE_DROPPED_COOKIE);
    if (!value || olo_state_dropped_find(&target, r->pool, req->rt->state_key, value, state,
                                         apr_time_now()) != APR_SUCCESS) {
        return NULL;
    }
    return target;
}

/* A callback for a login dropped as the oldest of too many: say so, and offer the same login
 * again. The target came sealed from this browser and is local again: no open redirect. */
static int olo_callback_dropped(olo_req_t *req, const char *target)
{
    request_rec *r = req->r;
    olo_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, OLO_LOGNO(00059)
                   "login callback: state belongs to a pending login that was dropped as the "
                   "oldest of %d pending logins (landing on %s); offering a new login",
                   OLO_STATE_MAX_PENDING, target);
    olo_stats_count_reason(OLO_STAT_LOGINS_FAILED, OLO_R_STATE_DROPPED);
    return olo_send_error_page(req, HTTP_BAD_REQUEST, OLO_R_STATE_DROPPED,
                               olo_url_add_param(r->pool, req->conf->login_path, "target",
                                                 target));
}

/* Finds and opens this browser's pending login for the callback's state, and spends it. */
static int olo_callback_pending(olo_pending_t **ppending, olo_req_t *req, const char *state)
{
    request_rec *r = req->r;
    const char *name = olo_state_cookie_name(r->pool, state);
    const char *value = olo_cookie_get(r->pool, req->cookies, name);
    olo_outcome_t out = {OLO_R_STATE_UNKNOWN, "no state cookie for this state in the browser"};
    apr_time_t now = apr_time_now();

    if (!value) {
        const char *dropped = olo_callback_dropped_target(req, state);
        if (dropped) {
            return olo_callback_dropped(req, dropped);
        }
        return olo_callback_refuse(req, HTTP_BAD_REQUEST, &out, OLO_LOGNO(00020)
                                   "login callback: state matches no pending login");
    }
    /* From here on the state is used up, whatever the outcome. */
    olo_set_cookie(req, name, "", 0);
    if (olo_state_open(ppending, &out.reason, r->pool, req->rt->state_key, state, value, now)
        != APR_SUCCESS) {
        out.detail = "state cookie does not open or is too old";
        return olo_callback_refuse(req, HTTP_BAD_REQUEST, &out, OLO_LOGNO(00021)
                                   "login callback: pending login refused");
    }
    apr_time_t expiry = (*ppending)->created + apr_time_from_sec(OLO_STATE_TTL_SEC);
    apr_status_t rv = req->cache.claim(req->cache.baton, r->pool,
                                       apr_pstrcat(r->pool, "st:", state, NULL), expiry);
    if (rv == APR_EEXIST) {
        out = (olo_outcome_t){OLO_R_STATE_REPLAYED, "state already used once"};
        return olo_callback_refuse(req, HTTP_BAD_REQUEST, &out, OLO_LOGNO(00022)
                                   "login callback: replayed state refused");
    }
    if (rv != APR_SUCCESS) {
        out = (olo_outcome_t){OLO_R_CACHE_UNAVAILABLE, "could not record the state as used"};
        return olo_callback_refuse(req, HTTP_SERVICE_UNAVAILABLE, &out, OLO_LOGNO(00023)
                                   "login callback: cache unavailable");
    }
    return OK;
}

static int olo_callback_status(olo_reason_t reason)
{
    switch (reason) {
    case OLO_R_PROVIDER_UNREACHABLE:
    case OLO_R_PROVIDER_BAD_RESPONSE:
    case OLO_R_ISSUER_MISMATCH:
    case OLO_R_CACHE_UNAVAILABLE:
        return olo_provider_status(reason);
    case OLO_R_CLOCK_SKEW:
        /* The server is misconfigured, not the user's sign-in: 5xx reaches the operator's
         * alerting, and no new sign-in can succeed until the clocks agree. */
        return HTTP_SERVICE_UNAVAILABLE;
    default:
        return HTTP_UNAUTHORIZED;
    }
}

/* A verified login whose session could not be kept: the cache is down (rv: anything but
 * APR_ENOSPC), or the session is too large even for chunked cookies. */
static int olo_callback_unkept(olo_req_t *req, apr_status_t rv)
{
    olo_outcome_t out = {OLO_R_CACHE_UNAVAILABLE, "the session could not be stored in the cache"};
    if (rv != APR_ENOSPC) {
        return olo_callback_refuse(req, HTTP_SERVICE_UNAVAILABLE, &out, OLO_LOGNO(00027)
                                   "login failed: the session could not be stored");
    }
    out = (olo_outcome_t){OLO_R_COOKIE_INVALID, "session too large even for chunked cookies"};
    return olo_callback_refuse(req, HTTP_INTERNAL_SERVER_ERROR, &out, OLO_LOGNO(00048)
                               "login failed: the session does not fit in cookies");
}

int olo_handle_callback(olo_req_t *req)
{
    request_rec *r = req->r;
    olo_callback_params_t *params = NULL;
    olo_pending_t *pending = NULL;
    olo_session_t *session = NULL;
    olo_outcome_t out = {OLO_OK, NULL};

    if (olo_callback_parse(&params, &out, r->pool, r->args) != APR_SUCCESS) {
        return olo_callback_refuse(req, HTTP_BAD_REQUEST, &out, OLO_LOGNO(00024)
                                   "login callback: malformed request");
    }
    int rc = olo_callback_pending(&pending, req, params->state);
    if (rc != OK) {
        return rc;
    }
    if (params->error) {
        out = (olo_outcome_t){OLO_R_PROVIDER_ERROR, apr_psprintf(r->pool, "error=%s", params->error)};
        return olo_callback_refuse(req, HTTP_UNAUTHORIZED, &out, OLO_LOGNO(00025)
                                   "login callback: the provider refused the login");
    }
    if (olo_callback_finish(&session, &out, r->pool, &req->prov, &req->client, pending,
                            params->code, olo_rand_bytes, apr_time_now()) != APR_SUCCESS) {
        if (out.reason == OLO_R_CLOCK_SKEW) {
            return olo_callback_refuse(req, olo_callback_status(out.reason), &out,
                                       OLO_LOGNO(00057) "login failed: this server's clock and "
                                       "the provider's disagree (check NTP on both)");
        }
        return olo_callback_refuse(req, olo_callback_status(out.reason), &out, OLO_LOGNO(00026)
                                   "login failed");
    }
    apr_status_t kept = olo_session_begin(req, session);
    if (kept != APR_SUCCESS) {
        return olo_callback_unkept(req, kept);
    }
    olo_stats_count(OLO_STAT_LOGINS_COMPLETED);
    olo_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, OLO_LOGNO(00028) "login completed for %s",
                   session->user);
    return olo_send_redirect(r, pending->target);
}

int olo_callback_is_ours(olo_req_t *req)
{
    const char *state = NULL;
    request_rec *r = req->r;
    if (olo_url_query_get(&state, r->pool, r->args, "state") != APR_SUCCESS
        || !olo_state_is_well_formed(state)) {
        return 0;
    }
    return olo_cookie_get(r->pool, req->cookies, olo_state_cookie_name(r->pool, state)) != NULL
           || olo_callback_dropped_target(req, state) != NULL;
}

/* ------------------------------------------------------------------------------------------
 * Logout
 */

/* RP-initiated logout: OneLogin needs id_token_hint whenever post_logout_redirect_uri is sent,
 * and the URI must match the app's setting exactly. A random state (OIDC RP-Initiated Logout
 * 1.0, section 2) costs nothing; some providers (Glewlwyd) send the browser back only with
 * one. Nothing checks it on the way back: the post-logout page is an ordinary page. */
static const char *olo_logout_url(olo_req_t *req, const olo_metadata_t *md,
                                  const olo_session_t *session)
{
    request_rec *r = req->r;
    const char *url = olo_url_add_param(r->pool, md->end_session_endpoint, "client_id",
                                        req->conf->client_id);
    if (session->id_token) {
        url = olo_url_add_param(r->pool, url, "id_token_hint", session->id_token);
        url = olo_url_add_param(r->pool, url, "post_logout_redirect_uri",
                                olo_req_absolute(r, req->conf->post_logout_uri));
    }
    const char *state = olo_rand_token(r->pool, olo_rand_bytes, OLO_LOGOUT_STATE_BYTES);
    return state ? olo_url_add_param(r->pool, url, "state", state) : url;
}

int olo_handle_logout(olo_req_t *req, const olo_session_t *session)
{
    request_rec *r = req->r;
    olo_metadata_t *md = NULL;
    olo_outcome_t out = {OLO_OK, NULL};
    olo_session_end(req, session);
    olo_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, OLO_LOGNO(00029) "logout for %s",
                   session ? session->user : "(no session)");
    olo_stats_count(OLO_STAT_LOGOUTS);
    if (!session) {
        /* Nothing to end at the provider, and without id_token_hint it could not send the
         * browser back: go where a completed logout lands. */
        return olo_send_redirect(r, olo_req_absolute(r, req->conf->post_logout_uri));
    }
    if (olo_provider_metadata(&md, &out, r->pool, &req->prov, apr_time_now()) == APR_SUCCESS
        && md->end_session_endpoint) {
        return olo_send_redirect(r, olo_logout_url(req, md, session));
    }
    return olo_send(r, HTTP_OK, "text/html; charset=utf-8",
                    "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                    "<title>Signed out</title></head><body><h1>You are signed out</h1>"
                    "</body></html>\n");
}
