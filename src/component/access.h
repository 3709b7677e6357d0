/* SPDX-License-Identifier: MIT */
/* access.h: the permission table: rules matched on a sender's bare JID, first match wins. */
#ifndef OPE_ACCESS_H
#define OPE_ACCESS_H

#include <stddef.h>

/* The longest normalised bare JID handled: RFC 7622's 1023-byte local and
 * domain parts, the '@' and a NUL. */
#define ACCESS_BARE_MAX 2048

enum access_action {
	ACCESS_ALLOW = 0,
	ACCESS_DENY,
};

/* What a pattern matches. */
enum access_kind {
	ACCESS_EXACT = 0,   /* "user@example.org": that bare JID */
	ACCESS_USERS,       /* "*@example.org": every user of example.org */
	ACCESS_DOMAIN,      /* "example.org": the domain itself and its users */
	ACCESS_SUBDOMAINS,  /* "*.example.org": every proper subdomain of it,
	                       and their users */
	ACCESS_ANY,         /* "*": everyone */
};

/* One rule, as loaded. Strings are owned by the table. */
struct access_rule {
	enum access_kind kind;
	char *pattern;          /* prepared as access_normalise() prepares
	                           senders ("*@xn--bcher-kva.example") */
	enum access_action action;
	char *password;         /* a crypt(5) hash the request must match, or NULL */
	char *where;            /* "FILE:LINE" of the rule, for logs */
};

struct access_table;

/* An empty table whose senders that match no rule get DEF. NULL when out
 * of memory. Free with access_table_free(). */
struct access_table *access_table_new(enum access_action def);

void access_table_free(struct access_table *t);

/* Append a rule (tried after the ones already added). MATCH is normalised
 * and checked; PASSWORD (a hash already checked by the caller, or NULL) and
 * WHERE are copied. Returns 0; -1 with a message ("'x@' is not a valid
 * pattern: ...") in ERR for a malformed MATCH; -2 when out of memory. */
int access_table_add(struct access_table *t, const char *match,
		     enum access_action action, const char *password,
		     const char *where, char *err, size_t errlen);

/* The first rule matching BARE, a bare JID normalised by
 * access_normalise(), in a few hash lookups whatever the number of rules;
 * NULL when none matches (the default applies). Borrowed from T. */
const struct access_rule *access_table_match(const struct access_table *t,
					     const char *bare);

enum access_action access_table_default(const struct access_table *t);

/* Change what senders that match no rule get. */
void access_table_set_default(struct access_table *t, enum access_action def);

size_t access_table_count(const struct access_table *t);

/* The bare JID of JID (full or bare) in OUT (size OUTLEN), prepared as
 * servers compare JIDs and as rules are stored (jid_prep(): nodeprep,
 * nameprep to lower-case A-labels, no trailing dot). Returns its length,
 * or -1 when JID is malformed, fails preparation or does not fit. */
int access_normalise(const char *jid, char *out, size_t outlen);

#endif
