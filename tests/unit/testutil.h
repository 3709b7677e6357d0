/* SPDX-License-Identifier: MIT */
/* testutil.h: shared helpers for unit tests: counting allocator, parsing, capture. */
#ifndef OPE_TESTUTIL_H
#define OPE_TESTUTIL_H

#include <stddef.h>
#include <strophe.h>

struct config;

/* Every tests/unit/test_<module>.c ends with TESTUTIL_SUITE(fn), where fn adds
 * its suite to the CUnit registry and returns 0 or a CUnit error: the runner
 * it is linked into then registers and runs it (see tests/unit/local.mk). */
struct testutil_suite {
	int (*add)(void);
	struct testutil_suite *next;
};
#define TESTUTIL_SUITE(fn)						\
	static struct testutil_suite testutil_suite_ = { fn, NULL };	\
	__attribute__((constructor)) static void testutil_suite_enlist(void) \
	{								\
		testutil_enlist(&testutil_suite_);			\
	}

/* Append SUITE to the list the runner registers (TESTUTIL_SUITE calls it). */
void testutil_enlist(struct testutil_suite *suite);

/* The suites enlisted so far, in link order. */
struct testutil_suite *testutil_suites(void);

/* One entry of a table of tests for testutil_add_tests(). */
struct testutil_test {
	const char *name;
	void (*fn)(void);
};

/* Add the suite NAME (no set-up or clean-up) holding the N TESTS. Returns
 * 0 (CUE_SUCCESS) or the CUnit error. */
int testutil_add_tests(const char *name, const struct testutil_test *tests,
		       size_t n);

/* A libstrophe context whose allocator counts live blocks. */
xmpp_ctx_t *testutil_ctx_new(void);

/* Live blocks allocated through the counting allocator right now. */
long testutil_live_blocks(void);

/* Free CTX. Blocks still live are reported by the runner after the test. */
void testutil_ctx_free(xmpp_ctx_t *ctx);

/* Parse one XML element into a stanza (caller releases); fails the test and
 * returns NULL if XML does not parse. */
xmpp_stanza_t *testutil_parse(xmpp_ctx_t *ctx, const char *xml);

/* Serialise STANZA; the caller frees the result with free(). */
char *testutil_text(xmpp_stanza_t *stanza);

/* A config as ope-component would load it, for domain "ope.example.org"
 * (tests/unit/testutil_config.c, linked into the component runner only). */
void testutil_config(struct config *cfg);

/* config_load() on conf/ope-component.conf as an operator has it once its
 * placeholder secret is replaced (a temp copy, removed again). Returns
 * config_load()'s result, or -1 when the copy cannot be made. */
int testutil_load_sample(struct config *cfg, char *err, size_t errlen);

/* Replies captured by testutil_capture() (a dispatch_send_fn). */
#define TESTUTIL_MAX_SENT 8
struct testutil_sent {
	xmpp_stanza_t *stanza[TESTUTIL_MAX_SENT];
	size_t n;
};

void testutil_capture(xmpp_stanza_t *reply, void *arg);

/* Release what SENT holds and empty it. */
void testutil_sent_clear(struct testutil_sent *sent);

#endif
