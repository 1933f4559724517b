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
#include <mod_core.h>
#include <ap_socache.h>
#include <util_cfgtree.h>
#include <util_mutex.h>
#include <apr_strings.h>

#include "mod_onelogin_oidc.h"
#include "auth/olo_header.h"
#include "auth/olo_page.h"
#include "auth/olo_url.h"
#include "jwt/olo_claims.h"
#include "jwt/olo_jws.h"
#include "jwt/olo_seal.h"


#define OLO_HTTP_MAX_BYTES (512 * 1024)
/* Opened sessions remembered per child: 512 browsers' cookies, at most about 2 MB. */
#define OLO_MEMO_SLOTS 512





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
    olo_set_string(cmd, dc, value);
    return olo_cmd_error(cmd, olo_config_check_redirect_uri(cmd->pool, value));
}

static const char *olo_set_secret(cmd_parms *cmd, void *dc, const char *value)
{
    olo_set_string(cmd, dc, value);
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

static const char *olo_set_user_claims(cmd_parms *cmd, void *dc, const char *args)
{
    return olo_cmd_error(cmd, olo_config_parse_claims(&olo_sconf(cmd->server)->user_claims,
                                                      cmd->pool, args));
}

static const char *olo_set_store(cmd_parms *cmd, void *dc, const char *value)
{
    return olo_cmd_error(cmd, olo_config_parse_store(&olo_sconf(cmd->server)->session_store,
                                                     cmd->pool, value));
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

static const char *olo_set_dir_flag(cmd_parms *cmd, void *dc, int on)
{
    int offset = (int)(apr_uintptr_t)cmd->info;
    *(int *)((char *)dc + offset) = on;
    return NULL;
}

/* Appends one value of an ITERATE directive to the directory's list. */
static const char *olo_set_dir_list(cmd_parms *cmd, void *dc, const char *value)
{
    int offset = (int)(apr_uintptr_t)cmd->info;
    apr_array_header_t **plist = (apr_array_header_t **)((char *)dc + offset);
    if (!*plist) {
        *plist = apr_array_make(cmd->pool, 2, sizeof(const char *));
    }
    APR_ARRAY_PUSH(*plist, const char *) = value;
    return NULL;
}

static const char *olo_set_bearer_jwks(cmd_parms *cmd, void *dc, const char *value)
{
    /* Fetched with the provider's client: verified TLS only. */
    if (olo_url_check_https(value) != APR_SUCCESS) {
        return olo_cmd_error(cmd, apr_psprintf(cmd->pool, "'%s' is not an https:// URL", value));
    }
    return olo_set_dir_list(cmd, dc, value);
}

#define OLO_FIELD(f) (void *)APR_OFFSETOF(olo_server_conf_t, f)
#define OLO_DIR_FIELD(f) (void *)APR_OFFSETOF(olo_dir_conf_t, f)

static const command_rec olo_directives[] = {
    AP_INIT_TAKE1("OneLoginIssuer", olo_set_issuer, NULL, RSRC_CONF,
                  "the OneLogin issuer URL, e.g. https://example.onelogin.com/oidc/2"),
    AP_INIT_TAKE1("OneLoginClientID", olo_set_string, OLO_FIELD(client_id), RSRC_CONF,
                  "the OneLogin app's Client ID"),
    AP_INIT_TAKE1("OneLoginClientSecret", olo_set_string, OLO_FIELD(client_secret), RSRC_CONF,
                  "client secret; leave unset for a public client (None (PKCE))"),
    AP_INIT_TAKE1("OneLoginRedirectURI", olo_set_redirect_uri, OLO_FIELD(redirect_uri), RSRC_CONF,
                  "the callback path or URL handled by the module (default /callback)"),
    AP_INIT_TAKE1("OneLoginLoginPath", olo_set_path, OLO_FIELD(login_path), RSRC_CONF,
                  "a path that starts a login (default /signin)"),
    AP_INIT_TAKE1("OneLoginLogoutPath", olo_set_path, OLO_FIELD(logout_path), RSRC_CONF,
                  "a path that ends the session (default /logout)"),
    AP_INIT_TAKE1("OneLoginSessionSecret", olo_set_secret, OLO_FIELD(session_secret), RSRC_CONF,
                  "at least 32 bytes of key material for the session and state cookies"),
    AP_INIT_TAKE1("OneLoginSessionSecretPrevious", olo_set_secret,
                  OLO_FIELD(session_secret_previous), RSRC_CONF,
                  "the secret being replaced: its cookies are still accepted during a rotation"),
    AP_INIT_TAKE1("OneLoginScope", olo_set_string, OLO_FIELD(scope), RSRC_CONF,
                  "scopes to request (default \"openid email profile\")"),
    AP_INIT_RAW_ARGS("OneLoginRemoteUserClaim", olo_set_user_claims, NULL, RSRC_CONF,
                     "claims in order; the first present one becomes REMOTE_USER (default "
                     "email preferred_username sub)"),
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
    AP_INIT_TAKE1("OneLoginSessionStore", olo_set_store, NULL, RSRC_CONF,
                  "where sessions live: cookie (default) or server (in OneLoginCache)"),
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
    AP_INIT_TAKE1("OneLoginPostLogoutURI", olo_set_redirect_uri, OLO_FIELD(post_logout_uri),
                  RSRC_CONF, "where the provider sends the browser after logout (default /)"),
    AP_INIT_TAKE1("OneLoginRefreshMargin", olo_set_seconds, OLO_FIELD(refresh_margin), RSRC_CONF,
                  "seconds before the ID token expires that it is renewed (default 60)"),
    AP_INIT_FLAG("OneLoginForwardIDToken", olo_set_dir_flag, OLO_DIR_FIELD(forward_id_token),
                 OR_AUTHCFG, "send the session's ID token to the backend as Authorization: Bearer"),
    AP_INIT_FLAG("OneLoginAcceptBearer", olo_set_dir_flag, OLO_DIR_FIELD(accept_bearer),
                 OR_AUTHCFG, "accept requests carrying a trusted Authorization: Bearer JWT"),
    AP_INIT_ITERATE("OneLoginBearerJWKS", olo_set_bearer_jwks, OLO_DIR_FIELD(bearer_jwks),
                    OR_AUTHCFG, "extra https JWKS URLs trusted for bearer tokens"),
    AP_INIT_ITERATE("OneLoginBearerIssuer", olo_set_dir_list, OLO_DIR_FIELD(bearer_issuers),
                    OR_AUTHCFG, "iss values accepted from OneLoginBearerJWKS keys (default any)"),
    AP_INIT_ITERATE("OneLoginBearerAudience", olo_set_dir_list, OLO_DIR_FIELD(bearer_audiences),
                    OR_AUTHCFG, "aud values one of which OneLoginBearerJWKS tokens must carry"),
    AP_INIT_FLAG("OneLoginBearerRequireExp", olo_set_dir_flag,
                 OLO_DIR_FIELD(bearer_require_exp), OR_AUTHCFG,
                 "refuse OneLoginBearerJWKS tokens without exp (default On)"),
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

/* The key for purpose in this app (issuer and client id), opening values of the previous
 * secret too while one is configured. */
static apr_status_t olo_server_keys(olo_seal_key_t **pkey, apr_pool_t *p,
                                    const olo_server_conf_t *conf, const char *name)
{
    olo_seal_key_t *older = NULL;
    const char *prev = conf->session_secret_previous;
    const char *purpose = olo_config_key_purpose(p, name, conf->issuer, conf->client_id);
    apr_status_t rv = olo_seal_key_derive(pkey, p, conf->session_secret,
                                          strlen(conf->session_secret), purpose);
    if (rv == APR_SUCCESS && prev) {
        rv = olo_seal_key_derive(&older, p, prev, strlen(prev), purpose);
        if (rv == APR_SUCCESS) {
            olo_seal_key_accept_older(*pkey, older);
        }
    }
    return rv;
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
    if (olo_server_keys(&rt->state_key, p, conf, "state") != APR_SUCCESS
        || olo_server_keys(&rt->session_key, p, conf, "session") != APR_SUCCESS) {
        return "OneLoginSessionSecret: could not derive cookie keys";
    }
    if (olo_memo_create(&rt->memo, p, OLO_MEMO_SLOTS) != APR_SUCCESS
        || olo_memo_create(&rt->handle_memo, p, OLO_MEMO_SLOTS) != APR_SUCCESS) {
        return "could not create the session memo";
    }
    rt->http_opts.ca_file = conf->ca_file;
    rt->http_opts.connect_timeout = apr_time_from_sec(conf->connect_timeout);
    rt->http_opts.timeout = apr_time_from_sec(conf->http_timeout);
    rt->http_opts.max_bytes = OLO_HTTP_MAX_BYTES;
    rt->http.fetch = olo_http_curl_fetch;
    rt->http.baton = &rt->http_opts;
    rt->redirect_path = olo_config_redirect_path(p, conf->redirect_uri);
    conf->runtime = rt;
    return olo_socache_get(&rt->socache, p, ptemp, s, conf->cache,
                           conf->session_store == OLO_STORE_SERVER);
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
    olo_status_post_config(pconf, s);
    return olo_socache_post_config(pconf, ptemp, s);
}

static void olo_child_init(apr_pool_t *p, server_rec *s)
{
    olo_socache_child_init(p, s);
}

/* Authentication for `AuthType OneLogin`. Runs for every request of such a location, so the
 * common case (a valid session cookie) does no I/O but one cache look-up. */
static int olo_check_user_id(request_rec *r)
{
    const char *type = ap_auth_type(r);
    if (!type || strcasecmp(type, OLO_AUTH_TYPE)) {
        return DECLINED;
    }
    /* Subrequests and internal redirects inherit the session of the request they serve. Any
     * other identity (`pass`'s empty user, another module's user, a bearer token judged under
     * the first location's policy) is authenticated again by the new location. */
    request_rec *initial = r->main ? r->main : r->prev;
    const olo_session_t *inherited =
        initial ? ap_get_module_config(initial->request_config, &onelogin_oidc_module) : NULL;
    if (inherited && strcmp(inherited->id, OLO_BEARER_ID) && initial->user && *initial->user) {
        r->user = initial->user;
        r->ap_auth_type = initial->ap_auth_type;
        /* ...and its session, which `Require onelogin-claim` reads. */
        ap_set_module_config(r->request_config, &onelogin_oidc_module, (void *)inherited);
        return OK;
    }
    olo_server_conf_t *conf = olo_sconf(r->server);
    if (!conf->runtime) {
        olo_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, OLO_LOGNO(00031)
                       "AuthType OneLogin is used but this server has no OneLoginIssuer, "
                       "OneLoginClientID and OneLoginSessionSecret");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return olo_request_authenticate(olo_req_make(r, conf));
}

static int olo_post_read_request(request_rec *r)
{
    /* An internal redirect runs this hook again on the same headers: the client's were
     * removed when the request came in, and what is there now the module set. */
    if (!olo_sconf(r->server)->runtime || r->prev) {
        return DECLINED;
    }
    /* Every request passes here: a look at each header name, no allocation unless a client
     * sent one of ours (then the table is scanned again as it shrinks). */
    const apr_array_header_t *headers = apr_table_elts(r->headers_in);
    for (int i = 0; i < headers->nelts; i++) {
        const char *key = APR_ARRAY_IDX(headers, i, apr_table_entry_t).key;
        /* Identity headers come only from this module, in whatever spelling. */
        if (key && olo_header_is_reserved(key)) {
            apr_table_unset(r->headers_in, key);
            headers = apr_table_elts(r->headers_in);
            i = -1;
        }
    }
    return DECLINED;
}

/* ------------------------------------------------------------------------------------------
 * Authorization: Require onelogin-claim NAME:VALUE
 */

/* The session's claims, decoded from its ID token (verified at login, then kept sealed). */
static json_t *olo_authz_claims(request_rec *r)
{
    const olo_session_t *session = ap_get_module_config(r->request_config, &onelogin_oidc_module);
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
    olo_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, OLO_LOGNO(00032)
                   "%s is logged in but has no claim %s matching the Require line", r->user, name);
    /* Say "signed in, not allowed" rather than httpd's bare 403, unless ErrorDocument is set. */
    if (olo_is_browser(r) && !ap_response_code_string(r, ap_index_of_response(HTTP_FORBIDDEN))) {
        olo_server_conf_t *conf = olo_sconf(r->server);
        ap_custom_response(r, HTTP_FORBIDDEN,
                           olo_page_html(r->pool, HTTP_FORBIDDEN, OLO_R_NOT_ALLOWED,
                                         conf->logout_path));
    }
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
    /* handler: the counters page, only where an operator writes SetHandler onelogin-status */
    ap_hook_handler(olo_status_handler, NULL, NULL, APR_HOOK_MIDDLE);
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
