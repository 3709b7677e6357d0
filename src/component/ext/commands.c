/* SPDX-License-Identifier: MIT */
/* commands.c: XEP-0050 Ad-Hoc Commands for the admins: routing by node, disco items, data-form helpers. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "config.h"
#include "ext.h"
#include "log.h"
#include "util.h"

/* Refusals of non-admins are logged at most this often. */
#define REFUSAL_LOG_MS 60000

int ext_commands_is_admin(const struct config *cfg, const char *from)
{
	char bare[ACCESS_BARE_MAX];
	size_t i;

	if (cfg->admins.n == 0 || from == NULL ||
	    access_normalise(from, bare, sizeof(bare)) < 0)
		return 0;
	for (i = 0; i < cfg->admins.n; i++)
		if (strcmp(cfg->admins.list[i], bare) == 0)
			return 1;
	return 0;
}

/* commands.admins: a list of bare JIDs, normalised as access patterns. */
static int hook_admins(struct config_loader *ld, const struct config_row *row,
		       const config_setting_t *s, struct config *cfg)
{
	struct config_admins *ad = &cfg->admins;
	char bare[ACCESS_BARE_MAX], esc[200];
	int i, n = s ? config_setting_length(s) : 0;

	(void)row;
	if (n == 0)
		return 0;
	if ((ad->list = calloc((size_t)n, sizeof(*ad->list))) == NULL)
		return config_fail(ld, s, "out of memory");
	for (i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const char *jid = config_setting_get_string(e);

		if (jid == NULL)
			return config_fail(ld, e, "commands.admins: each entry "
					   "is a bare JID in quotes, e.g. "
					   "\"admin@example.org\"");
		if (strchr(jid, '/') != NULL || strchr(jid, '*') != NULL ||
		    access_normalise(jid, bare, sizeof(bare)) < 0)
			return config_fail(ld, e, "commands.admins: '%s' is not "
					   "a bare JID (user@domain or domain, "
					   "no resource, no wildcard)",
					   log_escape(esc, sizeof(esc), jid));
		if ((ad->list[ad->n] = strdup(bare)) == NULL)
			return config_fail(ld, s, "out of memory");
		ad->n++;
	}
	return 0;
}

static void release_admins(void *field)
{
	struct config_admins *ad = field;
	size_t i;

	for (i = 0; i < ad->n; i++)
		free(ad->list[i]);
	free(ad->list);
	ad->list = NULL;
	ad->n = 0;
}

static int same_admins(const void *a, const void *b)
{
	const struct config_admins *x = a, *y = b;
	size_t i;

	if (x->n != y->n)
		return 0;
	for (i = 0; i < x->n; i++)
		if (strcmp(x->list[i], y->list[i]) != 0)
			return 0;
	return 1;
}

/* The extension's own settings: the engine merges them after the core
 * table's (config_rows()), so they parse, reload and document as any. */
static const struct config_row commands_settings[] = {
	CONFIG_ROW_CUSTOM("commands", "admins", admins, CONFIG_TYPE_LIST, NULL,
	  hook_admins, CONFIG_RELOAD,
	  "( \"admin@example.org\", ... ): the bare JIDs that may list and run "
	  "the XEP-0050 ad-hoc commands (status, reload, restart, stop, who, "
	  "forgive); empty: no command is offered to anyone",
	  .release = release_admins, .same = same_admins),
};

static const struct ext_command *command_find(const char *node)
{
	const struct ext_command *const *list;
	size_t n, i;

	list = ext_registry_commands(&n);
	for (i = 0; node != NULL && i < n; i++)
		if (strcmp(list[i]->node, node) == 0)
			return list[i];
	return NULL;
}

xmpp_stanza_t *ext_command_reply(const struct ext_request *req,
				 const char *status)
{
	const char *node = xmpp_stanza_get_attribute(req->payload, "node");
	const char *sid = xmpp_stanza_get_attribute(req->payload, "sessionid");
	xmpp_stanza_t *cmd = stanza_element(req->ctx, "command", NS_COMMANDS);

	/* ope keeps no session state: a submitted form carries all a command
	 * needs, so the request's id serves as the session's. */
	if (sid == NULL || *sid == '\0')
		sid = xmpp_stanza_get_id(req->stanza);
	if (cmd == NULL)
		return NULL;
	if ((node != NULL &&
	     xmpp_stanza_set_attribute(cmd, "node", node) != XMPP_EOK) ||
	    (sid != NULL &&
	     xmpp_stanza_set_attribute(cmd, "sessionid", sid) != XMPP_EOK) ||
	    xmpp_stanza_set_attribute(cmd, "status", status) != XMPP_EOK) {
		xmpp_stanza_release(cmd);
		return NULL;
	}
	return cmd;
}

