/* Unit test runner: every suite listed in suites.inc, one summary line CI can read. */
#include <stdio.h>
#include <stdlib.h>
#include <apr_general.h>
#include "olo_test.h"

/* The Makefile writes suites.inc; a partial build may name another list. */
#ifndef OLO_SUITES_INC
#define OLO_SUITES_INC "suites.inc"
#endif

#define OLO_SUITE(name) Suite *olo_suite_##name(void);
#include OLO_SUITES_INC
#undef OLO_SUITE

apr_pool_t *olo_test_pool;
static unsigned char rand_counter;

apr_status_t olo_test_rand(unsigned char *buf, apr_size_t len)
{
    for (apr_size_t i = 0; i < len; i++) {
        buf[i] = rand_counter++;
    }
    return APR_SUCCESS;
}

apr_status_t olo_test_rand_fail(unsigned char *buf, apr_size_t len)
{
    (void)buf;
    (void)len;
    return APR_EGENERAL;
}

static void pool_setup(void)
{
    apr_pool_create(&olo_test_pool, NULL);
}

static void pool_teardown(void)
{
    apr_pool_destroy(olo_test_pool);
    olo_test_pool = NULL;
}

void olo_test_add_pool_fixture(TCase *tc)
{
    tcase_add_checked_fixture(tc, pool_setup, pool_teardown);
}

int main(void)
{
    apr_initialize();
    SRunner *runner = srunner_create(NULL);
#define OLO_SUITE(name) srunner_add_suite(runner, olo_suite_##name());
#include OLO_SUITES_INC
#undef OLO_SUITE
    /* No fork: sanitizers then report on the one process, and apr stays initialised. */
    srunner_set_fork_status(runner, CK_NOFORK);
    srunner_run_all(runner, CK_NORMAL);
    int run = srunner_ntests_run(runner);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    apr_terminate();
    printf("%d passed, %d failed\n", run - failed, failed);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
