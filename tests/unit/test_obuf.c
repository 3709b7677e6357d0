/* SPDX-License-Identifier: MIT */
/* test_obuf.c: the output queue: append, take, marks that survive compaction, roll back, serialise. */
#define _GNU_SOURCE  /* memmem */
#include <stdlib.h>
#include <string.h>
#include <CUnit/CUnit.h>

#include "obuf.h"
#include "xmlwrite.h"
#include "testutil.h"

/* Fill B with N bytes of C. */
static void fill(struct obuf *b, char c, size_t n)
{
	char chunk[512];

	memset(chunk, c, sizeof(chunk));
	while (n > 0) {
		size_t k = n < sizeof(chunk) ? n : sizeof(chunk);

		CU_ASSERT_EQUAL_FATAL(obuf_put(b, chunk, k), 0);
		n -= k;
	}
}

static void test_put_consume(void)
{
	struct obuf b = { 0 };

	CU_ASSERT_EQUAL(obuf_len(&b), 0);
	CU_ASSERT_EQUAL(obuf_puts(&b, "hello "), 0);
	CU_ASSERT_EQUAL(obuf_put(&b, "world!", 5), 0);
	CU_ASSERT_EQUAL(obuf_len(&b), 11);
	CU_ASSERT_EQUAL(memcmp(obuf_data(&b), "hello world", 11), 0);
	obuf_consume(&b, 6, 1 << 20);
	CU_ASSERT_EQUAL(obuf_len(&b), 5);
	CU_ASSERT_EQUAL(memcmp(obuf_data(&b), "world", 5), 0);
	/* Emptied: memory kept under KEEP, given back over it. */
	obuf_consume(&b, 5, 1 << 20);
	CU_ASSERT_EQUAL(obuf_len(&b), 0);
	CU_ASSERT_PTR_NOT_NULL(b.data);
	CU_ASSERT_EQUAL(obuf_puts(&b, "x"), 0);
	obuf_consume(&b, 1, 0);
	CU_ASSERT_PTR_NULL(b.data);
	obuf_clear(&b);
}

/* The review's case: a mark taken while most of the buffer was already
 * written, then an append that fits only once the waiting bytes move to
 * the front. The bytes since the mark must be what was appended (under
 * ASan, a mark kept as a raw tail reads past the buffer here), and a roll
 * back must leave exactly what was there before. */
static void test_mark_survives_compaction(void)
{
	struct obuf b = { 0 };
	char tail[1000];
	const char *p;
	size_t mark, n, cap;

	fill(&b, 'a', 16000);
	cap = b.cap;
	CU_ASSERT_EQUAL_FATAL(cap, 16384);
	obuf_consume(&b, 15000, 1 << 20);        /* 1000 bytes still waiting */
	mark = obuf_mark(&b);
	memset(tail, 'z', sizeof(tail));
	CU_ASSERT_EQUAL_FATAL(obuf_put(&b, tail, sizeof(tail)), 0);
	/* It did compact, without growing: the case under test. */
	CU_ASSERT_EQUAL(b.head, 0);
	CU_ASSERT_EQUAL(b.cap, cap);
	p = obuf_since(&b, mark, &n);
	CU_ASSERT_EQUAL(n, sizeof(tail));
	CU_ASSERT_EQUAL(memcmp(p, tail, sizeof(tail)), 0);
	CU_ASSERT_EQUAL(obuf_len(&b), 2000);

	/* Roll back across a compaction: the 1000 'a's stay, nothing else. */
	obuf_consume(&b, 900, 1 << 20);          /* 100 'a' + 1000 'z' */
	obuf_rollback(&b, obuf_mark(&b) - 1000); /* drop the 'z's */
	mark = obuf_mark(&b);
	fill(&b, 'q', 16300);                    /* compacts, then grows */
	obuf_rollback(&b, mark);
	CU_ASSERT_EQUAL(obuf_len(&b), 100);
	p = obuf_data(&b);
	for (n = 0; n < 100 && p[n] == 'a'; n++)
		;
	CU_ASSERT_EQUAL(n, 100);
	obuf_clear(&b);
}

static void test_serialise(void)
{
	xmpp_ctx_t *ctx = testutil_ctx_new();
	xmpp_stanza_t *st = testutil_parse(ctx,
		"<iq type='result' id='a&amp;b'><q xmlns='urn:x'>1 &lt; 2 "
		"&apos;&quot;&gt;</q><e/></iq>");
	struct obuf b = { 0 };
	const char *p;
	size_t mark, n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	CU_ASSERT_EQUAL(obuf_puts(&b, "<x/>"), 0);
	mark = obuf_mark(&b);
	CU_ASSERT_EQUAL(xmlwrite_stanza(&b, st), 0);
	p = obuf_since(&b, mark, &n);
	/* Attribute order is libstrophe's: check the parts. */
	CU_ASSERT_EQUAL(strncmp(p, "<iq ", 4), 0);
	CU_ASSERT_PTR_NOT_NULL(memmem(p, n, "id='a&amp;b'", 12));
	CU_ASSERT_PTR_NOT_NULL(memmem(p, n, "type='result'", 13));
	CU_ASSERT_PTR_NOT_NULL(memmem(p, n, "<q xmlns='urn:x'>1 &lt; 2 "
				      "&apos;&quot;&gt;</q><e/></iq>", 43));
	CU_ASSERT_EQUAL(p[n - 1], '>');
	xmpp_stanza_release(st);
	obuf_clear(&b);
	testutil_ctx_free(ctx);
}

static const struct testutil_test tests[] = {
	{ "append and take", test_put_consume },
	{ "a mark survives compaction (roll back too)",
	  test_mark_survives_compaction },
	{ "stanzas serialised and escaped", test_serialise },
};

static int test_obuf_register(void)
{
	return testutil_add_tests("obuf", tests, sizeof(tests) / sizeof(tests[0]));
}

TESTUTIL_SUITE(test_obuf_register)
