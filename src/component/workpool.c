/* SPDX-License-Identifier: MIT */
/* workpool.c: a few worker threads for slow jobs (password hashes); results come back through an fd the event loop polls. */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "workpool.h"

/* Jobs live in a ring of MAX slots: [head, run) queued, [run, ...) being
 * run or done. Done jobs go to a second ring the loop drains. */
struct ring {
	void **items;
	size_t head, n;
};

struct workpool {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t *threads;
	unsigned nthreads;
	struct ring todo, done;
	size_t max, held;            /* held: submitted, not taken back */
	int stopping;
	int efd;
	workpool_run_fn run;
};

static void ring_push(struct ring *r, size_t max, void *item)
{
	r->items[(r->head + r->n) % max] = item;
	r->n++;
}

static void *ring_pop(struct ring *r, size_t max)
{
	void *item;

	if (r->n == 0)
		return NULL;
	item = r->items[r->head];
	r->head = (r->head + 1) % max;
	r->n--;
	return item;
}

static void *worker(void *arg)
{
	struct workpool *wp = arg;
	uint64_t one = 1;

	pthread_mutex_lock(&wp->lock);
	for (;;) {
		void *job;

		while (!wp->stopping && wp->todo.n == 0)
			pthread_cond_wait(&wp->wake, &wp->lock);
		if (wp->stopping)
			break;
		job = ring_pop(&wp->todo, wp->max);
		pthread_mutex_unlock(&wp->lock);
		wp->run(job);
		pthread_mutex_lock(&wp->lock);
		ring_push(&wp->done, wp->max, job);
		/* An eventfd counter cannot overflow at MAX jobs: this only
		 * fails if the fd is gone, and then nobody waits. */
		(void)!write(wp->efd, &one, sizeof(one));
	}
	pthread_mutex_unlock(&wp->lock);
	return NULL;
}

struct workpool *workpool_new(unsigned threads, size_t max, workpool_run_fn run)
{
	sigset_t all, old;
	struct workpool *wp = calloc(1, sizeof(*wp));

	if (wp == NULL)
		return NULL;
	wp->max = max ? max : 1;
	wp->run = run;
	wp->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	wp->todo.items = calloc(wp->max, sizeof(void *));
	wp->done.items = calloc(wp->max, sizeof(void *));
	wp->threads = calloc(threads ? threads : 1, sizeof(pthread_t));
	if (wp->efd < 0 || wp->todo.items == NULL || wp->done.items == NULL ||
	    wp->threads == NULL)
		goto fail;
	if (pthread_mutex_init(&wp->lock, NULL) != 0)
		goto fail;
	if (pthread_cond_init(&wp->wake, NULL) != 0) {
		pthread_mutex_destroy(&wp->lock);
		goto fail;
	}
	/* Workers take no signal: each must interrupt the loop's poll(). */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (wp->nthreads = 0; wp->nthreads < (threads ? threads : 1);
	     wp->nthreads++)
		if (pthread_create(&wp->threads[wp->nthreads], NULL, worker,
				   wp) != 0) {
			pthread_sigmask(SIG_SETMASK, &old, NULL);
			workpool_free(wp, NULL, NULL);
			return NULL;
		}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return wp;
fail:
	if (wp->efd >= 0)
		close(wp->efd);
	free(wp->todo.items);
	free(wp->done.items);
	free(wp->threads);
	free(wp);
	return NULL;
}

void workpool_free(struct workpool *wp, void (*discard)(void *job, void *arg),
		   void *arg)
{
	unsigned i;
	void *job;

	if (wp == NULL)
		return;
	pthread_mutex_lock(&wp->lock);
	wp->stopping = 1;
	pthread_cond_broadcast(&wp->wake);
	pthread_mutex_unlock(&wp->lock);
	for (i = 0; i < wp->nthreads; i++)
		pthread_join(wp->threads[i], NULL);
	while ((job = ring_pop(&wp->todo, wp->max)) != NULL ||
	       (job = ring_pop(&wp->done, wp->max)) != NULL)
		if (discard != NULL)
			discard(job, arg);
	pthread_cond_destroy(&wp->wake);
	pthread_mutex_destroy(&wp->lock);
	close(wp->efd);
	free(wp->todo.items);
	free(wp->done.items);
	free(wp->threads);
	free(wp);
}

int workpool_submit(struct workpool *wp, void *job)
{
	int rc = -1;

	pthread_mutex_lock(&wp->lock);
	if (wp->held < wp->max) {
		ring_push(&wp->todo, wp->max, job);
		wp->held++;
		pthread_cond_signal(&wp->wake);
		rc = 0;
	}
	pthread_mutex_unlock(&wp->lock);
	return rc;
}

int workpool_fd(const struct workpool *wp)
{
	return wp->efd;
}

void *workpool_take(struct workpool *wp)
{
	uint64_t n;
	void *job;

	pthread_mutex_lock(&wp->lock);
	job = ring_pop(&wp->done, wp->max);
	if (job != NULL)
		wp->held--;
	else
		/* Nothing left: clear the counter under the lock, so a job
		 * finishing now makes the fd readable again. */
		(void)!read(wp->efd, &n, sizeof(n));
	pthread_mutex_unlock(&wp->lock);
	return job;
}

size_t workpool_held(const struct workpool *wp)
{
	return wp->held;
}
