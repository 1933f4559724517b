/*
 * httpd glue for observability: the module's counters (auth/olo_stats) in one anonymous shared
 * memory segment that the parent makes in post_config and every child inherits at fork, so
 * all children count into the same slots and a restart starts from zero; the onelogin-status
 * handler that shows them to Prometheus; and the request's UNIQUE_ID on the module's log
 * lines, which httpd's default error log format leaves out.
 */
#include <stdarg.h>
#include <string.h>

#include <http_protocol.h>
#include <http_request.h>
#include <apr_shm.h>
#include <apr_strings.h>

#include "mod_onelogin_oidc.h"

APLOG_USE_MODULE(onelogin_oidc);

#define OLO_STATUS_HANDLER "onelogin-status"
#define OLO_STATUS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Written by the parent before children fork, only read afterwards. No slots (counting off)
 * until post_config, and after a restart cleared the old segment. */
static olo_stats_t olo_status_stats;

/* Runs before the segment is destroyed (cleanups run in reverse order of registration). */
static apr_status_t olo_status_forget(void *data)
{
    olo_stats_init(&olo_status_stats, NULL);
    return APR_SUCCESS;
}

void olo_status_post_config(apr_pool_t *pconf, server_rec *s)
{
    apr_shm_t *shm = NULL;
    apr_status_t rv = apr_shm_create(&shm, olo_stats_size(), NULL, pconf);
    if (rv != APR_SUCCESS) {
        /* Counters are not worth refusing logins over: run without them. */
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, OLO_LOGNO(00006)
                     "no shared memory for the counters: onelogin-status answers 503");
        olo_stats_init(&olo_status_stats, NULL);
        return;
    }
    olo_stats_init(&olo_status_stats, apr_shm_baseaddr_get(shm));
    apr_pool_cleanup_register(pconf, NULL, olo_status_forget, apr_pool_cleanup_null);
}

int olo_status_handler(request_rec *r)
{
    if (!r->handler || strcmp(r->handler, OLO_STATUS_HANDLER)) {
        return DECLINED;
    }
    /* GET (and HEAD) only; httpd's 405 answer lists them in Allow. */
    ap_allow_methods(r, REPLACE_ALLOW, "GET", NULL);
    if (r->method_number != M_GET) {
        return HTTP_METHOD_NOT_ALLOWED;
    }
    if (!olo_status_stats.slots) {
        return HTTP_SERVICE_UNAVAILABLE;
    }
    olo_send(r, HTTP_OK, OLO_STATUS_CONTENT_TYPE, olo_stats_render(r->pool, &olo_status_stats));
    return OK;
}

void olo_stats_count(olo_stat_t stat)
{
    olo_stats_add(&olo_status_stats, stat);
}

void olo_stats_count_reason(olo_stat_reasoned_t family, olo_reason_t reason)
{
    olo_stats_add_reason(&olo_status_stats, family, reason);
}

void olo_stats_count_lookup(apr_status_t rv)
{
    olo_stats_add_lookup(&olo_status_stats, rv);
}

void olo_stats_provider_event(olo_provider_event_t event)
{
    olo_stats_add_provider_event(&olo_status_stats, event);
}

void olo_log_rerror_(const char *file, int line, int module_index, int level, apr_status_t status,
                     const request_rec *r, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    const char *message = apr_pvsprintf(r->pool, fmt, args);
    va_end(args);
    /* mod_unique_id sets it in post_read_request, for internal redirects too; subrequests
     * inherit their parent's environment. */
    const char *id = apr_table_get(r->subprocess_env, "UNIQUE_ID");
    if (id) {
        ap_log_rerror_(file, line, module_index, level, status, r, "%s [unique_id %s]", message,
                       id);
    }
    else {
        ap_log_rerror_(file, line, module_index, level, status, r, "%s", message);
    }
}
