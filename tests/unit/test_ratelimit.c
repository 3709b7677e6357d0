/* SPDX-License-Identifier: MIT */
/* test_ratelimit.c: unit tests for token buckets (fake clock) and the bounded LRU sender table. */
#include <stdio.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "ratelimit.h"
#include "testutil.h"

/* How many takes succeed at time NOW, trying N times. */
static int takes(struct ratelimit_bucket *b, const struct ratelimit_rate *r,
		 double now, int n)
{
	int ok = 0;

	while (n-- > 0)
		ok += ratelimit_take(b, r, now) == 0;
	return ok;
}

static void test_bucket(void)
{
	struct ratelimit_rate r = { 2.0, 5 };
	struct ratelimit_bucket b = { 0 };

	/* Starts full: the burst, then nothing more at the same instant. */
	CU_ASSERT_EQUAL(takes(&b, &r, 100.0, 10), 5);
	CU_ASSERT_EQUAL(ratelimit_take(&b, &r, 100.0), -1);
	/* 0.4 s at 2/s is 0.8 of a token: still nothing. */
	CU_ASSERT_EQUAL(takes(&b, &r, 100.4, 3), 0);
	/* At 0.5 s the token is whole. */
	CU_ASSERT_EQUAL(takes(&b, &r, 100.5, 3), 1);
	/* A long pause refills to the burst, never above it. */
	CU_ASSERT_EQUAL(takes(&b, &r, 1000.0, 10), 5);
	/* A clock that steps back gives nothing and breaks nothing. */
	CU_ASSERT_EQUAL(takes(&b, &r, 999.0, 3), 0);
	CU_ASSERT_EQUAL(takes(&b, &r, 1001.0, 3), 2);
}

static void test_bucket_unlimited_and_shrunk(void)
{
	struct ratelimit_rate off = { 0, 1 }, big = { 1.0, 100 }, small = { 1.0, 3 };
	struct ratelimit_bucket b = { 0 };

	CU_ASSERT_EQUAL(takes(&b, &off, 1.0, 1000), 1000);
	memset(&b, 0, sizeof(b));
	CU_ASSERT_EQUAL(takes(&b, &big, 1.0, 10), 10);
	/* A reload shrinks the burst: the bucket is cut down to it. */
	CU_ASSERT_EQUAL(takes(&b, &small, 1.0, 10), 3);
}

static void test_due(void)
{
	double last = 0;

	CU_ASSERT_EQUAL(ratelimit_due(&last, 10.0, 60), 1);
	CU_ASSERT_EQUAL(ratelimit_due(&last, 30.0, 60), 0);
	CU_ASSERT_EQUAL(ratelimit_due(&last, 69.9, 60), 0);
	CU_ASSERT_EQUAL(ratelimit_due(&last, 70.0, 60), 1);
}

static struct ratelimit_sender *get(struct ratelimit_table *t, const char *k)
{
	return ratelimit_table_get(t, k, strlen(k));
}

static void test_table_lru(void)
{
	struct ratelimit_table *t = ratelimit_table_new(3);
	struct ratelimit_sender *a;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	a = get(t, "a@x");
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	a->limit_quiet = 11;
	get(t, "b@x")->limit_quiet = 22;
	get(t, "c@x")->limit_quiet = 33;
	CU_ASSERT_EQUAL(ratelimit_table_count(t), 3);
	/* Touch a: b is now the least recently seen. */
	CU_ASSERT_EQUAL(get(t, "a@x")->limit_quiet, 11);
	get(t, "d@x")->limit_quiet = 44;
	CU_ASSERT_EQUAL(ratelimit_table_count(t), 3);
	CU_ASSERT_EQUAL(get(t, "a@x")->limit_quiet, 11);
	CU_ASSERT_EQUAL(get(t, "c@x")->limit_quiet, 33);
	CU_ASSERT_EQUAL(get(t, "d@x")->limit_quiet, 44);
	/* b was forgotten: it comes back fresh (and pushes out a). */
	CU_ASSERT_EQUAL(get(t, "b@x")->limit_quiet, 0);
	CU_ASSERT_EQUAL(get(t, "a@x")->limit_quiet, 0);
	CU_ASSERT_EQUAL(ratelimit_table_count(t), 3);
	ratelimit_table_free(t);
}

/* Many more senders than slots: memory stays bounded, lookups stay right. */
static void test_table_churn(void)
{
	struct ratelimit_table *t = ratelimit_table_new(100);
	char key[32];
	int i, fresh = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	for (i = 0; i < 20000; i++) {
		struct ratelimit_sender *s;

		snprintf(key, sizeof(key), "user%d@x", i % 150);
		s = get(t, key);
		CU_ASSERT_PTR_NOT_NULL_FATAL(s);
		fresh += s->deny_quiet == 0;
		s->deny_quiet = 1;
	}
	/* 150 keys round-robin through 100 slots: every one was evicted
	 * before it came back. */
	CU_ASSERT_EQUAL(fresh, 20000);
	CU_ASSERT_EQUAL(ratelimit_table_count(t), 100);
	ratelimit_table_free(t);
	t = ratelimit_table_new(200);
	for (i = 0; i < 20000; i++) {
		snprintf(key, sizeof(key), "user%d@x", i % 150);
		get(t, key)->deny_quiet++;
	}
	CU_ASSERT_EQUAL(get(t, "user0@x")->deny_quiet, 134);
	CU_ASSERT_EQUAL(ratelimit_table_count(t), 150);
	ratelimit_table_free(t);
	CU_ASSERT_PTR_NULL(ratelimit_table_new(0));
}

static const struct testutil_test tests[] = {
	{ "bucket: burst, refill, clock steps", test_bucket },
	{ "bucket: unlimited, shrunk burst", test_bucket_unlimited_and_shrunk },
	{ "log throttle", test_due },
	{ "sender table: LRU eviction", test_table_lru },
	{ "sender table: bounded under churn", test_table_churn },
};

static int test_ratelimit_register(void)
{
	return testutil_add_tests("ratelimit", tests, sizeof(tests) / sizeof(tests[0]));
}

TESTUTIL_SUITE(test_ratelimit_register)
