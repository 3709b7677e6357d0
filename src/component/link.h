/* SPDX-License-Identifier: MIT */
/* link.h: ope's XEP-0114 link to the server: connect, TLS, handshake, parse, dispatch, write, fail over, reconnect. */
#ifndef OPE_LINK_H
#define OPE_LINK_H

#include <strophe.h>

#include "component_exit.h"
#include "link_state.h"

struct config;
struct drain;
struct link;
struct metrics;

/* A link for CFG (borrowed; must outlive it; read through on every use, so
 * config_reload() may swap it in place) on CTX. Stanzas are answered
 * through the dispatch module, which counts into METRICS (borrowed; NULL:
 * off). NULL when out of memory, or when TLS cannot be set up (logged). */
struct link *link_new(xmpp_ctx_t *ctx, const struct config *cfg,
		      struct metrics *metrics);

/* Tell FN(ARG, state, detail) every link state change from now on (the
 * one hook; see link_state.h). */
void link_set_observer(struct link *l, link_state_fn fn, void *arg);

/* Start the first connection attempt. Returns 0, or -1 on an internal
 * error (logged). */
int link_start(struct link *l);

/* Wait at most TIMEOUT_MS for I/O or a timer, then do all that is due:
 * connect, read and answer, write, ping, back off. Returns early when a
 * signal arrives, so the caller can act on its flags. Returns 0, or -1 on
 * an internal error (the link is then stopped). */
int link_run_once(struct link *l, int timeout_ms);

/* Start draining (drain.h) on SIGTERM: queue D's unroute IQ and pass every
 * stanza read from now on to drain_on_stanza(D) (its answer is dropped,
 * requests are still answered). D is borrowed until link_stop(). Returns
 * 0, or -1 when the link is not up or the IQ cannot be built (D is then
 * not in use: close with link_stop()). */
int link_drain(struct link *l, struct drain *d);

/* Close the stream cleanly: no more requests are read, queued replies and
 * </stream:stream> are sent, and link_done() turns true when the server
 * closes its side (or at once if the link was not up). */
void link_stop(struct link *l);

/* True when the link is finished: stopped on request or refused for good. */
int link_done(const struct link *l);

/* The exit status the program should use once link_done(). */
enum component_exit link_exit_status(const struct link *l);

/* The current state. */
enum link_state link_get_state(const struct link *l);

/* Close the socket and release everything (no clean stream close). */
void link_free(struct link *l);

#endif
