/* SPDX-License-Identifier: MIT */
/* creds.h: ope-client's credentials: password file, environment, terminal prompt. */
#ifndef OPE_CLIENT_CREDS_H
#define OPE_CLIENT_CREDS_H

#include <stddef.h>

#include "opts.h"

/* Read the password in PATH into *OUT, which the caller frees with
 * client_creds_free(), by the daemon's secret_file rules (secretfile.h): the
 * first line without its line ending; later lines must be empty; FIFOs and
 * other non-regular files are refused. Returns 0, or -1 with a message
 * naming PATH in ERR. Warns when PATH is readable by group or others. */
int client_creds_read_file(const char *path, char **out, char *err,
			   size_t errlen);

/* Write PROMPT to stderr and read one line from stdin into *OUT (caller
 * frees with client_creds_free()); terminal echo is off while reading when
 * SECRET. Returns 0, or -1 with a message in ERR (EOF, read error). */
int client_creds_prompt(const char *prompt, int secret, char **out,
			char *err, size_t errlen);

/* Fill O's missing JID and password: the password comes from -p, else
 * --password-file, else ENV_PASSWORD (OPE_PASSWORD's value, may be NULL),
 * else a prompt when INTERACTIVE. Returns 0, or -1 with a message in ERR
 * (a usage error: exit CLIENT_EXIT_USAGE). */
int client_creds_resolve(struct client_opts *o, const char *env_password,
			 int interactive, char *err, size_t errlen);

/* Zero S and free it; NULL is fine. */
void client_creds_free(char *s);

/* Fill O's service password (example_tag's password attribute) unless
 * --service-password gave it: from --service-password-file, else ENV (the
 * value of OPE_SERVICE_PASSWORD, may be NULL), else none. Returns 0, or -1
 * with a message in ERR when the file cannot be read. */
int client_creds_service(struct client_opts *o, const char *env,
			 char *err, size_t errlen);

#endif
