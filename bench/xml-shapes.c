/* SPDX-License-Identifier: MIT */
/* xml-shapes.c: ns per byte of xmlstream (and of libstrophe's own parser) for each shape of hostile and ordinary input. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xmlstream.h"

#define TARGET 240000           /* bytes of each shape */
#define READ 16384              /* feed size, like a socket read */
#define MIN_SECONDS 0.3         /* repeat each measure at least this long */
#define HDR "<?xml version='1.0'?><stream:stream xmlns:stream=" \
	"'http://etherx.jabber.org/streams' xml:lang='en' " \
	"xmlns='jabber:component:accept' id='b-1' from='ope.localhost'>"
#define FROM "from='alice@localhost/r1' to='ope.localhost'"
#define EX "xmlns='https://example.net/our_extension'"

struct buf {
	char *p;
	size_t len, cap;
};

static void put(struct buf *b, const char *s)
{
	size_t n = strlen(s);

	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->p = realloc(b->p, b->cap);
		if (b->p == NULL) {
			perror("xml-shapes");
			exit(1);
		}
	}
	memcpy(b->p + b->len, s, n + 1);
	b->len += n;
}

/* One shape: BODY is the top-level element(s); lim.* raised as it needs. */
struct shape {
	const char *name;
	struct buf body;
	struct xmlstream_limits raised;
};

