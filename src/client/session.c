/* SPDX-License-Identifier: MIT */
/* session.c: drive one libstrophe client connection for ope-client with xmpp_run_once(). */
#include <signal.h>
#include <stdint.h>
#include <unistd.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <strophe.h>

#include "check.h"
#include "client_exit.h"
#include "report.h"
#include "request.h"
#include "session.h"
#include "stats.h"
#include "track.h"
#include "log.h"
#include "ns.h"
#include "strophe_compat.h"
#include "util.h"

/* How long a clean stream close may take before we stop waiting. */
#define CLOSE_WAIT_NS (3ULL * 1000000000ULL)
/* Longest single wait in xmpp_run_once(). */
#define TICK_MS 50
/* Failures shown one by one in a --count run; the summary counts the rest. */
#define SHOWN_FAILURES 3

enum phase {
	PHASE_CONNECTING,	/* TCP, TLS, SASL, bind */
	PHASE_ROSTER,		/* waiting for the roster */
	PHASE_RUNNING,		/* requests in flight */
	PHASE_DONE,		/* result decided, stream closing */
};

struct session {
	const struct client_opts *o;
	xmpp_ctx_t *ctx;
	xmpp_conn_t *conn;
	xmpp_log_t logger;
	xmpp_stanza_t *request;		/* template; the id changes per send */
	struct client_track *track;
	struct client_stats stats;
	char prefix[40];
	char roster_id[64];
	char endpoint[300];		/* host:port for messages */
	enum phase phase;
	int tcp_up;			/* TCP connect succeeded at some point */
	int connected;			/* logged in (XMPP_CONN_CONNECT) */
	int disconnected;
	int result;			/* exit status once decided, else -1 */
	uint64_t deadline_ns;		/* end of CONNECTING or ROSTER */
	uint64_t progress_ns;		/* first send or last first reply */
	uint64_t close_deadline_ns;
	uint64_t timeout_ns;
	int cert_failed;
	char cert_error[256];
	char sasl_condition[64];
	unsigned shown_failures;
	int progress;			/* --count with stderr on a terminal */
	uint64_t progress_shown_ns;	/* when the progress line was drawn */
};

/* How often the progress line is redrawn. */
#define PROGRESS_NS 250000000ULL

static volatile sig_atomic_t stop_requested;

/* libstrophe's certfail callback has no user data: the one running
 * session is reached through this. */
static struct session *current_session;

static void on_signal(int sig)
{
	stop_requested = sig;
}

int client_session_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0)
		return -1;
	return strophe_compat_ignore_sigpipe();
}

/* libstrophe shows a rejected login only in its log (strophe_compat.c):
 * read the SASL condition from it, then hand the line to ope's logger. */
static void session_log(void *userdata, xmpp_log_level_t level,
			const char *area, const char *msg)
{
	struct session *s = userdata;
	const xmpp_log_t *base = log_strophe_logger();

	if (!s->connected && s->sasl_condition[0] == '\0')
		strophe_compat_sasl_condition(msg, s->sasl_condition,
					      sizeof(s->sasl_condition));
	base->handler(base->userdata, level, area, msg);
}

static int on_certfail(const xmpp_tlscert_t *cert, const char *errormsg)
{
	struct session *s = current_session;

	(void)cert;
	if (s == NULL)
		return 0;
	if (s->o->insecure) {
		log_warn("--insecure: accepting a server certificate that "
			 "failed verification: %s", errormsg);
		return 1;
	}
	if (!s->cert_failed) {
		s->cert_failed = 1;
		snprintf(s->cert_error, sizeof(s->cert_error), "%s", errormsg);
	}
	return 0;
}

/* Decide the exit status and start closing the stream. */
static void finish(struct session *s, int result)
{
	uint64_t now = util_now_ns();

	if (s->phase == PHASE_DONE)
		return;
	/* Before login there is no session to close politely: a server that
	 * never answered would only make us wait for its close as well. */
	s->close_deadline_ns = s->phase == PHASE_CONNECTING ? now :
			       now + CLOSE_WAIT_NS;
	s->phase = PHASE_DONE;
	s->result = result;
	xmpp_disconnect(s->conn);
}

/* Erase the progress line before anything else goes to stderr. */
static void progress_clear(struct session *s)
{
	if (s->progress_shown_ns != 0) {
		client_report_progress_clear(stderr);
		s->progress_shown_ns = 0;
	}
}

