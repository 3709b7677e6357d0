#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/e2e/deploy.sh: deploy/compose.yml end to end with one engine: build the image, up, a request with ope-client, health, down, nothing left.
#
# Usage: deploy.sh podman|docker   (tests/e2e/deploy.test runs both)
# It uses deploy/Containerfile, deploy/compose.yml, deploy/prosody.cfg.lua and
# deploy/ope-component.conf exactly as shipped; only the variables compose.yml
# documents are set (images, the c2s port, the secret file, the certificates).
# Images (each cached in the engine between runs):
#   OPE_E2E_BASE_IMAGE     Debian 12 base of the ope image (default
#                          debian:bookworm-slim when the engine has or can
#                          pull it, else localhost/ope-debian-CODENAME built
#                          with debootstrap)
#   OPE_E2E_PROSODY_IMAGE  as for the other e2e tests (prosody.sh)
#   OPE_E2E_IMAGE_CACHE=0  remove the images this run built at the end
#                          (localhost/ope-component:e2e and its build stage,
#                          localhost/ope-component-build:e2e); by default
#                          they stay as the next run's layer cache
# Prints "ok N - name" / "not ok N - name" and "N passed, M failed".

set -u
# shellcheck source=tests/e2e/lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

DEPLOY_DIR=$(cd "$E2E_SRC/../../deploy" && pwd)
DEPLOY_USER_DOMAIN=example.org
DEPLOY_COMPONENT=ope.example.org
DEPLOY_IMAGE=localhost/ope-component:e2e
DEPLOY_BUILD_IMAGE=localhost/ope-component-build:e2e
# The ope user's UID in deploy/Containerfile.
DEPLOY_OPE_UID=10001

# Seconds since $1 (date +%s), for the timing lines.
since()
{
	echo $(($(date +%s) - $1))
}

# The compose tool for the engine (words on stdout).
deploy_compose_cmd()
{
	if [ "$E2E_ENGINE" = podman ]; then
		command -v podman-compose >/dev/null 2>&1 && { echo podman-compose; return 0; }
		echo "podman-compose is not installed (tests/deps.sh installs it)" >&2
		return 1
	fi
	if docker compose version >/dev/null 2>&1; then
		echo docker compose
	elif command -v docker-compose >/dev/null 2>&1; then
		echo docker-compose
	else
		echo "neither 'docker compose' nor docker-compose is installed" \
			"(tests/deps.sh installs Debian's docker-compose)" >&2
		return 1
	fi
}

# deploy_compose ARGS...: the compose tool on deploy/compose.yml for this
# run's project, with only the variables compose.yml documents.
deploy_compose()
{
	local compose
	compose=$(cat "$E2E_TMP/deploy-compose")
	# shellcheck disable=SC2086 # "docker compose" is two words
	OPE_IMAGE=$DEPLOY_IMAGE \
	BASE_IMAGE=$DEPLOY_BASE_IMAGE \
	PROSODY_IMAGE=$E2E_PROSODY_IMAGE \
	OPE_C2S_PORT=$E2E_C2S_PORT \
	OPE_SECRET_FILE=$E2E_TMP/deploy/secrets/component_secret \
	OPE_CERTS=$E2E_TMP/deploy/certs \
		$compose -p "$E2E_ID" -f "$DEPLOY_DIR/compose.yml" "$@"
}

# The base image for the ope image; sets DEPLOY_BASE_IMAGE.
deploy_base_image()
{
	local img=${OPE_E2E_BASE_IMAGE:-docker.io/library/debian:bookworm-slim}
	if "$E2E_ENGINE" image inspect "$img" >/dev/null 2>&1 ||
	   timeout 300 "$E2E_ENGINE" pull "$img" >"$E2E_TMP/pull-base.log" 2>&1; then
		DEPLOY_BASE_IMAGE=$img
		return 0
	fi
	if [ -n "${OPE_E2E_BASE_IMAGE:-}" ]; then
		cat "$E2E_TMP/pull-base.log" >&2
		echo "cannot pull OPE_E2E_BASE_IMAGE=$img" >&2
		return 1
	fi
	. /etc/os-release
	img=localhost/ope-debian-${VERSION_CODENAME:-bookworm}
	e2e_log "cannot pull debian:bookworm-slim (no registry?): using $img"
	if ! "$E2E_ENGINE" image inspect "$img" >/dev/null 2>&1; then
		e2e_build_local_image "$img" "" || return 1
	fi
	DEPLOY_BASE_IMAGE=$img
}

