/* The module's counters and their Prometheus text. The slots live in memory shared by
 * processes, so they are C11 atomics that must be lock-free: a lock-based fallback (as APR's
 * generic 64-bit atomics use) would lock per process and lose counts between children. */
#include <stdatomic.h>
#include <apr_strings.h>
#include <apr_tables.h>
#include "olo_stats.h"

_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2,
               "counters in shared memory need lock-free 64-bit atomics");

typedef atomic_ullong olo_stats_slot_t;

#define OLO_STATS_PREFIX "onelogin_oidc_"
/* Per family: one slot per reason, and one for reasons out of range ("unknown"). */
#define OLO_STATS_REASON_SLOTS (OLO_R__COUNT + 1)
#define OLO_STATS_SLOTS (OLO_STAT__COUNT + OLO_STAT_REASONED__COUNT * OLO_STATS_REASON_SLOTS)

/* One sample line; help is set on the first slot of each metric. */
typedef struct olo_stats_line_t {
    const char *metric;
    const char *labels;
    const char *help;
} olo_stats_line_t;

static const olo_stats_line_t olo_stats_lines[OLO_STAT__COUNT] = {
    [OLO_STAT_LOGINS_STARTED] = {"logins_started_total", NULL,
                                 "Logins started: browsers sent to the provider."},
    [OLO_STAT_LOGINS_COMPLETED] = {"logins_completed_total", NULL,
                                   "Logins completed: callbacks that ended in a session."},
    [OLO_STAT_RENEWALS_OK] = {"id_token_renewals_total", "result=\"ok\"",
                              "ID token renewals with the refresh token, by result."},
    [OLO_STAT_RENEWALS_FAILED] = {"id_token_renewals_total", "result=\"failed\"", NULL},
    [OLO_STAT_LOGOUTS] = {"logouts_total", NULL, "Requests to the logout path."},
    [OLO_STAT_BEARER_ACCEPTED] = {"bearer_tokens_accepted_total", NULL,
                                  "Bearer tokens sent by clients that verified."},
    [OLO_STAT_CACHE_HIT] = {"cache_lookups_total", "result=\"hit\"",
                            "Look-ups in OneLoginCache, by result."},
    [OLO_STAT_CACHE_MISS] = {"cache_lookups_total", "result=\"miss\"", NULL},
    [OLO_STAT_CACHE_ERROR] = {"cache_lookups_total", "result=\"error\"", NULL},
    [OLO_STAT_FETCH_DISCOVERY] = {"provider_fetches_total", "document=\"discovery\"",
                                  "Documents fetched from the provider or a trusted JWKS URL."},
    [OLO_STAT_FETCH_JWKS] = {"provider_fetches_total", "document=\"jwks\"", NULL},
    [OLO_STAT_JWKS_REFETCH] = {"jwks_refetches_total", NULL,
                               "JWKS fetched again before its TTL for a token's unknown kid."},
};

/* A per-reason metric, shown next to the counter it goes with. */
typedef struct olo_stats_family_t {
    olo_stats_line_t line;
    olo_stat_t after;
} olo_stats_family_t;

static const olo_stats_family_t olo_stats_families[OLO_STAT_REASONED__COUNT] = {
    [OLO_STAT_LOGINS_FAILED] = {{"logins_failed_total", NULL, "Logins that failed, by reason."},
                                OLO_STAT_LOGINS_COMPLETED},
    [OLO_STAT_SESSIONS_REFUSED] = {{"sessions_refused_total", NULL,
                                    "Session cookies not accepted, by reason."},
                                   OLO_STAT_LOGOUTS},
    [OLO_STAT_BEARER_REFUSED] = {{"bearer_tokens_refused_total", NULL,
                                  "Bearer tokens sent by clients that were refused, by reason."},
                                 OLO_STAT_BEARER_ACCEPTED},
};

apr_size_t olo_stats_size(void)
{
    return OLO_STATS_SLOTS * sizeof(olo_stats_slot_t);
}

void olo_stats_init(olo_stats_t *stats, void *memory)
{
    olo_stats_slot_t *slots = memory;
    for (int i = 0; slots && i < OLO_STATS_SLOTS; i++) {
        atomic_init(&slots[i], 0);
    }
    stats->slots = memory;
}

/* The slot of a counter, NULL when counting is off or the index is out of range. */
static olo_stats_slot_t *olo_stats_slot(const olo_stats_t *stats, int index)
{
    olo_stats_slot_t *slots = stats ? stats->slots : NULL;
    return (slots && index >= 0 && index < OLO_STATS_SLOTS) ? &slots[index] : NULL;
}

static int olo_stats_reason_index(olo_stat_reasoned_t family, olo_reason_t reason)
{
    if ((int)family < 0 || family >= OLO_STAT_REASONED__COUNT) {
        return -1;
    }
    int r = ((int)reason < 0 || reason >= OLO_R__COUNT) ? OLO_R__COUNT : (int)reason;
    return OLO_STAT__COUNT + (int)family * OLO_STATS_REASON_SLOTS + r;
}

