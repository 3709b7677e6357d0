/* SPDX-License-Identifier: MIT */
/* link.h: ope's XEP-0114 link to the server, a transport: connect, TLS, handshake, parse into stanzas for one callback, write with back-pressure, fail over, reconnect. */
#ifndef OPE_LINK_H
#define OPE_LINK_H

#include <strophe.h>

#include "component_exit.h"
#include "link_state.h"
#include "resolve.h"

struct config;
struct xmlstream_skipped;
struct handover_link;
struct link;
struct loop;
struct metrics;

/* What the link hands up: one stanza read whole, or one the parser
 * skipped (over a limit, forged attributes: its tag's routing attributes
 * only). Valid for the call only. */
struct link_input {
	xmpp_stanza_t *stanza;                   /* NULL when skipped */
	const struct xmlstream_skipped *skipped; /* NULL when a stanza */
	/* The server has taken none of our output for a while although the
	 * queue is over limits.output_queue (it may be waiting for us to
	 * read): answer short instead of serving. QUEUED bytes wait, for
	 * STALLED_MS so far. */
	int stalled;
	size_t queued;
	unsigned stalled_ms;
	const char *server;                      /* "host:port", for logs */
};

/* The layer above the link (dispatch_link_upper()); any callback may be
 * NULL. */
struct link_upper {
	/* A stanza came: replies go back through link_send(). */
	void (*input)(void *arg, const struct link_input *in);
	/* The stream ends: requests still in flight are answered now
	 * (ANSWER: our close follows them) or forgotten (the stream is
	 * gone). */
	void (*ended)(void *arg, int answer);
	/* Whether replies are still owed (a takeover waits for none). */
	int (*owes)(void *arg);
	void *arg;
};

/* A link for CFG (borrowed; must outlive it; read through on every use, so
 * config_reload() may swap it in place) on CTX, driven by LOOP (borrowed;
 * must outlive it): the link registers its socket, its timers and its
 * reconnect timer there, so several links can share one loop. It counts
 * into METRICS (borrowed; NULL: off). NULL when out of memory, or when
 * TLS cannot be set up (logged). */
struct link *link_new(struct loop *loop, xmpp_ctx_t *ctx,
		      const struct config *cfg, struct metrics *metrics);

/* Hand what is read to UPPER (copied) from now on. Without it stanzas
 * are read and dropped. */
void link_set_upper(struct link *l, const struct link_upper *upper);

/* Queue STANZA (borrowed) for the server, serialised (xmlwrite.h); ARG is
 * the link (a dispatch_send_fn). Logged and dropped when out of memory. */
void link_send(xmpp_stanza_t *stanza, void *arg);

/* Tell FN(ARG, state, detail) every link state change from now on (the
 * one hook; see link_state.h). */
void link_set_observer(struct link *l, link_state_fn fn, void *arg);

/* Look server names up with FN (getaddrinfo's shape) instead of
 * getaddrinfo, from the next attempt on: for tests. */
void link_set_resolver(struct link *l, resolve_fn fn);

/* Connect to entry INDEX of server.hosts only (server.connect "all"):
 * reconnect there with back-off, never fail over to another entry. Call
 * before link_start(); INDEX must be below the number of entries. */
void link_pin(struct link *l, size_t index);

/* Count the link's output queue into ML (metrics.h; borrowed, owned by
 * the metrics) instead of the metrics' default link. */
struct metrics_link;
void link_set_metrics_link(struct link *l, struct metrics_link *ml);

/* Start the first connection attempt. Returns 0, or -1 on an internal
 * error (logged). */
int link_start(struct link *l);

/* Close the stream cleanly: no more requests are read, queued replies and
 * </stream:stream> are sent, and link_done() turns true when the server
 * closes its side (or at once if the link was not up). */
void link_stop(struct link *l);

/* True when the link is finished: stopped on request or refused for good. */
int link_done(const struct link *l);

/* The exit status the program should use once link_done(). */
enum component_exit link_exit_status(const struct link *l);

/* "host:port" of the server the link is on or tries next (IPv6 in
 * brackets); valid while L lives, changes on failover. */
const char *link_server(const struct link *l);

/* The current state. */
enum link_state link_get_state(const struct link *l);

/* ---- takeover: moving the live stream to another process ---- */

/* Why the link cannot be handed over now (static text), or NULL: a link
 * that is up can move (link_hold()), one still connecting or waiting to
 * reconnect has no stream to move. */
const char *link_why_not_movable(const struct link *l);

/* True when the stream is up (and not closing): there is one to move. */
int link_has_stream(const struct link *l);

/* Stop reading at the next stanza boundary (at once if the parser is at
 * one), answering what was read; pings stop. Returns 0, or -1 when the
 * link cannot move (link_why_not_movable()). */
int link_hold(struct link *l);

/* 1 once held still with every reply written, 0 while not yet, -1 when
 * the link went down or is not held. */
int link_held(const struct link *l);

/* Give up holding: read and serve on (a fresh parser continues from the
 * boundary). */
void link_unhold(struct link *l);

/* Fill H (cleared first; free with handover_link_clear()) with what a new
 * process needs; H->fd is borrowed from L. Returns 0, or -1 when not held
 * still or out of memory. */
int link_export(const struct link *l, struct handover_link *h);

/* The new process took the stream: close our copy of the socket without a
 * word to the server and finish (link_done(), exit 0; no state hook). */
void link_release(struct link *l);

/* Instead of link_start(): continue the stream in H as if this process
 * had opened it; H->fd is taken (becomes -1). The link does no I/O on it
 * and leaves H's unparsed bytes unread until link_resume() (the old
 * process has let go). Returns 0 (a loss found in those bytes then
 * reconnects as usual, from link_resume() on), or -1 with ERR
 * filled and L and H untouched (H is for another component.domain, or
 * out of memory). */
int link_adopt(struct link *l, struct handover_link *h, char *err,
	       size_t errlen);

/* ---- IQs of other modules to the server (pool.h, drain.h) ---- */

/* At most this many claimers per link (the pool and the drain today). */
#define LINK_CLAIMS_MAX 4

/* Offer each stanza read while up to FN(ARG, stanza) before it is
 * dispatched, in the order the claimers were added: FN returns 1 to take
 * it (the answer to an IQ it sent with link_send_raw(); the link then
 * drops it and asks no later claimer), 0 to let it through. Returns 0, or
 * -1 when LINK_CLAIMS_MAX are added already. */
typedef int (*link_claim_fn)(void *arg, xmpp_stanza_t *st);
int link_add_claim(struct link *l, link_claim_fn fn, void *arg);

/* Queue TEXT (one whole stanza, already escaped) to the server. Returns 0,
 * or -1 when the link is not up or out of memory. */
int link_send_raw(struct link *l, const char *text);

/* The old process let go of the stream link_adopt() took: parse the
 * bytes it left over now, then read, write and serve from the next turn
 * on. */
void link_resume(struct link *l);

/* Fill the link's part of OUT (ext.h): state, server, how long up, TLS,
 * output queue bytes. */
struct ext_status;
void link_status(const struct link *l, struct ext_status *out);

/* Close the socket and release everything (no clean stream close). */
void link_free(struct link *l);

#endif
