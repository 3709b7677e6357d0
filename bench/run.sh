#!/bin/sh
# SPDX-License-Identifier: MIT
# run.sh: ns per byte of the stream parser per input shape (xml-shapes), then ope-component pipelined and one message at a time against the libstrophe-based baseline, with metrics off and on, open and with access control.
# Usage: bench/run.sh [--plot] [BUILDDIR]   (default: $OPE_BUILDDIR, else build/ next to this tree)
# --plot: instead, run ope-component with windows 1 to 1000 and draw the
#   results with gnuplot: throughput against window and latency percentiles
#   against load, as PNGs in $PLOT_DIR (default: the current directory);
#   PLOT_N=N messages per run (default 50000), PLOT_WINDOWS="1 2 ..." the
#   windows (at most 16), PLOT_REPEAT=K sweeps (default 3; medians drawn).
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
plot=
if [ "${1:-}" = --plot ]; then
	plot=1
	shift
fi
builddir=${1:-${OPE_BUILDDIR:-$here/../build}}
if [ ! -f "$builddir/Makefile" ]; then
	echo "run.sh: no configured build in $builddir: run ../configure there first," \
	     "or pass the build directory as an argument" >&2
	exit 2
fi
builddir=$(cd "$builddir" && pwd)

# --plot: PLOT_REPEAT sweeps over the windows (each a fresh component per
# run, the windows in turn, so load from elsewhere falls on all alike), the
# median and range per window, and two PNGs drawn from them.
plot_sweep()
{
	if ! command -v gnuplot >/dev/null 2>&1; then
		echo "run.sh: --plot needs gnuplot (Debian: apt-get install gnuplot-nox)" >&2
		exit 2
	fi
	dir=${PLOT_DIR:-.}
	mkdir -p "$dir"
	make -C "$builddir" -s ope-component bench/ope-bench >&2
	set --
	for w in ${PLOT_WINDOWS:-1 2 4 8 16 32 64 128 256 512 1000}; do
		set -- "$@" -r "${PLOT_N:-50000}:$w"
	done
	table=$dir/window-sweep.txt
	: >"$table"
	i=0
	while [ "$i" -lt "${PLOT_REPEAT:-3}" ]; do
		# The tables name the binary relative to BUILDDIR: no path of
		# this machine in files that may be committed.
		"$builddir/bench/ope-bench" -c "$builddir/ope-component" "$@" |
			sed "s|$builddir/|BUILDDIR/|" | tee -a "$table"
		i=$((i + 1))
	done
	data=$dir/window-sweep.dat
	# Per window: median, lowest and highest replies/s, then the medians
	# of p50, p99 and max (us), from the tables' rows. After "seconds"
	# come replies/s, p50, p99 and max (the header names the last three
	# with two words each).
	awk 'function median(list,   v, n, i, j, t) {
		n = split(list, v, " ")
		for (i = 2; i <= n; i++)
			for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; j--) {
				t = v[j]; v[j] = v[j - 1]; v[j - 1] = t
			}
		lo = v[1]; hi = v[n]
		return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
	     }
	     $1 == "mode" { for (i = 1; i <= NF; i++) col[$i] = i; next }
	     col["window"] && ($1 == "pipelined" || $1 == "one-at-a-time") {
		w = $(col["window"]); s = col["seconds"]
		if (!(w in rate)) order[++nw] = w
		rate[w] = rate[w] " " $(s + 1); p50[w] = p50[w] " " $(s + 2)
		p99[w] = p99[w] " " $(s + 3); max[w] = max[w] " " $(s + 4)
	     }
	     END {
		print "# window replies/s(median) (lowest) (highest) p50us p99us maxus (medians)"
		for (k = 1; k <= nw; k++) {
			w = order[k]
			r = median(rate[w]); rlo = lo; rhi = hi
			printf "%s %s %s %s %s %s %s\n", w, r, rlo, rhi,
			       median(p50[w]), median(p99[w]), median(max[w])
		}
	     }' "$table" >"$data"
	if [ "$(grep -vc '^#' "$data")" = 0 ]; then
		echo "run.sh: no rows in ope-bench's tables ($table)" >&2
		exit 1
	fi
	title="ope-component over loopback, $(sed -n '1s/.*(fresh process per run, loopback, \(body [0-9]* bytes\)).*/\1/p' "$table"), ${PLOT_N:-50000} messages a run, median of ${PLOT_REPEAT:-3}; $(nproc 2>/dev/null || echo '?') cores, load $(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo '?'), $(date +%Y-%m-%d)"
	gnuplot <<-EOF
		set terminal pngcairo size 720,440 font "sans,10"
		set encoding utf8
		set logscale x 2
		set xtics (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000)
		set xlabel "window: requests awaiting a reply"
		set grid
		set key top left
		set title "Throughput against window\n{/*0.8 $title}"
		set ylabel "replies/s"
		set yrange [0:*]
		set format y "%.0s%c"
		set output "$dir/throughput-window.png"
		plot "$data" using 1:2:3:4 with yerrorlines lw 2 pt 7 \
		     title "median, bars: lowest to highest of the runs"
		set title "Latency percentiles against load\n{/*0.8 $title}"
		set xlabel "load: requests in flight (window)"
		set ylabel "latency, send to reply"
		set logscale y 10
		set yrange [*:*]
		set format y "%g"
		set ytics ("1 µs" 1e-6, "10 µs" 1e-5, "100 µs" 1e-4, "1 ms" 1e-3, \
			   "10 ms" 1e-2, "100 ms" 0.1, "1 s" 1, "10 s" 10)
		set output "$dir/latency-load.png"
		plot "$data" using 1:(\$5/1e6) with linespoints lw 2 pt 7 title "p50", \
		     "$data" using 1:(\$6/1e6) with linespoints lw 2 pt 5 title "p99", \
		     "$data" using 1:(\$7/1e6) with linespoints lw 1 pt 1 dt 2 title "max"
	EOF
	echo "run.sh: wrote $dir/throughput-window.png and $dir/latency-load.png" \
	     "(medians: $data; tables: $table)" >&2
}

if [ -n "$plot" ]; then
	plot_sweep
	exit 0
fi

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
