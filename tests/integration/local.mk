# SPDX-License-Identifier: MIT
# tests/integration/local.mk: ope-component against a fake XEP-0114 server (fakeserver.py); one TAP result per case.
TEST_EXTENSIONS += .py
PY_LOG_COMPILER = $(PYTHON3)
PY_LOG_DRIVER = $(TAP_DRIVER)
TESTS += tests/integration/test_component.py tests/integration/test_notify.py \
	tests/integration/test_envlog.py tests/integration/test_adhoc.py \
	tests/integration/test_pool.py
dist_check_SCRIPTS += tests/integration/test_component.py \
	tests/integration/test_notify.py tests/integration/test_envlog.py \
	tests/integration/test_adhoc.py tests/integration/test_pool.py
EXTRA_DIST += tests/integration/fakeserver.py tests/integration/harness.py
