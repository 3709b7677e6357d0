/* SPDX-License-Identifier: MIT */
/* check.h: classify a reply to ope-client's request: ok, mismatch (which field) or error reply. */
#ifndef OPE_CLIENT_CHECK_H
#define OPE_CLIENT_CHECK_H

#include <strophe.h>

#include "opts.h"

/* A stanza error's parts; each points into the stanza it was parsed from
 * (valid while that stanza lives) and is NULL when absent. */
struct client_error {
	const char *type;		/* cancel, wait, modify, auth, continue */
	const char *condition;		/* e.g. remote-server-timeout */
	const char *app_condition;	/* e.g. not-connected (server-specific) */
	const char *text;
};

enum client_outcome {
	CLIENT_REPLY_NONE = -1,		/* not a reply (e.g. an iq get/set) */
	CLIENT_REPLY_OK = 0,
	CLIENT_REPLY_MISMATCH,
	CLIENT_REPLY_ERROR,
	CLIENT_REPLY_NOMEM,		/* out of memory while checking: a
					 * failure (exit 1), not a timeout */
};

/* The verdict on one reply. Pointers are borrowed from the reply or from
 * the options; client_check_clear() frees what the check allocated. */
struct client_check {
	enum client_outcome outcome;
	const char *field;		/* MISMATCH: "another", "data", "text",
					 * "example_tag", "query" or "time" */
	const char *expected;		/* MISMATCH: what was sent (NULL: n/a) */
	const char *got;		/* MISMATCH: what came back (NULL: absent) */
	struct client_error error;	/* ERROR: the parsed <error/> */
	char *owned;			/* internal */
	xmpp_ctx_t *ctx;		/* internal */
};

/* Parse STANZA's <error/> child into E. Returns 0, or -1 when there is no
 * <error/> child (E is then all NULL). */
int client_check_error(xmpp_stanza_t *stanza, struct client_error *e);

/* Judge REPLY (an <iq> or <message> whose id matched a request) against
 * what O's mode sent: for example_tag requests another, data and text must
 * equal O->another, O->data, O->body. Fills RES and returns its outcome
 * (CLIENT_REPLY_NOMEM when out of memory). Call client_check_clear(RES)
 * afterwards. */
enum client_outcome client_check_reply(xmpp_ctx_t *ctx, xmpp_stanza_t *reply,
				       const struct client_opts *o,
				       struct client_check *res);

/* The text children of ELEM joined, or NULL when out of memory; *OWNED gets
 * the buffer to free with xmpp_free() on ELEM's context (NULL when the
 * result is borrowed from ELEM). An element without text gives "". */
const char *client_check_text(xmpp_stanza_t *elem, char **owned);

/* Free what client_check_reply() allocated in RES. */
void client_check_clear(struct client_check *res);

#endif
