/* SPDX-License-Identifier: MIT */
/* pool.h: ope's half of the pool protocol (doc/pool-protocol.md): the instance name and its announcement after the handshake. */
#ifndef OPE_POOL_H
#define OPE_POOL_H

#include <stddef.h>
#include <strophe.h>

#include "link_state.h"

/* The announcement's namespace (doc/pool-protocol.md, 2). */
#define POOL_NS "urn:xmpp:ope:pool:0"
/* Longest instance name, in bytes. */
#define POOL_NAME_MAX 64

struct link;

/* 1 when NAME is a valid instance name: 1-64 bytes of A-Z a-z 0-9 and
 * . _ : @ / -; 0 otherwise. */
int pool_name_valid(const char *name);

/* The default instance name, "<short host name>-<pid>", into BUF (LEN
 * bytes, at least POOL_NAME_MAX + 1): bytes outside the allowed set become
 * '-', and the host part is cut so that the pid always fits. */
void pool_default_name(char *buf, size_t len);

enum pool_phase {
	POOL_IDLE,   /* nothing sent on this stream (yet) */
	POOL_ASKED,  /* announcement sent, no answer yet */
	POOL_DONE,   /* answered (or adopted: announced by the predecessor) */
};

/* What an answer said (pool_on_stanza). */
enum pool_outcome {
	POOL_NOT_OURS,   /* not the answer to our announcement */
	POOL_JOINED,     /* result: in the pool, *SIZE connections */
	POOL_NO_MODULE,  /* another error: the server routes by itself */
	POOL_CONFLICT,   /* conflict: the name is taken by a live connection */
	POOL_BAD_NAME,   /* bad-request: the module refused the name */
	POOL_DUPLICATE,  /* the same answer again, or one after the outcome */
};

/* The announcement on one link; plain data, no allocation. */
struct pool {
	char name[POOL_NAME_MAX + 1]; /* this instance's name */
	enum pool_phase phase;
	int configured;            /* the name is component.instance's */
	int adopted;               /* the current stream came by takeover */
	char id[48];               /* "pool-" + 32 random hex */
	char server[256];          /* where it went: its answer comes from there */
	struct link *link;         /* pool_attach(); borrowed */
	char domain[256];          /* pool_attach(): the component's */
};

/* Reset P with NAME (component.instance, a valid one), or the default
 * name when NAME is NULL. */
void pool_init(struct pool *p, const char *name);

/* Write the announcement from DOMAIN (the component) to SERVER into BUF
 * (LEN bytes, NUL-terminated), with an id of 128 bits from getrandom().
 * Returns its length, or -1 if BUF is too small, a domain would need
 * escaping or is too long, or no random bytes are to be had (P then stays
 * as it was). */
int pool_announce(struct pool *p, const char *domain, const char *server,
		  char *buf, size_t len);

/* A stanza ST arrived: its outcome when it is the answer to the
 * announcement (an iq result or error with the id sent, from the server it
 * went to); *SIZE (may be NULL) gets the pool's size from a result (0 when
 * it gives none). */
enum pool_outcome pool_on_stanza(struct pool *p, xmpp_stanza_t *st,
				 unsigned long *size);

/* ---- on a live link (main.c) ---- */

/* Announce on L (borrowed, must outlive P) for DOMAIN (copied) at every
 * fresh stream: claims the answers from L (link_add_claim) and logs them.
 * Returns 0, or -1 when L has no room for another claimer. */
int pool_attach(struct pool *p, struct link *l, const char *domain);

/* The current stream was taken over (link_adopt()): the predecessor
 * announced it, so the next LINK_UP sends nothing. NAME (the
 * predecessor's; "" when it passed none) becomes P's name unless
 * component.instance set one (then that one is announced from the next
 * fresh stream on). */
void pool_adopted(struct pool *p, const char *name);

/* Tell P about the link's state (from the link's observer): LINK_UP on a
 * fresh stream sends the announcement. */
void pool_link_state(struct pool *p, enum link_state state);

#endif
