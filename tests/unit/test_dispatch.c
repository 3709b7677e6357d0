/* SPDX-License-Identifier: MIT */
/* test_dispatch.c: what each kind of incoming stanza gets back, and what gets nothing. */
#include <stdio.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <CUnit/CUnit.h>

#include "access.h"
#include "config.h"
#include "dispatch.h"
#include "ext.h"
#include "link.h"
#include "log.h"
#include "ns.h"
#include "stanza.h"
#include "testutil.h"
#include "workpool.h"
#include "xmlstream.h"

#define FROM "alice@example.org/res"
#define EX "xmlns='https://example.net/our_extension'"

static struct config cfg;
static xmpp_ctx_t *ctx;
static struct dispatch *d;
static struct testutil_sent sent;

static void nothing(void *job)
{
	(void)job;
}

static int setup(void)
{
	/* glibc keeps a joined thread's stack, with a TLS block from the
	 * heap, for the next thread: start and join one here, outside any
	 * test, so the worker a test starts is not counted as a leak. */
	workpool_free(workpool_new(1, 1, nothing), NULL, NULL);
	testutil_config(&cfg);
	ctx = testutil_ctx_new();
	d = dispatch_new(ctx, &cfg, NULL, testutil_capture, &sent);
	return d == NULL;
}

/* After each test: the replies it captured are its own. */
static void clear_sent(void)
{
	testutil_sent_clear(&sent);
}

static int teardown(void)
{
	dispatch_free(d);
	xmpp_ctx_free(ctx);
	return testutil_live_blocks() != 0;
}

/* Dispatch XML; return what dispatch decided. */
static enum dispatch_result feed(const char *xml)
{
	xmpp_stanza_t *s = testutil_parse(ctx, xml);
	enum dispatch_result r;

	testutil_sent_clear(&sent);
	if (s == NULL)
		return DISPATCH_NOMEM;
	r = dispatch_stanza(d, s);
	xmpp_stanza_release(s);
	return r;
}

static void assert_addressed(xmpp_stanza_t *reply, const char *name,
			     const char *type, const char *from, const char *to,
			     const char *id)
{
	char *xml = testutil_text(reply);

	CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_name(reply), name);
	CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_type(reply), type);
	CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_from(reply), from);
	CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_to(reply), to);
	if (id != NULL)
		CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_id(reply), id);
	/* Prosody silently drops component stanzas that carry it. */
	CU_ASSERT_PTR_NULL(strstr(xml, "jabber:client"));
	free(xml);
}

/* Assert SENT holds exactly one error reply with COND and error TYPE. */
static void assert_error(const char *name, const char *id, const char *cond,
			 const char *type)
{
	xmpp_stanza_t *error;

	CU_ASSERT_EQUAL_FATAL(sent.n, 1);
	assert_addressed(sent.stanza[0], name, "error", "ope.example.org", FROM, id);
	error = xmpp_stanza_get_child_by_name(sent.stanza[0], "error");
	CU_ASSERT_PTR_NOT_NULL_FATAL(error);
	CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_type(error), type);
	CU_ASSERT_PTR_NOT_NULL(xmpp_stanza_get_child_by_name_and_ns(
		error, cond, "urn:ietf:params:xml:ns:xmpp-stanzas"));
}

static void test_message_gets_iq_result(void)
{
	xmpp_stanza_t *tag;

	CU_ASSERT_EQUAL(feed("<message type='chat' id='m1' to='ope.example.org' "
			     "from='" FROM "' xml:lang='en'><example_tag " EX
			     " another='some' data='stuff'/><body>OUR_MESSAGE</body>"
			     "</message>"), DISPATCH_REPLIED);
	CU_ASSERT_EQUAL_FATAL(sent.n, 1);
	assert_addressed(sent.stanza[0], "iq", "result", "ope.example.org", FROM, "m1");
	tag = xmpp_stanza_get_child_by_name_and_ns(sent.stanza[0], "example_tag",
						   NS_EXAMPLE);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tag);
	CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_attribute(tag, "data"), "stuff");
}

