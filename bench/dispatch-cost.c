/* SPDX-License-Identifier: MIT */
/* dispatch-cost.c: what the metrics hooks add to dispatching one stanza, measured in-process without sockets. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <strophe.h>

#include "config.h"
#include "dispatch.h"
#include "log.h"
#include "metrics.h"

#define CALLS 20000
#define ROUNDS 21

static const char request[] =
	"<message xml:lang='en' type='chat' id='b1' to='ope.localhost' "
	"from='alice@localhost/bench'><example_tag "
	"xmlns='https://example.net/our_extension' data='stuff' "
	"another='some'/><body>hello world</body></message>";

static void discard(xmpp_stanza_t *reply, void *arg)
{
	(void)reply;
	(void)arg;
}

static double now_ns(void)
{
	struct timespec ts;

	/* CPU time: other processes on the machine don't count. */
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* CPU nanoseconds per dispatch_stanza() call over CALLS calls, BATCH of
 * them per event loop turn (metrics_loop_alive() between turns, as the
 * daemon's loop calls it). */
static double per_call(struct dispatch *d, struct metrics *m, xmpp_stanza_t *s,
		       int batch)
{
	double t0 = now_ns();
	int i;

	for (i = 0; i < CALLS; i++) {
		if (i % batch == 0)
			metrics_loop_alive(m);
		dispatch_stanza(d, s);
	}
	return (now_ns() - t0) / CALLS;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(void)
{
	struct config cfg = { 0 };
	double off[ROUNDS], on[ROUNDS], d_min, d_med;
	struct dispatch *d_off, *d_on;
	struct metrics *m;
	xmpp_stanza_t *s;
	xmpp_ctx_t *ctx;
	static const int batches[] = { 1, 32 };
	int i, b;

	log_init("dispatch-cost", LOG_LEVEL_ERROR, stderr);
	ctx = xmpp_ctx_new(NULL, NULL);
	m = metrics_new(METRICS_STALL_MS);
	if (ctx == NULL || m == NULL || config_defaults(&cfg) != 0 ||
	    (cfg.domain = strdup("ope.localhost")) == NULL) {
		fprintf(stderr, "dispatch-cost: out of memory\n");
		return 1;
	}
	s = xmpp_stanza_new_from_string(ctx, request);
	d_off = dispatch_new(ctx, &cfg, NULL, discard, NULL);
	d_on = dispatch_new(ctx, &cfg, m, discard, NULL);
	if (s == NULL || d_off == NULL || d_on == NULL) {
		fprintf(stderr, "dispatch-cost: cannot set up\n");
		return 1;
	}
	if (dispatch_stanza(d_on, s) != DISPATCH_REPLIED) {
		fprintf(stderr, "dispatch-cost: the request got no reply\n");
		return 1;
	}
	printf("dispatch_stanza() of one example_tag message (reply built and\n"
	       "discarded; no sockets, no parsing), thread CPU time per call,\n"
	       "%d rounds of %d calls alternating off and on:\n", ROUNDS, CALLS);
	for (b = 0; b < 2; b++) {
		/* Alternate so that whatever else runs on the machine hits both. */
		for (i = 0; i < ROUNDS; i++) {
			off[i] = per_call(d_off, NULL, s, batches[b]);
			on[i] = per_call(d_on, m, s, batches[b]);
		}
		qsort(off, ROUNDS, sizeof(double), cmp);
		qsort(on, ROUNDS, sizeof(double), cmp);
		d_min = on[0] - off[0];
		d_med = on[ROUNDS / 2] - off[ROUNDS / 2];
		printf("%d stanza%s per loop turn: metrics off %.0f ns, on %.0f ns: "
		       "%+.0f ns (%+.1f %%) fastest round; %+.0f ns (%+.1f %%) median\n",
		       batches[b], batches[b] > 1 ? "s" : "", off[0], on[0], d_min,
		       d_min / off[0] * 100, d_med, d_med / off[ROUNDS / 2] * 100);
	}
	xmpp_stanza_release(s);
	dispatch_free(d_off);
	dispatch_free(d_on);
	metrics_free(m);
	config_free(&cfg);
	xmpp_ctx_free(ctx);
	return 0;
}
