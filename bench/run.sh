#!/bin/sh
# SPDX-License-Identifier: MIT
# run.sh: build ope-bench and measure ope-component pipelined and one message at a time, open and with access control.
# Usage: bench/run.sh [BUILDDIR]   (default: $OPE_BUILDDIR, else build/ next to this tree)
# Environment: PIPELINED=N:W and SERIAL=N:W override the two runs.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
builddir=${1:-${OPE_BUILDDIR:-$here/../build}}
if [ ! -f "$builddir/Makefile" ]; then
	echo "run.sh: no configured build in $builddir: run ../configure there first," \
	     "or pass the build directory as an argument" >&2
	exit 2
fi
builddir=$(cd "$builddir" && pwd)

make -C "$builddir" -s ope-component bench/ope-bench >&2

# Pipelined: no access section (limits off), 1,000 rules with every limit
# on, a password rule (its first request, the slow hash, comes before the
# clock starts); then one at a time, open, with the password, and with the
# password while another account sends 10 wrong passwords per request.
p=${PIPELINED:-200000:1000}
s=${SERIAL:-20000:1}
exec "$builddir/bench/ope-bench" -c "$builddir/ope-component" \
	-r "$p:open" -r "$p:rules" -r "$p:password" -r "$s:open" -r "$s:password" \
	-r "$s:password:10"
