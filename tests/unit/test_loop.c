/* SPDX-License-Identifier: MIT */
/* test_loop.c: the event loop: timers fire in order, fds when ready, a signal wakes a wait at once, handles can go during a turn. */
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "loop.h"
#include "testutil.h"
#include "util.h"

/* A wait the tests never expect to reach: a bound, not a speed. */
#define LONG_MS 60000

struct record {
	char order[16];
	size_t n;
};

struct mark {
	struct record *r;
	char name;
	struct loop_timer *rearm;   /* re-armed by the callback, or NULL */
	struct loop_timer *kill_t;  /* deleted by the callback, or NULL */
	struct loop_io *kill_io;
	short revents;
};

static void note(struct mark *m)
{
	if (m->r->n + 1 < sizeof(m->r->order))
		m->r->order[m->r->n++] = m->name;
}

static void on_timer(void *arg)
{
	struct mark *m = arg;

	note(m);
	if (m->rearm != NULL)
		loop_timer_at(m->rearm, 1);
	loop_timer_del(m->kill_t);
	m->kill_t = NULL;
}

static void on_io(void *arg, int fd, short revents)
{
	struct mark *m = arg;
	char c;

	note(m);
	m->revents = revents;
	if (read(fd, &c, 1) != 1)
		m->revents = -1;
	loop_io_del(m->kill_io);
	m->kill_io = NULL;
}

/* Due long ago, in a shuffled order: one turn fires them by due time,
 * ties in the order armed; one due far ahead waits. */
static void test_timer_order(void)
{
	struct loop *l = loop_new();
	struct record r = { { 0 }, 0 };
	struct mark a = { .r = &r, .name = 'a' }, b = { .r = &r, .name = 'b' },
		    c = { .r = &r, .name = 'c' }, d = { .r = &r, .name = 'd' },
		    later = { .r = &r, .name = 'z' };
	struct loop_timer *ta, *tb, *tc, *td, *tz;

	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	ta = loop_timer_add(l, on_timer, &a);
	tb = loop_timer_add(l, on_timer, &b);
	tc = loop_timer_add(l, on_timer, &c);
	td = loop_timer_add(l, on_timer, &d);
	tz = loop_timer_add(l, on_timer, &later);
	CU_ASSERT_FATAL(ta && tb && tc && td && tz);
	loop_timer_at(ta, 30);
	loop_timer_at(tb, 10);
	loop_timer_at(tc, 20);
	loop_timer_at(td, 10);
	loop_timer_at(tz, util_now_ms() + LONG_MS);
	CU_ASSERT_EQUAL(loop_run_once(l, 0), 0);
	CU_ASSERT_STRING_EQUAL(r.order, "bdca");
	/* Fired timers are disarmed; a disarmed one never fires. */
	loop_timer_at(tz, 0);
	CU_ASSERT_EQUAL(loop_run_once(l, 0), 0);
	CU_ASSERT_STRING_EQUAL(r.order, "bdca");
	loop_free(l);
}

/* A timer armed by a callback waits for the next turn, so a callback
 * that re-arms itself cannot hold the loop. */
