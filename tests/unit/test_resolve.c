/* SPDX-License-Identifier: MIT */
/* test_resolve.c: names looked up on a worker: answers come through the descriptor, a lookup that hangs holds nobody up. */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>
#include <CUnit/CUnit.h>

#include "resolve.h"
#include "testutil.h"

/* Generous: a bound for the test, not an expectation of speed. */
#define WAIT_MS 20000

static int gate[2] = { -1, -1 };

/* A resolver that answers 127.0.0.1 once the test writes a byte to the
 * gate, and "try again" when the gate is closed. */
static int gated(const char *host, const char *service,
		 const struct addrinfo *hints, struct addrinfo **res)
{
	struct addrinfo h = *hints;
	char c;
	ssize_t n;

	(void)host;
	do
		n = read(gate[0], &c, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		return EAI_AGAIN;
	h.ai_flags |= AI_NUMERICHOST;
	return getaddrinfo("127.0.0.1", service, &h, res);
}

/* Once, outside the per-test leak count: libc keeps what its first host
 * lookup loads (NSS), and each thread stack it caches for reuse keeps a
 * block; RESOLVE_MAX_RUNNING threads at once fill that cache. */
static int setup(void)
{
	struct resolve *r[RESOLVE_MAX_RUNNING];
	struct addrinfo *res;
	char err[200];
	size_t i;

	if (pipe(gate) != 0)
		return -1;
	if (getaddrinfo("localhost", "80", NULL, &res) == 0)
		freeaddrinfo(res);
	for (i = 0; i < RESOLVE_MAX_RUNNING; i++)
		if ((r[i] = resolve_start("warm.test", 80, gated, err,
					  sizeof(err))) == NULL)
			return -1;
	for (i = 0; i < RESOLVE_MAX_RUNNING; i++) {
		if (write(gate[1], "x", 1) != 1)
			return -1;
		resolve_free(r[i]);
	}
	return resolve_reap(1) == 0 ? 0 : -1;
}

static int teardown(void)
{
	close(gate[0]);
	close(gate[1]);
	return 0;
}

static int ready(struct resolve *r, int timeout_ms)
{
	struct pollfd p = { .fd = resolve_fd(r), .events = POLLIN };

	return poll(&p, 1, timeout_ms) == 1 && (p.revents & POLLIN);
}

static void test_localhost(void)
{
	char err[200];
	struct resolve *r = resolve_start("localhost", 5347, NULL, err,
					  sizeof(err));
	struct addrinfo *res = NULL, *ai;
	int loopback = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_TRUE(ready(r, WAIT_MS));
	CU_ASSERT_EQUAL(resolve_result(r, &res, err, sizeof(err)), 1);
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (ai->ai_family == AF_INET) {
			struct sockaddr_in *in = (struct sockaddr_in *)ai->ai_addr;

			loopback |= ntohl(in->sin_addr.s_addr) >> 24 == 127 &&
				    ntohs(in->sin_port) == 5347;
		} else if (ai->ai_family == AF_INET6) {
			struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ai->ai_addr;

			loopback |= IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr) &&
				    ntohs(in6->sin6_port) == 5347;
		}
	}
	CU_ASSERT_TRUE(loopback);
	if (res != NULL)
		freeaddrinfo(res);
	resolve_free(r);
	CU_ASSERT_EQUAL(resolve_reap(0), 0);
}

/* Until the gate opens the resolver cannot answer: the caller is back at
 * once, with nothing to read; then the answer comes. */
static void test_waits_on_the_worker(void)
{
	char err[200];
	struct resolve *r = resolve_start("slow.test", 80, gated, err,
					  sizeof(err));
	struct addrinfo *res = NULL;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(resolve_result(r, &res, err, sizeof(err)), 0);
	CU_ASSERT_FALSE(ready(r, 0));
	CU_ASSERT_EQUAL(write(gate[1], "x", 1), 1);
	CU_ASSERT_TRUE(ready(r, WAIT_MS));
	CU_ASSERT_EQUAL(resolve_result(r, &res, err, sizeof(err)), 1);
	CU_ASSERT_PTR_NOT_NULL(res);
	if (res != NULL)
		freeaddrinfo(res);
	resolve_free(r);
}

static int failing(const char *host, const char *service,
		   const struct addrinfo *hints, struct addrinfo **res)
{
	(void)host; (void)service; (void)hints; (void)res;
	return EAI_NONAME;
}

static void test_failure(void)
{
	char err[200];
	struct resolve *r = resolve_start("no.test", 80, failing, err,
					  sizeof(err));
	struct addrinfo *res = NULL;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_TRUE(ready(r, WAIT_MS));
	CU_ASSERT_EQUAL(resolve_result(r, &res, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NULL(res);
	CU_ASSERT_STRING_EQUAL(err, gai_strerror(EAI_NONAME));
	resolve_free(r);
}

/* Given up while it hangs: freeing does not wait; at most
 * RESOLVE_MAX_RUNNING hang at once; all are joined once they answer. */
static void test_abandoned(void)
{
	struct resolve *r[RESOLVE_MAX_RUNNING];
	char err[200];
	size_t i;

	for (i = 0; i < RESOLVE_MAX_RUNNING; i++) {
		r[i] = resolve_start("slow.test", 80, gated, err, sizeof(err));
		CU_ASSERT_PTR_NOT_NULL_FATAL(r[i]);
	}
	CU_ASSERT_PTR_NULL(resolve_start("slow.test", 80, gated, err,
					 sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "have not returned"));
	for (i = 0; i < RESOLVE_MAX_RUNNING; i++)
		resolve_free(r[i]);
	CU_ASSERT_EQUAL(resolve_reap(0), RESOLVE_MAX_RUNNING);
	for (i = 0; i < RESOLVE_MAX_RUNNING; i++)
		CU_ASSERT_EQUAL(write(gate[1], "x", 1), 1);
	CU_ASSERT_EQUAL(resolve_reap(1), 0);
}

static int test_resolve_register(void)
{
	CU_pSuite s = CU_add_suite("resolve", setup, teardown);

	if (s == NULL ||
	    !CU_add_test(s, "localhost", test_localhost) ||
	    !CU_add_test(s, "the answer waits on the worker, not the caller",
			 test_waits_on_the_worker) ||
	    !CU_add_test(s, "a failed lookup", test_failure) ||
	    !CU_add_test(s, "abandoned while hanging; capped; joined later",
			 test_abandoned))
		return CU_get_error();
	return CUE_SUCCESS;
}

TESTUTIL_SUITE(test_resolve_register)
