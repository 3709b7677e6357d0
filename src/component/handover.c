/* SPDX-License-Identifier: MIT */
/* handover.c: pass a live component link to a new ope-component process (SCM_RIGHTS over a local control socket). */
/* struct ucred (SO_PEERCRED) */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "handover.h"
#include "util.h"

#define REQUEST "OPE-TAKEOVER 1\n"
_Static_assert(sizeof(((struct handover_request *)0)->line) >=
	       sizeof(REQUEST) - 1, "struct handover_request holds REQUEST");
#define MAGIC 0x4f504548u          /* "OPEH" */
#define VERSION 3u
/* Version 2 (no instance name) is still accepted from an older
 * predecessor, so that a takeover can upgrade it; an older successor
 * refuses version 3 and its predecessor serves on. */
#define VERSION_NO_INSTANCE 2u
#define KIND_LINK 1u
#define KIND_REFUSAL 2u
#define KIND_NONE 3u
/* A stream header is one start tag; a refusal one line. */
#define HEADER_MAX 4096u
#define REASON_MAX 1024u
/* More than any read buffer can leave behind: a bigger claim is a bug. */
#define UNPARSED_MAX (16u << 20)
/* The one-byte answers: the new process's, and the old one's "I keep it"
 * once it stopped waiting for that. */
#define ACK_YES 'Y'
#define ACK_NO 'N'
#define KEEP 'K'
/* Bounds on the new process's own waits (the old one never waits). */
#define CONNECT_MS 5000
#define ACK_WRITE_MS 5000

/* The fixed part of the message; the blocks it announces follow it: for a
 * link the stream id, server, domain, header, unparsed bytes and (from
 * version 3 on) the instance name's length (4 bytes) and name (and its
 * fd rides along as SCM_RIGHTS); for a refusal only the reason, in
 * header_len. */
struct wire {
	uint32_t magic, version, kind, server_index;
	uint32_t id_len, server_len, domain_len, header_len, unparsed_len;
};

void handover_link_clear(struct handover_link *l)
{
	free(l->header);
	free(l->unparsed);
	memset(l, 0, sizeof(*l));
	l->fd = -1;
}

static int fill_addr(struct sockaddr_un *sa, const char *path, char *err,
		     size_t errlen)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path)) {
		snprintf(err, errlen, "control socket path '%s' is longer than "
			 "%zu bytes; choose a shorter one", path,
			 sizeof(sa->sun_path) - 1);
		return -1;
	}
	strcpy(sa->sun_path, path);
	return 0;
}

/* Wait until FD is ready for EVENTS; 1 ready, 0 timed out, -1 error. */
static int wait_fd(int fd, short events, int timeout_ms)
{
	return util_wait_fd(fd, events,
			    util_now_ns() + (uint64_t)timeout_ms * 1000000u);
}

