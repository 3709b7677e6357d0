/* SPDX-License-Identifier: MIT */
/* obuf.c: the link's output queue: bytes written at the tail, taken from the head. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "obuf.h"
#include "util.h"

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
