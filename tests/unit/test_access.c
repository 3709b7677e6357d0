/* SPDX-License-Identifier: MIT */
/* test_access.c: unit tests for the permission table: patterns, normalisation, order, the index. */
#include <stdio.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "access.h"
#include "testutil.h"

static char err[600];

static struct access_table *table(enum access_action def)
{
	struct access_table *t = access_table_new(def);

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	return t;
}

static void add(struct access_table *t, const char *match,
		enum access_action action, const char *where)
{
	int rc = access_table_add(t, match, action, NULL, where, err, sizeof(err));

	CU_ASSERT_EQUAL(rc, 0);
	if (rc != 0)
		fprintf(stderr, "\nadd %s: %s\n", match, err);
}

/* The WHERE of the rule matching JID (normalised first), or "default". */
static const char *who(const struct access_table *t, const char *jid)
{
	char bare[ACCESS_BARE_MAX];
	const struct access_rule *r;

	if (access_normalise(jid, bare, sizeof(bare)) < 0)
		return "malformed";
	r = access_table_match(t, bare);
	return r ? r->where : "default";
}

static void test_normalise(void)
{
	char out[64];

	CU_ASSERT_EQUAL(access_normalise("Alice@Example.ORG/Res", out, sizeof(out)), 17);
	CU_ASSERT_STRING_EQUAL(out, "alice@example.org");
	CU_ASSERT(access_normalise("example.org.", out, sizeof(out)) > 0);
	CU_ASSERT_STRING_EQUAL(out, "example.org");
	/* Non-ASCII capitals fold as nodeprep folds them. */
	CU_ASSERT(access_normalise("\xc3\x84li@x.org", out, sizeof(out)) > 0);
	CU_ASSERT_STRING_EQUAL(out, "\xc3\xa4li@x.org");
	/* An IDN domain in either spelling becomes its A-labels. */
	CU_ASSERT(access_normalise("x@B\xc3\x9c" "CHER.example/r", out, sizeof(out)) > 0);
	CU_ASSERT_STRING_EQUAL(out, "x@xn--bcher-kva.example");
	/* A sender that fails preparation is refused, like a malformed one. */
	CU_ASSERT_EQUAL(access_normalise("a b@x.org", out, sizeof(out)), -1);
	CU_ASSERT_EQUAL(access_normalise("\xff@x.org", out, sizeof(out)), -1);
	CU_ASSERT_EQUAL(access_normalise("x@\xc3\xa9..org", out, sizeof(out)), -1);
	CU_ASSERT_EQUAL(access_normalise("@x.org", out, sizeof(out)), -1);
	CU_ASSERT_EQUAL(access_normalise("", out, sizeof(out)), -1);
	CU_ASSERT_EQUAL(access_normalise("averyveryverylongname@example.org",
					 out, 10), -1);
}

static void test_kinds(void)
{
	struct access_table *t = table(ACCESS_DENY);

	add(t, "admin@example.org", ACCESS_ALLOW, "exact");
	add(t, "*@users.example.org", ACCESS_ALLOW, "users");
	add(t, "example.net", ACCESS_DENY, "domain");
	add(t, "*.example.com", ACCESS_ALLOW, "subdomains");
	CU_ASSERT_STRING_EQUAL(who(t, "admin@example.org/x"), "exact");
	CU_ASSERT_STRING_EQUAL(who(t, "ADMIN@EXAMPLE.ORG"), "exact");
	CU_ASSERT_STRING_EQUAL(who(t, "other@example.org"), "default");
	CU_ASSERT_STRING_EQUAL(who(t, "bob@users.example.org"), "users");
	/* *@domain is its users, not the domain itself. */
	CU_ASSERT_STRING_EQUAL(who(t, "users.example.org"), "default");
	CU_ASSERT_STRING_EQUAL(who(t, "example.net"), "domain");
	CU_ASSERT_STRING_EQUAL(who(t, "eve@example.net/r"), "domain");
	/* A domain is not its subdomains... */
	CU_ASSERT_STRING_EQUAL(who(t, "eve@sub.example.net"), "default");
	/* ...and *.domain is only its subdomains, at any depth. */
	CU_ASSERT_STRING_EQUAL(who(t, "example.com"), "default");
	CU_ASSERT_STRING_EQUAL(who(t, "x@example.com"), "default");
	CU_ASSERT_STRING_EQUAL(who(t, "a.example.com"), "subdomains");
	CU_ASSERT_STRING_EQUAL(who(t, "x@b.a.example.com"), "subdomains");
	CU_ASSERT_STRING_EQUAL(who(t, "x@notexample.com"), "default");
	CU_ASSERT_EQUAL(access_table_default(t), ACCESS_DENY);
	access_table_set_default(t, ACCESS_ALLOW);
	CU_ASSERT_EQUAL(access_table_default(t), ACCESS_ALLOW);
	access_table_free(t);
}

