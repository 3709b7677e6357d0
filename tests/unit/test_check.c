/* SPDX-License-Identifier: MIT */
/* test_check.c: ope-client's check.c: reply checks: example_tag replies field by field, the other modes, error replies, out of memory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>
#include <strophe.h>

#include "check.h"
#include "client_exit.h"
#include "ns.h"
#include "opts.h"
#include "report.h"
#include "stats.h"
#include "testutil.h"
#include "testutil_client.h"

/* From testutil's counting allocator: the runner checks after each test
 * that every block is back. */
static xmpp_ctx_t *ctx;

static int ctx_init(void)
{
	ctx = testutil_ctx_new();
	return 0;
}

static int ctx_clean(void)
{
	xmpp_ctx_free(ctx);
	ctx = NULL;
	return testutil_live_blocks() != 0;
}

static xmpp_stanza_t *parse_xml(const char *xml)
{
	xmpp_stanza_t *st = xmpp_stanza_new_from_string(ctx, xml);

	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	return st;
}

static enum client_outcome check_xml(const char *xml, const char **extra,
				     struct client_check *c)
{
	/* What the tests look at, copied before the stanza goes. */
	static char field[32], got[256], expected[256];
	struct client_opts o;
	xmpp_stanza_t *st = parse_xml(xml);
	char err[256];
	enum client_outcome r;

	testutil_args(&o, err, sizeof(err), TESTUTIL_BASE, "--body", "a&b<c>", extra ?
		   extra[0] : NULL, extra ? extra[1] : NULL, NULL);
	r = client_check_reply(ctx, st, &o, c);
	snprintf(field, sizeof(field), "%s", c->field ? c->field : "");
	snprintf(got, sizeof(got), "%s", c->got ? c->got : "(null)");
	snprintf(expected, sizeof(expected), "%s",
		 c->expected ? c->expected : "(null)");
	client_check_clear(c);
	xmpp_stanza_release(st);
	client_opts_free(&o);
	c->field = field;
	c->got = got;
	c->expected = expected;
	memset(&c->error, 0, sizeof(c->error));
	return r;
}

static void test_check_example(void)
{
	struct client_check c;
	const char *empty[] = { "--another", "" };
	long before = testutil_live_blocks();

	CU_ASSERT_EQUAL(check_xml(TESTUTIL_OK_REPLY("another='some'", " data='stuff'",
				  "a&amp;b&lt;c&gt;"), NULL, &c), CLIENT_REPLY_OK);
	/* Text split over a child element still joins up. */
	CU_ASSERT_EQUAL(check_xml(TESTUTIL_OK_REPLY("another='some'", " data='stuff'",
				  "a&amp;b<inner x='1'/>&lt;c&gt;"), NULL, &c),
			CLIENT_REPLY_OK);
	CU_ASSERT_EQUAL(check_xml(TESTUTIL_OK_REPLY("another='SOME'", " data='stuff'",
				  "a&amp;b&lt;c&gt;"), NULL, &c),
			CLIENT_REPLY_MISMATCH);
	CU_ASSERT_STRING_EQUAL(c.field, "another");
	CU_ASSERT_STRING_EQUAL(c.expected, "some");
	CU_ASSERT_STRING_EQUAL(c.got, "SOME");
	CU_ASSERT_EQUAL(check_xml(TESTUTIL_OK_REPLY("another='some'", "",
				  "a&amp;b&lt;c&gt;"), NULL, &c),
			CLIENT_REPLY_MISMATCH);
	CU_ASSERT_STRING_EQUAL(c.field, "data");
	CU_ASSERT_STRING_EQUAL(c.got, "(null)");
	CU_ASSERT_EQUAL(check_xml(TESTUTIL_OK_REPLY("another='some'", " data='stuff'",
				  "a&amp;b"), NULL, &c), CLIENT_REPLY_MISMATCH);
	CU_ASSERT_STRING_EQUAL(c.field, "text");
	CU_ASSERT_STRING_EQUAL(c.got, "a&b");
	CU_ASSERT_EQUAL(check_xml(TESTUTIL_OK_REPLY("another='some'", " data='stuff'",
				  ""), NULL, &c), CLIENT_REPLY_MISMATCH);
	CU_ASSERT_STRING_EQUAL(c.field, "text");
	CU_ASSERT_STRING_EQUAL(c.got, "");
	/* An empty attribute sent must come back empty, not absent. */
	CU_ASSERT_EQUAL(check_xml(TESTUTIL_OK_REPLY("another=''", " data='stuff'",
				  "a&amp;b&lt;c&gt;"), empty, &c),
			CLIENT_REPLY_OK);
	CU_ASSERT_EQUAL(check_xml(TESTUTIL_OK_REPLY("", "data='stuff'",
				  "a&amp;b&lt;c&gt;"), empty, &c),
			CLIENT_REPLY_MISMATCH);
	CU_ASSERT_STRING_EQUAL(c.field, "another");
	CU_ASSERT_EQUAL(check_xml("<iq type='result' id='x-0'><example_tag "
				  "xmlns='urn:other' another='some' data='stuff'"
				  "/></iq>", NULL, &c), CLIENT_REPLY_MISMATCH);
	CU_ASSERT_STRING_EQUAL(c.field, "example_tag");
	/* Not replies at all. */
	CU_ASSERT_EQUAL(check_xml("<iq type='get' id='x-0'/>", NULL, &c),
			CLIENT_REPLY_NONE);
	CU_ASSERT_EQUAL(check_xml("<message type='chat' id='x-0'><body>hi"
				  "</body></message>", NULL, &c),
			CLIENT_REPLY_NONE);
	CU_ASSERT_EQUAL(testutil_live_blocks(), before);
}

