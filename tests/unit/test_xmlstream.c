/* SPDX-License-Identifier: MIT */
/* test_xmlstream.c: the stream parser: splits, limits, skips, errors, libstrophe-equal output, pause. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <CUnit/CUnit.h>

#include "config.h"
#include "testutil.h"
#include "xmlstream.h"

#define HDR "<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept' " \
	"xmlns:stream='http://etherx.jabber.org/streams' from='ope.example.org' " \
	"id='a1-b2-c3'>"

/* What the callbacks saw, as one string of events. */
struct rec {
	char *log;
	size_t len, cap;
	int pause_after;         /* pause at this stanza (1-based), 0: never */
	int pause_on_skip;       /* pause at the first skipped stanza */
	int stanzas;
	xmpp_stanza_t *last;     /* a reference to the last stanza */
	struct xmlstream *x;
};

static void add(struct rec *r, const char *s)
{
	size_t n = strlen(s);

	if (r->len + n + 1 > r->cap) {
		r->cap = (r->len + n + 1) * 2;
		r->log = realloc(r->log, r->cap);
		if (r->log == NULL)
			abort();
	}
	memcpy(r->log + r->len, s, n + 1);
	r->len += n;
}

static void on_open(void *arg, const char *const *attrs)
{
	struct rec *r = arg;

	add(r, "[open");
	for (; attrs[0] != NULL; attrs += 2) {
		add(r, " ");
		add(r, attrs[0]);
		add(r, "=");
		add(r, attrs[1]);
	}
	add(r, "]");
}

static void on_stanza(void *arg, xmpp_stanza_t *s)
{
	struct rec *r = arg;
	char *text = testutil_text(s);

	add(r, "[S ");
	add(r, text != NULL ? text : "(null)");
	add(r, "]");
	free(text);
	if (r->last != NULL)
		xmpp_stanza_release(r->last);
	r->last = xmpp_stanza_clone(s);
	if (++r->stanzas == r->pause_after)
		xmlstream_pause(r->x);
}

static void on_skipped(void *arg, const struct xmlstream_skipped *s)
{
	struct rec *r = arg;
	char buf[512];

	snprintf(buf, sizeof(buf), "[K %s %s %s %s %s: %s]",
		 s->name ? s->name : "-", s->type ? s->type : "-",
		 s->id ? s->id : "-", s->from ? s->from : "-",
		 s->to ? s->to : "-", s->limit);
	add(r, buf);
	if (r->pause_on_skip)
		xmlstream_pause(r->x);
}

static void on_close(void *arg)
{
	add(arg, "[close]");
}

static const struct xmlstream_callbacks cbs = {
	on_open, on_stanza, on_skipped, on_close,
};

static xmpp_ctx_t *ctx;
static long ctx_blocks;       /* what the context itself holds */

static struct xmlstream *start(struct rec *r, const struct xmlstream_limits *lim)
{
	struct xmlstream_limits def;

	memset(r, 0, sizeof(*r));
	add(r, "");
	if (lim == NULL) {
		xmlstream_limits_default(&def);
		lim = &def;
	}
	r->x = xmlstream_new(ctx, lim, &cbs, r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r->x);
	return r->x;
}

static void finish(struct rec *r)
{
	xmlstream_free(r->x);
	if (r->last != NULL)
		xmpp_stanza_release(r->last);
	free(r->log);
	memset(r, 0, sizeof(*r));
	CU_ASSERT_EQUAL(testutil_live_blocks(), ctx_blocks);
}

static int feed(struct xmlstream *x, const char *s)
{
	return xmlstream_feed(x, s, strlen(s));
}

static int setup(void)
{
	ctx = testutil_ctx_new();
	ctx_blocks = testutil_live_blocks();
	return 0;
}

static int teardown(void)
{
	xmpp_ctx_free(ctx);
	return testutil_live_blocks() != 0;
}

/* A stream as Prosody sends it: single quotes, xml:lang, keepalive
 * whitespace, entities, CDATA and a comment splitting text, multi-byte
 * UTF-8, a prefixed payload, then the close. */
static const char stream_text[] =
	HDR "\n"
	"<handshake/>"
	"<message xml:lang='en' type='chat' to='ope.example.org' "
	"from='alice@example.org/r1' id='m1'><body>a &amp; b &lt;"
	"<![CDATA[<raw> & ]]>c<!-- split -->d &#x263A; \xc3\xa9\xe2\x82\xac"
	"\xf0\x9f\x98\x80</body><example_tag xmlns='https://example.net/our_extension'"
	" another=\"some\" data='st&apos;uff'/></message> \n\t "
	"<iq type='get' id='p1' to='ope.example.org' from='bob@example.org/x' "
	"xml:lang='de'><ping xmlns='urn:xmpp:ping'/></iq>"
	"<iq type='set' id='q1' to='ope.example.org' from='bob@example.org/x'>"
	"<q:query xmlns:q='jabber:iq:private'><q:a q:attr='1' plain='2'>t</q:a>"
	"<b xmlns=''>u</b></q:query></iq>"
	"<presence to='ope.example.org' from='carol@example.org/c'/>"
	"<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
	"</stream:error>"
	"</stream:stream>\n";

static void test_split_everywhere(void)
{
	struct rec whole, r;
	size_t n = strlen(stream_text), i;
	struct xmlstream *x;
	int mismatches = 0;

	x = start(&whole, NULL);
	CU_ASSERT_EQUAL(feed(x, stream_text), 0);
	CU_ASSERT_STRING_EQUAL(xmlstream_error(x), "");
	CU_ASSERT_EQUAL(whole.stanzas, 6);
	CU_ASSERT_PTR_NOT_NULL(strstr(whole.log, "[open from=ope.example.org id=a1-b2-c3]"));
	CU_ASSERT_PTR_NOT_NULL(strstr(whole.log, "[close]"));
	CU_ASSERT_PTR_NOT_NULL(strstr(whole.log,
		"<body>a &amp; b &lt;&lt;raw&gt; &amp; cd"
		" \xe2\x98\xba \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80</body>"));
	CU_ASSERT_PTR_NOT_NULL(strstr(whole.log, "xml:lang=\"en\""));
	CU_ASSERT_EQUAL(xmlstream_offset(x), n - 1);
	/* finish() counts live blocks: hold no stanza across the loop. */
	xmpp_stanza_release(whole.last);
	whole.last = NULL;

	for (i = 1; i < n; i++) {
		x = start(&r, NULL);
		if (xmlstream_feed(x, stream_text, i) != 0 ||
		    xmlstream_feed(x, stream_text + i, n - i) != 0 ||
		    strcmp(r.log, whole.log) != 0)
			mismatches++;
		finish(&r);
	}
	CU_ASSERT_EQUAL(mismatches, 0);

	x = start(&r, NULL);
	for (i = 0; i < n; i++)
		CU_ASSERT_EQUAL(xmlstream_feed(x, stream_text + i, 1), 0);
	CU_ASSERT_STRING_EQUAL(r.log, whole.log);
	finish(&r);
	finish(&whole);
}

