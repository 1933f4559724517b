/* Strict base64url (RFC 7515 section 2, RFC 4648 section 5), written here rather than taken
 * from cjose: its decoder asserts (and so aborts the whole httpd child) on input an attacker
 * controls, such as a JWS segment ending in "a=". */
#include <apr_strings.h>
#include "olo_b64.h"

static const char olo_b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Value of one base64url character, or -1. Padding "=" is not part of the alphabet: JOSE
 * forbids it, and accepting it is what lets "a=" reach cjose. */
static int olo_b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == '-') {
        return 62;
    }
    if (c == '_') {
        return 63;
    }
    return -1;
}

int olo_b64_is_valid(const char *s, apr_size_t len)
{
    /* One character left over carries only 6 bits: no byte string encodes to that length. */
    if (len % 4 == 1 || (s == NULL && len > 0)) {
        return 0;
    }
    for (apr_size_t i = 0; i < len; i++) {
        if (olo_b64_value((unsigned char)s[i]) < 0) {
            return 0;
        }
    }
    return 1;
}

/* The last character of a 2- or 3-character tail holds bits beyond the data; RFC 4648
 * section 3.5 lets a decoder refuse them when set, which keeps the encoding canonical (one
 * token, one text) so a tampered variant cannot pass as the same value. */
static int olo_b64_tail_is_canonical(const char *s, apr_size_t len)
{
    apr_size_t rem = len % 4;
    int last = (rem == 0) ? 0 : olo_b64_value((unsigned char)s[len - 1]);

    if (rem == 2) {
        return (last & 0x0f) == 0;
    }
    if (rem == 3) {
        return (last & 0x03) == 0;
    }
    return 1;
}

apr_status_t olo_b64_decode(unsigned char **pout, apr_size_t *poutlen, apr_pool_t *p,
                            const char *s, apr_size_t len)
{
    apr_status_t rv = APR_EINVAL;
    unsigned char *out = NULL;
    apr_size_t outlen = (len / 4) * 3 + ((len % 4) ? (len % 4) - 1 : 0);
    apr_uint32_t acc = 0;
    apr_size_t o = 0;

    if (!olo_b64_is_valid(s, len) || !olo_b64_tail_is_canonical(s, len)) {
        goto cleanup;
    }
    out = apr_palloc(p, outlen + 1);
    for (apr_size_t i = 0; i < len; i++) {
        acc = (acc << 6) | (apr_uint32_t)olo_b64_value((unsigned char)s[i]);
        if (i % 4 == 3) {
            out[o++] = (unsigned char)(acc >> 16);
            out[o++] = (unsigned char)(acc >> 8);
            out[o++] = (unsigned char)acc;
            acc = 0;
        }
    }
    if (len % 4 == 2) {
        out[o++] = (unsigned char)(acc >> 4);
    }
    else if (len % 4 == 3) {
        out[o++] = (unsigned char)(acc >> 10);
        out[o++] = (unsigned char)(acc >> 2);
    }
    out[o] = '\0';
    rv = APR_SUCCESS;
cleanup:
    *pout = (rv == APR_SUCCESS) ? out : NULL;
    *poutlen = (rv == APR_SUCCESS) ? outlen : 0;
    return rv;
}

const char *olo_b64_encode(apr_pool_t *p, const unsigned char *data, apr_size_t len)
{
    char *out = apr_palloc(p, (len / 3) * 4 + ((len % 3) ? (len % 3) + 1 : 0) + 1);
    apr_size_t o = 0;
    apr_size_t i = 0;

    for (; i + 2 < len; i += 3) {
        apr_uint32_t v = ((apr_uint32_t)data[i] << 16) | ((apr_uint32_t)data[i + 1] << 8)
                         | data[i + 2];
        out[o++] = olo_b64_alphabet[(v >> 18) & 0x3f];
        out[o++] = olo_b64_alphabet[(v >> 12) & 0x3f];
        out[o++] = olo_b64_alphabet[(v >> 6) & 0x3f];
        out[o++] = olo_b64_alphabet[v & 0x3f];
    }
    if (len - i == 1) {
        out[o++] = olo_b64_alphabet[data[i] >> 2];
        out[o++] = olo_b64_alphabet[(data[i] & 0x03) << 4];
    }
    else if (len - i == 2) {
        apr_uint32_t v = ((apr_uint32_t)data[i] << 8) | data[i + 1];
        out[o++] = olo_b64_alphabet[(v >> 10) & 0x3f];
        out[o++] = olo_b64_alphabet[(v >> 4) & 0x3f];
        out[o++] = olo_b64_alphabet[(v << 2) & 0x3f];
    }
    out[o] = '\0';
    return out;
}
