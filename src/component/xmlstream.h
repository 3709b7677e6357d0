/* SPDX-License-Identifier: MIT */
/* xmlstream.h: streaming parser for the server's XEP-0114 stream (libexpat), with hard limits, into libstrophe stanzas. */
#ifndef OPE_XMLSTREAM_H
#define OPE_XMLSTREAM_H

/*
 * The limit on elements in one stanza exists because each costs libstrophe
 * about 7 allocations: it bounds the cost of a stanza of many tiny elements.
 * Semantics pinned down here:
 * - a pause is final (it serves a socket takeover): the paused feed returns
 *   0, xmlstream_unparsed() gives the leftover, later feeds return -1.
 * - one markup token (a tag, comment, CDATA section) longer than
 *   stanza_bytes is a stream error, not a skip: expat must buffer a whole
 *   token before it can report it.
 * - a skipped stanza nested deeper than 2 x limits.depth is walked without
 *   expat (which keeps a record per open element) until it closes: only
 *   tags, quotes, comments, CDATA and PIs are told apart there, so the rest
 *   of its well-formedness is not checked; "<!" other than a comment or
 *   CDATA is an error. The stream goes on after it.
 *
 * Stanzas come out as libstrophe 0.12's own parser builds them: every
 * element carries its namespace as an "xmlns" attribute (inherited ones
 * too), xmlns declarations are not attributes, prefixed attributes lose
 * their prefix, except xml:lang (and any xml:) which keeps it (libstrophe
 * drops it), consecutive text pieces (split by entities, comments, CDATA)
 * are one text node; text directly inside <stream:stream> is ignored.
 * Two things libstrophe would serialise into XML that is not well-formed
 * never come out: a stanza with an element in the xml or xmlns namespace
 * is skipped ("reserved namespace"), a prefixed attribute named xmlns is
 * dropped.
 * Routing attributes (from, to, id, type) of a stanza are only ever those
 * in no namespace, and xml:lang only the xml namespace's: a stanza whose
 * top element has a namespaced attribute with one of those local names, or
 * any element with two attributes that would end up under one name, is
 * skipped ("attribute names", forged set).
 */

#include <stddef.h>
#include <strophe.h>

struct xmlstream;

/* Hard limits, checked while parsing, before any tree is built. */
struct xmlstream_limits {
	size_t stanza_bytes;   /* bytes of one top-level element */
	unsigned depth;        /* element nesting; the top-level element is 1 */
	unsigned children;     /* element children of one element */
	unsigned elements;     /* elements in one stanza, the top one included */
	unsigned attrs;        /* attributes of one element (xmlns declarations excluded) */
	size_t attr_bytes;     /* bytes of one attribute value */
	size_t text_bytes;     /* bytes of text directly inside one element */
};

#define XMLSTREAM_DEFAULT_STANZA_BYTES 262144
#define XMLSTREAM_DEFAULT_DEPTH 64
#define XMLSTREAM_DEFAULT_CHILDREN 256
#define XMLSTREAM_DEFAULT_ELEMENTS 4096
#define XMLSTREAM_DEFAULT_ATTRS 64
#define XMLSTREAM_DEFAULT_ATTR_BYTES 16384
#define XMLSTREAM_DEFAULT_TEXT_BYTES 65536

/*
 * The most a limit may be set to (xmlstream_new() refuses more). Stanzas
 * are built through libstrophe's public API, whose costs grow with these:
 * xmpp_stanza_add_child_ex() walks the parent's children to append (text
 * nodes between them included, so up to 2 x children + 1), an attribute
 * goes into a hash table of 8 buckets that never grows (a lookup scans
 * attrs / 8 entries), and freeing or serialising a tree recurses once per
 * level. Measured through the fake server (bench/worst-stanza.py), a
 * stanza of 1M elements whose parents hold 256 children with text between
 * them cost 1.25x what it cost with O(1) appends into libstrophe's private
 * struct, as ope did before (at 1024 children: 3.5x); 256 attributes per
 * element cost no more per byte than small elements. 256 is also the
 * default: the children maximum cannot go lower without changing it.
 */
