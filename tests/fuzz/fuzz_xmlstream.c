/* SPDX-License-Identifier: MIT */
/* fuzz_xmlstream.c: libFuzzer target: bytes into the stream parser; stanzas within the limits or a clean error out. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Serialise what the link would hand on, as a later stage might. */
static void on_stanza(void *arg, xmpp_stanza_t *s)
{
	char *buf = NULL;
	size_t len = 0;

	(void)arg;
	if (xmpp_stanza_to_text(s, &buf, &len) != XMPP_EOK)
		abort();
	fuzz_assert_well_formed(buf, len);
	xmpp_free(fuzz_ctx(), buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_run(data, size, on_stanza, NULL);
	return 0;
}
