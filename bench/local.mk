# SPDX-License-Identifier: MIT
# bench/local.mk: ope-bench, a throughput/latency benchmark (make bench/ope-bench; bench/run.sh).
# Built by make check too: bench/smoke.test runs it for a few hundred
# messages, so a change that breaks the benchmark shows in the tests.
check_PROGRAMS += bench/ope-bench
TESTS += bench/smoke.test
dist_check_SCRIPTS += bench/smoke.test
bench_ope_bench_SOURCES = bench/ope-bench.c
bench_ope_bench_LDADD = src/common/libopecommon.a $(OPENSSL_LIBS) $(IDN_LIBS)
# The metrics hooks' share of dispatching one stanza, in-process.
EXTRA_PROGRAMS += bench/dispatch-cost
bench_dispatch_cost_SOURCES = bench/dispatch-cost.c
bench_dispatch_cost_CPPFLAGS = $(COMPONENT_CPPFLAGS)
bench_dispatch_cost_LDADD = $(COMPONENT_LIBS)
CLEANFILES += bench/ope-bench bench/dispatch-cost
EXTRA_DIST += bench/README.md bench/run.sh bench/scale-out.sh \
	bench/pool-prosody.sh bench/pool-ejabberd.sh bench/prosody-track-mem.lua \
	bench/password-flood.py bench/throughput-window.png bench/latency-load.png \
	bench/window-sweep.dat bench/window-sweep.txt

# xml-shapes: ns per byte of the stream parser for each input shape (make bench/xml-shapes).
EXTRA_PROGRAMS += bench/xml-shapes
bench_xml_shapes_SOURCES = bench/xml-shapes.c
bench_xml_shapes_CPPFLAGS = $(COMPONENT_CPPFLAGS)
bench_xml_shapes_LDADD = $(COMPONENT_LIBS)
CLEANFILES += bench/xml-shapes
