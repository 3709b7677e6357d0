/* SPDX-License-Identifier: MIT */
/* xmlstream.c: streaming parser for the server's XEP-0114 stream (libexpat), with hard limits, into libstrophe stanzas. */
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <expat.h>

#include "build_config.h"
#include "util.h"
#include "xmlstream.h"

/* Expat joins namespace and local name with this; libstrophe uses the same. */
#define NS_SEP '\x1F'
#define NS_XML "http://www.w3.org/XML/1998/namespace"
#define NS_XMLNS "http://www.w3.org/2000/xmlns/"

/* The skip reason of a stanza with attributes under one name (forged()). */
static const char attr_names[] = "attribute names";
/* ... and of one with an element or a prefix in the xml or xmlns namespace,
 * which libstrophe could not serialise or expat refuses (skip_reserved()). */
static const char reserved_ns[] = "reserved namespace";

/* One open element of the stanza being built. */
struct level {
	xmpp_stanza_t *stanza;
	unsigned children;
	size_t text;             /* bytes of text directly inside it */
};

enum { SK_NAME, SK_TYPE, SK_ID, SK_FROM, SK_TO, SK_N };

struct xmlstream {
	xmpp_ctx_t *ctx;
	XML_Parser p;
	struct xmlstream_limits lim;
	struct xmlstream_callbacks cb;
	void *arg;

	unsigned depth;          /* open elements, <stream:stream> included */
	int opened;
	int failed;
	int paused;
	size_t unparsed;
	struct level *levels;    /* [1..lim.depth]: the stanza's open elements */

	/* The top-level element in progress. */
	unsigned long long top_start;
	unsigned long top_line;
	unsigned elements;       /* elements of it so far */
	const char *skip_limit;  /* over a limit: skipping until it closes */
	char *skip[SK_N];

	/* Expat keeps a tag record (~160 bytes) per open element, even while
	 * we skip, and after some 450,000 of them its reset fails (expat
	 * 2.5.0, "out of memory" replaying the header): a skipped stanza
	 * nested deeper than scan_depth() is walked by scan() instead, and
	 * expat is reset and fed the header again where the stanza ends. */
	int scanning;
	int scan_state, scan_match, scan_slash;
	char scan_quote;
	unsigned long long scan_depth;  /* open elements of the stanza */
	unsigned long scan_line;        /* line of the stream */

	/* Offsets count bytes of the stream; expat's restart at each reset. */
	unsigned long long fed;  /* bytes handed to expat */
	unsigned long long mark; /* end of the last event expat reported */
	unsigned long long base; /* the stream offset of expat's byte 0 */
	unsigned long line_base; /* lines before expat's line 1 */

	/* Expat interns every element and attribute name it meets for the
	 * parser's lifetime: a stream of ever new names grows it without
	 * bound. So between stanzas, every stanza_bytes or so, the parser is
	 * reset and fed HEADER, a copy of the server's stream header. */
	char *header;            /* NULL: cannot replay (odd header), no resets */
	size_t header_len;
	char *decls;             /* the header's namespace declarations */
	size_t decls_len, decls_cap;
	char stream_qname[64];   /* how the header spelled stream:stream */
	int qnames;              /* candidates for it; 1 to replay */
	unsigned long long reset_at;
	unsigned long reset_line;
	int resetting, replaying;

	char *text;              /* text of the innermost element, not yet a node */
	size_t text_len, text_cap;
	char *scratch;           /* a namespace or an "xml:" name, NUL-terminated */
	size_t scratch_cap;
	char err[320];
};

/* Append CHILD (its reference passes to L's element) through libstrophe's
 * public API, which walks L's children to the last one: the limits on
 * children and attributes (xmlstream.h) keep that walk short. */
static void append(struct level *l, xmpp_stanza_t *child)
{
	xmpp_stanza_add_child_ex(l->stanza, child, 0);
}

void xmlstream_limits_default(struct xmlstream_limits *l)
{
	l->stanza_bytes = XMLSTREAM_DEFAULT_STANZA_BYTES;
	l->depth = XMLSTREAM_DEFAULT_DEPTH;
	l->children = XMLSTREAM_DEFAULT_CHILDREN;
	l->elements = XMLSTREAM_DEFAULT_ELEMENTS;
	l->attrs = XMLSTREAM_DEFAULT_ATTRS;
	l->attr_bytes = XMLSTREAM_DEFAULT_ATTR_BYTES;
	l->text_bytes = XMLSTREAM_DEFAULT_TEXT_BYTES;
}

static unsigned long long event_start(const struct xmlstream *x)
{
	XML_Index i = XML_GetCurrentByteIndex(x->p);

	return i < 0 ? x->mark : x->base + (unsigned long long)i;
}

static unsigned long line(const struct xmlstream *x)
{
	return x->line_base + (unsigned long)XML_GetCurrentLineNumber(x->p);
}

/* Note where the current event ends; returns that offset. */
static unsigned long long event_end(struct xmlstream *x)
{
	unsigned long long end = event_start(x) +
				 (unsigned)XML_GetCurrentByteCount(x->p);

	if (end > x->mark)
		x->mark = end;
	return x->mark;
}

