/* SPDX-License-Identifier: MIT */
/* stats.c: counters, nearest-rank latency percentiles and the exit status of a run. */
#include <stdlib.h>
#include <string.h>

#include "client_exit.h"
#include "stats.h"
#include "util.h"

int client_stats_init(struct client_stats *s, size_t capacity)
{
	memset(s, 0, sizeof(*s));
	if (capacity == 0)
		return 0;
	s->lat_ns = malloc(capacity * sizeof(*s->lat_ns));
	if (s->lat_ns == NULL)
		return -1;
	s->cap = capacity;
	return 0;
}

void client_stats_free(struct client_stats *s)
{
	free(s->lat_ns);
	memset(s, 0, sizeof(*s));
}

int client_stats_add_latency(struct client_stats *s, uint64_t ns)
{
	if (s->nlat >= s->cap)
		return -1;
	s->lat_ns[s->nlat++] = ns;
	return 0;
}

uint64_t client_stats_percentile(const uint64_t *sorted, size_t n, double p)
{
	double rank;
	size_t idx;

	if (n == 0)
		return 0;
	if (p <= 0)
		return sorted[0];
	/* ceil() by hand: no libm for one call. */
	rank = p / 100.0 * (double)n;
	idx = (size_t)rank;
	if ((double)idx < rank)
		idx++;
	idx = idx < 1 ? 0 : idx - 1;
	if (idx >= n)
		idx = n - 1;
	return sorted[idx];
}

void client_stats_summarize(struct client_stats *s, struct client_summary *out)
{
	unsigned long replies = s->ok + s->errors + s->mismatches;

	memset(out, 0, sizeof(*out));
	if (s->end_ns > s->start_ns)
		out->elapsed_s = (double)(s->end_ns - s->start_ns) / 1e9;
	if (out->elapsed_s > 0)
		out->rate = (double)replies / out->elapsed_s;
	if (s->nlat > 0) {
		qsort(s->lat_ns, s->nlat, sizeof(*s->lat_ns), util_cmp_u64);
		out->p50_ms = (double)client_stats_percentile(s->lat_ns,
						s->nlat, 50) / 1e6;
		out->p99_ms = (double)client_stats_percentile(s->lat_ns,
						s->nlat, 99) / 1e6;
	}
}

int client_stats_exit_code(const struct client_stats *s, unsigned long count)
{
	if (s->errors || s->mismatches || s->duplicates)
		return CLIENT_EXIT_FAIL;
	if (s->ok == count)
		return CLIENT_EXIT_OK;
	return CLIENT_EXIT_TIMEOUT;
}
