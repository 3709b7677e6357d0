# SPDX-License-Identifier: MIT
# tests/e2e/local.mk: end-to-end tests through real Prosody (container or native) and ejabberd.
#
# Each .test starts its own server on free loopback ports and fails (never
# skips) when the server can't be started. OPE_E2E_PROSODY=container|native|auto
# picks how Prosody runs (see tests/e2e/lib.sh).
# scenarios.sh prints TAP: one result per scenario.
#
# scaleout.test (3 instances behind ejabberd with mod_ope, a rolling
# restart under load) and scaleout-cluster.test (a two-node ejabberd cluster
# on loopback, one node stopped under load) build contrib/ejabberd's module
# with erlc and fail, never skip, without it. They print TAP too.
#
# prosody-pool.test loads contrib/prosody/mod_ope.lua into the test's
# Prosody: a pool of ope-component instances under load, SIGKILL, SIGSTOP,
# the only instance killed, stickiness, drain and hold (TAP).
# ejabberd-pool.test (3 instances behind ejabberd with mod_ope: SIGKILL
# and SIGSTOP of the serving one under load, stickiness of 100 senders,
# SIGKILL of a cluster node's VM) builds the module the same way (TAP).
#
# takeover.test: takeover restarts (SIGUSR2, --takeover) under load behind
# Prosody, then ejabberd; a refused TLS link; a successor that can't start.
#
# None of them is in `make check` (which needs no XMPP server): `make
# check-e2e` runs them, `make check-e2e TESTS=tests/e2e/prosody.test` one of
# them; tests/all.sh runs both targets. A new e2e test is one line below.
TEST_EXTENSIONS += .test
TEST_LOG_DRIVER = $(TAP_DRIVER)
E2E_TESTS = \
	tests/e2e/prosody.test \
	tests/e2e/ejabberd.test \
	tests/e2e/prosody-pool.test \
	tests/e2e/scaleout.test \
	tests/e2e/scaleout-cluster.test \
	tests/e2e/ejabberd-pool.test \
	tests/e2e/takeover.test \
	tests/e2e/deploy.test
# The automake harness with TESTS set to the e2e list, unless TESTS was
# given on the command line (then those).
check-e2e:
	$(MAKE) $(AM_MAKEFLAGS) check \
		TESTS='$(if $(filter command line,$(origin TESTS)),$(TESTS),$(E2E_TESTS))'
.PHONY: check-e2e
dist_check_SCRIPTS += $(E2E_TESTS) \
	tests/e2e/deploy.sh \
	tests/e2e/scenarios.sh
EXTRA_DIST += \
	tests/e2e/lib.sh \
	tests/e2e/tap.sh \
	tests/e2e/prosody.sh \
	tests/e2e/container.sh \
	tests/e2e/ejabberd.sh \
	tests/e2e/scaleout.sh \
	tests/e2e/drain_probe.py \
	tests/e2e/pool_probe.py \
	tests/e2e/forge.py \
	tests/e2e/adhoc_slixmpp.py \
	contrib/ejabberd/mod_ope.erl \
	contrib/ejabberd/README.md \
	contrib/prosody/mod_ope.lua \
	contrib/prosody/README.md \
	tests/e2e/docker.sh \
	deploy/Containerfile \
	deploy/compose.yml \
	deploy/prosody.cfg.lua \
	deploy/ope-component.conf \
	.dockerignore \
	tests/e2e/e2e_util.py \
	tests/e2e/probe.py \
	tests/e2e/slixmpp_component.py \
	tests/e2e/compose.yml \
	tests/deps.sh \
	tests/demo.sh \
	tests/listeners.sh \
	tests/all.sh \
	tests/README.md
