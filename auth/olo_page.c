/* Error pages. Kept free of httpd so their escaping is unit-tested. */
#include <string.h>
#include <apr_strings.h>
#include <jansson.h>
#include "olo_page.h"
#include "../jwt/olo_json.h"

const char *olo_page_title(int status)
{
    switch (status) {
    case 400:
        return "Login could not be completed";
    case 401:
        return "Login required";
    case 403:
        return "Access denied";
    case 502:
    case 503:
    case 504:
        return "Login service unavailable";
    default:
        return "Login error";
    }
}

const char *olo_page_escape(apr_pool_t *p, const char *s)
{
    apr_size_t extra = 0;
    for (const char *c = s; *c; c++) {
        extra += strchr("&<>\"'", *c) ? 5 : 0;
    }
    char *out = apr_palloc(p, strlen(s) + extra + 1);
    char *o = out;
    for (const char *c = s; *c; c++) {
        const char *entity = *c == '&' ? "&amp;" : *c == '<' ? "&lt;" : *c == '>' ? "&gt;"
                           : *c == '"' ? "&quot;" : *c == '\'' ? "&#39;" : NULL;
        if (entity) {
            o = stpcpy(o, entity);
        }
        else {
            *o++ = *c;
        }
    }
    *o = '\0';
    return out;
}

const char *olo_page_html(apr_pool_t *p, int status, olo_reason_t reason, const char *retry_href)
{
    /* While the clocks disagree every sign-in fails the same way: no link inviting a loop. */
    if (reason == OLO_R_CLOCK_SKEW) {
        return olo_page_html_link(p, status, reason, NULL, NULL);
    }
    return olo_page_html_link(p, status, reason, retry_href,
                              reason == OLO_R_STATE_DROPPED ? "Start this sign-in again"
                                                            : "Sign in again");
}

const char *olo_page_html_link(apr_pool_t *p, int status, olo_reason_t reason, const char *href,
                               const char *link_text)
{
    const char *title = olo_page_title(status);
    const char *link = (href && link_text)
                           ? apr_psprintf(p, "<p><a href=\"%s\">%s</a></p>",
                                          olo_page_escape(p, href), olo_page_escape(p, link_text))
                           : "";
    return apr_psprintf(
        p,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width\"><title>%s</title>"
        "<style>body{font-family:system-ui,sans-serif;max-width:36em;margin:4em auto;"
        "padding:0 1em;color:#222}h1{font-size:1.4em}code{color:#666}</style></head>\n"
        "<body><h1>%s</h1><p>%s</p>%s"
        "<p><code>%d %s</code></p></body></html>\n",
        title, title, olo_page_escape(p, olo_reason_text(reason)), link, status,
        olo_reason_name(reason));
}

const char *olo_page_json(apr_pool_t *p, olo_reason_t reason)
{
    json_t *obj = olo_json_own(p, json_pack("{s:s, s:s}", "error", olo_reason_name(reason),
                                            "message", olo_reason_text(reason)));
    char *text = NULL;
    apr_size_t len = 0;
    if (!obj || olo_json_dump(&text, &len, p, obj) != APR_SUCCESS) {
        return "{}\n";
    }
    return apr_pstrcat(p, apr_pstrmemdup(p, text, len), "\n", NULL);
}
