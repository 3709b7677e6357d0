/* SPDX-License-Identifier: MIT */
/* test_ext_time.c: XEP-0202 Entity Time: exact replies for injected clocks, a broken clock, dispatch. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <CUnit/CUnit.h>

#include "config.h"
#include "dispatch.h"
#include "ext.h"
#include "ns.h"
#include "testutil.h"

#define FROM "alice@example.org/res"

/* What the injected clock returns. */
static time_t fixed_now;

static time_t fixed_clock(void)
{
	return fixed_now;
}

/* Run the handler on <iq type='get'><time/></iq> at NOW: the serialised
 * payload (caller frees) or NULL; *COND gets the condition. */
static char *time_at(time_t now, enum stanza_cond *cond)
{
	xmpp_ctx_t *ctx = testutil_ctx_new();
	struct ext_request req = { .ctx = ctx, .kind = EXT_IQ_GET,
				   .clock = fixed_clock };
	struct ext_reply reply = { NULL, STANZA_COND_NONE, NULL, EXT_ACTION_NONE };
	char *text = NULL;

	fixed_now = now;
	req.stanza = testutil_parse(ctx, "<iq type='get' id='t1' to='ope.example.org' "
				    "from='" FROM "'><time xmlns='urn:xmpp:time'/></iq>");
	CU_ASSERT_PTR_NOT_NULL_FATAL(req.stanza);
	req.payload = xmpp_stanza_get_children(req.stanza);
	CU_ASSERT_EQUAL(ext_time.handle(&req, &reply), 0);
	*cond = reply.cond;
	if (reply.payload != NULL) {
		text = testutil_text(reply.payload);
		xmpp_stanza_release(reply.payload);
	}
	xmpp_stanza_release(req.stanza);
	testutil_ctx_free(ctx);
	return text;
}

static void expect_time(time_t now, const char *utc)
{
	char want[200];
	enum stanza_cond cond;
	char *got = time_at(now, &cond);

	snprintf(want, sizeof(want), "<time xmlns=\"urn:xmpp:time\"><tzo>+00:00"
		 "</tzo><utc>%s</utc></time>", utc);
	CU_ASSERT_EQUAL(cond, STANZA_COND_NONE);
	CU_ASSERT_PTR_NOT_NULL_FATAL(got);
	CU_ASSERT_STRING_EQUAL(got, want);
	free(got);
}

static void test_exact(void)
{
	expect_time(0, "1970-01-01T00:00:00Z");
	expect_time(951868799, "2000-02-29T23:59:59Z");
	expect_time(1796116025, "2026-12-01T09:07:05Z");
	expect_time(253402300799, "9999-12-31T23:59:59Z");
}

static void test_broken_clock(void)
{
	enum stanza_cond cond;
	char *got;

	/* time() failed. */
	got = time_at((time_t)-1, &cond);
	CU_ASSERT_PTR_NULL(got);
	CU_ASSERT_EQUAL(cond, STANZA_COND_INTERNAL_SERVER_ERROR);
	free(got);
	/* A five-digit year does not fit the format. */
	got = time_at(253402300800, &cond);
	CU_ASSERT_PTR_NULL(got);
	CU_ASSERT_EQUAL(cond, STANZA_COND_INTERNAL_SERVER_ERROR);
	free(got);
}

/* Through the dispatcher with the real clock: registered, answered to a
 * get with a result carrying the time, refused for a set. */
static void test_dispatched(void)
{
	struct testutil_sent sent = { { NULL }, 0 };
	xmpp_ctx_t *ctx = testutil_ctx_new();
	struct config cfg;
	struct dispatch *d;
	xmpp_stanza_t *req, *el, *utc;
	char *text, want[32];
	time_t before, after;
	struct tm tm;

	testutil_config(&cfg);
	d = dispatch_new(ctx, &cfg, NULL, testutil_capture, &sent);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	req = testutil_parse(ctx, "<iq type='get' id='t2' to='ope.example.org' from='"
			     FROM "'><time xmlns='urn:xmpp:time'/></iq>");
	CU_ASSERT_PTR_NOT_NULL_FATAL(req);
	before = time(NULL);
	CU_ASSERT_EQUAL(dispatch_stanza(d, req), DISPATCH_REPLIED);
	after = time(NULL);
	xmpp_stanza_release(req);
	CU_ASSERT_EQUAL_FATAL(sent.n, 1);
	CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_type(sent.stanza[0]), "result");
	CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_id(sent.stanza[0]), "t2");
	el = xmpp_stanza_get_child_by_name_and_ns(sent.stanza[0], "time", NS_TIME);
	CU_ASSERT_PTR_NOT_NULL_FATAL(el);
	utc = xmpp_stanza_get_child_by_name(el, "utc");
	CU_ASSERT_PTR_NOT_NULL_FATAL(utc);
	text = xmpp_stanza_get_text(utc);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	/* The reply's second is one of the seconds the call spanned. */
	gmtime_r(&before, &tm);
	strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (strcmp(text, want) != 0) {
		gmtime_r(&after, &tm);
		strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
	CU_ASSERT_STRING_EQUAL(text, want);
	xmpp_free(ctx, text);
	testutil_sent_clear(&sent);

	req = testutil_parse(ctx, "<iq type='set' id='t3' to='ope.example.org' from='"
			     FROM "'><time xmlns='urn:xmpp:time'/></iq>");
	CU_ASSERT_PTR_NOT_NULL_FATAL(req);
	CU_ASSERT_EQUAL(dispatch_stanza(d, req), DISPATCH_ERROR_SENT);
	xmpp_stanza_release(req);
	CU_ASSERT_EQUAL_FATAL(sent.n, 1);
	CU_ASSERT_PTR_NOT_NULL(xmpp_stanza_get_child_by_name(
		xmpp_stanza_get_child_by_name(sent.stanza[0], "error"),
		"service-unavailable"));
	testutil_sent_clear(&sent);
	dispatch_free(d);
	testutil_ctx_free(ctx);
}

static int test_ext_time_register(void)
{
	CU_pSuite s = CU_add_suite("ext_time", NULL, NULL);

	if (s == NULL ||
	    !CU_add_test(s, "exact replies for injected clocks", test_exact) ||
	    !CU_add_test(s, "unreadable clock: internal-server-error",
			 test_broken_clock) ||
	    !CU_add_test(s, "through dispatch: get answered, set refused",
			 test_dispatched))
		return CU_get_error();
	return CUE_SUCCESS;
}

TESTUTIL_SUITE(test_ext_time_register)
