/* SPDX-License-Identifier: MIT */
/* test_report.c: ope-client's report.c: what is printed: one reply per mode, failures, the summary line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>
#include <strophe.h>

#include "check.h"
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

/* Check the reply XML under FLAG's mode and return what the report prints
 * for it (a malloc'd string the caller frees). */
static char *capture_reply(const char *xml, const char *flag)
{
	struct client_opts o;
	xmpp_stanza_t *st = parse_xml(xml);
	char err[256], *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct client_check c;

	testutil_args(&o, err, sizeof(err), TESTUTIL_BASE, flag, NULL);
	if (client_check_reply(ctx, st, &o, &c) == CLIENT_REPLY_OK)
		client_report_reply(f, st, &o, 1.5);
	else
		client_report_failure(f, st, &c);
	client_check_clear(&c);
	fclose(f);
	xmpp_stanza_release(st);
	client_opts_free(&o);
	return buf;
}

static void test_report_output(void)
{
	char *out;
	long before = testutil_live_blocks();

	out = capture_reply(TESTUTIL_OK_REPLY("another='some'", " data='stuff'",
			    "OUR_MESSAGE<inside_tag inner_data='x'>t</inside_tag>"),
			    NULL);
	CU_ASSERT_STRING_EQUAL(out, "reply from ope.localhost: another=\"some\" "
			       "data=\"stuff\" text=\"OUR_MESSAGE\"\n  child: "
			       "<inside_tag inner_data=\"x\">t</inside_tag>\n");
	free(out);
	out = capture_reply(TESTUTIL_OK_REPLY("another='some'", " data='stuff'",
			    "OUR_MESSAGE"), "--xml");
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "<iq "));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, ">OUR_MESSAGE</example_tag></iq>\n"));
	free(out);
	out = capture_reply(TESTUTIL_OK_REPLY("another='some'", " data='stufff'",
			    "OUR_MESSAGE"), NULL);
	CU_ASSERT_STRING_EQUAL(out, "mismatch in reply from ope.localhost: "
			       "data: sent \"stuff\", got \"stufff\"\n");
	free(out);
	out = capture_reply("<message type='error' id='x-0' from='ope.localhost'>"
			    "<error type='wait'><remote-server-timeout xmlns="
			    "'urn:ietf:params:xml:ns:xmpp-stanzas'/><text xmlns="
			    "'urn:ietf:params:xml:ns:xmpp-stanzas'>Component "
			    "unavailable</text><not-connected xmlns='xmpp:"
			    "prosody.im/protocol/component'/></error></message>",
			    NULL);
	CU_ASSERT_STRING_EQUAL(out, "error reply (message) from ope.localhost: "
			       "type=wait condition=remote-server-timeout "
			       "(not-connected) text=\"Component unavailable\"\n");
	free(out);
	out = capture_reply("<iq type='result' from='ope.localhost' id='x-0'/>",
			    "--ping");
	CU_ASSERT_STRING_EQUAL(out, "pong from ope.localhost in 1.500 ms\n");
	free(out);
	out = capture_reply("<iq type='result' from='c' id='x-0'><query xmlns="
			    "'http://jabber.org/protocol/disco#info'><identity "
			    "category='component' type='generic' name='OPE'/>"
			    "<feature var='urn:xmpp:ping'/></query></iq>",
			    "--disco");
	CU_ASSERT_STRING_EQUAL(out, "disco#info of c:\n  identity: category="
			       "\"component\" type=\"generic\" name=\"OPE\"\n"
			       "  feature: \"urn:xmpp:ping\"\n");
	free(out);
	out = capture_reply("<iq type='result' from='c' id='x-0'><query xmlns="
			    "'jabber:iq:version'><name>ope</name><version>0.1"
			    "</version></query></iq>", "--sw-version");
	CU_ASSERT_STRING_EQUAL(out, "software version of c: name=\"ope\" "
			       "version=\"0.1\" os=(absent)\n");
	free(out);
	out = capture_reply("<iq type='result' from='c' id='x-0'><time xmlns="
			    "'urn:xmpp:time'><tzo>+00:00</tzo><utc>2026-12-01T"
			    "09:07:05Z</utc></time></iq>", "--time");
	CU_ASSERT_STRING_EQUAL(out, "entity time of c: utc=\"2026-12-01T09:07:05Z\" "
			       "tzo=\"+00:00\"\n");
	free(out);
	CU_ASSERT_EQUAL(testutil_live_blocks(), before);
}

