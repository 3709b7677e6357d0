# SPDX-License-Identifier: MIT
# tests/e2e/prosody.sh: start/stop a throwaway Prosody, in a container (podman/docker) or natively (Debian package).
# shellcheck shell=bash
#
# Reads as: start Prosody, wait until it answers, stop it. The container
# engine, the image build, compose and the clean-up of what containers
# leave (netavark's rules, ip_forward) are in container.sh.
#
# Sourced by lib.sh. Container mode has two paths, and the log says which:
#  - a compose tool (podman-compose with podman, "docker compose" with
#    docker) starts tests/e2e/compose.yml: the project's default bridge
#    network, Prosody listening on all interfaces on its standard ports
#    inside, published on 127.0.0.1 at this run's ports. With podman,
#    publishing makes netavark add iptables rules and switch on
#    net.ipv4.ip_forward: cleanup removes the project's network, restores
#    ip_forward and checks that no rule of this run is left (the run fails
#    otherwise);
#  - without a compose tool (or with OPE_E2E_COMPOSE=0), a plain
#    "run --network=host" with a config naming this run's loopback ports:
#    nothing is published, no rule or sysctl changes.
# A compose tool that is there but fails fails the run (no silent fallback).

E2E_PROSODY_DEFAULT_IMAGE=docker.io/prosody/prosody
# What a local image needs (debootstrap does not resolve the virtual Lua
# dependencies, hence the explicit names).
E2E_PROSODY_PACKAGES=prosody,lua-bitop,lua-sec,lua-socket,ca-certificates

# shellcheck source=tests/e2e/container.sh
. "$E2E_SRC/container.sh"

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
				e2e_build_local_image "$img" "$E2E_PROSODY_PACKAGES" || return 1
			fi
		fi
	fi
	E2E_PROSODY_IMAGE=$img
	export E2E_PROSODY_IMAGE
}

# prosody_write_config MODE NET: the server config for MODE (container or
# native: paths differ) on NET: "host" (native, or a container on the host
# network) listens on this run's loopback ports only; "bridge" (compose)
# listens on all of the container's interfaces on the standard ports 5222
# and 5347, which compose.yml publishes on the host's 127.0.0.1.
# PROSODY_COMPONENT_EXTRA (config lines) ends the Component section; Prosody
# finds modules a test copies into $E2E_TMP/prosody/plugins.
prosody_write_config()
{
	local mode=$1 net=$2 d=$E2E_TMP/prosody certs extra listen plugins
	local ifs='"127.0.0.1"' c2s=$E2E_C2S_PORT comp=$E2E_COMP_PORT
	mkdir -p "$d/data" "$d/plugins" && chmod 755 "$d" "$d/plugins"
	if [ "$mode" = container ]; then
		certs=/etc/prosody/ope-certs
		plugins=/etc/prosody/ope-plugins
		extra=""
	else
		certs=$E2E_TMP/certs
		plugins=$d/plugins
		extra="data_path = \"$d/data\"
pidfile = \"$d/prosody.pid\""
	fi
	if [ "$net" = bridge ]; then
		ifs='"*"'
		c2s=5222
		comp=5347
		listen="-- Bridge network: all of the container's interfaces, standard ports;
-- compose.yml publishes them on the host's 127.0.0.1 only."
	else
		listen="-- Host network: only the loopback ports this run picked."
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
$listen
interfaces = { $ifs }
c2s_ports = { $c2s }
c2s_interfaces = { $ifs }
s2s_ports = { }
legacy_ssl_ports = { }
component_ports = { $comp }
component_interfaces = { $ifs }
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
-- Modules a test puts in \$E2E_TMP/prosody/plugins (contrib/prosody).
plugin_paths = { "$plugins" }

VirtualHost "localhost"
	ssl = {
		certificate = "$certs/localhost.crt";
		key = "$certs/localhost.key";
	}

Component "$E2E_COMPONENT"
	component_secret = "$E2E_SECRET"
${PROSODY_COMPONENT_EXTRA:-}
EOF
	chmod 644 "$d/prosody.cfg.lua"
}