int handover_listen(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa;
	struct stat st;
	mode_t old_mask;
	int fd, probe, rc;

	if (fill_addr(&sa, path, err, errlen) < 0)
		return -1;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "control socket path '%s' exists "
				 "and is not a socket; remove it or choose "
				 "another control.path", path);
			return -1;
		}
		/* A live process answers; only a dead one's socket goes. */
		probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe >= 0 && connect(probe, (struct sockaddr *)&sa,
					  sizeof(sa)) == 0) {
			close(probe);
			snprintf(err, errlen, "another ope-component is "
				 "listening on %s; stop it, or start this one "
				 "with --takeover to take its link over", path);
			return -1;
		}
		if (probe >= 0)
			close(probe);
		unlink(path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create the control socket: %s",
			 strerror(errno));
		return -1;
	}
	/* Created 0600 from the start: no window where others may connect. */
	old_mask = umask(0177);
	rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old_mask);
	if (rc < 0 || listen(fd, 4) < 0) {
		snprintf(err, errlen, "cannot listen on control socket %s: %s "
			 "(does its directory exist and is it writable?)", path,
			 strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int handover_request(const char *path, uid_t ours, char *err,
		     size_t errlen)
{
	struct sockaddr_un sa;
	struct timeval tv = { .tv_sec = CONNECT_MS / 1000 };
	char who[200];
	int fd, pid;

	if (fill_addr(&sa, path, err, errlen) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create a socket: %s", strerror(errno));
		return -1;
	}
	/* Bounds connect() too, should the old process's backlog be full. */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		snprintf(err, errlen, "cannot reach a running ope-component on "
			 "control socket %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	/* Not a word to a process that is not ours: it would get our
	 * stream's traffic. */
	if (handover_peer_check(fd, ours, &pid, who, sizeof(who)) < 0) {
		snprintf(err, errlen, "the process listening on control socket "
			 "%s is %s; not asking it for its link (keep the "
			 "socket's directory private to the service's user)",
			 path, who);
		close(fd);
		return -1;
	}
	if (send(fd, REQUEST, strlen(REQUEST), MSG_NOSIGNAL) !=
	    (ssize_t)strlen(REQUEST)) {
		snprintf(err, errlen, "cannot send the takeover request on %s: "
			 "%s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int handover_peer_check(int fd, uid_t ours, int *pid, char *err,
			size_t errlen)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	*pid = -1;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		snprintf(err, errlen, "unknown (SO_PEERCRED: %s)",
			 strerror(errno));
		return -1;
	}
	if (cred.pid > 0)
		*pid = (int)cred.pid;
	if (cred.uid == ours || cred.uid == 0)
		return 0;
	snprintf(err, errlen, "uid %u (pid %d), neither ours (uid %u) nor "
		 "root", (unsigned)cred.uid, (int)cred.pid, (unsigned)ours);
	return -1;
}

/* Read exactly LEN bytes within TIMEOUT_MS (per wait). 0 or -1. */
static int read_full(int fd, void *buf, size_t len, int timeout_ms)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n;

		if (wait_fd(fd, POLLIN, timeout_ms) <= 0)
			return -1;
		n = recv(fd, (char *)buf + got, len - got, 0);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

/* Write LEN bytes, waiting at most TIMEOUT_MS for room each time (0:
 * never). 0 or -1. */
static int write_full(int fd, const void *buf, size_t len, int timeout_ms)
{
	size_t put = 0;

	while (put < len) {
		ssize_t n = send(fd, (const char *)buf + put, len - put,
				 MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			if (timeout_ms == 0 ||
			    wait_fd(fd, POLLOUT, timeout_ms) <= 0)
				return -1;
			continue;
		}
		if (n <= 0)
			return -1;
		put += (size_t)n;
	}
	return 0;
}

int handover_read_request(int fd, struct handover_request *r, char *err,
			  size_t errlen)
{
	size_t want = strlen(REQUEST);

	while (r->got < want) {
		ssize_t n = recv(fd, r->line + r->got, want - r->got,
				 MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n <= 0) {
			snprintf(err, errlen, "it hung up before a whole "
				 "takeover request (%zu of %zu bytes)", r->got,
				 want);
			return -1;
		}
		/* Junk is refused at its first byte, not after a wait. */
		if (memcmp(r->line + r->got, REQUEST + r->got, (size_t)n) != 0) {
			snprintf(err, errlen, "unknown request");
			return -1;
		}
		r->got += (size_t)n;
	}
	return 1;
}

/* Send W, with FD (>= 0) as SCM_RIGHTS, then the blocks it announces;
 * never waits for room (the old process's loop must not stall). */
static int send_frame(int sock, const struct wire *w, int fd,
		      const void *const blocks[], const uint32_t lens[],
		      size_t nblocks)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct wire copy = *w;
	struct iovec iov = { .iov_base = &copy, .iov_len = sizeof(copy) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;
	ssize_t n;
	size_t i;

	if (fd >= 0) {
		memset(&ctl, 0, sizeof(ctl));
		msg.msg_control = ctl.buf;
		msg.msg_controllen = sizeof(ctl.buf);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	do
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(copy))
		return -1;
	for (i = 0; i < nblocks; i++)
		if (write_full(sock, blocks[i], lens[i], 0) < 0)
			return -1;
	return 0;
}

int handover_send(int fd, const struct handover_link *l, char *err,
		  size_t errlen)
{
	struct wire w = {
		.magic = MAGIC, .version = VERSION, .kind = KIND_LINK,
		.server_index = l->server_index,
		.id_len = (uint32_t)strlen(l->stream_id),
		.server_len = (uint32_t)strlen(l->server),
		.domain_len = (uint32_t)strlen(l->domain),
		.header_len = (uint32_t)l->header_len,
		.unparsed_len = (uint32_t)l->unparsed_len,
	};
	uint32_t instance_len = (uint32_t)strnlen(l->instance,
						   sizeof(l->instance) - 1);
	const void *blocks[] = { l->stream_id, l->server, l->domain,
				 l->header, l->unparsed, &instance_len,
				 l->instance };
	const uint32_t lens[] = { w.id_len, w.server_len, w.domain_len,
				  w.header_len, w.unparsed_len,
				  sizeof(instance_len), instance_len };
	size_t total = sizeof(w) + w.id_len + w.server_len + w.domain_len +
		       l->header_len + l->unparsed_len +
		       sizeof(instance_len) + instance_len;
	socklen_t optlen = sizeof(int);
	int have = 0, want;

	if (l->unparsed_len > UNPARSED_MAX || l->header_len > HEADER_MAX ||
	    l->fd < 0) {
		snprintf(err, errlen, "internal error: a link with %zu unparsed "
			 "and %zu header bytes to hand over", l->unparsed_len,
			 l->header_len);
		return -1;
	}
	/* Room for all of it at once (the kernel may cap it below that;
	 * then the send fails instead of waiting). */
	if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &have, &optlen) == 0 &&
	    (size_t)have < 2 * total) {
		want = (int)(2 * total);
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &want, sizeof(want));
	}
	if (send_frame(fd, &w, l->fd, blocks, lens, ARRAY_SIZE(lens)) < 0) {
		snprintf(err, errlen, "cannot pass the link to the new process: "
			 "%s", strerror(errno));
		return -1;
	}
	return 0;
}

