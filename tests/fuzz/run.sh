#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/fuzz/run.sh: run each libFuzzer target of a --enable-fuzzing build for a bounded time; non-zero on any crash.
#
# Usage: tests/fuzz/run.sh BUILDDIR [SECONDS]  (default 60 per target)
# The seed corpus in tests/fuzz/corpus/<target>/ is read, never written:
# new inputs go to a temporary directory, removed at the end. A crashing
# input is kept as BUILDDIR/tests/fuzz/crash-<target>-* for the report.
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=${1:?usage: run.sh BUILDDIR [SECONDS]}
secs=${2:-60}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
for target in fuzz-xmlstream fuzz-dispatch; do
	bin=$build/tests/fuzz/$target
	if [ ! -x "$bin" ]; then
		echo "run.sh: $bin is missing (configure CC=clang --enable-fuzzing; make)" >&2
		failed=1
		continue
	fi
	mkdir -p "$tmp/$target"
	echo "run.sh: $target for ${secs}s"
	if "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-max_len=300000 -print_final_stats=1 \
		-artifact_prefix="$build/tests/fuzz/crash-$target-" \
		"$tmp/$target" "$here/corpus/$target" >"$tmp/$target.log" 2>&1; then
		grep -E '^(Done|stat::number_of_executed_units)' "$tmp/$target.log"
	else
		tail -n 60 "$tmp/$target.log"
		echo "run.sh: $target FAILED (input kept under $build/tests/fuzz/crash-$target-*)"
		failed=1
	fi
done
exit "$failed"