static void test_message_to_local_part(void)
{
	CU_ASSERT_EQUAL(feed("<message id='m2' to='bot@OPE.example.org/x' from='" FROM
			     "'><example_tag " EX "/></message>"), DISPATCH_REPLIED);
	CU_ASSERT_EQUAL_FATAL(sent.n, 1);
	assert_addressed(sent.stanza[0], "iq", "result", "bot@OPE.example.org/x",
			 FROM, "m2");
}

static void test_message_without_id_gets_fresh_ids(void)
{
	char first[64];

	CU_ASSERT_EQUAL(feed("<message to='ope.example.org' from='" FROM "'>"
			     "<example_tag " EX "/></message>"), DISPATCH_REPLIED);
	CU_ASSERT_EQUAL_FATAL(sent.n, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(xmpp_stanza_get_id(sent.stanza[0]));
	CU_ASSERT_TRUE(strlen(xmpp_stanza_get_id(sent.stanza[0])) > 4);
	snprintf(first, sizeof(first), "%s", xmpp_stanza_get_id(sent.stanza[0]));
	feed("<message to='ope.example.org' from='" FROM "'><example_tag " EX
	     "/></message>");
	CU_ASSERT_EQUAL_FATAL(sent.n, 1);
	CU_ASSERT_STRING_NOT_EQUAL(xmpp_stanza_get_id(sent.stanza[0]), first);
}

static void test_nothing_for_these(void)
{
	CU_ASSERT_EQUAL(feed("<message type='error' id='e' to='ope.example.org' from='"
			     FROM "'><example_tag " EX "/></message>"), DISPATCH_IGNORED);
	CU_ASSERT_EQUAL(sent.n, 0);
	CU_ASSERT_EQUAL(feed("<message id='p' to='ope.example.org' from='" FROM
			     "'><body>plain chat</body></message>"), DISPATCH_IGNORED);
	CU_ASSERT_EQUAL(sent.n, 0);
	/* Right name, wrong namespace. */
	CU_ASSERT_EQUAL(feed("<message id='w' to='ope.example.org' from='" FROM
			     "'><example_tag xmlns='urn:other'/></message>"),
			DISPATCH_IGNORED);
	CU_ASSERT_EQUAL(sent.n, 0);
	CU_ASSERT_EQUAL(feed("<iq type='result' id='r' to='ope.example.org' from='"
			     FROM "'/>"), DISPATCH_IGNORED);
	CU_ASSERT_EQUAL(feed("<iq type='error' id='r' to='ope.example.org' from='"
			     FROM "'><ping xmlns='urn:xmpp:ping'/></iq>"),
			DISPATCH_IGNORED);
	CU_ASSERT_EQUAL(sent.n, 0);
	CU_ASSERT_EQUAL(feed("<presence to='ope.example.org' from='" FROM "'/>"),
			DISPATCH_IGNORED);
	CU_ASSERT_EQUAL(sent.n, 0);
}

static void test_dropped(void)
{
	CU_ASSERT_EQUAL(feed("<message id='n' to='ope.example.org'><example_tag "
			     EX "/></message>"), DISPATCH_DROPPED);
	CU_ASSERT_EQUAL(sent.n, 0);
	CU_ASSERT_EQUAL(feed("<iq type='get' id='n' to='ope.example.org'>"
			     "<example_tag " EX "/></iq>"), DISPATCH_DROPPED);
	CU_ASSERT_EQUAL(sent.n, 0);
	CU_ASSERT_EQUAL(feed("<message id='o' to='ope.example.org.evil' from='"
			     FROM "'><example_tag " EX "/></message>"),
			DISPATCH_DROPPED);
	CU_ASSERT_EQUAL(feed("<message id='o' from='" FROM "'><example_tag " EX
			     "/></message>"), DISPATCH_DROPPED);
	CU_ASSERT_EQUAL(sent.n, 0);
	/* A reply to a broken from would carry a broken to: ejabberd then
	 * closes the whole component stream. */
	CU_ASSERT_EQUAL(feed("<message id='f' to='ope.example.org' from='/'>"
			     "<example_tag " EX "/></message>"), DISPATCH_DROPPED);
	CU_ASSERT_EQUAL(feed("<iq type='get' id='f' to='ope.example.org' from='a@'>"
			     "<ping xmlns='urn:xmpp:ping'/></iq>"), DISPATCH_DROPPED);
	CU_ASSERT_EQUAL(sent.n, 0);
}

static void test_iq_example(void)
{
	xmpp_stanza_t *tag;
	char *text;

	CU_ASSERT_EQUAL(feed("<iq type='set' id='q1' to='x@ope.example.org' from='"
			     FROM "'><example_tag " EX " another='a'>T</example_tag>"
			     "</iq>"), DISPATCH_REPLIED);
	CU_ASSERT_EQUAL_FATAL(sent.n, 1);
	assert_addressed(sent.stanza[0], "iq", "result", "x@ope.example.org", FROM, "q1");
	tag = xmpp_stanza_get_child_by_name(sent.stanza[0], "example_tag");
	CU_ASSERT_PTR_NOT_NULL_FATAL(tag);
	text = xmpp_stanza_get_text(tag);
	CU_ASSERT_STRING_EQUAL(text, "T");
	xmpp_free(ctx, text);
}

/* "pw-right" (mkpasswd -m sha512crypt). */
#define SHA_HASH "$6$AcmlSbM6nEC.9.Io$Jk7V6ooFrrxk3L7tafPXufHXkuWpUhGA3KINNit4UROvF/sfakdRb0y6KhXtio4jm59e025Qvm8uVfBlhOyaH1"
#define PW_IQ(id, pw) "<iq type='set' id='" id "' to='ope.example.org' from='" \
	FROM "'><example_tag " EX " password='" pw "'/></iq>"

/* Wait (bounded, generously) for the hash to finish, then answer. */
static void complete_one(void)
{
	struct pollfd p = { .fd = dispatch_fd(d), .events = POLLIN };

	CU_ASSERT_FATAL(p.fd >= 0);
	CU_ASSERT_EQUAL(poll(&p, 1, 60000), 1);
	dispatch_complete(d);
}

/* A password that needs a hash waits for the worker; requests that need
 * none are answered meanwhile; the waiting one is answered through
 * dispatch_complete(), and a right one is cached from then on. */
static void test_password_async(void)
{
	struct dispatch *shared = d;
	char err[200];

	/* A dispatcher of its own: its worker and budgets are freed within
	 * the test. */
	d = dispatch_new(ctx, &cfg, NULL, testutil_capture, &sent);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);

	cfg.access = access_table_new(ACCESS_DENY);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg.access);
	CU_ASSERT_EQUAL(access_table_add(cfg.access, "*", ACCESS_ALLOW, SHA_HASH,
					 "t.conf:1", err, sizeof(err)), 0);
	cfg.limit_password = (struct ratelimit_rate){ 100, 100 };
	cfg.limit_hashes = (struct ratelimit_rate){ 100, 100 };
	CU_ASSERT_EQUAL(dispatch_fd(d), -1);
	CU_ASSERT_EQUAL(feed(PW_IQ("p1", "pw-wrong")), DISPATCH_PENDING);
	CU_ASSERT_EQUAL(sent.n, 0);
	CU_ASSERT_EQUAL(dispatch_pending(d), 1);
	/* Not guarded: served while the hash runs. */
	CU_ASSERT_EQUAL(feed("<iq type='get' id='g1' to='ope.example.org' from='"
			     FROM "'><ping xmlns='urn:xmpp:ping'/></iq>"),
			DISPATCH_REPLIED);
	CU_ASSERT_EQUAL(sent.n, 1);
	testutil_sent_clear(&sent);
	complete_one();
	CU_ASSERT_EQUAL(dispatch_pending(d), 0);
	assert_error("iq", "p1", "not-authorized", "auth");
	testutil_sent_clear(&sent);
	CU_ASSERT_EQUAL(feed(PW_IQ("p2", "pw-right")), DISPATCH_PENDING);
	complete_one();
	CU_ASSERT_EQUAL_FATAL(sent.n, 1);
	assert_addressed(sent.stanza[0], "iq", "result", "ope.example.org", FROM, "p2");
	/* Cached now: answered at once. */
	CU_ASSERT_EQUAL(feed(PW_IQ("p3", "pw-right")), DISPATCH_REPLIED);
	/* The stream ends while one waits: answered now, dropped later. */
	CU_ASSERT_EQUAL(feed(PW_IQ("p4", "pw-other")), DISPATCH_PENDING);
	dispatch_abandon(d, 1);
	CU_ASSERT_EQUAL(dispatch_pending(d), 0);
	assert_error("iq", "p4", "resource-constraint", "wait");
	testutil_sent_clear(&sent);
	complete_one();
	CU_ASSERT_EQUAL(sent.n, 0);
	/* Abandoned without an answer (the stream is gone). */
	CU_ASSERT_EQUAL(feed(PW_IQ("p5", "pw-other2")), DISPATCH_PENDING);
	dispatch_abandon(d, 0);
	complete_one();
	CU_ASSERT_EQUAL(sent.n, 0);
	dispatch_free(d);
	d = shared;
	access_table_free(cfg.access);
	cfg.access = NULL;
}


