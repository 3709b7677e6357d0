/* SPDX-License-Identifier: MIT */
/* test_link.c: the link looks the server's name up off the loop: the loop turns while a lookup hangs, a timeout is a failed attempt, an answer is used. */
#define _GNU_SOURCE  /* open_memstream */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <CUnit/CUnit.h>

#include "config.h"
#include "link.h"
#include "log.h"
#include "loop.h"
#include "resolve.h"
#include "testutil.h"

/* Loop turns allowed for what must happen within one timeout: a bound
 * for the test, not an expectation of speed. */
#define TURNS 200

static int gate[2] = { -1, -1 };
static pthread_t loop_thread;
static int resolved_on_loop;

/* Answers 127.0.0.1 once the test writes to the gate ("try again" once it
 * is closed). Called on the loop's own thread it would hold the loop until
 * then: it says so and fails at once instead of hanging the test. */
static int gated(const char *host, const char *service,
		 const struct addrinfo *hints, struct addrinfo **res)
{
	struct addrinfo h = *hints;
	char c;
	ssize_t n;

	(void)host;
	if (pthread_equal(pthread_self(), loop_thread)) {
		resolved_on_loop = 1;
		return EAI_AGAIN;
	}
	do
		n = read(gate[0], &c, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		return EAI_AGAIN;
	h.ai_flags |= AI_NUMERICHOST;
	return getaddrinfo("127.0.0.1", service, &h, res);
}

struct seen {
	enum link_state state;
	char detail[600];
};

static void observe(void *arg, enum link_state state, const char *detail)
{
	struct seen *s = arg;

	s->state = state;
	snprintf(s->detail, sizeof(s->detail), "%s", detail);
}

struct fixture {
	struct config cfg;
	struct config_server server;
	char host[64];
	xmpp_ctx_t *ctx;
	struct loop *loop;
	struct link *l;
	struct seen seen;
};

static void start(struct fixture *f, unsigned port, unsigned timeout_ms)
{
	memset(f, 0, sizeof(*f));
	testutil_config(&f->cfg);
	snprintf(f->host, sizeof(f->host), "ope-test.invalid");
	f->server.host = f->host;
	f->server.port = port;
	f->cfg.servers.list = &f->server;
	f->cfg.servers.n = 1;
	f->cfg.connect_timeout_ms = timeout_ms;
	f->cfg.queue_max = 1 << 20;
	loop_thread = pthread_self();
	resolved_on_loop = 0;
	CU_ASSERT_EQUAL_FATAL(pipe(gate), 0);
	f->ctx = testutil_ctx_new();
	f->loop = loop_new();
	CU_ASSERT_PTR_NOT_NULL_FATAL(f->loop);
	f->l = link_new(f->loop, f->ctx, &f->cfg, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f->l);
	link_set_observer(f->l, observe, &f->seen);
	link_set_resolver(f->l, gated);
}

static void stop(struct fixture *f)
{
	link_free(f->l);
	loop_free(f->loop);
	testutil_ctx_free(f->ctx);
	/* Let a lookup still hanging answer, and join it. */
	close(gate[1]);
	CU_ASSERT_EQUAL(resolve_reap(1), 0);
	close(gate[0]);
}

/* The lookup hangs: link_start() and every turn return, the connect
 * timeout still fires, and the failure names host:port and the timeout. */
static void test_hanging_lookup(void)
{
	struct fixture f;
	char *log = NULL;
	size_t len = 0, i;
	FILE *stream = open_memstream(&log, &len);

	CU_ASSERT_PTR_NOT_NULL_FATAL(stream);
	log_init("ope-unit", LOG_LEVEL_WARNING, stream);
	start(&f, 5347, 50);
	CU_ASSERT_EQUAL(link_start(f.l), 0);
	CU_ASSERT_EQUAL(resolved_on_loop, 0);
	CU_ASSERT_EQUAL(f.seen.state, LINK_CONNECTING);
	CU_ASSERT_EQUAL(loop_run_once(f.loop, 0), 0);
	CU_ASSERT_EQUAL(f.seen.state, LINK_CONNECTING);
	for (i = 0; i < TURNS && f.seen.state == LINK_CONNECTING; i++)
		CU_ASSERT_EQUAL(loop_run_once(f.loop, 1000), 0);
	CU_ASSERT_EQUAL(f.seen.state, LINK_WAITING);
	CU_ASSERT_PTR_NOT_NULL(strstr(f.seen.detail, "cannot resolve "
		"ope-test.invalid: no answer within 0.050 s"));
	stop(&f);
	log_init("ope-unit", LOG_LEVEL_ERROR, stderr);
	fclose(stream);
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "cannot connect to "
		"ope-test.invalid:5347 (cannot resolve ope-test.invalid: no "
		"answer within 0.050 s (server.connect_timeout))"));
	free(log);
}

/* The answer comes back through the loop, and the link connects to it. */
static void test_answer_used(void)
{
	struct fixture f;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t salen = sizeof(sa);
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), cfd = -1;
	size_t i;

	CU_ASSERT_FATAL(lfd >= 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CU_ASSERT_EQUAL_FATAL(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	CU_ASSERT_EQUAL_FATAL(listen(lfd, 1), 0);
	CU_ASSERT_EQUAL_FATAL(getsockname(lfd, (struct sockaddr *)&sa, &salen), 0);
	start(&f, ntohs(sa.sin_port), 600000);
	CU_ASSERT_EQUAL(link_start(f.l), 0);
	CU_ASSERT_EQUAL(loop_run_once(f.loop, 0), 0);
	CU_ASSERT_EQUAL(resolved_on_loop, 0);
	/* Nothing to connect to before the answer. */
	CU_ASSERT_EQUAL(accept(lfd, NULL, NULL), -1);
	CU_ASSERT_EQUAL(write(gate[1], "x", 1), 1);
	for (i = 0; i < TURNS && cfd < 0; i++) {
		CU_ASSERT_EQUAL(loop_run_once(f.loop, 1000), 0);
		cfd = accept(lfd, NULL, NULL);
	}
	CU_ASSERT_TRUE(cfd >= 0);
	CU_ASSERT_EQUAL(f.seen.state, LINK_CONNECTING);
	stop(&f);
	if (cfd >= 0)
		close(cfd);
	close(lfd);
}

static const struct testutil_test tests[] = {
	{ "a hanging lookup holds up neither the loop nor the timeout",
	  test_hanging_lookup },
	{ "the lookup's answer comes back through the loop", test_answer_used },
};

static int test_link_register(void)
{
	return testutil_add_tests("link", tests, sizeof(tests) / sizeof(tests[0]));
}

TESTUTIL_SUITE(test_link_register)
