/* SPDX-License-Identifier: MIT */
/* obuf.h: the link's output queue: a byte buffer written at the tail, taken from the head (xmlwrite.h fills it with stanzas). */
#ifndef OPE_OBUF_H
#define OPE_OBUF_H

#include <stddef.h>

/* Bytes [head, tail) of DATA wait to be written. A zeroed struct is an
 * empty queue. Appending may move the waiting bytes to the front of DATA
 * (or DATA itself): keep positions as obuf_mark() offsets, never as
 * pointers or raw tail values. */
struct obuf {
	char *data;
	size_t head, tail, cap;
};

/* Bytes waiting. */
size_t obuf_len(const struct obuf *b);

/* The waiting bytes (obuf_len() of them); valid until the next change. */
const char *obuf_data(const struct obuf *b);

/* Append N bytes of S. Returns 0, or -1 when out of memory (B unchanged). */
int obuf_put(struct obuf *b, const char *s, size_t n);

/* Append the string S. Returns 0 or -1 as obuf_put(). */
int obuf_puts(struct obuf *b, const char *s);

/* Where the queue ends now, as an offset from the waiting bytes' start:
 * it stays right when appending moves them. Only appending may happen
 * between taking a mark and using it (obuf_since(), obuf_rollback()). */
size_t obuf_mark(const struct obuf *b);

/* The bytes appended since MARK; *LEN is set to their count. */
const char *obuf_since(const struct obuf *b, size_t mark, size_t *len);

/* Drop what was appended since MARK. */
void obuf_rollback(struct obuf *b, size_t mark);

/* N bytes (at most obuf_len()) were written: drop them from the head.
 * An emptied queue gives back its memory once it has grown past KEEP. */
void obuf_consume(struct obuf *b, size_t n, size_t keep);

/* Free the memory; B is an empty queue again. */
void obuf_clear(struct obuf *b);

#endif
