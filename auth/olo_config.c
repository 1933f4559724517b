/* Create, merge, defaults and value checks for the module's configuration. */
#include <stdlib.h>
#include <string.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <apr_uri.h>
#include "olo_config.h"
#include "olo_url.h"
#include "../jwt/olo_seal.h"

#define OLO_MERGE_STR(f) m->f = add->f ? add->f : base->f
#define OLO_MERGE_PTR(f) m->f = add->f ? add->f : base->f
#define OLO_MERGE_INT(f) m->f = (add->f != OLO_UNSET) ? add->f : base->f
#define OLO_DEFAULT_STR(f, v) if (!conf->f) conf->f = (v)
#define OLO_DEFAULT_INT(f, v) if (conf->f == OLO_UNSET) conf->f = (v)

olo_server_conf_t *olo_config_server_create(apr_pool_t *p)
{
    olo_server_conf_t *conf = apr_pcalloc(p, sizeof(*conf));
    conf->session_max_age = OLO_UNSET;
    conf->idle_timeout = OLO_UNSET;
    conf->cookie_secure = OLO_UNSET;
    conf->connect_timeout = OLO_UNSET;
    conf->http_timeout = OLO_UNSET;
    conf->clock_skew = OLO_UNSET;
    conf->metadata_ttl = OLO_UNSET;
    conf->jwks_ttl = OLO_UNSET;
    conf->jwks_refetch = OLO_UNSET;
    conf->refresh_margin = OLO_UNSET;
    conf->session_store = OLO_UNSET;
    return conf;
}

olo_server_conf_t *olo_config_server_merge(apr_pool_t *p, const olo_server_conf_t *base,
                                           const olo_server_conf_t *add)
{
    olo_server_conf_t *m = apr_pcalloc(p, sizeof(*m));
    OLO_MERGE_STR(issuer);
    OLO_MERGE_STR(client_id);
    OLO_MERGE_STR(client_secret);
    OLO_MERGE_STR(redirect_uri);
    OLO_MERGE_STR(login_path);
    OLO_MERGE_STR(logout_path);
    OLO_MERGE_STR(session_secret);
    OLO_MERGE_STR(session_secret_previous);
    OLO_MERGE_STR(scope);
    OLO_MERGE_PTR(user_claims);
    OLO_MERGE_STR(ca_file);
    OLO_MERGE_STR(cache);
    OLO_MERGE_STR(post_logout_uri);
    OLO_MERGE_INT(session_max_age);
    OLO_MERGE_INT(idle_timeout);
    OLO_MERGE_INT(cookie_secure);
    OLO_MERGE_INT(connect_timeout);
    OLO_MERGE_INT(http_timeout);
    OLO_MERGE_INT(clock_skew);
    OLO_MERGE_INT(metadata_ttl);
    OLO_MERGE_INT(jwks_ttl);
    OLO_MERGE_INT(jwks_refetch);
    OLO_MERGE_INT(refresh_margin);
    OLO_MERGE_INT(session_store);
    m->runtime = NULL;  /* derived per server after merging, never inherited */
    return m;
}

void olo_config_server_defaults(olo_server_conf_t *conf)
{
    OLO_DEFAULT_STR(redirect_uri, OLO_DEFAULT_REDIRECT_URI);
    OLO_DEFAULT_STR(login_path, OLO_DEFAULT_LOGIN_PATH);
    OLO_DEFAULT_STR(logout_path, OLO_DEFAULT_LOGOUT_PATH);
    OLO_DEFAULT_STR(scope, OLO_DEFAULT_SCOPE);
    OLO_DEFAULT_STR(user_claims, olo_default_user_claims);
    OLO_DEFAULT_STR(cache, OLO_DEFAULT_CACHE);
    OLO_DEFAULT_INT(session_max_age, OLO_DEFAULT_SESSION_MAX_AGE);
    OLO_DEFAULT_INT(idle_timeout, OLO_DEFAULT_IDLE_TIMEOUT);
    OLO_DEFAULT_INT(cookie_secure, 1);
    OLO_DEFAULT_INT(connect_timeout, OLO_DEFAULT_CONNECT_TIMEOUT);
    OLO_DEFAULT_INT(http_timeout, OLO_DEFAULT_HTTP_TIMEOUT);
    OLO_DEFAULT_INT(clock_skew, OLO_DEFAULT_CLOCK_SKEW);
    OLO_DEFAULT_INT(metadata_ttl, OLO_DEFAULT_METADATA_TTL);
    OLO_DEFAULT_INT(jwks_ttl, OLO_DEFAULT_JWKS_TTL);
    OLO_DEFAULT_INT(jwks_refetch, OLO_DEFAULT_JWKS_REFETCH);
    OLO_DEFAULT_INT(refresh_margin, OLO_DEFAULT_REFRESH_MARGIN);
    OLO_DEFAULT_STR(post_logout_uri, OLO_DEFAULT_POST_LOGOUT_URI);
    OLO_DEFAULT_INT(session_store, OLO_STORE_COOKIE);
}

