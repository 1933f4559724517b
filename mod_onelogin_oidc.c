/*
 * mod_onelogin_oidc: OpenID Connect login with OneLogin (authorization code + PKCE) for any
 * Location. This file is httpd glue only: directives, hooks, and
 * turning the outcomes of auth/ into responses and log lines. The logic lives in auth/ and
 * jwt/, which build and are tested without httpd.
 */
#include <string.h>

#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include <ap_provider.h>
#include <mod_auth.h>
#include <ap_socache.h>
#include <util_cfgtree.h>
#include <util_mutex.h>
#include <apr_strings.h>

#include "auth/olo_config.h"
#include "auth/olo_cookie.h"
#include "auth/olo_login.h"
#include "auth/olo_page.h"
#include "auth/olo_rand.h"
#include "auth/olo_url.h"
#include "jwt/olo_claims.h"
#include "jwt/olo_jws.h"
#include "jwt/olo_seal.h"
#include "mod_onelogin_oidc_cache.h"


#define OLO_AUTH_TYPE "OneLogin"
#define OLO_HTTP_MAX_BYTES (512 * 1024)

module AP_MODULE_DECLARE_DATA onelogin_oidc_module;


/* What a server derives from its configuration once, at startup. */
typedef struct olo_runtime_t {
    olo_seal_key_t *state_key;
    olo_seal_key_t *session_key;
    olo_socache_t *socache;
    olo_http_curl_opts_t http_opts;
    olo_http_t http;
    const char *redirect_path;
} olo_runtime_t;


/* ------------------------------------------------------------------------------------------
 * Configuration
 */

static void *olo_create_server_conf(apr_pool_t *p, server_rec *s)
{
    return olo_config_server_create(p);
}

static void *olo_merge_server_conf(apr_pool_t *p, void *base, void *add)
{
    return olo_config_server_merge(p, base, add);
}

static void *olo_create_dir_conf(apr_pool_t *p, char *dir)
{
    return olo_config_dir_create(p);
}

static void *olo_merge_dir_conf(apr_pool_t *p, void *base, void *add)
{
    return olo_config_dir_merge(p, base, add);
}

static olo_server_conf_t *olo_sconf(server_rec *s)
{
    return ap_get_module_config(s->module_config, &onelogin_oidc_module);
}

/* A setter's message names its directive, so `apachectl -t` says what to fix. */
static const char *olo_cmd_error(cmd_parms *cmd, const char *problem)
{
    return problem ? apr_pstrcat(cmd->pool, cmd->cmd->name, ": ", problem, NULL) : NULL;
}

static const char *olo_set_issuer(cmd_parms *cmd, void *dc, const char *value)
{
    olo_sconf(cmd->server)->issuer = value;
    return olo_cmd_error(cmd, olo_config_check_issuer(cmd->pool, value));
}

static const char *olo_set_string(cmd_parms *cmd, void *dc, const char *value)
{
    int offset = (int)(apr_uintptr_t)cmd->info;
    *(const char **)((char *)olo_sconf(cmd->server) + offset) = value;
    return NULL;
}

static const char *olo_set_path(cmd_parms *cmd, void *dc, const char *value)
{
    olo_set_string(cmd, dc, value);
    return olo_cmd_error(cmd, olo_config_check_path(cmd->pool, value));
}

static const char *olo_set_redirect_uri(cmd_parms *cmd, void *dc, const char *value)
{
    olo_sconf(cmd->server)->redirect_uri = value;
    return olo_cmd_error(cmd, olo_config_check_redirect_uri(cmd->pool, value));
}

static const char *olo_set_secret(cmd_parms *cmd, void *dc, const char *value)
{
    olo_sconf(cmd->server)->session_secret = value;
    return olo_cmd_error(cmd, olo_config_check_secret(cmd->pool, value));
}

static const char *olo_set_file(cmd_parms *cmd, void *dc, const char *value)
{
    const char *path = ap_server_root_relative(cmd->pool, value);
    apr_finfo_t finfo;
    if (!path || apr_stat(&finfo, path, APR_FINFO_TYPE, cmd->pool) != APR_SUCCESS
        || finfo.filetype != APR_REG) {
        return olo_cmd_error(cmd, apr_psprintf(cmd->pool, "'%s' is not a readable file", value));
    }
    olo_sconf(cmd->server)->ca_file = path;
    return NULL;
}

