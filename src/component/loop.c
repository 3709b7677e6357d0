/* SPDX-License-Identifier: MIT */
/* loop.c: the event loop: one poll() that fds, timers, signals and per-turn hooks register with. */
#define _GNU_SOURCE  /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loop.h"
#include "util.h"

/* Signals numbered below this can be caught (Linux's SIGRTMAX is 64). */
#define SIG_SLOTS 65

struct loop_io {
	struct loop *loop;
	int fd;
	short events;
	int dead;
	loop_io_fn fn;
	void *arg;
};

struct loop_timer {
	struct loop *loop;
	uint64_t due;             /* 0: not armed */
	uint64_t seq;             /* when it was armed, for ties */
	int dead;
	loop_timer_fn fn;
	void *arg;
};

struct loop_hook {
	struct loop *loop;
	int dead;
	loop_hook_fn fn;
	void *arg;
};

/* A growable array of handles. */
struct vec {
	void **p;
	size_t n, cap;
};

struct loop {
	struct vec ios, timers, hooks;
	int running;              /* inside loop_run_once(): deletes wait */
	int garbage;              /* dead handles to sweep */
	uint64_t seq;
	struct pollfd *pfd;       /* poll()'s array and the io of each entry */
	struct loop_io **pio;
	size_t pcap;
	int sig_rfd;              /* the self-pipe's read end, or -1 */
	loop_signal_fn sig_fn[SIG_SLOTS];
	void *sig_arg[SIG_SLOTS];
	struct sigaction sig_old[SIG_SLOTS];
};

/* The handler's side of the self-pipe: process-wide, as handlers are. */
static struct loop *sig_owner;
static int sig_wfd = -1;
static volatile sig_atomic_t sig_pending[SIG_SLOTS];

static void on_signal(int signo)
{
	int saved = errno;
	char c = 0;
	ssize_t n;

	sig_pending[signo] = 1;
	/* Full pipe: a wake-up is pending already. */
	n = write(sig_wfd, &c, 1);
	(void)n;
	errno = saved;
}

static int vec_push(struct vec *v, void *x)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 8;
		void **p = realloc(v->p, cap * sizeof(*p));

		if (p == NULL)
			return -1;
		v->p = p;
		v->cap = cap;
	}
	v->p[v->n++] = x;
	return 0;
}

/* Free the handles of V whose dead flag (at offset OFF) is set. */
static void vec_sweep(struct vec *v, size_t off)
{
	size_t i, k = 0;

	for (i = 0; i < v->n; i++) {
		if (*(int *)((char *)v->p[i] + off))
			free(v->p[i]);
		else
			v->p[k++] = v->p[i];
	}
	v->n = k;
}

static void sweep(struct loop *l)
{
	if (!l->garbage || l->running)
		return;
	vec_sweep(&l->ios, offsetof(struct loop_io, dead));
	vec_sweep(&l->timers, offsetof(struct loop_timer, dead));
	vec_sweep(&l->hooks, offsetof(struct loop_hook, dead));
	l->garbage = 0;
}

struct loop *loop_new(void)
{
	struct loop *l = calloc(1, sizeof(*l));

	if (l == NULL)
		return NULL;
	l->sig_rfd = -1;
	return l;
}

void loop_free(struct loop *l)
{
	size_t i;

	if (l == NULL)
		return;
	if (sig_owner == l) {
		for (i = 1; i < SIG_SLOTS; i++)
			if (l->sig_fn[i] != NULL)
				sigaction((int)i, &l->sig_old[i], NULL);
		close(sig_wfd);
		sig_wfd = -1;
		sig_owner = NULL;
	}
	if (l->sig_rfd >= 0)
		close(l->sig_rfd);
	for (i = 0; i < l->ios.n; i++)
		free(l->ios.p[i]);
	for (i = 0; i < l->timers.n; i++)
		free(l->timers.p[i]);
	for (i = 0; i < l->hooks.n; i++)
		free(l->hooks.p[i]);
	free(l->ios.p);
	free(l->timers.p);
	free(l->hooks.p);
	free(l->pfd);
	free(l->pio);
	free(l);
}

