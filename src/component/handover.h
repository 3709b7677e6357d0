/* SPDX-License-Identifier: MIT */
/* handover.h: pass a live component link to a new ope-component process (SCM_RIGHTS over a local control socket). */
#ifndef OPE_HANDOVER_H
#define OPE_HANDOVER_H

#include <stddef.h>
#include <sys/types.h>

/* What a new process needs to continue the same XEP-0114 stream. */
struct handover_link {
	int fd;                 /* the connected socket (plain TCP only) */
	char stream_id[256];    /* the server's stream id, for logs */
	char server[300];       /* "host:port" it is connected to, for logs */
	char domain[256];       /* the component domain the stream is for */
	unsigned server_index;  /* which entry of server.hosts */
	char instance[65];      /* the instance name the server knows the
	                           stream by (pool.h); "" from an older
	                           ope-component */
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

/* The new process: connect to the running one at PATH and, if it runs as
 * OURS (our effective uid) or root (handover_peer_check()), ask for its
 * link. Returns a connected fd, or -1 with ERR filled (nobody listening,
 * permission denied, another user's process, ...). */
int handover_request(const char *path, uid_t ours, char *err,
		     size_t errlen);

/* Whether the process at the other end of the connected unix socket FD
 * (SO_PEERCRED) runs as OURS or as root: the only ones a link may go to
 * or come from. Returns 0 if so; -1 otherwise, with "uid U (pid P) ..."
 * in ERR. *PID is set to its pid, or -1 if unknown. */
int handover_peer_check(int fd, uid_t ours, int *pid, char *err,
			size_t errlen);

/* The request line as it arrives on the old process's side. */
struct handover_request {
	char line[16];
	size_t got;
};

/* The old process: take what has arrived of the request line on the
 * non-blocking FD into R (zeroed before the first call), never waiting.
 * Returns 1 once a whole valid request is in, 0 while more is to come
 * (call again when FD turns readable), -1 for anything else (ERR: junk,
 * or closed before a whole request). */
int handover_read_request(int fd, struct handover_request *r, char *err,
			  size_t errlen);

/* The old process: send L (its fd as SCM_RIGHTS, the rest as one framed
 * message) on FD without waiting: the message must fit the socket's send
 * buffer (grown to fit it first). Returns 0, or -1 with ERR filled. The
 * caller still owns L->fd and must keep the stream open until
 * handover_read_ack() says it was taken. */
int handover_send(int fd, const struct handover_link *l, char *err,
		  size_t errlen);

/* The old process, with no stream up (connecting or waiting to
 * reconnect): tell the new one to connect by itself. Returns 0 or -1;
 * its answer comes through handover_read_ack(). */
int handover_send_none(int fd);

/* The old process: decline the request on FD, with WHY (one line, for the
 * new process to print), without waiting. Returns 0 or -1. */
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

/* The new process's answer, as the old process reads it. */
enum handover_answer {
	HANDOVER_NO_ANSWER,  /* nothing yet: look again when FD is readable */
	HANDOVER_TAKEN,      /* it took the link over */
	HANDOVER_GIVEN_BACK, /* it gave the link back, or hung up */
};

/* The old process: read the new one's answer on the non-blocking FD,
 * never waiting. */
enum handover_answer handover_read_ack(int fd);

/* The old process, giving up on an answer that did not come in time:
 * tell the new one that it keeps the link (so an answer it sent meanwhile
 * does not count), without waiting. Returns 0 or -1. */
int handover_keep(int fd);

/* The new process, after handover_ack(FD, 1): wait at most TIMEOUT_MS
 * for the old one to let go (it closes FD). Returns 1 once it let go, 0
 * when it said it keeps the link (handover_keep(): it serves on), -1 when
 * neither came in time. */
int handover_wait_let_go(int fd, int timeout_ms);

#endif
