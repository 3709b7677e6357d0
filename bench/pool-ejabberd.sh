#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench/pool-ejabberd.sh: throughput through ejabberd with and without mod_ope, side by side in one run, and the ratio.
#
# Usage: OPE_BUILDDIR=build bench/pool-ejabberd.sh
# Environment: SO_CLIENTS (6), SO_COUNT (5000 per client), SO_WINDOW (50),
# PB_ROUNDS (3), PB_INSTANCES (3).
# Two independent ejabberd nodes run at once on loopback: "plain" without
# mod_ope (ejabberd's random balancing) and "pool" with mod_ope (defaults),
# each with PB_INSTANCES ope-component instances. The same load
# (SO_CLIENTS clients, each its own user, SO_WINDOW in flight) runs
# through one node, then the other, PB_ROUNDS times, alternating which
# goes first, so that the machine's other load hits both alike. Prints
# each run, the median rate and ejabberd CPU per request of each, and the
# ratios (CPU per request is the steadier figure on a shared machine).
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
OPE_BUILDDIR=${OPE_BUILDDIR:-$root/build}
OPE_BUILDDIR=$(cd "$OPE_BUILDDIR" && pwd) || exit 1
export OPE_BUILDDIR
# shellcheck source=tests/e2e/lib.sh
. "$root/tests/e2e/lib.sh"
# shellcheck source=tests/e2e/scaleout.sh
. "$root/tests/e2e/scaleout.sh"

SO_CLIENTS=${SO_CLIENTS:-6}
SO_COUNT=${SO_COUNT:-5000}
SO_WINDOW=${SO_WINDOW:-50}
PB_ROUNDS=${PB_ROUNDS:-3}
PB_INSTANCES=${PB_INSTANCES:-3}

so_init || exit 1
# Node "" runs without the module, node "p" with it.
SO_MOD_OPE=none
so_node_start "" || exit 1
so_register_bulk "" "$SO_CLIENTS" || exit 1
so_node_ports ""
plain_c2s=$E2E_C2S_PORT
plain_comp=$E2E_COMP_PORT
SO_MOD_OPE='{}'
so_node_start p || exit 1
so_register_bulk p "$SO_CLIENTS" || exit 1
so_node_ports p
pool_c2s=$E2E_C2S_PORT
pool_comp=$E2E_COMP_PORT
for ((i = 1; i <= PB_INSTANCES; i++)); do
	so_inst_start "plain$i" "$plain_comp" || exit 1
	so_inst_start "pool$i" "$pool_comp" || exit 1
done

plain_beam=$(so_node_pid "")
pool_beam=$(so_node_pid p)
tick=$(getconf CLK_TCK)

# run KIND ROUND: one load through KIND's node; prints its rate and the
# node's CPU time per request in microseconds ("RATE/CPU"; the machine's
# other load moves the rate much more than the CPU cost).
run()
{
	local kind=$1 port line beam c0 c1 cpu
	if [ "$kind" = plain ]; then
		port=$plain_c2s beam=$plain_beam
	else
		port=$pool_c2s beam=$pool_beam
	fi
	c0=$(so_cpu "$beam")
	so_load_start "$kind$2" "$SO_CLIENTS" "$SO_COUNT" "$SO_WINDOW" "$port"
	line=$(so_load_wait "$kind$2")
	c1=$(so_cpu "$beam")
	cpu=$(awk -v t=$((c1 - c0)) -v hz="$tick" -v n=$((SO_CLIENTS * SO_COUNT)) \
		'BEGIN { printf "%.1f", t / hz * 1e6 / n }')
	echo "  $kind, round $2: $line; ejabberd CPU $cpu us/request" >&2
	so_load_check "$line" "$SO_CLIENTS" "$SO_COUNT" >&2 || return 1
	echo "$(so_field "$line" rate)/$cpu"
}

median()
{
	tr ' ' '\n' | sed '/^$/d' | sort -n | awk '{ v[NR] = $1 }
		END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

plain=
pool=
for ((r = 1; r <= PB_ROUNDS; r++)); do
	if [ $((r % 2)) = 1 ]; then
		plain="$plain $(run plain "$r")" || exit 1
		pool="$pool $(run pool "$r")" || exit 1
	else
		pool="$pool $(run pool "$r")" || exit 1
		plain="$plain $(run plain "$r")" || exit 1
	fi
done
rates() { tr ' ' '\n' | sed -n 's|/.*||p' | tr '\n' ' '; }
cpus() { tr ' ' '\n' | sed -n 's|.*/||p' | tr '\n' ' '; }
mp=$(echo "$plain" | rates | median)
mo=$(echo "$pool" | rates | median)
cp=$(echo "$plain" | cpus | median)
co=$(echo "$pool" | cpus | median)
echo "ejabberd, $PB_INSTANCES instances, $SO_CLIENTS clients x $SO_COUNT, $SO_WINDOW in flight, $PB_ROUNDS rounds"
echo "without mod_ope: req/s $(echo "$plain" | rates)(median $mp); ejabberd CPU us/request $(echo "$plain" | cpus)(median $cp)"
echo "with mod_ope:    req/s $(echo "$pool" | rates)(median $mo); ejabberd CPU us/request $(echo "$pool" | cpus)(median $co)"
awk -v a="$mo" -v b="$mp" 'BEGIN { printf "throughput ratio with/without: %.3f\n", a / b }'
awk -v a="$co" -v b="$cp" 'BEGIN { printf "CPU per request ratio without/with (capacity): %.3f\n", b / a }'