/* Stop parsing for good with WHAT and where the current event is. */
static void fail(struct xmlstream *x, const char *what)
{
	if (x->failed)
		return;
	snprintf(x->err, sizeof(x->err), "%s at line %lu (byte %llu of the stream)",
		 what, line(x), event_start(x));
	x->failed = 1;
	XML_StopParser(x->p, XML_FALSE);
}

/* Make room for N bytes in a growing buffer. */
static int reserve(char **buf, size_t *cap, size_t n)
{
	return util_grow(buf, cap, n, 1, 64);
}

/* NSNAME is "uri<SEP>local" or "local": the local part, and in *NS the
 * namespace copied to the scratch buffer (NULL if none). */
static const char *split_name(struct xmlstream *x, const char *nsname,
			      const char **ns)
{
	const char *sep = strchr(nsname, NS_SEP);
	size_t n;

	*ns = NULL;
	if (sep == NULL)
		return nsname;
	n = (size_t)(sep - nsname);
	if (reserve(&x->scratch, &x->scratch_cap, n + 1) < 0)
		return NULL;
	memcpy(x->scratch, nsname, n);
	x->scratch[n] = '\0';
	*ns = x->scratch;
	return sep + 1;
}

/* An attribute's name as libstrophe gives it (prefix dropped), except that
 * the xml namespace keeps its "xml:" prefix. BUF holds that spelling. */
static const char *attr_name(const char *nsname, char *buf, size_t len)
{
	const char *sep = strchr(nsname, NS_SEP);

	if (sep == NULL)
		return nsname;
	if ((size_t)(sep - nsname) == sizeof(NS_XML) - 1 &&
	    memcmp(nsname, NS_XML, sizeof(NS_XML) - 1) == 0 &&
	    (size_t)snprintf(buf, len, "xml:%s", sep + 1) < len)
		return buf;
	return sep + 1;
}

static void clear_skip(struct xmlstream *x)
{
	int i;

	for (i = 0; i < SK_N; i++) {
		free(x->skip[i]);
		x->skip[i] = NULL;
	}
	x->skip_limit = NULL;
}

static void release_tree(struct xmlstream *x)
{
	if (x->levels[1].stanza != NULL)
		xmpp_stanza_release(x->levels[1].stanza);
	x->levels[1].stanza = NULL;
	x->text_len = 0;
}

static char *dup_bounded(const struct xmlstream *x, const char *s)
{
	size_t n;
	char *d;

	if (s == NULL)
		return NULL;
	n = strlen(s);
	if (n > x->lim.attr_bytes)
		return NULL;
	d = malloc(n + 1);
	if (d != NULL)
		memcpy(d, s, n + 1);
	return d;
}

/* Go over LIMIT: drop what was built of the stanza, keep what its top
 * element says (from ATTS if the top element itself is over), and skip
 * until it closes. */
static void start_skip(struct xmlstream *x, const char *limit,
		       const char *topname, const char **atts)
{
	xmpp_stanza_t *top = x->levels[1].stanza;
	static const char *const keys[SK_N] = { NULL, "type", "id", "from", "to" };
	int i;

	x->skip_limit = limit;
	if (top != NULL) {
		x->skip[SK_NAME] = dup_bounded(x, xmpp_stanza_get_name(top));
		for (i = SK_TYPE; i < SK_N; i++)
			x->skip[i] = dup_bounded(x,
				xmpp_stanza_get_attribute(top, keys[i]));
		release_tree(x);
		return;
	}
	x->skip[SK_NAME] = dup_bounded(x, topname);
	for (; atts != NULL && atts[0] != NULL; atts += 2) {
		for (i = SK_TYPE; i < SK_N; i++) {
			if (x->skip[i] == NULL && strcmp(atts[0], keys[i]) == 0)
				x->skip[i] = dup_bounded(x, atts[1]);
		}
	}
	x->text_len = 0;
}

static void report_skip(struct xmlstream *x)
{
	struct xmlstream_skipped s = {
		.name = x->skip[SK_NAME], .type = x->skip[SK_TYPE],
		.id = x->skip[SK_ID], .from = x->skip[SK_FROM],
		.to = x->skip[SK_TO], .limit = x->skip_limit,
		.line = x->top_line, .forged = x->skip_limit == attr_names,
	};

	if (x->cb.skipped != NULL)
		x->cb.skipped(x->arg, &s);
	clear_skip(x);
}

/* Turn the pending text into a text node of L's element. */
static int flush_text(struct xmlstream *x, struct level *l)
{
	xmpp_stanza_t *t;

	if (x->text_len == 0)
		return 0;
	t = xmpp_stanza_new(x->ctx);
	if (t == NULL)
		return -1;
	if (xmpp_stanza_set_text_with_size(t, x->text, x->text_len) != 0) {
		xmpp_stanza_release(t);
		return -1;
	}
	append(l, t);
	x->text_len = 0;
	return 0;
}

/* Append S to the header's declarations, escaped for a quoted value if
 * VALUE. */
