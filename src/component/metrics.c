/* SPDX-License-Identifier: MIT */
/* metrics.c: counters of the stanza path and the link, their Prometheus text, and the /metrics and /health HTTP endpoint. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "build_config.h"
#include "hostport.h"
#include "log.h"
#include "metrics.h"
#include "util.h"

enum kind { KIND_MESSAGE, KIND_IQ, KIND_PRESENCE, KIND_OTHER, NKINDS };

static const char *const kind_names[NKINDS] = {
	"message", "iq", "presence", "other",
};

static const char *const drop_names[METRICS_DROP_COUNT] = {
	[METRICS_DROP_NO_FROM] = "no_from",
	[METRICS_DROP_BAD_FROM] = "bad_from",
	[METRICS_DROP_NOT_OURS] = "not_our_domain",
	[METRICS_DROP_NO_MEMORY] = "out_of_memory",
};

static const char *const takeover_names[METRICS_TAKEOVER_COUNT] = {
	[METRICS_TAKEOVER_SPAWN] = "spawn",
	[METRICS_TAKEOVER_REFUSED] = "refused",
	[METRICS_TAKEOVER_HANDOVER] = "handover",
};

static const char *const drain_names[METRICS_DRAIN_COUNT] = {
	[METRICS_DRAIN_QUIET] = "quiet",
	[METRICS_DRAIN_MAXIMUM] = "maximum",
	[METRICS_DRAIN_FALLBACK] = "fallback",
	[METRICS_DRAIN_LINK_DOWN] = "link_down",
	[METRICS_DRAIN_SIGNAL] = "second_signal",
	[METRICS_DRAIN_NONE] = "not_started",
};

static const char *const state_names[] = {
	[LINK_CONNECTING] = "connecting",
	[LINK_UP] = "up",
	[LINK_WAITING] = "waiting",
	[LINK_STOPPED] = "stopped",
};

/* Room for every stanza condition stanza.h has or will have; a larger
 * value is counted as undefined-condition. */
#define NCONDS 32

/* Upper bounds of the latency histogram, 10 us to 1 s, and their labels
 * as Prometheus prints them. */
static const uint64_t bucket_ns[] = {
	10000, 25000, 50000, 100000, 250000, 500000,
	1000000, 2500000, 5000000, 10000000, 25000000, 50000000,
	100000000, 250000000, 500000000, 1000000000,
};
static const char *const bucket_le[] = {
	"1e-05", "2.5e-05", "5e-05", "0.0001", "0.00025", "0.0005",
	"0.001", "0.0025", "0.005", "0.01", "0.025", "0.05",
	"0.1", "0.25", "0.5", "1",
};
#define NBUCKETS ARRAY_SIZE(bucket_ns)
_Static_assert(ARRAY_SIZE(bucket_le) == NBUCKETS, "one label per bucket");

/* Written by the event-loop thread alone, read by the HTTP thread: a
 * relaxed load and store (no read-modify-write, no lock) is enough for
 * one writer, and costs what a plain increment does. */
typedef _Atomic uint64_t counter;

/* One link's gauges and counters (metrics_link_add()). */
struct metrics_link {
	struct metrics *m;
	char name[METRICS_LINK_NAME_MAX + 1]; /* the link label; set before
	                                         the link is counted in */
	counter queue_bytes;
	counter queue_limit;
	counter reconnects;
	counter handshakes;
	counter last_handshake_ms;      /* Unix time, 0: never */
	unsigned attempts;              /* event loop only */
	/* Under the metrics' lock: state and detail change together. */
	int state_known;
	enum link_state state;
	char detail[256];
};

struct metrics {
	counter received[NKINDS];
	counter answered[NKINDS];
	counter errors[NCONDS];
	counter dropped[METRICS_DROP_COUNT];
	counter buckets[NBUCKETS + 1];  /* per bucket, not cumulative; the
	                                   last is above the largest bound */
	counter sum_ns;
	counter takeover_failures[METRICS_TAKEOVER_COUNT];
	counter drains[METRICS_DRAIN_COUNT];
	counter pw_backoff_refused;     /* password checks: see metrics_password() */
	counter pw_queue_refused;
	counter pw_pending;
	counter pw_rules_backing_off;
	counter alive_ns;               /* monotonic, last loop turn */
	uint64_t arrival_ns;            /* event loop only: this turn's
	                                   arrival time, 0: none yet */
	uint64_t stall_ns;
	uint64_t start_ms;              /* Unix time */

