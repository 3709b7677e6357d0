/* SPDX-License-Identifier: MIT */
/* workpool.h: a few worker threads for slow jobs (password hashes); results come back through an fd the event loop polls. */
#ifndef OPE_WORKPOOL_H
#define OPE_WORKPOOL_H

#include <stddef.h>

/* Runs on a worker thread: must touch nothing but JOB. */
typedef void (*workpool_run_fn)(void *job);

struct workpool;

/* THREADS worker threads that call RUN on each job submitted, holding at
 * most MAX jobs at once (queued, running or done and not yet taken back).
 * NULL when out of memory or threads cannot start. Free with
 * workpool_free(). */
struct workpool *workpool_new(unsigned threads, size_t max, workpool_run_fn run);

/* Stop the threads (a running job finishes first) and hand every job not
 * yet taken back, run or not, to DISCARD(job, ARG) (DISCARD may be NULL)
 * on this thread. */
void workpool_free(struct workpool *wp, void (*discard)(void *job, void *arg),
		   void *arg);

/* Queue JOB (owned by the pool until workpool_take() returns it). Returns
 * 0, or -1 when MAX jobs are held already (JOB stays the caller's). */
int workpool_submit(struct workpool *wp, void *job);

/* An fd that is readable while a finished job waits to be taken: poll it
 * for POLLIN in the event loop. */
int workpool_fd(const struct workpool *wp);

/* The next finished job, in the order they finished, or NULL when none is
 * (then the fd is no longer readable until the next one finishes). */
void *workpool_take(struct workpool *wp);

/* Jobs submitted and not yet taken back (for the thread that submits). */
size_t workpool_held(const struct workpool *wp);

#endif
