# SPDX-License-Identifier: MIT
# tests/unit/local.mk: one CUnit program per library, each linking only that library; one test file per module.
#
# Adding a module's tests: write tests/unit/test_<module>.c ending in
# TESTUTIL_SUITE(its register function), and add it to the list of the
# program for its library below. runner.c runs whatever suites are linked in
# and checks every test for leaks (tests/unit/leakcheck.c).
if HAVE_CUNIT
UNIT_RUNNER = tests/unit/runner.c \
	tests/unit/leakcheck.c tests/unit/leakcheck.h \
	tests/unit/testutil.c tests/unit/testutil.h
UNIT_CPPFLAGS = -DSRCDIR='"$(abs_top_srcdir)"'
UNIT_CFLAGS = $(AM_CFLAGS) $(CUNIT_CFLAGS)

# src/common: libopecommon.a
check_PROGRAMS += tests/unit/test-common
TESTS += tests/unit/test-common
tests_unit_test_common_SOURCES = $(UNIT_RUNNER) \
	tests/unit/test_log.c \
	tests/unit/test_secretfile.c \
	tests/unit/test_jid.c \
	tests/unit/test_hash.c \
	tests/unit/test_stanza.c \
	tests/unit/test_strophe_compat.c \
	tests/unit/test_prompt.c \
	tests/unit/test_hostport.c \
	tests/unit/test_util.c
tests_unit_test_common_CPPFLAGS = $(AM_CPPFLAGS) $(UNIT_CPPFLAGS)
tests_unit_test_common_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_common_LDADD = src/common/libopecommon.a \
	$(STROPHE_LIBS) $(IDN_LIBS) $(CUNIT_LIBS)

# src/component: libopecomponent.a (with libopecommon.a)
check_PROGRAMS += tests/unit/test-component
TESTS += tests/unit/test-component
tests_unit_test_component_SOURCES = $(UNIT_RUNNER) \
	tests/unit/testutil_config.c \
	tests/unit/test_config.c \
	tests/unit/test_backoff.c \
	tests/unit/test_handover.c \
	tests/unit/test_drain.c \
	tests/unit/test_pool.c \
	tests/unit/test_dispatch.c \
	tests/unit/test_metrics.c \
	tests/unit/test_xmlstream.c \
	tests/unit/test_ext_example.c \
	tests/unit/test_ext_commands.c \
	tests/unit/test_ext_time.c \
	tests/unit/test_registry.c \
	tests/unit/test_access.c \
	tests/unit/test_ratelimit.c \
	tests/unit/test_pwcheck.c \
	tests/unit/test_workpool.c \
	tests/unit/test_guard.c \
	tests/unit/test_obuf.c \
	tests/unit/test_resolve.c \
	tests/unit/test_loop.c \
	tests/unit/test_link.c
tests_unit_test_component_CPPFLAGS = $(COMPONENT_CPPFLAGS) $(UNIT_CPPFLAGS)
tests_unit_test_component_CFLAGS = $(UNIT_CFLAGS) $(EXPAT_CFLAGS)
tests_unit_test_component_LDADD = $(COMPONENT_LIBS) $(CUNIT_LIBS)

# src/client: libopeclient.a (with libopecommon.a)
check_PROGRAMS += tests/unit/test-client
TESTS += tests/unit/test-client
tests_unit_test_client_SOURCES = $(UNIT_RUNNER) \
	tests/unit/testutil_client.c tests/unit/testutil_client.h \
	tests/unit/test_opts.c \
	tests/unit/test_creds.c \
	tests/unit/test_request.c \
	tests/unit/test_check.c \
	tests/unit/test_track.c \
	tests/unit/test_stats.c \
	tests/unit/test_report.c
tests_unit_test_client_CPPFLAGS = $(CLIENT_CPPFLAGS) $(UNIT_CPPFLAGS)
tests_unit_test_client_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_client_LDADD = $(CLIENT_LIBS) $(CUNIT_LIBS)
else
TESTS += tests/unit/no-cunit.sh
endif
dist_check_SCRIPTS += tests/unit/no-cunit.sh
EXTRA_DIST += tests/unit/fixtures
