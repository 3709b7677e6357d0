/* SPDX-License-Identifier: MIT */
/* test_ext_example.c: the example_tag reply: attributes, text, children, escaping. */
#include <stdlib.h>
#include <string.h>
#include <CUnit/CUnit.h>

#include "config.h"
#include "ext.h"
#include "ns.h"
#include "testutil.h"

static struct config cfg;

/* Run the extension on the first example_tag of XML; returns the payload. */
static xmpp_stanza_t *run(xmpp_ctx_t *ctx, const char *xml, enum ext_kind kind,
			  xmpp_stanza_t **request)
{
	struct ext_request req = { .ctx = ctx, .kind = kind, .cfg = &cfg };
	struct ext_reply reply = { NULL, STANZA_COND_NONE, NULL, EXT_ACTION_NONE };

	*request = testutil_parse(ctx, xml);
	if (*request == NULL)
		return NULL;
	req.stanza = *request;
	req.payload = xmpp_stanza_get_child_by_name_and_ns(*request, "example_tag",
							   NS_EXAMPLE);
	CU_ASSERT_PTR_NOT_NULL_FATAL(req.payload);
	CU_ASSERT_EQUAL(ext_example.handle(&req, &reply), 0);
	CU_ASSERT_EQUAL(reply.cond, STANZA_COND_NONE);
	return reply.payload;
}

static void test_message_reply(void)
{
	xmpp_ctx_t *ctx = testutil_ctx_new();
	xmpp_stanza_t *req, *tag;
	char *text;

	tag = run(ctx,
		  "<message type='chat' to='ope.example.org' from='a@example.org/r'>"
		  "<example_tag xmlns='https://example.net/our_extension' "
		  "another='some' data='stuff'/><body>OUR_MESSAGE</body></message>",
		  EXT_MESSAGE, &req);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tag);
	CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_name(tag), "example_tag");
	CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_ns(tag), NS_EXAMPLE);
	CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_attribute(tag, "another"), "some");
	CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_attribute(tag, "data"), "stuff");
	text = xmpp_stanza_get_text(tag);
	CU_ASSERT_STRING_EQUAL(text, "OUR_MESSAGE");
	xmpp_free(ctx, text);
	xmpp_stanza_release(tag);
	xmpp_stanza_release(req);
	testutil_ctx_free(ctx);
}

static void test_absent_stays_absent(void)
{
	xmpp_ctx_t *ctx = testutil_ctx_new();
	xmpp_stanza_t *req, *tag;

	tag = run(ctx,
		  "<message to='ope.example.org' from='a@example.org/r'>"
		  "<example_tag xmlns='https://example.net/our_extension' data=''/>"
		  "</message>", EXT_MESSAGE, &req);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tag);
	CU_ASSERT_PTR_NULL(xmpp_stanza_get_attribute(tag, "another"));
	CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_attribute(tag, "data"), "");
	/* No body: no text at all. */
	CU_ASSERT_PTR_NULL(xmpp_stanza_get_children(tag));
	CU_ASSERT_EQUAL(xmpp_stanza_get_attribute_count(tag), 2); /* xmlns, data */
	xmpp_stanza_release(tag);
	xmpp_stanza_release(req);
	testutil_ctx_free(ctx);
}

static void test_children_copied(void)
{
	xmpp_ctx_t *ctx = testutil_ctx_new();
	xmpp_stanza_t *req, *tag, *child;
	char *text;

	tag = run(ctx,
		  "<message to='ope.example.org' from='a@example.org/r'>"
		  "<body>B</body>"
		  "<example_tag xmlns='https://example.net/our_extension' another='x'>"
		  "<inside_tag inner_data='some'>our_text</inside_tag>"
		  "<second xmlns='urn:other'><deep a='1'/></second>"
		  "</example_tag></message>", EXT_MESSAGE, &req);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tag);
	child = xmpp_stanza_get_child_by_name(tag, "inside_tag");
	CU_ASSERT_PTR_NOT_NULL_FATAL(child);
	CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_attribute(child, "inner_data"), "some");
	text = xmpp_stanza_get_text(child);
	CU_ASSERT_STRING_EQUAL(text, "our_text");
	xmpp_free(ctx, text);
	child = xmpp_stanza_get_child_by_name_and_ns(tag, "second", "urn:other");
	CU_ASSERT_PTR_NOT_NULL_FATAL(child);
	CU_ASSERT_PTR_NOT_NULL(xmpp_stanza_get_child_by_name(child, "deep"));
	/* The text comes first and is the body's, not the children's. */
	CU_ASSERT_TRUE(xmpp_stanza_is_text(xmpp_stanza_get_children(tag)));
	CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_text_ptr(xmpp_stanza_get_children(tag)), "B");
	xmpp_stanza_release(tag);
	xmpp_stanza_release(req);
	testutil_ctx_free(ctx);
}

