/* SPDX-License-Identifier: MIT */
/* backoff.c: exponential reconnect back-off with jitter (pure arithmetic). */
#include "backoff.h"

void backoff_init(struct backoff *b, unsigned initial_ms, unsigned max_ms)
{
	b->initial_ms = initial_ms ? initial_ms : 1;
	b->max_ms = max_ms < b->initial_ms ? b->initial_ms : max_ms;
	backoff_reset(b);
}

unsigned backoff_next(struct backoff *b, unsigned random)
{
	unsigned step = b->current_ms;
	/* Jitter spreads the reconnects of many components restarted together. */
	unsigned jitter = step / 4 ? random % (step / 4 + 1) : 0;

	b->current_ms = step > b->max_ms / 2 ? b->max_ms : step * 2;
	b->attempts++;
	return step + jitter;
}

void backoff_reset(struct backoff *b)
{
	b->current_ms = b->initial_ms;
	b->attempts = 0;
}
