/* SPDX-License-Identifier: MIT */
/* takeover.h: restart in place: hand the live link to a new ope-component process, or take it over from the running one. */
#ifndef OPE_TAKEOVER_H
#define OPE_TAKEOVER_H

#include <stddef.h>

struct config;
struct handover_link;
struct link;
struct loop;
struct takeover;
struct metrics;

/* The control socket for CFG: control.path, else
 * $RUNTIME_DIRECTORY/control.sock when systemd set RUNTIME_DIRECTORY,
 * else NULL (no takeover). The result may live in BUF (LEN bytes). */
const char *takeover_path(const struct config *cfg, char *buf, size_t len);

/* ---- the running process ---- */

/* Why this process can never hand its link over (static text: it is a
 * container's PID 1), or NULL. */
const char *takeover_why_not(void);

/* Refuse every takeover request with WHY (static text, e.g. "it is
 * draining to stop") from now on; NULL accepts them again. T may be NULL. */
void takeover_refuse(struct takeover *t, const char *why);

/* Why L cannot be handed over now (static text): takeover_why_not(), then
 * takeover_refuse()'s reason, then link_why_not_movable(L); NULL when it
 * can. */
const char *takeover_why_not_now(const struct takeover *t,
				 const struct link *l);

/* Listen on PATH (NULL: takeover off) for a new process that takes the
 * link over, and keep ARGV (NULL-terminated, copied) to start one on
 * takeover_spawn(). The control socket and the steps' deadlines are
 * registered with LOOP (borrowed; must outlive it), which wakes for them.
 * A socket that cannot be made is logged and leaves takeover off. NULL
 * only when out of memory. */
struct takeover *takeover_new(struct loop *loop, const char *path,
			      char *const argv[]);

/* The socket to watch for readability (the listener, or the control
 * client being served), or -1. */
int takeover_fd(const struct takeover *t);

/* On SIGUSR2: start this binary again with the same arguments and
 * --takeover=PATH; it asks for the link over the control socket. Logs
 * what it did, and why not when it cannot. Returns the new process's pid,
 * or -1 when none was started. */
int takeover_spawn(struct takeover *t);

/* After every turn of the event loop. Serves a takeover request step by step without ever waiting: a control
 * client that is not our uid or root is refused (logged), one that stays
 * silent or does not answer is given up after a bounded time (logged);
 * L is held only from a whole request until the new process's answer.
 * Returns 1 once L was handed over (the caller exits 0; L is released),
 * else 0: no request, one in progress, or it failed (logged; L serves
 * on). */
int takeover_run(struct takeover *t, struct link *l);

/* Give up a takeover in progress (a stop signal came): the new process is
 * told why, L serves on. */
void takeover_abort(struct takeover *t, struct link *l, const char *why);

/* Count failed takeovers in M (may be NULL: not counted). */
void takeover_set_metrics(struct takeover *t, struct metrics *m);

/* Pass NAME (the instance name, pool.h; borrowed, must outlive T) with the
 * link, so that the new process keeps it. */
void takeover_set_instance(struct takeover *t, const char *name);

/* Close the control socket and remove it, unless the link was handed over
 * (the path is the new process's then). NULL is a no-op. */
void takeover_free(struct takeover *t);

/* ---- the new process ---- */

/* Ask the process listening on PATH for its link, turning LOOP (signals
 * and timers are served) while it reaches a stanza boundary and writes
 * its replies; a process that is not our uid or root is not asked.
 * Returns the control connection (for takeover_confirm()) with H filled
 * (H->fd -1: it had no stream up, connect anew), or -1 with ERR filled:
 * *REFUSED is set when the old process said no (ERR: its reason). */
int takeover_request(struct loop *loop, const char *path,
		     struct handover_link *h, int *refused, char *err,
		     size_t errlen);

/* Answer the old process on FD: ACCEPTED, or give the link back. When
 * accepted, turn LOOP until the old process has let go (it made this
 * process the service's main one) before returning. Closes FD. Returns
 * 0, or -1 when the old process could not be told or had stopped waiting
 * (it serves on: the caller must then not use the link). */
int takeover_confirm(struct loop *loop, int fd, int accepted);

#endif
