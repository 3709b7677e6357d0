/* SPDX-License-Identifier: MIT */
/* test_drain.c: the drain state machine: the unroute IQ, answers, the quiet period, the maximum and the fallback. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>

#include "drain.h"
#include "testutil.h"

static const struct drain_opts opts = { 500, 10000, 1000 };

static void test_request_text(void)
{
	struct drain d;
	char buf[256];
	int n;

	char want[256];

	drain_init(&d, &opts);
	n = drain_start(&d, "ope.example.org", "example.org", 42, buf,
			sizeof(buf));
	CU_ASSERT_EQUAL(n, (int)strlen(buf));
	snprintf(want, sizeof(want), "<iq type='set' id='%s' "
		 "from='ope.example.org' to='example.org'>"
		 "<unroute xmlns='urn:xmpp:ope:drain:0'/></iq>", d.id);
	CU_ASSERT_STRING_EQUAL(buf, want);
	CU_ASSERT_EQUAL(d.phase, DRAIN_ASKED);
	/* Too small a buffer, or text needing escapes: refused, idle. */
	drain_init(&d, &opts);
	CU_ASSERT_EQUAL(drain_start(&d, "ope.example.org", "example.org", 1,
				    buf, 40), -1);
	CU_ASSERT_EQUAL(drain_start(&d, "a'b", "example.org", 1, buf,
				    sizeof(buf)), -1);
	CU_ASSERT_EQUAL(d.phase, DRAIN_IDLE);
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
	CU_ASSERT_EQUAL(drain_on_stanza(&d, "iq", "result", d.id, "x", 100), 1);
	CU_ASSERT_EQUAL(d.phase, DRAIN_UNROUTED);
	CU_ASSERT_EQUAL(drain_on_stanza(&d, "message", NULL, "m1", "u@x/r",
					300), 0);
	CU_ASSERT_EQUAL(drain_poll(&d, 700, &w), DRAIN_WAIT);
	CU_ASSERT_EQUAL(w, 100);
	CU_ASSERT_EQUAL(drain_on_stanza(&d, "iq", "get", d.id, "x", 700), 0);
	CU_ASSERT_EQUAL(drain_poll(&d, 1199, &w), DRAIN_WAIT);
	CU_ASSERT_EQUAL(w, 1);
	CU_ASSERT_EQUAL(drain_poll(&d, 1200, &w), DRAIN_CLOSE);
	/* A second copy of the answer is still consumed, changes nothing. */
	CU_ASSERT_EQUAL(drain_on_stanza(&d, "iq", "result", d.id, "x", 1300), 1);
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
	CU_ASSERT_EQUAL(drain_on_stanza(&d, "iq", "result", d.id, "x", 1010),
			1);
	for (t = 1100; t < 11000; t += 100) {
		drain_on_stanza(&d, "message", "chat", "m", "u@x/r", t);
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
	CU_ASSERT_EQUAL(drain_on_stanza(&d, "iq", "error", d.id, "x", 20), 1);
	CU_ASSERT_EQUAL(d.answer_was_error, 1);
	CU_ASSERT_EQUAL(drain_poll(&d, 21, &w), DRAIN_CLOSE_FALLBACK);

	drain_init(&d, &opts);
	CU_ASSERT_TRUE(drain_start(&d, "c.x", "x", 0, buf, sizeof(buf)) > 0);
	/* Requests keep coming, but no answer: fallback at 1000 ms. */
	CU_ASSERT_EQUAL(drain_on_stanza(&d, "message", NULL, "m", "u@x/r",
					500), 0);
	CU_ASSERT_EQUAL(drain_poll(&d, 999, &w), DRAIN_WAIT);
	CU_ASSERT_EQUAL(w, 1);
	CU_ASSERT_EQUAL(drain_poll(&d, 1000, &w), DRAIN_CLOSE_FALLBACK);
	CU_ASSERT_EQUAL(d.answer_was_error, 0);
	/* An answer with another id is a stanza like any other. */
	drain_init(&d, &opts);
	CU_ASSERT_TRUE(drain_start(&d, "c.x", "x", 0, buf, sizeof(buf)) > 0);
	CU_ASSERT_EQUAL(drain_on_stanza(&d, "iq", "result", "other", "x", 5), 0);
	CU_ASSERT_EQUAL(d.phase, DRAIN_ASKED);
	/* Idle: nothing is consumed and nothing closes. */
	drain_init(&d, &opts);
	CU_ASSERT_EQUAL(drain_on_stanza(&d, "iq", "result", "drain-0", "x", 5),
			0);
	CU_ASSERT_EQUAL(drain_poll(&d, 100000, NULL), DRAIN_WAIT);
}

