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
#include "loop.h"
#include "metrics.h"
#include "notify.h"
#include "takeover.h"
#include "util.h"

extern char **environ;

/* The old process never waits for its control client: it keeps serving
 * the link and looks again on the next turn of its loop, within these
 * bounds. */
/* How long a request line may take to arrive once connected. */
#define REQUEST_MS 5000
/* How long the old process may take to reach a stanza boundary and write
 * its replies; the new one waits a little longer for the link. */
#define HOLD_MS 5000
#define RECV_MS (HOLD_MS + 5000)
/* The new process answers within milliseconds of receiving the link;
 * the link is held meanwhile (its frame carries the parser's state). */
#define ACK_MS 5000
/* How long the new process waits for the old one to let go. */
#define LET_GO_MS 5000
/* Connections accepted (and refused) per turn while one is served. */
#define ACCEPT_BURST 8

#define OPTION "--takeover"

enum tk_state {
	TK_IDLE,
	TK_READING,    /* a client connected: its request line arrives */
	TK_HOLDING,    /* a request accepted, the link being held */
	TK_SENT,       /* the link (or "none") sent: its answer arrives */
};

struct takeover {
	struct loop *loop;
	int catches_child;        /* SIGCHLD is ours (loop_signal) */
	struct loop_io *io;       /* takeover_fd() */
	struct loop_timer *timer; /* the state's deadline */
	struct loop_hook *prepare;
	int ready;            /* takeover_fd() was readable since the last step */
	char *path;           /* NULL: off */
	int listen_fd;
	char exe[4096];       /* this binary, as started ("" if unknown) */
	char **argv;          /* the arguments to start it with again */
	size_t argc;
	pid_t child;          /* started by takeover_spawn(), not yet reaped */

	uid_t uid;            /* ours: control clients must be too, or root */
	enum tk_state state;
	int conn;             /* the request being served (non-blocking) */
	int peer;             /* its pid, or -1 */
	struct handover_request req;
	uint64_t deadline;    /* for the state's step (not TK_IDLE) */
	int link_sent;        /* TK_SENT: the link went (else "none") */
	size_t left_over;     /* TK_SENT: unparsed bytes sent with it */
	int handed_over;
	struct metrics *metrics;  /* failures are counted there (or NULL) */
	int failure_counted;      /* this attempt's failure is counted */
	const char *instance;     /* passed with the link, or NULL */
	const char *refusal;      /* takeover_refuse(), or NULL */
};

/* Count a failed takeover once per attempt (a successor that gives the
 * link back also exits: one failure). */
static void failed(struct takeover *t, enum metrics_takeover_failure why)
{
	if (t->failure_counted)
		return;
	metrics_takeover_failed(t->metrics, why);
	t->failure_counted = 1;
}

const char *takeover_why_not(void)
{
	if (getpid() == 1)
		return "this ope-component is PID 1 (a container's init): "
		       "when it exits the container ends and takes any new "
		       "process with it; restart the container instead "
		       "(SIGTERM drains first)";
	return NULL;
}

void takeover_refuse(struct takeover *t, const char *why)
{
	if (t != NULL)
		t->refusal = why;
}