int olo_config_server_is_used(const olo_server_conf_t *conf)
{
    return conf->issuer || conf->client_id || conf->session_secret || conf->client_secret;
}

const char *olo_config_server_problem(apr_pool_t *p, const olo_server_conf_t *conf)
{
    if (!conf->issuer) {
        return "OneLoginIssuer is required (the OneLogin issuer URL, e.g. "
               "https://example.onelogin.com/oidc/2)";
    }
    if (!conf->client_id) {
        return "OneLoginClientID is required (the Client ID from the OneLogin app's SSO tab)";
    }
    if (!conf->session_secret) {
        return "OneLoginSessionSecret is required (at least 32 bytes of random text)";
    }
    if (conf->http_timeout != OLO_UNSET && conf->connect_timeout != OLO_UNSET
        && conf->connect_timeout > conf->http_timeout) {
        return "OneLoginHTTPTimeout: the connect timeout exceeds the total timeout";
    }
    return NULL;
}

olo_dir_conf_t *olo_config_dir_create(apr_pool_t *p)
{
    olo_dir_conf_t *conf = apr_pcalloc(p, sizeof(*conf));
    conf->unauth_action = OLO_UNSET;
    conf->forward_id_token = OLO_UNSET;
    conf->accept_bearer = OLO_UNSET;
    conf->bearer_require_exp = OLO_UNSET;
    return conf;
}

olo_dir_conf_t *olo_config_dir_merge(apr_pool_t *p, const olo_dir_conf_t *base,
                                     const olo_dir_conf_t *add)
{
    olo_dir_conf_t *m = apr_pcalloc(p, sizeof(*m));
    OLO_MERGE_INT(unauth_action);
    OLO_MERGE_INT(forward_id_token);
    OLO_MERGE_INT(accept_bearer);
    OLO_MERGE_INT(bearer_require_exp);
    OLO_MERGE_PTR(bearer_jwks);
    OLO_MERGE_PTR(bearer_issuers);
    OLO_MERGE_PTR(bearer_audiences);
    return m;
}

olo_unauth_t olo_config_dir_unauth(const olo_dir_conf_t *conf)
{
    return conf->unauth_action == OLO_UNSET ? OLO_UNAUTH_AUTO : (olo_unauth_t)conf->unauth_action;
}

int olo_config_dir_forward_id_token(const olo_dir_conf_t *conf)
{
    return conf->forward_id_token == OLO_UNSET ? 1 : conf->forward_id_token;
}

int olo_config_dir_accept_bearer(const olo_dir_conf_t *conf)
{
    return conf->accept_bearer == OLO_UNSET ? 0 : conf->accept_bearer;
}

int olo_config_dir_bearer_require_exp(const olo_dir_conf_t *conf)
{
    return conf->bearer_require_exp == OLO_UNSET ? 1 : conf->bearer_require_exp;
}

const char *olo_config_check_issuer(apr_pool_t *p, const char *value)
{
    if (olo_url_check_https(value) != APR_SUCCESS) {
        return apr_psprintf(p, "'%s' is not an https:// URL with a host", value);
    }
    if (strchr(value, '?') || strchr(value, '#')) {
        return apr_psprintf(p, "'%s' must not carry a query or fragment", value);
    }
    return NULL;
}

