/* SPDX-License-Identifier: MIT */
/* main.c: ope-component, the XEP-0114 daemon: options, config, signals, the loop. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "build_config.h"
#include "access.h"
#include "config.h"
#include "dispatch.h"
#include "drain.h"
#include "handover.h"
#include "journal.h"
#include "link.h"
#include "log.h"
#include "loop.h"
#include "pwcheck.h"
#include "metrics.h"
#include "notify.h"
#include "pool.h"
#include "takeover.h"
#include "util.h"

/* How long a clean shutdown may wait for the server to close the stream. */
#define SHUTDOWN_GRACE_MS 3000
/* How long --health waits for the running daemon's answer. */
#define HEALTH_TIMEOUT_MS 3000

/* Set by the loop's signal callbacks (on the loop's thread, not in a
 * handler) and by admin commands; the serve loop acts on them. */
static int stop_signal;
static int stop_count;  /* stop signals received */
static int reload_requested;
static int spawn_requested;
static uint64_t started_ms;

/* One link and what serves it: with server.connect "first" the one link
 * (failing over through server.hosts), with "all" one per entry. */
struct lane {
	struct link *link;
	/* What answers its stanzas, admin commands included; the first
	 * lane's owns the guard the others share (dispatch_new_beside()). */
	struct dispatch *dispatch;
	struct pool pool;            /* the instance's announcement on it */
	struct drain drain;          /* its drain on a stop */
	struct metrics *m;           /* NULL: metrics off */
	struct metrics_link *ml;     /* "all": its samples; NULL: the default */
	char tag[METRICS_LINK_NAME_MAX + 3]; /* "host:port: " in log lines
	                                        with "all", else "" */
	/* An admin command (XEP-0050) that came on this lane waits for this
	 * action; it raises the same flags a signal does and is answered
	 * once the loop acted on them. With "all" each lane has its own. */
	enum ext_action waits;
	int draining;
	uint64_t deadline;           /* closing: give up waiting at */
	int given_up;                /* the server did not close in time */
};
static struct lane lanes[CONFIG_LINKS_MAX];
static size_t nlanes;
/* server.connect "all" (several lanes, each pinned to its entry). */
static int all_links;

#define MULTI_NO_TAKEOVER "takeover moves one link; with server.connect = " \
	"\"all\" restart with SIGTERM: the pool modules re-route what is " \
	"in flight"

/* A signal, caught by the loop (loop_signal()). */
static void on_signal(void *arg, int sig)
{
	(void)arg;
	if (sig == SIGHUP) {
		reload_requested = 1;
	} else if (sig == SIGUSR2) {
		spawn_requested = 1;
	} else {
		stop_signal = sig;
		if (stop_count < 2)
			stop_count++;
	}
}

static void usage(FILE *out)
{
	fprintf(out,
"Usage: ope-component [OPTIONS]\n"
"XMPP external component (XEP-0114) answering example_tag requests for a domain.\n"
"\n"
"Options:\n"
"  -c, --config FILE   configuration file (default: %s; without it and\n"
"                      without -c, OPE_ variables alone configure ope)\n"
"      --check-config  validate the configuration and exit\n"
"      --health        ask the running daemon (metrics.listen) whether the\n"
"                      link is up: exit 0 if so, 1 with the reason if not\n"
"      --hash-password print a yescrypt hash for an access rule's password\n"
"                      (read without echo, or from stdin; never from argv)\n"
"      --takeover[=PATH]  take the link over from the ope-component running\n"
"                      with control socket PATH (default: control.path), with\n"
"                      no disconnect; what SIGUSR2 to the running one starts\n"
"  -d, --debug         log at debug level (overrides log.level)\n"
"  -q, --quiet         log errors only (overrides log.level)\n"
"  -h, --help          show this help and exit\n"
"  -V, --version       show the version and exit\n"
"\n"
"Signals: SIGTERM and SIGINT drain (ask the server's mod_ope to stop\n"
"routing here and answer until quiet; see drain.*), then close the stream\n"
"and exit; a second one closes at once. SIGHUP re-reads the configuration\n"
"(log and service settings; server, identity and reconnect changes need a\n"
"restart) and keeps the running one if the file has an error. SIGUSR2\n"
"starts this binary again with --takeover: the new process takes the live\n"
"link over (new binary and whole configuration, nothing lost); if it fails,\n"
"this one serves on. A direct TLS link cannot be handed over, nor the links\n"
"of server.connect = \"all\" (each drained on SIGTERM).\n"
"\n"
"Exit status:\n"
"  0  stopped by SIGTERM or SIGINT, or --check-config found no problem\n"
"  1  internal error (out of memory, library failure)\n"
"  2  usage or configuration error (printed as FILE:LINE: problem)\n"
"  3  the server refused the component for good: wrong secret\n"
"     (not-authorized) or domain unknown to the server (host-unknown)\n"
"  4  --takeover: the link was not taken over (the running process said\n"
"     why, or could not be reached); it serves on\n"
"\n"
"Transient faults (server down, connection lost, malformed XML, a stream\n"
"error, conflict) are retried with exponential back-off, trying each of\n"
"server.hosts in turn (with server.connect = \"all\" each link retries its\n"
"own entry); ope-component never exits on its own for them.\n",
		CONFIG_DEFAULT_PATH);
}