/* The id: 128 random bits, another for every drain. */
static void test_id_unguessable(void)
{
	struct drain a, b;
	char buf[256];
	size_t i;

	drain_init(&a, &opts);
	drain_init(&b, &opts);
	CU_ASSERT_TRUE(drain_start(&a, "c.x", "x", 7, buf, sizeof(buf)) > 0);
	CU_ASSERT_TRUE(drain_start(&b, "c.x", "x", 7, buf, sizeof(buf)) > 0);
	CU_ASSERT_EQUAL_FATAL(strlen(a.id), 6 + 32);
	CU_ASSERT(strncmp(a.id, "drain-", 6) == 0);
	for (i = 6; i < strlen(a.id); i++)
		CU_ASSERT_PTR_NOT_NULL(strchr("0123456789abcdef", a.id[i]));
	CU_ASSERT_STRING_NOT_EQUAL(a.id, b.id);
}

/* Only the server the IQ went to can answer it: a user's forged answer
 * (the server stamps the user's from), or a guessed id, is a stanza like
 * any other, and completes nothing. */
static void test_forged_answers(void)
{
	struct drain d;
	char buf[256];
	unsigned w = 0;

	drain_init(&d, &opts);
	CU_ASSERT_TRUE(drain_start(&d, "ope.example.org", "example.org", 42,
				   buf, sizeof(buf)) > 0);
	/* The right id from a user, from the component's own domain, from
	 * another server, from a JID on the server, or without a from. */
	CU_ASSERT_EQUAL(drain_on_stanza(&d, "iq", "result", d.id,
					"mallory@example.org/x", 50), 0);
	CU_ASSERT_EQUAL(drain_on_stanza(&d, "iq", "result", d.id,
					"ope.example.org", 51), 0);
	CU_ASSERT_EQUAL(drain_on_stanza(&d, "iq", "result", d.id,
					"example.net", 52), 0);
	CU_ASSERT_EQUAL(drain_on_stanza(&d, "iq", "result", d.id,
					"example.org/x", 53), 0);
	CU_ASSERT_EQUAL(drain_on_stanza(&d, "iq", "error", d.id,
					"mallory@example.org/x", 54), 0);
	CU_ASSERT_EQUAL(drain_on_stanza(&d, "iq", "result", d.id, NULL, 55),
			0);
	/* The old, guessable id (the time in ms), even from the server. */
	CU_ASSERT_EQUAL(drain_on_stanza(&d, "iq", "result", "drain-42",
					"example.org", 56), 0);
	CU_ASSERT_EQUAL(d.phase, DRAIN_ASKED);
	CU_ASSERT_EQUAL(d.answer_was_error, 0);
	/* Still waiting: no answer by 1042 falls back. */
	CU_ASSERT_EQUAL(drain_poll(&d, 1041, &w), DRAIN_WAIT);
	CU_ASSERT_EQUAL(drain_poll(&d, 1042, &w), DRAIN_CLOSE_FALLBACK);
	/* The real answer: domains compare without case. */
	drain_init(&d, &opts);
	CU_ASSERT_TRUE(drain_start(&d, "ope.example.org", "example.org", 42,
				   buf, sizeof(buf)) > 0);
	CU_ASSERT_EQUAL(drain_on_stanza(&d, "iq", "result", d.id,
					"Example.ORG", 60), 1);
	CU_ASSERT_EQUAL(d.phase, DRAIN_UNROUTED);
}

static int test_drain_register(void)
{
	CU_pSuite s = CU_add_suite("drain", NULL, NULL);

	if (s == NULL ||
	    !CU_add_test(s, "unroute IQ text, server domain", test_request_text) ||
	    !CU_add_test(s, "result, requests, quiet period", test_quiet_after_result) ||
	    !CU_add_test(s, "maximum under steady requests", test_maximum) ||
	    !CU_add_test(s, "fallback: error or no answer", test_fallback) ||
	    !CU_add_test(s, "unroute id: 128 random bits", test_id_unguessable) ||
	    !CU_add_test(s, "forged answers: wrong from, guessed id",
			 test_forged_answers))
		return CU_get_error();
	return CUE_SUCCESS;
}

TESTUTIL_SUITE(test_drain_register)
