/* SPDX-License-Identifier: MIT */
/* cmd_forgive.c: the ad-hoc command "forgive": clear one sender's rate and password buckets. */
#include <stdio.h>

#include "access.h"
#include "config.h"
#include "ext.h"
#include "log.h"

static int forgive_run(const struct ext_request *req, xmpp_stanza_t *form,
		       struct ext_reply *reply)
{
	const char *jid = ext_form_value(form, "jid");
	char bare[ACCESS_BARE_MAX], note[ACCESS_BARE_MAX + 100], esc[300];
	xmpp_stanza_t *cmd, *x;
	int known;

	if (jid == NULL || *jid == '\0')
		return ext_command_ask_jid(req, "Forgive a sender: clear its "
					   "rate and password buckets", reply);
	if (access_normalise(jid, bare, sizeof(bare)) < 0) {
		reply->cond = STANZA_COND_BAD_REQUEST;
		reply->text = "the jid field is not a valid JID";
		return 0;
	}
	if (req->rt == NULL || req->rt->forgive == NULL) {
		reply->cond = STANZA_COND_INTERNAL_SERVER_ERROR;
		reply->text = "forgiving is not available here";
		return 0;
	}
	known = req->rt->forgive(req->rt, bare);
	snprintf(note, sizeof(note), known ? "%s is forgiven: its request and "
		 "password buckets are full again" : "%s has no buckets: "
		 "nothing to forgive", bare);
	log_info("commands: %s", log_escape(esc, sizeof(esc), note));
	if ((cmd = ext_command_reply(req, "completed")) == NULL)
		return -1;
	if (ext_command_note(cmd, "info", note) != 0 ||
	    (x = ext_form_add(cmd, "result", NULL)) == NULL ||
	    ext_form_field(x, "jid", "jid-single", "JID", bare) != 0 ||
	    ext_form_field(x, "forgiven", "boolean", "Had buckets",
			   known ? "true" : "false") != 0) {
		xmpp_stanza_release(cmd);
		return -1;
	}
	reply->payload = cmd;
	return 0;
}

const struct ext_command ext_cmd_forgive = {
	.node = "forgive",
	.name = "Forgive a sender",
	.run = forgive_run,
};