/* The loop wakes for these at once (a self-pipe), so no wait needs a
 * timeout to notice one. */
static int install_signals(struct loop *loop)
{
	struct sigaction sa;

	if (loop_signal(loop, SIGTERM, on_signal, NULL) != 0 ||
	    loop_signal(loop, SIGINT, on_signal, NULL) != 0 ||
	    loop_signal(loop, SIGHUP, on_signal, NULL) != 0 ||
	    loop_signal(loop, SIGUSR2, on_signal, NULL) != 0)
		return -1;
	/* The link sends with MSG_NOSIGNAL; this also covers TLS and stdio. */
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_IGN;
	return sigaction(SIGPIPE, &sa, NULL);
}

/* The metrics count the loop as stalled after METRICS_STALL_MS without a
 * turn (metrics_loop_alive()): an idle loop turns at least this often. */
#define HEARTBEAT_MS (METRICS_STALL_MS / 4)

static struct loop_timer *heartbeat;

static void on_heartbeat(void *arg)
{
	(void)arg;
	loop_timer_at(heartbeat, util_now_ms() + HEARTBEAT_MS);
}

/* Where the configuration came from, for messages. */
static const char *origin(const char *path)
{
	return path != NULL ? path : "the environment";
}

/* The log settings of CFG (-d and -q win over log.level). */
static void apply_log(const struct config *cfg, int level_override)
{
	log_set_level(level_override >= 0 ? (enum log_level)level_override
					  : cfg->log_level);
	log_set_timestamps(cfg->log_timestamps);
	log_set_format(cfg->log_format);
	log_set_sink(journal_wanted(cfg->log_format) ? journal_sink : NULL, NULL);
}

/* SIGHUP: config_reload() swaps in a valid file and keeps the running
 * configuration otherwise; here only the log settings are re-applied.
 * SAID (size LEN) gets one line for an admin command. Returns 0, or -1
 * when the running configuration was kept. */
static int reload(struct config *cfg, int level_override, char *said,
		  size_t len)
{
	char err[1024], kept[512], changed[512];

	if (config_reload_changes(cfg, err, sizeof(err), kept, sizeof(kept),
				  changed, sizeof(changed)) != 0) {
		log_error("reload failed; keeping the running configuration: %s", err);
		snprintf(said, len, "refused, the running configuration is kept: "
			 "%s", err);
		return -1;
	}
	snprintf(said, len, "reloaded %s; changed: %s%s%s%s", origin(cfg->path),
		 changed[0] ? changed : "nothing else",
		 cfg->access ? " (access rules re-read)" : "",
		 kept[0] ? "; after a restart only: " : "", kept);
	if (kept[0] != '\0')
		log_warn("reload: changes to %s take effect only after a restart",
			 kept);
	apply_log(cfg, level_override);
	log_info("configuration reloaded from %s (log level %s)",
		 origin(cfg->path), log_level_name(log_get_level()));
	return 0;
}