static const char *olo_set_seconds(cmd_parms *cmd, void *dc, const char *value)
{
    int offset = (int)(apr_uintptr_t)cmd->info;
    int *field = (int *)((char *)olo_sconf(cmd->server) + offset);
    return olo_cmd_error(cmd, olo_config_parse_seconds(field, cmd->pool, value, 1, 31536000));
}

static const char *olo_set_flag(cmd_parms *cmd, void *dc, int on)
{
    olo_sconf(cmd->server)->cookie_secure = on;
    return NULL;
}

static const char *olo_set_http_timeout(cmd_parms *cmd, void *dc, const char *connect,
                                        const char *total)
{
    olo_server_conf_t *conf = olo_sconf(cmd->server);
    const char *problem = olo_config_parse_seconds(&conf->connect_timeout, cmd->pool, connect, 1, 60);
    if (!problem && total) {
        problem = olo_config_parse_seconds(&conf->http_timeout, cmd->pool, total, 1, 120);
    }
    if (!problem && total && conf->connect_timeout > conf->http_timeout) {
        problem = "the connect timeout must not exceed the total timeout";
    }
    return olo_cmd_error(cmd, problem);
}

static const char *olo_set_cache(cmd_parms *cmd, void *dc, const char *value)
{
    const ap_socache_provider_t *provider = NULL;
    const char *args = NULL;
    olo_sconf(cmd->server)->cache = value;
    return olo_cmd_error(cmd, olo_socache_lookup(&provider, &args, cmd->pool, value));
}

static const char *olo_set_unauth(cmd_parms *cmd, void *dc, const char *value)
{
    static const char *const names[] = {"auto", "redirect", "401", "pass", NULL};
    olo_dir_conf_t *conf = dc;
    for (int i = 0; names[i]; i++) {
        if (!strcasecmp(value, names[i])) {
            conf->unauth_action = i;
            return NULL;
        }
    }
    return olo_cmd_error(cmd, apr_psprintf(cmd->pool, "'%s' is not auto, redirect, 401 or pass",
                                           value));
}

static const char *olo_set_forward(cmd_parms *cmd, void *dc, int on)
{
    ((olo_dir_conf_t *)dc)->forward_id_token = on;
    return NULL;
}

#define OLO_FIELD(f) (void *)APR_OFFSETOF(olo_server_conf_t, f)

