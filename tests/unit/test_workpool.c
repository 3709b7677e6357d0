/* SPDX-License-Identifier: MIT */
/* test_workpool.c: unit tests for the worker pool: jobs run off the caller's thread, come back through the fd, the cap holds. */
#include <poll.h>
#include <pthread.h>

#include <CUnit/CUnit.h>

#include "testutil.h"
#include "workpool.h"

struct job {
	pthread_t ran_on;
	int done;
};

static void run(void *arg)
{
	struct job *j = arg;

	j->ran_on = pthread_self();
	j->done = 1;
}

static void discard(void *arg, void *count)
{
	(void)arg;
	(*(int *)count)++;
}

/* Bounded, generous wait for the fd to become readable. */
static int readable(struct workpool *wp)
{
	struct pollfd p = { .fd = workpool_fd(wp), .events = POLLIN };

	return poll(&p, 1, 60000) == 1;
}

static void test_round_trip(void)
{
	struct job jobs[4] = { { 0 } }, extra;
	struct workpool *wp = workpool_new(1, 4, run);
	size_t i, taken = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(wp);
	for (i = 0; i < 4; i++)
		CU_ASSERT_EQUAL(workpool_submit(wp, &jobs[i]), 0);
	/* The cap counts jobs not yet taken back. */
	CU_ASSERT_EQUAL(workpool_submit(wp, &extra), -1);
	CU_ASSERT_EQUAL(workpool_held(wp), 4);
	while (taken < 4 && readable(wp)) {
		struct job *j;

		while ((j = workpool_take(wp)) != NULL) {
			CU_ASSERT(j->done);
			CU_ASSERT(!pthread_equal(j->ran_on, pthread_self()));
			taken++;
		}
	}
	CU_ASSERT_EQUAL(taken, 4);
	CU_ASSERT_EQUAL(workpool_held(wp), 0);
	/* Drained: the fd is quiet again. */
	{
		struct pollfd p = { .fd = workpool_fd(wp), .events = POLLIN };

		CU_ASSERT_EQUAL(poll(&p, 1, 0), 0);
	}
	workpool_free(wp, NULL, NULL);
}

/* Jobs not taken back go to the discard callback when the pool stops. */
static void test_free_discards(void)
{
	struct job jobs[3] = { { 0 } };
	struct workpool *wp = workpool_new(2, 8, run);
	int discarded = 0;
	size_t i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(wp);
	for (i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(workpool_submit(wp, &jobs[i]), 0);
	workpool_free(wp, discard, &discarded);
	CU_ASSERT_EQUAL(discarded, 3);
}

static const struct testutil_test tests[] = {
	{ "jobs run on a worker and come back through the fd", test_round_trip },
	{ "jobs not taken back are discarded at free", test_free_discards },
};

static int test_workpool_register(void)
{
	/* glibc keeps joined threads' stacks, each with a TLS block from the
	 * heap, for the next threads: start and join two before any test, so
	 * the tests' workers are not counted as leaks. */
	workpool_free(workpool_new(2, 1, run), NULL, NULL);
	return testutil_add_tests("workpool", tests, sizeof(tests) / sizeof(tests[0]));
}

TESTUTIL_SUITE(test_workpool_register)
