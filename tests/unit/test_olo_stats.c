/* auth/olo_stats: counters in caller-provided memory, and their Prometheus text. */
#include <string.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>
#include "olo_test.h"
#include "../../auth/olo_stats.h"

/* Memory as the module gets it from apr_shm: aligned, and dirty until init zeroes it. */
static olo_stats_t *stats_make(void)
{
    olo_stats_t *stats = apr_pcalloc(olo_test_pool, sizeof(*stats));
    void *memory = apr_palloc(olo_test_pool, olo_stats_size());
    memset(memory, 0xab, olo_stats_size());
    olo_stats_init(stats, memory);
    return stats;
}

/* True when text holds this whole line. */
static int has_line(const char *text, const char *line)
{
    const char *at = strstr(text, apr_pstrcat(olo_test_pool, line, "\n", NULL));
    return at && (at == text || at[-1] == '\n');
}

static int count_of(const char *text, const char *needle)
{
    int n = 0;
    for (const char *at = strstr(text, needle); at; at = strstr(at + 1, needle)) {
        n++;
    }
    return n;
}

/* Each line of text is a HELP or TYPE comment or a sample "name[{labels}] value", and each
 * sample belongs to the metric of the TYPE line above it (a metric's samples stay together). */
static int is_exposition(const char *text)
{
    const char *metric = NULL;
    apr_size_t metric_len = 0;
    for (const char *line = text; *line;) {
        const char *end = strchr(line, '\n');
        if (!end) {
            return 0;   /* the last line ends with a newline too */
        }
        if (!strncmp(line, "# TYPE ", 7)) {
            metric = line + 7;
            metric_len = strcspn(metric, " ");
        }
        else if (line[0] != '#') {
            const char *value = line + metric_len;
            if (!metric || strncmp(line, metric, metric_len) || (*value != '{' && *value != ' ')) {
                return 0;
            }
            if (*value == '{') {
                value = strchr(value, '}');
                if (!value || value > end) {
                    return 0;
                }
                value++;
            }
            if (*value != ' ' || strspn(value + 1, "0123456789") != (apr_size_t)(end - value - 1)) {
                return 0;
            }
        }
        line = end + 1;
    }
    return metric != NULL;
}

START_TEST(init_zeroes_the_memory)
{
    olo_stats_t *stats = stats_make();
    for (int i = 0; i < OLO_STAT__COUNT; i++) {
        ck_assert_uint_eq(olo_stats_get(stats, (olo_stat_t)i), 0);
    }
    for (int f = 0; f < OLO_STAT_REASONED__COUNT; f++) {
        for (int r = 0; r <= OLO_R__COUNT; r++) {
            ck_assert_uint_eq(olo_stats_get_reason(stats, (olo_stat_reasoned_t)f,
                                                   (olo_reason_t)r), 0);
        }
    }
}
END_TEST

START_TEST(each_counter_counts_alone)
{
    olo_stats_t *stats = stats_make();
    olo_stats_add(stats, OLO_STAT_LOGINS_STARTED);
    olo_stats_add(stats, OLO_STAT_LOGINS_STARTED);
    olo_stats_add(stats, OLO_STAT_JWKS_REFETCH);
    ck_assert_uint_eq(olo_stats_get(stats, OLO_STAT_LOGINS_STARTED), 2);
    ck_assert_uint_eq(olo_stats_get(stats, OLO_STAT_JWKS_REFETCH), 1);
    ck_assert_uint_eq(olo_stats_get(stats, OLO_STAT_LOGINS_COMPLETED), 0);
    ck_assert_uint_eq(olo_stats_get_reason(stats, OLO_STAT_BEARER_REFUSED, OLO_OK), 0);
}
END_TEST

START_TEST(reasons_count_apart_per_family)
{
    olo_stats_t *stats = stats_make();
    olo_stats_add_reason(stats, OLO_STAT_LOGINS_FAILED, OLO_R_STATE_EXPIRED);
    olo_stats_add_reason(stats, OLO_STAT_LOGINS_FAILED, OLO_R_STATE_EXPIRED);
    olo_stats_add_reason(stats, OLO_STAT_SESSIONS_REFUSED, OLO_R_SESSION_IDLE);
    ck_assert_uint_eq(olo_stats_get_reason(stats, OLO_STAT_LOGINS_FAILED, OLO_R_STATE_EXPIRED), 2);
    ck_assert_uint_eq(olo_stats_get_reason(stats, OLO_STAT_SESSIONS_REFUSED,
                                           OLO_R_STATE_EXPIRED), 0);
    ck_assert_uint_eq(olo_stats_get_reason(stats, OLO_STAT_SESSIONS_REFUSED, OLO_R_SESSION_IDLE),
                      1);
    ck_assert_uint_eq(olo_stats_get_reason(stats, OLO_STAT_BEARER_REFUSED, OLO_R_SESSION_IDLE), 0);
}
END_TEST