static const command_rec olo_directives[] = {
    AP_INIT_TAKE1("OneLoginIssuer", olo_set_issuer, NULL, RSRC_CONF,
                  "the OneLogin issuer URL, e.g. https://example.onelogin.com/oidc/2"),
    AP_INIT_TAKE1("OneLoginClientID", olo_set_string, OLO_FIELD(client_id), RSRC_CONF,
                  "the OneLogin app's Client ID"),
    AP_INIT_TAKE1("OneLoginClientSecret", olo_set_string, OLO_FIELD(client_secret), RSRC_CONF,
                  "client secret; leave unset for a public client (None (PKCE))"),
    AP_INIT_TAKE1("OneLoginRedirectURI", olo_set_redirect_uri, NULL, RSRC_CONF,
                  "the callback path or URL handled by the module (default /callback)"),
    AP_INIT_TAKE1("OneLoginLoginPath", olo_set_path, OLO_FIELD(login_path), RSRC_CONF,
                  "a path that starts a login (default /signin)"),
    AP_INIT_TAKE1("OneLoginLogoutPath", olo_set_path, OLO_FIELD(logout_path), RSRC_CONF,
                  "a path that ends the session (default /logout)"),
    AP_INIT_TAKE1("OneLoginSessionSecret", olo_set_secret, NULL, RSRC_CONF,
                  "at least 32 bytes of key material for the session and state cookies"),
    AP_INIT_TAKE1("OneLoginScope", olo_set_string, OLO_FIELD(scope), RSRC_CONF,
                  "scopes to request (default \"openid email profile\")"),
    AP_INIT_TAKE1("OneLoginRemoteUserClaim", olo_set_string, OLO_FIELD(user_claim), RSRC_CONF,
                  "the ID token claim that becomes REMOTE_USER (default email)"),
    AP_INIT_TAKE1("OneLoginCACertificate", olo_set_file, NULL, RSRC_CONF,
                  "CA bundle for TLS to the provider (default: the system store)"),
    AP_INIT_TAKE1("OneLoginSessionMaxAge", olo_set_seconds, OLO_FIELD(session_max_age), RSRC_CONF,
                  "seconds a login lasts (default 28800)"),
    AP_INIT_TAKE1("OneLoginSessionIdleTimeout", olo_set_seconds, OLO_FIELD(idle_timeout),
                  RSRC_CONF, "seconds of inactivity that end a session (default 3600)"),
    AP_INIT_FLAG("OneLoginCookieSecure", olo_set_flag, NULL, RSRC_CONF,
                 "mark cookies Secure (default On)"),
    AP_INIT_TAKE1("OneLoginCache", olo_set_cache, NULL, RSRC_CONF,
                  "mod_socache provider[:args] for shared state (default shmcb)"),
    AP_INIT_TAKE12("OneLoginHTTPTimeout", olo_set_http_timeout, NULL, RSRC_CONF,
                   "connect and total timeout in seconds for calls to the provider (default 2 5)"),
    AP_INIT_TAKE1("OneLoginClockSkew", olo_set_seconds, OLO_FIELD(clock_skew), RSRC_CONF,
                  "seconds of clock difference tolerated in token times (default 60)"),
    AP_INIT_TAKE1("OneLoginMetadataTTL", olo_set_seconds, OLO_FIELD(metadata_ttl), RSRC_CONF,
                  "seconds provider metadata stays cached (default 3600)"),
    AP_INIT_TAKE1("OneLoginJWKSTTL", olo_set_seconds, OLO_FIELD(jwks_ttl), RSRC_CONF,
                  "seconds the provider's keys stay cached (default 3600)"),
    AP_INIT_TAKE1("OneLoginJWKSRefetchInterval", olo_set_seconds, OLO_FIELD(jwks_refetch),
                  RSRC_CONF, "minimum seconds between key refetches on an unknown kid (default 30)"),
    AP_INIT_TAKE1("OneLoginUnauthAction", olo_set_unauth, NULL, OR_AUTHCFG,
                  "what a request without a session gets: auto, redirect, 401 or pass"),
    AP_INIT_FLAG("OneLoginForwardIDToken", olo_set_forward, NULL, OR_AUTHCFG,
                 "send the session's ID token to the backend as Authorization: Bearer"),
    {NULL}
};

/* ------------------------------------------------------------------------------------------
 * Startup: configuration checks, shared cache, keys
 */

/* True when an `AuthType OneLogin` appears below node (not descending into vhosts). */
static int olo_tree_uses_authtype(const ap_directive_t *node)
{
    for (; node; node = node->next) {
        if (!strcasecmp(node->directive, "<VirtualHost")) {
            continue;
        }
        if (!strcasecmp(node->directive, "AuthType") && node->args
            && !strcasecmp(node->args, OLO_AUTH_TYPE)) {
            return 1;
        }
        if (olo_tree_uses_authtype(node->first_child)) {
            return 1;
        }
    }
    return 0;
}

/* True when s, a virtual host, has an `AuthType OneLogin` in its own <VirtualHost> block. */
static int olo_vhost_uses_authtype(server_rec *s)
{
    for (const ap_directive_t *node = ap_conftree; node; node = node->next) {
        if (!strcasecmp(node->directive, "<VirtualHost") && (unsigned)node->line_num == s->defn_line_number
            && s->defn_name && node->filename && !strcmp(node->filename, s->defn_name)) {
            return olo_tree_uses_authtype(node->first_child);
        }
    }
    return 0;
}

