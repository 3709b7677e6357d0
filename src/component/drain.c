/* SPDX-License-Identifier: MIT */
/* drain.c: the drain state machine: unroute IQ, its answer or a time-out, then close once no request came for the quiet period. */
#include "drain.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "jid.h"
#include "link.h"
#include "util.h"

void drain_init(struct drain *d, const struct drain_opts *opts)
{
	struct link *l = d->link;

	memset(d, 0, sizeof(*d));
	d->link = l;
	d->opts = *opts;
	d->phase = DRAIN_IDLE;
}

/* Domains come from the checked configuration; refuse anything that
 * would need escaping rather than escape it. */
static int plain_attr(const char *s)
{
	return s[0] != '\0' && strpbrk(s, "'\"<>&") == NULL;
}

/* D->id: "drain-" and 128 random bits in hex. Any user can send the
 * component an IQ result with any id (the server only stamps its from):
 * an id nobody can guess, and the from, tell the real answer. 0 or -1
 * (no random bytes: better no drain than a guessable id). */
static int random_id(struct drain *d)
{
	unsigned char r[16];
	size_t i;

	if (getrandom(r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
		return -1;
	memcpy(d->id, "drain-", 6);
	for (i = 0; i < sizeof(r); i++)
		snprintf(d->id + 6 + 2 * i, 3, "%02x", r[i]);
	return 0;
}

int drain_start(struct drain *d, const char *domain, const char *server,
		uint64_t now_ms, char *buf, size_t len)
{
	int n;

	if (!plain_attr(domain) || !plain_attr(server) ||
	    strlen(server) >= sizeof(d->server) || random_id(d) < 0)
		return -1;
	strcpy(d->server, server);
	n = snprintf(buf, len,
		     "<iq type='set' id='%s' from='%s' to='%s'>"
		     "<unroute xmlns='" DRAIN_NS "'/></iq>",
		     d->id, domain, server);
	if (n < 0 || (size_t)n >= len)
		return -1;
	d->phase = DRAIN_ASKED;
	d->started_ms = now_ms;
	d->last_request_ms = now_ms;
	d->answer_was_error = 0;
	return n;
}

int drain_on_stanza(struct drain *d, const char *name, const char *type,
		    const char *id, const char *from, uint64_t now_ms)
{
	if (d->phase == DRAIN_IDLE)
		return 0;
	/* Domains compare without case (ASCII: the configured ones). */
	if (name != NULL && strcmp(name, "iq") == 0 && id != NULL &&
	    strcmp(id, d->id) == 0 && from != NULL &&
	    strcasecmp(from, d->server) == 0 && type != NULL &&
	    (strcmp(type, "result") == 0 || strcmp(type, "error") == 0)) {
		if (d->phase == DRAIN_ASKED) {
			if (strcmp(type, "result") == 0) {
				d->phase = DRAIN_UNROUTED;
				/* Stanzas routed just before the unroute
				 * may still be on the wire. */
				d->last_request_ms = now_ms;
			} else {
				d->phase = DRAIN_FALLBACK;
				d->answer_was_error = 1;
			}
		}
		return 1;
	}
	d->last_request_ms = now_ms;
	return 0;
}

enum drain_action drain_poll(struct drain *d, uint64_t now_ms,
			     unsigned *wait_ms)
{
	uint64_t due, t;

	switch (d->phase) {
	case DRAIN_IDLE:
		if (wait_ms != NULL)
			*wait_ms = d->opts.quiet_ms;
		return DRAIN_WAIT;
	case DRAIN_FALLBACK:
		return DRAIN_CLOSE_FALLBACK;
	case DRAIN_ASKED:
		if (now_ms >= d->started_ms + d->opts.answer_ms) {
			d->phase = DRAIN_FALLBACK;
			return DRAIN_CLOSE_FALLBACK;
		}
		due = d->started_ms + d->opts.answer_ms;
		break;
	case DRAIN_UNROUTED:
	default:
		due = d->last_request_ms + d->opts.quiet_ms;
		t = d->started_ms + d->opts.max_ms;
		if (t < due)
			due = t;
		if (now_ms >= due)
			return DRAIN_CLOSE;
		break;
	}
	if (wait_ms != NULL)
		*wait_ms = (unsigned)(due - now_ms);
	return DRAIN_WAIT;
}

/* ---- on a live link ---------------------------------------------------- */

/* link_claim_fn: while draining, see every stanza; take the answer. Idle
 * (every stanza but during a stop), it costs one comparison. */
static int claim(void *arg, xmpp_stanza_t *st)
{
	struct drain *d = arg;

	if (d->phase == DRAIN_IDLE)
		return 0;
	return drain_on_stanza(d, xmpp_stanza_get_name(st),
			       xmpp_stanza_get_type(st), xmpp_stanza_get_id(st),
			       xmpp_stanza_get_from(st), util_now_ms());
}

int drain_attach(struct drain *d, struct link *l)
{
	d->link = l;
	return link_add_claim(l, claim, d);
}

int drain_begin(struct drain *d, const struct drain_opts *opts,
		const char *domain, uint64_t now_ms)
{
	char text[1200];

	drain_init(d, opts);
	if (d->link == NULL ||
	    drain_start(d, domain, jid_parent_domain(domain), now_ms, text,
			sizeof(text)) < 0 ||
	    link_send_raw(d->link, text) < 0) {
		drain_init(d, opts);
		return -1;
	}
	return 0;
}
