#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench/scale-out.sh: ope-component behind ejabberd with 1, 2 and 3 instances: throughput, the busiest process, and requests lost on stops, restarts, takeover restarts (ejabberd and Prosody) and a cluster node stop.
#
# Usage: OPE_BUILDDIR=build bench/scale-out.sh (with contrib/ejabberd/mod_ope.erl
# loaded unless a row says "without")
# Environment: SO_CLIENTS (3), SO_COUNT (3000 per client), SO_WINDOW (50),
# SO_TIMEOUT (15 s: a request unanswered that long is lost).
# Lost = requests that ope-client never got an answer for (exact counts
# from each client's summary). Prints one table at the end.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
OPE_BUILDDIR=${OPE_BUILDDIR:-$root/build}
OPE_BUILDDIR=$(cd "$OPE_BUILDDIR" && pwd) || exit 1
export OPE_BUILDDIR
# shellcheck source=tests/e2e/lib.sh
. "$root/tests/e2e/lib.sh"
# shellcheck source=tests/e2e/scaleout.sh
. "$root/tests/e2e/scaleout.sh"

SO_CLIENTS=${SO_CLIENTS:-3}
SO_COUNT=${SO_COUNT:-3000}
SO_WINDOW=${SO_WINDOW:-50}
table=

row()
{
	table="$table$(printf '%-46s %s' "$1" "$2")
"
	printf '%-46s %s\n' "$1" "$2" >&2
}

so_init || exit 1
so_node_start "" || exit 1
so_register "" 12 || exit 1

# throughput N: N instances, SO_CLIENTS clients; rate and CPU shares.
throughput()
{
	local n=$1 i t0 t1 line wall beam c0 c1 pid inst_max=0 inst_name= cl=0
	local -A before
	beam=$(so_node_pid "")
	for ((i = 1; i <= 3; i++)); do
		if [ "$i" -le "$n" ]; then
			[ -n "$(so_inst_pid "i$i")" ] || so_inst_start "i$i" "$E2E_COMP_PORT" || return 1
		else
			so_inst_stop "i$i"
		fi
	done
	c0=$(so_cpu "$beam")
	for ((i = 1; i <= n; i++)); do
		before[i$i]=$(so_cpu "$(so_inst_pid "i$i")")
	done
	t0=$(date +%s.%N)
	so_load_start "tp$n" "$SO_CLIENTS" "$SO_COUNT" "$SO_WINDOW"
	# Clients' CPU: sampled until they exit (each runs under timeout(1):
	# its child is the client).
	local pids= p
	sleep 0.3
	for p in $(so_load_pids "tp$n"); do
		pids="$pids $(cat "/proc/$p/task/$p/children" 2>/dev/null)"
	done
	while :; do
		local alive=0 sum=0
		for pid in $pids; do
			kill -0 "$pid" 2>/dev/null && alive=1
			sum=$((sum + $(so_cpu "$pid")))
		done
		[ "$sum" -gt "$cl" ] && cl=$sum
		[ "$alive" = 1 ] || break
		sleep 0.1
	done
	line=$(so_load_wait "tp$n")
	t1=$(date +%s.%N)
	c1=$(so_cpu "$beam")
	for ((i = 1; i <= n; i++)); do
		local d=$(($(so_cpu "$(so_inst_pid "i$i")") - before[i$i]))
		if [ "$d" -gt "$inst_max" ]; then
			inst_max=$d
			inst_name=i$i
		fi
	done
	wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
	local hz
	hz=$(getconf CLK_TCK)
	local ok
	ok=$(so_field "$line" ok)
	row "throughput, $n instance(s)" "$(awk -v ok="$ok" -v w="$wall" -v e=$((c1 - c0)) \
		-v o="$inst_max" -v c="$cl" -v hz="$hz" -v lost="$(so_field "$line" lost)" \
		-v r="$(so_field "$line" rate)" 'BEGIN {
		printf "%.0f req/s (clients summed; %.0f over %.1f s with logins; %d lost); CPU %% of one core: ejabberd %.0f, busiest ope %.0f, all clients %.0f; busiest: %s",
			r, ok / w, w, lost, 100 * e / hz / w, 100 * o / hz / w, 100 * c / hz / w,
			(e >= o && e >= c) ? "ejabberd (beam.smp)" : (o >= c ? "ope-component" : "ope-client")
	}')"
}

# Control sockets for takeovers (sun_path holds about 100 bytes).
sockdir=$E2E_TMP/s
if [ "${#sockdir}" -gt 60 ]; then
	sockdir=$(mktemp -d /tmp/ope.XXXX) || exit 1
	trap 'rc=$?; rm -rf "$sockdir"; (exit "$rc"); e2e_cleanup' EXIT
