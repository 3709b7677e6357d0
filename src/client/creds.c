/* SPDX-License-Identifier: MIT */
/* creds.c: read ope-client's password from a file, the environment or the terminal. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "creds.h"
#include "log.h"
#include "prompt.h"
#include "secretfile.h"

void client_creds_free(char *s)
{
	secretfile_free(s);
}

int client_creds_read_file(const char *path, char **out, char *err,
			   size_t errlen)
{
	struct secretfile sf;

	*out = NULL;
	switch (secretfile_read(path, &sf)) {
	case SECRETFILE_OK:
		break;
	case SECRETFILE_UNREADABLE:
		snprintf(err, errlen, "cannot read password file %s: %s", path,
			 strerror(sf.errnum));
		return -1;
	case SECRETFILE_NOT_REGULAR:
		snprintf(err, errlen, "password file %s is not a regular file",
			 path);
		return -1;
	case SECRETFILE_TOO_LARGE:
		snprintf(err, errlen, "password file %s is larger than %d bytes; "
			 "it must hold only the password", path, SECRETFILE_MAX);
		return -1;
	case SECRETFILE_EMPTY:
		snprintf(err, errlen, "password file %s: the first line is "
			 "empty; write the password on it", path);
		return -1;
	case SECRETFILE_LINES:
		snprintf(err, errlen, "password file %s must hold the password "
			 "on one line (found a second line, or a CR or NUL byte "
			 "inside)", path);
		return -1;
	case SECRETFILE_NOMEM:
		snprintf(err, errlen, "cannot read password file %s: out of "
			 "memory", path);
		return -1;
	}
	if (secretfile_exposed(sf.mode))
		log_warn("password file %s is readable by others: chmod 600 it",
			 path);
	*out = sf.secret;
	return 0;
}

int client_creds_prompt(const char *prompt, int secret, char **out,
			char *err, size_t errlen)
{
	if (prompt_line(prompt, secret, out) != 0) {
		snprintf(err, errlen, "no answer to \"%s\" on stdin", prompt);
		return -1;
	}
	return 0;
}

int client_creds_resolve(struct client_opts *o, const char *env_password,
			 int interactive, char *err, size_t errlen)
{
	char *value = NULL;

	if (o->jid == NULL) {
		if (!interactive) {
			snprintf(err, errlen, "missing -j/--jid and stdin is not "
				 "a terminal to ask for it");
			return -1;
		}
		if (client_creds_prompt("JID: ", 0, &value, err, errlen) < 0)
			return -1;
		if (strchr(value, '@') == NULL) {
			snprintf(err, errlen, "\"%s\" is not a user JID "
				 "(user@domain)", value);
			free(value);
			return -1;
		}
		o->jid = value;
		value = NULL;
	}
	if (o->password != NULL)
		return 0;
	if (o->password_file != NULL) {
		if (client_creds_read_file(o->password_file, &value, err,
					   errlen) < 0)
			return -1;
	} else if (env_password != NULL && env_password[0] != '\0') {
		value = strdup(env_password);
		if (value == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	} else if (interactive) {
		char prompt[512];

		snprintf(prompt, sizeof(prompt), "Password for %s: ", o->jid);
		if (client_creds_prompt(prompt, 1, &value, err, errlen) < 0)
			return -1;
	} else {
		snprintf(err, errlen, "no password for %s: give --password-file "
			 "FILE, set OPE_PASSWORD, or run on a terminal", o->jid);
		return -1;
	}
	o->password = value;
	return 0;
}

int client_creds_service(struct client_opts *o, const char *env,
			 char *err, size_t errlen)
{
	char *value = NULL;

	if (o->service_password != NULL)
		return 0;
	if (o->service_password_file != NULL) {
		if (client_creds_read_file(o->service_password_file, &value,
					   err, errlen) < 0)
			return -1;
	} else if (env != NULL && env[0] != '\0') {
		value = strdup(env);
		if (value == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	}
	o->service_password = value;
	return 0;
}
