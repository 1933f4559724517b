/* Cookie header parsing and Set-Cookie formatting (RFC 6265). The header is whatever the
 * browser, or anyone else, sent: every read stays inside it. */
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include "olo_cookie.h"

/* Enough for every pending login plus the session and unrelated cookies of the site; more
 * would let a crafted header make the module loop over thousands of names. */
#define OLO_COOKIE_MAX_NAMES 64

typedef struct olo_cookie_pair_t {
    const char *name;       /* NULL for a pair without "=" */
    apr_size_t name_len;
    const char *value;
    apr_size_t value_len;
} olo_cookie_pair_t;

static int olo_cookie_is_space(char c)
{
    return c == ' ' || c == '\t';
}

static void olo_cookie_trim(const char **ps, apr_size_t *plen, const char *start,
                            const char *end)
{
    while (start < end && olo_cookie_is_space(*start)) {
        start++;
    }
    while (end > start && olo_cookie_is_space(end[-1])) {
        end--;
    }
    *ps = start;
    *plen = (apr_size_t)(end - start);
}

/* Reads the pair at s, up to the next ";" or "," (httpd joins repeated Cookie headers with
 * ", "). Returns where the next pair starts, NULL at the end of the header. */
static const char *olo_cookie_next(olo_cookie_pair_t *pair, const char *s)
{
    apr_size_t len = strcspn(s, ";,");
    const char *end = s + len;
    const char *eq = memchr(s, '=', len);

    pair->name = NULL;
    if (eq != NULL) {
        olo_cookie_trim(&pair->name, &pair->name_len, s, eq);
        olo_cookie_trim(&pair->value, &pair->value_len, eq + 1, end);
        /* RFC 6265 4.1.1: a value may be DQUOTEd; the quotes are not part of it */
        if (pair->value_len >= 2 && pair->value[0] == '"'
            && pair->value[pair->value_len - 1] == '"') {
            pair->value++;
            pair->value_len -= 2;
        }
    }
    return (*end != '\0') ? end + 1 : NULL;
}

const char *olo_cookie_get(apr_pool_t *p, const char *header, const char *name)
{
    apr_size_t name_len = name ? strlen(name) : 0;
    olo_cookie_pair_t pair;
    const char *s = header;

    while (s != NULL && name_len > 0) {
        s = olo_cookie_next(&pair, s);
        /* cookie names are case-sensitive (RFC 6265 5.4 compares them octet by octet) */
        if (pair.name != NULL && pair.name_len == name_len
            && memcmp(pair.name, name, name_len) == 0) {
            return apr_pstrmemdup(p, pair.value, pair.value_len);
        }
    }
    return NULL;
}

apr_array_header_t *olo_cookie_names(apr_pool_t *p, const char *header, const char *prefix)
{
    apr_array_header_t *names = apr_array_make(p, 4, sizeof(const char *));
    apr_size_t prefix_len = prefix ? strlen(prefix) : 0;
    olo_cookie_pair_t pair;
    const char *s = header;

    while (s != NULL && names->nelts < OLO_COOKIE_MAX_NAMES) {
        s = olo_cookie_next(&pair, s);
        if (pair.name != NULL && pair.name_len > 0 && pair.name_len >= prefix_len
            && (prefix_len == 0 || memcmp(pair.name, prefix, prefix_len) == 0)) {
            APR_ARRAY_PUSH(names, const char *) = apr_pstrmemdup(p, pair.name, pair.name_len);
        }
    }
    return names;
}

const char *olo_cookie_format(apr_pool_t *p, const char *name, const char *value,
                              const olo_cookie_attrs_t *attrs)
{
    static const olo_cookie_attrs_t plain = {0, 0, NULL, NULL, -1};
    const char *max_age = "";

    if (attrs == NULL) {
        attrs = &plain;
    }
    if (attrs->max_age == 0) {
        /* Max-Age=0 deletes (RFC 6265 5.2.2); the past Expires is for clients that only
         * know Expires */
        max_age = "; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT";
    }
    else if (attrs->max_age > 0) {
        max_age = apr_psprintf(p, "; Max-Age=%ld", attrs->max_age);
    }
    return apr_pstrcat(p, name, "=", value ? value : "", "; Path=",
                       attrs->path ? attrs->path : "/", max_age,
                       attrs->http_only ? "; HttpOnly" : "", attrs->secure ? "; Secure" : "",
                       attrs->same_site ? "; SameSite=" : "",
                       attrs->same_site ? attrs->same_site : "", NULL);
}

/* True when the pair's name starts with any of the NULL-terminated prefixes. */
static int olo_cookie_has_prefix(const olo_cookie_pair_t *pair, const char *const *prefixes)
{
    for (; *prefixes; prefixes++) {
        apr_size_t len = strlen(*prefixes);
        if (pair->name_len >= len && memcmp(pair->name, *prefixes, len) == 0) {
            return 1;
        }
    }
    return 0;
}

const char *olo_cookie_without(apr_pool_t *p, const char *header, const char *const *prefixes)
{
    return olo_cookie_without_get(p, header, prefixes, NULL, NULL);
}