# Build deploy/Containerfile from the source tree (the layer cache makes a
# rebuild after a code change cost only the compile).
deploy_build()
{
	local t0 args=()
	t0=$(date +%s)
	if [ "$E2E_ENGINE" = podman ]; then
		# HEALTHCHECK is kept only in the docker image format.
		args=(--format docker)
	fi
	# --network=host: the build's apt-get reaches the mirror without the
	# engine's NAT (and so without ip_forward). DOCKER_BUILDKIT=0: a newer
	# docker CLI on PATH would need the buildx plugin, which Debian's
	# docker.io does not have.
	# The build stage gets its own tag first: it holds that stage's layers
	# (the -dev packages) as the cache, so that pruning the untagged
	# build stages of earlier runs (label ope.stage=build: only ours)
	# keeps it. The second build takes that stage from the cache.
	if ! DOCKER_BUILDKIT=0 "$E2E_ENGINE" build "${args[@]}" --network=host \
		--build-arg BASE_IMAGE="$DEPLOY_BASE_IMAGE" --target build \
		-f "$DEPLOY_DIR/Containerfile" -t "$DEPLOY_BUILD_IMAGE" "$OPE_SRCDIR" \
		>"$E2E_TMP/build.log" 2>&1 ||
	   ! DOCKER_BUILDKIT=0 "$E2E_ENGINE" build "${args[@]}" --network=host \
		--build-arg BASE_IMAGE="$DEPLOY_BASE_IMAGE" \
		-f "$DEPLOY_DIR/Containerfile" -t "$DEPLOY_IMAGE" "$OPE_SRCDIR" \
		>>"$E2E_TMP/build.log" 2>&1; then
		tail -n 30 "$E2E_TMP/build.log" >&2
		echo "$E2E_ENGINE build of deploy/Containerfile failed (log above)" >&2
		return 1
	fi
	echo "$DEPLOY_IMAGE" >"$E2E_TMP/deploy-image"
	"$E2E_ENGINE" image prune -f --filter label=ope.stage=build >/dev/null 2>&1
	e2e_log "built $DEPLOY_IMAGE with $E2E_ENGINE in $(since "$t0") s" \
		"(base $DEPLOY_BASE_IMAGE)"
	note_timing "build $E2E_ENGINE" "$(since "$t0")"
}

note_timing()
{
	echo "# timing: $1: $2 s"
}

# The image runs as the unprivileged ope user and carries the health check.
deploy_image_ok()
{
	local user hc
	user=$("$E2E_ENGINE" image inspect -f '{{.Config.User}}' "$DEPLOY_IMAGE") || return 1
	hc=$("$E2E_ENGINE" image inspect -f '{{json .Config.Healthcheck}}' "$DEPLOY_IMAGE") || return 1
	case $user in
	"" | root | 0 | 0:* | root:*) echo "image user is '$user', not the ope user" >&2; return 1 ;;
	esac
	case $hc in
	*'"--health"'*) ;;
	*) echo "image has no HEALTHCHECK through ope-component --health: $hc" >&2; return 1 ;;
	esac
	[ "$("$E2E_ENGINE" run --rm --entrypoint id "$DEPLOY_IMAGE" -u)" = "$DEPLOY_OPE_UID" ]
}