const char *olo_config_check_secret(apr_pool_t *p, const char *value)
{
    if (strlen(value) < OLO_SEAL_MIN_SECRET) {
        return apr_psprintf(p, "must be at least %d bytes long (it has %" APR_SIZE_T_FMT ")",
                            OLO_SEAL_MIN_SECRET, strlen(value));
    }
    return NULL;
}

const char *olo_config_check_path(apr_pool_t *p, const char *value)
{
    if (value[0] != '/' || strpbrk(value, "?# \t\r\n\\") || value[1] == '/') {
        return apr_psprintf(p, "'%s' is not a local path like /callback", value);
    }
    return NULL;
}

const char *olo_config_check_redirect_uri(apr_pool_t *p, const char *value)
{
    apr_uri_t uri;
    if (value[0] == '/') {
        return olo_config_check_path(p, value);
    }
    if (apr_uri_parse(p, value, &uri) != APR_SUCCESS || !uri.scheme || !uri.hostname
        || (strcasecmp(uri.scheme, "https") && strcasecmp(uri.scheme, "http"))
        || !uri.path || uri.query || uri.fragment) {
        return apr_psprintf(p, "'%s' is neither a path nor an http(s) URL with a path", value);
    }
    return olo_config_check_path(p, uri.path);
}

const char *olo_config_redirect_path(apr_pool_t *p, const char *redirect_uri)
{
    apr_uri_t uri;
    if (redirect_uri[0] == '/' || apr_uri_parse(p, redirect_uri, &uri) != APR_SUCCESS) {
        return redirect_uri;
    }
    return uri.path;
}

const char *const olo_default_user_claims[] = {"email", "preferred_username", "sub", NULL};

/* A claim name goes into log lines and error pages: printable ASCII, not too long. */
static int olo_config_claim_name_ok(const char *name)
{
    apr_size_t len = strlen(name);
    for (const char *c = name; *c; c++) {
        if (*c <= 0x20 || *c >= 0x7f || *c == '"' || *c == '\\') {
            return 0;
        }
    }
    return len > 0 && len <= 128;
}

const char *olo_config_parse_claims(const char *const **plist, apr_pool_t *p, const char *value)
{
    const char **list = apr_pcalloc(p, (OLO_USER_CLAIMS_MAX + 1) * sizeof(*list));
    char *copy = apr_pstrdup(p, value), *last = NULL;
    int n = 0;
    for (char *word = apr_strtok(copy, " \t", &last); word; word = apr_strtok(NULL, " \t", &last)) {
        if (n == OLO_USER_CLAIMS_MAX) {
            return apr_psprintf(p, "at most %d claims", OLO_USER_CLAIMS_MAX);
        }
        if (!olo_config_claim_name_ok(word)) {
            return apr_psprintf(p, "'%s' is not a claim name (printable ASCII, no quotes)",
                                word);
        }
        list[n++] = word;
    }
    if (n == 0) {
        return "names no claim";
    }
    *plist = list;
    return NULL;
}

const char *olo_config_parse_store(int *pvalue, apr_pool_t *p, const char *value)
{
    if (!strcasecmp(value, "cookie")) {
        *pvalue = OLO_STORE_COOKIE;
    }
    else if (!strcasecmp(value, "server")) {
        *pvalue = OLO_STORE_SERVER;
    }
    else {
        return apr_psprintf(p, "'%s' is neither cookie nor server", value);
    }
    return NULL;
}

const char *olo_config_parse_seconds(int *pvalue, apr_pool_t *p, const char *value, int min,
                                     int max)
{
    char *end = NULL;
    long n = strtol(value, &end, 10);
    if (!*value || *end || n < min || n > max) {
        return apr_psprintf(p, "'%s' is not a whole number of seconds between %d and %d", value,
                            min, max);
    }
    *pvalue = (int)n;
    return NULL;
}

const char *olo_config_key_purpose(apr_pool_t *p, const char *purpose, const char *issuer,
                                   const char *client_id)
{
    return apr_psprintf(p, "%s/%" APR_SIZE_T_FMT ":%s/%" APR_SIZE_T_FMT ":%s", purpose,
                        strlen(issuer), issuer, strlen(client_id), client_id);
}
