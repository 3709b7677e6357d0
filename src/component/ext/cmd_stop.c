/* SPDX-License-Identifier: MIT */
/* cmd_stop.c: the ad-hoc command "stop", as SIGTERM: drain, then close the stream and exit. */
#include "ext.h"

static int stop_run(const struct ext_request *req, xmpp_stanza_t *form,
		    struct ext_reply *reply)
{
	(void)form;
	return ext_command_act(req, EXT_ACTION_STOP, reply);
}

const struct ext_command ext_cmd_stop = {
	.node = "stop",
	.name = "Drain and stop",
	.run = stop_run,
};