static void print_summary(struct session *s)
{
	struct client_summary sum;

	if (s->stats.end_ns == 0)
		s->stats.end_ns = util_now_ns();
	progress_clear(s);
	client_stats_summarize(&s->stats, &sum);
	if (s->o->json)
		client_report_summary_json(stdout, &s->stats, &sum, s->o->count);
	else
		client_report_summary(stdout, &s->stats, &sum);
	fflush(stdout);
}

static void finish_run(struct session *s)
{
	int result = client_stats_exit_code(&s->stats, s->o->count);

	if (s->o->bulk && !(s->o->quiet && result == CLIENT_EXIT_OK))
		print_summary(s);
	finish(s, result);
}

/* Keep the window full; finish when every request is settled. */
static void pump(struct session *s)
{
	struct client_track *t = s->track;
	char id[64];
	long seq;

	while (s->phase == PHASE_RUNNING && t->outstanding < s->o->window) {
		uint64_t now = util_now_ns();

		seq = client_track_send(t, now);
		if (seq < 0)
			break;
		if (client_track_id(t, (unsigned long)seq, id, sizeof(id)) < 0 ||
		    xmpp_stanza_set_id(s->request, id) != XMPP_EOK) {
			log_error("out of memory building request %ld", seq);
			finish(s, CLIENT_EXIT_FAIL);
			return;
		}
		if (s->stats.start_ns == 0)
			s->stats.start_ns = s->progress_ns = now;
		xmpp_send(s->conn, s->request);
		s->stats.sent++;
	}
	if (s->phase == PHASE_RUNNING && t->next >= t->count &&
	    t->outstanding == 0)
		finish_run(s);
}

static void start_run(struct session *s)
{
	s->phase = PHASE_RUNNING;
	pump(s);
}

static int from_matches(const struct session *s, const char *from)
{
	return from != NULL && strcasecmp(from, s->o->to) == 0;
}

/* A roster push comes from our own account: no from, or our bare JID
 * (RFC 6121 2.1.6); anyone else's must be ignored. */
static int from_own_account(const struct session *s, const char *from)
{
	size_t n;

	if (from == NULL)
		return 1;
	n = strcspn(s->o->jid, "/");
	return strlen(from) == n && strncasecmp(from, s->o->jid, n) == 0;
}

/* Answer an iq get/set addressed to us, as RFC 6120 8.2.3 asks. A push
 * from our own server has no from: the result then has no to either. */
static void answer_iq(struct session *s, xmpp_stanza_t *iq)
{
	const char *type = xmpp_stanza_get_type(iq);
	const char *from = xmpp_stanza_get_from(iq);
	int roster_push = strcmp(type, "set") == 0 &&
		xmpp_stanza_get_child_by_name_and_ns(iq, "query",
						     XMPP_NS_ROSTER) != NULL;
	xmpp_stanza_t *reply;

	if (roster_push && !from_own_account(s, from))
		return;
	if (roster_push || (strcmp(type, "get") == 0 &&
			    xmpp_stanza_get_child_by_name_and_ns(
				    iq, "ping", NS_PING) != NULL)) {
		reply = xmpp_iq_new(s->ctx, "result", xmpp_stanza_get_id(iq));
		if (reply != NULL && from != NULL)
			xmpp_stanza_set_to(reply, from);
	} else if (from != NULL) {
		reply = xmpp_stanza_reply_error(iq, "cancel",
						"service-unavailable", NULL);
	} else {
		return;
	}
	if (reply == NULL) {
		log_error("out of memory answering an iq");
		return;
	}
	xmpp_send(s->conn, reply);
	xmpp_stanza_release(reply);
}

static void count_reply(struct session *s, xmpp_stanza_t *st,
			const struct client_check *c, uint64_t latency_ns)
{
	int show;

	switch (c->outcome) {
	case CLIENT_REPLY_OK:
		s->stats.ok++;
		break;
	case CLIENT_REPLY_MISMATCH:
		s->stats.mismatches++;
		break;
	default:	/* error replies, and replies we ran out of memory checking */
		s->stats.errors++;
		break;
	}
	client_stats_add_latency(&s->stats, latency_ns);
	if (c->outcome == CLIENT_REPLY_OK) {
		if (!s->o->bulk && !s->o->quiet) {
			client_report_reply(stdout, st, s->o,
					    (double)latency_ns / 1e6);
			fflush(stdout);
		}
		return;
	}
	show = !s->o->bulk || s->shown_failures < SHOWN_FAILURES;
	if (show) {
		progress_clear(s);
		client_report_failure(stderr, st, c);
		/* A command's form says what it did or still needs. */
		if (s->o->xml || (s->o->mode == CLIENT_MODE_COMMAND &&
				  c->outcome == CLIENT_REPLY_MISMATCH))
			client_report_reply(stderr, st, s->o, 0);
	}
	if (s->o->bulk && ++s->shown_failures == SHOWN_FAILURES)
		fprintf(stderr, "(further failures are only counted)\n");
}

