/* SPDX-License-Identifier: MIT */
/* version.c: XEP-0092 Software Version: name, version and (optionally) the OS. */
#include <stdio.h>
#include <sys/utsname.h>

#include "build_config.h"

#include "config.h"
#include "ext.h"

/* "Linux 6.1.0", looked up once: it doesn't change while we run. */
static const char *os_name(void)
{
	static char os[2 * sizeof(((struct utsname *)0)->release) + 2];
	static int known;
	struct utsname u;

	if (!known) {
		known = 1;
		if (uname(&u) == 0)
			snprintf(os, sizeof(os), "%s %s", u.sysname, u.release);
	}
	return os;
}

static int version_handle(const struct ext_request *req, struct ext_reply *reply)
{
	xmpp_stanza_t *query = stanza_element(req->ctx, "query", NS_VERSION);

	if (query == NULL)
		return -1;
	if (stanza_add_text_element(query, "name", PACKAGE_NAME) != 0 ||
	    stanza_add_text_element(query, "version", PACKAGE_VERSION) != 0)
		goto oom;
	if (req->cfg->service_show_os) {
		const char *os = os_name();

		if (*os != '\0' && stanza_add_text_element(query, "os", os) != 0)
			goto oom;
	}
	reply->payload = query;
	return 0;
oom:
	xmpp_stanza_release(query);
	return -1;
}

const struct ext ext_version = {
	.name = "query",
	.ns = NS_VERSION,
	.feature = NS_VERSION,
	.kinds = EXT_IQ_GET,
	.handle = version_handle,
};
