/* SPDX-License-Identifier: MIT */
/* cmd_reload.c: the ad-hoc command "reload", as SIGHUP: re-read the configuration file. */
#include "ext.h"

static int reload_run(const struct ext_request *req, xmpp_stanza_t *form,
		      struct ext_reply *reply)
{
	(void)form;
	return ext_command_act(req, EXT_ACTION_RELOAD, reply);
}

const struct ext_command ext_cmd_reload = {
	.node = "reload",
	.name = "Reload the configuration",
	.run = reload_run,
};
