/* SPDX-License-Identifier: MIT */
/* testutil_client.h: helpers shared by the unit tests of ope-client's modules (linked into test-client only). */
#ifndef OPE_TESTUTIL_CLIENT_H
#define OPE_TESTUTIL_CLIENT_H

#include <stddef.h>

#include "opts.h"

/* The arguments every request needs: who logs in, which component. */
#define TESTUTIL_BASE "-j", "alice@localhost", "-t", "ope.localhost"

/* A correct example_tag reply to request id x-0 of a@b/r, with the given
 * attribute text and content. */
#define TESTUTIL_OK_REPLY(another, data, text) \
	"<iq type='result' id='x-0' from='ope.localhost' to='a@b/r'>" \
	"<example_tag xmlns='https://example.net/our_extension' " \
	another data ">" text "</example_tag></iq>"

/* Parse a NULL-terminated list of arguments (after the program name) into O
 * with client_opts_parse(); returns what it returns. The caller frees O with
 * client_opts_free(). */
int testutil_args(struct client_opts *o, char *err, size_t errlen, ...);

#endif
