/* SPDX-License-Identifier: MIT */
/* test_stanza.c: error replies, IQ results and the size estimate. */
#include <stdlib.h>
#include <string.h>
#include <CUnit/CUnit.h>

#include "stanza.h"
#include "testutil.h"

static void test_error_reply(void)
{
	xmpp_ctx_t *ctx = testutil_ctx_new();
	xmpp_stanza_t *req = testutil_parse(ctx,
		"<iq type='get' id='x&amp;1' to='c.example' from='a@b/c'><q xmlns='u'/></iq>");
	xmpp_stanza_t *err, *e, *text;
	char *xml;

	err = stanza_error_reply(ctx, req, "c.example",
				 STANZA_COND_SERVICE_UNAVAILABLE, "not here");
	CU_ASSERT_PTR_NOT_NULL_FATAL(err);
	CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_name(err), "iq");
	CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_type(err), "error");
	CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_id(err), "x&1");
	CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_from(err), "c.example");
	CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_to(err), "a@b/c");
	e = xmpp_stanza_get_child_by_name(err, "error");
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_type(e), "cancel");
	CU_ASSERT_PTR_NOT_NULL(xmpp_stanza_get_child_by_name_and_ns(
		e, "service-unavailable", XMPP_NS_STANZAS_IETF));
	text = xmpp_stanza_get_child_by_name_and_ns(e, "text", XMPP_NS_STANZAS_IETF);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	xml = testutil_text(err);
	CU_ASSERT_PTR_NOT_NULL(strstr(xml, "not here"));
	CU_ASSERT_PTR_NULL(strstr(xml, "jabber:client"));
	free(xml);
	xmpp_stanza_release(err);
	/* Without a from there is nobody to answer. */
	xmpp_stanza_del_attribute(req, "from");
	CU_ASSERT_PTR_NULL(stanza_error_reply(ctx, req, "c.example",
					      STANZA_COND_BAD_REQUEST, NULL));
	xmpp_stanza_release(req);
	testutil_ctx_free(ctx);
}

static void test_condition_types(void)
{
	CU_ASSERT_STRING_EQUAL(stanza_cond_name(STANZA_COND_BAD_REQUEST), "bad-request");
	CU_ASSERT_STRING_EQUAL(stanza_cond_type(STANZA_COND_BAD_REQUEST), "modify");
	CU_ASSERT_STRING_EQUAL(stanza_cond_type(STANZA_COND_POLICY_VIOLATION), "modify");
	CU_ASSERT_STRING_EQUAL(stanza_cond_type(STANZA_COND_SERVICE_UNAVAILABLE), "cancel");
	CU_ASSERT_STRING_EQUAL(stanza_cond_type(STANZA_COND_RESOURCE_CONSTRAINT), "wait");
	/* RFC 6120 §8.3.3: the access answers' types. */
	CU_ASSERT_STRING_EQUAL(stanza_cond_name(STANZA_COND_FORBIDDEN), "forbidden");
	CU_ASSERT_STRING_EQUAL(stanza_cond_type(STANZA_COND_FORBIDDEN), "auth");
	CU_ASSERT_STRING_EQUAL(stanza_cond_name(STANZA_COND_NOT_AUTHORIZED), "not-authorized");
	CU_ASSERT_STRING_EQUAL(stanza_cond_type(STANZA_COND_NOT_AUTHORIZED), "auth");
	CU_ASSERT_STRING_EQUAL(stanza_cond_name(STANZA_COND_RATE_LIMITED), "policy-violation");
	CU_ASSERT_STRING_EQUAL(stanza_cond_type(STANZA_COND_RATE_LIMITED), "wait");
	CU_ASSERT_STRING_EQUAL(stanza_cond_name((enum stanza_cond)999),
			       "undefined-condition");
}

static void test_iq_result(void)
{
	xmpp_ctx_t *ctx = testutil_ctx_new();
	xmpp_stanza_t *iq = stanza_iq_result(ctx, "i", "c.example", "a@b/c",
					     stanza_element(ctx, "q", "urn:q"));

	CU_ASSERT_PTR_NOT_NULL_FATAL(iq);
	CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_type(iq), "result");
	CU_ASSERT_PTR_NULL(xmpp_stanza_get_ns(iq));
	CU_ASSERT_PTR_NOT_NULL(xmpp_stanza_get_child_by_name_and_ns(iq, "q", "urn:q"));
	xmpp_stanza_release(iq);
	iq = stanza_iq_result(ctx, "i", "c.example", "a@b/c", NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(iq);
	CU_ASSERT_PTR_NULL(xmpp_stanza_get_children(iq));
	xmpp_stanza_release(iq);
	testutil_ctx_free(ctx);
}

static void test_text_element(void)
{
	xmpp_ctx_t *ctx = testutil_ctx_new();
	xmpp_stanza_t *q = stanza_element(ctx, "query", "jabber:iq:version");
	char *xml;

	CU_ASSERT_PTR_NOT_NULL_FATAL(q);
	CU_ASSERT_EQUAL(stanza_add_text_element(q, "name", "ope"), 0);
	CU_ASSERT_EQUAL(stanza_add_text_element(q, "os", "a<b"), 0);
	xml = testutil_text(q);
	CU_ASSERT_STRING_EQUAL(xml, "<query xmlns=\"jabber:iq:version\"><name>ope"
			       "</name><os>a&lt;b</os></query>");
	free(xml);
	xmpp_stanza_release(q);
	testutil_ctx_free(ctx);
}

static void test_size(void)
{
	xmpp_ctx_t *ctx = testutil_ctx_new();
	const char *xml = "<a x='12345'><b>hello</b><c/></a>";
	xmpp_stanza_t *s = testutil_parse(ctx, xml);
	size_t n = stanza_size(s, 100000);

	/* An estimate, but close to the real length. */
	CU_ASSERT_TRUE(n >= strlen(xml) - 4 && n <= strlen(xml) + 16);
	/* Counting stops once past the limit. */
	CU_ASSERT_TRUE(stanza_size(s, 5) > 5);
	CU_ASSERT_EQUAL(stanza_element_count(s), 2);
	CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_name(stanza_first_element(s)), "b");
	xmpp_stanza_release(s);
	testutil_ctx_free(ctx);
}

static int test_stanza_register(void)
{
	CU_pSuite s = CU_add_suite("stanza", NULL, NULL);

	if (s == NULL ||
	    !CU_add_test(s, "error reply", test_error_reply) ||
	    !CU_add_test(s, "condition names and types", test_condition_types) ||
	    !CU_add_test(s, "iq result", test_iq_result) ||
	    !CU_add_test(s, "an element holding text", test_text_element) ||
	    !CU_add_test(s, "size estimate", test_size))
		return CU_get_error();
	return CUE_SUCCESS;
}

TESTUTIL_SUITE(test_stanza_register)
