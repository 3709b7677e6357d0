/* SPDX-License-Identifier: MIT */
/* ext.h: the interface every protocol extension implements (one file each), and their registry. */
#ifndef OPE_EXT_H
#define OPE_EXT_H

#include <stddef.h>
#include <time.h>
#include <strophe.h>

#include "ns.h"
#include "stanza.h"

struct config;

/* Which stanzas an extension's payload is accepted in. */
enum ext_kind {
	EXT_MESSAGE = 1 << 0,
	EXT_IQ_GET = 1 << 1,
	EXT_IQ_SET = 1 << 2,
};

/* What a handler sees of a request. Everything is borrowed for the call. */
struct ext_request {
	xmpp_ctx_t *ctx;
	xmpp_stanza_t *stanza;           /* the whole <message/> or <iq/> */
	xmpp_stanza_t *payload;          /* the child element that matched */
	enum ext_kind kind;              /* how it came */
	const struct config *cfg;
	time_t (*clock)(void);           /* UTC now, or -1; tests inject one */
};

/* What a handler answers: a payload for an <iq type="result"/> (NULL for an
 * empty result) or an error condition. */
struct ext_reply {
	xmpp_stanza_t *payload;   /* new stanza, owned by the caller on return */
	enum stanza_cond cond;    /* STANZA_COND_NONE unless refusing */
	const char *text;         /* optional static text for the error */
};

/* Handlers are pure: they build the reply and never send. Return 0 (REPLY
 * filled) or -1 when out of memory. */
typedef int (*ext_handler_fn)(const struct ext_request *req,
			      struct ext_reply *reply);

struct ext {
	const char *name;        /* payload element name */
	const char *ns;          /* payload namespace */
	const char *feature;     /* disco#info feature to advertise, or NULL */
	unsigned kinds;          /* mask of enum ext_kind */
	ext_handler_fn handle;
	int guarded;             /* the access table and service passwords
	                            apply (dispatch decides before handle()) */
};

/* The payload attribute carrying the service password of a guarded
 * extension. Handlers never copy it into a reply. */
#define EXT_PASSWORD_ATTR "password"

/* The extensions ope ships; each lives in its own ext/<name>.c and is
 * listed once in registry.c. */
extern const struct ext ext_example;
extern const struct ext ext_disco_info;
extern const struct ext ext_disco_items;
extern const struct ext ext_ping;
extern const struct ext ext_version;
extern const struct ext ext_time;

/* The registry holds at most this many extensions (checked at build time). */
#define EXT_REGISTRY_MAX 16

/* Every registered extension, in registration order: *COUNT entries, static. */
const struct ext *const *ext_registry_list(size_t *count);

/* The disco#info features of the registered extensions, in registration
 * order (extensions without one are skipped): *COUNT static strings. */
const char *const *ext_registry_features(size_t *count);

#endif