fi
mkdir -p "$sockdir" && chmod 700 "$sockdir"

# loss TAG NAME ACTION: 3 instances, load, ACTION during it; the lost count.
loss()
{
	local tag=$1 name=$2 action=$3 line count=$((SO_COUNT * 2)) i
	for i in 1 2 3; do
		[ -n "$(so_inst_pid "i$i")" ] || so_inst_start "i$i" "$E2E_COMP_PORT" || return 1
	done
	so_load_start "$tag" "$SO_CLIENTS" "$count" "$SO_WINDOW"
	sleep 2
	$action
	line=$(so_load_wait "$tag")
	row "$name" "lost $(so_field "$line" lost) of $(so_field "$line" sent), duplicated $(so_field "$line" duplicates), errors $(so_field "$line" errors)"
}

act_sigterm()
{
	so_inst_stop i1 TERM
}

act_sigkill()
{
	so_inst_stop i1 KILL
}

act_rolling()
{
	local i
	for i in 1 2 3; do
		so_inst_stop "i$i" TERM
		so_inst_start "i$i" "$E2E_COMP_PORT"
		sleep 0.5
	done
}

# takeover_all: 3 instances with control sockets; under the same load as
# the other rows, all three get SIGUSR2 at once (as a reload of every
# instance would) and their successors take the links over (no
# disconnect, nothing drained). At once, not in turn: the load is short.
takeover_all()
{
	local line count=$((SO_COUNT * 2)) i j pid log t0 t1 ms= under=yes
	local -A old handed new
	for i in 1 2 3; do
		so_inst_stop "i$i"
		so_inst_start "i$i" "$E2E_COMP_PORT" "control = { path = \"$sockdir/i$i.sock\"; };" ||
			return 1
	done
	so_load_start takeover "$SO_CLIENTS" "$count" "$SO_WINDOW"
	sleep 1
	t0=$(date +%s%N)
	for i in 1 2 3; do
		old[$i]=$(so_inst_pid "i$i")
		handed[$i]=$(grep -c "handed the link over to pid" "$E2E_TMP/i$i.log")
		kill -USR2 "${old[$i]}"
	done
	for i in 1 2 3; do
		log=$E2E_TMP/i$i.log
		new[$i]=
		for ((j = 0; j < 400; j++)); do
			if [ "$(grep -c "handed the link over to pid" "$log")" -gt "${handed[$i]}" ]; then
				new[$i]=$(sed -n 's/.*handed the link over to pid \([0-9][0-9]*\).*/\1/p' "$log" | tail -n 1)
				break
			fi
			sleep 0.05
		done
		if [ -z "${new[$i]}" ]; then
			row "takeover restart of all 3 at once, ejabberd" "failed: i$i logged no hand-over: $(grep -E 'takeover|took over' "$log" | tail -n 2 | tr '\n' ' ')"
			so_load_wait takeover >/dev/null
			return 1
		fi
		e2e_track "${new[$i]}"
		echo "${new[$i]}" >"$E2E_TMP/i$i.pid"
		wait "${old[$i]}" 2>/dev/null
	done
	t1=$(date +%s%N)
	ms=$(( (t1 - t0) / 1000000 ))
	for pid in $(so_load_pids takeover); do
		kill -0 "$pid" 2>/dev/null && break
		pid=
	done
	[ -n "$pid" ] || under="no: the load ended first, raise SO_COUNT"
	line=$(so_load_wait takeover)
	row "takeover restart of all 3 at once, ejabberd" "lost $(so_field "$line" lost) of $(so_field "$line" sent), duplicated $(so_field "$line" duplicates), errors $(so_field "$line" errors); SIGUSR2 to the last hand-over: $ms ms; under load: $under"
}

# balancing TYPE: domain_balancing TYPE with component_number 3, one of 3
# instances stopped, 12 users (each misses the dead slot with p = 2/3);
# how much of the load is lost and how many users lose everything.
balancing()
{
	local type=$1 line i lostc=0 f
	for i in 1 2 3; do
		so_inst_stop "i$i"
	done
	ejabberd_stop
	# ejabberd's own balancing: without mod_ope (which would override it).
	EJABBERD_MODULES=
	EJABBERD_TOP="domain_balancing:
  $E2E_COMPONENT:
    type: $type
    component_number: 3"
	ejabberd_write_config && ejabberd_start || return 1
	for i in 1 2 3; do
		so_inst_start "i$i" "$E2E_COMP_PORT" || return 1
	done
	so_inst_stop i2 TERM
	SO_TIMEOUT=5 so_load_start "bal-$type" 12 500 "$SO_WINDOW"
	line=$(so_load_wait "bal-$type")
	for f in "$E2E_TMP"/load-bal-"$type"-*.out; do
		grep -q '^sent=.* ok=0 ' "$f" && lostc=$((lostc + 1))
	done
	row "domain_balancing $type, 1 of 3 stopped" "lost $(so_field "$line" lost) of $(so_field "$line" sent); users with 100 % loss: $lostc of 12"
}

