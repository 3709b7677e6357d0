# SPDX-License-Identifier: MIT
# tests/e2e/scaleout.sh: several ope-component instances and ope-client load behind ejabberd (one node or a two-node cluster); counts lost and duplicated requests.
# shellcheck shell=bash
#
# Sourced (after lib.sh) by tests/e2e/scaleout.test and bench/scale-out.sh.
# so_init starts nothing; so_node_start NODE starts an ejabberd node with
# mod_ope (built here with erlc) loaded, with the options in SO_MOD_OPE
# (YAML flow map, default {}); SO_MOD_OPE=none starts it without. Instances are named, each
# with its own config, log and PID file under $E2E_TMP; load runs are
# groups of ope-client processes whose summary lines are added up by
# so_load_wait. Requests that time out are the lost ones: ope-client's
# --count run ends when no reply came for --timeout seconds, and a reply
# that comes after its request timed out counts as late, a second reply to
# one id as a duplicate (src/client/track.c).

SO_EJ_INCLUDE=$(ls -d /usr/lib/x86_64-linux-gnu/ejabberd-*/include /usr/lib/*/ejabberd-*/include /usr/lib/ejabberd-*/include 2>/dev/null | head -n 1)
SO_XMPP_INCLUDE=$(ls -d /usr/lib/erlang/lib/p1_xmpp-*/include 2>/dev/null | head -n 1)

# so_init: the e2e temp dir, ports, users' password; mod_ope built.
so_init()
{
	OPE_E2E_SERVER=ejabberd
	export OPE_E2E_SERVER
	e2e_init || return 1
	so_build_module || return 1
	EJABBERD_ERL_PA=$E2E_TMP/ebin
	so_modules
	: >"$E2E_TMP/epmd-ports"
	so_node_ports ""
}

# so_modules: EJABBERD_MODULES for the next node started, from SO_MOD_OPE.
so_modules()
{
	local opts='{}'
	[ -n "${SO_MOD_OPE:-}" ] && opts=$SO_MOD_OPE
	if [ "$opts" = none ]; then
		EJABBERD_MODULES=
	else
		EJABBERD_MODULES="  mod_ope: $opts"
	fi
}

# Compile contrib/ejabberd/mod_ope.erl into $E2E_TMP/ebin.
so_build_module()
{
	local src=$E2E_SRC/../../contrib/ejabberd/mod_ope.erl
	mkdir -p "$E2E_TMP/ebin"
	if [ -z "$SO_EJ_INCLUDE" ] || [ -z "$SO_XMPP_INCLUDE" ] ||
	   ! command -v erlc >/dev/null 2>&1; then
		echo "cannot build mod_ope: need erlc (erlang-base) and the ejabberd package's headers" >&2
		return 1
	fi
	if ! erlc -o "$E2E_TMP/ebin" -pa "${SO_EJ_INCLUDE%/include}/ebin" \
		-I "$SO_EJ_INCLUDE" -I "$SO_XMPP_INCLUDE" "$src" \
		>"$E2E_TMP/erlc.log" 2>&1; then
		cat "$E2E_TMP/erlc.log" >&2
		echo "erlc failed on $src (log above)" >&2
		return 1
	fi
}

# so_node_ports NODE: set E2E_C2S_PORT, E2E_COMP_PORT, E2E_DIST_PORT and
# EJABBERD_NODE for NODE ("" = the first node, else e.g. "b"), choosing
# free ports the first time.
so_node_ports()
{
	local node=$1 f=$E2E_TMP/ports-${1:-main}
	if [ ! -f "$f" ]; then
		# Every listener ejabberd.sh writes needs its own port per node
		# (two nodes on one host).
		if [ -z "$node" ]; then
			echo "$E2E_C2S_PORT $E2E_COMP_PORT $E2E_DIST_PORT" \
			     "$E2E_COMP_TLS_PORT $E2E_COMP2_PORT" >"$f"
		else
			e2e_util free-ports 5 >"$f" || return 1
		fi
	fi
	read -r E2E_C2S_PORT E2E_COMP_PORT E2E_DIST_PORT E2E_COMP_TLS_PORT \
		E2E_COMP2_PORT <"$f"
	EJABBERD_NODE=$node
	export E2E_C2S_PORT E2E_COMP_PORT E2E_DIST_PORT E2E_COMP_TLS_PORT \
		E2E_COMP2_PORT
}