/* The same stanza through libstrophe's own parser (xmpp_stanza_new_from_string)
 * and through xmlstream must be the same tree, but for xml:lang's prefix. */
static int same_tree(xmpp_stanza_t *a, xmpp_stanza_t *b)
{
	const char *attrs[2 * 64];
	char *ta, *tb;
	int n, i, ok;
	const char *key, *va, *vb;
	xmpp_stanza_t *ca, *cb;

	if (xmpp_stanza_is_text(a) || xmpp_stanza_is_text(b)) {
		if (!xmpp_stanza_is_text(a) || !xmpp_stanza_is_text(b))
			return 0;
		ta = xmpp_stanza_get_text(a);
		tb = xmpp_stanza_get_text(b);
		ok = ta != NULL && tb != NULL && strcmp(ta, tb) == 0;
		xmpp_free(ctx, ta);
		xmpp_free(ctx, tb);
		return ok;
	}
	if (strcmp(xmpp_stanza_get_name(a), xmpp_stanza_get_name(b)) != 0)
		return 0;
	if (xmpp_stanza_get_attribute_count(a) != xmpp_stanza_get_attribute_count(b))
		return 0;
	n = xmpp_stanza_get_attributes(a, attrs, 2 * 64);
	for (i = 0; i < n; i += 2) {
		key = attrs[i];
		va = attrs[i + 1];
		vb = xmpp_stanza_get_attribute(b, strcmp(key, "lang") == 0 ?
					       "xml:lang" : key);
		if (vb == NULL || strcmp(va, vb) != 0)
			return 0;
	}
	ca = xmpp_stanza_get_children(a);
	cb = xmpp_stanza_get_children(b);
	for (; ca != NULL && cb != NULL; ca = xmpp_stanza_get_next(ca),
	     cb = xmpp_stanza_get_next(cb)) {
		if (!same_tree(ca, cb))
			return 0;
	}
	return ca == NULL && cb == NULL;
}

static void test_same_as_libstrophe(void)
{
	static const char *const stanzas[] = {
		"<message xml:lang='en' type='chat' to='ope.example.org' "
		"from='alice@example.org/r1' id='m1'><body>hi &amp; <![CDATA[x]]>"
		"<!--c-->y</body><example_tag xmlns='https://example.net/our_extension'"
		" another='some' data='stuff'/></message>",
		"<iq type='get' id='d1' to='ope.example.org' from='a@b/c' xml:lang='en'>"
		"<query xmlns='http://jabber.org/protocol/disco#info' node='n'/></iq>",
		"<iq type='set' id='q1' to='ope.example.org' from='a@b/c'>"
		"<q:query xmlns:q='jabber:iq:private' xmlns:z='urn:z'><q:a z:attr='1' "
		"plain='2'>t<z:i/>u</q:a><b xmlns=''>u</b></q:query></iq>",
		"<presence from='a@b/c' to='ope.example.org' type='subscribe'>"
		"<status>  spaced\n lines </status><x xmlns='vcard-temp:x:update'>"
		"<photo/></x></presence>",
		"<message from='a@b/c' to='ope.example.org'><body></body><a><b><c>deep"
		"</c></b></a>tail</message>",
	};
	size_t i;

	for (i = 0; i < sizeof(stanzas) / sizeof(stanzas[0]); i++) {
		char *wrapped;
		xmpp_stanza_t *ref;
		struct rec r;
		struct xmlstream *x = start(&r, NULL);
		size_t n = strlen(stanzas[i]) + 64;

		/* libstrophe's own parser sees the stream's default namespace
		 * declared on the stanza itself. */
		wrapped = malloc(n);
		CU_ASSERT_PTR_NOT_NULL_FATAL(wrapped);
		snprintf(wrapped, n, "<wrap xmlns='jabber:component:accept'>%s</wrap>",
			 stanzas[i]);
		ref = xmpp_stanza_new_from_string(ctx, wrapped);
		CU_ASSERT_PTR_NOT_NULL_FATAL(ref);
		CU_ASSERT_EQUAL(feed(x, HDR), 0);
		CU_ASSERT_EQUAL(feed(x, stanzas[i]), 0);
		CU_ASSERT_EQUAL_FATAL(r.stanzas, 1);
		CU_ASSERT_TRUE(same_tree(xmpp_stanza_get_children(ref), r.last));
		xmpp_stanza_release(ref);
		free(wrapped);
		finish(&r);
	}
}

static void test_namespaces(void)
{
	struct rec r;
	struct xmlstream *x = start(&r, NULL);
	xmpp_stanza_t *q, *a, *b;

	CU_ASSERT_EQUAL(feed(x, HDR "<iq type='set' id='q1' to='c' from='d' xml:lang='en'>"
			     "<q:query xmlns:q='jabber:iq:private' q:attr='1'>"
			     "<q:a/><b xmlns=''/></q:query></iq>"), 0);
	CU_ASSERT_EQUAL_FATAL(r.stanzas, 1);
	CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_ns(r.last), "jabber:component:accept");
	CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_attribute(r.last, "xml:lang"), "en");
	CU_ASSERT_PTR_NULL(xmpp_stanza_get_attribute(r.last, "lang"));
	q = xmpp_stanza_get_children(r.last);
	CU_ASSERT_PTR_NOT_NULL_FATAL(q);
	CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_name(q), "query");
	CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_ns(q), "jabber:iq:private");
	CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_attribute(q, "attr"), "1");
	CU_ASSERT_EQUAL(xmpp_stanza_get_attribute_count(q), 2);
	a = xmpp_stanza_get_children(q);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_ns(a), "jabber:iq:private");
	b = xmpp_stanza_get_next(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_PTR_NULL(xmpp_stanza_get_ns(b));
	CU_ASSERT_PTR_NULL(xmpp_stanza_get_next(b));
	finish(&r);
}