/* Checks one server and derives its runtime; a message naming the directive on failure. */
static const char *olo_server_prepare(apr_pool_t *p, apr_pool_t *ptemp, server_rec *s,
                                      int uses_authtype)
{
    olo_server_conf_t *conf = olo_sconf(s);
    if (!olo_config_server_is_used(conf) && !uses_authtype) {
        return NULL;
    }
    const char *problem = olo_config_server_problem(p, conf);
    if (problem) {
        return problem;
    }
    olo_config_server_defaults(conf);
    olo_runtime_t *rt = apr_pcalloc(p, sizeof(*rt));
    if (olo_seal_key_derive(&rt->state_key, p, conf->session_secret,
                            strlen(conf->session_secret), "state") != APR_SUCCESS
        || olo_seal_key_derive(&rt->session_key, p, conf->session_secret,
                               strlen(conf->session_secret), "session") != APR_SUCCESS) {
        return "OneLoginSessionSecret: could not derive cookie keys";
    }
    rt->http_opts.ca_file = conf->ca_file;
    rt->http_opts.connect_timeout = apr_time_from_sec(conf->connect_timeout);
    rt->http_opts.timeout = apr_time_from_sec(conf->http_timeout);
    rt->http_opts.max_bytes = OLO_HTTP_MAX_BYTES;
    rt->http.fetch = olo_http_curl_fetch;
    rt->http.baton = &rt->http_opts;
    rt->redirect_path = olo_config_redirect_path(p, conf->redirect_uri);
    conf->runtime = rt;
    return olo_socache_get(&rt->socache, p, ptemp, s, conf->cache);
}

/* Runs before `apachectl -t` reports "Syntax OK", so an incomplete setup fails the test. */
static int olo_check_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                            server_rec *main_s)
{
    int main_uses = olo_tree_uses_authtype(ap_conftree);
    olo_socache_reset(pconf);
    for (server_rec *s = main_s; s; s = s->next) {
        int uses = main_uses || (s != main_s && olo_vhost_uses_authtype(s));
        const char *problem = olo_server_prepare(pconf, ptemp, s, uses);
        if (problem) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, OLO_LOGNO(00001)
                         "%s (server %s, defined at %s:%d)", problem,
                         s->server_hostname ? s->server_hostname : "(main)",
                         s->defn_name ? s->defn_name : "?", s->defn_line_number);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    return OK;
}

static int olo_pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp)
{
    return olo_socache_pre_config(pconf);
}

static int olo_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                           server_rec *s)
{
    if (olo_http_curl_global_init() != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, OLO_LOGNO(00002) "libcurl failed to start");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return olo_socache_post_config(pconf, ptemp, s);
}

static void olo_child_init(apr_pool_t *p, server_rec *s)
{
    olo_socache_child_init(p, s);
}

/* ------------------------------------------------------------------------------------------
 * Per-request context
 */

typedef struct olo_req_t {
    request_rec *r;
    olo_server_conf_t *conf;
    olo_dir_conf_t *dconf;
    olo_runtime_t *rt;
    olo_cache_t cache;
    olo_socache_baton_t cache_baton;
    olo_provider_t prov;
    olo_client_t client;
    const char *cookies;        /* the Cookie header */
} olo_req_t;

static const char *olo_redirect_uri(request_rec *r, const olo_server_conf_t *conf)
{
    /* A path becomes absolute from the scheme and name httpd uses for this server
     * (ServerName https://host behind a TLS-terminating balancer yields https://). */
    if (conf->redirect_uri[0] == '/') {
        return ap_construct_url(r->pool, conf->redirect_uri, r);
    }
    return conf->redirect_uri;
}

static olo_req_t *olo_req_make(request_rec *r, olo_server_conf_t *conf)
{
    olo_req_t *req = apr_pcalloc(r->pool, sizeof(*req));
    req->r = r;
    req->conf = conf;
    req->rt = conf->runtime;
    req->dconf = ap_get_module_config(r->per_dir_config, &onelogin_oidc_module);
    req->cookies = apr_table_get(r->headers_in, "Cookie");
    return req;
}

