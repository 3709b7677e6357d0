/* SPDX-License-Identifier: MIT */
/* strophe_compat.h: work-arounds for bugs in the libstrophe releases ope supports. */
#ifndef OPE_STROPHE_COMPAT_H
#define OPE_STROPHE_COMPAT_H

#include <strophe.h>

/* Make CONN (jid already set, not connected) safe for
 * xmpp_connect_component() on libstrophe 0.12.x, which crashes on the first
 * received stanza of a component connection otherwise. Sends no packet and
 * opens no connection; harmless on releases without the bug. Clears the
 * connection's sockopt callback. Returns 0, or -1 if the state could not be
 * set up (then connecting would crash: don't). */
int strophe_compat_prepare_component(xmpp_conn_t *conn);

#endif