for n in 1 2 3; do
	throughput "$n"
done
loss sigterm "SIGTERM of 1 of 3 (drain), mod_ope" act_sigterm
loss sigkill "SIGKILL of 1 of 3, mod_ope" act_sigkill
loss rolling "rolling restart of 3, SIGTERM (drain), mod_ope" act_rolling
takeover_all
balancing source
balancing bare_source

# SIGKILL and SIGSTOP of the serving instance and SIGKILL of a cluster
# node's VM, with mod_ope and without (ejabberd's random balancing): runs
# of tests/e2e/ejabberd-pool.test, their summary lines.
pool_rows()
{
	local mod=$1 label=$2 out case line name
	out=$(POOL_MOD=$mod POOL_ONLY=kills SO_CLIENTS=$SO_CLIENTS SO_WINDOW=$SO_WINDOW \
		OPE_SRCDIR=$root bash "$root/tests/e2e/ejabberd-pool.test" 2>&1)
	for case in SIGKILL SIGSTOP node; do
		line=$(echo "$out" | sed -n "s/^#   $case result: //p")
		case $case in
		node) name="cluster: node B's VM SIGKILLed (clients on A), $label" ;;
		*) name="$case of the serving 1 of 3, $label" ;;
		esac
		if [ -n "$line" ]; then
			row "$name" "lost $(so_field "$line" lost) of $(so_field "$line" sent), duplicated $(so_field "$line" duplicates), errors $(so_field "$line" errors)"
		else
			row "$name" "failed to run: $(echo "$out" | tail -n 3 | tr '\n' ' ')"
		fi
	done
}
pool_rows "" "mod_ope"
pool_rows none "without mod_ope"

# The cluster: its own test run (two nodes), its summary line.
# It sizes its own load (waves that last until node B has stopped).
clu=$(SO_CLIENTS=$SO_CLIENTS SO_COUNT= SO_WINDOW=$SO_WINDOW \
	OPE_SRCDIR=$root bash "$root/tests/e2e/scaleout-cluster.test" 2>&1)
line=$(echo "$clu" | sed -n 's/^#   node B stopped under load.*, clients on node A: //p')
# Node B's instances list both nodes in server.hosts: when they reached A.
moved=$(echo "$clu" | sed -n 's/^#   \(b[0-9]\): connected to node A \([0-9.]*\) s after.*/\1 \2 s/p' |
	paste -sd, - | sed 's/,/, /g')
if [ -n "$line" ]; then
	row "cluster: node B stopped (clients on A)" "lost $(so_field "$line" lost) of $(so_field "$line" sent), duplicated $(so_field "$line" duplicates); B's instances on A after the stop began: ${moved:-none within 30 s}"
else
	row "cluster: node B stopped (clients on A)" "failed to run: $(echo "$clu" | tail -n 3 | tr '\n' ' ')"
fi

# Behind Prosody (one connection per component, so one instance): the
# Prosody part of tests/e2e/takeover.test with this run's load, two
# takeovers in a row; its summary line.
tk=$(TK_ONLY=prosody TK_CLIENTS=$SO_CLIENTS TK_COUNT=$((SO_COUNT * 2)) TK_WINDOW=$SO_WINDOW \
	OPE_SRCDIR=$root bash "$root/tests/e2e/takeover.test" 2>&1)
line=$(echo "$tk" | sed -n 's/^#   prosody: \(clients=[^;]*\);.*/\1/p')
if [ -n "$line" ]; then
	row "two takeover restarts in a row, Prosody" "lost $(so_field "$line" lost) of $(so_field "$line" sent), duplicated $(so_field "$line" duplicates), errors $(so_field "$line" errors); $(echo "$tk" | grep -c '^ok ') of $(echo "$tk" | grep -c '^\(not \)\?ok ') checks passed$(echo "$tk" | grep -E '^(prosody|backlog): ' | head -n 2 | sed 's/^/; /' | tr '\n' ' ')"
else
	row "two takeover restarts in a row, Prosody" "failed to run: $(echo "$tk" | grep -v '^  ' | tail -n 3 | tr '\n' ' ')"
fi

printf '\nope scale-out behind ejabberd (%s), %s clients x %s requests, window %s:\n%s' \
	"$(ejabberd_describe)" "$SO_CLIENTS" "$SO_COUNT" "$SO_WINDOW" "$table"
