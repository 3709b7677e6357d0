#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/all.sh: everything CI runs: deps, -Werror build, make check (unit, integration, docs, fuzz corpus), make check-e2e (Prosody, ejabberd, cluster, deploy), Prosody under Docker, distcheck, Debian packages, sanitizer build, fuzzing.
#
# Works on a bare Debian 12 or Ubuntu as root or with sudo; non-interactive.
# e2e runs Prosody in a container by default (OPE_E2E_PROSODY=container;
# set native or auto to change it) and ejabberd. Build dirs: build-all/,
# build-san/ and build-fuzz/ (recreated). Exits non-zero when any step fails.
# OPE_FUZZ_SECONDS sets how long each fuzz target runs (default 30).
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
jobs=$(nproc 2>/dev/null || echo 2)
OPE_E2E_PROSODY=${OPE_E2E_PROSODY:-container}
export OPE_E2E_PROSODY
start=$(date +%s)
failed=

section()
{
	printf '\n========== %s (%ss) ==========\n' "$*" "$(($(date +%s) - start))"
}

# step NAME COMMAND...: run, remember a failure, keep going.
step()
{
	local name=$1
	shift
	if "$@"; then
		echo "---------- $name: OK"
	else
		echo "---------- $name: FAILED"
		failed="$failed
  $name"
		return 1
	fi
}

tests_passed=0
tests_failed=0

# count_tests BUILDDIR: add up the test cases of BUILDDIR's last make check
# and make check-e2e.
# A CUnit program's log has its row "tests TOTAL RAN PASSED FAILED"; if the
# program failed with no failed test in that row (a suite set-up or clean-up,
# LeakSanitizer at exit), that is one more failure. A TAP program
# (integration, e2e) has one ":test-result:" per case in its .trs, and an
# ERROR for a broken plan, a "Bail out!" or a non-zero exit; any other program
# has one. PASS and XFAIL count as passed; FAIL, XPASS and SKIP as failed; the
# ERRORs count only where no case failed (a failed case also makes the
# program exit non-zero: one failure, not two).
count_tests()
{
	local trs
	for trs in $(find "$1/tests" -name '*.trs' 2>/dev/null); do
		count_trs "$trs"
	done
}