static void test_report_summary(void)
{
	struct client_stats s;
	struct client_summary sum = { 2.0, 5000.0, 1.25, 9.5 };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	memset(&s, 0, sizeof(s));
	s.sent = 10000;
	s.ok = 9990;
	s.errors = 4;
	s.timeouts = 3;
	s.duplicates = 2;
	s.mismatches = 3;
	client_report_summary(f, &s, &sum);
	fclose(f);
	CU_ASSERT_STRING_EQUAL(buf, "sent=10000 ok=9990 errors=4 timeouts=3 "
			       "duplicates=2 mismatches=3 late=0 rate=5000.0/s "
			       "p50=1.250ms p99=9.500ms elapsed=2.000s\n");
	free(buf);
}

static void test_report_summary_json(void)
{
	struct client_stats s;
	struct client_summary sum = { 2.0, 5000.0, 1.25, 9.5 };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	memset(&s, 0, sizeof(s));
	s.sent = 10000;
	s.ok = 9990;
	s.errors = 4;
	s.timeouts = 3;
	s.duplicates = 2;
	s.mismatches = 3;
	s.late = 1;
	client_report_summary_json(f, &s, &sum, 10000);
	fclose(f);
	CU_ASSERT_STRING_EQUAL(buf, "{\"count\":10000,\"sent\":10000,\"ok\":9990,"
			       "\"errors\":4,\"timeouts\":3,\"duplicates\":2,"
			       "\"mismatches\":3,\"late\":1,\"rate\":5000.0,"
			       "\"p50_ms\":1.250,\"p99_ms\":9.500,"
			       "\"elapsed_s\":2.000}\n");
	free(buf);
}

static void test_report_progress(void)
{
	struct client_stats s;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	memset(&s, 0, sizeof(s));
	client_report_progress(f, &s, 100, 5);
	s.start_ns = 1000000000ULL;
	s.sent = 60;
	s.ok = 45;
	s.errors = 3;
	s.mismatches = 2;
	/* 50 answered in 2 s: 25/s, 50 left: about 2 s. */
	client_report_progress(f, &s, 100, 3000000000ULL);
	client_report_progress_clear(f);
	fclose(f);
	CU_ASSERT_STRING_EQUAL(buf, "\rsent 0/100  answered 0  errors 0  0/s\033[K"
			       "\rsent 60/100  answered 50  errors 5  25/s  "
			       "about 2 s left\033[K\r\033[K");
	free(buf);
}

static void test_report_command(void)
{
	xmpp_stanza_t *st = parse_xml("<iq type='result' id='r1' from='ope.localhost'>"
				      "<command xmlns='" NS_COMMANDS "' node='status' "
				      "status='completed'><x xmlns='" NS_DATA "' "
				      "type='result'><field var='pid'><value>42</value>"
				      "</field><field var='multi'><value>a</value>"
				      "<value>b</value></field><field var='none'/></x>"
				      "</command></iq>");
	struct client_opts o;
	char err[256], *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	CU_ASSERT_EQUAL(testutil_args(&o, err, sizeof(err), TESTUTIL_BASE,
				      "--command", "status", NULL), CLIENT_OPTS_RUN);
	client_report_reply(f, st, &o, 1.0);
	fclose(f);
	CU_ASSERT_STRING_EQUAL(buf, "pid=42\nmulti=a, b\nnone=\n");
	free(buf);
	xmpp_stanza_release(st);
	client_opts_free(&o);
}

static int test_report_register(void)
{
	CU_pSuite s = CU_add_suite("client_report", ctx_init, ctx_clean);

	if (s == NULL ||
	    !CU_add_test(s, "reply output", test_report_output) ||
	    !CU_add_test(s, "ad-hoc command output", test_report_command) ||
	    !CU_add_test(s, "summary as JSON", test_report_summary_json) ||
	    !CU_add_test(s, "progress line", test_report_progress) ||
	    !CU_add_test(s, "summary line", test_report_summary))
		return CU_get_error();
	return CUE_SUCCESS;
}

TESTUTIL_SUITE(test_report_register)