/* Two links' dispatchers (server.connect "all"): a request waiting for
 * its hash is answered on the link it came on whichever side completes;
 * the password budget is one for both; the second is freed first. */
static void test_beside(void)
{
	struct dispatch *shared = d, *other;
	struct testutil_sent other_sent = { 0 };
	char err[200];
	xmpp_stanza_t *s;

	d = dispatch_new(ctx, &cfg, NULL, testutil_capture, &sent);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	other = dispatch_new_beside(d, testutil_capture, &other_sent);
	CU_ASSERT_PTR_NOT_NULL_FATAL(other);
	cfg.access = access_table_new(ACCESS_DENY);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg.access);
	CU_ASSERT_EQUAL(access_table_add(cfg.access, "*", ACCESS_ALLOW, SHA_HASH,
					 "t.conf:1", err, sizeof(err)), 0);
	cfg.limit_password = (struct ratelimit_rate){ 100, 100 };
	cfg.limit_hashes = (struct ratelimit_rate){ 100, 100 };
	/* On the second link: pending there, answered there. */
	s = testutil_parse(ctx, PW_IQ("b1", "pw-right"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(dispatch_stanza(other, s), DISPATCH_PENDING);
	xmpp_stanza_release(s);
	CU_ASSERT_EQUAL(dispatch_pending(other), 1);
	CU_ASSERT_EQUAL(dispatch_pending(d), 0);
	/* One worker for both: the first's fd, the second's fd. */
	CU_ASSERT_EQUAL(dispatch_fd(other), dispatch_fd(d));
	complete_one();
	CU_ASSERT_EQUAL(sent.n, 0);
	CU_ASSERT_EQUAL_FATAL(other_sent.n, 1);
	assert_addressed(other_sent.stanza[0], "iq", "result", "ope.example.org",
			 FROM, "b1");
	CU_ASSERT_EQUAL(dispatch_pending(other), 0);
	/* One guard: the right password cached by the second link's check
	 * answers at once on the first. */
	CU_ASSERT_EQUAL(feed(PW_IQ("b2", "pw-right")), DISPATCH_REPLIED);
	/* Freed before the lead while one of its checks runs: dropped. */
	testutil_sent_clear(&other_sent);
	s = testutil_parse(ctx, PW_IQ("b3", "pw-other"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(dispatch_stanza(other, s), DISPATCH_PENDING);
	xmpp_stanza_release(s);
	dispatch_free(other);
	complete_one();
	CU_ASSERT_EQUAL(other_sent.n, 0);
	testutil_sent_clear(&sent);
	dispatch_free(d);
	d = shared;
	access_table_free(cfg.access);
	cfg.access = NULL;
}

static void test_iq_errors(void)
{
	CU_ASSERT_EQUAL(feed("<iq type='get' id='u1' to='ope.example.org' from='" FROM
			     "'><query xmlns='jabber:iq:last'/></iq>"),
			DISPATCH_ERROR_SENT);
	assert_error("iq", "u1", "service-unavailable", "cancel");
	/* disco#info exists, but not as a set. */
	CU_ASSERT_EQUAL(feed("<iq type='set' id='u2' to='ope.example.org' from='" FROM
			     "'><query xmlns='http://jabber.org/protocol/disco#info'/>"
			     "</iq>"), DISPATCH_ERROR_SENT);
	assert_error("iq", "u2", "service-unavailable", "cancel");
	CU_ASSERT_EQUAL(feed("<iq type='get' id='b1' to='ope.example.org' from='" FROM
			     "'><ping xmlns='urn:xmpp:ping'/><ping xmlns='urn:xmpp:ping'/>"
			     "</iq>"), DISPATCH_ERROR_SENT);
	assert_error("iq", "b1", "bad-request", "modify");
	CU_ASSERT_EQUAL(feed("<iq type='get' id='b2' to='ope.example.org' from='" FROM
			     "'/>"), DISPATCH_ERROR_SENT);
	assert_error("iq", "b2", "bad-request", "modify");
	CU_ASSERT_EQUAL(feed("<iq type='bogus' id='b3' to='ope.example.org' from='" FROM
			     "'><ping xmlns='urn:xmpp:ping'/></iq>"), DISPATCH_ERROR_SENT);
	assert_error("iq", "b3", "bad-request", "modify");
}

static void test_oversized(void)
{
	/* cfg.max_payload is 1024 in tests. */
	char xml[4096], big[2048];
	xmpp_stanza_t *text;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	snprintf(xml, sizeof(xml), "<iq type='get' id='big' to='ope.example.org' "
		 "from='" FROM "'><example_tag " EX ">%s</example_tag></iq>", big);
	CU_ASSERT_EQUAL(feed(xml), DISPATCH_ERROR_SENT);
	assert_error("iq", "big", "policy-violation", "modify");
	text = xmpp_stanza_get_child_by_name(
		xmpp_stanza_get_child_by_name(sent.stanza[0], "error"), "text");
	CU_ASSERT_PTR_NOT_NULL(text);
	/* The same payload in a message is refused with a message error. */
	snprintf(xml, sizeof(xml), "<message id='bm' to='ope.example.org' "
		 "from='" FROM "'><example_tag " EX " data='%s'/></message>", big);
	CU_ASSERT_EQUAL(feed(xml), DISPATCH_ERROR_SENT);
	assert_error("message", "bm", "policy-violation", "modify");
	/* A message's body is echoed too, so it counts. */
	snprintf(xml, sizeof(xml), "<message id='bb' to='ope.example.org' "
		 "from='" FROM "'><example_tag " EX "/><body>%s</body></message>",
		 big);
	CU_ASSERT_EQUAL(feed(xml), DISPATCH_ERROR_SENT);
	assert_error("message", "bb", "policy-violation", "modify");
	/* Deep nesting is refused however small. */
	{
		char deep[1024];
		size_t o = 0;
		int i;

		o += (size_t)snprintf(deep + o, sizeof(deep) - o,
				      "<iq type='get' id='deep' to='ope.example.org' "
				      "from='" FROM "'><example_tag " EX ">");
		for (i = 0; i < STANZA_MAX_DEPTH + 2; i++)
			o += (size_t)snprintf(deep + o, sizeof(deep) - o, "<a>");
		for (i = 0; i < STANZA_MAX_DEPTH + 2; i++)
			o += (size_t)snprintf(deep + o, sizeof(deep) - o, "</a>");
		snprintf(deep + o, sizeof(deep) - o, "</example_tag></iq>");
		CU_ASSERT_EQUAL(feed(deep), DISPATCH_ERROR_SENT);
		assert_error("iq", "deep", "policy-violation", "modify");
	}
	/* Just under the limit is fine. */
	big[900] = '\0';
	snprintf(xml, sizeof(xml), "<iq type='get' id='ok' to='ope.example.org' "
		 "from='" FROM "'><example_tag " EX ">%s</example_tag></iq>", big);
	CU_ASSERT_EQUAL(feed(xml), DISPATCH_REPLIED);
}

static void test_disco_info(void)
{
	static const char *const expected[] = {
		"http://jabber.org/protocol/disco#info",
		"http://jabber.org/protocol/disco#items",
		"https://example.net/our_extension",
		"urn:xmpp:ping",
		"jabber:iq:version",
		"urn:xmpp:time",
	};
	xmpp_stanza_t *query, *child;
	size_t i, found = 0;

	CU_ASSERT_EQUAL(feed("<iq type='get' id='d1' to='ope.example.org' from='" FROM
			     "'><query xmlns='http://jabber.org/protocol/disco#info'/>"
			     "</iq>"), DISPATCH_REPLIED);
	CU_ASSERT_EQUAL_FATAL(sent.n, 1);
	assert_addressed(sent.stanza[0], "iq", "result", "ope.example.org", FROM, "d1");
	query = xmpp_stanza_get_child_by_name_and_ns(sent.stanza[0], "query",
		"http://jabber.org/protocol/disco#info");
	CU_ASSERT_PTR_NOT_NULL_FATAL(query);
	child = xmpp_stanza_get_child_by_name(query, "identity");
	CU_ASSERT_PTR_NOT_NULL_FATAL(child);
	CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_attribute(child, "category"), "component");
	CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_attribute(child, "type"), "generic");
	CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_attribute(child, "name"), "ope test");
	for (child = xmpp_stanza_get_children(query); child;
	     child = xmpp_stanza_get_next(child)) {
		if (strcmp(xmpp_stanza_get_name(child), "feature") != 0)
			continue;
		for (i = 0; i < sizeof(expected) / sizeof(expected[0]); i++)
			found += strcmp(xmpp_stanza_get_attribute(child, "var"),
					expected[i]) == 0;
	}
	CU_ASSERT_EQUAL(found, sizeof(expected) / sizeof(expected[0]));
	/* A node we don't serve. */
	feed("<iq type='get' id='d2' to='ope.example.org' from='" FROM "'><query "
	     "xmlns='http://jabber.org/protocol/disco#info' node='x'/></iq>");
	assert_error("iq", "d2", "item-not-found", "cancel");
}

