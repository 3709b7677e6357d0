/* SPDX-License-Identifier: MIT */
/* ratelimit.h: token buckets, and a bounded table of per-sender state with LRU eviction. */
#ifndef OPE_RATELIMIT_H
#define OPE_RATELIMIT_H

#include <stddef.h>

/* A refill rate in tokens per second and a bucket size (below 1 counts as
 * 1). RATE <= 0 means no limit: every take succeeds. */
struct ratelimit_rate {
	double rate;
	double burst;
};

/* A token bucket. Zeroed means "never used": it starts full. Times are
 * seconds on any monotonic clock the caller chooses (tests pass their own). */
struct ratelimit_bucket {
	double tokens;
	double stamp;      /* when TOKENS was last brought up to date */
	int primed;
};

/* Take one token from B under RATE at time NOW. Returns 0 when taken, -1
 * when the bucket is empty (nothing is taken then). O(1), no allocation. */
int ratelimit_take(struct ratelimit_bucket *b, const struct ratelimit_rate *rate,
		   double now);

/* Log throttling: returns 1 (and stamps *LAST with NOW) when at least
 * EVERY seconds passed since *LAST or it was never stamped (0), else 0. */
int ratelimit_due(double *last, double now, double every);

/* What the table keeps per sender; zeroed when the sender is first seen
 * (or seen again after being forgotten). */
struct ratelimit_sender {
	struct ratelimit_bucket requests;   /* every request */
	struct ratelimit_bucket attempts;   /* password checks that hash */
	double limit_logged;                /* last "over its rate" log line */
	unsigned long limit_quiet;          /* refusals since that line */
	double deny_logged;                 /* last denial log line */
	unsigned long deny_quiet;           /* denials since that line */
};

struct ratelimit_table;

/* A table remembering at most MAX (>= 1) senders. NULL when out of memory.
 * Free with ratelimit_table_free(). */
struct ratelimit_table *ratelimit_table_new(size_t max);

void ratelimit_table_free(struct ratelimit_table *t);

/* The state of the sender named KEY (LEN bytes, compared exactly: callers
 * normalise), created zeroed when unknown, in O(1). When the table is full
 * the least recently returned sender is forgotten to make room. The pointer
 * is valid until the next call. NULL when out of memory. */
struct ratelimit_sender *ratelimit_table_get(struct ratelimit_table *t,
					     const char *key, size_t len);

/* The state of the sender named KEY if the table holds it, else NULL;
 * neither creates nor refreshes it. */
struct ratelimit_sender *ratelimit_table_find(struct ratelimit_table *t,
					      const char *key, size_t len);

/* How many senders the table holds now. */
size_t ratelimit_table_count(const struct ratelimit_table *t);

#endif
