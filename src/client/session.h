/* SPDX-License-Identifier: MIT */
/* session.h: ope-client's libstrophe session: connect, log in, send, wait, disconnect. */
#ifndef OPE_CLIENT_SESSION_H
#define OPE_CLIENT_SESSION_H

#include <stddef.h>

#include "opts.h"

/* Make SIGINT and SIGTERM stop a running session cleanly and ignore
 * SIGPIPE (strophe_compat_ignore_sigpipe()). Returns 0 or -1. */
int client_session_signals(void);

/* Log in as O->jid with O->password, send O's requests to O->to and judge
 * the replies, printing them; then close the stream. Returns the exit
 * status (enum client_exit). One session per process at a time. */
int client_session_run(const struct client_opts *o);

#endif
