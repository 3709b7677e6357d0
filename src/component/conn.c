/* SPDX-License-Identifier: MIT */
/* conn.c: the XEP-0114 connection to the server: connect, serve, back off, reconnect. */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>

#include "backoff.h"
#include "config.h"
#include "conn.h"
#include "dispatch.h"
#include "log.h"
#include "strophe_compat.h"
#include "util.h"

/* A connection that lasted this long was healthy: the next failure starts
 * the back-off afresh. A server that accepts the handshake and drops us at
 * once keeps backing off instead. */
#define STABLE_MS 30000

struct conn {
	xmpp_ctx_t *ctx;
	xmpp_conn_t *xc;
	const struct config *cfg;
	struct dispatch *dispatch;
	link_state_fn observer;   /* told every state change, or NULL */
	void *observer_arg;
	struct backoff backoff;
	uint32_t rng;             /* xorshift state for jitter */
	int connected;            /* the server accepted our handshake */
	uint64_t connected_at;    /* when, in monotonic ms */
	int retry_pending;        /* a timed reconnect is registered */
	int firing;               /* 1 inside on_retry, 2 in on_retry_again */
	int stopping;
	int done;
	enum component_exit exit_status;
	char where[300];          /* "host:port", for messages */
};

static uint32_t next_random(struct conn *c)
{
	c->rng ^= c->rng << 13;
	c->rng ^= c->rng >> 17;
	c->rng ^= c->rng << 5;
	return c->rng;
}

/* TCP keepalive notices a server host that vanished without a FIN within
 * about a minute and a half, instead of the kernel's two hours. */
static int tcp_keepalive(xmpp_conn_t *xc, void *sockp)
{
	int fd = *(int *)sockp, on = 1, idle = 60, intvl = 10, cnt = 3;

	(void)xc;
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	return 0;
}

/* The one place that reports link state changes (metrics, service
 * managers): every transition goes through here. */