static void handle_reply(struct session *s, xmpp_stanza_t *st, long seq)
{
	struct client_check c;
	uint64_t now = util_now_ns(), latency = 0;
	char esc[256];

	if (!from_matches(s, xmpp_stanza_get_from(st))) {
		log_warn("ignoring a stanza with our id %s from %s, not %s",
			 xmpp_stanza_get_id(st),
			 log_escape(esc, sizeof(esc), xmpp_stanza_get_from(st)),
			 s->o->to);
		return;
	}
	if (client_check_reply(s->ctx, st, s->o, &c) == CLIENT_REPLY_NONE) {
		client_check_clear(&c);
		return;
	}
	switch (client_track_reply(s->track, seq, now, &latency)) {
	case CLIENT_TRACK_FIRST:
		count_reply(s, st, &c, latency);
		s->stats.end_ns = s->progress_ns = now;
		break;
	case CLIENT_TRACK_DUPLICATE:
		s->stats.duplicates++;
		if (!s->o->bulk)
			log_warn("a second reply for id %s",
				 xmpp_stanza_get_id(st));
		break;
	case CLIENT_TRACK_LATE:
		s->stats.late++;
		break;
	case CLIENT_TRACK_UNKNOWN:
		break;
	}
	client_check_clear(&c);
	pump(s);
}

static int on_stanza(xmpp_conn_t *conn, xmpp_stanza_t *st, void *userdata)
{
	struct session *s = userdata;
	const char *name = xmpp_stanza_get_name(st);
	const char *type = xmpp_stanza_get_type(st);
	const char *id = xmpp_stanza_get_id(st);
	int is_iq;
	long seq;

	(void)conn;
	if (name == NULL)
		return 1;
	is_iq = strcmp(name, "iq") == 0;
	if (is_iq && (util_streq(type, "get") || util_streq(type, "set"))) {
		answer_iq(s, st);
		return 1;
	}
	if ((!is_iq && strcmp(name, "message") != 0) || id == NULL)
		return 1;
	if (is_iq && s->phase == PHASE_ROSTER &&
	    strcmp(id, s->roster_id) == 0) {
		if (util_streq(type, "error"))
			log_warn("the server refused the roster; going on");
		start_run(s);
		return 1;
	}
	if (s->phase != PHASE_RUNNING && s->phase != PHASE_DONE)
		return 1;
	seq = client_track_lookup(s->track, id);
	if (seq >= 0)
		handle_reply(s, st, seq);
	return 1;
}

static void send_roster_and_presence(struct session *s)
{
	xmpp_stanza_t *st = xmpp_presence_new(s->ctx);

	if (st != NULL) {
		xmpp_send(s->conn, st);
		xmpp_stanza_release(st);
	}
	if (s->o->no_roster) {
		start_run(s);
		return;
	}
	st = client_request_roster(s->ctx, s->roster_id);
	if (st == NULL) {
		log_error("out of memory building the roster request");
		finish(s, CLIENT_EXIT_FAIL);
		return;
	}
	xmpp_send(s->conn, st);
	xmpp_stanza_release(st);
	s->phase = PHASE_ROSTER;
	s->deadline_ns = util_now_ns() + s->timeout_ns;
}

/* Name the stream error condition of SE (e.g. "not-authorized"). */
static const char *stream_condition(const xmpp_stream_error_t *se)
{
	xmpp_stanza_t *c;

	if (se->stanza != NULL) {
		for (c = xmpp_stanza_get_children(se->stanza); c != NULL;
		     c = xmpp_stanza_get_next(c)) {
			const char *name = xmpp_stanza_get_name(c);

			if (!xmpp_stanza_is_text(c) && name != NULL &&
			    strcmp(name, "text") != 0)
				return name;
		}
	}
	return "undefined-condition";
}

