/* SPDX-License-Identifier: MIT */
/* test_log.c: levels, escaping of wire text, and secrets kept out of the log. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <CUnit/CUnit.h>

#include "log.h"
#include "testutil.h"

static void test_levels(void)
{
	enum log_level l;

	CU_ASSERT_EQUAL(log_level_parse("debug", &l), 0);
	CU_ASSERT_EQUAL(l, LOG_LEVEL_DEBUG);
	CU_ASSERT_EQUAL(log_level_parse("WARNING", &l), 0);
	CU_ASSERT_EQUAL(l, LOG_LEVEL_WARNING);
	CU_ASSERT_EQUAL(log_level_parse("loud", &l), -1);
	CU_ASSERT_STRING_EQUAL(log_level_name(LOG_LEVEL_INFO), "info");
}

static void test_escape(void)
{
	char buf[64], small[8];

	CU_ASSERT_STRING_EQUAL(log_escape(buf, sizeof(buf), "a\nb\x1b[31m\\"),
			       "a\\x0ab\\x1b[31m\\x5c");
	CU_ASSERT_STRING_EQUAL(log_escape(buf, sizeof(buf), "h\xc3\xa9 \xff"),
			       "h\xc3\xa9 \\xff");
	CU_ASSERT_STRING_EQUAL(log_escape(buf, sizeof(buf), NULL), "(null)");
	log_escape(small, sizeof(small), "0123456789");
	CU_ASSERT_EQUAL(strlen(small), 7);
	CU_ASSERT_PTR_NOT_NULL(strstr(small, "..."));
	/* Cut at a character boundary, never inside UTF-8. */
	CU_ASSERT_STRING_EQUAL(log_escape(small, sizeof(small), "ab日本"),
			       "ab...");
	CU_ASSERT_STRING_EQUAL(log_escape(small, 3, "abcdef"), "ab");
}

/* log_quote: the same escaper in quotes, for ope-client's output. */
static void test_quote(void)
{
	char buf[64], small[12];

	CU_ASSERT_STRING_EQUAL(log_quote(buf, sizeof(buf), "some"), "\"some\"");
	CU_ASSERT_STRING_EQUAL(log_quote(buf, sizeof(buf), "a\"b\\c"),
			       "\"a\\\"b\\\\c\"");
	CU_ASSERT_STRING_EQUAL(log_quote(buf, sizeof(buf), "x\ny\x01\x7f"),
			       "\"x\\x0ay\\x01\\x7f\"");
	CU_ASSERT_STRING_EQUAL(log_quote(buf, sizeof(buf), "héllo ✓ 日本"),
			       "\"héllo ✓ 日本\"");
	CU_ASSERT_STRING_EQUAL(log_quote(buf, sizeof(buf), "\xff\xc3("),
			       "\"\\xff\\xc3(\"");
	CU_ASSERT_STRING_EQUAL(log_quote(buf, sizeof(buf), NULL), "(absent)");
	CU_ASSERT_STRING_EQUAL(log_quote(buf, sizeof(buf), ""), "\"\"");
	log_quote(small, sizeof(small), "0123456789abcdef");
	CU_ASSERT_STRING_EQUAL(small, "\"012345...\"");
	/* A multi-byte character is never cut in half. */
	log_quote(small, sizeof(small), "日本日本日本");
	CU_ASSERT_STRING_EQUAL(small, "\"日本...\"");
	log_quote(small, sizeof(small), "ab日本日本");
	CU_ASSERT_STRING_EQUAL(small, "\"ab日...\"");
	log_quote(small, 7, "x");
	CU_ASSERT_STRING_EQUAL(small, "");
}

/* Run libstrophe's logger on LINE at debug level; return what was written. */
static char *strophe_line(const char *line)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	const xmpp_log_t *logger = log_strophe_logger();

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	log_init("ope-unit", LOG_LEVEL_DEBUG, f);
	logger->handler(logger->userdata, XMPP_LEVEL_DEBUG, "conn", line);
	fclose(f);
	log_init("ope-unit", LOG_LEVEL_ERROR, stderr);
	return out;
}

static void test_secrets_filtered(void)
{
	char *out;

	out = strophe_line("SENT: <handshake>2aae6c35c94fcfb415dbe95f408b9ce91ee846ed</handshake>");
	CU_ASSERT_PTR_NULL(strstr(out, "2aae6c35"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "masked"));
	free(out);
	/* As libstrophe 0.12.2 really writes them. */
	out = strophe_line("SENT: <handshake xmlns='jabber:component:accept'>"
			   "7d69114e431ba4459d1ea779fd1936a6523db4b1</handshake>");
	CU_ASSERT_PTR_NULL(strstr(out, "7d69114e"));
	free(out);
	out = strophe_line("Digest: 7d69114e431ba4459d1ea779fd1936a6523db4b1, len: 40");
	CU_ASSERT_PTR_NULL(strstr(out, "7d69114e"));
	free(out);
	out = strophe_line("SENT: <auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' "
			   "mechanism='PLAIN'>AGFsaWNlAHNlY3JldA==</auth>");
	CU_ASSERT_PTR_NULL(strstr(out, "AGFsaWNl"));
	free(out);
	/* Text before a masked secret is still escaped: no forged lines. */
	out = strophe_line("RECV: <message><body>a\nFORGED error: x</body><auth/>");
	CU_ASSERT_PTR_NULL(strstr(out, "\nFORGED"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\\x0aFORGED"));
	free(out);
	out = strophe_line("RECV: <message from='x'>\x1b[2J</message>");
	CU_ASSERT_PTR_NULL(strchr(out, '\x1b'));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "<message from='x'>"));
	free(out);
}

static void test_threshold(void)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	log_init("ope-unit", LOG_LEVEL_WARNING, f);
	log_info("hidden");
	log_warn("shown %d", 42);
	fclose(f);
	log_init("ope-unit", LOG_LEVEL_ERROR, stderr);
	CU_ASSERT_PTR_NULL(strstr(out, "hidden"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "warning: shown 42"));
	free(out);
}

static int test_log_register(void)
{
	CU_pSuite s = CU_add_suite("log", NULL, NULL);

	if (s == NULL ||
	    !CU_add_test(s, "levels", test_levels) ||
	    !CU_add_test(s, "escaping", test_escape) ||
	    !CU_add_test(s, "quoting", test_quote) ||
	    !CU_add_test(s, "libstrophe secrets filtered", test_secrets_filtered) ||
	    !CU_add_test(s, "threshold", test_threshold))
		return CU_get_error();
	return CUE_SUCCESS;
}

TESTUTIL_SUITE(test_log_register)
