/* SPDX-License-Identifier: MIT */
/* access.c: the permission table: rules matched on a sender's bare JID, first match wins. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "hash.h"
#include "jid.h"
#include "util.h"

#define NO_RULE SIZE_MAX

/* One index slot: the first rule with pattern KEY of kind KIND. */
struct slot {
	char *key;              /* NULL: empty slot */
	size_t len;
	enum access_kind kind;
	uint64_t hash;
	size_t rule;
};

struct access_table {
	struct access_rule *rules;
	size_t nrules, cap;
	enum access_action def;
	size_t any;             /* first "*" rule, or NO_RULE */
	struct slot *slots;     /* open addressing, at most half full */
	size_t nslots, used;
	uint8_t seed[16];
};

struct access_table *access_table_new(enum access_action def)
{
	struct access_table *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->def = def;
	t->any = NO_RULE;
	hash_random_key(t->seed);
	return t;
}

void access_table_free(struct access_table *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nrules; i++) {
		free(t->rules[i].pattern);
		free(t->rules[i].password);
		free(t->rules[i].where);
	}
	for (i = 0; i < t->nslots; i++)
		free(t->slots[i].key);
	free(t->rules);
	free(t->slots);
	free(t);
}

enum access_action access_table_default(const struct access_table *t)
{
	return t->def;
}

void access_table_set_default(struct access_table *t, enum access_action def)
{
	t->def = def;
}

size_t access_table_count(const struct access_table *t)
{
	return t->nrules;
}

static uint64_t slot_hash(const struct access_table *t, enum access_kind kind,
			  const char *key, size_t len)
{
	/* The kind keeps "example.org" the domain apart from "*@example.org". */
	return hash_sip(t->seed, key, len) ^ ((uint64_t)kind * 0x9e3779b97f4a7c15ULL);
}

static const struct slot *slot_find(const struct access_table *t,
				    enum access_kind kind, const char *key,
				    size_t len)
{
	uint64_t h;
	size_t i;

	if (t->nslots == 0)
		return NULL;
	h = slot_hash(t, kind, key, len);
	for (i = h & (t->nslots - 1);; i = (i + 1) & (t->nslots - 1)) {
		const struct slot *s = &t->slots[i];

		if (s->key == NULL)
			return NULL;
		if (s->hash == h && s->kind == kind && s->len == len &&
		    memcmp(s->key, key, len) == 0)
			return s;
	}
}

static void slot_put(struct slot *slots, size_t nslots, const struct slot *s)
{
	size_t i;

	for (i = s->hash & (nslots - 1); slots[i].key != NULL;
	     i = (i + 1) & (nslots - 1))
		;
	slots[i] = *s;
}

/* Index KEY for rule RULE unless an earlier rule has the same pattern (the
 * first one wins, so the later one can never match). KEY is adopted. */
static int slot_add(struct access_table *t, enum access_kind kind, char *key,
		    size_t rule)
{
	struct slot s = { key, strlen(key), kind, 0, rule };

	if (slot_find(t, kind, key, s.len) != NULL) {
		free(key);
		return 0;
	}
	if (2 * (t->used + 1) > t->nslots) {
		size_t n = t->nslots ? 2 * t->nslots : 16, i;
		struct slot *grown = calloc(n, sizeof(*grown));

		if (grown == NULL) {
			free(key);
			return -1;
		}
		for (i = 0; i < t->nslots; i++)
			if (t->slots[i].key != NULL)
				slot_put(grown, n, &t->slots[i]);
		free(t->slots);
		t->slots = grown;
		t->nslots = n;
	}
	s.hash = slot_hash(t, kind, key, s.len);
	slot_put(t->slots, t->nslots, &s);
	t->used++;
	return 0;
}

int access_normalise(const char *jid, char *out, size_t outlen)
{
	return jid_prep(jid, 1, out, outlen);
}

/* RFC 7622 3.3.1's characters a localpart may not hold, and '*', which
 * only a whole "*" localpart may be: checked before nodeprep for a
 * message that names them. */