	/* State changes are rare: a lock keeps state and detail together. */
	pthread_mutex_t lock;
	char instance[METRICS_LINK_NAME_MAX + 1]; /* under the lock; "": none */
	/* Registered links: the first NLINKS (stored with release after the
	 * link's name, so a reader sees only whole ones). */
	struct metrics_link links[METRICS_LINKS_MAX];
	_Atomic size_t nlinks;

	struct MHD_Daemon *http;
};

static void bump(counter *c, uint64_t n)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
			      memory_order_relaxed);
}

static void set(counter *c, uint64_t v)
{
	atomic_store_explicit(c, v, memory_order_relaxed);
}

static uint64_t get(counter *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

static uint64_t unix_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

struct metrics *metrics_new(unsigned stall_ms)
{
	struct metrics *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return NULL;
	if (pthread_mutex_init(&m->lock, NULL) != 0) {
		free(m);
		return NULL;
	}
	m->stall_ns = (uint64_t)stall_ms * 1000000u;
	m->start_ms = unix_ms();
	set(&m->alive_ns, util_now_ns());
	return m;
}

void metrics_free(struct metrics *m)
{
	if (m == NULL)
		return;
	if (m->http != NULL)
		MHD_stop_daemon(m->http);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

void metrics_arrival(struct metrics *m)
{
	if (m != NULL && m->arrival_ns == 0)
		m->arrival_ns = util_now_ns();
}

static enum kind kind_of(const char *name)
{
	if (name == NULL)
		return KIND_OTHER;
	switch (name[0]) {
	case 'm': return strcmp(name, "message") == 0 ? KIND_MESSAGE : KIND_OTHER;
	case 'i': return strcmp(name, "iq") == 0 ? KIND_IQ : KIND_OTHER;
	case 'p': return strcmp(name, "presence") == 0 ? KIND_PRESENCE : KIND_OTHER;
	default: return KIND_OTHER;
	}
}

void metrics_observe(struct metrics *m, uint64_t ns)
{
	size_t i = 0;

	if (m == NULL)
		return;
	/* Most replies take tens of microseconds: the scan stops early. */
	while (i < NBUCKETS && ns > bucket_ns[i])
		i++;
	bump(&m->buckets[i], 1);
	bump(&m->sum_ns, ns);
}

void metrics_stanza(struct metrics *m, const char *name, int answered)
{
	enum kind k;

	if (m == NULL)
		return;
	k = kind_of(name);
	bump(&m->received[k], 1);
	if (answered) {
		uint64_t now = util_now_ns();

		bump(&m->answered[k], 1);
		metrics_observe(m, now > m->arrival_ns ? now - m->arrival_ns : 0);
	}
}

void metrics_error_sent(struct metrics *m, enum stanza_cond cond)
{
	if (m == NULL)
		return;
	bump(&m->errors[(unsigned)cond < NCONDS ? cond : STANZA_COND_NONE], 1);
}

void metrics_drop(struct metrics *m, enum metrics_drop reason)
{
	if (m == NULL || (unsigned)reason >= METRICS_DROP_COUNT)
		return;
	bump(&m->dropped[reason], 1);
}

void metrics_answered(struct metrics *m, const char *name, uint64_t arrival_ns)
{
	uint64_t now;

	if (m == NULL)
		return;
	now = util_now_ns();
	bump(&m->answered[kind_of(name)], 1);
	metrics_observe(m, now > arrival_ns ? now - arrival_ns : 0);
}

void metrics_password(struct metrics *m, unsigned long backoff_refused,
		      unsigned long queue_refused, size_t pending,
		      size_t rules_backing_off)
{
	if (m == NULL)
		return;
	set(&m->pw_backoff_refused, backoff_refused);
	set(&m->pw_queue_refused, queue_refused);
	set(&m->pw_pending, pending);
	set(&m->pw_rules_backing_off, rules_backing_off);
}

void metrics_output_queue(struct metrics *m, size_t bytes, size_t limit)
{
	metrics_link_queue(metrics_link_default(m), bytes, limit);
}

void metrics_takeover_failed(struct metrics *m,
			     enum metrics_takeover_failure why)
{
	if (m != NULL && (unsigned)why < METRICS_TAKEOVER_COUNT)
		bump(&m->takeover_failures[why], 1);
}

void metrics_drain_done(struct metrics *m, enum metrics_drain_result result)
{
	if (m != NULL && (unsigned)result < METRICS_DRAIN_COUNT)
		bump(&m->drains[result], 1);
}

void metrics_loop_alive(struct metrics *m)
{
	if (m != NULL) {
		set(&m->alive_ns, util_now_ns());
		m->arrival_ns = 0;
	}
}

struct metrics_link *metrics_link_add(struct metrics *m, const char *name)
{
	struct metrics_link *ml;
	size_t n;

	if (m == NULL)
		return NULL;
	n = atomic_load_explicit(&m->nlinks, memory_order_relaxed);
	if (n >= METRICS_LINKS_MAX)
		return NULL;
	ml = &m->links[n];
	ml->m = m;
	/* A label value: quotes, backslashes and newlines would need escapes
	 * (the names come from the configuration: refuse rather than escape). */
	snprintf(ml->name, sizeof(ml->name), "%s", name);
	ml->name[strcspn(ml->name, "\"\\\n")] = '\0';
	atomic_store_explicit(&m->nlinks, n + 1, memory_order_release);
	return ml;
}

struct metrics_link *metrics_link_default(struct metrics *m)
{
	if (m == NULL)
		return NULL;
	if (atomic_load_explicit(&m->nlinks, memory_order_relaxed) > 0)
		return &m->links[0];
	return metrics_link_add(m, METRICS_LINK_DEFAULT);
}

void metrics_link_queue(struct metrics_link *ml, size_t bytes, size_t limit)
{
	if (ml != NULL) {
		set(&ml->queue_bytes, bytes);
		set(&ml->queue_limit, limit);
	}
}

void metrics_link_observe(void *arg, enum link_state state,
			  const char *detail)
{
	struct metrics_link *ml = arg;

	if (ml == NULL || (unsigned)state >= ARRAY_SIZE(state_names))
		return;
	if (state == LINK_CONNECTING && ml->attempts++ > 0)
		bump(&ml->reconnects, 1);
	if (state == LINK_UP) {
		bump(&ml->handshakes, 1);
		set(&ml->last_handshake_ms, unix_ms());
	}
	pthread_mutex_lock(&ml->m->lock);
	ml->state_known = 1;
	ml->state = state;
	snprintf(ml->detail, sizeof(ml->detail), "%s", detail ? detail : "");
	pthread_mutex_unlock(&ml->m->lock);
}

void metrics_link_state(void *arg, enum link_state state, const char *detail)
{
	metrics_link_observe(metrics_link_default(arg), state, detail);
}

void metrics_set_instance(struct metrics *m, const char *name)
{
	if (m == NULL)
		return;
	pthread_mutex_lock(&m->lock);
	snprintf(m->instance, sizeof(m->instance), "%s", name);
	m->instance[strcspn(m->instance, "\"\\\n")] = '\0';
	pthread_mutex_unlock(&m->lock);
}

/* A copy of the links' states, taken under the lock. */
struct link_view {
	char name[METRICS_LINK_NAME_MAX + 1];
	int known;
	enum link_state state;
	char detail[256];
};

/* Copy the first N registered links (at most METRICS_LINKS_MAX) into V;
 * returns N. */
static size_t view_links(struct metrics *m, struct link_view *v)
{
	size_t n = atomic_load_explicit(&m->nlinks, memory_order_acquire), i;

	pthread_mutex_lock(&m->lock);
	for (i = 0; i < n; i++) {
		memcpy(v[i].name, m->links[i].name, sizeof(v[i].name));
		v[i].known = m->links[i].state_known;
		v[i].state = m->links[i].state;
		memcpy(v[i].detail, m->links[i].detail, sizeof(v[i].detail));
	}
	pthread_mutex_unlock(&m->lock);
	return n;
}

/* Append "NAME: DETAIL" of V to OUT (room LEN, used *AT), separated by
 * "; ". */
static void add_link_text(char *out, size_t len, size_t *at,
			  const struct link_view *v)
{
	int n;

	if (*at >= len)
		return;
	n = snprintf(out + *at, len - *at, "%s%s: %s", *at ? "; " : "",
		     v->name, v->detail[0] ? v->detail :
		     v->known ? state_names[v->state] : "starting");
	if (n > 0)
		*at += (size_t)n;
}

int metrics_health(struct metrics *m, char *reason, size_t len)
{
	uint64_t now = util_now_ns(), alive = get(&m->alive_ns);
	struct link_view v[METRICS_LINKS_MAX];
	char list[1024];
	size_t n, i, at = 0, up = 0;

	/* A stuck loop answers nothing, whatever the links last said. */
	if (now > alive && now - alive > m->stall_ns) {
		snprintf(reason, len, "event loop stalled for %.1f s",
			 (double)(now - alive) / 1e9);
		return 0;
	}
	n = view_links(m, v);
	list[0] = '\0';
	for (i = 0; i < n; i++) {
		up += v[i].known && v[i].state == LINK_UP;
		add_link_text(list, sizeof(list), &at, &v[i]);
	}
	if (n == 0 || (n == 1 && !v[0].known)) {
		snprintf(reason, len, "link down: starting");
		return 0;
	}
	if (up == 0 && n == 1) {
		snprintf(reason, len, "link down: %s", v[0].detail[0] ?
			 v[0].detail : state_names[v[0].state]);
		return 0;
	}
	if (up == 0) {
		snprintf(reason, len, "links down: %s", list);
		return 0;
	}
	/* Up while any link is: the others fail over to it. */
	snprintf(reason, len, "ok; %zu of %zu link%s up: %s", up, n,
		 n == 1 ? "" : "s", list);
	return 1;
}

/* A growing text buffer; after a failed allocation it stays failed. */
struct text {
	char *buf;
	size_t len, cap;
	int failed;
};

static void put(struct text *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void put(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	while (!t->failed) {
		va_start(ap, fmt);
		n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			t->failed = 1;
			return;
		}
		if ((size_t)n < t->cap - t->len) {
			t->len += (size_t)n;
			return;
		}
		if (util_grow(&t->buf, &t->cap, t->len + (size_t)n + 1, 1,
			      256) < 0) {
			t->failed = 1;
			return;
		}
	}
}

static void family(struct text *t, const char *name, const char *type,
		   const char *help)
{
	put(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Family NAME (TYPE, HELP) with its one sample V. */
static void scalar(struct text *t, const char *name, const char *type,
		   const char *help, uint64_t v)
{
	family(t, name, type, help);
	put(t, "%s %llu\n", name, (unsigned long long)v);
}

/* Counter family NAME (HELP) with one sample per value NAMES[i] of LABEL:
 * C[i], for i below N. */
static void by_label(struct text *t, const char *name, const char *help,
		     const char *label, const char *const names[], counter *c,
		     size_t n)
{
	size_t i;

	family(t, name, "counter", help);
	for (i = 0; i < n; i++)
		put(t, "%s{%s=\"%s\"} %llu\n", name, label, names[i],
		    (unsigned long long)get(&c[i]));
}

static void per_kind(struct text *t, const char *name, counter *c,
		     const char *help)
{
	size_t k;

	family(t, name, "counter", help);
	for (k = 0; k < NKINDS; k++)
		put(t, "%s{kind=\"%s\"} %llu\n", name, kind_names[k],
		    (unsigned long long)get(&c[k]));
}

static void histogram(struct text *t, struct metrics *m)
{
	const char *name = "ope_request_duration_seconds";
	uint64_t total = 0, sum = get(&m->sum_ns);
	size_t i;

	family(t, name, "histogram", "Time from a request's arrival (the socket "
	       "read that carried it) to its reply or error being queued for "
	       "sending.");
	/* The count is the sum of the buckets as read, so the +Inf bucket and
	 * _count always agree even while the loop keeps counting. */
	for (i = 0; i < NBUCKETS; i++) {
		total += get(&m->buckets[i]);
		put(t, "%s_bucket{le=\"%s\"} %llu\n", name, bucket_le[i],
		    (unsigned long long)total);
	}
	total += get(&m->buckets[NBUCKETS]);
	put(t, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)total);
	put(t, "%s_sum %llu.%09llu\n", name,
	    (unsigned long long)(sum / 1000000000u),
	    (unsigned long long)(sum % 1000000000u));
	put(t, "%s_count %llu\n", name, (unsigned long long)total);
}

/* The link families, one sample (or one per state) per registered link,
 * labelled link="NAME". */
static void links(struct text *t, struct metrics *m)
{
	struct link_view v[METRICS_LINKS_MAX];
	size_t n = view_links(m, v), i, s;
	uint64_t last;

	family(t, "ope_link_up", "gauge", "1 while the server has accepted "
	       "the link's handshake, else 0.");
	for (i = 0; i < n; i++)
		put(t, "ope_link_up{link=\"%s\"} %d\n", v[i].name,
		    v[i].known && v[i].state == LINK_UP);
	family(t, "ope_link_state", "gauge", "The link's state: 1 for the "
	       "current one (all 0 before the first connection attempt).");
	for (i = 0; i < n; i++)
		for (s = 0; s < ARRAY_SIZE(state_names); s++)
			put(t, "ope_link_state{link=\"%s\",state=\"%s\"} %d\n",
			    v[i].name, state_names[s],
			    v[i].known && (size_t)v[i].state == s);
	family(t, "ope_link_handshakes_total", "counter",
	       "Handshakes the server accepted.");
	for (i = 0; i < n; i++)
		put(t, "ope_link_handshakes_total{link=\"%s\"} %llu\n",
		    v[i].name,
		    (unsigned long long)get(&m->links[i].handshakes));
	family(t, "ope_reconnects_total", "counter",
	       "Connection attempts after the first.");
	for (i = 0; i < n; i++)
		put(t, "ope_reconnects_total{link=\"%s\"} %llu\n", v[i].name,
		    (unsigned long long)get(&m->links[i].reconnects));
	family(t, "ope_link_last_handshake_timestamp_seconds", "gauge",
	       "When the server last accepted the handshake, in seconds since "
	       "the Unix epoch; 0 if it never did.");
	for (i = 0; i < n; i++) {
		last = get(&m->links[i].last_handshake_ms);
		put(t, "ope_link_last_handshake_timestamp_seconds{link=\"%s\"} "
		    "%llu.%03llu\n", v[i].name, (unsigned long long)(last / 1000),
		    (unsigned long long)(last % 1000));
	}
	family(t, "ope_output_queue_bytes", "gauge",
	       "Bytes waiting in the link's output queue.");
	for (i = 0; i < n; i++)
		put(t, "ope_output_queue_bytes{link=\"%s\"} %llu\n", v[i].name,
		    (unsigned long long)get(&m->links[i].queue_bytes));
	family(t, "ope_output_queue_limit_bytes", "gauge",
	       "limits.output_queue: at this many queued bytes ope stops "
	       "reading requests (0 until the first write).");
	for (i = 0; i < n; i++)
		put(t, "ope_output_queue_limit_bytes{link=\"%s\"} %llu\n",
		    v[i].name,
		    (unsigned long long)get(&m->links[i].queue_limit));
}

char *metrics_render(struct metrics *m, size_t *len)
{
	struct text t = { NULL, 0, 4096, 0 };
	const char *undefined = stanza_cond_name(STANZA_COND_NONE);
	char instance[sizeof(m->instance)];
	size_t i;

	t.buf = malloc(t.cap);
	if (t.buf == NULL)
		return NULL;
	pthread_mutex_lock(&m->lock);
	memcpy(instance, m->instance, sizeof(instance));
	pthread_mutex_unlock(&m->lock);

	family(&t, "ope_build_info", "gauge", "Always 1; the version of "
	       "ope-component as a label.");
	put(&t, "ope_build_info{version=\"%s\"} 1\n", PACKAGE_VERSION);
	family(&t, "ope_info", "gauge", "Always 1; this instance's name "
	       "(component.instance) as the label instance_name (instance is "
	       "the scrape target's).");
	put(&t, "ope_info{instance_name=\"%s\"} 1\n", instance);
	family(&t, "ope_start_time_seconds", "gauge", "When ope-component "
	       "started, in seconds since the Unix epoch.");
	put(&t, "ope_start_time_seconds %llu.%03llu\n",
	    (unsigned long long)(m->start_ms / 1000),
	    (unsigned long long)(m->start_ms % 1000));

	per_kind(&t, "ope_stanzas_received_total", m->received,
		 "Stanzas received from the server, by kind.");
	per_kind(&t, "ope_stanzas_answered_total", m->answered,
		 "Stanzas that got a reply or an error, by the kind received; "
		 "the others were dropped or need no answer (errors, results).");

	family(&t, "ope_stanza_errors_sent_total", "counter",
	       "Stanza errors sent, by RFC 6120 condition and error type.");
	/* Every condition stanza.h knows, in its order: names past the end
	 * come back as undefined-condition, which entry 0 already is. */
	for (i = 0; i < NCONDS; i++) {
		const char *name = stanza_cond_name((enum stanza_cond)i);

		if (i > 0 && name == undefined)
			break;
		put(&t, "ope_stanza_errors_sent_total{condition=\"%s\","
		    "type=\"%s\"} %llu\n", name,
		    stanza_cond_type((enum stanza_cond)i),
		    (unsigned long long)get(&m->errors[i]));
	}

	by_label(&t, "ope_stanzas_dropped_total", "Stanzas dropped without any "
		 "answer, by reason.", "reason", drop_names, m->dropped,
		 METRICS_DROP_COUNT);

	histogram(&t, m);

	links(&t, m);
	by_label(&t, "ope_takeover_failures_total", "Takeovers (SIGUSR2, "
		 "--takeover) after which this process kept its link, by "
		 "reason.", "reason", takeover_names, m->takeover_failures,
		 METRICS_TAKEOVER_COUNT);
	by_label(&t, "ope_drains_total", "Drains (the first stop signal) by how "
		 "they ended; counted when the drain decides to close, just "
		 "before the exit.", "result", drain_names, m->drains,
		 METRICS_DRAIN_COUNT);
	scalar(&t, "ope_password_backoff_refusals_total", "counter",
	       "Password checks refused (policy-violation, wait) because the "
	       "rule's password is backing off after too many wrong ones "
	       "(limits.password.rule_failures).", get(&m->pw_backoff_refused));
	scalar(&t, "ope_password_rules_backing_off", "gauge",
	       "Rule passwords backing off now.", get(&m->pw_rules_backing_off));
	scalar(&t, "ope_password_checks_pending", "gauge",
	       "Requests waiting for their password hash on the worker thread.",
	       get(&m->pw_pending));
	scalar(&t, "ope_password_queue_refusals_total", "counter",
	       "Password checks refused (resource-constraint) because too many "
	       "were waiting for the worker thread already.",
	       get(&m->pw_queue_refused));

	if (t.failed) {
		free(t.buf);
		return NULL;
	}
	*len = t.len;
	return t.buf;
}

/* metrics.listen: "ADDRESS:PORT", "[IPV6]:PORT" or "PORT". Fills SS. */
static int parse_listen(const char *spec, struct sockaddr_storage *ss,
			socklen_t *sslen, char *err, size_t errlen)
{
	char host[64], esc[200], esc2[200];
	const char *h, *port_text;
	unsigned port;
	size_t hostlen;

	memset(ss, 0, sizeof(*ss));
	if (hostport_split(spec, &h, &hostlen, &port_text) != 0)
		goto syntax;
	if (port_text == NULL) {
		/* A bare IPv6 address needs brackets, and one a port. */
		if (strchr(spec, ':') != NULL || spec[0] == '[')
			goto syntax;
		h = "127.0.0.1";
		hostlen = strlen(h);
		port_text = spec;
	}
	if (hostlen >= sizeof(host))
		goto syntax;
	memcpy(host, h, hostlen);
	host[hostlen] = '\0';
	port = hostport_port(port_text);
	if (port == 0) {
		snprintf(err, errlen, "metrics.listen '%s': the port must be a "
			 "number from 1 to 65535",
			 log_escape(esc, sizeof(esc), spec));
		return -1;
	}
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)ss)->sin_addr) == 1) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		*sslen = sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		*sslen = sizeof(*sin6);
		return 0;
	}
	snprintf(err, errlen, "metrics.listen '%s': '%s' is not an IPv4 or "
		 "IPv6 address (names are not resolved; use e.g. "
		 "\"127.0.0.1:9347\" or \"[::1]:9347\")",
		 log_escape(esc, sizeof(esc), spec),
		 log_escape(esc2, sizeof(esc2), host));
	return -1;
