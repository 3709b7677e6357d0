/* SPDX-License-Identifier: MIT */
/* test_pool.c: the instance name, the announcement's text and the answers it accepts (doc/pool-protocol.md, 2). */
#include <CUnit/CUnit.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "link_state.h"
#include "pool.h"
#include "testutil.h"

static void test_name_valid(void)
{
	char name[POOL_NAME_MAX + 2];

	CU_ASSERT_TRUE(pool_name_valid("a"));
	CU_ASSERT_TRUE(pool_name_valid("node-1.eu:a@b/c_D9"));
	CU_ASSERT_FALSE(pool_name_valid(NULL));
	CU_ASSERT_FALSE(pool_name_valid(""));
	CU_ASSERT_FALSE(pool_name_valid("a b"));
	CU_ASSERT_FALSE(pool_name_valid("a'b"));
	CU_ASSERT_FALSE(pool_name_valid("a<b"));
	CU_ASSERT_FALSE(pool_name_valid("\xc3\xa9"));
	memset(name, 'x', POOL_NAME_MAX);
	name[POOL_NAME_MAX] = '\0';
	CU_ASSERT_TRUE(pool_name_valid(name));
	name[POOL_NAME_MAX] = 'x';
	name[POOL_NAME_MAX + 1] = '\0';
	CU_ASSERT_FALSE(pool_name_valid(name));
}

/* "<short host name>-<pid>", valid, and the same for the process. */
static void test_default_name(void)
{
	char a[POOL_NAME_MAX + 1], b[POOL_NAME_MAX + 1], host[256] = "";
	char want[300], pid[24];
	struct pool p;

	pool_default_name(a, sizeof(a));
	pool_default_name(b, sizeof(b));
	CU_ASSERT_STRING_EQUAL(a, b);
	CU_ASSERT_TRUE(pool_name_valid(a));
	snprintf(pid, sizeof(pid), "-%ld", (long)getpid());
	CU_ASSERT(strlen(a) > strlen(pid) &&
		  strcmp(a + strlen(a) - strlen(pid), pid) == 0);
	if (gethostname(host, sizeof(host) - 1) == 0 && host[0] != '\0' &&
	    host[0] != '.' && strlen(host) < 40) {
		host[strcspn(host, ".")] = '\0';
		snprintf(want, sizeof(want), "%s%s", host, pid);
		if (pool_name_valid(want))
			CU_ASSERT_STRING_EQUAL(a, want);
	}
	pool_init(&p, NULL);
	CU_ASSERT_STRING_EQUAL(p.name, a);
	CU_ASSERT_FALSE(p.configured);
	pool_init(&p, "n1");
	CU_ASSERT_STRING_EQUAL(p.name, "n1");
	CU_ASSERT_TRUE(p.configured);
}

static void test_announce_text(void)
{
	struct pool p;
	char buf[512], want[512];
	int n;

	pool_init(&p, "node-1");
	n = pool_announce(&p, "ope.example.org", "example.org", buf,
			  sizeof(buf));
	CU_ASSERT_EQUAL(n, (int)strlen(buf));
	CU_ASSERT_EQUAL(p.phase, POOL_ASKED);
	CU_ASSERT_EQUAL(strlen(p.id), 5 + 32);
	CU_ASSERT(strncmp(p.id, "pool-", 5) == 0);
	snprintf(want, sizeof(want), "<iq type='set' id='%s' "
		 "from='ope.example.org' to='example.org'><instance "
		 "xmlns='urn:xmpp:ope:pool:0' name='node-1'/></iq>", p.id);
	CU_ASSERT_STRING_EQUAL(buf, want);
	/* Too small a buffer, or text needing escapes: refused, unchanged. */
	pool_init(&p, "node-1");
	CU_ASSERT_EQUAL(pool_announce(&p, "ope.example.org", "example.org",
				      buf, 60), -1);
	CU_ASSERT_EQUAL(pool_announce(&p, "a'b", "x", buf, sizeof(buf)), -1);
	CU_ASSERT_EQUAL(p.phase, POOL_IDLE);
	CU_ASSERT_STRING_EQUAL(p.id, "");
}

