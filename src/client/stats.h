/* SPDX-License-Identifier: MIT */
/* stats.h: ope-client's run counters, latency percentiles and exit status of a --count run. */
#ifndef OPE_CLIENT_STATS_H
#define OPE_CLIENT_STATS_H

#include <stddef.h>
#include <stdint.h>

/* Counters are plain fields the session increments. */
struct client_stats {
	unsigned long sent;
	unsigned long ok;
	unsigned long errors;		/* error replies, replies not checked (OOM) */
	unsigned long mismatches;
	unsigned long timeouts;
	unsigned long duplicates;	/* a second reply for one id */
	unsigned long late;		/* a reply after its request expired */
	uint64_t start_ns;		/* first send (monotonic) */
	uint64_t end_ns;		/* last reply or expiry */
	uint64_t *lat_ns;		/* round trips of first replies */
	size_t nlat;
	size_t cap;
};

/* What client_stats_summarize() derives. */
struct client_summary {
	double elapsed_s;
	double rate;			/* replies per second */
	double p50_ms;
	double p99_ms;
};

/* Zero S and room for CAPACITY latencies. Returns 0, or -1 when out of
 * memory. Free with client_stats_free(). */
int client_stats_init(struct client_stats *s, size_t capacity);

void client_stats_free(struct client_stats *s);

/* Record one round trip; ignored (returns -1) when the capacity is full. */
int client_stats_add_latency(struct client_stats *s, uint64_t ns);

/* The P-th percentile (0 < P <= 100) of the N ascending values in SORTED
 * by nearest rank (the smallest value with at least P% of values at or
 * below it); 0 when N is 0. */
uint64_t client_stats_percentile(const uint64_t *sorted, size_t n, double p);

/* Fill OUT from S; sorts S's latencies in place. */
void client_stats_summarize(struct client_stats *s, struct client_summary *out);

/* The exit status of a run of COUNT requests: 0 when all COUNT were ok,
 * 1 when any error reply, mismatch or duplicate came, else 2 (some
 * timed out or never went out). */
int client_stats_exit_code(const struct client_stats *s, unsigned long count);

#endif
