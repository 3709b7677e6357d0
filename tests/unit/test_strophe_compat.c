/* SPDX-License-Identifier: MIT */
/* test_strophe_compat.c: the libstrophe work-arounds: SIGPIPE, secrets in its log, the SASL failure condition in its log. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include <signal.h>

#include "strophe_compat.h"
#include "testutil.h"

static void test_sasl_condition(void)
{
	char buf[64];

	CU_ASSERT_EQUAL(strophe_compat_sasl_condition(
		"RECV: <failure xmlns=\"urn:ietf:params:xml:ns:xmpp-sasl\">"
		"<not-authorized/></failure>", buf, sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, "not-authorized");
	CU_ASSERT_EQUAL(strophe_compat_sasl_condition(
		"RECV: <failure xmlns=\"urn:ietf:params:xml:ns:xmpp-sasl\">"
		"<account-disabled xmlns=\"x\"/><text>no</text></failure>",
		buf, sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, "account-disabled");
	CU_ASSERT_EQUAL(strophe_compat_sasl_condition(
		"RECV: <failure xmlns=\"urn:ietf:params:xml:ns:xmpp-sasl\"/>",
		buf, sizeof(buf)), -1);
	CU_ASSERT_EQUAL(strophe_compat_sasl_condition(
		"RECV: <failure xmlns=\"urn:ietf:params:xml:ns:xmpp-tls\">"
		"<x/></failure>", buf, sizeof(buf)), -1);
	CU_ASSERT_EQUAL(strophe_compat_sasl_condition(
		"SENT: <failure xmlns=\"urn:ietf:params:xml:ns:xmpp-sasl\">"
		"<aborted/></failure>", buf, sizeof(buf)), -1);
	CU_ASSERT_EQUAL(strophe_compat_sasl_condition("RECV: <iq/>", buf,
						      sizeof(buf)), -1);
	CU_ASSERT_EQUAL(strophe_compat_sasl_condition(
		"RECV: <failure xmlns=\"urn:ietf:params:xml:ns:xmpp-sasl\">"
		"<not-authorized/></failure>", buf, 5), -1);
}

static void test_secret_at(void)
{
	CU_ASSERT_EQUAL(strophe_compat_secret_at("SENT: <handshake>ab</handshake>"),
			strlen("SENT: <handshake"));
	CU_ASSERT_EQUAL(strophe_compat_secret_at("Digest: ab, len: 2"),
			strlen("Digest:"));
	CU_ASSERT_EQUAL(strophe_compat_secret_at("RECV: <x password=\"p\"/>"),
			strlen("RECV: <x password="));
	CU_ASSERT_EQUAL(strophe_compat_secret_at("RECV: <iq type='get'/>"), 0);
	/* The earliest mark counts, not the first in the list: a later
	 * <authz/> must not keep an earlier password. */
	CU_ASSERT_EQUAL(strophe_compat_secret_at("SENT: <iq><example_tag "
		"password='hunter2'/><authz/></iq>"),
		strlen("SENT: <iq><example_tag password="));
}

static void test_ignore_sigpipe(void)
{
	struct sigaction old, now;

	CU_ASSERT_EQUAL_FATAL(sigaction(SIGPIPE, NULL, &old), 0);
	CU_ASSERT_EQUAL(strophe_compat_ignore_sigpipe(), 0);
	CU_ASSERT_EQUAL_FATAL(sigaction(SIGPIPE, NULL, &now), 0);
	CU_ASSERT(now.sa_handler == SIG_IGN);
	sigaction(SIGPIPE, &old, NULL);
}

static int test_strophe_compat_register(void)
{
	CU_pSuite s = CU_add_suite("strophe_compat", NULL, NULL);

	if (s == NULL ||
	    !CU_add_test(s, "SASL failure", test_sasl_condition) ||
	    !CU_add_test(s, "secrets in the log", test_secret_at) ||
	    !CU_add_test(s, "SIGPIPE ignored", test_ignore_sigpipe))
		return CU_get_error();
	return CUE_SUCCESS;
}

TESTUTIL_SUITE(test_strophe_compat_register)
