/* SPDX-License-Identifier: MIT */
/* test_backoff.c: the reconnect delays grow, jitter, cap and reset. */
#include <CUnit/CUnit.h>

#include "backoff.h"
#include "testutil.h"

static void test_growth_and_cap(void)
{
	struct backoff b;
	unsigned d, i;

	backoff_init(&b, 1000, 8000);
	/* Random 0: no jitter, so the steps are exact. */
	CU_ASSERT_EQUAL(backoff_next(&b, 0), 1000);
	CU_ASSERT_EQUAL(backoff_next(&b, 0), 2000);
	CU_ASSERT_EQUAL(backoff_next(&b, 0), 4000);
	CU_ASSERT_EQUAL(backoff_next(&b, 0), 8000);
	CU_ASSERT_EQUAL(backoff_next(&b, 0), 8000);
	CU_ASSERT_EQUAL(b.attempts, 5);
	/* Jitter stays within a quarter of the step, whatever the draw. */
	for (i = 0; i < 1000; i++) {
		d = backoff_next(&b, i * 2654435761u);
		CU_ASSERT_TRUE(d >= 8000 && d <= 10000);
	}
	backoff_reset(&b);
	CU_ASSERT_EQUAL(b.attempts, 0);
	CU_ASSERT_EQUAL(backoff_next(&b, 0), 1000);
}

static void test_degenerate(void)
{
	struct backoff b;

	backoff_init(&b, 0, 0);
	CU_ASSERT_TRUE(backoff_next(&b, 12345) >= 1);
	backoff_init(&b, 5000, 100);     /* max below initial: raised */
	CU_ASSERT_EQUAL(backoff_next(&b, 0), 5000);
	CU_ASSERT_EQUAL(backoff_next(&b, 0), 5000);
	backoff_init(&b, 3000000, 3600000);  /* no overflow near the top */
	CU_ASSERT_EQUAL(backoff_next(&b, 0), 3000000);
	CU_ASSERT_EQUAL(backoff_next(&b, 0), 3600000);
}

static int test_backoff_register(void)
{
	CU_pSuite s = CU_add_suite("backoff", NULL, NULL);

	if (s == NULL ||
	    !CU_add_test(s, "growth, jitter, cap, reset", test_growth_and_cap) ||
	    !CU_add_test(s, "degenerate settings", test_degenerate))
		return CU_get_error();
	return CUE_SUCCESS;
}

TESTUTIL_SUITE(test_backoff_register)
