/* SPDX-License-Identifier: MIT */
/* runner.c: the one CUnit runner for every unit suite; exit 1 on any failure. */
#include <stdio.h>
#include <string.h>
#include <CUnit/Basic.h>

#include "log.h"
#include "suites.h"

static int (*const suites[])(void) = {
	test_log_register,
	test_secretfile_register,
	test_config_register,
	test_jid_register,
	test_backoff_register,
	test_handover_register,
	test_stanza_register,
	test_dispatch_register,
	test_xmlstream_register,
	test_ext_example_register,
	test_ext_time_register,
	test_registry_register,
	test_client_register,
};

int main(int argc, char **argv)
{
	unsigned failures;
	size_t i;

	/* Modules log; keep the runner's own output readable. */
	log_init("ope-unit", LOG_LEVEL_ERROR, stderr);
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	for (i = 0; i < sizeof(suites) / sizeof(suites[0]); i++) {
		if (suites[i]() != CUE_SUCCESS) {
			fprintf(stderr, "cannot register suite %zu: %s\n", i,
				CU_get_error_msg());
			CU_cleanup_registry();
			return 1;
		}
	}
	CU_basic_set_mode(argc > 1 && strcmp(argv[1], "-v") == 0 ?
			  CU_BRM_VERBOSE : CU_BRM_NORMAL);
	CU_basic_run_tests();
	failures = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	if (CU_get_number_of_tests_run() == 0) {
		fprintf(stderr, "no unit test ran\n");
		failures = 1;
	}
	CU_cleanup_registry();
	return failures ? 1 : 0;
}