/* Say why we never got logged in: certificate, stream error, SASL, TCP. */
static void report_login_failure(struct session *s, int error,
				 const xmpp_stream_error_t *se)
{
	char esc[256];

	if (s->cert_failed) {
		log_error("TLS: the certificate of %s was not trusted (%s); pass "
			  "--cafile FILE with the server's CA or self-signed "
			  "certificate, or --insecure to skip the check",
			  s->endpoint, s->cert_error);
	} else if (se != NULL) {
		log_error("%s for %s: stream error %s%s%s",
			  se->type == XMPP_SE_NOT_AUTHORIZED ? "login failed" :
			  "connection closed", s->o->jid, stream_condition(se),
			  se->text ? ": " : "",
			  se->text ? log_escape(esc, sizeof(esc), se->text) : "");
	} else if (s->sasl_condition[0] != '\0') {
		log_error("login failed for %s: %s", s->o->jid,
			  s->sasl_condition);
	} else if (s->tcp_up) {
		log_error("login failed for %s: %s closed the connection during "
			  "TLS or authentication%s%s", s->o->jid, s->endpoint,
			  error ? ": " : "", error ? strerror(error) : "");
	} else {
		log_error("cannot connect to %s: %s", s->endpoint,
			  error ? strerror(error) :
			  "connection refused or unreachable");
	}
}

static void on_conn(xmpp_conn_t *conn, xmpp_conn_event_t event, int error,
		    xmpp_stream_error_t *se, void *userdata)
{
	struct session *s = userdata;

	if (event == XMPP_CONN_CONNECT) {
		s->connected = 1;
		s->tcp_up = 1;
		log_info("logged in as %s to %s, %s", xmpp_conn_get_bound_jid(conn),
			 s->endpoint, xmpp_conn_is_secured(conn) ?
			 "TLS" : "NOT encrypted");
		xmpp_handler_add(conn, on_stanza, NULL, NULL, NULL, s);
		send_roster_and_presence(s);
		return;
	}
	if (event != XMPP_CONN_DISCONNECT && event != XMPP_CONN_FAIL)
		return;
	s->disconnected = 1;
	if (s->phase == PHASE_DONE)
		return;
	progress_clear(s);
	if (!s->connected)
		report_login_failure(s, error, se);
	else
		log_error("connection to %s lost%s%s", s->endpoint,
			  error ? ": " : "", error ? strerror(error) : "");
	if (s->phase == PHASE_RUNNING && s->o->bulk)
		print_summary(s);
	s->phase = PHASE_DONE;
	s->result = CLIENT_EXIT_CONNECT;
}

/* Act on deadlines and signals between two xmpp_run_once() calls. */
static void tick(struct session *s)
{
	uint64_t now = util_now_ns();
	unsigned long n;
	long first;
	char id[64];

	if (!s->tcp_up && xmpp_conn_is_connected(s->conn))
		s->tcp_up = 1;
	if (stop_requested && s->phase != PHASE_DONE) {
		progress_clear(s);
		log_warn("interrupted by signal %d; closing the stream",
			 (int)stop_requested);
		if (s->phase == PHASE_RUNNING && s->o->bulk)
			print_summary(s);
		finish(s, CLIENT_EXIT_INTERRUPTED);
		return;
	}
	switch (s->phase) {
	case PHASE_CONNECTING:
		if (now >= s->deadline_ns) {
			log_error("cannot %s %s within %u s", s->tcp_up ?
				  "log in to" : "connect to", s->endpoint,
				  s->o->timeout_s);
			finish(s, CLIENT_EXIT_CONNECT);
		}
		break;
	case PHASE_ROSTER:
		if (now >= s->deadline_ns) {
			log_error("no roster from the server within %u s "
				  "(try --no-roster)", s->o->timeout_s);
			finish(s, CLIENT_EXIT_TIMEOUT);
		}
		break;
	case PHASE_RUNNING:
		if (s->progress && now - s->progress_shown_ns >= PROGRESS_NS) {
			client_report_progress(stderr, &s->stats, s->o->count,
					       now);
			s->progress_shown_ns = now;
		}
		/* --timeout bounds the wait for the next reply: when none came
		 * for that long, whatever is outstanding has timed out and the
		 * run ends (a dead component must not cost count/window
		 * timeouts). */
		if (s->track->outstanding == 0 ||
		    now - s->progress_ns < s->timeout_ns)
			break;
		n = client_track_expire(s->track, &first);
		s->stats.timeouts += n;
		s->stats.end_ns = now;
		if (!s->o->bulk) {
			client_track_id(s->track, (unsigned long)first, id,
					sizeof(id));
			log_error("no reply from %s within %u s (id %s)",
				  s->o->to, s->o->timeout_s, id);
		} else {
			progress_clear(s);
			log_error("no reply from %s for %u s: %lu outstanding "
				  "requests timed out, %lu not sent", s->o->to,
				  s->o->timeout_s, n,
				  s->track->count - s->track->next);
		}
		finish_run(s);
		break;
	case PHASE_DONE:
		break;
	}
}

