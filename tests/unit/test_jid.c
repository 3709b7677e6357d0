/* SPDX-License-Identifier: MIT */
/* test_jid.c: unit tests for the jid module (stub, being written). */
#include <CUnit/CUnit.h>
#include "suites.h"

int test_jid_register(void)
{
	return CU_add_suite("jid", NULL, NULL) ? CUE_SUCCESS : CU_get_error();
}
