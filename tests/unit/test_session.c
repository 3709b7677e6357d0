/* SPDX-License-Identifier: MIT */
/* test_session.c: ope-client's session.c: the pure part of the session: the SASL failure condition in libstrophe's log. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "session.h"
#include "testutil.h"

static void test_session_sasl_condition(void)
{
	char buf[64];

	CU_ASSERT_EQUAL(client_session_sasl_condition(
		"RECV: <failure xmlns=\"urn:ietf:params:xml:ns:xmpp-sasl\">"
		"<not-authorized/></failure>", buf, sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, "not-authorized");
	CU_ASSERT_EQUAL(client_session_sasl_condition(
		"RECV: <failure xmlns=\"urn:ietf:params:xml:ns:xmpp-sasl\">"
		"<account-disabled xmlns=\"x\"/><text>no</text></failure>",
		buf, sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, "account-disabled");
	CU_ASSERT_EQUAL(client_session_sasl_condition(
		"RECV: <failure xmlns=\"urn:ietf:params:xml:ns:xmpp-sasl\"/>",
		buf, sizeof(buf)), -1);
	CU_ASSERT_EQUAL(client_session_sasl_condition(
		"RECV: <failure xmlns=\"urn:ietf:params:xml:ns:xmpp-tls\">"
		"<x/></failure>", buf, sizeof(buf)), -1);
	CU_ASSERT_EQUAL(client_session_sasl_condition(
		"SENT: <failure xmlns=\"urn:ietf:params:xml:ns:xmpp-sasl\">"
		"<aborted/></failure>", buf, sizeof(buf)), -1);
	CU_ASSERT_EQUAL(client_session_sasl_condition("RECV: <iq/>", buf,
						      sizeof(buf)), -1);
	CU_ASSERT_EQUAL(client_session_sasl_condition(
		"RECV: <failure xmlns=\"urn:ietf:params:xml:ns:xmpp-sasl\">"
		"<not-authorized/></failure>", buf, 5), -1);
}

static int test_session_register(void)
{
	CU_pSuite s = CU_add_suite("client_session", NULL, NULL);

	if (s == NULL ||
	    !CU_add_test(s, "SASL failure", test_session_sasl_condition))
		return CU_get_error();
	return CUE_SUCCESS;
}

TESTUTIL_SUITE(test_session_register)
