/* SPDX-License-Identifier: MIT */
/* takeover.c: restart in place: hand the live link to a new ope-component process, or take it over from the running one. */
/* accept4() */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "handover.h"
#include "link.h"
#include "log.h"
#include "notify.h"
#include "takeover.h"
#include "util.h"

extern char **environ;

/* How long the old process may take to reach a stanza boundary and write
 * its replies; the new one waits a little longer for the link. */
#define HOLD_MS 5000
#define RECV_MS (HOLD_MS + 5000)
/* The new process answers within milliseconds of receiving the link. */
#define ACK_MS 10000
/* How long a request line may take to arrive once connected. */
#define REQUEST_MS 1000
/* How long the new process waits for the old one to let go. */
#define LET_GO_MS 5000

#define OPTION "--takeover"

enum tk_state {
	TK_IDLE,
	TK_HOLDING,    /* a request accepted, the link being held */
};

struct takeover {
	char *path;           /* NULL: off */
	int listen_fd;
	char exe[4096];       /* this binary, as started ("" if unknown) */
	char **argv;          /* the arguments to start it with again */
	size_t argc;
	pid_t child;          /* started by takeover_spawn(), not yet reaped */

	enum tk_state state;
	int conn;             /* the request being served */
	int peer;             /* its pid, or -1 */
	uint64_t deadline;
	int handed_over;
};

const char *takeover_why_not(void)
{
	if (getpid() == 1)
		return "this ope-component is PID 1 (a container's init): "
		       "when it exits the container ends and takes any new "
		       "process with it; restart the container instead "
		       "(SIGTERM drains first)";
	return NULL;
}

const char *takeover_path(const struct config *cfg, char *buf, size_t len)
{
	const char *dir = getenv("RUNTIME_DIRECTORY");
	int n;

	if (cfg->control_path != NULL)
		return cfg->control_path;
	if (dir == NULL || dir[0] != '/')
		return NULL;
	/* systemd lists several directories separated by colons. */
	n = snprintf(buf, len, "%.*s/control.sock", (int)strcspn(dir, ":"), dir);
	return n > 0 && (size_t)n < len ? buf : NULL;
}

/* The arguments to start a successor with: ours without any --takeover,
 * then --takeover=PATH. */
static int keep_argv(struct takeover *t, char *const argv[])
{
	size_t n = 0, i, k = 0;
	size_t optlen = strlen(OPTION);

	while (argv[n] != NULL)
		n++;
	t->argv = calloc(n + 2, sizeof(*t->argv));
	if (t->argv == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		if (i > 0 && strncmp(argv[i], OPTION, optlen) == 0 &&
		    (argv[i][optlen] == '\0' || argv[i][optlen] == '='))
			continue;
		if ((t->argv[k++] = strdup(argv[i])) == NULL)
			return -1;
	}
	if (t->path != NULL) {
		size_t len = optlen + strlen(t->path) + 2;

		if ((t->argv[k] = malloc(len)) == NULL)
			return -1;
		snprintf(t->argv[k++], len, "%s=%s", OPTION, t->path);
	}
	t->argc = k;
	return 0;
}

struct takeover *takeover_new(const char *path, char *const argv[])
{
	struct takeover *t = calloc(1, sizeof(*t));
	char err[600];
	ssize_t n;

	if (t == NULL)
		return NULL;
	t->listen_fd = t->conn = -1;
	t->peer = -1;
	/* Resolved now: after a package upgrade the running binary's own
	 * link points at a deleted file, the path at the new one. */
	n = readlink("/proc/self/exe", t->exe, sizeof(t->exe) - 1);
	t->exe[n > 0 && (size_t)n < sizeof(t->exe) ? n : 0] = '\0';
	if (path != NULL && (t->path = strdup(path)) == NULL)
		goto fail;
	if (keep_argv(t, argv) < 0)
		goto fail;
	if (t->path == NULL)
		return t;
	t->listen_fd = handover_listen(t->path, err, sizeof(err));
	if (t->listen_fd < 0)
		log_warn("takeover restarts are off: %s", err);
	else
		log_info("listening for a takeover on %s", t->path);
	return t;
fail:
	takeover_free(t);
	return NULL;
}

int takeover_fd(const struct takeover *t)
{
	return t->listen_fd;
}