# so_cluster_mode: the next nodes start as cluster members (private epmd).
so_cluster_mode()
{
	local port
	port=$(e2e_util free-ports 1) || return 1
	echo "$port" >>"$E2E_TMP/epmd-ports"
	EJABBERD_EPMD_PORT=$port
	EJABBERD_COOKIE=$(openssl rand -hex 16) || return 1
	export EJABBERD_EPMD_PORT EJABBERD_COOKIE
}

# so_node_start NODE [YML_TOP]: start (or restart) ejabberd node NODE.
so_node_start()
{
	so_node_ports "$1" || return 1
	EJABBERD_TOP=${2:-}
	so_modules
	ejabberd_start
}

so_node_stop()
{
	so_node_ports "$1" || return 1
	ejabberd_stop
}

# so_node_ctl NODE ARGS...: ejabberdctl on NODE.
so_node_ctl()
{
	so_node_ports "$1" || return 1
	shift
	ejabberd_ctl "$@"
}

so_node_pid()
{
	so_node_ports "$1" || return 1
	cat "$(ejabberd_dir)/ejabberd.pid" 2>/dev/null
}

# so_register NODE N: users user1..userN on NODE.
so_register()
{
	local node=$1 n=$2 i
	for ((i = 1; i <= n; i++)); do
		so_node_ctl "$node" register "user$i" "$E2E_HOST" "$E2E_PASSWORD" \
			>>"$E2E_TMP/register.log" 2>&1 || {
			cat "$E2E_TMP/register.log" >&2
			return 1
		}
	done
}

# so_register_bulk NODE N: users user1..userN on NODE in one ejabberdctl
# call (an XEP-0227 file through import_piefxis: one call per user costs
# an Erlang VM start each).
so_register_bulk()
{
	local node=$1 n=$2 i f=$E2E_TMP/users.xml
	{
		echo "<?xml version='1.0' encoding='UTF-8'?>"
		echo "<server-data xmlns='urn:xmpp:pie:0'><host jid='$E2E_HOST'>"
		for ((i = 1; i <= n; i++)); do
			echo "<user name='user$i' password='$E2E_PASSWORD'/>"
		done
		echo "</host></server-data>"
	} >"$f"
	so_node_ctl "$node" import_piefxis "$f" >>"$E2E_TMP/register.log" 2>&1 || {
		cat "$E2E_TMP/register.log" >&2
		return 1
	}
}

# so_inst_launch NAME PORTS [EXTRA_CONFIG]: start instance NAME connected
# to the component port PORTS, don't wait. PORTS is one port, or several
# separated by spaces: then the config lists them all in server.hosts, in
# that order (the link fails over to the next one when a connection drops).
# SO_LOG_LEVEL sets its log level (default info; debug logs the traffic,
# which names each request's sender). With SO_METRICS=1 the instance also serves /metrics on a free port, kept
# in $E2E_TMP/NAME.mport (see so_metrics).
so_inst_launch()
{
	local name=$1 ports=$2 extra=${3:-} server p hosts= mport
	if [ "${ports// /}" = "$ports" ]; then
		server="server    = { host = \"127.0.0.1\"; port = $ports; };"
	else
		for p in $ports; do
			hosts="$hosts${hosts:+, }\"127.0.0.1:$p\""
		done
		# SO_CONNECT=all: a link to every port at once (server.connect).
		server="server    = { hosts = ( $hosts );${SO_CONNECT:+ connect = \"$SO_CONNECT\";} };"
	fi
	if [ "${SO_METRICS:-0}" = 1 ]; then
		[ -s "$E2E_TMP/$name.mport" ] ||
			e2e_util free-ports 1 >"$E2E_TMP/$name.mport" || return 1
		mport=$(cat "$E2E_TMP/$name.mport")
		extra="metrics   = { listen = \"127.0.0.1:$mport\"; };
$extra"
	fi
	cat >"$E2E_TMP/$name.conf" <<EOF
# ope-component instance $name, written by tests/e2e/scaleout.sh
$server
component = { domain = "$E2E_COMPONENT"; secret = "$E2E_SECRET"; instance = "$name"; };
log       = { level = "${SO_LOG_LEVEL:-info}"; timestamps = true; };
reconnect = { initial = 0.2; maximum = 1.0; };
# A few accounts at full speed are abuse by the default rate limits.
limits    = { sender = { rate = 0.0; }; total = { rate = 0.0; }; };
$extra
EOF
	chmod 600 "$E2E_TMP/$name.conf"
	"$OPE_BUILDDIR/ope-component" -c "$E2E_TMP/$name.conf" \
		>>"$E2E_TMP/$name.out" 2>>"$E2E_TMP/$name.log" 3>&- &
	echo "$!" >"$E2E_TMP/$name.pid"
	e2e_track "$!"
}

