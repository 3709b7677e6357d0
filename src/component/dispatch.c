/* SPDX-License-Identifier: MIT */
/* dispatch.c: decides what each incoming stanza gets, error answers included, and hands replies to a sender. */
#include <poll.h>
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
#include "hash.h"
#include "jid.h"
#include "link.h"
#include "log.h"
#include "loop.h"
#include "metrics.h"
#include "presence.h"
#include "stanza.h"
#include "util.h"
#include "workpool.h"
#include "xmlstream.h"

/* Stanzas dropped unanswered (no from, a malformed from, not for us): the
 * addresses may be forged, so the log line is held to one a minute per
 * kind, whoever sends, with a count of those held back. */
enum { DROP_NO_FROM, DROP_BAD_FROM, DROP_NOT_OURS, DROP_KINDS };
#define DROP_LOG_MS 60000

struct drop_log {
	uint64_t at;           /* when the last line was written; 0: never */
	unsigned long quiet;   /* drops since, not logged */
};

/* Senders of skipped stanzas remembered for log rate limiting (a fixed
 * table, so memory stays bounded whoever sends). */
#define SKIP_SLOTS 256
#define SKIP_LOG_MS 60000

struct skip_slot {
	uint64_t hash;
	uint64_t at;
};

/* Open addressing, kept at most a quarter full so probes stay short. */
#define NSLOTS 64
_Static_assert(NSLOTS >= 4 * EXT_REGISTRY_MAX, "dispatch table too small");
/* Password hashes run on one worker thread: the event loop keeps the
 * other core of a small machine, and limits.password.total keeps the
 * worker's queue short anyway. */
#define HASH_THREADS 1
/* Requests waiting for a hash at once; more get resource-constraint. */
#define CHECKS_MAX 32

/* A request waiting for its password hash (guard_job) on the pool. */
struct check {
	struct guard_job *job;       /* first: the pool's run function takes
	                                the check and runs only this */
	xmpp_stanza_t *stanza;       /* a copy of the request */
	const struct ext *ext;
	enum ext_kind kind;
	char *id;                    /* the reply's id */
	uint64_t arrival_ns;
	int abandoned;               /* the link went away: answer nothing */
	struct dispatch *owner;      /* answers it (the link it came on) */
	struct check *prev, *next;   /* the live ones (dispatch.checks) */
};

/* An admin command whose action (reload, restart, stop) the loop runs;
 * one at a time. */
struct waiting_action {
	xmpp_stanza_t *stanza;       /* a copy of the request; NULL: none */
	const struct ext *ext;
	char *id;
	uint64_t arrival_ns;
};

