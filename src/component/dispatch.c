/* SPDX-License-Identifier: MIT */
/* dispatch.c: decides what each incoming stanza gets and hands replies to a sender. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "dispatch.h"
#include "ext.h"
#include "guard.h"
#include "jid.h"
#include "log.h"
#include "metrics.h"
#include "presence.h"
#include "util.h"

/* Stanzas dropped unanswered (no from, a malformed from, not for us): the
 * addresses may be forged, so the log line is held to one a minute per
 * kind, whoever sends, with a count of those held back. */
enum { DROP_NO_FROM, DROP_BAD_FROM, DROP_NOT_OURS, DROP_KINDS };
#define DROP_LOG_MS 60000

struct drop_log {
	uint64_t at;           /* when the last line was written; 0: never */
	unsigned long quiet;   /* drops since, not logged */
};

/* Open addressing, kept at most a quarter full so probes stay short. */
#define NSLOTS 64
_Static_assert(NSLOTS >= 4 * EXT_REGISTRY_MAX, "dispatch table too small");

struct dispatch {
	xmpp_ctx_t *ctx;
	const struct config *cfg;
	struct metrics *metrics;
	dispatch_send_fn send;
	void *send_arg;
	const struct ext *slots[NSLOTS];
	uint32_t id_prefix;
	unsigned long id_next;
	struct guard *guard;   /* rate and access state; survives reloads */
	struct drop_log drops[DROP_KINDS];
};

/* FNV-1a over NAME, a separator, then NS. */
static uint32_t ext_hash(const char *ns, const char *name)
{
	uint32_t h = 2166136261u;

	for (; *name; name++)
		h = (h ^ (unsigned char)*name) * 16777619u;
	h = (h ^ 0xffu) * 16777619u;
	for (; *ns; ns++)
		h = (h ^ (unsigned char)*ns) * 16777619u;
	return h;
}

static const struct ext *ext_lookup(const struct dispatch *d, const char *ns,
				    const char *name)
{
	uint32_t i;

	if (ns == NULL || name == NULL)
		return NULL;
	for (i = ext_hash(ns, name);; i++) {
		const struct ext *e = d->slots[i % NSLOTS];

		if (e == NULL)
			return NULL;
		if (strcmp(e->name, name) == 0 && strcmp(e->ns, ns) == 0)
			return e;
	}
}

