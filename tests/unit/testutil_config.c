/* SPDX-License-Identifier: MIT */
/* testutil_config.c: the config the component's unit tests start from. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

int testutil_load_sample(struct config *cfg, char *err, size_t errlen)
{
	static const char placeholder[] = "change-this-secret";
	char path[] = "/tmp/ope-unit-sample-XXXXXX", text[32768], *at;
	size_t n;
	FILE *in, *out;
	int fd, rc = -1;

	in = fopen(SRCDIR "/conf/ope-component.conf", "re");
	if (in == NULL)
		return -1;
	n = fread(text, 1, sizeof(text) - 1, in);
	fclose(in);
	text[n] = '\0';
	if (n == sizeof(text) - 1 || (at = strstr(text, placeholder)) == NULL)
		return -1;
	if ((fd = mkstemp(path)) < 0)
		return -1;
	if ((out = fdopen(fd, "w")) == NULL) {
		close(fd);
		goto out;
	}
	fprintf(out, "%.*s%s%s", (int)(at - text), text,
		"unit-test-secret-5f0c2a9e", at + strlen(placeholder));
	if (fclose(out) == 0)
		rc = config_load(path, cfg, err, errlen);
out:
	unlink(path);
	return rc;
}
