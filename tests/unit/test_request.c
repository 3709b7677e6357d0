/* SPDX-License-Identifier: MIT */
/* test_request.c: ope-client's request.c: the requests each mode sends: exact XML, escaping and UTF-8. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>
#include <strophe.h>

#include "ns.h"
#include "opts.h"
#include "request.h"
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

static void test_request_message(void)
{
	struct client_opts o;
	xmpp_stanza_t *req, *back, *tag;
	char err[256], *xml = NULL, *body;
	size_t len;
	long before = testutil_live_blocks();

	testutil_args(&o, err, sizeof(err), TESTUTIL_BASE, "--another", "& < > \" '",
		   "--data", "héllo ✓ 日本", "--body", "a&b<c>\"d\"'e", NULL);
	req = client_request_new(ctx, &o);
	CU_ASSERT_PTR_NOT_NULL_FATAL(req);
	xmpp_stanza_set_id(req, "id-1");
	CU_ASSERT_EQUAL_FATAL(xmpp_stanza_to_text(req, &xml, &len), XMPP_EOK);
	/* What goes on the wire parses back to exactly what was given. */
	back = parse_xml(xml);
	CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_name(back), "message");
	CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_type(back), "chat");
	CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_to(back), "ope.localhost");
	CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_id(back), "id-1");
	tag = xmpp_stanza_get_child_by_name_and_ns(back, "example_tag",
						   NS_EXAMPLE);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tag);
	CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_attribute(tag, "another"),
			       "& < > \" '");
	CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_attribute(tag, "data"),
			       "héllo ✓ 日本");
	CU_ASSERT_PTR_NULL(xmpp_stanza_get_children(tag));
	body = xmpp_message_get_body(back);
	CU_ASSERT_STRING_EQUAL(body, "a&b<c>\"d\"'e");
	xmpp_free(ctx, body);
	xmpp_free(ctx, xml);
	xmpp_stanza_release(back);
	xmpp_stanza_release(req);
	client_opts_free(&o);
	CU_ASSERT_EQUAL(testutil_live_blocks(), before);
}

static void test_request_iq_kinds(void)
{
	static const struct { const char *flag, *child, *ns; } k[] = {
		{ "--iq", "example_tag", NS_EXAMPLE },
		{ "--ping", "ping", NS_PING },
		{ "--disco", "query", XMPP_NS_DISCO_INFO },
		{ "--sw-version", "query", NS_VERSION },
		{ "--time", "time", NS_TIME },
	};
	struct client_opts o;
	xmpp_stanza_t *req, *child;
	char err[256], *text;
	size_t i;
	long before = testutil_live_blocks();

	for (i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
		testutil_args(&o, err, sizeof(err), TESTUTIL_BASE, k[i].flag, "--body",
			   "T&xt", NULL);
		req = client_request_new(ctx, &o);
		CU_ASSERT_PTR_NOT_NULL_FATAL(req);
		CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_name(req), "iq");
		CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_type(req), "get");
		CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_to(req), "ope.localhost");
		child = xmpp_stanza_get_child_by_name_and_ns(req, k[i].child,
							     k[i].ns);
		CU_ASSERT_PTR_NOT_NULL(child);
		if (child != NULL && o.mode == CLIENT_MODE_IQ) {
			text = xmpp_stanza_get_text(child);
			CU_ASSERT_STRING_EQUAL(text, "T&xt");
			xmpp_free(ctx, text);
			CU_ASSERT_STRING_EQUAL(
				xmpp_stanza_get_attribute(child, "data"),
				"stuff");
		}
		xmpp_stanza_release(req);
		client_opts_free(&o);
	}
	req = client_request_roster(ctx, "r1");
	CU_ASSERT_PTR_NOT_NULL_FATAL(req);
	CU_ASSERT_PTR_NOT_NULL(xmpp_stanza_get_child_by_name_and_ns(req,
				"query", XMPP_NS_ROSTER));
	CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_id(req), "r1");
	xmpp_stanza_release(req);
	CU_ASSERT_EQUAL(testutil_live_blocks(), before);
}

static void test_request_password(void)
{
	struct client_opts o;
	xmpp_stanza_t *req, *tag;
	char err[256];

	testutil_args(&o, err, sizeof(err), TESTUTIL_BASE, "--service-password",
		      "p&'\"w", NULL);
	req = client_request_new(ctx, &o);
	CU_ASSERT_PTR_NOT_NULL_FATAL(req);
	tag = xmpp_stanza_get_child_by_name_and_ns(req, "example_tag", NS_EXAMPLE);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tag);
	CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_attribute(tag, "password"), "p&'\"w");
	xmpp_stanza_release(req);
	client_opts_free(&o);
	testutil_args(&o, err, sizeof(err), TESTUTIL_BASE, "--iq", NULL);
	req = client_request_new(ctx, &o);
	CU_ASSERT_PTR_NOT_NULL_FATAL(req);
	tag = xmpp_stanza_get_child_by_name_and_ns(req, "example_tag", NS_EXAMPLE);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tag);
	CU_ASSERT_PTR_NULL(xmpp_stanza_get_attribute(tag, "password"));
	xmpp_stanza_release(req);
	client_opts_free(&o);
}

static void test_request_command(void)
{
	struct client_opts o;
	xmpp_stanza_t *req, *cmd, *x, *f;
	char err[256], *text;

	testutil_args(&o, err, sizeof(err), TESTUTIL_BASE, "--command", "who",
		      "--field", "jid=a&b@c", "--service-password", "pw", NULL);
	req = client_request_new(ctx, &o);
	CU_ASSERT_PTR_NOT_NULL_FATAL(req);
	CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_type(req), "set");
	cmd = xmpp_stanza_get_child_by_name_and_ns(req, "command", NS_COMMANDS);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cmd);
	CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_attribute(cmd, "node"), "who");
	CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_attribute(cmd, "action"), "execute");
	CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_attribute(cmd, "password"), "pw");
	x = xmpp_stanza_get_child_by_name_and_ns(cmd, "x", NS_DATA);
	CU_ASSERT_PTR_NOT_NULL_FATAL(x);
	CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_type(x), "submit");
	f = xmpp_stanza_get_child_by_name(x, "field");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_attribute(f, "var"), "jid");
	text = xmpp_stanza_get_text(xmpp_stanza_get_child_by_name(f, "value"));
	CU_ASSERT_STRING_EQUAL(text, "a&b@c");
	xmpp_free(ctx, text);
	xmpp_stanza_release(req);
	client_opts_free(&o);
	/* No fields: no form. */
	testutil_args(&o, err, sizeof(err), TESTUTIL_BASE, "--command", "status",
		      NULL);
	req = client_request_new(ctx, &o);
	CU_ASSERT_PTR_NOT_NULL_FATAL(req);
	cmd = xmpp_stanza_get_child_by_name_and_ns(req, "command", NS_COMMANDS);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cmd);
	CU_ASSERT_PTR_NULL(xmpp_stanza_get_children(cmd));
	xmpp_stanza_release(req);
	client_opts_free(&o);
}

static int test_request_register(void)
{
	CU_pSuite s = CU_add_suite("client_request", ctx_init, ctx_clean);

	if (s == NULL ||
	    !CU_add_test(s, "message request", test_request_message) ||
	    !CU_add_test(s, "iq requests", test_request_iq_kinds) ||
	    !CU_add_test(s, "ad-hoc command", test_request_command) ||
	    !CU_add_test(s, "service password attribute", test_request_password))
		return CU_get_error();
	return CUE_SUCCESS;
}

TESTUTIL_SUITE(test_request_register)