struct dispatch {
	xmpp_ctx_t *ctx;
	const struct config *cfg;
	struct metrics *metrics;
	dispatch_send_fn send;
	void *send_arg;
	const struct ext *slots[NSLOTS];
	uint32_t id_prefix;
	unsigned long id_next;
	struct dispatch *lead; /* owns guard and pool: itself, or the first
	                          of dispatch_new_beside() */
	struct guard *guard;   /* rate and access state; survives reloads */
	struct drop_log drops[DROP_KINDS];
	struct workpool *pool; /* password hashes; started at the first one */
	struct check *checks;  /* submitted, not finished, not abandoned */
	size_t pending;        /* how many */
	size_t pending_all;    /* lead: of every dispatcher beside it too */
	unsigned long queue_refused;  /* lead: checks refused, pool full */
	struct ext_runtime rt;        /* what commands see (arg: this) */
	struct dispatch_admin admin;  /* the loop's side; act NULL: none */
	struct waiting_action action;
	unsigned long requests, refused;  /* since start, for status */
	struct loop_io *io;           /* the pool's fd (dispatch_watch) */
	struct loop_hook *prepare;
	struct skip_slot skips[SKIP_SLOTS];
	uint8_t skip_key[16];         /* keys the senders' slots (hash.h) */
	unsigned long skips_quiet;    /* log lines held back since the last */
	unsigned long shed;           /* requests answered while stalled */
	uint64_t shed_logged;         /* when that was last logged */
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

static void rt_status(const struct ext_runtime *rt, struct ext_status *out)
{
	struct dispatch *d = rt->arg;

	out->link_up_s = -1;
	if (d->admin.status != NULL)
		d->admin.status(d->admin.arg, out);
	out->requests = d->requests;
	out->refused = d->refused;
	out->pending = d->pending;
}

static int rt_forgive(const struct ext_runtime *rt, const char *bare)
{
	struct dispatch *d = rt->arg;

	return guard_forgive(d->guard, bare);
}

/* What every dispatcher has of its own: the registry's hash table, its
 * ids, its keys. */
static void setup(struct dispatch *d)
{
	const struct ext *const *registry;
	size_t i, n;

	hash_random_key(d->skip_key);
	d->rt.status = rt_status;
	d->rt.forgive = rt_forgive;
	d->rt.arg = d;
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
}

struct dispatch *dispatch_new(xmpp_ctx_t *ctx, const struct config *cfg,
			      struct metrics *metrics, dispatch_send_fn send,
			      void *arg)
{
	struct dispatch *d = calloc(1, sizeof(*d));

	if (d == NULL)
		return NULL;
	d->ctx = ctx;
	d->cfg = cfg;
	d->metrics = metrics;
	d->send = send;
	d->send_arg = arg;
	d->lead = d;
	d->guard = guard_new(cfg->limit_senders);
	if (d->guard == NULL) {
		free(d);
		return NULL;
	}
	setup(d);
	return d;
}

struct dispatch *dispatch_new_beside(struct dispatch *first,
				     dispatch_send_fn send, void *arg)
{
	struct dispatch *d = calloc(1, sizeof(*d));

	if (d == NULL)
		return NULL;
	d->ctx = first->ctx;
	d->cfg = first->cfg;
	d->metrics = first->metrics;
	d->send = send;
	d->send_arg = arg;
	d->lead = first->lead;
	d->guard = d->lead->guard;
	setup(d);
	return d;
}

static void check_free(struct check *c)
{
	if (c->stanza != NULL)
		xmpp_stanza_release(c->stanza);
	free(c->id);
	free(c);
}

/* What a worker runs: the hash alone. */
static void run_check(void *arg)
{
	struct check *c = arg;

	guard_job_run(c->job);
}

static void discard_check(void *job, void *guard)
{
	struct check *c = job;

	guard_job_cancel(guard, c->job);
	check_free(c);
}

static void action_clear(struct waiting_action *a)
{
	if (a->stanza != NULL)
		xmpp_stanza_release(a->stanza);
	free(a->id);
	memset(a, 0, sizeof(*a));
}

void dispatch_free(struct dispatch *d)
{
	if (d == NULL)
		return;
	loop_hook_del(d->prepare);
	loop_io_del(d->io);
	if (d->lead != d) {
		/* Its checks stay in the lead's pool, abandoned: dropped
		 * there once their hashes end. */
		dispatch_abandon(d, 0);
		free(d);
		return;
	}
	action_clear(&d->action);
	/* Joins the worker first: a hash in progress finishes. */
	workpool_free(d->pool, discard_check, d->guard);
	guard_free(d->guard);
	free(d);
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
	if (r == DISPATCH_ERROR_SENT) {
		d->refused++;
		metrics_error_sent(d->metrics, cond);
	}
	return r;
}

/* EXT asked the loop for ACTION before it answers STANZA: keep a copy
 * and tell the loop; dispatch_action_done() answers. */
static enum dispatch_result wait_action(struct dispatch *d, const struct ext *ext,
					xmpp_stanza_t *stanza, const char *id,
					enum ext_action action)
{
	struct waiting_action *a = &d->action;

