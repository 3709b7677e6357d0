/* SPDX-License-Identifier: MIT */
/* backoff.h: exponential reconnect back-off with jitter (pure arithmetic). */
#ifndef OPE_BACKOFF_H
#define OPE_BACKOFF_H

struct backoff {
	unsigned initial_ms;  /* first delay */
	unsigned max_ms;      /* cap on the un-jittered delay */
	unsigned current_ms;  /* un-jittered delay the next attempt waits */
	unsigned attempts;    /* attempts since the last reset */
};

/* Start a back-off between INITIAL_MS and MAX_MS (MAX_MS < INITIAL_MS is
 * raised to INITIAL_MS; 0 becomes 1). */
void backoff_init(struct backoff *b, unsigned initial_ms, unsigned max_ms);

/* The delay before the next attempt: the current step plus up to 25% random
 * jitter drawn from RANDOM (any 32-bit value), then doubles the step up to
 * the cap. Never returns 0. */
unsigned backoff_next(struct backoff *b, unsigned random);

/* Forget past failures after a successful connection. */
void backoff_reset(struct backoff *b);

#endif
