/* SPDX-License-Identifier: MIT */
/* drain.c: the drain state machine: unroute IQ, its answer or a time-out, then close once no request came for the quiet period. */
#include "drain.h"

#include <stdio.h>
#include <string.h>

void drain_init(struct drain *d, const struct drain_opts *opts)
{
	memset(d, 0, sizeof(*d));
	d->opts = *opts;
	d->phase = DRAIN_IDLE;
}

const char *drain_server_of(const char *domain)
{
	const char *dot = strchr(domain, '.');

	return dot != NULL && dot[1] != '\0' ? dot + 1 : domain;
}

/* Domains come from the checked configuration; refuse anything that
 * would need escaping rather than escape it. */
static int plain_attr(const char *s)
{
	return s[0] != '\0' && strpbrk(s, "'\"<>&") == NULL;
}

int drain_start(struct drain *d, const char *domain, const char *server,
		uint64_t now_ms, char *buf, size_t len)
{
	int n;

	if (!plain_attr(domain) || !plain_attr(server))
		return -1;
	snprintf(d->id, sizeof(d->id), "drain-%llu",
		 (unsigned long long)now_ms);
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
		    const char *id, uint64_t now_ms)
{
	if (d->phase == DRAIN_IDLE)
		return 0;
	if (name != NULL && strcmp(name, "iq") == 0 && id != NULL &&
	    strcmp(id, d->id) == 0 && type != NULL &&
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
