/* SPDX-License-Identifier: MIT */
/* test_handover.c: passing a live link between processes: fd, stream state, leftover bytes, acks, the control socket. */
/* setgroups() */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <CUnit/CUnit.h>

#include "handover.h"
#include "testutil.h"

static void test_pass_link(void)
{
	struct handover_link out = { .fd = -1 }, in;
	int sv[2], pipefd[2];
	char err[256] = "", buf[16] = "";
	char leftover[] = "<message to='x'";
	char header[] = "<stream:stream xmlns='jabber:component:accept'>";

	CU_ASSERT_EQUAL_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	CU_ASSERT_EQUAL_FATAL(pipe(pipefd), 0);
	out.fd = pipefd[1];
	strcpy(out.stream_id, "abc-123");
	strcpy(out.server, "127.0.0.1:5347");
	strcpy(out.domain, "ope.example.org");
	out.server_index = 2;
	strcpy(out.instance, "node-1");
	out.unparsed = leftover;
	out.unparsed_len = strlen(out.unparsed);
	out.header = header;
	out.header_len = strlen(header);
	CU_ASSERT_EQUAL(handover_send(sv[0], &out, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(handover_recv(sv[1], &in, 1000, err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(err, "");
	CU_ASSERT_STRING_EQUAL(in.stream_id, "abc-123");
	CU_ASSERT_STRING_EQUAL(in.server, "127.0.0.1:5347");
	CU_ASSERT_STRING_EQUAL(in.domain, "ope.example.org");
	CU_ASSERT_EQUAL(in.server_index, 2);
	CU_ASSERT_STRING_EQUAL(in.instance, "node-1");
	CU_ASSERT_EQUAL_FATAL(in.unparsed_len, out.unparsed_len);
	CU_ASSERT(memcmp(in.unparsed, out.unparsed, in.unparsed_len) == 0);
	CU_ASSERT_EQUAL_FATAL(in.header_len, strlen(header));
	CU_ASSERT(memcmp(in.header, header, in.header_len) == 0);
	/* The received fd is the same pipe: what goes in comes out. */
	CU_ASSERT_FATAL(in.fd >= 0 && in.fd != pipefd[1]);
	CU_ASSERT_EQUAL(write(in.fd, "hi", 2), 2);
	CU_ASSERT_EQUAL(read(pipefd[0], buf, sizeof(buf)), 2);
	CU_ASSERT_STRING_EQUAL(buf, "hi");
	/* Acks both ways. */
	CU_ASSERT_EQUAL(handover_read_ack(sv[0]), HANDOVER_NO_ANSWER);
	CU_ASSERT_EQUAL(handover_ack(sv[1], 1), 0);
	CU_ASSERT_EQUAL(handover_read_ack(sv[0]), HANDOVER_TAKEN);
	CU_ASSERT_EQUAL(handover_ack(sv[1], 0), 0);
	CU_ASSERT_EQUAL(handover_read_ack(sv[0]), HANDOVER_GIVEN_BACK);
	close(in.fd);
	handover_link_clear(&in);
	CU_ASSERT_EQUAL(in.fd, -1);
	CU_ASSERT_PTR_NULL(in.unparsed);
	close(pipefd[0]);
	close(pipefd[1]);
	close(sv[0]);
	/* The peer gone: no ack, no link, and no hang. */
	CU_ASSERT_EQUAL(handover_read_ack(sv[1]), HANDOVER_GIVEN_BACK);
	CU_ASSERT_EQUAL(handover_recv(sv[1], &in, 1000, err, sizeof(err)), -1);
	close(sv[1]);
}

static void test_empty_unparsed_and_timeout(void)
{
	struct handover_link out = { .fd = -1 }, in;
	int sv[2];
	char err[256] = "";

	CU_ASSERT_EQUAL_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	/* Nothing sent yet: a bounded wait, then a clear error. */
	CU_ASSERT_EQUAL(handover_recv(sv[1], &in, 50, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "did not hand its link over"));
	CU_ASSERT_EQUAL(handover_read_ack(sv[0]), HANDOVER_NO_ANSWER);
	out.fd = sv[0];
	CU_ASSERT_EQUAL(handover_send(sv[0], &out, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(handover_recv(sv[1], &in, 1000, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(in.unparsed_len, 0);
	CU_ASSERT_PTR_NULL(in.unparsed);
	CU_ASSERT_STRING_EQUAL(in.stream_id, "");
	if (in.fd >= 0)
		close(in.fd);
	handover_link_clear(&in);
	close(sv[0]);
	close(sv[1]);
}

static void test_refusal_and_nothing(void)
{
	struct handover_link in;
	int sv[2];
	char err[256] = "", why[2000];

	CU_ASSERT_EQUAL_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	CU_ASSERT_EQUAL(handover_peer_pid(sv[1]), (int)getpid());
	/* A refusal carries its reason, and no fd. */
	CU_ASSERT_EQUAL(handover_refuse(sv[0], "takeover refused: TLS"), 0);
	CU_ASSERT_EQUAL(handover_recv(sv[1], &in, 1000, err, sizeof(err)), -2);
	CU_ASSERT_STRING_EQUAL(err, "takeover refused: TLS");
	CU_ASSERT_EQUAL(in.fd, -1);
	/* An overlong reason is cut, not trusted. */
	memset(why, 'w', sizeof(why) - 1);
	why[sizeof(why) - 1] = '\0';
	CU_ASSERT_EQUAL(handover_refuse(sv[0], why), 0);
	CU_ASSERT_EQUAL(handover_recv(sv[1], &in, 1000, err, sizeof(err)), -2);
	CU_ASSERT(strlen(err) < sizeof(err) && err[0] == 'w');
	/* No stream up: success without an fd. */
	CU_ASSERT_EQUAL(handover_send_none(sv[0]), 0);
	CU_ASSERT_EQUAL(handover_recv(sv[1], &in, 1000, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(in.fd, -1);
	CU_ASSERT_PTR_NULL(in.header);
	handover_link_clear(&in);
	close(sv[0]);
	/* Closed without a word. */
	CU_ASSERT_EQUAL(handover_recv(sv[1], &in, 1000, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "without an answer"));
	close(sv[1]);
}

static void test_garbage_is_not_a_link(void)
{
	struct handover_link in;
	int sv[2];
	struct handover_request req = { .got = 0 };
	char err[256] = "", junk[64];

	memset(junk, 'x', sizeof(junk));
	CU_ASSERT_EQUAL_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	CU_ASSERT_EQUAL(write(sv[0], junk, sizeof(junk)), (ssize_t)sizeof(junk));
	CU_ASSERT_EQUAL(handover_recv(sv[1], &in, 1000, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "not a link"));
	CU_ASSERT_EQUAL(in.fd, -1);
	CU_ASSERT_EQUAL(handover_read_request(sv[1], &req, err, sizeof(err)),
			-1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "unknown request"));
	close(sv[0]);
	close(sv[1]);
}

/* Send a link message as ope-component writes it: VERSION's fixed part
 * (handover.c's struct wire) with FD, then BODY. */
static void send_raw_link(int sock, uint32_t version, int fd,
			  const uint32_t lens[5], const char *body, size_t n)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	uint32_t w[9] = { 0x4f504548u, version, 1, 0,
			  lens[0], lens[1], lens[2], lens[3], lens[4] };
	struct iovec iov = { .iov_base = w, .iov_len = sizeof(w) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = ctl.buf,
			      .msg_controllen = sizeof(ctl.buf) };
	struct cmsghdr *c;

	memset(&ctl, 0, sizeof(ctl));
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	CU_ASSERT_EQUAL(sendmsg(sock, &msg, 0), (ssize_t)sizeof(w));
	CU_ASSERT_EQUAL(write(sock, body, n), (ssize_t)n);
}

/* A predecessor of version 2 passes no instance name: taken, with none
 * (a takeover can upgrade it). Version 3 claiming a name longer than 64
 * bytes is refused, not read into the struct. */
static void test_version2_and_long_instance(void)
{
	static const uint32_t lens[5] = { 2, 3, 3, 0, 0 };
	struct handover_link in;
	int sv[2], pipefd[2];
	char err[256] = "", body[64];
	uint32_t big = 1000;

	CU_ASSERT_EQUAL_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	CU_ASSERT_EQUAL_FATAL(pipe(pipefd), 0);
	send_raw_link(sv[0], 2, pipefd[1], lens, "idh:1c.x", 8);
	CU_ASSERT_EQUAL(handover_recv(sv[1], &in, 1000, err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(in.stream_id, "id");
	CU_ASSERT_STRING_EQUAL(in.server, "h:1");
	CU_ASSERT_STRING_EQUAL(in.domain, "c.x");
	CU_ASSERT_STRING_EQUAL(in.instance, "");
	if (in.fd >= 0)
		close(in.fd);
	handover_link_clear(&in);

	memcpy(body, "idh:1c.x", 8);
	memcpy(body + 8, &big, sizeof(big));
	send_raw_link(sv[0], 3, pipefd[1], lens, body, 8 + sizeof(big));
	CU_ASSERT_EQUAL(handover_recv(sv[1], &in, 1000, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "cut short"));
	CU_ASSERT_EQUAL(in.fd, -1);
	close(pipefd[0]);
	close(pipefd[1]);
	close(sv[0]);
	close(sv[1]);
}

/* Accept on the non-blocking LFD, waiting up to 10 s. */
static int accept_one(int lfd)
{
	struct pollfd p = { .fd = lfd, .events = POLLIN };

	if (poll(&p, 1, 10000) != 1)
		return -1;
	return accept(lfd, NULL, NULL);
}

static void test_control_socket(void)
{
	char dir[] = "/tmp/ope-unit-XXXXXX", path[64], err[256] = "";
	struct handover_request req = { .got = 0 };
	struct stat st;
	int lfd, cfd, afd, other;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/ctl", dir);
	/* Nobody there yet. */
	CU_ASSERT_EQUAL(handover_request(path, geteuid(), err, sizeof(err)),
			-1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "cannot reach a running"));
	lfd = handover_listen(path, err, sizeof(err));
	CU_ASSERT_FATAL(lfd >= 0);
	CU_ASSERT_EQUAL(stat(path, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 0777, 0600);
	/* A live listener is never replaced. */
	other = handover_listen(path, err, sizeof(err));
	CU_ASSERT_EQUAL(other, -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "another ope-component"));
	/* That probe connected and hung up without a request: the old
	 * process sees it as a refused request, then the real one. */
	afd = accept_one(lfd);
	CU_ASSERT_FATAL(afd >= 0);
	CU_ASSERT_EQUAL(handover_read_request(afd, &req, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "hung up"));
	close(afd);
	cfd = handover_request(path, geteuid(), err, sizeof(err));
	CU_ASSERT_FATAL(cfd >= 0);
	afd = accept_one(lfd);
	CU_ASSERT_FATAL(afd >= 0);
	memset(&req, 0, sizeof(req));
	CU_ASSERT_EQUAL(handover_read_request(afd, &req, err, sizeof(err)), 1);
	close(afd);
	close(cfd);
	close(lfd);
	/* The dead process's socket is stale: replaced. */
	lfd = handover_listen(path, err, sizeof(err));
	CU_ASSERT(lfd >= 0);
	if (lfd >= 0)
		close(lfd);
	unlink(path);
	/* Not a socket: refused, left alone. */
	fclose(fopen(path, "w"));
	CU_ASSERT_EQUAL(handover_listen(path, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "is not a socket"));
	CU_ASSERT_EQUAL(access(path, F_OK), 0);
	unlink(path);
	rmdir(dir);
}

/* The old process reads the request as it comes, never waiting: a
 * client that sends part of it, or nothing, costs no time. */
static void test_request_in_pieces(void)
{
	struct handover_request req = { .got = 0 };
	char err[256] = "";
	int sv[2];

	CU_ASSERT_EQUAL_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	/* Blocking sockets: a wait would hang this test, not slow it. */
	CU_ASSERT_EQUAL(handover_read_request(sv[1], &req, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(write(sv[0], "OPE-TAK", 7), 7);
	CU_ASSERT_EQUAL(handover_read_request(sv[1], &req, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(handover_read_request(sv[1], &req, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(write(sv[0], "EOVER 1\n", 8), 8);
	CU_ASSERT_EQUAL(handover_read_request(sv[1], &req, err, sizeof(err)), 1);
	/* Junk after a good start: refused at once. */
	memset(&req, 0, sizeof(req));
	CU_ASSERT_EQUAL(write(sv[0], "OPE-TAKX", 8), 8);
	CU_ASSERT_EQUAL(handover_read_request(sv[1], &req, err, sizeof(err)),
			-1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "unknown request"));
	close(sv[0]);
	close(sv[1]);
	/* Hung up half-way. */
	CU_ASSERT_EQUAL_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	memset(&req, 0, sizeof(req));
	CU_ASSERT_EQUAL(write(sv[0], "OPE-", 4), 4);
	close(sv[0]);
	CU_ASSERT_EQUAL(handover_read_request(sv[1], &req, err, sizeof(err)),
			-1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "4 of 15 bytes"));
	close(sv[1]);
}

/* After its yes, the new process learns whether the old one let go
 * (closed) or kept the link because it had stopped waiting. */
static void test_let_go_or_keep(void)
{
	int sv[2];

	CU_ASSERT_EQUAL_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	CU_ASSERT_EQUAL(handover_wait_let_go(sv[1], 50), -1);
	CU_ASSERT_EQUAL(handover_keep(sv[0]), 0);
	CU_ASSERT_EQUAL(handover_wait_let_go(sv[1], 1000), 0);
	close(sv[0]);
	close(sv[1]);
	CU_ASSERT_EQUAL_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	close(sv[0]);
	CU_ASSERT_EQUAL(handover_wait_let_go(sv[1], 1000), 1);
	close(sv[1]);
}

#define NOBODY 65534

/* In a child: become NOBODY. 0 or -1. */
static int become_nobody(void)
{
	return setgroups(0, NULL) == 0 && setgid(NOBODY) == 0 &&
	       setuid(NOBODY) == 0 ? 0 : -1;
}

/* Another user at the other end of the control socket, both ways: the
 * old process refuses its request (naming uid and pid), the new process
 * does not ask it for a link. As root the other user is nobody (a child
 * process); otherwise "ours" is made another uid than the caller's. */
static void test_peer_credentials(void)
{
	char dir[] = "/tmp/ope-unit-XXXXXX", path[64], err[256] = "";
	char want[64], c;
	int sv[2], lfd, afd, cfd, pid, status;
	uid_t ours = geteuid(), other_ours = ours + 1;
	pid_t child;

	/* Our own kind: allowed, and its pid known. */
	CU_ASSERT_EQUAL_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	CU_ASSERT_EQUAL(handover_peer_check(sv[0], ours, &pid, err,
					    sizeof(err)), 0);
	CU_ASSERT_EQUAL(pid, (int)getpid());
	close(sv[0]);
	close(sv[1]);
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/ctl", dir);
	if (ours != 0) {
		/* Not root: we play the other user. */
		lfd = handover_listen(path, err, sizeof(err));
		CU_ASSERT_FATAL(lfd >= 0);
		CU_ASSERT_EQUAL(handover_request(path, other_ours, err,
						 sizeof(err)), -1);
		snprintf(want, sizeof(want), "uid %u (pid %d)", (unsigned)ours,
			 (int)getpid());
		CU_ASSERT_PTR_NOT_NULL(strstr(err, want));
		afd = accept_one(lfd);
		CU_ASSERT_FATAL(afd >= 0);
		/* Not a byte was sent to it. */
		CU_ASSERT_EQUAL(read(afd, &c, 1), 0);
		CU_ASSERT_EQUAL(handover_peer_check(afd, other_ours, &pid, err,
						    sizeof(err)), -1);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, want));
		close(afd);
		close(lfd);
		unlink(path);
		rmdir(dir);
		return;
	}
	/* Root: nobody asks us... (the socket made reachable to it, as a
	 * careless mode or directory would). */
	lfd = handover_listen(path, err, sizeof(err));
	CU_ASSERT_FATAL(lfd >= 0);
	CU_ASSERT_EQUAL(chmod(dir, 0711), 0);
	CU_ASSERT_EQUAL(chmod(path, 0666), 0);
	child = fork();
	CU_ASSERT_FATAL(child >= 0);
	if (child == 0) {
		if (become_nobody() < 0)
			_exit(2);
		cfd = handover_request(path, NOBODY, err, sizeof(err));
		/* Closed on it with its request unread: a reset, no answer.
		 * The close may come before or while it sends (then the
		 * request fails): either way not a byte reaches it. */
		_exit(cfd < 0 || read(cfd, &c, 1) <= 0 ? 0 : 1);
	}
	afd = accept_one(lfd);
	CU_ASSERT_FATAL(afd >= 0);
	CU_ASSERT_EQUAL(handover_peer_check(afd, ours, &pid, err, sizeof(err)),
			-1);
	snprintf(want, sizeof(want), "uid %d (pid %d)", NOBODY, (int)child);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, want));
	CU_ASSERT_EQUAL(pid, (int)child);
	close(afd);
	CU_ASSERT_EQUAL(waitpid(child, &status, 0), child);
	CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(lfd);
	unlink(path);
	/* ...and nobody listens, where we would ask: not a byte for it. */
	CU_ASSERT_EQUAL(chown(dir, NOBODY, NOBODY), 0);
	CU_ASSERT_EQUAL_FATAL(pipe(sv), 0);
	child = fork();
	CU_ASSERT_FATAL(child >= 0);
	if (child == 0) {
		close(sv[0]);
		if (become_nobody() < 0)
			_exit(2);
		lfd = handover_listen(path, err, sizeof(err));
		if (lfd < 0 || write(sv[1], "L", 1) != 1)
			_exit(3);
		afd = accept_one(lfd);
		/* EOF before any byte: it was not asked. */
		_exit(afd >= 0 && read(afd, &c, 1) == 0 ? 0 : 1);
	}
	close(sv[1]);
	CU_ASSERT_EQUAL(read(sv[0], &c, 1), 1);
	close(sv[0]);
	CU_ASSERT_EQUAL(handover_request(path, ours, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "uid %d (pid %d)", NOBODY, (int)child);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, want));
	CU_ASSERT_EQUAL(waitpid(child, &status, 0), child);
	CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	unlink(path);
	rmdir(dir);
}

static int test_handover_register(void)
{
	CU_pSuite s = CU_add_suite("handover", NULL, NULL);

	if (s == NULL ||
	    !CU_add_test(s, "fd, state and leftover bytes pass", test_pass_link) ||
	    !CU_add_test(s, "empty leftover; bounded waits",
			 test_empty_unparsed_and_timeout) ||
	    !CU_add_test(s, "refusal with a reason; nothing to hand over",
			 test_refusal_and_nothing) ||
	    !CU_add_test(s, "garbage is refused", test_garbage_is_not_a_link) ||
	    !CU_add_test(s, "version 2 link; instance name too long",
			 test_version2_and_long_instance) ||
	    !CU_add_test(s, "control socket: 0600, stale, live, non-socket",
			 test_control_socket) ||
	    !CU_add_test(s, "request read in pieces, never waiting",
			 test_request_in_pieces) ||
	    !CU_add_test(s, "let go, or kept after giving up",
			 test_let_go_or_keep) ||
	    !CU_add_test(s, "peer credentials: ours or root, both ways",
			 test_peer_credentials))
		return CU_get_error();
	return CUE_SUCCESS;
}

TESTUTIL_SUITE(test_handover_register)
