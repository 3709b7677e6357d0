/* SPDX-License-Identifier: MIT */
/* main.c: ope-component, the XEP-0114 daemon: options, config, signals, the loop. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "build_config.h"
#include "access.h"
#include "config.h"
#include "drain.h"
#include "link.h"
#include "log.h"
#include "pwcheck.h"
#include "metrics.h"
#include "notify.h"
#include "util.h"

/* How long a clean shutdown may wait for the server to close the stream. */
#define SHUTDOWN_GRACE_MS 3000
/* How long --health waits for the running daemon's answer. */
#define HEALTH_TIMEOUT_MS 3000

static volatile sig_atomic_t stop_signal;
static volatile sig_atomic_t stop_count;  /* stop signals received */
static volatile sig_atomic_t reload_requested;

static void on_signal(int sig)
{
	if (sig == SIGHUP) {
		reload_requested = 1;
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
"  -c, --config FILE   configuration file (default: %s)\n"
"      --check-config  validate the configuration and exit\n"
"      --health        ask the running daemon (metrics.listen) whether the\n"
"                      link is up: exit 0 if so, 1 with the reason if not\n"
"      --hash-password print a yescrypt hash for an access rule's password\n"
"                      (read without echo, or from stdin; never from argv)\n"
"  -d, --debug         log at debug level (overrides log.level)\n"
"  -q, --quiet         log errors only (overrides log.level)\n"
"  -h, --help          show this help and exit\n"
"  -V, --version       show the version and exit\n"
"\n"
"Signals: SIGTERM and SIGINT drain (ask ejabberd's mod_ope_drain to stop\n"
"routing here and answer until quiet; see drain.*), then close the stream\n"
"and exit; a second one closes at once. SIGHUP re-reads the configuration\n"
"(log and service settings; server, identity and reconnect changes need a\n"
"restart) and keeps the running one if the file has an error.\n"
"\n"
"Exit status:\n"
"  0  stopped by SIGTERM or SIGINT, or --check-config found no problem\n"
"  1  internal error (out of memory, library failure)\n"
"  2  usage or configuration error (printed as FILE:LINE: problem)\n"
"  3  the server refused the component for good: wrong secret\n"
"     (not-authorized) or domain unknown to the server (host-unknown)\n"
"\n"
"Transient faults (server down, connection lost, malformed XML, a stream\n"
"error, conflict) are retried with exponential back-off, trying each of\n"
"server.hosts in turn; ope-component never exits on its own for them.\n",
		CONFIG_DEFAULT_PATH);
}

static int install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a signal should cut link_run_once()'s wait short. */
	sa.sa_handler = on_signal;
	if (sigaction(SIGTERM, &sa, NULL) != 0 || sigaction(SIGINT, &sa, NULL) != 0 ||
	    sigaction(SIGHUP, &sa, NULL) != 0)
		return -1;
	/* The link sends with MSG_NOSIGNAL; this also covers TLS and stdio. */
	sa.sa_handler = SIG_IGN;
	return sigaction(SIGPIPE, &sa, NULL);
}

/* SIGHUP: config_reload() swaps in a valid file and keeps the running
 * configuration otherwise; here only the log settings are re-applied. */
static void reload(struct config *cfg, int level_override)
{
	char err[1024], kept[512];

	if (config_reload(cfg, err, sizeof(err), kept, sizeof(kept)) != 0) {
		log_error("reload failed; keeping the running configuration: %s", err);
		return;
	}
	if (kept[0] != '\0')
		log_warn("reload: changes to %s take effect only after a restart",
			 kept);
	log_set_level(level_override >= 0 ? (enum log_level)level_override
					  : cfg->log_level);
	log_set_timestamps(cfg->log_timestamps);
	log_info("configuration reloaded from %s (log level %s)", cfg->path,
		 log_level_name(log_get_level()));
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
			"is no health endpoint to ask\n", path);
	else if ((rc = metrics_health_query(cfg.metrics_listen, HEALTH_TIMEOUT_MS,
					    err, sizeof(err))) == 0)
		printf("%s\n", err);
	else
		fprintf(stderr, "%s\n", err);
	config_free(&cfg);
	return rc;
}

