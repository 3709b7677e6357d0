# SPDX-License-Identifier: MIT
# tests/unit/local.mk: the CUnit runner, one test file per library module.
if HAVE_CUNIT
check_PROGRAMS += tests/unit/ope-unit
TESTS += tests/unit/ope-unit
tests_unit_ope_unit_SOURCES = \
	tests/unit/runner.c tests/unit/suites.h \
	tests/unit/testutil.c tests/unit/testutil.h \
	tests/unit/test_log.c \
	tests/unit/test_secretfile.c \
	tests/unit/test_config.c \
	tests/unit/test_jid.c \
	tests/unit/test_backoff.c \
	tests/unit/test_handover.c \
	tests/unit/test_stanza.c \
	tests/unit/test_dispatch.c \
	tests/unit/test_xmlstream.c \
	tests/unit/test_ext_example.c \
	tests/unit/test_ext_time.c \
	tests/unit/test_registry.c \
	tests/unit/test_client.c
tests_unit_ope_unit_CPPFLAGS = $(COMPONENT_CPPFLAGS) \
	-I$(top_srcdir)/src/client -DSRCDIR='"$(abs_top_srcdir)"'
tests_unit_ope_unit_CFLAGS = $(AM_CFLAGS) $(CUNIT_CFLAGS) $(EXPAT_CFLAGS)
tests_unit_ope_unit_LDADD = src/component/libopecomponent.a \
	src/client/libopeclient.a $(COMPONENT_LIBS) $(CUNIT_LIBS)
else
TESTS += tests/unit/no-cunit.sh
endif
dist_check_SCRIPTS += tests/unit/no-cunit.sh
EXTRA_DIST += tests/unit/fixtures
