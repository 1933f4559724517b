/* URL pieces of the flow: the post-login target (an open-redirect risk), the callback query
 * (attacker-controlled input) and the URLs the module itself builds. */
#include <string.h>
#include <strings.h>
#include <apr_strings.h>
#include "olo_url.h"

/* A callback query carries code, state and perhaps iss/session_state: far below this. */
#define OLO_URL_MAX_QUERY 8192

static int olo_url_hex_value(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* Decodes %XX (and "+" as a space when plus_is_space) from src[0..len) into dst. dst may be
 * src: the decoded text is never longer and a byte is written only after it has been read. */
static apr_status_t olo_url_unescape(char *dst, apr_size_t *pdstlen, const char *src,
                                     apr_size_t len, int plus_is_space)
{
    apr_size_t i, n = 0;

    for (i = 0; i < len; i++) {
        char c = src[i];
        if (c == '%') {
            int hi = (len - i > 2) ? olo_url_hex_value(src[i + 1]) : -1;
            int lo = (len - i > 2) ? olo_url_hex_value(src[i + 2]) : -1;
            /* "%", "%4" and "%zz" are refused, never passed through: a second decoder
             * elsewhere could read them differently */
            if (hi < 0 || lo < 0) {
                return APR_EINVAL;
            }
            c = (char)((hi << 4) | lo);
            i += 2;
        }
        else if (c == '+' && plus_is_space) {
            c = ' ';
        }
        dst[n++] = c;
    }
    *pdstlen = n;
    return APR_SUCCESS;
}

/* s[0..len) is a path starting with exactly one "/" and holding no backslash or control
 * byte (nor a space unless space_ok). */
static int olo_url_is_plain_path(const char *s, apr_size_t len, int space_ok)
{
    apr_size_t i;

    if (len == 0 || s[0] != '/') {
        return 0;
    }
    /* browsers read "//host" and "/\host" as network-path references: another site */
    if (len > 1 && (s[1] == '/' || s[1] == '\\')) {
        return 0;
    }
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        /* browsers drop tabs and newlines inside URLs ("/\t/evil"), CR LF would split the
         * Location header, and some treat "\" as "/" anywhere in the path */
        if (c < 0x20 || c == 0x7f || c == '\\' || (c == ' ' && !space_ok)) {
            return 0;
        }
    }
    return 1;
}

int olo_url_is_local_target(const char *target)
{
    char decoded[OLO_URL_MAX_TARGET];
    apr_size_t len, dlen;

    if (target == NULL) {
        return 0;
    }
    len = strnlen(target, OLO_URL_MAX_TARGET + 1);
    if (len > OLO_URL_MAX_TARGET || !olo_url_is_plain_path(target, len, 0)) {
        return 0;
    }
    /* anything that decodes once before parsing sees "//evil" in "/%2F%2Fevil" and "/\evil"
     * in "/%5Cevil"; a decoded space is an ordinary path character */
    if (olo_url_unescape(decoded, &dlen, target, len, 0) != APR_SUCCESS) {
        return 0;
    }
    return olo_url_is_plain_path(decoded, dlen, 1);
}

const char *olo_url_local_target(const char *target)
{
    return olo_url_is_local_target(target) ? target : "/";
}

/* Matches one "name=value" pair of a query, decoding in place. APR_ENOENT: another name.
 * A bad escape in any name refuses the query: we cannot tell whether it was meant as ours. */
static apr_status_t olo_url_query_pair(const char **pvalue, char *pair, const char *name)
{
    char *eq = strchr(pair, '=');
    char *value = eq ? eq + 1 : pair + strlen(pair);
    apr_size_t nlen = eq ? (apr_size_t)(eq - pair) : strlen(pair);
    apr_size_t n;

    if (olo_url_unescape(pair, &n, pair, nlen, 1) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    if (n != strlen(name) || memcmp(pair, name, n) != 0) {
        return APR_ENOENT;
    }
    /* a decoded NUL would cut the value short for C string code further on */
    if (olo_url_unescape(value, &n, value, strlen(value), 1) != APR_SUCCESS
        || memchr(value, '\0', n) != NULL) {
        return APR_EINVAL;
    }
    value[n] = '\0';
    *pvalue = value;
    return APR_SUCCESS;
}

apr_status_t olo_url_query_get(const char **pvalue, apr_pool_t *p, const char *query,
                               const char *name)
{
    const char *value = NULL, *found;
    apr_status_t rv = APR_EINVAL;
    char *pair, *next;
    apr_size_t len;

    if (query == NULL || name == NULL) {
        rv = (name == NULL) ? APR_EINVAL : APR_ENOENT;
        goto cleanup;
    }
    len = strnlen(query, OLO_URL_MAX_QUERY + 1);
    if (len > OLO_URL_MAX_QUERY) {
        goto cleanup;
    }
    rv = APR_ENOENT;
    for (pair = apr_pstrmemdup(p, query, len); pair != NULL; pair = next) {
        apr_status_t prv;
        if ((next = strchr(pair, '&')) != NULL) {
            *next++ = '\0';
        }
        prv = olo_url_query_pair(&found, pair, name);
        /* a second "state=" or "code=" is parameter pollution: which one wins would
         * depend on the parser, so neither does */
        if (prv == APR_EINVAL || (prv == APR_SUCCESS && value != NULL)) {
            rv = APR_EINVAL;
            goto cleanup;
        }
        if (prv == APR_SUCCESS) {
            value = found;
            rv = APR_SUCCESS;
        }
    }
cleanup:
    *pvalue = (rv == APR_SUCCESS) ? value : NULL;
    return rv;
}

const char *olo_url_encode(apr_pool_t *p, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    apr_size_t len = s ? strlen(s) : 0;
    char *out = apr_palloc(p, 3 * len + 1), *o = out;

    for (; len > 0; len--, s++) {
        unsigned char c = (unsigned char)*s;
        /* RFC 3986 2.3 unreserved, spelled out: isalnum() would follow the locale */
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
            || c == '-' || c == '.' || c == '_' || c == '~') {
            *o++ = (char)c;
        }
        else {
            *o++ = '%';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 0x0f];
        }
    }
    *o = '\0';
    return out;
}

const char *olo_url_add_param(apr_pool_t *p, const char *url, const char *name,
                              const char *value)
{
    apr_size_t len = strlen(url);
    const char *sep = "?";

    if (strchr(url, '?') != NULL) {
        sep = (url[len - 1] == '?' || url[len - 1] == '&') ? "" : "&";
    }
    return apr_pstrcat(p, url, sep, olo_url_encode(p, name), "=", olo_url_encode(p, value),
                       NULL);
}

apr_status_t olo_url_check_https(const char *url)
{
    const char *s, *host, *end;

    /* RFC 3986 3.1: the scheme is case-insensitive */
    if (url == NULL || strncasecmp(url, "https://", 8) != 0) {
        return APR_EINVAL;
    }
    for (s = url; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        /* no byte that could split a request line or that URL parsers disagree on */
        if (c <= 0x20 || c == 0x7f || c == '\\') {
            return APR_EINVAL;
        }
    }
    host = url + 8;
    end = host + strcspn(host, "/?#");
    /* "https://good.example@evil.example" names evil.example to a client; providers have no
     * reason to put credentials in their endpoints. An empty or port-only authority names
     * no host. */
    if (end == host || host[0] == ':' || memchr(host, '@', (apr_size_t)(end - host)) != NULL) {
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}
