/* SPDX-License-Identifier: MIT */
/* metrics.h: counters of the stanza path and the link, their Prometheus text, and the /metrics and /health HTTP endpoint. */
#ifndef OPE_METRICS_H
#define OPE_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "link_state.h"
#include "stanza.h"

struct metrics;

/* Why a stanza was dropped without an answer. */
enum metrics_drop {
	METRICS_DROP_NO_FROM,      /* it has no from address */
	METRICS_DROP_BAD_FROM,     /* its from is not a valid JID */
	METRICS_DROP_NOT_OURS,     /* its to is outside our domain, or absent */
	METRICS_DROP_NO_MEMORY,    /* out of memory while answering it */
	METRICS_DROP_COUNT
};

/* The event loop counts as stalled (/health: 503) when metrics_loop_alive()
 * was not called for this long. */
#define METRICS_STALL_MS 10000

/* Fresh counters, all zero, link "starting"; the loop counts as stalled
 * after STALL_MS without metrics_loop_alive(). NULL when out of memory.
 * Free with metrics_free(). */
struct metrics *metrics_new(unsigned stall_ms);

/* Stop the HTTP endpoint if it runs, then free M. NULL is fine. */
void metrics_free(struct metrics *m);

/* The updates below are for the event-loop thread only (one writer; the
 * HTTP thread reads with relaxed atomics, no locks). M may be NULL
 * (metrics off): then they do nothing. */

/* A stanza is about to be handled. The first one since the last
 * metrics_loop_alive() reads the clock: that is the arrival time of every
 * stanza the loop handles in this turn (they came in one read), so one
 * clock read per answered stanza is all the histogram costs. A link that
 * reads the socket itself may call it right after each read instead. */
void metrics_arrival(struct metrics *m);

/* One stanza named NAME ("message", "iq", "presence", other) was handled.
 * ANSWERED: a reply or an error went to the output queue; then the time
 * since its arrival (see metrics_arrival()) is observed. */
void metrics_stanza(struct metrics *m, const char *name, int answered);

/* Observe one request-to-reply time of NS nanoseconds in the histogram. */
void metrics_observe(struct metrics *m, uint64_t ns);

/* A stanza error with COND was sent. */
void metrics_error_sent(struct metrics *m, enum stanza_cond cond);

/* A stanza was dropped for REASON. */
void metrics_drop(struct metrics *m, enum metrics_drop reason);

/* A request that arrived at ARRIVAL_NS (util_now_ns()) and waited
 * (for a password hash) got its reply or error now: counts as answered,
 * by its NAME's kind, and its time goes into the histogram. */
void metrics_answered(struct metrics *m, const char *name, uint64_t arrival_ns);

/* Password checks so far: refused because a rule is backing off, refused
 * because the worker's queue was full (both running totals), waiting for
 * a hash now, and rule passwords backing off now. */
void metrics_password(struct metrics *m, unsigned long backoff_refused,
		      unsigned long queue_refused, size_t pending,
		      size_t rules_backing_off);

/* metrics_link_queue() on metrics_link_default(M). */
void metrics_output_queue(struct metrics *m, size_t bytes, size_t limit);

/* Why a takeover ended with this process keeping its link. */
enum metrics_takeover_failure {
	METRICS_TAKEOVER_SPAWN,    /* the new binary did not start, or ended */
	METRICS_TAKEOVER_REFUSED,  /* another under way, the link cannot move */
	METRICS_TAKEOVER_HANDOVER, /* passing the link failed or was not taken */
	METRICS_TAKEOVER_COUNT
};

/* A takeover failed for WHY; this process serves on. */
void metrics_takeover_failed(struct metrics *m,
			     enum metrics_takeover_failure why);

/* How a drain (the first stop signal) ended. */
enum metrics_drain_result {
	METRICS_DRAIN_QUIET,       /* unrouted, then no request for drain.quiet */
	METRICS_DRAIN_MAXIMUM,     /* drain.maximum reached, requests still came */
	METRICS_DRAIN_FALLBACK,    /* no module: an error or no answer */
	METRICS_DRAIN_LINK_DOWN,   /* the link went down meanwhile */
	METRICS_DRAIN_SIGNAL,      /* a second stop signal cut it short */
	METRICS_DRAIN_NONE,        /* the link was up but no drain could start */
	METRICS_DRAIN_COUNT
};

/* A drain ended with RESULT; the process closes its link next. */
void metrics_drain_done(struct metrics *m, enum metrics_drain_result result);