/* ---- fds ---------------------------------------------------------------- */

struct loop_io *loop_io_add(struct loop *l, int fd, short events,
			    loop_io_fn fn, void *arg)
{
	struct loop_io *io = calloc(1, sizeof(*io));

	if (io == NULL)
		return NULL;
	io->loop = l;
	io->fd = fd;
	io->events = events;
	io->fn = fn;
	io->arg = arg;
	if (vec_push(&l->ios, io) < 0) {
		free(io);
		return NULL;
	}
	return io;
}

void loop_io_set(struct loop_io *io, int fd, short events)
{
	io->fd = fd;
	io->events = events;
}

void loop_io_del(struct loop_io *io)
{
	if (io == NULL)
		return;
	io->dead = 1;
	io->loop->garbage = 1;
	sweep(io->loop);
}

/* ---- timers ------------------------------------------------------------- */

struct loop_timer *loop_timer_add(struct loop *l, loop_timer_fn fn, void *arg)
{
	struct loop_timer *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->loop = l;
	t->fn = fn;
	t->arg = arg;
	if (vec_push(&l->timers, t) < 0) {
		free(t);
		return NULL;
	}
	return t;
}

void loop_timer_at(struct loop_timer *t, uint64_t at_ms)
{
	if (at_ms == 0) {
		t->due = 0;
		return;
	}
	if (t->due != at_ms)
		t->seq = ++t->loop->seq;
	t->due = at_ms;
}

void loop_timer_del(struct loop_timer *t)
{
	if (t == NULL)
		return;
	t->dead = 1;
	t->due = 0;
	t->loop->garbage = 1;
	sweep(t->loop);
}

/* The armed timer due first, at or before NOW and armed before SEQ (NOW 0:
 * any), or NULL. */
static struct loop_timer *first_timer(const struct loop *l, uint64_t now,
				      uint64_t seq)
{
	struct loop_timer *best = NULL;
	size_t i;

	for (i = 0; i < l->timers.n; i++) {
		struct loop_timer *t = l->timers.p[i];

		if (t->due == 0 || (now != 0 && (t->due > now || t->seq > seq)))
			continue;
		if (best == NULL || t->due < best->due ||
		    (t->due == best->due && t->seq < best->seq))
			best = t;
	}
	return best;
}

static void run_timers(struct loop *l)
{
	uint64_t now = util_now_ms(), seq = l->seq;
	struct loop_timer *t;

	while ((t = first_timer(l, now, seq)) != NULL) {
		t->due = 0;
		t->fn(t->arg);
	}
}

/* ---- signals ------------------------------------------------------------ */

int loop_signal(struct loop *l, int signo, loop_signal_fn fn, void *arg)
{
	struct sigaction sa;
	int p[2];

	if (signo <= 0 || signo >= SIG_SLOTS ||
	    (sig_owner != NULL && sig_owner != l))
		return -1;
	if (fn == NULL) {
		if (l->sig_fn[signo] == NULL)
			return -1;
		sigaction(signo, &l->sig_old[signo], NULL);
		l->sig_fn[signo] = NULL;
		return 0;
	}
	if (l->sig_fn[signo] != NULL)
		return -1;
	if (sig_owner == NULL) {
		if (pipe2(p, O_NONBLOCK | O_CLOEXEC) != 0)
			return -1;
		l->sig_rfd = p[0];
		sig_wfd = p[1];
		sig_owner = l;
	}
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	/* The pipe wakes poll() (which Linux never restarts anyway); other
	 * calls, on any thread, carry on undisturbed. */
	sa.sa_flags = SA_RESTART;
	sa.sa_handler = on_signal;
	sig_pending[signo] = 0;
	l->sig_fn[signo] = fn;
	l->sig_arg[signo] = arg;
	if (sigaction(signo, &sa, &l->sig_old[signo]) != 0) {
		l->sig_fn[signo] = NULL;
		return -1;
	}
	return 0;
}

/* Empty the self-pipe when poll() saw it readable (PIPE_READY: no read
 * on a turn without a signal), then call the callback of every signal
 * that came. A signal caught after poll() returned is acted on now; its
 * byte wakes the next poll(), which finds no flag left. */