static int setup(struct session *s, const struct client_opts *o)
{
	char *uuid, *domain;
	long flags;

	s->o = o;
	s->result = -1;
	s->progress = o->bulk && !o->quiet && isatty(STDERR_FILENO);
	s->timeout_ns = (uint64_t)o->timeout_s * 1000000000ULL;
	s->logger.handler = session_log;
	s->logger.userdata = s;
	s->ctx = xmpp_ctx_new(NULL, &s->logger);
	if (s->ctx == NULL)
		return -1;
	s->conn = xmpp_conn_new(s->ctx);
	if (s->conn == NULL)
		return -1;
	uuid = xmpp_uuid_gen(s->ctx);
	if (uuid == NULL)
		return -1;
	snprintf(s->prefix, sizeof(s->prefix), "ope-%.8s", uuid);
	xmpp_free(s->ctx, uuid);
	snprintf(s->roster_id, sizeof(s->roster_id), "%s-roster", s->prefix);
	s->track = client_track_new(o->count, s->prefix);
	if (s->track == NULL || client_stats_init(&s->stats, o->count) < 0)
		return -1;
	s->request = client_request_new(s->ctx, o);
	if (s->request == NULL)
		return -1;

	domain = xmpp_jid_domain(s->ctx, o->jid);
	if (domain == NULL)
		return -1;
	if (o->host != NULL)
		snprintf(s->endpoint, sizeof(s->endpoint), "%s:%u", o->host,
			 o->port ? o->port : 5222);
	else if (o->port != 0)
		snprintf(s->endpoint, sizeof(s->endpoint), "%s:%u", domain,
			 o->port);
	else
		snprintf(s->endpoint, sizeof(s->endpoint), "%s (DNS SRV, "
			 "else port 5222)", domain);
	xmpp_free(s->ctx, domain);

	xmpp_conn_set_jid(s->conn, o->jid);
	xmpp_conn_set_pass(s->conn, o->password);
	/* Keep libstrophe's defaults (TLS when offered, SCRAM before PLAIN)
	 * but stream management: a one-shot client cannot resume, and the
	 * library would keep every sent stanza queued until acknowledged. */
	flags = xmpp_conn_get_flags(s->conn) | XMPP_CONN_FLAG_DISABLE_SM;
	if (xmpp_conn_set_flags(s->conn, flags) != XMPP_EOK)
		return -1;
	if (o->cafile != NULL)
		xmpp_conn_set_cafile(s->conn, o->cafile);
	xmpp_conn_set_certfail_handler(s->conn, on_certfail);
	return 0;
}

static void teardown(struct session *s)
{
	if (s->request != NULL)
		xmpp_stanza_release(s->request);
	client_track_free(s->track);
	client_stats_free(&s->stats);
	if (s->conn != NULL)
		xmpp_conn_release(s->conn);
	if (s->ctx != NULL)
		xmpp_ctx_free(s->ctx);
}

int client_session_run(const struct client_opts *o)
{
	struct session s;
	const char *altdomain = o->host;
	char *domain = NULL;
	int rc;

	memset(&s, 0, sizeof(s));
	xmpp_initialize();
	if (setup(&s, o) < 0) {
		log_error("out of memory setting up the connection");
		rc = CLIENT_EXIT_FAIL;
		goto out;
	}
	if (o->insecure)
		log_warn("--insecure: the server's TLS certificate is not "
			 "checked; anyone on the path can read the password");
	/* --port alone still needs a host for libstrophe to skip SRV. */
	if (altdomain == NULL && o->port != 0) {
		domain = xmpp_jid_domain(s.ctx, o->jid);
		altdomain = domain;
	}
	current_session = &s;
	s.phase = PHASE_CONNECTING;
	s.deadline_ns = util_now_ns() + s.timeout_ns;
	if (xmpp_connect_client(s.conn, altdomain, o->port, on_conn, &s) !=
	    XMPP_EOK) {
		log_error("cannot connect to %s: cannot resolve or open a "
			  "socket", s.endpoint);
		rc = CLIENT_EXIT_CONNECT;
		goto out;
	}
	while (!s.disconnected) {
		xmpp_run_once(s.ctx, TICK_MS);
		tick(&s);
		if (s.phase == PHASE_DONE && !s.disconnected &&
		    util_now_ns() >= s.close_deadline_ns) {
			if (s.connected)
				log_warn("the server did not close the stream "
					 "in time");
			break;
		}
	}
	rc = s.result >= 0 ? s.result : CLIENT_EXIT_CONNECT;
out:
	current_session = NULL;
	if (domain != NULL)
		xmpp_free(s.ctx, domain);
	teardown(&s);
	xmpp_shutdown();
	return rc;
}
