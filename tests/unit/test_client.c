/* SPDX-License-Identifier: MIT */
/* test_client.c: unit tests for ope-client's pure logic: options, credentials, requests, reply checks, request table, stats, output. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CUnit/CUnit.h>
#include <strophe.h>

#include "check.h"
#include "client_exit.h"
#include "creds.h"
#include "ns.h"
#include "opts.h"
#include "report.h"
#include "request.h"
#include "session.h"
#include "stats.h"
#include "track.h"
#include "suites.h"
#include "testutil.h"

/* Contexts come from testutil's counting allocator: every test that
 * builds stanzas must give back every block. */
static xmpp_ctx_t *ctx;

static int ctx_init(void)
{
	ctx = testutil_ctx_new();
	return 0;
}

static int ctx_clean(void)
{
	xmpp_ctx_free(ctx);
	ctx = NULL;
	return testutil_live_blocks() != 0;
}

static xmpp_stanza_t *parse_xml(const char *xml)
{
	xmpp_stanza_t *st = xmpp_stanza_new_from_string(ctx, xml);

	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	return st;
}

/* Parse a NULL-terminated list of arguments (after the program name). */
static int parse_args(struct client_opts *o, char *err, size_t errlen, ...)
{
	char *argv[32];
	int argc = 0, rc, i;
	const char *a;
	va_list ap;

	argv[argc++] = strdup("ope-client");
	va_start(ap, errlen);
	while ((a = va_arg(ap, const char *)) != NULL && argc < 31)
		argv[argc++] = strdup(a);
	va_end(ap);
	argv[argc] = NULL;
	err[0] = '\0';
	rc = client_opts_parse(o, argc, argv, err, errlen);
	for (i = 0; i < argc; i++)
		free(argv[i]);
	return rc;
}

#define BASE "-j", "alice@localhost", "-t", "ope.localhost"

/* ---- client_opts ---- */

static void test_opts_defaults(void)
{
	struct client_opts o;
	char err[256];

	CU_ASSERT_EQUAL(parse_args(&o, err, sizeof(err), BASE, NULL),
			CLIENT_OPTS_RUN);
	CU_ASSERT_STRING_EQUAL(o.jid, "alice@localhost");
	CU_ASSERT_STRING_EQUAL(o.to, "ope.localhost");
	CU_ASSERT_STRING_EQUAL(o.another, "some");
	CU_ASSERT_STRING_EQUAL(o.data, "stuff");
	CU_ASSERT_STRING_EQUAL(o.body, "OUR_MESSAGE");
	CU_ASSERT_PTR_NULL(o.password);
	CU_ASSERT_PTR_NULL(o.host);
	CU_ASSERT_EQUAL(o.port, 0);
	CU_ASSERT_EQUAL(o.timeout_s, 10);
	CU_ASSERT_EQUAL(o.count, 1);
	CU_ASSERT_EQUAL(o.window, 1);
	CU_ASSERT_EQUAL(o.bulk, 0);
	CU_ASSERT_EQUAL(o.mode, CLIENT_MODE_MESSAGE);
	CU_ASSERT_FALSE(o.insecure || o.xml || o.no_roster || o.debug || o.quiet);
	client_opts_free(&o);
}

static void test_opts_all(void)
{
	struct client_opts o;
	char err[256];

	CU_ASSERT_EQUAL_FATAL(parse_args(&o, err, sizeof(err),
		"--jid", "bob@example.org/res", "--password", "pw",
		"--to", "ope.example.org", "--another", "", "--data", "",
		"--body", "héllo ✓ 日本", "--timeout", "3", "--host",
		"127.0.0.1", "--port", "5223", "--cafile", "/tmp/ca.pem",
		"--no-roster", "--xml", "--count", "10000", "--window", "50",
		"--password-file", "/tmp/pw", "-d", NULL), CLIENT_OPTS_RUN);
	CU_ASSERT_STRING_EQUAL(o.jid, "bob@example.org/res");
	CU_ASSERT_STRING_EQUAL(o.password, "pw");
	CU_ASSERT_STRING_EQUAL(o.another, "");	/* empty stays empty */
	CU_ASSERT_STRING_EQUAL(o.data, "");
	CU_ASSERT_STRING_EQUAL(o.body, "héllo ✓ 日本");
	CU_ASSERT_EQUAL(o.timeout_s, 3);
	CU_ASSERT_STRING_EQUAL(o.host, "127.0.0.1");
	CU_ASSERT_EQUAL(o.port, 5223);
	CU_ASSERT_STRING_EQUAL(o.cafile, "/tmp/ca.pem");
	CU_ASSERT_STRING_EQUAL(o.password_file, "/tmp/pw");
	CU_ASSERT(o.no_roster && o.xml && o.debug && o.bulk);
	CU_ASSERT_EQUAL(o.count, 10000);
	CU_ASSERT_EQUAL(o.window, 50);
	client_opts_free(&o);

	/* Short forms, and parsing twice in one process. */
	CU_ASSERT_EQUAL(parse_args(&o, err, sizeof(err), "-j", "a@b", "-p",
				   "x", "-t", "c", "-q", "--insecure", NULL),
			CLIENT_OPTS_RUN);
	CU_ASSERT(o.quiet && o.insecure);
	CU_ASSERT_STRING_EQUAL(o.password, "x");
	client_opts_free(&o);
}

static void test_opts_modes(void)
{
	static const struct { const char *flag; enum client_mode mode; } m[] = {
		{ "--iq", CLIENT_MODE_IQ }, { "--ping", CLIENT_MODE_PING },
		{ "--disco", CLIENT_MODE_DISCO },
		{ "--sw-version", CLIENT_MODE_VERSION },
		{ "--time", CLIENT_MODE_TIME },
	};
	struct client_opts o;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		CU_ASSERT_EQUAL(parse_args(&o, err, sizeof(err), BASE,
					   m[i].flag, NULL), CLIENT_OPTS_RUN);
		CU_ASSERT_EQUAL(o.mode, m[i].mode);
		client_opts_free(&o);
	}
	CU_ASSERT_EQUAL(parse_args(&o, err, sizeof(err), BASE, "--ping",
				   "--disco", NULL), CLIENT_OPTS_ERROR);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "exclude"));
	client_opts_free(&o);
}

static void test_opts_help_version(void)
{
	struct client_opts o;
	char err[256];

	CU_ASSERT_EQUAL(parse_args(&o, err, sizeof(err), "-h", NULL),
			CLIENT_OPTS_HELP);
	client_opts_free(&o);
	CU_ASSERT_EQUAL(parse_args(&o, err, sizeof(err), "--help", NULL),
			CLIENT_OPTS_HELP);
	client_opts_free(&o);
	CU_ASSERT_EQUAL(parse_args(&o, err, sizeof(err), "-V", NULL),
			CLIENT_OPTS_VERSION);
	client_opts_free(&o);
	/* --version is ope-client's own version, not XEP-0092. */
	CU_ASSERT_EQUAL(parse_args(&o, err, sizeof(err), "--version", NULL),
			CLIENT_OPTS_VERSION);
	client_opts_free(&o);
}

