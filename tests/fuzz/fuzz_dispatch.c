/* SPDX-License-Identifier: MIT */
/* fuzz_dispatch.c: libFuzzer target: bytes through the stream parser into dispatch_stanza(); every reply must be well-formed XML. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "dispatch.h"
#include "fuzz_common.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void capture(xmpp_stanza_t *reply, void *arg)
{
	char *buf = NULL;
	size_t len = 0;

	(void)arg;
	if (xmpp_stanza_to_text(reply, &buf, &len) != XMPP_EOK)
		abort();
	fuzz_assert_well_formed(buf, len);
	xmpp_free(fuzz_ctx(), buf);
}

static void on_stanza(void *arg, xmpp_stanza_t *s)
{
	dispatch_stanza(arg, s);
}

static struct dispatch *dispatcher(void)
{
	static char domain[] = "ope.example.org", host[] = "127.0.0.1",
		    secret[] = "s3cret", name[] = "ope fuzz";
	static struct config cfg;
	static struct dispatch *d;
	FILE *devnull;

	if (d != NULL)
		return d;
	/* Debug level, so the escaping of logged wire text runs too. */
	devnull = fopen("/dev/null", "w");
	if (devnull == NULL)
		abort();
	log_init("fuzz", LOG_LEVEL_DEBUG, devnull);
	cfg.server_host = host;
	cfg.server_port = 5347;
	cfg.domain = domain;
	cfg.secret = secret;
	cfg.log_level = LOG_LEVEL_DEBUG;
	cfg.reconnect_initial_ms = 1000;
	cfg.reconnect_max_ms = 60000;
	cfg.service_name = name;
	cfg.service_show_os = 1;
	cfg.max_payload = 1024;
	d = dispatch_new(fuzz_ctx(), &cfg, NULL, capture, NULL);
	if (d == NULL)
		abort();
	return d;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_run(data, size, on_stanza, dispatcher());
	return 0;
}
