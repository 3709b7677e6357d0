/* SPDX-License-Identifier: MIT */
/* opts.c: parse ope-client's command line into struct client_opts. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "opts.h"
#include "ns.h"
#include "util.h"

enum {
	OPT_ANOTHER = 256,
	OPT_DATA,
	OPT_BODY,
	OPT_TIMEOUT,
	OPT_HOST,
	OPT_PORT,
	OPT_CAFILE,
	OPT_INSECURE,
	OPT_NO_ROSTER,
	OPT_XML,
	OPT_JSON,
	OPT_COUNT,
	OPT_WINDOW,
	OPT_PASSWORD_FILE,
	OPT_IQ,
	OPT_PING,
	OPT_DISCO,
	OPT_SW_VERSION,
	OPT_TIME,
	OPT_SERVICE_PASSWORD,
	OPT_SERVICE_PASSWORD_FILE,
	OPT_COMMAND,
	OPT_FIELD,
};

static const struct option long_options[] = {
	{ "jid", required_argument, NULL, 'j' },
	{ "password", required_argument, NULL, 'p' },
	{ "password-file", required_argument, NULL, OPT_PASSWORD_FILE },
	{ "service-password", required_argument, NULL, OPT_SERVICE_PASSWORD },
	{ "service-password-file", required_argument, NULL,
	  OPT_SERVICE_PASSWORD_FILE },
	{ "to", required_argument, NULL, 't' },
	{ "another", required_argument, NULL, OPT_ANOTHER },
	{ "data", required_argument, NULL, OPT_DATA },
	{ "body", required_argument, NULL, OPT_BODY },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "host", required_argument, NULL, OPT_HOST },
	{ "port", required_argument, NULL, OPT_PORT },
	{ "cafile", required_argument, NULL, OPT_CAFILE },
	{ "insecure", no_argument, NULL, OPT_INSECURE },
	{ "no-roster", no_argument, NULL, OPT_NO_ROSTER },
	{ "xml", no_argument, NULL, OPT_XML },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "count", required_argument, NULL, OPT_COUNT },
	{ "window", required_argument, NULL, OPT_WINDOW },
	{ "iq", no_argument, NULL, OPT_IQ },
	{ "ping", no_argument, NULL, OPT_PING },
	{ "disco", no_argument, NULL, OPT_DISCO },
	{ "sw-version", no_argument, NULL, OPT_SW_VERSION },
	{ "time", no_argument, NULL, OPT_TIME },
	{ "command", required_argument, NULL, OPT_COMMAND },
	{ "field", required_argument, NULL, OPT_FIELD },
	{ "debug", no_argument, NULL, 'd' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "version", no_argument, NULL, 'V' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* client_opts_scrub_password() must walk ARGV exactly as the parser does. */
static const char short_options[] = ":j:p:t:dqVh";

#define CLIENT_COUNT_MAX 10000000UL

