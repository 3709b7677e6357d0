/* SPDX-License-Identifier: MIT */
/* link_state.h: the component link's states and the one observer hook that metrics and service managers attach to. */
#ifndef OPE_LINK_STATE_H
#define OPE_LINK_STATE_H

/* Where the link to the XMPP server stands. */
enum link_state {
	LINK_CONNECTING,   /* connecting or handshaking */
	LINK_UP,           /* the server accepted the handshake */
	LINK_WAITING,      /* down, a reconnect is scheduled (back-off) */
	LINK_STOPPED,      /* stopped on request or refused for good */
};

/* Called by the link on every state change, on the event-loop thread, with
 * a one-line human DETAIL valid for the call only, e.g. "connected to
 * 127.0.0.1:5347 as ope.example.org" or "reconnecting in 4.0 s: connection
 * refused". */
typedef void (*link_state_fn)(void *arg, enum link_state state,
			      const char *detail);

#endif