/* What talking to the provider needs; built only off the hot path (login, callback, logout). */
static void olo_req_prepare_flow(olo_req_t *req)
{
    request_rec *r = req->r;
    const olo_server_conf_t *conf = req->conf;
    olo_socache_bind(&req->cache, &req->cache_baton, req->rt->socache, r->server);
    req->prov = (olo_provider_t){conf->issuer, &req->rt->http, &req->cache,
                                 apr_time_from_sec(conf->metadata_ttl),
                                 apr_time_from_sec(conf->jwks_ttl),
                                 apr_time_from_sec(conf->jwks_refetch)};
    req->client = (olo_client_t){conf->client_id, conf->client_secret,
                                 olo_redirect_uri(r, conf), conf->scope, conf->user_claim,
                                 apr_time_from_sec(conf->clock_skew),
                                 apr_time_from_sec(conf->session_max_age)};
}

/* ------------------------------------------------------------------------------------------
 * Responses
 */

/* A browser navigation can follow a login redirect; a script cannot (it must see 401). */
static int olo_is_browser(request_rec *r)
{
    const char *accept = apr_table_get(r->headers_in, "Accept");
    const char *xrw = apr_table_get(r->headers_in, "X-Requested-With");
    return accept && ap_strstr_c(accept, "text/html") && !(xrw && *xrw);
}

static void olo_set_cookie(olo_req_t *req, const char *name, const char *value, long max_age)
{
    olo_cookie_attrs_t attrs = {req->conf->cookie_secure, 1, "Lax", "/", max_age};
    apr_table_add(req->r->err_headers_out, "Set-Cookie",
                  olo_cookie_format(req->r->pool, name, value, &attrs));
}

static int olo_send(request_rec *r, int status, const char *content_type, const char *body)
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
static int olo_send_error(olo_req_t *req, int status, olo_reason_t reason)
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
    if (olo_is_browser(r)) {
        return olo_send(r, status, "text/html; charset=utf-8",
                        olo_page_html(r->pool, status, reason, req->conf->login_path));
    }
    return olo_send(r, status, "application/json", olo_page_json(r->pool, reason));
}

static int olo_send_redirect(request_rec *r, const char *location)
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

/* Drops pending logins that are stale or beyond the cap before adding one more. */
static void olo_state_prune(olo_req_t *req)
{
    apr_array_header_t *stale = olo_state_stale(req->r->pool, req->rt->state_key, req->cookies,
                                                OLO_STATE_MAX_PENDING - 1, apr_time_now());
    for (int i = 0; i < stale->nelts; i++) {
        olo_set_cookie(req, APR_ARRAY_IDX(stale, i, const char *), "", 0);
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
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, OLO_LOGNO(00010)
                      "login cannot start: provider metadata unavailable (%s): %s",
                      olo_reason_name(out.reason), out.detail ? out.detail : "");
        return olo_send_error(req, olo_provider_status(out.reason), out.reason);
    }
    if (olo_state_new(&pending, r->pool, olo_rand_bytes, target, now) != APR_SUCCESS
        || olo_state_seal(&sealed, r->pool, req->rt->state_key, pending) != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, OLO_LOGNO(00011)
                      "login cannot start: could not create the state cookie");
        return olo_send(r, HTTP_INTERNAL_SERVER_ERROR, "text/plain", "internal error\n");
    }
    olo_state_prune(req);
    olo_set_cookie(req, olo_state_cookie_name(r->pool, pending->state), sealed,
                   OLO_STATE_TTL_SEC);
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, OLO_LOGNO(00012)
                  "login started, landing on %s after the provider", pending->target);
    return olo_send_redirect(r, olo_login_url(r->pool, md, &req->client, pending));
}

/* What a request without a session gets: a login for browsers, 401 for scripts. */
static int olo_unauthenticated(olo_req_t *req)
{
    request_rec *r = req->r;
    olo_unauth_t action = olo_config_dir_unauth(req->dconf);
    if (action == OLO_UNAUTH_PASS) {
        return OK;
    }
    if (action == OLO_UNAUTH_REDIRECT || (action == OLO_UNAUTH_AUTO && olo_is_browser(r))) {
        int local = (r->method_number == M_GET);
        return olo_login_begin(req, local ? olo_url_local_target(r->unparsed_uri) : "/");
    }
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, OLO_LOGNO(00013)
                  "no session: answering 401 to a non-browser request");
    return olo_send_error(req, HTTP_UNAUTHORIZED, OLO_R_LOGIN_REQUIRED);
}

