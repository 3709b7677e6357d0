/* SPDX-License-Identifier: MIT */
/* test_metrics.c: counters, the histogram, the Prometheus text, /health and its HTTP client. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <CUnit/CUnit.h>

#include "dispatch.h"
#include "metrics.h"
#include "config.h"
#include "testutil.h"
#include "util.h"

#define FROM "alice@example.org/res"
#define EX "xmlns='https://example.net/our_extension'"

/* True when TEXT holds LINE as a whole line. */
static int has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	const char *p = text;

	while ((p = strstr(p, line)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return 1;
		p += n;
	}
	return 0;
}

static char *render(struct metrics *m)
{
	size_t len = 0;
	char *text = metrics_render(m, &len);

	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_EQUAL(strlen(text), len);
	CU_ASSERT(len > 0 && text[len - 1] == '\n');
	return text;
}

static void assert_line(const char *text, const char *line)
{
	if (!has_line(text, line))
		fprintf(stderr, "\nmissing line: %s\n", line);
	CU_ASSERT(has_line(text, line));
}

static void test_fresh_text(void)
{
	struct metrics *m = metrics_new(METRICS_STALL_MS);
	static const char *const families[][2] = {
		{ "ope_build_info", "gauge" },
		{ "ope_info", "gauge" },
		{ "ope_start_time_seconds", "gauge" },
		{ "ope_stanzas_received_total", "counter" },
		{ "ope_stanzas_answered_total", "counter" },
		{ "ope_stanza_errors_sent_total", "counter" },
		{ "ope_stanzas_dropped_total", "counter" },
		{ "ope_request_duration_seconds", "histogram" },
		{ "ope_link_up", "gauge" },
		{ "ope_link_state", "gauge" },
		{ "ope_link_handshakes_total", "counter" },
		{ "ope_reconnects_total", "counter" },
		{ "ope_link_last_handshake_timestamp_seconds", "gauge" },
		{ "ope_output_queue_bytes", "gauge" },
		{ "ope_output_queue_limit_bytes", "gauge" },
		{ "ope_takeover_failures_total", "counter" },
		{ "ope_drains_total", "counter" },
	};
	char *text, line[200];
	size_t i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_PTR_NOT_NULL(metrics_link_default(m));
	text = render(m);
	for (i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		snprintf(line, sizeof(line), "# TYPE %s %s", families[i][0],
			 families[i][1]);
		assert_line(text, line);
		snprintf(line, sizeof(line), "# HELP %s ", families[i][0]);
		CU_ASSERT_PTR_NOT_NULL(strstr(text, line));
	}
	assert_line(text, "ope_stanzas_received_total{kind=\"message\"} 0");
	assert_line(text, "ope_stanzas_received_total{kind=\"other\"} 0");
	assert_line(text, "ope_stanza_errors_sent_total{condition=\"bad-request\",type=\"modify\"} 0");
	assert_line(text, "ope_stanza_errors_sent_total{condition=\"service-unavailable\",type=\"cancel\"} 0");
	assert_line(text, "ope_stanzas_dropped_total{reason=\"no_from\"} 0");
	assert_line(text, "ope_stanzas_dropped_total{reason=\"out_of_memory\"} 0");
	assert_line(text, "ope_request_duration_seconds_bucket{le=\"+Inf\"} 0");
	assert_line(text, "ope_request_duration_seconds_sum 0.000000000");
	assert_line(text, "ope_request_duration_seconds_count 0");
	assert_line(text, "ope_link_up{link=\"failover\"} 0");
	assert_line(text, "ope_link_state{link=\"failover\",state=\"up\"} 0");
	assert_line(text, "ope_reconnects_total{link=\"failover\"} 0");
	assert_line(text, "ope_link_last_handshake_timestamp_seconds{link=\"failover\"} 0.000");
	assert_line(text, "ope_output_queue_bytes{link=\"failover\"} 0");
	assert_line(text, "ope_takeover_failures_total{reason=\"spawn\"} 0");
	assert_line(text, "ope_drains_total{result=\"quiet\"} 0");
	assert_line(text, "ope_info{instance_name=\"\"} 1");
	/* Each condition once: policy-violation comes in two types. */
	assert_line(text, "ope_stanza_errors_sent_total{condition=\"policy-violation\",type=\"wait\"} 0");
	/* Every sample line belongs to a family announced just before. */
	CU_ASSERT_PTR_NULL(strstr(text, "\n\n"));
	free(text);
	metrics_free(m);
}

