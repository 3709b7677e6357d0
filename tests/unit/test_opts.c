/* SPDX-License-Identifier: MIT */
/* test_opts.c: ope-client's opts.c: command-line options: defaults, every option, modes, usage errors, the password scrubbed from argv in every form. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "client_exit.h"
#include "opts.h"
#include "testutil.h"
#include "testutil_client.h"

static void test_opts_defaults(void)
{
	struct client_opts o;
	char err[256];

	CU_ASSERT_EQUAL(testutil_args(&o, err, sizeof(err), TESTUTIL_BASE, NULL),
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

	CU_ASSERT_EQUAL_FATAL(testutil_args(&o, err, sizeof(err),
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
	CU_ASSERT_EQUAL(testutil_args(&o, err, sizeof(err), "-j", "a@b", "-p",
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
		CU_ASSERT_EQUAL(testutil_args(&o, err, sizeof(err), TESTUTIL_BASE,
					   m[i].flag, NULL), CLIENT_OPTS_RUN);
		CU_ASSERT_EQUAL(o.mode, m[i].mode);
		client_opts_free(&o);
	}
	CU_ASSERT_EQUAL(testutil_args(&o, err, sizeof(err), TESTUTIL_BASE, "--ping",
				   "--disco", NULL), CLIENT_OPTS_ERROR);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "exclude"));
	client_opts_free(&o);
}

static void test_opts_help_version(void)
{
	struct client_opts o;
	char err[256];

	CU_ASSERT_EQUAL(testutil_args(&o, err, sizeof(err), "-h", NULL),
			CLIENT_OPTS_HELP);
	client_opts_free(&o);
	CU_ASSERT_EQUAL(testutil_args(&o, err, sizeof(err), "--help", NULL),
			CLIENT_OPTS_HELP);
	client_opts_free(&o);
	CU_ASSERT_EQUAL(testutil_args(&o, err, sizeof(err), "-V", NULL),
			CLIENT_OPTS_VERSION);
	client_opts_free(&o);
	/* --version is ope-client's own version, not XEP-0092. */
	CU_ASSERT_EQUAL(testutil_args(&o, err, sizeof(err), "--version", NULL),
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
	expect_usage_error("--bogus", TESTUTIL_BASE, "--bogus", NULL);
	expect_usage_error("-x", TESTUTIL_BASE, "-x", NULL);
	expect_usage_error("needs a value", TESTUTIL_BASE, "--timeout", NULL);
	expect_usage_error("needs a value", "-t", NULL);
	expect_usage_error("--timeout", TESTUTIL_BASE, "--timeout", "0", NULL);
	expect_usage_error("--timeout", TESTUTIL_BASE, "--timeout", "abc", NULL);
	expect_usage_error("--timeout", TESTUTIL_BASE, "--timeout", "-1", NULL);
	expect_usage_error("--timeout", TESTUTIL_BASE, "--timeout", "5s", NULL);
	expect_usage_error("--port", TESTUTIL_BASE, "--port", "70000", NULL);
	expect_usage_error("--port", TESTUTIL_BASE, "--port", "0", NULL);
	expect_usage_error("--count", TESTUTIL_BASE, "--count", "0", NULL);
	expect_usage_error("--window", TESTUTIL_BASE, "--count", "5", "--window",
			   "x", NULL);
	expect_usage_error("--window needs --count", TESTUTIL_BASE, "--window", "5",
			   NULL);
	expect_usage_error("--json needs --count", TESTUTIL_BASE, "--json", NULL);
	expect_usage_error("--to", "-j", "a@b", NULL);
	expect_usage_error("--to", "-j", "a@b", "-t", "", NULL);
	expect_usage_error("user JID", "-j", "localhost", "-t", "c", NULL);
	expect_usage_error("unexpected argument", TESTUTIL_BASE, "extra", NULL);
	expect_usage_error("exclude", TESTUTIL_BASE, "--insecure", "--cafile", "x",
			   NULL);
	expect_usage_error("exclude", TESTUTIL_BASE, "-d", "-q", NULL);
	expect_usage_error("--host", TESTUTIL_BASE, "--host", "", NULL);
}