/* Feed HDR + STANZA + a normal stanza under LIM; return the log. */
static char *run(const struct xmlstream_limits *lim, const char *stanza)
{
	struct rec r;
	struct xmlstream *x = start(&r, lim);
	char *log;

	CU_ASSERT_EQUAL(feed(x, HDR), 0);
	CU_ASSERT_EQUAL(feed(x, stanza), 0);
	CU_ASSERT_STRING_EQUAL(xmlstream_error(x), "");
	CU_ASSERT_EQUAL(feed(x, "<presence from='n@e/x' to='c'/>"), 0);
	log = strdup(r.log);
	finish(&r);
	return log;
}

/* Under LIM, OK is delivered and OVER skipped for LIMIT; what follows
 * either is delivered. */
static void check_limit(const struct xmlstream_limits *lim, const char *ok,
			const char *over, const char *limit)
{
	char *log = run(lim, ok), want[128];

	CU_ASSERT_PTR_NULL(strstr(log, "[K "));
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "[S <presence"));
	if (strstr(log, "[K ") != NULL)
		fprintf(stderr, "\nunexpected skip: %s\n", log);
	free(log);
	log = run(lim, over);
	snprintf(want, sizeof(want), "[K iq get i1 f@e/x c: %s][S <presence", limit);
	CU_ASSERT_PTR_NOT_NULL(strstr(log, want));
	if (strstr(log, want) == NULL)
		fprintf(stderr, "\nwanted %s in %s\n", want, log);
	CU_ASSERT_EQUAL(strstr(log, "[S "), strstr(log, "[S <presence"));
	free(log);
}

#define IQ "<iq type='get' id='i1' from='f@e/x' to='c'>"

static void test_limits(void)
{
	struct xmlstream_limits lim;
	char ok[512], over[512];

	xmlstream_limits_default(&lim);
	lim.depth = 3;
	check_limit(&lim, IQ "<a><b/></a></iq>", IQ "<a><b><c/></b></a></iq>",
		    "nesting depth");
	xmlstream_limits_default(&lim);
	lim.children = 3;
	check_limit(&lim, IQ "<a/><b/><c/></iq>", IQ "<a/><b/><c/><d/></iq>",
		    "children per element");
	check_limit(&lim, IQ "<q><a/><b/>x<c/></q></iq>",
		    IQ "<q><a/><b/><c/><d/></q></iq>", "children per element");
	xmlstream_limits_default(&lim);
	lim.elements = 4;
	check_limit(&lim, IQ "<a><b/></a><c/></iq>", IQ "<a><b/></a><c/><d/></iq>",
		    "elements per stanza");
	xmlstream_limits_default(&lim);
	lim.attrs = 4;
	check_limit(&lim, IQ "<q a='1' b='2' c='3' xmlns:z='u' z:d='4'/></iq>",
		    IQ "<q a='1' b='2' c='3' d='4' e='5'/></iq>",
		    "attributes per element");
	/* The top element's own attributes: 4 allowed, so a fifth skips it. */
	check_limit(&lim, IQ "</iq>",
		    "<iq type='get' id='i1' from='f@e/x' to='c' x='1'/>",
		    "attributes per element");
	xmlstream_limits_default(&lim);
	lim.attr_bytes = 5;
	check_limit(&lim, IQ "<q a='12&amp;45'/></iq>", IQ "<q a='123456'/></iq>",
		    "attribute size");
	xmlstream_limits_default(&lim);
	lim.text_bytes = 6;
	check_limit(&lim, IQ "<q>12<!--c-->3&lt;<![CDATA[5]]><x/>6</q></iq>",
		    IQ "<q>12<!--c-->3&lt;<![CDATA[5]]><x/>67</q></iq>", "text size");
	xmlstream_limits_default(&lim);
	snprintf(ok, sizeof(ok), IQ "<q>%s</q></iq>", "0123456789");
	snprintf(over, sizeof(over), IQ "<q>%s</q></iq>", "01234567890");
	lim.stanza_bytes = strlen(ok);
	check_limit(&lim, ok, over, "stanza size");
	/* Over by a start tag, then by the end tag. */
	snprintf(over, sizeof(over), IQ "<q a='12345678901'/></iq>");
	check_limit(&lim, ok, over, "stanza size");
	snprintf(over, sizeof(over), IQ "<qq>%s</qq></iq>", "012345678");
	check_limit(&lim, ok, over, "stanza size");
}

/* HEAD, N times OPEN (a "%u" in it gets the index), N times CLOSE, TAIL.
 * Caller frees. */
static char *build(const char *head, unsigned n, const char *open,
		   const char *close, const char *tail)
{
	size_t cap = strlen(head) + strlen(tail) + 1 +
		     (size_t)n * (strlen(open) + strlen(close) + 10);
	char *s = malloc(cap), *p;
	unsigned i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	p = s + sprintf(s, "%s", head);
	for (i = 0; i < n; i++) {
		const char *at = strstr(open, "%u");

		if (at == NULL) {
			p += sprintf(p, "%s", open);
			continue;
		}
		p += sprintf(p, "%.*s%u%s", (int)(at - open), open, i, at + 2);
	}
	for (i = 0; i < n; i++)
		p += sprintf(p, "%s", close);
	strcpy(p, tail);
	return s;
}

