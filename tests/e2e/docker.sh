# SPDX-License-Identifier: MIT
# tests/e2e/docker.sh: a Docker engine for the e2e tests: use the running one, or start dockerd and stop it again when the last test is done.
# shellcheck shell=bash
#
# Sourced by lib.sh. e2e_engine calls e2e_dockerd_acquire when docker is
# wanted and no daemon answers; e2e_cleanup calls e2e_dockerd_release.
# Several tests (make check -j, other worktrees) share one dockerd: state
# lives in $E2E_DOCKERD_DIR, guarded by flock:
#   users       one "PID STARTTIME" line per test run using our dockerd
#   dockerd     "PID STARTTIME" of the dockerd we started
#   before/     the host's firewall and sysctls before it started
# The last user to leave stops that dockerd (by its PID) and undoes what it
# did to the host: its iptables chains and rules, the FORWARD policy it set
# to DROP, the docker0 bridge and net.ipv4.ip_forward. A daemon somebody
# else runs is used as it is and never stopped. Images stay in
# /var/lib/docker: they are the cache of the next run.

E2E_DOCKERD_DIR=${OPE_E2E_DOCKERD_DIR:-/run/ope-e2e-dockerd}

# e2e_dockerd_locked COMMAND...: run COMMAND holding the state lock.
# The lock's descriptor is E2E_DOCKERD_LOCK_FD, which dockerd must not
# inherit (it would hold the lock for as long as it runs).
e2e_dockerd_locked()
{
	local rc
	mkdir -p "$E2E_DOCKERD_DIR" || return 1
	exec {E2E_DOCKERD_LOCK_FD}>>"$E2E_DOCKERD_DIR/lock" || return 1
	if ! flock -w 300 "$E2E_DOCKERD_LOCK_FD"; then
		e2e_log "docker: cannot lock $E2E_DOCKERD_DIR/lock within 300 s"
		exec {E2E_DOCKERD_LOCK_FD}>&-
		return 1
	fi
	"$@"
	rc=$?
	exec {E2E_DOCKERD_LOCK_FD}>&-
	return "$rc"
}