static int olo_handle_login_path(olo_req_t *req)
{
    request_rec *r = req->r;
    const char *target = NULL;
    if (olo_url_query_get(&target, r->pool, r->args, "target") != APR_SUCCESS) {
        target = "/";
    }
    if (!olo_url_is_local_target(target)) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, OLO_LOGNO(00014)
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
    ap_log_rerror(APLOG_MARK, status >= 500 ? APLOG_ERR : APLOG_WARNING, 0, req->r, "%s (%s): %s",
                  logno_text, olo_reason_name(out->reason), out->detail ? out->detail : "");
    return olo_send_error(req, status, out->reason);
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
    default:
        return HTTP_UNAUTHORIZED;
    }
}

static int olo_handle_callback(olo_req_t *req)
{
    request_rec *r = req->r;
    olo_callback_params_t *params = NULL;
    olo_pending_t *pending = NULL;
    olo_session_t *session = NULL;
    olo_outcome_t out = {OLO_OK, NULL};
    const char *sealed = NULL;

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
        return olo_callback_refuse(req, olo_callback_status(out.reason), &out, OLO_LOGNO(00026)
                                   "login failed");
    }
    if (olo_session_seal(&sealed, r->pool, req->rt->session_key, session) != APR_SUCCESS) {
        out = (olo_outcome_t){OLO_R_COOKIE_INVALID, "session does not fit a cookie"};
        return olo_callback_refuse(req, HTTP_INTERNAL_SERVER_ERROR, &out, OLO_LOGNO(00027)
                                   "login failed: could not seal the session");
    }
    olo_set_cookie(req, OLO_SESSION_COOKIE, sealed, -1);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, OLO_LOGNO(00028) "login completed for %s",
                  session->user);
    return olo_send_redirect(r, pending->target);
}

/* ------------------------------------------------------------------------------------------
 * Logout
 */

static int olo_handle_logout(olo_req_t *req, const olo_session_t *session)
{
    request_rec *r = req->r;
    olo_metadata_t *md = NULL;
    olo_outcome_t out = {OLO_OK, NULL};
    olo_set_cookie(req, OLO_SESSION_COOKIE, "", 0);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, OLO_LOGNO(00029) "logout for %s",
                  session ? session->user : "(no session)");
    if (olo_provider_metadata(&md, &out, r->pool, &req->prov, apr_time_now()) == APR_SUCCESS
        && md->end_session_endpoint) {
        const char *url = olo_url_add_param(r->pool, md->end_session_endpoint, "client_id",
                                            req->conf->client_id);
        if (session && session->id_token) {
            url = olo_url_add_param(r->pool, url, "id_token_hint", session->id_token);
        }
        return olo_send_redirect(r, url);
    }
    return olo_send(r, HTTP_OK, "text/html; charset=utf-8",
                    "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                    "<title>Signed out</title></head><body><h1>You are signed out</h1>"
                    "</body></html>\n");
}

/* ------------------------------------------------------------------------------------------
 * Every request
 */

static olo_session_t *olo_session_current(olo_req_t *req)
{
    request_rec *r = req->r;
    olo_session_t *session = NULL;
    olo_reason_t reason = OLO_OK;
    const char *value = olo_cookie_get(r->pool, req->cookies, OLO_SESSION_COOKIE);
    if (!value || !*value) {
        return NULL;
    }
    if (olo_session_open(&session, &reason, r->pool, req->rt->session_key, value, apr_time_now())
        != APR_SUCCESS) {
        /* Tampered, foreign, made with an old secret or simply old: no session, log in anew. */
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, OLO_LOGNO(00030)
                      "session cookie not accepted (%s); treating as no session",
                      olo_reason_name(reason));
        return NULL;
    }
    return session;
}

