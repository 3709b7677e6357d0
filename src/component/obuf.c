/* SPDX-License-Identifier: MIT */
/* obuf.c: the link's output queue and the XML serialiser that fills it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "obuf.h"
#include "util.h"

/* Replies are copies of requests the parser already bounded in depth;
 * this only guards against a runaway. */
#define SERIALISE_MAX_DEPTH 4096
/* The first allocation. */
#define OBUF_FIRST 16384

size_t obuf_len(const struct obuf *b)
{
	return b->tail - b->head;
}

const char *obuf_data(const struct obuf *b)
{
	return b->data + b->head;
}

/* Room for N more bytes at the tail: first by moving the waiting bytes to
 * the front (which is why marks are kept relative to the head), then by
 * growing. */
static int reserve(struct obuf *b, size_t n)
{
	if (b->cap - b->tail >= n)
		return 0;
	if (b->head > 0) {
		memmove(b->data, b->data + b->head, b->tail - b->head);
		b->tail -= b->head;
		b->head = 0;
		if (b->cap - b->tail >= n)
			return 0;
	}
	if (n > SIZE_MAX - b->tail)
		return -1;
	return util_grow(&b->data, &b->cap, b->tail + n, 1, OBUF_FIRST);
}

int obuf_put(struct obuf *b, const char *s, size_t n)
{
	if (reserve(b, n) < 0)
		return -1;
	memcpy(b->data + b->tail, s, n);
	b->tail += n;
	return 0;
}

int obuf_puts(struct obuf *b, const char *s)
{
	return obuf_put(b, s, strlen(s));
}

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

int obuf_put_stanza(struct obuf *b, xmpp_stanza_t *st)
{
	return put_stanza(b, st, 0);
}

size_t obuf_mark(const struct obuf *b)
{
	return b->tail - b->head;
}

const char *obuf_since(const struct obuf *b, size_t mark, size_t *len)
{
	*len = b->tail - b->head - mark;
	return b->data + b->head + mark;
}

void obuf_rollback(struct obuf *b, size_t mark)
{
	b->tail = b->head + mark;
}

void obuf_consume(struct obuf *b, size_t n, size_t keep)
{
	b->head += n;
	if (b->head < b->tail)
		return;
	b->head = b->tail = 0;
	if (b->cap > keep) {
		free(b->data);
		b->data = NULL;
		b->cap = 0;
	}
}

void obuf_clear(struct obuf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}