/* The link's one observer: the service manager (sd_notify) and, when
 * metrics.listen is set, the metrics (ARG). */
static void on_link_state(void *arg, enum link_state state, const char *detail)
{
	struct metrics *m = arg;

	notify_link_state(NULL, state, detail);
	if (m != NULL)
		metrics_link_state(m, state, detail);
}

/* The first stop signal: start a drain (D) if the link is up, else close
 * at once. Returns 1 while draining. */
static int begin_stop(struct link *l, const struct config *cfg,
		      struct drain *d)
{
	struct drain_opts o = { .quiet_ms = cfg->drain_quiet_ms,
				.max_ms = cfg->drain_max_ms,
				.answer_ms = cfg->drain_answer_ms };

	log_info("shutting down (%s)", strsignal(stop_signal));
	notify_stopping("shutting down");
	drain_init(d, &o);
	if (link_get_state(l) == LINK_UP && link_drain(l, d) == 0) {
		log_info("draining: asked the server to stop routing to %s "
			 "(at most %u ms; a second signal closes at once)",
			 cfg->domain, cfg->drain_max_ms);
		return 1;
	}
	link_stop(l);
	return 0;
}

#define NO_MODULE "mod_ope_drain (contrib/ejabberd/mod_ope_drain.erl) is " \
	"not loaded there; closing at once, so requests routed here " \
	"meanwhile are lost (README: \"Installing mod_ope_drain\")"

/* While draining: decide whether to close now; *WAIT_MS is lowered to the
 * next moment to decide again. Returns 1 when the drain is over. */
static int drain_over(struct link *l, struct drain *d, int *wait_ms)
{
	uint64_t now = util_now_ms();
	unsigned wait = 0;

	if (stop_count > 1) {
		log_info("second stop signal: closing at once");
		return 1;
	}
	if (link_get_state(l) != LINK_UP) {
		log_info("the link went down while draining: stopping");
		return 1;
	}
	switch (drain_poll(d, now, &wait)) {
	case DRAIN_WAIT:
		if (wait < (unsigned)*wait_ms)
			*wait_ms = (int)wait;
		return 0;
	case DRAIN_CLOSE:
		if (now >= d->started_ms + d->opts.max_ms)
			log_warn("drained: drain.maximum (%u ms) reached while "
				 "requests still came; closing", d->opts.max_ms);
		else
			log_info("drained: no request for %u ms; closing",
				 d->opts.quiet_ms);
		return 1;
	case DRAIN_CLOSE_FALLBACK:
	default:
		if (d->answer_was_error)
			log_warn("the server answered the drain request with an "
				 "error: %s", NO_MODULE);
		else
			log_warn("no answer to the drain request within %u ms "
				 "(drain.answer): %s", d->opts.answer_ms, NO_MODULE);
		return 1;
	}
}