# Is "PID STARTTIME" (a line of users or dockerd) still that process?
e2e_dockerd_alive()
{
	local pid=${1% *} start=${1#* }
	[ -n "$pid" ] && [ -n "$start" ] && [ "$(e2e_starttime "$pid")" = "$start" ]
}

# Keep only the users that still run (a killed test leaves its line).
e2e_dockerd_prune_users()
{
	local f=$E2E_DOCKERD_DIR/users line
	[ -f "$f" ] || return 0
	while read -r line; do
		e2e_dockerd_alive "$line" && echo "$line"
	done <"$f" >"$f.new"
	mv "$f.new" "$f"
}

e2e_dockerd_me()
{
	echo "$$ $(e2e_starttime $$)"
}

_e2e_dockerd_acquire()
{
	local d=$E2E_DOCKERD_DIR pid i
	e2e_dockerd_prune_users
	if [ -f "$d/dockerd" ] && ! e2e_dockerd_alive "$(cat "$d/dockerd")"; then
		# Our dockerd died (or the machine rebooted without clearing
		# /run): undo what it left before starting another.
		e2e_log "docker: the dockerd this harness started is gone; cleaning up after it"
		e2e_dockerd_restore_host || return 1
		rm -f "$d/dockerd"
	fi
	if timeout 60 docker info >/dev/null 2>&1; then
		# Ours (then count this run as a user) or somebody else's.
		[ -f "$d/dockerd" ] && e2e_dockerd_me >>"$d/users"
		return 0
	fi
	if ! command -v dockerd >/dev/null 2>&1; then
		echo "no Docker daemon answers and dockerd is not installed:" \
			"install docker.io (tests/deps.sh)" >&2
		return 1
	fi
	if [ "$(id -u)" != 0 ]; then
		echo "no Docker daemon answers; starting dockerd needs root" >&2
		return 1
	fi
	e2e_dockerd_snapshot || return 1
	e2e_log "docker: no daemon answers; starting dockerd (log: $d/dockerd.log)"
	# Its own session: a ^C to this test must not stop a daemon that other
	# tests share. The subshell and setsid exec in place, so $! is
	# dockerd's PID; it gets neither the lock nor the test's output.
	(
		exec {E2E_DOCKERD_LOCK_FD}>&-
		exec setsid dockerd >>"$d/dockerd.log" 2>&1 </dev/null 3>&-
	) &
	pid=$!
	echo "$pid $(e2e_starttime "$pid")" >"$d/dockerd"
	for ((i = 0; i < 600; i++)); do
		docker info >/dev/null 2>&1 && break
		if ! kill -0 "$pid" 2>/dev/null; then
			break
		fi
		sleep 0.1
	done
	if ! docker info >/dev/null 2>&1; then
		tail -n 20 "$d/dockerd.log" >&2
		echo "dockerd did not come up within 60 s (log above)" >&2
		e2e_dockerd_stop_ours
		return 1
	fi
	e2e_dockerd_me >>"$d/users"
	e2e_log "docker: dockerd $pid is up"
}

# Make sure a Docker daemon answers, starting one if needed.
e2e_dockerd_acquire()
{
	E2E_DOCKERD_USER=1
	e2e_dockerd_locked _e2e_dockerd_acquire
}

_e2e_dockerd_release()
{
	local d=$E2E_DOCKERD_DIR me
	me=$(e2e_dockerd_me)
	if [ -f "$d/users" ]; then
		grep -vxF -- "$me" "$d/users" >"$d/users.new"
		mv "$d/users.new" "$d/users"
	fi
	e2e_dockerd_prune_users
	[ -f "$d/dockerd" ] || return 0
	if [ -s "$d/users" ]; then
		e2e_log "docker: dockerd stays up for $(wc -l <"$d/users") other test run(s)"
		return 0
	fi
	e2e_dockerd_stop_ours
}

# Leave the shared dockerd; the last one out stops it. Returns 1 when
# something it did to the host could not be undone.
e2e_dockerd_release()
{
	[ "${E2E_DOCKERD_USER:-0}" = 1 ] || return 0
	E2E_DOCKERD_USER=0
	e2e_dockerd_locked _e2e_dockerd_release
}

# Stop the dockerd we started (by PID; it stops its containerd) and undo
# its changes to the host.
e2e_dockerd_stop_ours()
{
	local d=$E2E_DOCKERD_DIR line pid i
	line=$(cat "$d/dockerd" 2>/dev/null)
	pid=${line% *}
	if e2e_dockerd_alive "$line"; then
		e2e_log "docker: stopping dockerd $pid (started by this harness)"
		kill -TERM "$pid" 2>/dev/null
		for ((i = 0; i < 300; i++)); do
			e2e_dockerd_alive "$line" || break
			sleep 0.1
		done
		if e2e_dockerd_alive "$line"; then
			e2e_log "docker: dockerd $pid still runs 30 s after SIGTERM; killing it"
			kill -KILL "$pid" 2>/dev/null
			sleep 1
		fi
	fi
	rm -f "$d/dockerd"
	e2e_dockerd_restore_host
}

# Record what dockerd changes on the host, before starting it.
e2e_dockerd_snapshot()
{
	local b=$E2E_DOCKERD_DIR/before v
	rm -rf "$b"
	mkdir -p "$b" || return 1
	sysctl -n net.ipv4.ip_forward >"$b/ip_forward" 2>/dev/null || rm -f "$b/ip_forward"
	for v in ip ip6; do
		command -v "${v}tables-save" >/dev/null 2>&1 || continue
		"${v}tables-save" -t filter 2>/dev/null |
			awk '/^:FORWARD / { print $2 }' >"$b/forward-policy-$v"
		if "${v}tables-save" 2>/dev/null | grep -q '^:DOCKER'; then
			echo 1 >"$b/chains-$v"
		else
			echo 0 >"$b/chains-$v"
		fi
	done
	if ip link show docker0 >/dev/null 2>&1; then
		echo 1 >"$b/docker0"
	else
		echo 0 >"$b/docker0"
	fi
}

# An iptables-restore --noflush script that deletes Docker's rules (in
# Docker's chains, jumping to them, or naming docker0) and its chains.
e2e_dockerd_unrules()
{
	awk '
	function target(   i) {
		for (i = 2; i < NF; i++) if ($i == "-j" || $i == "-g") return $(i + 1)
		return ""
	}
	function flush(   i) {
		if (nd + nx == 0) return
		out = out tbl "\n"
		for (i = 1; i <= nd; i++) { l = del[i]; sub(/^-A/, "-D", l); out = out l "\n" }
		for (i = 1; i <= nx; i++) out = out "-F " xs[i] "\n"
		for (i = 1; i <= nx; i++) out = out "-X " xs[i] "\n"
		out = out "COMMIT\n"
	}
	/^\*/ { tbl = $0; nd = nx = 0; next }
	/^:DOCKER/ { xs[++nx] = substr($1, 2); next }
	/^-A / {
		if ($2 !~ /^DOCKER/ && (target() ~ /^DOCKER/ || / docker0 /)) del[++nd] = $0
		next
	}
	/^COMMIT/ { flush(); next }
	END { printf "%s", out }'
}

# Undo what our dockerd did to the host (see e2e_dockerd_snapshot).
# Returns 1 when something is left.
e2e_dockerd_restore_host()
{
	local b=$E2E_DOCKERD_DIR/before v script left=0 want cur
	[ -d "$b" ] || return 0
	for v in ip ip6; do
		command -v "${v}tables-save" >/dev/null 2>&1 || continue
		if [ "$(cat "$b/chains-$v" 2>/dev/null)" = 0 ]; then
			script=$("${v}tables-save" 2>/dev/null | e2e_dockerd_unrules)
			if [ -n "$script" ]; then
				e2e_log "docker: removing dockerd's ${v}tables chains and rules"
				printf '%s\n' "$script" | "${v}tables-restore" --noflush ||
					e2e_log "docker: ${v}tables-restore failed"
			fi
			if "${v}tables-save" 2>/dev/null | grep -qE '^:DOCKER|-j DOCKER| docker0 '; then
				e2e_log "docker: ${v}tables rules of dockerd are left:"
				"${v}tables-save" | grep -E '^:DOCKER|DOCKER| docker0 ' >&2
				left=1
			fi
		fi
		want=$(cat "$b/forward-policy-$v" 2>/dev/null)
		cur=$("${v}tables-save" -t filter 2>/dev/null | awk '/^:FORWARD / { print $2 }')
		if [ -n "$want" ] && [ -n "$cur" ] && [ "$cur" != "$want" ]; then
			if "${v}tables" -P FORWARD "$want"; then
				e2e_log "docker: restored the ${v}tables FORWARD policy $want (dockerd had set $cur)"
			else
				left=1
			fi
		fi
	done
	if [ "$(cat "$b/docker0" 2>/dev/null)" = 0 ] && ip link show docker0 >/dev/null 2>&1; then
		ip link delete docker0 || { e2e_log "docker: cannot delete docker0"; left=1; }
	fi
	want=$(cat "$b/ip_forward" 2>/dev/null)
	cur=$(sysctl -n net.ipv4.ip_forward 2>/dev/null)
	if [ -n "$want" ] && [ "$cur" != "$want" ]; then
		if iptables-save 2>/dev/null | grep -q '^:NETAVARK'; then
			# A podman network may need it; podman's own cleanup
			# (prosody.sh) restores it when that network goes.
			e2e_log "docker: net.ipv4.ip_forward left at $cur (was $want): a podman network is active"
		elif sysctl -q -w "net.ipv4.ip_forward=$want" >/dev/null; then
			e2e_log "docker: restored net.ipv4.ip_forward=$want (dockerd had set $cur)"
		else
			left=1
		fi
	fi
	rm -rf "$b"
	[ "$left" = 0 ]
}