	if (d->admin.act == NULL)
		return send_error(d, stanza, STANZA_COND_SERVICE_UNAVAILABLE,
				  "this process cannot do that");
	if (a->stanza != NULL)
		return send_error(d, stanza, STANZA_COND_RESOURCE_CONSTRAINT,
				  "another command's action is under way; "
				  "retry when it is answered");
	if ((a->stanza = xmpp_stanza_copy(stanza)) == NULL ||
	    (a->id = strdup(id)) == NULL) {
		action_clear(a);
		return send_error(d, stanza, STANZA_COND_RESOURCE_CONSTRAINT,
				  "out of memory");
	}
	a->ext = ext;
	a->arrival_ns = util_now_ns();
	d->admin.act(d->admin.arg, action);
	return DISPATCH_PENDING;
}

/* Run EXT on PAYLOAD (the guard said yes) and send the result as an IQ
 * result with ID, or the error it chose as an error reply to STANZA. */
static enum dispatch_result serve(struct dispatch *d, const struct ext *ext,
				  xmpp_stanza_t *stanza, xmpp_stanza_t *payload,
				  enum ext_kind kind, const char *id)
{
	struct ext_request req = {
		.ctx = d->ctx, .stanza = stanza, .payload = payload,
		.kind = kind, .cfg = d->cfg, .clock = wall_clock, .rt = &d->rt,
	};
	struct ext_reply reply = { NULL, STANZA_COND_NONE, NULL, EXT_ACTION_NONE };
	/* A message's reply echoes its body too: measure all of it. */
	xmpp_stanza_t *measured = kind == EXT_MESSAGE ? stanza : payload;

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
	if (reply.action != EXT_ACTION_NONE) {
		if (reply.payload != NULL)
			xmpp_stanza_release(reply.payload);
		return wait_action(d, ext, stanza, id, reply.action);
	}
	return send_reply(d, stanza_iq_result(d->ctx, id, xmpp_stanza_get_to(stanza),
					       xmpp_stanza_get_from(stanza),
					       reply.payload),
			  DISPATCH_REPLIED);
}

/* Tell the metrics what the password checks look like now. */
static void count_checks(struct dispatch *d)
{
	struct guard_stats st;

	if (d->metrics == NULL)
		return;
	guard_stats(d->guard, &st);
	metrics_password(d->metrics, st.backoff_refused, d->lead->queue_refused,
			 d->lead->pending_all, st.rules_backing_off);
}

/* Hand JOB (for STANZA, to be served by EXT) to the worker; the answer
 * comes from dispatch_complete(). */
static enum dispatch_result defer(struct dispatch *d, const struct ext *ext,
				  xmpp_stanza_t *stanza, enum ext_kind kind,
				  const char *id, struct guard_job *job)
{
	struct check *c = calloc(1, sizeof(*c));
	struct dispatch *g = d->lead;

	if (c == NULL || (c->stanza = xmpp_stanza_copy(stanza)) == NULL ||
	    (c->id = strdup(id)) == NULL)
		goto nomem;
	c->owner = d;
	c->job = job;
	c->ext = ext;
	c->kind = kind;
	c->arrival_ns = util_now_ns();
	if (g->pool == NULL &&
	    (g->pool = workpool_new(HASH_THREADS, CHECKS_MAX, run_check)) == NULL)
		goto nomem;
	if (workpool_submit(g->pool, c) != 0) {
		guard_job_cancel(d->guard, job);
		check_free(c);
		g->queue_refused++;
		count_checks(d);
		return send_error(d, stanza, STANZA_COND_RESOURCE_CONSTRAINT,
				  "too many password checks are waiting; "
				  "retry later");
	}
	c->next = d->checks;
	if (d->checks != NULL)
		d->checks->prev = c;
	d->checks = c;
	d->pending++;
	g->pending_all++;
	count_checks(d);
	return DISPATCH_PENDING;
nomem:
	guard_job_cancel(d->guard, job);
	if (c != NULL)
		check_free(c);
	return send_error(d, stanza, STANZA_COND_RESOURCE_CONSTRAINT,
			  "out of memory");
}

/* The guard first (a refusal is the cheapest answer, and a password that
 * needs a hash waits for it off the loop), then EXT. */
static enum dispatch_result run_ext(struct dispatch *d, const struct ext *ext,
				    xmpp_stanza_t *stanza, xmpp_stanza_t *payload,
				    enum ext_kind kind, const char *id)
{
	struct guard_job *job;
	const char *why, *password = ext->guarded ?
		xmpp_stanza_get_attribute(payload, EXT_PASSWORD_ATTR) : NULL;
	enum stanza_cond verdict;

