/* SPDX-License-Identifier: MIT */
/* opts.h: ope-client's command line: options, defaults, --help. */
#ifndef OPE_CLIENT_OPTS_H
#define OPE_CLIENT_OPTS_H

#include <stdio.h>

/* What each request is. */
enum client_mode {
	CLIENT_MODE_MESSAGE = 0,	/* <message> with example_tag (default) */
	CLIENT_MODE_IQ,			/* <iq type="get"> with example_tag */
	CLIENT_MODE_PING,		/* XEP-0199 */
	CLIENT_MODE_DISCO,		/* XEP-0030 disco#info */
	CLIENT_MODE_VERSION,		/* XEP-0092 software version */
	CLIENT_MODE_TIME,		/* XEP-0202 entity time */
	CLIENT_MODE_COMMAND,		/* XEP-0050 ad-hoc command */
};

/* --field NAME=VALUE may be given at most this often. */
#define CLIENT_FIELDS_MAX 16

/* Every string is owned by the struct (client_opts_free() releases it and
 * wipes the password); NULL means "not given". */
struct client_opts {
	char *jid;
	char *password;
	char *password_file;
	char *service_password;		/* example_tag's password attribute */
	char *service_password_file;
	char *to;
	char *another;
	char *data;
	char *body;
	char *host;
	char *cafile;
	unsigned short port;		/* 0: libstrophe's default (5222) */
	unsigned timeout_s;
	unsigned long count;
	unsigned long window;
	int bulk;			/* --count given: print a summary */
	int debug;
	int quiet;
	int insecure;
	int no_roster;
	int xml;
	int json;			/* --json: the --count summary as JSON */
	enum client_mode mode;
	char *command;			/* --command NODE */
	char *fields[CLIENT_FIELDS_MAX]; /* --field NAME=VALUE, as given */
	size_t nfields;
};

enum client_opts_result {
	CLIENT_OPTS_ERROR = -1,		/* usage error: message in ERR */
	CLIENT_OPTS_RUN = 0,		/* go on and run */
	CLIENT_OPTS_HELP,		/* -h given: print client_opts_usage() */
	CLIENT_OPTS_VERSION,		/* -V given: print the version */
};

/* Parse ARGV into O (defaults first). JID/password may stay NULL: the
 * credentials module fills them. Uses getopt_long (resets optind). On a
 * usage error returns CLIENT_OPTS_ERROR with a one-line message in ERR;
 * call client_opts_free() in every case. */
int client_opts_parse(struct client_opts *o, int argc, char **argv,
		      char *err, size_t errlen);

/* Release O's strings (the password is zeroed first) and reset O. */
void client_opts_free(struct client_opts *o);

/* Overwrite in place every password given in ARGV, in every form
 * getopt_long accepts (-p PW, -pPW, -qpPW, -qp PW, --password PW,
 * --password=PW, and the same for --service-password), so none stops
 * showing in ps and /proc/PID/cmdline. Call after client_opts_parse()
 * copied them (it re-runs getopt_long). */
void client_opts_scrub_password(int argc, char **argv);

/* Print the full --help text (options, exit codes, hints) to OUT. */
void client_opts_usage(FILE *out, const char *progname);

#endif
