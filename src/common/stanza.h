/* SPDX-License-Identifier: MIT */
/* stanza.h: building replies and RFC 6120 stanza errors; cheap stanza measurements. */
#ifndef OPE_STANZA_H
#define OPE_STANZA_H

#include <stddef.h>
#include <strophe.h>

/* The RFC 6120 §8.3.3 conditions ope uses. */
enum stanza_cond {
	STANZA_COND_NONE = 0,
	STANZA_COND_BAD_REQUEST,
	STANZA_COND_FEATURE_NOT_IMPLEMENTED,
	STANZA_COND_INTERNAL_SERVER_ERROR,
	STANZA_COND_ITEM_NOT_FOUND,
	STANZA_COND_NOT_ACCEPTABLE,
	STANZA_COND_POLICY_VIOLATION,
	STANZA_COND_RESOURCE_CONSTRAINT,
	STANZA_COND_SERVICE_UNAVAILABLE,
	STANZA_COND_FORBIDDEN,          /* auth */
	STANZA_COND_NOT_AUTHORIZED,     /* auth */
	STANZA_COND_RATE_LIMITED,       /* policy-violation of type wait */
};

/* The condition's element name ("bad-request"); static. */
const char *stanza_cond_name(enum stanza_cond cond);

/* The error type RFC 6120 §8.3.3 gives the condition ("cancel", "modify",
 * "wait"); static. */
const char *stanza_cond_type(enum stanza_cond cond);

/* An error reply to REQUEST (a message, iq or presence): same element name,
 * type="error", REQUEST's id, from=FROM, to=REQUEST's from, and
 * <error type=..><COND xmlns=stanzas/>[<text xmlns=stanzas>TEXT</text>]</error>.
 * Returns a new stanza the caller releases, or NULL when out of memory or
 * when REQUEST has no from. */
xmpp_stanza_t *stanza_error_reply(xmpp_ctx_t *ctx, xmpp_stanza_t *request,
				  const char *from, enum stanza_cond cond,
				  const char *text);

/* <iq type="result" id=ID from=FROM to=TO> with PAYLOAD (may be NULL) as its
 * child; PAYLOAD is adopted (released with the result, even on failure).
 * Returns a new stanza the caller releases, or NULL when out of memory. */
xmpp_stanza_t *stanza_iq_result(xmpp_ctx_t *ctx, const char *id,
				const char *from, const char *to,
				xmpp_stanza_t *payload);

/* A new element NAME in namespace NS (NULL: none); NULL when out of memory. */
xmpp_stanza_t *stanza_element(xmpp_ctx_t *ctx, const char *name, const char *ns);

/* Append a text node with TEXT to PARENT. Returns 0, or -1 when out of memory. */
int stanza_add_text(xmpp_stanza_t *parent, const char *text);

/* Append a new element NAME (namespace NS, may be NULL) to PARENT; returns
 * the child (owned by PARENT) or NULL when out of memory. */
xmpp_stanza_t *stanza_add_element(xmpp_stanza_t *parent, const char *name,
				  const char *ns);

/* Append <NAME>TEXT</NAME> (no namespace of its own) to PARENT. Returns 0,
 * or -1 when out of memory. */
int stanza_add_text_element(xmpp_stanza_t *parent, const char *name,
			    const char *text);

/* Deeper element nesting than this counts as over any size limit. */
#define STANZA_MAX_DEPTH 64

/* An estimate of the serialised size of STANZA in bytes (names, attributes,
 * text, tags), without serialising it. Stops and returns a value above LIMIT
 * as soon as the count passes LIMIT, or when elements nest deeper than
 * STANZA_MAX_DEPTH, so a hostile payload costs little to measure. */
size_t stanza_size(xmpp_stanza_t *stanza, size_t limit);

/* The number of element (non-text) children of STANZA. */
size_t stanza_element_count(xmpp_stanza_t *stanza);

/* The first element child of STANZA, or NULL. */
xmpp_stanza_t *stanza_first_element(xmpp_stanza_t *stanza);

#endif