void takeover_spawn(struct takeover *t)
{
	char **envp = NULL;
	size_t n = 0, i, k = 0;
	pid_t pid;
	int rc;

	if (t->listen_fd < 0) {
		log_warn("SIGUSR2: no takeover restart: %s",
			 t->path == NULL ? "no control socket (set control.path, "
			 "or run under systemd with RuntimeDirectory=)" :
			 "the control socket could not be made (see above)");
		return;
	}
	if (t->child > 0 || t->state != TK_IDLE) {
		log_warn("SIGUSR2: a takeover is already under way; ignored");
		return;
	}
	if (t->exe[0] == '\0') {
		log_warn("SIGUSR2: cannot tell which binary this is "
			 "(/proc/self/exe); start the new one by hand with "
			 "--takeover");
		return;
	}
	/* WATCHDOG_PID names us: without it the successor pets the watchdog
	 * once it is the main process. */
	while (environ[n] != NULL)
		n++;
	envp = calloc(n + 1, sizeof(*envp));
	if (envp == NULL) {
		log_error("SIGUSR2: out of memory");
		return;
	}
	for (i = 0; i < n; i++)
		if (strncmp(environ[i], "WATCHDOG_PID=", 13) != 0)
			envp[k++] = environ[i];
	/* Our lines first: the successor writes to the same stderr. */
	log_flush();
	rc = posix_spawn(&pid, t->exe, NULL, NULL, t->argv, envp);
	free(envp);
	if (rc != 0) {
		log_error("SIGUSR2: cannot start %s: %s; carrying on", t->exe,
			  strerror(rc));
		return;
	}
	t->child = pid;
	log_info("SIGUSR2: started %s (pid %d) to take the link over",
		 t->exe, (int)pid);
}

