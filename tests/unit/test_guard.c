/* SPDX-License-Identifier: MIT */
/* test_guard.c: unit tests for the decision: limits, then rules, then passwords (fake clock). */
#include <stdio.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "access.h"
#include "config.h"
#include "guard.h"
#include "testutil.h"

/* "pw-right" (mkpasswd -m sha512crypt). */
#define SHA_HASH "$6$AcmlSbM6nEC.9.Io$Jk7V6ooFrrxk3L7tafPXufHXkuWpUhGA3KINNit4UROvF/sfakdRb0y6KhXtio4jm59e025Qvm8uVfBlhOyaH1"

static struct config cfg;
static struct guard *g;
static const char *text;

/* The example table, with limits that stay out of the way. */
static void setup(void)
{
	char err[300];

	testutil_config(&cfg);
	cfg.access = access_table_new(ACCESS_DENY);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg.access);
	CU_ASSERT_EQUAL(access_table_add(cfg.access, "admin@example.org",
					 ACCESS_ALLOW, NULL, "t.conf:1", err,
					 sizeof(err)), 0);
	CU_ASSERT_EQUAL(access_table_add(cfg.access, "*@example.org",
					 ACCESS_ALLOW, SHA_HASH, "t.conf:2", err,
					 sizeof(err)), 0);
	CU_ASSERT_EQUAL(access_table_add(cfg.access, "example.net",
					 ACCESS_DENY, NULL, "t.conf:3", err,
					 sizeof(err)), 0);
	cfg.limit_sender = (struct ratelimit_rate){ 1000, 1000 };
	cfg.limit_total = (struct ratelimit_rate){ 0, 1 };
	cfg.limit_password = (struct ratelimit_rate){ 1.0, 5 };
	cfg.limit_hashes = (struct ratelimit_rate){ 0, 1 };
	g = guard_new(16);
	CU_ASSERT_PTR_NOT_NULL_FATAL(g);
}

static void teardown(void)
{
	guard_free(g);
	access_table_free(cfg.access);
	g = NULL;
	cfg.access = NULL;
}

static enum stanza_cond check(const char *from, const char *pw, double now)
{
	return guard_check(g, &cfg, from, 1, pw, now, &text);
}

static unsigned long hashed(void)
{
	struct guard_stats st;

	guard_stats(g, &st);
	return st.hashed;
}

static void test_rules(void)
{
	setup();
	CU_ASSERT_EQUAL(check("admin@example.org/r", NULL, 1), STANZA_COND_NONE);
	CU_ASSERT_EQUAL(check("eve@example.net/r", NULL, 1), STANZA_COND_FORBIDDEN);
	/* No rule: the default (deny). */
	CU_ASSERT_EQUAL(check("x@else.org/r", NULL, 1), STANZA_COND_FORBIDDEN);
	CU_ASSERT_PTR_NOT_NULL(text);
	/* Not controlled (disco, ping...): the table does not apply. */
	CU_ASSERT_EQUAL(guard_check(g, &cfg, "x@else.org/r", 0, NULL, 1, &text),
			STANZA_COND_NONE);
	access_table_set_default(cfg.access, ACCESS_ALLOW);
	CU_ASSERT_EQUAL(check("x@else.org/r", NULL, 1), STANZA_COND_NONE);
	teardown();
}

static void test_passwords(void)
{
	setup();
	CU_ASSERT_EQUAL(check("bob@example.org/r", NULL, 1), STANZA_COND_NOT_AUTHORIZED);
	CU_ASSERT_EQUAL(check("bob@example.org/r", "", 1), STANZA_COND_NOT_AUTHORIZED);
	CU_ASSERT_EQUAL(hashed(), 0);
	CU_ASSERT_EQUAL(check("bob@example.org/r", "pw-wrong", 1),
			STANZA_COND_NOT_AUTHORIZED);
	CU_ASSERT_STRING_EQUAL(text, "wrong password");
	CU_ASSERT_EQUAL(hashed(), 1);
	CU_ASSERT_EQUAL(check("bob@example.org/r", "pw-right", 1), STANZA_COND_NONE);
	CU_ASSERT_EQUAL(hashed(), 2);
	/* Later requests with the right password cost no hash. */
	CU_ASSERT_EQUAL(check("Bob@Example.org/other", "pw-right", 2), STANZA_COND_NONE);
	CU_ASSERT_EQUAL(check("bob@example.org/r", "pw-right", 3), STANZA_COND_NONE);
	CU_ASSERT_EQUAL(hashed(), 2);
	/* A right password from another account is checked for that one. */
	CU_ASSERT_EQUAL(check("carol@example.org/r", "pw-right", 3), STANZA_COND_NONE);
	CU_ASSERT_EQUAL(hashed(), 3);
	teardown();
}

