/* SPDX-License-Identifier: MIT */
/* test_util.c: util.c: growing arrays, waiting for an fd, sorting numbers. */
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "testutil.h"
#include "util.h"

static void test_grow(void)
{
	uint64_t *v = NULL;
	size_t cap = 0;

	CU_ASSERT_EQUAL_FATAL(util_grow(&v, &cap, 3, sizeof(*v), 4), 0);
	CU_ASSERT_EQUAL(cap, 4);
	v[3] = 7;
	CU_ASSERT_EQUAL_FATAL(util_grow(&v, &cap, 4, sizeof(*v), 4), 0);
	CU_ASSERT_EQUAL(cap, 4);
	CU_ASSERT_EQUAL_FATAL(util_grow(&v, &cap, 9, sizeof(*v), 4), 0);
	CU_ASSERT_EQUAL(cap, 16);
	CU_ASSERT_EQUAL(v[3], 7);
	/* Beyond what size_t can count: refused, the array as it was. */
	CU_ASSERT_EQUAL(util_grow(&v, &cap, SIZE_MAX / 4, sizeof(*v), 4), -1);
	CU_ASSERT_EQUAL(cap, 16);
	CU_ASSERT_EQUAL(v[3], 7);
	free(v);
	/* No first size: one, doubling (the loop once never ended). */
	v = NULL;
	cap = 0;
	CU_ASSERT_EQUAL_FATAL(util_grow(&v, &cap, 3, sizeof(*v), 0), 0);
	CU_ASSERT_EQUAL(cap, 4);
	free(v);
	/* Elements of no size: refused, not divided by. */
	v = NULL;
	cap = 0;
	CU_ASSERT_EQUAL(util_grow(&v, &cap, 3, 0, 4), -1);
	CU_ASSERT_EQUAL(cap, 0);
}

static void test_wait_fd(void)
{
	int fds[2];

	CU_ASSERT_EQUAL_FATAL(pipe(fds), 0);
	/* Nothing to read: the deadline (already past) ends the wait. */
	CU_ASSERT_EQUAL(util_wait_fd(fds[0], POLLIN, util_now_ns()), 0);
	CU_ASSERT_EQUAL(util_wait_fd(fds[0], POLLIN, util_now_ns() + 1000000u), 0);
	CU_ASSERT_EQUAL(util_wait_fd(fds[1], POLLOUT, UINT64_MAX), 1);
	CU_ASSERT_EQUAL_FATAL(write(fds[1], "x", 1), 1);
	CU_ASSERT_EQUAL(util_wait_fd(fds[0], POLLIN, UINT64_MAX), 1);
	close(fds[0]);
	close(fds[1]);
}

static void test_cmp_u64(void)
{
	uint64_t v[] = { UINT64_MAX, 3, 0, 3, 1ULL << 40 };

	qsort(v, ARRAY_SIZE(v), sizeof(v[0]), util_cmp_u64);
	CU_ASSERT_EQUAL(v[0], 0);
	CU_ASSERT_EQUAL(v[1], 3);
	CU_ASSERT_EQUAL(v[2], 3);
	CU_ASSERT_EQUAL(v[3], 1ULL << 40);
	CU_ASSERT_EQUAL(v[4], UINT64_MAX);
}

static int test_util_register(void)
{
	CU_pSuite s = CU_add_suite("util", NULL, NULL);

	if (s == NULL || !CU_add_test(s, "util_grow", test_grow) ||
	    !CU_add_test(s, "util_wait_fd", test_wait_fd) ||
	    !CU_add_test(s, "util_cmp_u64", test_cmp_u64))
		return CU_get_error();
	return CUE_SUCCESS;
}

TESTUTIL_SUITE(test_util_register)
