/* SPDX-License-Identifier: MIT */
/* time.c: XEP-0202 Entity Time: the current time in UTC. */
#include "ext.h"

static int time_handle(const struct ext_request *req, struct ext_reply *reply)
{
	char utc[sizeof("YYYY-MM-DDThh:mm:ssZ")];
	time_t now = req->clock();
	xmpp_stanza_t *el;
	struct tm tm;

	/* strftime() returns 0 when the year needs more than four digits. */
	if (now == (time_t)-1 || gmtime_r(&now, &tm) == NULL ||
	    strftime(utc, sizeof(utc), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
		reply->cond = STANZA_COND_INTERNAL_SERVER_ERROR;
		reply->text = "the system clock cannot be read";
		return 0;
	}
	el = stanza_element(req->ctx, "time", NS_TIME);
	if (el == NULL)
		return -1;
	/* ope keeps UTC whatever the host's zone: the offset is always zero. */
	if (stanza_add_text_element(el, "tzo", "+00:00") != 0 ||
	    stanza_add_text_element(el, "utc", utc) != 0) {
		xmpp_stanza_release(el);
		return -1;
	}
	reply->payload = el;
	return 0;
}

const struct ext ext_time = {
	.name = "time",
	.ns = NS_TIME,
	.feature = NS_TIME,
	.kinds = EXT_IQ_GET,
	.handle = time_handle,
};
