/* SPDX-License-Identifier: MIT */
/* presence.h: the component's presence, as a service users can add to a roster. */
#ifndef OPE_PRESENCE_H
#define OPE_PRESENCE_H

#include <stddef.h>
#include <strophe.h>

#define PRESENCE_MAX_REPLIES 2

/* Build the answers to presence REQUEST (borrowed) sent to address TO in our
 * domain: probe -> available; subscribe -> subscribed, then available;
 * unsubscribe -> unsubscribed; anything else -> none. Subscription answers
 * go between bare JIDs; a probe is answered from TO to the sender's JID.
 * Stores up to PRESENCE_MAX_REPLIES new stanzas in OUT (caller releases) and
 * their number in *N. Returns 0, or -1 when out of memory (OUT empty). */
int presence_replies(xmpp_ctx_t *ctx, xmpp_stanza_t *request, const char *to,
		     xmpp_stanza_t *out[PRESENCE_MAX_REPLIES], size_t *n);

#endif
