/* SPDX-License-Identifier: MIT */
/* link.c: ope's XEP-0114 link to the server, a transport: connect, TLS, handshake, parse into stanzas for one callback, write with back-pressure, fail over, reconnect. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "backoff.h"
#include "config.h"
#include "ext.h"
#include "jid.h"
#include "link.h"
#include "link_int.h"
#include "log.h"
#include "loop.h"
#include "metrics.h"
#include "obuf.h"
#include "resolve.h"
#include "tls.h"
#include "util.h"
#include "xmlstream.h"
#include "xmlwrite.h"

/* A connection that lasted this long was healthy: the next failure starts
 * the back-off afresh. A server that accepts the handshake and drops us at
 * once keeps backing off instead. */
#define STABLE_MS 30000
/* Reads per turn of the loop before writing again. */
#define READS_PER_TURN 4
/* Over limits.output_queue ope stops reading. If the server takes nothing
 * for this long meanwhile, it may itself be stuck writing to us (ejabberd
 * blocks in send): ope reads on and answers requests with a short
 * resource-constraint error, until the queue reaches four times the
 * limit (which bounds memory when the server reads nothing at all). */
#define STALL_MS 1000
/* The output buffer is given back when it empties and has grown past this. */
#define OUT_KEEP 262144


static uint32_t next_random(struct link *l)
{
	l->rng ^= l->rng << 13;
	l->rng ^= l->rng >> 17;
	l->rng ^= l->rng << 5;
	return l->rng;
}