static void test_check_other_modes(void)
{
	struct client_check c;
	const char *ping[] = { "--ping", NULL };
	const char *disco[] = { "--disco", NULL };
	const char *version[] = { "--sw-version", NULL };
	const char *entity_time[] = { "--time", NULL };

	CU_ASSERT_EQUAL(check_xml("<iq type='result' id='x-0'/>", ping, &c),
			CLIENT_REPLY_OK);
	CU_ASSERT_EQUAL(check_xml("<iq type='result' id='x-0'><query xmlns="
				  "'http://jabber.org/protocol/disco#info'/></iq>",
				  disco, &c), CLIENT_REPLY_OK);
	CU_ASSERT_EQUAL(check_xml("<iq type='result' id='x-0'/>", disco, &c),
			CLIENT_REPLY_MISMATCH);
	CU_ASSERT_STRING_EQUAL(c.field, "query");
	CU_ASSERT_EQUAL(check_xml("<iq type='result' id='x-0'><query xmlns="
				  "'jabber:iq:version'><name>x</name></query></iq>",
				  version, &c), CLIENT_REPLY_OK);
	CU_ASSERT_EQUAL(check_xml("<iq type='result' id='x-0'><time xmlns="
				  "'urn:xmpp:time'><tzo>+00:00</tzo><utc>2026-12-"
				  "01T09:07:05Z</utc></time></iq>", entity_time,
				  &c), CLIENT_REPLY_OK);
	CU_ASSERT_EQUAL(check_xml("<iq type='result' id='x-0'><time xmlns="
				  "'urn:other'/></iq>", entity_time, &c),
			CLIENT_REPLY_MISMATCH);
	CU_ASSERT_STRING_EQUAL(c.field, "time");
	CU_ASSERT_EQUAL(check_xml("<iq type='error' id='x-0'><error type="
				  "'cancel'><feature-not-implemented xmlns="
				  "'urn:ietf:params:xml:ns:xmpp-stanzas'/></error>"
				  "</iq>", ping, &c), CLIENT_REPLY_ERROR);
}

/* An allocator that fails while FAIL_ALLOCS is set. */
static int fail_allocs;

static void *failing_alloc(size_t size, void *userdata)
{
	(void)userdata;
	return fail_allocs ? NULL : malloc(size);
}

static void failing_free(void *p, void *userdata)
{
	(void)userdata;
	free(p);
}

static void *failing_realloc(void *p, size_t size, void *userdata)
{
	(void)userdata;
	return fail_allocs ? NULL : realloc(p, size);
}

/* Out of memory while checking a reply is a failure (exit 1) at once, not a
 * reply ignored until --timeout calls it a timeout (exit 2). */
