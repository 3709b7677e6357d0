/* SPDX-License-Identifier: MIT */
/* test_pwcheck.c: unit tests for service passwords: accepted hashes, verification, the cache. */
#include <stdio.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "pwcheck.h"
#include "testutil.h"

/* "pw-right", made with mkpasswd. */
#define Y_HASH "$y$j9T$GiNHUxm0jXu2WVQ0UsTEm1$Thq2MdZbNr2xsJhUFWrCt0doBbqXLr5DhuoejvDg8N7"
#define SHA_HASH "$6$AcmlSbM6nEC.9.Io$Jk7V6ooFrrxk3L7tafPXufHXkuWpUhGA3KINNit4UROvF/sfakdRb0y6KhXtio4jm59e025Qvm8uVfBlhOyaH1"
#define BCRYPT_HASH "$2b$05$yuJB7Qfc.fMZHxBaGuYeBeuj6p5M/.GrVdESYOoLl.QInU.CQNoxy"
#define MD5_HASH "$1$ooBWPJHa$pPrLGg0Ae/7SGHz9LrEda/"

static void test_valid(void)
{
	const char *why = NULL;

	CU_ASSERT_EQUAL(pwcheck_hash_valid(Y_HASH, &why), 0);
	CU_ASSERT_EQUAL(pwcheck_hash_valid(SHA_HASH, &why), 0);
	CU_ASSERT_EQUAL(pwcheck_hash_valid(BCRYPT_HASH, &why), 0);
	CU_ASSERT_EQUAL(pwcheck_hash_valid(MD5_HASH, &why), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "not a supported"));
	CU_ASSERT_EQUAL(pwcheck_hash_valid("hunter2", &why), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "mkpasswd"));
	CU_ASSERT_EQUAL(pwcheck_hash_valid("$y$", &why), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "malformed"));
	CU_ASSERT_EQUAL(pwcheck_hash_valid("$6$abc def$xyzxyzxyzxyzxyzxyz", &why), -1);
}

/* Each accepted kind verifies the right password and only that one. */
static void test_verify(void)
{
	static const char *const hashes[] = { Y_HASH, SHA_HASH, BCRYPT_HASH };
	struct pwcheck *pc = pwcheck_new(64);
	struct pwcheck_key k;
	size_t i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(pc);
	for (i = 0; i < 3; i++) {
		CU_ASSERT_EQUAL(pwcheck_lookup(pc, hashes[i], "a@x", "pw-wrong", &k), 0);
		CU_ASSERT_EQUAL(pwcheck_verify(pc, hashes[i], "pw-wrong", &k), 0);
		CU_ASSERT_EQUAL(pwcheck_lookup(pc, hashes[i], "a@x", "pw-wrong", &k), 0);
		CU_ASSERT_EQUAL(pwcheck_verify(pc, hashes[i], "pw-righ", &k), 0);
		CU_ASSERT_EQUAL(pwcheck_lookup(pc, hashes[i], "a@x", "pw-right", &k), 0);
		CU_ASSERT_EQUAL(pwcheck_verify(pc, hashes[i], "pw-right", &k), 1);
	}
	pwcheck_free(pc);
}

/* What was verified is remembered per (hash, JID, password), and only that. */
static void test_cache(void)
{
	struct pwcheck *pc = pwcheck_new(64);
	struct pwcheck_key k;

	CU_ASSERT_PTR_NOT_NULL_FATAL(pc);
	CU_ASSERT_EQUAL(pwcheck_lookup(pc, SHA_HASH, "a@x", "pw-right", &k), 0);
	CU_ASSERT_EQUAL(pwcheck_verify(pc, SHA_HASH, "pw-right", &k), 1);
	CU_ASSERT_EQUAL(pwcheck_lookup(pc, SHA_HASH, "a@x", "pw-right", &k), 1);
	/* Another sender, another hash, another password: not cached. */
	CU_ASSERT_EQUAL(pwcheck_lookup(pc, SHA_HASH, "b@x", "pw-right", &k), 0);
	CU_ASSERT_EQUAL(pwcheck_lookup(pc, Y_HASH, "a@x", "pw-right", &k), 0);
	CU_ASSERT_EQUAL(pwcheck_lookup(pc, SHA_HASH, "a@x", "pw-right2", &k), 0);
	/* The NUL separators keep the fields apart. */
	CU_ASSERT_EQUAL(pwcheck_lookup(pc, SHA_HASH, "a@", "xpw-right", &k), 0);
	pwcheck_flush(pc);
	CU_ASSERT_EQUAL(pwcheck_lookup(pc, SHA_HASH, "a@x", "pw-right", &k), 0);
	pwcheck_free(pc);
}

