/* SPDX-License-Identifier: MIT */
/* session.h: ope-client's libstrophe session: connect, log in, send, wait, disconnect. */
#ifndef OPE_CLIENT_SESSION_H
#define OPE_CLIENT_SESSION_H

#include <stddef.h>

#include "opts.h"

/* Make SIGINT and SIGTERM stop a running session cleanly and ignore
 * SIGPIPE (libstrophe sends without MSG_NOSIGNAL). Returns 0 or -1. */
int client_session_signals(void);

/* Log in as O->jid with O->password, send O's requests to O->to and judge
 * the replies, printing them; then close the stream. Returns the exit
 * status (enum client_exit). One session per process at a time. */
int client_session_run(const struct client_opts *o);

/* If MSG is libstrophe's log line of a received SASL <failure/>, copy its
 * condition (e.g. "not-authorized") into BUF (LEN bytes) and return 0;
 * else -1. */
int client_session_sasl_condition(const char *msg, char *buf, size_t len);

#endif
