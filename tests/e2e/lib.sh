# SPDX-License-Identifier: MIT
# tests/e2e/lib.sh: shared end-to-end harness: temp dir, free ports, certificate, cleanup, ope-component and ope-client helpers.
# shellcheck shell=bash
#
# Source it from bash, then call e2e_init; it sources prosody.sh and
# ejabberd.sh for the server functions. Everything it starts is recorded
# under $E2E_TMP and removed by e2e_cleanup (trap on EXIT/INT/TERM).
#
# Variables read:
#   OPE_BUILDDIR            where ope-component and ope-client are (required)
#   OPE_E2E_SERVER          prosody (default) | ejabberd
#   OPE_E2E_PROSODY         container | native | auto (default)
#   OPE_E2E_PROSODY_IMAGE   image to run (default: official prosody/prosody,
#                           else a local debootstrap image, see prosody.sh)
#   OPE_E2E_ENGINE          podman | docker (default: the first that works;
#                           docker: dockerd is started when none runs, see docker.sh)
#   OPE_E2E_COMPOSE=0       container mode: "run --network=host" instead of
#                           tests/e2e/compose.yml (see prosody.sh)
#   OPE_E2E_KEEP=1          keep the temp dir (logs, configs) after the run
#   PYTHON3                 python interpreter (default python3)

E2E_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/e2e/tap.sh
. "$E2E_SRC/tap.sh"
E2E_HOST=localhost
E2E_COMPONENT=ope.localhost
E2E_NS="https://example.net/our_extension"

: "${PYTHON3:=python3}"
[ -n "$PYTHON3" ] || PYTHON3=python3

e2e_log()
{
	printf '%s e2e: %s\n' "$(date +%H:%M:%S)" "$*" >&2
}

# Run the stdlib helper (ports, stream probe, text checks).
e2e_util()
{
	"$PYTHON3" "$E2E_SRC/e2e_util.py" "$@"
}

# A python3 that has slixmpp (the probe needs it); empty when none has.
e2e_python_slixmpp()
{
	local py
	for py in "$PYTHON3" python3 /usr/bin/python3; do
		if command -v "$py" >/dev/null 2>&1 &&
		   "$py" -c 'import slixmpp' >/dev/null 2>&1; then
			command -v "$py"
			return 0
		fi
	done
	return 1
}

# A process's start time (clock ticks since boot): with the PID it names
# one process for good, across exec (a just-forked child's comm is still
# "bash") and against PID reuse.
e2e_starttime()
{
	sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $20 }'
}

# Record a process we started so that e2e_cleanup can stop it by PID.
e2e_track()
{
	echo "$1 $(e2e_starttime "$1")" >>"${2:-$E2E_TMP/pids}"
}

# Stop every process listed in FILE (by e2e_track) that is still the same
# process, newest first.
e2e_kill_tracked()
{
	local pid start
	[ -f "$1" ] || return 0
	while read -r pid start; do
		[ -n "$start" ] && [ "$(e2e_starttime "$pid")" = "$start" ] &&
			e2e_kill "$pid"
	done < <(tac "$1")
	return 0
}

