# SPDX-License-Identifier: MIT
# tests/e2e/container.sh: containers for the e2e servers: engine, local image, compose, and the clean-up of what they leave (netavark rules, ip_forward).
# shellcheck shell=bash
#
# Sourced by prosody.sh. State lives under $E2E_TMP; the container is named
# $E2E_ID.

# Pick the container engine; sets E2E_ENGINE. Returns 1 when none works.
e2e_engine()
{
	local want=${OPE_E2E_ENGINE:-} e
	[ -n "${E2E_ENGINE:-}" ] && return 0
	for e in ${want:-podman docker}; do
		command -v "$e" >/dev/null 2>&1 || continue
		[ "$e" = podman ] && e2e_containers_conf
		if timeout 60 "$e" info >/dev/null 2>&1; then
			E2E_ENGINE=$e
			export E2E_ENGINE
			return 0
		fi
	done
	return 1
}

# podman on these machines needs runc (crun rejects hybrid cgroups) and
# default ulimits within the host's hard limits (no CAP_SYS_RESOURCE).
e2e_containers_conf()
{
	[ -n "${CONTAINERS_CONF:-}" ] && return 0
	local f=$E2E_TMP/containers.conf nofile
	nofile=$(ulimit -Hn)
	[ "$nofile" = unlimited ] && nofile=1048576
	{
		echo "# written by tests/e2e/container.sh"
		echo "[containers]"
		echo "default_ulimits = [\"nofile=$nofile:$nofile\", \"nproc=4096:4096\"]"
		if command -v runc >/dev/null 2>&1; then
			echo "[engine]"
			echo "runtime = \"runc\""
		fi
	} >"$f"
	CONTAINERS_CONF=$f
	export CONTAINERS_CONF
}

# The Debian (or Ubuntu) mirror and suite of this machine's apt sources.
e2e_apt_mirror()
{
	local f uri
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		uri=$(awk '/^URIs:/ { print $2; exit }' "$f")
		case $uri in *security*) continue ;; esac
		[ -n "$uri" ] && { echo "$uri"; return 0; }
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		uri=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++)
			if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' "$f" |
			grep -v security | head -n 1)
		[ -n "$uri" ] && { echo "$uri"; return 0; }
	done
	return 1
}

# e2e_build_local_image IMAGE PACKAGES: build IMAGE from this machine's
# distribution with debootstrap, with PACKAGES (comma-separated) installed,
# and import it into the engine.
e2e_build_local_image()
{
	local img=$1 pkgs=$2 codename mirror rootfs comps=main
	. /etc/os-release
	codename=${VERSION_CODENAME:-bookworm}
	[ "${ID:-debian}" = ubuntu ] && comps=main,universe
	if ! command -v debootstrap >/dev/null 2>&1; then
		echo "cannot build $img: install the debootstrap package" \
			"(or set OPE_E2E_PROSODY_IMAGE to an image you have)" >&2
		return 1
	fi
	mirror=$(e2e_apt_mirror) || {
		echo "cannot build $img: no mirror in /etc/apt/sources.list*" >&2
		return 1
	}
	rootfs=$E2E_TMP/rootfs
	e2e_log "building $img with debootstrap $codename from $mirror (about 30 s, cached afterwards)"
	if ! debootstrap --variant=minbase --components="$comps" \
		--include="$pkgs" \
		"$codename" "$rootfs" "$mirror" >"$E2E_TMP/debootstrap.log" 2>&1; then
		tail -n 20 "$E2E_TMP/debootstrap.log" >&2
		echo "debootstrap failed (log above); see $E2E_TMP/debootstrap.log" >&2
		rm -rf "$rootfs"
		return 1
	fi
	rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
	if ! tar -C "$rootfs" -c . | "$E2E_ENGINE" import - "$img" \
		>"$E2E_TMP/import.log" 2>&1; then
		cat "$E2E_TMP/import.log" >&2
		rm -rf "$rootfs"
		return 1
	fi
	rm -rf "$rootfs"
}

# Compose tool for the engine, if any (prints the command words).
container_compose_cmd()
{
	[ "${OPE_E2E_COMPOSE:-1}" = 0 ] && return 1
	if [ "$E2E_ENGINE" = podman ] && command -v podman-compose >/dev/null 2>&1; then
		echo podman-compose
	elif [ "$E2E_ENGINE" = docker ] && docker compose version >/dev/null 2>&1; then
		echo docker compose
	else
		return 1
	fi
}

