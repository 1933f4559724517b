#ifndef OLO_CONFIG_H
#define OLO_CONFIG_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

/**
 * Configuration: every field starts unset, a merge takes the child's value when set and the
 * parent's otherwise, and defaults are applied in one place (olo_config_server_defaults)
 * after all merging. Setters' value checks live here so they are unit-tested.
 */
#define OLO_UNSET (-1)

#define OLO_DEFAULT_REDIRECT_URI "/callback"
#define OLO_DEFAULT_LOGIN_PATH "/signin"
#define OLO_DEFAULT_LOGOUT_PATH "/logout"
#define OLO_DEFAULT_SCOPE "openid email profile"
#define OLO_USER_CLAIMS_MAX 8
#define OLO_DEFAULT_CACHE "shmcb"
#define OLO_DEFAULT_SESSION_MAX_AGE 28800
#define OLO_DEFAULT_IDLE_TIMEOUT 3600
#define OLO_DEFAULT_CONNECT_TIMEOUT 2
#define OLO_DEFAULT_HTTP_TIMEOUT 5
#define OLO_DEFAULT_CLOCK_SKEW 60
#define OLO_DEFAULT_METADATA_TTL 3600
#define OLO_DEFAULT_JWKS_TTL 3600
#define OLO_DEFAULT_JWKS_REFETCH 30
#define OLO_DEFAULT_REFRESH_MARGIN 60
#define OLO_DEFAULT_POST_LOGOUT_URI "/"

typedef enum {
    OLO_STORE_COOKIE = 0,           /* the sealed session is the cookie (split when large) */
    OLO_STORE_SERVER                /* the cookie names the session; it lives in the cache */
} olo_store_t;

typedef struct olo_server_conf_t {
    const char *issuer;
    const char *client_id;
    const char *client_secret;
    const char *redirect_uri;       /* a path, or an absolute URL */
    const char *login_path;
    const char *logout_path;
    const char *session_secret;
    const char *session_secret_previous;    /* still accepted while a rotation is under way */
    const char *scope;
    const char *const *user_claims; /* NULL-terminated: the first present one is REMOTE_USER */
    const char *ca_file;
    const char *cache;              /* "provider[:args]" as written */
    const char *post_logout_uri;    /* a path, or an absolute URL */
    int session_max_age;            /* seconds */
    int idle_timeout;
    int cookie_secure;              /* flag */
    int connect_timeout;            /* seconds */
    int http_timeout;
    int clock_skew;
    int metadata_ttl;
    int jwks_ttl;
    int jwks_refetch;
    int refresh_margin;             /* seconds before the ID token's exp that it is renewed */
    int session_store;              /* olo_store_t or OLO_UNSET */
    void *runtime;                  /* the glue's derived state (keys, cache), per server */
} olo_server_conf_t;

typedef enum {
    OLO_UNAUTH_AUTO = 0,            /* browsers are redirected, other clients get 401 */
    OLO_UNAUTH_REDIRECT,
    OLO_UNAUTH_401,
    OLO_UNAUTH_PASS
} olo_unauth_t;

typedef struct olo_dir_conf_t {
    int unauth_action;              /* olo_unauth_t or OLO_UNSET */
    int forward_id_token;           /* flag or OLO_UNSET */
    int accept_bearer;              /* flag or OLO_UNSET */
    int bearer_require_exp;         /* flag or OLO_UNSET */
    apr_array_header_t *bearer_jwks;        /* extra JWKS URLs (const char *), NULL: none */
    apr_array_header_t *bearer_issuers;     /* iss accepted from those keys, NULL: any */
    apr_array_header_t *bearer_audiences;   /* aud one of which is required, NULL: any */
} olo_dir_conf_t;

olo_server_conf_t *olo_config_server_create(apr_pool_t *p);
olo_server_conf_t *olo_config_server_merge(apr_pool_t *p, const olo_server_conf_t *base,
                                           const olo_server_conf_t *add);
/** Fills every field still unset with its default. */
void olo_config_server_defaults(olo_server_conf_t *conf);
/** True when any provider/client directive is set: the server means to use the module. */
int olo_config_server_is_used(const olo_server_conf_t *conf);

/**
 * The first missing or inconsistent setting of a server that uses the module, as a message
 * naming the directive, or NULL when complete.
 */
const char *olo_config_server_problem(apr_pool_t *p, const olo_server_conf_t *conf);

olo_dir_conf_t *olo_config_dir_create(apr_pool_t *p);
olo_dir_conf_t *olo_config_dir_merge(apr_pool_t *p, const olo_dir_conf_t *base,
                                     const olo_dir_conf_t *add);
olo_unauth_t olo_config_dir_unauth(const olo_dir_conf_t *conf);
int olo_config_dir_forward_id_token(const olo_dir_conf_t *conf);
int olo_config_dir_accept_bearer(const olo_dir_conf_t *conf);
int olo_config_dir_bearer_require_exp(const olo_dir_conf_t *conf);

/* Value checks for setters: NULL when fine, else what is wrong (without the name). */
const char *olo_config_check_issuer(apr_pool_t *p, const char *value);
const char *olo_config_check_secret(apr_pool_t *p, const char *value);
const char *olo_config_check_path(apr_pool_t *p, const char *value);
/** A path, or an absolute http(s) URL whose path is then the callback location. */
const char *olo_config_check_redirect_uri(apr_pool_t *p, const char *value);
/** OpenMetadata's jwtPrincipalClaims order: email, preferred_username, sub. */
extern const char *const olo_default_user_claims[];

/** The claim names of OneLoginRemoteUserClaim (one or more words, at most OLO_USER_CLAIMS_MAX,
 * each printable ASCII) into a NULL-terminated list allocated from p. */
const char *olo_config_parse_claims(const char *const **plist, apr_pool_t *p, const char *value);

/** "cookie" or "server" (any case) into *pvalue. */
const char *olo_config_parse_store(int *pvalue, apr_pool_t *p, const char *value);
/** Whole seconds within [min, max] into *pvalue. */
const char *olo_config_parse_seconds(int *pvalue, apr_pool_t *p, const char *value, int min,
                                     int max);
/** The path part of a redirect URI (itself when it is a path). */
const char *olo_config_redirect_path(apr_pool_t *p, const char *redirect_uri);

/**
 * The HKDF label of one app's cookie key: purpose ("session", "state"), issuer and client id,
 * each length-prefixed. Apps that share OneLoginSessionSecret (an inherited one, say) get
 * different keys, so a cookie of one never opens in another.
 */
const char *olo_config_key_purpose(apr_pool_t *p, const char *purpose, const char *issuer,
                                   const char *client_id);

#endif
