/* SPDX-License-Identifier: MIT */
/* test_link.c: the link as a transport, the test playing the server: the lookup off the loop, the handshake, partial reads, back-pressure, stream errors, EOF. */
#define _GNU_SOURCE  /* open_memstream */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <CUnit/CUnit.h>
#include <openssl/evp.h>

#include "config.h"
#include "drain.h"
#include "handover.h"
#include "link.h"
#include "log.h"
#include "loop.h"
#include "resolve.h"
#include "testutil.h"
#include "xmlstream.h"

/* Loop turns allowed for what must happen within one timeout: a bound
 * for the test, not an expectation of speed. */
#define TURNS 200

static int gate[2] = { -1, -1 };
static pthread_t loop_thread;
static int resolved_on_loop;

/* Answers 127.0.0.1 once the test writes to the gate ("try again" once it
 * is closed). Called on the loop's own thread it would hold the loop until
 * then: it says so and fails at once instead of hanging the test. */
static int gated(const char *host, const char *service,
		 const struct addrinfo *hints, struct addrinfo **res)
{
	struct addrinfo h = *hints;
	char c;
	ssize_t n;

	(void)host;
	if (pthread_equal(pthread_self(), loop_thread)) {
		resolved_on_loop = 1;
		return EAI_AGAIN;
	}
	do
		n = read(gate[0], &c, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		return EAI_AGAIN;
	h.ai_flags |= AI_NUMERICHOST;
	return getaddrinfo("127.0.0.1", service, &h, res);
}

struct seen {
	enum link_state state;
	char detail[600];
};

static void observe(void *arg, enum link_state state, const char *detail)
{
	struct seen *s = arg;

	s->state = state;
	snprintf(s->detail, sizeof(s->detail), "%s", detail);
}

struct fixture {
	struct config cfg;
	struct config_server server;
	char host[64];
	xmpp_ctx_t *ctx;
	struct loop *loop;
	struct link *l;
	struct seen seen;
};

static void start(struct fixture *f, unsigned port, unsigned timeout_ms)
{
	memset(f, 0, sizeof(*f));
	testutil_config(&f->cfg);
	snprintf(f->host, sizeof(f->host), "ope-test.invalid");
	f->server.host = f->host;
	f->server.port = port;
	f->cfg.servers.list = &f->server;
	f->cfg.servers.n = 1;
	f->cfg.connect_timeout_ms = timeout_ms;
	f->cfg.queue_max = 1 << 20;
	loop_thread = pthread_self();
	resolved_on_loop = 0;
	CU_ASSERT_EQUAL_FATAL(pipe(gate), 0);
	f->ctx = testutil_ctx_new();
	f->loop = loop_new();
	CU_ASSERT_PTR_NOT_NULL_FATAL(f->loop);
	f->l = link_new(f->loop, f->ctx, &f->cfg, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f->l);
	link_set_observer(f->l, observe, &f->seen);
	link_set_resolver(f->l, gated);
}

static void stop(struct fixture *f)
{
	link_free(f->l);
	loop_free(f->loop);
	testutil_ctx_free(f->ctx);
	/* Let a lookup still hanging answer, and join it. */
	close(gate[1]);
	CU_ASSERT_EQUAL(resolve_reap(1), 0);
	close(gate[0]);
}

/* The lookup hangs: link_start() and every turn return, the connect
 * timeout still fires, and the failure names host:port and the timeout. */
static void test_hanging_lookup(void)
{
	struct fixture f;
	char *log = NULL;
	size_t len = 0, i;
	FILE *stream = open_memstream(&log, &len);

	CU_ASSERT_PTR_NOT_NULL_FATAL(stream);
	log_init("ope-unit", LOG_LEVEL_WARNING, stream);
	start(&f, 5347, 50);
	CU_ASSERT_EQUAL(link_start(f.l), 0);
	CU_ASSERT_EQUAL(resolved_on_loop, 0);
	CU_ASSERT_EQUAL(f.seen.state, LINK_CONNECTING);
	CU_ASSERT_EQUAL(loop_run_once(f.loop, 0), 0);
	CU_ASSERT_EQUAL(f.seen.state, LINK_CONNECTING);
	for (i = 0; i < TURNS && f.seen.state == LINK_CONNECTING; i++)
		CU_ASSERT_EQUAL(loop_run_once(f.loop, 1000), 0);
	CU_ASSERT_EQUAL(f.seen.state, LINK_WAITING);
	CU_ASSERT_PTR_NOT_NULL(strstr(f.seen.detail, "cannot resolve "
		"ope-test.invalid: no answer within 0.050 s"));
	stop(&f);
	log_init("ope-unit", LOG_LEVEL_ERROR, stderr);
	fclose(stream);
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "cannot connect to "
		"ope-test.invalid:5347 (cannot resolve ope-test.invalid: no "
		"answer within 0.050 s (server.connect_timeout))"));
	free(log);
}

