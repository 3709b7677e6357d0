/* SPDX-License-Identifier: MIT */
/* test_jid.c: unit tests for the jid module: split, compare, domain and host checks. */
#include <stdio.h>
#include <string.h>

#include <CUnit/CUnit.h>
#include <stringprep.h>

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

static void test_parent_domain(void)
{
	CU_ASSERT_STRING_EQUAL(jid_parent_domain("ope.example.org"),
			       "example.org");
	CU_ASSERT_STRING_EQUAL(jid_parent_domain("localhost"), "localhost");
	CU_ASSERT_STRING_EQUAL(jid_parent_domain("x."), "x.");
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

/* jid_prep(JID, BARE) must give WANT (NULL: refused). */
static void check_prep(const char *jid, int bare, const char *want)
{
	char out[3 * 1024 + 8];
	int n = jid_prep(jid, bare, out, sizeof(out));

	if (want == NULL) {
		CU_ASSERT_EQUAL(n, -1);
		if (n != -1)
			fprintf(stderr, "\nprep \"%s\": \"%s\", wanted refusal\n",
				jid, out);
		return;
	}
	CU_ASSERT_EQUAL(n, (int)strlen(want));
	CU_ASSERT(n >= 0 && strcmp(out, want) == 0);
	if (n < 0 || strcmp(out, want) != 0)
		fprintf(stderr, "\nprep \"%s\": %d \"%s\", wanted \"%s\"\n", jid,
			n, n < 0 ? "" : out, want);
}

static void test_prep(void)
{
	char out[64], big[2100];

	/* ASCII: the localpart and domain lower-cased, the resource kept. */
	check_prep("Alice@Example.ORG/Phone", 0, "alice@example.org/Phone");
	check_prep("Alice@Example.ORG./Phone", 1, "alice@example.org");
	check_prep("example.org", 1, "example.org");
	/* A non-ASCII capital in the localpart folds as nodeprep folds it. */
	check_prep("\xc3\x89VE@example.org", 1, "\xc3\xa9ve@example.org");
	check_prep("\xc3\xa9ve@example.org", 1, "\xc3\xa9ve@example.org");
	check_prep("Stra\xc3\x9f" "e@example.org", 1, "strasse@example.org");
	/* Both IDN spellings of a domain, in any case, meet as A-labels. */
	check_prep("x@b\xc3\xbc" "cher.example", 1, "x@xn--bcher-kva.example");
	check_prep("x@B\xc3\x9c" "CHER.Example.", 1, "x@xn--bcher-kva.example");
	check_prep("x@xn--bcher-kva.example", 1, "x@xn--bcher-kva.example");
	check_prep("x@XN--BCHER-KVA.EXAMPLE", 1, "x@xn--bcher-kva.example");
	check_prep("a.b\xc3\xbc" "cher.example", 1, "a.xn--bcher-kva.example");
	/* IDNA's other dots separate labels too. */
	check_prep("x@b\xc3\xbc" "cher\xe3\x80\x82" "example", 1,
		   "x@xn--bcher-kva.example");
	/* resourceprep keeps case and maps what it maps. */
	check_prep("x@example.org/\xc3\x89" "t\xc3\xa9", 0,
		   "x@example.org/\xc3\x89t\xc3\xa9");
	check_prep("x@example.org/a\xc2\xad" "b", 0, "x@example.org/ab");

	/* Refused: what nodeprep prohibits, a localpart that maps to
	 * nothing, bidi rules, malformed UTF-8, bad labels, controls. */
	check_prep("a b@example.org", 1, NULL);
	check_prep("a\"b@example.org", 1, NULL);
	check_prep("\xc2\xad@example.org", 1, NULL);
	check_prep("\xd7\x90" "a@example.org", 1, NULL);
	check_prep("\xff@example.org", 1, NULL);
	check_prep("x@b\xff.example", 1, NULL);
	check_prep("x@a..example", 1, NULL);
	check_prep("x@\xc3\xa9..example", 1, NULL);
	check_prep("x@example.org..", 1, NULL);
	check_prep("x@example.org/a\x01", 0, NULL);
	check_prep("x@example.org/a\x01", 1, "x@example.org");
	check_prep("@example.org", 1, NULL);
	memset(big, 'a', 64);
	strcpy(big + 64, ".example");
	check_prep(big, 1, NULL);
	big[63] = '\0';
	check_prep(big, 1, big);
	memset(big, 'a', 1024);
	strcpy(big + 1024, "@example.org");
	check_prep(big, 1, NULL);
	/* The result must fit. */
	CU_ASSERT_EQUAL(jid_prep("alice@example.org", 1, out, 17), -1);
	CU_ASSERT_EQUAL(jid_prep("alice@example.org", 1, out, 18), 17);
	CU_ASSERT_EQUAL(jid_prep("x@b\xc3\xbc" "cher.example", 1, out, 10), -1);
	CU_ASSERT_EQUAL(jid_prep(NULL, 1, out, sizeof(out)), -1);
}

/* The ASCII fast paths give what libidn gives, byte for byte, for every
 * ASCII character: the same refusals, the same mapping. */
static void test_prep_ascii_matches_libidn(void)
{
	int c;

	for (c = 1; c < 128; c++) {
		char in[8] = { 'A', (char)c, 'z', '\0' }, lib[64], ours[64];
		int lrc, n;

		memcpy(lib, in, sizeof(in));
		lrc = stringprep_xmpp_nodeprep(lib, sizeof(lib));
		n = jid_nodeprep(in, 3, ours, sizeof(ours));
		CU_ASSERT_EQUAL(n >= 0, lrc == STRINGPREP_OK);
		if (n >= 0 && lrc == STRINGPREP_OK)
			CU_ASSERT_STRING_EQUAL(ours, lib);
		if ((n >= 0) != (lrc == STRINGPREP_OK))
			fprintf(stderr, "\nnodeprep differs on 0x%02x\n", c);

		memcpy(lib, in, sizeof(in));
		lrc = stringprep_xmpp_resourceprep(lib, sizeof(lib));
		n = jid_resourceprep(in, 3, ours, sizeof(ours));
		CU_ASSERT_EQUAL(n >= 0, lrc == STRINGPREP_OK);
		if (n >= 0 && lrc == STRINGPREP_OK)
			CU_ASSERT_STRING_EQUAL(ours, lib);

		/* nameprep prohibits no ASCII and folds A-Z only. */
		if (c == '.')
			continue;
		memcpy(lib, in, sizeof(in));
		lrc = stringprep(lib, sizeof(lib), 0, stringprep_nameprep);
		n = jid_nameprep(in, 3, ours, sizeof(ours));
		CU_ASSERT_EQUAL(lrc, STRINGPREP_OK);
		CU_ASSERT_EQUAL(n, 3);
		if (n >= 0 && lrc == STRINGPREP_OK)
			CU_ASSERT_STRING_EQUAL(ours, lib);
	}
}

static int test_jid_register(void)
{
	CU_pSuite suite = CU_add_suite("jid", NULL, NULL);

	if (suite == NULL ||
	    CU_add_test(suite, "split", test_split) == NULL ||
	    CU_add_test(suite, "domain_is (case-insensitive)", test_domain_is) == NULL ||
	    CU_add_test(suite, "parent_domain", test_parent_domain) == NULL ||
	    CU_add_test(suite, "domain_valid", test_domain_valid) == NULL ||
	    CU_add_test(suite, "host_valid", test_host_valid) == NULL ||
	    CU_add_test(suite, "prep: nodeprep, nameprep, resourceprep", test_prep) == NULL ||
	    CU_add_test(suite, "prep: ASCII fast path equals libidn",
			test_prep_ascii_matches_libidn) == NULL)
		return CU_get_error();
	return CUE_SUCCESS;
}

TESTUTIL_SUITE(test_jid_register)