/* Fill S with OPEN, then UNIT repeated until about TARGET bytes, then CLOSE. */
static void build(struct shape *s, const char *open, const char *unit,
		  const char *close)
{
	size_t target = TARGET - strlen(close);

	put(&s->body, open);
	while (s->body.len + strlen(unit) <= target)
		put(&s->body, unit);
	put(&s->body, close);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct tally {
	unsigned stanzas, skipped;
};

static void on_stanza(void *arg, xmpp_stanza_t *s)
{
	(void)s;
	((struct tally *)arg)->stanzas++;
}

static void on_skipped(void *arg, const struct xmlstream_skipped *s)
{
	(void)s;
	((struct tally *)arg)->skipped++;
}

/* Raise no limit past what xmlstream_new() accepts. */
static void clamp(struct xmlstream_limits *l)
{
	if (l->depth > XMLSTREAM_MAX_DEPTH)
		l->depth = XMLSTREAM_MAX_DEPTH;
	if (l->children > XMLSTREAM_MAX_CHILDREN)
		l->children = XMLSTREAM_MAX_CHILDREN;
	if (l->attrs > XMLSTREAM_MAX_ATTRS)
		l->attrs = XMLSTREAM_MAX_ATTRS;
}

/* ns per byte of the shape through xmlstream under LIM; *T what came out. */
static double through_xmlstream(xmpp_ctx_t *ctx, const struct shape *s,
				const struct xmlstream_limits *lim,
				struct tally *t)
{
	static const struct xmlstream_callbacks cb = {
		NULL, on_stanza, on_skipped, NULL,
	};
	double start = now(), elapsed;
	unsigned long runs = 0;
	struct xmlstream *x;
	size_t off, n;

	do {
		memset(t, 0, sizeof(*t));
		x = xmlstream_new(ctx, lim, &cb, t);
		if (x == NULL || xmlstream_feed(x, HDR, strlen(HDR)) != 0) {
			fprintf(stderr, "xml-shapes: cannot start a parser\n");
			exit(1);
		}
		for (off = 0; off < s->body.len; off += n) {
			n = s->body.len - off < READ ? s->body.len - off : READ;
			if (xmlstream_feed(x, s->body.p + off, n) != 0) {
				fprintf(stderr, "xml-shapes: %s: %s\n", s->name,
					xmlstream_error(x));
				exit(1);
			}
		}
		xmlstream_free(x);
		runs++;
		elapsed = now() - start;
	} while (elapsed < MIN_SECONDS);
	return elapsed * 1e9 / ((double)runs * (double)s->body.len);
}

/* ns per byte through libstrophe's own parser: its public entry point
 * xmpp_stanza_new_from_string() runs the same parser_expat.c as a
 * connection, on one element: the shape goes inside one that declares
 * the stream's namespace, as the stream header would. */
static double through_libstrophe(xmpp_ctx_t *ctx, const struct shape *s)
{
	struct buf wrapped = { 0 };
	double start = now(), elapsed;
	unsigned long runs = 0;
	xmpp_stanza_t *st;

	put(&wrapped, "<wrap xmlns='jabber:component:accept'>");
	put(&wrapped, s->body.p);
	put(&wrapped, "</wrap>");
	do {
		st = xmpp_stanza_new_from_string(ctx, wrapped.p);
		if (st == NULL) {
			fprintf(stderr, "xml-shapes: libstrophe did not parse %s\n",
				s->name);
			exit(1);
		}
		xmpp_stanza_release(st);
		runs++;
		elapsed = now() - start;
	} while (elapsed < MIN_SECONDS);
	free(wrapped.p);
	return elapsed * 1e9 / ((double)runs * (double)s->body.len);
}

int main(int argc, char **argv)
{
	struct shape shapes[13];
	struct xmlstream_limits def;
	xmpp_ctx_t *ctx;
	struct tally t;
	double plain = 0, raised, dflt, ref;
	int built;
	int with_strophe = 1, a;
	const char *only = NULL;
	size_t i, n = 0;
	char unit[64];

	for (a = 1; a < argc; a++) {
		if (strcmp(argv[a], "-n") == 0) {
			with_strophe = 0;
		} else if (strcmp(argv[a], "-s") == 0 && a + 1 < argc) {
			only = argv[++a];
		} else {
			fprintf(stderr, "usage: xml-shapes [-n] [-s SHAPE]\n"
				"  -n        skip libstrophe's parser (its 60,000"
				" children take ~10 s)\n"
				"  -s SHAPE  only shapes whose name contains SHAPE"
				" (and plain)\n");
			return 2;
		}
	}
	memset(shapes, 0, sizeof(shapes));
	xmlstream_limits_default(&def);
	/* Limits are raised to at most XMLSTREAM_MAX_*: a shape over those
	 * cannot be built (raised shows "-"), only refused. */
	for (i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		shapes[i].raised = def;
		shapes[i].raised.elements = TARGET;
	}

	shapes[n].name = "plain: ordinary stanzas";
	build(&shapes[n++], "",
	      "<message xml:lang='en' type='chat' to='ope.localhost' "
	      "from='alice@localhost/r1' id='m1'><example_tag " EX " another="
	      "'some' data='stuff'/><body>OUR_MESSAGE</body></message>", "");

	shapes[n].name = "one text stanza";
	shapes[n].raised.text_bytes = TARGET;
	build(&shapes[n++], "<message " FROM "><body>",
	      "plain text of an ordinary message, ", "</body></message>");

	shapes[n].name = "60,000 children";
	shapes[n].raised.children = TARGET;
	build(&shapes[n++], "<message " FROM "><example_tag " EX ">", "<a/>",
	      "</example_tag></message>");

	shapes[n].name = "attributes (64 per element)";
	shapes[n].raised.children = TARGET;
	{
		/* In groups of 64: no element over the children maximum. */
		struct buf g = { NULL, 0, 0 };
		size_t e;

		put(&g, "<g>");
		for (e = 0; e < 64; e++) {
			put(&g, "<e");
			for (i = 0; i < 64; i++) {
				snprintf(unit, sizeof(unit), " a%zu=''", i);
				put(&g, unit);
			}
			put(&g, "/>");
		}
		put(&g, "</g>");
		build(&shapes[n++], "<message " FROM "><x>", g.p, "</x></message>");
		free(g.p);
	}

	shapes[n].name = "attributes (all on one element)";
	shapes[n].raised.attrs = TARGET;
	put(&shapes[n].body, "<message " FROM "><e");
	for (i = 0; shapes[n].body.len < TARGET - 20; i++) {
		snprintf(unit, sizeof(unit), " a%zu=''", i);
		put(&shapes[n].body, unit);
	}
	put(&shapes[n++].body, "/></message>");

	shapes[n].name = "deep nesting";
	shapes[n].raised.depth = TARGET / 7 + 2;
	put(&shapes[n].body, "<message " FROM ">");
	for (i = 0; i < TARGET / 7; i++)
		put(&shapes[n].body, "<a>");
	for (i = 0; i < TARGET / 7; i++)
		put(&shapes[n].body, "</a>");
	put(&shapes[n++].body, "</message>");

	/* The same three at the most the limits allow (xmlstream.h's
	 * XMLSTREAM_MAX_*): the cost of building through libstrophe's
	 * public API, whose append walks the siblings. */
	shapes[n].name = "children (256 per element)";
	shapes[n].raised.children = XMLSTREAM_MAX_CHILDREN;
	{
		struct buf g = { NULL, 0, 0 };

		put(&g, "<g>");
		for (i = 0; i < XMLSTREAM_MAX_CHILDREN; i++)
			put(&g, "<a/>");
		put(&g, "</g>");
		build(&shapes[n++], "<message " FROM "><example_tag " EX ">",
		      g.p, "</example_tag></message>");
		free(g.p);
	}

	shapes[n].name = "attributes (256 per element)";
	shapes[n].raised.attrs = XMLSTREAM_MAX_ATTRS;
	{
		struct buf e = { NULL, 0, 0 };

		put(&e, "<e");
		for (i = 0; i < XMLSTREAM_MAX_ATTRS; i++) {
			snprintf(unit, sizeof(unit), " a%zu=''", i);
			put(&e, unit);
		}
		put(&e, "/>");
		build(&shapes[n++], "<message " FROM "><x>", e.p, "</x></message>");
		free(e.p);
	}

	shapes[n].name = "deep nesting (1024 levels)";
	shapes[n].raised.depth = XMLSTREAM_MAX_DEPTH;
	{
		struct buf d = { NULL, 0, 0 };

		for (i = 0; i < XMLSTREAM_MAX_DEPTH - 1; i++)
			put(&d, "<a>");
		for (i = 0; i < XMLSTREAM_MAX_DEPTH - 1; i++)
			put(&d, "</a>");
		build(&shapes[n++], "<message " FROM ">", d.p, "</message>");
		free(d.p);
	}

	shapes[n].name = "text split by entities";
	shapes[n].raised.text_bytes = TARGET;
	build(&shapes[n++], "<message " FROM "><body>", "a&amp;", "</body></message>");

	shapes[n].name = "text split by comments";
	shapes[n].raised.text_bytes = TARGET;
	build(&shapes[n++], "<message " FROM "><body>", "a<!---->",
	      "</body></message>");

	shapes[n].name = "text split by CDATA";
	shapes[n].raised.text_bytes = TARGET;
	build(&shapes[n++], "<message " FROM "><body>", "a<![CDATA[b]]>",
	      "</body></message>");

	ctx = xmpp_ctx_new(NULL, NULL);
	if (ctx == NULL)
		return 1;
	printf("xmlstream: ns per byte at ~%d bytes, fed in %d-byte reads\n", TARGET, READ);
	printf("%-32s %8s %10s %7s %14s %12s\n", "shape", "bytes",
	       "raised", "xplain", "default", "libstrophe");
	for (i = 0; i < n; i++) {
		if (i > 0 && only != NULL && strstr(shapes[i].name, only) == NULL)
			continue;
		clamp(&shapes[i].raised);
		raised = through_xmlstream(ctx, &shapes[i], &shapes[i].raised, &t);
		if (t.stanzas == 0 && i == 0) {
			fprintf(stderr, "xml-shapes: %s skipped under raised limits\n",
				shapes[i].name);
			return 1;
		}
		built = t.skipped == 0 && t.stanzas != 0;
		if (i == 0)
			plain = raised;
		dflt = through_xmlstream(ctx, &shapes[i], &def, &t);
		ref = with_strophe ? through_libstrophe(ctx, &shapes[i]) : 0;
		if (built)
			printf("%-32s %8zu %10.2f %7.2f %8.2f %-5s ",
			       shapes[i].name, shapes[i].body.len, raised,
			       raised / plain, dflt, t.skipped ? "skip" : "built");
		else
			printf("%-32s %8zu %10s %7s %8.2f %-5s ", shapes[i].name,
			       shapes[i].body.len, "-", "-", dflt,
			       t.skipped ? "skip" : "built");
		if (with_strophe)
			printf("%12.2f\n", ref);
		else
			printf("%12s\n", "-");
	}
	printf("raised: limits raised so the shape is built (\"-\": over the most they\n"
	       "can be raised to); default: default limits\n"
	       "(skip = skipped whole, built = within the defaults); libstrophe:\n"
	       "xmpp_stanza_new_from_string() on the same bytes (its own parser);\n"
	       "CPU time of this process, each repeated for at least %.1f s\n",
	       MIN_SECONDS);
	for (i = 0; i < n; i++)
		free(shapes[i].body.p);
	xmpp_ctx_free(ctx);
	return 0;
}
