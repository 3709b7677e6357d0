/* SPDX-License-Identifier: MIT */
/* link.c: ope's XEP-0114 link to the server: connect, TLS, handshake, parse, dispatch, write, fail over, reconnect. */
#include <errno.h>
#include <fcntl.h>
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
#include "dispatch.h"
#include "ext.h"
#include "drain.h"
#include "handover.h"
#include "hash.h"
#include "jid.h"
#include "link.h"
#include "log.h"
#include "metrics.h"
#include "obuf.h"
#include "resolve.h"
#include "stanza.h"
#include "tls.h"
#include "util.h"
#include "xmlstream.h"

/* A connection that lasted this long was healthy: the next failure starts
 * the back-off afresh. A server that accepts the handshake and drops us at
 * once keeps backing off instead. */
#define STABLE_MS 30000
/* One read: big enough for many pipelined stanzas, small enough that the
 * replies to it stay a bounded addition to the output queue. */
#define IN_SIZE 65536
/* Reads per link_run_once() before writing again. */
#define READS_PER_TURN 4
/* Over limits.output_queue ope stops reading. If the server takes nothing
 * for this long meanwhile, it may itself be stuck writing to us (ejabberd
 * blocks in send): ope reads on and answers requests with a short
 * resource-constraint error, until the queue reaches four times the
 * limit (which bounds memory when the server reads nothing at all). */
#define STALL_MS 1000
/* The output buffer is given back when it empties and has grown past this. */
#define OUT_KEEP 262144
/* Over-limit senders remembered for log rate limiting (a fixed table, so
 * memory stays bounded whoever sends). */
#define SKIP_SLOTS 256
#define SKIP_LOG_MS 60000

enum phase {
	P_WAITING,     /* back-off timer running, no socket */
	P_RESOLVING,   /* the server's name is being looked up (resolve.h) */
	P_CONNECTING,  /* non-blocking connect() to ai_cur */
	P_TLS,         /* TLS handshake */
	P_OPENING,     /* our stream header sent, waiting for the server's */
	P_HANDSHAKE,   /* <handshake> sent, waiting for <handshake/> */
	P_UP,          /* serving */
	P_CLOSING,     /* our </stream:stream> sent, waiting for the server's */
	P_STOPPED,     /* finished */
};

/* Why a connection ends, decided inside parser callbacks and acted on once
 * the parser has returned. */
enum ending {
	END_NONE,
	END_RETRY,     /* reconnect with back-off (reason in `reason`) */
	END_QUIET_RETRY, /* the same, the error line was already written */
	END_REFUSED,   /* stop for good: exit 3 */
	END_FINISHED,  /* the server closed after our close: done */
};

/* Holding the stream still for a takeover (link_hold). */
enum hold {
	HOLD_NONE,
	HOLD_WAIT,     /* reading on until the next stanza boundary */
	HOLD_STILL,    /* parser paused at a boundary; no more reading */
};

/* How a stream header looks when the server's own could not be kept. */
#define DEFAULT_HEADER "<stream:stream xmlns='jabber:component:accept' " \
	"xmlns:stream='http://etherx.jabber.org/streams'>"

struct skip_slot {
	uint64_t hash;
	uint64_t at;
};

struct link {
	xmpp_ctx_t *ctx;
	const struct config *cfg;
	struct dispatch *dispatch;
	struct metrics *metrics;  /* NULL: off */
	link_state_fn on_state;
	void *state_arg;
	enum link_state pub_state;
	struct tls_config *tls_cfg;

	enum phase phase;
	enum component_exit exit_status;
	int stopping;

	size_t server;            /* index into the configured servers */
	unsigned round;           /* failures since the last back-off */
	char where[300];          /* "host:port" of the current server */
	struct backoff backoff;
	uint32_t rng;             /* xorshift state for jitter */
	uint64_t retry_at;

	struct resolve *lookup;   /* while P_RESOLVING */
	resolve_fn resolver;      /* NULL: getaddrinfo (link_set_resolver) */
	struct addrinfo *ai_list, *ai_cur;
	char attempts[400];       /* per-address failures of this attempt */
	uint64_t deadline;       /* of the connect or the opening */

