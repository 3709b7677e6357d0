/* SPDX-License-Identifier: MIT */
/* pool.c: the instance name, the announcement after the handshake and its answer (doc/pool-protocol.md, 2). */
#include "pool.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <unistd.h>

#include "drain.h"
#include "jid.h"
#include "link.h"
#include "log.h"

#define STANZAS_NS "urn:ietf:params:xml:ns:xmpp-stanzas"

static int name_byte(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || strchr("._:@/-", c) != NULL;
}

int pool_name_valid(const char *name)
{
	size_t n = 0;

	if (name == NULL)
		return 0;
	for (; name[n] != '\0'; n++)
		if (n >= POOL_NAME_MAX || !name_byte((unsigned char)name[n]))
			return 0;
	return n > 0;
}

void pool_default_name(char *buf, size_t len)
{
	char host[256] = "", pid[24];
	size_t room, i, n;

	snprintf(pid, sizeof(pid), "-%ld", (long)getpid());
	if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0')
		strcpy(host, "ope");
	host[strcspn(host, ".")] = '\0';
	if (host[0] == '\0')
		strcpy(host, "ope");
	room = (len < POOL_NAME_MAX + 1 ? len : POOL_NAME_MAX + 1) - 1;
	n = strlen(host);
	if (n + strlen(pid) > room)
		n = room > strlen(pid) ? room - strlen(pid) : 0;
	for (i = 0; i < n; i++)
		buf[i] = name_byte((unsigned char)host[i]) ? host[i] : '-';
	snprintf(buf + n, len - n, "%s", pid);
}

void pool_init(struct pool *p, const char *name)
{
	memset(p, 0, sizeof(*p));
	p->configured = name != NULL && pool_name_valid(name);
	if (p->configured)
		strcpy(p->name, name);
	else
		pool_default_name(p->name, sizeof(p->name));
}

/* Domains come from the checked configuration; refuse anything that
 * would need escaping rather than escape it (as drain.c). */
static int plain_attr(const char *s)
{
	return s[0] != '\0' && strpbrk(s, "'\"<>&") == NULL;
}

/* "pool-" and 128 random bits in hex into ID: any user can send the
 * component an IQ result with any id, so only an id nobody can guess and
 * the from tell the real answer. 0, or -1 without random bytes. */
