/* SPDX-License-Identifier: MIT */
/* check.c: judge replies to ope-client's requests and parse stanza errors. */
#include <string.h>

#include "check.h"
#include "ns.h"
#include "request.h"
#include "util.h"

int client_check_error(xmpp_stanza_t *stanza, struct client_error *e)
{
	xmpp_stanza_t *err, *child;

	memset(e, 0, sizeof(*e));
	err = xmpp_stanza_get_child_by_name(stanza, "error");
	if (err == NULL)
		return -1;
	e->type = xmpp_stanza_get_type(err);
	for (child = xmpp_stanza_get_children(err); child != NULL;
	     child = xmpp_stanza_get_next(child)) {
		const char *name = xmpp_stanza_get_name(child);
		const char *ns = xmpp_stanza_get_ns(child);

		if (xmpp_stanza_is_text(child) || name == NULL)
			continue;
		if (!util_streq(ns, XMPP_NS_STANZAS_IETF)) {
			if (e->app_condition == NULL)
				e->app_condition = name;
		} else if (strcmp(name, "text") == 0) {
			xmpp_stanza_t *t = xmpp_stanza_get_children(child);

			if (t != NULL && xmpp_stanza_is_text(t))
				e->text = xmpp_stanza_get_text_ptr(t);
		} else if (e->condition == NULL) {
			e->condition = name;
		}
	}
	return 0;
}

const char *client_check_text(xmpp_stanza_t *elem, char **owned)
{
	xmpp_stanza_t *child, *only = NULL;
	int ntext = 0;
	char *joined;

	*owned = NULL;
	for (child = xmpp_stanza_get_children(elem); child != NULL;
	     child = xmpp_stanza_get_next(child)) {
		if (xmpp_stanza_is_text(child)) {
			only = child;
			ntext++;
		}
	}
	if (ntext == 0)
		return "";
	/* The usual case: one text node, no copy. */
	if (ntext == 1)
		return xmpp_stanza_get_text_ptr(only);
	joined = xmpp_stanza_get_text(elem);
	if (joined == NULL)
		return NULL;
	*owned = joined;
	return joined;
}

static enum client_outcome mismatch(struct client_check *res, const char *field,
				    const char *expected, const char *got)
{
	res->outcome = CLIENT_REPLY_MISMATCH;
	res->field = field;
	res->expected = expected;
	res->got = got;
	return res->outcome;
}

static enum client_outcome check_example(xmpp_stanza_t *reply,
					 const struct client_opts *o,
					 struct client_check *res)
{
	xmpp_stanza_t *tag;
	const char *v;

	tag = xmpp_stanza_get_child_by_name_and_ns(reply, "example_tag",
						   NS_EXAMPLE);
	if (tag == NULL)
		return mismatch(res, "example_tag", NULL, NULL);
	v = xmpp_stanza_get_attribute(tag, "another");
	if (!util_streq(v, o->another))
		return mismatch(res, "another", o->another, v);
	v = xmpp_stanza_get_attribute(tag, "data");
	if (!util_streq(v, o->data))
		return mismatch(res, "data", o->data, v);
	v = client_check_text(tag, &res->owned);
	if (v == NULL) {
		res->outcome = CLIENT_REPLY_NOMEM;
		return res->outcome;
	}
	if (strcmp(v, o->body) != 0)
		return mismatch(res, "text", o->body, v);
	res->outcome = CLIENT_REPLY_OK;
	return res->outcome;
}

/* An ad-hoc command's answer: completed, without an error note. */
static enum client_outcome check_command(xmpp_stanza_t *reply,
					 struct client_check *res)
{
	xmpp_stanza_t *cmd, *note;
	const char *status;

	cmd = xmpp_stanza_get_child_by_name_and_ns(reply, "command", NS_COMMANDS);
	if (cmd == NULL)
		return mismatch(res, "command", NULL, NULL);
	status = xmpp_stanza_get_attribute(cmd, "status");
	if (!util_streq(status, "completed"))
		return mismatch(res, "status", "completed", status);
	for (note = xmpp_stanza_get_children(cmd); note;
	     note = xmpp_stanza_get_next(note)) {
		const char *text;

		if (!xmpp_stanza_is_tag(note) ||
		    !util_streq(xmpp_stanza_get_name(note), "note") ||
		    !util_streq(xmpp_stanza_get_type(note), "error"))
			continue;
		text = client_check_text(note, &res->owned);
		if (text == NULL) {
			res->outcome = CLIENT_REPLY_NOMEM;
			return res->outcome;
		}
		return mismatch(res, "note", NULL, text);
	}
	res->outcome = CLIENT_REPLY_OK;
	return res->outcome;
}

enum client_outcome client_check_reply(xmpp_ctx_t *ctx, xmpp_stanza_t *reply,
				       const struct client_opts *o,
				       struct client_check *res)
{
	const char *name = xmpp_stanza_get_name(reply);
	const char *type = xmpp_stanza_get_type(reply);

	memset(res, 0, sizeof(*res));
	res->ctx = ctx;
	res->outcome = CLIENT_REPLY_NONE;
	if (util_streq(type, "error")) {
		if (!util_streq(name, "iq") && !util_streq(name, "message"))
			return res->outcome;
		client_check_error(reply, &res->error);
		res->outcome = CLIENT_REPLY_ERROR;
		return res->outcome;
	}
	if (!util_streq(name, "iq") || !util_streq(type, "result"))
		return res->outcome;
	switch (o->mode) {
	case CLIENT_MODE_MESSAGE:
	case CLIENT_MODE_IQ:
		return check_example(reply, o, res);
	case CLIENT_MODE_DISCO:
	case CLIENT_MODE_VERSION:
		if (xmpp_stanza_get_child_by_name_and_ns(reply, "query",
			o->mode == CLIENT_MODE_DISCO ? XMPP_NS_DISCO_INFO :
			NS_VERSION) == NULL)
			return mismatch(res, "query", NULL, NULL);
		break;
	case CLIENT_MODE_TIME:
		if (xmpp_stanza_get_child_by_name_and_ns(reply, "time",
							 NS_TIME) == NULL)
			return mismatch(res, "time", NULL, NULL);
		break;
	case CLIENT_MODE_COMMAND:
		return check_command(reply, res);
	case CLIENT_MODE_PING:
		break;
	}
	res->outcome = CLIENT_REPLY_OK;
	return res->outcome;
}

void client_check_clear(struct client_check *res)
{
	if (res->owned != NULL)
		xmpp_free(res->ctx, res->owned);
	res->owned = NULL;
}
