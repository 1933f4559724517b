#ifndef OLO_HTTP_H
#define OLO_HTTP_H

#include <apr_pools.h>
#include <apr_time.h>

/**
 * The transport seam: everything the module asks of the provider goes through olo_http_t,
 * so auth/ is tested with a fake and runs on libcurl in httpd.
 */

typedef struct olo_http_response_t {
    int status;             /* HTTP status code */
    const char *body;       /* NUL-terminated */
    apr_size_t len;
} olo_http_response_t;

/**
 * Fetches url: GET when form is NULL, else POST form as application/x-www-form-urlencoded,
 * with an Authorization header when authorization is non-NULL.
 * APR_TIMEUP: connect or total timeout; APR_ECONNREFUSED: nothing listens;
 * APR_EGENERAL: TLS, DNS or protocol failure; APR_ENOSPC: body over the size cap.
 * On failure *perror names what went wrong in words (never the body or credentials).
 */
typedef apr_status_t olo_http_fetch_fn(olo_http_response_t **presp, const char **perror,
                                       apr_pool_t *p, void *baton, const char *url,
                                       const char *form, const char *authorization);

typedef struct olo_http_t {
    olo_http_fetch_fn *fetch;
    void *baton;
} olo_http_t;

/** libcurl settings; TLS verification itself is not a setting: it is always on. */
typedef struct olo_http_curl_opts_t {
    const char *ca_file;                /* NULL: the system store */
    apr_interval_time_t connect_timeout;
    apr_interval_time_t timeout;        /* the whole exchange */
    apr_size_t max_bytes;               /* response body cap */
} olo_http_curl_opts_t;

/** Once per process, before threads start (curl_global_init is not thread-safe). */
apr_status_t olo_http_curl_global_init(void);

/** The libcurl transport; baton is an olo_http_curl_opts_t. */
olo_http_fetch_fn olo_http_curl_fetch;

#endif