/* Run the event loop until the link is finished. */
static enum component_exit serve(struct link *l, struct config *cfg,
				 int level_override, struct metrics *m)
{
	struct drain d;
	uint64_t deadline = 0;
	int draining = 0, wait_ms;

	while (!link_done(l)) {
		metrics_loop_alive(m);
		if (reload_requested) {
			reload_requested = 0;
			reload(cfg, level_override);
		}
		wait_ms = notify_wait_ms(200);
		if (stop_signal && deadline == 0 && !draining) {
			draining = begin_stop(l, cfg, &d);
			if (!draining)
				deadline = util_now_ms() + SHUTDOWN_GRACE_MS;
			continue;
		}
		if (draining && drain_over(l, &d, &wait_ms)) {
			draining = 0;
			link_stop(l);
			deadline = util_now_ms() + SHUTDOWN_GRACE_MS;
			continue;
		}
		notify_watchdog();
		if (link_run_once(l, wait_ms) != 0)
			break;
		if (deadline != 0 && util_now_ms() > deadline) {
			log_warn("the server did not close the stream within %d ms; "
				 "exiting anyway", SHUTDOWN_GRACE_MS);
			break;
		}
	}
	return link_exit_status(l);
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, 'k' },
		{ "hash-password", no_argument, NULL, 'P' },
		{ "health", no_argument, NULL, 'H' },
		{ "debug", no_argument, NULL, 'd' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = CONFIG_DEFAULT_PATH;
	int check_only = 0, health = 0, level_override = -1, initialized = 0, opt;
	struct config cfg = { 0 };
	xmpp_ctx_t *ctx = NULL;
	struct link *l = NULL;
	struct metrics *m = NULL;
	enum component_exit status = COMPONENT_EXIT_INTERNAL;
	char err[1024];

	log_init("ope-component", LOG_LEVEL_INFO, stderr);
	while ((opt = getopt_long(argc, argv, "c:dqhV", options, NULL)) != -1) {
		switch (opt) {
		case 'c': path = optarg; break;
		case 'k': check_only = 1; break;
		case 'P': return pwcheck_cli();
		case 'H': health = 1; break;
		case 'd': level_override = LOG_LEVEL_DEBUG; break;
		case 'q': level_override = LOG_LEVEL_ERROR; break;
		case 'h': usage(stdout); return COMPONENT_EXIT_OK;
		case 'V': printf("ope-component %s\n", PACKAGE_VERSION); return COMPONENT_EXIT_OK;
		default: usage(stderr); return COMPONENT_EXIT_CONFIG;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "ope-component: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return COMPONENT_EXIT_CONFIG;
	}
	if (health)
		return ask_health(path);
	if (config_load(path, &cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "ope-component: %s\n", err);
		return COMPONENT_EXIT_CONFIG;
	}
	if (check_only) {
		printf("%s: configuration OK (component %s, server %s:%u%s)\n",
		       path, cfg.domain, cfg.servers.list[0].host,
		       cfg.servers.list[0].port,
		       cfg.servers.n > 1 ? " and others" : "");
		if (cfg.access != NULL)
			printf("access: %zu rules, default %s\n",
			       access_table_count(cfg.access),
			       cfg.access_default == ACCESS_DENY ? "deny" : "allow");
		config_free(&cfg);
		return COMPONENT_EXIT_OK;
	}
	log_set_level(level_override >= 0 ? (enum log_level)level_override
					  : cfg.log_level);
	log_set_timestamps(cfg.log_timestamps);
	if (install_signals() != 0) {
		log_error("cannot install signal handlers");
		goto out;
	}

	xmpp_initialize();
	initialized = 1;
	if (cfg.metrics_listen != NULL) {
		if ((m = metrics_new(METRICS_STALL_MS)) == NULL) {
			log_error("out of memory while starting");
			goto out;
		}
		if (metrics_serve(m, cfg.metrics_listen, err, sizeof(err)) != 0) {
			log_error("%s: %s", cfg.path, err);
			status = COMPONENT_EXIT_CONFIG;
			goto out;
		}
	}
	ctx = xmpp_ctx_new(NULL, log_strophe_logger());
	if (ctx == NULL) {
		log_error("out of memory while starting");
		goto out;
	}
	if ((l = link_new(ctx, &cfg, m)) == NULL)
		goto out;
	notify_init();
	link_set_observer(l, on_link_state, m);
	log_info("ope-component %s starting for %s (config %s)", PACKAGE_VERSION,
		 cfg.domain, path);
	if (link_start(l) != 0)
		goto out;
	status = serve(l, &cfg, level_override, m);
out:
	link_free(l);
	metrics_free(m);
	if (ctx != NULL)
		xmpp_ctx_free(ctx);
	if (initialized)
		xmpp_shutdown();
	config_free(&cfg);
	return status;
}