/* dispatch_admin.act: do what the command asks as its signal would. */
static void command_act(void *arg, enum ext_action action)
{
	struct lane *ln = arg;

	ln->waits = action;
	if (action == EXT_ACTION_RELOAD) {
		reload_requested = 1;
	} else if (action == EXT_ACTION_RESTART) {
		spawn_requested = 1;
	} else if (action == EXT_ACTION_STOP && !stop_signal) {
		stop_signal = SIGTERM;
		stop_count = 1;
	} else if (action == EXT_ACTION_STOP) {
		/* As a second SIGTERM: close at once (answered in serve()). */
		stop_count++;
	}
}

static const char *const state_words[] = {
	[LINK_CONNECTING] = "connecting", [LINK_UP] = "up",
	[LINK_WAITING] = "waiting to reconnect", [LINK_STOPPED] = "stopped",
};

/* dispatch_admin.status: the process's and the link's (ARG, the lane the
 * command came on) part; with "all" every link too. */
static void command_status(void *arg, struct ext_status *out)
{
	static char list[CONFIG_LINKS_MAX * (METRICS_LINK_NAME_MAX + 40)];
	struct lane *ln = arg;
	size_t i, at = 0;
	enum link_state st;
	int n;

	out->pid = (long)getpid();
	out->uptime_s = (util_now_ms() - started_ms) / 1000.0;
	out->instance = ln->pool.name;
	link_status(ln->link, out);
	if (!all_links)
		return;
	list[0] = '\0';
	for (i = 0; i < nlanes && at < sizeof(list); i++) {
		st = link_get_state(lanes[i].link);
		n = snprintf(list + at, sizeof(list) - at, "%s%s %s", i ? "; " : "",
			     link_server(lanes[i].link),
			     (size_t)st < ARRAY_SIZE(state_words) &&
			     state_words[st] ? state_words[st] : "unknown");
		if (n > 0)
			at += (size_t)n;
	}
	out->links = list;
}

/* Whether a command waits for ACTION on some lane. */
static int command_waiting(enum ext_action action)
{
	size_t i;

	for (i = 0; i < nlanes; i++)
		if (lanes[i].waits == action)
			return 1;
	return 0;
}

/* Answer every command waiting for ACTION, each on the lane it came on
 * (with "all", admins on two links may wait for different actions). */
static void command_done(enum ext_action action, int ok, const char *said)
{
	size_t i;

	for (i = 0; i < nlanes; i++) {
		if (lanes[i].waits != action)
			continue;
		lanes[i].waits = EXT_ACTION_NONE;
		dispatch_action_done(lanes[i].dispatch, ok, said);
	}
}

/* --health: ask the daemon configured in PATH over its metrics.listen.
 * Exits 0 or 1 only: a container HEALTHCHECK reserves other codes. */
static int ask_health(const char *path)
{
	struct config cfg = { 0 };
	char err[1024];
	int rc = 1;

	log_set_level(LOG_LEVEL_ERROR);
	if (config_load(path, &cfg, err, sizeof(err)) != 0)
		fprintf(stderr, "unhealthy: %s\n", err);
	else if (cfg.metrics_listen == NULL)
		fprintf(stderr, "unhealthy: %s sets no metrics.listen, so there "
			"is no health endpoint to ask\n", origin(path));
	else if ((rc = metrics_health_query(cfg.metrics_listen, HEALTH_TIMEOUT_MS,
					    err, sizeof(err))) == 0)
		printf("%s\n", err);
	else
		fprintf(stderr, "%s\n", err);
	config_free(&cfg);
	return rc;
}

/* Whether every lane's link is finished (or given up on). */
static int all_done(void)
{
	size_t i;

	for (i = 0; i < nlanes; i++)
		if (!link_done(lanes[i].link) && !lanes[i].given_up)
			return 0;
	return 1;
}

/* Each link's one observer (ARG: its lane): the pool announcement, the
 * service manager (sd_notify: READY at the first link up) and, when
 * metrics.listen is set, the metrics. */
static void on_link_state(void *arg, enum link_state state, const char *detail)
{
	struct lane *ln = arg;
	char said[METRICS_LINK_NAME_MAX + 300];

	pool_link_state(&ln->pool, state);
	if (!all_links) {
		notify_link_state(NULL, state, detail);
		if (ln->m != NULL)
			metrics_link_state(ln->m, state, detail);
		return;
	}
	snprintf(said, sizeof(said), "%s%s", ln->tag, detail);
	/* STOPPING once the last link is: until then one more status. */
	notify_link_state(NULL, state == LINK_STOPPED && !all_done() ?
			  LINK_WAITING : state, said);
	metrics_link_observe(ln->ml, state, detail);
}