/* The single place the state hook is called from. */
void link_set_state(struct link *l, enum link_state s, const char *fmt, ...)
{
	char detail[600];
	va_list ap;

	if (s == l->pub_state && s != LINK_WAITING)
		return;
	l->pub_state = s;
	if (l->on_state == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	l->on_state(l->state_arg, s, detail);
}

static const struct config_server *current_server(const struct link *l)
{
	return &l->cfg->servers.list[l->server];
}

static void set_where(struct link *l)
{
	const struct config_server *s = current_server(l);

	snprintf(l->where, sizeof(l->where), strchr(s->host, ':') ?
		 "[%s]:%u" : "%s:%u", s->host, s->port);
}

/* ---- output queue --------------------------------------------------- */

/* At debug level: one line for N bytes of traffic at DATA, secrets masked
 * with M, the state of that direction's stream (a password may be split
 * across reads), and escaped: it came off the wire. Every byte goes
 * through M, though a line shows only the first kilobyte or so. */
static void log_traffic(struct link *l, const char *dir, struct log_mask *m,
			const char *data, size_t n)
{
	char masked[1024], esc[2048];

	log_mask(m, data, n, masked, sizeof(masked));
	log_msg(LOG_LEVEL_DEBUG, "%s %s: %s", dir, l->where,
		log_escape(esc, sizeof(esc), masked));
}

/* Queued since MARK: the start of the queue may have moved meanwhile, so
 * the mark is relative (obuf.h). */
static void log_sent(struct link *l, size_t mark)
{
	size_t n;
	const char *p = obuf_since(&l->out, mark, &n);

	log_traffic(l, "SENT to", &l->tx_mask, p, n);
}

void link_send(xmpp_stanza_t *reply, void *arg)
{
	struct link *l = arg;
	size_t mark = obuf_mark(&l->out);

	if (obuf_len(&l->out) == 0)
		l->tx_at = util_now_ms();

	if (xmlwrite_stanza(&l->out, reply) < 0) {
		obuf_rollback(&l->out, mark);
		log_error("out of memory while queueing a reply; reply dropped");
		return;
	}
	if (log_enabled(LOG_LEVEL_DEBUG))
		log_sent(l, mark);
}

static int queue_text(struct link *l, const char *text)
{
	size_t mark = obuf_mark(&l->out);

	if (obuf_len(&l->out) == 0)
		l->tx_at = util_now_ms();

	if (obuf_puts(&l->out, text) < 0) {
		obuf_rollback(&l->out, mark);
		return -1;
	}
	if (log_enabled(LOG_LEVEL_DEBUG))
		log_sent(l, mark);
	return 0;
}

/* ---- raw I/O --------------------------------------------------------- */

#define IO_AGAIN (-1)
#define IO_FAILED (-2)

/* What a TLS read or write returned (N), as IO_*: the error is kept. */
static ssize_t tls_result(struct link *l, ssize_t n)
{
	if (n == TLS_FAILED)
		snprintf(l->reason, sizeof(l->reason), "%s", tls_error(l->tls));
	return n == TLS_AGAIN ? IO_AGAIN : n == TLS_FAILED ? IO_FAILED : n;
}

/* What a recv() or send() returned (N, errno), as IO_*. */
static ssize_t sock_result(struct link *l, ssize_t n)
{
	if (n >= 0)
		return n;
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return IO_AGAIN;
	snprintf(l->reason, sizeof(l->reason), "%s", strerror(errno));
	return IO_FAILED;
}

static ssize_t io_read(struct link *l, char *buf, size_t len)
{
	ssize_t n;

	if (l->tls != NULL)
		return tls_result(l, tls_read(l->tls, buf, len, &l->tls_want));
	do
		n = recv(l->fd, buf, len, 0);
	while (n < 0 && errno == EINTR);
	return sock_result(l, n);
}

static ssize_t io_write(struct link *l, const char *buf, size_t len)
{
	ssize_t n;

	if (l->tls != NULL)
		return tls_result(l, tls_write(l->tls, buf, len, &l->tls_want));
	do
		n = send(l->fd, buf, len, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return sock_result(l, n);
}

/* Write what the socket takes. Returns 0, or -1 with l->reason set. */
static int flush_out(struct link *l)
{
	struct obuf *b = &l->out;

	while (obuf_len(b) > 0) {
		ssize_t n = io_write(l, obuf_data(b), obuf_len(b));

		if (n == IO_AGAIN)
			break;
		if (n < 0)
			return -1;
		if (n > 0)
			l->tx_at = util_now_ms();
		obuf_consume(b, (size_t)n, OUT_KEEP);
	}
	if (l->ml != NULL)
		metrics_link_queue(l->ml, obuf_len(b), l->cfg->queue_max);
	else
		metrics_output_queue(l->metrics, obuf_len(b), l->cfg->queue_max);
	return 0;
}

/* ---- connection life cycle ------------------------------------------- */

void link_close(struct link *l)
{
	xmlstream_free(l->xs);
	l->xs = NULL;
	tls_free(l->tls);
	l->tls = NULL;
	l->tls_want = 0;
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
	resolve_free(l->lookup);
	l->lookup = NULL;
	if (l->ai_list != NULL)
		freeaddrinfo(l->ai_list);
	l->ai_list = l->ai_cur = NULL;
	l->in_len = 0;
	obuf_clear(&l->out);
	memset(&l->rx_mask, 0, sizeof(l->rx_mask));
	memset(&l->tx_mask, 0, sizeof(l->tx_mask));
	l->stream_id[0] = '\0';
	l->ping_sent = 0;
	l->ending = END_NONE;
	free(l->leftover);
	l->leftover = NULL;
	l->leftover_len = 0;
	l->hold = HOLD_NONE;
	/* Requests still waiting for a password hash came on this stream. */
	if (l->upper.ended != NULL)
		l->upper.ended(l->upper.arg, 0);
}

static void finish(struct link *l, enum component_exit status)
{
	link_close(l);
	l->phase = P_STOPPED;
	l->exit_status = status;
	/* A refusal names its cause: the service manager shows it as STATUS. */
	if (status == COMPONENT_EXIT_REFUSED)
		link_set_state(l, LINK_STOPPED, "refused by %s (%s); stopped (exit "
			  "status %d)", l->where, l->reason, (int)status);
	else
		link_set_state(l, LINK_STOPPED, "stopped (exit status %d)",
			  (int)status);
}

static void start_attempt(struct link *l);

/* The connection failed or was lost for REASON (already in l->reason when
 * QUIET): log, move to the next server, and try it at once or after the
 * back-off once every server failed in this round. */
static void retry(struct link *l, int quiet)
{
	uint64_t now = util_now_ms();
	int was_up = l->up_at != 0, failover;
	unsigned delay = 0;
	char lost[sizeof(l->where)];

	if (was_up && now - l->up_at >= STABLE_MS) {
		backoff_reset(&l->backoff);
		l->round = 0;
	}
	link_close(l);
	l->up_at = 0;
	memcpy(lost, l->where, sizeof(lost));
	if (!l->stopping) {
		if (!l->pinned)
			l->server = (l->server + 1) % l->cfg->servers.n;
		set_where(l);
		failover = !l->pinned && ++l->round < l->cfg->servers.n;
		if (!failover) {
			l->round = 0;
			delay = backoff_next(&l->backoff, next_random(l));
		}
		/* The state first: whoever reads the log line finds the state
		 * already changed (metrics, /health). */
		if (failover)
			link_set_state(l, LINK_CONNECTING, "failing over to %s: %s",
				  l->where, l->reason);
		else
			link_set_state(l, LINK_WAITING, "reconnecting in %u.%u s: %s",
				  delay / 1000, delay % 1000 / 100, l->reason);
	}
	if (!quiet) {
		if (was_up)
			log_kv(LOG_LEVEL_WARNING, LOG_FIELDS({ "link", lost }),
			       "connection to %s lost (%s)", lost, l->reason);
		else
			log_kv(LOG_LEVEL_WARNING, LOG_FIELDS({ "link", lost }),
			       "cannot connect to %s (%s)", lost, l->reason);
	}
	if (l->stopping) {
		finish(l, COMPONENT_EXIT_OK);
		return;
	}
	if (delay == 0) {
		log_info("failing over to %s (server %zu of %zu)", l->where,
			 l->server + 1, l->cfg->servers.n);
		start_attempt(l);
		return;
	}
	log_kv(LOG_LEVEL_INFO, LOG_FIELDS({ "link", l->where }),
	       "reconnecting to %s in %u.%03u s (attempt %u)", l->where,
	       delay / 1000, delay % 1000, l->backoff.attempts);
	l->retry_at = now + delay;
	l->phase = P_WAITING;
}

void link_lose(struct link *l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(l->reason, sizeof(l->reason), fmt, ap);
	va_end(ap);
	retry(l, 0);
}

/* From inside a parser callback: end the connection once the parser
 * returns. */
static void end_later(struct link *l, enum ending e, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void end_later(struct link *l, enum ending e, const char *fmt, ...)
{
	va_list ap;

	if (l->ending != END_NONE)
		return;
	l->ending = e;
	va_start(ap, fmt);
	vsnprintf(l->reason, sizeof(l->reason), fmt, ap);
	va_end(ap);
	/* Final: the connection ends once the parser returns. */
	xmlstream_pause(l->xs);
}

/* Best effort: queue TEXT and give the socket one chance to take it. */
static void send_last_words(struct link *l, const char *text)
{
	char keep[sizeof(l->reason)];

	memcpy(keep, l->reason, sizeof(keep));
	if (queue_text(l, text) == 0)
		flush_out(l);
	memcpy(l->reason, keep, sizeof(keep));
}

static void tcp_options(int fd)
{
	int on = 1, idle = 60, intvl = 10, cnt = 3;

	/* Keepalive notices a server host that vanished without a FIN within
	 * about a minute and a half, instead of the kernel's two hours. */
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	/* Replies are written in batches, one write per batch of requests
	 * read, so Nagle's delay would only hold back the last one. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
}

static void on_open(void *arg, const char *const *attrs);
static void on_stanza(void *arg, xmpp_stanza_t *stanza);
static void on_skipped(void *arg, const struct xmlstream_skipped *s);
static void on_close(void *arg);

struct xmlstream *link_parser_new(struct link *l)
{
	static const struct xmlstream_callbacks cb = {
		on_open, on_stanza, on_skipped, on_close,
	};

	return xmlstream_new(l->ctx, &l->cfg->limits, &cb, l);
}

static void open_stream(struct link *l)
{
	const struct config *c = l->cfg;
	char header[600];

	l->xs = link_parser_new(l);
	snprintf(header, sizeof(header), "<?xml version='1.0'?><stream:stream "
		 "xmlns='jabber:component:accept' "
		 "xmlns:stream='" XMPP_NS_STREAMS "' to='%s'>",
		 c->domain);
	if (l->xs == NULL || queue_text(l, header) < 0) {
		link_lose(l, "out of memory");
		return;
	}
	l->phase = P_OPENING;
	l->deadline = util_now_ms() + c->connect_timeout_ms;
	l->last_rx = util_now_ms();
	if (flush_out(l) < 0)
		retry(l, 0);
}

static void connected(struct link *l)
{
	char err[400];

	freeaddrinfo(l->ai_list);
	l->ai_list = l->ai_cur = NULL;
	tcp_options(l->fd);
	if (l->tls_cfg == NULL) {
		open_stream(l);
		return;
	}
	l->tls = tls_new(l->tls_cfg, l->fd, l->cfg->tls_name ? l->cfg->tls_name :
			 current_server(l)->host, err, sizeof(err));
	if (l->tls == NULL) {
		link_lose(l, "%s", err);
		return;
	}
	l->phase = P_TLS;
	l->deadline = util_now_ms() + l->cfg->connect_timeout_ms;
	l->tls_want = POLLOUT;
}

static void note_attempt(struct link *l, const struct addrinfo *ai,
			 const char *what)
{
	char host[NI_MAXHOST];
	size_t used = strlen(l->attempts);

	if (getnameinfo(ai->ai_addr, ai->ai_addrlen, host, sizeof(host), NULL, 0,
			NI_NUMERICHOST) != 0)
		snprintf(host, sizeof(host), "?");
	snprintf(l->attempts + used, sizeof(l->attempts) - used, "%s%s: %s",
		 used ? "; " : "", host, what);
}

/* Try l->ai_cur and the addresses after it until one connects or starts
 * connecting. */
static void try_addresses(struct link *l)
{
	for (; l->ai_cur != NULL; l->ai_cur = l->ai_cur->ai_next) {
		struct addrinfo *ai = l->ai_cur;

		l->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
			       SOCK_CLOEXEC, ai->ai_protocol);
		if (l->fd < 0) {
			note_attempt(l, ai, strerror(errno));
			continue;
		}
		if (connect(l->fd, ai->ai_addr, ai->ai_addrlen) == 0) {
			connected(l);
			return;
		}
		if (errno == EINPROGRESS) {
			l->phase = P_CONNECTING;
			l->deadline = util_now_ms() + l->cfg->connect_timeout_ms;
			return;
		}
		note_attempt(l, ai, strerror(errno));
		close(l->fd);
		l->fd = -1;
	}
	snprintf(l->reason, sizeof(l->reason), "%s", l->attempts);
	retry(l, 0);
}

/* The server's addresses are in l->ai_list: try them in turn. */
static void resolved(struct link *l)
{
	l->ai_cur = l->ai_list;
	try_addresses(l);
}

/* The lookup answered (its descriptor turned readable). */
static void on_resolve_ready(struct link *l)
{
	char err[300];
	int rc = resolve_result(l->lookup, &l->ai_list, err, sizeof(err));

	if (rc == 0)
		return;
	resolve_free(l->lookup);
	l->lookup = NULL;
	if (rc < 0) {
		link_lose(l, "cannot resolve %s: %s", current_server(l)->host, err);
		return;
	}
	resolved(l);
}

static void start_attempt(struct link *l)
{
	const struct config_server *s = current_server(l);
	struct addrinfo hints = { 0 };
	char port[16], err[300];
	int rc;

	l->attempts[0] = '\0';
	link_set_state(l, LINK_CONNECTING, "connecting to %s as %s", l->where,
		  l->cfg->domain);
	log_kv(LOG_LEVEL_INFO, LOG_FIELDS({ "link", l->where }),
	       "connecting to %s as %s", l->where, l->cfg->domain);
	l->phase = P_CONNECTING;
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST;
	snprintf(port, sizeof(port), "%u", s->port);
	/* An address needs no lookup: it is parsed at once. */
	rc = getaddrinfo(s->host, port, &hints, &l->ai_list);
	if (rc == 0) {
		resolved(l);
		return;
	}
	l->ai_list = NULL;
	if (rc != EAI_NONAME) {
		link_lose(l, "cannot resolve %s: %s", s->host,
		     rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		return;
	}
	/* A name: looked up on a worker, which may take long (a DNS server
	 * that does not answer), while the loop goes on (run_timers()). */
	l->lookup = resolve_start(s->host, s->port, l->resolver, err,
				  sizeof(err));
	if (l->lookup == NULL) {
		link_lose(l, "cannot resolve %s: %s", s->host, err);
		return;
	}
	l->phase = P_RESOLVING;
	l->deadline = util_now_ms() + l->cfg->connect_timeout_ms;
}

/* ---- the stream -------------------------------------------------------- */

static int handshake_digest(const char *id, const char *secret, char hex[41])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;
	size_t ni = strlen(id), ns = strlen(secret);
	char *buf = malloc(ni + ns + 1);
	int ok;

	if (buf == NULL)
		return -1;
	memcpy(buf, id, ni);
	memcpy(buf + ni, secret, ns);
	ok = EVP_Digest(buf, ni + ns, md, &mdlen, EVP_sha1(), NULL) == 1 &&
	     mdlen == 20;
	explicit_bzero(buf, ni + ns);
	free(buf);
	if (!ok)
		return -1;
	for (i = 0; i < 20; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return 0;
}

static void on_open(void *arg, const char *const *attrs)
{
	struct link *l = arg;
	const char *id = NULL;
	char hex[41], text[80];
	size_t i;

	if (l->phase != P_OPENING)
		return;
	for (i = 0; attrs && attrs[i] && attrs[i + 1]; i += 2)
		if (strcmp(attrs[i], "id") == 0)
			id = attrs[i + 1];
	if (id == NULL || *id == '\0') {
		end_later(l, END_RETRY, "the server's stream header has no id");
		return;
	}
	snprintf(l->stream_id, sizeof(l->stream_id), "%s", id);
	if (handshake_digest(id, l->cfg->secret, hex) < 0) {
		end_later(l, END_RETRY, "cannot compute the handshake digest");
		return;
	}
	snprintf(text, sizeof(text), "<handshake>%s</handshake>", hex);
	if (obuf_puts(&l->out, text) < 0) {
		end_later(l, END_RETRY, "out of memory");
		return;
	}
	explicit_bzero(text, sizeof(text));
	explicit_bzero(hex, sizeof(hex));
	log_debug("SENT to %s: <handshake>(digest not shown)</handshake>",
		  l->where);
	l->phase = P_HANDSHAKE;
}

static int is_stream_error(xmpp_stanza_t *st)
{
	const char *name = xmpp_stanza_get_name(st);

	return util_streq(name, "stream:error") ||
	       (util_streq(name, "error") && (xmpp_stanza_get_ns(st) == NULL ||
				      util_streq(xmpp_stanza_get_ns(st),
					 XMPP_NS_STREAMS)));
}

static void on_stream_error(struct link *l, xmpp_stanza_t *err)
{
	const char *cond = "undefined-condition", *domain = l->cfg->domain;
	char *text = NULL, esc[300], tesc[300];
	xmpp_stanza_t *c;

	for (c = xmpp_stanza_get_children(err); c; c = xmpp_stanza_get_next(c)) {
		const char *name = xmpp_stanza_get_name(c);

		if (!xmpp_stanza_is_tag(c) || name == NULL)
			continue;
		if (strcmp(name, "text") == 0) {
			if (text == NULL)
				text = xmpp_stanza_get_text(c);
		} else if (strcmp(cond, "undefined-condition") == 0 ||
			   c == xmpp_stanza_get_children(err)) {
			cond = name;
		}
	}
	log_escape(esc, sizeof(esc), cond);
	log_escape(tesc, sizeof(tesc), text);
	if (l->phase == P_CLOSING) {
		end_later(l, END_FINISHED, "stream error %s", esc);
	} else if (strcmp(cond, "not-authorized") == 0) {
		log_error("%s refused %s (not-authorized): the server rejected "
			  "the handshake: the component secret does not match; "
			  "check component.secret (or component.secret_file) "
			  "against the server's component_secret (Prosody) or "
			  "password (ejabberd)", l->where, domain);
		end_later(l, END_REFUSED, "not-authorized");
	} else if (strcmp(cond, "host-unknown") == 0) {
		log_error("%s refused %s (host-unknown): the server does not "
			  "know this domain; declare it (Prosody: Component \"%s\"; "
			  "ejabberd: a hosts entry of the ejabberd_service listener)",
			  l->where, domain, domain);
		end_later(l, END_REFUSED, "host-unknown");
	} else if (strcmp(cond, "conflict") == 0) {
		log_error("%s refused %s (conflict): the server still holds "
			  "another connection for this domain: most likely a "
			  "half-open earlier session of this component (after a "
			  "network blip or a paused VM; the server drops it when "
			  "it notices), or a second ope-component for the same "
			  "domain behind Prosody, which takes one connection per "
			  "domain; retrying", l->where, domain);
		end_later(l, END_QUIET_RETRY, "stream error conflict");
	} else {
		end_later(l, END_RETRY, "stream error %s%s%s", esc,
			  text ? ": " : "", text ? tesc : "");
	}
	if (text != NULL)
		xmpp_free(l->ctx, text);
}

static int stalled(const struct link *l);

/* Hand ST, or the skipped stanza S, to the layer above. */
static void hand_up(struct link *l, xmpp_stanza_t *st,
		    const struct xmlstream_skipped *s)
{
	struct link_input in = { .stanza = st, .skipped = s,
				 .server = l->where };

	if (l->upper.input == NULL)
		return;
	if (st != NULL && stalled(l)) {
		in.stalled = 1;
		in.queued = obuf_len(&l->out);
		in.stalled_ms = (unsigned)(util_now_ms() - l->tx_at);
	}
	l->upper.input(l->upper.arg, &in);
}

/* After a whole stanza: stop there if a takeover waits for a boundary. */
static void hold_here(struct link *l)
{
	if (l->hold != HOLD_WAIT)
		return;
	l->hold = HOLD_STILL;
	xmlstream_pause(l->xs);
}

/* Whether another module takes ST (link_add_claim). */
static int claimed(struct link *l, xmpp_stanza_t *st)
{
	size_t i;

	for (i = 0; i < l->nclaims; i++)
		if (l->claims[i].fn(l->claims[i].arg, st) == 1)
			return 1;
	return 0;
}

static void on_stanza(void *arg, xmpp_stanza_t *st)
{
	struct link *l = arg;

	if (l->ending != END_NONE)
		return;
	if (is_stream_error(st)) {
		on_stream_error(l, st);
		return;
	}
	switch (l->phase) {
	case P_UP:
		if (claimed(l, st)) {
			hold_here(l);
			return;
		}
		hand_up(l, st, NULL);
		hold_here(l);
		return;
	case P_HANDSHAKE:
		if (util_streq(xmpp_stanza_get_name(st), "handshake")) {
			l->phase = P_UP;
			l->up_at = util_now_ms();
			/* l->round is reset only once the link proved stable
			 * (retry()), so servers that accept and drop at once
			 * still lead to the back-off instead of a storm. */
			link_set_state(l, LINK_UP, "connected to %s as %s", l->where,
				  l->cfg->domain);
			log_kv(LOG_LEVEL_INFO, LOG_FIELDS({ "link", l->where }),
			       "connected to %s as %s", l->where,
			       l->cfg->domain);
			return;
		}
		end_later(l, END_RETRY, "the server answered the handshake "
			  "with something else than <handshake/>");
		return;
	case P_CLOSING:
		l->late++;
		return;
	default:
		end_later(l, END_RETRY, "a stanza before the handshake");
		return;
	}
}

static void on_skipped(void *arg, const struct xmlstream_skipped *s)
{
	struct link *l = arg;

	if (l->phase != P_UP || l->ending != END_NONE)
		return;
	hand_up(l, NULL, s);
	hold_here(l);
}

static void on_close(void *arg)
{
	struct link *l = arg;

	if (l->phase == P_CLOSING)
		end_later(l, END_FINISHED, "closed");
	else
		end_later(l, END_RETRY, "the server closed the stream");
}

/* Act on what the parser callbacks decided. */
static void act_on_ending(struct link *l)
{
	enum ending e = l->ending;

	switch (e) {
	case END_NONE:
		return;
	case END_FINISHED:
		log_info("disconnected from %s", l->where);
		finish(l, COMPONENT_EXIT_OK);
		return;
	case END_REFUSED:
		finish(l, COMPONENT_EXIT_REFUSED);
		return;
	case END_RETRY:
	case END_QUIET_RETRY:
		/* Close our side of the stream as a server expects. */
		if (l->phase >= P_HANDSHAKE)
			send_last_words(l, "</stream:stream>");
		retry(l, e == END_QUIET_RETRY);
		return;
	}
}

/* Keep N bytes at P that the paused parser did not take. 0 or -1. */
static int keep_leftover(struct link *l, const char *p, size_t n)
{
	free(l->leftover);
	l->leftover = NULL;
	l->leftover_len = 0;
	if (n == 0)
		return 0;
	if ((l->leftover = malloc(n)) == NULL)
		return -1;
	memcpy(l->leftover, p, n);
	l->leftover_len = n;
	return 0;
}

void link_parse_input(struct link *l, size_t len)
{
	char esc[400];

	if (xmlstream_feed(l->xs, l->in, len) < 0) {
		if (l->ending != END_NONE) {
			act_on_ending(l);
			return;
		}
		log_error("malformed XML from %s: %s; closing the connection",
			  l->where, log_escape(esc, sizeof(esc),
					       xmlstream_error(l->xs)));
		snprintf(l->reason, sizeof(l->reason), "malformed XML");
		send_last_words(l, "<stream:error><not-well-formed xmlns='"
				XMPP_NS_STREAMS_IETF "'/></stream:error></stream:stream>");
		retry(l, 0);
		return;
	}
	if (l->ending != END_NONE) {
		act_on_ending(l);
		return;
	}
	if (l->hold == HOLD_STILL && keep_leftover(l, l->in + len -
				xmlstream_unparsed(l->xs),
				xmlstream_unparsed(l->xs)) < 0) {
		/* Without them the stream cannot go on anywhere. */
		link_lose(l, "out of memory while holding the stream for a takeover");
	}
}

static int reading(const struct link *l)
{
	return l->phase >= P_OPENING && l->phase <= P_CLOSING &&
	       l->hold != HOLD_STILL;
}

/* Over the output limit while the server has taken nothing for STALL_MS:
 * requests read now are answered resource-constraint (see STALL_MS). */
static int stalled(const struct link *l)
{
	return l->phase == P_UP && obuf_len(&l->out) >= l->cfg->queue_max &&
	       util_now_ms() - l->tx_at >= STALL_MS;
}

/* Whether to stop reading: over the output limit, unless stalled (then
 * up to four times the limit). */
static int backpressured(const struct link *l)
{
	size_t q = obuf_len(&l->out);

	if (l->phase != P_UP || q < l->cfg->queue_max)
		return 0;
	return !stalled(l) || q / 4 >= l->cfg->queue_max;
}

static void read_and_parse(struct link *l)
{
	int i;

	for (i = 0; i < READS_PER_TURN && reading(l); i++) {
		ssize_t n;

		/* Back-pressure between reads: the replies to one read are a
		 * bounded addition above the high-water mark. */
		if (backpressured(l))
			return;
		n = io_read(l, l->in, IN_SIZE);
		if (n == IO_AGAIN)
			return;
		if (n == 0) {
			if (l->phase == P_CLOSING) {
				log_info("disconnected from %s", l->where);
				finish(l, COMPONENT_EXIT_OK);
			} else {
				link_lose(l, l->up_at ? "closed by the server" :
				     "closed by the server during the opening");
			}
			return;
		}
		if (n < 0) {
			retry(l, 0);
			return;
		}
		l->last_rx = util_now_ms();
		l->ping_sent = 0;
		if (log_enabled(LOG_LEVEL_DEBUG))
			log_traffic(l, "RECV from", &l->rx_mask, l->in,
				    (size_t)n);
		else    /* Unlogged: the next logged read starts afresh. */
			memset(&l->rx_mask, 0, sizeof(l->rx_mask));
		l->in_len = (size_t)n;
		link_parse_input(l, l->in_len);
	}
}

/* ---- timers ----------------------------------------------------------- */

static void send_ping(struct link *l, uint64_t now)
{
	char text[700];

	snprintf(text, sizeof(text), "<iq type='get' id='ope-live-%lu' "
		 "from='%s' to='%s'><ping xmlns='urn:xmpp:ping'/></iq>",
		 ++l->ping_seq, l->cfg->domain, l->ping_to);
	if (queue_text(l, text) == 0)
		l->ping_sent = now;
}

static void run_timers(struct link *l, uint64_t now)
{
	const struct config *c = l->cfg;

	switch (l->phase) {
	case P_WAITING:
		if (now >= l->retry_at)
			start_attempt(l);
		return;
	case P_RESOLVING:
		if (now >= l->deadline)
			link_lose(l, "cannot resolve %s: no answer within %u.%03u s "
			     "(server.connect_timeout)", current_server(l)->host,
			     c->connect_timeout_ms / 1000,
			     c->connect_timeout_ms % 1000);
		return;
	case P_CONNECTING:
		if (now < l->deadline)
			return;
		note_attempt(l, l->ai_cur, "timed out");
		close(l->fd);
		l->fd = -1;
		l->ai_cur = l->ai_cur->ai_next;
		try_addresses(l);
		return;
	case P_TLS:
	case P_OPENING:
	case P_HANDSHAKE:
		if (now >= l->deadline)
			link_lose(l, "no %s within %u.%03u s",
			     l->phase == P_TLS ? "TLS handshake" :
			     l->phase == P_OPENING ? "stream header from the server" :
			     "answer to the handshake",
			     c->connect_timeout_ms / 1000, c->connect_timeout_ms % 1000);
		return;
	case P_UP:
		if (c->liveness_idle_ms == 0 || l->hold != HOLD_NONE)
			return;
		if (l->ping_sent != 0 && backpressured(l))
			/* We are the ones not reading its answer. */
			l->ping_sent = now;
		if (l->ping_sent != 0 && now - l->ping_sent >= c->liveness_timeout_ms)
			link_lose(l, "no answer to a ping within %u.%03u s",
			     c->liveness_timeout_ms / 1000,
			     c->liveness_timeout_ms % 1000);
		else if (l->ping_sent == 0 && obuf_len(&l->out) == 0 &&
			 now - l->last_rx >= c->liveness_idle_ms)
			send_ping(l, now);
		return;
	case P_CLOSING:
	case P_STOPPED:
		return;
	}
}

/* When the next timer is due (monotonic ms), or 0 for none. */
static uint64_t next_timer(const struct link *l)
{
	const struct config *c = l->cfg;
	uint64_t stall = 0, ping;

	switch (l->phase) {
	case P_WAITING:
		return l->retry_at;
	case P_RESOLVING:
	case P_CONNECTING:
	case P_TLS:
	case P_OPENING:
	case P_HANDSHAKE:
		return l->deadline;
	case P_UP:
		/* Over the output limit: look again once it may count as a
		 * stall (stalled()). */
		if (obuf_len(&l->out) >= c->queue_max && !stalled(l))
			stall = l->tx_at + STALL_MS;
		if (c->liveness_idle_ms == 0 || l->hold != HOLD_NONE)
			return stall;
		if (l->ping_sent != 0)
			ping = l->ping_sent + c->liveness_timeout_ms;
		else
			ping = l->last_rx + c->liveness_idle_ms;
		return stall != 0 && stall < ping ? stall : ping;
	default:
		return 0;
	}
}

/* ---- the loop ----------------------------------------------------------- */

static void on_connect_ready(struct link *l)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(l->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err == 0) {
		connected(l);
		return;
	}
	note_attempt(l, l->ai_cur, strerror(err));
	close(l->fd);
	l->fd = -1;
	l->ai_cur = l->ai_cur->ai_next;
	try_addresses(l);
}

static void on_tls_ready(struct link *l)
{
	char err[400], desc[100];
	int rc = tls_handshake(l->tls, &l->tls_want, err, sizeof(err));

	if (rc == 0)
		return;
	if (rc < 0) {
		const char *name = l->cfg->tls_name ? l->cfg->tls_name :
				   current_server(l)->host;

		log_error("TLS with %s failed: %s (checked against the name '%s'%s%s); "
			  "set server.tls.ca_file to the CA that signed the "
			  "server's certificate, or server.tls.name to the name "
			  "it carries", l->where, err, name,
			  l->cfg->tls_ca_file ? " and the CAs in " : " and the system's CAs",
			  l->cfg->tls_ca_file ? l->cfg->tls_ca_file : "");
		link_lose(l, "%s", err);
		return;
	}
	l->tls_want = 0;
	log_info("TLS with %s: %s, certificate verified for '%s'", l->where,
		 tls_describe(l->tls, desc, sizeof(desc)),
		 l->cfg->tls_name ? l->cfg->tls_name : current_server(l)->host);
	open_stream(l);
}

/* What the turn ends with after any event: write what is queued, then
 * act on the timers that are due. */
static void end_turn(struct link *l)
{
	if (l->fd >= 0 && l->phase >= P_OPENING && obuf_len(&l->out) > 0 &&
	    flush_out(l) < 0) {
		if (l->phase == P_CLOSING) {
			log_info("disconnected from %s (%s)", l->where, l->reason);
			finish(l, COMPONENT_EXIT_OK);
		} else {
			retry(l, 0);
		}
	}
	run_timers(l, util_now_ms());
}

/* The socket (or the lookup's descriptor) is ready. */
static void on_io(void *arg, int fd, short revents)
{
	struct link *l = arg;

	(void)fd;
	(void)revents;
	if (l->phase == P_RESOLVING) {
		on_resolve_ready(l);
	} else if (l->phase == P_CONNECTING) {
		on_connect_ready(l);
	} else if (l->phase == P_TLS) {
		on_tls_ready(l);
	} else if (l->fd >= 0) {
		l->tls_want = 0;
		read_and_parse(l);
	}
	end_turn(l);
}

/* A timer is due, or TLS holds decrypted bytes the socket will not
 * announce. */
static void on_timer(void *arg)
{
	struct link *l = arg;

	if (l->tls != NULL && tls_pending(l->tls) && !backpressured(l) &&
	    reading(l))
		read_and_parse(l);
	end_turn(l);
}

/* Before every wait: what the socket waits for and when the next timer is
 * due follow from the state alone, whoever changed it (a reply queued by
 * an admin command, a takeover holding the stream). */
static void on_prepare(void *arg)
{
	struct link *l = arg;
	uint64_t due = next_timer(l);
	short events = 0;
	int fd = -1;

	if (l->phase == P_STOPPED || l->suspended) {
		due = 0;
	} else if (l->phase == P_RESOLVING) {
		fd = resolve_fd(l->lookup);
		events = POLLIN;
	} else if (l->fd >= 0) {
		fd = l->fd;
		if (l->phase == P_CONNECTING) {
			events = POLLOUT;
		} else if (l->phase == P_TLS) {
			events = l->tls_want;
		} else {
			if (!backpressured(l) && reading(l))
				events |= POLLIN;
			if (obuf_len(&l->out) > 0)
				events |= POLLOUT;
			/* A TLS write that wants to read, or a read that wants
			 * to write, waits for that instead. */
			if (l->tls != NULL && l->tls_want != 0)
				events |= l->tls_want;
			if (l->tls != NULL && tls_pending(l->tls) &&
			    !backpressured(l))
				due = util_now_ms();
		}
	}
	loop_io_set(l->io, fd, events);
	loop_timer_at(l->timer, due);
}

/* ---- public life cycle -------------------------------------------------- */

/* The server's own domain for liveness pings: the component domain's
 * parent ("ope.example.org" -> "example.org"), or the domain itself. */
static void ping_target(struct link *l)
{
	snprintf(l->ping_to, sizeof(l->ping_to), "%s",
		 jid_parent_domain(l->cfg->domain));
}

struct link *link_new(struct loop *loop, xmpp_ctx_t *ctx,
		      const struct config *cfg, struct metrics *metrics)
{
	struct link *l = calloc(1, sizeof(*l));
	char err[600];

	if (l == NULL)
		return NULL;
	l->fd = -1;
	l->ctx = ctx;
	l->cfg = cfg;
	l->metrics = metrics;
	l->pub_state = LINK_WAITING;
	l->phase = P_WAITING;
	l->in = malloc(IN_SIZE);
	l->io = loop_io_add(loop, -1, 0, on_io, l);
	l->timer = loop_timer_add(loop, on_timer, l);
	l->prepare = loop_hook_add(loop, on_prepare, l);
	if (l->in == NULL || l->io == NULL || l->timer == NULL ||
	    l->prepare == NULL) {
		log_error("out of memory while starting");
		goto fail;
	}
	if (cfg->tls_direct) {
		l->tls_cfg = tls_config_new(cfg->tls_ca_file, err, sizeof(err));
		if (l->tls_cfg == NULL) {
			log_error("%s", err);
			goto fail;
		}
	}
	backoff_init(&l->backoff, cfg->reconnect_initial_ms, cfg->reconnect_max_ms);
	if (getrandom(&l->rng, sizeof(l->rng), GRND_NONBLOCK) != sizeof(l->rng) ||
	    l->rng == 0)
		l->rng = (uint32_t)time(NULL) | 1u;
	ping_target(l);
	set_where(l);
	return l;
fail:
	link_free(l);
	return NULL;
}

void link_set_resolver(struct link *l, resolve_fn fn)
{
	l->resolver = fn;
}

void link_set_upper(struct link *l, const struct link_upper *upper)
{
	l->upper = *upper;
}

void link_set_observer(struct link *l, link_state_fn fn, void *arg)
{
	l->on_state = fn;
	l->state_arg = arg;
}

void link_pin(struct link *l, size_t index)
{
	l->pinned = 1;
	l->server = index;
	set_where(l);
}

void link_set_metrics_link(struct link *l, struct metrics_link *ml)
{
	l->ml = ml;
}

int link_start(struct link *l)
{
	start_attempt(l);
	return 0;
}

int link_add_claim(struct link *l, link_claim_fn fn, void *arg)
{
	if (l->nclaims >= LINK_CLAIMS_MAX)
		return -1;
	l->claims[l->nclaims].fn = fn;
	l->claims[l->nclaims].arg = arg;
	l->nclaims++;
	return 0;
}

int link_send_raw(struct link *l, const char *text)
{
	if (l->phase != P_UP || l->stopping)
		return -1;
	return queue_text(l, text);
}

void link_stop(struct link *l)
{
	if (l->stopping || l->phase == P_STOPPED)
		return;
	l->stopping = 1;
	if (l->phase != P_UP) {
		finish(l, COMPONENT_EXIT_OK);
		return;
	}
	/* Replies already queued go out before the close; requests waiting
	 * for a password hash get theirs now. */
	if (l->upper.ended != NULL)
		l->upper.ended(l->upper.arg, 1);
	if (queue_text(l, "</stream:stream>") < 0) {
		finish(l, COMPONENT_EXIT_OK);
		return;
	}
	l->phase = P_CLOSING;
	if (flush_out(l) < 0) {
		log_info("disconnected from %s (%s)", l->where, l->reason);
		finish(l, COMPONENT_EXIT_OK);
	}
}

int link_done(const struct link *l)
{
	return l->phase == P_STOPPED;
}

enum component_exit link_exit_status(const struct link *l)
{
	return l->exit_status;
}

const char *link_server(const struct link *l)
{
	return l->where;
}

enum link_state link_get_state(const struct link *l)
{
	return l->pub_state;
}

void link_status(const struct link *l, struct ext_status *out)
{
	static const char *const names[] = {
		[LINK_CONNECTING] = "connecting", [LINK_UP] = "up",
		[LINK_WAITING] = "waiting to reconnect", [LINK_STOPPED] = "stopped",
	};

	out->link_state = (size_t)l->pub_state < ARRAY_SIZE(names) &&
			  names[l->pub_state] ? names[l->pub_state] : "unknown";
	out->server = l->where[0] != '\0' ? l->where : NULL;
	out->link_up_s = l->up_at != 0 ? (util_now_ms() - l->up_at) / 1000.0 : -1;
	out->tls = l->tls != NULL;
	out->queue_bytes = obuf_len(&l->out);
}

void link_free(struct link *l)
{
	if (l == NULL)
		return;
	if (l->late > 0)
		log_warn("%lu request(s) arrived after our </stream:stream> and "
			 "were not answered", l->late);
	link_close(l);
	loop_hook_del(l->prepare);
	loop_timer_del(l->timer);
	loop_io_del(l->io);
	tls_config_free(l->tls_cfg);
	free(l->in);
	free(l);
}