/* ---- links: each registered link gets its own samples, labelled
 * link="NAME", and its line in /health ---- */

/* At most this many links, each name at most this long. */
#define METRICS_LINKS_MAX 16
#define METRICS_LINK_NAME_MAX 300
/* The name of the one link of server.connect "first" (it fails over
 * between the entries of server.hosts, so no server names it). */
#define METRICS_LINK_DEFAULT "failover"

struct metrics_link;

/* Register a link named NAME (copied, cut at a quote, backslash or
 * newline; e.g. a server.hosts entry "10.0.0.1:5347"), on the event-loop
 * thread. Returns its handle, owned by M and valid until metrics_free();
 * NULL when M is NULL or METRICS_LINKS_MAX links are registered. */
struct metrics_link *metrics_link_add(struct metrics *m, const char *name);

/* The first registered link, registered as METRICS_LINK_DEFAULT if none
 * is yet (what the single-link functions below count into); NULL when M
 * is NULL. */
struct metrics_link *metrics_link_default(struct metrics *m);

/* A link_state_fn: ARG is a struct metrics_link (or NULL). Records the
 * state, its DETAIL for /health, reconnects and the time of the last
 * handshake of that link. */
void metrics_link_observe(void *arg, enum link_state state,
			  const char *detail);

/* The link ML's output queue now holds BYTES, and it stops reading at
 * LIMIT (limits.output_queue): two gauges. ML may be NULL. */
void metrics_link_queue(struct metrics_link *ml, size_t bytes, size_t limit);

/* metrics_link_observe() on metrics_link_default(ARG): the link_state_fn
 * of the one link (ARG is the struct metrics, or NULL). */
void metrics_link_state(void *arg, enum link_state state, const char *detail);

/* This instance's name (pool.h) for ope_info{instance="NAME"}; copied. */
void metrics_set_instance(struct metrics *m, const char *name);

/* The event loop is turning; call once per loop iteration, before it
 * reads input (it also starts a new arrival time). */
void metrics_loop_alive(struct metrics *m);

/* Readers, safe from any thread. */

/* The Prometheus text exposition (format 0.0.4) of M. Returns a malloc'd
 * NUL-terminated text and its length in *LEN; NULL when out of memory. */
char *metrics_render(struct metrics *m, size_t *len);

/* Whether a link is up and the event loop alive: returns 1 and "ok; 1 of 1
 * link up: failover: connected to 127.0.0.1:5347 as ope.example.org" (each
 * link's name and last state), or 0 and a one-line reason such as "link
 * down: reconnecting in 4.0 s: connection refused" (one link) or "links
 * down: NAME: ...; NAME: ..." in REASON (size LEN). */
int metrics_health(struct metrics *m, char *reason, size_t len);

/* The HTTP endpoint. */

/* Check a metrics.listen value: "ADDRESS:PORT", "[IPV6]:PORT" or a bare
 * PORT (then 127.0.0.1); the address must be a literal. Returns 0, or -1
 * with what is wrong in ERR (size ERRLEN). */
int metrics_listen_check(const char *spec, char *err, size_t errlen);

/* The HTTP endpoint's limits. A client holding connections open (sending
 * a request slowly, or never) gets at most METRICS_HTTP_PER_ADDRESS of
 * them, so /health stays reachable from any other address, such as a
 * container's own health check on loopback; one idle for
 * METRICS_HTTP_IDLE_S seconds is closed. */
#define METRICS_HTTP_CONNECTIONS 256
#define METRICS_HTTP_PER_ADDRESS 8
#define METRICS_HTTP_IDLE_S 5

/* Serve /metrics and /health of M on SPEC from an HTTP thread of its
 * own, within the limits above. Returns 0, or -1 with what failed ("metrics.listen 127.0.0.1:9347:
 * cannot listen there: Address already in use; ...") in ERR (size ERRLEN). */
int metrics_serve(struct metrics *m, const char *spec, char *err,
		  size_t errlen);

/* The client side of --health: GET /health from a daemon listening on
 * SPEC (a wildcard address is asked on loopback), waiting at most
 * TIMEOUT_MS in all. Returns 0 when healthy, 1 otherwise; REASON (size
 * LEN) gets the endpoint's one-line answer or why it could not be asked. */
int metrics_health_query(const char *spec, int timeout_ms, char *reason,
			 size_t len);

#endif