/* The first stop signal on lane LN: start its drain if its link is up,
 * else close at once. Returns 1 while draining. */
static int begin_stop(struct lane *ln, const struct config *cfg)
{
	struct drain_opts o = { .quiet_ms = cfg->drain_quiet_ms,
				.max_ms = cfg->drain_max_ms,
				.answer_ms = cfg->drain_answer_ms };
	struct link *l = ln->link;

	if (link_get_state(l) == LINK_UP &&
	    drain_begin(&ln->drain, &o, cfg->domain, util_now_ms()) == 0) {
		log_info("%sdraining: asked the server to stop routing to %s "
			 "(at most %u ms; a second signal closes at once)",
			 ln->tag, cfg->domain, cfg->drain_max_ms);
		return 1;
	}
	if (link_get_state(l) == LINK_UP) {
		log_warn("%scannot drain (out of memory, or no random bytes for "
			 "the request's id yet): closing at once", ln->tag);
		metrics_drain_done(ln->m, METRICS_DRAIN_NONE);
	}
	link_stop(l);
	return 0;
}

#define NO_MODULE "mod_ope (contrib/prosody/mod_ope.lua, " \
	"contrib/ejabberd/mod_ope.erl) is not loaded there; closing at once, " \
	"so requests routed here meanwhile are lost (doc/restarts.md, \"The " \
	"server modules\")"

/* While lane LN drains: decide whether to close now; *WAIT_MS is lowered
 * to the next moment to decide again. Returns 1 when the drain is over. */
static int drain_over(struct lane *ln, int *wait_ms)
{
	struct link *l = ln->link;
	struct drain *d = &ln->drain;
	struct metrics *m = ln->m;
	const char *tag = ln->tag;
	uint64_t now = util_now_ms();
	unsigned wait = 0;

	if (stop_count > 1) {
		log_info("%ssecond stop signal: closing at once", tag);
		metrics_drain_done(m, METRICS_DRAIN_SIGNAL);
		return 1;
	}
	if (link_get_state(l) != LINK_UP) {
		log_info("%sthe link went down while draining: stopping", tag);
		metrics_drain_done(m, METRICS_DRAIN_LINK_DOWN);
		return 1;
	}
	switch (drain_poll(d, now, &wait)) {
	case DRAIN_WAIT:
		if (wait < (unsigned)*wait_ms)
			*wait_ms = (int)wait;
		return 0;
	case DRAIN_CLOSE:
		if (now >= d->started_ms + d->opts.max_ms) {
			log_warn("%sdrained: drain.maximum (%u ms) reached while "
				 "requests still came; closing", tag,
				 d->opts.max_ms);
			metrics_drain_done(m, METRICS_DRAIN_MAXIMUM);
		} else {
			log_info("%sdrained: no request for %u ms; closing", tag,
				 d->opts.quiet_ms);
			metrics_drain_done(m, METRICS_DRAIN_QUIET);
		}
		return 1;
	case DRAIN_CLOSE_FALLBACK:
	default:
		metrics_drain_done(m, METRICS_DRAIN_FALLBACK);
		if (d->answer_was_error)
			log_warn("%sthe server answered the drain request with an "
				 "error: %s", tag, NO_MODULE);
		else
			log_warn("%sno answer to the drain request within %u ms "
				 "(drain.answer): %s", tag, d->opts.answer_ms,
				 NO_MODULE);
		return 1;
	}
}

/* SIGUSR2: start a successor that takes the link over; when the link
 * cannot move (TLS), at least re-read the configuration. */