const char *takeover_why_not_now(const struct takeover *t,
				 const struct link *l)
{
	const char *why = takeover_why_not();

	if (why == NULL && t != NULL)
		why = t->refusal;
	return why != NULL ? why : link_why_not_movable(l);
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
	if (WIFEXITED(status) || WIFSIGNALED(status))
		failed(t, METRICS_TAKEOVER_SPAWN);
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

static void on_ready(void *arg, int fd, short revents)
{
	struct takeover *t = arg;

	(void)fd;
	(void)revents;
	t->ready = 1;
}

/* The deadline only wakes the loop: takeover_run() acts on it. */
static void on_deadline(void *arg)
{
	(void)arg;
}

/* A started successor exited (or another child did): reaped now, so its
 * failure is logged at once. */
static void on_child(void *arg, int signo)
{
	(void)signo;
	reap_child(arg);
}

/* Before every wait: the socket to watch and the step's deadline follow
 * from the state. */
static void on_prepare(void *arg)
{
	struct takeover *t = arg;

	loop_io_set(t->io, takeover_fd(t), POLLIN);
	loop_timer_at(t->timer, t->state == TK_IDLE ? 0 : t->deadline);
}

struct takeover *takeover_new(struct loop *loop, const char *path,
			      char *const argv[])
{
	struct takeover *t = calloc(1, sizeof(*t));
	char err[600];
	ssize_t n;

	if (t == NULL)
		return NULL;
	t->listen_fd = t->conn = -1;
	t->io = loop_io_add(loop, -1, 0, on_ready, t);
	t->timer = loop_timer_add(loop, on_deadline, t);
	t->prepare = loop_hook_add(loop, on_prepare, t);
	t->loop = loop;
	if (t->io == NULL || t->timer == NULL || t->prepare == NULL ||
	    loop_signal(loop, SIGCHLD, on_child, t) != 0)
		goto fail;
	t->catches_child = 1;
	t->peer = -1;
	t->uid = geteuid();
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
	/* While holding, the client has nothing to say: extra bytes left
	 * readable would only spin the loop. */
	if (t->state == TK_READING || t->state == TK_SENT)
		return t->conn;
	return t->listen_fd;
}

int takeover_spawn(struct takeover *t)
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
		metrics_takeover_failed(t->metrics, METRICS_TAKEOVER_REFUSED);
		return -1;
	}
	if (t->child > 0 || t->state != TK_IDLE) {
		log_warn("SIGUSR2: a takeover is already under way; ignored");
		metrics_takeover_failed(t->metrics, METRICS_TAKEOVER_REFUSED);
		return -1;
	}
	if (t->exe[0] == '\0') {
		log_warn("SIGUSR2: cannot tell which binary this is "
			 "(/proc/self/exe); start the new one by hand with "
			 "--takeover");
		metrics_takeover_failed(t->metrics, METRICS_TAKEOVER_REFUSED);
		return -1;
	}
	/* WATCHDOG_PID names us: without it the successor pets the watchdog
	 * once it is the main process. */
	while (environ[n] != NULL)
		n++;
	envp = calloc(n + 1, sizeof(*envp));
	if (envp == NULL) {
		log_error("SIGUSR2: out of memory");
		metrics_takeover_failed(t->metrics, METRICS_TAKEOVER_SPAWN);
		return -1;
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
		metrics_takeover_failed(t->metrics, METRICS_TAKEOVER_SPAWN);
		return -1;
	}
	t->child = pid;
	t->failure_counted = 0;
	log_kv(LOG_LEVEL_INFO, LOG_FIELDS({ "takeover", "started" }),
	       "SIGUSR2: started %s (pid %d) to take the link over",
	       t->exe, (int)pid);
	return (int)pid;
}

/* Say how the successor we started ended, if it did. */
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
		failed(t, METRICS_TAKEOVER_REFUSED);
	else
		metrics_takeover_failed(t->metrics, METRICS_TAKEOVER_REFUSED);
	if (fd == t->conn)
		end_request(t);
	else
		close(fd);
}

/* The link or "none" went out but no taker: say we keep it (an answer
 * the new process sends meanwhile then does not count), serve on. */
static void keep_link(struct takeover *t, struct link *l)
{
	handover_keep(t->conn);
	end_request(t);
	if (t->link_sent)
		link_unhold(l);
}

/* Done: L was handed over (or had nothing to hand over) to the peer. */
static int handed_over(struct takeover *t, struct link *l)
{
	if (t->link_sent)
		log_kv(LOG_LEVEL_INFO, LOG_FIELDS({ "takeover", "handed over" }),
		       "handed the link over to pid %d (%zu bytes left "
		       "over); exiting", t->peer, t->left_over);
	else
		log_info("no link was up: pid %d connects by itself; exiting",
			 t->peer);
	/* The service manager follows the new process from now on. */
	if (t->peer > 0)
		notify_mainpid(t->peer);
	link_release(l);
	/* takeover_free() closes the listener and then the connection: the
	 * new process's cue to go on. */
	t->handed_over = 1;
	return 1;
}

/* Sent: wait (on later turns) for the new process's answer. */
static void await_answer(struct takeover *t, int link_sent, size_t left_over)
{
	t->state = TK_SENT;
	t->link_sent = link_sent;
	t->left_over = left_over;
	t->deadline = util_now_ms() + ACK_MS;
}

/* The whole request is in: hold the link, or hand over nothing. */
static void start_request(struct takeover *t, struct link *l)
{
	const char *why;

	if ((why = takeover_why_not_now(t, l)) != NULL) {
		refuse(t, t->conn, why);
		return;
	}
	if (!link_has_stream(l)) {
		/* No stream up: the new process connects by itself once we
		 * are gone. */
		if (handover_send_none(t->conn) < 0) {
			log_warn("takeover failed: cannot answer pid %d; "
				 "carrying on", t->peer);
			failed(t, METRICS_TAKEOVER_HANDOVER);
			end_request(t);
			return;
		}
		await_answer(t, 0, 0);
		return;
	}
	if (link_hold(l) < 0) {
		refuse(t, t->conn, "it cannot hold its link still");
		return;
	}
	t->state = TK_HOLDING;
	t->deadline = util_now_ms() + HOLD_MS;
	log_kv(LOG_LEVEL_INFO, LOG_FIELDS({ "takeover", "requested" }),
	       "takeover requested by pid %d: stopping at the next stanza "
	       "boundary and writing the replies", t->peer);
}

