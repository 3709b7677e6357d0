#!/bin/sh
# SPDX-License-Identifier: MIT
# run.sh: build ope-bench and xml-shapes; ns per byte of the stream parser per input shape, then ope-component pipelined and one message at a time.
# Usage: bench/run.sh [BUILDDIR]   (default: $OPE_BUILDDIR, else build/ next to this tree)
# Environment: PIPELINED=N:W and SERIAL=N:W override the two runs;
# XML_SHAPES="-n" leaves libstrophe's own parser out of the shapes table.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
builddir=${1:-${OPE_BUILDDIR:-$here/../build}}
if [ ! -f "$builddir/Makefile" ]; then
	echo "run.sh: no configured build in $builddir: run ../configure there first," \
	     "or pass the build directory as an argument" >&2
	exit 2
fi
builddir=$(cd "$builddir" && pwd)

make -C "$builddir" -s ope-component bench/ope-bench bench/xml-shapes >&2

# shellcheck disable=SC2086
"$builddir/bench/xml-shapes" ${XML_SHAPES:-}
echo

exec "$builddir/bench/ope-bench" -c "$builddir/ope-component" \
	-r "${PIPELINED:-200000:1000}" -r "${SERIAL:-20000:1}"
