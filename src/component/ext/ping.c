/* SPDX-License-Identifier: MIT */
/* ping.c: XEP-0199 XMPP Ping: an empty result. */
#include "ext.h"

static int ping_handle(const struct ext_request *req, struct ext_reply *reply)
{
	(void)req;
	reply->payload = NULL;
	return 0;
}

const struct ext ext_ping = {
	.name = "ping",
	.ns = NS_PING,
	.feature = NS_PING,
	.kinds = EXT_IQ_GET,
	.handle = ping_handle,
};
