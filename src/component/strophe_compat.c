/* SPDX-License-Identifier: MIT */
/* strophe_compat.c: work-arounds for bugs in the libstrophe releases ope supports. */
#include "log.h"
#include "strophe_compat.h"

static int refuse_socket(xmpp_conn_t *conn, void *sock)
{
	(void)conn;
	(void)sock;
	return -1;
}

/*
 * libstrophe 0.12.2 allocates a connection's XEP-0198 stream management
 * state (conn->sm_state) only in xmpp_connect_client(), yet dereferences it
 * for every received stanza, every send and on disconnect, whatever kind of
 * connection it is: a component connection dies with SIGSEGV right after
 * <handshake/>. The state is allocated near the start of
 * xmpp_connect_client(), before the socket is configured, and nothing frees
 * it until the connection object is released. So: one client connect whose
 * socket-options callback refuses the socket. libstrophe closes the socket
 * before connect(2) is called, returns an error, and leaves the state behind
 * for the component connect that follows. The target is a numeric loopback
 * address so no name is resolved either.
 */
int strophe_compat_prepare_component(xmpp_conn_t *conn)
{
	int rc;

	xmpp_conn_set_sockopt_callback(conn, refuse_socket);
	rc = xmpp_connect_client(conn, "127.0.0.1", 9, NULL, NULL);
	xmpp_conn_set_sockopt_callback(conn, NULL);
	if (rc == XMPP_EMEM || rc == XMPP_EINVOP) {
		log_error("libstrophe work-around failed (%s)",
			  rc == XMPP_EMEM ? "out of memory" : "no JID set");
		return -1;
	}
	if (rc == XMPP_EOK) {
		/* A libstrophe that ignored the callback: undo the attempt. */
		xmpp_disconnect(conn);
		log_error("libstrophe work-around: the preparatory connect was not "
			  "refused; this libstrophe is not supported");
		return -1;
	}
	return 0;
}
