/* SPDX-License-Identifier: MIT */
/* test_config.c: unit tests for the config module (stub, being written). */
#include <CUnit/CUnit.h>
#include "suites.h"

int test_config_register(void)
{
	return CU_add_suite("config", NULL, NULL) ? CUE_SUCCESS : CU_get_error();
}
