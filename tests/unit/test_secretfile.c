/* SPDX-License-Identifier: MIT */
/* test_secretfile.c: the one secret-file reader: first line, CRLF, blank tails, refusals, modes. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <CUnit/CUnit.h>

#include "secretfile.h"
#include "testutil.h"

static char dir[64];
static char path[128];

static int setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/ope-unit-secretfile.XXXXXX");
	snprintf(path, sizeof(path), "%s/f", mkdtemp(dir) ? dir : "/nonexistent");
	return access(dir, W_OK) != 0;
}

static int teardown(void)
{
	unlink(path);
	return rmdir(dir) != 0;
}

/* Replace the test file with LEN bytes of DATA and mode MODE. */
static void put(const char *data, size_t len, mode_t mode)
{
	int fd;

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(write(fd, data, len) == (ssize_t)len);
	close(fd);
	CU_ASSERT_FATAL(chmod(path, mode) == 0);
}

static void expect_secret(const char *data, size_t len, const char *want)
{
	struct secretfile sf;

	put(data, len, 0600);
	CU_ASSERT_EQUAL(secretfile_read(path, &sf), SECRETFILE_OK);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sf.secret);
	CU_ASSERT_STRING_EQUAL(sf.secret, want);
	CU_ASSERT_EQUAL(sf.mode & 0777, 0600);
	secretfile_free(sf.secret);
}

static void expect_status(const char *data, size_t len,
			  enum secretfile_status want)
{
	struct secretfile sf;

	put(data, len, 0600);
	CU_ASSERT_EQUAL(secretfile_read(path, &sf), want);
	CU_ASSERT_PTR_NULL(sf.secret);
}

#define SECRET(lit, want) expect_secret(lit, sizeof(lit) - 1, want)
#define STATUS(lit, want) expect_status(lit, sizeof(lit) - 1, want)

static void test_first_line(void)
{
	SECRET("s3cr&t \"x\"\n", "s3cr&t \"x\"");
	SECRET("no-newline", "no-newline");
	SECRET("crlf\r\n", "crlf");
	SECRET("héllo ✓\n", "héllo ✓");
	SECRET("inner space\ttab\n", "inner space\ttab");
	/* Empty lines after the secret are harmless. */
	SECRET("tail\n\n\r\n\n", "tail");
}

static void test_refused_content(void)
{
	STATUS("", SECRETFILE_EMPTY);
	STATUS("\n", SECRETFILE_EMPTY);
	STATUS("\r\n", SECRETFILE_EMPTY);
	STATUS("\nsecond\n", SECRETFILE_EMPTY);
	STATUS("one\ntwo\n", SECRETFILE_LINES);
	STATUS("one\n\n \n", SECRETFILE_LINES);
	STATUS("old\rmac\n", SECRETFILE_LINES);
	STATUS("cr-only\r", SECRETFILE_LINES);
	STATUS("nul\0inside\n", SECRETFILE_LINES);
	STATUS("ok\n\0", SECRETFILE_LINES);
}

static void test_size_cap(void)
{
	char *big = malloc(SECRETFILE_MAX + 2), *want;

	CU_ASSERT_PTR_NOT_NULL_FATAL(big);
	memset(big, 'x', SECRETFILE_MAX + 1);
	big[SECRETFILE_MAX + 1] = '\0';
	expect_status(big, SECRETFILE_MAX + 1, SECRETFILE_TOO_LARGE);
	/* SECRETFILE_MAX bytes pass, with or without the newline among them. */
	big[SECRETFILE_MAX] = '\0';
	expect_secret(big, SECRETFILE_MAX, big);
	want = strndup(big, SECRETFILE_MAX - 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(want);
	big[SECRETFILE_MAX - 1] = '\n';
	expect_secret(big, SECRETFILE_MAX, want);
	free(want);
	free(big);
}

static void test_refused_files(void)
{
	struct secretfile sf;

	CU_ASSERT_EQUAL(secretfile_read("/nonexistent/ope-secret", &sf),
			SECRETFILE_UNREADABLE);
	CU_ASSERT_EQUAL(sf.errnum, ENOENT);
	CU_ASSERT_PTR_NULL(sf.secret);
	CU_ASSERT_EQUAL(secretfile_read(dir, &sf), SECRETFILE_UNREADABLE);
	CU_ASSERT_EQUAL(sf.errnum, EISDIR);
	CU_ASSERT_EQUAL(secretfile_read("/dev/null", &sf), SECRETFILE_NOT_REGULAR);
	CU_ASSERT_PTR_NULL(sf.secret);
	/* A FIFO with no writer: refused at once, never waited on. */
	unlink(path);
	CU_ASSERT_FATAL(mkfifo(path, 0600) == 0);
	CU_ASSERT_EQUAL(secretfile_read(path, &sf), SECRETFILE_NOT_REGULAR);
	CU_ASSERT_PTR_NULL(sf.secret);
	unlink(path);
	/* Unreadable for us (root reads anything: then it is just read). */
	put("locked\n", 7, 0000);
	if (geteuid() != 0) {
		CU_ASSERT_EQUAL(secretfile_read(path, &sf), SECRETFILE_UNREADABLE);
		CU_ASSERT_EQUAL(sf.errnum, EACCES);
	}
}

static void test_modes(void)
{
	struct secretfile sf;

	put("m\n", 2, 0640);
	CU_ASSERT_EQUAL_FATAL(secretfile_read(path, &sf), SECRETFILE_OK);
	CU_ASSERT_EQUAL(sf.mode & 0777, 0640);
	CU_ASSERT(secretfile_exposed(sf.mode));
	secretfile_free(sf.secret);
	CU_ASSERT(secretfile_exposed(0604));
	CU_ASSERT(secretfile_exposed(0644));
	CU_ASSERT(!secretfile_exposed(0600));
	CU_ASSERT(!secretfile_exposed(0400));
	CU_ASSERT(!secretfile_exposed(0700));
	secretfile_free(NULL);
}

static int test_secretfile_register(void)
{
	CU_pSuite s = CU_add_suite("secretfile", setup, teardown);

	if (s == NULL ||
	    !CU_add_test(s, "the first line is the secret", test_first_line) ||
	    !CU_add_test(s, "empty, two lines, CR, NUL", test_refused_content) ||
	    !CU_add_test(s, "size cap", test_size_cap) ||
	    !CU_add_test(s, "missing, directory, device, FIFO", test_refused_files) ||
	    !CU_add_test(s, "group/other read bits", test_modes))
		return CU_get_error();
	return CUE_SUCCESS;
}

TESTUTIL_SUITE(test_secretfile_register)