static void set_state(struct conn *c, enum link_state state, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_state(struct conn *c, enum link_state state, const char *fmt, ...)
{
	char detail[400];
	va_list ap;

	if (c->observer == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	c->observer(c->observer_arg, state, detail);
}

static void send_stanza(xmpp_stanza_t *reply, void *arg)
{
	struct conn *c = arg;

	xmpp_send(c->xc, reply);
}

static int on_stanza(xmpp_conn_t *xc, xmpp_stanza_t *stanza, void *arg)
{
	struct conn *c = arg;

	(void)xc;
	dispatch_stanza(c->dispatch, stanza);
	return 1;
}

static const char *stream_error_name(xmpp_error_type_t type)
{
	static const char *const names[] = {
		[XMPP_SE_BAD_FORMAT] = "bad-format",
		[XMPP_SE_BAD_NS_PREFIX] = "bad-namespace-prefix",
		[XMPP_SE_CONFLICT] = "conflict",
		[XMPP_SE_CONN_TIMEOUT] = "connection-timeout",
		[XMPP_SE_HOST_GONE] = "host-gone",
		[XMPP_SE_HOST_UNKNOWN] = "host-unknown",
		[XMPP_SE_IMPROPER_ADDR] = "improper-addressing",
		[XMPP_SE_INTERNAL_SERVER_ERROR] = "internal-server-error",
		[XMPP_SE_INVALID_FROM] = "invalid-from",
		[XMPP_SE_INVALID_ID] = "invalid-id",
		[XMPP_SE_INVALID_NS] = "invalid-namespace",
		[XMPP_SE_INVALID_XML] = "invalid-xml",
		[XMPP_SE_NOT_AUTHORIZED] = "not-authorized",
		[XMPP_SE_POLICY_VIOLATION] = "policy-violation",
		[XMPP_SE_REMOTE_CONN_FAILED] = "remote-connection-failed",
		[XMPP_SE_RESOURCE_CONSTRAINT] = "resource-constraint",
		[XMPP_SE_RESTRICTED_XML] = "restricted-xml",
		[XMPP_SE_SEE_OTHER_HOST] = "see-other-host",
		[XMPP_SE_SYSTEM_SHUTDOWN] = "system-shutdown",
		[XMPP_SE_UNDEFINED_CONDITION] = "undefined-condition",
		[XMPP_SE_UNSUPPORTED_ENCODING] = "unsupported-encoding",
		[XMPP_SE_UNSUPPORTED_STANZA_TYPE] = "unsupported-stanza-type",
		[XMPP_SE_UNSUPPORTED_VERSION] = "unsupported-version",
		[XMPP_SE_XML_NOT_WELL_FORMED] = "not-well-formed",
	};

	if ((unsigned)type < ARRAY_SIZE(names) && names[type])
		return names[type];
	return "unknown stream error";
}

/* Stream errors that retrying cannot cure: say what to fix and stop. */
static int refused_for_good(struct conn *c, const xmpp_stream_error_t *se)
{
	const char *why;

	switch (se->type) {
	case XMPP_SE_NOT_AUTHORIZED:
		why = "the server rejected the handshake: the component secret "
		      "does not match; check component.secret (or "
		      "component.secret_file) against the server's "
		      "component_secret (Prosody) or password (ejabberd)";
		break;
	case XMPP_SE_CONFLICT:
		why = "another component is already connected for this domain; "
		      "stop it or give this one its own domain";
		break;
	case XMPP_SE_HOST_UNKNOWN:
		log_error("%s refused %s (host-unknown): the server does not "
			  "know this domain; declare it (Prosody: Component \"%s\"; "
			  "ejabberd: a hosts entry of the ejabberd_service listener)",
			  c->where, c->cfg->domain, c->cfg->domain);
		return 1;
	default:
		return 0;
	}
	log_error("%s refused %s (%s): %s", c->where, c->cfg->domain,
		  stream_error_name(se->type), why);
	return 1;
}

static int on_retry(xmpp_ctx_t *ctx, void *arg);
static int on_retry_again(xmpp_ctx_t *ctx, void *arg);

static void schedule_retry(struct conn *c, const char *reason)
{
	unsigned delay = backoff_next(&c->backoff, next_random(c));

	set_state(c, LINK_WAITING, "reconnecting in %u.%u s: %s", delay / 1000,
		  delay % 1000 / 100, reason);
	log_info("reconnecting to %s in %u.%03u s (attempt %u)", c->where,
		 delay / 1000, delay % 1000, c->backoff.attempts);
	/* From inside on_retry (a connect that fails before any I/O, e.g. a
	 * name that does not resolve) libstrophe still holds that handler:
	 * adding it again is refused ("Timed handler already exists") and it
	 * is then removed, so no retry would ever come. Register the other
	 * of the two retry handlers then. */
	xmpp_global_timed_handler_add(c->ctx, c->firing == 1 ? on_retry_again :
				      on_retry, delay, c);
	c->retry_pending = 1;
}

static void on_conn_event(xmpp_conn_t *xc, xmpp_conn_event_t status, int error,
			  xmpp_stream_error_t *se, void *arg)
{
	struct conn *c = arg;
	char reason[300];
	int was_connected = c->connected;

	if (status == XMPP_CONN_CONNECT) {
		c->connected = 1;
		c->connected_at = util_now_ms();
		log_info("connected to %s as %s", c->where, c->cfg->domain);
		set_state(c, LINK_UP, "connected to %s as %s", c->where,
			  c->cfg->domain);
		if (c->stopping)
			xmpp_disconnect(xc);
		return;
	}
	if (status == XMPP_CONN_RAW_CONNECT)
		return;

	/* Every failure arrives here as DISCONNECT (libstrophe 0.12). */
	c->connected = 0;
	if (was_connected && util_now_ms() - c->connected_at >= STABLE_MS)
		backoff_reset(&c->backoff);
	if (se != NULL && refused_for_good(c, se)) {
		set_state(c, LINK_STOPPED, "refused by %s (%s)", c->where,
			  stream_error_name(se->type));
		c->exit_status = COMPONENT_EXIT_REFUSED;
		c->done = 1;
		return;
	}
	if (c->stopping) {
		log_info("disconnected from %s", c->where);
		set_state(c, LINK_STOPPED, "stopped");
		c->done = 1;
		return;
	}
	if (se != NULL) {
		char text[200];

		snprintf(reason, sizeof(reason), "stream error %s%s%s",
			 stream_error_name(se->type), se->text ? ": " : "",
			 se->text ? log_escape(text, sizeof(text), se->text) : "");
	} else if (error != 0) {
		snprintf(reason, sizeof(reason), "%s", strerror(error));
	} else {
		snprintf(reason, sizeof(reason), was_connected ?
			 "closed by the server" : "refused or closed");
	}
	if (was_connected)
		log_warn("connection to %s lost (%s)", c->where, reason);
	else if (strcmp(c->cfg->server_host, "localhost") == 0)
		log_warn("cannot connect to %s (%s); libstrophe tries only the "
			 "first address of \"localhost\" (often ::1): use "
			 "host = \"127.0.0.1\" if the server listens on IPv4 only",
			 c->where, reason);
	else
		log_warn("cannot connect to %s (%s)", c->where, reason);
	/* Retrying from inside this handler would storm: use a timer. */
	schedule_retry(c, reason);
}

static int attempt(struct conn *c)
{
	int rc;

	if (strophe_compat_prepare_component(c->xc) != 0)
		return -1;
	xmpp_conn_set_sockopt_callback(c->xc, tcp_keepalive);
	log_info("connecting to %s as %s", c->where, c->cfg->domain);
	set_state(c, LINK_CONNECTING, "connecting to %s", c->where);
	rc = xmpp_connect_component(c->xc, c->cfg->server_host,
				    (unsigned short)c->cfg->server_port,
				    on_conn_event, c);
	if (rc != XMPP_EOK) {
		log_warn("cannot start connecting to %s (libstrophe error %d)",
			 c->where, rc);
		schedule_retry(c, "cannot start connecting");
	}
	return 0;
}

/* A scheduled reconnect: FIRING says which of the two handlers runs. */
static int retry_now(struct conn *c, int firing)
{
	c->retry_pending = 0;
	c->firing = firing;
	if (!c->stopping && attempt(c) != 0) {
		c->exit_status = COMPONENT_EXIT_INTERNAL;
		c->done = 1;
	}
	c->firing = 0;
	return 0;
}

static int on_retry(xmpp_ctx_t *ctx, void *arg)
{
	(void)ctx;
	return retry_now(arg, 1);
}

/* on_retry under another name, for a retry scheduled from inside it. */
static int on_retry_again(xmpp_ctx_t *ctx, void *arg)
{
	(void)ctx;
	return retry_now(arg, 2);
}

struct conn *conn_new(xmpp_ctx_t *ctx, const struct config *cfg,
		      struct metrics *metrics)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->ctx = ctx;
	c->cfg = cfg;
	c->xc = xmpp_conn_new(ctx);
	if (c->xc == NULL)
		goto oom;
	c->dispatch = dispatch_new(ctx, cfg, metrics, send_stanza, c);
	if (c->dispatch == NULL)
		goto oom;
	xmpp_conn_set_jid(c->xc, cfg->domain);
	xmpp_conn_set_pass(c->xc, cfg->secret);
	/* One catch-all handler; the dispatch table finds the extension, so
	 * libstrophe's handler list stays one entry long. It survives
	 * reconnects of this connection object. */
	xmpp_handler_add(c->xc, on_stanza, NULL, NULL, NULL, c);
	backoff_init(&c->backoff, cfg->reconnect_initial_ms, cfg->reconnect_max_ms);
	if (getrandom(&c->rng, sizeof(c->rng), GRND_NONBLOCK) != sizeof(c->rng) ||
	    c->rng == 0)
		c->rng = (uint32_t)time(NULL) | 1u;
	snprintf(c->where, sizeof(c->where), strchr(cfg->server_host, ':') ?
		 "[%s]:%u" : "%s:%u", cfg->server_host, cfg->server_port);
	return c;
oom:
	conn_free(c);
	return NULL;
}

void conn_set_observer(struct conn *c, link_state_fn fn, void *arg)
{
	c->observer = fn;
	c->observer_arg = arg;
}

int conn_start(struct conn *c)
{
	return attempt(c);
}

void conn_stop(struct conn *c)
{
	if (c->stopping)
		return;
	c->stopping = 1;
	if (c->retry_pending) {
		xmpp_global_timed_handler_delete(c->ctx, on_retry);
		xmpp_global_timed_handler_delete(c->ctx, on_retry_again);
		c->retry_pending = 0;
		set_state(c, LINK_STOPPED, "stopped");
		c->done = 1;
		return;
	}
	/* Sends </stream:stream>; DISCONNECT follows and sets done. */
	xmpp_disconnect(c->xc);
}

int conn_done(const struct conn *c)
{
	return c->done;
}

enum component_exit conn_exit_status(const struct conn *c)
{
	return c->exit_status;
}

void conn_free(struct conn *c)
{
	if (c == NULL)
		return;
	/* xmpp_ctx_free() would leak a timed handler still registered. */
	if (c->retry_pending) {
		xmpp_global_timed_handler_delete(c->ctx, on_retry);
		xmpp_global_timed_handler_delete(c->ctx, on_retry_again);
	}
	if (c->xc != NULL)
		xmpp_conn_release(c->xc);
	dispatch_free(c->dispatch);
	free(c);
}
