/* SPDX-License-Identifier: MIT */
/* xmlwrite.c: the serialiser: a stanza tree as XML text, appended to an output queue. */
#include <stdlib.h>
#include <string.h>

#include "obuf.h"
#include "xmlwrite.h"

/* Replies are copies of requests the parser already bounded in depth;
 * this only guards against a runaway. */
#define SERIALISE_MAX_DEPTH 4096

/* S escaped for character data and single-quoted attribute values. */
static int put_escaped(struct obuf *b, const char *s)
{
	const char *run = s;

	for (;; s++) {
		const char *rep;

		switch (*s) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '\'': rep = "&apos;"; break;
		case '"': rep = "&quot;"; break;
		case '\0': return obuf_put(b, run, (size_t)(s - run));
		default: continue;
		}
		if (obuf_put(b, run, (size_t)(s - run)) < 0 ||
		    obuf_puts(b, rep) < 0)
			return -1;
		run = s + 1;
	}
}

static int put_stanza(struct obuf *b, xmpp_stanza_t *st, unsigned depth)
{
	const char *small[32], **attrs = small, *name;
	xmpp_stanza_t *child;
	int n, i, ret = -1;

	if (xmpp_stanza_is_text(st)) {
		const char *text = xmpp_stanza_get_text_ptr(st);

		return text ? put_escaped(b, text) : 0;
	}
	name = xmpp_stanza_get_name(st);
	if (name == NULL || depth > SERIALISE_MAX_DEPTH)
		return -1;
	n = xmpp_stanza_get_attribute_count(st);
	if (n > (int)(sizeof(small) / sizeof(small[0])) / 2) {
		attrs = malloc(sizeof(*attrs) * 2 * (size_t)n);
		if (attrs == NULL)
			return -1;
	}
	n = n > 0 ? xmpp_stanza_get_attributes(st, attrs, 2 * n) : 0;
	if (obuf_put(b, "<", 1) < 0 || obuf_puts(b, name) < 0)
		goto out;
	for (i = 0; i + 1 < n; i += 2)
		if (obuf_put(b, " ", 1) < 0 || obuf_puts(b, attrs[i]) < 0 ||
		    obuf_put(b, "='", 2) < 0 || put_escaped(b, attrs[i + 1]) < 0 ||
		    obuf_put(b, "'", 1) < 0)
			goto out;
	child = xmpp_stanza_get_children(st);
	if (child == NULL) {
		ret = obuf_put(b, "/>", 2);
		goto out;
	}
	if (obuf_put(b, ">", 1) < 0)
		goto out;
	for (; child; child = xmpp_stanza_get_next(child))
		if (put_stanza(b, child, depth + 1) < 0)
			goto out;
	ret = obuf_put(b, "</", 2) < 0 || obuf_puts(b, name) < 0 ||
	      obuf_put(b, ">", 1) < 0 ? -1 : 0;
out:
	if (attrs != small)
		free(attrs);
	return ret;
}

int xmlwrite_stanza(struct obuf *b, xmpp_stanza_t *st)
{
	return put_stanza(b, st, 0);
}
