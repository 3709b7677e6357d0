/* SPDX-License-Identifier: MIT */
/* cmd_restart.c: the ad-hoc command "restart", as SIGUSR2: a new process takes the link over. */
#include "ext.h"

static int restart_run(const struct ext_request *req, xmpp_stanza_t *form,
		       struct ext_reply *reply)
{
	(void)form;
	return ext_command_act(req, EXT_ACTION_RESTART, reply);
}

const struct ext_command ext_cmd_restart = {
	.node = "restart",
	.name = "Restart in place (takeover)",
	.run = restart_run,
};