void client_opts_usage(FILE *out, const char *progname)
{
	fprintf(out,
"Usage: %s -j JID -t COMPONENT [options]\n"
"\n"
"Log in to an XMPP server as JID and send COMPONENT an example_tag request:\n"
"  <message type=\"chat\" to=COMPONENT id=ID><example_tag\n"
"   xmlns=\"" NS_EXAMPLE "\" another=.. data=../>\n"
"   <body>BODY</body></message>\n"
"then wait for the component's <iq type=\"result\"> with the same id and check\n"
"that its example_tag carries the same another, data and (as text) body.\n"
"\n"
"Account:\n"
"  -j, --jid JID            account to log in as (prompted on a terminal)\n"
"  -p, --password PW        password (visible to other users in ps: prefer\n"
"                           --password-file or OPE_PASSWORD)\n"
"      --password-file FILE read the password from FILE, a regular file holding\n"
"                           it on one line (ope-component's secret_file rules)\n"
"                           OPE_PASSWORD in the environment is used next;\n"
"                           then a prompt without echo when stdin is a terminal\n"
"\n"
"Request:\n"
"  -t, --to JID             the component's JID, e.g. ope.localhost (required)\n"
"      --another S          example_tag's another attribute (default \"some\")\n"
"      --data S             example_tag's data attribute (default \"stuff\");\n"
"                           an empty S sends an empty attribute\n"
"      --body S             message body, echoed as example_tag's text\n"
"                           (default \"OUR_MESSAGE\")\n"
"      --iq                 send example_tag in an <iq type=\"get\"> with BODY as\n"
"                           its text instead of a message\n"
"      --ping               send an XEP-0199 ping instead\n"
"      --disco              send an XEP-0030 disco#info query; print identities\n"
"                           and features\n"
"      --sw-version         query the target's XEP-0092 software version\n"
"                           (-V/--version prints ope-client's own version)\n"
"      --time               query the target's XEP-0202 entity time; print\n"
"                           its UTC time and offset\n"
"      --command NODE       run the XEP-0050 ad-hoc command NODE (status,\n"
"                           reload, restart, stop, who, forgive) as an admin of\n"
"                           the component; print its result form's fields as\n"
"                           NAME=VALUE lines, its notes on stderr; exit 0 when\n"
"                           it completed, 1 on an error reply, an error note\n"
"                           or a form that still asks for input\n"
"      --field NAME=VALUE   submit this field with --command (repeatable), e.g.\n"
"                           --command who --field jid=alice@example.org\n"
"      --service-password-file FILE\n"
"                           send FILE's first line as example_tag's password\n"
"                           attribute (or the command's, with --command; for\n"
"                           a component whose access rule wants one); else\n"
"                           OPE_SERVICE_PASSWORD is used\n"
"      --service-password PW  the same from the command line (visible in ps)\n"
"      --timeout SECONDS    give up waiting after SECONDS (default 10); also\n"
"                           bounds connecting and logging in\n"
"      --count N            send N requests and print a summary line: sent, ok,\n"
"                           errors, timeouts, duplicates, mismatches, late,\n"
"                           requests/s, p50/p99 latency; the run ends when no\n"
"                           reply came for --timeout seconds, and what is then\n"
"                           outstanding counts as timed out\n"
"      --window W           keep at most W requests outstanding (default 1)\n"
"      --no-roster          don't fetch the roster after logging in\n"
"\n"
"Connection:\n"
"      --host H             connect to H, not the JID's domain (no DNS SRV)\n"
"      --port P             connect to port P (default 5222)\n"
"                           Hint: libstrophe tries only the first address of a\n"
"                           name (::1 for localhost); use --host 127.0.0.1 for a\n"
"                           server that listens on IPv4 loopback only.\n"
"      --cafile FILE        trust the CA or self-signed certificate in FILE\n"
"      --insecure           accept any server certificate (prints a warning)\n"
"  TLS is used whenever the server offers it and the certificate is verified\n"
"  against the system's CAs; SCRAM is preferred over PLAIN.\n"
"\n"
"Output:\n"
"      --xml                print replies as raw XML\n"
"      --json               print the --count summary as one JSON object\n"
"  With --count and stderr on a terminal, one line there shows the progress.\n"
"  -q, --quiet              print nothing on success\n"
"  -d, --debug              log the XMPP traffic (passwords masked) to stderr\n"
"  -V, --version            print ope-client's version and exit\n"
"  -h, --help               print this help and exit\n"
"Replies and the summary go to stdout; failures and diagnostics to stderr.\n"
"\n"
"Exit status:\n"
"  0    success: every reply arrived and matched\n"
"  1    a reply did not match (the field is named) or was an error reply\n"
"       (its type, condition and text are printed)\n"
"  2    timeout: no reply within --timeout\n"
"  3    cannot connect, TLS certificate not trusted, or login failed\n"
"  64   usage error: bad option, or no credentials and no terminal to ask\n"
"  130  interrupted by SIGINT or SIGTERM\n",
		progname);
}

static int set_string(char **dst, const char *value)
{
	char *copy = strdup(value);

	if (copy == NULL)
		return -1;
	if (*dst != NULL && *dst != copy) {
		explicit_bzero(*dst, strlen(*dst));
		free(*dst);
	}
	*dst = copy;
	return 0;
}