	int fd;
	struct tls *tls;
	short tls_want;           /* what the TLS session waits for, or 0 */
	struct xmlstream *xs;
	char stream_id[256];
	uint64_t up_at;          /* 0 while not up */

	char *in;                 /* IN_SIZE bytes: the last read */
	size_t in_len;            /* bytes in it */
	struct obuf out;
	struct log_mask rx_mask, tx_mask; /* traffic log state per direction */
	uint64_t tx_at;           /* last write progress, or queue empty */
	unsigned long shed;       /* requests answered resource-constraint */
	uint64_t shed_logged;     /* when that was last logged */

	enum ending ending;
	char reason[400];

	uint64_t last_rx;        /* last byte from the server */
	uint64_t ping_sent;      /* 0: no ping outstanding */
	unsigned long ping_seq;
	char ping_to[256];

	struct skip_slot skips[SKIP_SLOTS];
	uint8_t skip_key[16];        /* keys the senders' slots (hash.h) */
	unsigned long skips_quiet;  /* log lines held back since the last one */
	unsigned long late;         /* requests read after our close */
	struct drain *drain;        /* NULL unless draining (link_drain) */

	int watch_fd;               /* link_watch(); -1: none */
	int watch_ready;
	enum hold hold;             /* a takeover in progress (link_hold) */
	char *leftover;             /* bytes read past the held boundary */
	size_t leftover_len;
};

static uint32_t next_random(struct link *l)
{
	l->rng ^= l->rng << 13;
	l->rng ^= l->rng >> 17;
	l->rng ^= l->rng << 5;
	return l->rng;
}