static void test_disco_items_ping_version(void)
{
	xmpp_stanza_t *query;

	CU_ASSERT_EQUAL(feed("<iq type='get' id='i' to='ope.example.org' from='" FROM
			     "'><query xmlns='http://jabber.org/protocol/disco#items'/>"
			     "</iq>"), DISPATCH_REPLIED);
	CU_ASSERT_EQUAL_FATAL(sent.n, 1);
	query = xmpp_stanza_get_child_by_name(sent.stanza[0], "query");
	CU_ASSERT_PTR_NOT_NULL_FATAL(query);
	CU_ASSERT_PTR_NULL(xmpp_stanza_get_children(query));

	CU_ASSERT_EQUAL(feed("<iq type='get' id='p' to='ope.example.org' from='" FROM
			     "'><ping xmlns='urn:xmpp:ping'/></iq>"), DISPATCH_REPLIED);
	CU_ASSERT_EQUAL_FATAL(sent.n, 1);
	assert_addressed(sent.stanza[0], "iq", "result", "ope.example.org", FROM, "p");
	CU_ASSERT_PTR_NULL(xmpp_stanza_get_children(sent.stanza[0]));

	CU_ASSERT_EQUAL(feed("<iq type='get' id='v' to='ope.example.org' from='" FROM
			     "'><query xmlns='jabber:iq:version'/></iq>"),
			DISPATCH_REPLIED);
	CU_ASSERT_EQUAL_FATAL(sent.n, 1);
	query = xmpp_stanza_get_child_by_name(sent.stanza[0], "query");
	CU_ASSERT_PTR_NOT_NULL_FATAL(query);
	CU_ASSERT_PTR_NOT_NULL(xmpp_stanza_get_child_by_name(query, "name"));
	CU_ASSERT_PTR_NOT_NULL(xmpp_stanza_get_child_by_name(query, "version"));
	CU_ASSERT_PTR_NOT_NULL(xmpp_stanza_get_child_by_name(query, "os"));
	cfg.service_show_os = 0;
	feed("<iq type='get' id='v2' to='ope.example.org' from='" FROM
	     "'><query xmlns='jabber:iq:version'/></iq>");
	cfg.service_show_os = 1;
	CU_ASSERT_EQUAL_FATAL(sent.n, 1);
	query = xmpp_stanza_get_child_by_name(sent.stanza[0], "query");
	CU_ASSERT_PTR_NULL(xmpp_stanza_get_child_by_name(query, "os"));
}

