/* SPDX-License-Identifier: MIT */
/* conn.h: the XEP-0114 connection to the server: connect, serve, back off, reconnect. */
#ifndef OPE_CONN_H
#define OPE_CONN_H

#include <strophe.h>

#include "component_exit.h"
#include "link_state.h"

struct config;
struct conn;
struct metrics;

/* A connection for CFG (borrowed, must outlive it) on CTX. Stanzas are
 * answered through the dispatch module, which counts into METRICS
 * (borrowed; NULL: off). NULL when out of memory. SIGHUP's config_reload()
 * rewrites *CFG in place between two xmpp_run_once() calls: read it afresh
 * each time, never keep pointers into it. */
struct conn *conn_new(xmpp_ctx_t *ctx, const struct config *cfg,
		      struct metrics *metrics);

/* Tell FN(ARG, state, detail) every link state change from now on. */
void conn_set_observer(struct conn *c, link_state_fn fn, void *arg);

/* Start connecting; failures are retried with back-off. Returns 0, or -1
 * when the connection object can't be set up. */
int conn_start(struct conn *c);

/* Close the stream cleanly (or cancel a pending retry); conn_done() turns
 * true once closed. */
void conn_stop(struct conn *c);

/* True when the connection is finished: stopped on request, or refused for
 * good by the server. */
int conn_done(const struct conn *c);

/* The exit status the program should use once conn_done(). */
enum component_exit conn_exit_status(const struct conn *c);

/* Release everything; disconnects first if still connected. */
void conn_free(struct conn *c);

#endif