# count_trs FILE.trs: add up one test program's cases (rules above).
count_trs()
{
	local trs=$1 log row p f e
	log=${trs%.trs}.log
	row=$(awk '/^ *tests +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+/ { print $4, $5 }' \
		"$log" 2>/dev/null)
	if [ -n "$row" ]; then
		p=${row% *}
		f=${row#* }
		if [ "$f" = 0 ] && ! grep -q '^:test-result: PASS' "$trs"; then
			f=1
		fi
	else
		p=$(grep -c '^:test-result: \(PASS\|XFAIL\)' "$trs")
		f=$(grep -c '^:test-result: \(FAIL\|XPASS\|SKIP\)' "$trs")
		e=$(grep -c '^:test-result: ERROR' "$trs")
		[ "$f" = 0 ] && f=$e
	fi
	tests_passed=$((tests_passed + p))
	tests_failed=$((tests_failed + f))
}

show_test_logs()
{
	local dir=$1
	[ -f "$dir/test-suite.log" ] && cat "$dir/test-suite.log"
	return 1
}

finish()
{
	check_listeners "after the run"
	section "Summary"
	if [ "$tests_failed" -gt 0 ]; then
		failed="$failed
  $tests_failed test case(s) failed, erred or skipped"
	fi
	if [ -n "$failed" ]; then
		echo "FAILED:$failed"
	else
		echo "all steps passed"
	fi
	# Last, one line CI can read: the test cases run by make check and make
	# check-e2e in the -Werror and sanitizer builds; a skipped case
	# or a failed test program counts as a failure too.
	echo "tests: $tests_passed passed, $tests_failed failed"
	[ -z "$failed" ]
	exit
}

# What listens now: the install and the tests must add nothing beyond
# loopback (tests/listeners.sh; ss comes with iproute2, which deps.sh
# installs where it is missing).
listen_before=$(mktemp "${TMPDIR:-/tmp}/ope-all-listen.XXXXXX")
trap 'rm -f "$listen_before"' EXIT
have_snapshot=0
bash "$root/tests/listeners.sh" snapshot "$listen_before" 2>/dev/null &&
	have_snapshot=1

# check_listeners WHEN: no listener beyond loopback that was not there before.
check_listeners()
{
	[ "$have_snapshot" = 1 ] || { echo "not checked: no ss before deps.sh"; return 0; }
	step "nothing new listens beyond loopback $1" \
		bash "$root/tests/listeners.sh" check "$listen_before"
}

section "Dependencies (tests/deps.sh)"
step deps bash "$root/tests/deps.sh" || finish
check_listeners "after deps.sh"

section "Build with --enable-werror (build-all/)"
build=$root/build-all
rm -rf "$build"
step autoreconf bash -c "cd '$root' && autoreconf -fi" || finish
mkdir -p "$build"
step configure bash -c "cd '$build' && '$root/configure' --enable-werror" || finish
step make make -C "$build" -j"$jobs" || finish

section "make check: unit, integration, docs, fuzz corpus (no XMPP server)"
step "make check" make -C "$build" -j"$jobs" check ||
	show_test_logs "$build"

section "make check-e2e: Prosody ($OPE_E2E_PROSODY), ejabberd, cluster, deploy"
step "make check-e2e" make -C "$build" -j"$jobs" check-e2e ||
	show_test_logs "$build"
# Both targets' results: each test's .trs stays in the build tree.
count_tests "$build"

# The Prosody scenarios once more with Prosody under Docker (check-e2e ran
# them with podman, the first engine that works): dockerd from Debian's
# docker.io, started and stopped by the harness when none runs, and
# docker-compose 1.29 (tests/e2e/docker.sh, prosody.sh).
section "e2e: Prosody under Docker (OPE_E2E_ENGINE=docker)"
step "make check-e2e (Prosody under Docker)" make -C "$build" check-e2e \
	TESTS=tests/e2e/prosody.test OPE_E2E_ENGINE=docker OPE_E2E_PROSODY=container ||
	show_test_logs "$build"
count_trs "$build/tests/e2e/prosody.trs"

# A takeover (systemctl reload) under a real systemd 252 as PID 1 in a
# podman container, with the shipped unit; it builds on the Debian image the
# e2e tests above made.
section "systemd: reload is a takeover, under a real systemd (tests/systemd/takeover-real.sh)"
step "takeover under systemd" bash -o pipefail -c \
	"cd '$build' && OPE_SRCDIR='$root' OPE_BUILDDIR='$build' bash '$root/tests/systemd/takeover-real.sh' | tee '$build/takeover-real.log'"
sd_counts=$(awk '/^# [0-9]+ passed, [0-9]+ failed/ { p = $2; f = $4 + 0 }
	END { print p + 0, f + 0 }' "$build/takeover-real.log" 2>/dev/null || echo 0 1)
tests_passed=$((tests_passed + ${sd_counts% *}))
tests_failed=$((tests_failed + ${sd_counts#* }))

# distcheck proves the tarball builds and tests out of tree: its make
# check is the one above (no e2e; those ran above on the same sources).
section "make distcheck (unit, integration, docs, fuzz corpus)"
step "make distcheck" make -C "$build" -j"$jobs" distcheck \
	DISTCHECK_CONFIGURE_FLAGS=--enable-werror

section "Debian packages: build, lintian, install into a clean root (tests/deb/deb.sh)"
step "Debian packages" bash -o pipefail -c \
	"bash '$root/tests/deb/deb.sh' '$build' | tee '$build/deb.log'"
# Its "N passed, M failed" line joins the total.
deb_counts=$(awk '/^[0-9]+ passed, [0-9]+ failed/ { p = $1; f = $3 + 0 }
	END { print p + 0, f + 0 }' "$build/deb.log" 2>/dev/null || echo 0 1)
tests_passed=$((tests_passed + ${deb_counts% *}))
tests_failed=$((tests_failed + ${deb_counts#* }))

section "Sanitizers: unit, integration, notify, fuzz corpus, e2e through Prosody and ejabberd (build-san/)"
san=$root/build-san
rm -rf "$san"
mkdir -p "$san"
if step "configure --enable-sanitizers" \
	bash -c "cd '$san' && '$root/configure' --enable-sanitizers" &&
   step "make (sanitizers)" make -C "$san" -j"$jobs"; then
	# As before the split of test_component.py: its parts (the files that
	# import itest.py) and test_notify.py, not the slower ad-hoc and env tests.
	san_integration=$(cd "$root" && grep -l '^import itest' tests/integration/test_*.py)
	step "make check (sanitizers)" make -C "$san" -j"$jobs" check \
		TESTS="tests/unit/test-common tests/unit/test-component tests/unit/test-client $(echo $san_integration) tests/integration/test_notify.py tests/fuzz/corpus.test" ||
		show_test_logs "$san"
	step "make check-e2e (sanitizers)" make -C "$san" -j"$jobs" check-e2e \
		TESTS='tests/e2e/prosody.test tests/e2e/ejabberd.test' ||
		show_test_logs "$san"
	count_tests "$san"
fi

section "Fuzzing: libFuzzer targets with ASan+UBSan, ${OPE_FUZZ_SECONDS:-30}s each (build-fuzz/)"
fuzz=$root/build-fuzz
rm -rf "$fuzz"
mkdir -p "$fuzz"
if step "configure CC=clang --enable-fuzzing" \
	bash -c "cd '$fuzz' && CC=clang '$root/configure' --enable-fuzzing" &&
   step "make (fuzzing)" make -C "$fuzz" -j"$jobs"; then
	step "fuzz" bash "$root/tests/fuzz/run.sh" "$fuzz" "${OPE_FUZZ_SECONDS:-30}"
fi

finish