syntax:
	snprintf(err, errlen, "metrics.listen '%s' is not ADDRESS:PORT, "
		 "[IPV6]:PORT or a port, e.g. \"127.0.0.1:9347\"",
		 log_escape(esc, sizeof(esc), spec));
	return -1;
}

int metrics_listen_check(const char *spec, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sslen;

	return parse_listen(spec, &ss, &sslen, err, errlen);
}

/* SS as "127.0.0.1:9347" or "[::1]:9347", into OUT (size LEN). */
static void addr_text(const struct sockaddr_storage *ss, char *out, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		snprintf(out, len, "%s:%u", host, ntohs(sin->sin_port));
	} else {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		snprintf(out, len, "[%s]:%u", host, ntohs(sin6->sin6_port));
	}
}

static int is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
	return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

static enum MHD_Result respond(struct MHD_Connection *conn, unsigned status,
			       const char *type, char *body, size_t len,
			       enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
	enum MHD_Result ret;

	if (r == NULL) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO;
	}
	if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type) != MHD_YES ||
	    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL,
				    "no-store") != MHD_YES) {
		MHD_destroy_response(r);
		return MHD_NO;
	}
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* The HTTP thread's handler: GET /metrics and GET /health. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version, const char *upload_data,
				  size_t *upload_data_size, void **req_cls)
{
	struct metrics *m = cls;
	char line[320];
	int n;

	(void)version;
	(void)upload_data;
	(void)upload_data_size;
	(void)req_cls;
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
		n = snprintf(line, sizeof(line), "only GET and HEAD\n");
		return respond(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
			       "text/plain; charset=utf-8", line, (size_t)n,
			       MHD_RESPMEM_MUST_COPY);
	}
	if (strcmp(url, "/metrics") == 0) {
		size_t len;
		char *text = metrics_render(m, &len);

		if (text == NULL)
			return MHD_NO;
		return respond(conn, MHD_HTTP_OK,
			       "text/plain; version=0.0.4; charset=utf-8",
			       text, len, MHD_RESPMEM_MUST_FREE);
	}
	if (strcmp(url, "/health") == 0) {
		int ok = metrics_health(m, line, sizeof(line) - 1);

		n = (int)strlen(line);
		line[n++] = '\n';
		return respond(conn, ok ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE,
			       "text/plain; charset=utf-8", line, (size_t)n,
			       MHD_RESPMEM_MUST_COPY);
	}
	n = snprintf(line, sizeof(line), "not found; try /metrics or /health\n");
	return respond(conn, MHD_HTTP_NOT_FOUND, "text/plain; charset=utf-8",
		       line, (size_t)n, MHD_RESPMEM_MUST_COPY);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];
	size_t n;

	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	if (n > 0 && line[n - 1] == '\n')
		line[n - 1] = '\0';
	log_warn("metrics endpoint: %s", line);
}

