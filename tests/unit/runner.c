/* SPDX-License-Identifier: MIT */
/* runner.c: main() of each unit test program: runs the suites linked into it, checks every test for leaks, exits 1 on any failure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <CUnit/Basic.h>

#include "leakcheck.h"
#include "log.h"
#include "testutil.h"

/* A suite's own per-test set-up and tear-down, run inside the runner's. */
struct hooks {
	CU_pSuite suite;
	CU_SetUpFunc setup;
	CU_TearDownFunc teardown;
	struct hooks *next;
};

static struct hooks *hooks;

static struct hooks *hooks_of(CU_pSuite suite)
{
	struct hooks *h;

	for (h = hooks; h != NULL; h = h->next)
		if (h->suite == suite)
			return h;
	return NULL;
}

/* What was live when the current test started. */
static struct {
	unsigned failures;
	long heap;
	long strophe;
} before;

/* Fail the current test with MSG. Not fatal: a fatal assertion here would
 * jump back into the test. */
static void leak_failure(const char *msg)
{
	CU_assertImplementation(CU_FALSE, 0, msg, "runner.c", "", CU_FALSE);
}

static void leak_count_failure(const char *what, long n)
{
	char msg[160];

	snprintf(msg, sizeof(msg), "leak: %ld %s block(s) still live after the test",
		 n, what);
	leak_failure(msg);
}

static void test_setup(void)
{
	struct hooks *h = hooks_of(CU_get_current_suite());

	before.failures = CU_get_number_of_failure_records();
	before.strophe = testutil_live_blocks();
	before.heap = leakcheck_live();
	if (h != NULL && h->setup != NULL)
		h->setup();
}

/* After each test, as libstrophe's own tests do: every block it allocated
 * is freed again. A test that already failed may have skipped its frees, and
 * CUnit keeps each failure record on the heap: count only passed tests. */
static void test_teardown(void)
{
	struct hooks *h = hooks_of(CU_get_current_suite());
	long heap, strophe;

	if (h != NULL && h->teardown != NULL)
		h->teardown();
	heap = leakcheck_live();
	strophe = testutil_live_blocks();

	if (leakcheck_unreachable())
		leak_failure("leak: LeakSanitizer found unreachable blocks "
			     "after this test (its report is above)");
	if (CU_get_number_of_failure_records() != before.failures)
		return;
	if (strophe != before.strophe)
		leak_count_failure("libstrophe", strophe - before.strophe);
	else if (heap != before.heap)
		leak_count_failure("heap", heap - before.heap);
}

/* Register every enlisted suite and give it the per-test leak check, around
 * the suite's own per-test set-up and tear-down if it has them. */
static int register_suites(void)
{
	struct testutil_suite *s;
	struct hooks *h;
	CU_pSuite suite;

	for (s = testutil_suites(); s != NULL; s = s->next) {
		if (s->add() != CUE_SUCCESS) {
			fprintf(stderr, "cannot register a suite: %s\n",
				CU_get_error_msg());
			return -1;
		}
	}
	for (suite = CU_get_registry()->pSuite; suite != NULL;
	     suite = suite->pNext) {
		if (suite->pSetUpFunc != NULL || suite->pTearDownFunc != NULL) {
			h = malloc(sizeof(*h));
			if (h == NULL)
				return -1;
			h->suite = suite;
			h->setup = suite->pSetUpFunc;
			h->teardown = suite->pTearDownFunc;
			h->next = hooks;
			hooks = h;
		}
		suite->pSetUpFunc = test_setup;
		suite->pTearDownFunc = test_teardown;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *name = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	unsigned records, suites_failed, tests_failed, ran;

	/* libc loads the time zone once, on the first local time, and keeps
	 * it: load it now, not inside the first test that logs. */
	tzset();
	/* Modules log; keep the runner's own output readable. */
	log_init(name, LOG_LEVEL_ERROR, stderr);
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	if (register_suites() < 0) {
		CU_cleanup_registry();
		return 1;
	}
	CU_basic_set_mode(argc > 1 && strcmp(argv[1], "-v") == 0 ?
			  CU_BRM_VERBOSE : CU_BRM_NORMAL);
	CU_basic_run_tests();
	/* Every failed assertion, suite set-up or clean-up (where suites check
	 * their own leaks) and inactive test leaves a failure record. */
	records = CU_get_number_of_failure_records();
	suites_failed = CU_get_number_of_suites_failed();
	tests_failed = CU_get_number_of_tests_failed();
	ran = CU_get_number_of_tests_run();
	CU_cleanup_registry();
	while (hooks != NULL) {
		struct hooks *next = hooks->next;

		free(hooks);
		hooks = next;
	}
	if (ran == 0) {
		fprintf(stderr, "%s: no unit test ran\n", name);
		return 1;
	}
	if (records > 0 || suites_failed > 0 || tests_failed > 0) {
		fprintf(stderr, "%s: FAILED: %u test(s) failed, %u suite set-up or "
			"clean-up(s) failed, %u failure record(s)\n", name,
			tests_failed, suites_failed, records);
		return 1;
	}
	return 0;
}
