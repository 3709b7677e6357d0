# SPDX-License-Identifier: MIT
# bench/local.mk: ope-bench, a throughput/latency benchmark (make bench/ope-bench; bench/run.sh).
EXTRA_PROGRAMS += bench/ope-bench
bench_ope_bench_SOURCES = bench/ope-bench.c
bench_ope_bench_LDADD = src/common/libopecommon.a $(OPENSSL_LIBS)
CLEANFILES += bench/ope-bench
EXTRA_DIST += bench/README.md bench/run.sh