static void test_presence(void)
{
	CU_ASSERT_EQUAL(feed("<presence type='probe' to='ope.example.org' from='"
			     FROM "'/>"), DISPATCH_REPLIED);
	CU_ASSERT_EQUAL_FATAL(sent.n, 1);
	CU_ASSERT_PTR_NULL(xmpp_stanza_get_type(sent.stanza[0]));
	CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_from(sent.stanza[0]), "ope.example.org");
	CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_to(sent.stanza[0]), FROM);

	CU_ASSERT_EQUAL(feed("<presence type='subscribe' to='ope.example.org' from='"
			     FROM "'/>"), DISPATCH_REPLIED);
	CU_ASSERT_EQUAL_FATAL(sent.n, 2);
	CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_type(sent.stanza[0]), "subscribed");
	CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_to(sent.stanza[0]), "alice@example.org");
	CU_ASSERT_PTR_NULL(xmpp_stanza_get_type(sent.stanza[1]));
	CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_from(sent.stanza[1]), "ope.example.org");

	/* Subscriptions are between bare JIDs, whatever the addressing. */
	CU_ASSERT_EQUAL(feed("<presence type='subscribe' to='bot@ope.example.org/r' "
			     "from='" FROM "'/>"), DISPATCH_REPLIED);
	CU_ASSERT_EQUAL_FATAL(sent.n, 2);
	CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_from(sent.stanza[0]), "bot@ope.example.org");

	CU_ASSERT_EQUAL(feed("<presence type='unsubscribe' to='ope.example.org' from='"
			     FROM "'/>"), DISPATCH_REPLIED);
	CU_ASSERT_EQUAL_FATAL(sent.n, 1);
	CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_type(sent.stanza[0]), "unsubscribed");

	CU_ASSERT_EQUAL(feed("<presence type='subscribed' to='ope.example.org' from='"
			     FROM "'/>"), DISPATCH_IGNORED);
	CU_ASSERT_EQUAL(sent.n, 0);
}

