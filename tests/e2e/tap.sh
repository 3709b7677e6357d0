# SPDX-License-Identifier: MIT
# tests/e2e/tap.sh: the TAP the e2e scripts print: "ok N - name" or "not ok N - name" per case, the plan last, then "# N passed, M failed".
# shellcheck shell=bash
#
# lib.sh sources it, so every e2e script has these:
#   result RC NAME         one case: RC 0 passes, anything else fails
#   tap_check NAME CMD...  run CMD as the case NAME; returns CMD's status
#   finish                 the plan and the counts; exits 1 if a case failed
# A script that prints its plan first (scenarios.sh) counts on its own.

passed=0
failed=0
n=0

result()
{
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		passed=$((passed + 1))
		echo "ok $n - $2"
	else
		failed=$((failed + 1))
		echo "not ok $n - $2"
	fi
}

tap_check()
{
	local name=$1 rc=0
	shift
	"$@" || rc=$?
	result "$rc" "$name"
	return "$rc"
}

finish()
{
	echo "1..$n"
	echo "# $passed passed, $failed failed"
	[ "$failed" = 0 ]
	exit
}
