/* SPDX-License-Identifier: MIT */
/* presence.c: the component's presence, as a service users can add to a roster. */
#include <string.h>

#include "presence.h"

static xmpp_stanza_t *presence_to(xmpp_ctx_t *ctx, const char *type,
				  const char *from, const char *to)
{
	xmpp_stanza_t *p = xmpp_presence_new(ctx);

	if (p == NULL)
		return NULL;
	if ((type != NULL && xmpp_stanza_set_type(p, type) != XMPP_EOK) ||
	    xmpp_stanza_set_from(p, from) != XMPP_EOK ||
	    xmpp_stanza_set_to(p, to) != XMPP_EOK) {
		xmpp_stanza_release(p);
		return NULL;
	}
	return p;
}

int presence_replies(xmpp_ctx_t *ctx, xmpp_stanza_t *request, const char *to,
		     xmpp_stanza_t *out[PRESENCE_MAX_REPLIES], size_t *n)
{
	const char *type = xmpp_stanza_get_type(request);
	const char *from = xmpp_stanza_get_from(request);
	const char *answer = NULL;
	int then_available = 0;
	char *bare = NULL, *self = NULL;

	*n = 0;
	if (type == NULL || from == NULL)
		return 0;
	if (strcmp(type, "probe") == 0) {
		out[0] = presence_to(ctx, NULL, to, from);
		if (out[0] == NULL)
			return -1;
		*n = 1;
		return 0;
	}
	if (strcmp(type, "subscribe") == 0) {
		answer = "subscribed";
		then_available = 1;
	} else if (strcmp(type, "unsubscribe") == 0) {
		answer = "unsubscribed";
	} else {
		return 0;
	}
	/* Subscription states belong to bare JIDs on both sides (RFC 6121 §3). */
	bare = xmpp_jid_bare(ctx, from);
	self = xmpp_jid_bare(ctx, to);
	if (bare == NULL || self == NULL)
		goto oom;
	out[0] = presence_to(ctx, answer, self, bare);
	if (out[0] == NULL)
		goto oom;
	*n = 1;
	if (then_available) {
		out[1] = presence_to(ctx, NULL, self, bare);
		if (out[1] == NULL)
			goto oom;
		*n = 2;
	}
	xmpp_free(ctx, bare);
	xmpp_free(ctx, self);
	return 0;
oom:
	while (*n > 0)
		xmpp_stanza_release(out[--*n]);
	if (bare != NULL)
		xmpp_free(ctx, bare);
	if (self != NULL)
		xmpp_free(ctx, self);
	return -1;
}
