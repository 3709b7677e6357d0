/* SPDX-License-Identifier: MIT */
/* test_dispatch.c: unit tests for the dispatch module (stub, being written). */
#include <CUnit/CUnit.h>
#include "suites.h"

int test_dispatch_register(void)
{
	return CU_add_suite("dispatch", NULL, NULL) ? CUE_SUCCESS : CU_get_error();
}
