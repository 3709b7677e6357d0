#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/systemd/takeover-real.sh: `systemctl reload ope-component` is a takeover under a real systemd (PID 1 in a podman container) with the shipped unit.
#
# Usage, from a build directory (or with OPE_BUILDDIR set):
#   ../tests/systemd/takeover-real.sh
# Needs podman (and runc) and a Debian 12 image to start from. Everything
# runs inside one container on its own loopback (--network=none): systemd
# 252 as PID 1, Debian's Prosody with a component for ope and a user for
# ope-client, and this build's ope-component and ope-client under the unit
# from conf/ope-component.service.in, filled in as tests/systemd/unit.test
# does (bindir=/usr/bin, sysconfdir=/etc), sandbox and all.
#
# What it checks: the reload keeps the service active with NRestarts=0 and
# moves MainPID to a new process in the unit's cgroup (the old one gone);
# Prosody sees one component authentication and no disconnect; ope-client
# gets replies before and after, and a --count run across the reload loses
# nothing; the watchdog (WatchdogSec=30s) is petted by the new process for
# more than 30 s; a reload with a broken configuration leaves the old process
# serving ("takeover failed ... carrying on"); a second reload chains;
# `systemctl stop` ends with status 0 and removes /run/ope-component.
#
# Images: it builds localhost/ope-systemd-bookworm (systemd, Prosody and
# ope's runtime libraries; about 20 s) from the first image present of
# OPE_SYSTEMD_FROM, localhost/ope-prosody-bookworm,
# localhost/ope-debian-bookworm (tests/e2e builds these), and removes it at
# the end unless OPE_SYSTEMD_KEEP_IMAGE=1. An image of that name already
# there is used and left alone. The container (named ope-sdreal-PID-RANDOM)
# is always removed, whatever happens; no other container is touched.
#
# Other settings: OPE_SYSTEMD_COUNT (requests in the run across the reload,
# default 60000, 20 in flight: it must still be running when the reload is
# done, which the test checks; Prosody carries at most about 13k round
# trips a second, so that is over 4 s, and the reload follows the login), OPE_SYSTEMD_KEEP=1 keeps the container for a
# look afterwards (podman rm -f NAME when done).
#
# Prints TAP ("ok"/"not ok" lines, the plan last); exits 1 on any failure.
set -u
src=${OPE_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${OPE_BUILDDIR:-$PWD}
image=localhost/ope-systemd-bookworm
count=${OPE_SYSTEMD_COUNT:-60000}
domain=ope.localhost
passed=0
failed=0
t_start=$(date +%s)

ok() { passed=$((passed + 1)); echo "ok - $*"; }
nok() { failed=$((failed + 1)); echo "not ok - $*"; }
note() { echo "# $*"; }
# check DESCRIPTION COMMAND...: ok when COMMAND succeeds.
check() {
	local what=$1
	shift
	if "$@"; then ok "$what"; else nok "$what"; fi
}
finish() {
	echo "1..$((passed + failed))"
	echo "# $passed passed, $failed failed in $(($(date +%s) - t_start)) s"
	[ "$failed" = 0 ]
	exit
}
bail() {
	nok "$*"
	finish
}

for f in ope-component ope-client; do
	[ -x "$build/$f" ] || bail "$build/$f not found: run this from a build directory or set OPE_BUILDDIR"
done
command -v podman >/dev/null 2>&1 || bail "podman not found: install podman and runc"

tmp=$(mktemp -d /tmp/ope-sdreal.XXXXXX) || exit 1
name=ope-sdreal-$$-$RANDOM
created=""
built_image=""
load_pid=""
cleanup() {
	[ -n "$load_pid" ] && kill "$load_pid" 2>/dev/null
	if [ -n "$created" ]; then
		if [ "${OPE_SYSTEMD_KEEP:-0}" = 1 ]; then
			echo "# kept container $name: podman rm -f $name" >&2
		else
			podman rm -f -t 0 "$name" >/dev/null 2>&1
		fi
	fi
	if [ -n "$built_image" ] && [ "${OPE_SYSTEMD_KEEP_IMAGE:-0}" != 1 ]; then
		podman rmi "$built_image" >/dev/null 2>&1
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'nok "interrupted by a signal"; finish' HUP INT TERM

# As tests/e2e/container.sh: runc (crun rejects hybrid cgroups) and default
# ulimits within the host's hard limits (no CAP_SYS_RESOURCE).
if [ -z "${CONTAINERS_CONF:-}" ]; then
	nofile=$(ulimit -Hn)
	[ "$nofile" = unlimited ] && nofile=1048576
	{
		echo "[containers]"
		echo "default_ulimits = [\"nofile=$nofile:$nofile\", \"nproc=4096:4096\"]"
		if command -v runc >/dev/null 2>&1; then
			echo "[engine]"
			echo "runtime = \"runc\""
		fi
	} >"$tmp/containers.conf"
	export CONTAINERS_CONF=$tmp/containers.conf
fi

# --- the image ------------------------------------------------------------

if podman image inspect "$image" >/dev/null 2>&1; then
	note "using the existing image $image"
else
	from=""
	for i in ${OPE_SYSTEMD_FROM:-} localhost/ope-prosody-bookworm localhost/ope-debian-bookworm; do
		if podman image inspect "$i" >/dev/null 2>&1; then
			from=$i
			break
		fi
	done
	[ -n "$from" ] || bail "no Debian 12 image to start from: run the e2e tests once" \
		"(they build localhost/ope-prosody-bookworm) or set OPE_SYSTEMD_FROM"
	t0=$(date +%s)
	cat >"$tmp/Containerfile" <<EOF
FROM $from
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y \\
    --no-install-recommends systemd procps prosody openssl libstrophe0 \\
    libconfig9 libmicrohttpd12 libsystemd0 libexpat1 libssl3 libidn12 && \\
    apt-get clean && rm -rf /var/lib/apt/lists/*
LABEL org.opencontainers.image.description="ope: systemd + Prosody for tests/systemd/takeover-real.sh"
EOF
	# The host's network for apt only (no netavark rules to clean up).
	if ! podman build --network=host -t "$image" -f "$tmp/Containerfile" "$tmp" \
		>"$tmp/build.log" 2>&1; then
		sed 's/^/# /' "$tmp/build.log" | tail -n 20
		bail "cannot build $image from $from (log above)"
	fi
	built_image=$(podman image inspect --format '{{.Id}}' "$image")
	note "built $image from $from in $(($(date +%s) - t0)) s"
fi

# --- the files ------------------------------------------------------------

secret=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
password=pw-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
root=$tmp/root
mkdir -p "$root/usr/bin" "$root/etc/systemd/system" "$root/etc/ope" \
	"$root/etc/prosody" "$root/root" || exit 1
cp "$build/ope-component" "$build/ope-client" "$root/usr/bin/" || exit 1
# As tests/systemd/unit.test and conf/local.mk fill it in (with libsystemd).
sed -e "s|@bindir@|/usr/bin|g" -e "s|@sysconfdir@|/etc|g" \
	-e "s|^@notify@||" -e "/^@nonotify@/d" \
	"$src/conf/ope-component.service.in" >"$root/etc/systemd/system/ope-component.service"
if grep -qE "@[a-z]+@" "$root/etc/systemd/system/ope-component.service"; then
	bail "unsubstituted @...@ left in the unit"
fi
cat >"$root/etc/ope/ope-component.conf" <<EOF
# written by tests/systemd/takeover-real.sh
server    = { host = "127.0.0.1"; port = 5347; };
component = { domain = "$domain"; secret = "$secret"; };
# json: under systemd (JOURNAL_STREAM) each line goes to the journal with
# its fields, checked below with journalctl -o json.
log       = { level = "info"; format = "json"; };
reconnect = { initial = 0.2; maximum = 1.0; };
limits    = { sender = { rate = 0.0; }; total = { rate = 0.0; }; };
EOF
cat >"$root/etc/prosody/prosody.cfg.lua" <<EOF
-- written by tests/systemd/takeover-real.sh: loopback only, no TLS required
admins = { }
modules_enabled = { "roster"; "saslauth"; "tls"; "disco"; "ping"; "posix"; }
modules_disabled = { "s2s"; }
pidfile = "/run/prosody/prosody.pid"
interfaces = { "127.0.0.1" }
c2s_ports = { 5222 }
s2s_ports = { }
legacy_ssl_ports = { }
component_ports = { 5347 }
component_interfaces = { "127.0.0.1" }
c2s_require_encryption = false
allow_unencrypted_plain_auth = true
authentication = "internal_plain"
limits = {
	c2s = { rate = "100mb/s"; burst = "10s"; };
	component = { rate = "100mb/s"; burst = "10s"; };
}
log = { info = "*stdout" }
certificates = "certs"

VirtualHost "localhost"
	ssl = {
		certificate = "/etc/prosody/certs/localhost.crt";
		key = "/etc/prosody/certs/localhost.key";
	}

Component "$domain"
	component_secret = "$secret"
EOF
# Runs inside once systemd is up.
cat >"$root/root/setup.sh" <<EOF
set -e
useradd --system --no-create-home --shell /usr/sbin/nologin ope
chown ope:ope /etc/ope/ope-component.conf
chmod 600 /etc/ope/ope-component.conf
chmod 644 /etc/prosody/prosody.cfg.lua
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \\
	-addext subjectAltName=DNS:localhost \\
	-keyout /etc/prosody/certs/localhost.key \\
	-out /etc/prosody/certs/localhost.crt 2>/dev/null
chgrp prosody /etc/prosody/certs/localhost.key
chmod 640 /etc/prosody/certs/localhost.key
prosodyctl register client localhost '$password' >/dev/null 2>&1
systemctl daemon-reload
systemctl restart prosody
EOF

# --- in the container -----------------------------------------------------

in_c() { podman exec "$name" "$@"; }
prop() { in_c systemctl show -p "$1" --value ope-component; }
ope_journal() { in_c journalctl -q -o cat --no-pager -u ope-component; }
prosody_journal() { in_c journalctl -q -o cat --no-pager -u prosody; }
# wait_until SECONDS COMMAND...: poll COMMAND every 0.2 s.
wait_until() {
	local end=$(($(date +%s) + $1))
	shift
	until "$@"; do
		[ "$(date +%s)" -ge "$end" ] && return 1
		sleep 0.2
	done
}
# client RESOURCE [ARGS...]: one ope-client run as client@localhost/RESOURCE.
client() {
	local res=$1
	shift
	podman exec -e OPE_PASSWORD="$password" "$name" timeout 300 ope-client \
		-j "client@localhost/$res" -t "$domain" --host 127.0.0.1 --port 5222 \
		--cafile /etc/prosody/certs/localhost.crt --timeout 15 "$@"
}
show_journals() {
	note "--- journal of ope-component (systemd's and ope's lines):"
	in_c journalctl -q -o short-precise --no-pager -u ope-component 2>&1 |
		tail -n "${1:-40}" | sed 's/^/# /'
	note "--- journal of prosody:"
	in_c journalctl -q -o short-precise --no-pager -u prosody 2>&1 |
		tail -n 15 | sed 's/^/# /'
}
count_lines() { grep -c -e "$1" || true; }

t0=$(date +%s)
# systemd with CAP_SYS_ADMIN, as on a host: it joins the unit's shared
# namespaces first and makes the PrivateUsers= namespace last. Without it
# (podman's default set) it makes the user namespace first, and every later
# process of the unit (ExecReload's kill) fails to join the IPC namespace
# the main process made: 226/NAMESPACE. OPE_SYSTEMD_CAPS=default runs so.
caps=(--cap-add=SYS_ADMIN --cap-add=SYS_PTRACE)
[ "${OPE_SYSTEMD_CAPS:-}" = default ] && caps=()
if ! podman create --name "$name" --systemd=always --network=none "${caps[@]}" \
	--hostname ope-sdreal "$image" /lib/systemd/systemd >"$tmp/create.log" 2>&1; then
	sed 's/^/# /' "$tmp/create.log"
	bail "cannot create the container from $image"
fi
created=yes
podman cp "$root/." "$name:/" >"$tmp/cp.log" 2>&1 ||
	{ sed 's/^/# /' "$tmp/cp.log"; bail "cannot copy the files into the container"; }
podman start "$name" >/dev/null 2>"$tmp/start.log" ||
	{ sed 's/^/# /' "$tmp/start.log"; bail "cannot start the container"; }
# Until systemd listens on its private socket, systemctl fails at once.
booted() {
	state=$(in_c timeout 60 systemctl is-system-running --wait 2>/dev/null)
	[ "$state" = running ] || [ "$state" = degraded ]
}
if wait_until 90 booted; then
	ok "systemd $(in_c systemctl --version | awk 'NR == 1 { print $2 }') is up as PID 1 ($state)"
else
	bail "systemd did not come up: is-system-running says '$state'"
fi
[ "$state" = degraded ] && in_c systemctl --failed --no-pager | sed 's/^/# /'

if ! in_c sh /root/setup.sh >"$tmp/setup.log" 2>&1; then
	sed 's/^/# /' "$tmp/setup.log"
	bail "setting up the ope user, the certificate and Prosody failed (above)"
fi
# (Its log, not a connection: Prosody would log a component disconnect.)
port_open() { prosody_journal | grep -q "Activated service 'component' on \\[127.0.0.1\\]:5347"; }
if wait_until 30 port_open; then
	ok "Prosody listens for components on 127.0.0.1:5347"
else
	show_journals
	bail "Prosody does not listen on 127.0.0.1:5347"
fi
note "container ready in $(($(date +%s) - t0)) s"

# --- start ----------------------------------------------------------------

t0=$(date +%s)
if in_c timeout 60 systemctl start ope-component; then
	ok "systemctl start ope-component (returns after READY=1) in $(($(date +%s) - t0)) s"
else
	show_journals
	bail "systemctl start ope-component failed"
fi
pid1=$(prop MainPID)
status=$(prop StatusText)
case $status in
"connected to 127.0.0.1:5347 as $domain"*) ok "the status says: $status" ;;
*) nok "the status says '$status', not 'connected to 127.0.0.1:5347 as $domain'" ;;
esac
if client before >"$tmp/before.out" 2>&1; then
	ok "ope-client gets a reply before the reload"
else
	nok "ope-client gets no reply before the reload: $(tail -n 3 "$tmp/before.out")"
fi

# --- reload under load ----------------------------------------------------

# Sample the unit's state every 50 ms from before the reload to after it.
in_c sh -c 'rm -f /root/stop-poll; while [ ! -e /root/stop-poll ]; do
	systemctl show -p ActiveState --value ope-component; sleep 0.05; done \
	>/root/states 2>&1' &
poll_pid=$!
logins() { prosody_journal | count_lines "Authenticated as client@localhost"; }
logins0=$(logins)
client load --count "$count" --window 20 >"$tmp/load.out" 2>"$tmp/load.err" &
load_pid=$!
# The run is under way once Prosody logged the client in and requests flow.
logged_in() { [ "$(logins)" -gt "$logins0" ]; }
if ! wait_until 30 logged_in; then
	nok "the ope-client --count run did not log in within 30 s"
fi
t_reload=$(date +%s)
if in_c systemctl reload ope-component; then
	ok "systemctl reload ope-component returns 0"
else
	nok "systemctl reload ope-component fails"
fi
moved() {
	pid2=$(prop MainPID)
	[ -n "$pid2" ] && [ "$pid2" != 0 ] && [ "$pid2" != "$pid1" ] &&
		ope_journal | grep -q "handed the link over to pid $pid2"
}
if wait_until 20 moved; then
	ok "MainPID moved from $pid1 to $pid2 (old: 'handed the link over to pid $pid2')"
else
	show_journals
	bail "MainPID is still $(prop MainPID) 20 s after the reload (was $pid1)"
fi
if [ -s "$tmp/load.out" ] || ! kill -0 "$load_pid" 2>/dev/null; then
	nok "the --count run was over before the takeover was done: raise OPE_SYSTEMD_COUNT ($count)"
else
	ok "the takeover happened while the --count run ($count requests, 20 in flight) was going"
fi
check "the new process logged 'took over the link to 127.0.0.1:5347 from pid $pid1'" \
	eval 'ope_journal | grep -q "took over the link to 127.0.0.1:5347 from pid $pid1"'
old_gone() { ! in_c test -d "/proc/$pid1"; }
check "the old process $pid1 is gone" wait_until 5 old_gone
cg=$(prop ControlGroup)
check "the new process $pid2 is in the unit's cgroup ($cg)" \
	eval 'in_c grep -qx "[0-9]*:name=systemd:$cg" "/proc/$pid2/cgroup"'
procs=$(in_c cat "/sys/fs/cgroup/systemd$cg/cgroup.procs" 2>&1 | tr '\n' ' ')
check "the unit's cgroup holds only the new process (cgroup.procs: $procs)" \
	test "$procs" = "$pid2 "
check "NRestarts is 0" test "$(prop NRestarts)" = 0
# log.format = "json" under systemd: ope's lines reach the journal with
# their own fields (sd_journal_send), not as text on stderr.
check "the journal has ope's structured fields (LINK= on the link's lines, TAKEOVER= on the takeover's)" \
	eval 'in_c journalctl -q -o json --no-pager -u ope-component | grep -q "\"LINK\"" &&
		in_c journalctl -q -o json --no-pager -u ope-component | grep -q "\"TAKEOVER\""'
sleep 0.5
in_c touch /root/stop-poll
wait "$poll_pid"
states=$(in_c cat /root/states | sort | uniq -c | awk '{ printf "%s%s x%s", sep, $2, $1; sep = ", " }')
check "the unit stayed active throughout ($states)" \
	eval '! in_c grep -qvxE "active|reloading" /root/states'
sysd=$(in_c journalctl -q -o cat --no-pager _PID=1 UNIT=ope-component.service)
bad=$(printf '%s\n' "$sysd" | grep -E "Main process exited|Failed with result|Scheduled restart|Stopping|Stopped|Deactivated|Watchdog" || true)
check "systemd logged no exit, stop or restart of the unit${bad:+: $bad}" test -z "$bad"

# Prosody: one handshake, no disconnect.
pj=$(prosody_journal)
auths=$(printf '%s\n' "$pj" | count_lines "External component successfully authenticated")
drops=$(printf '%s\n' "$pj" | count_lines "component disconnected: $domain")
check "Prosody saw 1 component authentication (saw $auths) and no disconnect (saw $drops)" \
	test "$auths" = 1 -a "$drops" = 0

if client after >"$tmp/after.out" 2>&1; then
	ok "ope-client gets a reply after the reload"
else
	nok "ope-client gets no reply after the reload: $(tail -n 3 "$tmp/after.out")"
fi
wait "$load_pid"
load_rc=$?
load_pid=""
summary=$(grep '^sent=' "$tmp/load.out" | tail -n 1)
field() { printf '%s\n' "$summary" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
sent=$(field sent)
got=$(field ok)
if [ "$load_rc" = 0 ] && [ "$sent" = "$count" ] && [ "$got" = "$count" ]; then
	ok "ope-client --count $count --window 20 across the reload: lost $((sent - got)) ($summary)"
else
	nok "ope-client --count $count --window 20 across the reload: exit $load_rc, ${summary:-no summary}"
	sed 's/^/# /' "$tmp/load.err" | tail -n 10
fi

# --- the watchdog after the takeover ----------------------------------------

wd1=$(prop WatchdogTimestampMonotonic)
wait_s=$((t_reload + 36 - $(date +%s)))
note "waiting $wait_s s: more than WatchdogSec=$(prop WatchdogUSec) since the takeover"
[ "$wait_s" -gt 0 ] && sleep "$wait_s"
wd2=$(prop WatchdogTimestampMonotonic)
check "36 s after the takeover MainPID is still $pid2 and the unit active" \
	test "$(prop MainPID)" = "$pid2" -a "$(prop ActiveState)" = active
check "NRestarts is still 0" test "$(prop NRestarts)" = 0
check "systemd logged no watchdog timeout" \
	eval '! in_c journalctl -q -o cat --no-pager _PID=1 UNIT=ope-component.service | grep -qi watchdog'
check "the new process pets the watchdog (WatchdogTimestampMonotonic $wd1 -> $wd2)" \
	test "${wd2:-0}" -gt "${wd1:-0}"

# --- a reload with a broken configuration ---------------------------------

in_c cp -p /etc/ope/ope-component.conf /root/good.conf
in_c sh -c 'echo "this is not libconfig" >>/etc/ope/ope-component.conf'
check "systemctl reload with a broken configuration returns 0" \
	in_c systemctl reload ope-component
failed_takeover() { ope_journal | grep -q "takeover failed.*carrying on"; }
if wait_until 20 failed_takeover; then
	ok "the old process logged: $(ope_journal | grep "takeover failed.*carrying on" | tail -n 1)"
else
	nok "no 'takeover failed ... carrying on' in the journal 20 s after the reload"
	show_journals 20
fi
check "MainPID is still $pid2, the unit active, NRestarts 0" \
	test "$(prop MainPID)" = "$pid2" -a "$(prop ActiveState)" = active -a "$(prop NRestarts)" = 0
if client broken >"$tmp/broken.out" 2>&1; then
	ok "ope-client gets a reply after the failed takeover"
else
	nok "ope-client gets no reply after the failed takeover: $(tail -n 3 "$tmp/broken.out")"
fi
in_c cp -p /root/good.conf /etc/ope/ope-component.conf

# --- a second takeover (chain), then stop -----------------------------------

pid1=$pid2
check "a second reload hands over again (repaired configuration)" \
	eval 'in_c systemctl reload ope-component && wait_until 20 moved'
pid3=$pid2
if client chain >"$tmp/chain.out" 2>&1; then
	ok "ope-client gets a reply from the third process ($pid3)"
else
	nok "ope-client gets no reply from the third process: $(tail -n 3 "$tmp/chain.out")"
fi
pj=$(prosody_journal)
auths=$(printf '%s\n' "$pj" | count_lines "External component successfully authenticated")
drops=$(printf '%s\n' "$pj" | count_lines "component disconnected: $domain")
check "still 1 component authentication in Prosody's log (saw $auths) and no disconnect (saw $drops)" \
	test "$auths" = 1 -a "$drops" = 0

t0=$(date +%s)
if in_c timeout 60 systemctl stop ope-component; then
	ok "systemctl stop returns 0 in $(($(date +%s) - t0)) s"
else
	nok "systemctl stop fails"
fi
st="$(prop ActiveState) $(prop Result) $(prop ExecMainStatus)"
check "after the stop: ActiveState Result ExecMainStatus = inactive success 0 (got $st)" \
	test "$st" = "inactive success 0"
check "/run/ope-component is gone" eval '! in_c test -e /run/ope-component'
check "NRestarts is still 0 after the stop" test "$(prop NRestarts)" = 0

# --- systemd still notices when a taken-over main process dies --------------

# After a takeover systemd logs "Supervising process N which is not our
# child": the new process is the old one's child until that exits. It
# must still see it die, and restart it (Restart=on-failure).
in_c systemctl start ope-component
pid1=$(prop MainPID)
if in_c systemctl reload ope-component && wait_until 20 moved; then
	in_c kill -KILL "$pid2"
	restarted() {
		[ "$(prop NRestarts)" = 1 ] && [ "$(prop ActiveState)" = active ] &&
			[ "$(prop MainPID)" != "$pid2" ] && [ "$(prop MainPID)" != 0 ]
	}
	if wait_until 30 restarted; then
		ok "SIGKILL to the taken-over main process $pid2: systemd noticed and restarted the unit (NRestarts=1, MainPID $(prop MainPID))"
	else
		nok "SIGKILL to the taken-over main process $pid2: NRestarts=$(prop NRestarts) ActiveState=$(prop ActiveState) MainPID=$(prop MainPID) 30 s later"
	fi
	check "the journal says the main process was killed" \
		eval 'in_c journalctl -q -o cat --no-pager _PID=1 UNIT=ope-component.service | grep -q "Main process exited, code=killed, status=9/KILL"'
else
	nok "the reload before the SIGKILL test did not hand over"
fi
in_c timeout 60 systemctl stop ope-component

[ "$failed" = 0 ] || show_journals 60
note "ope-component's journal, start to stop:"
in_c journalctl -q -o short-precise --no-pager -u ope-component | sed 's/^/#   /' |
	grep -E "Start|Reload|takeover|took over|handed|SIGUSR2|carrying on|Stopp|Deactivated|exited|Watchdog|not our child|restart" | head -n 60
finish