static void test_timer_rearmed_next_turn(void)
{
	struct loop *l = loop_new();
	struct record r = { { 0 }, 0 };
	struct mark a = { .r = &r, .name = 'a' };
	struct loop_timer *t;

	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	t = loop_timer_add(l, on_timer, &a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	a.rearm = t;
	loop_timer_at(t, 1);
	CU_ASSERT_EQUAL(loop_run_once(l, 0), 0);
	CU_ASSERT_STRING_EQUAL(r.order, "a");
	CU_ASSERT_EQUAL(loop_run_once(l, 0), 0);
	CU_ASSERT_STRING_EQUAL(r.order, "aa");
	loop_free(l);
}

/* An fd's callback runs once it is ready, for what it watches only. */
static void test_fd_ready(void)
{
	struct loop *l = loop_new();
	struct record r = { { 0 }, 0 };
	struct mark m = { .r = &r, .name = 'p' };
	struct loop_io *io;
	int p[2];

	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	CU_ASSERT_EQUAL_FATAL(pipe(p), 0);
	io = loop_io_add(l, p[0], POLLIN, on_io, &m);
	CU_ASSERT_PTR_NOT_NULL_FATAL(io);
	CU_ASSERT_EQUAL(loop_run_once(l, 0), 0);
	CU_ASSERT_EQUAL(r.n, 0);
	CU_ASSERT_EQUAL(write(p[1], "xy", 2), 2);
	/* Registered but not watched: not called. */
	loop_io_set(io, p[0], 0);
	CU_ASSERT_EQUAL(loop_run_once(l, 0), 0);
	CU_ASSERT_EQUAL(r.n, 0);
	loop_io_set(io, p[0], POLLIN);
	CU_ASSERT_EQUAL(loop_run_once(l, LONG_MS), 0);
	CU_ASSERT_STRING_EQUAL(r.order, "p");
	CU_ASSERT(m.revents & POLLIN);
	loop_io_del(io);
	/* Gone: the byte left does not call it. */
	CU_ASSERT_EQUAL(loop_run_once(l, 0), 0);
	CU_ASSERT_EQUAL(r.n, 1);
	loop_free(l);
	close(p[0]);
	close(p[1]);
}

/* Handles deleted by a callback of the same turn are not called, though
 * they were ready or due. */
static void test_removal_during_dispatch(void)
{
	struct loop *l = loop_new();
	struct record r = { { 0 }, 0 };
	struct mark ma = { .r = &r, .name = 'a' }, mb = { .r = &r, .name = 'b' },
		    ta = { .r = &r, .name = 'x' }, tb = { .r = &r, .name = 'y' };
	struct loop_io *a, *b;
	struct loop_timer *t1, *t2;
	int p[2], q[2];

	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	CU_ASSERT_EQUAL_FATAL(pipe(p), 0);
	CU_ASSERT_EQUAL_FATAL(pipe(q), 0);
	a = loop_io_add(l, p[0], POLLIN, on_io, &ma);
	b = loop_io_add(l, q[0], POLLIN, on_io, &mb);
	t1 = loop_timer_add(l, on_timer, &ta);
	t2 = loop_timer_add(l, on_timer, &tb);
	CU_ASSERT_FATAL(a && b && t1 && t2);
	/* Whichever runs first deletes the other. */
	ma.kill_io = b;
	mb.kill_io = a;
	ta.kill_t = t2;
	tb.kill_t = t1;
	loop_timer_at(t1, 1);
	loop_timer_at(t2, 1);
	CU_ASSERT_EQUAL(write(p[1], "x", 1), 1);
	CU_ASSERT_EQUAL(write(q[1], "x", 1), 1);
	CU_ASSERT_EQUAL(loop_run_once(l, LONG_MS), 0);
	CU_ASSERT_EQUAL(r.n, 2);
	CU_ASSERT_STRING_EQUAL(r.order, "ax");
	/* The survivors still work; the dead ones stay silent. */
	CU_ASSERT_EQUAL(write(p[1], "x", 1), 1);
	loop_timer_at(t1, 1);
	CU_ASSERT_EQUAL(loop_run_once(l, LONG_MS), 0);
	CU_ASSERT_STRING_EQUAL(r.order, "axax");
	loop_free(l);
	close(p[0]);
	close(p[1]);
	close(q[0]);
	close(q[1]);
}

/* ---- signals ---- */

struct waker {
	sem_t waiting;
	pthread_t target;
};

static int signalled;

static void on_usr1(void *arg, int signo)
{
	(void)arg;
	if (signo == SIGUSR1)
		signalled++;
}

/* Called just before the wait: tell the thread to signal now. */
static void before_wait(void *arg)
{
	struct waker *w = arg;

	sem_post(&w->waiting);
}

static void *send_signal(void *arg)
{
	struct waker *w = arg;

	while (sem_wait(&w->waiting) != 0)
		;
	pthread_kill(w->target, SIGUSR1);
	return NULL;
}

/* A signal that comes once the loop is about to wait, or already in
 * poll(), ends that wait at once and its callback runs in the turn: the
 * turn returns long before its LONG_MS bound. */
static void test_signal_wakes_wait(void)
{
	struct loop *l = loop_new();
	struct waker w;
	struct loop_hook *h;
	pthread_t th;
	uint64_t t0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	signalled = 0;
	CU_ASSERT_EQUAL_FATAL(sem_init(&w.waiting, 0, 0), 0);
	w.target = pthread_self();
	CU_ASSERT_EQUAL_FATAL(loop_signal(l, SIGUSR1, on_usr1, NULL), 0);
	/* One catcher per signal, one loop per process. */
	CU_ASSERT_EQUAL(loop_signal(l, SIGUSR1, on_usr1, NULL), -1);
	h = loop_hook_add(l, before_wait, &w);
	CU_ASSERT_PTR_NOT_NULL_FATAL(h);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&th, NULL, send_signal, &w), 0);
	t0 = util_now_ms();
	CU_ASSERT_EQUAL(loop_run_once(l, LONG_MS), 0);
	CU_ASSERT(util_now_ms() - t0 < LONG_MS);
	CU_ASSERT_EQUAL(signalled, 1);
	pthread_join(th, NULL);
	loop_hook_del(h);
	/* Raised before the wait began: still seen, without waiting. */
	raise(SIGUSR1);
	t0 = util_now_ms();
	CU_ASSERT_EQUAL(loop_run_once(l, LONG_MS), 0);
	CU_ASSERT(util_now_ms() - t0 < LONG_MS);
	CU_ASSERT_EQUAL(signalled, 2);
	/* Given back: caught no more. */
	CU_ASSERT_EQUAL(loop_signal(l, SIGUSR1, NULL, NULL), 0);
	CU_ASSERT_EQUAL(loop_signal(l, SIGUSR1, NULL, NULL), -1);
	CU_ASSERT_EQUAL(loop_signal(l, SIGUSR1, on_usr1, NULL), 0);
	sem_destroy(&w.waiting);
	loop_free(l);
}

static const struct testutil_test tests[] = {
	{ "timers fire by due time, ties in arming order", test_timer_order },
	{ "a timer re-armed by its callback waits a turn",
	  test_timer_rearmed_next_turn },
	{ "an fd's callback runs when it is ready", test_fd_ready },
	{ "handles deleted during a turn are not called",
	  test_removal_during_dispatch },
	{ "a signal ends the wait at once", test_signal_wakes_wait },
};

static int test_loop_register(void)
{
	return testutil_add_tests("loop", tests, sizeof(tests) / sizeof(tests[0]));
}

TESTUTIL_SUITE(test_loop_register)