static void test_limits_at_maximum(void)
{
	struct xmlstream_limits lim;
	char *ok, *over;

	xmlstream_limits_default(&lim);
	lim.stanza_bytes = 1u << 20;
	lim.elements = 1u << 20;
	lim.depth = XMLSTREAM_MAX_DEPTH;
	/* The iq is level 1: MAX - 1 nested elements fill the depth. */
	ok = build(IQ, XMLSTREAM_MAX_DEPTH - 1, "<a>", "</a>", "</iq>");
	over = build(IQ, XMLSTREAM_MAX_DEPTH, "<a>", "</a>", "</iq>");
	check_limit(&lim, ok, over, "nesting depth");
	free(ok);
	free(over);

	xmlstream_limits_default(&lim);
	lim.stanza_bytes = 1u << 20;
	lim.elements = 1u << 20;
	lim.children = XMLSTREAM_MAX_CHILDREN;
	/* Text between the children: libstrophe's list holds those nodes too. */
	ok = build(IQ, XMLSTREAM_MAX_CHILDREN, "<c/>t", "", "</iq>");
	over = build(IQ, XMLSTREAM_MAX_CHILDREN + 1, "<c/>t", "", "</iq>");
	check_limit(&lim, ok, over, "children per element");
	free(ok);
	free(over);

	xmlstream_limits_default(&lim);
	lim.stanza_bytes = 1u << 20;
	lim.attrs = XMLSTREAM_MAX_ATTRS;
	ok = build(IQ "<q", XMLSTREAM_MAX_ATTRS, " a%u='v'", "", "/></iq>");
	over = build(IQ "<q", XMLSTREAM_MAX_ATTRS + 1, " a%u='v'", "", "/></iq>");
	check_limit(&lim, ok, over, "attributes per element");
	free(ok);
	free(over);

	xmlstream_limits_default(&lim);
	lim.depth = XMLSTREAM_MAX_DEPTH + 1;
	CU_ASSERT_PTR_NULL(xmlstream_new(ctx, &lim, &cbs, NULL));
	xmlstream_limits_default(&lim);
	lim.children = XMLSTREAM_MAX_CHILDREN + 1;
	CU_ASSERT_PTR_NULL(xmlstream_new(ctx, &lim, &cbs, NULL));
	xmlstream_limits_default(&lim);
	lim.attrs = XMLSTREAM_MAX_ATTRS + 1;
	CU_ASSERT_PTR_NULL(xmlstream_new(ctx, &lim, &cbs, NULL));
}

/* What a skipped stanza's top element tells, even when over at its top. */
static void test_skip_report(void)
{
	struct xmlstream_limits lim;
	char *log;

	xmlstream_limits_default(&lim);
	lim.attr_bytes = 8;
	log = run(&lim, "<message type='chat' id='0123456789' from='f@e/x' to='c'/>");
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "[K message chat - f@e/x c: attribute size]"));
	free(log);
	log = run(&lim, "<message type='chat' id='1' from='f@e/x' to='c'>"
		  "<a b='0123456789'/></message>");
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "[K message chat 1 f@e/x c: attribute size]"));
	free(log);
}

/* A stanza far over the size limit is skipped while it streams in, and one
 * huge token is an error. */
static void test_big_inputs(void)
{
	struct rec r;
	struct xmlstream *x;
	char chunk[4096];
	int i;

	memset(chunk, 'x', sizeof(chunk));
	x = start(&r, NULL);
	CU_ASSERT_EQUAL(feed(x, HDR IQ "<q>"), 0);
	for (i = 0; i < 1024; i++)     /* 4 MiB of text */
		CU_ASSERT_EQUAL_FATAL(xmlstream_feed(x, chunk, sizeof(chunk)), 0);
	CU_ASSERT_EQUAL(feed(x, "</q></iq><presence from='n@e/x' to='c'/>"), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.log, "[K iq get i1 f@e/x c: text size][S <presence"));
	finish(&r);

	x = start(&r, NULL);
	CU_ASSERT_EQUAL(feed(x, HDR IQ "<q a='"), 0);
	for (i = 0; i < 64 && xmlstream_feed(x, chunk, sizeof(chunk)) == 0; i++)
		;
	CU_ASSERT_TRUE(i < 64);
	CU_ASSERT_PTR_NOT_NULL(strstr(xmlstream_error(x), "longer than 262144 bytes"));
	CU_ASSERT_EQUAL(feed(x, "'/></iq>"), -1);
	finish(&r);
}

/* A stanza whose long start tag arrives in a big piece and a small one is
 * delivered at once (expat's reparse deferral would hold it back until
 * more bytes came, and a server may send nothing more). */
static void test_no_deferral(void)
{
	struct rec r;
	struct xmlstream *x = start(&r, NULL);
	char tag[3000];

	snprintf(tag, sizeof(tag), "<message from='a@b/c' to='c' id='%02000d'/>", 7);
	CU_ASSERT_EQUAL(feed(x, HDR), 0);
	CU_ASSERT_EQUAL(xmlstream_feed(x, tag, strlen(tag) - 10), 0);
	CU_ASSERT_EQUAL(r.stanzas, 0);
	CU_ASSERT_EQUAL(feed(x, tag + strlen(tag) - 10), 0);
	CU_ASSERT_EQUAL(r.stanzas, 1);
	finish(&r);
}

/* Each feeds HDR-less BAD and expects -1 with an error mentioning WHAT. */
static void check_error(const char *bad, const char *what)
{
	struct rec r;
	struct xmlstream *x = start(&r, NULL);
	int rc = feed(x, bad);

	CU_ASSERT_EQUAL(rc, -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(xmlstream_error(x), what));
	CU_ASSERT_PTR_NOT_NULL(strstr(xmlstream_error(x), "line "));
	if (rc != -1 || strstr(xmlstream_error(x), what) == NULL)
		fprintf(stderr, "\n%s -> %d %s\n", bad, rc, xmlstream_error(x));
	/* Failed for good. */
	CU_ASSERT_EQUAL(feed(x, "<presence/>"), -1);
	finish(&r);
}

static void test_errors(void)
{
	check_error(HDR "garbage<<", "not well-formed");
	check_error(HDR "<message><body>\xc3\x28</body></message>", "not well-formed");
	check_error(HDR "<message><body>\xed\xa0\x80</body></message>", "not well-formed");
	check_error(HDR "<message><body>\xff</body></message>", "not well-formed");
	check_error("<?xml version='1.0'?><!DOCTYPE stream [<!ENTITY a 'b'>]>" HDR,
		    "DOCTYPE");
	check_error(HDR "<message>&ent;</message>", "undefined entity");
	check_error(HDR "<stream:stream xmlns:stream='http://etherx.jabber.org/streams'>",
		    "second stream header");
	check_error("<message xmlns='jabber:component:accept'/>",
		    "expected <stream:stream>");
	check_error(HDR "</stream:stream><message/>", "after </stream:stream>");
	check_error(HDR "<message><a></b></message>", "mismatched tag");
	check_error(HDR "<x:message/>", "unbound prefix");
	check_error(HDR "<message a='1' a='2'/>", "duplicate attribute");
}

