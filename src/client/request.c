/* SPDX-License-Identifier: MIT */
/* request.c: build ope-client's request stanzas with libstrophe's stanza API. */
#include <stdio.h>
#include <string.h>

#include "request.h"
#include "ns.h"
#include "stanza.h"

/* Append TEXT unless it is empty: an empty body stays an empty element. */
static int add_text(xmpp_stanza_t *parent, const char *text)
{
	return text[0] == '\0' ? 0 : stanza_add_text(parent, text);
}

static xmpp_stanza_t *example_tag(xmpp_stanza_t *parent,
				  const struct client_opts *o)
{
	xmpp_stanza_t *tag = stanza_add_element(parent, "example_tag",
					 NS_EXAMPLE);

	if (tag == NULL ||
	    xmpp_stanza_set_attribute(tag, "another", o->another) != XMPP_EOK ||
	    xmpp_stanza_set_attribute(tag, "data", o->data) != XMPP_EOK ||
	    (o->service_password != NULL &&
	     xmpp_stanza_set_attribute(tag, "password",
				       o->service_password) != XMPP_EOK))
		return NULL;
	return tag;
}

/* <command node=NODE action=execute> with the --field values as a
 * submitted data form. */
static int command(xmpp_stanza_t *iq, const struct client_opts *o)
{
	xmpp_stanza_t *cmd = stanza_add_element(iq, "command", NS_COMMANDS);
	xmpp_stanza_t *x, *f, *v;
	size_t i;

	if (cmd == NULL ||
	    xmpp_stanza_set_attribute(cmd, "node", o->command) != XMPP_EOK ||
	    xmpp_stanza_set_attribute(cmd, "action", "execute") != XMPP_EOK ||
	    (o->service_password != NULL &&
	     xmpp_stanza_set_attribute(cmd, "password",
				       o->service_password) != XMPP_EOK))
		return -1;
	if (o->nfields == 0)
		return 0;
	x = stanza_add_element(cmd, "x", NS_DATA);
	if (x == NULL || xmpp_stanza_set_attribute(x, "type", "submit") != XMPP_EOK)
		return -1;
	for (i = 0; i < o->nfields; i++) {
		const char *eq = strchr(o->fields[i], '=');
		char name[256];

		snprintf(name, sizeof(name), "%.*s", (int)(eq - o->fields[i]),
			 o->fields[i]);
		f = stanza_add_element(x, "field", NULL);
		if (f == NULL ||
		    xmpp_stanza_set_attribute(f, "var", name) != XMPP_EOK ||
		    (v = stanza_add_element(f, "value", NULL)) == NULL ||
		    add_text(v, eq + 1) < 0)
			return -1;
	}
	return 0;
}

static const char *query_ns(enum client_mode mode)
{
	switch (mode) {
	case CLIENT_MODE_DISCO: return XMPP_NS_DISCO_INFO;
	case CLIENT_MODE_VERSION: return NS_VERSION;
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
		if (example_tag(st, o) == NULL)
			goto fail;
		body = stanza_add_element(st, "body", NULL);
		if (body == NULL || add_text(body, o->body) < 0)
			goto fail;
		return st;
	}
	st = xmpp_iq_new(ctx, o->mode == CLIENT_MODE_COMMAND ? "set" : "get",
			 NULL);
	if (st == NULL)
		return NULL;
	if (xmpp_stanza_set_to(st, o->to) != XMPP_EOK)
		goto fail;
	switch (o->mode) {
	case CLIENT_MODE_IQ:
		tag = example_tag(st, o);
		if (tag == NULL || add_text(tag, o->body) < 0)
			goto fail;
		break;
	case CLIENT_MODE_PING:
		if (stanza_add_element(st, "ping", NS_PING) == NULL)
			goto fail;
		break;
	case CLIENT_MODE_TIME:
		if (stanza_add_element(st, "time", NS_TIME) == NULL)
			goto fail;
		break;
	case CLIENT_MODE_COMMAND:
		if (command(st, o) < 0)
			goto fail;
		break;
	default:
		if (stanza_add_element(st, "query", query_ns(o->mode)) == NULL)
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
	if (stanza_add_element(iq, "query", XMPP_NS_ROSTER) == NULL) {
		xmpp_stanza_release(iq);
		return NULL;
	}
	return iq;
}