/* Lines in F (rewound). */
static int count_lines(FILE *f)
{
	int c, n = 0;

	rewind(f);
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	return n;
}

/* Dropped stanzas carry addresses anyone can forge: a flood of them writes
 * one line a minute per kind, not one each. */
static void test_drops_throttled(void)
{
	static const char *const kinds[] = {
		"<message to='ope.example.org' id='%s'/>",
		"<message from='@bad@' to='ope.example.org' id='%s'/>",
		"<message from='" FROM "' to='other.example.org' id='%s'/>",
	};
	struct dispatch *own = dispatch_new(ctx, &cfg, NULL, testutil_capture,
					    &sent);
	FILE *f = tmpfile();
	char xml[256];
	size_t k;
	int i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(own);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	log_init("ope-unit", LOG_LEVEL_WARNING, f);
	for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		for (i = 0; i < 100; i++) {
			xmpp_stanza_t *s;

			const char *at = strstr(kinds[k], "%s");

			/* The same stanza with id I: no format string at run time. */
			snprintf(xml, sizeof(xml), "%.*s%d%s", (int)(at - kinds[k]),
				 kinds[k], i, at + 2);
			s = testutil_parse(ctx, xml);
			CU_ASSERT_PTR_NOT_NULL_FATAL(s);
			CU_ASSERT_EQUAL(dispatch_stanza(own, s), DISPATCH_DROPPED);
			xmpp_stanza_release(s);
		}
	}
	fflush(f);
	log_init("ope-unit", LOG_LEVEL_ERROR, stderr);
	CU_ASSERT_EQUAL(count_lines(f), 3);
	CU_ASSERT_EQUAL(sent.n, 0);
	fclose(f);
	dispatch_free(own);
}

