/* SPDX-License-Identifier: MIT */
/* test_backoff.c: unit tests for the backoff module (stub, being written). */
#include <CUnit/CUnit.h>
#include "suites.h"

int test_backoff_register(void)
{
	return CU_add_suite("backoff", NULL, NULL) ? CUE_SUCCESS : CU_get_error();
}