int metrics_serve(struct metrics *m, const char *spec, char *err,
		  size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	sigset_t all, old;
	char where[INET6_ADDRSTRLEN + 8];
	int fd = -1, on = 1;

	if (parse_listen(spec, &ss, &sslen, err, errlen) != 0)
		return -1;
	addr_text(&ss, where, sizeof(where));
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
	if (bind(fd, (struct sockaddr *)&ss, sslen) != 0 ||
	    listen(fd, SOMAXCONN) != 0)
		goto fail;
	/* The HTTP thread inherits a full signal mask, so SIGTERM and SIGHUP
	 * always interrupt the event loop's wait, never this thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	m->http = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD |
				   (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0),
				   0, NULL, NULL, on_request, m,
				   MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
				   MHD_OPTION_LISTEN_SOCKET, fd,
				   /* Slow clients from one address must not
				    * take every connection, or /health fails
				    * and the container is restarted. */
				   MHD_OPTION_CONNECTION_LIMIT,
				   (unsigned)METRICS_HTTP_CONNECTIONS,
				   MHD_OPTION_PER_IP_CONNECTION_LIMIT,
				   (unsigned)METRICS_HTTP_PER_ADDRESS,
				   MHD_OPTION_CONNECTION_TIMEOUT,
				   (unsigned)METRICS_HTTP_IDLE_S,
				   MHD_OPTION_END);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (m->http == NULL) {
		/* MHD may have closed FD already; the caller exits. */
		snprintf(err, errlen, "metrics.listen %s: cannot start the HTTP "
			 "server (libmicrohttpd)", where);
		return -1;
	}
	if (!is_loopback(&ss))
		log_warn("metrics.listen %s is not a loopback address: anyone "
			 "who can reach it can read /metrics and /health", where);
	log_info("serving metrics on http://%s/metrics and http://%s/health",
		 where, where);
	return 0;