/* The answer comes back through the loop, and the link connects to it. */
static void test_answer_used(void)
{
	struct fixture f;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t salen = sizeof(sa);
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), cfd = -1;
	size_t i;

	CU_ASSERT_FATAL(lfd >= 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CU_ASSERT_EQUAL_FATAL(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	CU_ASSERT_EQUAL_FATAL(listen(lfd, 1), 0);
	CU_ASSERT_EQUAL_FATAL(getsockname(lfd, (struct sockaddr *)&sa, &salen), 0);
	start(&f, ntohs(sa.sin_port), 600000);
	CU_ASSERT_EQUAL(link_start(f.l), 0);
	CU_ASSERT_EQUAL(loop_run_once(f.loop, 0), 0);
	CU_ASSERT_EQUAL(resolved_on_loop, 0);
	/* Nothing to connect to before the answer. */
	CU_ASSERT_EQUAL(accept(lfd, NULL, NULL), -1);
	CU_ASSERT_EQUAL(write(gate[1], "x", 1), 1);
	for (i = 0; i < TURNS && cfd < 0; i++) {
		CU_ASSERT_EQUAL(loop_run_once(f.loop, 1000), 0);
		cfd = accept(lfd, NULL, NULL);
	}
	CU_ASSERT_TRUE(cfd >= 0);
	CU_ASSERT_EQUAL(f.seen.state, LINK_CONNECTING);
	stop(&f);
	if (cfd >= 0)
		close(cfd);
	close(lfd);
}

/* ---- the transport over a socket: the test is the server ---- */

#define DOMAIN "ope.example.org"
#define SERVER_HEADER "<?xml version='1.0'?><stream:stream " \
	"xmlns='jabber:component:accept' " \
	"xmlns:stream='http://etherx.jabber.org/streams' from='" DOMAIN \
	"' id='abc-123'>"
/* What a stanza from a user looks like on a component stream; the body
 * holds a two-byte character, so some splits fall inside it. */
#define MESSAGE "<message from='alice@example.org/phone' to='" DOMAIN \
	"' id='m1' type='chat'><body>caf\xc3\xa9 &amp; more</body></message>"

static FILE *devnull;

/* Failures these tests cause on purpose are logged: keep them out of the
 * test output. */
static void quiet(void)
{
	devnull = fopen("/dev/null", "we");
	CU_ASSERT_PTR_NOT_NULL_FATAL(devnull);
	log_init("ope-unit", LOG_LEVEL_ERROR, devnull);
}

static void loud(void)
{
	log_init("ope-unit", LOG_LEVEL_ERROR, stderr);
	fclose(devnull);
	devnull = NULL;
}

/* OpenSSL allocates its tables for good at the first digest: have that
 * happen before any test counts live blocks. */
__attribute__((constructor)) static void warm_openssl(void)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len;

	EVP_Digest("", 0, md, &len, EVP_sha1(), NULL);
}

struct wire {
	struct config cfg;
	struct config_server server;
	char host[64];
	xmpp_ctx_t *ctx;
	struct loop *loop;
	struct link *l;
	struct seen seen;
	int peer;                /* the server's end */
	size_t got;              /* stanzas handed up */
	size_t stalled;          /* of which while the link was stalled */
	char last_id[64];
	char last_body[64];
	size_t reply_bytes;      /* each one is answered with this much body */
	char *heard;             /* what the server read, NUL-terminated */
	size_t heard_len;
};