static void test_histogram(void)
{
	struct metrics *m = metrics_new(METRICS_STALL_MS);
	char *text;

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	metrics_observe(m, 0);             /* le 1e-05 */
	metrics_observe(m, 10000);         /* exactly 10 us: still le 1e-05 */
	metrics_observe(m, 10001);         /* le 2.5e-05 */
	metrics_observe(m, 300000);        /* le 0.0005 */
	metrics_observe(m, 1000000000);    /* exactly 1 s: le 1 */
	metrics_observe(m, 2500000000u);   /* above every bound */
	text = render(m);
	assert_line(text, "ope_request_duration_seconds_bucket{le=\"1e-05\"} 2");
	assert_line(text, "ope_request_duration_seconds_bucket{le=\"2.5e-05\"} 3");
	assert_line(text, "ope_request_duration_seconds_bucket{le=\"0.00025\"} 3");
	assert_line(text, "ope_request_duration_seconds_bucket{le=\"0.0005\"} 4");
	assert_line(text, "ope_request_duration_seconds_bucket{le=\"0.5\"} 4");
	assert_line(text, "ope_request_duration_seconds_bucket{le=\"1\"} 5");
	assert_line(text, "ope_request_duration_seconds_bucket{le=\"+Inf\"} 6");
	assert_line(text, "ope_request_duration_seconds_count 6");
	assert_line(text, "ope_request_duration_seconds_sum 3.500320001");
	free(text);
	metrics_free(m);
}

static void test_null_is_off(void)
{
	metrics_arrival(NULL);
	metrics_stanza(NULL, "iq", 1);
	metrics_observe(NULL, 5);
	metrics_error_sent(NULL, STANZA_COND_BAD_REQUEST);
	metrics_drop(NULL, METRICS_DROP_NO_FROM);
	metrics_output_queue(NULL, 5, 10);
	metrics_takeover_failed(NULL, METRICS_TAKEOVER_SPAWN);
	metrics_drain_done(NULL, METRICS_DRAIN_QUIET);
	metrics_link_state(NULL, LINK_UP, "up");
	metrics_link_observe(NULL, LINK_UP, "up");
	metrics_link_queue(NULL, 1, 2);
	metrics_set_instance(NULL, "x");
	metrics_loop_alive(NULL);
	metrics_free(NULL);
}

static void feed(struct dispatch *d, xmpp_ctx_t *ctx, struct testutil_sent *sent,
		 const char *xml)
{
	xmpp_stanza_t *s = testutil_parse(ctx, xml);

	if (s != NULL) {
		dispatch_stanza(d, s);
		xmpp_stanza_release(s);
	}
	testutil_sent_clear(sent);
}