/* Say how the successor we started ended, if it did. */
static void reap_child(struct takeover *t)
{
	int status;
	pid_t rc;

	if (t->child <= 0)
		return;
	rc = waitpid(t->child, &status, WNOHANG);
	if (rc == 0)
		return;
	if (rc < 0) {
		t->child = 0;
		return;
	}
	if (WIFEXITED(status))
		log_warn("takeover failed: the new ope-component (pid %d) "
			 "exited with status %d (its messages are above); "
			 "carrying on", (int)t->child, WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		log_warn("takeover failed: the new ope-component (pid %d) was "
			 "killed by signal %d; carrying on", (int)t->child,
			 WTERMSIG(status));
	t->child = 0;
}

static void end_request(struct takeover *t)
{
	if (t->conn >= 0)
		close(t->conn);
	t->conn = -1;
	t->peer = -1;
	t->state = TK_IDLE;
}

static void refuse(struct takeover *t, int fd, const char *why)
{
	char line[600];

	snprintf(line, sizeof(line), "takeover refused: the running "
		 "ope-component (pid %d) cannot hand its link over: %s",
		 (int)getpid(), why);
	log_warn("%s", line);
	handover_refuse(fd, line);
	if (fd == t->conn)
		end_request(t);
	else
		close(fd);
}

/* Done: L was handed over (or had nothing to hand over) to the peer. */
static int handed_over(struct takeover *t, struct link *l)
{
	/* The service manager follows the new process from now on. */
	if (t->peer > 0)
		notify_mainpid(t->peer);
	link_release(l);
	/* takeover_free() closes the listener and then the connection: the
	 * new process's cue to go on. */
	t->handed_over = 1;
	return 1;
}

/* No stream up: the new process connects by itself once we are gone. */
static int hand_over_nothing(struct takeover *t, struct link *l)
{
	if (handover_send_none(t->conn) < 0 ||
	    !handover_wait_ack(t->conn, ACK_MS)) {
		log_warn("takeover failed: the new process (pid %d) did not "
			 "answer; carrying on", t->peer);
		end_request(t);
		return 0;
	}
	log_info("no link was up: pid %d connects by itself; exiting",
		 t->peer);
	return handed_over(t, l);
}

/* A connection on the control socket: a new process asks for the link.
 * Returns 1 when it was told to go on without one (we are done). */
static int accept_request(struct takeover *t, struct link *l)
{
	char err[300];
	const char *why;
	int fd = accept4(t->listen_fd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return 0;
	if (handover_read_request(fd, REQUEST_MS, err, sizeof(err)) < 0) {
		log_warn("control socket: %s; ignored", err);
		close(fd);
		return 0;
	}
	if (t->state != TK_IDLE) {
		refuse(t, fd, "another takeover is under way");
		return 0;
	}
	if ((why = takeover_why_not()) != NULL ||
	    (why = link_why_not_movable(l)) != NULL) {
		refuse(t, fd, why);
		return 0;
	}
	t->conn = fd;
	t->peer = handover_peer_pid(fd);
	if (!link_has_stream(l))
		return hand_over_nothing(t, l);
	if (link_hold(l) < 0) {
		refuse(t, fd, "it cannot hold its link still");
		return 0;
	}
	t->state = TK_HOLDING;
	t->deadline = util_now_ms() + HOLD_MS;
	log_info("takeover requested by pid %d: stopping at the next stanza "
		 "boundary and writing the replies", t->peer);
	return 0;
}

/* Held still: pass the link and wait for the new process's answer. */
static int hand_over(struct takeover *t, struct link *l)
{
	struct handover_link h;
	char err[600];
	int ok;

	if (link_export(l, &h) < 0) {
		refuse(t, t->conn, "out of memory");
		link_unhold(l);
		return 0;
	}
	if (handover_send(t->conn, &h, err, sizeof(err)) < 0) {
		log_warn("takeover failed: %s; carrying on", err);
		handover_link_clear(&h);
		end_request(t);
		link_unhold(l);
		return 0;
	}
	ok = handover_wait_ack(t->conn, ACK_MS);
	if (!ok) {
		log_warn("takeover failed: the new process (pid %d) gave the "
			 "link back or did not answer within %d ms; carrying on",
			 t->peer, ACK_MS);
		handover_link_clear(&h);
		end_request(t);
		link_unhold(l);
		return 0;
	}
	log_info("handed the link over to pid %d (%zu bytes left over); "
		 "exiting", t->peer, h.unparsed_len);
	handover_link_clear(&h);
	return handed_over(t, l);
}

int takeover_run(struct takeover *t, struct link *l, int ready)
{
	int held;

	reap_child(t);
	if (ready && t->listen_fd >= 0 && accept_request(t, l))
		return 1;
	if (t->state != TK_HOLDING)
		return 0;
	held = link_held(l);
	if (held < 0) {
		refuse(t, t->conn, "its link went down meanwhile");
		return 0;
	}
	if (held == 1)
		return hand_over(t, l);
	if (util_now_ms() >= t->deadline) {
		refuse(t, t->conn, "the server did not take its replies within "
		       "5 s");
		link_unhold(l);
	}
	return 0;
}

void takeover_abort(struct takeover *t, struct link *l, const char *why)
{
	if (t == NULL || t->state != TK_HOLDING)
		return;
	refuse(t, t->conn, why);
	link_unhold(l);
}

void takeover_free(struct takeover *t)
{
	size_t i;

	if (t == NULL)
		return;
	if (t->listen_fd >= 0) {
		close(t->listen_fd);
		if (!t->handed_over)
			unlink(t->path);
	}
	if (t->conn >= 0)
		close(t->conn);
	for (i = 0; t->argv != NULL && t->argv[i] != NULL; i++)
		free(t->argv[i]);
	free(t->argv);
	free(t->path);
	free(t);
}

int takeover_request(const char *path, struct handover_link *h,
		     int *refused, char *err, size_t errlen)
{
	int fd, rc;

	*refused = 0;
	fd = handover_request(path, err, errlen);
	if (fd < 0)
		return -1;
	rc = handover_recv(fd, h, RECV_MS, err, errlen);
	if (rc < 0) {
		*refused = rc == -2;
		close(fd);
		return -1;
	}
	return fd;
}

int takeover_confirm(int fd, int accepted)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint64_t until = util_now_ms() + LET_GO_MS;
	char c;
	int rc = handover_ack(fd, accepted);

	if (rc < 0 || !accepted) {
		close(fd);
		return rc;
	}
	/* The old process closes the connection once it let go. */
	for (;;) {
		uint64_t now = util_now_ms();

		if (now >= until) {
			log_warn("the old process did not let go within %d ms; "
				 "going on", LET_GO_MS);
			break;
		}
		rc = poll(&p, 1, (int)(until - now));
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc <= 0 || recv(fd, &c, 1, 0) <= 0)
			break;
	}
	close(fd);
	return 0;
}