static void test_pause(void)
{
	struct rec r;
	struct xmlstream *x = start(&r, NULL);
	static const char rest[] = "<presence from='n@e/x' to='c'/><iq/>";
	char buf[256];

	r.pause_after = 2;
	snprintf(buf, sizeof(buf), "%s<message from='a@b/c' to='c'/>%s", HDR, rest);
	CU_ASSERT_EQUAL(feed(x, buf), 0);
	CU_ASSERT_EQUAL(r.stanzas, 2);
	CU_ASSERT_EQUAL(xmlstream_unparsed(x), strlen("<iq/>"));
	CU_ASSERT_EQUAL(feed(x, "<iq/>"), -1);
	finish(&r);

	/* Paused at the very end of a buffer: nothing left over. */
	x = start(&r, NULL);
	r.pause_after = 1;
	CU_ASSERT_EQUAL(feed(x, HDR "<a/>"), 0);
	CU_ASSERT_EQUAL(xmlstream_unparsed(x), 0);
	finish(&r);

	/* An empty element's end is its start tag's end. */
	x = start(&r, NULL);
	r.pause_after = 1;
	CU_ASSERT_EQUAL(feed(x, HDR "<a/> <b/>"), 0);
	CU_ASSERT_EQUAL(xmlstream_unparsed(x), 5);
	finish(&r);
}

/* Where a stream can stop and go on in another parser: between stanzas,
 * never inside one or inside a token; the header primes the other. */
static void test_boundary_and_header(void)
{
	struct rec r, r2;
	struct xmlstream *x = start(&r, NULL), *y;
	const char *h;
	char *copy;
	size_t hlen;

	CU_ASSERT_FALSE(xmlstream_at_boundary(x));
	CU_ASSERT_PTR_NULL(xmlstream_header(x, &hlen));
	CU_ASSERT_EQUAL(feed(x, HDR), 0);
	CU_ASSERT_TRUE(xmlstream_at_boundary(x));
	CU_ASSERT_EQUAL(feed(x, "<message to='c'><body>hi"), 0);
	CU_ASSERT_FALSE(xmlstream_at_boundary(x));
	CU_ASSERT_EQUAL(feed(x, "</body></message> \n"), 0);
	CU_ASSERT_TRUE(xmlstream_at_boundary(x));
	CU_ASSERT_EQUAL(feed(x, "<iq"), 0);        /* half a tag */
	CU_ASSERT_FALSE(xmlstream_at_boundary(x));
	CU_ASSERT_EQUAL(feed(x, "/>"), 0);
	CU_ASSERT_TRUE(xmlstream_at_boundary(x));
	CU_ASSERT_EQUAL(r.stanzas, 2);
	h = xmlstream_header(x, &hlen);
	CU_ASSERT_PTR_NOT_NULL_FATAL(h);
	CU_ASSERT_EQUAL(strlen(h), hlen);
	CU_ASSERT_PTR_NOT_NULL(strstr(h, "<stream:stream"));
	CU_ASSERT_PTR_NOT_NULL(strstr(h, "jabber:component:accept"));

	copy = strdup(h);
	CU_ASSERT_PTR_NOT_NULL_FATAL(copy);
	/* Paused: no longer a place to go on from. */
	xmlstream_pause(x);
	CU_ASSERT_FALSE(xmlstream_at_boundary(x));
	finish(&r);

	/* Another parser primed with that header takes the same stanzas
	 * (prefixed stream elements included). */
	y = start(&r2, NULL);
	CU_ASSERT_EQUAL(xmlstream_feed(y, copy, hlen), 0);
	CU_ASSERT_TRUE(xmlstream_at_boundary(y));
	CU_ASSERT_EQUAL(feed(y, "<message to='c'/><stream:error><conflict "
			     "xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
			     "</stream:error>"), 0);
	CU_ASSERT_EQUAL(r2.stanzas, 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(r2.log, "conflict"));
	free(copy);
	finish(&r2);
}

/* Expat is reset between stanzas about every stanza_bytes (it interns
 * names for good otherwise); nothing of that may show. */
static void test_resets(void)
{
	struct xmlstream_limits lim;
	struct rec whole, r;
	size_t n = strlen(stream_text), i;
	struct xmlstream *x;
	int mismatches = 0;
	static const char prefixed[] =
		"<s:stream xmlns:s='http://etherx.jabber.org/streams' "
		"xmlns='jabber:component:accept' xmlns:q='urn:q'>\n"
		"<iq type='get' id='1' from='a@b/c' to='c'><q:x/></iq>\n"
		"<iq type='get' id='2' from='a@b/c' to='c'><q:x/></iq>\n"
		"<iq type='get' id='3' from='a@b/c' to='c'><q:x/></iq>\n"
		"<iq type='get' id='4' from='a@b/c' to='c'><q:x/></iq>\n"
		"<s:error/></s:stream>";

	x = start(&whole, NULL);
	CU_ASSERT_EQUAL(feed(x, stream_text), 0);
	xmpp_stanza_release(whole.last);
	whole.last = NULL;
	xmlstream_limits_default(&lim);
	lim.stanza_bytes = 400;
	for (i = 1; i < n; i++) {
		x = start(&r, &lim);
		if (xmlstream_feed(x, stream_text, i) != 0 ||
		    xmlstream_feed(x, stream_text + i, n - i) != 0 ||
		    strcmp(r.log, whole.log) != 0)
			mismatches++;
		finish(&r);
	}
	CU_ASSERT_EQUAL(mismatches, 0);
	finish(&whole);

	/* A header with its own prefix; errors still name the right line. */
	lim.stanza_bytes = 60;
	x = start(&r, &lim);
	CU_ASSERT_EQUAL(feed(x, prefixed), 0);
	CU_ASSERT_EQUAL(r.stanzas, 5);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.log, "<x xmlns=\"urn:q\"/></iq>][S <iq id=\"4\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.log, "[close]"));
	finish(&r);
	x = start(&r, &lim);
	CU_ASSERT_EQUAL(xmlstream_feed(x, prefixed, strlen(prefixed) - 22), 0);
	CU_ASSERT_EQUAL(feed(x, "\n\n<a></b>"), -1);
	/* Expat places a mismatched tag at its name, past "</". */
	CU_ASSERT_PTR_NOT_NULL(strstr(xmlstream_error(x), "at line 7 (byte 324 "));
	finish(&r);
	lim.stanza_bytes = 1000;
	x = start(&r, &lim);
	CU_ASSERT_EQUAL(xmlstream_feed(x, prefixed, strlen(prefixed) - 22), 0);
	CU_ASSERT_EQUAL(feed(x, "\n\n<a></b>"), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(xmlstream_error(x), "at line 7 (byte 324 "));
	finish(&r);
}