static void wire_input(void *arg, const struct link_input *in)
{
	struct wire *w = arg;
	xmpp_stanza_t *body, *reply, *child, *text;
	char *s, *fill;

	if (in->stanza == NULL)
		return;
	w->got++;
	if (in->stalled) {
		w->stalled++;
		return;
	}
	snprintf(w->last_id, sizeof(w->last_id), "%s",
		 xmpp_stanza_get_id(in->stanza) ? xmpp_stanza_get_id(in->stanza) : "");
	body = xmpp_stanza_get_child_by_name(in->stanza, "body");
	s = body ? xmpp_stanza_get_text(body) : NULL;
	snprintf(w->last_body, sizeof(w->last_body), "%s", s ? s : "");
	if (s != NULL)
		xmpp_free(w->ctx, s);
	if (w->reply_bytes == 0)
		return;
	fill = malloc(w->reply_bytes + 1);
	reply = xmpp_stanza_new(w->ctx);
	child = xmpp_stanza_new(w->ctx);
	text = xmpp_stanza_new(w->ctx);
	CU_ASSERT_FATAL(fill && reply && child && text);
	memset(fill, 'x', w->reply_bytes);
	fill[w->reply_bytes] = '\0';
	xmpp_stanza_set_name(reply, "message");
	xmpp_stanza_set_attribute(reply, "to", "alice@example.org/phone");
	xmpp_stanza_set_name(child, "body");
	xmpp_stanza_set_text(text, fill);
	xmpp_stanza_add_child(child, text);
	xmpp_stanza_add_child(reply, child);
	link_send(reply, w->l);
	xmpp_stanza_release(text);
	xmpp_stanza_release(child);
	xmpp_stanza_release(reply);
	free(fill);
}

/* A link for a server at 127.0.0.1:PORT that answers what it is handed
 * with REPLY_BYTES of body each (0: nothing). Reconnects wait far longer
 * than any test runs. */