prosody_start()
{
	prosody_mode || return 1
	export E2E_PROSODY_MODE
	echo "$E2E_PROSODY_MODE" >"$E2E_TMP/prosody-mode"
	if [ "$E2E_PROSODY_MODE" = container ]; then
		prosody_container_start
	else
		prosody_write_config native host && prosody_native_start
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

# Run the compose tool on tests/e2e/compose.yml for this run's project.
prosody_compose()
{
	local compose
	compose=$(cat "$E2E_TMP/compose")
	OPE_E2E_PROSODY_IMAGE=${E2E_PROSODY_IMAGE:-unused} \
	OPE_E2E_CONTAINER=$E2E_ID \
	OPE_E2E_PROSODY_CONFIG=$E2E_TMP/prosody/prosody.cfg.lua \
	OPE_E2E_CERTDIR=$E2E_TMP/certs \
	OPE_E2E_PLUGINDIR=$E2E_TMP/prosody/plugins \
	OPE_E2E_C2S_PORT=$E2E_C2S_PORT \
	OPE_E2E_COMPONENT_PORT=$E2E_COMP_PORT \
		$compose -p "$E2E_ID" -f "$E2E_SRC/compose.yml" "$@"
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
	if compose=$(container_compose_cmd); then
		E2E_PROSODY_NET=bridge
		echo "$compose" >"$E2E_TMP/compose"
		prosody_write_config container bridge || return 1
		[ "$E2E_ENGINE" = podman ] && container_netavark_before
		e2e_log "starting $E2E_PROSODY_IMAGE as $E2E_ID with $compose" \
			"(tests/e2e/compose.yml: bridge network, ports published on 127.0.0.1)"
		prosody_compose up -d >"$d/compose.log" 2>&1
		# podman-compose 1.0.3 exits 0 even when its "podman run"
		# failed: check the container.
		[ "$E2E_ENGINE" = podman ] && container_netavark_note
		if ! container_running "$E2E_ID"; then
			tail -n 20 "$d/compose.log" >&2
			echo "$compose up failed (log above, in $d/compose.log);" \
				"OPE_E2E_COMPOSE=0 runs '$E2E_ENGINE run --network=host' instead" >&2
			return 1
		fi
	else
		E2E_PROSODY_NET=host
		if [ "${OPE_E2E_COMPOSE:-1}" = 0 ]; then
			e2e_log "OPE_E2E_COMPOSE=0: not using a compose tool"
		else
			e2e_log "no compose tool found (podman-compose / docker compose)"
		fi
		prosody_write_config container host || return 1
		e2e_log "starting $E2E_PROSODY_IMAGE as $E2E_ID with '$E2E_ENGINE run --network=host'"
		if ! "$E2E_ENGINE" run -d --name "$E2E_ID" --network=host \
			-v "$d/prosody.cfg.lua:/etc/prosody/prosody.cfg.lua:ro" \
			-v "$E2E_TMP/certs:/etc/prosody/ope-certs:ro" \
			-v "$d/plugins:/etc/prosody/ope-plugins:ro" \
			"$E2E_PROSODY_IMAGE" prosody -F >"$d/run.log" 2>&1; then
			cat "$d/run.log" >&2
			echo "$E2E_ENGINE run failed (log above)" >&2
			return 1
		fi
	fi
	export E2E_PROSODY_NET
	# A published port accepts TCP before Prosody is up: wait for
	# Prosody's own stream header on both ports.
	if ! e2e_server_answers 30; then
		"$E2E_ENGINE" logs "$E2E_ID" 2>&1 | tail -n 30 >&2
		echo "Prosody in container $E2E_ID did not come up (log above)" >&2
		return 1
	fi
}

# Stop the server, keeping the container (and, on the bridge network, its
# port mappings) for prosody_resume.
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

# Remove the container and what it left; returns 1 when something of this
# run could not be removed.
prosody_cleanup()
{
	local rc=0
	[ -f "$E2E_TMP/container" ] || return 0
	container_remove prosody_compose || rc=1
	rm -f "$E2E_TMP/container"
	return "$rc"
}

prosody_describe()
{
	if [ "$E2E_PROSODY_MODE" != container ]; then
		echo "Prosody, native ($(command -v prosody))"
	elif [ "${E2E_PROSODY_NET:-}" = bridge ]; then
		echo "Prosody in a container ($(cat "$E2E_TMP/compose" 2>/dev/null || echo compose)," \
			"bridge network, ports published on 127.0.0.1; image $E2E_PROSODY_IMAGE)"
	else
		echo "Prosody in a container ($E2E_ENGINE run --network=host; image $E2E_PROSODY_IMAGE)"
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