/* Each of these is a usage error (main() exits 64) with a message. */
static void expect_usage_error(const char *needle, ...)
{
	struct client_opts o;
	char err[256];
	char *argv[32];
	const char *a;
	int argc = 0, i;
	va_list ap;

	argv[argc++] = strdup("ope-client");
	va_start(ap, needle);
	while ((a = va_arg(ap, const char *)) != NULL && argc < 31)
		argv[argc++] = strdup(a);
	va_end(ap);
	argv[argc] = NULL;
	err[0] = '\0';
	CU_ASSERT_EQUAL(client_opts_parse(&o, argc, argv, err, sizeof(err)),
			CLIENT_OPTS_ERROR);
	if (strstr(err, needle) == NULL) {
		fprintf(stderr, "\nerror \"%s\" lacks \"%s\"\n", err, needle);
		CU_FAIL("usage error message");
	}
	client_opts_free(&o);
	for (i = 0; i < argc; i++)
		free(argv[i]);
}

static void test_opts_errors(void)
{
	CU_ASSERT_EQUAL(CLIENT_EXIT_USAGE, 64);
	expect_usage_error("--bogus", BASE, "--bogus", NULL);
	expect_usage_error("-x", BASE, "-x", NULL);
	expect_usage_error("needs a value", BASE, "--timeout", NULL);
	expect_usage_error("needs a value", "-t", NULL);
	expect_usage_error("--timeout", BASE, "--timeout", "0", NULL);
	expect_usage_error("--timeout", BASE, "--timeout", "abc", NULL);
	expect_usage_error("--timeout", BASE, "--timeout", "-1", NULL);
	expect_usage_error("--timeout", BASE, "--timeout", "5s", NULL);
	expect_usage_error("--port", BASE, "--port", "70000", NULL);
	expect_usage_error("--port", BASE, "--port", "0", NULL);
	expect_usage_error("--count", BASE, "--count", "0", NULL);
	expect_usage_error("--window", BASE, "--count", "5", "--window",
			   "x", NULL);
	expect_usage_error("--window needs --count", BASE, "--window", "5",
			   NULL);
	expect_usage_error("--to", "-j", "a@b", NULL);
	expect_usage_error("--to", "-j", "a@b", "-t", "", NULL);
	expect_usage_error("user JID", "-j", "localhost", "-t", "c", NULL);
	expect_usage_error("unexpected argument", BASE, "extra", NULL);
	expect_usage_error("exclude", BASE, "--insecure", "--cafile", "x",
			   NULL);
	expect_usage_error("exclude", BASE, "-d", "-q", NULL);
	expect_usage_error("--host", BASE, "--host", "", NULL);
}

static void test_opts_window_clamped(void)
{
	struct client_opts o;
	char err[256];

	CU_ASSERT_EQUAL(parse_args(&o, err, sizeof(err), BASE, "--count", "3",
				   "--window", "50", NULL), CLIENT_OPTS_RUN);
	CU_ASSERT_EQUAL(o.window, 3);
	client_opts_free(&o);
}

static void test_opts_usage_text(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	static const char *const needles[] = {
		"--jid", "--password-file", "OPE_PASSWORD", "--sw-version",
		"--version", "--cafile", "--insecure", "--count", "--window",
		"--host 127.0.0.1", "\n  0 ", "\n  1 ", "\n  2 ", "\n  3 ",
		"\n  64 ", "--no-roster", "--xml", "--iq", "--ping", "--disco",
		"--time",
	};
	size_t i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	client_opts_usage(f, "ope-client");
	fclose(f);
	for (i = 0; i < sizeof(needles) / sizeof(needles[0]); i++)
		CU_ASSERT_PTR_NOT_NULL(strstr(buf, needles[i]));
	free(buf);
}

/* ---- client_creds ---- */

static char tmpdir[64];

static const char *write_tmp(const char *name, const char *content)
{
	static char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(content, f);
	fclose(f);
	chmod(path, 0600);
	return path;
}

static int creds_init(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/ope-unit-client.XXXXXX");
	return mkdtemp(tmpdir) == NULL;
}

static int creds_clean(void)
{
	static const char *const names[] = {
		"lf", "crlf", "nolf", "empty", "blank", "two",
	};
	char path[128];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", tmpdir, names[i]);
		unlink(path);
	}
	return rmdir(tmpdir) != 0;
}

static void expect_file_password(const char *name, const char *content,
				 const char *want)
{
	char err[256] = "";
	char *pw = NULL;

	CU_ASSERT_EQUAL(client_creds_read_file(write_tmp(name, content), &pw,
					       err, sizeof(err)), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pw);
	CU_ASSERT_STRING_EQUAL(pw, want);
	client_creds_free(pw);
}

static void test_creds_file(void)
{
	char err[256];
	char *pw = (char *)&err;	/* must be reset to NULL on failure */

	expect_file_password("lf", "s3cr&t \"x\"\n", "s3cr&t \"x\"");
	expect_file_password("crlf", "pw\r\n", "pw");
	expect_file_password("nolf", "héllo ✓", "héllo ✓");

	CU_ASSERT_EQUAL(client_creds_read_file(write_tmp("empty", ""), &pw,
					       err, sizeof(err)), -1);
	CU_ASSERT_PTR_NULL(pw);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "empty"));
	CU_ASSERT_EQUAL(client_creds_read_file(write_tmp("blank", "\nx\n"),
					       &pw, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "/blank"));
	CU_ASSERT_EQUAL(client_creds_read_file("/nonexistent/ope-pw", &pw, err,
					       sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "/nonexistent/ope-pw"));
	/* The daemon's secret_file rules: one line, a regular file. */
	CU_ASSERT_EQUAL(client_creds_read_file(write_tmp("two", "pw\nmore\n"),
					       &pw, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NULL(pw);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "on one line"));
	CU_ASSERT_EQUAL(client_creds_read_file("/dev/null", &pw, err,
					       sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "/dev/null is not a regular file"));
}

