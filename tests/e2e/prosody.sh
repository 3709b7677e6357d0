# SPDX-License-Identifier: MIT
# tests/e2e/prosody.sh: start/stop a throwaway Prosody, in a container (podman/docker) or natively (Debian package).
# shellcheck shell=bash
#
# Sourced by lib.sh. Container mode runs the image with --network=host and a
# config that names loopback ports only, so no port is published and no
# iptables rule or ip_forward change is made. With podman-compose (podman)
# or "docker compose" (docker) available, tests/e2e/compose.yml starts it;
# otherwise a plain "run" does, and the log says which.

E2E_PROSODY_DEFAULT_IMAGE=docker.io/prosody/prosody

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
		echo "# written by tests/e2e/prosody.sh"
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

# Resolve OPE_E2E_PROSODY into E2E_PROSODY_MODE (container or native).
prosody_mode()
{
	case ${OPE_E2E_PROSODY:-auto} in
	container | native) E2E_PROSODY_MODE=$OPE_E2E_PROSODY ;;
	auto) if e2e_engine; then E2E_PROSODY_MODE=container
	      else E2E_PROSODY_MODE=native; fi ;;
	*) echo "OPE_E2E_PROSODY=$OPE_E2E_PROSODY: use container, native or auto" >&2
	   return 1 ;;
	esac
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

