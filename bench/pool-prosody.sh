#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench/pool-prosody.sh: throughput through Prosody with and without contrib/prosody/mod_ope.lua, side by side in one run.
#
# Usage: OPE_BUILDDIR=build bench/pool-prosody.sh
# Environment: PB_ROUNDS (3: rounds of each, alternating, so that the
# machine's load drifts over both), PB_CLIENTS (3), PB_COUNT (6000 per
# client), PB_WINDOW (50), PB_INSTANCES (1 ope-component; the stock
# Prosody takes only one). Prints each round and, last, the medians and
# their ratio (with / without) of two figures: the clients' rate (req/s,
# noisy on a shared machine) and Prosody's CPU per request (its user +
# system time over the round, from /proc; Prosody's one thread is the
# bottleneck, so its throughput is the inverse of this figure).
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
OPE_BUILDDIR=${OPE_BUILDDIR:-$root/build}
OPE_BUILDDIR=$(cd "$OPE_BUILDDIR" && pwd) || exit 1
OPE_SRCDIR=$root
OPE_E2E_SERVER=prosody
OPE_E2E_PROSODY=${OPE_E2E_PROSODY:-native}
export OPE_BUILDDIR OPE_SRCDIR OPE_E2E_SERVER OPE_E2E_PROSODY
# shellcheck source=tests/e2e/lib.sh
. "$root/tests/e2e/lib.sh"
# shellcheck source=tests/e2e/scaleout.sh
. "$root/tests/e2e/scaleout.sh"

PB_ROUNDS=${PB_ROUNDS:-3}
PB_CLIENTS=${PB_CLIENTS:-3}
PB_COUNT=${PB_COUNT:-6000}
PB_WINDOW=${PB_WINDOW:-50}
WITH='	modules_enabled = { "ope" }'

e2e_init || exit 1
mkdir -p "$E2E_TMP/prosody/plugins"
install -m 644 "$root/contrib/prosody/mod_ope.lua" "$E2E_TMP/prosody/plugins/" || exit 1

# prosody_as CONFIG_LINES: (re)start Prosody with those lines under the
# Component, and one ope-component instance.
prosody_as()
{
	local i
	so_inst_stop ope
	PROSODY_COMPONENT_EXTRA=$1
	if [ -z "${E2E_PROSODY_MODE:-}" ]; then
		e2e_server_start || return 1
		for ((i = 1; i <= PB_CLIENTS; i++)); do
			e2e_server_register "user$i" "$E2E_PASSWORD" \
				>>"$E2E_TMP/register.log" 2>&1 || return 1
		done
	else
		e2e_server_stop
		prosody_write_config "$E2E_PROSODY_MODE" "${E2E_PROSODY_NET:-host}" &&
			e2e_server_restart || return 1
	fi
	so_inst_start ope "$E2E_COMP_PORT"
}

# round TAG: one load; prints its rate (req/s, the clients' added up) and
# Prosody's CPU per request in µs.
round()
{
	local line pid c0 c1
	pid=$(cat "$E2E_TMP/prosody/server.pid" 2>/dev/null)
	c0=$(so_cpu "$pid")
	so_load_start "$1" "$PB_CLIENTS" "$PB_COUNT" "$PB_WINDOW"
	line=$(so_load_wait "$1")
	c1=$(so_cpu "$pid")
	echo "$1: $line prosody_cpu_ticks=$((c1 - c0))" >&2
	if ! so_load_check "$line" "$PB_CLIENTS" "$PB_COUNT" ||
	   [ "$(so_field "$line" lost)" != 0 ] || [ "$(so_field "$line" errors)" != 0 ]; then
		echo "round $1 lost or failed requests: not a throughput figure" >&2
		return 1
	fi
	echo "$(so_field "$line" rate) $(((c1 - c0) * 1000000 / $(getconf CLK_TCK) / (PB_CLIENTS * PB_COUNT)))"
}

median()
{
	sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

rate0=; rate1=; cpu0=; cpu1=
for ((r = 1; r <= PB_ROUNDS; r++)); do
	prosody_as "" || exit 1
	out=$(round "without$r") || exit 1
	read -r rate cpu <<<"$out"; set -- "$rate" "$cpu"
	rate0="$rate0 $1"; cpu0="$cpu0 $2"
	prosody_as "$WITH" || exit 1
	out=$(round "with$r") || exit 1
	read -r rate cpu <<<"$out"; set -- "$rate" "$cpu"
	rate1="$rate1 $1"; cpu1="$cpu1 $2"
done
so_inst_stop ope
med()
{
	echo "$1" | tr ' ' '\n' | sed '/^$/d' | median
}
a=$(med "$rate0"); b=$(med "$rate1"); c=$(med "$cpu0"); d=$(med "$cpu1")
echo "Prosody without mod_ope: rate$rate0 req/s (median $a); CPU$cpu0 us/request (median $c)"
echo "Prosody with mod_ope:    rate$rate1 req/s (median $b); CPU$cpu1 us/request (median $d)"
awk -v a="$a" -v b="$b" -v c="$c" -v d="$d" 'BEGIN {
	printf "ratio with/without: rate %.3f; throughput by Prosody CPU per request %.3f\n", b / a, c / d }'