static void test_creds_resolve(void)
{
	struct client_opts o;
	char err[256];

	/* -p wins over everything. */
	parse_args(&o, err, sizeof(err), BASE, "-p", "cli", "--password-file",
		   "/nonexistent", NULL);
	CU_ASSERT_EQUAL(client_creds_resolve(&o, "env", 0, err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(o.password, "cli");
	client_opts_free(&o);

	/* --password-file before OPE_PASSWORD. */
	parse_args(&o, err, sizeof(err), BASE, "--password-file",
		   write_tmp("lf", "fromfile\n"), NULL);
	CU_ASSERT_EQUAL(client_creds_resolve(&o, "env", 0, err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(o.password, "fromfile");
	client_opts_free(&o);

	/* An unreadable --password-file is an error, not a fall-through. */
	parse_args(&o, err, sizeof(err), BASE, "--password-file",
		   "/nonexistent/pw", NULL);
	CU_ASSERT_EQUAL(client_creds_resolve(&o, "env", 0, err, sizeof(err)),
			-1);
	client_opts_free(&o);

	parse_args(&o, err, sizeof(err), BASE, NULL);
	CU_ASSERT_EQUAL(client_creds_resolve(&o, "fromenv", 0, err,
					     sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(o.password, "fromenv");
	client_opts_free(&o);

	/* No terminal, no password: a usage error that says what to do. */
	parse_args(&o, err, sizeof(err), BASE, NULL);
	CU_ASSERT_EQUAL(client_creds_resolve(&o, NULL, 0, err, sizeof(err)),
			-1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "OPE_PASSWORD"));
	CU_ASSERT_PTR_NULL(o.password);
	client_opts_free(&o);
	parse_args(&o, err, sizeof(err), BASE, NULL);
	CU_ASSERT_EQUAL(client_creds_resolve(&o, "", 0, err, sizeof(err)), -1);
	client_opts_free(&o);

	parse_args(&o, err, sizeof(err), "-t", "c", "-p", "x", NULL);
	CU_ASSERT_EQUAL(client_creds_resolve(&o, NULL, 0, err, sizeof(err)),
			-1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "--jid"));
	client_opts_free(&o);
}

/* ---- client_request ---- */

static void test_request_message(void)
{
	struct client_opts o;
	xmpp_stanza_t *req, *back, *tag;
	char err[256], *xml = NULL, *body;
	size_t len;
	long before = testutil_live_blocks();

	parse_args(&o, err, sizeof(err), BASE, "--another", "& < > \" '",
		   "--data", "héllo ✓ 日本", "--body", "a&b<c>\"d\"'e", NULL);
	req = client_request_new(ctx, &o);
	CU_ASSERT_PTR_NOT_NULL_FATAL(req);
	xmpp_stanza_set_id(req, "id-1");
	CU_ASSERT_EQUAL_FATAL(xmpp_stanza_to_text(req, &xml, &len), XMPP_EOK);
	/* What goes on the wire parses back to exactly what was given. */
	back = parse_xml(xml);
	CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_name(back), "message");
	CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_type(back), "chat");
	CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_to(back), "ope.localhost");
	CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_id(back), "id-1");
	tag = xmpp_stanza_get_child_by_name_and_ns(back, "example_tag",
						   NS_EXAMPLE);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tag);
	CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_attribute(tag, "another"),
			       "& < > \" '");
	CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_attribute(tag, "data"),
			       "héllo ✓ 日本");
	CU_ASSERT_PTR_NULL(xmpp_stanza_get_children(tag));
	body = xmpp_message_get_body(back);
	CU_ASSERT_STRING_EQUAL(body, "a&b<c>\"d\"'e");
	xmpp_free(ctx, body);
	xmpp_free(ctx, xml);
	xmpp_stanza_release(back);
	xmpp_stanza_release(req);
	client_opts_free(&o);
	CU_ASSERT_EQUAL(testutil_live_blocks(), before);
}

static void test_request_iq_kinds(void)
{
	static const struct { const char *flag, *child, *ns; } k[] = {
		{ "--iq", "example_tag", NS_EXAMPLE },
		{ "--ping", "ping", NS_PING },
		{ "--disco", "query", XMPP_NS_DISCO_INFO },
		{ "--sw-version", "query", NS_VERSION },
		{ "--time", "time", NS_TIME },
	};
	struct client_opts o;
	xmpp_stanza_t *req, *child;
	char err[256], *text;
	size_t i;
	long before = testutil_live_blocks();

	for (i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
		parse_args(&o, err, sizeof(err), BASE, k[i].flag, "--body",
			   "T&xt", NULL);
		req = client_request_new(ctx, &o);
		CU_ASSERT_PTR_NOT_NULL_FATAL(req);
		CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_name(req), "iq");
		CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_type(req), "get");
		CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_to(req), "ope.localhost");
		child = xmpp_stanza_get_child_by_name_and_ns(req, k[i].child,
							     k[i].ns);
		CU_ASSERT_PTR_NOT_NULL(child);
		if (child != NULL && o.mode == CLIENT_MODE_IQ) {
			text = xmpp_stanza_get_text(child);
			CU_ASSERT_STRING_EQUAL(text, "T&xt");
			xmpp_free(ctx, text);
			CU_ASSERT_STRING_EQUAL(
				xmpp_stanza_get_attribute(child, "data"),
				"stuff");
		}
		xmpp_stanza_release(req);
		client_opts_free(&o);
	}
	req = client_request_roster(ctx, "r1");
	CU_ASSERT_PTR_NOT_NULL_FATAL(req);
	CU_ASSERT_PTR_NOT_NULL(xmpp_stanza_get_child_by_name_and_ns(req,
				"query", XMPP_NS_ROSTER));
	CU_ASSERT_STRING_EQUAL(xmpp_stanza_get_id(req), "r1");
	xmpp_stanza_release(req);
	CU_ASSERT_EQUAL(testutil_live_blocks(), before);
}

/* ---- client_check ---- */

#define OK_REPLY(another, data, text) \
	"<iq type='result' id='x-0' from='ope.localhost' to='a@b/r'>" \
	"<example_tag xmlns='https://example.net/our_extension' " \
	another data ">" text "</example_tag></iq>"

static enum client_outcome check_xml(const char *xml, const char **extra,
				     struct client_check *c)
{
	/* What the tests look at, copied before the stanza goes. */
	static char field[32], got[256], expected[256];
	struct client_opts o;
	xmpp_stanza_t *st = parse_xml(xml);
	char err[256];
	enum client_outcome r;

	parse_args(&o, err, sizeof(err), BASE, "--body", "a&b<c>", extra ?
		   extra[0] : NULL, extra ? extra[1] : NULL, NULL);
	r = client_check_reply(ctx, st, &o, c);
	snprintf(field, sizeof(field), "%s", c->field ? c->field : "");
	snprintf(got, sizeof(got), "%s", c->got ? c->got : "(null)");
	snprintf(expected, sizeof(expected), "%s",
		 c->expected ? c->expected : "(null)");
	client_check_clear(c);
	xmpp_stanza_release(st);
	client_opts_free(&o);
	c->field = field;
	c->got = got;
	c->expected = expected;
	memset(&c->error, 0, sizeof(c->error));
	return r;
}

