#ifndef OLO_URL_H
#define OLO_URL_H

#include <apr_pools.h>

#define OLO_URL_MAX_TARGET 2048

/**
 * True when target is a same-site relative reference safe to redirect to: it starts with a
 * single "/", its second character is neither "/" nor "\" (browsers read "//host" and
 * "/\host" as another site), it holds no backslash, no control character, no space, and is
 * at most OLO_URL_MAX_TARGET bytes. The same holds after one round of percent-decoding.
 */
int olo_url_is_local_target(const char *target);

/** target when olo_url_is_local_target, else "/". */
const char *olo_url_local_target(const char *target);

/**
 * The decoded value of query parameter `name` in `query` (without the leading "?"; pairs split
 * on "&" only; "+" is a space; names are decoded before comparing). APR_ENOENT when absent
 * (or query is NULL); APR_EINVAL when it appears more than once (parameter pollution), its
 * value has a bad escape or decodes to a NUL byte, any parameter name has a bad escape, or
 * the query is longer than 8 KiB. *pvalue is allocated from p.
 */
apr_status_t olo_url_query_get(const char **pvalue, apr_pool_t *p, const char *query,
                               const char *name);

/** Percent-encodes (%XX, upper case) everything but RFC 3986 unreserved characters; NULL
 * encodes as "". Also right for application/x-www-form-urlencoded bodies. */
const char *olo_url_encode(apr_pool_t *p, const char *s);

/** url with "name=encoded(value)" appended after "?" or "&" as the url requires. */
const char *olo_url_add_param(apr_pool_t *p, const char *url, const char *name,
                              const char *value);

/** APR_SUCCESS when url is an absolute https:// URL (scheme in any case) with a non-empty
 * host, no userinfo ("@"), no spaces, backslashes or controls; else APR_EINVAL. */
apr_status_t olo_url_check_https(const char *url);

#endif