# Build localhost/ope-prosody-CODENAME from this machine's distribution with
# debootstrap and import it; reused when it already exists.
e2e_build_local_image()
{
	local img=$1 codename mirror rootfs comps=main
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
		--include=prosody,lua-bitop,lua-sec,lua-socket,ca-certificates \
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

# Make the Prosody image available; sets E2E_PROSODY_IMAGE.
prosody_image()
{
	local img
	if [ -n "${OPE_E2E_PROSODY_IMAGE:-}" ]; then
		img=$OPE_E2E_PROSODY_IMAGE
		if ! "$E2E_ENGINE" image inspect "$img" >/dev/null 2>&1 &&
		   ! timeout 300 "$E2E_ENGINE" pull "$img" >"$E2E_TMP/pull.log" 2>&1; then
			cat "$E2E_TMP/pull.log" >&2
			echo "cannot pull OPE_E2E_PROSODY_IMAGE=$img" >&2
			return 1
		fi
	else
		img=$E2E_PROSODY_DEFAULT_IMAGE
		if ! "$E2E_ENGINE" image inspect "$img" >/dev/null 2>&1 &&
		   ! timeout 300 "$E2E_ENGINE" pull "$img" >"$E2E_TMP/pull.log" 2>&1; then
			. /etc/os-release
			img=localhost/ope-prosody-${VERSION_CODENAME:-bookworm}
			e2e_log "cannot pull $E2E_PROSODY_DEFAULT_IMAGE (no registry?): using $img"
			if ! "$E2E_ENGINE" image inspect "$img" >/dev/null 2>&1; then
				e2e_build_local_image "$img" || return 1
			fi
		fi
	fi
	E2E_PROSODY_IMAGE=$img
	export E2E_PROSODY_IMAGE
}

# Write the server config for MODE (container paths differ from native ones).
prosody_write_config()
{
	local mode=$1 d=$E2E_TMP/prosody certs extra
	mkdir -p "$d/data" && chmod 755 "$d"
	if [ "$mode" = container ]; then
		certs=/etc/prosody/ope-certs
		extra=""
	else
		certs=$E2E_TMP/certs
		extra="data_path = \"$d/data\"
pidfile = \"$d/prosody.pid\""
	fi
	cat >"$d/prosody.cfg.lua" <<EOF
-- Prosody config written by tests/e2e/prosody.sh for one test run.
-- Tests (and the container's entrypoint) may run as root.
run_as_root = true
$extra
daemonize = false
admins = { }
modules_enabled = { "roster"; "saslauth"; "tls"; "disco"; "ping"; "posix"; }
modules_disabled = { "s2s"; }
-- Only the loopback ports this run picked: safe with --network=host.
interfaces = { "127.0.0.1" }
c2s_ports = { $E2E_C2S_PORT }
c2s_interfaces = { "127.0.0.1" }
s2s_ports = { }
legacy_ssl_ports = { }
component_ports = { $E2E_COMP_PORT }
component_interfaces = { "127.0.0.1" }
-- Test clients may log in without TLS; TLS uses the run's self-signed cert.
c2s_require_encryption = false
allow_unencrypted_plain_auth = true
authentication = "internal_plain"
-- mod_limits is not loaded; should it be, don't throttle test traffic.
limits = {
	c2s = { rate = "100mb/s"; burst = "10s"; };
	component = { rate = "100mb/s"; burst = "10s"; };
}
c2s_stanza_size_limit = 1048576
log = { { levels = { min = "info" }, to = "console" } }
certificates = "$certs"

VirtualHost "localhost"
	ssl = {
		certificate = "$certs/localhost.crt";
		key = "$certs/localhost.key";
	}

Component "$E2E_COMPONENT"
	component_secret = "$E2E_SECRET"
EOF
	chmod 644 "$d/prosody.cfg.lua"
}

prosody_start()
{
	prosody_mode || return 1
	export E2E_PROSODY_MODE
	echo "$E2E_PROSODY_MODE" >"$E2E_TMP/prosody-mode"
	prosody_write_config "$E2E_PROSODY_MODE"
	if [ "$E2E_PROSODY_MODE" = container ]; then
		prosody_container_start
	else
		prosody_native_start
	fi
}

prosody_native_start()
{
	local d=$E2E_TMP/prosody pid
	if ! command -v prosody >/dev/null 2>&1; then
		echo "cannot start Prosody: install the prosody package" \
			"(or podman + runc + debootstrap for OPE_E2E_PROSODY=container)" >&2
		return 1
	fi
	prosody --config "$d/prosody.cfg.lua" -F >>"$d/prosody.log" 2>&1 3>&- &
	pid=$!
	echo "$pid" >"$d/server.pid"
	e2e_track "$pid"
	if ! e2e_server_answers 20; then
		tail -n 30 "$d/prosody.log" >&2
		echo "native Prosody did not come up (log above)" >&2
		return 1
	fi
}

# Compose tool for the engine, if any (prints the command words).
prosody_compose_cmd()
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

# Run the compose tool on tests/e2e/compose.yml for this run's project.
prosody_compose()
{
	local compose
	compose=$(cat "$E2E_TMP/compose")
	OPE_E2E_PROSODY_IMAGE=${E2E_PROSODY_IMAGE:-unused} \
	OPE_E2E_CONTAINER=$E2E_ID \
	OPE_E2E_PROSODY_CONFIG=$E2E_TMP/prosody/prosody.cfg.lua \
	OPE_E2E_CERTDIR=$E2E_TMP/certs \
		$compose -p "$E2E_ID" -f "$E2E_SRC/compose.yml" "$@"
}

prosody_container_running()
{
	[ "$("$E2E_ENGINE" container inspect -f '{{.State.Running}}' "$E2E_ID" 2>/dev/null)" = true ]
}

prosody_container_start()
{
	local d=$E2E_TMP/prosody compose
	if ! e2e_engine; then
		echo "OPE_E2E_PROSODY=container but neither podman nor docker works:" \
			"install podman, runc and debootstrap (or run a Docker engine)" >&2
		return 1
	fi
	prosody_image || return 1
	echo "$E2E_ID" >"$E2E_TMP/container"
	if compose=$(prosody_compose_cmd); then
		echo "$compose" >"$E2E_TMP/compose"
		e2e_log "starting $E2E_PROSODY_IMAGE as $E2E_ID with $compose (tests/e2e/compose.yml)"
		prosody_compose up -d >"$d/compose.log" 2>&1
		# podman-compose exits 0 even when its "podman run" failed:
		# check the container. podman-compose 1.0.3 (Debian 12) adds
		# "--net" to a network_mode: host service, which podman refuses.
		if ! prosody_container_running; then
			e2e_log "$compose up failed: $(grep -m1 '^Error' "$d/compose.log")"
			e2e_log "falling back to '$E2E_ENGINE run' (see $d/compose.log)"
			prosody_cleanup
			echo "$E2E_ID" >"$E2E_TMP/container"
			compose=
		fi
	else
		e2e_log "no compose tool found (podman-compose / docker compose)"
	fi
	if [ -z "$compose" ]; then
		e2e_log "starting $E2E_PROSODY_IMAGE as $E2E_ID with '$E2E_ENGINE run --network=host'"
		if ! "$E2E_ENGINE" run -d --name "$E2E_ID" --network=host \
			-v "$d/prosody.cfg.lua:/etc/prosody/prosody.cfg.lua:ro" \
			-v "$E2E_TMP/certs:/etc/prosody/ope-certs:ro" \
			"$E2E_PROSODY_IMAGE" prosody -F >"$d/run.log" 2>&1; then
			cat "$d/run.log" >&2
			echo "$E2E_ENGINE run failed (log above)" >&2
			return 1
		fi
	fi
	if ! e2e_server_answers 30; then
		"$E2E_ENGINE" logs "$E2E_ID" 2>&1 | tail -n 30 >&2
		echo "Prosody in container $E2E_ID did not come up (log above)" >&2
		return 1
	fi
}

prosody_stop()
{
	if [ "$E2E_PROSODY_MODE" = container ]; then
		"$E2E_ENGINE" stop -t 5 "$E2E_ID" >/dev/null 2>&1
	else
		[ -f "$E2E_TMP/prosody/server.pid" ] &&
			e2e_kill "$(cat "$E2E_TMP/prosody/server.pid")"
	fi
}

prosody_resume()
{
	if [ "$E2E_PROSODY_MODE" = container ]; then
		"$E2E_ENGINE" start "$E2E_ID" >/dev/null 2>&1 || return 1
		e2e_server_answers 30
	else
		prosody_native_start
	fi
}

prosody_register()
{
	local user=$1 pw=$2
	if [ "$E2E_PROSODY_MODE" = container ]; then
		# As the data directory's owner, so that the server can read
		# the account whether it runs as root or drops to "prosody".
		local owner
		owner=$("$E2E_ENGINE" exec "$E2E_ID" stat -c %u /var/lib/prosody) || return 1
		"$E2E_ENGINE" exec --user "$owner" "$E2E_ID" \
			prosodyctl register "$user" "$E2E_HOST" "$pw"
	else
		prosodyctl --config "$E2E_TMP/prosody/prosody.cfg.lua" \
			register "$user" "$E2E_HOST" "$pw"
	fi
}

prosody_cleanup()
{
	[ -f "$E2E_TMP/container" ] || return 0
	E2E_ENGINE=${E2E_ENGINE:-podman}
	if [ -f "$E2E_TMP/compose" ]; then
		prosody_compose down -t 5 >/dev/null 2>&1
		rm -f "$E2E_TMP/compose"
	fi
	"$E2E_ENGINE" rm -f -t 5 "$E2E_ID" >/dev/null 2>&1 ||
		"$E2E_ENGINE" rm -f "$E2E_ID" >/dev/null 2>&1
	# "compose down" leaves the project's default network behind.
	"$E2E_ENGINE" network rm "${E2E_ID}_default" >/dev/null 2>&1
	rm -f "$E2E_TMP/container"
	return 0
}

prosody_describe()
{
	if [ "$E2E_PROSODY_MODE" = container ]; then
		echo "Prosody in a container ($E2E_ENGINE, image $E2E_PROSODY_IMAGE, --network=host)"
	else
		echo "Prosody, native ($(command -v prosody))"
	fi
}

prosody_log_tail()
{
	if [ "$E2E_PROSODY_MODE" = container ]; then
		"$E2E_ENGINE" logs "$E2E_ID" 2>&1 | tail -n 30
	else
		tail -n 30 "$E2E_TMP/prosody/prosody.log"
	fi
}