static void set_state(struct link *l, enum link_state s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The single place the state hook is called from. */
static void set_state(struct link *l, enum link_state s, const char *fmt, ...)
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

/* dispatch's sender: serialise REPLY into the output queue. */
static void send_stanza(xmpp_stanza_t *reply, void *arg)
{
	struct link *l = arg;
	size_t mark = obuf_mark(&l->out);

	if (obuf_len(&l->out) == 0)
		l->tx_at = util_now_ms();

	if (obuf_put_stanza(&l->out, reply) < 0) {
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
	metrics_output_queue(l->metrics, obuf_len(b), l->cfg->queue_max);
	return 0;
}

/* ---- connection life cycle ------------------------------------------- */

static void close_connection(struct link *l)
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
	dispatch_abandon(l->dispatch, 0);
}

static void finish(struct link *l, enum component_exit status)
{
	close_connection(l);
	l->phase = P_STOPPED;
	l->exit_status = status;
	/* A refusal names its cause: the service manager shows it as STATUS. */
	if (status == COMPONENT_EXIT_REFUSED)
		set_state(l, LINK_STOPPED, "refused by %s (%s); stopped (exit "
			  "status %d)", l->where, l->reason, (int)status);
	else
		set_state(l, LINK_STOPPED, "stopped (exit status %d)",
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
	close_connection(l);
	l->up_at = 0;
	memcpy(lost, l->where, sizeof(lost));
	if (!l->stopping) {
		l->server = (l->server + 1) % l->cfg->servers.n;
		set_where(l);
		failover = ++l->round < l->cfg->servers.n;
		if (!failover) {
			l->round = 0;
			delay = backoff_next(&l->backoff, next_random(l));
		}
		/* The state first: whoever reads the log line finds the state
		 * already changed (metrics, /health). */
		if (failover)
			set_state(l, LINK_CONNECTING, "failing over to %s: %s",
				  l->where, l->reason);
		else
			set_state(l, LINK_WAITING, "reconnecting in %u.%u s: %s",
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

static void lose(struct link *l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void lose(struct link *l, const char *fmt, ...)
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

static void open_stream(struct link *l)
{
	static const struct xmlstream_callbacks cb = {
		on_open, on_stanza, on_skipped, on_close,
	};
	const struct config *c = l->cfg;
	char header[600];

	l->xs = xmlstream_new(l->ctx, &c->limits, &cb, l);
	snprintf(header, sizeof(header), "<?xml version='1.0'?><stream:stream "
		 "xmlns='jabber:component:accept' "
		 "xmlns:stream='http://etherx.jabber.org/streams' to='%s'>",
		 c->domain);
	if (l->xs == NULL || queue_text(l, header) < 0) {
		lose(l, "out of memory");
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
		lose(l, "%s", err);
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
		lose(l, "cannot resolve %s: %s", current_server(l)->host, err);
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
	set_state(l, LINK_CONNECTING, "connecting to %s as %s", l->where,
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
		lose(l, "cannot resolve %s: %s", s->host,
		     rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		return;
	}
	/* A name: looked up on a worker, which may take long (a DNS server
	 * that does not answer), while the loop goes on (run_timers()). */
	l->lookup = resolve_start(s->host, s->port, l->resolver, err,
				  sizeof(err));
	if (l->lookup == NULL) {
		lose(l, "cannot resolve %s: %s", s->host, err);
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
					 "http://etherx.jabber.org/streams")));
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
static void shed_request(struct link *l, xmpp_stanza_t *st);

/* After a whole stanza: stop there if a takeover waits for a boundary. */
static void hold_here(struct link *l)
{
	if (l->hold != HOLD_WAIT)
		return;
	l->hold = HOLD_STILL;
	xmlstream_pause(l->xs);
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
		if (l->drain != NULL &&
		    drain_on_stanza(l->drain, xmpp_stanza_get_name(st),
				    xmpp_stanza_get_type(st),
				    xmpp_stanza_get_id(st),
				    xmpp_stanza_get_from(st), util_now_ms()) == 1)
			return;
		if (stalled(l))
			shed_request(l, st);
		else
			dispatch_stanza(l->dispatch, st);
		hold_here(l);
		return;
	case P_HANDSHAKE:
		if (util_streq(xmpp_stanza_get_name(st), "handshake")) {
			l->phase = P_UP;
			l->up_at = util_now_ms();
			/* l->round is reset only once the link proved stable
			 * (retry()), so servers that accept and drop at once
			 * still lead to the back-off instead of a storm. */
			set_state(l, LINK_UP, "connected to %s as %s", l->where,
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

/* Log at most one line per sender per minute: a fixed table indexed by a
 * hash of the sender, so a flood of senders costs no memory. */
static int skip_log_allowed(struct link *l, const char *from, uint64_t now)
{
	uint64_t h = hash_sip(l->skip_key, from ? from : "",
			      from ? strlen(from) : 0);
	struct skip_slot *slot;

	slot = &l->skips[h % SKIP_SLOTS];
	if (slot->at != 0 && slot->hash == h && now - slot->at < SKIP_LOG_MS) {
		l->skips_quiet++;
		return 0;
	}
	slot->hash = h;
	slot->at = now;
	return 1;
}

/* Answer a request we will not serve with COND and TEXT, from what its top
 * element says (the rest of it is not copied). Only iq get/set and
 * non-error messages from a valid JID to our domain get an answer.
 * Returns 1 when one was queued. */
static int answer_error(struct link *l, const char *name, const char *type,
			const char *id, const char *from, const char *to,
			enum stanza_cond cond, const char *text)
{
	xmpp_stanza_t *req, *reply = NULL;
	int answer = 0;

	if (from && *from && id && *id && to &&
	    jid_domain_is(to, l->cfg->domain) &&
	    jid_split(from, NULL, NULL, NULL, NULL, NULL, NULL) == 0) {
		if (util_streq(name, "iq"))
			answer = util_streq(type, "get") || util_streq(type, "set");
		else if (util_streq(name, "message"))
			answer = !util_streq(type, "error");
	}
	if (!answer)
		return 0;
	req = xmpp_stanza_new(l->ctx);
	if (req != NULL && xmpp_stanza_set_name(req, name) == XMPP_EOK &&
	    xmpp_stanza_set_attribute(req, "from", from) == XMPP_EOK &&
	    xmpp_stanza_set_attribute(req, "id", id) == XMPP_EOK)
		reply = stanza_error_reply(l->ctx, req, to, cond, text);
	if (reply != NULL) {
		send_stanza(reply, l);
		xmpp_stanza_release(reply);
		metrics_error_sent(l->metrics, cond);
	}
	if (req != NULL)
		xmpp_stanza_release(req);
	return reply != NULL;
}

static void on_skipped(void *arg, const struct xmlstream_skipped *s)
{
	struct link *l = arg;
	int answer;
	char text[200];
	int reserved = s->limit != NULL &&
		       strcmp(s->limit, "reserved namespace") == 0;

	if (l->phase != P_UP || l->ending != END_NONE)
		return;
	if (s->forged)
		snprintf(text, sizeof(text), "two attributes of the stanza "
			 "would be read under one name, or a namespaced "
			 "attribute stands in for from, to, id or type");
	else if (reserved)
		snprintf(text, sizeof(text), "the stanza uses the xml or "
			 "xmlns namespace where XML allows no other use (an "
			 "element in it, or a prefix bound to its URI)");
	else
		snprintf(text, sizeof(text), "the stanza is over this "
			 "service's limit on %s",
			 s->limit ? s->limit : "stanza size");
	answer = answer_error(l, s->name, s->type, s->id, s->from, s->to,
			      STANZA_COND_POLICY_VIOLATION, text);
	if (skip_log_allowed(l, s->from, util_now_ms())) {
		char name[64], from[300];

		log_warn("skipped a <%s> from %s %s %s (%s)%s",
			 log_escape(name, sizeof(name), s->name),
			 log_escape(from, sizeof(from), s->from),
			 s->forged ? "with forged or clashing" :
			 reserved ? "with a" : "over the limit on",
			 s->limit ? s->limit : "stanza size",
			 answer ? "answered policy-violation" :
			 "nothing to answer: no from, id or answerable type",
			 l->skips_quiet ? "; more such lines held back" : "");
		l->skips_quiet = 0;
	}
	hold_here(l);
}

/* Stalled (see STALL_MS): answer ST with a short error instead of serving
 * it, and say so once a minute. */
static void shed_request(struct link *l, xmpp_stanza_t *st)
{
	uint64_t now = util_now_ms();

	if (answer_error(l, xmpp_stanza_get_name(st), xmpp_stanza_get_type(st),
			 xmpp_stanza_get_id(st), xmpp_stanza_get_from(st),
			 xmpp_stanza_get_to(st), STANZA_COND_RESOURCE_CONSTRAINT,
			 "the server is not taking this service's replies; "
			 "try again later"))
		l->shed++;
	if (l->shed > 0 && (l->shed_logged == 0 ||
			    now - l->shed_logged >= SKIP_LOG_MS)) {
		log_warn("%s has taken none of our %zu bytes of replies for %u ms "
			 "while we held back its requests (it may itself be "
			 "waiting for us to read): reading on and answering "
			 "resource-constraint; %lu request(s) so far",
			 l->where, obuf_len(&l->out), (unsigned)(now - l->tx_at),
			 l->shed);
		l->shed_logged = now;
	}
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

/* Parse the LEN bytes just read into l->in. */
static void parse_input(struct link *l, size_t len)
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
		lose(l, "out of memory while holding the stream for a takeover");
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
				lose(l, l->up_at ? "closed by the server" :
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
		parse_input(l, l->in_len);
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
			lose(l, "cannot resolve %s: no answer within %u.%03u s "
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
			lose(l, "no %s within %u.%03u s",
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
			lose(l, "no answer to a ping within %u.%03u s",
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
		lose(l, "%s", err);
		return;
	}
	l->tls_want = 0;
	log_info("TLS with %s: %s, certificate verified for '%s'", l->where,
		 tls_describe(l->tls, desc, sizeof(desc)),
		 l->cfg->tls_name ? l->cfg->tls_name : current_server(l)->host);
	open_stream(l);
}

int link_run_once(struct link *l, int timeout_ms)
{
	struct pollfd fds[3] = { { .fd = -1 }, { .fd = -1 }, { .fd = -1 } },
		      *w = &fds[1], *checks = &fds[2];
	struct pollfd pfd = { .fd = -1 };
	uint64_t now = util_now_ms(), due = next_timer(l);
	int rc;

	if (l->phase == P_STOPPED)
		return 0;
	if (due != 0) {
		uint64_t wait = due > now ? due - now : 0;

		if (wait < (uint64_t)timeout_ms)
			timeout_ms = (int)wait;
	}
	/* Lines logged since the last turn go out before the wait (log.h). */
	log_flush();
	if (l->phase == P_RESOLVING) {
		pfd.fd = resolve_fd(l->lookup);
		pfd.events = POLLIN;
	} else if (l->fd >= 0) {
		pfd.fd = l->fd;
		if (l->phase == P_CONNECTING) {
			pfd.events = POLLOUT;
		} else if (l->phase == P_TLS) {
			pfd.events = l->tls_want;
		} else {
			if (!backpressured(l) && reading(l))
				pfd.events |= POLLIN;
			if (obuf_len(&l->out) > 0)
				pfd.events |= POLLOUT;
			/* A TLS write that wants to read, or a read that wants
			 * to write, waits for that instead. */
			if (l->tls != NULL && l->tls_want != 0)
				pfd.events |= l->tls_want;
			if (l->tls != NULL && tls_pending(l->tls) &&
			    !backpressured(l))
				timeout_ms = 0;
		}
	}
	fds[0] = pfd;
	w->fd = l->watch_fd;
	w->events = POLLIN;
	/* Password hashes finished on the worker (dispatch_complete()). */
	checks->fd = dispatch_fd(l->dispatch);
	checks->events = POLLIN;
	/* poll() skips entries with a negative fd. */
	rc = poll(fds, 3, timeout_ms);
	pfd = fds[0];
	if (rc > 0 && w->fd >= 0 && w->revents != 0)
		l->watch_ready = 1;
	if (rc < 0 && errno != EINTR) {
		log_error("poll failed: %s", strerror(errno));
		finish(l, COMPONENT_EXIT_INTERNAL);
		return -1;
	}
	if (rc < 0)
		return 0;
	if (pfd.fd >= 0 && pfd.revents != 0) {
		if (l->phase == P_RESOLVING) {
			on_resolve_ready(l);
		} else if (l->phase == P_CONNECTING) {
			on_connect_ready(l);
		} else if (l->phase == P_TLS) {
			on_tls_ready(l);
		} else {
			l->tls_want = 0;
			read_and_parse(l);
		}
	} else if (l->tls != NULL && tls_pending(l->tls) && !backpressured(l)) {
		read_and_parse(l);
	}
	if (rc > 0 && checks->fd >= 0 && checks->revents != 0)
		dispatch_complete(l->dispatch);
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
	return 0;
}

/* ---- public life cycle -------------------------------------------------- */

/* The server's own domain for liveness pings: the component domain's
 * parent ("ope.example.org" -> "example.org"), or the domain itself. */
static void ping_target(struct link *l)
{
	const char *d = l->cfg->domain, *dot = strchr(d, '.');

	snprintf(l->ping_to, sizeof(l->ping_to), "%s",
		 dot && dot[1] ? dot + 1 : d);
}

struct link *link_new(xmpp_ctx_t *ctx, const struct config *cfg,
		      struct metrics *metrics)
{
	struct link *l = calloc(1, sizeof(*l));
	char err[600];

	if (l == NULL)
		return NULL;
	l->fd = -1;
	l->watch_fd = -1;
	l->ctx = ctx;
	l->cfg = cfg;
	l->metrics = metrics;
	l->pub_state = LINK_WAITING;
	l->phase = P_WAITING;
	hash_random_key(l->skip_key);
	l->in = malloc(IN_SIZE);
	l->dispatch = dispatch_new(ctx, cfg, metrics, send_stanza, l);
	if (l->in == NULL || l->dispatch == NULL) {
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

void link_set_observer(struct link *l, link_state_fn fn, void *arg)
{
	l->on_state = fn;
	l->state_arg = arg;
}

int link_start(struct link *l)
{
	start_attempt(l);
	return 0;
}

int link_drain(struct link *l, struct drain *d)
{
	char text[1200];

	if (l->phase != P_UP || l->stopping)
		return -1;
	if (drain_start(d, l->cfg->domain, jid_parent_domain(l->cfg->domain),
			util_now_ms(), text, sizeof(text)) < 0 ||
	    queue_text(l, text) < 0)
		return -1;
	l->drain = d;
	return 0;
}

void link_stop(struct link *l)
{
	if (l->stopping || l->phase == P_STOPPED)
		return;
	l->stopping = 1;
	l->drain = NULL;
	if (l->phase != P_UP) {
		finish(l, COMPONENT_EXIT_OK);
		return;
	}
	/* Replies already queued go out before the close; requests waiting
	 * for a password hash get theirs now. */
	dispatch_abandon(l->dispatch, 1);
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

enum link_state link_get_state(const struct link *l)
{
	return l->pub_state;
}

struct dispatch *link_dispatch(struct link *l)
{
	return l->dispatch;
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
	close_connection(l);
	tls_config_free(l->tls_cfg);
	dispatch_free(l->dispatch);
	free(l->in);
	free(l);
}

/* ---- takeover (handover.h) ---------------------------------------------- */

void link_watch(struct link *l, int fd)
{
	l->watch_fd = fd;
	l->watch_ready = 0;
}

int link_watched_ready(struct link *l)
{
	int ready = l->watch_ready;

	l->watch_ready = 0;
	return ready;
}

const char *link_why_not_movable(const struct link *l)
{
	if (l->stopping || l->phase == P_STOPPED)
		return "it is stopping";
	if (l->drain != NULL)
		return "it is draining to stop";
	if (l->phase != P_UP)
		return NULL;
	if (l->tls != NULL)
		return "its link is direct TLS (server.tls.direct), and a TLS "
		       "session cannot move between processes; restart it "
		       "with SIGTERM instead (behind ejabberd with "
		       "mod_ope_drain nothing is lost)";
	return NULL;
}

int link_has_stream(const struct link *l)
{
	return l->phase == P_UP && !l->stopping;
}

int link_hold(struct link *l)
{
	if (link_why_not_movable(l) != NULL || !link_has_stream(l) ||
	    l->hold != HOLD_NONE)
		return -1;
	l->hold = HOLD_WAIT;
	if (xmlstream_at_boundary(l->xs)) {
		l->hold = HOLD_STILL;
		xmlstream_pause(l->xs);
	}
	return 0;
}

int link_held(const struct link *l)
{
	if (l->phase != P_UP || l->hold == HOLD_NONE)
		return -1;
	/* A request waiting for its password hash, or a command waiting for
	 * its action, is answered here first. */
	return l->hold == HOLD_STILL && obuf_len(&l->out) == 0 &&
	       dispatch_pending(l->dispatch) == 0 &&
	       !dispatch_action_waiting(l->dispatch);
}

/* A new parser for the stream after a pause, fed HEADER (NULL: a default
 * one). NULL with WHY set when out of memory or the header is refused. */
static struct xmlstream *parser_after_pause(struct link *l, const char *header,
					    size_t hlen, const char **why)
{
	static const struct xmlstream_callbacks cb = {
		on_open, on_stanza, on_skipped, on_close,
	};
	struct xmlstream *xs = xmlstream_new(l->ctx, &l->cfg->limits, &cb, l);

	if (header == NULL) {
		header = DEFAULT_HEADER;
		hlen = strlen(DEFAULT_HEADER);
	}
	*why = "out of memory";
	if (xs != NULL && xmlstream_feed(xs, header, hlen) < 0) {
		*why = "the stream header handed over is not well-formed";
		xmlstream_free(xs);
		xs = NULL;
	}
	return xs;
}

/* Go on with XS from the bytes the paused parser left (REST), through the
 * usual path: they may hold whole requests to answer, or the server's
 * close. */
static void continue_stream(struct link *l, struct xmlstream *xs,
			    const char *rest, size_t rlen)
{
	xmlstream_free(l->xs);
	l->xs = xs;
	if (rlen == 0)
		return;
	if (rlen > IN_SIZE) {
		lose(l, "%zu bytes left over to continue the stream, more than "
		     "one read", rlen);
		return;
	}
	memcpy(l->in, rest, rlen);
	parse_input(l, rlen);
}

void link_unhold(struct link *l)
{
	struct xmlstream *xs;
	const char *header, *why;
	char *rest = l->leftover;
	size_t rlen = l->leftover_len, hlen;

	if (l->hold == HOLD_WAIT)
		l->hold = HOLD_NONE;
	if (l->hold == HOLD_NONE)
		return;
	/* The paused parser is finished: a new one goes on from the same
	 * place, as the new process would have. */
	header = xmlstream_header(l->xs, &hlen);
	xs = parser_after_pause(l, header, hlen, &why);
	l->leftover = NULL;
	l->leftover_len = 0;
	l->hold = HOLD_NONE;
	if (xs == NULL)
		lose(l, "cannot resume the stream: %s", why);
	else
		continue_stream(l, xs, rest, rlen);
	free(rest);
}

int link_export(const struct link *l, struct handover_link *h)
{
	const char *header;
	size_t hlen;

	memset(h, 0, sizeof(*h));
	h->fd = -1;
	if (link_held(l) != 1)
		return -1;
	header = xmlstream_header(l->xs, &hlen);
	if (header == NULL) {
		header = DEFAULT_HEADER;
		hlen = strlen(DEFAULT_HEADER);
	}
	if ((h->header = malloc(hlen)) == NULL ||
	    (l->leftover_len > 0 &&
	     (h->unparsed = malloc(l->leftover_len)) == NULL)) {
		handover_link_clear(h);
		return -1;
	}
	memcpy(h->header, header, hlen);
	h->header_len = hlen;
	if (l->leftover_len > 0)
		memcpy(h->unparsed, l->leftover, l->leftover_len);
	h->unparsed_len = l->leftover_len;
	h->fd = l->fd;
	snprintf(h->stream_id, sizeof(h->stream_id), "%s", l->stream_id);
	snprintf(h->server, sizeof(h->server), "%s", l->where);
	snprintf(h->domain, sizeof(h->domain), "%s", l->cfg->domain);
	h->server_index = (unsigned)l->server;
	return 0;
}

void link_release(struct link *l)
{
	/* close(), never shutdown(): the new process holds the same socket. */
	close_connection(l);
	l->phase = P_STOPPED;
	l->exit_status = COMPONENT_EXIT_OK;
}

int link_adopt(struct link *l, struct handover_link *h, char *err,
	       size_t errlen)
{
	struct xmlstream *xs;
	const char *why;
	int flags;

	if (l->phase != P_WAITING || l->fd >= 0 || h->fd < 0) {
		snprintf(err, errlen, "internal error: nothing to take over");
		return -1;
	}
	/* The server authenticated the stream for that domain. */
	if (strcmp(h->domain, l->cfg->domain) != 0) {
		snprintf(err, errlen, "the running ope-component serves %s and "
			 "this configuration says component.domain = \"%s\"; a "
			 "takeover keeps the stream the server accepted for %s: "
			 "stop the old one and start this one instead",
			 h->domain, l->cfg->domain, h->domain);
		return -1;
	}
	flags = fcntl(h->fd, F_GETFL);
	if (flags < 0 || fcntl(h->fd, F_SETFL, flags | O_NONBLOCK) < 0) {
		snprintf(err, errlen, "cannot set up the socket taken over: %s",
			 strerror(errno));
		return -1;
	}
	if ((xs = parser_after_pause(l, h->header, h->header_len, &why)) == NULL) {
		snprintf(err, errlen, "%s", why);
		return -1;
	}
	/* From here on the stream is ours. */
	l->fd = h->fd;
	h->fd = -1;
	if (h->server_index < l->cfg->servers.n)
		l->server = h->server_index;
	/* Its address as the old process knew it, for the logs. */
	if (h->server[0] != '\0')
		snprintf(l->where, sizeof(l->where), "%s", h->server);
	snprintf(l->stream_id, sizeof(l->stream_id), "%s", h->stream_id);
	l->phase = P_UP;
	l->up_at = l->last_rx = util_now_ms();
	set_state(l, LINK_UP, "took over the link to %s as %s", l->where,
		  l->cfg->domain);
	continue_stream(l, xs, h->unparsed, h->unparsed_len);
	return 0;
}