static void test_first_match_wins(void)
{
	struct access_table *t = table(ACCESS_DENY);

	add(t, "example.org", ACCESS_DENY, "1");
	add(t, "admin@example.org", ACCESS_ALLOW, "2");
	add(t, "*", ACCESS_ALLOW, "3");
	add(t, "*@example.com", ACCESS_DENY, "4");
	add(t, "*", ACCESS_DENY, "5");
	add(t, "Example.ORG", ACCESS_ALLOW, "6");
	/* Rule 1 comes before rule 2 although 2 is more specific. */
	CU_ASSERT_STRING_EQUAL(who(t, "admin@example.org"), "1");
	CU_ASSERT_STRING_EQUAL(who(t, "x@example.org"), "1");
	/* "*" (rule 3) shadows everything after it. */
	CU_ASSERT_STRING_EQUAL(who(t, "x@example.com"), "3");
	CU_ASSERT_STRING_EQUAL(who(t, "anyone@anywhere.net"), "3");
	CU_ASSERT_EQUAL(access_table_count(t), 6);
	access_table_free(t);

	t = table(ACCESS_ALLOW);
	add(t, "*.example.org", ACCESS_ALLOW, "1");
	add(t, "bob@a.example.org", ACCESS_DENY, "2");
	CU_ASSERT_STRING_EQUAL(who(t, "bob@a.example.org"), "1");
	access_table_free(t);
}

static void test_patterns_stored_normalised(void)
{
	struct access_table *t = table(ACCESS_DENY);
	const struct access_rule *r;

	CU_ASSERT_EQUAL(access_table_add(t, "*@Example.ORG.", ACCESS_ALLOW,
					 "$y$hash", "f.conf:3", err,
					 sizeof(err)), 0);
	r = access_table_match(t, "x@example.org");
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_STRING_EQUAL(r->pattern, "*@example.org");
	CU_ASSERT_STRING_EQUAL(r->where, "f.conf:3");
	CU_ASSERT_STRING_EQUAL(r->password, "$y$hash");
	CU_ASSERT_EQUAL(r->kind, ACCESS_USERS);
	access_table_free(t);
}

/* A rule written in one spelling catches every other spelling of the
 * same address: a deny rule must not fail open. */
static void test_idn_spellings(void)
{
	struct access_table *t = table(ACCESS_ALLOW);
	const struct access_rule *r;
	char bare[ACCESS_BARE_MAX];

	add(t, "\xc3\x89VE@example.org", ACCESS_DENY, "eve");
	add(t, "b\xc3\xbc" "cher.example", ACCESS_DENY, "buecher");
	add(t, "*@XN--MNCHEN-3YA.example", ACCESS_DENY, "muenchen");
	add(t, "*.K\xc3\xb6ln.example", ACCESS_DENY, "koeln");
	add(t, "Stra\xc3\x9f" "e@example.org", ACCESS_DENY, "strasse");

	CU_ASSERT_STRING_EQUAL(who(t, "\xc3\xa9ve@example.org/r"), "eve");
	CU_ASSERT_STRING_EQUAL(who(t, "\xc3\x89ve@EXAMPLE.org"), "eve");
	CU_ASSERT_STRING_EQUAL(who(t, "\xc3\x89VE@example.org"), "eve");
	CU_ASSERT_STRING_EQUAL(who(t, "eve@example.org"), "default");

	CU_ASSERT_STRING_EQUAL(who(t, "x@xn--bcher-kva.example"), "buecher");
	CU_ASSERT_STRING_EQUAL(who(t, "x@XN--BCHER-KVA.EXAMPLE"), "buecher");
	CU_ASSERT_STRING_EQUAL(who(t, "x@B\xc3\x9c" "CHER.example"), "buecher");
	CU_ASSERT_STRING_EQUAL(who(t, "xn--bcher-kva.example"), "buecher");

	CU_ASSERT_STRING_EQUAL(who(t, "x@m\xc3\xbc" "nchen.example"), "muenchen");
	CU_ASSERT_STRING_EQUAL(who(t, "x@M\xc3\x9c" "NCHEN.example/r"), "muenchen");

	CU_ASSERT_STRING_EQUAL(who(t, "x@a.xn--kln-sna.example"), "koeln");
	CU_ASSERT_STRING_EQUAL(who(t, "x@a.b.K\xc3\x96LN.example"), "koeln");
	CU_ASSERT_STRING_EQUAL(who(t, "k\xc3\xb6ln.example"), "default");

	CU_ASSERT_STRING_EQUAL(who(t, "strasse@example.org"), "strasse");
	CU_ASSERT_STRING_EQUAL(who(t, "STRASSE@example.org"), "strasse");

	/* Patterns are stored in the form senders are compared in. */
	CU_ASSERT(access_normalise("x@b\xc3\xbc" "cher.example", bare, sizeof(bare)) > 0);
	r = access_table_match(t, bare);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_STRING_EQUAL(r->pattern, "xn--bcher-kva.example");
	access_table_free(t);
}

