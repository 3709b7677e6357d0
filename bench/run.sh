#!/bin/sh
# SPDX-License-Identifier: MIT
# run.sh: build ope-bench and measure ope-component pipelined and one message at a time.
# Usage: bench/run.sh [BUILDDIR]   (default: $OPE_BUILDDIR, else build/ next to this tree)
# Environment: PIPELINED=N:W and SERIAL=N:W override the two modes; PAIRS=K
# pipelined off/on pairs (default 5, at most 7).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
builddir=${1:-${OPE_BUILDDIR:-$here/../build}}
if [ ! -f "$builddir/Makefile" ]; then
	echo "run.sh: no configured build in $builddir: run ../configure there first," \
	     "or pass the build directory as an argument" >&2
	exit 2
fi
builddir=$(cd "$builddir" && pwd)

make -C "$builddir" -s ope-component bench/ope-bench bench/dispatch-cost >&2

"$builddir/bench/dispatch-cost"
echo

# Each mode with metrics off and on (":m": metrics.listen set and scraped
# every second), alternating so that load from elsewhere on the machine
# falls on both alike; the last lines compare the medians.
pipelined=${PIPELINED:-200000:1000}
serial=${SERIAL:-20000:1}
set --
i=0
while [ "$i" -lt "${PAIRS:-5}" ]; do
	set -- "$@" -r "$pipelined" -r "$pipelined:m"
	i=$((i + 1))
done
exec "$builddir/bench/ope-bench" -c "$builddir/ope-component" "$@" \
	-r "$serial" -r "$serial:m"
