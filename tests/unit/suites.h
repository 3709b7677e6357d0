/* SPDX-License-Identifier: MIT */
/* suites.h: each tests/unit/test_<module>.c registers one CUnit suite. */
#ifndef OPE_TEST_SUITES_H
#define OPE_TEST_SUITES_H

/* Each adds its suite to the CUnit registry; returns 0 or a CUnit error. */
int test_log_register(void);
int test_secretfile_register(void);
int test_config_register(void);
int test_jid_register(void);
int test_backoff_register(void);
int test_handover_register(void);
int test_stanza_register(void);
int test_dispatch_register(void);
int test_xmlstream_register(void);
int test_ext_example_register(void);
int test_ext_time_register(void);
int test_registry_register(void);
int test_client_register(void);

#endif
