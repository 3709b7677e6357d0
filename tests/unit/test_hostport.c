/* SPDX-License-Identifier: MIT */
/* test_hostport.c: hostport.c: host and port split out of text, IPv6 in brackets, ports 1..65535. */
#include <string.h>

#include <CUnit/CUnit.h>

#include "hostport.h"
#include "testutil.h"

/* TEXT splits into HOST and PORT (NULL: none). */
static void check_split(const char *text, const char *host, const char *port)
{
	const char *h, *p;
	size_t n;

	CU_ASSERT_EQUAL_FATAL(hostport_split(text, &h, &n, &p), 0);
	CU_ASSERT_EQUAL(n, strlen(host));
	CU_ASSERT_EQUAL(strncmp(h, host, n), 0);
	if (port == NULL) {
		CU_ASSERT_PTR_NULL(p);
	} else {
		CU_ASSERT_STRING_EQUAL(p, port);
	}
}

static void test_split(void)
{
	const char *h, *p;
	size_t n;

	check_split("example.org", "example.org", NULL);
	check_split("example.org:5347", "example.org", "5347");
	check_split("127.0.0.1:", "127.0.0.1", "");
	check_split("[::1]", "::1", NULL);
	check_split("[::1]:5347", "::1", "5347");
	check_split("::1", "::1", NULL);
	check_split("fe80::1:5347", "fe80::1:5347", NULL);
	CU_ASSERT_EQUAL(hostport_split("[::1", &h, &n, &p), -1);
	CU_ASSERT_EQUAL(hostport_split("[::1]5347", &h, &n, &p), -1);
}

static void test_port(void)
{
	CU_ASSERT_EQUAL(hostport_port("1"), 1);
	CU_ASSERT_EQUAL(hostport_port("65535"), 65535);
	CU_ASSERT_EQUAL(hostport_port("05347"), 5347);
	CU_ASSERT_EQUAL(hostport_port("0"), 0);
	CU_ASSERT_EQUAL(hostport_port("65536"), 0);
	CU_ASSERT_EQUAL(hostport_port("99999999999999999999"), 0);
	CU_ASSERT_EQUAL(hostport_port(""), 0);
	CU_ASSERT_EQUAL(hostport_port("+80"), 0);
	CU_ASSERT_EQUAL(hostport_port(" 80"), 0);
	CU_ASSERT_EQUAL(hostport_port("80x"), 0);
}

static int test_hostport_register(void)
{
	CU_pSuite s = CU_add_suite("hostport", NULL, NULL);

	if (s == NULL || !CU_add_test(s, "split", test_split) ||
	    !CU_add_test(s, "port", test_port))
		return CU_get_error();
	return CUE_SUCCESS;
}

TESTUTIL_SUITE(test_hostport_register)
