/* SPDX-License-Identifier: MIT */
/* resolve.c: host names looked up on a worker thread, answered through a pipe the event loop polls. */
#define _GNU_SOURCE  /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "resolve.h"

/* Each lookup has its own joinable thread. The loop joins it once the
 * thread has answered, which then takes no time; a lookup the loop gave up
 * on (resolve_free() while running) goes on the abandoned list and is
 * joined once it has finished. No thread is ever detached, so every one
 * is accounted for and their number is capped. */
struct resolve {
	pthread_t thread;
	int pipe[2];            /* the worker writes a byte when done */
	resolve_fn fn;
	char *host;
	char port[8];
	/* Under resolve_lock from here. */
	int done;
	int rc, err_no;         /* what FN returned, and errno after it */
	struct addrinfo *res;
	struct resolve *next;   /* on the abandoned list */
};

/* getaddrinfo needs far less than the default 8 MB; at most
 * RESOLVE_MAX_RUNNING of these exist. */
#define STACK_SIZE (1024 * 1024)

static pthread_mutex_t resolve_lock = PTHREAD_MUTEX_INITIALIZER;
static struct resolve *abandoned;
static unsigned running;        /* started, not joined */

static void *worker(void *arg)
{
	struct resolve *r = arg;
	struct addrinfo hints = { 0 }, *res = NULL;
	int rc, e;
	ssize_t w;

	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	rc = r->fn(r->host, r->port, &hints, &res);
	e = errno;
	pthread_mutex_lock(&resolve_lock);
	r->rc = rc;
	r->err_no = e;
	r->res = rc == 0 ? res : NULL;
	r->done = 1;
	pthread_mutex_unlock(&resolve_lock);
	/* R stays valid until this thread is joined. */
	do
		w = write(r->pipe[1], "", 1);
	while (w < 0 && errno == EINTR);
	return NULL;
}

static void release(struct resolve *r)
{
	if (r->res != NULL)
		freeaddrinfo(r->res);
	close(r->pipe[0]);
	close(r->pipe[1]);
	free(r->host);
	free(r);
}

/* Take the finished lookups (all of them with WAIT) off the abandoned
 * list, with resolve_lock held; the caller joins them. */
static struct resolve *take_finished(int wait)
{
	struct resolve **p = &abandoned, *out = NULL;

	while (*p != NULL) {
		struct resolve *r = *p;

		if (r->done || wait) {
			*p = r->next;
			r->next = out;
			out = r;
		} else {
			p = &r->next;
		}
	}
	return out;
}

unsigned resolve_reap(int wait)
{
	struct resolve *r, *next;
	unsigned left;

	pthread_mutex_lock(&resolve_lock);
	r = take_finished(wait);
	pthread_mutex_unlock(&resolve_lock);
	for (; r != NULL; r = next) {
		next = r->next;
		pthread_join(r->thread, NULL);
		release(r);
		pthread_mutex_lock(&resolve_lock);
		running--;
		pthread_mutex_unlock(&resolve_lock);
	}
	pthread_mutex_lock(&resolve_lock);
	left = running;
	pthread_mutex_unlock(&resolve_lock);
	return left;
}

struct resolve *resolve_start(const char *host, unsigned port, resolve_fn fn,
			      char *err, size_t errlen)
{
	struct resolve *r;
	pthread_attr_t attr;
	sigset_t all, old;
	int rc;

	if (resolve_reap(0) >= RESOLVE_MAX_RUNNING) {
		snprintf(err, errlen, "%d earlier lookups have not returned yet",
			 RESOLVE_MAX_RUNNING);
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		goto oom;
	r->pipe[0] = r->pipe[1] = -1;
	r->fn = fn ? fn : getaddrinfo;
	snprintf(r->port, sizeof(r->port), "%u", port);
	if ((r->host = strdup(host)) == NULL)
		goto oom;
	if (pipe2(r->pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
		snprintf(err, errlen, "cannot make a pipe: %s", strerror(errno));
		goto fail;
	}
	/* Signals go to the loop's thread, where they cut poll() short. */
	sigfillset(&all);
	if ((rc = pthread_attr_init(&attr)) == 0) {
		pthread_attr_setstacksize(&attr, STACK_SIZE);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		rc = pthread_create(&r->thread, &attr, worker, r);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		pthread_attr_destroy(&attr);
	}
	if (rc != 0) {
		snprintf(err, errlen, "cannot start a thread: %s", strerror(rc));
		goto fail;
	}
	pthread_mutex_lock(&resolve_lock);
	running++;
	pthread_mutex_unlock(&resolve_lock);
	return r;
oom:
	snprintf(err, errlen, "out of memory");
fail:
	if (r != NULL) {
		if (r->pipe[0] >= 0) {
			close(r->pipe[0]);
			close(r->pipe[1]);
		}
		free(r->host);
		free(r);
	}
	return NULL;
}

int resolve_fd(const struct resolve *r)
{
	return r->pipe[0];
}

int resolve_result(struct resolve *r, struct addrinfo **res, char *err,
		   size_t errlen)
{
	int done, rc, e;

	*res = NULL;
	pthread_mutex_lock(&resolve_lock);
	done = r->done;
	rc = r->rc;
	e = r->err_no;
	if (done) {
		*res = r->res;
		r->res = NULL;
	}
	pthread_mutex_unlock(&resolve_lock);
	if (!done)
		return 0;
	if (rc == 0)
		return 1;
	snprintf(err, errlen, "%s", rc == EAI_SYSTEM ? strerror(e) :
		 gai_strerror(rc));
	return -1;
}

void resolve_free(struct resolve *r)
{
	int done;

	if (r == NULL)
		return;
	pthread_mutex_lock(&resolve_lock);
	done = r->done;
	if (!done) {
		r->next = abandoned;
		abandoned = r;
	}
	pthread_mutex_unlock(&resolve_lock);
	if (!done)
		return;
	/* It has answered: joining takes no time. */
	pthread_join(r->thread, NULL);
	release(r);
	pthread_mutex_lock(&resolve_lock);
	running--;
	pthread_mutex_unlock(&resolve_lock);
}