static void restart_in_place(struct link *l, struct config *cfg,
			     int level_override, struct takeover *t)
{
	const char *why = takeover_why_not_now(t, l);
	char said[1400], re[1200];
	int pid, ok = 0;

	if (why == NULL) {
		pid = takeover_spawn(t);
		ok = pid > 0;
		if (ok)
			snprintf(said, sizeof(said), "started pid %d to take the "
				 "link over; this process exits once it holds "
				 "the link (the outcome is logged)", pid);
		else if (takeover_fd(t) < 0)
			snprintf(said, sizeof(said), "no takeover restart: no "
				 "control socket (set control.path, or run under "
				 "systemd with RuntimeDirectory=)");
		else
			snprintf(said, sizeof(said), "no takeover restart: one "
				 "is under way, or the new process could not be "
				 "started (see the log)");
	} else if (stop_signal) {
		log_info("SIGUSR2 ignored: %s", why);
		snprintf(said, sizeof(said), "ignored: %s", why);
	} else {
		log_warn("SIGUSR2: no takeover restart: %s; re-reading the "
			 "configuration instead, as for SIGHUP", why);
		reload(cfg, level_override, re, sizeof(re));
		snprintf(said, sizeof(said), "no takeover restart: %s; the "
			 "configuration was re-read instead: %s", why, re);
	}
	command_done(EXT_ACTION_RESTART, ok, said);
}

/* The worst exit status of the lanes' links (the highest code). */
static enum component_exit lanes_exit_status(void)
{
	enum component_exit worst = COMPONENT_EXIT_OK, e;
	size_t i;

	for (i = 0; i < nlanes; i++)
		if ((e = link_exit_status(lanes[i].link)) > worst)
			worst = e;
	return worst;
}

/* Run the event loop until every lane's link is finished, or the one link
 * handed over (T: the takeover side). */
static enum component_exit serve(struct loop *loop, struct config *cfg,
				 int level_override, struct takeover *t)
{
	struct link *first = lanes[0].link;
	int stopping = 0, draining, wait_ms;
	uint64_t now;
	size_t i;

	while (!all_done()) {
		metrics_loop_alive(lanes[0].m);
		if (reload_requested) {
			char said[1200];
			int ok;

			reload_requested = 0;
			ok = reload(cfg, level_override, said, sizeof(said)) == 0;
			command_done(EXT_ACTION_RELOAD, ok, said);
		}
		if (spawn_requested) {
			spawn_requested = 0;
			restart_in_place(first, cfg, level_override, t);
		}
		wait_ms = notify_wait_ms(INT_MAX);
		if (command_waiting(EXT_ACTION_STOP) && stopping)
			command_done(EXT_ACTION_STOP, 1, "already stopping: "
				     "closing at once, as for a second stop "
				     "signal");
		if (stop_signal && !stopping) {
			stopping = 1;
			takeover_abort(t, first, "it is stopping (a stop signal "
				       "came)");
			/* Queued before the drain starts: it is written. */
			command_done(EXT_ACTION_STOP, 1, "stopping: draining "
				     "first where the server allows it "
				     "(drain.*), then closing the stream");
			log_info("shutting down (%s)", strsignal(stop_signal));
			notify_stopping("shutting down");
			draining = 0;
			for (i = 0; i < nlanes; i++) {
				lanes[i].draining = begin_stop(&lanes[i], cfg);
				draining |= lanes[i].draining;
				if (!lanes[i].draining)
					lanes[i].deadline = util_now_ms() +
						SHUTDOWN_GRACE_MS;
			}
			if (draining && !all_links)
				takeover_refuse(t, "it is draining to stop");
			continue;
		}
		draining = 0;
		for (i = 0; i < nlanes; i++) {
			struct lane *ln = &lanes[i];

			if (!ln->draining || !drain_over(ln, &wait_ms))
				continue;
			ln->draining = 0;
			if (!all_links)
				takeover_refuse(t, NULL);
			link_stop(ln->link);
			ln->deadline = util_now_ms() + SHUTDOWN_GRACE_MS;
			draining = 1;
		}
		if (draining)
			continue;
		notify_watchdog();
		now = util_now_ms();
		for (i = 0; i < nlanes; i++) {
			uint64_t dl = lanes[i].deadline;

			if (dl == 0 || link_done(lanes[i].link) || lanes[i].given_up)
				continue;
			if (dl <= now)
				wait_ms = 0;
			else if (dl - now < (uint64_t)wait_ms)
				wait_ms = (int)(dl - now) + 1;
		}
		/* Lines logged since the last turn go out before the wait. */
		log_flush();
		if (loop_run_once(loop, wait_ms == INT_MAX ? -1 : wait_ms) != 0) {
			log_error("poll failed: %s", strerror(errno));
			return COMPONENT_EXIT_INTERNAL;
		}
		if (takeover_run(t, first))
			return COMPONENT_EXIT_OK;
		now = util_now_ms();
		for (i = 0; i < nlanes; i++) {
			struct lane *ln = &lanes[i];

			if (ln->deadline == 0 || now <= ln->deadline ||
			    link_done(ln->link) || ln->given_up)
				continue;
			log_warn("%sthe server did not close the stream within "
				 "%d ms; %s", ln->tag, SHUTDOWN_GRACE_MS,
				 all_links ? "giving up on it" : "exiting anyway");
			ln->given_up = 1;
		}
	}
	return lanes_exit_status();
}