# container_running NAME: true while container NAME runs.
container_running()
{
	[ "$("$E2E_ENGINE" container inspect -f '{{.State.Running}}' "$1" 2>/dev/null)" = true ]
}

# --- podman (netavark) firewall rules and ip_forward, compose path ---------
#
# Publishing ports on a bridge network makes netavark add iptables chains
# (NETAVARK-*) and set net.ipv4.ip_forward=1. "compose down" plus "network
# rm" drop the network's own chains but leave the shared ones
# (NETAVARK_FORWARD, NETAVARK-HOSTPORT-*, with jumps from the built-in
# chains) and ip_forward. State lives in $E2E_TMP/netavark/.

# Record ip_forward and whether netavark's chains already exist, before "up".
container_netavark_before()
{
	local d=$E2E_TMP/netavark v
	mkdir -p "$d"
	sysctl -n net.ipv4.ip_forward >"$d/ip_forward" 2>/dev/null || rm -f "$d/ip_forward"
	sysctl -n net.ipv6.conf.all.forwarding >"$d/ipv6_forwarding" 2>/dev/null ||
		rm -f "$d/ipv6_forwarding"
	for v in ip ip6; do
		command -v "${v}tables-save" >/dev/null 2>&1 || continue
		if "${v}tables-save" 2>/dev/null | grep -q '^:NETAVARK'; then
			echo 1 >"$d/shared-$v"
		else
			echo 0 >"$d/shared-$v"
		fi
	done
}

# After "up": note the project network's name, subnets and own chains.
container_netavark_note()
{
	local d=$E2E_TMP/netavark net=${E2E_ID}_default v
	echo "$net" >"$d/network"
	podman network inspect -f '{{range .Subnets}}{{.Subnet}} {{end}}' "$net" \
		>"$d/subnets" 2>/dev/null || : >"$d/subnets"
	: >"$d/chains"
	for v in ip ip6; do
		command -v "${v}tables-save" >/dev/null 2>&1 || continue
		"${v}tables-save" 2>/dev/null | container_netavark_awk ours-chains "$d" \
			>>"$d/chains"
	done
}

# container_netavark_awk WHAT DIR: read an iptables-save dump on stdin.
#   ours-chains  print the chains of this run's network (the targets of
#                rules naming its subnets or its dnat comment)
#   ours         print an iptables-restore --noflush script deleting every
#                rule that names this run's subnets, network or chains, and
#                those chains
#   shared       print a script deleting all NETAVARK rules and chains,
#                unless some other network still uses them (then nothing)
#   left         print the leftover lines of this run (nothing when clean)
container_netavark_awk()
{
	local d=$2
	awk -v what="$1" -v subnets="$(cat "$d/subnets" 2>/dev/null)" \
		-v net="$(cat "$d/network" 2>/dev/null)" \
		-v chains="$(tr '\n' ' ' 2>/dev/null <"$d/chains")" '
	BEGIN {
		n = split(subnets, a, " "); for (i = 1; i <= n; i++) sub_[a[i]] = 1
		n = split(chains, a, " "); for (i = 1; i <= n; i++) own[a[i]] = 1
		shared["NETAVARK_FORWARD"] = shared["NETAVARK-HOSTPORT-DNAT"] = 1
		shared["NETAVARK-HOSTPORT-MASQ"] = shared["NETAVARK-HOSTPORT-SETMARK"] = 1
		busy = 0
	}
	function ours(   i) {
		if (net != "" && index($0, "dnat name: " net " id:")) return 1
		for (i = 2; i <= NF; i++)
			if (($i in sub_) || ($i in own)) return 1
		return 0
	}
	function target(   i) {
		for (i = 2; i < NF; i++) if ($i == "-j" || $i == "-g") return $(i + 1)
		return ""
	}
	function flush_table(   i) {
		if (nd + nx == 0) return
		out = out tbl "\n"
		for (i = 1; i <= nd; i++) { l = del[i]; sub(/^-A/, "-D", l); out = out l "\n" }
		for (i = 1; i <= nx; i++) out = out "-F " xs[i] "\n-X " xs[i] "\n"
		out = out "COMMIT\n"
	}
	/^\*/ { tbl = $0; nd = nx = 0; next }
	/^:/ {
		c = substr($1, 2)
		if (what == "ours" && (c in own)) xs[++nx] = c
		if (what == "shared" && c ~ /^NETAVARK/) {
			xs[++nx] = c
			if (!(c in shared)) busy = 1
		}
		if (what == "left" && (c in own)) print
		next
	}
	/^-A / {
		if (what == "ours-chains") {
			t = target()
			if (ours() && t ~ /^NETAVARK-/ && t !~ /^NETAVARK-HOSTPORT-/ && !(t in seen)) {
				seen[t] = 1; print t
			}
		} else if (what == "ours") {
			if (ours()) del[++nd] = $0
		} else if (what == "shared") {
			if ($2 == "NETAVARK_FORWARD" || $2 == "NETAVARK-HOSTPORT-DNAT") busy = 1
			if ($2 ~ /^NETAVARK/ || target() ~ /^NETAVARK/) del[++nd] = $0
		} else if (what == "left") {
			if (ours()) print
		}
		next
	}
	/^COMMIT/ { if (what == "ours" || what == "shared") flush_table(); next }
	END { if (!busy) printf "%s", out }'
}