static void olo_identity_set(olo_req_t *req, const olo_session_t *session)
{
    request_rec *r = req->r;
    const struct { const char *header, *env, *value; } fields[] = {
        {"X-OneLogin-User", "ONELOGIN_USER", session->user},
        {"X-OneLogin-Email", "ONELOGIN_EMAIL", session->email},
        {"X-OneLogin-Name", "ONELOGIN_NAME", session->name},
        {"X-OneLogin-Groups", "ONELOGIN_GROUPS", session->groups},
    };
    r->user = apr_pstrdup(r->pool, session->user);
    r->ap_auth_type = OLO_AUTH_TYPE;
    ap_set_module_config(r->request_config, &onelogin_oidc_module, (void *)session);
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        /* Claims are data from the provider: a CR or LF must never split a header. */
        if (fields[i].value && !strpbrk(fields[i].value, "\r\n")) {
            apr_table_setn(r->headers_in, fields[i].header, fields[i].value);
            apr_table_setn(r->subprocess_env, fields[i].env, fields[i].value);
        }
    }
    if (req->cookies) {
        static const char *const own[] = {OLO_SESSION_COOKIE, OLO_STATE_COOKIE_PREFIX, NULL};
        const char *rest = olo_cookie_without(r->pool, req->cookies, own);
        if (rest) {
            apr_table_setn(r->headers_in, "Cookie", rest);
        }
        else {
            apr_table_unset(r->headers_in, "Cookie");
        }
    }
    if (session->id_token && olo_config_dir_forward_id_token(req->dconf)) {
        apr_table_setn(r->headers_in, "Authorization",
                       apr_pstrcat(r->pool, "Bearer ", session->id_token, NULL));
    }
}

static int olo_path_is(const request_rec *r, const char *path)
{
    return r->parsed_uri.path && !strcmp(r->parsed_uri.path, path);
}

static int olo_is_module_path(const request_rec *r, const olo_req_t *req)
{
    return olo_path_is(r, req->rt->redirect_path) || olo_path_is(r, req->conf->login_path)
           || olo_path_is(r, req->conf->logout_path);
}

/* Authentication for `AuthType OneLogin`. Runs for every request of such a location, so the
 * common case (a valid session cookie) does no I/O: one cookie decrypt and a small parse. */
static int olo_check_user_id(request_rec *r)
{
    const char *type = ap_auth_type(r);
    if (!type || strcasecmp(type, OLO_AUTH_TYPE)) {
        return DECLINED;
    }
    /* Subrequests and internal redirects inherit the identity of the request they serve. */
    request_rec *initial = r->main ? r->main : r->prev;
    if (initial && initial->user) {
        r->user = initial->user;
        r->ap_auth_type = initial->ap_auth_type;
        return OK;
    }
    olo_server_conf_t *conf = olo_sconf(r->server);
    if (!conf->runtime) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, OLO_LOGNO(00031)
                      "AuthType OneLogin is used but this server has no OneLoginIssuer, "
                      "OneLoginClientID and OneLoginSessionSecret");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    olo_req_t *req = olo_req_make(r, conf);
    olo_session_t *session = olo_session_current(req);
    if (session && !olo_is_module_path(r, req)) {
        olo_identity_set(req, session);
        return OK;
    }
    olo_req_prepare_flow(req);
    if (olo_path_is(r, req->rt->redirect_path)) {
        return olo_handle_callback(req);
    }
    if (olo_path_is(r, conf->login_path)) {
        return olo_handle_login_path(req);
    }
    if (olo_path_is(r, conf->logout_path)) {
        return olo_handle_logout(req, session);
    }
    return olo_unauthenticated(req);
}

/* Identity headers come only from this module: a client must not be able to send its own. */
static int olo_strip_header(void *rec, const char *key, const char *value)
{
    apr_array_header_t *names = rec;
    if (!strncasecmp(key, "X-OneLogin-", 11) || !strcasecmp(key, "X-Auth-Params-Email")) {
        APR_ARRAY_PUSH(names, const char *) = key;
    }
    return 1;
}

static int olo_post_read_request(request_rec *r)
{
    if (!olo_sconf(r->server)->runtime) {
        return DECLINED;
    }
    apr_array_header_t *names = apr_array_make(r->pool, 2, sizeof(const char *));
    apr_table_do(olo_strip_header, names, r->headers_in, NULL);
    for (int i = 0; i < names->nelts; i++) {
        apr_table_unset(r->headers_in, APR_ARRAY_IDX(names, i, const char *));
    }
    return DECLINED;
}