int handover_refuse(int fd, const char *why)
{
	size_t len = strlen(why);
	struct wire w = { .magic = MAGIC, .version = VERSION,
			  .kind = KIND_REFUSAL };
	const void *blocks[] = { why };
	uint32_t lens[1];

	if (len > REASON_MAX)
		len = REASON_MAX;
	lens[0] = w.header_len = (uint32_t)len;
	return send_frame(fd, &w, -1, blocks, lens, 1);
}

int handover_send_none(int fd)
{
	struct wire w = { .magic = MAGIC, .version = VERSION,
			  .kind = KIND_NONE };

	return send_frame(fd, &w, -1, NULL, NULL, 0);
}

int handover_peer_pid(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
	    cred.pid <= 0)
		return -1;
	return (int)cred.pid;
}

/* Read a block of LEN bytes into a new buffer (*OUT; NULL for 0 bytes).
 * 0 or -1. */
static int read_block(int fd, char **out, size_t len, int timeout_ms)
{
	*out = NULL;
	if (len == 0)
		return 0;
	if ((*out = malloc(len + 1)) == NULL)
		return -1;
	(*out)[len] = '\0';
	return read_full(fd, *out, len, timeout_ms);
}

static int recv_refusal(int fd, const struct wire *w, int timeout_ms,
			char *err, size_t errlen)
{
	char *why = NULL;

	if (w->header_len > REASON_MAX ||
	    read_block(fd, &why, w->header_len, timeout_ms) < 0)
		snprintf(err, errlen, "the running ope-component refused "
			 "(its reason was cut short)");
	else
		snprintf(err, errlen, "%s", why ? why : "no reason given");
	free(why);
	return -2;
}