static int random_id(char id[48])
{
	unsigned char r[16];
	size_t i;

	if (getrandom(r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
		return -1;
	memcpy(id, "pool-", 5);
	for (i = 0; i < sizeof(r); i++)
		snprintf(id + 5 + 2 * i, 3, "%02x", r[i]);
	return 0;
}

int pool_announce(struct pool *p, const char *domain, const char *server,
		  char *buf, size_t len)
{
	char id[48];
	int n;

	if (!plain_attr(domain) || !plain_attr(server) ||
	    strlen(server) >= sizeof(p->server) || random_id(id) < 0)
		return -1;
	/* The name needs no escaping: pool_name_valid()'s bytes only. */
	n = snprintf(buf, len, "<iq type='set' id='%s' from='%s' to='%s'>"
		     "<instance xmlns='" POOL_NS "' name='%s'/></iq>",
		     id, domain, server, p->name);
	if (n < 0 || (size_t)n >= len)
		return -1;
	strcpy(p->id, id);
	strcpy(p->server, server);
	p->phase = POOL_ASKED;
	return n;
}

/* The defined condition of an error stanza ST, or "". */
static const char *condition(xmpp_stanza_t *st)
{
	xmpp_stanza_t *err = xmpp_stanza_get_child_by_name(st, "error"), *c;
	const char *ns, *name;

	for (c = err ? xmpp_stanza_get_children(err) : NULL; c != NULL;
	     c = xmpp_stanza_get_next(c)) {
		ns = xmpp_stanza_get_ns(c);
		name = xmpp_stanza_get_name(c);
		if (name != NULL && ns != NULL && strcmp(ns, STANZAS_NS) == 0 &&
		    strcmp(name, "text") != 0)
			return name;
	}
	return "";
}

/* The size='N' of the result's <pool/>, or 0. */
static unsigned long pool_size(xmpp_stanza_t *st)
{
	xmpp_stanza_t *c = xmpp_stanza_get_child_by_name_and_ns(st, "pool",
								   POOL_NS);
	const char *v = c ? xmpp_stanza_get_attribute(c, "size") : NULL;
	unsigned long n = 0;

	for (; v != NULL && *v >= '0' && *v <= '9' && n < 1000000000ul; v++)
		n = n * 10 + (unsigned long)(*v - '0');
	return n;
}

enum pool_outcome pool_on_stanza(struct pool *p, xmpp_stanza_t *st,
				 unsigned long *size)
{
	const char *name, *type, *id, *from, *cond;
	int result;

	if (size != NULL)
		*size = 0;
	/* On every stanza: the cheapest tests first, one lookup each. */
	if (p->id[0] == '\0' || (name = xmpp_stanza_get_name(st)) == NULL ||
	    strcmp(name, "iq") != 0 || (id = xmpp_stanza_get_id(st)) == NULL ||
	    strcmp(id, p->id) != 0)
		return POOL_NOT_OURS;
	type = xmpp_stanza_get_type(st);
	from = xmpp_stanza_get_from(st);
	if (from == NULL || strcasecmp(from, p->server) != 0 || type == NULL)
		return POOL_NOT_OURS;
	result = strcmp(type, "result") == 0;
	if (!result && strcmp(type, "error") != 0)
		return POOL_NOT_OURS;
	if (p->phase != POOL_ASKED)
		return POOL_DUPLICATE;
	p->phase = POOL_DONE;
	if (result) {
		if (size != NULL)
			*size = pool_size(st);
		return POOL_JOINED;
	}
	cond = condition(st);
	if (strcmp(cond, "conflict") == 0)
		return POOL_CONFLICT;
	if (strcmp(cond, "bad-request") == 0)
		return POOL_BAD_NAME;
	return POOL_NO_MODULE;
}

/* ---- on a live link ---------------------------------------------------- */

/* link_claim_fn: take the announcement's answer, say what it means. */
static int claim(void *arg, xmpp_stanza_t *st)
{
	struct pool *p = arg;
	unsigned long n = 0;
	char esc[100];

	switch (pool_on_stanza(p, st, &n)) {
	case POOL_NOT_OURS:
		return 0;
	case POOL_JOINED:
		log_info("in the pool on %s as %s (%lu connection%s)",
			 p->server, p->name, n, n == 1 ? "" : "s");
		break;
	case POOL_NO_MODULE:
		/* The condition came off the wire. */
		log_info("%s routes by itself: no pool module (%s)", p->server,
			 condition(st)[0] ? log_escape(esc, sizeof(esc),
						       condition(st)) :
			 "an error");
		break;
	case POOL_CONFLICT:
		log_warn("%s refused the instance name '%s': another live "
			 "connection of the pool uses it (conflict); give each "
			 "ope-component its own component.instance", p->server,
			 p->name);
		break;
	case POOL_BAD_NAME:
		log_warn("%s refused the instance name '%s' (bad-request); "
			 "check component.instance", p->server, p->name);
		break;
	case POOL_DUPLICATE:
	default:
		break;
	}
	return 1;
}

int pool_attach(struct pool *p, struct link *l, const char *domain)
{
	p->link = l;
	snprintf(p->domain, sizeof(p->domain), "%s", domain);
	return link_add_claim(l, claim, p);
}

void pool_adopted(struct pool *p, const char *name)
{
	p->adopted = 1;
	p->phase = POOL_DONE;
	if (!pool_name_valid(name) || strcmp(name, p->name) == 0)
		return;
	if (!p->configured) {
		strcpy(p->name, name);
		log_info("instance name '%s' kept from the predecessor", name);
	} else {
		log_info("the server knows this stream as instance '%s'; "
			 "component.instance '%s' is announced from the next "
			 "connection on", name, p->name);
	}
}

void pool_link_state(struct pool *p, enum link_state state)
{
	char text[1200];
	const char *server;

	if (state != LINK_UP) {
		p->adopted = 0;
		p->phase = POOL_IDLE;
		return;
	}
	if (p->adopted) {
		p->adopted = 0;
		return;
	}
	if (p->link == NULL || p->phase != POOL_IDLE)
		return;
	server = jid_parent_domain(p->domain);
	if (pool_announce(p, p->domain, server, text, sizeof(text)) < 0 ||
	    link_send_raw(p->link, text) < 0) {
		p->phase = POOL_DONE;
		log_warn("cannot announce instance '%s' to %s (out of memory, "
			 "or no random bytes for the request's id yet): the "
			 "server's pool module, if any, knows this connection "
			 "by a name of its own", p->name, server);
	}
}