START_TEST(reason_out_of_range_counts_as_unknown)
{
    olo_stats_t *stats = stats_make();
    olo_stats_add_reason(stats, OLO_STAT_BEARER_REFUSED, (olo_reason_t)(OLO_R__COUNT + 7));
    olo_stats_add_reason(stats, OLO_STAT_BEARER_REFUSED, (olo_reason_t)-1);
    ck_assert_uint_eq(olo_stats_get_reason(stats, OLO_STAT_BEARER_REFUSED, OLO_R__COUNT), 2);
    ck_assert(has_line(olo_stats_render(olo_test_pool, stats),
                       "onelogin_oidc_bearer_tokens_refused_total{reason=\"unknown\"} 2"));
}
END_TEST

START_TEST(out_of_range_counters_are_ignored)
{
    /* Under ASan: a write outside the slots would abort the run. */
    olo_stats_t *stats = stats_make();
    olo_stats_add(stats, OLO_STAT__COUNT);
    olo_stats_add(stats, (olo_stat_t)-1);
    olo_stats_add_reason(stats, OLO_STAT_REASONED__COUNT, OLO_R_EXPIRED);
    olo_stats_add_reason(stats, (olo_stat_reasoned_t)-1, OLO_R_EXPIRED);
    ck_assert_uint_eq(olo_stats_get(stats, OLO_STAT__COUNT), 0);
    ck_assert_uint_eq(olo_stats_get_reason(stats, OLO_STAT_REASONED__COUNT, OLO_R_EXPIRED), 0);
    ck_assert_int_eq(count_of(olo_stats_render(olo_test_pool, stats), "} 1\n"), 0);
}
END_TEST

START_TEST(without_memory_nothing_is_counted)
{
    olo_stats_t stats;
    olo_stats_init(&stats, NULL);
    olo_stats_add(&stats, OLO_STAT_LOGOUTS);
    olo_stats_add_reason(&stats, OLO_STAT_LOGINS_FAILED, OLO_R_STATE_UNKNOWN);
    ck_assert_uint_eq(olo_stats_get(&stats, OLO_STAT_LOGOUTS), 0);
    ck_assert_uint_eq(olo_stats_get_reason(&stats, OLO_STAT_LOGINS_FAILED, OLO_R_STATE_UNKNOWN), 0);
    olo_stats_add(NULL, OLO_STAT_LOGOUTS);
    ck_assert_uint_eq(olo_stats_get(NULL, OLO_STAT_LOGOUTS), 0);
}
END_TEST

START_TEST(cache_lookups_by_status)
{
    olo_stats_t *stats = stats_make();
    olo_stats_add_lookup(stats, APR_SUCCESS);
    olo_stats_add_lookup(stats, APR_NOTFOUND);
    olo_stats_add_lookup(stats, APR_NOTFOUND);
    olo_stats_add_lookup(stats, APR_EGENERAL);
    olo_stats_add_lookup(stats, APR_TIMEUP);
    ck_assert_uint_eq(olo_stats_get(stats, OLO_STAT_CACHE_HIT), 1);
    ck_assert_uint_eq(olo_stats_get(stats, OLO_STAT_CACHE_MISS), 2);
    ck_assert_uint_eq(olo_stats_get(stats, OLO_STAT_CACHE_ERROR), 2);
}
END_TEST

START_TEST(provider_events_by_document)
{
    olo_stats_t *stats = stats_make();
    olo_stats_add_provider_event(stats, OLO_PROVIDER_FETCH_DISCOVERY);
    olo_stats_add_provider_event(stats, OLO_PROVIDER_FETCH_JWKS);
    olo_stats_add_provider_event(stats, OLO_PROVIDER_FETCH_JWKS);
    olo_stats_add_provider_event(stats, OLO_PROVIDER_REFETCH_JWKS);
    ck_assert_uint_eq(olo_stats_get(stats, OLO_STAT_FETCH_DISCOVERY), 1);
    ck_assert_uint_eq(olo_stats_get(stats, OLO_STAT_FETCH_JWKS), 2);
    ck_assert_uint_eq(olo_stats_get(stats, OLO_STAT_JWKS_REFETCH), 1);
}
END_TEST

START_TEST(render_names_every_metric_once_with_help_and_type)
{
    static const char *const metrics[] = {
        "logins_started_total", "logins_completed_total", "logins_failed_total",
        "id_token_renewals_total", "logouts_total", "sessions_refused_total",
        "bearer_tokens_accepted_total", "bearer_tokens_refused_total", "cache_lookups_total",
        "provider_fetches_total", "jwks_refetches_total",
    };
    const char *text = olo_stats_render(olo_test_pool, stats_make());
    for (size_t i = 0; i < sizeof(metrics) / sizeof(metrics[0]); i++) {
        const char *help = apr_psprintf(olo_test_pool, "# HELP onelogin_oidc_%s ", metrics[i]);
        const char *type = apr_psprintf(olo_test_pool, "# TYPE onelogin_oidc_%s counter\n",
                                        metrics[i]);
        ck_assert_msg(count_of(text, help) == 1, "%s: HELP not once in\n%s", metrics[i], text);
        ck_assert_msg(count_of(text, type) == 1, "%s: TYPE not once", metrics[i]);
    }
    ck_assert_int_eq(count_of(text, "# TYPE "), sizeof(metrics) / sizeof(metrics[0]));
    ck_assert_msg(is_exposition(text), "not exposition format:\n%s", text);
}
END_TEST