# so_inst_start NAME PORTS [EXTRA]: start and wait until it is connected
# to the first of PORTS (a restart waits for a new "connected" line).
so_inst_start()
{
	local name=$1 port=${2%% *} pattern before pid i
	pattern="connected to 127.0.0.1:$port "
	before=$(grep -c -- "$pattern" "$E2E_TMP/$name.log" 2>/dev/null)
	so_inst_launch "$@" || return 1
	pid=$(cat "$E2E_TMP/$name.pid")
	for ((i = 0; i < 300; i++)); do
		[ "$(grep -c -- "$pattern" "$E2E_TMP/$name.log")" -gt "${before:-0}" ] &&
			return 0
		if ! kill -0 "$pid" 2>/dev/null; then
			break
		fi
		sleep 0.1
	done
	sed 's/^/  instance: /' "$E2E_TMP/$name.log" >&2
	echo "instance $name did not connect to 127.0.0.1:$port" >&2
	return 1
}

# so_metrics NAME FILE: GET instance NAME's /metrics (started with
# SO_METRICS=1) into FILE; through bash's /dev/tcp (a bare Debian has no
# curl, and a python start per poll is too slow on a loaded machine to
# watch a load of a few seconds).
so_metrics()
{
	local mport
	mport=$(cat "$E2E_TMP/$1.mport" 2>/dev/null) || return 1
	# shellcheck disable=SC2016 # (the inner shell expands $1)
	timeout 10 bash -c 'exec 5<>"/dev/tcp/127.0.0.1/$1" || exit 1
		printf "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n" >&5
		cat <&5' _ "$mport" >"$2.http" || return 1
	# The body: what follows the first empty line; the status must be 200.
	head -n 1 "$2.http" | grep -q ' 200' || return 1
	tr -d '\r' <"$2.http" | sed '1,/^$/d' >"$2"
}

# so_answered NAME...: the messages instances NAME... (started with
# SO_METRICS=1) have answered, added up; one that does not answer counts 0.
so_answered()
{
	local name n sum=0
	for name in "$@"; do
		n=
		so_metrics "$name" "$E2E_TMP/$name.metrics" 2>/dev/null &&
			n=$(so_sample "$E2E_TMP/$name.metrics" 'ope_stanzas_answered_total{kind="message"}')
		sum=$((sum + ${n:-0}))
	done
	echo "$sum"
}

# so_sample FILE SERIES: the value of SERIES (name and labels exactly as
# written) in the /metrics text FILE; empty when it is not there.
so_sample()
{
	awk -v s="$2" '$1 == s { print $2; exit }' "$1"
}

so_inst_pid()
{
	cat "$E2E_TMP/$1.pid" 2>/dev/null
}

