#!/bin/sh
# SPDX-License-Identifier: MIT
# run.sh: ns per byte of the stream parser per input shape (xml-shapes), then ope-component pipelined and one message at a time against the libstrophe-based baseline, with metrics off and on, open and with access control.
# Usage: bench/run.sh [BUILDDIR]   (default: $OPE_BUILDDIR, else build/ next to this tree)
# Environment: PIPELINED=N:W and SERIAL=N:W override the two runs;
#   XML_SHAPES="-n" leaves libstrophe's own parser out of the shapes table;
#   OPE_BENCH_BASELINE=PATH uses that ope-component as the baseline instead
#   of building commit $BASELINE_COMMIT (the last one whose link was
#   libstrophe's) from git into a temporary directory; OPE_BENCH_BASELINE=none
#   skips the baseline; PAIRS=K pipelined metrics off/on pairs (default 5,
#   at most 7).
set -eu

BASELINE_COMMIT=b5700f6

here=$(cd "$(dirname "$0")" && pwd)
builddir=${1:-${OPE_BUILDDIR:-$here/../build}}
if [ ! -f "$builddir/Makefile" ]; then
	echo "run.sh: no configured build in $builddir: run ../configure there first," \
	     "or pass the build directory as an argument" >&2
	exit 2
fi
builddir=$(cd "$builddir" && pwd)

make -C "$builddir" -s ope-component bench/ope-bench bench/xml-shapes \
	bench/dispatch-cost >&2

# shellcheck disable=SC2086
"$builddir/bench/xml-shapes" ${XML_SHAPES:-}
echo
"$builddir/bench/dispatch-cost"
echo

tmp=
cleanup()
{
	[ -n "$tmp" ] && rm -rf "$tmp"
	return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

runs="-r ${PIPELINED:-200000:1000} -r ${SERIAL:-20000:1}"

# The baseline: ope-component as of $BASELINE_COMMIT, built the same way.
baseline=${OPE_BENCH_BASELINE:-}
if [ -z "$baseline" ]; then
	if git -C "$here/.." cat-file -e "$BASELINE_COMMIT^{commit}" 2>/dev/null; then
		tmp=$(mktemp -d "${TMPDIR:-/tmp}/ope-bench-base.XXXXXX")
		echo "run.sh: building the baseline ope-component ($BASELINE_COMMIT) in $tmp" >&2
		mkdir "$tmp/src" "$tmp/build"
		git -C "$here/.." archive "$BASELINE_COMMIT" | tar -x -C "$tmp/src"
		if (cd "$tmp/src" && autoreconf -fi && cd "$tmp/build" &&
		    "$tmp/src/configure" && make -j2 ope-component) \
		    >"$tmp/build.log" 2>&1; then
			baseline=$tmp/build/ope-component
		else
			echo "run.sh: the baseline did not build (log: $tmp/build.log):" >&2
			tail -5 "$tmp/build.log" >&2
			exit 1
		fi
	else
		echo "run.sh: no git history here: set OPE_BENCH_BASELINE to a baseline" \
		     "ope-component, or to 'none'" >&2
		exit 2
	fi
fi

# The replies/s of the first pipelined row of ope-bench's table in FILE.
pipelined_rate()
{
	awk '$1 == "mode" { for (i = 1; i <= NF; i++) if ($i == "replies/s") c = i }
	     $1 == "pipelined" && c { print $c; exit }' "$1"
}

out_new=$(mktemp "${TMPDIR:-/tmp}/ope-bench-new.XXXXXX")
out_old=
if [ "$baseline" != none ]; then
	out_old=$(mktemp "${TMPDIR:-/tmp}/ope-bench-old.XXXXXX")
	echo "== baseline: libstrophe's link ($BASELINE_COMMIT): $baseline"
	# shellcheck disable=SC2086
	"$builddir/bench/ope-bench" -c "$baseline" $runs | tee "$out_old"
	echo
fi
echo "== this tree: ope's own link: $builddir/ope-component"
# shellcheck disable=SC2086
"$builddir/bench/ope-bench" -c "$builddir/ope-component" $runs | tee "$out_new"
if [ -n "$out_old" ]; then
	old=$(pipelined_rate "$out_old")
	new=$(pipelined_rate "$out_new")
	echo
	awk -v o="$old" -v n="$new" 'BEGIN {
		if (o > 0)
			printf "pipelined: %d -> %d replies/s (x%.2f)\n", o, n, n / o
	}'
	rm -f "$out_old"
fi
rm -f "$out_new"

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
echo
echo "== metrics off and on: $builddir/ope-component"
"$builddir/bench/ope-bench" -c "$builddir/ope-component" "$@" \
	-r "$serial" -r "$serial:m"
echo

# Access control: no access section (limits off), 1,000 rules with every
# limit on, a password rule (its first request, the slow hash, comes before
# the clock starts); then one at a time, open, with the password, and with
# the password while another account sends 10 wrong passwords per request.
echo "== access control: $builddir/ope-component"
exec "$builddir/bench/ope-bench" -c "$builddir/ope-component" \
	-r "$pipelined:open" -r "$pipelined:rules" -r "$pipelined:password" \
	-r "$serial:open" -r "$serial:password" -r "$serial:password:10"
