# SPDX-License-Identifier: MIT
# bench/local.mk: benchmarks (being written).
