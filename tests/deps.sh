#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/deps.sh: install what building and testing ope needs on Debian 12 or Ubuntu (idempotent; as root or with sudo).
#
# Installs only what is missing (one apt-get update first). The tests run
# their own Prosody and ejabberd instances, so services the install itself
# would start are kept from starting (policy-rc.d during the install) and,
# should one be running anyway, stopped and disabled. ejabberd's postinst
# runs ejabberdctl, whose Erlang node starts epmd (listening on every
# address, port 4369) past policy-rc.d: an epmd that was not running before
# the install is stopped, by PID. Services and epmds that were already
# running before are left alone.
set -eu

PKGS="build-essential autoconf automake libtool pkg-config libstrophe-dev
libssl-dev libconfig-dev libcrypt-dev libcunit1-dev libexpat1-dev libidn-dev python3 python3-slixmpp openssl
clang libclang-rt-14-dev
prosody ejabberd podman runc debootstrap podman-compose valgrind
libmicrohttpd-dev prometheus gnuplot-nox libsystemd-dev systemd mandoc debhelper lintian
docker.io docker-compose iptables iproute2"
# Stopped in this order; epmd's are systemd units (erlang-base).
SERVICES="prosody ejabberd prometheus docker containerd epmd.socket epmd"

if [ "$(id -u)" = 0 ]; then
	SUDO=
elif command -v sudo >/dev/null 2>&1; then
	# Never prompt in CI.
	if [ "${CI:-}" = true ]; then SUDO="sudo -n"; else SUDO=sudo; fi
else
	echo "deps.sh: run as root or install sudo" >&2
	exit 1
fi

installed()
{
	dpkg-query -W -f '${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

service_active()
{
	if [ -d /run/systemd/system ]; then
		systemctl is-active --quiet "$1" 2>/dev/null
	else
		$SUDO service "$1" status >/dev/null 2>&1
	fi
}

missing=
for p in $PKGS; do
	installed "$p" || missing="$missing $p"
done
if [ -z "$missing" ]; then
	echo "deps.sh: all packages are installed"
	exit 0
fi
echo "deps.sh: installing:$missing"

was_active=
for s in $SERVICES; do
	service_active "$s" && was_active="$was_active $s"
done

# The epmd processes running now, one "PID STARTTIME" a line (the start
# time tells a process from a later one with the same PID).
epmd_procs()
{
	local d
	for d in /proc/[0-9]*; do
		[ "$(cat "$d/comm" 2>/dev/null)" = epmd ] || continue
		echo "${d#/proc/} $(sed 's/^.*) //' "$d/stat" 2>/dev/null | awk '{ print $20 }')"
	done
}
epmd_before=$(epmd_procs)

# Keep maintainer scripts from starting services (Debian's policy-rc.d
# mechanism), unless the machine already has its own policy.
policy=/usr/sbin/policy-rc.d
made_policy=0
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\n# written by ope tests/deps.sh for one install\nexit 101\n' |
		$SUDO tee "$policy" >/dev/null
	$SUDO chmod 755 "$policy"
	made_policy=1
fi
remove_policy()
{
	[ "$made_policy" = 1 ] && $SUDO rm -f "$policy"
	return 0
}
trap remove_policy EXIT

$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
# shellcheck disable=SC2086
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
	$missing
remove_policy
trap - EXIT

for s in $SERVICES; do
	case " $was_active " in *" $s "*) continue ;; esac
	if service_active "$s"; then
		echo "deps.sh: stopping and disabling the $s service the install started"
		if [ -d /run/systemd/system ]; then
			$SUDO systemctl disable --now "$s" || true
		else
			$SUDO service "$s" stop || true
			$SUDO update-rc.d "$s" disable >/dev/null 2>&1 || true
		fi
	fi
done

# epmd daemons the install started (ejabberdctl's node, or a unit stopped
# above that left its daemon behind): stop each by PID.
epmd_procs | while read -r pid start; do
	case "
$epmd_before
" in *"
$pid $start
"*) continue ;; esac
	echo "deps.sh: stopping epmd (PID $pid), which the install started"
	$SUDO kill -TERM "$pid" 2>/dev/null || continue
	for _ in $(seq 50); do
		[ -d "/proc/$pid" ] || break
		sleep 0.1
	done
	if [ -d "/proc/$pid" ]; then
		echo "deps.sh: epmd (PID $pid) is still running" >&2
		exit 1
	fi
done
echo "deps.sh: done"
