/* SPDX-License-Identifier: MIT */
/* track.c: ope-client's request table: ids, replies, duplicates and expiry in O(1). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "track.h"

enum { SLOT_UNSENT = 0, SLOT_PENDING, SLOT_ANSWERED, SLOT_EXPIRED };

struct client_track *client_track_new(unsigned long count, const char *prefix)
{
	struct client_track *t;
	size_t len = strlen(prefix);

	if (count == 0 || len > 32)
		return NULL;
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	memcpy(t->prefix, prefix, len + 1);
	t->prefix_len = len;
	t->count = count;
	t->sent_ns = calloc(count, sizeof(*t->sent_ns));
	t->state = calloc(count, sizeof(*t->state));
	if (t->sent_ns == NULL || t->state == NULL) {
		client_track_free(t);
		return NULL;
	}
	return t;
}

void client_track_free(struct client_track *t)
{
	if (t == NULL)
		return;
	free(t->sent_ns);
	free(t->state);
	free(t);
}

int client_track_id(const struct client_track *t, unsigned long seq,
		    char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s-%lu", t->prefix, seq);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

long client_track_lookup(const struct client_track *t, const char *id)
{
	unsigned long seq;
	const char *digits;
	char *end;

	if (id == NULL || strncmp(id, t->prefix, t->prefix_len) != 0 ||
	    id[t->prefix_len] != '-')
		return -1;
	digits = id + t->prefix_len + 1;
	/* Canonical decimal only: "007" or "+7" is not an id we sent. */
	if (digits[0] < '0' || digits[0] > '9' ||
	    (digits[0] == '0' && digits[1] != '\0'))
		return -1;
	errno = 0;
	seq = strtoul(digits, &end, 10);
	if (errno != 0 || *end != '\0' || seq >= t->count)
		return -1;
	return (long)seq;
}

long client_track_send(struct client_track *t, uint64_t now_ns)
{
	unsigned long seq = t->next;

	if (seq >= t->count)
		return -1;
	t->next++;
	t->sent_ns[seq] = now_ns;
	t->state[seq] = SLOT_PENDING;
	t->outstanding++;
	return (long)seq;
}

/* Move OLDEST past slots that are no longer pending. */
static void advance_oldest(struct client_track *t)
{
	while (t->oldest < t->next && t->state[t->oldest] != SLOT_PENDING)
		t->oldest++;
}

enum client_track_reply client_track_reply(struct client_track *t, long seq,
					   uint64_t now_ns,
					   uint64_t *latency_ns)
{
	if (seq < 0 || (unsigned long)seq >= t->count)
		return CLIENT_TRACK_UNKNOWN;
	switch (t->state[seq]) {
	case SLOT_PENDING:
		t->state[seq] = SLOT_ANSWERED;
		t->outstanding--;
		*latency_ns = now_ns - t->sent_ns[seq];
		advance_oldest(t);
		return CLIENT_TRACK_FIRST;
	case SLOT_ANSWERED:
		return CLIENT_TRACK_DUPLICATE;
	case SLOT_EXPIRED:
		/* Answer it once as late; later copies are duplicates. */
		t->state[seq] = SLOT_ANSWERED;
		return CLIENT_TRACK_LATE;
	default:
		return CLIENT_TRACK_UNKNOWN;	/* never sent */
	}
}

unsigned long client_track_expire(struct client_track *t, long *first)
{
	unsigned long n = 0;

	if (first != NULL)
		*first = -1;
	for (advance_oldest(t); t->oldest < t->next; t->oldest++) {
		unsigned long seq = t->oldest;

		if (t->state[seq] != SLOT_PENDING)
			continue;
		t->state[seq] = SLOT_EXPIRED;
		t->outstanding--;
		if (n++ == 0 && first != NULL)
			*first = (long)seq;
	}
	return n;
}