/* A skipped stanza longer than stanza_bytes ends where a parser reset is
 * due: the stream goes on after it, fed in socket-sized pieces or whole. */
static void test_reset_after_skip(void)
{
	static const char head[] = "<message type='chat' id='d1' from='f@e/x' to='c'>";
	static const char next[] = "<presence from='n@e/x' to='c'/>";
	size_t n = 1000000, len, off, step, i;
	struct rec r;
	struct xmlstream *x;
	char *buf, *p;
	int piece;

	len = strlen(head) + n * 7 + strlen("</message>") + strlen(next);
	buf = malloc(len + 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
	p = buf + strlen(strcpy(buf, head));
	for (i = 0; i < n; i++, p += 3)
		memcpy(p, "<a>", 3);
	for (i = 0; i < n; i++, p += 4)
		memcpy(p, "</a>", 4);
	strcpy(p, "</message>");
	strcat(p, next);
	for (piece = 0; piece < 2; piece++) {
		step = piece == 0 ? 16384 : len;
		x = start(&r, NULL);
		CU_ASSERT_EQUAL(feed(x, HDR), 0);
		for (off = 0; off < len; off += step)
			if (xmlstream_feed(x, buf + off,
					   len - off < step ? len - off : step) != 0)
				break;
		CU_ASSERT_STRING_EQUAL(xmlstream_error(x), "");
		CU_ASSERT_PTR_NOT_NULL(strstr(r.log,
			"[K message chat d1 f@e/x c: nesting depth][S <presence"));
		CU_ASSERT_EQUAL(feed(x, next), 0);
		CU_ASSERT_EQUAL(r.stanzas, 2);
		finish(&r);
	}
	free(buf);
}

/* Past twice the depth limit, a skipped stanza is scanned without expat:
 * markup that holds '>' or "</" must not end it early, at any split. */
static void test_deep_skip_scan(void)
{
	static const char inner[] = "<b x='>' y=\"/>\"/>\n<!-- </a> -->"
		"<![CDATA[</a>]]><?pi </a>?><c/>";
	static const char next[] = "<presence from='n@e/x' to='c'/>";
	char buf[4096], want[64], *p = buf;
	size_t len, i;
	struct rec r;
	struct xmlstream *x;
	int mismatches = 0, k;

	p += sprintf(p, "%s<message type='chat' id='d2' from='f@e/x' to='c'>", HDR);
	for (k = 0; k < 200; k++)
		p += sprintf(p, "<a>");
	p += sprintf(p, "%s", inner);
	for (k = 0; k < 200; k++)
		p += sprintf(p, "</a>");
	sprintf(p, "</message>%s", next);
	len = strlen(buf);
	for (i = 1; i < len; i++) {
		x = start(&r, NULL);
		if (xmlstream_feed(x, buf, i) != 0 ||
		    xmlstream_feed(x, buf + i, len - i) != 0 ||
		    strstr(r.log, "[K message chat d2 f@e/x c: nesting depth]"
			   "[S <presence") == NULL || r.stanzas != 1)
			mismatches++;
		finish(&r);
	}
	CU_ASSERT_EQUAL(mismatches, 0);

	/* Lines still count; a DOCTYPE-like "<!" in the scan is an error. */
	x = start(&r, NULL);
	CU_ASSERT_EQUAL(feed(x, buf), 0);
	CU_ASSERT_EQUAL(feed(x, "\n<a></b>"), -1);
	/* Expat places a mismatched tag at its name, past "</". */
	snprintf(want, sizeof(want), "at line 3 (byte %zu ", len + 6);
	CU_ASSERT_PTR_NOT_NULL(strstr(xmlstream_error(x), want));
	finish(&r);
	p = strstr(buf, "<!--");
	memcpy(p, "<!DO", 4);
	x = start(&r, NULL);
	CU_ASSERT_EQUAL(feed(x, buf), -1);
	snprintf(want, sizeof(want), "in a skipped stanza at line 2 (byte %zu ",
		 (size_t)(p - buf) + 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(xmlstream_error(x), want));
	finish(&r);
}

/* Trees that libstrophe would serialise into XML that is not well-formed. */
static void test_unserialisable(void)
{
	char *log = run(NULL, "<iq type='get' id='i1' from='f@e/x' to='c'>"
			"<xml:foo/></iq>");

	CU_ASSERT_PTR_NOT_NULL(strstr(log, "[K iq get i1 f@e/x c: reserved namespace]"));
	free(log);
	log = run(NULL, "<iq type='get' id='i1' from='f@e/x' to='c' xmlns:p='u'>"
		  "<a xmlns='' p:xmlns='http://www.w3.org/XML/1998/namespace' b='1'/>"
		  "</iq>");
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "<a b=\"1\"/>"));
	free(log);
}

/* The config file's limits group defaults to xmlstream's defaults. */
static void test_config_defaults(void)
{
	struct xmlstream_limits def;
	struct config cfg;
	char err[1024] = "";

	CU_ASSERT_EQUAL_FATAL(testutil_load_sample(&cfg, err, sizeof(err)), 0);
	xmlstream_limits_default(&def);
	CU_ASSERT_EQUAL(cfg.limits.stanza_bytes, def.stanza_bytes);
	CU_ASSERT_EQUAL(cfg.limits.depth, def.depth);
	CU_ASSERT_EQUAL(cfg.limits.children, def.children);
	CU_ASSERT_EQUAL(cfg.limits.elements, def.elements);
	CU_ASSERT_EQUAL(cfg.limits.attrs, def.attrs);
	CU_ASSERT_EQUAL(cfg.limits.attr_bytes, def.attr_bytes);
	CU_ASSERT_EQUAL(cfg.limits.text_bytes, def.text_bytes);
	config_free(&cfg);
}

/* A forged routing attribute (Prosody passes a client's x:from on next to
 * the from it stamps, in an order the sender steers) never stands in for the
 * real one: the stanza is skipped, and the skip reports the real one. */