static int add_decl(struct xmlstream *x, const char *s, int value)
{
	const char *rep;
	char one[2] = { 0, 0 };

	for (; *s != '\0'; s++) {
		one[0] = *s;
		rep = !value ? one : *s == '\'' ? "&apos;" : *s == '&' ? "&amp;" :
		      *s == '<' ? "&lt;" : one;
		if (reserve(&x->decls, &x->decls_cap,
			    x->decls_len + strlen(rep) + 1) < 0)
			return -1;
		memcpy(x->decls + x->decls_len, rep, strlen(rep) + 1);
		x->decls_len += strlen(rep);
	}
	return 0;
}

static void XMLCALL on_ns_decl(void *ud, const XML_Char *prefix,
			       const XML_Char *uri)
{
	struct xmlstream *x = ud;

	event_end(x);
	if (x->opened || x->replaying)
		return;
	if (add_decl(x, prefix != NULL ? " xmlns:" : " xmlns", 0) < 0 ||
	    add_decl(x, prefix != NULL ? prefix : "", 0) < 0 ||
	    add_decl(x, "='", 0) < 0 ||
	    add_decl(x, uri != NULL ? uri : "", 1) < 0 ||
	    add_decl(x, "'", 0) < 0) {
		fail(x, "out of memory");
		return;
	}
	if (uri != NULL && strcmp(uri, XMPP_NS_STREAMS) == 0) {
		x->qnames++;
		snprintf(x->stream_qname, sizeof(x->stream_qname), "%s%sstream",
			 prefix != NULL ? prefix : "", prefix != NULL ? ":" : "");
	}
}

/* Keep "<QNAME DECLS>" to replay after a reset, if the header's own
 * spelling is certain. */
static void keep_header(struct xmlstream *x)
{
	size_t n;

	if (x->qnames != 1 || strlen(x->stream_qname) + 3 >= sizeof(x->stream_qname))
		return;
	n = strlen(x->stream_qname) + x->decls_len + 3;
	x->header = malloc(n);
	if (x->header == NULL)
		return;
	snprintf(x->header, n, "<%s%s>", x->stream_qname,
		 x->decls != NULL ? x->decls : "");
	x->header_len = n - 1;
}