/* Above a link: a skipped stanza is answered policy-violation from its
 * tag, one read while the link is stalled resource-constraint; nothing
 * for what must not be answered; stanzas otherwise dispatched. */
static void test_link_upper(void)
{
	struct xmlstream_skipped skip = {
		.name = "iq", .type = "get", .id = "q1", .from = FROM,
		.to = "ope.example.org", .limit = "children per element",
	};
	struct link_input in = { .skipped = &skip, .server = "the test" };
	struct link_upper up;
	xmpp_stanza_t *st;

	dispatch_link_upper(d, &up);
	CU_ASSERT_PTR_EQUAL(up.arg, d);
	testutil_sent_clear(&sent);
	up.input(up.arg, &in);
	assert_error("iq", "q1", "policy-violation", "modify");
	testutil_sent_clear(&sent);
	skip.type = "result";
	up.input(up.arg, &in);
	CU_ASSERT_EQUAL(sent.n, 0);

	st = testutil_parse(ctx, "<message from='" FROM "' to='ope.example.org' "
			    "id='m9'><example_tag " EX "><data>x</data>"
			    "</example_tag></message>");
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	in.skipped = NULL;
	in.stanza = st;
	in.stalled = 1;
	in.queued = 1 << 20;
	in.stalled_ms = 1500;
	up.input(up.arg, &in);
	assert_error("message", "m9", "resource-constraint", "wait");
	testutil_sent_clear(&sent);
	in.stalled = 0;
	up.input(up.arg, &in);
	CU_ASSERT_EQUAL(sent.n, 1);
	CU_ASSERT_STRING_NOT_EQUAL(xmpp_stanza_get_type(sent.stanza[0]), "error");
	xmpp_stanza_release(st);
	CU_ASSERT_EQUAL(up.owes(up.arg), 0);
}