# The project directory's inputs: the secret (readable by the ope UID only)
# and Prosody's certificate for the user domain.
deploy_inputs()
{
	local d=$E2E_TMP/deploy
	mkdir -p "$d/secrets" "$d/certs" || return 1
	openssl rand -hex 24 >"$d/secrets/component_secret" || return 1
	chown "$DEPLOY_OPE_UID:$DEPLOY_OPE_UID" "$d/secrets/component_secret" &&
		chmod 400 "$d/secrets/component_secret" || return 1
	if ! openssl req -x509 -newkey rsa:2048 -nodes -days 30 \
		-subj "/CN=$DEPLOY_USER_DOMAIN" \
		-addext "subjectAltName=DNS:$DEPLOY_USER_DOMAIN" \
		-keyout "$d/certs/$DEPLOY_USER_DOMAIN.key" \
		-out "$d/certs/$DEPLOY_USER_DOMAIN.crt" >"$d/openssl.txt" 2>&1; then
		cat "$d/openssl.txt" >&2
		return 1
	fi
	# A throwaway key: Prosody reads it as its own user in the container.
	chmod 755 "$d/certs" && chmod 644 "$d/certs"/*
}

# deploy_container SERVICE: the ID of the service's container.
deploy_container()
{
	"$E2E_ENGINE" ps -aq --filter "label=com.docker.compose.project=$E2E_ID" \
		--filter "label=com.docker.compose.service=$1" | head -n 1
}

deploy_up()
{
	local t0 d=$E2E_TMP/deploy
	t0=$(date +%s)
	echo "$E2E_ID" >"$E2E_TMP/deploy-project"
	[ "$E2E_ENGINE" = podman ] && container_netavark_before
	deploy_compose up -d >"$d/up.log" 2>&1
	local rc=$?
	[ "$E2E_ENGINE" = podman ] && container_netavark_note
	[ "$E2E_ENGINE" = docker ] && deploy_docker_note
	# podman-compose 1.0.3 exits 0 even when a "podman run" failed.
	if [ "$rc" != 0 ] || [ -z "$(deploy_container prosody)" ] ||
	   [ -z "$(deploy_container ope-component)" ]; then
		tail -n 30 "$d/up.log" >&2
		echo "compose up failed (log above)" >&2
		return 1
	fi
	if ! e2e_util wait-stream "$E2E_C2S_PORT" jabber:client "$DEPLOY_USER_DOMAIN" 30; then
		"$E2E_ENGINE" logs "$(deploy_container prosody)" 2>&1 | tail -n 30 >&2
		echo "Prosody did not answer on 127.0.0.1:$E2E_C2S_PORT (log above)" >&2
		return 1
	fi
	note_timing "compose up $E2E_ENGINE" "$(since "$t0")"
}

# deploy_logs_wait SERVICE TEXT SECONDS: wait for TEXT in the service's log.
deploy_logs_wait()
{
	local id i
	id=$(deploy_container "$1")
	for ((i = 0; i < $3 * 2; i++)); do
		"$E2E_ENGINE" logs "$id" 2>&1 | grep -qF -- "$2" && return 0
		sleep 0.5
	done
	"$E2E_ENGINE" logs "$id" 2>&1 | tail -n 20 >&2
	echo "no '$2' in the log of $1 within $3 s (above)" >&2
	return 1
}

deploy_register()
{
	"$E2E_ENGINE" exec -u prosody "$(deploy_container prosody)" \
		prosodyctl register alice "$DEPLOY_USER_DOMAIN" "$E2E_PASSWORD" \
		>"$E2E_TMP/register.log" 2>&1 ||
		{ cat "$E2E_TMP/register.log" >&2; return 1; }
}

# A request through Prosody's published port to the component and back.
deploy_request()
{
	local out=$E2E_TMP/deploy-client.out tag=deploy-$RANDOM
	if ! OPE_PASSWORD=$E2E_PASSWORD timeout 60 "$OPE_BUILDDIR/ope-client" \
		-j "alice@$DEPLOY_USER_DOMAIN/$1" -t "$DEPLOY_COMPONENT" \
		--host 127.0.0.1 --port "$E2E_C2S_PORT" \
		--cafile "$E2E_TMP/deploy/certs/$DEPLOY_USER_DOMAIN.crt" \
		--timeout 15 --data "$tag" --body "through compose" >"$out" 2>&1 3>&-; then
		sed 's/^/    client: /' "$out" >&2
		return 1
	fi
	e2e_util contains "$out" "$tag" ||
		{ sed 's/^/    client: /' "$out" >&2; return 1; }
}

# deploy_health_is WANT SECONDS: the engine's health check of the component
# reports WANT (healthy|unhealthy) within SECONDS. Docker runs the check
# itself; podman without systemd does not, so run it ("healthcheck run").
deploy_health_is()
{
	local want=$1 id end got
	id=$(deploy_container ope-component)
	end=$(($(date +%s) + $2))
	while [ "$(date +%s)" -lt "$end" ]; do
		if [ "$E2E_ENGINE" = docker ]; then
			got=$(docker inspect -f '{{.State.Health.Status}}' "$id")
		elif podman healthcheck run "$id" >/dev/null 2>&1; then
			got=healthy
		else
			got=unhealthy
		fi
		[ "$got" = "$want" ] && return 0
		sleep 1
	done
	echo "health of the ope-component container: '$got' after $2 s, expected $want" >&2
	return 1
}

# The engine's own check, and "ope-component --health" run in the container,
# follow the link: up, then down while Prosody is stopped, then up again.
deploy_health()
{
	local p
	p=$(deploy_container prosody)
	# Docker's first check runs one interval (10 s) after the start.
	deploy_health_is healthy 40 || return 1
	"$E2E_ENGINE" stop -t 5 "$p" >/dev/null || return 1
	deploy_exec_health 1 20 || return 1
	"$E2E_ENGINE" start "$p" >/dev/null || return 1
	# Up to reconnect.maximum (10 s: OPE_RECONNECT_MAXIMUM in compose.yml) for
	# ope's next attempt, plus the engine's own check interval; with podman
	# an attempt while Prosody was stopped can spend 40 s resolving its
	# name (aardvark-dns asks the upstream servers), blocking ope's loop.
	deploy_exec_health 0 90 || return 1
	deploy_health_is healthy 60
}

# deploy_exec_health RC SECONDS: "ope-component --health" in the container
# exits RC within SECONDS.
deploy_exec_health()
{
	local id end rc
	id=$(deploy_container ope-component)
	end=$(($(date +%s) + $2))
	while :; do
		"$E2E_ENGINE" exec "$id" ope-component --health \
			>"$E2E_TMP/health.out" 2>&1
		rc=$?
		[ "$rc" = "$1" ] && return 0
		[ "$(date +%s)" -ge "$end" ] && break
		sleep 1
	done
	sed 's/^/    --health: /' "$E2E_TMP/health.out" >&2
	"$E2E_ENGINE" logs "$id" 2>&1 | tail -n 15 | sed 's/^/    ope-component: /' >&2
	echo "ope-component --health exited $rc for $2 s, expected $1" >&2
	return 1
}

# Docker: the project network's bridge and subnet, to check that its
# firewall rules go with it.
deploy_docker_note()
{
	local net=${E2E_ID}_default
	docker network inspect -f '{{.Id}}' "$net" 2>/dev/null | cut -c1-12 |
		sed 's/^/br-/' >"$E2E_TMP/deploy-bridge"
	docker network inspect -f '{{range .IPAM.Config}}{{.Subnet}} {{end}}' "$net" \
		>"$E2E_TMP/deploy-subnets" 2>/dev/null
}

# Everything of this run is gone: containers, network, volume; firewall
# rules and interfaces of the network. Prints what is left.
deploy_nothing_left()
{
	local left=0 ids w
	ids=$("$E2E_ENGINE" ps -aq --filter "label=com.docker.compose.project=$E2E_ID")
	[ -n "$ids" ] && { echo "containers left: $ids" >&2; left=1; }
	if "$E2E_ENGINE" network inspect "${E2E_ID}_default" >/dev/null 2>&1; then
		echo "network ${E2E_ID}_default left" >&2
		left=1
	fi
	if "$E2E_ENGINE" volume inspect "${E2E_ID}_prosody-data" >/dev/null 2>&1; then
		echo "volume ${E2E_ID}_prosody-data left" >&2
		left=1
	fi
	if [ "$E2E_ENGINE" = docker ]; then
		# shellcheck disable=SC2013 # a bridge name and subnets, one word each
		for w in $(cat "$E2E_TMP/deploy-bridge" "$E2E_TMP/deploy-subnets" 2>/dev/null); do
			if iptables-save 2>/dev/null | grep -qF -- "$w"; then
				echo "iptables rules naming $w left:" >&2
				iptables-save | grep -F -- "$w" >&2
				left=1
			fi
			case $w in
			br-*) if ip link show "$w" >/dev/null 2>&1; then
				echo "interface $w left" >&2
				left=1
			      fi ;;
			esac
		done
	fi
	[ "$left" = 0 ]
}

# compose down, the network podman-compose leaves, and (podman) netavark's
# rules and ip_forward. Called by the test and again from e2e_cleanup.
deploy_down()
{
	local rc=0
	[ -f "$E2E_TMP/deploy-project" ] || return 0
	deploy_compose down -v -t 5 >>"$E2E_TMP/deploy/down.log" 2>&1 || rc=1
	# podman-compose 1.0.3 leaves the project's network behind.
	if [ "$E2E_ENGINE" = podman ] &&
	   podman network exists "${E2E_ID}_default" >/dev/null 2>&1; then
		podman network rm "${E2E_ID}_default" >/dev/null 2>&1 || rc=1
	fi
	if [ "$E2E_ENGINE" = podman ]; then
		container_netavark_cleanup || rc=1
	fi
	deploy_nothing_left || rc=1
	rm -f "$E2E_TMP/deploy-project"
	return "$rc"
}

# From e2e_cleanup (E2E_SERVER=deploy): whatever the test did not remove.
deploy_cleanup()
{
	local rc=0 id
	[ -f "$E2E_TMP/deploy-compose" ] || return 0
	if [ -f "$E2E_TMP/deploy-project" ]; then
		# By the labels this run's compose project set, nothing else.
		for id in $("$E2E_ENGINE" ps -aq \
			--filter "label=com.docker.compose.project=$E2E_ID"); do
			"$E2E_ENGINE" rm -f "$id" >/dev/null 2>&1
		done
		deploy_down || rc=1
	fi
	if [ -f "$E2E_TMP/deploy-image" ] && [ "${OPE_E2E_IMAGE_CACHE:-1}" = 0 ]; then
		"$E2E_ENGINE" rmi "$DEPLOY_IMAGE" "$DEPLOY_BUILD_IMAGE" >/dev/null 2>&1 || rc=1
		"$E2E_ENGINE" image prune -f --filter label=ope.stage=build >/dev/null 2>&1
		rm -f "$E2E_TMP/deploy-image"
	fi
	return "$rc"
}

main()
{
	local engine=${1:-} t0
	case $engine in
	podman | docker) ;;
	*) echo "usage: deploy.sh podman|docker" >&2; exit 2 ;;
	esac
	OPE_E2E_ENGINE=$engine
	OPE_E2E_SERVER=deploy
	export OPE_E2E_ENGINE OPE_E2E_SERVER
	t0=$(date +%s)
	e2e_init || { echo "not ok 1 - $engine: test setup"; echo "0 passed, 1 failed"; exit 1; }
	echo "# deploy/compose.yml with $engine"
	# shellcheck disable=SC2016 # eval expands it, in this shell
	if ! tap_check "$engine: engine answers" e2e_engine ||
	   ! tap_check "$engine: compose tool" eval 'deploy_compose_cmd >"$E2E_TMP/deploy-compose"'; then
		echo "$passed passed, $failed failed"
		exit 1
	fi
	if tap_check "$engine: base and Prosody images" eval 'deploy_base_image && prosody_image' &&
	   tap_check "$engine: build deploy/Containerfile" deploy_build &&
	   tap_check "$engine: image runs as the ope user, HEALTHCHECK uses --health" deploy_image_ok &&
	   tap_check "$engine: compose up (secret file, ports on 127.0.0.1)" eval 'deploy_inputs && deploy_up' &&
	   tap_check "$engine: ope-component connects to Prosody" \
		deploy_logs_wait ope-component "connected to prosody:5347 as $DEPLOY_COMPONENT" 30 &&
	   tap_check "$engine: register a user" deploy_register; then
		tap_check "$engine: ope-client request through the published port" deploy_request alice1
		tap_check "$engine: health follows the link (up, Prosody stopped, up)" deploy_health &&
			tap_check "$engine: request after Prosody's restart" deploy_request alice2
	fi
	tap_check "$engine: compose down leaves nothing (containers, network, volume, rules)" deploy_down
	note_timing "deploy.sh $engine" "$(since "$t0")"
	echo "$passed passed, $failed failed"
	[ "$failed" = 0 ]
}

main "$@"