/* Parse an unsigned decimal in [MIN, MAX]; -1 if it isn't one. */
static int parse_ulong(const char *s, unsigned long min, unsigned long max,
		       unsigned long *out)
{
	unsigned long v;
	char *end;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int set_mode(struct client_opts *o, enum client_mode mode,
		    int *mode_given, char *err, size_t errlen)
{
	if (*mode_given) {
		snprintf(err, errlen, "--iq, --ping, --disco, --sw-version, "
			 "--time and --command exclude each other");
		return -1;
	}
	*mode_given = 1;
	o->mode = mode;
	return 0;
}

/* Name the option getopt_long just stumbled on, for an error message. A
 * long option's "=VALUE" is left out: "--pass=PW" (ambiguous) may hold a
 * password. */
static const char *bad_option(int argc, char **argv, char *buf, size_t len)
{
	const char *arg;

	if (optopt != 0 && optopt < 256) {
		snprintf(buf, len, "-%c", optopt);
		return buf;
	}
	if (optind <= 0 || optind > argc)
		return "?";
	arg = argv[optind - 1];
	if (strncmp(arg, "--", 2) == 0 && strchr(arg, '=') != NULL) {
		snprintf(buf, len, "%.*s", (int)(strchr(arg, '=') - arg), arg);
		return buf;
	}
	return arg;
}

int client_opts_parse(struct client_opts *o, int argc, char **argv,
		      char *err, size_t errlen)
{
	unsigned long v;
	int mode_given = 0, window_given = 0;
	char optname[64];
	int c;

	memset(o, 0, sizeof(*o));
	o->timeout_s = 10;
	o->count = 1;
	o->window = 1;
	o->mode = CLIENT_MODE_MESSAGE;
	if (set_string(&o->another, "some") || set_string(&o->data, "stuff") ||
	    set_string(&o->body, "OUR_MESSAGE"))
		goto oom;

	optind = 0;	/* GNU: full re-initialisation, so tests can parse twice */
	opterr = 0;
	while ((c = getopt_long(argc, argv, short_options, long_options,
				NULL)) != -1) {
		const char *arg = optarg;
		char **dst = NULL;

		switch (c) {
		case 'j': dst = &o->jid; break;
		case 'p': dst = &o->password; break;
		case OPT_PASSWORD_FILE: dst = &o->password_file; break;
		case OPT_SERVICE_PASSWORD: dst = &o->service_password; break;
		case OPT_SERVICE_PASSWORD_FILE:
			dst = &o->service_password_file;
			break;
		case 't': dst = &o->to; break;
		case OPT_ANOTHER: dst = &o->another; break;
		case OPT_DATA: dst = &o->data; break;
		case OPT_BODY: dst = &o->body; break;
		case OPT_HOST: dst = &o->host; break;
		case OPT_CAFILE: dst = &o->cafile; break;
		case OPT_TIMEOUT:
			if (parse_ulong(arg, 1, 86400, &v) < 0) {
				snprintf(err, errlen, "--timeout: \"%s\" is not "
					 "a number of seconds in 1..86400", arg);
				return CLIENT_OPTS_ERROR;
			}
			o->timeout_s = (unsigned)v;
			break;
		case OPT_PORT:
			if (parse_ulong(arg, 1, 65535, &v) < 0) {
				snprintf(err, errlen, "--port: \"%s\" is not a "
					 "port in 1..65535", arg);
				return CLIENT_OPTS_ERROR;
			}
			o->port = (unsigned short)v;
			break;
		case OPT_COUNT:
			if (parse_ulong(arg, 1, CLIENT_COUNT_MAX, &v) < 0) {
				snprintf(err, errlen, "--count: \"%s\" is not a "
					 "number in 1..%lu", arg, CLIENT_COUNT_MAX);
				return CLIENT_OPTS_ERROR;
			}
			o->count = v;
			o->bulk = 1;
			break;
		case OPT_WINDOW:
			if (parse_ulong(arg, 1, CLIENT_COUNT_MAX, &v) < 0) {
				snprintf(err, errlen, "--window: \"%s\" is not a "
					 "number in 1..%lu", arg, CLIENT_COUNT_MAX);
				return CLIENT_OPTS_ERROR;
			}
			o->window = v;
			window_given = 1;
			break;
		case OPT_INSECURE: o->insecure = 1; break;
		case OPT_NO_ROSTER: o->no_roster = 1; break;
		case OPT_XML: o->xml = 1; break;
		case OPT_JSON: o->json = 1; break;
		case 'd': o->debug = 1; break;
		case 'q': o->quiet = 1; break;
		case OPT_IQ:
		case OPT_PING:
		case OPT_DISCO:
		case OPT_SW_VERSION:
		case OPT_TIME:
			if (set_mode(o, c == OPT_IQ ? CLIENT_MODE_IQ :
				     c == OPT_PING ? CLIENT_MODE_PING :
				     c == OPT_DISCO ? CLIENT_MODE_DISCO :
				     c == OPT_TIME ? CLIENT_MODE_TIME :
				     CLIENT_MODE_VERSION, &mode_given,
				     err, errlen) < 0)
				return CLIENT_OPTS_ERROR;
			break;
		case OPT_COMMAND:
			if (set_mode(o, CLIENT_MODE_COMMAND, &mode_given, err,
				     errlen) < 0)
				return CLIENT_OPTS_ERROR;
			if (arg[0] == '\0') {
				snprintf(err, errlen, "--command needs a node "
					 "name, e.g. --command status");
				return CLIENT_OPTS_ERROR;
			}
			dst = &o->command;
			break;
		case OPT_FIELD:
			if (strchr(arg, '=') == NULL || arg[0] == '=') {
				snprintf(err, errlen, "--field \"%s\" is not "
					 "NAME=VALUE", arg);
				return CLIENT_OPTS_ERROR;
			}
			if (o->nfields == CLIENT_FIELDS_MAX) {
				snprintf(err, errlen, "at most %d --field options",
					 CLIENT_FIELDS_MAX);
				return CLIENT_OPTS_ERROR;
			}
			dst = &o->fields[o->nfields++];
			break;
		case 'V': return CLIENT_OPTS_VERSION;
		case 'h': return CLIENT_OPTS_HELP;
		case ':':
			snprintf(err, errlen, "option %s needs a value",
				 bad_option(argc, argv, optname, sizeof(optname)));
			return CLIENT_OPTS_ERROR;
		default:
			snprintf(err, errlen, "unknown option %s",
				 bad_option(argc, argv, optname, sizeof(optname)));
			return CLIENT_OPTS_ERROR;
		}
		if (dst != NULL && set_string(dst, arg) < 0)
			goto oom;
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument \"%s\"", argv[optind]);
		return CLIENT_OPTS_ERROR;
	}
	if (o->to == NULL || o->to[0] == '\0') {
		snprintf(err, errlen, "missing -t/--to JID (the component, "
			 "e.g. -t ope.localhost)");
		return CLIENT_OPTS_ERROR;
	}
	if (o->jid != NULL && strchr(o->jid, '@') == NULL) {
		snprintf(err, errlen, "-j/--jid \"%s\" is not a user JID "
			 "(user@domain)", o->jid);
		return CLIENT_OPTS_ERROR;
	}
	if (o->host != NULL && o->host[0] == '\0') {
		snprintf(err, errlen, "--host must not be empty");
		return CLIENT_OPTS_ERROR;
	}
	if (o->insecure && o->cafile != NULL) {
		snprintf(err, errlen, "--insecure and --cafile exclude each other");
		return CLIENT_OPTS_ERROR;
	}
	if (o->debug && o->quiet) {
		snprintf(err, errlen, "-d/--debug and -q/--quiet exclude each other");
		return CLIENT_OPTS_ERROR;
	}
	if (window_given && !o->bulk) {
		snprintf(err, errlen, "--window needs --count");
		return CLIENT_OPTS_ERROR;
	}
	if (o->json && !o->bulk) {
		snprintf(err, errlen, "--json needs --count");
		return CLIENT_OPTS_ERROR;
	}
	if (o->nfields > 0 && o->mode != CLIENT_MODE_COMMAND) {
		snprintf(err, errlen, "--field needs --command");
		return CLIENT_OPTS_ERROR;
	}
	if (o->bulk && o->mode == CLIENT_MODE_COMMAND) {
		snprintf(err, errlen, "--count and --command exclude each other");
		return CLIENT_OPTS_ERROR;
	}
	if (o->window > o->count)
		o->window = o->count;
	return CLIENT_OPTS_RUN;
oom:
	snprintf(err, errlen, "out of memory");
	return CLIENT_OPTS_ERROR;
}

void client_opts_free(struct client_opts *o)
{
	char **strings[] = {
		&o->jid, &o->password, &o->password_file, &o->service_password,
		&o->service_password_file, &o->to, &o->another,
		&o->data, &o->body, &o->host, &o->cafile, &o->command,
	};
	size_t i;

	for (i = 0; i < o->nfields; i++)
		free(o->fields[i]);
	for (i = 0; i < ARRAY_SIZE(strings); i++) {
		if (*strings[i] != NULL) {
			explicit_bzero(*strings[i], strlen(*strings[i]));
			free(*strings[i]);
		}
	}
	memset(o, 0, sizeof(*o));
}

void client_opts_scrub_password(int argc, char **argv)
{
	int c;

	/* Let getopt find the password the way the parser did: optarg then
	 * points at its bytes inside ARGV, whichever form was used (-pPW,
	 * -p PW, bundled -qpPW or -qp PW, --password=PW, --password PW, and
	 * the same for --service-password), and a value of another option
	 * that merely looks like -pX is left alone. */
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, short_options, long_options,
				NULL)) != -1)
		if ((c == 'p' || c == OPT_SERVICE_PASSWORD) && optarg != NULL)
			explicit_bzero(optarg, strlen(optarg));
}