/* The dispatcher counts what it receives, answers, refuses and drops. */
static void test_dispatch_counts(void)
{
	struct metrics *m = metrics_new(METRICS_STALL_MS);
	struct testutil_sent sent = { .n = 0 };
	struct config cfg;
	xmpp_ctx_t *ctx = testutil_ctx_new();
	struct dispatch *d;
	char *text;
	int i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	testutil_config(&cfg);
	d = dispatch_new(ctx, &cfg, m, testutil_capture, &sent);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	for (i = 0; i < 3; i++)
		feed(d, ctx, &sent, "<message from='" FROM "' to='ope.example.org' "
		     "id='m'><example_tag " EX "/><body>hi</body></message>");
	/* Answered with an error: unknown payload, bad type. */
	feed(d, ctx, &sent, "<iq type='get' id='q' from='" FROM "' "
	     "to='ope.example.org'><query xmlns='urn:unknown'/></iq>");
	feed(d, ctx, &sent, "<iq type='nonsense' id='q' from='" FROM "' "
	     "to='ope.example.org'><ping xmlns='urn:xmpp:ping'/></iq>");
	feed(d, ctx, &sent, "<iq type='get' id='p' from='" FROM "' "
	     "to='ope.example.org'><ping xmlns='urn:xmpp:ping'/></iq>");
	/* Ignored by design. */
	feed(d, ctx, &sent, "<message type='error' from='" FROM "' "
	     "to='ope.example.org'/>");
	feed(d, ctx, &sent, "<iq type='result' id='r' from='" FROM "' "
	     "to='ope.example.org'/>");
	/* Dropped. */
	feed(d, ctx, &sent, "<message to='ope.example.org'><example_tag " EX
	     "/></message>");
	feed(d, ctx, &sent, "<message from='" FROM "' to='other.example.org'>"
	     "<example_tag " EX "/></message>");
	feed(d, ctx, &sent, "<message from='@@' to='ope.example.org'/>");
	/* Answered presence, and something else. */
	feed(d, ctx, &sent, "<presence type='probe' from='" FROM "' "
	     "to='ope.example.org'/>");
	feed(d, ctx, &sent, "<foo from='" FROM "' to='ope.example.org'/>");

	text = render(m);
	assert_line(text, "ope_stanzas_received_total{kind=\"message\"} 7");
	assert_line(text, "ope_stanzas_received_total{kind=\"iq\"} 4");
	assert_line(text, "ope_stanzas_received_total{kind=\"presence\"} 1");
	assert_line(text, "ope_stanzas_received_total{kind=\"other\"} 1");
	assert_line(text, "ope_stanzas_answered_total{kind=\"message\"} 3");
	assert_line(text, "ope_stanzas_answered_total{kind=\"iq\"} 3");
	assert_line(text, "ope_stanzas_answered_total{kind=\"presence\"} 1");
	assert_line(text, "ope_stanzas_answered_total{kind=\"other\"} 0");
	assert_line(text, "ope_stanza_errors_sent_total{condition=\"service-unavailable\",type=\"cancel\"} 1");
	assert_line(text, "ope_stanza_errors_sent_total{condition=\"bad-request\",type=\"modify\"} 1");
	assert_line(text, "ope_stanza_errors_sent_total{condition=\"policy-violation\",type=\"modify\"} 0");
	assert_line(text, "ope_stanzas_dropped_total{reason=\"no_from\"} 1");
	assert_line(text, "ope_stanzas_dropped_total{reason=\"not_our_domain\"} 1");
	assert_line(text, "ope_stanzas_dropped_total{reason=\"bad_from\"} 1");
	assert_line(text, "ope_stanzas_dropped_total{reason=\"out_of_memory\"} 0");
	/* One observation per answered stanza. */
	assert_line(text, "ope_request_duration_seconds_count 7");
	free(text);
	dispatch_free(d);
	xmpp_ctx_free(ctx);
	CU_ASSERT_EQUAL(testutil_live_blocks(), 0);
	metrics_free(m);
}