/* Accept what waits on the control socket: the first client of an idle
 * takeover is served, others are told one is under way. Only our own
 * uid and root get an answer at all. */
static void accept_clients(struct takeover *t)
{
	char who[200];
	int i, fd, pid;

	for (i = 0; i < ACCEPT_BURST; i++) {
		fd = accept4(t->listen_fd, NULL, NULL,
			     SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0)
			return;
		if (handover_peer_check(fd, t->uid, &pid, who,
					sizeof(who)) < 0) {
			log_warn("control socket: refused a client running as "
				 "%s (keep the socket's directory private to "
				 "the service's user)", who);
			close(fd);
			continue;
		}
		if (t->state != TK_IDLE) {
			refuse(t, fd, "another takeover is under way");
			continue;
		}
		t->conn = fd;
		t->peer = pid;
		t->failure_counted = 0;
		memset(&t->req, 0, sizeof(t->req));
		t->state = TK_READING;
		t->deadline = util_now_ms() + REQUEST_MS;
	}
}

/* TK_READING: take what came of the request line. */
static void read_request(struct takeover *t, struct link *l)
{
	char err[300];
	int rc = handover_read_request(t->conn, &t->req, err, sizeof(err));

	if (rc < 0) {
		log_warn("control socket: pid %d: %s; ignored", t->peer, err);
		end_request(t);
	} else if (rc == 1) {
		start_request(t, l);
	} else if (util_now_ms() >= t->deadline) {
		log_warn("control socket: pid %d sent no takeover request "
			 "within %d ms; gave up on it", t->peer, REQUEST_MS);
		end_request(t);
	}
}

/* TK_HOLDING, held still: pass the link; its answer comes later. */
static void hand_over(struct takeover *t, struct link *l)
{
	struct handover_link h;
	char err[600];
	size_t left;

	if (link_export(l, &h) < 0) {
		refuse(t, t->conn, "out of memory");
		link_unhold(l);
		return;
	}
	if (t->instance != NULL)
		snprintf(h.instance, sizeof(h.instance), "%s", t->instance);
	left = h.unparsed_len;
	if (handover_send(t->conn, &h, err, sizeof(err)) < 0) {
		log_warn("takeover failed: %s; carrying on", err);
		failed(t, METRICS_TAKEOVER_HANDOVER);
		handover_link_clear(&h);
		end_request(t);
		link_unhold(l);
		return;
	}
	handover_link_clear(&h);
	await_answer(t, 1, left);
}

/* TK_SENT: the new process's answer. Returns 1 once it took over. */
static int read_answer(struct takeover *t, struct link *l)
{
	switch (handover_read_ack(t->conn)) {
	case HANDOVER_TAKEN:
		return handed_over(t, l);
	case HANDOVER_GIVEN_BACK:
		log_warn("takeover failed: the new process (pid %d) gave the "
			 "link back; carrying on", t->peer);
		failed(t, METRICS_TAKEOVER_HANDOVER);
		end_request(t);
		if (t->link_sent)
			link_unhold(l);
		return 0;
	case HANDOVER_NO_ANSWER:
	default:
		break;
	}
	if (util_now_ms() >= t->deadline) {
		log_warn("takeover failed: the new process (pid %d) did not "
			 "answer within %d ms; carrying on", t->peer, ACK_MS);
		failed(t, METRICS_TAKEOVER_HANDOVER);
		keep_link(t, l);
	}
	return 0;
}

int takeover_run(struct takeover *t, struct link *l)
{
	int held, ready = t->ready;

	t->ready = 0;
	reap_child(t);
	/* Idle, the listener is watched; busy, the client is, and newcomers
	 * are looked for on every turn (only while busy: it is rare). */
	if (t->listen_fd >= 0 && (t->state != TK_IDLE || ready))
		accept_clients(t);
	switch (t->state) {
	case TK_READING:
		read_request(t, l);
		/* Held at once (at a boundary, nothing owed) is handed over
		 * now: no later event may come to wake the loop for it. */
		if (t->state != TK_HOLDING)
			return 0;
		break;
	case TK_SENT:
		return read_answer(t, l);
	case TK_HOLDING:
		break;
	case TK_IDLE:
	default:
		return 0;
	}
	held = link_held(l);
	if (held < 0) {
		refuse(t, t->conn, "its link went down meanwhile");
		return 0;
	}
	if (held == 1) {
		hand_over(t, l);
		return 0;
	}
	if (util_now_ms() >= t->deadline) {
		refuse(t, t->conn, "the server did not take its replies within "
		       "5 s");
		link_unhold(l);
	}
	return 0;
}

