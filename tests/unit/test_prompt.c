/* SPDX-License-Identifier: MIT */
/* test_prompt.c: prompt.c: a line from stdin (not a terminal here), its line end removed, EOF told apart. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "prompt.h"
#include "secretfile.h"
#include "testutil.h"

/* Run prompt_line() with INPUT as stdin; put the answer in *OUT. */
static int answer(const char *input, char **out)
{
	int saved = dup(STDIN_FILENO), fds[2], rc;

	CU_ASSERT_FATAL(saved >= 0 && pipe(fds) == 0);
	CU_ASSERT_FATAL(write(fds[1], input, strlen(input)) ==
			(ssize_t)strlen(input));
	close(fds[1]);
	CU_ASSERT_FATAL(dup2(fds[0], STDIN_FILENO) == STDIN_FILENO);
	close(fds[0]);
	clearerr(stdin);
	rc = prompt_line("", 1, out);
	CU_ASSERT_FATAL(dup2(saved, STDIN_FILENO) == STDIN_FILENO);
	close(saved);
	clearerr(stdin);
	return rc;
}

static void test_prompt_line(void)
{
	char *s;

	/* stdio would allocate a buffer for stdin on the first read and keep
	 * it: the leak check would count it. */
	setvbuf(stdin, NULL, _IONBF, 0);
	CU_ASSERT_EQUAL(answer("s3cret\r\n", &s), 0);
	CU_ASSERT_STRING_EQUAL(s, "s3cret");
	secretfile_free(s);
	CU_ASSERT_EQUAL(answer("\n", &s), 0);
	CU_ASSERT_STRING_EQUAL(s, "");
	secretfile_free(s);
	CU_ASSERT_EQUAL(answer("no newline", &s), 0);
	CU_ASSERT_STRING_EQUAL(s, "no newline");
	secretfile_free(s);
	CU_ASSERT_EQUAL(answer("", &s), 1);
	CU_ASSERT_PTR_NULL(s);
}

static int test_prompt_register(void)
{
	CU_pSuite s = CU_add_suite("prompt", NULL, NULL);

	if (s == NULL || !CU_add_test(s, "a line from stdin", test_prompt_line))
		return CU_get_error();
	return CUE_SUCCESS;
}

TESTUTIL_SUITE(test_prompt_register)