	verdict = guard_check(d->guard, d->cfg, xmpp_stanza_get_from(stanza),
			      ext->guarded, password, now_s(), &why, &job);
	if (password != NULL)
		count_checks(d);
	if (verdict != STANZA_COND_NONE)
		return send_error(d, stanza, verdict, why);
	if (job != NULL)
		return defer(d, ext, stanza, kind, id, job);
	return serve(d, ext, stanza, payload, kind, id);
}

static void unlink_check(struct dispatch *d, struct check *c)
{
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		d->checks = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
	d->pending--;
	d->lead->pending_all--;
}

/* The payload EXT serves in C's copy of the request. */
static xmpp_stanza_t *payload_of(const struct check *c)
{
	if (c->kind != EXT_MESSAGE)
		return stanza_first_element(c->stanza);
	/* on_message() served the first child EXT handles. */
	return xmpp_stanza_get_child_by_name_and_ns(c->stanza, c->ext->name,
						    c->ext->ns);
}

int dispatch_fd(const struct dispatch *d)
{
	return d->lead->pool != NULL ? workpool_fd(d->lead->pool) : -1;
}

size_t dispatch_pending(const struct dispatch *d)
{
	return d->pending;
}

void dispatch_complete(struct dispatch *lead)
{
	struct check *c;
	struct dispatch *d;

	lead = lead->lead;
	if (lead->pool == NULL)
		return;
	while ((c = workpool_take(lead->pool)) != NULL) {
		const char *why;
		enum stanza_cond verdict;
		enum dispatch_result r;
		xmpp_stanza_t *payload;

		if (c->abandoned) {
			guard_job_cancel(lead->guard, c->job);
			check_free(c);
			continue;
		}
		/* Answered on the link it came on. */
		d = c->owner;
		unlink_check(d, c);
		verdict = guard_job_finish(d->guard, d->cfg, c->job, now_s(), &why);
		payload = payload_of(c);
		if (verdict != STANZA_COND_NONE)
			r = send_error(d, c->stanza, verdict, why);
		else if (payload == NULL)
			r = send_error(d, c->stanza, STANZA_COND_INTERNAL_SERVER_ERROR,
				       NULL);
		else
			r = serve(d, c->ext, c->stanza, payload, c->kind, c->id);
		if (r == DISPATCH_NOMEM)
			metrics_drop(d->metrics, METRICS_DROP_NO_MEMORY);
		else if (r != DISPATCH_PENDING)
			metrics_answered(d->metrics, xmpp_stanza_get_name(c->stanza),
					 c->arrival_ns);
		check_free(c);
	}
	count_checks(lead);
}

void dispatch_abandon(struct dispatch *d, int answer)
{
	struct check *c;

	if (d == NULL)
		return;
	/* The worker still has them: each is dropped once its hash ends. */
	while ((c = d->checks) != NULL) {
		if (answer)
			send_error(d, c->stanza, STANZA_COND_RESOURCE_CONSTRAINT,
				   "the service is stopping; retry later");
		unlink_check(d, c);
		c->abandoned = 1;
	}
	count_checks(d);
	/* A command waiting for its action ends with its stream: its answer
	 * must not open the next one. */
	if (d->action.stanza != NULL) {
		if (answer)
			send_error(d, d->action.stanza,
				   STANZA_COND_RESOURCE_CONSTRAINT,
				   "the service is stopping; its action may or "
				   "may not have run (see the log)");
		action_clear(&d->action);
	}
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

void dispatch_set_admin(struct dispatch *d, const struct dispatch_admin *admin)
{
	if (admin != NULL)
		d->admin = *admin;
	else
		memset(&d->admin, 0, sizeof(d->admin));
}

int dispatch_action_waiting(const struct dispatch *d)
{
	return d->action.stanza != NULL;
}

void dispatch_action_done(struct dispatch *d, int ok, const char *outcome)
{
	struct waiting_action *a = &d->action;
	struct ext_request req = {
		.ctx = d->ctx, .stanza = a->stanza, .kind = EXT_IQ_SET,
		.cfg = d->cfg, .clock = wall_clock, .rt = &d->rt,
		.outcome = outcome, .outcome_ok = ok,
	};
	struct ext_reply reply = { NULL, STANZA_COND_NONE, NULL, EXT_ACTION_NONE };
	enum dispatch_result r;

	if (a->stanza == NULL)
		return;
	req.payload = stanza_first_element(a->stanza);
	if (a->ext->handle(&req, &reply) != 0) {
		log_error("out of memory in the %s handler; answer dropped",
			  a->ext->ns);
		r = DISPATCH_NOMEM;
	} else if (reply.cond != STANZA_COND_NONE || reply.action != EXT_ACTION_NONE) {
		if (reply.payload != NULL)
			xmpp_stanza_release(reply.payload);
		r = send_error(d, a->stanza, reply.cond != STANZA_COND_NONE ?
			       reply.cond : STANZA_COND_INTERNAL_SERVER_ERROR,
			       reply.text);
	} else {
		r = send_reply(d, stanza_iq_result(d->ctx, a->id,
						   xmpp_stanza_get_to(a->stanza),
						   xmpp_stanza_get_from(a->stanza),
						   reply.payload),
			       DISPATCH_REPLIED);
	}
	if (r == DISPATCH_NOMEM)
		metrics_drop(d->metrics, METRICS_DROP_NO_MEMORY);
	else
		metrics_answered(d->metrics, "iq", a->arrival_ns);
	action_clear(a);
}

enum dispatch_result dispatch_stanza(struct dispatch *d, xmpp_stanza_t *stanza)
{
	enum dispatch_result r;

	d->requests++;
	metrics_arrival(d->metrics);
	r = decide(d, stanza);
	if (r == DISPATCH_NOMEM)
		metrics_drop(d->metrics, METRICS_DROP_NO_MEMORY);
	/* A pending one is counted as answered by dispatch_complete(). */
	metrics_stanza(d->metrics, xmpp_stanza_get_name(stanza),
		       r == DISPATCH_REPLIED || r == DISPATCH_ERROR_SENT);
	return r;
}

/* ---- the loop ---------------------------------------------------------- */

static void on_pool_ready(void *arg, int fd, short revents)
{
	(void)fd;
	(void)revents;
	dispatch_complete(arg);
}

/* The pool starts at the first hash: watch its fd once there is one. */
static void on_prepare(void *arg)
{
	struct dispatch *d = arg;

	loop_io_set(d->io, dispatch_fd(d), POLLIN);
}

int dispatch_watch(struct dispatch *d, struct loop *loop)
{
	/* The lead's watch serves the pool they share. */
	if (d->lead != d)
		return 0;
	d->io = loop_io_add(loop, -1, 0, on_pool_ready, d);
	d->prepare = loop_hook_add(loop, on_prepare, d);
	if (d->io == NULL || d->prepare == NULL) {
		loop_hook_del(d->prepare);
		loop_io_del(d->io);
		d->io = NULL;
		d->prepare = NULL;
		return -1;
	}
	return 0;
}

/* ---- above the link (link.h) ------------------------------------------- */

/* Log at most one line per sender per minute: a fixed table indexed by a
 * hash of the sender, so a flood of senders costs no memory. */
static int skip_log_allowed(struct dispatch *d, const char *from, uint64_t now)
{
	uint64_t h = hash_sip(d->skip_key, from ? from : "",
			      from ? strlen(from) : 0);
	struct skip_slot *slot;

	slot = &d->skips[h % SKIP_SLOTS];
	if (slot->at != 0 && slot->hash == h && now - slot->at < SKIP_LOG_MS) {
		d->skips_quiet++;
		return 0;
	}
	slot->hash = h;
	slot->at = now;
	return 1;
}

/* Answer a request we will not serve with COND and TEXT, from what its top
 * element says (the rest of it is not copied). Only iq get/set and
 * non-error messages from a valid JID to our domain get an answer.
 * Returns 1 when one was sent. */
static int answer_error(struct dispatch *d, const char *name, const char *type,
			const char *id, const char *from, const char *to,
			enum stanza_cond cond, const char *text)
{
	xmpp_stanza_t *req, *reply = NULL;
	int answer = 0;

	if (from && *from && id && *id && to &&
	    jid_domain_is(to, d->cfg->domain) &&
	    jid_split(from, NULL, NULL, NULL, NULL, NULL, NULL) == 0) {
		if (util_streq(name, "iq"))
			answer = util_streq(type, "get") || util_streq(type, "set");
		else if (util_streq(name, "message"))
			answer = !util_streq(type, "error");
	}
	if (!answer)
		return 0;
	req = xmpp_stanza_new(d->ctx);
	if (req != NULL && xmpp_stanza_set_name(req, name) == XMPP_EOK &&
	    xmpp_stanza_set_attribute(req, "from", from) == XMPP_EOK &&
	    xmpp_stanza_set_attribute(req, "id", id) == XMPP_EOK)
		reply = stanza_error_reply(d->ctx, req, to, cond, text);
	if (reply != NULL) {
		d->send(reply, d->send_arg);
		xmpp_stanza_release(reply);
		metrics_error_sent(d->metrics, cond);
	}
	if (req != NULL)
		xmpp_stanza_release(req);
	return reply != NULL;
}

/* A stanza the parser skipped: policy-violation, from its tag alone. */
static void on_skipped(struct dispatch *d, const struct xmlstream_skipped *s)
{
	int answer;
	char text[200];
	int reserved = s->limit != NULL &&
		       strcmp(s->limit, "reserved namespace") == 0;

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
	answer = answer_error(d, s->name, s->type, s->id, s->from, s->to,
			      STANZA_COND_POLICY_VIOLATION, text);
	if (skip_log_allowed(d, s->from, util_now_ms())) {
		char name[64], from[300];

		log_warn("skipped a <%s> from %s %s %s (%s)%s",
			 log_escape(name, sizeof(name), s->name),
			 log_escape(from, sizeof(from), s->from),
			 s->forged ? "with forged or clashing" :
			 reserved ? "with a" : "over the limit on",
			 s->limit ? s->limit : "stanza size",
			 answer ? "answered policy-violation" :
			 "nothing to answer: no from, id or answerable type",
			 d->skips_quiet ? "; more such lines held back" : "");
		d->skips_quiet = 0;
	}
}

/* The link is stalled (link_input.stalled): answer ST with a short error
 * instead of serving it, and say so once a minute. */
static void shed(struct dispatch *d, xmpp_stanza_t *st,
		 const struct link_input *in)
{
	uint64_t now = util_now_ms();

	if (answer_error(d, xmpp_stanza_get_name(st), xmpp_stanza_get_type(st),
			 xmpp_stanza_get_id(st), xmpp_stanza_get_from(st),
			 xmpp_stanza_get_to(st), STANZA_COND_RESOURCE_CONSTRAINT,
			 "the server is not taking this service's replies; "
			 "try again later"))
		d->shed++;
	if (d->shed > 0 && (d->shed_logged == 0 ||
			    now - d->shed_logged >= SKIP_LOG_MS)) {
		log_warn("%s has taken none of our %zu bytes of replies for %u ms "
			 "while we held back its requests (it may itself be "
			 "waiting for us to read): reading on and answering "
			 "resource-constraint; %lu request(s) so far",
			 in->server, in->queued, in->stalled_ms, d->shed);
		d->shed_logged = now;
	}
}

static void link_input(void *arg, const struct link_input *in)
{
	struct dispatch *d = arg;

	if (in->skipped != NULL)
		on_skipped(d, in->skipped);
	else if (in->stalled)
		shed(d, in->stanza, in);
	else
		dispatch_stanza(d, in->stanza);
}

static void link_ended(void *arg, int answer)
{
	dispatch_abandon(arg, answer);
}

static int link_owes(void *arg)
{
	struct dispatch *d = arg;

	return dispatch_pending(d) != 0 || dispatch_action_waiting(d);
}

void dispatch_link_upper(struct dispatch *d, struct link_upper *out)
{
	out->input = link_input;
	out->ended = link_ended;
	out->owes = link_owes;
	out->arg = d;
}