#define XMLSTREAM_MAX_DEPTH 1024
#define XMLSTREAM_MAX_CHILDREN 256
#define XMLSTREAM_MAX_ATTRS 256

/* Fill L with the defaults above. */
void xmlstream_limits_default(struct xmlstream_limits *l);

/* What the top element of a skipped (over-limit) stanza told us, to answer
 * policy-violation. Strings are borrowed for the call; any may be NULL
 * (absent, or itself over a limit). */
struct xmlstream_skipped {
	const char *name, *type, *id, *from, *to;
	/* Which limit: "stanza size", "nesting depth", "children per element",
	 * "elements per stanza", "attributes per element", "attribute size",
	 * "text size", "reserved namespace" (an element in the xml or xmlns
	 * namespace, or a prefix bound to their URIs) or "attribute names".
	 * Static. */
	const char *limit;
	size_t line;           /* line of the stream where the stanza began */
	/* "attribute names": not a limit but a forgery. Two attributes of one
	 * element would be read under one name once their prefixes are dropped
	 * (from and ns1:from), or a namespaced attribute on the top element
	 * has a routing name (from, to, id, type, lang). The routing fields
	 * above then come from attributes in no namespace only. */
	int forged;
};

/* Every callback may be NULL. Each may call xmlstream_pause(). */
struct xmlstream_callbacks {
	/* The server's stream header was read; ATTRS are name/value pairs,
	 * NULL-terminated, names mapped as for stanzas; borrowed for the call. */
	void (*open)(void *arg, const char *const *attrs);
	/* One complete top-level element (stanza, <handshake/>, <stream:error/>):
	 * borrowed, released by the parser after the call returns (take a
	 * reference with xmpp_stanza_clone() to keep it). */
	void (*stanza)(void *arg, xmpp_stanza_t *stanza);
	/* A top-level element went over a limit and was skipped whole. */
	void (*skipped)(void *arg, const struct xmlstream_skipped *s);
	/* </stream:stream> from the server. */
	void (*close)(void *arg);
};

/* A parser that builds stanzas in CTX (borrowed; must outlive it) within
 * LIM (copied) and calls CB (copied) with ARG. NULL when out of memory, a
 * limit is 0, or depth, children or attrs is above its XMLSTREAM_MAX_*. Free with xmlstream_free(). */
struct xmlstream *xmlstream_new(xmpp_ctx_t *ctx,
				const struct xmlstream_limits *lim,
				const struct xmlstream_callbacks *cb, void *arg);

/* Parse LEN bytes of BUF (need not end on any boundary). Returns 0, or -1
 * on malformed XML, a DOCTYPE or entity declaration, a second stream
 * header, an element other than <stream:stream> at the top, an oversized
 * token, or out of memory: xmlstream_error() then says what and where.
 * Once -1, every later call returns -1; the link must close. */
int xmlstream_feed(struct xmlstream *x, const char *buf, size_t len);

/* Why the last feed failed, with line, column and byte offset of the
 * stream; "" if it did not. Owned by X. */
const char *xmlstream_error(const struct xmlstream *x);

/* From inside a callback: stop right after the current element or event;
 * xmlstream_feed() then returns 0 early. Final: later feeds return -1. */
void xmlstream_pause(struct xmlstream *x);

/* After a paused feed: how many bytes at the end of its BUF were not
 * parsed (the leftover to hand over with the socket); 0 otherwise. */
size_t xmlstream_unparsed(const struct xmlstream *x);

/* True when every byte fed so far has been parsed into complete events and
 * no stanza is open: the stream can stop here and go on elsewhere. */
int xmlstream_at_boundary(const struct xmlstream *x);

/* The server's stream header as a start tag with its namespace
 * declarations ("<stream:stream xmlns='...' xmlns:stream='...'>"), to
 * prime another parser that continues the stream; NULL before the header
 * or when its spelling was odd. Owned by X; *LEN gets its length. */
const char *xmlstream_header(const struct xmlstream *x, size_t *len);

/* Bytes of the stream parsed so far (for logs and tests). */
unsigned long long xmlstream_offset(const struct xmlstream *x);

/* Free X and any stanza under construction. NULL is a no-op. */
void xmlstream_free(struct xmlstream *x);

#endif
