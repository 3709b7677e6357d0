/* SPDX-License-Identifier: MIT */
/* loop.h: the event loop: one poll() that fds, timers, signals and per-turn hooks register with. */
#ifndef OPE_LOOP_H
#define OPE_LOOP_H

#include <stdint.h>

struct loop;
struct loop_io;
struct loop_timer;
struct loop_hook;

/* FD was ready: REVENTS as poll() reported them (POLLIN, POLLOUT,
 * POLLERR, POLLHUP). */
typedef void (*loop_io_fn)(void *arg, int fd, short revents);
/* The timer came due; it is disarmed before the call. */
typedef void (*loop_timer_fn)(void *arg);
/* SIGNO arrived (once or more since the last call); called on the loop's
 * thread, never from the signal handler, so anything may be done. */
typedef void (*loop_signal_fn)(void *arg, int signo);
/* Once per turn, just before the loop waits. */
typedef void (*loop_hook_fn)(void *arg);

/* A loop with nothing registered. NULL when out of memory or no pipe
 * could be made (errno set). Free with loop_free(). */
struct loop *loop_new(void);

/* Free L and everything still registered with it; the signals it caught
 * get their earlier dispositions back. NULL is a no-op. */
void loop_free(struct loop *l);

/* Wait at most MAX_MS (-1: no limit) for a registered fd, the earliest
 * timer or a signal, then call every callback that is due: fds, then
 * signals, then timers in the order they fall due (ties: the order they
 * were armed). Hooks run before the wait. A timer armed during the turn
 * waits for the next one. Not to be called from a callback. Returns 0,
 * or -1 when poll() failed (errno). */
int loop_run_once(struct loop *l, int max_ms);

/* ---- fds ---- */

/* Watch FD for EVENTS (POLLIN, POLLOUT; 0: registered but not watched).
 * The fd stays the caller's to close, after loop_io_del(). NULL when out
 * of memory. */
struct loop_io *loop_io_add(struct loop *l, int fd, short events,
			    loop_io_fn fn, void *arg);

/* Watch FD (-1: none) for EVENTS from the next wait on: an owner whose
 * fd changes (a reconnect) keeps one handle. */
void loop_io_set(struct loop_io *io, int fd, short events);

/* Stop watching and free IO; safe from any callback, its own included
 * (a pending call is then not made). NULL is a no-op. */
void loop_io_del(struct loop_io *io);

/* ---- timers ---- */

/* A timer calling FN(ARG), not armed. NULL when out of memory. */
struct loop_timer *loop_timer_add(struct loop *l, loop_timer_fn fn, void *arg);

/* Fire at AT_MS (util_now_ms()'s clock; at or before now: on the next
 * turn, without waiting); 0 disarms. Arming it for another moment puts
 * it behind the timers already armed for that moment. */
void loop_timer_at(struct loop_timer *t, uint64_t at_ms);

/* Disarm and free T; safe from any callback. NULL is a no-op. */
void loop_timer_del(struct loop_timer *t);

/* ---- signals ---- */

/* Catch SIGNO from now on and call FN(ARG, SIGNO) on the loop (FN NULL:
 * stop catching it; its earlier disposition comes back). One loop per
 * process catches signals (the handler is process-wide); one callback
 * per signal. Returns 0, or -1 (another loop catches signals, SIGNO is
 * caught already, or not at all for NULL, or a pipe or sigaction
 * failed). */
int loop_signal(struct loop *l, int signo, loop_signal_fn fn, void *arg);

/* ---- hooks ---- */

/* Call FN(ARG) once per turn before the wait, e.g. to set what an fd
 * waits for from its owner's state. NULL when out of memory. */
struct loop_hook *loop_hook_add(struct loop *l, loop_hook_fn fn, void *arg);

/* Remove and free H; safe from any callback. NULL is a no-op. */
void loop_hook_del(struct loop_hook *h);

#endif