static enum pool_outcome answer(xmpp_ctx_t *ctx, struct pool *p,
				unsigned long *size, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Parse the XML of FMT into a stanza and ask P about it. */
static enum pool_outcome answer(xmpp_ctx_t *ctx, struct pool *p,
				unsigned long *size, const char *fmt, ...)
{
	char xml[1024];
	xmpp_stanza_t *st;
	enum pool_outcome o;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(xml, sizeof(xml), fmt, ap);
	va_end(ap);
	st = testutil_parse(ctx, xml);
	if (st == NULL)
		return POOL_NOT_OURS;
	o = pool_on_stanza(p, st, size);
	xmpp_stanza_release(st);
	return o;
}

#define ERR_IQ(cond) "<iq type='error' id='%s' from='example.org' " \
	"to='ope.example.org'><error type='cancel'><" cond \
	" xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"

static void test_answers(void)
{
	xmpp_ctx_t *ctx = testutil_ctx_new();
	struct pool p;
	char buf[512];
	unsigned long n = 99;

	pool_init(&p, "node-1");
	/* Nothing asked yet: nothing is ours, not even an empty id. */
	CU_ASSERT_EQUAL(answer(ctx, &p, &n, "<iq type='result' id='%s' "
			       "from='example.org'/>", ""), POOL_NOT_OURS);
	CU_ASSERT(pool_announce(&p, "ope.example.org", "example.org", buf,
				sizeof(buf)) > 0);
	/* Forged: wrong from, wrong id, a request with our id, a message. */
	CU_ASSERT_EQUAL(answer(ctx, &p, &n, "<iq type='result' id='%s' "
			       "from='user@example.org/r'/>", p.id),
			POOL_NOT_OURS);
	CU_ASSERT_EQUAL(answer(ctx, &p, &n, "<iq type='result' id='%s' "
			       "from='example.org'/>", "pool-0"),
			POOL_NOT_OURS);
	CU_ASSERT_EQUAL(answer(ctx, &p, &n, "<iq type='get' id='%s' "
			       "from='example.org'/>", p.id),
			POOL_NOT_OURS);
	CU_ASSERT_EQUAL(answer(ctx, &p, &n, "<message id='%s' "
			       "from='example.org'/>", p.id),
			POOL_NOT_OURS);
	CU_ASSERT_EQUAL(p.phase, POOL_ASKED);
	/* The result, with the pool's size; from compares without case. */
	CU_ASSERT_EQUAL(answer(ctx, &p, &n, "<iq type='result' id='%s' "
			       "from='Example.ORG' to='ope.example.org'><pool "
			       "xmlns='urn:xmpp:ope:pool:0' size='3'/></iq>", p.id), POOL_JOINED);
	CU_ASSERT_EQUAL(n, 3);
	CU_ASSERT_EQUAL(p.phase, POOL_DONE);
	/* The same answer again is still ours (dropped), and no news. */
	CU_ASSERT_EQUAL(answer(ctx, &p, &n, "<iq type='result' id='%s' "
			       "from='example.org'/>", p.id),
			POOL_DUPLICATE);

	/* Errors: the module's two, and any other (no module). */
	CU_ASSERT(pool_announce(&p, "ope.example.org", "example.org", buf,
				sizeof(buf)) > 0);
	CU_ASSERT_EQUAL(answer(ctx, &p, &n, ERR_IQ("conflict"), p.id),
			POOL_CONFLICT);
	CU_ASSERT(pool_announce(&p, "ope.example.org", "example.org", buf,
				sizeof(buf)) > 0);
	CU_ASSERT_EQUAL(answer(ctx, &p, &n, ERR_IQ("bad-request"), p.id),
			POOL_BAD_NAME);
	CU_ASSERT(pool_announce(&p, "ope.example.org", "example.org", buf,
				sizeof(buf)) > 0);
	CU_ASSERT_EQUAL(answer(ctx, &p, &n, ERR_IQ("service-unavailable"), p.id), POOL_NO_MODULE);
	CU_ASSERT(pool_announce(&p, "ope.example.org", "example.org", buf,
				sizeof(buf)) > 0);
	CU_ASSERT_EQUAL(answer(ctx, &p, &n, "<iq type='error' id='%s' "
			       "from='example.org'/>", p.id),
			POOL_NO_MODULE);
	/* A result without <pool/>: joined, size unknown (0). */
	CU_ASSERT(pool_announce(&p, "ope.example.org", "example.org", buf,
				sizeof(buf)) > 0);
	n = 99;
	CU_ASSERT_EQUAL(answer(ctx, &p, &n, "<iq type='result' id='%s' "
			       "from='example.org'/>", p.id), POOL_JOINED);
	CU_ASSERT_EQUAL(n, 0);
	testutil_ctx_free(ctx);
}

/* A taken-over stream is not announced again; a fresh one after it is.
 * The predecessor's name is kept unless one is configured. */
static void test_adopted(void)
{
	struct pool p;

	pool_init(&p, NULL);
	pool_adopted(&p, "old-7");
	CU_ASSERT_STRING_EQUAL(p.name, "old-7");
	CU_ASSERT_EQUAL(p.phase, POOL_DONE);
	pool_link_state(&p, LINK_UP);      /* the adopted stream: nothing */
	CU_ASSERT_EQUAL(p.phase, POOL_DONE);
	CU_ASSERT_FALSE(p.adopted);
	pool_link_state(&p, LINK_WAITING);
	CU_ASSERT_EQUAL(p.phase, POOL_IDLE);

	/* A predecessor that passed no name, or a bad one: ours stays. */
	pool_init(&p, NULL);
	{
		char mine[POOL_NAME_MAX + 1];

		strcpy(mine, p.name);
		pool_adopted(&p, "");
		CU_ASSERT_STRING_EQUAL(p.name, mine);
		pool_adopted(&p, "a b");
		CU_ASSERT_STRING_EQUAL(p.name, mine);
	}
	/* Configured: the configured name wins. */
	pool_init(&p, "new-1");
	pool_adopted(&p, "old-7");
	CU_ASSERT_STRING_EQUAL(p.name, "new-1");
	/* Adopted, then the link went down at once: the flag is gone. */
	pool_link_state(&p, LINK_CONNECTING);
	CU_ASSERT_FALSE(p.adopted);
}

static int test_pool_register(void)
{
	CU_pSuite s = CU_add_suite("pool", NULL, NULL);

	if (s == NULL ||
	    !CU_add_test(s, "instance names: bytes and length", test_name_valid) ||
	    !CU_add_test(s, "default name: host-pid", test_default_name) ||
	    !CU_add_test(s, "announcement text, random id", test_announce_text) ||
	    !CU_add_test(s, "answers: result, errors, forged, again",
			 test_answers) ||
	    !CU_add_test(s, "takeover: no second announcement, name kept",
			 test_adopted))
		return CU_get_error();
	return CUE_SUCCESS;
}

TESTUTIL_SUITE(test_pool_register)
