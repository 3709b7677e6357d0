/* SPDX-License-Identifier: MIT */
/* link_handover.c: the takeover's half of the link: hold the stream still at a stanza boundary, export it to a new process, release it, or adopt one. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "handover.h"
#include "link.h"
#include "link_int.h"
#include "obuf.h"
#include "util.h"
#include "xmlstream.h"

const char *link_why_not_movable(const struct link *l)
{
	if (l->stopping || l->phase == P_STOPPED)
		return "it is stopping";
	if (l->phase != P_UP)
		return NULL;
	if (l->tls != NULL)
		return "its link is direct TLS (server.tls.direct), and a TLS "
		       "session cannot move between processes; restart it "
		       "with SIGTERM instead (behind a server with "
		       "mod_ope nothing is lost)";
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
	       (l->upper.owes == NULL || !l->upper.owes(l->upper.arg));
}

/* A new parser for the stream after a pause, fed HEADER (NULL: a default
 * one). NULL with WHY set when out of memory or the header is refused. */
static struct xmlstream *parser_after_pause(struct link *l, const char *header,
					    size_t hlen, const char **why)
{
	struct xmlstream *xs = link_parser_new(l);

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
	if (l->xs != xs) {
		xmlstream_free(l->xs);
		l->xs = xs;
	}
	if (rlen == 0)
		return;
	if (rlen > IN_SIZE) {
		link_lose(l, "%zu bytes left over to continue the stream, more than "
		     "one read", rlen);
		return;
	}
	memcpy(l->in, rest, rlen);
	link_parse_input(l, rlen);
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
		link_lose(l, "cannot resume the stream: %s", why);
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
	link_close(l);
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
	/* The bytes left over are parsed once the old process let go
	 * (link_resume()): an end of stream among them must not be answered
	 * on the socket it still holds, nor start a new connection. */
	free(l->leftover);
	l->leftover = NULL;
	l->leftover_len = 0;
	if (h->unparsed_len > 0) {
		if ((l->leftover = malloc(h->unparsed_len)) == NULL) {
			xmlstream_free(xs);
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		memcpy(l->leftover, h->unparsed, h->unparsed_len);
		l->leftover_len = h->unparsed_len;
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
	l->suspended = 1;
	l->up_at = l->last_rx = util_now_ms();
	link_set_state(l, LINK_UP, "took over the link to %s as %s", l->where,
		  l->cfg->domain);
	xmlstream_free(l->xs);
	l->xs = xs;
	return 0;
}

void link_resume(struct link *l)
{
	char *rest = l->leftover;
	size_t n = l->leftover_len;

	l->suspended = 0;
	l->leftover = NULL;
	l->leftover_len = 0;
	if (rest == NULL)
		return;
	if (l->phase == P_UP)
		continue_stream(l, l->xs, rest, n);
	free(rest);
}
