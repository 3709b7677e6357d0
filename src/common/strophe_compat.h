/* SPDX-License-Identifier: MIT */
/* strophe_compat.h: what ope works around in libstrophe 0.12 (Debian bookworm's 0.12.2), in one place. */
#ifndef OPE_STROPHE_COMPAT_H
#define OPE_STROPHE_COMPAT_H

#include <stddef.h>

/* Ignore SIGPIPE: libstrophe calls send() without MSG_NOSIGNAL, so a peer
 * that resets the connection with data queued kills the process (exit
 * 141). Returns 0, or -1 with errno from sigaction(). */
int strophe_compat_ignore_sigpipe(void);

/* If libstrophe's log line MSG may carry a secret (a handshake digest, a
 * SASL exchange, a service password), the number of bytes at its start
 * that can be shown (up to and including the mark that gave it away);
 * else 0. */
size_t strophe_compat_secret_at(const char *msg);

/* If MSG is libstrophe's log line of a received SASL <failure/>, copy its
 * condition (e.g. "not-authorized") into BUF (LEN bytes) and return 0;
 * else -1. The log is the only place libstrophe 0.12 shows it. */
int strophe_compat_sasl_condition(const char *msg, char *buf, size_t len);

#endif
