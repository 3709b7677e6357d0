/* SPDX-License-Identifier: MIT */
/* test_handover.c: passing a live link between processes: fd, stream state, leftover bytes, acks, the control socket. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
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
	CU_ASSERT_EQUAL(handover_ack(sv[1], 1), 0);
	CU_ASSERT_EQUAL(handover_wait_ack(sv[0], 1000), 1);
	CU_ASSERT_EQUAL(handover_ack(sv[1], 0), 0);
	CU_ASSERT_EQUAL(handover_wait_ack(sv[0], 1000), 0);
	close(in.fd);
	handover_link_clear(&in);
	CU_ASSERT_EQUAL(in.fd, -1);
	CU_ASSERT_PTR_NULL(in.unparsed);
	close(pipefd[0]);
	close(pipefd[1]);
	close(sv[0]);
	/* The peer gone: no ack, no link, and no hang. */
	CU_ASSERT_EQUAL(handover_wait_ack(sv[1], 1000), 0);
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
	CU_ASSERT_EQUAL(handover_wait_ack(sv[0], 50), 0);
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
	char err[256] = "", junk[64];

	memset(junk, 'x', sizeof(junk));
	CU_ASSERT_EQUAL_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	CU_ASSERT_EQUAL(write(sv[0], junk, sizeof(junk)), (ssize_t)sizeof(junk));
	CU_ASSERT_EQUAL(handover_recv(sv[1], &in, 1000, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "not a link"));
	CU_ASSERT_EQUAL(in.fd, -1);
	CU_ASSERT_EQUAL(handover_read_request(sv[1], 50, err, sizeof(err)), -1);
	close(sv[0]);
	close(sv[1]);
}

/* Accept on the non-blocking LFD, waiting up to a second. */
static int accept_one(int lfd)
{
	int i, fd = -1;

	for (i = 0; i < 100 && fd < 0; i++) {
		fd = accept(lfd, NULL, NULL);
		if (fd < 0)
			usleep(10000);
	}
	return fd;
}

static void test_control_socket(void)
{
	char dir[] = "/tmp/ope-unit-XXXXXX", path[64], err[256] = "";
	struct stat st;
	int lfd, cfd, afd, other;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/ctl", dir);
	/* Nobody there yet. */
	CU_ASSERT_EQUAL(handover_request(path, err, sizeof(err)), -1);
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
	CU_ASSERT_EQUAL(handover_read_request(afd, 1000, err, sizeof(err)), -1);
	close(afd);
	cfd = handover_request(path, err, sizeof(err));
	CU_ASSERT_FATAL(cfd >= 0);
	afd = accept_one(lfd);
	CU_ASSERT_FATAL(afd >= 0);
	CU_ASSERT_EQUAL(handover_read_request(afd, 1000, err, sizeof(err)), 0);
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
	    !CU_add_test(s, "control socket: 0600, stale, live, non-socket",
			 test_control_socket))
		return CU_get_error();
	return CUE_SUCCESS;
}

TESTUTIL_SUITE(test_handover_register)