int ext_command_note(xmpp_stanza_t *cmd, const char *type, const char *text)
{
	xmpp_stanza_t *note = stanza_add_element(cmd, "note", NULL);

	if (note == NULL || xmpp_stanza_set_attribute(note, "type", type) != XMPP_EOK)
		return -1;
	return *text != '\0' ? stanza_add_text(note, text) : 0;
}

xmpp_stanza_t *ext_form_add(xmpp_stanza_t *cmd, const char *type,
			    const char *title)
{
	xmpp_stanza_t *x = stanza_add_element(cmd, "x", NS_DATA), *t;

	if (x == NULL || xmpp_stanza_set_attribute(x, "type", type) != XMPP_EOK)
		return NULL;
	if (title != NULL &&
	    ((t = stanza_add_element(x, "title", NULL)) == NULL ||
	     stanza_add_text(t, title) != 0))
		return NULL;
	return x;
}

int ext_form_field(xmpp_stanza_t *x, const char *var, const char *type,
		   const char *label, const char *value)
{
	xmpp_stanza_t *f = stanza_add_element(x, "field", NULL), *v;

	if (f == NULL || xmpp_stanza_set_attribute(f, "var", var) != XMPP_EOK ||
	    (type != NULL &&
	     xmpp_stanza_set_attribute(f, "type", type) != XMPP_EOK) ||
	    (label != NULL &&
	     xmpp_stanza_set_attribute(f, "label", label) != XMPP_EOK))
		return -1;
	if (value == NULL)
		return 0;
	v = stanza_add_element(f, "value", NULL);
	return v != NULL && (*value == '\0' || stanza_add_text(v, value) == 0)
		? 0 : -1;
}

const char *ext_form_value(xmpp_stanza_t *form, const char *var)
{
	xmpp_stanza_t *f, *v, *t;

	if (form == NULL)
		return NULL;
	for (f = xmpp_stanza_get_children(form); f; f = xmpp_stanza_get_next(f)) {
		if (!xmpp_stanza_is_tag(f) ||
		    !util_streq(xmpp_stanza_get_name(f), "field") ||
		    !util_streq(xmpp_stanza_get_attribute(f, "var"), var))
			continue;
		v = xmpp_stanza_get_child_by_name(f, "value");
		if (v == NULL)
			return NULL;
		t = xmpp_stanza_get_children(v);
		if (t == NULL)
			return "";
		return xmpp_stanza_is_text(t) ? xmpp_stanza_get_text_ptr(t) : NULL;
	}
	return NULL;
}

int ext_command_act(const struct ext_request *req, enum ext_action action,
		    struct ext_reply *reply)
{
	xmpp_stanza_t *cmd, *x;

	if (req->outcome == NULL) {
		reply->action = action;
		return 0;
	}
	if ((cmd = ext_command_reply(req, "completed")) == NULL)
		return -1;
	if (ext_command_note(cmd, req->outcome_ok ? "info" : "error",
			     req->outcome) != 0 ||
	    (x = ext_form_add(cmd, "result", NULL)) == NULL ||
	    ext_form_field(x, "result", "text-single", "Result",
			   req->outcome_ok ? "ok" : "failed") != 0 ||
	    ext_form_field(x, "detail", "text-single", "Detail",
			   req->outcome) != 0) {
		xmpp_stanza_release(cmd);
		return -1;
	}
	reply->payload = cmd;
	return 0;
}

int ext_command_ask_jid(const struct ext_request *req, const char *title,
			struct ext_reply *reply)
{
	xmpp_stanza_t *cmd = ext_command_reply(req, "executing"), *x, *actions;

	if (cmd == NULL)
		return -1;
	if ((actions = stanza_add_element(cmd, "actions", NULL)) == NULL ||
	    xmpp_stanza_set_attribute(actions, "execute", "complete") != XMPP_EOK ||
	    stanza_add_element(actions, "complete", NULL) == NULL ||
	    (x = ext_form_add(cmd, "form", title)) == NULL ||
	    ext_form_field(x, "jid", "jid-single", "JID", NULL) != 0) {
		xmpp_stanza_release(cmd);
		return -1;
	}
	reply->payload = cmd;
	return 0;
}

