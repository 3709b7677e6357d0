/* SPDX-License-Identifier: MIT */
/* cmd_status.c: the ad-hoc command "status": version, process, uptime, the link it came on, counters, queues, and with server.connect "all" every link. */
#include <stdio.h>

#include "build_config.h"

#include "config.h"
#include "ext.h"

static int status_run(const struct ext_request *req, xmpp_stanza_t *form,
		      struct ext_reply *reply)
{
	struct ext_status st = { 0 };
	xmpp_stanza_t *cmd, *x;
	char pid[24], up[32], link_up[32], requests[24], refused[24];
	char pending[24], queue[24];

	(void)form;
	if (req->rt == NULL || req->rt->status == NULL) {
		reply->cond = STANZA_COND_INTERNAL_SERVER_ERROR;
		reply->text = "the status is not available here";
		return 0;
	}
	req->rt->status(req->rt, &st);
	snprintf(pid, sizeof(pid), "%ld", st.pid);
	snprintf(up, sizeof(up), "%.0f", st.uptime_s);
	if (st.link_up_s >= 0)
		snprintf(link_up, sizeof(link_up), "%.0f", st.link_up_s);
	else
		link_up[0] = '\0';
	snprintf(requests, sizeof(requests), "%lu", st.requests);
	snprintf(refused, sizeof(refused), "%lu", st.refused);
	snprintf(pending, sizeof(pending), "%zu", st.pending);
	snprintf(queue, sizeof(queue), "%zu", st.queue_bytes);
	if ((cmd = ext_command_reply(req, "completed")) == NULL)
		return -1;
	if ((x = ext_form_add(cmd, "result", "ope-component status")) == NULL ||
	    ext_form_field(x, "version", NULL, "Version", PACKAGE_VERSION) != 0 ||
	    ext_form_field(x, "domain", NULL, "Component", req->cfg->domain) != 0 ||
	    ext_form_field(x, "instance", NULL, "Instance",
			   st.instance ? st.instance : "") != 0 ||
	    ext_form_field(x, "pid", NULL, "Process id", pid) != 0 ||
	    ext_form_field(x, "uptime", NULL, "Up for (s)", up) != 0 ||
	    ext_form_field(x, "link", NULL, "Link state",
			   st.link_state ? st.link_state : "") != 0 ||
	    ext_form_field(x, "link_server", NULL, "Server",
			   st.server ? st.server : "") != 0 ||
	    ext_form_field(x, "link_up", NULL, "Link up for (s)", link_up) != 0 ||
	    ext_form_field(x, "link_tls", NULL, "TLS",
			   st.tls ? "direct" : "none") != 0 ||
	    ext_form_field(x, "requests", NULL, "Stanzas since start",
			   requests) != 0 ||
	    ext_form_field(x, "refused", NULL, "Errors answered since start",
			   refused) != 0 ||
	    ext_form_field(x, "password_checks", NULL,
			   "Requests waiting for a password hash", pending) != 0 ||
	    ext_form_field(x, "queue_bytes", NULL, "Output queue (bytes)",
			   queue) != 0 ||
	    (st.links != NULL &&
	     ext_form_field(x, "links", NULL, "Every link", st.links) != 0)) {
		xmpp_stanza_release(cmd);
		return -1;
	}
	reply->payload = cmd;
	return 0;
}

const struct ext_command ext_cmd_status = {
	.node = "status",
	.name = "Status",
	.run = status_run,
};
