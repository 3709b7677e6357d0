/* SPDX-License-Identifier: MIT */
/* dispatch.h: decides what each incoming stanza gets, error answers included, and hands replies to a sender. */
#ifndef OPE_DISPATCH_H
#define OPE_DISPATCH_H

#include <strophe.h>

#include "ext.h"

struct config;
struct dispatch;
struct guard;
struct link_upper;
struct loop;
struct metrics;

/* Sends one reply; the stanza stays the caller's (dispatch releases it). */
typedef void (*dispatch_send_fn)(xmpp_stanza_t *reply, void *arg);

/* What happened to a stanza; for logs, counters and tests. */
enum dispatch_result {
	DISPATCH_REPLIED = 0,   /* one or more replies were sent */
	DISPATCH_ERROR_SENT,    /* an error reply was sent */
	DISPATCH_IGNORED,       /* nothing to answer (error/result types, ...) */
	DISPATCH_DROPPED,       /* unusable (no from, not for our domain) */
	DISPATCH_NOMEM,         /* out of memory; nothing sent */
	DISPATCH_PENDING,       /* waits for a password hash on a worker
	                           thread; dispatch_complete() answers it */
};

/* A dispatcher for CFG's domain with every extension in the registry
 * (ext.h), looked up through a hash table; CFG is borrowed and must outlive
 * it. It counts into METRICS (borrowed; NULL: metrics off). SEND(reply,
 * ARG) sends. NULL when out of memory. Free with dispatch_free(). */
struct dispatch *dispatch_new(xmpp_ctx_t *ctx, const struct config *cfg,
			      struct metrics *metrics, dispatch_send_fn send,
			      void *arg);

void dispatch_free(struct dispatch *d);

/* A dispatcher for another link (server.connect "all") that shares
 * FIRST's guard (rate limits, access rules, password budgets) and its
 * password-check worker, so the limits hold across links; SEND(reply,
 * ARG) sends its replies, and a request waiting for its hash is answered
 * by the dispatcher it came to. dispatch_watch() and dispatch_complete()
 * on either serve both. NULL when out of memory. Free it before FIRST. */
struct dispatch *dispatch_new_beside(struct dispatch *first,
				     dispatch_send_fn send, void *arg);

/* Decide and send what STANZA (borrowed) gets, or copy it to answer once
 * its password hash is done (DISPATCH_PENDING). */
enum dispatch_result dispatch_stanza(struct dispatch *d, xmpp_stanza_t *stanza);

/* An fd that is readable when password hashes have finished (poll it for
 * POLLIN and call dispatch_complete()), or -1 while none ever started. */
int dispatch_fd(const struct dispatch *d);

/* Send what the requests whose hash finished get, in the order the hashes
 * finished. Never blocks. */
void dispatch_complete(struct dispatch *d);

/* Call dispatch_complete() from LOOP (borrowed; must outlive D) whenever
 * hashes finish. Returns 0, or -1 when out of memory. */
int dispatch_watch(struct dispatch *d, struct loop *loop);

/* Fill OUT so a link hands D what it reads (link_set_upper()): stanzas
 * are dispatched; a skipped one is answered policy-violation and one read
 * while the link is stalled resource-constraint, from its tag alone;
 * requests in flight end with the stream. */
void dispatch_link_upper(struct dispatch *d, struct link_upper *out);

/* Requests waiting for a password hash (not counting abandoned ones). */
size_t dispatch_pending(const struct dispatch *d);

/* The stream these requests came on is ending: answer each waiting one
 * resource-constraint now (ANSWER), or forget it (the stream is gone);
 * their hashes finish on the worker and are dropped. */
void dispatch_abandon(struct dispatch *d, int answer);

/* ---- admin commands (XEP-0050, ext/commands.c) ---- */

/* What the owner of the event loop does for admin commands. */
struct dispatch_admin {
	/* Fill the process and link parts of OUT: pid, uptime, link state,
	 * server, link_up_s, tls, queue_bytes (dispatch adds its counters). */
	void (*status)(void *arg, struct ext_status *out);
	/* A command asks for ACTION (reload, restart, stop): do it as the
	 * matching signal would, then call dispatch_action_done(). */
	void (*act)(void *arg, enum ext_action action);
	void *arg;
};

/* Serve admin commands with ADMIN (copied; NULL: reload, restart and stop
 * are answered service-unavailable, and status has only dispatch's
 * counters: pid, uptime and the link stay 0 and empty). */
void dispatch_set_admin(struct dispatch *d, const struct dispatch_admin *admin);

/* The action asked for (if one waits) ended: OK, with OUTCOME (one line,
 * copied) for the admin. Sends the command's answer. No-op when none
 * waits. */
void dispatch_action_done(struct dispatch *d, int ok, const char *outcome);

/* Whether a command's action waits for dispatch_action_done(). */
int dispatch_action_waiting(const struct dispatch *d);

#endif