/* The cache is bounded: filling it with many senders evicts, never grows. */
static void test_cache_bounded(void)
{
	struct pwcheck *pc = pwcheck_new(16);
	struct pwcheck_key k;
	char jid[32];
	int i, hits = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(pc);
	for (i = 0; i < 64; i++) {
		snprintf(jid, sizeof(jid), "u%d@x", i);
		pwcheck_lookup(pc, BCRYPT_HASH, jid, "pw-right", &k);
		CU_ASSERT_EQUAL(pwcheck_verify(pc, BCRYPT_HASH, "pw-right", &k), 1);
	}
	for (i = 0; i < 64; i++) {
		snprintf(jid, sizeof(jid), "u%d@x", i);
		hits += pwcheck_lookup(pc, BCRYPT_HASH, jid, "pw-right", &k) == 1;
	}
	CU_ASSERT(hits >= 1 && hits <= 16);
	pwcheck_free(pc);
}

/* The cost cap, from the parameters alone, at the thresholds measured
 * (pwcheck.c): about 250 ms a check here. */
static void test_cost_cap(void)
{
	static const char *const ok[] = {
		"$6$rounds=700000$AcmlSbM6nEC.9.Io$Jk7V6ooFrrxk3L7tafPXufHXkuWpUhGA3KINNit4UROvF/sfakdRb0y6KhXtio4jm59e025Qvm8uVfBlhOyaH1",
		"$2b$12$yuJB7Qfc.fMZHxBaGuYeBeuj6p5M/.GrVdESYOoLl.QInU.CQNoxy",
		"$y$jAT$GiNHUxm0jXu2WVQ0UsTEm1$Thq2MdZbNr2xsJhUFWrCt0doBbqXLr5DhuoejvDg8N7",
		/* p (lanes) splits N: same work */
		"$y$j9T.0$GiNHUxm0jXu2WVQ0UsTEm1$Thq2MdZbNr2xsJhUFWrCt0doBbqXLr5DhuoejvDg8N7",
		/* t = 1 doubles N=2^12 r=32: at the cap */
		"$y$j9T/.$GiNHUxm0jXu2WVQ0UsTEm1$Thq2MdZbNr2xsJhUFWrCt0doBbqXLr5DhuoejvDg8N7",
	};
	static const char *const costly[] = {
		"$6$rounds=700001$AcmlSbM6nEC.9.Io$Jk7V6ooFrrxk3L7tafPXufHXkuWpUhGA3KINNit4UROvF/sfakdRb0y6KhXtio4jm59e025Qvm8uVfBlhOyaH1",
		"$6$rounds=999999999$AcmlSbM6nEC.9.Io$Jk7V6ooFrrxk3L7tafPXufHXkuWpUhGA3KINNit4UROvF/sfakdRb0y6KhXtio4jm59e025Qvm8uVfBlhOyaH1",
		"$2b$13$yuJB7Qfc.fMZHxBaGuYeBeuj6p5M/.GrVdESYOoLl.QInU.CQNoxy",
		"$2y$20$yuJB7Qfc.fMZHxBaGuYeBeuj6p5M/.GrVdESYOoLl.QInU.CQNoxy",
		"$y$jBT$GiNHUxm0jXu2WVQ0UsTEm1$Thq2MdZbNr2xsJhUFWrCt0doBbqXLr5DhuoejvDg8N7",
		/* r = 64 */
		"$y$jAz$GiNHUxm0jXu2WVQ0UsTEm1$Thq2MdZbNr2xsJhUFWrCt0doBbqXLr5DhuoejvDg8N7",
		/* t = 2 */
		"$y$j9T/0$GiNHUxm0jXu2WVQ0UsTEm1$Thq2MdZbNr2xsJhUFWrCt0doBbqXLr5DhuoejvDg8N7",
		/* N = 2^30 */
		"$y$jRT$GiNHUxm0jXu2WVQ0UsTEm1$Thq2MdZbNr2xsJhUFWrCt0doBbqXLr5DhuoejvDg8N7",
	};
	const char *why = NULL;
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		CU_ASSERT_EQUAL(pwcheck_hash_valid(ok[i], &why), 0);
		if (pwcheck_hash_valid(ok[i], &why) != 0)
			fprintf(stderr, "\nrefused %s: %s\n", ok[i], why);
	}
	for (i = 0; i < sizeof(costly) / sizeof(costly[0]); i++) {
		why = NULL;
		CU_ASSERT_EQUAL(pwcheck_hash_valid(costly[i], &why), -1);
		CU_ASSERT(why != NULL && strstr(why, "too costly") != NULL);
		if (why == NULL || strstr(why, "too costly") == NULL)
			fprintf(stderr, "\naccepted %s (%s)\n", costly[i],
				why ? why : "");
	}
}