/* --takeover: take the link over from the process listening on PATH
 * instead of connecting (L not started yet). Returns 1 once L carries
 * the stream, 0 when the old process had none up (start L), -1 when the
 * takeover failed (the reason was logged). */
static int take_over(struct loop *loop, struct link *l, const char *path)
{
	struct handover_link h;
	char err[1200], lerr[400];
	int fd, refused, old;

	if (path == NULL) {
		log_error("takeover failed: no control socket to ask: set "
			  "control.path, or give --takeover=PATH");
		return -1;
	}
	log_info("asking the ope-component on %s for its link", path);
	/* The answer may take seconds: say so now, not after it. */
	log_flush();
	fd = takeover_request(loop, path, &h, &refused, err, sizeof(err));
	if (fd < 0) {
		if (refused)
			log_error("%s", err);
		else
			log_error("takeover failed: %s", err);
		return -1;
	}
	old = handover_peer_pid(fd);
	if (h.fd < 0) {
		if (takeover_confirm(loop, fd, 1) < 0) {
			log_error("takeover failed: the running ope-component "
				  "(pid %d) could not be told, or stopped "
				  "waiting, and serves on", old);
			return -1;
		}
		log_info("took over from pid %d, which had no link up: "
			 "connecting", old);
		return 0;
	}
	if (link_adopt(l, &h, lerr, sizeof(lerr)) < 0) {
		log_error("takeover failed: %s; the running ope-component "
			  "(pid %d) serves on", lerr, old);
		takeover_confirm(loop, fd, 0);
		if (h.fd >= 0)
			close(h.fd);
		handover_link_clear(&h);
		return -1;
	}
	/* The link does no I/O until the old process let go (link_adopt()). */
	if (takeover_confirm(loop, fd, 1) < 0) {
		/* It resumes: the socket must not be touched from here. */
		log_error("takeover failed: the running ope-component (pid %d) "
			  "could not be told, or stopped waiting, and keeps its "
			  "link", old);
		link_release(l);
		handover_link_clear(&h);
		return -1;
	}
	link_resume(l);
	log_info("took over the link to %s from pid %d (%zu bytes left over)",
		 h.server, old, h.unparsed_len);
	pool_adopted(&lanes[0].pool, h.instance);
	handover_link_clear(&h);
	return 1;
}

/* Set up lane LN, the I-th (lanes[0] first: the others share its
 * dispatcher's guard): its link (pinned to entry I with "all"), its
 * dispatcher, its drain and pool announcement, its metrics samples.
 * Returns 0, or -1 (logged). */
static int lane_new(struct lane *ln, struct loop *loop, xmpp_ctx_t *ctx,
		    struct config *cfg, struct metrics *m)
{
	size_t i = (size_t)(ln - lanes);
	struct dispatch_admin admin = {
		.status = command_status, .act = command_act, .arg = ln,
	};
	struct link_upper upper;

