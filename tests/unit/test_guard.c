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

/* The whole decision at NOW, a hash (if any) run at once, as a worker
 * would. */
static enum stanza_cond check(const char *from, const char *pw, double now)
{
	struct guard_job *job;
	enum stanza_cond c = guard_check(g, &cfg, from, 1, pw, now, &text, &job);

	if (c == STANZA_COND_NONE && job != NULL) {
		guard_job_run(job);
		c = guard_job_finish(g, &cfg, job, now, &text);
	}
	return c;
}

/* Only the first half: the hash is still running. */
static struct guard_job *start(const char *from, const char *pw, double now)
{
	struct guard_job *job = NULL;

	CU_ASSERT_EQUAL(guard_check(g, &cfg, from, 1, pw, now, &text, &job),
			STANZA_COND_NONE);
	CU_ASSERT_PTR_NOT_NULL(job);
	return job;
}

static unsigned long hashed(void)
{
	struct guard_stats st;

	guard_stats(g, &st);
	return st.hashed;
}

static void test_rules(void)
{
	struct guard_job *job;

	setup();
	CU_ASSERT_EQUAL(check("admin@example.org/r", NULL, 1), STANZA_COND_NONE);
	CU_ASSERT_EQUAL(check("eve@example.net/r", NULL, 1), STANZA_COND_FORBIDDEN);
	/* No rule: the default (deny). */
	CU_ASSERT_EQUAL(check("x@else.org/r", NULL, 1), STANZA_COND_FORBIDDEN);
	CU_ASSERT_PTR_NOT_NULL(text);
	/* Not controlled (disco, ping...): the table does not apply. */
	CU_ASSERT_EQUAL(guard_check(g, &cfg, "x@else.org/r", 0, NULL, 1, &text,
				    &job), STANZA_COND_NONE);
	CU_ASSERT_PTR_NULL(job);
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
	struct guard_job *job;
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
				    &text, &job), STANZA_COND_RATE_LIMITED);
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

static unsigned long backoff_refused(void)
{
	struct guard_stats st;

	guard_stats(g, &st);
	return st.backoff_refused;
}

static size_t backing_off(void)
{
	struct guard_stats st;

	guard_stats(g, &st);
	return st.rules_backing_off;
}

/* Wrong passwords from many senders against one rule: after
 * limits.password.rule_failures of them the rule backs off for everyone,
 * one check at a time, with a doubling delay up to the cap. */
static void test_rule_backoff(void)
{
	char from[64];
	int i, wrong = 0;

	setup();
	cfg.limit_rule_failures = 4;
	cfg.limit_rule_backoff_ms = 8000;
	/* The whole budget at one instant: each sender is new, so no
	 * per-sender limit applies. */
	for (i = 0; i < 4; i++) {
		snprintf(from, sizeof(from), "m%d@example.org/r", i);
		wrong += check(from, "guess", 100) == STANZA_COND_NOT_AUTHORIZED;
	}
	CU_ASSERT_EQUAL(wrong, 4);
	CU_ASSERT_EQUAL(backing_off(), 0);
	/* The fifth wrong one starts the back-off: 1 s. */
	CU_ASSERT_EQUAL(check("m4@example.org/r", "guess", 100),
			STANZA_COND_NOT_AUTHORIZED);
	CU_ASSERT_EQUAL(backing_off(), 1);
	CU_ASSERT_EQUAL(hashed(), 5);
	/* Anyone, any password, right or wrong: refused without a hash. */
	CU_ASSERT_EQUAL(check("m5@example.org/r", "guess", 100.5),
			STANZA_COND_RATE_LIMITED);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "slowed down"));
	CU_ASSERT_EQUAL(check("bob@example.org/r", "pw-right", 100.5),
			STANZA_COND_RATE_LIMITED);
	CU_ASSERT_EQUAL(hashed(), 5);
	CU_ASSERT_EQUAL(backoff_refused(), 2);
	/* After the delay one more try; wrong again: 2 s, then 4, 8, 8 (the
	 * cap). Each delay is counted from the end of the wrong check. */
	CU_ASSERT_EQUAL(check("m6@example.org/r", "guess", 101), STANZA_COND_NOT_AUTHORIZED);
	CU_ASSERT_EQUAL(check("m7@example.org/r", "guess", 102.9), STANZA_COND_RATE_LIMITED);
	CU_ASSERT_EQUAL(check("m7@example.org/r", "guess", 103), STANZA_COND_NOT_AUTHORIZED);
	CU_ASSERT_EQUAL(check("m8@example.org/r", "guess", 106.9), STANZA_COND_RATE_LIMITED);
	CU_ASSERT_EQUAL(check("m8@example.org/r", "guess", 107), STANZA_COND_NOT_AUTHORIZED);
	CU_ASSERT_EQUAL(check("m9@example.org/r", "guess", 114.9), STANZA_COND_RATE_LIMITED);
	CU_ASSERT_EQUAL(check("m9@example.org/r", "guess", 115), STANZA_COND_NOT_AUTHORIZED);
	CU_ASSERT_EQUAL(check("ma@example.org/r", "guess", 122.9), STANZA_COND_RATE_LIMITED);
	CU_ASSERT_EQUAL(check("ma@example.org/r", "guess", 123), STANZA_COND_NOT_AUTHORIZED);
	CU_ASSERT_EQUAL(hashed(), 10);
	/* A right password resets the delay; the failures counted stay:
	 * what the window refilled is all the next guesses get. */
	CU_ASSERT_EQUAL(check("bob@example.org/r", "pw-right", 131), STANZA_COND_NONE);
	CU_ASSERT_EQUAL(backing_off(), 0);
	CU_ASSERT_EQUAL(check("mb@example.org/r", "guess", 131), STANZA_COND_NOT_AUTHORIZED);
	CU_ASSERT_EQUAL(check("mc@example.org/r", "guess", 131), STANZA_COND_NOT_AUTHORIZED);
	CU_ASSERT_EQUAL(backing_off(), 1);
	CU_ASSERT_EQUAL(check("md@example.org/r", "guess", 131.5), STANZA_COND_RATE_LIMITED);
	/* No wrong password for a whole window: calm again, full budget. */
	CU_ASSERT_EQUAL(check("md@example.org/r", "guess", 200), STANZA_COND_NOT_AUTHORIZED);
	CU_ASSERT_EQUAL(backing_off(), 0);
	CU_ASSERT_EQUAL(check("me@example.org/r", "guess", 200), STANZA_COND_NOT_AUTHORIZED);
	teardown();
}

