#ifndef OLO_TEST_H
#define OLO_TEST_H

/* Shared helpers for the unit suites: each test gets a fresh pool, a fixed clock and a
 * deterministic random source. Each test_<file>.c defines `Suite *olo_suite_<file>(void)`;
 * the Makefile collects those names into suites.inc for main.c. */

#include <check.h>
#include <apr_pools.h>
#include <apr_time.h>

extern apr_pool_t *olo_test_pool;                 /* fresh for every test */
#define OLO_TEST_NOW apr_time_from_sec(1700000000) /* 2023-11-14T22:13:20Z */

/** Deterministic "random" bytes: a counter, so two calls never repeat. */
apr_status_t olo_test_rand(unsigned char *buf, apr_size_t len);
/** A source that always fails. */
apr_status_t olo_test_rand_fail(unsigned char *buf, apr_size_t len);

/** Adds the per-test pool fixture to tc. */
void olo_test_add_pool_fixture(TCase *tc);

#endif
