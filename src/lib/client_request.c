/* SPDX-License-Identifier: MIT */
/* client_request.c: build ope-client's request stanzas with libstrophe's stanza API. */
#include <string.h>

#include "client_request.h"

/* A child element NAME in namespace NS added to PARENT (which then owns
 * it); NULL when out of memory. */
static xmpp_stanza_t *add_element(xmpp_ctx_t *ctx, xmpp_stanza_t *parent,
				  const char *name, const char *ns)
{
	xmpp_stanza_t *child = xmpp_stanza_new(ctx);

	if (child == NULL)
		return NULL;
	if (xmpp_stanza_set_name(child, name) != XMPP_EOK ||
	    (ns != NULL && xmpp_stanza_set_ns(child, ns) != XMPP_EOK) ||
	    xmpp_stanza_add_child_ex(parent, child, 0) != XMPP_EOK) {
		xmpp_stanza_release(child);
		return NULL;
	}
	return child;
}

static int add_text(xmpp_ctx_t *ctx, xmpp_stanza_t *parent, const char *text)
{
	xmpp_stanza_t *node;

	if (text[0] == '\0')
		return 0;
	node = xmpp_stanza_new(ctx);
	if (node == NULL)
		return -1;
	if (xmpp_stanza_set_text(node, text) != XMPP_EOK ||
	    xmpp_stanza_add_child_ex(parent, node, 0) != XMPP_EOK) {
		xmpp_stanza_release(node);
		return -1;
	}
	return 0;
}

static xmpp_stanza_t *example_tag(xmpp_ctx_t *ctx, xmpp_stanza_t *parent,
				  const struct client_opts *o)
{
	xmpp_stanza_t *tag = add_element(ctx, parent, "example_tag",
					 CLIENT_NS_EXAMPLE);

	if (tag == NULL ||
	    xmpp_stanza_set_attribute(tag, "another", o->another) != XMPP_EOK ||
	    xmpp_stanza_set_attribute(tag, "data", o->data) != XMPP_EOK)
		return NULL;
	return tag;
}

static const char *query_ns(enum client_mode mode)
{
	switch (mode) {
	case CLIENT_MODE_DISCO: return CLIENT_NS_DISCO_INFO;
	case CLIENT_MODE_VERSION: return CLIENT_NS_VERSION;
	default: return NULL;
	}
}

xmpp_stanza_t *client_request_new(xmpp_ctx_t *ctx, const struct client_opts *o)
{
	xmpp_stanza_t *st, *tag, *body;

	if (o->mode == CLIENT_MODE_MESSAGE) {
		st = xmpp_message_new(ctx, "chat", o->to, NULL);
		if (st == NULL)
			return NULL;
		/* The tutorial's order: example_tag first, then body. */
		if (example_tag(ctx, st, o) == NULL)
			goto fail;
		body = add_element(ctx, st, "body", NULL);
		if (body == NULL || add_text(ctx, body, o->body) < 0)
			goto fail;
		return st;
	}
	st = xmpp_iq_new(ctx, "get", NULL);
	if (st == NULL)
		return NULL;
	if (xmpp_stanza_set_to(st, o->to) != XMPP_EOK)
		goto fail;
	switch (o->mode) {
	case CLIENT_MODE_IQ:
		tag = example_tag(ctx, st, o);
		if (tag == NULL || add_text(ctx, tag, o->body) < 0)
			goto fail;
		break;
	case CLIENT_MODE_PING:
		if (add_element(ctx, st, "ping", CLIENT_NS_PING) == NULL)
			goto fail;
		break;
	default:
		if (add_element(ctx, st, "query", query_ns(o->mode)) == NULL)
			goto fail;
		break;
	}
	return st;
fail:
	xmpp_stanza_release(st);
	return NULL;
}

xmpp_stanza_t *client_request_roster(xmpp_ctx_t *ctx, const char *id)
{
	xmpp_stanza_t *iq = xmpp_iq_new(ctx, "get", id);

	if (iq == NULL)
		return NULL;
	if (add_element(ctx, iq, "query", CLIENT_NS_ROSTER) == NULL) {
		xmpp_stanza_release(iq);
		return NULL;
	}
	return iq;
}