static void check_forged(const char *stanza, const char *want)
{
	char *log = run(NULL, stanza);

	CU_ASSERT_PTR_NOT_NULL(strstr(log, want));
	CU_ASSERT_PTR_NULL(strstr(log, "boss"));
	/* The stanza after it is delivered. */
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "[S <presence"));
	if (strstr(log, want) == NULL || strstr(log, "boss") != NULL)
		fprintf(stderr, "\nwanted %s in %s\n", want, log);
	free(log);
}

#define FORGE "xmlns:ns1='urn:anything' ns1:from='boss@example.org/x'"
#define FORGE_JC "xmlns:jc='jabber:client' jc:from='boss@example.org/x'"

static void test_forged_attributes(void)
{
	static const char *const names[] = { "message", "iq", "presence" };
	char stanza[1024], want[256];
	char *log;
	size_t i;

	for (i = 0; i < 3; i++) {
		const char *n = names[i], *type = i == 1 ? "get" : "chat";

		/* The forged copy before, then after the real from. */
		snprintf(stanza, sizeof(stanza), "<%s " FORGE " from='alice@e/r' "
			 "to='c' id='m1' type='%s'><body>hi</body></%s>", n, type, n);
		snprintf(want, sizeof(want), "[K %s %s m1 alice@e/r c: "
			 "attribute names]", n, type);
		check_forged(stanza, want);
		snprintf(stanza, sizeof(stanza), "<%s from='alice@e/r' to='c' "
			 "id='m1' type='%s' " FORGE "><body>hi</body></%s>",
			 n, type, n);
		check_forged(stanza, want);
		/* A prefix bound to the stanza's own namespace. */
		snprintf(stanza, sizeof(stanza), "<%s from='alice@e/r' " FORGE_JC
			 " to='c' id='m1' type='%s'/>", n, type);
		check_forged(stanza, want);
		/* Eight copies under eight namespaces. */
		snprintf(stanza, sizeof(stanza), "<%s xmlns:a='u:1' xmlns:b='u:2' "
			 "xmlns:c='u:3' xmlns:d='u:4' xmlns:e='u:5' xmlns:f='u:6' "
			 "xmlns:g='u:7' xmlns:h='u:8' a:from='boss@e/1' "
			 "b:from='boss@e/2' c:from='boss@e/3' d:from='boss@e/4' "
			 "from='alice@e/r' e:from='boss@e/5' f:from='boss@e/6' "
			 "g:from='boss@e/7' h:from='boss@e/8' to='c' id='m1' "
			 "type='%s'/>", n, type);
		check_forged(stanza, want);
	}
	/* Without a real one, a namespaced routing attribute still does not
	 * stand in: the skip reports none. */
	check_forged("<message xmlns:x='urn:x' x:from='boss@e/x' to='c' id='m1'/>",
		     "[K message - m1 - c: attribute names]");
	check_forged("<iq from='alice@e/r' to='c' xmlns:x='urn:x' x:id='boss' "
		     "type='get'><q xmlns='urn:q'/></iq>",
		     "[K iq get - alice@e/r c: attribute names]");
	check_forged("<iq from='alice@e/r' to='c' id='i' xmlns:x='urn:x' "
		     "x:to='boss@e' type='get'/>",
		     "[K iq get i alice@e/r c: attribute names]");
	check_forged("<iq from='alice@e/r' to='c' id='i' xmlns:x='urn:x' "
		     "x:type='set' x:lang='boss'/>",
		     "[K iq - i alice@e/r c: attribute names]");
	/* Inside the payload: two attributes that would clash. */
	check_forged("<message from='alice@e/r' to='c' id='m1'><example_tag "
		     "xmlns='https://example.net/our_extension' xmlns:q='urn:q' "
		     "q:data='boss' data='stuff'/></message>",
		     "[K message - m1 alice@e/r c: attribute names]");
	/* A lone prefixed payload attribute stays as it was; so does xml:lang
	 * on the stanza and other prefixed attributes on it. */
	log = run(NULL, "<message from='alice@e/r' to='c' id='m1' xml:lang='en' "
		  "xmlns:x='urn:x' x:note='n'><example_tag xmlns='urn:e' "
		  "xmlns:q='urn:q' q:attr='v'/></message>");
	CU_ASSERT_PTR_NULL(strstr(log, "[K "));
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "attr=\"v\""));
	free(log);
}

/* What Prosody writes for a client's xml:foo: a prefix bound to the xml
 * namespace's URI, which expat refuses. Only that stanza is skipped, whole
 * or split at every byte; the stream goes on. */
#define XMLNS_XML "xmlns:ns1='http://www.w3.org/XML/1998/namespace' ns1:foo='x'"

static void check_reserved(const char *stanza, const char *want)
{
	static const char after[] = "<presence from='n@e/x' to='c'/>";
	char *text;
	size_t i, n;
	int step;

	n = strlen(HDR) + strlen(stanza) + strlen(after) + 1;
	text = malloc(n);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	snprintf(text, n, "%s%s%s", HDR, stanza, after);
	for (step = 0; step < 2; step++) {
		struct rec r;
		struct xmlstream *x = start(&r, NULL);

		if (step == 0) {
			CU_ASSERT_EQUAL(feed(x, text), 0);
		} else {
			for (i = 0; i + 1 < n; i++)
				CU_ASSERT_EQUAL(xmlstream_feed(x, text + i, 1), 0);
		}
		CU_ASSERT_STRING_EQUAL(xmlstream_error(x), "");
		CU_ASSERT_PTR_NOT_NULL(strstr(r.log, want));
		CU_ASSERT_PTR_NOT_NULL(strstr(r.log, "[S <presence"));
		CU_ASSERT_EQUAL(r.stanzas, 1);
		if (strstr(r.log, want) == NULL || r.stanzas != 1)
			fprintf(stderr, "\nwanted %s in %s (%s)\n", want, r.log,
				xmlstream_error(x));
		finish(&r);
	}
	free(text);
}