static void test_check_example(void)
{
	struct client_check c;
	const char *empty[] = { "--another", "" };
	long before = testutil_live_blocks();

	CU_ASSERT_EQUAL(check_xml(OK_REPLY("another='some'", " data='stuff'",
				  "a&amp;b&lt;c&gt;"), NULL, &c), CLIENT_REPLY_OK);
	/* Text split over a child element still joins up. */
	CU_ASSERT_EQUAL(check_xml(OK_REPLY("another='some'", " data='stuff'",
				  "a&amp;b<inner x='1'/>&lt;c&gt;"), NULL, &c),
			CLIENT_REPLY_OK);
	CU_ASSERT_EQUAL(check_xml(OK_REPLY("another='SOME'", " data='stuff'",
				  "a&amp;b&lt;c&gt;"), NULL, &c),
			CLIENT_REPLY_MISMATCH);
	CU_ASSERT_STRING_EQUAL(c.field, "another");
	CU_ASSERT_STRING_EQUAL(c.expected, "some");
	CU_ASSERT_STRING_EQUAL(c.got, "SOME");
	CU_ASSERT_EQUAL(check_xml(OK_REPLY("another='some'", "",
				  "a&amp;b&lt;c&gt;"), NULL, &c),
			CLIENT_REPLY_MISMATCH);
	CU_ASSERT_STRING_EQUAL(c.field, "data");
	CU_ASSERT_STRING_EQUAL(c.got, "(null)");
	CU_ASSERT_EQUAL(check_xml(OK_REPLY("another='some'", " data='stuff'",
				  "a&amp;b"), NULL, &c), CLIENT_REPLY_MISMATCH);
	CU_ASSERT_STRING_EQUAL(c.field, "text");
	CU_ASSERT_STRING_EQUAL(c.got, "a&b");
	CU_ASSERT_EQUAL(check_xml(OK_REPLY("another='some'", " data='stuff'",
				  ""), NULL, &c), CLIENT_REPLY_MISMATCH);
	CU_ASSERT_STRING_EQUAL(c.field, "text");
	CU_ASSERT_STRING_EQUAL(c.got, "");
	/* An empty attribute sent must come back empty, not absent. */
	CU_ASSERT_EQUAL(check_xml(OK_REPLY("another=''", " data='stuff'",
				  "a&amp;b&lt;c&gt;"), empty, &c),
			CLIENT_REPLY_OK);
	CU_ASSERT_EQUAL(check_xml(OK_REPLY("", "data='stuff'",
				  "a&amp;b&lt;c&gt;"), empty, &c),
			CLIENT_REPLY_MISMATCH);
	CU_ASSERT_STRING_EQUAL(c.field, "another");
	CU_ASSERT_EQUAL(check_xml("<iq type='result' id='x-0'><example_tag "
				  "xmlns='urn:other' another='some' data='stuff'"
				  "/></iq>", NULL, &c), CLIENT_REPLY_MISMATCH);
	CU_ASSERT_STRING_EQUAL(c.field, "example_tag");
	/* Not replies at all. */
	CU_ASSERT_EQUAL(check_xml("<iq type='get' id='x-0'/>", NULL, &c),
			CLIENT_REPLY_NONE);
	CU_ASSERT_EQUAL(check_xml("<message type='chat' id='x-0'><body>hi"
				  "</body></message>", NULL, &c),
			CLIENT_REPLY_NONE);
	CU_ASSERT_EQUAL(testutil_live_blocks(), before);
}

static void test_check_other_modes(void)
{
	struct client_check c;
	const char *ping[] = { "--ping", NULL };
	const char *disco[] = { "--disco", NULL };
	const char *version[] = { "--sw-version", NULL };
	const char *entity_time[] = { "--time", NULL };

	CU_ASSERT_EQUAL(check_xml("<iq type='result' id='x-0'/>", ping, &c),
			CLIENT_REPLY_OK);
	CU_ASSERT_EQUAL(check_xml("<iq type='result' id='x-0'><query xmlns="
				  "'http://jabber.org/protocol/disco#info'/></iq>",
				  disco, &c), CLIENT_REPLY_OK);
	CU_ASSERT_EQUAL(check_xml("<iq type='result' id='x-0'/>", disco, &c),
			CLIENT_REPLY_MISMATCH);
	CU_ASSERT_STRING_EQUAL(c.field, "query");
	CU_ASSERT_EQUAL(check_xml("<iq type='result' id='x-0'><query xmlns="
				  "'jabber:iq:version'><name>x</name></query></iq>",
				  version, &c), CLIENT_REPLY_OK);
	CU_ASSERT_EQUAL(check_xml("<iq type='result' id='x-0'><time xmlns="
				  "'urn:xmpp:time'><tzo>+00:00</tzo><utc>2026-12-"
				  "01T09:07:05Z</utc></time></iq>", entity_time,
				  &c), CLIENT_REPLY_OK);
	CU_ASSERT_EQUAL(check_xml("<iq type='result' id='x-0'><time xmlns="
				  "'urn:other'/></iq>", entity_time, &c),
			CLIENT_REPLY_MISMATCH);
	CU_ASSERT_STRING_EQUAL(c.field, "time");
	CU_ASSERT_EQUAL(check_xml("<iq type='error' id='x-0'><error type="
				  "'cancel'><feature-not-implemented xmlns="
				  "'urn:ietf:params:xml:ns:xmpp-stanzas'/></error>"
				  "</iq>", ping, &c), CLIENT_REPLY_ERROR);
}

/* An allocator that fails while FAIL_ALLOCS is set. */
static int fail_allocs;

static void *failing_alloc(size_t size, void *userdata)
{
	(void)userdata;
	return fail_allocs ? NULL : malloc(size);
}

static void failing_free(void *p, void *userdata)
{
	(void)userdata;
	free(p);
}

static void *failing_realloc(void *p, size_t size, void *userdata)
{
	(void)userdata;
	return fail_allocs ? NULL : realloc(p, size);
}

/* Out of memory while checking a reply is a failure (exit 1) at once, not a
 * reply ignored until --timeout calls it a timeout (exit 2). */
