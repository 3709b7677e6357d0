/* SPDX-License-Identifier: MIT */
/* test_jid.c: unit tests for the jid module: split, compare, domain and host checks. */
#include <string.h>

#include <CUnit/CUnit.h>

#include "jid.h"
#include "testutil.h"

/* Split JID and compare each part with the expected one (NULL: absent). */
static void check_split(const char *jid, const char *local, const char *domain,
			const char *resource)
{
	const char *l, *d, *r;
	size_t ll, dl, rl;

	CU_ASSERT_EQUAL_FATAL(jid_split(jid, &l, &ll, &d, &dl, &r, &rl), 0);
	if (local) {
		CU_ASSERT_EQUAL(ll, strlen(local));
		CU_ASSERT(l && strncmp(l, local, ll) == 0);
	} else {
		CU_ASSERT_PTR_NULL(l);
		CU_ASSERT_EQUAL(ll, 0);
	}
	CU_ASSERT_EQUAL(dl, strlen(domain));
	CU_ASSERT(d && strncmp(d, domain, dl) == 0);
	if (resource) {
		CU_ASSERT_EQUAL(rl, strlen(resource));
		CU_ASSERT(r && strncmp(r, resource, rl) == 0);
	} else {
		CU_ASSERT_PTR_NULL(r);
		CU_ASSERT_EQUAL(rl, 0);
	}
}

static void test_split(void)
{
	const char *d = "x";
	size_t dl = 7;

	check_split("alice@example.org/phone", "alice", "example.org", "phone");
	check_split("alice@example.org", "alice", "example.org", NULL);
	check_split("example.org/r", NULL, "example.org", "r");
	check_split("ope.example.org", NULL, "ope.example.org", NULL);
	/* The resource may hold '@' and '/'; only an '@' before it splits. */
	check_split("a@b/c@d/e", "a", "b", "c@d/e");
	check_split("b/c@d", NULL, "b", "c@d");
	check_split("a@b//", "a", "b", "/");

	/* Every out-pointer may be NULL. */
	CU_ASSERT_EQUAL(jid_split("a@b/c", NULL, NULL, NULL, NULL, NULL, NULL), 0);
	CU_ASSERT_EQUAL(jid_split("a@b/c", NULL, NULL, &d, NULL, NULL, NULL), 0);
	CU_ASSERT_EQUAL(strncmp(d, "b", 1), 0);

	CU_ASSERT_EQUAL(jid_split(NULL, NULL, NULL, &d, &dl, NULL, NULL), -1);
	CU_ASSERT_PTR_NULL(d);
	CU_ASSERT_EQUAL(dl, 0);
	CU_ASSERT_EQUAL(jid_split("", NULL, NULL, NULL, NULL, NULL, NULL), -1);
	CU_ASSERT_EQUAL(jid_split("@b", NULL, NULL, NULL, NULL, NULL, NULL), -1);
	CU_ASSERT_EQUAL(jid_split("a@", NULL, NULL, NULL, NULL, NULL, NULL), -1);
	CU_ASSERT_EQUAL(jid_split("a@/r", NULL, NULL, NULL, NULL, NULL, NULL), -1);
	CU_ASSERT_EQUAL(jid_split("/r", NULL, NULL, NULL, NULL, NULL, NULL), -1);
	CU_ASSERT_EQUAL(jid_split("a@b/", NULL, NULL, NULL, NULL, NULL, NULL), -1);
	CU_ASSERT_EQUAL(jid_split("b/", NULL, NULL, NULL, NULL, NULL, NULL), -1);
}