static int local_valid(const char *local, size_t len)
{
	size_t i;

	if (len == 0 || len > JID_PART_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (strchr("\"&'/:<>@* \t\r\n", local[i]) != NULL ||
		    (unsigned char)local[i] < 0x20 || local[i] == 0x7f)
			return 0;
	return 1;
}

/* Prepare and check the domain DOMAIN (LEN bytes) of a pattern into a new
 * string, in the form access_normalise() gives senders' domains. */
static char *domain_norm(const char *domain, size_t len, const char **why)
{
	char buf[JID_PART_MAX + 1], *d;

	*why = "not a valid domain";
	if (jid_nameprep(domain, len, buf, sizeof(buf)) < 0 ||
	    strchr(buf, '*') != NULL || !jid_domain_valid(buf))
		return NULL;
	if ((d = strdup(buf)) == NULL)
		*why = NULL;
	return d;
}

int access_table_add(struct access_table *t, const char *match,
		     enum access_action action, const char *password,
		     const char *where, char *err, size_t errlen)
{
	struct access_rule r = { .action = action };
	const char *why = "", *at, *dom;
	char *key = NULL, local[JID_PART_MAX + 1];
	size_t idx = t->nrules;

	if (strchr(match, '/') != NULL) {
		snprintf(err, errlen, "'%s' is not a valid pattern: rules match "
			 "bare JIDs; drop the '/resource'", match);
		return -1;
	}
	at = strchr(match, '@');
	if (strcmp(match, "*") == 0) {
		r.kind = ACCESS_ANY;
	} else if (at != NULL) {
		size_t llen = (size_t)(at - match);

		dom = at + 1;
		if (llen == 1 && match[0] == '*') {
			r.kind = ACCESS_USERS;
		} else if (!local_valid(match, llen)) {
			snprintf(err, errlen, "'%s' is not a valid pattern: the part "
				 "before '@' must be '*' or a localpart without "
				 "spaces or any of \" & ' / : < > @ *", match);
			return -1;
		} else if (jid_nodeprep(match, llen, local, sizeof(local)) < 0) {
			snprintf(err, errlen, "'%s' is not a valid pattern: the part "
				 "before '@' is not a valid XMPP localpart "
				 "(nodeprep, RFC 6122, refuses it)", match);
			return -1;
		} else {
			r.kind = ACCESS_EXACT;
		}
		if ((key = domain_norm(dom, strlen(dom), &why)) == NULL)
			goto bad_domain;
		if (r.kind == ACCESS_EXACT) {
			size_t n = strlen(local) + 1 + strlen(key) + 1;
			char *full = malloc(n);

			if (full == NULL)
				goto oom;
			snprintf(full, n, "%s@%s", local, key);
			free(key);
			key = full;
		}
	} else if (strncmp(match, "*.", 2) == 0) {
		r.kind = ACCESS_SUBDOMAINS;
		dom = match + 2;
		if ((key = domain_norm(dom, strlen(dom), &why)) == NULL)
			goto bad_domain;
	} else {
		r.kind = ACCESS_DOMAIN;
		dom = match;
		if ((key = domain_norm(dom, strlen(dom), &why)) == NULL)
			goto bad_domain;
	}
	if (util_grow(&t->rules, &t->cap, t->nrules + 1, sizeof(*t->rules),
		      16) < 0)
		goto oom;
	if (r.kind == ACCESS_ANY)
		r.pattern = strdup("*");
	else if (r.kind == ACCESS_USERS || r.kind == ACCESS_SUBDOMAINS) {
		size_t n = strlen(key) + 3;

		if ((r.pattern = malloc(n)) != NULL)
			snprintf(r.pattern, n, "%s%s",
				 r.kind == ACCESS_USERS ? "*@" : "*.", key);
	} else
		r.pattern = strdup(key);
	r.where = strdup(where ? where : "");
	if (password != NULL)
		r.password = strdup(password);
	if (r.pattern == NULL || r.where == NULL ||
	    (password != NULL && r.password == NULL))
		goto oom;
	if (r.kind == ACCESS_ANY) {
		if (t->any == NO_RULE)
			t->any = idx;
		free(key);
	} else if (slot_add(t, r.kind, key, idx) != 0) {
		key = NULL;
		goto oom;
	}
	t->rules[t->nrules++] = r;
	return 0;
bad_domain:
	if (why == NULL)
		goto oom;
	snprintf(err, errlen, "'%s' is not a valid pattern: '%s' is %s (use "
		 "user@domain, *@domain, domain, *.domain or *)", match, dom, why);
	return -1;
oom:
	free(key);
	free(r.pattern);
	free(r.where);
	free(r.password);
	snprintf(err, errlen, "out of memory");
	return -2;
}

static void best_of(const struct access_table *t, enum access_kind kind,
		    const char *key, size_t len, size_t *best)
{
	const struct slot *s = slot_find(t, kind, key, len);

	if (s != NULL && s->rule < *best)
		*best = s->rule;
}

const struct access_rule *access_table_match(const struct access_table *t,
					     const char *bare)
{
	const char *at = strchr(bare, '@'), *domain = at ? at + 1 : bare, *p;
	size_t best = t->any, dlen = strlen(domain);

	if (t->nslots > 0) {
		if (at != NULL) {
			best_of(t, ACCESS_EXACT, bare, strlen(bare), &best);
			best_of(t, ACCESS_USERS, domain, dlen, &best);
		}
		best_of(t, ACCESS_DOMAIN, domain, dlen, &best);
		/* Every parent: a.b.example.org is under b.example.org,
		 * example.org and org. */
		for (p = strchr(domain, '.'); p != NULL; p = strchr(p + 1, '.'))
			best_of(t, ACCESS_SUBDOMAINS, p + 1,
				dlen - (size_t)(p + 1 - domain), &best);
	}
	return best == NO_RULE ? NULL : &t->rules[best];
}