int handover_recv(int fd, struct handover_link *l, int timeout_ms, char *err,
		  size_t errlen)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct wire w;
	struct iovec iov = { .iov_base = &w, .iov_len = sizeof(w) };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
	};
	struct cmsghdr *c;
	uint32_t instance_len = 0;
	ssize_t n;
	int known;

	memset(l, 0, sizeof(*l));
	l->fd = -1;
	if (wait_fd(fd, POLLIN, timeout_ms) <= 0) {
		snprintf(err, errlen, "the running ope-component did not hand "
			 "its link over within %d ms", timeout_ms);
		return -1;
	}
	do
		n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC | MSG_WAITALL);
	while (n < 0 && errno == EINTR);
	c = n > 0 ? CMSG_FIRSTHDR(&msg) : NULL;
	if (c != NULL && c->cmsg_level == SOL_SOCKET &&
	    c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int)))
		memcpy(&l->fd, CMSG_DATA(c), sizeof(int));
	if (n == 0) {
		snprintf(err, errlen, "the running ope-component closed the "
			 "control connection without an answer");
		goto fail;
	}
	known = w.version == VERSION || w.version == VERSION_NO_INSTANCE;
	if (n == (ssize_t)sizeof(w) && w.magic == MAGIC && known &&
	    w.kind == KIND_REFUSAL && l->fd < 0)
		return recv_refusal(fd, &w, timeout_ms, err, errlen);
	if (n == (ssize_t)sizeof(w) && w.magic == MAGIC && known &&
	    w.kind == KIND_NONE && l->fd < 0)
		return 0;
	if (n != (ssize_t)sizeof(w) || l->fd < 0 || w.magic != MAGIC ||
	    !known || w.kind != KIND_LINK ||
	    w.id_len >= sizeof(l->stream_id) ||
	    w.server_len >= sizeof(l->server) ||
	    w.domain_len >= sizeof(l->domain) || w.header_len > HEADER_MAX ||
	    w.unparsed_len > UNPARSED_MAX) {
		snprintf(err, errlen, "the running ope-component answered "
			 "with something that is not a link (a different "
			 "version of ope-component?)");
		goto fail;
	}
	l->server_index = w.server_index;
	l->header_len = w.header_len;
	l->unparsed_len = w.unparsed_len;
	if (read_full(fd, l->stream_id, w.id_len, timeout_ms) < 0 ||
	    read_full(fd, l->server, w.server_len, timeout_ms) < 0 ||
	    read_full(fd, l->domain, w.domain_len, timeout_ms) < 0 ||
	    read_block(fd, &l->header, w.header_len, timeout_ms) < 0 ||
	    read_block(fd, &l->unparsed, w.unparsed_len, timeout_ms) < 0 ||
	    (w.version == VERSION &&
	     (read_full(fd, &instance_len, sizeof(instance_len),
			timeout_ms) < 0 ||
	      instance_len >= sizeof(l->instance) ||
	      read_full(fd, l->instance, instance_len, timeout_ms) < 0))) {
		snprintf(err, errlen, "the link's state was cut short (or out "
			 "of memory)");
		goto fail;
	}
	l->instance[instance_len] = '\0';
	l->stream_id[w.id_len] = '\0';
	l->server[w.server_len] = '\0';
	l->domain[w.domain_len] = '\0';
	return 0;
fail:
	if (l->fd >= 0)
		close(l->fd);
	handover_link_clear(l);
	return -1;
}

int handover_ack(int fd, int accepted)
{
	char c = accepted ? ACK_YES : ACK_NO;

	return write_full(fd, &c, 1, ACK_WRITE_MS);
}

enum handover_answer handover_read_ack(int fd)
{
	char c = 0;
	ssize_t n;

	do
		n = recv(fd, &c, 1, MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return HANDOVER_NO_ANSWER;
	return n == 1 && c == ACK_YES ? HANDOVER_TAKEN : HANDOVER_GIVEN_BACK;
}

int handover_keep(int fd)
{
	char c = KEEP;

	return write_full(fd, &c, 1, 0);
}

int handover_wait_let_go(int fd, int timeout_ms)
{
	uint64_t until = util_now_ms() + (uint64_t)timeout_ms;
	char c;

	for (;;) {
		uint64_t now = util_now_ms();
		ssize_t n;

		if (now >= until || wait_fd(fd, POLLIN, (int)(until - now)) <= 0)
			return -1;
		n = recv(fd, &c, 1, MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		/* It closes once it let go, or says it keeps the link (an
		 * error: it is gone either way, and the stream ours). */
		return n == 1 && c == KEEP ? 0 : 1;
	}
}