static void test_reserved_prefix(void)
{
	/* On the stanza itself: the routing attributes in no namespace come
	 * from its raw tag (entities decoded, prefixed ones ignored). */
	check_reserved("<message " XMLNS_XML " from='a@e/r' to='c' id='m1'/>",
		       "[K message - m1 a@e/r c: reserved namespace]");
	check_reserved("<iq type='get' xmlns:x='urn:x' x:from='boss@e/x' from="
		       "'a&amp;b@e/r' to='c' id=\"q&apos;1\" " XMLNS_XML ">"
		       "<body>a <b>&lt;</b> c</body><x a='>'/></iq>",
		       "[K iq get q'1 a&b@e/r c: reserved namespace]");
	check_reserved("<message from='a@e/r' to='c' id='m1&#65;' " XMLNS_XML "/>",
		       "[K message - - a@e/r c: reserved namespace]");
	check_reserved("<message from='a@e/r' to='c' id='m1'><body>hi</body>"
		       "<example_tag xmlns='urn:e' " XMLNS_XML "><i/>t</example_tag>"
		       "<!-- </message> --></message>",
		       "[K message - m1 a@e/r c: reserved namespace]");
	/* A client's <xml:foo/> child, as Prosody writes it. */
	check_reserved("<message from='a@e/r' to='c' id='m1'><foo xmlns="
		       "'http://www.w3.org/XML/1998/namespace'/></message>",
		       "[K message - m1 a@e/r c: reserved namespace]");
}

/* A read full of such stanzas: each is skipped on its own, the stanza
 * after them is delivered (no recursion per stanza: it once copied the
 * rest of the read for each). */
static void test_reserved_prefix_many(void)
{
	static const char one[] = "<message from='a@e/r' to='c' id='m' "
		XMLNS_XML "/>";
	size_t n = 2000, i, cap = strlen(HDR) + n * strlen(one) + 64;
	char *text = malloc(cap), *p;
	struct rec r;
	struct xmlstream *x;
	const char *at;
	size_t k = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	p = text + sprintf(text, "%s", HDR);
	for (i = 0; i < n; i++)
		p += sprintf(p, "%s", one);
	sprintf(p, "<presence from='n@e/x' to='c'/>");
	x = start(&r, NULL);
	CU_ASSERT_EQUAL(feed(x, text), 0);
	CU_ASSERT_STRING_EQUAL(xmlstream_error(x), "");
	for (at = r.log; (at = strstr(at, "reserved namespace]")) != NULL; at++)
		k++;
	CU_ASSERT_EQUAL(k, n);
	CU_ASSERT_EQUAL(r.stanzas, 1);
	finish(&r);
	free(text);
}

/* A pause at the end of such a skipped stanza (a takeover's hold) leaves
 * exactly the bytes after it unparsed, whatever the pieces. */
static void test_reserved_prefix_pause(void)
{
	static const char skipped[] = "<message from='a@e/r' to='c' id='m1' "
		XMLNS_XML "><body>x</body></message>";
	static const char after[] = "<presence from='n@e/x' to='c'/>";
	char text[512];
	size_t n, cut, rest;

	n = (size_t)snprintf(text, sizeof(text), "%s%s%s", HDR, skipped, after);
	for (cut = strlen(HDR) + 1; cut < n; cut += 7) {
		struct rec r;
		struct xmlstream *x = start(&r, NULL);

		r.pause_on_skip = 1;
		CU_ASSERT_EQUAL(xmlstream_feed(x, text, cut), 0);
		rest = xmlstream_unparsed(x);
		if (strstr(r.log, "[K ") == NULL) {
			CU_ASSERT_EQUAL(rest, 0);
			CU_ASSERT_EQUAL(xmlstream_feed(x, text + cut, n - cut), 0);
			CU_ASSERT_EQUAL(xmlstream_unparsed(x), strlen(after));
		} else {
			CU_ASSERT_EQUAL(rest + (n - cut), strlen(after));
		}
		CU_ASSERT_PTR_NOT_NULL(strstr(r.log, "reserved namespace]"));
		CU_ASSERT_EQUAL(r.stanzas, 0);
		finish(&r);
	}
}

static void test_new_rejects_zero_limits(void)
{
	struct xmlstream_limits lim;

	xmlstream_limits_default(&lim);
	lim.children = 0;
	CU_ASSERT_PTR_NULL(xmlstream_new(ctx, &lim, &cbs, NULL));
	xmlstream_free(NULL);
}

static int test_xmlstream_register(void)
{
	CU_pSuite s = CU_add_suite("xmlstream", setup, teardown);

	if (s == NULL ||
	    !CU_add_test(s, "a stream split at every byte", test_split_everywhere) ||
	    !CU_add_test(s, "same trees as libstrophe's parser", test_same_as_libstrophe) ||
	    !CU_add_test(s, "namespaces and xml:lang", test_namespaces) ||
	    !CU_add_test(s, "every limit: at and one over", test_limits) ||
	    !CU_add_test(s, "depth, children, attributes at the maximum", test_limits_at_maximum) ||
	    !CU_add_test(s, "what a skipped stanza reports", test_skip_report) ||
	    !CU_add_test(s, "forged and clashing attributes", test_forged_attributes) ||
	    !CU_add_test(s, "a prefix bound to the xml namespace", test_reserved_prefix) ||
	    !CU_add_test(s, "... and a pause right after it", test_reserved_prefix_pause) ||
	    !CU_add_test(s, "... and thousands in one read", test_reserved_prefix_many) ||
	    !CU_add_test(s, "big stanzas and tokens", test_big_inputs) ||
	    !CU_add_test(s, "no stanza held back", test_no_deferral) ||
	    !CU_add_test(s, "malformed input", test_errors) ||
	    !CU_add_test(s, "pause and unparsed bytes", test_pause) ||
	    !CU_add_test(s, "stanza boundaries; the header primes another parser",
			 test_boundary_and_header) ||
	    !CU_add_test(s, "parser resets between stanzas", test_resets) ||
	    !CU_add_test(s, "the stream goes on after a long skip", test_reset_after_skip) ||
	    !CU_add_test(s, "a skip too deep for expat is scanned", test_deep_skip_scan) ||
	    !CU_add_test(s, "unserialisable trees are skipped", test_unserialisable) ||
	    !CU_add_test(s, "config defaults are xmlstream's", test_config_defaults) ||
	    !CU_add_test(s, "zero limits refused", test_new_rejects_zero_limits))
		return CU_get_error();
	return CUE_SUCCESS;
}

TESTUTIL_SUITE(test_xmlstream_register)