# container_wait_gone "PID STARTTIME" SECONDS: poll until that process is gone;
# returns 1 if it is still there after SECONDS.
container_wait_gone()
{
	local pid=${1% *} start=${1#* } i
	[ -n "$pid" ] && [ -n "$start" ] && [ "$pid" != "$start" ] || return 0
	for ((i = 0; i < $2 * 10; i++)); do
		[ "$(e2e_starttime "$pid")" = "$start" ] || return 0
		sleep 0.1
	done
	return 1
}

# Undo what publishing ports did: this run's leftover rules, netavark's
# shared chains when they were not there before and nothing else uses them,
# and ip_forward. Returns 1 when something of this run is left.
container_netavark_cleanup()
{
	local d=$E2E_TMP/netavark v script left=0 cur want others=0 pats=() p
	local aard=/run/containers/networks/aardvark-dns net i
	[ -f "$d/network" ] || [ -f "$d/ip_forward" ] || return 0
	net=$(cat "$d/network" 2>/dev/null)
	if [ -n "$net" ] && podman network exists "$net" >/dev/null 2>&1; then
		e2e_log "cleanup: podman network $net is still there"
		left=1
	fi
	# netavark's DNS server (aardvark-dns) for the project network stops
	# by itself a moment after the network's last container has gone.
	if [ -n "$net" ] && [ -f "$aard/aardvark.pid" ]; then
		p=$(cat "$aard/aardvark.pid")
		p="$p $(e2e_starttime "$p")"
		for ((i = 0; i < 200; i++)); do
			[ -e "$aard/$net" ] || break
			sleep 0.1
		done
		# Other networks' files there: aardvark-dns stays for them,
		# and such a network is active (see ip_forward below).
		others=0
		for i in "$aard"/*; do
			[ "$i" = "$aard/aardvark.pid" ] || [ ! -e "$i" ] || others=1
		done
		if [ "$others" = 0 ] && ! container_wait_gone "$p" 20; then
			e2e_log "cleanup: aardvark-dns (PID ${p% *}) still runs 20 s after the network went"
			left=1
		fi
	fi
	for v in ip ip6; do
		command -v "${v}tables-save" >/dev/null 2>&1 || continue
		script=$("${v}tables-save" 2>/dev/null | container_netavark_awk ours "$d")
		if [ -n "$script" ]; then
			e2e_log "cleanup: removing netavark's leftover ${v}tables rules of $(cat "$d/network")"
			printf '%s\n' "$script" | "${v}tables-restore" --noflush ||
				e2e_log "cleanup: ${v}tables-restore failed"
		fi
		if [ "$(cat "$d/shared-$v" 2>/dev/null)" = 0 ] &&
		   "${v}tables-save" 2>/dev/null | grep -q '^:NETAVARK'; then
			script=$("${v}tables-save" 2>/dev/null | container_netavark_awk shared "$d")
			if [ -n "$script" ]; then
				e2e_log "cleanup: removing netavark's shared ${v}tables chains (not there before this run)"
				printf '%s\n' "$script" | "${v}tables-restore" --noflush ||
					e2e_log "cleanup: ${v}tables-restore failed on netavark's shared chains"
			else
				others=1
				e2e_log "cleanup: another podman network uses netavark's ${v}tables chains: left in place"
			fi
		fi
		script=$("${v}tables-save" 2>/dev/null | container_netavark_awk left "$d")
		if [ -n "$script" ]; then
			e2e_log "cleanup: ${v}tables rules of this run are left:"
			printf '%s\n' "$script" >&2
			left=1
		fi
		if [ "$(cat "$d/shared-$v" 2>/dev/null)" = 0 ] && [ "$others" = 0 ] &&
		   "${v}tables-save" 2>/dev/null | grep -q NETAVARK; then
			e2e_log "cleanup: netavark's ${v}tables chains are left:"
			"${v}tables-save" | grep NETAVARK >&2
			left=1
		fi
	done
	# Same check through nft, when iptables is its nf_tables front end or
	# a newer netavark uses nftables itself.
	# shellcheck disable=SC2013 # names and subnets, one word each
	for p in $(cat "$d/network" "$d/chains" "$d/subnets" 2>/dev/null); do
		pats+=(-e "$p")
	done
	if command -v nft >/dev/null 2>&1 && [ "${#pats[@]}" -gt 0 ]; then
		script=$(nft list ruleset 2>/dev/null | grep -F "${pats[@]}")
		if [ -n "$script" ]; then
			e2e_log "cleanup: nft ruleset still names this run's network:"
			printf '%s\n' "$script" >&2
			left=1
		fi
	fi
	# ip_forward: back to what it was, unless another podman network
	# (which may need it) is still active.
	for v in ip_forward:net.ipv4.ip_forward ipv6_forwarding:net.ipv6.conf.all.forwarding; do
		[ -f "$d/${v%%:*}" ] || continue
		want=$(cat "$d/${v%%:*}")
		cur=$(sysctl -n "${v#*:}" 2>/dev/null)
		[ "$cur" = "$want" ] && continue
		if [ "$others" = 1 ]; then
			e2e_log "cleanup: ${v#*:} left at $cur (was $want): another podman network is active"
		elif sysctl -q -w "${v#*:}=$want" >/dev/null; then
			e2e_log "cleanup: restored ${v#*:}=$want (netavark had set $cur)"
		else
			e2e_log "cleanup: cannot restore ${v#*:}=$want"
			left=1
		fi
	done
	rm -rf "$d"
	[ "$left" = 0 ]
}

# container_remove COMPOSE_FN: remove this run's container ($E2E_ID) and, when
# it was started with "COMPOSE_FN up", the project's network ("COMPOSE_FN
# down") and what netavark left; returns 1 when something of this run could
# not be removed.
container_remove()
{
	local compose_fn=$1 rc=0 conmon=
	E2E_ENGINE=${E2E_ENGINE:-podman}
	# podman's conmon outlives "rm" by a moment (it runs podman's cleanup
	# command): wait for it below so that nothing of this run is left.
	if [ "$E2E_ENGINE" = podman ]; then
		conmon=$(podman container inspect -f '{{.State.ConmonPid}}' "$E2E_ID" 2>/dev/null)
		if [ "${conmon:-0}" -gt 0 ] 2>/dev/null; then
			conmon="$conmon $(e2e_starttime "$conmon")"
		else
			conmon=
		fi
	fi
	if [ -f "$E2E_TMP/compose" ]; then
		"$compose_fn" down -t 5 >>"$E2E_TMP/compose-down.log" 2>&1
	fi
	"$E2E_ENGINE" rm -f -t 5 "$E2E_ID" >/dev/null 2>&1 ||
		"$E2E_ENGINE" rm -f "$E2E_ID" >/dev/null 2>&1
	if [ -f "$E2E_TMP/compose" ]; then
		# "compose down" leaves the project's default network behind.
		"$E2E_ENGINE" network rm "${E2E_ID}_default" >/dev/null 2>&1
		rm -f "$E2E_TMP/compose"
	fi
	if [ "$E2E_ENGINE" = podman ]; then
		if ! container_wait_gone "$conmon" 20; then
			e2e_log "cleanup: conmon (PID ${conmon% *}) of $E2E_ID still runs 20 s after 'rm'"
			rc=1
		fi
		container_netavark_cleanup || rc=1
	fi
	return "$rc"
}