static void test_opts_window_clamped(void)
{
	struct client_opts o;
	char err[256];

	CU_ASSERT_EQUAL(testutil_args(&o, err, sizeof(err), TESTUTIL_BASE, "--count", "3",
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
	/* --service-password the same way; its file option is left alone. */
	expect_scrubbed("ope-client|--service-password||||--service-password=|||"
			"--service-password-file|keep.txt|", "ope-client",
			"--service-password", "S1", "--service-password=S2",
			"--service-password-file", "keep.txt", NULL);
	/* --password has no accepted abbreviation (--password-file shares
	 * every prefix): the parser refuses it, without echoing the value. */
	CU_ASSERT_EQUAL(testutil_args(&o, err, sizeof(err), TESTUTIL_BASE, "--pass=PW",
				   NULL), CLIENT_OPTS_ERROR);
	CU_ASSERT_PTR_NULL(strstr(err, "PW"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "--pass"));
	client_opts_free(&o);
	CU_ASSERT_EQUAL(testutil_args(&o, err, sizeof(err), TESTUTIL_BASE, "--passw", "PW",
				   NULL), CLIENT_OPTS_ERROR);
	client_opts_free(&o);
}

static void test_opts_command(void)
{
	struct client_opts o;
	char err[256];

	CU_ASSERT_EQUAL(testutil_args(&o, err, sizeof(err), TESTUTIL_BASE,
				      "--command", "who", "--field", "jid=a@b=c",
				      "--field", "x=", NULL), CLIENT_OPTS_RUN);
	CU_ASSERT_EQUAL(o.mode, CLIENT_MODE_COMMAND);
	CU_ASSERT_STRING_EQUAL(o.command, "who");
	CU_ASSERT_EQUAL_FATAL(o.nfields, 2);
	CU_ASSERT_STRING_EQUAL(o.fields[0], "jid=a@b=c");
	CU_ASSERT_STRING_EQUAL(o.fields[1], "x=");
	client_opts_free(&o);
	expect_usage_error("NAME=VALUE", TESTUTIL_BASE, "--command", "who",
			   "--field", "novalue", NULL);
	expect_usage_error("NAME=VALUE", TESTUTIL_BASE, "--command", "who",
			   "--field", "=v", NULL);
	expect_usage_error("--field needs --command", TESTUTIL_BASE, "--field",
			   "a=b", NULL);
	expect_usage_error("exclude", TESTUTIL_BASE, "--command", "status",
			   "--ping", NULL);
	expect_usage_error("exclude", TESTUTIL_BASE, "--command", "status",
			   "--count", "3", NULL);
	expect_usage_error("node name", TESTUTIL_BASE, "--command", "", NULL);
}

static int test_opts_register(void)
{
	CU_pSuite s = CU_add_suite("client_opts", NULL, NULL);

	if (s == NULL ||
	    !CU_add_test(s, "defaults", test_opts_defaults) ||
	    !CU_add_test(s, "every option", test_opts_all) ||
	    !CU_add_test(s, "request modes", test_opts_modes) ||
	    !CU_add_test(s, "--command and --field", test_opts_command) ||
	    !CU_add_test(s, "help and version", test_opts_help_version) ||
	    !CU_add_test(s, "usage errors", test_opts_errors) ||
	    !CU_add_test(s, "window clamped", test_opts_window_clamped) ||
	    !CU_add_test(s, "help text", test_opts_usage_text) ||
	    !CU_add_test(s, "password scrubbed from argv", test_opts_scrub_password) ||
	    !CU_add_test(s, "every password form scrubbed", test_opts_scrub_forms))
		return CU_get_error();
	return CUE_SUCCESS;
}

TESTUTIL_SUITE(test_opts_register)