static void test_domain_is(void)
{
	CU_ASSERT_EQUAL(jid_domain_is("x@ope.example.org/r", "ope.example.org"), 1);
	CU_ASSERT_EQUAL(jid_domain_is("ope.example.org", "ope.example.org"), 1);
	CU_ASSERT_EQUAL(jid_domain_is("x@OPE.Example.ORG/R", "ope.example.org"), 1);
	CU_ASSERT_EQUAL(jid_domain_is("x@ope.example.org", "OPE.EXAMPLE.ORG"), 1);
	/* Prefixes, suffixes and subdomains are other domains. */
	CU_ASSERT_EQUAL(jid_domain_is("x@ope.example.org", "ope.example.or"), 0);
	CU_ASSERT_EQUAL(jid_domain_is("x@ope.example.or", "ope.example.org"), 0);
	CU_ASSERT_EQUAL(jid_domain_is("x@sub.ope.example.org", "ope.example.org"), 0);
	/* Only the domain part counts, not an '@' in the resource. */
	CU_ASSERT_EQUAL(jid_domain_is("x@evil.org/a@ope.example.org", "ope.example.org"), 0);
	CU_ASSERT_EQUAL(jid_domain_is("evil.org/ope.example.org", "ope.example.org"), 0);
	CU_ASSERT_EQUAL(jid_domain_is(NULL, "ope.example.org"), 0);
	CU_ASSERT_EQUAL(jid_domain_is("x@ope.example.org", NULL), 0);
	CU_ASSERT_EQUAL(jid_domain_is("x@ope.example.org", ""), 0);
	CU_ASSERT_EQUAL(jid_domain_is("x@", ""), 0);
	CU_ASSERT_EQUAL(jid_domain_is("@ope.example.org", "ope.example.org"), 0);
}

/* A name of LABELS labels of LEN letters each, joined with dots. */
static const char *make_name(char *buf, size_t buflen, int labels, int len)
{
	size_t o = 0;
	int i, j;

	for (i = 0; i < labels && o + (size_t)len + 2 < buflen; i++) {
		if (i)
			buf[o++] = '.';
		for (j = 0; j < len; j++)
			buf[o++] = (char)('a' + (i + j) % 26);
	}
	buf[o] = '\0';
	return buf;
}

static void test_domain_valid(void)
{
	char buf[300];

	CU_ASSERT_EQUAL(jid_domain_valid("ope.example.org"), 1);
	CU_ASSERT_EQUAL(jid_domain_valid("localhost"), 1);
	CU_ASSERT_EQUAL(jid_domain_valid("a"), 1);
	CU_ASSERT_EQUAL(jid_domain_valid("x-1.Example.ORG"), 1);
	CU_ASSERT_EQUAL(jid_domain_valid("a--b.org"), 1);
	CU_ASSERT_EQUAL(jid_domain_valid("123.org"), 1);

	CU_ASSERT_EQUAL(jid_domain_valid(NULL), 0);
	CU_ASSERT_EQUAL(jid_domain_valid(""), 0);
	CU_ASSERT_EQUAL(jid_domain_valid("example.org."), 0);
	CU_ASSERT_EQUAL(jid_domain_valid(".example.org"), 0);
	CU_ASSERT_EQUAL(jid_domain_valid("example..org"), 0);
	CU_ASSERT_EQUAL(jid_domain_valid("."), 0);
	CU_ASSERT_EQUAL(jid_domain_valid("-ope.example.org"), 0);
	CU_ASSERT_EQUAL(jid_domain_valid("ope-.example.org"), 0);
	CU_ASSERT_EQUAL(jid_domain_valid("ope.example.org-"), 0);
	CU_ASSERT_EQUAL(jid_domain_valid("ope.-example.org"), 0);
	CU_ASSERT_EQUAL(jid_domain_valid("ope_x.example.org"), 0);
	CU_ASSERT_EQUAL(jid_domain_valid("ope example.org"), 0);
	CU_ASSERT_EQUAL(jid_domain_valid("a@example.org"), 0);
	CU_ASSERT_EQUAL(jid_domain_valid("example.org/r"), 0);

	/* Labels: 63 bytes fine, 64 not. */
	CU_ASSERT_EQUAL(jid_domain_valid(make_name(buf, sizeof(buf), 1, 63)), 1);
	CU_ASSERT_EQUAL(jid_domain_valid(make_name(buf, sizeof(buf), 1, 64)), 0);
	CU_ASSERT_EQUAL(jid_domain_valid(make_name(buf, sizeof(buf), 3, 63)), 1);
	/* Total: 4 x 63 + 3 dots = 255; cut to 253 and 254. */
	make_name(buf, sizeof(buf), 4, 63);
	CU_ASSERT_EQUAL(strlen(buf), 255);
	buf[253] = '\0';
	CU_ASSERT_EQUAL(jid_domain_valid(buf), 1);
	make_name(buf, sizeof(buf), 4, 63);
	buf[254] = '\0';
	CU_ASSERT_EQUAL(jid_domain_valid(buf), 0);

	/* IP literals; IPv6 only in brackets (RFC 7622 3.2). */
	CU_ASSERT_EQUAL(jid_domain_valid("127.0.0.1"), 1);
	CU_ASSERT_EQUAL(jid_domain_valid("[::1]"), 1);
	CU_ASSERT_EQUAL(jid_domain_valid("[2001:db8::42]"), 1);
	CU_ASSERT_EQUAL(jid_domain_valid("::1"), 0);
	CU_ASSERT_EQUAL(jid_domain_valid("[::1"), 0);
	CU_ASSERT_EQUAL(jid_domain_valid("[]"), 0);
	CU_ASSERT_EQUAL(jid_domain_valid("[example.org]"), 0);

	/* Internationalised names as UTF-8; malformed UTF-8 is refused. */
	CU_ASSERT_EQUAL(jid_domain_valid("b\xc3\xbc" "cher.example"), 1);
	CU_ASSERT_EQUAL(jid_domain_valid("\xe4\xbe\x8b\xe5\xad\x90.\xe6\xb5\x8b\xe8\xaf\x95"), 1);
	CU_ASSERT_EQUAL(jid_domain_valid("\xf0\x9f\x98\x80.example"), 1);
	CU_ASSERT_EQUAL(jid_domain_valid("b\xfc" "cher.example"), 0);
	CU_ASSERT_EQUAL(jid_domain_valid("b\xc3" ".example"), 0);
	CU_ASSERT_EQUAL(jid_domain_valid("\xc0\xae.example"), 0);
	CU_ASSERT_EQUAL(jid_domain_valid("\xed\xa0\x80.example"), 0);
	/* Label length counts bytes: 21 x "\u00e9a" is 63 bytes; one more
	 * "\u00e9" makes 65, too long. */
	buf[0] = '\0';
	while (strlen(buf) < 63)
		strcat(buf, "\xc3\xa9\x61");
	CU_ASSERT_EQUAL(strlen(buf), 63);
	CU_ASSERT_EQUAL(jid_domain_valid(buf), 1);
	strcat(buf, "\xc3\xa9");
	CU_ASSERT_EQUAL(jid_domain_valid(buf), 0);
}