# so_inst_stop NAME [SIGNAL]: stop instance NAME (default SIGTERM) and wait
# until it has exited (SIGKILL after 20 s).
so_inst_stop()
{
	local name=$1 sig=${2:-TERM} pid i
	pid=$(so_inst_pid "$name")
	[ -n "$pid" ] || return 0
	kill -"$sig" "$pid" 2>/dev/null
	for ((i = 0; i < 200; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
	# (bash reports a killed job when it reaps it; not an error here)
	wait "$pid" 2>/dev/null
	rm -f "$E2E_TMP/$name.pid"
	return 0
}

# so_load_start TAG NCLIENTS COUNT WINDOW [C2S_PORT] [FIRST_USER]: start
# NCLIENTS ope-client processes (users FIRST_USER.., default 1) sending
# COUNT requests each with WINDOW in flight, in the background.
so_load_start()
{
	local tag=$1 n=$2 count=$3 window=$4 port=${5:-$E2E_C2S_PORT}
	local first=${6:-1} i u
	: >"$E2E_TMP/load-$tag.pids"
	for ((i = 0; i < n; i++)); do
		u=$((first + i))
		OPE_PASSWORD=$E2E_PASSWORD timeout 600 "$OPE_BUILDDIR/ope-client" \
			-j "user$u@$E2E_HOST/$tag$i" -t "$E2E_COMPONENT" \
			--host 127.0.0.1 --port "$port" --cafile "$E2E_CAFILE" \
			--no-roster --count "$count" --window "$window" \
			--timeout "${SO_TIMEOUT:-15}" \
			>"$E2E_TMP/load-$tag-$i.out" 2>&1 3>&- &
		echo "$!" >>"$E2E_TMP/load-$tag.pids"
		e2e_track "$!"
	done
}

# so_load_pids TAG: the PIDs of load TAG's clients.
so_load_pids()
{
	cat "$E2E_TMP/load-$1.pids"
}

# so_load_wait TAG: wait for load TAG's clients; print one line
# "clients=N sent=.. ok=.. errors=.. lost=.. duplicates=.. mismatches=..
# late=.. rate=R" (lost = timeouts; rate = the clients' req/s added up,
# each measured by the client from its first request, logins excluded).
so_load_wait()
{
	local tag=$1 pid
	# Polled, not waited for: callers run this in a command substitution.
	for pid in $(so_load_pids "$tag"); do
		while kill -0 "$pid" 2>/dev/null; do
			sleep 0.2
		done
	done
	cat "$E2E_TMP"/load-"$tag"-*.out | awk '
		/^sent=/ {
			n++
			for (i = 1; i <= NF; i++) {
				split($i, kv, "=")
				v[kv[1]] += kv[2]
			}
		}
		END {
			printf "clients=%d sent=%d ok=%d errors=%d lost=%d duplicates=%d mismatches=%d late=%d rate=%.0f\n",
				n, v["sent"], v["ok"], v["errors"], v["timeouts"],
				v["duplicates"], v["mismatches"], v["late"], v["rate"]
		}'
}

# so_field LINE NAME: the value of NAME=... in LINE.
so_field()
{
	echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"
}

# so_load_check LINE CLIENTS COUNT: the accounting adds up: every client
# printed a summary, sent = ok + errors + lost, no mismatch, and all
# CLIENTS*COUNT were sent unless requests were lost (a client whose window
# is full of lost requests stops sending). Prints why not and returns 1.
so_load_check()
{
	local line=$1 clients=$2 count=$3 sent ok err lost mism n
	n=$(so_field "$line" clients)
	sent=$(so_field "$line" sent)
	ok=$(so_field "$line" ok)
	err=$(so_field "$line" errors)
	lost=$(so_field "$line" lost)
	mism=$(so_field "$line" mismatches)
	if [ "$n" != "$clients" ]; then
		echo "only $n of $clients clients printed a summary: $line" >&2
		return 1
	fi
	if { [ "$lost" = 0 ] && [ "$sent" != $((clients * count)) ]; } ||
	   [ "$sent" -gt $((clients * count)) ] ||
	   [ "$sent" != $((ok + err + lost)) ] || [ "$mism" != 0 ]; then
		echo "accounting does not add up: $line" >&2
		return 1
	fi
}

# so_cpu PID: user+system CPU ticks used by PID so far (0 if gone).
so_cpu()
{
	local t
	t=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $12 + $13 }')
	echo "${t:-0}"
}
