/* SPDX-License-Identifier: MIT */
/* test_drain.c: the drain state machine: the unroute IQ, answers, the quiet period, the maximum and the fallback. */
#include <CUnit/CUnit.h>
#include <string.h>

#include "drain.h"
#include "testutil.h"

static const struct drain_opts opts = { 500, 10000, 1000 };

static void test_request_text(void)
{
	struct drain d;
	char buf[256];
	int n;

	drain_init(&d, &opts);
	n = drain_start(&d, "ope.example.org", "example.org", 42, buf,
			sizeof(buf));
	CU_ASSERT_EQUAL(n, (int)strlen(buf));
	CU_ASSERT_STRING_EQUAL(buf,
		"<iq type='set' id='drain-42' from='ope.example.org' "
		"to='example.org'><unroute xmlns='urn:xmpp:ope:drain:0'/></iq>");
	CU_ASSERT_EQUAL(d.phase, DRAIN_ASKED);
	/* Too small a buffer, or text needing escapes: refused, idle. */
	drain_init(&d, &opts);
	CU_ASSERT_EQUAL(drain_start(&d, "ope.example.org", "example.org", 1,
				    buf, 40), -1);
	CU_ASSERT_EQUAL(drain_start(&d, "a'b", "example.org", 1, buf,
				    sizeof(buf)), -1);
	CU_ASSERT_EQUAL(d.phase, DRAIN_IDLE);
	CU_ASSERT_STRING_EQUAL(drain_server_of("ope.example.org"),
			       "example.org");
	CU_ASSERT_STRING_EQUAL(drain_server_of("localhost"), "localhost");
	CU_ASSERT_STRING_EQUAL(drain_server_of("x."), "x.");
}

/* Result at 100 ms; requests at 300 and 700; quiet (500) ends at 1200. */
static void test_quiet_after_result(void)
{
	struct drain d;
	char buf[256];
	unsigned w = 0;

	drain_init(&d, &opts);
	CU_ASSERT_TRUE(drain_start(&d, "c.x", "x", 0, buf, sizeof(buf)) > 0);
	CU_ASSERT_EQUAL(drain_poll(&d, 50, &w), DRAIN_WAIT);
	CU_ASSERT_EQUAL(w, 950);
	CU_ASSERT_EQUAL(drain_on_stanza(&d, "iq", "result", "drain-0", 100), 1);
	CU_ASSERT_EQUAL(d.phase, DRAIN_UNROUTED);
	CU_ASSERT_EQUAL(drain_on_stanza(&d, "message", NULL, "m1", 300), 0);
	CU_ASSERT_EQUAL(drain_poll(&d, 700, &w), DRAIN_WAIT);
	CU_ASSERT_EQUAL(w, 100);
	CU_ASSERT_EQUAL(drain_on_stanza(&d, "iq", "get", "drain-0", 700), 0);
	CU_ASSERT_EQUAL(drain_poll(&d, 1199, &w), DRAIN_WAIT);
	CU_ASSERT_EQUAL(w, 1);
	CU_ASSERT_EQUAL(drain_poll(&d, 1200, &w), DRAIN_CLOSE);
	/* A second copy of the answer is still consumed, changes nothing. */
	CU_ASSERT_EQUAL(drain_on_stanza(&d, "iq", "result", "drain-0", 1300), 1);
}

/* Requests that never stop: closed at the maximum. */
static void test_maximum(void)
{
	struct drain d;
	char buf[256];
	unsigned w = 0;
	uint64_t t;

	drain_init(&d, &opts);
	CU_ASSERT_TRUE(drain_start(&d, "c.x", "x", 1000, buf, sizeof(buf)) > 0);
	CU_ASSERT_EQUAL(drain_on_stanza(&d, "iq", "result", "drain-1000",
					1010), 1);
	for (t = 1100; t < 11000; t += 100) {
		drain_on_stanza(&d, "message", "chat", "m", t);
		CU_ASSERT_EQUAL(drain_poll(&d, t, &w), DRAIN_WAIT);
	}
	CU_ASSERT_EQUAL(w, 100);
	CU_ASSERT_EQUAL(drain_poll(&d, 11000, &w), DRAIN_CLOSE);
}

/* No module: an error answer, or none within answer_ms. */
static void test_fallback(void)
{
	struct drain d;
	char buf[256];
	unsigned w = 0;

	drain_init(&d, &opts);
	CU_ASSERT_TRUE(drain_start(&d, "c.x", "x", 0, buf, sizeof(buf)) > 0);
	CU_ASSERT_EQUAL(drain_on_stanza(&d, "iq", "error", "drain-0", 20), 1);
	CU_ASSERT_EQUAL(d.answer_was_error, 1);
	CU_ASSERT_EQUAL(drain_poll(&d, 21, &w), DRAIN_CLOSE_FALLBACK);

	drain_init(&d, &opts);
	CU_ASSERT_TRUE(drain_start(&d, "c.x", "x", 0, buf, sizeof(buf)) > 0);
	/* Requests keep coming, but no answer: fallback at 1000 ms. */
	CU_ASSERT_EQUAL(drain_on_stanza(&d, "message", NULL, "m", 500), 0);
	CU_ASSERT_EQUAL(drain_poll(&d, 999, &w), DRAIN_WAIT);
	CU_ASSERT_EQUAL(w, 1);
	CU_ASSERT_EQUAL(drain_poll(&d, 1000, &w), DRAIN_CLOSE_FALLBACK);
	CU_ASSERT_EQUAL(d.answer_was_error, 0);
	/* An answer with another id is a stanza like any other. */
	drain_init(&d, &opts);
	CU_ASSERT_TRUE(drain_start(&d, "c.x", "x", 0, buf, sizeof(buf)) > 0);
	CU_ASSERT_EQUAL(drain_on_stanza(&d, "iq", "result", "other", 5), 0);
	CU_ASSERT_EQUAL(d.phase, DRAIN_ASKED);
	/* Idle: nothing is consumed and nothing closes. */
	drain_init(&d, &opts);
	CU_ASSERT_EQUAL(drain_on_stanza(&d, "iq", "result", "drain-0", 5), 0);
	CU_ASSERT_EQUAL(drain_poll(&d, 100000, NULL), DRAIN_WAIT);
}

static int test_drain_register(void)
{
	CU_pSuite s = CU_add_suite("drain", NULL, NULL);

	if (s == NULL ||
	    !CU_add_test(s, "unroute IQ text, server domain", test_request_text) ||
	    !CU_add_test(s, "result, requests, quiet period", test_quiet_after_result) ||
	    !CU_add_test(s, "maximum under steady requests", test_maximum) ||
	    !CU_add_test(s, "fallback: error or no answer", test_fallback))
		return CU_get_error();
	return CUE_SUCCESS;
}

TESTUTIL_SUITE(test_drain_register)
