/* SPDX-License-Identifier: MIT */
/* test_creds.c: ope-client's creds.c: the password: --password-file (line endings, one line, regular files) and the order of the sources. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "creds.h"
#include "opts.h"
#include "testutil.h"
#include "testutil_client.h"

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
		"lf", "crlf", "nolf", "empty", "blank", "two", "svc",
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
	testutil_args(&o, err, sizeof(err), TESTUTIL_BASE, "-p", "cli", "--password-file",
		   "/nonexistent", NULL);
	CU_ASSERT_EQUAL(client_creds_resolve(&o, "env", 0, err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(o.password, "cli");
	client_opts_free(&o);

	/* --password-file before OPE_PASSWORD. */
	testutil_args(&o, err, sizeof(err), TESTUTIL_BASE, "--password-file",
		   write_tmp("lf", "fromfile\n"), NULL);
	CU_ASSERT_EQUAL(client_creds_resolve(&o, "env", 0, err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(o.password, "fromfile");
	client_opts_free(&o);

	/* An unreadable --password-file is an error, not a fall-through. */
	testutil_args(&o, err, sizeof(err), TESTUTIL_BASE, "--password-file",
		   "/nonexistent/pw", NULL);
	CU_ASSERT_EQUAL(client_creds_resolve(&o, "env", 0, err, sizeof(err)),
			-1);
	client_opts_free(&o);

	testutil_args(&o, err, sizeof(err), TESTUTIL_BASE, NULL);
	CU_ASSERT_EQUAL(client_creds_resolve(&o, "fromenv", 0, err,
					     sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(o.password, "fromenv");
	client_opts_free(&o);

	/* No terminal, no password: a usage error that says what to do. */
	testutil_args(&o, err, sizeof(err), TESTUTIL_BASE, NULL);
	CU_ASSERT_EQUAL(client_creds_resolve(&o, NULL, 0, err, sizeof(err)),
			-1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "OPE_PASSWORD"));
	CU_ASSERT_PTR_NULL(o.password);
	client_opts_free(&o);
	testutil_args(&o, err, sizeof(err), TESTUTIL_BASE, NULL);
	CU_ASSERT_EQUAL(client_creds_resolve(&o, "", 0, err, sizeof(err)), -1);
	client_opts_free(&o);

	testutil_args(&o, err, sizeof(err), "-t", "c", "-p", "x", NULL);
	CU_ASSERT_EQUAL(client_creds_resolve(&o, NULL, 0, err, sizeof(err)),
			-1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "--jid"));
	client_opts_free(&o);
}

static void test_creds_service(void)
{
	struct client_opts o;
	char err[256];

	testutil_args(&o, err, sizeof(err), TESTUTIL_BASE, "--service-password",
		      "cli", "--service-password-file", "/nonexistent", NULL);
	CU_ASSERT_EQUAL(client_creds_service(&o, "env", err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(o.service_password, "cli");
	client_opts_free(&o);
	testutil_args(&o, err, sizeof(err), TESTUTIL_BASE, "--service-password-file",
		      write_tmp("svc", "from file\n"), NULL);
	CU_ASSERT_EQUAL(client_creds_service(&o, "env", err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(o.service_password, "from file");
	client_opts_free(&o);
	testutil_args(&o, err, sizeof(err), TESTUTIL_BASE, "--service-password-file",
		      "/nonexistent/svc", NULL);
	CU_ASSERT_EQUAL(client_creds_service(&o, "env", err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "/nonexistent/svc"));
	client_opts_free(&o);
	testutil_args(&o, err, sizeof(err), TESTUTIL_BASE, NULL);
	CU_ASSERT_EQUAL(client_creds_service(&o, "fromenv", err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(o.service_password, "fromenv");
	client_opts_free(&o);
	/* None at all is fine: most services want none. */
	testutil_args(&o, err, sizeof(err), TESTUTIL_BASE, NULL);
	CU_ASSERT_EQUAL(client_creds_service(&o, NULL, err, sizeof(err)), 0);
	CU_ASSERT_PTR_NULL(o.service_password);
	client_opts_free(&o);
}

static int test_creds_register(void)
{
	CU_pSuite s = CU_add_suite("client_creds", creds_init, creds_clean);

	if (s == NULL ||
	    !CU_add_test(s, "password file", test_creds_file) ||
	    !CU_add_test(s, "resolve order", test_creds_resolve) ||
	    !CU_add_test(s, "service password order", test_creds_service))
		return CU_get_error();
	return CUE_SUCCESS;
}

TESTUTIL_SUITE(test_creds_register)
