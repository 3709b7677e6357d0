# SPDX-License-Identifier: MIT
# tests/integration/local.mk: ope-component against a fake XEP-0114 server (fakeserver.py); one TAP result per case.
#
# The test_*.py files of ope-component's behaviour share itest.py (config,
# the shared component, stanza builders and checks) and harness.py (the
# processes, TAP). OPE_TEST_ONLY=WORD runs the cases whose name contains
# WORD; the others are reported "# SKIP not selected".
TEST_EXTENSIONS += .py
PY_LOG_COMPILER = $(PYTHON3)
PY_LOG_DRIVER = $(TAP_DRIVER)
INTEGRATION_TESTS = \
	tests/integration/test_stanzas.py \
	tests/integration/test_connect.py \
	tests/integration/test_stop.py \
	tests/integration/test_takeover.py \
	tests/integration/test_config.py \
	tests/integration/test_access.py \
	tests/integration/test_hostile.py \
	tests/integration/test_metrics.py \
	tests/integration/test_servers.py \
	tests/integration/test_notify.py \
	tests/integration/test_envlog.py \
	tests/integration/test_adhoc.py \
	tests/integration/test_pool.py \
	tests/integration/test_links.py
TESTS += $(INTEGRATION_TESTS)
dist_check_SCRIPTS += $(INTEGRATION_TESTS)
EXTRA_DIST += tests/integration/fakeserver.py tests/integration/harness.py \
	tests/integration/itest.py