static void test_host_valid(void)
{
	CU_ASSERT_EQUAL(jid_host_valid("localhost"), 1);
	CU_ASSERT_EQUAL(jid_host_valid("xmpp.example.org"), 1);
	CU_ASSERT_EQUAL(jid_host_valid("127.0.0.1"), 1);
	CU_ASSERT_EQUAL(jid_host_valid("::1"), 1);
	CU_ASSERT_EQUAL(jid_host_valid("[::1]"), 1);
	CU_ASSERT_EQUAL(jid_host_valid("2001:db8::1"), 1);
	CU_ASSERT_EQUAL(jid_host_valid("[2001:db8::1]"), 1);
	CU_ASSERT_EQUAL(jid_host_valid("::ffff:127.0.0.1"), 1);

	CU_ASSERT_EQUAL(jid_host_valid(NULL), 0);
	CU_ASSERT_EQUAL(jid_host_valid(""), 0);
	CU_ASSERT_EQUAL(jid_host_valid("bad host"), 0);
	CU_ASSERT_EQUAL(jid_host_valid("host.example.org."), 0);
	CU_ASSERT_EQUAL(jid_host_valid("-host"), 0);
	CU_ASSERT_EQUAL(jid_host_valid(":::1"), 0);
	CU_ASSERT_EQUAL(jid_host_valid("[::1"), 0);
	CU_ASSERT_EQUAL(jid_host_valid("::1]"), 0);
	CU_ASSERT_EQUAL(jid_host_valid("[::1]:5347"), 0);
	CU_ASSERT_EQUAL(jid_host_valid("127.0.0.1:5347"), 0);
	CU_ASSERT_EQUAL(jid_host_valid("fe80::1%eth0"), 0);
}

static int test_jid_register(void)
{
	CU_pSuite suite = CU_add_suite("jid", NULL, NULL);

	if (suite == NULL ||
	    CU_add_test(suite, "split", test_split) == NULL ||
	    CU_add_test(suite, "domain_is (case-insensitive)", test_domain_is) == NULL ||
	    CU_add_test(suite, "domain_valid", test_domain_valid) == NULL ||
	    CU_add_test(suite, "host_valid", test_host_valid) == NULL)
		return CU_get_error();
	return CUE_SUCCESS;
}

TESTUTIL_SUITE(test_jid_register)
