/* SPDX-License-Identifier: MIT */
/* test_ext_example.c: unit tests for the ext_example module (stub, being written). */
#include <CUnit/CUnit.h>
#include "suites.h"

int test_ext_example_register(void)
{
	return CU_add_suite("ext_example", NULL, NULL) ? CUE_SUCCESS : CU_get_error();
}