static void open_stream(struct xmlstream *x, const char *nsname,
			const char **atts)
{
	const char **v = NULL;
	char (*names)[48] = NULL;
	size_t n = 0, i;

	if (x->replaying) {
		x->depth = 1;
		return;
	}
	if (strcmp(nsname, XMPP_NS_STREAMS "\x1Fstream") != 0) {
		fail(x, "expected <stream:stream> from the server, got another element");
		return;
	}
	keep_header(x);
	while (atts[2 * n] != NULL)
		n++;
	/* A header has a handful; the limit may be set lower than that. */
	if (n > x->lim.attrs && n > 32) {
		fail(x, "too many attributes on the stream header");
		return;
	}
	v = calloc(2 * n + 1, sizeof(*v));
	names = calloc(n + 1, sizeof(*names));
	if (v == NULL || names == NULL) {
		fail(x, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		v[2 * i] = attr_name(atts[2 * i], names[i], sizeof(names[i]));
		v[2 * i + 1] = atts[2 * i + 1];
	}
	x->opened = 1;
	x->depth = 1;
	if (x->cb.open != NULL)
		x->cb.open(x->arg, v);
out:
	free(v);
	free(names);
}

/* Whether NSNAME, an attribute of a stanza's top element, is in a namespace
 * other than xml's and has the local name of a routing attribute. Those are
 * only ever taken from attributes in no namespace: Prosody passes a client's
 * x:from on next to the from it stamps, and without its prefix it would
 * read as the sender. */
static int forged_routing(const char *nsname)
{
	static const char *const routing[] = { "from", "to", "id", "type", "lang" };
	const char *sep = strchr(nsname, NS_SEP);
	size_t i;

	if (sep == NULL ||
	    ((size_t)(sep - nsname) == sizeof(NS_XML) - 1 &&
	     memcmp(nsname, NS_XML, sizeof(NS_XML) - 1) == 0))
		return 0;
	for (i = 0; i < sizeof(routing) / sizeof(routing[0]); i++) {
		if (strcmp(sep + 1, routing[i]) == 0)
			return 1;
	}
	return 0;
}

/* Two attributes of one element would be read under one name (their
 * prefixes dropped), or a namespaced one would stand in for a routing
 * attribute (forged_routing): skip the stanza as a policy violation. At the
 * top (D == 1) what was built is dropped first, so that the skip report
 * reads the routing attributes from ATTS, in no namespace only. */
static void forged(struct xmlstream *x, unsigned d, const char *topname,
		   const char **atts)
{
	if (d == 1) {
		release_tree(x);
		start_skip(x, attr_names, topname, atts);
	} else {
		start_skip(x, attr_names, NULL, NULL);
	}
}

/* Deeper than this in a skipped stanza, xmlstream_feed() scans. */
static unsigned scan_depth(const struct xmlstream *x)
{
	return 2 * x->lim.depth;
}

static void XMLCALL on_start(void *ud, const XML_Char *nsname,
			     const XML_Char **atts)
{
	struct xmlstream *x = ud;
	unsigned long long end = event_end(x);
	struct level *l, *parent;
	const char *name, *ns, *an;
	char xname[48];
	const char *name_top;
	xmpp_stanza_t *s;
	unsigned d, n;
	size_t i;

	if (x->depth == 0) {
		open_stream(x, nsname, atts);
		return;
	}
	if (x->depth == 1) {
		if (strcmp(nsname, XMPP_NS_STREAMS "\x1Fstream") == 0) {
			fail(x, "a second stream header from the server");
			return;
		}
		x->top_start = event_start(x);
		x->elements = 0;
		x->top_line = line(x);
	}
	d = x->depth++;               /* the new element's depth in the stanza */
	if (x->skip_limit != NULL) {
		if (d > scan_depth(x) && !x->scanning) {
			if (x->header == NULL) {
				fail(x, "a skipped stanza nested too deep "
				     "(cannot scan it: odd stream header)");
				return;
			}
			x->scanning = 1;
			x->scan_line = line(x);
			XML_StopParser(x->p, XML_TRUE);
		}
		return;
	}
	name = strchr(nsname, NS_SEP);
	name = name != NULL ? name + 1 : nsname;
	name_top = name;
	if (end - x->top_start > x->lim.stanza_bytes) {
		start_skip(x, "stanza size", name, atts);
		return;
	}
	if (d > x->lim.depth) {
		start_skip(x, "nesting depth", name, atts);
		return;
	}
	if (++x->elements > x->lim.elements) {
		start_skip(x, "elements per stanza", name, atts);
		return;
	}
	parent = d > 1 ? &x->levels[d - 1] : NULL;
	if (parent != NULL && ++parent->children > x->lim.children) {
		start_skip(x, "children per element", name, atts);
		return;
	}
	/* libstrophe would serialise an element of the xml namespace (xml:x)
	 * as <x xmlns='http://www.w3.org/XML/1998/namespace'>, which is not
	 * well-formed: a payload copied into a reply would kill the stream. */
	if (strncmp(nsname, NS_XML "\x1F", sizeof(NS_XML)) == 0 ||
	    strncmp(nsname, NS_XMLNS "\x1F", sizeof(NS_XMLNS)) == 0) {
		start_skip(x, reserved_ns, name, atts);
		return;
	}
	for (n = 0; atts[2 * n] != NULL; n++) {
		if (n >= x->lim.attrs) {
			start_skip(x, "attributes per element", name, atts);
			return;
		}
		if (strlen(atts[2 * n + 1]) > x->lim.attr_bytes) {
			start_skip(x, "attribute size", name, atts);
			return;
		}
	}

	if (parent != NULL && flush_text(x, parent) < 0)
		goto oom;
	s = xmpp_stanza_new(x->ctx);
	if (s == NULL)
		goto oom;
	l = &x->levels[d];
	l->stanza = NULL;
	if (parent != NULL)
		append(parent, s);
	else
		x->levels[1].stanza = s;
	l->stanza = s;
	l->children = 0;
	l->text = 0;
	name = split_name(x, nsname, &ns);
	if (name == NULL || xmpp_stanza_set_name(s, name) != 0)
		goto oom;
	for (i = 0; atts[i] != NULL; i += 2) {
		an = attr_name(atts[i], xname, sizeof(xname));
		/* A prefixed attribute named xmlns would, without its prefix,
		 * turn into a namespace declaration when serialised. */
		if (strcmp(an, "xmlns") == 0)
			continue;
		if ((d == 1 && forged_routing(atts[i])) ||
		    xmpp_stanza_get_attribute(s, an) != NULL) {
			forged(x, d, name_top, atts);
			return;
		}
		if (xmpp_stanza_set_attribute(s, an, atts[i + 1]) != 0)
			goto oom;
	}
	if (ns != NULL && xmpp_stanza_set_ns(s, ns) != 0)
		goto oom;
	return;
oom:
	fail(x, "out of memory while building a stanza");
}

/* Between stanzas: stop for a reset if enough was parsed since the last. */
static void maybe_reset(struct xmlstream *x)
{
	if (x->header == NULL || x->paused || x->failed ||
	    x->mark - x->reset_at < x->lim.stanza_bytes)
		return;
	x->resetting = 1;
	x->reset_line = line(x);
	XML_StopParser(x->p, XML_TRUE);
}

static void XMLCALL on_end(void *ud, const XML_Char *nsname)
{
	struct xmlstream *x = ud;
	unsigned long long end = event_end(x);
	unsigned d;
	xmpp_stanza_t *top;

	(void)nsname;
	if (x->depth == 1) {
		x->depth = 0;
		if (x->cb.close != NULL)
			x->cb.close(x->arg);
		return;
	}
	d = --x->depth;
	if (x->skip_limit == NULL && end - x->top_start > x->lim.stanza_bytes)
		start_skip(x, "stanza size", NULL, NULL);
	if (x->skip_limit != NULL) {
		if (d == 1) {
			report_skip(x);
			maybe_reset(x);
		}
		return;
	}
	if (flush_text(x, &x->levels[d]) < 0) {
		fail(x, "out of memory while building a stanza");
		return;
	}
	if (d > 1)
		return;
	top = x->levels[1].stanza;
	if (x->cb.stanza != NULL)
		x->cb.stanza(x->arg, top);
	release_tree(x);
	maybe_reset(x);
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
	struct xmlstream *x = ud;
	unsigned long long end = event_end(x);
	struct level *l;

	if (x->depth < 2 || x->skip_limit != NULL)
		return;
	l = &x->levels[x->depth - 1];
	l->text += (size_t)len;
	if (l->text > x->lim.text_bytes) {
		start_skip(x, "text size", NULL, NULL);
		return;
	}
	if (end - x->top_start > x->lim.stanza_bytes) {
		start_skip(x, "stanza size", NULL, NULL);
		return;
	}
	if (reserve(&x->text, &x->text_cap, x->text_len + (size_t)len) < 0) {
		fail(x, "out of memory while building a stanza");
		return;
	}
	memcpy(x->text + x->text_len, s, (size_t)len);
	x->text_len += (size_t)len;
}

/* Comments, processing instructions and the XML declaration mean nothing
 * here; they only move the mark (see xmlstream_feed). */
static void XMLCALL on_comment(void *ud, const XML_Char *data)
{
	(void)data;
	event_end(ud);
}

static void XMLCALL on_pi(void *ud, const XML_Char *target, const XML_Char *data)
{
	(void)target;
	(void)data;
	event_end(ud);
}

static void XMLCALL on_xmldecl(void *ud, const XML_Char *version,
			       const XML_Char *encoding, int standalone)
{
	(void)version;
	(void)encoding;
	(void)standalone;
	event_end(ud);
}

static void XMLCALL on_cdata(void *ud)
{
	event_end(ud);
}

static void XMLCALL on_doctype(void *ud, const XML_Char *name,
			       const XML_Char *sysid, const XML_Char *pubid,
			       int has_internal_subset)
{
	(void)name;
	(void)sysid;
	(void)pubid;
	(void)has_internal_subset;
	fail(ud, "a DOCTYPE from the server (refused)");
}

static void XMLCALL on_entity(void *ud, const XML_Char *name, int is_param,
			      const XML_Char *value, int value_len,
			      const XML_Char *base, const XML_Char *sysid,
			      const XML_Char *pubid, const XML_Char *notation)
{
	(void)name;
	(void)is_param;
	(void)value;
	(void)value_len;
	(void)base;
	(void)sysid;
	(void)pubid;
	(void)notation;
	fail(ud, "an entity declaration from the server (refused)");
}

static void set_handlers(struct xmlstream *x)
{
	XML_SetUserData(x->p, x);
	XML_SetElementHandler(x->p, on_start, on_end);
	XML_SetCharacterDataHandler(x->p, on_text);
	XML_SetStartNamespaceDeclHandler(x->p, on_ns_decl);
	XML_SetCommentHandler(x->p, on_comment);
	XML_SetProcessingInstructionHandler(x->p, on_pi);
	XML_SetXmlDeclHandler(x->p, on_xmldecl);
	XML_SetCdataSectionHandler(x->p, on_cdata, on_cdata);
	XML_SetStartDoctypeDeclHandler(x->p, on_doctype);
	XML_SetEntityDeclHandler(x->p, on_entity);
	XML_SetParamEntityParsing(x->p, XML_PARAM_ENTITY_PARSING_NEVER);
#if HAVE_DECL_XML_SETREPARSEDEFERRALENABLED
	/* Deferral can hold back a complete stanza until more bytes arrive,
	 * and a server may send nothing more until we answer it. The cost it
	 * saves (reparsing a split token) is bounded by the token limit. */
	XML_SetReparseDeferralEnabled(x->p, XML_FALSE);
#endif
}


struct xmlstream *xmlstream_new(xmpp_ctx_t *ctx,
				const struct xmlstream_limits *lim,
				const struct xmlstream_callbacks *cb, void *arg)
{
	struct xmlstream *x;

	if (lim->stanza_bytes == 0 || lim->depth == 0 || lim->children == 0 ||
	    lim->elements == 0 ||
	    lim->attrs == 0 || lim->attr_bytes == 0 || lim->text_bytes == 0 ||
	    lim->depth > XMLSTREAM_MAX_DEPTH ||
	    lim->children > XMLSTREAM_MAX_CHILDREN ||
	    lim->attrs > XMLSTREAM_MAX_ATTRS)
		return NULL;
	x = calloc(1, sizeof(*x));
	if (x == NULL)
		return NULL;
	x->ctx = ctx;
	x->lim = *lim;
	x->cb = *cb;
	x->arg = arg;
	x->levels = calloc((size_t)lim->depth + 1, sizeof(*x->levels));
	/* XMPP is UTF-8 whatever the XML declaration says. */
	x->p = XML_ParserCreateNS("UTF-8", NS_SEP);
	if (x->levels == NULL || x->p == NULL)
		goto fail;
	set_handlers(x);
	return x;
fail:
	xmlstream_free(x);
	return NULL;
}

/* Reset expat between stanzas (see struct xmlstream) and replay the
 * header. Returns 0 or -1 (X failed). */
static int restart(struct xmlstream *x)
{
	enum XML_Status st;

	x->resetting = 0;
	if (XML_ParserReset(x->p, "UTF-8") != XML_TRUE) {
		snprintf(x->err, sizeof(x->err), "cannot reset the XML parser");
		x->failed = 1;
		return -1;
	}
	set_handlers(x);
	x->base = x->mark - x->header_len;
	x->line_base = x->reset_line - 1;
	x->depth = 0;
	x->replaying = 1;
	st = XML_Parse(x->p, x->header, (int)x->header_len, XML_FALSE);
	x->replaying = 0;
	if (st != XML_STATUS_OK || x->depth != 1) {
		snprintf(x->err, sizeof(x->err),
			 "cannot replay the stream header after a reset");
		x->failed = 1;
		return -1;
	}
	x->reset_at = x->mark;
	return 0;
}

enum { SC_TEXT, SC_LT, SC_STAG, SC_QUOTE, SC_ETAG, SC_BANG, SC_UNTIL2, SC_PI };

/*
 * Walk LEN bytes of a skipped stanza too deep for expat, counting open
 * elements until it closes. Only as much XML as finding its end needs:
 * tags, quoted attribute values, comments, CDATA sections and processing
 * instructions; the rest is not checked (the stanza is dropped anyway, and
 * expat checks what follows). Returns the bytes used; x->scanning is 0
 * once the stanza's end tag was used. Fails X on a DOCTYPE-like "<!".
 */
static size_t scan(struct xmlstream *x, const char *buf, size_t len)
{
	size_t i;
	char c;

	for (i = 0; i < len && x->scanning; i++) {
		c = buf[i];
		if (c == '\n')
			x->scan_line++;
		switch (x->scan_state) {
		case SC_TEXT:
			if (c == '<')
				x->scan_state = SC_LT;
			break;
		case SC_LT:
			x->scan_slash = 0;
			x->scan_state = c == '/' ? SC_ETAG : c == '!' ? SC_BANG :
					c == '?' ? SC_PI : SC_STAG;
			x->scan_match = 0;
			break;
		case SC_STAG:
			if (c == '\'' || c == '"') {
				x->scan_quote = c;
				x->scan_state = SC_QUOTE;
			} else if (c == '>') {
				if (!x->scan_slash)
					x->scan_depth++;
				x->scan_state = SC_TEXT;
				/* A skipped stanza that is one empty tag. */
				if (x->scan_depth == 0)
					x->scanning = 0;
			}
			x->scan_slash = c == '/';
			break;
		case SC_QUOTE:
			if (c == x->scan_quote)
				x->scan_state = SC_STAG;
			break;
		case SC_ETAG:
			if (c == '>') {
				x->scan_state = SC_TEXT;
				if (--x->scan_depth == 0)
					x->scanning = 0;
			}
			break;
		case SC_BANG:
			/* "<!--" ends at "-->", "<![CDATA[" at "]]>". */
			if (c != '-' && c != '[') {
				x->scanning = 0;
				snprintf(x->err, sizeof(x->err), "markup other "
					 "than a comment or CDATA section (\"<!\") "
					 "in a skipped stanza at line %lu (byte "
					 "%llu of the stream)", x->scan_line,
					 x->mark + i);
				x->failed = 1;
				return i;
			}
			x->scan_quote = c == '-' ? '-' : ']';
			x->scan_state = SC_UNTIL2;
			x->scan_match = -1;  /* the opening's second '-' or "CDATA[" */
			break;
		case SC_UNTIL2:
			if (x->scan_match < 0) {
				if (c == x->scan_quote || c == '[')
					x->scan_match = 0;
				break;
			}
			if (c == '>' && x->scan_match == 2)
				x->scan_state = SC_TEXT;
			else if (c == x->scan_quote)
				x->scan_match += x->scan_match < 2;
			else
				x->scan_match = 0;
			break;
		case SC_PI:
			if (c == '>' && x->scan_match == 1)
				x->scan_state = SC_TEXT;
			else
				x->scan_match = c == '?';
			break;
		}
	}
	return i;
}

static void expat_error(struct xmlstream *x)
{
	enum XML_Error e = XML_GetErrorCode(x->p);
	const char *what = XML_ErrorString(e);

	if (e == XML_ERROR_JUNK_AFTER_DOC_ELEMENT)
		what = "data after </stream:stream>";
	snprintf(x->err, sizeof(x->err),
		 "malformed XML from the server at line %lu (byte %llu of the "
		 "stream): %s", line(x),
		 event_start(x),
		 what != NULL ? what : "unknown error");
	x->failed = 1;
}

static int raw_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The value of attribute NAME (in no namespace: a prefixed name never
 * matches) in the start tag at TAG (LEN bytes, from its '<'), with the
 * five predefined entities decoded, as a malloc'd string; NULL when absent,
 * over limits.attribute_bytes, or holding another reference. */
static char *raw_attr(const struct xmlstream *x, const char *tag, size_t len,
		      const char *name)
{
	static const char *const ents[][2] = {
		{ "&amp;", "&" }, { "&lt;", "<" }, { "&gt;", ">" },
		{ "&apos;", "'" }, { "&quot;", "\"" },
	};
	size_t i = 1, nl = strlen(name), ns, ne, vs, ve, o, k;
	char q, *v;

	while (i < len && !raw_space(tag[i]) && tag[i] != '>' && tag[i] != '/')
		i++;                    /* the element's name */
	for (;;) {
		while (i < len && raw_space(tag[i]))
			i++;
		if (i >= len || tag[i] == '>' || tag[i] == '/')
			return NULL;
		ns = i;
		while (i < len && tag[i] != '=' && !raw_space(tag[i]))
			i++;
		ne = i;
		while (i < len && tag[i] != '\'' && tag[i] != '"')
			i++;
		if (i >= len)
			return NULL;
		q = tag[i++];
		vs = i;
		while (i < len && tag[i] != q)
			i++;
		if (i >= len)
			return NULL;
		ve = i++;
		if (ne - ns == nl && memcmp(tag + ns, name, nl) == 0)
			break;
	}
	if (ve - vs > x->lim.attr_bytes || (v = malloc(ve - vs + 1)) == NULL)
		return NULL;
	for (o = 0, i = vs; i < ve;) {
		if (tag[i] != '&') {
			v[o++] = tag[i++];
			continue;
		}
		for (k = 0; k < sizeof(ents) / sizeof(ents[0]); k++) {
			size_t el = strlen(ents[k][0]);

			if (ve - i >= el && memcmp(tag + i, ents[k][0], el) == 0) {
				v[o++] = ents[k][1][0];
				i += el;
				break;
			}
		}
		if (k == sizeof(ents) / sizeof(ents[0])) {
			free(v);
			return NULL;
		}
	}
	v[o] = '\0';
	return v;
}

/* Fill the skip report from the raw start tag at TAG (LEN bytes of it or
 * more), which expat refused: its local name and the routing attributes in
 * no namespace. */
static void skip_from_raw_tag(struct xmlstream *x, const char *tag, size_t len)
{
	static const char *const keys[SK_N] = { NULL, "type", "id", "from", "to" };
	size_t end, nb, ne;
	char q = 0;
	int k;

	for (end = 0; end < len; end++) {
		if (q != 0) {
			if (tag[end] == q)
				q = 0;
		} else if (tag[end] == '\'' || tag[end] == '"') {
			q = tag[end];
		} else if (tag[end] == '>') {
			break;
		}
	}
	if (end >= len || len == 0 || tag[0] != '<')
		return;
	for (nb = 1, ne = 1; ne < end && !raw_space(tag[ne]) && tag[ne] != '/';
	     ne++)
		if (tag[ne] == ':')
			nb = ne + 1;
	if (x->skip[SK_NAME] == NULL && ne > nb && ne - nb < 64 &&
	    (x->skip[SK_NAME] = malloc(ne - nb + 1)) != NULL) {
		memcpy(x->skip[SK_NAME], tag + nb, ne - nb);
		x->skip[SK_NAME][ne - nb] = '\0';
	}
	for (k = SK_TYPE; k < SK_N; k++) {
		if (x->skip[k] == NULL)
			x->skip[k] = raw_attr(x, tag, end + 1, keys[k]);
	}
}

/*
 * Expat refuses a prefix bound to the xml namespace's URI (xmlns:ns1=
 * 'http://www.w3.org/XML/1998/namespace'), which is well-formed XML but not
 * namespace-well-formed. Prosody writes exactly that for a client's
 * attribute xml:foo (any name but lang, space, base and id), so any user
 * could cut the link with one stanza. The tag is local to one stanza: skip
 * that stanza with scan() from the tag on, as for one nested too deep, and
 * go on with a reset parser once it ends. *BUF and *LEN are the piece of N
 * bytes the caller fed expat and what follows it: on success they point at
 * the bytes to scan next (the tag's start, or the piece's start when the
 * tag began in an earlier piece: that part, at most one token, is scanned
 * here). Nothing is copied but that part, and nothing recurses, so a read
 * full of such stanzas costs what one costs, each. Returns 0, or -1 when
 * the error is another or cannot be recovered from.
 */
static int skip_reserved(struct xmlstream *x, const char **buf, size_t *len,
			 size_t n)
{
	enum XML_Error e = XML_GetErrorCode(x->p);
	unsigned long long at = event_start(x), piece = x->fed - n;
	unsigned long at_line = line(x);
	const char *ctx;
	int off = 0, size = 0;
	size_t k;

	if ((e != XML_ERROR_RESERVED_NAMESPACE_URI &&
	     e != XML_ERROR_RESERVED_PREFIX_XML &&
	     e != XML_ERROR_RESERVED_PREFIX_XMLNS) ||
	    !x->opened || x->depth == 0 || x->header == NULL || x->scanning ||
	    x->replaying)
		return -1;
	ctx = XML_GetInputContext(x->p, &off, &size);
	if (ctx == NULL || off < 0 || size < off ||
	    at + (unsigned long long)(size - off) != x->fed)
		return -1;
	if (x->skip_limit == NULL) {
		if (x->depth == 1) {
			/* The stanza's own start tag: nothing of it was
			 * read, but its routing attributes are in its bytes. */
			x->top_start = at;
			x->top_line = at_line;
		}
		start_skip(x, reserved_ns, NULL, NULL);
		if (x->depth == 1)
			skip_from_raw_tag(x, ctx + off, (size_t)(size - off));
	}
	x->fed = x->mark = at;
	x->scanning = 1;
	x->scan_state = SC_TEXT;
	x->scan_depth = x->depth - 1;
	x->scan_line = at_line;
	if (at >= piece) {
		*buf += at - piece;
		*len -= at - piece;
		return 0;
	}
	/* The tag began in an earlier piece: scan that part of it from
	 * expat's buffer; its end, and so the stanza's, is in this piece. */
	k = scan(x, ctx + off, (size_t)(piece - at));
	x->fed += k;
	x->mark += k;
	return x->failed || !x->scanning || x->fed != piece ? -1 : 0;
}

int xmlstream_feed(struct xmlstream *x, const char *buf, size_t len)
{
	enum XML_Status st;
	size_t n, rest;

	if (x->failed)
		return -1;
	if (x->paused) {
		snprintf(x->err, sizeof(x->err),
			 "fed after a pause (the parser is finished)");
		x->failed = 1;
		return -1;
	}
	while (len > 0) {
		if (x->scanning) {
			n = scan(x, buf, len);
			x->fed += n;
			x->mark += n;
			buf += n;
			len -= n;
			if (x->failed)
				return -1;
			if (x->scanning)
				return 0;
			report_skip(x);
			if (x->paused) {
				x->unparsed = len;
				return 0;
			}
			x->reset_line = x->scan_line;
			if (restart(x) < 0)
				return -1;
			continue;
		}
		n = len > INT_MAX / 2 ? INT_MAX / 2 : len;
		x->fed += n;
		st = XML_Parse(x->p, buf, (int)n, XML_FALSE);
		if (st == XML_STATUS_SUSPENDED && (x->resetting || x->scanning)) {
			/* Feed what the stop left of this piece to the new
			 * parser, or to scan(). */
			rest = (size_t)(x->fed - x->mark);
			x->fed -= rest;
			buf += n - rest;
			len -= n - rest;
			if (x->scanning) {
				x->scan_state = SC_TEXT;
				x->scan_depth = x->depth - 1;
				continue;
			}
			if (restart(x) < 0)
				return -1;
			continue;
		}
		if (st != XML_STATUS_OK) {
			if (x->paused) {
				x->unparsed = (size_t)(x->fed - x->mark) + (len - n);
				return 0;
			}
			if (!x->failed && skip_reserved(x, &buf, &len, n) == 0)
				continue;
			if (!x->failed)
				expat_error(x);
			return -1;
		}
		buf += n;
		len -= n;
		/* Expat keeps a token it has not seen the end of; bound it. */
		if (x->fed - x->mark > x->lim.stanza_bytes) {
			snprintf(x->err, sizeof(x->err),
				 "one tag, comment or CDATA section from the "
				 "server is longer than %zu bytes (stanza size "
				 "limit), from byte %llu of the stream",
				 x->lim.stanza_bytes, x->mark);
			x->failed = 1;
			return -1;
		}
		/* A stanza still open over the limit: skip it now rather than
		 * collect more of it. */
		if (x->depth >= 2 && x->skip_limit == NULL &&
		    x->fed - x->top_start > x->lim.stanza_bytes)
			start_skip(x, "stanza size", NULL, NULL);
	}
	return 0;
}

const char *xmlstream_error(const struct xmlstream *x)
{
	return x->failed ? x->err : "";
}

void xmlstream_pause(struct xmlstream *x)
{
	if (x->paused || x->failed)
		return;
	x->paused = 1;
	XML_StopParser(x->p, XML_FALSE);
}

size_t xmlstream_unparsed(const struct xmlstream *x)
{
	return x->paused ? x->unparsed : 0;
}

int xmlstream_at_boundary(const struct xmlstream *x)
{
	return x->opened && !x->failed && !x->paused && !x->scanning &&
	       x->depth == 1 && x->fed == x->mark;
}

const char *xmlstream_header(const struct xmlstream *x, size_t *len)
{
	*len = x->header != NULL ? x->header_len : 0;
	return x->header;
}

unsigned long long xmlstream_offset(const struct xmlstream *x)
{
	return x->mark;
}

void xmlstream_free(struct xmlstream *x)
{
	if (x == NULL)
		return;
	if (x->levels != NULL)
		release_tree(x);
	clear_skip(x);
	free(x->header);
	free(x->decls);
	if (x->p != NULL)
		XML_ParserFree(x->p);
	free(x->levels);
	free(x->text);
	free(x->scratch);
	free(x);
}
