# SPDX-License-Identifier: MIT
# tests/fuzz/local.mk: libFuzzer targets (configure CC=clang --enable-fuzzing); tests/fuzz/run.sh runs them.
FUZZ_SOURCES = tests/fuzz/fuzz_common.c tests/fuzz/fuzz_common.h
if FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz-xmlstream tests/fuzz/fuzz-dispatch
endif
tests_fuzz_fuzz_xmlstream_SOURCES = tests/fuzz/fuzz_xmlstream.c $(FUZZ_SOURCES)
tests_fuzz_fuzz_xmlstream_CPPFLAGS = $(COMPONENT_CPPFLAGS)
tests_fuzz_fuzz_xmlstream_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_xmlstream_LDADD = $(COMPONENT_LIBS)
tests_fuzz_fuzz_dispatch_SOURCES = tests/fuzz/fuzz_dispatch.c $(FUZZ_SOURCES)
tests_fuzz_fuzz_dispatch_CPPFLAGS = $(COMPONENT_CPPFLAGS)
tests_fuzz_fuzz_dispatch_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_dispatch_LDADD = $(COMPONENT_LIBS)
EXTRA_DIST += tests/fuzz/corpus tests/fuzz/run.sh

# Every other build replays the corpus as a plain test (tests/fuzz/corpus.test).
if !FUZZING
check_PROGRAMS += tests/fuzz/replay-xmlstream tests/fuzz/replay-dispatch
endif
tests_fuzz_replay_xmlstream_SOURCES = tests/fuzz/replay.c \
	tests/fuzz/fuzz_xmlstream.c $(FUZZ_SOURCES)
tests_fuzz_replay_xmlstream_CPPFLAGS = $(COMPONENT_CPPFLAGS)
tests_fuzz_replay_xmlstream_LDADD = $(COMPONENT_LIBS)
tests_fuzz_replay_dispatch_SOURCES = tests/fuzz/replay.c \
	tests/fuzz/fuzz_dispatch.c $(FUZZ_SOURCES)
tests_fuzz_replay_dispatch_CPPFLAGS = $(COMPONENT_CPPFLAGS)
tests_fuzz_replay_dispatch_LDADD = $(COMPONENT_LIBS)
if !FUZZING
TESTS += tests/fuzz/corpus.test
endif
dist_check_SCRIPTS += tests/fuzz/corpus.test
EXTRA_DIST += tests/fuzz/make-corpus.py