static int test_dispatch_register(void)
{
	CU_pSuite s = CU_add_suite_with_setup_and_teardown("dispatch", setup,
							    teardown, NULL,
							    clear_sent);

	if (s == NULL ||
	    !CU_add_test(s, "message gets an iq result", test_message_gets_iq_result) ||
	    !CU_add_test(s, "message to local@domain/res", test_message_to_local_part) ||
	    !CU_add_test(s, "fresh ids", test_message_without_id_gets_fresh_ids) ||
	    !CU_add_test(s, "no reply for errors, results, plain chat",
			 test_nothing_for_these) ||
	    !CU_add_test(s, "dropped: no from, foreign to", test_dropped) ||
	    !CU_add_test(s, "dropped: one log line a minute per kind",
			 test_drops_throttled) ||
	    !CU_add_test(s, "example_tag iq", test_iq_example) ||
	    !CU_add_test(s, "iq errors", test_iq_errors) ||
	    !CU_add_test(s, "oversized payloads", test_oversized) ||
	    !CU_add_test(s, "disco#info", test_disco_info) ||
	    !CU_add_test(s, "disco#items, ping, version", test_disco_items_ping_version) ||
	    !CU_add_test(s, "presence", test_presence) ||
	    !CU_add_test(s, "passwords hashed off the loop", test_password_async) ||
	    !CU_add_test(s, "dispatchers beside each other share guard and worker", test_beside) ||
	    !CU_add_test(s, "above a link: skipped and stalled answers",
			 test_link_upper))
		return CU_get_error();
	return CUE_SUCCESS;
}

TESTUTIL_SUITE(test_dispatch_register)
