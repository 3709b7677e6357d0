/* SPDX-License-Identifier: MIT */
/* fuzz_common.c: what both libFuzzer targets share: limit profiles, feeding, and the check that stanzas keep within limits. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

#define HEADER "<?xml version='1.0'?><stream:stream " \
	"xmlns='jabber:component:accept' " \
	"xmlns:stream='http://etherx.jabber.org/streams' " \
	"from='ope.example.org' id='fuzz-1'>"

struct run {
	struct xmlstream *x;
	const struct xmlstream_limits *lim;
	void (*stanza)(void *arg, xmpp_stanza_t *s);
	void *arg;
	int closed;
};

static void die(const char *what)
{
	fprintf(stderr, "fuzz: broken promise: %s\n", what);
	abort();
}

xmpp_ctx_t *fuzz_ctx(void)
{
	static xmpp_ctx_t *ctx;

	if (ctx == NULL) {
		ctx = xmpp_ctx_new(NULL, NULL);
		if (ctx == NULL)
			abort();
	}
	return ctx;
}

/* Element S at DEPTH (top element 1) keeps within LIM. */
static void check_tree(xmpp_stanza_t *s, unsigned depth,
		       const struct xmlstream_limits *lim, unsigned *elements)
{
	const char *attrs[2 * 130];
	xmpp_stanza_t *c;
	unsigned children = 0;
	size_t text = 0;
	int n, i;

	if (depth > lim->depth)
		die("depth over the limit");
	if (++*elements > lim->elements)
		die("elements over the limit");
	n = xmpp_stanza_get_attribute_count(s);
	/* "xmlns" is the element's namespace, not one of its attributes. */
	if (n > (int)lim->attrs + 1)
		die("attributes over the limit");
	if (n > 128)
		die("more attributes than the check can look at");
	n = xmpp_stanza_get_attributes(s, attrs, 2 * 130);
	for (i = 0; i < n; i += 2) {
		if (strcmp(attrs[i], "xmlns") != 0 &&
		    strlen(attrs[i + 1]) > lim->attr_bytes)
			die("attribute value over the limit");
	}
	for (c = xmpp_stanza_get_children(s); c != NULL;
	     c = xmpp_stanza_get_next(c)) {
		if (xmpp_stanza_is_text(c)) {
			const char *t = xmpp_stanza_get_text_ptr(c);

			if (t == NULL || *t == '\0')
				die("empty text node");
			text += strlen(t);
		} else {
			children++;
			check_tree(c, depth + 1, lim, elements);
		}
	}
	if (children > lim->children)
		die("children over the limit");
	if (text > lim->text_bytes)
		die("text over the limit");
}

static void on_stanza(void *arg, xmpp_stanza_t *s)
{
	struct run *r = arg;
	unsigned elements = 0;

	if (r->closed)
		die("a stanza after </stream:stream>");
	check_tree(s, 1, r->lim, &elements);
	if (r->stanza != NULL)
		r->stanza(r->arg, s);
}

static void on_skipped(void *arg, const struct xmlstream_skipped *s)
{
	struct run *r = arg;

	if (s->limit == NULL || s->limit[0] == '\0')
		die("a skip without a limit");
	if ((s->id != NULL && strlen(s->id) > r->lim->attr_bytes) ||
	    (s->from != NULL && strlen(s->from) > r->lim->attr_bytes))
		die("a skip report over the attribute limit");
}

static void on_close(void *arg)
{
	((struct run *)arg)->closed = 1;
}

void fuzz_run(const uint8_t *data, size_t size,
	      void (*stanza)(void *arg, xmpp_stanza_t *s), void *arg)
{
	static const struct xmlstream_callbacks cb = {
		NULL, on_stanza, on_skipped, on_close,
	};
	struct xmlstream_limits lim;
	struct run r = { .stanza = stanza, .arg = arg, .lim = &lim };
	size_t cut, n;
	int rc = 0;

	if (size < 2)
		return;
	xmlstream_limits_default(&lim);
	if (data[0] & 1) {
		lim.stanza_bytes = 600;
		lim.depth = 4;
		lim.children = 5;
		lim.elements = 12;
		lim.attrs = 3;
		lim.attr_bytes = 20;
		lim.text_bytes = 40;
	}
	cut = data[1] == 0 ? size : data[1];
	r.x = xmlstream_new(fuzz_ctx(), &lim, &cb, &r);
	if (r.x == NULL)
		abort();
	if (data[0] & 2)
		rc = xmlstream_feed(r.x, HEADER, strlen(HEADER));
	data += 2;
	size -= 2;
	while (rc == 0 && size > 0) {
		n = size < cut ? size : cut;
		rc = xmlstream_feed(r.x, (const char *)data, n);
		data += n;
		size -= n;
	}
	if ((rc == 0) != (xmlstream_error(r.x)[0] == '\0'))
		die("the result and xmlstream_error() disagree");
	if (rc != 0 && xmlstream_feed(r.x, "<a/>", 4) != -1)
		die("a failed parser parsed again");
	xmlstream_free(r.x);
}

struct one {
	int stanzas;
};

static void count(void *arg, xmpp_stanza_t *s)
{
	(void)s;
	((struct one *)arg)->stanzas++;
}

void fuzz_assert_well_formed(const char *text, size_t len)
{
	static const struct xmlstream_callbacks cb = { NULL, count, NULL, NULL };
	struct xmlstream_limits lim;
	struct one o = { 0 };
	struct xmlstream *x;

	/* Replies may be bigger than what came in; only well-formedness counts. */
	lim.stanza_bytes = 1u << 30;
	lim.depth = 256;
	lim.children = XMLSTREAM_MAX_CHILDREN;
	lim.attrs = XMLSTREAM_MAX_ATTRS;
	lim.elements = 1u << 30;
	lim.attr_bytes = lim.text_bytes = 1u << 30;
	x = xmlstream_new(fuzz_ctx(), &lim, &cb, &o);
	if (x == NULL)
		abort();
	if (xmlstream_feed(x, HEADER, strlen(HEADER)) != 0 ||
	    xmlstream_feed(x, text, len) != 0) {
		fprintf(stderr, "fuzz: reply is not well-formed (%s):\n%.*s\n",
			xmlstream_error(x), (int)len, text);
		abort();
	}
	if (o.stanzas != 1) {
		fprintf(stderr, "fuzz: reply is not one element:\n%.*s\n",
			(int)len, text);
		abort();
	}
	xmlstream_free(x);
}