struct dispatch *dispatch_new(xmpp_ctx_t *ctx, const struct config *cfg,
			      struct metrics *metrics, dispatch_send_fn send,
			      void *arg)
{
	struct dispatch *d = calloc(1, sizeof(*d));
	const struct ext *const *registry;
	size_t i, n;

	if (d == NULL)
		return NULL;
	d->ctx = ctx;
	d->cfg = cfg;
	d->metrics = metrics;
	d->send = send;
	d->send_arg = arg;
	d->guard = guard_new(cfg->limit_senders);
	if (d->guard == NULL) {
		free(d);
		return NULL;
	}
	registry = ext_registry_list(&n);
	for (i = 0; i < n; i++) {
		uint32_t h = ext_hash(registry[i]->ns, registry[i]->name);

		while (d->slots[h % NSLOTS] != NULL)
			h++;
		d->slots[h % NSLOTS] = registry[i];
	}
	/* Fresh ids differ between runs so a restarted component never reuses
	 * an id a client is still waiting on. */
	if (getrandom(&d->id_prefix, sizeof(d->id_prefix), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(d->id_prefix))
		d->id_prefix = (uint32_t)time(NULL) ^ ((uint32_t)getpid() << 16);
	return d;
}

void dispatch_free(struct dispatch *d)
{
	if (d == NULL)
		return;
	guard_free(d->guard);
	free(d);
}

const struct guard *dispatch_guard(const struct dispatch *d)
{
	return d->guard;
}

static double now_s(void)
{
	struct timespec ts;

	/* A few ms of resolution is plenty for buckets and log throttles,
	 * and the coarse clock costs a fraction of the precise one. */
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The clock handlers read (Entity Time); tests call handlers with another. */
static time_t wall_clock(void)
{
	return time(NULL);
}

/* Send REPLY (may be NULL: out of memory) and release it. */
static enum dispatch_result send_reply(struct dispatch *d, xmpp_stanza_t *reply,
				       enum dispatch_result ok)
{
	if (reply == NULL) {
		log_error("out of memory while building a reply; request dropped");
		return DISPATCH_NOMEM;
	}
	d->send(reply, d->send_arg);
	xmpp_stanza_release(reply);
	return ok;
}

static enum dispatch_result send_error(struct dispatch *d, xmpp_stanza_t *req,
				       enum stanza_cond cond, const char *text)
{
	const char *to = xmpp_stanza_get_to(req);
	enum dispatch_result r;

	if (log_enabled(LOG_LEVEL_DEBUG)) {
		char from[256], id[128];

		log_debug("<%s> from %s id %s: answering %s%s%s",
			  xmpp_stanza_get_name(req),
			  log_escape(from, sizeof(from), xmpp_stanza_get_from(req)),
			  log_escape(id, sizeof(id), xmpp_stanza_get_id(req)),
			  stanza_cond_name(cond), text ? ": " : "", text ? text : "");
	}
	r = send_reply(d, stanza_error_reply(d->ctx, req, to, cond, text),
		       DISPATCH_ERROR_SENT);
	if (r == DISPATCH_ERROR_SENT)
		metrics_error_sent(d->metrics, cond);
	return r;
}

/* Run EXT on PAYLOAD and send the result as an IQ result with ID, or the
 * error it chose as an error reply to STANZA. */
static enum dispatch_result run_ext(struct dispatch *d, const struct ext *ext,
				    xmpp_stanza_t *stanza, xmpp_stanza_t *payload,
				    enum ext_kind kind, const char *id)
{
	struct ext_request req = {
		.ctx = d->ctx, .stanza = stanza, .payload = payload,
		.kind = kind, .cfg = d->cfg, .clock = wall_clock,
	};
	struct ext_reply reply = { NULL, STANZA_COND_NONE, NULL };
	/* A message's reply echoes its body too: measure all of it. */
	xmpp_stanza_t *measured = kind == EXT_MESSAGE ? stanza : payload;
	const char *why;
	enum stanza_cond verdict;

	/* Limits and access first: a refusal is the cheapest answer. */
	verdict = guard_check(d->guard, d->cfg, xmpp_stanza_get_from(stanza),
			      ext->guarded,
			      ext->guarded ? xmpp_stanza_get_attribute(
					payload, EXT_PASSWORD_ATTR) : NULL,
			      now_s(), &why);
	if (verdict != STANZA_COND_NONE)
		return send_error(d, stanza, verdict, why);
	if (stanza_size(measured, d->cfg->max_payload) > d->cfg->max_payload)
		return send_error(d, stanza, STANZA_COND_POLICY_VIOLATION,
				  "payload too large or too deeply nested for "
				  "this service");
	if (ext->handle(&req, &reply) != 0) {
		log_error("out of memory in the %s handler; request dropped", ext->ns);
		return DISPATCH_NOMEM;
	}
	if (reply.cond != STANZA_COND_NONE) {
		if (reply.payload != NULL)
			xmpp_stanza_release(reply.payload);
		return send_error(d, stanza, reply.cond, reply.text);
	}
	return send_reply(d, stanza_iq_result(d->ctx, id, xmpp_stanza_get_to(stanza),
					       xmpp_stanza_get_from(stanza),
					       reply.payload),
			  DISPATCH_REPLIED);
}

static enum dispatch_result on_message(struct dispatch *d, xmpp_stanza_t *msg)
{
	xmpp_stanza_t *child;
	const char *id;
	char fresh[32];

	/* Answering an error could bounce between two entities forever. */
	if (util_streq(xmpp_stanza_get_type(msg), "error"))
		return DISPATCH_IGNORED;
	for (child = xmpp_stanza_get_children(msg); child;
	     child = xmpp_stanza_get_next(child)) {
		const struct ext *ext;

		if (!xmpp_stanza_is_tag(child))
			continue;
		ext = ext_lookup(d, xmpp_stanza_get_ns(child),
				 xmpp_stanza_get_name(child));
		if (ext == NULL || !(ext->kinds & EXT_MESSAGE))
			continue;
		/* Reply with the message's id so the sender can match it. */
		id = xmpp_stanza_get_id(msg);
		if (id == NULL || *id == '\0') {
			snprintf(fresh, sizeof(fresh), "ope-%08x-%lu",
				 (unsigned)d->id_prefix, d->id_next++);
			id = fresh;
		}
		return run_ext(d, ext, msg, child, EXT_MESSAGE, id);
	}
	if (log_enabled(LOG_LEVEL_DEBUG)) {
		char from[256];

		log_debug("message from %s carries no payload we serve; ignored",
			  log_escape(from, sizeof(from), xmpp_stanza_get_from(msg)));
	}
	return DISPATCH_IGNORED;
}

static enum dispatch_result on_iq(struct dispatch *d, xmpp_stanza_t *iq)
{
	const char *type = xmpp_stanza_get_type(iq);
	const char *id = xmpp_stanza_get_id(iq);
	xmpp_stanza_t *payload;
	const struct ext *ext;
	enum ext_kind kind;

	if (util_streq(type, "result") || util_streq(type, "error"))
		return DISPATCH_IGNORED;
	if (util_streq(type, "get"))
		kind = EXT_IQ_GET;
	else if (util_streq(type, "set"))
		kind = EXT_IQ_SET;
	else
		return send_error(d, iq, STANZA_COND_BAD_REQUEST,
				  "an IQ's type must be get, set, result or error");
	if (id == NULL || *id == '\0')
		return send_error(d, iq, STANZA_COND_BAD_REQUEST,
				  "an IQ get or set needs an id");
	if (stanza_element_count(iq) != 1)
		return send_error(d, iq, STANZA_COND_BAD_REQUEST,
				  "an IQ get or set carries exactly one payload element");
	payload = stanza_first_element(iq);
	ext = ext_lookup(d, xmpp_stanza_get_ns(payload),
			 xmpp_stanza_get_name(payload));
	if (ext == NULL || !(ext->kinds & kind))
		return send_error(d, iq, STANZA_COND_SERVICE_UNAVAILABLE, NULL);
	return run_ext(d, ext, iq, payload, kind, id);
}

static enum dispatch_result on_presence(struct dispatch *d, xmpp_stanza_t *p)
{
	xmpp_stanza_t *out[PRESENCE_MAX_REPLIES];
	size_t n, i;

	if (presence_replies(d->ctx, p, xmpp_stanza_get_to(p), out, &n) != 0) {
		log_error("out of memory while answering a presence; dropped");
		return DISPATCH_NOMEM;
	}
	for (i = 0; i < n; i++)
		send_reply(d, out[i], DISPATCH_REPLIED);
	return n > 0 ? DISPATCH_REPLIED : DISPATCH_IGNORED;
}

/* Whether a drop of KIND may be logged now; *QUIET is then how many were
 * held back since the last line. */
static int drop_log_allowed(struct dispatch *d, int kind, unsigned long *quiet)
{
	struct drop_log *dl = &d->drops[kind];
	uint64_t now = util_now_ms();

	if (dl->at != 0 && now - dl->at < DROP_LOG_MS) {
		dl->quiet++;
		return 0;
	}
	*quiet = dl->quiet;
	dl->quiet = 0;
	dl->at = now;
	return 1;
}

static enum dispatch_result decide(struct dispatch *d, xmpp_stanza_t *stanza)
{
	const char *name = xmpp_stanza_get_name(stanza);
	const char *from = xmpp_stanza_get_from(stanza);
	const char *to = xmpp_stanza_get_to(stanza);
	char buf1[256], buf2[256];
	unsigned long quiet;

	if (name == NULL)
		return DISPATCH_IGNORED;
	/* Without a from there is nobody to answer, and a reply without a to
	 * makes ejabberd close the whole component stream. */
	if (from == NULL || *from == '\0') {
		if (drop_log_allowed(d, DROP_NO_FROM, &quiet))
			log_warn("dropped a <%s> without a from address (to %s); "
				 "%lu more such in the last minute",
				 log_escape(buf1, sizeof(buf1), name),
				 log_escape(buf2, sizeof(buf2), to), quiet);
		metrics_drop(d->metrics, METRICS_DROP_NO_FROM);
		return DISPATCH_DROPPED;
	}
	if (jid_split(from, NULL, NULL, NULL, NULL, NULL, NULL) != 0) {
		if (drop_log_allowed(d, DROP_BAD_FROM, &quiet))
			log_warn("dropped a <%s> from the malformed address %s; "
				 "%lu more such in the last minute",
				 log_escape(buf1, sizeof(buf1), name),
				 log_escape(buf2, sizeof(buf2), from), quiet);
		metrics_drop(d->metrics, METRICS_DROP_BAD_FROM);
		return DISPATCH_DROPPED;
	}
	if (to == NULL || !jid_domain_is(to, d->cfg->domain)) {
		if (drop_log_allowed(d, DROP_NOT_OURS, &quiet))
			log_warn("dropped a <%s> from %s addressed to %s, outside "
				 "%s; %lu more such in the last minute",
				 log_escape(buf1, sizeof(buf1), name),
				 log_escape(buf2, sizeof(buf2), from),
				 to ? "another domain" : "nobody", d->cfg->domain,
				 quiet);
		metrics_drop(d->metrics, METRICS_DROP_NOT_OURS);
		return DISPATCH_DROPPED;
	}
	if (strcmp(name, "message") == 0)
		return on_message(d, stanza);
	if (strcmp(name, "iq") == 0)
		return on_iq(d, stanza);
	if (strcmp(name, "presence") == 0)
		return on_presence(d, stanza);
	log_debug("ignored a <%s> from %s", log_escape(buf1, sizeof(buf1), name),
		  log_escape(buf2, sizeof(buf2), from));
	return DISPATCH_IGNORED;
}

enum dispatch_result dispatch_stanza(struct dispatch *d, xmpp_stanza_t *stanza)
{
	enum dispatch_result r;

	metrics_arrival(d->metrics);
	r = decide(d, stanza);
	if (r == DISPATCH_NOMEM)
		metrics_drop(d->metrics, METRICS_DROP_NO_MEMORY);
	metrics_stanza(d->metrics, xmpp_stanza_get_name(stanza),
		       r == DISPATCH_REPLIED || r == DISPATCH_ERROR_SENT);
	return r;
}