fail:
	snprintf(err, errlen, "metrics.listen %s: cannot listen there: %s; "
		 "choose another address or port", where, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

/* Wait for FD to be ready for EVENTS until DEADLINE (monotonic ns): 0, or
 * -1 with errno (ETIMEDOUT at the deadline). */
static int wait_fd(int fd, short events, uint64_t deadline)
{
	int rc = util_wait_fd(fd, events, deadline);

	if (rc == 0)
		errno = ETIMEDOUT;
	return rc > 0 ? 0 : -1;
}

int metrics_health_query(const char *spec, int timeout_ms, char *reason,
			 size_t len)
{
	static const char request[] = "GET /health HTTP/1.0\r\n"
				      "Host: localhost\r\n\r\n";
	struct sockaddr_storage ss;
	socklen_t sslen = 0;
	uint64_t deadline = util_now_ns() + (uint64_t)timeout_ms * 1000000u;
	char answer[1024], err[300], where[INET6_ADDRSTRLEN + 8], *body, *eol;
	size_t got = 0, sent = 0;
	int fd = -1, soerr = 0, status, rc = 1;

	if (parse_listen(spec, &ss, &sslen, err, sizeof(err)) != 0) {
		snprintf(reason, len, "unhealthy: %s", err);
		return 1;
	}
	/* A daemon listening on every address answers on loopback too. */
	if (ss.ss_family == AF_INET &&
	    ((struct sockaddr_in *)&ss)->sin_addr.s_addr == htonl(INADDR_ANY))
		((struct sockaddr_in *)&ss)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (ss.ss_family == AF_INET6 &&
	    IN6_IS_ADDR_UNSPECIFIED(&((struct sockaddr_in6 *)&ss)->sin6_addr))
		((struct sockaddr_in6 *)&ss)->sin6_addr = in6addr_loopback;
	addr_text(&ss, where, sizeof(where));

	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		goto unreachable;
	if (connect(fd, (struct sockaddr *)&ss, sslen) != 0) {
		socklen_t l = sizeof(soerr);

		if (errno != EINPROGRESS || wait_fd(fd, POLLOUT, deadline) != 0)
			goto unreachable;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &l) != 0 || soerr) {
			errno = soerr;
			goto unreachable;
		}
	}
	while (sent < sizeof(request) - 1) {
		ssize_t n = send(fd, request + sent, sizeof(request) - 1 - sent,
				 MSG_NOSIGNAL);

		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (wait_fd(fd, POLLOUT, deadline) != 0)
				goto unreachable;
			continue;
		}
		if (n < 0)
			goto unreachable;
		sent += (size_t)n;
	}
	while (got < sizeof(answer) - 1) {
		ssize_t n = recv(fd, answer + got, sizeof(answer) - 1 - got, 0);

		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (wait_fd(fd, POLLIN, deadline) != 0)
				goto unreachable;
			continue;
		}
		if (n < 0)
			goto unreachable;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	answer[got] = '\0';
	if (sscanf(answer, "HTTP/%*d.%*d %d", &status) != 1) {
		snprintf(reason, len, "unhealthy: %s answered something other "
			 "than HTTP; is metrics.listen ope-component's?", where);
		goto out;
	}
	body = strstr(answer, "\r\n\r\n");
	body = body ? body + 4 : answer + got;
	eol = strpbrk(body, "\r\n");
	if (eol != NULL)
		*eol = '\0';
	if (status == 200) {
		snprintf(reason, len, "%s", *body ? body : "ok");
		rc = 0;
	} else if (status == 503) {
		snprintf(reason, len, "unhealthy: %s", body);
	} else {
		snprintf(reason, len, "unhealthy: HTTP status %d from "
			 "http://%s/health", status, where);
	}
	goto out;
unreachable:
	snprintf(reason, len, "unhealthy: cannot ask http://%s/health: %s (is "
		 "ope-component running with this configuration?)", where,
		 strerror(errno));
out:
	if (fd >= 0)
		close(fd);
	return rc;
}