START_TEST(render_shows_plain_counters_at_zero_and_reasons_once_seen)
{
    olo_stats_t *stats = stats_make();
    olo_stats_add(stats, OLO_STAT_LOGINS_COMPLETED);
    olo_stats_add(stats, OLO_STAT_CACHE_MISS);
    olo_stats_add_reason(stats, OLO_STAT_LOGINS_FAILED, OLO_R_STATE_EXPIRED);
    olo_stats_add_reason(stats, OLO_STAT_SESSIONS_REFUSED, OLO_R_COOKIE_INVALID);
    olo_stats_add_reason(stats, OLO_STAT_SESSIONS_REFUSED, OLO_R_COOKIE_INVALID);
    const char *text = olo_stats_render(olo_test_pool, stats);
    ck_assert(has_line(text, "onelogin_oidc_logins_started_total 0"));
    ck_assert(has_line(text, "onelogin_oidc_logins_completed_total 1"));
    ck_assert(has_line(text, "onelogin_oidc_cache_lookups_total{result=\"hit\"} 0"));
    ck_assert(has_line(text, "onelogin_oidc_cache_lookups_total{result=\"miss\"} 1"));
    ck_assert(has_line(text, "onelogin_oidc_id_token_renewals_total{result=\"failed\"} 0"));
    ck_assert(has_line(text, "onelogin_oidc_provider_fetches_total{document=\"jwks\"} 0"));
    ck_assert(has_line(text, "onelogin_oidc_logins_failed_total{reason=\"state-expired\"} 1"));
    ck_assert(has_line(text, "onelogin_oidc_sessions_refused_total{reason=\"cookie-invalid\"} 2"));
    ck_assert_int_eq(count_of(text, "logins_failed_total{"), 1);
    ck_assert_int_eq(count_of(text, "bearer_tokens_refused_total{"), 0);
    ck_assert_msg(is_exposition(text), "not exposition format:\n%s", text);
}
END_TEST

#define HAMMER_THREADS 4
#define HAMMER_ADDS 20000

static void *APR_THREAD_FUNC hammer(apr_thread_t *thread, void *data)
{
    for (int i = 0; i < HAMMER_ADDS; i++) {
        olo_stats_add(data, OLO_STAT_CACHE_HIT);
        olo_stats_add_reason(data, OLO_STAT_SESSIONS_REFUSED, OLO_R_SESSION_IDLE);
    }
    apr_thread_exit(thread, APR_SUCCESS);
    return NULL;
}

START_TEST(concurrent_adds_are_not_lost)
{
    olo_stats_t *stats = stats_make();
    apr_thread_t *threads[HAMMER_THREADS];
    apr_status_t rv;
    for (int i = 0; i < HAMMER_THREADS; i++) {
        ck_assert_int_eq(apr_thread_create(&threads[i], NULL, hammer, stats, olo_test_pool), 0);
    }
    for (int i = 0; i < HAMMER_THREADS; i++) {
        apr_thread_join(&rv, threads[i]);
    }
    ck_assert_uint_eq(olo_stats_get(stats, OLO_STAT_CACHE_HIT), HAMMER_THREADS * HAMMER_ADDS);
    ck_assert_uint_eq(olo_stats_get_reason(stats, OLO_STAT_SESSIONS_REFUSED, OLO_R_SESSION_IDLE),
                      HAMMER_THREADS * HAMMER_ADDS);
}
END_TEST

Suite *olo_suite_stats(void)
{
    Suite *s = suite_create("olo_stats");
    TCase *tc = tcase_create("stats");

    olo_test_add_pool_fixture(tc);
    tcase_add_test(tc, init_zeroes_the_memory);
    tcase_add_test(tc, each_counter_counts_alone);
    tcase_add_test(tc, reasons_count_apart_per_family);
    tcase_add_test(tc, reason_out_of_range_counts_as_unknown);
    tcase_add_test(tc, out_of_range_counters_are_ignored);
    tcase_add_test(tc, without_memory_nothing_is_counted);
    tcase_add_test(tc, cache_lookups_by_status);
    tcase_add_test(tc, provider_events_by_document);
    tcase_add_test(tc, render_names_every_metric_once_with_help_and_type);
    tcase_add_test(tc, render_shows_plain_counters_at_zero_and_reasons_once_seen);
    tcase_add_test(tc, concurrent_adds_are_not_lost);
    suite_add_tcase(s, tc);
    return s;
}