static void test_check_nomem(void)
{
	static const xmpp_mem_t mem = {
		failing_alloc, failing_free, failing_realloc, NULL
	};
	xmpp_ctx_t *fctx = xmpp_ctx_new(&mem, NULL);
	struct client_opts o;
	struct client_check c;
	struct client_stats st;
	xmpp_stanza_t *reply;
	char err[256], *buf = NULL;
	size_t len = 0;
	FILE *f;

	CU_ASSERT_PTR_NOT_NULL_FATAL(fctx);
	/* Two text nodes: joining them is the check's one allocation. */
	reply = xmpp_stanza_new_from_string(fctx, OK_REPLY("another='some'",
		" data='stuff'", "OUR<inner/>_MESSAGE"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(reply);
	parse_args(&o, err, sizeof(err), BASE, NULL);
	fail_allocs = 1;
	CU_ASSERT_EQUAL(client_check_reply(fctx, reply, &o, &c),
			CLIENT_REPLY_NOMEM);
	fail_allocs = 0;
	CU_ASSERT_EQUAL(c.outcome, CLIENT_REPLY_NOMEM);
	client_check_clear(&c);
	f = open_memstream(&buf, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	client_report_failure(f, reply, &c);
	fclose(f);
	CU_ASSERT_STRING_EQUAL(buf, "cannot check the reply from ope.localhost: "
			       "out of memory\n");
	free(buf);
	/* With memory the same reply passes. */
	CU_ASSERT_EQUAL(client_check_reply(fctx, reply, &o, &c), CLIENT_REPLY_OK);
	client_check_clear(&c);
	/* The session counts it among the errors: the run fails with 1. */
	CU_ASSERT_EQUAL_FATAL(client_stats_init(&st, 1), 0);
	st.sent = 1;
	st.errors = 1;
	CU_ASSERT_EQUAL(client_stats_exit_code(&st, 1), CLIENT_EXIT_FAIL);
	client_stats_free(&st);
	client_opts_free(&o);
	xmpp_stanza_release(reply);
	xmpp_ctx_free(fctx);
}

static void test_check_errors(void)
{
	/* Prosody's bounce while the component is offline. */
	xmpp_stanza_t *st = parse_xml(
		"<message type='error' id='x-0' from='ope.localhost'>"
		"<error type='wait'><remote-server-timeout xmlns="
		"'urn:ietf:params:xml:ns:xmpp-stanzas'/><text xmlns="
		"'urn:ietf:params:xml:ns:xmpp-stanzas'>Component unavailable"
		"</text><not-connected xmlns="
		"'xmpp:prosody.im/protocol/component'/></error></message>");
	struct client_opts o;
	struct client_check c;
	struct client_error e;
	char err[256];

	CU_ASSERT_EQUAL(client_check_error(st, &e), 0);
	CU_ASSERT_STRING_EQUAL(e.type, "wait");
	CU_ASSERT_STRING_EQUAL(e.condition, "remote-server-timeout");
	CU_ASSERT_STRING_EQUAL(e.app_condition, "not-connected");
	CU_ASSERT_STRING_EQUAL(e.text, "Component unavailable");
	parse_args(&o, err, sizeof(err), BASE, NULL);
	CU_ASSERT_EQUAL(client_check_reply(ctx, st, &o, &c),
			CLIENT_REPLY_ERROR);
	CU_ASSERT_STRING_EQUAL(c.error.condition, "remote-server-timeout");
	client_check_clear(&c);
	client_opts_free(&o);
	xmpp_stanza_release(st);

	/* Condition after text, no app condition. */
	st = parse_xml("<iq type='error' id='1'><error type='cancel'><text "
		       "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>no</text>"
		       "<service-unavailable xmlns="
		       "'urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>");
	CU_ASSERT_EQUAL(client_check_error(st, &e), 0);
	CU_ASSERT_STRING_EQUAL(e.type, "cancel");
	CU_ASSERT_STRING_EQUAL(e.condition, "service-unavailable");
	CU_ASSERT_PTR_NULL(e.app_condition);
	CU_ASSERT_STRING_EQUAL(e.text, "no");
	xmpp_stanza_release(st);

	st = parse_xml("<iq type='error' id='1'><error/></iq>");
	CU_ASSERT_EQUAL(client_check_error(st, &e), 0);
	CU_ASSERT_PTR_NULL(e.type);
	CU_ASSERT_PTR_NULL(e.condition);
	CU_ASSERT_PTR_NULL(e.text);
	xmpp_stanza_release(st);

	st = parse_xml("<iq type='result' id='1'/>");
	CU_ASSERT_EQUAL(client_check_error(st, &e), -1);
	xmpp_stanza_release(st);
}

/* ---- client_track ---- */

static void test_track_ids(void)
{
	struct client_track *t = client_track_new(10000, "ope-1a2b");
	char id[64];
	unsigned long i;
	int ok = 1;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	for (i = 0; i < 10000; i++) {
		client_track_id(t, i, id, sizeof(id));
		ok &= client_track_lookup(t, id) == (long)i;
	}
	CU_ASSERT(ok);
	CU_ASSERT_EQUAL(client_track_id(t, 12345, id, 8), -1);
	CU_ASSERT_EQUAL(client_track_lookup(t, "ope-1a2b-0"), 0);
	CU_ASSERT_EQUAL(client_track_lookup(t, "ope-1a2b-9999"), 9999);
	CU_ASSERT_EQUAL(client_track_lookup(t, "ope-1a2b-10000"), -1);
	CU_ASSERT_EQUAL(client_track_lookup(t, "ope-1a2b-007"), -1);
	CU_ASSERT_EQUAL(client_track_lookup(t, "ope-1a2b-+7"), -1);
	CU_ASSERT_EQUAL(client_track_lookup(t, "ope-1a2b-7x"), -1);
	CU_ASSERT_EQUAL(client_track_lookup(t, "ope-1a2b-"), -1);
	CU_ASSERT_EQUAL(client_track_lookup(t, "ope-1a2b"), -1);
	CU_ASSERT_EQUAL(client_track_lookup(t, "ope-ffff-1"), -1);
	CU_ASSERT_EQUAL(client_track_lookup(t, "ope-1a2bc-1"), -1);
	CU_ASSERT_EQUAL(client_track_lookup(t, NULL), -1);
	client_track_free(t);
	CU_ASSERT_PTR_NULL(client_track_new(0, "p"));
	CU_ASSERT_PTR_NULL(client_track_new(1, "0123456789012345678901234567890123"));
}

static void test_track_replies(void)
{
	struct client_track *t = client_track_new(3, "p");
	uint64_t lat = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	/* A reply for a request never sent is not ours. */
	CU_ASSERT_EQUAL(client_track_reply(t, 0, 5, &lat), CLIENT_TRACK_UNKNOWN);
	CU_ASSERT_EQUAL(client_track_send(t, 100), 0);
	CU_ASSERT_EQUAL(client_track_send(t, 200), 1);
	CU_ASSERT_EQUAL(t->outstanding, 2);
	CU_ASSERT_EQUAL(client_track_reply(t, 1, 250, &lat), CLIENT_TRACK_FIRST);
	CU_ASSERT_EQUAL(lat, 50);
	CU_ASSERT_EQUAL(client_track_reply(t, 1, 260, &lat),
			CLIENT_TRACK_DUPLICATE);
	CU_ASSERT_EQUAL(t->outstanding, 1);
	CU_ASSERT_EQUAL(client_track_reply(t, 0, 400, &lat), CLIENT_TRACK_FIRST);
	CU_ASSERT_EQUAL(lat, 300);
	CU_ASSERT_EQUAL(t->outstanding, 0);
	CU_ASSERT_EQUAL(client_track_send(t, 500), 2);
	CU_ASSERT_EQUAL(client_track_send(t, 600), -1);
	CU_ASSERT_EQUAL(client_track_reply(t, 3, 700, &lat),
			CLIENT_TRACK_UNKNOWN);
	client_track_free(t);
}

static void test_track_expire(void)
{
	struct client_track *t = client_track_new(5, "p");
	uint64_t lat;
	long first;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_EQUAL(client_track_expire(t, &first), 0);
	CU_ASSERT_EQUAL(first, -1);
	client_track_send(t, 10);
	client_track_send(t, 20);
	client_track_send(t, 30);
	client_track_send(t, 40);
	client_track_reply(t, 0, 35, &lat);
	client_track_reply(t, 2, 45, &lat);
	/* Seq 1 and 3 were still pending. */
	CU_ASSERT_EQUAL(client_track_expire(t, &first), 2);
	CU_ASSERT_EQUAL(first, 1);
	CU_ASSERT_EQUAL(t->outstanding, 0);
	CU_ASSERT_EQUAL(client_track_expire(t, NULL), 0);
	CU_ASSERT_EQUAL(client_track_reply(t, 1, 200, &lat), CLIENT_TRACK_LATE);
	CU_ASSERT_EQUAL(client_track_reply(t, 1, 201, &lat),
			CLIENT_TRACK_DUPLICATE);
	CU_ASSERT_EQUAL(client_track_reply(t, 2, 202, &lat),
			CLIENT_TRACK_DUPLICATE);
	/* Sending goes on after an expiry. */
	CU_ASSERT_EQUAL(client_track_send(t, 300), 4);
	CU_ASSERT_EQUAL(t->outstanding, 1);
	client_track_free(t);
}

/* ---- client_stats ---- */

static void test_stats_percentile(void)
{
	uint64_t v[100];
	uint64_t four[] = { 10, 20, 30, 40 };
	uint64_t one[] = { 7 };
	size_t i;

	for (i = 0; i < 100; i++)
		v[i] = i + 1;
	CU_ASSERT_EQUAL(client_stats_percentile(v, 100, 50), 50);
	CU_ASSERT_EQUAL(client_stats_percentile(v, 100, 99), 99);
	CU_ASSERT_EQUAL(client_stats_percentile(v, 100, 100), 100);
	CU_ASSERT_EQUAL(client_stats_percentile(v, 100, 1), 1);
	CU_ASSERT_EQUAL(client_stats_percentile(v, 100, 0), 1);
	CU_ASSERT_EQUAL(client_stats_percentile(v, 100, 99.5), 100);
	CU_ASSERT_EQUAL(client_stats_percentile(four, 4, 50), 20);
	CU_ASSERT_EQUAL(client_stats_percentile(four, 4, 51), 30);
	CU_ASSERT_EQUAL(client_stats_percentile(four, 4, 99), 40);
	CU_ASSERT_EQUAL(client_stats_percentile(one, 1, 50), 7);
	CU_ASSERT_EQUAL(client_stats_percentile(one, 1, 99), 7);
	CU_ASSERT_EQUAL(client_stats_percentile(NULL, 0, 50), 0);
}

static void test_stats_summary(void)
{
	struct client_stats s;
	struct client_summary sum;
	uint64_t ms[] = { 9, 1, 5, 3, 7, 2, 8, 4, 10, 6 };
	size_t i;

	CU_ASSERT_EQUAL_FATAL(client_stats_init(&s, 10), 0);
	for (i = 0; i < 10; i++)
		CU_ASSERT_EQUAL(client_stats_add_latency(&s, ms[i] * 1000000), 0);
	CU_ASSERT_EQUAL(client_stats_add_latency(&s, 1), -1);	/* full */
	s.sent = 12;
	s.ok = 8;
	s.errors = 1;
	s.mismatches = 1;
	s.start_ns = 1000000000;
	s.end_ns = 3000000000;
	client_stats_summarize(&s, &sum);
	CU_ASSERT_DOUBLE_EQUAL(sum.elapsed_s, 2.0, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(sum.rate, 5.0, 1e-9);	/* 10 replies / 2 s */
	CU_ASSERT_DOUBLE_EQUAL(sum.p50_ms, 5.0, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(sum.p99_ms, 10.0, 1e-9);
	client_stats_free(&s);

	CU_ASSERT_EQUAL_FATAL(client_stats_init(&s, 0), 0);
	client_stats_summarize(&s, &sum);
	CU_ASSERT_DOUBLE_EQUAL(sum.rate, 0.0, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(sum.p99_ms, 0.0, 1e-9);
	client_stats_free(&s);
}

static void test_stats_exit_code(void)
{
	struct client_stats s;

	memset(&s, 0, sizeof(s));
	s.ok = 10;
	CU_ASSERT_EQUAL(client_stats_exit_code(&s, 10), CLIENT_EXIT_OK);
	s.ok = 9;
	s.timeouts = 1;
	CU_ASSERT_EQUAL(client_stats_exit_code(&s, 10), CLIENT_EXIT_TIMEOUT);
	s.timeouts = 0;		/* one never sent (interrupted) */
	CU_ASSERT_EQUAL(client_stats_exit_code(&s, 10), CLIENT_EXIT_TIMEOUT);
	s.errors = 1;
	CU_ASSERT_EQUAL(client_stats_exit_code(&s, 10), CLIENT_EXIT_FAIL);
	s.errors = 0;
	s.mismatches = 1;
	CU_ASSERT_EQUAL(client_stats_exit_code(&s, 10), CLIENT_EXIT_FAIL);
	s.mismatches = 0;
	s.ok = 10;
	s.duplicates = 1;
	CU_ASSERT_EQUAL(client_stats_exit_code(&s, 10), CLIENT_EXIT_FAIL);
}

/* ---- client_report ---- */

/* Check the reply XML under FLAG's mode and return what the report prints
 * for it (a malloc'd string the caller frees). */
static char *capture_reply(const char *xml, const char *flag)
{
	struct client_opts o;
	xmpp_stanza_t *st = parse_xml(xml);
	char err[256], *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct client_check c;

	parse_args(&o, err, sizeof(err), BASE, flag, NULL);
	if (client_check_reply(ctx, st, &o, &c) == CLIENT_REPLY_OK)
		client_report_reply(f, st, &o, 1.5);
	else
		client_report_failure(f, st, &c);
	client_check_clear(&c);
	fclose(f);
	xmpp_stanza_release(st);
	client_opts_free(&o);
	return buf;
}

static void test_report_output(void)
{
	char *out;
	long before = testutil_live_blocks();

	out = capture_reply(OK_REPLY("another='some'", " data='stuff'",
			    "OUR_MESSAGE<inside_tag inner_data='x'>t</inside_tag>"),
			    NULL);
	CU_ASSERT_STRING_EQUAL(out, "reply from ope.localhost: another=\"some\" "
			       "data=\"stuff\" text=\"OUR_MESSAGE\"\n  child: "
			       "<inside_tag inner_data=\"x\">t</inside_tag>\n");
	free(out);
	out = capture_reply(OK_REPLY("another='some'", " data='stuff'",
			    "OUR_MESSAGE"), "--xml");
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "<iq "));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, ">OUR_MESSAGE</example_tag></iq>\n"));
	free(out);
	out = capture_reply(OK_REPLY("another='some'", " data='stufff'",
			    "OUR_MESSAGE"), NULL);
	CU_ASSERT_STRING_EQUAL(out, "mismatch in reply from ope.localhost: "
			       "data: sent \"stuff\", got \"stufff\"\n");
	free(out);
	out = capture_reply("<message type='error' id='x-0' from='ope.localhost'>"
			    "<error type='wait'><remote-server-timeout xmlns="
			    "'urn:ietf:params:xml:ns:xmpp-stanzas'/><text xmlns="
			    "'urn:ietf:params:xml:ns:xmpp-stanzas'>Component "
			    "unavailable</text><not-connected xmlns='xmpp:"
			    "prosody.im/protocol/component'/></error></message>",
			    NULL);
	CU_ASSERT_STRING_EQUAL(out, "error reply (message) from ope.localhost: "
			       "type=wait condition=remote-server-timeout "
			       "(not-connected) text=\"Component unavailable\"\n");
	free(out);
	out = capture_reply("<iq type='result' from='ope.localhost' id='x-0'/>",
			    "--ping");
	CU_ASSERT_STRING_EQUAL(out, "pong from ope.localhost in 1.500 ms\n");
	free(out);
	out = capture_reply("<iq type='result' from='c' id='x-0'><query xmlns="
			    "'http://jabber.org/protocol/disco#info'><identity "
			    "category='component' type='generic' name='OPE'/>"
			    "<feature var='urn:xmpp:ping'/></query></iq>",
			    "--disco");
	CU_ASSERT_STRING_EQUAL(out, "disco#info of c:\n  identity: category="
			       "\"component\" type=\"generic\" name=\"OPE\"\n"
			       "  feature: \"urn:xmpp:ping\"\n");
	free(out);
	out = capture_reply("<iq type='result' from='c' id='x-0'><query xmlns="
			    "'jabber:iq:version'><name>ope</name><version>0.1"
			    "</version></query></iq>", "--sw-version");
	CU_ASSERT_STRING_EQUAL(out, "software version of c: name=\"ope\" "
			       "version=\"0.1\" os=(absent)\n");
	free(out);
	out = capture_reply("<iq type='result' from='c' id='x-0'><time xmlns="
			    "'urn:xmpp:time'><tzo>+00:00</tzo><utc>2026-12-01T"
			    "09:07:05Z</utc></time></iq>", "--time");
	CU_ASSERT_STRING_EQUAL(out, "entity time of c: utc=\"2026-12-01T09:07:05Z\" "
			       "tzo=\"+00:00\"\n");
	free(out);
	CU_ASSERT_EQUAL(testutil_live_blocks(), before);
}

static void test_report_summary(void)
{
	struct client_stats s;
	struct client_summary sum = { 2.0, 5000.0, 1.25, 9.5 };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	memset(&s, 0, sizeof(s));
	s.sent = 10000;
	s.ok = 9990;
	s.errors = 4;
	s.timeouts = 3;
	s.duplicates = 2;
	s.mismatches = 3;
	client_report_summary(f, &s, &sum);
	fclose(f);
	CU_ASSERT_STRING_EQUAL(buf, "sent=10000 ok=9990 errors=4 timeouts=3 "
			       "duplicates=2 mismatches=3 late=0 rate=5000.0/s "
			       "p50=1.250ms p99=9.500ms elapsed=2.000s\n");
	free(buf);
}

/* ---- client_session (its pure part) ---- */

static void test_session_sasl_condition(void)
{
	char buf[64];

	CU_ASSERT_EQUAL(client_session_sasl_condition(
		"RECV: <failure xmlns=\"urn:ietf:params:xml:ns:xmpp-sasl\">"
		"<not-authorized/></failure>", buf, sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, "not-authorized");
	CU_ASSERT_EQUAL(client_session_sasl_condition(
		"RECV: <failure xmlns=\"urn:ietf:params:xml:ns:xmpp-sasl\">"
		"<account-disabled xmlns=\"x\"/><text>no</text></failure>",
		buf, sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, "account-disabled");
	CU_ASSERT_EQUAL(client_session_sasl_condition(
		"RECV: <failure xmlns=\"urn:ietf:params:xml:ns:xmpp-sasl\"/>",
		buf, sizeof(buf)), -1);
	CU_ASSERT_EQUAL(client_session_sasl_condition(
		"RECV: <failure xmlns=\"urn:ietf:params:xml:ns:xmpp-tls\">"
		"<x/></failure>", buf, sizeof(buf)), -1);
	CU_ASSERT_EQUAL(client_session_sasl_condition(
		"SENT: <failure xmlns=\"urn:ietf:params:xml:ns:xmpp-sasl\">"
		"<aborted/></failure>", buf, sizeof(buf)), -1);
	CU_ASSERT_EQUAL(client_session_sasl_condition("RECV: <iq/>", buf,
						      sizeof(buf)), -1);
	CU_ASSERT_EQUAL(client_session_sasl_condition(
		"RECV: <failure xmlns=\"urn:ietf:params:xml:ns:xmpp-sasl\">"
		"<not-authorized/></failure>", buf, 5), -1);
}

static void test_opts_scrub_password(void)
{
	char a0[] = "ope-client", a1[] = "-p", a2[] = "hunter2", a3[] = "-phunter3",
	     a4[] = "--password=hunter4", a5[] = "--password", a6[] = "hunter5",
	     a7[] = "-t", a8[] = "ope.localhost", a9[] = "--", a10[] = "keep";
	char *argv[] = { a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, NULL };

	client_opts_scrub_password(11, argv);
	CU_ASSERT_EQUAL(argv[2][0], '\0');
	CU_ASSERT_STRING_EQUAL(argv[3], "-p");
	CU_ASSERT_STRING_EQUAL(argv[4], "--password=");
	CU_ASSERT_EQUAL(argv[6][0], '\0');
	CU_ASSERT_STRING_EQUAL(argv[8], "ope.localhost");
	CU_ASSERT_STRING_EQUAL(argv[10], "keep");
}

/* Lay ARGS (NULL-terminated, the program name first) out the way the
 * kernel lays out argv, in one NUL-separated block that /proc/PID/cmdline
 * shows; scrub it; compare the block, NULs shown as '|', with WANT. */
static void expect_scrubbed(const char *want, ...)
{
	char area[512], shown[513], *argv[32];
	size_t used = 0, i;
	const char *a;
	int argc = 0;
	va_list ap;

	va_start(ap, want);
	while ((a = va_arg(ap, const char *)) != NULL) {
		size_t n = strlen(a) + 1;

		CU_ASSERT_FATAL(used + n <= sizeof(area) && argc < 31);
		memcpy(area + used, a, n);
		argv[argc++] = area + used;
		used += n;
	}
	va_end(ap);
	argv[argc] = NULL;
	client_opts_scrub_password(argc, argv);
	for (i = 0; i < used; i++)
		shown[i] = area[i] != '\0' ? area[i] : '|';
	shown[used] = '\0';
	CU_ASSERT_STRING_EQUAL(shown, want);
	if (strcmp(shown, want) != 0)
		fprintf(stderr, "\nscrubbed \"%s\", wanted \"%s\"\n", shown, want);
}

static void test_opts_scrub_forms(void)
{
	struct client_opts o;
	char err[256];

	/* Every form getopt_long accepts for -p/--password. */
	expect_scrubbed("ope-client|-p|||-t|c|", "ope-client", "-pPW", "-t", "c",
			NULL);
	expect_scrubbed("ope-client|-p||||-t|c|", "ope-client", "-p", "PW", "-t",
			"c", NULL);
	expect_scrubbed("ope-client|-qp|||-t|c|", "ope-client", "-qpPW", "-t",
			"c", NULL);
	expect_scrubbed("ope-client|-qp||||-t|c|", "ope-client", "-qp", "PW",
			"-t", "c", NULL);
	expect_scrubbed("ope-client|-dqp|||", "ope-client", "-dqpPW", NULL);
	expect_scrubbed("ope-client|--password||||", "ope-client", "--password",
			"PW", NULL);
	expect_scrubbed("ope-client|--password=|||", "ope-client",
			"--password=PW", NULL);
	/* Given twice; after an operand (GNU getopt permutes argv). */
	expect_scrubbed("ope-client|-p||-qp||", "ope-client", "-pA", "-qpB", NULL);
	expect_scrubbed("ope-client|extra|-p|||", "ope-client", "extra", "-pPW",
			NULL);
	/* What only looks like a password stays: option values, operands. */
	expect_scrubbed("ope-client|-t|-pPW|", "ope-client", "-t", "-pPW", NULL);
	expect_scrubbed("ope-client|-j-pPW|", "ope-client", "-j-pPW", NULL);
	expect_scrubbed("ope-client|--body=-pPW|", "ope-client", "--body=-pPW",
			NULL);
	expect_scrubbed("ope-client|--|-pPW|", "ope-client", "--", "-pPW", NULL);
	/* --password has no accepted abbreviation (--password-file shares
	 * every prefix): the parser refuses it, without echoing the value. */
	CU_ASSERT_EQUAL(parse_args(&o, err, sizeof(err), BASE, "--pass=PW",
				   NULL), CLIENT_OPTS_ERROR);
	CU_ASSERT_PTR_NULL(strstr(err, "PW"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "--pass"));
	client_opts_free(&o);
	CU_ASSERT_EQUAL(parse_args(&o, err, sizeof(err), BASE, "--passw", "PW",
				   NULL), CLIENT_OPTS_ERROR);
	client_opts_free(&o);
}

int test_client_register(void)
{
	CU_pSuite s;

	s = CU_add_suite("client_opts", NULL, NULL);
	if (s == NULL ||
	    !CU_add_test(s, "defaults", test_opts_defaults) ||
	    !CU_add_test(s, "every option", test_opts_all) ||
	    !CU_add_test(s, "request modes", test_opts_modes) ||
	    !CU_add_test(s, "help and version", test_opts_help_version) ||
	    !CU_add_test(s, "usage errors", test_opts_errors) ||
	    !CU_add_test(s, "window clamped", test_opts_window_clamped) ||
	    !CU_add_test(s, "help text", test_opts_usage_text) ||
	    !CU_add_test(s, "password scrubbed from argv", test_opts_scrub_password) ||
	    !CU_add_test(s, "every password form scrubbed", test_opts_scrub_forms))
		return CU_get_error();
	s = CU_add_suite("client_creds", creds_init, creds_clean);
	if (s == NULL ||
	    !CU_add_test(s, "password file", test_creds_file) ||
	    !CU_add_test(s, "resolve order", test_creds_resolve))
		return CU_get_error();
	s = CU_add_suite("client_request_check_report", ctx_init, ctx_clean);
	if (s == NULL ||
	    !CU_add_test(s, "message request", test_request_message) ||
	    !CU_add_test(s, "iq requests", test_request_iq_kinds) ||
	    !CU_add_test(s, "example_tag replies", test_check_example) ||
	    !CU_add_test(s, "ping/disco/version replies",
			 test_check_other_modes) ||
	    !CU_add_test(s, "error replies", test_check_errors) ||
	    !CU_add_test(s, "out of memory is a failure", test_check_nomem) ||
	    !CU_add_test(s, "reply output", test_report_output))
		return CU_get_error();
	s = CU_add_suite("client_track_stats", NULL, NULL);
	if (s == NULL ||
	    !CU_add_test(s, "ids", test_track_ids) ||
	    !CU_add_test(s, "replies and duplicates", test_track_replies) ||
	    !CU_add_test(s, "expiry", test_track_expire) ||
	    !CU_add_test(s, "percentiles", test_stats_percentile) ||
	    !CU_add_test(s, "summary", test_stats_summary) ||
	    !CU_add_test(s, "exit code", test_stats_exit_code) ||
	    !CU_add_test(s, "summary line", test_report_summary) ||
	    !CU_add_test(s, "SASL failure", test_session_sasl_condition))
		return CU_get_error();
	return CUE_SUCCESS;
}
