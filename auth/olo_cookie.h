#ifndef OLO_COOKIE_H
#define OLO_COOKIE_H

#include <apr_pools.h>
#include <apr_tables.h>

/** Cookie header parsing and Set-Cookie formatting (RFC 6265). */

typedef struct olo_cookie_attrs_t {
    int secure;
    int http_only;
    const char *same_site;      /* "Lax", "Strict", "None" or NULL for none */
    const char *path;           /* NULL: "/" */
    long max_age;               /* seconds; < 0: a browser-session cookie; 0: delete */
} olo_cookie_attrs_t;

/**
 * The value of the first cookie called name in a Cookie header (pairs separated by ";",
 * and by "," because httpd joins repeated headers with it), or NULL. header may be NULL.
 */
const char *olo_cookie_get(apr_pool_t *p, const char *header, const char *name);

/** Names (const char *) of the cookies in the header whose name starts with prefix (NULL:
 * all), at most 64 (a crafted header cannot make the caller loop over thousands). Never NULL. */
apr_array_header_t *olo_cookie_names(apr_pool_t *p, const char *header, const char *prefix);

/**
 * "name=value; Path=/; Max-Age=N; HttpOnly; Secure; SameSite=Lax" as attrs say (attrs NULL:
 * Path=/ only). max_age 0 writes "Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT". name and
 * value are written as given: the caller passes only cookie-safe text (base64url, our names).
 */
const char *olo_cookie_format(apr_pool_t *p, const char *name, const char *value,
                              const olo_cookie_attrs_t *attrs);

/**
 * The Cookie header without the cookies whose names start with one of `prefixes`
 * (NULL-terminated), joined with "; "; NULL when none remain. The module's own sealed cookies
 * are of no use to the backend and need not travel further than httpd.
 */
const char *olo_cookie_without(apr_pool_t *p, const char *header, const char *const *prefixes);

/**
 * olo_cookie_without and olo_cookie_get of `name` in one pass over the header (every
 * authenticated request needs both): *pvalue is the first value of name, or NULL.
 */
const char *olo_cookie_without_get(apr_pool_t *p, const char *header,
                                   const char *const *prefixes, const char *name,
                                   const char **pvalue);

/** True when value is the "chunks:N" marker of a split value (see olo_cookie_get_chunked). */
int olo_cookie_is_chunked(const char *value);

/**
 * Values too long for one cookie (browsers keep at most 4096 bytes per cookie, name and
 * attributes included) are split: the cookie `name` then holds "chunks:N" and the value lives in
 * `name_1` .. `name_N`, each at most OLO_COOKIE_CHUNK bytes.
 */
#define OLO_COOKIE_CHUNK 3800
#define OLO_COOKIE_MAX_CHUNKS 16

/** The value of cookie name, joined from its chunks when split; NULL when absent or a chunk is
 * missing. */
const char *olo_cookie_get_chunked(apr_pool_t *p, const char *header, const char *name);

/**
 * The Set-Cookie lines (const char *) that store value under name, split when needed, plus the
 * deletion of chunks the browser holds (per `header`) that the new value does not use. NULL when
 * the value needs more than OLO_COOKIE_MAX_CHUNKS chunks.
 */
apr_array_header_t *olo_cookie_set_chunked(apr_pool_t *p, const char *header, const char *name,
                                           const char *value, const olo_cookie_attrs_t *attrs);

#endif