# Stop one process we started: SIGTERM, a bounded wait, then SIGKILL.
e2e_kill()
{
	local pid=$1 i
	kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

e2e_cleanup()
{
	local rc=$?
	trap - EXIT INT TERM
	# Callers may run under "set -e": cleanup must go on past failures.
	set +e
	[ -n "$E2E_TMP" ] && [ -d "$E2E_TMP" ] || return "$rc"
	e2e_kill_tracked "$E2E_TMP/pids"
	if ! e2e_server_cleanup; then
		# Something of this run (a container network, firewall rules,
		# a sysctl) is left on the machine: the run fails.
		echo "Bail out! cleaning up after $E2E_SERVER left something behind (see above)"
		[ "$rc" = 0 ] && rc=1
	fi
	if ! e2e_dockerd_release; then
		echo "not ok - stopping the dockerd this harness started left something behind (see above)"
		[ "$rc" = 0 ] && rc=1
	fi
	if [ "${OPE_E2E_KEEP:-0}" = 1 ]; then
		e2e_log "kept $E2E_TMP"
	else
		rm -rf "$E2E_TMP"
	fi
	# From the EXIT trap, only "exit" changes the script's status.
	exit "$rc"
}

# Create the temp dir, ports, certificate and secrets; install the traps.
e2e_init()
{
	if [ -z "$OPE_BUILDDIR" ]; then
		echo "OPE_BUILDDIR is not set: run through 'make check' or export it" >&2
		return 1
	fi
	E2E_TMP=$(mktemp -d "${TMPDIR:-/tmp}/ope-e2e.XXXXXX") || return 1
	trap e2e_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	: >"$E2E_TMP/pids"
	E2E_SERVER=${OPE_E2E_SERVER:-prosody}
	E2E_ID=ope-e2e-$$-$RANDOM
	E2E_SECRET=$(openssl rand -hex 16) || return 1
	E2E_PASSWORD=pw-$(openssl rand -hex 6) || return 1
	local ports
	ports=$(e2e_util free-ports 6) || return 1
	# COMP_TLS and COMP2: ejabberd's direct-TLS and second component
	# listeners; RELAY: a stand-in server that a scenario kills.
	read -r E2E_C2S_PORT E2E_COMP_PORT E2E_DIST_PORT E2E_COMP_TLS_PORT \
		E2E_COMP2_PORT E2E_RELAY_PORT <<<"$ports"
	e2e_make_cert || return 1
	E2E_CAFILE=$E2E_TMP/certs/localhost.crt
	export E2E_TMP E2E_SERVER E2E_ID E2E_SECRET E2E_PASSWORD E2E_C2S_PORT \
		E2E_COMP_PORT E2E_DIST_PORT E2E_CAFILE E2E_COMP_TLS_PORT \
		E2E_COMP2_PORT E2E_RELAY_PORT
}

# Self-signed certificate for "localhost" (CN and SAN).
e2e_make_cert()
{
	local d=$E2E_TMP/certs
	mkdir -p "$d" && chmod 755 "$d"
	if ! openssl req -x509 -newkey rsa:2048 -nodes -days 30 \
		-subj /CN=localhost -addext subjectAltName=DNS:localhost \
		-keyout "$d/localhost.key" -out "$d/localhost.crt" \
		>"$d/openssl.txt" 2>&1; then
		cat "$d/openssl.txt" >&2
		echo "cannot create a test certificate with openssl: install openssl" >&2
		return 1
	fi
	# A throwaway key; the server inside a container may run as another user.
	chmod 644 "$d/localhost.key" "$d/localhost.crt"
	cat "$d/localhost.crt" "$d/localhost.key" >"$d/localhost.pem"
}

# Wait until FILE contains PATTERN (fixed string); fail early if PID died.
e2e_wait_log()
{
	local file=$1 pattern=$2 timeout=${3:-10} pid=${4:-} i
	for ((i = 0; i < timeout * 10; i++)); do
		grep -qF -- "$pattern" "$file" 2>/dev/null && return 0
		if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
			grep -qF -- "$pattern" "$file" 2>/dev/null && return 0
			e2e_log "process $pid exited before '$pattern' appeared in $file"
			return 1
		fi
		sleep 0.1
	done
	e2e_log "timed out after ${timeout} s waiting for '$pattern' in $file"
	return 1
}

# Both the c2s and the component port answer with a stream header.
e2e_server_answers()
{
	local t=${1:-20}
	e2e_util wait-stream "$E2E_C2S_PORT" jabber:client "$E2E_HOST" "$t" &&
	e2e_util wait-stream "$E2E_COMP_PORT" jabber:component:accept \
		"$E2E_COMPONENT" "$t"
}

# --- server dispatch (implementations in prosody.sh and ejabberd.sh) -------

e2e_server_start()
{
	case $E2E_SERVER in
	prosody) prosody_start ;;
	ejabberd) ejabberd_start ;;
	*) echo "OPE_E2E_SERVER=$E2E_SERVER: use prosody or ejabberd" >&2
	   return 1 ;;
	esac
}

# Stop the server but keep its data (users), for restart tests.
e2e_server_stop()
{
	case $E2E_SERVER in
	prosody) prosody_stop ;;
	ejabberd) ejabberd_stop ;;
	esac
}

# Start it again after e2e_server_stop, same ports and data.
e2e_server_restart()
{
	case $E2E_SERVER in
	prosody) prosody_resume ;;
	ejabberd) ejabberd_resume ;;
	esac
}

e2e_server_register()
{
	case $E2E_SERVER in
	prosody) prosody_register "$@" ;;
	ejabberd) ejabberd_register "$@" ;;
	esac
}

# Remove everything the server part started (called from e2e_cleanup).
e2e_server_cleanup()
{
	case $E2E_SERVER in
	prosody) prosody_cleanup ;;
	ejabberd) ejabberd_cleanup ;;
	deploy) deploy_cleanup ;;
	esac
}

e2e_server_describe()
{
	case $E2E_SERVER in
	prosody) prosody_describe ;;
	ejabberd) ejabberd_describe ;;
	esac
}