static void bad(const char *match, const char *needle)
{
	struct access_table *t = table(ACCESS_DENY);
	int rc = access_table_add(t, match, ACCESS_ALLOW, NULL, "w", err,
				  sizeof(err));

	CU_ASSERT_EQUAL(rc, -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, needle));
	if (rc != -1 || strstr(err, needle) == NULL)
		fprintf(stderr, "\n%s: rc %d, \"%s\"\n", match, rc, err);
	CU_ASSERT_EQUAL(access_table_count(t), 0);
	access_table_free(t);
}

static void test_malformed(void)
{
	bad("", "not a valid domain");
	bad("a@b/res", "drop the '/resource'");
	bad("@example.org", "the part before '@'");
	bad("a b@example.org", "the part before '@'");
	bad("a*@example.org", "the part before '@'");
	bad("*x", "not a valid domain");
	bad("*.", "not a valid domain");
	bad("*.*.example.org", "not a valid domain");
	bad("user@", "not a valid domain");
	bad("exa mple.org", "not a valid domain");
	bad("a@b@c", "not a valid domain");
	bad("-bad-.org", "not a valid domain");
	/* What nodeprep or nameprep refuse. */
	bad("\xd7\x90" "a@example.org", "not a valid XMPP localpart");
	bad("\xc2\xad@example.org", "not a valid XMPP localpart");
	bad("\xff@example.org", "not a valid XMPP localpart");
	bad("x@b\xff.example", "not a valid domain");
	bad("x@\xc3\xa9..example", "not a valid domain");
	bad("*.\xe2\x80\xae" "abc.example", "not a valid domain");
}

/* A thousand rules cost the same few lookups as one. */
static void test_many_rules(void)
{
	struct access_table *t = table(ACCESS_DENY);
	char match[64], where[16];
	int i;

	for (i = 0; i < 1000; i++) {
		snprintf(match, sizeof(match), "user%d@host%d.example.org", i, i % 7);
		snprintf(where, sizeof(where), "%d", i);
		add(t, match, i % 2 ? ACCESS_DENY : ACCESS_ALLOW, where);
	}
	CU_ASSERT_STRING_EQUAL(who(t, "user0@host0.example.org"), "0");
	CU_ASSERT_STRING_EQUAL(who(t, "USER999@host5.example.org/r"), "999");
	CU_ASSERT_STRING_EQUAL(who(t, "user999@host6.example.org"), "default");
	CU_ASSERT_EQUAL(access_table_count(t), 1000);
	access_table_free(t);
}

static const struct testutil_test tests[] = {
	{ "normalise bare JIDs", test_normalise },
	{ "each kind of pattern", test_kinds },
	{ "first match wins", test_first_match_wins },
	{ "patterns stored normalised", test_patterns_stored_normalised },
	{ "IDN and non-ASCII spellings meet", test_idn_spellings },
	{ "malformed patterns", test_malformed },
	{ "1000 rules", test_many_rules },
};

static int test_access_register(void)
{
	return testutil_add_tests("access", tests, sizeof(tests) / sizeof(tests[0]));
}

TESTUTIL_SUITE(test_access_register)