static void test_check_nomem(void)
{
	static const xmpp_mem_t mem = {
		failing_alloc, failing_free, failing_realloc, NULL
	};
	xmpp_ctx_t *fctx = xmpp_ctx_new(&mem, NULL);
	struct client_opts o;
	struct client_check c;
	struct client_stats st;
	xmpp_stanza_t *reply;
	char err[256], *buf = NULL;
	size_t len = 0;
	FILE *f;

	CU_ASSERT_PTR_NOT_NULL_FATAL(fctx);
	/* Two text nodes: joining them is the check's one allocation. */
	reply = xmpp_stanza_new_from_string(fctx, TESTUTIL_OK_REPLY("another='some'",
		" data='stuff'", "OUR<inner/>_MESSAGE"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(reply);
	testutil_args(&o, err, sizeof(err), TESTUTIL_BASE, NULL);
	fail_allocs = 1;
	CU_ASSERT_EQUAL(client_check_reply(fctx, reply, &o, &c),
			CLIENT_REPLY_NOMEM);
	fail_allocs = 0;
	CU_ASSERT_EQUAL(c.outcome, CLIENT_REPLY_NOMEM);
	client_check_clear(&c);
	f = open_memstream(&buf, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	client_report_failure(f, reply, &c);
	fclose(f);
	CU_ASSERT_STRING_EQUAL(buf, "cannot check the reply from ope.localhost: "
			       "out of memory\n");
	free(buf);
	/* With memory the same reply passes. */
	CU_ASSERT_EQUAL(client_check_reply(fctx, reply, &o, &c), CLIENT_REPLY_OK);
	client_check_clear(&c);
	/* The session counts it among the errors: the run fails with 1. */
	CU_ASSERT_EQUAL_FATAL(client_stats_init(&st, 1), 0);
	st.sent = 1;
	st.errors = 1;
	CU_ASSERT_EQUAL(client_stats_exit_code(&st, 1), CLIENT_EXIT_FAIL);
	client_stats_free(&st);
	client_opts_free(&o);
	xmpp_stanza_release(reply);
	xmpp_ctx_free(fctx);
}

static void test_check_errors(void)
{
	/* Prosody's bounce while the component is offline. */
	xmpp_stanza_t *st = parse_xml(
		"<message type='error' id='x-0' from='ope.localhost'>"
		"<error type='wait'><remote-server-timeout xmlns="
		"'urn:ietf:params:xml:ns:xmpp-stanzas'/><text xmlns="
		"'urn:ietf:params:xml:ns:xmpp-stanzas'>Component unavailable"
		"</text><not-connected xmlns="
		"'xmpp:prosody.im/protocol/component'/></error></message>");
	struct client_opts o;
	struct client_check c;
	struct client_error e;
	char err[256];

	CU_ASSERT_EQUAL(client_check_error(st, &e), 0);
	CU_ASSERT_STRING_EQUAL(e.type, "wait");
	CU_ASSERT_STRING_EQUAL(e.condition, "remote-server-timeout");
	CU_ASSERT_STRING_EQUAL(e.app_condition, "not-connected");
	CU_ASSERT_STRING_EQUAL(e.text, "Component unavailable");
	testutil_args(&o, err, sizeof(err), TESTUTIL_BASE, NULL);
	CU_ASSERT_EQUAL(client_check_reply(ctx, st, &o, &c),
			CLIENT_REPLY_ERROR);
	CU_ASSERT_STRING_EQUAL(c.error.condition, "remote-server-timeout");
	client_check_clear(&c);
	client_opts_free(&o);
	xmpp_stanza_release(st);

	/* Condition after text, no app condition. */
	st = parse_xml("<iq type='error' id='1'><error type='cancel'><text "
		       "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>no</text>"
		       "<service-unavailable xmlns="
		       "'urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>");
	CU_ASSERT_EQUAL(client_check_error(st, &e), 0);
	CU_ASSERT_STRING_EQUAL(e.type, "cancel");
	CU_ASSERT_STRING_EQUAL(e.condition, "service-unavailable");
	CU_ASSERT_PTR_NULL(e.app_condition);
	CU_ASSERT_STRING_EQUAL(e.text, "no");
	xmpp_stanza_release(st);

	st = parse_xml("<iq type='error' id='1'><error/></iq>");
	CU_ASSERT_EQUAL(client_check_error(st, &e), 0);
	CU_ASSERT_PTR_NULL(e.type);
	CU_ASSERT_PTR_NULL(e.condition);
	CU_ASSERT_PTR_NULL(e.text);
	xmpp_stanza_release(st);

	st = parse_xml("<iq type='result' id='1'/>");
	CU_ASSERT_EQUAL(client_check_error(st, &e), -1);
	xmpp_stanza_release(st);
}

#define CMD_REPLY(status, inner) "<iq type='result' id='r1' " \
	"from='ope.localhost'><command xmlns='" NS_COMMANDS "' node='n' " \
	"status='" status "'>" inner "</command></iq>"

static void test_check_command(void)
{
	const char *cmd[2] = { "--command", "n" };
	struct client_check c;

	CU_ASSERT_EQUAL(check_xml(CMD_REPLY("completed", "<note type='info'>"
					    "fine</note>"), cmd, &c),
			CLIENT_REPLY_OK);
	CU_ASSERT_EQUAL(check_xml(CMD_REPLY("executing", ""), cmd, &c),
			CLIENT_REPLY_MISMATCH);
	CU_ASSERT_STRING_EQUAL(c.field, "status");
	CU_ASSERT_STRING_EQUAL(c.got, "executing");
	CU_ASSERT_EQUAL(check_xml(CMD_REPLY("completed", "<note type='error'>"
					    "f.conf:3: bad</note>"), cmd, &c),
			CLIENT_REPLY_MISMATCH);
	CU_ASSERT_STRING_EQUAL(c.field, "note");
	CU_ASSERT_STRING_EQUAL(c.got, "f.conf:3: bad");
	CU_ASSERT_EQUAL(check_xml("<iq type='result' id='r1' from='ope.localhost'/>",
				  cmd, &c), CLIENT_REPLY_MISMATCH);
	CU_ASSERT_STRING_EQUAL(c.field, "command");
}

static int test_check_register(void)
{
	CU_pSuite s = CU_add_suite("client_check", ctx_init, ctx_clean);

	if (s == NULL ||
	    !CU_add_test(s, "example_tag replies", test_check_example) ||
	    !CU_add_test(s, "ping/disco/version replies", test_check_other_modes) ||
	    !CU_add_test(s, "error replies", test_check_errors) ||
	    !CU_add_test(s, "ad-hoc command replies", test_check_command) ||
	    !CU_add_test(s, "out of memory is a failure", test_check_nomem))
		return CU_get_error();
	return CUE_SUCCESS;
}

TESTUTIL_SUITE(test_check_register)