/* The submitted form of a request, or NULL. */
static xmpp_stanza_t *submitted_form(xmpp_stanza_t *payload)
{
	xmpp_stanza_t *x = xmpp_stanza_get_child_by_name_and_ns(payload, "x",
								 NS_DATA);

	if (x == NULL || !util_streq(xmpp_stanza_get_attribute(x, "type"),
				     "submit"))
		return NULL;
	return x;
}

/* One line a minute for non-admins knocking, with a count of the rest. */
static void log_refused(const char *from, const char *node)
{
	static uint64_t last;
	static unsigned long quiet;
	uint64_t now = util_now_ms();
	char f[300], n[100];

	if (last != 0 && now - last < REFUSAL_LOG_MS) {
		quiet++;
		return;
	}
	log_warn("commands: %s, not an admin, asked for command %s; refused "
		 "(%lu more such in the last minute)",
		 log_escape(f, sizeof(f), from), log_escape(n, sizeof(n), node),
		 quiet);
	last = now;
	quiet = 0;
}

static int commands_handle(const struct ext_request *req, struct ext_reply *reply)
{
	const char *from = xmpp_stanza_get_from(req->stanza);
	const char *node = xmpp_stanza_get_attribute(req->payload, "node");
	const char *action = xmpp_stanza_get_attribute(req->payload, "action");
	const struct ext_command *cmd;
	char f[300], n[100];

	/* With an outcome the action ran: the sender was an admin when it
	 * asked, whatever a reload has made of commands.admins since. */
	if (req->outcome == NULL && !ext_commands_is_admin(req->cfg, from)) {
		log_refused(from, node);
		reply->cond = STANZA_COND_FORBIDDEN;
		reply->text = "ad-hoc commands are for the admins "
			      "(commands.admins) only";
		return 0;
	}
	if ((cmd = command_find(node)) == NULL) {
		reply->cond = STANZA_COND_ITEM_NOT_FOUND;
		reply->text = "no such command";
		return 0;
	}
	if (action == NULL)
		action = "execute";
	if (strcmp(action, "cancel") == 0) {
		reply->payload = ext_command_reply(req, "canceled");
		return reply->payload != NULL ? 0 : -1;
	}
	if (strcmp(action, "execute") != 0 && strcmp(action, "complete") != 0 &&
	    strcmp(action, "next") != 0) {
		reply->cond = STANZA_COND_BAD_REQUEST;
		reply->text = "unknown action: use execute, complete or cancel";
		return 0;
	}
	if (cmd->run(req, submitted_form(req->payload), reply) != 0)
		return -1;
	/* Every use, once: when it is asked for, not when its action ends. */
	if (req->outcome == NULL)
		log_info("commands: admin %s ran %s%s",
			 log_escape(f, sizeof(f), from),
			 log_escape(n, sizeof(n), cmd->node),
			 reply->cond != STANZA_COND_NONE ? " (refused)" : "");
	return 0;
}

int ext_commands_items(const struct ext_request *req, struct ext_reply *reply)
{
	const struct ext_command *const *list;
	xmpp_stanza_t *query, *item;
	size_t n, i;

	query = stanza_element(req->ctx, "query", XMPP_NS_DISCO_ITEMS);
	if (query == NULL ||
	    xmpp_stanza_set_attribute(query, "node", NS_COMMANDS) != XMPP_EOK)
		goto oom;
	if (ext_commands_is_admin(req->cfg, xmpp_stanza_get_from(req->stanza))) {
		list = ext_registry_commands(&n);
		for (i = 0; i < n; i++) {
			item = stanza_add_element(query, "item", NULL);
			if (item == NULL ||
			    xmpp_stanza_set_attribute(item, "jid",
						      req->cfg->domain) != XMPP_EOK ||
			    xmpp_stanza_set_attribute(item, "node",
						      list[i]->node) != XMPP_EOK ||
			    xmpp_stanza_set_attribute(item, "name",
						      list[i]->name) != XMPP_EOK)
				goto oom;
		}
	}
	reply->payload = query;
	return 0;
oom:
	if (query != NULL)
		xmpp_stanza_release(query);
	return -1;
}

const struct ext ext_commands = {
	.name = "command",
	.ns = NS_COMMANDS,
	.feature = NS_COMMANDS,
	.kinds = EXT_IQ_SET,
	.handle = commands_handle,
	.guarded = 1,
	.settings = commands_settings,
	.nsettings = ARRAY_SIZE(commands_settings),
};