static void test_iq_text(void)
{
	xmpp_ctx_t *ctx = testutil_ctx_new();
	xmpp_stanza_t *req, *tag;
	char *text;

	tag = run(ctx,
		  "<iq type='get' id='i1' to='ope.example.org' from='a@example.org/r'>"
		  "<example_tag xmlns='https://example.net/our_extension' another='a' "
		  "data='d'>IQ TEXT<sub/></example_tag></iq>", EXT_IQ_GET, &req);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tag);
	text = xmpp_stanza_get_text(tag);
	CU_ASSERT_STRING_EQUAL(text, "IQ TEXT");
	xmpp_free(ctx, text);
	CU_ASSERT_PTR_NOT_NULL(xmpp_stanza_get_child_by_name(tag, "sub"));
	xmpp_stanza_release(tag);
	xmpp_stanza_release(req);
	testutil_ctx_free(ctx);
}

static void test_escaping_and_utf8(void)
{
	xmpp_ctx_t *ctx = testutil_ctx_new();
	xmpp_stanza_t *req, *tag, *back;
	char *xml, *text;

	tag = run(ctx,
		  "<message to='ope.example.org' from='a@example.org/r'>"
		  "<example_tag xmlns='https://example.net/our_extension' "
		  "another='&amp; &lt; &gt; &quot; &apos;' data='h\xc3\xa9llo \xe2\x9c\x93'/>"
		  "<body>&lt;b&gt; &amp;amp; \"q\" 'a' \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x8e\x89</body>"
		  "</message>", EXT_MESSAGE, &req);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tag);
	xml = testutil_text(tag);
	CU_ASSERT_PTR_NOT_NULL_FATAL(xml);
	/* Nothing raw that would break the XML on the wire. */
	CU_ASSERT_PTR_NULL(strstr(xml, "<b>"));
	CU_ASSERT_PTR_NULL(strstr(xml, "& "));
	/* And it parses back to the same values. */
	back = testutil_parse(ctx, xml);
	CU_ASSERT_PTR_NOT_NULL_FATAL(back);
	CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_attribute(back, "another"),
			       "& < > \" '");
	CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_attribute(back, "data"),
			       "h\xc3\xa9llo \xe2\x9c\x93");
	text = xmpp_stanza_get_text(back);
	CU_ASSERT_STRING_EQUAL(text, "<b> &amp; \"q\" 'a' \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x8e\x89");
	xmpp_free(ctx, text);
	free(xml);
	xmpp_stanza_release(back);
	xmpp_stanza_release(tag);
	xmpp_stanza_release(req);
	testutil_ctx_free(ctx);
}

static int test_ext_example_register(void)
{
	CU_pSuite s = CU_add_suite("ext_example", NULL, NULL);

	testutil_config(&cfg);
	if (s == NULL ||
	    !CU_add_test(s, "message reply", test_message_reply) ||
	    !CU_add_test(s, "absent attributes stay absent", test_absent_stays_absent) ||
	    !CU_add_test(s, "child elements copied", test_children_copied) ||
	    !CU_add_test(s, "iq text", test_iq_text) ||
	    !CU_add_test(s, "escaping and UTF-8", test_escaping_and_utf8))
		return CU_get_error();
	return CUE_SUCCESS;
}

TESTUTIL_SUITE(test_ext_example_register)