/* While backing off, one hash at a time: a second one waits for the first
 * even after the delay. A cancelled job (the link went away) frees its
 * place. */
static void test_rule_backoff_one_at_a_time(void)
{
	struct guard_job *job;
	int i;

	struct guard_job *calm[3];

	setup();
	/* Calm: no more hashes at once than failures left in the budget. */
	cfg.limit_rule_failures = 3;
	cfg.limit_rule_backoff_ms = 60000;
	for (i = 0; i < 3; i++) {
		char from[32];

		snprintf(from, sizeof(from), "c%d@example.org/r", i);
		calm[i] = start(from, "guess", 5);
	}
	CU_ASSERT_EQUAL(check("c3@example.org/r", "guess", 5), STANZA_COND_RATE_LIMITED);
	for (i = 0; i < 3; i++)
		guard_job_cancel(g, calm[i]);
	teardown();

	setup();
	cfg.limit_rule_failures = 1;
	cfg.limit_rule_backoff_ms = 60000;
	for (i = 0; i < 2; i++)
		check("m@example.org/r", "guess", 10);
	CU_ASSERT_EQUAL(backing_off(), 1);
	job = start("x@example.org/r", "guess", 20);
	CU_ASSERT_EQUAL(check("y@example.org/r", "guess", 20), STANZA_COND_RATE_LIMITED);
	guard_job_cancel(g, job);
	job = start("y@example.org/r", "guess", 20);
	guard_job_run(job);
	CU_ASSERT_EQUAL(guard_job_finish(g, &cfg, job, 20, &text),
			STANZA_COND_NOT_AUTHORIZED);
	teardown();
}

/* A sender whose password was verified keeps being served whatever the
 * budgets say: the rule backing off, its own attempts and everyone's
 * hashes used up. */
static void test_cached_bypasses_budgets(void)
{
	struct guard_job *job;
	int i;

	setup();
	cfg.limit_rule_failures = 1;
	cfg.limit_rule_backoff_ms = 3600000;
	cfg.limit_password = (struct ratelimit_rate){ 0.001, 1 };
	cfg.limit_hashes = (struct ratelimit_rate){ 0.001, 1 };
	CU_ASSERT_EQUAL(check("alice@example.org/r", "pw-right", 10), STANZA_COND_NONE);
	/* Everything runs dry: the global hash budget ... */
	CU_ASSERT_EQUAL(check("m@example.org/r", "guess", 10),
			STANZA_COND_RESOURCE_CONSTRAINT);
	cfg.limit_hashes = (struct ratelimit_rate){ 1000, 1000 };
	/* ... the rule's budget (backing off), alice's own attempts. */
	for (i = 0; i < 3; i++) {
		char from[32];

		snprintf(from, sizeof(from), "m%d@example.org/r", i);
		check(from, "guess", 11);
	}
	CU_ASSERT_EQUAL(backing_off(), 1);
	CU_ASSERT_EQUAL(check("alice@example.org/r", "wrong", 12),
			STANZA_COND_RATE_LIMITED);
	cfg.limit_hashes = (struct ratelimit_rate){ 0.001, 1 };
	for (i = 0; i < 100; i++) {
		CU_ASSERT_EQUAL(guard_check(g, &cfg, "alice@example.org/r", 1,
					    "pw-right", 13, &text, &job),
				STANZA_COND_NONE);
		CU_ASSERT_PTR_NULL(job);
	}
	teardown();
}

static const struct testutil_test tests[] = {
	{ "rules and default", test_rules },
	{ "passwords: missing, wrong, right, cached", test_passwords },
	{ "a flood of guesses costs no hashes", test_guess_flood },
	{ "per-sender rate and refill", test_sender_rate },
	{ "total rate", test_total_rate },
	{ "open when unconfigured", test_open },
	{ "a rule backs off after its failure budget", test_rule_backoff },
	{ "a backing-off rule hashes one at a time", test_rule_backoff_one_at_a_time },
	{ "a cached password bypasses every budget", test_cached_bypasses_budgets },
};

static int test_guard_register(void)
{
	return testutil_add_tests("guard", tests, sizeof(tests) / sizeof(tests[0]));
}

TESTUTIL_SUITE(test_guard_register)
