/* SPDX-License-Identifier: MIT */
/* test_stats.c: ope-client's stats.c: latency percentiles, the summary and the exit code. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "client_exit.h"
#include "stats.h"
#include "testutil.h"

static void test_stats_percentile(void)
{
	uint64_t v[100];
	uint64_t four[] = { 10, 20, 30, 40 };
	uint64_t one[] = { 7 };
	size_t i;

	for (i = 0; i < 100; i++)
		v[i] = i + 1;
	CU_ASSERT_EQUAL(client_stats_percentile(v, 100, 50), 50);
	CU_ASSERT_EQUAL(client_stats_percentile(v, 100, 99), 99);
	CU_ASSERT_EQUAL(client_stats_percentile(v, 100, 100), 100);
	CU_ASSERT_EQUAL(client_stats_percentile(v, 100, 1), 1);
	CU_ASSERT_EQUAL(client_stats_percentile(v, 100, 0), 1);
	CU_ASSERT_EQUAL(client_stats_percentile(v, 100, 99.5), 100);
	CU_ASSERT_EQUAL(client_stats_percentile(four, 4, 50), 20);
	CU_ASSERT_EQUAL(client_stats_percentile(four, 4, 51), 30);
	CU_ASSERT_EQUAL(client_stats_percentile(four, 4, 99), 40);
	CU_ASSERT_EQUAL(client_stats_percentile(one, 1, 50), 7);
	CU_ASSERT_EQUAL(client_stats_percentile(one, 1, 99), 7);
	CU_ASSERT_EQUAL(client_stats_percentile(NULL, 0, 50), 0);
}

static void test_stats_summary(void)
{
	struct client_stats s;
	struct client_summary sum;
	uint64_t ms[] = { 9, 1, 5, 3, 7, 2, 8, 4, 10, 6 };
	size_t i;

	CU_ASSERT_EQUAL_FATAL(client_stats_init(&s, 10), 0);
	for (i = 0; i < 10; i++)
		CU_ASSERT_EQUAL(client_stats_add_latency(&s, ms[i] * 1000000), 0);
	CU_ASSERT_EQUAL(client_stats_add_latency(&s, 1), -1);	/* full */
	s.sent = 12;
	s.ok = 8;
	s.errors = 1;
	s.mismatches = 1;
	s.start_ns = 1000000000;
	s.end_ns = 3000000000;
	client_stats_summarize(&s, &sum);
	CU_ASSERT_DOUBLE_EQUAL(sum.elapsed_s, 2.0, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(sum.rate, 5.0, 1e-9);	/* 10 replies / 2 s */
	CU_ASSERT_DOUBLE_EQUAL(sum.p50_ms, 5.0, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(sum.p99_ms, 10.0, 1e-9);
	client_stats_free(&s);

	CU_ASSERT_EQUAL_FATAL(client_stats_init(&s, 0), 0);
	client_stats_summarize(&s, &sum);
	CU_ASSERT_DOUBLE_EQUAL(sum.rate, 0.0, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(sum.p99_ms, 0.0, 1e-9);
	client_stats_free(&s);
}

static void test_stats_exit_code(void)
{
	struct client_stats s;

	memset(&s, 0, sizeof(s));
	s.ok = 10;
	CU_ASSERT_EQUAL(client_stats_exit_code(&s, 10), CLIENT_EXIT_OK);
	s.ok = 9;
	s.timeouts = 1;
	CU_ASSERT_EQUAL(client_stats_exit_code(&s, 10), CLIENT_EXIT_TIMEOUT);
	s.timeouts = 0;		/* one never sent (interrupted) */
	CU_ASSERT_EQUAL(client_stats_exit_code(&s, 10), CLIENT_EXIT_TIMEOUT);
	s.errors = 1;
	CU_ASSERT_EQUAL(client_stats_exit_code(&s, 10), CLIENT_EXIT_FAIL);
	s.errors = 0;
	s.mismatches = 1;
	CU_ASSERT_EQUAL(client_stats_exit_code(&s, 10), CLIENT_EXIT_FAIL);
	s.mismatches = 0;
	s.ok = 10;
	s.duplicates = 1;
	CU_ASSERT_EQUAL(client_stats_exit_code(&s, 10), CLIENT_EXIT_FAIL);
}

static int test_stats_register(void)
{
	CU_pSuite s = CU_add_suite("client_stats", NULL, NULL);

	if (s == NULL ||
	    !CU_add_test(s, "percentiles", test_stats_percentile) ||
	    !CU_add_test(s, "summary", test_stats_summary) ||
	    !CU_add_test(s, "exit code", test_stats_exit_code))
		return CU_get_error();
	return CUE_SUCCESS;
}

TESTUTIL_SUITE(test_stats_register)
