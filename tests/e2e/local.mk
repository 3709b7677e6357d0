# SPDX-License-Identifier: MIT
# tests/e2e/local.mk: end-to-end tests through real Prosody (container or native) and ejabberd.
#
# Each .test starts its own server on free loopback ports and fails (never
# skips) when the server can't be started. OPE_E2E_PROSODY=container|native|auto
# picks how Prosody runs (see tests/e2e/lib.sh).
# scenarios.sh prints TAP: one result per scenario.
TEST_EXTENSIONS += .test
TEST_LOG_DRIVER = $(TAP_DRIVER)
TESTS += tests/e2e/prosody.test tests/e2e/ejabberd.test
dist_check_SCRIPTS += \
	tests/e2e/prosody.test \
	tests/e2e/ejabberd.test \
	tests/e2e/scenarios.sh
EXTRA_DIST += \
	tests/e2e/lib.sh \
	tests/e2e/prosody.sh \
	tests/e2e/container.sh \
	tests/e2e/ejabberd.sh \
	tests/e2e/e2e_util.py \
	tests/e2e/probe.py \
	tests/e2e/slixmpp_component.py \
	tests/e2e/compose.yml \
	tests/deps.sh \
	tests/demo.sh \
	tests/all.sh
