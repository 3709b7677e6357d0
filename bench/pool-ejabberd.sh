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
# each run, the median rate of each, and pool/plain.
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

# run KIND ROUND: one load through KIND's node; prints its rate.
run()
{
	local kind=$1 port line
	if [ "$kind" = plain ]; then port=$plain_c2s; else port=$pool_c2s; fi
	so_load_start "$kind$2" "$SO_CLIENTS" "$SO_COUNT" "$SO_WINDOW" "$port"
	line=$(so_load_wait "$kind$2")
	echo "  $kind, round $2: $line" >&2
	so_load_check "$line" "$SO_CLIENTS" "$SO_COUNT" >&2 || return 1
	so_field "$line" rate
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
mp=$(echo "$plain" | median)
mo=$(echo "$pool" | median)
echo "ejabberd, $PB_INSTANCES instances, $SO_CLIENTS clients x $SO_COUNT, $SO_WINDOW in flight, $PB_ROUNDS rounds"
echo "without mod_ope: req/s$plain (median $mp)"
echo "with mod_ope:    req/s$pool (median $mo)"
awk -v a="$mo" -v b="$mp" 'BEGIN { printf "ratio with/without: %.3f\n", a / b }'