static void olo_stats_bump(const olo_stats_t *stats, int index)
{
    olo_stats_slot_t *slot = olo_stats_slot(stats, index);
    if (slot) {
        /* Relaxed: counters order nothing else, and each one only grows. */
        atomic_fetch_add_explicit(slot, 1, memory_order_relaxed);
    }
}

static apr_uint64_t olo_stats_read(const olo_stats_t *stats, int index)
{
    olo_stats_slot_t *slot = olo_stats_slot(stats, index);
    return slot ? (apr_uint64_t)atomic_load_explicit(slot, memory_order_relaxed) : 0;
}

void olo_stats_add(const olo_stats_t *stats, olo_stat_t stat)
{
    if ((int)stat >= 0 && stat < OLO_STAT__COUNT) {
        olo_stats_bump(stats, (int)stat);
    }
}

void olo_stats_add_reason(const olo_stats_t *stats, olo_stat_reasoned_t family,
                          olo_reason_t reason)
{
    olo_stats_bump(stats, olo_stats_reason_index(family, reason));
}

void olo_stats_add_lookup(const olo_stats_t *stats, apr_status_t rv)
{
    olo_stats_add(stats, rv == APR_SUCCESS    ? OLO_STAT_CACHE_HIT
                         : rv == APR_NOTFOUND ? OLO_STAT_CACHE_MISS
                                              : OLO_STAT_CACHE_ERROR);
}

void olo_stats_add_provider_event(const olo_stats_t *stats, olo_provider_event_t event)
{
    switch (event) {
    case OLO_PROVIDER_FETCH_DISCOVERY:
        olo_stats_add(stats, OLO_STAT_FETCH_DISCOVERY);
        break;
    case OLO_PROVIDER_FETCH_JWKS:
        olo_stats_add(stats, OLO_STAT_FETCH_JWKS);
        break;
    case OLO_PROVIDER_REFETCH_JWKS:
        olo_stats_add(stats, OLO_STAT_JWKS_REFETCH);
        break;
    }
}

apr_uint64_t olo_stats_get(const olo_stats_t *stats, olo_stat_t stat)
{
    return ((int)stat >= 0 && stat < OLO_STAT__COUNT) ? olo_stats_read(stats, (int)stat) : 0;
}

apr_uint64_t olo_stats_get_reason(const olo_stats_t *stats, olo_stat_reasoned_t family,
                                  olo_reason_t reason)
{
    return olo_stats_read(stats, olo_stats_reason_index(family, reason));
}

/* The header of a metric: what it means, and that it only grows. */
static void olo_stats_render_head(apr_array_header_t *out, apr_pool_t *p,
                                  const olo_stats_line_t *line)
{
    APR_ARRAY_PUSH(out, const char *) =
        apr_psprintf(p, "# HELP " OLO_STATS_PREFIX "%s %s\n# TYPE " OLO_STATS_PREFIX "%s counter\n",
                     line->metric, line->help, line->metric);
}

static void olo_stats_render_sample(apr_array_header_t *out, apr_pool_t *p, const char *metric,
                                    const char *labels, apr_uint64_t value)
{
    APR_ARRAY_PUSH(out, const char *) =
        apr_psprintf(p, OLO_STATS_PREFIX "%s%s%s%s %" APR_UINT64_T_FMT "\n", metric,
                     labels ? "{" : "", labels ? labels : "", labels ? "}" : "", value);
}

/* A family's series: only the reasons seen so far, which keeps the page short (there are
 * dozens of reasons, most of which never happen to a given family). */
static void olo_stats_render_family(apr_array_header_t *out, apr_pool_t *p,
                                    const olo_stats_t *stats, olo_stat_reasoned_t family)
{
    const olo_stats_line_t *line = &olo_stats_families[family].line;
    olo_stats_render_head(out, p, line);
    for (int r = 0; r < OLO_STATS_REASON_SLOTS; r++) {
        apr_uint64_t value = olo_stats_get_reason(stats, family, (olo_reason_t)r);
        if (value > 0) {
            const char *name = olo_reason_name((olo_reason_t)r);
            olo_stats_render_sample(out, p, line->metric,
                                    apr_pstrcat(p, "reason=\"", name, "\"", NULL), value);
        }
    }
}

const char *olo_stats_render(apr_pool_t *p, const olo_stats_t *stats)
{
    apr_array_header_t *out = apr_array_make(p, 64, sizeof(const char *));
    for (int i = 0; i < OLO_STAT__COUNT; i++) {
        const olo_stats_line_t *line = &olo_stats_lines[i];
        if (line->help) {
            olo_stats_render_head(out, p, line);
        }
        olo_stats_render_sample(out, p, line->metric, line->labels,
                                olo_stats_get(stats, (olo_stat_t)i));
        for (int f = 0; f < OLO_STAT_REASONED__COUNT; f++) {
            if (olo_stats_families[f].after == (olo_stat_t)i) {
                olo_stats_render_family(out, p, stats, (olo_stat_reasoned_t)f);
            }
        }
    }
    return apr_array_pstrcat(p, out, '\0');
}