/* The thread-safe half and the cache half of pwcheck_verify(). */
static void test_matches_remember(void)
{
	struct pwcheck *pc = pwcheck_new(16);
	struct pwcheck_key k;

	CU_ASSERT_PTR_NOT_NULL_FATAL(pc);
	CU_ASSERT_EQUAL(pwcheck_matches(SHA_HASH, "pw-wrong"), 0);
	CU_ASSERT_EQUAL(pwcheck_matches(SHA_HASH, "pw-right"), 1);
	CU_ASSERT_EQUAL(pwcheck_lookup(pc, SHA_HASH, "a@x", "pw-right", &k), 0);
	pwcheck_remember(pc, &k);
	CU_ASSERT_EQUAL(pwcheck_lookup(pc, SHA_HASH, "a@x", "pw-right", &k), 1);
	pwcheck_free(pc);
}

static void test_make(void)
{
	char h[256];
	const char *why;
	struct pwcheck *pc = pwcheck_new(16);
	struct pwcheck_key k;

	CU_ASSERT_PTR_NOT_NULL_FATAL(pc);
	CU_ASSERT_EQUAL(pwcheck_make("s3cret pass", h, sizeof(h)), 0);
	CU_ASSERT(strncmp(h, "$y$", 3) == 0);
	CU_ASSERT_EQUAL(pwcheck_hash_valid(h, &why), 0);
	pwcheck_lookup(pc, h, "a@x", "s3cret pass", &k);
	CU_ASSERT_EQUAL(pwcheck_verify(pc, h, "s3cret pass", &k), 1);
	CU_ASSERT_EQUAL(pwcheck_make("x", h, 10), -1);
	pwcheck_free(pc);
}

static const struct testutil_test tests[] = {
	{ "accepted hash kinds", test_valid },
	{ "verify yescrypt, sha512crypt, bcrypt", test_verify },
	{ "cache keyed by hash, JID, password", test_cache },
	{ "cache bounded", test_cache_bounded },
	{ "make a yescrypt hash", test_make },
	{ "hashes over about 250 ms refused", test_cost_cap },
	{ "matches on any thread, remember on the loop", test_matches_remember },
};

static int test_pwcheck_register(void)
{
	return testutil_add_tests("pwcheck", tests, sizeof(tests) / sizeof(tests[0]));
}

TESTUTIL_SUITE(test_pwcheck_register)
