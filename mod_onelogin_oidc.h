#ifndef MOD_ONELOGIN_OIDC_H
#define MOD_ONELOGIN_OIDC_H

/*
 * What the glue files share: the per-server runtime, the per-request context, and the steps
 * of a request. mod_onelogin_oidc.c holds directives and hooks, _login.c the login, callback,
 * logout and responses, _session.c what every request does, _cache.c the socache seam,
 * _status.c the counters, the status page and the request id in log lines.
 */

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>

#include "auth/olo_config.h"
#include "auth/olo_login.h"
#include "auth/olo_memo.h"
#include "auth/olo_session.h"
#include "auth/olo_stats.h"
#include "mod_onelogin_oidc_cache.h"

#define OLO_AUTH_TYPE "OneLogin"
/* The id of an identity that a client's bearer token gave, not a session. */
#define OLO_BEARER_ID "bearer"

extern module AP_MODULE_DECLARE_DATA onelogin_oidc_module;

/* What a server derives from its configuration once, at startup. */
typedef struct olo_runtime_t {
    olo_seal_key_t *state_key;
    olo_seal_key_t *session_key;
    olo_memo_t *memo;           /* sessions this process opened before (per key: per server) */
    olo_memo_t *handle_memo;    /* server store: handles this process opened before */
    olo_socache_t *socache;
    olo_http_curl_opts_t http_opts;
    olo_http_t http;
    const char *redirect_path;
} olo_runtime_t;

/* One request of an `AuthType OneLogin` location. */
typedef struct olo_req_t {
    request_rec *r;
    olo_server_conf_t *conf;
    olo_dir_conf_t *dconf;
    olo_runtime_t *rt;
    olo_cache_t cache;
    olo_socache_baton_t cache_baton;
    olo_provider_t prov;        /* filled by olo_req_prepare_flow */
    olo_client_t client;        /* filled by olo_req_prepare_flow */
    const char *cookies;        /* the Cookie header */
    const char *session_cookie; /* the olo_session cookie's value (or chunk marker), NULL */
    const char *cookies_rest;   /* the Cookie header without the module's cookies, or NULL */
    const char *stored_id;      /* server store: the session id the browser's handle names */
} olo_req_t;

/* mod_onelogin_oidc_session.c */
olo_req_t *olo_req_make(request_rec *r, olo_server_conf_t *conf);
/** Keeps the session: sealed in the cookie, or in the cache with a handle cookie. */
apr_status_t olo_session_save(olo_req_t *req, const olo_session_t *session);
/** Keeps a new session: its allow-list entry in the cache (cookie store), then as
 * olo_session_save. APR_ENOSPC when it does not fit in cookies, another error when the cache
 * failed. */
apr_status_t olo_session_begin(olo_req_t *req, const olo_session_t *session);
/** Ends the session in the browser and in the cache, so no copy of its cookie counts again
 * (session may be NULL: the cookie only). */
void olo_session_drop(olo_req_t *req, const olo_session_t *session);
/** Ends a session for good (a logout, an idle end, a renewal the provider refused, a token that
 * cannot be renewed): olo_session_drop, and a record of the end, so that a later copy of its
 * cookie is told apart from a session the cache forgot (session may be NULL). */
void olo_session_end(olo_req_t *req, const olo_session_t *session);
/** Authenticates the request: OK with r->user set, OK for `pass`, or DONE with a response. */
int olo_request_authenticate(olo_req_t *req);

/* mod_onelogin_oidc_login.c: what talking to the provider needs, off the hot path */
void olo_req_prepare_flow(olo_req_t *req);
/** True when a provider failure remembered in the cache turned this request away: its log
 * line was written when the failure happened (OLO00063). */
int olo_req_failure_remembered(request_rec *r);
/** An absolute URL for a configured path-or-URL, from the scheme and name httpd uses. */
const char *olo_req_absolute(request_rec *r, const char *path_or_url);
int olo_is_browser(request_rec *r);
void olo_set_cookie(olo_req_t *req, const char *name, const char *value, long max_age);
/** Sets the sealed session (split into chunks when large), or deletes it with NULL, removing
 * chunks the browser holds that are no longer used. APR_ENOSPC when it cannot fit. */
apr_status_t olo_set_session_cookie(olo_req_t *req, const char *sealed);
int olo_send(request_rec *r, int status, const char *content_type, const char *body);
int olo_send_error(olo_req_t *req, int status, olo_reason_t reason);
int olo_send_redirect(request_rec *r, const char *location);
/** A login for browsers, 401 with the reason for scripts (what a request without session gets). */
int olo_unauthenticated(olo_req_t *req, olo_reason_t reason);
int olo_handle_login_path(olo_req_t *req);
/** True when the request is a callback for a login this browser started with the module. */
int olo_callback_is_ours(olo_req_t *req);
int olo_handle_callback(olo_req_t *req);
int olo_handle_logout(olo_req_t *req, const olo_session_t *session);

/* mod_onelogin_oidc_status.c: counters shared by every child, the onelogin-status handler,
 * and the request id on the module's log lines */
/** Makes the counters, zeroed, in the parent (post_config); children inherit them at fork. */
void olo_status_post_config(apr_pool_t *pconf, server_rec *s);
/** `SetHandler onelogin-status`: the counters as Prometheus text, GET only. */
int olo_status_handler(request_rec *r);
/** One more in a counter: an atomic increment in shared memory, nothing else. */
void olo_stats_count(olo_stat_t stat);
void olo_stats_count_reason(olo_stat_reasoned_t family, olo_reason_t reason);
/** A cache look-up: hit (APR_SUCCESS), miss (APR_NOTFOUND) or error. */
void olo_stats_count_lookup(apr_status_t rv);
/** olo_provider_t's observer: counts fetches from the provider. */
olo_provider_notify_fn olo_stats_provider_event;

/**
 * ap_log_rerror for the module's request lines, with the same arguments. The line ends with
 * `[unique_id ID]` when mod_unique_id gave the request an id: httpd's default error log format
 * shows no request id (an ErrorLogFormat with %L does; the id then appears twice).
 */
#define olo_log_rerror(...) olo_log_rerror__(__VA_ARGS__)
#define olo_log_rerror__(file, line, mi, level, status, r, ...)                                    \
    do {                                                                                           \
        if (APLOG_R_MODULE_IS_LEVEL(r, mi, level)) {                                               \
            olo_log_rerror_(file, line, mi, level, status, r, __VA_ARGS__);                        \
        }                                                                                          \
    } while (0)
void olo_log_rerror_(const char *file, int line, int module_index, int level, apr_status_t status,
                     const request_rec *r, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

#endif