static void test_link_and_health(void)
{
	struct metrics *m = metrics_new(METRICS_STALL_MS);
	char reason[300], *text;

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL(metrics_health(m, reason, sizeof(reason)), 0);
	CU_ASSERT_STRING_EQUAL(reason, "link down: starting");

	metrics_link_state(m, LINK_CONNECTING, "connecting to 127.0.0.1:5347");
	CU_ASSERT_EQUAL(metrics_health(m, reason, sizeof(reason)), 0);
	CU_ASSERT_STRING_EQUAL(reason, "link down: connecting to 127.0.0.1:5347");
	metrics_link_state(m, LINK_UP, "connected to 127.0.0.1:5347 as ope.example.org");
	CU_ASSERT_EQUAL(metrics_health(m, reason, sizeof(reason)), 1);
	CU_ASSERT_STRING_EQUAL(reason, "ok; 1 of 1 link up: failover: "
			       "connected to 127.0.0.1:5347 as ope.example.org");
	metrics_output_queue(m, 4096, 8192);
	metrics_takeover_failed(m, METRICS_TAKEOVER_HANDOVER);
	metrics_takeover_failed(m, METRICS_TAKEOVER_HANDOVER);
	metrics_drain_done(m, METRICS_DRAIN_FALLBACK);
	text = render(m);
	assert_line(text, "ope_output_queue_limit_bytes{link=\"failover\"} 8192");
	assert_line(text, "ope_takeover_failures_total{reason=\"handover\"} 2");
	assert_line(text, "ope_takeover_failures_total{reason=\"refused\"} 0");
	assert_line(text, "ope_drains_total{result=\"fallback\"} 1");
	assert_line(text, "ope_drains_total{result=\"quiet\"} 0");
	assert_line(text, "ope_link_up{link=\"failover\"} 1");
	assert_line(text, "ope_link_state{link=\"failover\",state=\"up\"} 1");
	assert_line(text, "ope_link_state{link=\"failover\",state=\"connecting\"} 0");
	assert_line(text, "ope_link_handshakes_total{link=\"failover\"} 1");
	assert_line(text, "ope_reconnects_total{link=\"failover\"} 0");
	assert_line(text, "ope_output_queue_bytes{link=\"failover\"} 4096");
	CU_ASSERT_PTR_NULL(strstr(text, "ope_link_last_handshake_timestamp_seconds{link=\"failover\"} 0.000\n"));
	free(text);

	metrics_link_state(m, LINK_WAITING, "reconnecting in 1.0 s: closed by the server");
	CU_ASSERT_EQUAL(metrics_health(m, reason, sizeof(reason)), 0);
	CU_ASSERT_STRING_EQUAL(reason, "link down: reconnecting in 1.0 s: closed by the server");
	metrics_link_state(m, LINK_CONNECTING, "connecting to 127.0.0.1:5347");
	metrics_link_state(m, LINK_WAITING, "reconnecting in 2.0 s: refused or closed");
	metrics_link_state(m, LINK_CONNECTING, "connecting to 127.0.0.1:5347");
	metrics_link_state(m, LINK_UP, "connected");
	CU_ASSERT_EQUAL(metrics_health(m, reason, sizeof(reason)), 1);
	text = render(m);
	assert_line(text, "ope_reconnects_total{link=\"failover\"} 2");
	assert_line(text, "ope_link_handshakes_total{link=\"failover\"} 2");
	free(text);
	metrics_link_state(m, LINK_STOPPED, "stopped");
	CU_ASSERT_EQUAL(metrics_health(m, reason, sizeof(reason)), 0);
	CU_ASSERT_STRING_EQUAL(reason, "link down: stopped");
	text = render(m);
	assert_line(text, "ope_link_up{link=\"failover\"} 0");
	assert_line(text, "ope_link_state{link=\"failover\",state=\"stopped\"} 1");
	free(text);
	metrics_free(m);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0)
		;
}

