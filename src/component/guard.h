/* SPDX-License-Identifier: MIT */
/* guard.h: who may ask, and how often: rate limits, the permission table and service passwords, in one decision. */
#ifndef OPE_GUARD_H
#define OPE_GUARD_H

#include <stddef.h>
#include "stanza.h"

struct config;
struct guard;
struct guard_job;

/* Decision state that outlives configuration reloads: per-sender buckets
 * for at most MAX_SENDERS senders, the global buckets and the cache of
 * verified passwords. NULL when out of memory. Free with guard_free(). */
struct guard *guard_new(size_t max_senders);

void guard_free(struct guard *g);

/* May the request from FROM (the address the server stamped) be served
 * now? Every request counts against the sender's and the global rate
 * (limits.*); when CONTROLLED, the access table of CFG (if any) and a rule's
 * service password (PASSWORD: the request's attribute, or NULL) apply too.
 * A password verified before (cached) passes before any password budget is
 * looked at. NOW is monotonic seconds. Returns STANZA_COND_NONE with *JOB
 * NULL to serve it, or the condition to answer with and *TEXT (static, may
 * be NULL) to explain it. Returns STANZA_COND_NONE with *JOB set when only
 * a slow hash can decide: run guard_job_run(*JOB) (on any thread), then
 * guard_job_finish() (or guard_job_cancel()) on this one. Logs at most one
 * line per sender and kind of refusal a minute, and per backing-off rule
 * a minute; never logs PASSWORD. */
enum stanza_cond guard_check(struct guard *g, const struct config *cfg,
			     const char *from, int controlled,
			     const char *password, double now,
			     const char **text, struct guard_job **job);

/* Compute JOB's hash: slow (tens of ms), touches nothing but JOB, so it
 * may run on a worker thread. Wipes JOB's copy of the password. */
void guard_job_run(struct guard_job *job);

/* After guard_job_run(): record the result in the rule's failure budget
 * (CFG: the limits now in force) and free JOB. Returns STANZA_COND_NONE
 * when the password was right (it is cached from now on), else the
 * condition and *TEXT as guard_check() does. */
enum stanza_cond guard_job_finish(struct guard *g, const struct config *cfg,
				  struct guard_job *job, double now,
				  const char **text);

/* Forget JOB, run or not, without an answer (the link went away), and
 * free it. */
void guard_job_cancel(struct guard *g, struct guard_job *job);

/* An admin forgives BARE (a normalised bare JID): its request and
 * password buckets are full again. Returns 1, or 0 when BARE was not
 * remembered (nothing to forgive). */
int guard_forgive(struct guard *g, const char *bare);

/* Counters for tests and logs. */
struct guard_stats {
	unsigned long hashed;      /* slow password hashes computed */
	unsigned long cache_hits;  /* passwords accepted from the cache */
	size_t senders;            /* senders remembered now */
	unsigned long backoff_refused; /* checks refused: rule backing off */
	size_t rules_backing_off;  /* rule passwords backing off now */
};

void guard_stats(const struct guard *g, struct guard_stats *out);

#endif
