/* SPDX-License-Identifier: MIT */
/* conn.h: the XEP-0114 connection to the server: connect, serve, back off, reconnect. */
#ifndef OPE_CONN_H
#define OPE_CONN_H

#include <strophe.h>

#include "link_state.h"

struct config;
struct conn;
struct metrics;

/* Exit statuses of ope-component, documented in --help and README. */
enum conn_exit {
	CONN_EXIT_OK = 0,        /* stopped on request */
	CONN_EXIT_INTERNAL = 1,  /* out of memory, library failure */
	CONN_EXIT_CONFIG = 2,    /* usage or configuration error */
	CONN_EXIT_REFUSED = 3,   /* the server refused us for good */
};

/* A connection for CFG (borrowed, must outlive it) on CTX. Stanzas are
 * answered through the dispatch module, which counts into METRICS
 * (borrowed; NULL: off). NULL when out of memory. */
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
enum conn_exit conn_exit_status(const struct conn *c);

/* Release everything; disconnects first if still connected. */
void conn_free(struct conn *c);

#endif
