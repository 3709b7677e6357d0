/* SPDX-License-Identifier: MIT */
/* guard.h: who may ask, and how often: rate limits, the permission table and service passwords, in one decision. */
#ifndef OPE_GUARD_H
#define OPE_GUARD_H

#include <stddef.h>
#include "stanza.h"

struct config;
struct guard;

/* Decision state that outlives configuration reloads: per-sender buckets
 * for at most MAX_SENDERS senders, the global buckets and the cache of
 * verified passwords. NULL when out of memory. Free with guard_free(). */
struct guard *guard_new(size_t max_senders);

void guard_free(struct guard *g);

/* May the request from FROM (the address the server stamped) be served
 * now? Every request counts against the sender's and the global rate
 * (limits.*); when CONTROLLED, the access table of CFG (if any) and a rule's
 * service password (PASSWORD: the request's attribute, or NULL) apply too.
 * NOW is monotonic seconds. Returns STANZA_COND_NONE to serve it, else the
 * condition to answer with and *TEXT (static, may be NULL) to explain it.
 * Logs at most one line per sender and kind of refusal a minute; never
 * logs PASSWORD. */
enum stanza_cond guard_check(struct guard *g, const struct config *cfg,
			     const char *from, int controlled,
			     const char *password, double now,
			     const char **text);

/* Counters for tests and logs. */
struct guard_stats {
	unsigned long hashed;      /* slow password hashes computed */
	unsigned long cache_hits;  /* passwords accepted from the cache */
	size_t senders;            /* senders remembered now */
};

void guard_stats(const struct guard *g, struct guard_stats *out);

#endif