static void test_stalled_loop(void)
{
	struct metrics *m = metrics_new(50);
	char reason[300];

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	metrics_link_state(m, LINK_UP, "connected");
	metrics_loop_alive(m);
	CU_ASSERT_EQUAL(metrics_health(m, reason, sizeof(reason)), 1);
	sleep_ms(120);
	CU_ASSERT_EQUAL(metrics_health(m, reason, sizeof(reason)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(reason, "event loop stalled for "));
	metrics_loop_alive(m);
	CU_ASSERT_EQUAL(metrics_health(m, reason, sizeof(reason)), 1);
	metrics_free(m);
}

/* Several links: each its own samples and its line in /health; up while
 * any is. The instance name is a label of ope_info. */
static void test_several_links(void)
{
	struct metrics *m = metrics_new(METRICS_STALL_MS);
	struct metrics_link *a, *b;
	char reason[600], *text;
	size_t i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	a = metrics_link_add(m, "10.0.0.1:5347");
	b = metrics_link_add(m, "10.0.0.2:5347");
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	/* The single-link functions count into the first one. */
	CU_ASSERT_PTR_EQUAL(metrics_link_default(m), a);
	metrics_set_instance(m, "node-1");
	metrics_link_observe(a, LINK_CONNECTING, "connecting to 10.0.0.1:5347");
	metrics_link_observe(b, LINK_CONNECTING, "connecting to 10.0.0.2:5347");
	CU_ASSERT_EQUAL(metrics_health(m, reason, sizeof(reason)), 0);
	CU_ASSERT_STRING_EQUAL(reason, "links down: 10.0.0.1:5347: connecting "
			       "to 10.0.0.1:5347; 10.0.0.2:5347: connecting to "
			       "10.0.0.2:5347");
	metrics_link_observe(b, LINK_UP, "connected to 10.0.0.2:5347 as c.x");
	metrics_link_queue(b, 10, 20);
	CU_ASSERT_EQUAL(metrics_health(m, reason, sizeof(reason)), 1);
	CU_ASSERT_STRING_EQUAL(reason, "ok; 1 of 2 links up: 10.0.0.1:5347: "
			       "connecting to 10.0.0.1:5347; 10.0.0.2:5347: "
			       "connected to 10.0.0.2:5347 as c.x");
	text = render(m);
	assert_line(text, "ope_info{instance_name=\"node-1\"} 1");
	assert_line(text, "ope_link_up{link=\"10.0.0.1:5347\"} 0");
	assert_line(text, "ope_link_up{link=\"10.0.0.2:5347\"} 1");
	assert_line(text, "ope_link_handshakes_total{link=\"10.0.0.2:5347\"} 1");
	assert_line(text, "ope_link_handshakes_total{link=\"10.0.0.1:5347\"} 0");
	assert_line(text, "ope_output_queue_bytes{link=\"10.0.0.2:5347\"} 10");
	assert_line(text, "ope_output_queue_limit_bytes{link=\"10.0.0.1:5347\"} 0");
	assert_line(text, "ope_link_state{link=\"10.0.0.1:5347\",state=\"connecting\"} 1");
	CU_ASSERT_PTR_NULL(strstr(text, "\n\n"));
	free(text);
	/* Bounded: the 17th is refused; a name that would need escaping is
	 * cut. */
	for (i = 2; i < METRICS_LINKS_MAX; i++)
		CU_ASSERT_PTR_NOT_NULL(metrics_link_add(m, "x\"y"));
	CU_ASSERT_PTR_NULL(metrics_link_add(m, "one too many"));
	text = render(m);
	assert_line(text, "ope_link_up{link=\"x\"} 0");
	free(text);
	metrics_free(m);
	CU_ASSERT_PTR_NULL(metrics_link_add(NULL, "x"));
	CU_ASSERT_PTR_NULL(metrics_link_default(NULL));
}

static void test_listen_check(void)
{
	static const char *const good[] = {
		"127.0.0.1:9347", "[::1]:9347", "9347", "0.0.0.0:1", "[::]:65535",
	};
	static const struct { const char *spec, *says; } bad[] = {
		{ "localhost:9347", "is not an IPv4 or IPv6 address" },
		{ "::1:9347", "is not ADDRESS:PORT" },
		{ "[::1]9347", "is not ADDRESS:PORT" },
		{ "127.0.0.1:0", "port must be a number from 1 to 65535" },
		{ "127.0.0.1:65536", "port must be a number from 1 to 65535" },
		{ "127.0.0.1:", "port must be" },
		{ "127.0.0.1:+80", "port must be" },
		{ "", "port must be" },
		{ "http", "port must be" },
	};
	char err[400];
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		CU_ASSERT_EQUAL(metrics_listen_check(good[i], err, sizeof(err)), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		CU_ASSERT_EQUAL(metrics_listen_check(bad[i].spec, err, sizeof(err)), -1);
		if (strstr(err, bad[i].says) == NULL)
			fprintf(stderr, "\n%s: %s\n", bad[i].spec, err);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, bad[i].says));
		CU_ASSERT_PTR_NOT_NULL(strstr(err, "metrics.listen"));
	}
}