static void run_signals(struct loop *l, int pipe_ready)
{
	char buf[64];
	int i;

	if (l->sig_rfd < 0)
		return;
	if (pipe_ready)
		while (read(l->sig_rfd, buf, sizeof(buf)) > 0)
			;
	for (i = 1; i < SIG_SLOTS; i++) {
		if (!sig_pending[i] || l->sig_fn[i] == NULL)
			continue;
		sig_pending[i] = 0;
		l->sig_fn[i](l->sig_arg[i], i);
	}
}

/* ---- hooks -------------------------------------------------------------- */

struct loop_hook *loop_hook_add(struct loop *l, loop_hook_fn fn, void *arg)
{
	struct loop_hook *h = calloc(1, sizeof(*h));

	if (h == NULL)
		return NULL;
	h->loop = l;
	h->fn = fn;
	h->arg = arg;
	if (vec_push(&l->hooks, h) < 0) {
		free(h);
		return NULL;
	}
	return h;
}

void loop_hook_del(struct loop_hook *h)
{
	if (h == NULL)
		return;
	h->dead = 1;
	h->loop->garbage = 1;
	sweep(h->loop);
}

/* ---- the turn ------------------------------------------------------------ */

/* Room for N poll entries. 0 or -1. */
static int reserve(struct loop *l, size_t n)
{
	struct pollfd *pfd;
	struct loop_io **pio;

	if (n <= l->pcap)
		return 0;
	if ((pfd = realloc(l->pfd, n * sizeof(*pfd))) == NULL)
		return -1;
	l->pfd = pfd;
	if ((pio = realloc(l->pio, n * sizeof(*pio))) == NULL)
		return -1;
	l->pio = pio;
	l->pcap = n;
	return 0;
}

/* How long to wait: MAX_MS, or less when a timer is due sooner. */
static int wait_ms(const struct loop *l, int max_ms)
{
	struct loop_timer *t = first_timer(l, 0, 0);
	uint64_t now;

	if (t == NULL)
		return max_ms;
	now = util_now_ms();
	if (t->due <= now)
		return 0;
	if (max_ms >= 0 && t->due - now >= (uint64_t)max_ms)
		return max_ms;
	return t->due - now > 0x7fffffff ? 0x7fffffff : (int)(t->due - now);
}

int loop_run_once(struct loop *l, int max_ms)
{
	size_t i, n = 0;
	int rc, saved, pipe_ready;

	l->running = 1;
	for (i = 0; i < l->hooks.n; i++) {
		struct loop_hook *h = l->hooks.p[i];

		if (!h->dead)
			h->fn(h->arg);
	}
	if (reserve(l, l->ios.n + 1) < 0) {
		l->running = 0;
		errno = ENOMEM;
		return -1;
	}
	if (l->sig_rfd >= 0) {
		l->pfd[n] = (struct pollfd){ .fd = l->sig_rfd, .events = POLLIN };
		l->pio[n++] = NULL;
	}
	for (i = 0; i < l->ios.n; i++) {
		struct loop_io *io = l->ios.p[i];

		if (io->dead || io->fd < 0 || io->events == 0)
			continue;
		l->pfd[n] = (struct pollfd){ .fd = io->fd, .events = io->events };
		l->pio[n++] = io;
	}
	rc = poll(l->pfd, n, wait_ms(l, max_ms));
	saved = errno;
	if (rc > 0)
		for (i = 0; i < n; i++) {
			struct loop_io *io = l->pio[i];

			/* Deleted by an earlier callback of this turn: its
			 * entry is still here, its owner is gone. */
			if (io == NULL || io->dead || l->pfd[i].revents == 0)
				continue;
			io->fn(io->arg, io->fd, l->pfd[i].revents);
		}
	/* Also after EINTR: the flag is set before the handler returns. */
	pipe_ready = l->sig_rfd >= 0 && (rc < 0 || (l->pfd[0].revents & POLLIN));
	run_signals(l, pipe_ready);
	run_timers(l);
	l->running = 0;
	sweep(l);
	if (rc < 0 && saved != EINTR) {
		errno = saved;
		return -1;
	}
	return 0;
}
