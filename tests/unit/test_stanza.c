/* SPDX-License-Identifier: MIT */
/* test_stanza.c: unit tests for the stanza module (stub, being written). */
#include <CUnit/CUnit.h>
#include "suites.h"

int test_stanza_register(void)
{
	return CU_add_suite("stanza", NULL, NULL) ? CUE_SUCCESS : CU_get_error();
}