/* A loopback port nobody listens on right now. */
static unsigned free_port(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	unsigned port = 0;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sin, &len) == 0)
		port = ntohs(sin.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

/* metrics_serve() and metrics_health_query() talk to each other. */
static void test_http_health(void)
{
	struct metrics *m = metrics_new(METRICS_STALL_MS);
	struct metrics *other = metrics_new(METRICS_STALL_MS);
	char spec[64], reason[400], err[400];
	unsigned port = free_port();

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_PTR_NOT_NULL_FATAL(other);
	CU_ASSERT_FATAL(port != 0);
	snprintf(spec, sizeof(spec), "127.0.0.1:%u", port);
	CU_ASSERT_EQUAL(metrics_health_query(spec, 2000, reason, sizeof(reason)), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(reason, "unhealthy: cannot ask http://"));
	CU_ASSERT_PTR_NOT_NULL(strstr(reason, "refused"));

	CU_ASSERT_EQUAL_FATAL(metrics_serve(m, spec, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(metrics_health_query(spec, 2000, reason, sizeof(reason)), 1);
	CU_ASSERT_STRING_EQUAL(reason, "unhealthy: link down: starting");
	metrics_link_state(m, LINK_UP, "connected");
	CU_ASSERT_EQUAL(metrics_health_query(spec, 2000, reason, sizeof(reason)), 0);
	CU_ASSERT_STRING_EQUAL(reason, "ok; 1 of 1 link up: failover: connected");
	/* 0.0.0.0 in the configuration is asked on loopback. */
	snprintf(spec, sizeof(spec), "0.0.0.0:%u", port);
	CU_ASSERT_EQUAL(metrics_health_query(spec, 2000, reason, sizeof(reason)), 0);

	/* A second endpoint on the same address says why it can't start. */
	snprintf(spec, sizeof(spec), "127.0.0.1:%u", port);
	CU_ASSERT_EQUAL(metrics_serve(other, spec, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "Address already in use"));
	metrics_free(other);
	metrics_free(m);
}

/* The start of a request a slow client never finishes. */
static const char partial_request[] = "GET /metrics HTTP/1.1\r\nHost: x\r\n";

/* Open N connections from the loopback address SRC (host order) to PORT
 * into FDS, without blocking on a server that does not accept them, and
 * send each the start of a request once it is connected (all within a
 * generous 10 s). Returns how many sockets were opened. */
static size_t open_slow_clients(uint32_t src, unsigned port, int *fds, size_t n)
{
	struct sockaddr_in from = { .sin_family = AF_INET };
	struct sockaddr_in to = { .sin_family = AF_INET };
	struct pollfd *p = calloc(n, sizeof(*p));
	size_t i, opened = 0, waiting;
	time_t deadline = time(NULL) + 10;

	if (p == NULL)
		return 0;
	from.sin_addr.s_addr = htonl(src);
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	to.sin_port = htons((uint16_t)port);
	for (i = 0; i < n; i++) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

		if (fd < 0)
			break;
		if (bind(fd, (struct sockaddr *)&from, sizeof(from)) != 0 ||
		    (connect(fd, (struct sockaddr *)&to, sizeof(to)) != 0 &&
		     errno != EINPROGRESS)) {
			close(fd);
			break;
		}
		fds[opened] = fd;
		p[opened].fd = fd;
		p[opened].events = POLLOUT;
		opened++;
	}
	do {
		waiting = 0;
		for (i = 0; i < opened; i++) {
			if (p[i].fd >= 0 && (p[i].revents & (POLLOUT | POLLERR | POLLHUP))) {
				send(p[i].fd, partial_request,
				     sizeof(partial_request) - 1, MSG_NOSIGNAL);
				p[i].fd = -1;
			}
			waiting += p[i].fd >= 0;
		}
	} while (waiting > 0 && time(NULL) < deadline &&
		 poll(p, opened, 1000) >= 0);
	free(p);
	return opened;
}

/* Slow clients keep their connections busy with a byte now and then, so
 * no idle timeout frees them while the test asks /health. A child process
 * does it (a thread would leave glibc's per-thread block behind for the
 * leak check); it stops when the pipe STOP's write end is closed. */
static pid_t trickle_start(const int *fds, size_t n, const int stop[2])
{
	struct pollfd p = { .fd = stop[0], .events = POLLIN };
	pid_t pid = fork();
	size_t i;

	if (pid != 0)
		return pid;
	close(stop[1]);
	while (poll(&p, 1, 500) == 0)
		for (i = 0; i < n; i++)
			send(fds[i], "a", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	_exit(0);
}

/* How many of the N sockets in FDS the server still holds open. */
static size_t still_open(const int *fds, size_t n)
{
	size_t i, open = 0;
	char c;

	for (i = 0; i < n; i++) {
		ssize_t r = recv(fds[i], &c, 1, MSG_DONTWAIT);

		open += r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
	}
	return open;
}

/* How many of FDS are still open once at most LIMIT are, or after 20 s:
 * the endpoint turns connections over its limits away as it accepts them,
 * which on a loaded machine may come after a later request's answer. */
static size_t open_after_limit(const int *fds, size_t n, size_t limit)
{
	uint64_t deadline = util_now_ms() + 20000;
	size_t open;

	while ((open = still_open(fds, n)) > limit &&
	       util_now_ms() < deadline)
		poll(NULL, 0, 10);
	return open;
}

/* Slow clients holding connections from several loopback addresses, and
 * one address opening more than the endpoint's whole connection limit:
 * /health still answers from 127.0.0.1. */
static void test_http_slow_clients(void)
{
	enum { ADDRS = 8, SLOW = ADDRS * METRICS_HTTP_PER_ADDRESS,
	       FLOOD = METRICS_HTTP_CONNECTIONS + 8 };
	static int fds[SLOW + FLOOD];
	struct metrics *m = metrics_new(METRICS_STALL_MS);
	char spec[64], reason[400], err[400];
	unsigned port = free_port();
	int stop[2][2] = { { -1, -1 }, { -1, -1 } };
	pid_t child[2] = { -1, -1 };
	size_t i, n = 0, flood;

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_FATAL(port != 0);
	snprintf(spec, sizeof(spec), "127.0.0.1:%u", port);
	CU_ASSERT_EQUAL_FATAL(metrics_serve(m, spec, err, sizeof(err)), 0);
	metrics_link_state(m, LINK_UP, "connected");

	/* 127.0.0.2 .. 127.0.0.9, each up to its per-address limit. */
	for (i = 0; i < ADDRS; i++)
		n += open_slow_clients(INADDR_LOOPBACK + 1 + (uint32_t)i, port,
				       fds + n, METRICS_HTTP_PER_ADDRESS);
	CU_ASSERT_EQUAL(n, SLOW);
	if (pipe(stop[0]) == 0) {
		child[0] = trickle_start(fds, n, stop[0]);
		close(stop[0][0]);
	}
	CU_ASSERT(child[0] > 0);
	CU_ASSERT_EQUAL(metrics_health_query(spec, 20000, reason, sizeof(reason)), 0);
	CU_ASSERT_STRING_EQUAL(reason, "ok; 1 of 1 link up: failover: connected");
	/* The attack was on: the server still holds every slow connection. */
	CU_ASSERT_EQUAL(still_open(fds, n), SLOW);

	/* One address opening more connections than the whole limit gets
	 * only its share. */
	flood = open_slow_clients(INADDR_LOOPBACK + 1 + ADDRS, port, fds + n, FLOOD);
	CU_ASSERT_EQUAL(flood, FLOOD);
	if (pipe(stop[1]) == 0) {
		child[1] = trickle_start(fds + n, flood, stop[1]);
		close(stop[1][0]);
	}
	CU_ASSERT(child[1] > 0);
	CU_ASSERT_EQUAL(metrics_health_query(spec, 20000, reason, sizeof(reason)), 0);
	CU_ASSERT_STRING_EQUAL(reason, "ok; 1 of 1 link up: failover: connected");
	CU_ASSERT(open_after_limit(fds + n, flood, METRICS_HTTP_PER_ADDRESS) <=
		  METRICS_HTTP_PER_ADDRESS);
	n += flood;

	/* Each child holds the pipes made before it: end them all, then wait. */
	for (i = 0; i < 2; i++)
		if (stop[i][1] >= 0)
			close(stop[i][1]);
	for (i = 0; i < 2; i++)
		if (child[i] > 0)
			waitpid(child[i], NULL, 0);
	for (i = 0; i < n; i++)
		close(fds[i]);
	metrics_free(m);
}

/* libmicrohttpd (and the TLS library under it) allocate some state once,
 * on first use, and keep it for the process: let that happen before the
 * per-test leak check takes its baseline. */
static int warm_up_http(void)
{
	struct metrics *m = metrics_new(METRICS_STALL_MS);
	char spec[64], reason[64], err[400];
	unsigned port = free_port();

	if (m == NULL || port == 0)
		return 1;
	snprintf(spec, sizeof(spec), "127.0.0.1:%u", port);
	if (metrics_serve(m, spec, err, sizeof(err)) == 0)
		metrics_health_query(spec, 2000, reason, sizeof(reason));
	metrics_free(m);
	return 0;
}

static int test_metrics_register(void)
{
	CU_pSuite s = CU_add_suite("metrics", warm_up_http, NULL);

	if (s == NULL ||
	    !CU_add_test(s, "fresh text", test_fresh_text) ||
	    !CU_add_test(s, "histogram", test_histogram) ||
	    !CU_add_test(s, "NULL is off", test_null_is_off) ||
	    !CU_add_test(s, "dispatch counts", test_dispatch_counts) ||
	    !CU_add_test(s, "link state and health", test_link_and_health) ||
	    !CU_add_test(s, "several links, instance name", test_several_links) ||
	    !CU_add_test(s, "stalled loop", test_stalled_loop) ||
	    !CU_add_test(s, "metrics.listen check", test_listen_check) ||
	    !CU_add_test(s, "HTTP health", test_http_health) ||
	    !CU_add_test(s, "HTTP health under slow clients", test_http_slow_clients))
		return CU_get_error();
	return CUE_SUCCESS;
}
TESTUTIL_SUITE(test_metrics_register)
