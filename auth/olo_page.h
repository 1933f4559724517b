#ifndef OLO_PAGE_H
#define OLO_PAGE_H

#include <apr_pools.h>
#include "../jwt/olo_reason.h"

/**
 * The module's own error answers: a small HTML page for people and a JSON object for scripts.
 * Both say what happened (olo_reason_text) and carry the stable reason name.
 */

/** The page heading for an HTTP status ("Login could not be completed" for 400, ...). */
const char *olo_page_title(int status);

/** A complete HTML page; retry_href (a local path) is offered as "Sign in again" ("Start this
 * sign-in again" for OLO_R_STATE_DROPPED), except for OLO_R_CLOCK_SKEW, which signing in
 * again cannot cure (no link). */
const char *olo_page_html(apr_pool_t *p, int status, olo_reason_t reason, const char *retry_href);

/** A complete HTML page offering href (a local path, escaped here) as link_text; no link when
 * either is NULL. */
const char *olo_page_html_link(apr_pool_t *p, int status, olo_reason_t reason, const char *href,
                               const char *link_text);

/** {"error":"<reason name>","message":"<reason text>"} followed by a newline. */
const char *olo_page_json(apr_pool_t *p, olo_reason_t reason);

/** s with &, <, >, " and ' replaced by entities. */
const char *olo_page_escape(apr_pool_t *p, const char *s);

#endif