static void wire_new(struct wire *w, unsigned port, size_t reply_bytes)
{
	struct link_upper up = { .input = wire_input, .arg = w };

	memset(w, 0, sizeof(*w));
	testutil_config(&w->cfg);
	xmlstream_limits_default(&w->cfg.limits);
	snprintf(w->host, sizeof(w->host), "127.0.0.1");
	w->server.host = w->host;
	w->server.port = port;
	w->cfg.servers.list = &w->server;
	w->cfg.servers.n = 1;
	w->cfg.connect_timeout_ms = 600000;
	w->cfg.reconnect_initial_ms = w->cfg.reconnect_max_ms = 600000;
	w->cfg.queue_max = 4096;
	w->reply_bytes = reply_bytes;
	w->peer = -1;
	w->ctx = testutil_ctx_new();
	w->loop = loop_new();
	CU_ASSERT_PTR_NOT_NULL_FATAL(w->loop);
	w->l = link_new(w->loop, w->ctx, &w->cfg, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(w->l);
	link_set_observer(w->l, observe, &w->seen);
	link_set_upper(w->l, &up);
}

/* The link takes over one end of a socketpair, as from a takeover: its
 * stream is up at once; the test holds the other end. SNDBUF: the link's
 * socket send buffer (0: the default). */
static void wire_adopt(struct wire *w, int sndbuf)
{
	struct handover_link h;
	char err[300];
	int sp[2];

	CU_ASSERT_EQUAL_FATAL(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC,
					 0, sp), 0);
	if (sndbuf > 0)
		setsockopt(sp[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	memset(&h, 0, sizeof(h));
	h.fd = sp[0];
	h.header = strdup(SERVER_HEADER);
	CU_ASSERT_PTR_NOT_NULL_FATAL(h.header);
	h.header_len = strlen(SERVER_HEADER);
	snprintf(h.domain, sizeof(h.domain), DOMAIN);
	snprintf(h.server, sizeof(h.server), "the test");
	CU_ASSERT_EQUAL_FATAL(link_adopt(w->l, &h, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(h.fd, -1);
	handover_link_clear(&h);
	link_resume(w->l);
	CU_ASSERT_EQUAL(w->seen.state, LINK_UP);
	w->peer = sp[1];
	CU_ASSERT_EQUAL(fcntl(w->peer, F_SETFL, O_NONBLOCK), 0);
}

static void wire_free(struct wire *w)
{
	link_free(w->l);
	loop_free(w->loop);
	testutil_ctx_free(w->ctx);
	if (w->peer >= 0)
		close(w->peer);
	free(w->heard);
}

/* Write all of S as the server (the socket takes this much at once). */
static void say(struct wire *w, const char *s, size_t n)
{
	CU_ASSERT_EQUAL((size_t)write(w->peer, s, n), n);
}

/* Read what the link sent so far into w->heard, without waiting. */
static void hear(struct wire *w)
{
	char buf[65536];
	ssize_t n;

	while ((n = read(w->peer, buf, sizeof(buf))) > 0) {
		char *p = realloc(w->heard, w->heard_len + (size_t)n + 1);

		CU_ASSERT_PTR_NOT_NULL_FATAL(p);
		memcpy(p + w->heard_len, buf, (size_t)n);
		w->heard = p;
		w->heard_len += (size_t)n;
		w->heard[w->heard_len] = '\0';
	}
}

/* Turn the loop until the link has sent NEEDLE (bounded). */
static int heard(struct wire *w, const char *needle)
{
	size_t i;

	for (i = 0; i < TURNS; i++) {
		hear(w);
		if (w->heard != NULL && strstr(w->heard, needle) != NULL)
			return 1;
		CU_ASSERT_EQUAL(loop_run_once(w->loop, 1000), 0);
	}
	return 0;
}

/* Turn the loop until the state is S (bounded). */
static int reached(struct wire *w, enum link_state s)
{
	size_t i;

	for (i = 0; i < TURNS && w->seen.state != s; i++)
		CU_ASSERT_EQUAL(loop_run_once(w->loop, 1000), 0);
	return w->seen.state == s;
}

/* Connect, open the stream, answer the handshake with what ANSWER says.
 * Returns the listening socket (the caller closes it). */
static int handshake(struct wire *w, const char *answer)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t salen = sizeof(sa);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;
	char digest[41], want[80];
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	size_t turns;

	CU_ASSERT_FATAL(lfd >= 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CU_ASSERT_EQUAL_FATAL(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	CU_ASSERT_EQUAL_FATAL(listen(lfd, 1), 0);
	CU_ASSERT_EQUAL_FATAL(getsockname(lfd, (struct sockaddr *)&sa, &salen), 0);
	wire_new(w, ntohs(sa.sin_port), 0);
	CU_ASSERT_EQUAL(link_start(w->l), 0);
	for (turns = 0; turns < TURNS && w->peer < 0; turns++) {
		CU_ASSERT_EQUAL(loop_run_once(w->loop, 1000), 0);
		w->peer = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	}
	CU_ASSERT_FATAL(w->peer >= 0);
	CU_ASSERT(heard(w, "to='" DOMAIN "'>"));
	CU_ASSERT_EQUAL(w->seen.state, LINK_CONNECTING);
	say(w, SERVER_HEADER, strlen(SERVER_HEADER));
	/* XEP-0114: hex SHA-1 of the stream id and the secret. */
	CU_ASSERT_FATAL(EVP_Digest("abc-123s3cret", 13, md, &mdlen, EVP_sha1(),
				   NULL) == 1 && mdlen == 20);
	for (i = 0; i < 20; i++)
		snprintf(digest + 2 * i, 3, "%02x", md[i]);
	snprintf(want, sizeof(want), "<handshake>%s</handshake>", digest);
	CU_ASSERT(heard(w, want));
	CU_ASSERT_EQUAL(w->seen.state, LINK_CONNECTING);
	say(w, answer, strlen(answer));
	return lfd;
}

/* The handshake as XEP-0114 has it: header, digest, <handshake/>: up. */
static void test_handshake(void)
{
	struct wire w;
	int lfd = handshake(&w, "<handshake/>");

	CU_ASSERT(reached(&w, LINK_UP));
	CU_ASSERT_PTR_NOT_NULL(strstr(w.seen.detail, "as " DOMAIN));
	/* Up: a stanza goes up to the callback. */
	say(&w, MESSAGE, strlen(MESSAGE));
	while (w.got == 0 && loop_run_once(w.loop, 1000) == 0 && w.seen.state == LINK_UP)
		;
	CU_ASSERT_EQUAL(w.got, 1);
	CU_ASSERT_STRING_EQUAL(w.last_id, "m1");
	wire_free(&w);
	close(lfd);
}

/* A wrong secret: not-authorized ends the link for good (exit 3). */
static void test_handshake_refused(void)
{
	static const char refusal[] = "<stream:error><not-authorized "
		"xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>"
		"</stream:stream>";
	struct wire w;
	int lfd;

	quiet();
	lfd = handshake(&w, refusal);
	CU_ASSERT(reached(&w, LINK_STOPPED));
	CU_ASSERT(link_done(w.l));
	CU_ASSERT_EQUAL(link_exit_status(w.l), COMPONENT_EXIT_REFUSED);
	CU_ASSERT_PTR_NOT_NULL(strstr(w.seen.detail, "not-authorized"));
	wire_free(&w);
	close(lfd);
	loud();
}

/* A stanza split at every byte arrives whole, once, after its last part,
 * whatever the split (inside a tag, an entity or a UTF-8 character). */
static void test_every_split(void)
{
	static const char msg[] = MESSAGE;
	size_t k, want = 0;
	struct wire w;

	wire_new(&w, 9, 0);
	wire_adopt(&w, 0);
	for (k = 1; k < sizeof(msg) - 1; k++) {
		size_t turns;

		say(&w, msg, k);
		CU_ASSERT_EQUAL(loop_run_once(w.loop, 1000), 0);
		CU_ASSERT_EQUAL(w.got, want);
		say(&w, msg + k, sizeof(msg) - 1 - k);
		for (turns = 0; turns < TURNS && w.got == want; turns++)
			CU_ASSERT_EQUAL(loop_run_once(w.loop, 1000), 0);
		CU_ASSERT_EQUAL_FATAL(w.got, ++want);
		CU_ASSERT_STRING_EQUAL(w.last_id, "m1");
		CU_ASSERT_STRING_EQUAL(w.last_body, "caf\xc3\xa9 & more");
	}
	CU_ASSERT_EQUAL(w.seen.state, LINK_UP);
	wire_free(&w);
}

/* The server reads nothing: the link stops reading once its queue is over
 * limits.output_queue (so the stanzas taken stay far fewer than sent);
 * once the server reads, every stanza is taken and every reply arrives. */
static void test_backpressure(void)
{
	enum { N = 400, REPLY = 2000 };
	char stanza[1200], pad[1001];
	size_t sent = 0, off = 0, turns, before, replies = 0;
	const char *p;
	struct wire w;
	int len;

	memset(pad, 'p', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = '\0';
	len = snprintf(stanza, sizeof(stanza), "<message from='alice@example.org/"
		       "phone' to='" DOMAIN "' id='bp'><body>%s</body></message>",
		       pad);
	wire_new(&w, 9, REPLY);
	wire_adopt(&w, 4096);
	/* Write what the socket takes, turning the loop, never reading. */
	for (turns = 0; turns < 50; turns++) {
		while (sent < N) {
			ssize_t n = write(w.peer, stanza + off, (size_t)len - off);

			if (n <= 0)
				break;
			off += (size_t)n;
			if (off == (size_t)len) {
				off = 0;
				sent++;
			}
		}
		CU_ASSERT_EQUAL(loop_run_once(w.loop, 0), 0);
	}
	before = w.got;
	for (turns = 0; turns < 5; turns++)
		CU_ASSERT_EQUAL(loop_run_once(w.loop, 0), 0);
	CU_ASSERT(w.got < N);
	CU_ASSERT_EQUAL(w.got, before);
	CU_ASSERT_EQUAL(w.seen.state, LINK_UP);
	/* Now read: everything flows. */
	for (turns = 0; turns < 100 * TURNS && (w.got < N || replies < w.got -
						w.stalled); turns++) {
		while (sent < N) {
			ssize_t n = write(w.peer, stanza + off, (size_t)len - off);

			if (n <= 0)
				break;
			off += (size_t)n;
			if (off == (size_t)len) {
				off = 0;
				sent++;
			}
		}
		hear(&w);
		for (replies = 0, p = w.heard; p && (p = strstr(p, "</message>"));
		     p++)
			replies++;
		CU_ASSERT_EQUAL_FATAL(loop_run_once(w.loop, 1000), 0);
	}
	CU_ASSERT_EQUAL(w.got, N);
	CU_ASSERT_EQUAL(replies, N - w.stalled);
	CU_ASSERT_EQUAL(w.seen.state, LINK_UP);
	wire_free(&w);
}

/* A stream error from the server ends the connection (it is told
 * </stream:stream>) and a reconnect is scheduled; bytes that are not XML
 * get a not-well-formed stream error back. */
static void test_stream_error(void)
{
	static const char conflict[] = "<stream:error><conflict xmlns='urn:"
		"ietf:params:xml:ns:xmpp-streams'/></stream:error>";
	struct wire w;

	quiet();
	wire_new(&w, 9, 0);
	wire_adopt(&w, 0);
	say(&w, conflict, strlen(conflict));
	CU_ASSERT(reached(&w, LINK_WAITING));
	CU_ASSERT_PTR_NOT_NULL(strstr(w.seen.detail, "conflict"));
	hear(&w);
	CU_ASSERT(w.heard && strstr(w.heard, "</stream:stream>"));
	wire_free(&w);

	wire_new(&w, 9, 0);
	wire_adopt(&w, 0);
	say(&w, "<<not xml", 9);
	CU_ASSERT(reached(&w, LINK_WAITING));
	CU_ASSERT_PTR_NOT_NULL(strstr(w.seen.detail, "malformed XML"));
	hear(&w);
	CU_ASSERT(w.heard && strstr(w.heard, "<not-well-formed"));
	CU_ASSERT_EQUAL(w.got, 0);
	wire_free(&w);
	loud();
}

/* The server hangs up right after a stanza: the stanza is handed up, then
 * the link is down, waiting to reconnect. */
static void test_eof(void)
{
	struct wire w;

	quiet();
	wire_new(&w, 9, 0);
	wire_adopt(&w, 0);
	say(&w, MESSAGE, strlen(MESSAGE));
	CU_ASSERT_EQUAL(shutdown(w.peer, SHUT_WR), 0);
	CU_ASSERT(reached(&w, LINK_WAITING));
	CU_ASSERT_EQUAL(w.got, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(w.seen.detail, "closed by the server"));
	wire_free(&w);
	loud();
}


/* A claimer that counts what it is offered and takes the id it names. */
struct claimer {
	const char *takes;
	size_t offered, taken;
};

static int claim_counted(void *arg, xmpp_stanza_t *st)
{
	struct claimer *c = arg;
	const char *id = xmpp_stanza_get_id(st);

	c->offered++;
	if (id == NULL || strcmp(id, c->takes) != 0)
		return 0;
	c->taken++;
	return 1;
}

/* Turn the loop until N stanzas went up (bounded). */
static void until_got(struct wire *w, size_t n)
{
	size_t i;

	for (i = 0; i < TURNS && w->got < n; i++)
		CU_ASSERT_EQUAL(loop_run_once(w->loop, 1000), 0);
}

/* Claimers are asked in order; one that takes a stanza ends it there,
 * and what none takes goes up. */
static void test_claims(void)
{
	struct claimer a = { .takes = "c1" }, b = { .takes = "c2" };
	struct claimer x = { .takes = "none" };
	struct wire w;
	size_t i;

	wire_new(&w, 9, 0);
	CU_ASSERT_EQUAL(link_add_claim(w.l, claim_counted, &a), 0);
	CU_ASSERT_EQUAL(link_add_claim(w.l, claim_counted, &b), 0);
	for (i = 2; i < LINK_CLAIMS_MAX; i++)
		CU_ASSERT_EQUAL(link_add_claim(w.l, claim_counted, &x), 0);
	CU_ASSERT_EQUAL(link_add_claim(w.l, claim_counted, &x), -1);
	wire_adopt(&w, 0);
#define IQ(id) "<iq type='result' from='example.org' to='" DOMAIN \
	"' id='" id "'/>"
	say(&w, IQ("c1") IQ("c2") MESSAGE, strlen(IQ("c1") IQ("c2") MESSAGE));
#undef IQ
	until_got(&w, 1);
	CU_ASSERT_EQUAL(w.got, 1);
	CU_ASSERT_STRING_EQUAL(w.last_id, "m1");
	CU_ASSERT_EQUAL(a.offered, 3);
	CU_ASSERT_EQUAL(a.taken, 1);
	CU_ASSERT_EQUAL(b.offered, 2);
	CU_ASSERT_EQUAL(b.taken, 1);
	CU_ASSERT_EQUAL(x.offered, (LINK_CLAIMS_MAX - 2) * 1);
	wire_free(&w);
}

/* The drain over a link (drain_attach): its unroute IQ goes out through
 * link_send_raw(), its answer is claimed (never handed up), a request
 * still goes up and restarts the quiet period. */
static void test_drain_claim(void)
{
	struct drain_opts o = { .quiet_ms = 600000, .max_ms = 600000,
				.answer_ms = 600000 };
	struct drain d = { 0 };
	char answer[400], *p;
	struct wire w;
	int n;

	wire_new(&w, 9, 0);
	CU_ASSERT_EQUAL(drain_attach(&d, w.l), 0);
	/* Not up: no drain. */
	CU_ASSERT_EQUAL(drain_begin(&d, &o, DOMAIN, 1), -1);
	CU_ASSERT_EQUAL(d.phase, DRAIN_IDLE);
	wire_adopt(&w, 0);
	/* Idle: a stanza with the answer's shape goes up. */
	say(&w, MESSAGE, strlen(MESSAGE));
	until_got(&w, 1);
	CU_ASSERT_EQUAL(w.got, 1);
	CU_ASSERT_EQUAL(drain_begin(&d, &o, DOMAIN, 1), 0);
	CU_ASSERT_EQUAL(d.phase, DRAIN_ASKED);
	CU_ASSERT(heard(&w, "<unroute xmlns='" DRAIN_NS "'/></iq>"));
	p = strstr(w.heard, d.id);
	CU_ASSERT_PTR_NOT_NULL(p);
	n = snprintf(answer, sizeof(answer), "<iq type='result' "
		     "from='example.org' to='" DOMAIN "' id='%s'/>" MESSAGE,
		     d.id);
	CU_ASSERT_FATAL(n > 0 && (size_t)n < sizeof(answer));
	say(&w, answer, (size_t)n);
	until_got(&w, 2);
	CU_ASSERT_EQUAL(w.got, 2);
	CU_ASSERT_EQUAL(d.phase, DRAIN_UNROUTED);
	CU_ASSERT(d.last_request_ms > 1);
	wire_free(&w);
}

static const struct testutil_test tests[] = {
	{ "a hanging lookup holds up neither the loop nor the timeout",
	  test_hanging_lookup },
	{ "the lookup's answer comes back through the loop", test_answer_used },
	{ "handshake: header, digest, <handshake/>, then stanzas go up",
	  test_handshake },
	{ "handshake refused (not-authorized): stopped for good, exit 3",
	  test_handshake_refused },
	{ "a stanza split at every byte arrives whole, once", test_every_split },
	{ "back-pressure: no reading over the output limit, all flows after",
	  test_backpressure },
	{ "a stream error or malformed XML ends the connection",
	  test_stream_error },
	{ "EOF after a stanza: handed up, then down", test_eof },
	{ "claimers in order: the first that takes a stanza ends it there",
	  test_claims },
	{ "the drain over the link: IQ sent raw, its answer claimed",
	  test_drain_claim },
};

static int test_link_register(void)
{
	return testutil_add_tests("link", tests, sizeof(tests) / sizeof(tests[0]));
}

TESTUTIL_SUITE(test_link_register)
