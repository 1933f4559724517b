/* The libcurl transport behind olo_http_t. A fresh easy handle per fetch keeps it
 * thread-safe; fetches happen only at login, callback and key rotation, never per request. */
#include <string.h>
#include <curl/curl.h>
#include <apr_strings.h>
#include "olo_http.h"

typedef struct olo_http_sink_t {
    char *buf;
    apr_size_t len;
    apr_size_t cap;
    apr_size_t max;
    apr_pool_t *p;
    int overflow;
} olo_http_sink_t;

apr_status_t olo_http_curl_global_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? APR_SUCCESS : APR_EGENERAL;
}

static size_t olo_http_curl_write(char *data, size_t size, size_t nmemb, void *userdata)
{
    olo_http_sink_t *sink = userdata;
    apr_size_t n = size * nmemb;
    if (sink->len + n > sink->max) {
        sink->overflow = 1;
        return 0;   /* a provider answer past the cap is refused, not buffered */
    }
    if (sink->len + n + 1 > sink->cap) {
        apr_size_t cap = (sink->cap ? sink->cap * 2 : 8192);
        while (cap < sink->len + n + 1) {
            cap *= 2;
        }
        char *grown = apr_palloc(sink->p, cap);
        if (sink->len) {
            memcpy(grown, sink->buf, sink->len);
        }
        sink->buf = grown;
        sink->cap = cap;
    }
    memcpy(sink->buf + sink->len, data, n);
    sink->len += n;
    sink->buf[sink->len] = '\0';
    return n;
}

static apr_status_t olo_http_curl_status(CURLcode code)
{
    switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
        return APR_TIMEUP;
    case CURLE_COULDNT_CONNECT:
        return APR_ECONNREFUSED;
    case CURLE_WRITE_ERROR:
        return APR_ENOSPC;
    default:
        return APR_EGENERAL;
    }
}

static void olo_http_curl_setup(CURL *curl, const olo_http_curl_opts_t *opts,
                                olo_http_sink_t *sink, const char *url)
{
    curl_easy_setopt(curl, CURLOPT_URL, url);
    /* The provider is only ever reached over verified TLS: no http, no redirects, no
     * signals (httpd threads), and bounded time so a hung provider cannot hold a worker. */
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
    if (opts->ca_file) {
        curl_easy_setopt(curl, CURLOPT_CAINFO, opts->ca_file);
    }
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, (long)apr_time_as_msec(opts->connect_timeout));
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)apr_time_as_msec(opts->timeout));
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "mod_onelogin_oidc");
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, olo_http_curl_write);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, sink);
}

apr_status_t olo_http_curl_fetch(olo_http_response_t **presp, const char **perror, apr_pool_t *p,
                                 void *baton, const char *url, const char *form,
                                 const char *authorization)
{
    const olo_http_curl_opts_t *opts = baton;
    olo_http_sink_t sink = {.p = p, .max = opts->max_bytes, .buf = ""};
    struct curl_slist *headers = NULL;
    olo_http_response_t *resp = NULL;
    apr_status_t rv = APR_EGENERAL;
    char errbuf[CURL_ERROR_SIZE] = "";
    long status = 0;

    CURL *curl = curl_easy_init();
    if (!curl) {
        *perror = "libcurl could not create a handle";
        goto cleanup;
    }
    olo_http_curl_setup(curl, opts, &sink, url);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    headers = curl_slist_append(headers, "Accept: application/json");
    if (authorization) {
        headers = curl_slist_append(headers, apr_pstrcat(p, "Authorization: ", authorization, NULL));
    }
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    if (form) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, form);
    }
    CURLcode code = curl_easy_perform(curl);
    if (code != CURLE_OK) {
        rv = sink.overflow ? APR_ENOSPC : olo_http_curl_status(code);
        *perror = sink.overflow ? "response larger than the size cap"
                                : apr_pstrdup(p, errbuf[0] ? errbuf : curl_easy_strerror(code));
        goto cleanup;
    }
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    resp = apr_pcalloc(p, sizeof(*resp));
    resp->status = (int)status;
    resp->body = sink.buf;
    resp->len = sink.len;
    rv = APR_SUCCESS;
cleanup:
    curl_slist_free_all(headers);
    if (curl) {
        curl_easy_cleanup(curl);
    }
    *presp = (rv == APR_SUCCESS) ? resp : NULL;
    return rv;
}
