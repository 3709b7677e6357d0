/* SPDX-License-Identifier: MIT */
/* test_client.c: unit tests for the client module (stub, being written). */
#include <CUnit/CUnit.h>
#include "suites.h"

int test_client_register(void)
{
	return CU_add_suite("client", NULL, NULL) ? CUE_SUCCESS : CU_get_error();
}
