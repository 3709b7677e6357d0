/* SPDX-License-Identifier: MIT */
/* creds.c: read ope-client's password from a file, the environment or the terminal. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "creds.h"
#include "log.h"

void client_creds_free(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

/* Read one line from FP into a fresh buffer, line ending removed. 0 on a
 * line (possibly empty), 1 at EOF before any byte, -1 on error or OOM. */
static int read_line(FILE *fp, char **out)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	errno = 0;
	n = getline(&line, &cap, fp);
	if (n < 0) {
		int eof = errno == 0;

		free(line);
		return eof ? 1 : -1;
	}
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	*out = line;
	return 0;
}

int client_creds_read_file(const char *path, char **out, char *err,
			   size_t errlen)
{
	struct stat st;
	char *line = NULL;
	FILE *fp;
	int rc;

	*out = NULL;
	fp = fopen(path, "r");
	if (fp == NULL) {
		snprintf(err, errlen, "cannot read password file %s: %s", path,
			 strerror(errno));
		return -1;
	}
	if (fstat(fileno(fp), &st) == 0 && (st.st_mode & 077) != 0)
		log_warn("password file %s is readable by others: chmod 600 it",
			 path);
	rc = read_line(fp, &line);
	fclose(fp);
	if (rc < 0) {
		snprintf(err, errlen, "cannot read password file %s: %s", path,
			 errno ? strerror(errno) : "out of memory");
		return -1;
	}
	if (rc > 0 || line[0] == '\0') {
		client_creds_free(line);
		snprintf(err, errlen, "password file %s: the first line is "
			 "empty; write the password on it", path);
		return -1;
	}
	*out = line;
	return 0;
}

int client_creds_prompt(const char *prompt, int secret, char **out,
			char *err, size_t errlen)
{
	struct termios saved, quiet;
	int echo_off = 0;
	int rc;

	*out = NULL;
	fputs(prompt, stderr);
	fflush(stderr);
	if (secret && tcgetattr(STDIN_FILENO, &saved) == 0) {
		quiet = saved;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		quiet.c_lflag |= ECHONL;
		echo_off = tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
	}
	rc = read_line(stdin, out);
	if (echo_off)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
	if (rc != 0) {
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
