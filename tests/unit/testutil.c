/* SPDX-License-Identifier: MIT */
/* testutil.c: shared helpers for unit tests: counting allocator, parsing, capture. */
#include <stdlib.h>
#include <string.h>
#include <CUnit/CUnit.h>

#include "testutil.h"

static long live_blocks;
static struct testutil_suite *suites, **suites_tail = &suites;

int testutil_add_tests(const char *name, const struct testutil_test *tests,
		       size_t n)
{
	CU_pSuite suite = CU_add_suite(name, NULL, NULL);
	size_t i;

	if (suite == NULL)
		return CU_get_error();
	for (i = 0; i < n; i++)
		if (CU_add_test(suite, tests[i].name, tests[i].fn) == NULL)
			return CU_get_error();
	return CUE_SUCCESS;
}

void testutil_enlist(struct testutil_suite *suite)
{
	suite->next = NULL;
	*suites_tail = suite;
	suites_tail = &suite->next;
}

struct testutil_suite *testutil_suites(void)
{
	return suites;
}

static void *count_alloc(size_t size, void *userdata)
{
	void *p = malloc(size);

	(void)userdata;
	if (p != NULL)
		live_blocks++;
	return p;
}

static void count_free(void *p, void *userdata)
{
	(void)userdata;
	if (p != NULL)
		live_blocks--;
	free(p);
}

static void *count_realloc(void *p, size_t size, void *userdata)
{
	void *q = realloc(p, size);

	(void)userdata;
	if (p == NULL && q != NULL)
		live_blocks++;
	return q;
}

static const xmpp_mem_t counting_mem = {
	count_alloc, count_free, count_realloc, NULL
};

xmpp_ctx_t *testutil_ctx_new(void)
{
	xmpp_ctx_t *ctx;

	/* No CUnit assertion here: suite set-up functions call this too. */
	ctx = xmpp_ctx_new(&counting_mem, NULL);
	if (ctx == NULL)
		abort();
	return ctx;
}

long testutil_live_blocks(void)
{
	return live_blocks;
}

void testutil_ctx_free(xmpp_ctx_t *ctx)
{
	xmpp_ctx_free(ctx);
}

xmpp_stanza_t *testutil_parse(xmpp_ctx_t *ctx, const char *xml)
{
	xmpp_stanza_t *s = xmpp_stanza_new_from_string(ctx, xml);

	CU_ASSERT_PTR_NOT_NULL(s);
	return s;
}

char *testutil_text(xmpp_stanza_t *stanza)
{
	xmpp_ctx_t *ctx = xmpp_stanza_get_context(stanza);
	char *buf = NULL, *copy;
	size_t len = 0;

	if (xmpp_stanza_to_text(stanza, &buf, &len) != XMPP_EOK)
		return NULL;
	copy = strdup(buf);
	xmpp_free(ctx, buf);
	return copy;
}

void testutil_capture(xmpp_stanza_t *reply, void *arg)
{
	struct testutil_sent *sent = arg;

	CU_ASSERT_FATAL(sent->n < TESTUTIL_MAX_SENT);
	sent->stanza[sent->n++] = xmpp_stanza_clone(reply);
}

void testutil_sent_clear(struct testutil_sent *sent)
{
	while (sent->n > 0)
		xmpp_stanza_release(sent->stanza[--sent->n]);
}
