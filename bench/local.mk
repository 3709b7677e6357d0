# SPDX-License-Identifier: MIT
# bench/local.mk: ope-bench, a throughput/latency benchmark (make bench/ope-bench; bench/run.sh).
EXTRA_PROGRAMS += bench/ope-bench
bench_ope_bench_SOURCES = bench/ope-bench.c
bench_ope_bench_LDADD = $(OPENSSL_LIBS)
# The metrics hooks' share of dispatching one stanza, in-process.
EXTRA_PROGRAMS += bench/dispatch-cost
bench_dispatch_cost_SOURCES = bench/dispatch-cost.c
bench_dispatch_cost_CPPFLAGS = $(COMPONENT_CPPFLAGS)
bench_dispatch_cost_LDADD = $(COMPONENT_LIBS)
CLEANFILES += bench/ope-bench bench/dispatch-cost
EXTRA_DIST += bench/README.md bench/run.sh
