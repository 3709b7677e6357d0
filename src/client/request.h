/* SPDX-License-Identifier: MIT */
/* request.h: build ope-client's request stanzas (example_tag, ping, disco, version, time, roster). */
#ifndef OPE_CLIENT_REQUEST_H
#define OPE_CLIENT_REQUEST_H

#include <strophe.h>

#include "opts.h"

/* The request O's mode asks for, addressed to O->to, without an id (set it
 * with xmpp_stanza_set_id() before each send). NULL when out of memory;
 * the caller releases it with xmpp_stanza_release(). */
xmpp_stanza_t *client_request_new(xmpp_ctx_t *ctx, const struct client_opts *o);

/* An <iq type="get" id=ID> roster query; NULL when out of memory. The
 * caller releases it with xmpp_stanza_release(). */
xmpp_stanza_t *client_request_roster(xmpp_ctx_t *ctx, const char *id);

#endif
