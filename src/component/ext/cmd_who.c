/* SPDX-License-Identifier: MIT */
/* cmd_who.c: the ad-hoc command "who": which access rule decides a JID, and what it says. */
#include "access.h"
#include "config.h"
#include "ext.h"

static int who_run(const struct ext_request *req, xmpp_stanza_t *form,
		   struct ext_reply *reply)
{
	const char *jid = ext_form_value(form, "jid"), *rule, *action;
	const struct access_rule *r = NULL;
	char bare[ACCESS_BARE_MAX];
	xmpp_stanza_t *cmd, *x;
	int password = 0;

	if (jid == NULL || *jid == '\0')
		return ext_command_ask_jid(req, "Who may ask: which rule "
					   "decides this JID?", reply);
	if (access_normalise(jid, bare, sizeof(bare)) < 0) {
		reply->cond = STANZA_COND_BAD_REQUEST;
		reply->text = "the jid field is not a valid JID";
		return 0;
	}
	if (req->cfg->access == NULL) {
		rule = "none (no access section: everyone may ask)";
		action = "allow";
	} else if ((r = access_table_match(req->cfg->access, bare)) != NULL) {
		rule = r->where;
		action = r->action == ACCESS_DENY ? "deny" : "allow";
		password = r->action == ACCESS_ALLOW && r->password != NULL;
	} else {
		rule = "access.default";
		action = access_table_default(req->cfg->access) == ACCESS_DENY
			 ? "deny" : "allow";
	}
	if ((cmd = ext_command_reply(req, "completed")) == NULL)
		return -1;
	if ((x = ext_form_add(cmd, "result", "Who may ask")) == NULL ||
	    ext_form_field(x, "jid", "jid-single", "JID", bare) != 0 ||
	    ext_form_field(x, "rule", NULL, "Deciding rule", rule) != 0 ||
	    ext_form_field(x, "action", NULL, "Action", action) != 0 ||
	    ext_form_field(x, "password", "boolean", "Needs a password",
			   password ? "true" : "false") != 0 ||
	    ext_form_field(x, "admin", "boolean", "Admin",
			   ext_commands_is_admin(req->cfg, bare)
			   ? "true" : "false") != 0) {
		xmpp_stanza_release(cmd);
		return -1;
	}
	reply->payload = cmd;
	return 0;
}

const struct ext_command ext_cmd_who = {
	.node = "who",
	.name = "Who may ask",
	.run = who_run,
};
