/* SPDX-License-Identifier: MIT */
/* track.h: ope-client's table of outstanding requests, indexed by the number in their id. */
#ifndef OPE_CLIENT_TRACK_H
#define OPE_CLIENT_TRACK_H

#include <stddef.h>
#include <stdint.h>

/* Request ids are "PREFIX-SEQ" (SEQ in 0..count-1, decimal): a reply's id
 * maps back to its slot in O(1). Fields are read-only for callers. */
struct client_track {
	char prefix[40];
	size_t prefix_len;
	unsigned long count;		/* requests in the run */
	unsigned long next;		/* next SEQ to send */
	unsigned long oldest;		/* no SEQ below it is still pending */
	unsigned long outstanding;	/* sent, neither answered nor expired */
	uint64_t *sent_ns;		/* per SEQ: monotonic send time */
	unsigned char *state;		/* per SEQ: internal */
};

enum client_track_reply {
	CLIENT_TRACK_UNKNOWN = -1,	/* not one of our ids */
	CLIENT_TRACK_FIRST = 0,		/* the first reply: it counts */
	CLIENT_TRACK_DUPLICATE,		/* a second reply for the same id */
	CLIENT_TRACK_LATE,		/* a reply after its request expired */
};

/* A table for COUNT requests whose ids start with PREFIX (at most 32
 * bytes, no '-' needed). NULL when out of memory or PREFIX is too long;
 * free with client_track_free(). */
struct client_track *client_track_new(unsigned long count, const char *prefix);

void client_track_free(struct client_track *t);

/* Write SEQ's id into BUF (LEN bytes); -1 if it does not fit. */
int client_track_id(const struct client_track *t, unsigned long seq,
		    char *buf, size_t len);

/* The SEQ that ID names, or -1 when ID is not one of this table's. */
long client_track_lookup(const struct client_track *t, const char *id);

/* Mark the next unsent request as sent at NOW_NS and return its SEQ; -1
 * when all COUNT were sent. */
long client_track_send(struct client_track *t, uint64_t now_ns);

/* Record a reply for SEQ at NOW_NS; *LATENCY_NS gets the round trip for
 * a FIRST reply. */
enum client_track_reply client_track_reply(struct client_track *t, long seq,
					   uint64_t now_ns,
					   uint64_t *latency_ns);

/* Expire every pending request: it will not be answered in time. Returns
 * how many expired; *FIRST (may be NULL) gets the lowest expired SEQ. */
unsigned long client_track_expire(struct client_track *t, long *first);

#endif
