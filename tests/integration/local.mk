# SPDX-License-Identifier: MIT
# tests/integration/local.mk: ope-component against a fake XEP-0114 server (fakeserver.py).
TEST_EXTENSIONS += .py
PY_LOG_COMPILER = $(PYTHON3)
TESTS += tests/integration/test_component.py tests/integration/test_notify.py
dist_check_SCRIPTS += tests/integration/test_component.py \
	tests/integration/test_notify.py
EXTRA_DIST += tests/integration/fakeserver.py
