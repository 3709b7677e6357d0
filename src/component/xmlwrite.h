/* SPDX-License-Identifier: MIT */
/* xmlwrite.h: the serialiser: a stanza tree as XML text, appended to an output queue. */
#ifndef OPE_XMLWRITE_H
#define OPE_XMLWRITE_H

#include <strophe.h>

struct obuf;

/* Append ST (a stanza tree) as XML: attributes single-quoted, text and
 * attribute values escaped. Returns 0, or -1 when out of memory or ST is
 * not serialisable (nameless, or nested past a sanity depth); B may then
 * hold part of it: roll back to a mark taken before. */
int xmlwrite_stanza(struct obuf *b, xmpp_stanza_t *st);

#endif
