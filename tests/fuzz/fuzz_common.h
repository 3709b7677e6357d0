/* SPDX-License-Identifier: MIT */
/* fuzz_common.h: what both libFuzzer targets share: limit profiles, feeding, and the check that stanzas keep within limits. */
#ifndef OPE_FUZZ_COMMON_H
#define OPE_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <strophe.h>

#include "xmlstream.h"

/* A libstrophe context (default allocator) for the whole run. */
xmpp_ctx_t *fuzz_ctx(void);

/* Feed DATA to a new parser: its first byte picks the limits (default or
 * tiny) and whether a stream header is sent first, its second how the
 * rest is cut into feeds. STANZA(arg, stanza) sees each stanza after it
 * was checked against the limits; aborts on any broken promise of
 * xmlstream.h. */
void fuzz_run(const uint8_t *data, size_t size,
	      void (*stanza)(void *arg, xmpp_stanza_t *s), void *arg);

/* Assert (abort) that TEXT, one serialised element, parses as one stanza. */
void fuzz_assert_well_formed(const char *text, size_t len);

#endif