	ln->m = m;
	if ((ln->link = link_new(loop, ctx, cfg, m)) == NULL)
		return -1;
	if (all_links) {
		link_pin(ln->link, i);
		snprintf(ln->tag, sizeof(ln->tag), "%s: ",
			 link_server(ln->link));
		if (m != NULL &&
		    (ln->ml = metrics_link_add(m, link_server(ln->link))) == NULL) {
			log_error("internal error: no metrics for link %s",
				  link_server(ln->link));
			return -1;
		}
		link_set_metrics_link(ln->link, ln->ml);
	}
	ln->dispatch = i == 0 ? dispatch_new(ctx, cfg, m, link_send, ln->link) :
		dispatch_new_beside(lanes[0].dispatch, link_send, ln->link);
	if (ln->dispatch == NULL || dispatch_watch(ln->dispatch, loop) != 0) {
		log_error("out of memory while starting");
		return -1;
	}
	dispatch_set_admin(ln->dispatch, &admin);
	dispatch_link_upper(ln->dispatch, &upper);
	link_set_upper(ln->link, &upper);
	pool_init(&ln->pool, cfg->instance);
	/* The drain first: it sees the pool's answers too. */
	if (drain_attach(&ln->drain, ln->link) != 0 ||
	    pool_attach(&ln->pool, ln->link, cfg->domain) != 0) {
		log_error("internal error: too many claimers on the link");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, 'k' },
		{ "hash-password", no_argument, NULL, 'P' },
		{ "health", no_argument, NULL, 'H' },
		{ "takeover", optional_argument, NULL, 'T' },
		{ "debug", no_argument, NULL, 'd' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = NULL, *takeover_from = NULL, *ctl;
	int check_only = 0, health = 0, takeover = 0, adopted = 0;
	int level_override = -1;
	int initialized = 0, opt;
	size_t i;
	struct config cfg = { 0 };
	xmpp_ctx_t *ctx = NULL;
	struct loop *loop = NULL;
	struct metrics *m = NULL;
	struct takeover *t = NULL;
	enum component_exit status = COMPONENT_EXIT_INTERNAL;
	char err[1024], ctl_buf[256];
	char **args;

	log_init("ope-component", LOG_LEVEL_INFO, stderr);
	/* getopt reorders argv: keep it as given, to start a successor. */
	args = calloc((size_t)argc + 1, sizeof(*args));
	if (args == NULL) {
		fprintf(stderr, "ope-component: out of memory\n");
		return COMPONENT_EXIT_INTERNAL;
	}
	memcpy(args, argv, (size_t)argc * sizeof(*args));
	while ((opt = getopt_long(argc, argv, "c:dqhV", options, NULL)) != -1) {
		switch (opt) {
		case 'c': path = optarg; break;
		case 'k': check_only = 1; break;
		case 'P': free(args); return pwcheck_cli();
		case 'H': health = 1; break;
		case 'T': takeover = 1; takeover_from = optarg; break;
		case 'd': level_override = LOG_LEVEL_DEBUG; break;
		case 'q': level_override = LOG_LEVEL_ERROR; break;
		case 'h': usage(stdout); free(args); return COMPONENT_EXIT_OK;
		case 'V': printf("ope-component %s\n", PACKAGE_VERSION); free(args); return COMPONENT_EXIT_OK;
		default: usage(stderr); free(args); return COMPONENT_EXIT_CONFIG;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "ope-component: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		free(args);
		return COMPONENT_EXIT_CONFIG;
	}
	/* Without -c: the default file, or the environment alone when there
	 * is none (a container configured by OPE_ variables). */
	if (path == NULL && access(CONFIG_DEFAULT_PATH, F_OK) == 0)
		path = CONFIG_DEFAULT_PATH;
	if (health) {
		free(args);
		return ask_health(path);
	}
	if (config_load(path, &cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "ope-component: %s\n", err);
		if (path == NULL)
			fprintf(stderr, "ope-component: (no -c and no %s: the "
				"settings come from OPE_ variables alone; see "
				"ope-component.conf(5), ENVIRONMENT)\n",
				CONFIG_DEFAULT_PATH);
		free(args);
		return COMPONENT_EXIT_CONFIG;
	}
	if (check_only) {
		printf("%s: configuration OK (component %s, server %s:%u%s)\n",
		       origin(path), cfg.domain, cfg.servers.list[0].host,
		       cfg.servers.list[0].port,
		       cfg.servers.n > 1 ? " and others" : "");
		if (cfg.access != NULL)
			printf("access: %zu rules, default %s\n",
			       access_table_count(cfg.access),
			       cfg.access_default == ACCESS_DENY ? "deny" : "allow");
		config_free(&cfg);
		free(args);
		return COMPONENT_EXIT_OK;
	}
	apply_log(&cfg, level_override);
	/* serve() flushes before the loop waits (log.h). */
	log_set_buffered(1);
	if ((loop = loop_new()) == NULL) {
		log_error("out of memory while starting");
		goto out;
	}
	if (install_signals(loop) != 0) {
		log_error("cannot install signal handlers");
		goto out;
	}

	xmpp_initialize();
	initialized = 1;
	ctl = takeover_path(&cfg, ctl_buf, sizeof(ctl_buf));
	if (cfg.metrics_listen != NULL &&
	    (m = metrics_new(METRICS_STALL_MS)) == NULL) {
		log_error("out of memory while starting");
		goto out;
	}
	/* A successor serves metrics once the old process let go of the
	 * address (take_over()). */
	if (m != NULL && !takeover &&
	    metrics_serve(m, cfg.metrics_listen, err, sizeof(err)) != 0) {
		log_error("%s: %s", origin(cfg.path), err);
		status = COMPONENT_EXIT_CONFIG;
		goto out;
	}
	ctx = xmpp_ctx_new(NULL, log_strophe_logger());
	if (ctx == NULL) {
		log_error("out of memory while starting");
		goto out;
	}
	if (m != NULL) {
		if ((heartbeat = loop_timer_add(loop, on_heartbeat, NULL)) == NULL) {
			log_error("out of memory while starting");
			goto out;
		}
		loop_timer_at(heartbeat, 1);
	}
	all_links = cfg.connect_all;
	nlanes = all_links ? cfg.servers.n : 1;
	for (i = 0; i < nlanes; i++)
		if (lane_new(&lanes[i], loop, ctx, &cfg, m) != 0)
			goto out;
	started_ms = util_now_ms();
	log_info("ope-component %s starting for %s as instance %s (config %s)",
		 PACKAGE_VERSION, cfg.domain, lanes[0].pool.name, origin(path));
	if (all_links)
		log_info("server.connect \"all\": one link to each of %zu servers",
			 nlanes);
	if (takeover && all_links) {
		log_error("takeover failed: this configuration sets "
			  "server.connect = \"all\": %s; the running "
			  "ope-component serves on", MULTI_NO_TAKEOVER);
		status = COMPONENT_EXIT_TAKEOVER;
		goto out;
	}
	if (takeover) {
		adopted = take_over(loop, lanes[0].link,
				    takeover_from ? takeover_from : ctl);
		if (adopted < 0) {
			status = COMPONENT_EXIT_TAKEOVER;
			goto out;
		}
		if (m != NULL &&
		    metrics_serve(m, cfg.metrics_listen, err, sizeof(err)) != 0)
			log_error("%s: %s; serving on without metrics",
				  origin(cfg.path), err);
	}
	metrics_set_instance(m, lanes[0].pool.name);
	notify_init();
	for (i = 0; i < nlanes; i++)
		link_set_observer(lanes[i].link, on_link_state, &lanes[i]);
	if ((t = takeover_new(loop, ctl, args)) == NULL) {
		log_error("out of memory while starting");
		goto out;
	}
	takeover_set_metrics(t, m);
	takeover_set_instance(t, lanes[0].pool.name);
	if (all_links)
		takeover_refuse(t, MULTI_NO_TAKEOVER);
	if (adopted)
		/* READY=1, now that this process is the service's main one. */
		on_link_state(&lanes[0], link_get_state(lanes[0].link),
			      "took over the link");
	else
		for (i = 0; i < nlanes; i++)
			if (link_start(lanes[i].link) != 0)
				goto out;
	status = serve(loop, &cfg, level_override, t);
out:
	/* In this order: the metrics address and then the control socket
	 * are free when a successor is told to go on. The links first (they
	 * tell their dispatchers), then the dispatchers, the ones beside
	 * the first before it. */
	for (i = nlanes; i-- > 0;)
		link_free(lanes[i].link);
	for (i = nlanes; i-- > 0;)
		dispatch_free(lanes[i].dispatch);
	metrics_free(m);
	takeover_free(t);
	loop_timer_del(heartbeat);
	loop_free(loop);
	if (ctx != NULL)
		xmpp_ctx_free(ctx);
	if (initialized)
		xmpp_shutdown();
	config_free(&cfg);
	free(args);
	return status;
}
