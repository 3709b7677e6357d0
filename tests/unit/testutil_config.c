/* SPDX-License-Identifier: MIT */
/* testutil_config.c: the config the component's unit tests start from. */
#include <string.h>

#include "config.h"
#include "log.h"
#include "testutil.h"

void testutil_config(struct config *cfg)
{
	static char domain[] = "ope.example.org", host[] = "127.0.0.1",
		    secret[] = "s3cret", name[] = "ope test";

	memset(cfg, 0, sizeof(*cfg));
	cfg->server_host = host;
	cfg->server_port = 5347;
	cfg->domain = domain;
	cfg->secret = secret;
	cfg->log_level = LOG_LEVEL_ERROR;
	cfg->reconnect_initial_ms = 1000;
	cfg->reconnect_max_ms = 60000;
	cfg->service_name = name;
	cfg->service_show_os = 1;
	cfg->max_payload = 1024;
}