/* A flood of guesses: after the burst, refusals cost no hash at all. */
static void test_guess_flood(void)
{
	int i, limited = 0;

	setup();
	for (i = 0; i < 200; i++) {
		enum stanza_cond c = check("mallory@example.org/r", "guess", 10);

		limited += c == STANZA_COND_RATE_LIMITED;
	}
	CU_ASSERT_EQUAL(hashed(), 5);
	CU_ASSERT_EQUAL(limited, 195);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "rate limit"));
	/* One second later: one more attempt. */
	CU_ASSERT_EQUAL(check("mallory@example.org/r", "guess", 11),
			STANZA_COND_NOT_AUTHORIZED);
	CU_ASSERT_EQUAL(check("mallory@example.org/r", "guess", 11),
			STANZA_COND_RATE_LIMITED);
	CU_ASSERT_EQUAL(hashed(), 6);
	/* Meanwhile another account is not affected. */
	CU_ASSERT_EQUAL(check("bob@example.org/r", "pw-right", 11), STANZA_COND_NONE);
	/* The global budget of hashes: resource-constraint for everyone. */
	cfg.limit_hashes = (struct ratelimit_rate){ 1.0, 1 };
	CU_ASSERT_EQUAL(check("u1@example.org/r", "x", 20), STANZA_COND_NOT_AUTHORIZED);
	CU_ASSERT_EQUAL(check("u2@example.org/r", "x", 20),
			STANZA_COND_RESOURCE_CONSTRAINT);
	teardown();
}

static void test_sender_rate(void)
{
	int i, ok = 0;

	setup();
	cfg.limit_sender = (struct ratelimit_rate){ 2.0, 4 };
	for (i = 0; i < 10; i++)
		ok += check("admin@example.org/r", NULL, 5.0) == STANZA_COND_NONE;
	CU_ASSERT_EQUAL(ok, 4);
	CU_ASSERT_EQUAL(check("admin@example.org/r", NULL, 5.0),
			STANZA_COND_RATE_LIMITED);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "rate limit"));
	/* Every request counts, controlled or not, and so do denied ones. */
	CU_ASSERT_EQUAL(guard_check(g, &cfg, "admin@example.org/x", 0, NULL, 5.0,
				    &text), STANZA_COND_RATE_LIMITED);
	/* Another sender has its own bucket. */
	CU_ASSERT_EQUAL(check("eve@example.net/r", NULL, 5.0), STANZA_COND_FORBIDDEN);
	/* After the refill: answers again. */
	CU_ASSERT_EQUAL(check("admin@example.org/r", NULL, 5.5), STANZA_COND_NONE);
	CU_ASSERT_EQUAL(check("admin@example.org/r", NULL, 5.5),
			STANZA_COND_RATE_LIMITED);
	teardown();
}

static void test_total_rate(void)
{
	char from[64];
	int i, busy = 0;

	setup();
	access_table_set_default(cfg.access, ACCESS_ALLOW);
	cfg.limit_total = (struct ratelimit_rate){ 10.0, 20 };
	for (i = 0; i < 30; i++) {
		snprintf(from, sizeof(from), "user%d@else.org/r", i);
		busy += check(from, NULL, 1.0) == STANZA_COND_RESOURCE_CONSTRAINT;
	}
	CU_ASSERT_EQUAL(busy, 10);
	teardown();
}

/* No access section and limits off: nothing is refused or remembered. */
static void test_open(void)
{
	struct guard_stats st;
	int i;

	setup();
	access_table_free(cfg.access);
	cfg.access = NULL;
	cfg.limit_sender.rate = 0;
	for (i = 0; i < 100; i++)
		CU_ASSERT_EQUAL(check("anyone@anywhere/r", NULL, 1), STANZA_COND_NONE);
	guard_stats(g, &st);
	CU_ASSERT_EQUAL(st.senders, 0);
	teardown();
}

static const struct testutil_test tests[] = {
	{ "rules and default", test_rules },
	{ "passwords: missing, wrong, right, cached", test_passwords },
	{ "a flood of guesses costs no hashes", test_guess_flood },
	{ "per-sender rate and refill", test_sender_rate },
	{ "total rate", test_total_rate },
	{ "open when unconfigured", test_open },
};

static int test_guard_register(void)
{
	return testutil_add_tests("guard", tests, sizeof(tests) / sizeof(tests[0]));
}

TESTUTIL_SUITE(test_guard_register)