e2e_server_log_tail()
{
	case $E2E_SERVER in
	prosody) prosody_log_tail ;;
	ejabberd) ejabberd_log_tail ;;
	esac
}

# The stanza error condition a client gets for a message to an offline
# component (FACTS.md).
e2e_offline_condition()
{
	case $E2E_SERVER in
	prosody) echo remote-server-timeout ;;
	ejabberd) echo forbidden ;;
	esac
}

# --- ope-component ----------------------------------------------------------

# e2e_component_config NAME [SECRET]: write $E2E_TMP/NAME.conf, ending with
# $E2E_TMP/NAME.extra when that exists (access and limits sections).
e2e_component_config()
{
	local name=$1 secret=${2:-$E2E_SECRET}
	cat >"$E2E_TMP/$name.conf" <<EOF
# ope-component configuration written by tests/e2e/lib.sh
server    = { host = "127.0.0.1"; port = $E2E_COMP_PORT; };
component = { domain = "$E2E_COMPONENT"; secret = "$secret"; };
log       = { level = "info"; timestamps = true; };
reconnect = { initial = 0.2; maximum = 1.0; };
service   = { name = "ope"; show_os = true; max_payload = 8192; };
EOF
	if [ -f "$E2E_TMP/$name.extra" ]; then
		cat "$E2E_TMP/$name.extra" >>"$E2E_TMP/$name.conf"
	fi
	chmod 600 "$E2E_TMP/$name.conf"
}

# e2e_component_launch NAME [SECRET]: start it in the background, don't wait.
# Sets E2E_COMPONENT_PID; its stderr goes to $E2E_TMP/NAME.log.
e2e_component_launch()
{
	local name=$1
	e2e_component_config "$@" || return 1
	"$OPE_BUILDDIR/ope-component" -c "$E2E_TMP/$name.conf" \
		>"$E2E_TMP/$name.out" 2>"$E2E_TMP/$name.log" 3>&- &
	E2E_COMPONENT_PID=$!
	echo "$E2E_COMPONENT_PID" >"$E2E_TMP/$name.pid"
	e2e_track "$E2E_COMPONENT_PID"
}

# e2e_component_start NAME: start and wait for its "connected to" line.
e2e_component_start()
{
	local name=$1
	e2e_component_launch "$@" || return 1
	if ! e2e_wait_log "$E2E_TMP/$name.log" \
		"connected to 127.0.0.1:$E2E_COMP_PORT" 30 "$E2E_COMPONENT_PID"; then
		sed 's/^/  component: /' "$E2E_TMP/$name.log" >&2
		return 1
	fi
}

e2e_component_stop()
{
	local name=$1
	[ -f "$E2E_TMP/$name.pid" ] && e2e_kill "$(cat "$E2E_TMP/$name.pid")"
	rm -f "$E2E_TMP/$name.pid"
}

# --- ope-client -------------------------------------------------------------

# e2e_client OUT USER RESOURCE [ARGS...]: run ope-client as USER@localhost/RESOURCE
# against the component, output (stdout+stderr) to OUT, the command line to
# OUT.cmd; returns its exit code.
# Pass --cafile/--insecure yourself, or E2E_TLS_ARGS is used.
e2e_client()
{
	local out=$1 user=$2 res=$3
	shift 3
	local tls=(--cafile "$E2E_CAFILE")
	case " $* " in
	*" --cafile "* | *" --insecure "* | *" --no-tls-args "*) tls=() ;;
	esac
	local args=()
	local a
	for a in "$@"; do
		[ "$a" = --no-tls-args ] || args+=("$a")
	done
	# The command line goes beside OUT, never into it: text checks on OUT
	# must only see what ope-client printed.
	echo "ope-client -j $user@$E2E_HOST/$res -t $E2E_COMPONENT" \
		"--port $E2E_C2S_PORT ${tls[*]} ${args[*]}" >"$out.cmd"
	: >"$out"
	OPE_PASSWORD=$E2E_PASSWORD timeout 120 "$OPE_BUILDDIR/ope-client" \
		-j "$user@$E2E_HOST/$res" -t "$E2E_COMPONENT" \
		--host 127.0.0.1 --port "$E2E_C2S_PORT" "${tls[@]}" \
		--timeout 15 "${args[@]}" >>"$out" 2>&1 3>&-
}

# --- sources ----------------------------------------------------------------

# shellcheck source=tests/e2e/prosody.sh
. "$E2E_SRC/prosody.sh"
# shellcheck source=tests/e2e/ejabberd.sh
. "$E2E_SRC/ejabberd.sh"
# shellcheck source=tests/e2e/docker.sh
. "$E2E_SRC/docker.sh"
