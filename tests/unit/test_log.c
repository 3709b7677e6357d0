/* SPDX-License-Identifier: MIT */
/* test_log.c: unit tests for the log module (stub, being written). */
#include <CUnit/CUnit.h>
#include "suites.h"

int test_log_register(void)
{
	return CU_add_suite("log", NULL, NULL) ? CUE_SUCCESS : CU_get_error();
}