/* ------------------------------------------------------------------------------------------
 * Authorization: Require onelogin-claim NAME:VALUE
 */

/* The session's claims, decoded from its ID token (verified at login, then kept sealed). */
static json_t *olo_authz_claims(request_rec *r)
{
    request_rec *initial = r;
    while (initial->main || initial->prev) {
        initial = initial->main ? initial->main : initial->prev;
    }
    const olo_session_t *session = ap_get_module_config(r->request_config, &onelogin_oidc_module);
    if (!session) {
        session = ap_get_module_config(initial->request_config, &onelogin_oidc_module);
    }
    json_t *claims = NULL;
    if (session && session->id_token) {
        olo_jws_peek_claims(&claims, r->pool, session->id_token);
    }
    return claims;
}

static const char *olo_authz_parse(cmd_parms *cmd, const char *require_line,
                                   const void **parsed)
{
    const char *colon = ap_strchr_c(require_line, ':');
    if (!colon || colon == require_line || !colon[1] || ap_strchr_c(require_line, ' ')) {
        return apr_psprintf(cmd->pool, "Require onelogin-claim: '%s' is not NAME:VALUE",
                            require_line);
    }
    *parsed = require_line;
    /* A logged-in user who lacks the claim must see 403, not the 401 mod_authz_core sends by
     * default (which a single-page app reads as "log in again"): switch the section to
     * AuthzSendForbiddenOnFailure, as an operator would by hand. */
    ap_directive_t forbid = {.directive = "AuthzSendForbiddenOnFailure", .args = "On"};
    forbid.filename = cmd->directive ? cmd->directive->filename : NULL;
    forbid.line_num = cmd->directive ? cmd->directive->line_num : 0;
    return ap_walk_config(&forbid, cmd, cmd->context);
}

static authz_status olo_authz_claim(request_rec *r, const char *require_line, const void *parsed)
{
    if (!r->user) {
        return AUTHZ_DENIED_NO_USER;
    }
    const char *colon = ap_strchr_c(require_line, ':');
    const char *name = apr_pstrmemdup(r->pool, require_line, colon - require_line);
    json_t *claims = olo_authz_claims(r);
    if (claims && olo_claims_match(claims, name, colon + 1)) {
        return AUTHZ_GRANTED;
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, OLO_LOGNO(00032)
                  "%s is logged in but has no claim %s matching the Require line", r->user, name);
    return AUTHZ_DENIED;
}

static const authz_provider olo_authz_claim_provider = {olo_authz_claim, olo_authz_parse};

static void olo_register_hooks(apr_pool_t *p)
{
    /* pre_config: the cache mutex type must exist before directives can name it. */
    ap_hook_pre_config(olo_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    /* check_config: runs under `apachectl -t`, so incomplete setups fail the syntax check. */
    ap_hook_check_config(olo_check_config, NULL, NULL, APR_HOOK_MIDDLE);
    /* post_config: shared caches are initialised once in the parent, before children fork. */
    ap_hook_post_config(olo_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(olo_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    /* post_read_request: strip forged identity headers before any module can read them. */
    ap_hook_post_read_request(olo_post_read_request, NULL, NULL, APR_HOOK_REALLY_FIRST);
    /* check_user_id (authn): the AuthType decides; authorization (Require) follows in core. */
    ap_hook_check_authn(olo_check_user_id, NULL, NULL, APR_HOOK_MIDDLE, AP_AUTH_INTERNAL_PER_CONF);
    /* an authz provider: composes with RequireAll / RequireAny like any Require line */
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "onelogin-claim", AUTHZ_PROVIDER_VERSION,
                              &olo_authz_claim_provider, AP_AUTH_INTERNAL_PER_CONF);
}

AP_DECLARE_MODULE(onelogin_oidc) = {
    STANDARD20_MODULE_STUFF,
    olo_create_dir_conf,
    olo_merge_dir_conf,
    olo_create_server_conf,
    olo_merge_server_conf,
    olo_directives,
    olo_register_hooks,
    AP_MODULE_FLAG_NONE
};
