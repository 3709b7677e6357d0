/* SPDX-License-Identifier: MIT */
/* conn.h: the XEP-0114 connection to the server: connect, serve, back off, reconnect. */
#ifndef OPE_CONN_H
#define OPE_CONN_H

#include <strophe.h>

#include "component_exit.h"

struct config;
struct conn;

/* The link's states, as observers see them. */
enum conn_state {
	CONN_CONNECTING,  /* a connection attempt is under way */
	CONN_UP,          /* the server accepted the handshake */
	CONN_WAITING,     /* backing off before the next attempt */
	CONN_STOPPED,     /* finished: stopped on request or refused for good */
};

/* Told of every state change, with a one-line detail for humans, e.g.
 * "connected to 127.0.0.1:5347 as ope.example.org" or
 * "reconnecting in 4.0 s: cannot connect to 127.0.0.1:5347 (refused or closed)".
 * DETAIL is borrowed for the call. Must not call back into the conn. */
typedef void (*conn_state_fn)(void *arg, enum conn_state state,
			      const char *detail);

/* How many observers one connection takes. */
#define CONN_STATE_HOOKS 4

/* A connection for CFG (borrowed, must outlive it) on CTX. Stanzas are
 * answered through the dispatch module. NULL when out of memory. SIGHUP's
 * config_reload() rewrites *CFG in place between two xmpp_run_once() calls:
 * read it afresh each time, never keep pointers into it. */
struct conn *conn_new(xmpp_ctx_t *ctx, const struct config *cfg);

/* Add an observer of C's state changes (systemd notify, metrics, ...),
 * called in the order added. Returns 0, or -1 when CONN_STATE_HOOKS
 * observers are already attached. */
int conn_add_state_hook(struct conn *c, conn_state_fn fn, void *arg);

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