void takeover_abort(struct takeover *t, struct link *l, const char *why)
{
	if (t == NULL)
		return;
	switch (t->state) {
	case TK_READING:
		refuse(t, t->conn, why);
		break;
	case TK_HOLDING:
		refuse(t, t->conn, why);
		link_unhold(l);
		break;
	case TK_SENT:
		log_warn("takeover given up: %s", why);
		failed(t, METRICS_TAKEOVER_HANDOVER);
		keep_link(t, l);
		break;
	case TK_IDLE:
	default:
		break;
	}
}

void takeover_set_instance(struct takeover *t, const char *name)
{
	if (t != NULL)
		t->instance = name;
}

void takeover_set_metrics(struct takeover *t, struct metrics *m)
{
	if (t != NULL)
		t->metrics = m;
}

void takeover_free(struct takeover *t)
{
	size_t i;

	if (t == NULL)
		return;
	if (t->catches_child)
		loop_signal(t->loop, SIGCHLD, NULL, NULL);
	loop_hook_del(t->prepare);
	loop_timer_del(t->timer);
	loop_io_del(t->io);
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

/* The successor's waits turn its loop instead of blocking in poll():
 * signals and timers are served meanwhile. */
struct waiter {
	int ready, timed_out;
};

static void on_waited_fd(void *arg, int fd, short revents)
{
	(void)fd;
	(void)revents;
	((struct waiter *)arg)->ready = 1;
}

static void on_waited_too_long(void *arg)
{
	((struct waiter *)arg)->timed_out = 1;
}

/* Turn LOOP until FD is readable: the milliseconds left of TIMEOUT_MS
 * (at least 1), or 0 when it was not readable in time, or when out of
 * memory or the loop failed (logged). */
static int await_readable(struct loop *loop, int fd, int timeout_ms)
{
	struct waiter w = { 0, 0 };
	uint64_t until = util_now_ms() + (uint64_t)timeout_ms, now;
	struct loop_io *io = loop_io_add(loop, fd, POLLIN, on_waited_fd, &w);
	struct loop_timer *t = loop_timer_add(loop, on_waited_too_long, &w);
	int left = 0;

	if (io == NULL || t == NULL) {
		log_error("out of memory while waiting for the old process");
		goto out;
	}
	loop_timer_at(t, until);
	while (!w.ready && !w.timed_out) {
		log_flush();
		if (loop_run_once(loop, -1) != 0) {
			log_error("poll failed: %s", strerror(errno));
			goto out;
		}
	}
	now = util_now_ms();
	if (w.ready)
		left = now < until ? (int)(until - now) : 1;
out:
	loop_timer_del(t);
	loop_io_del(io);
	return left;
}

int takeover_request(struct loop *loop, const char *path,
		     struct handover_link *h, int *refused, char *err,
		     size_t errlen)
{
	int fd, rc, left;

	*refused = 0;
	fd = handover_request(path, geteuid(), err, errlen);
	if (fd < 0)
		return -1;
	/* The answer comes whole (handover_send()): once the first byte is
	 * in, handover_recv() does not wait. */
	left = await_readable(loop, fd, RECV_MS);
	memset(h, 0, sizeof(*h));
	h->fd = -1;
	if (left == 0) {
		snprintf(err, errlen, "the running ope-component did not hand "
			 "its link over within %d ms", RECV_MS);
		close(fd);
		return -1;
	}
	rc = handover_recv(fd, h, left, err, errlen);
	if (rc < 0) {
		*refused = rc == -2;
		close(fd);
		return -1;
	}
	return fd;
}

int takeover_confirm(struct loop *loop, int fd, int accepted)
{
	int rc = handover_ack(fd, accepted), left;

	if (rc < 0 || !accepted) {
		close(fd);
		return rc;
	}
	left = await_readable(loop, fd, LET_GO_MS);
	switch (left > 0 ? handover_wait_let_go(fd, left) : -1) {
	case 0:
		/* It stopped waiting for us before our answer came. */
		rc = -1;
		break;
	case -1:
		log_warn("the old process did not let go within %d ms; "
			 "going on", LET_GO_MS);
		break;
	default:
		break;
	}
	close(fd);
	return rc;
}