const char *olo_cookie_without_get(apr_pool_t *p, const char *header,
                                   const char *const *prefixes, const char *name,
                                   const char **pvalue)
{
    apr_size_t name_len = name ? strlen(name) : 0;
    if (pvalue) {
        *pvalue = NULL;
    }
    /* Kept pairs are joined with "; ": a header written with bare ";" grows by one byte per
     * separator, so the output can be up to twice the input. */
    char *out = apr_palloc(p, 2 * strlen(header) + 1);
    char *o = out;
    olo_cookie_pair_t pair;
    const char *s = header;

    while (s != NULL) {
        const char *start = s;
        s = olo_cookie_next(&pair, s);
        if (pvalue && !*pvalue && pair.name && name_len && pair.name_len == name_len
            && memcmp(pair.name, name, name_len) == 0) {
            *pvalue = apr_pstrmemdup(p, pair.value, pair.value_len);
        }
        if (pair.name == NULL || pair.name_len == 0 || olo_cookie_has_prefix(&pair, prefixes)) {
            continue;
        }
        apr_size_t len = (apr_size_t)((s ? s - 1 : start + strlen(start)) - start);
        const char *kept = NULL;
        olo_cookie_trim(&kept, &len, start, start + len);
        if (o != out) {
            o = stpcpy(o, "; ");
        }
        memcpy(o, kept, len);
        o += len;
    }
    *o = '\0';
    return (o != out) ? out : NULL;
}

/* "chunks:N" in the main cookie: ':' is outside base64url, so no sealed value looks like it. */
#define OLO_COOKIE_CHUNK_MARK "chunks:"

static const char *olo_cookie_chunk_name(apr_pool_t *p, const char *name, int i)
{
    return apr_psprintf(p, "%s_%d", name, i);
}

int olo_cookie_is_chunked(const char *value)
{
    return value && !strncmp(value, OLO_COOKIE_CHUNK_MARK, sizeof(OLO_COOKIE_CHUNK_MARK) - 1);
}

const char *olo_cookie_get_chunked(apr_pool_t *p, const char *header, const char *name)
{
    const char *value = olo_cookie_get(p, header, name);
    apr_size_t mark = sizeof(OLO_COOKIE_CHUNK_MARK) - 1;
    if (!olo_cookie_is_chunked(value)) {
        return value;
    }
    char *end = NULL;
    long n = strtol(value + mark, &end, 10);
    if (*end || n < 2 || n > OLO_COOKIE_MAX_CHUNKS) {
        return NULL;
    }
    const char *joined = "";
    for (int i = 1; i <= n; i++) {
        const char *piece = olo_cookie_get(p, header, olo_cookie_chunk_name(p, name, i));
        if (!piece || !*piece) {
            return NULL;    /* a lost chunk makes the whole value unusable */
        }
        joined = apr_pstrcat(p, joined, piece, NULL);
    }
    return joined;
}

/* Deletes the chunks of name the browser still holds beyond `used`. */
static void olo_cookie_drop_chunks(apr_array_header_t *lines, apr_pool_t *p, const char *header,
                                   const char *name, int used, const olo_cookie_attrs_t *attrs)
{
    olo_cookie_attrs_t gone = *attrs;
    gone.max_age = 0;
    for (int i = used + 1; i <= OLO_COOKIE_MAX_CHUNKS; i++) {
        const char *chunk = olo_cookie_chunk_name(p, name, i);
        if (olo_cookie_get(p, header, chunk)) {
            APR_ARRAY_PUSH(lines, const char *) = olo_cookie_format(p, chunk, "", &gone);
        }
    }
}

apr_array_header_t *olo_cookie_set_chunked(apr_pool_t *p, const char *header, const char *name,
                                           const char *value, const olo_cookie_attrs_t *attrs)
{
    apr_array_header_t *lines = apr_array_make(p, 4, sizeof(const char *));
    apr_size_t len = strlen(value);
    int n = (len <= OLO_COOKIE_CHUNK) ? 1 : (int)((len + OLO_COOKIE_CHUNK - 1) / OLO_COOKIE_CHUNK);
    if (n > OLO_COOKIE_MAX_CHUNKS) {
        return NULL;
    }
    if (n == 1) {
        APR_ARRAY_PUSH(lines, const char *) = olo_cookie_format(p, name, value, attrs);
    }
    else {
        APR_ARRAY_PUSH(lines, const char *) =
            olo_cookie_format(p, name, apr_psprintf(p, OLO_COOKIE_CHUNK_MARK "%d", n), attrs);
        for (int i = 0; i < n; i++) {
            apr_size_t take = (len - i * OLO_COOKIE_CHUNK < OLO_COOKIE_CHUNK)
                                  ? len - i * OLO_COOKIE_CHUNK : OLO_COOKIE_CHUNK;
            const char *piece = apr_pstrmemdup(p, value + i * OLO_COOKIE_CHUNK, take);
            APR_ARRAY_PUSH(lines, const char *) =
                olo_cookie_format(p, olo_cookie_chunk_name(p, name, i + 1), piece, attrs);
        }
    }
    olo_cookie_drop_chunks(lines, p, header, name, n == 1 ? 0 : n, attrs);
    return lines;
}
