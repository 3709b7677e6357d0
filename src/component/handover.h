/* SPDX-License-Identifier: MIT */
/* handover.h: pass a live component link to a new ope-component process (SCM_RIGHTS over a local control socket). */
#ifndef OPE_HANDOVER_H
#define OPE_HANDOVER_H

#include <stddef.h>

/* What a new process needs to continue the same XEP-0114 stream. */
struct handover_link {
	int fd;                 /* the connected socket (plain TCP only) */
	char stream_id[256];    /* the server's stream id, for logs */
	char server[300];       /* "host:port" it is connected to, for logs */
	char domain[256];       /* the component domain the stream is for */
	unsigned server_index;  /* which entry of server.hosts */
	char *header;           /* the stream header to prime a parser with */
	size_t header_len;      /* (malloc'd; handover_link_clear frees) */
	char *unparsed;         /* bytes read past the last whole stanza */
	size_t unparsed_len;    /* (malloc'd; handover_link_clear frees) */
};

/* Release what L owns (header and unparsed bytes; not the fd) and zero it. */
void handover_link_clear(struct handover_link *l);

/* Listen on the unix socket PATH with mode 0600, replacing a stale socket
 * left by a dead process (never a live one, never a non-socket). Returns
 * the non-blocking listening fd, or -1 with "what, where, what to do" in
 * ERR (size ERRLEN). */
int handover_listen(const char *path, char *err, size_t errlen);

/* The new process: connect to the running one at PATH and ask for its
 * link. Returns a connected fd, or -1 with ERR filled (nobody listening,
 * permission denied, ...). */
int handover_request(const char *path, char *err, size_t errlen);

/* The old process, after accepting a request on FD: read the request
 * line, waiting at most TIMEOUT_MS. Returns 0 for a valid takeover request,
 * -1 otherwise (ERR filled). */
int handover_read_request(int fd, int timeout_ms, char *err, size_t errlen);

/* The old process: send L (its fd as SCM_RIGHTS, the rest as one framed
 * message) on FD. Returns 0, or -1 with ERR filled. The caller still owns
 * L->fd and must keep the stream open until handover_wait_ack() succeeds. */
int handover_send(int fd, const struct handover_link *l, char *err,
		  size_t errlen);

/* The old process, with no stream up (connecting or waiting to
 * reconnect): tell the new one to connect by itself. Returns 0 or -1;
 * wait for the answer with handover_wait_ack(). */
int handover_send_none(int fd);

/* The old process: decline the request on FD, with WHY (one line, for the
 * new process to print). Returns 0 or -1. */
int handover_refuse(int fd, const char *why);

/* The process at the other end of the connected unix socket FD, or -1. */
int handover_peer_pid(int fd);

/* The new process: receive a link on FD into L within TIMEOUT_MS. On
 * success returns 0 and L owns a new fd, the header and the unparsed
 * bytes, or L->fd is -1 when the old process had no stream up
 * (handover_send_none()); -2 when the old process refused (ERR holds its
 * reason); -1 with ERR filled otherwise. */
int handover_recv(int fd, struct handover_link *l, int timeout_ms, char *err,
		  size_t errlen);

/* The new process: tell the old one it has taken the link over (ACCEPTED
 * 1) or gives it back (0). Returns 0 or -1. */
int handover_ack(int fd, int accepted);

/* The old process: wait at most TIMEOUT_MS for the new one's answer.
 * Returns 1 when it took the link over, 0 when it gave it back, closed or
 * timed out (the old process then carries on serving). */
int handover_wait_ack(int fd, int timeout_ms);

#endif
