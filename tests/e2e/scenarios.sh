#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/e2e/scenarios.sh: ope-component and ope-client end to end through a real XMPP server (Prosody or ejabberd).
#
# Usage: scenarios.sh [SCENARIO...]   (default: all, in order)
# Server selection: OPE_E2E_SERVER=prosody|ejabberd, OPE_E2E_PROSODY=
# container|native|auto (see lib.sh). One server is started for the run;
# every scenario starts and stops its own ope-component and clients (in a
# subshell with its own cleanup) and finds the server up: a scenario that
# leaves it down gets it restarted before the next one.
# Prints TAP for automake's driver: the plan "1..N", "ok N - name" /
# "not ok N - name" per scenario, "# N passed, M failed"; a set-up failure is
# one "not ok" short of the plan. Exits 1 if anything failed or the server
# could not be started.

set -u
# shellcheck source=tests/e2e/lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

ALL_SCENARIOS="roundtrip special_chars parallel tls offline component_killed client_interop
server_restart wrong_secret features entity_time password_argv load metrics access
access_reload hostile flood failover forgery client_output adhoc"
# ejabberd_service has direct TLS (tls: true); Prosody's component port not.
[ "${OPE_E2E_SERVER:-prosody}" = ejabberd ] && ALL_SCENARIOS="$ALL_SCENARIOS link_tls"

# Scenario output goes to a log; notes reach the terminal through fd 3.
# Background processes close fd 3 (3>&-) so they never hold the output open.
exec 3>&1
note()
{
	printf '#   %s\n' "$*" >&3
}

fail()
{
	echo "FAIL: $*"
	exit 1
}

# Processes a scenario starts are stopped when its subshell exits.
scn_cleanup()
{
	e2e_kill_tracked "$E2E_SCN_PIDS"
}

scn_track()
{
	e2e_track "$1" "$E2E_SCN_PIDS"
	e2e_track "$1"
}

# Start ope-component NAME and register it for this scenario's cleanup.
comp_start()
{
	e2e_component_start "$@" || { scn_track "$E2E_COMPONENT_PID"; return 1; }
	scn_track "$E2E_COMPONENT_PID"
}

comp_launch()
{
	e2e_component_launch "$@" || return 1
	scn_track "$E2E_COMPONENT_PID"
}

# expect_rc WANT GOT OUTFILE WHAT
expect_rc()
{
	if [ "$2" != "$1" ]; then
		sed 's/^/    command: /' "$3.cmd" 2>/dev/null
		sed 's/^/    client: /' "$3"
		fail "$4: ope-client exited $2, expected $1"
	fi
}

expect_text()
{
	e2e_util contains "$1" "$2" || { sed 's/^/    output: /' "$1"; fail "$3"; }
}

# --- scenarios ------------------------------------------------------------

# 1. A message with example_tag comes back as an IQ result.
scn_roundtrip()
{
	local out=$E2E_TMP/roundtrip.out rc=0
	comp_start rt || fail "ope-component did not connect"
	e2e_client "$out" alice rt --another "e2e-another-42" \
		--data "e2e-data-17" --body "hello from e2e" || rc=$?
	expect_rc 0 "$rc" "$out" "round trip"
	expect_text "$out" "e2e-another-42" "reply lacks the 'another' attribute"
	expect_text "$out" "e2e-data-17" "reply lacks the 'data' attribute"
	expect_text "$out" "hello from e2e" "reply lacks the body text"
	note "$(grep -v '^+' "$out" | head -n 3 | tr '\n' ' ')"
}

# 2. XML special characters and UTF-8 survive both ways.
scn_special_chars()
{
	local out=$E2E_TMP/special.out rc=0
	local another="a&b<c>d\"e'f" data="ünïcödé € ✓ 日本 😀 & <x/>"
	local body="<b>bold</b> & \"q\" 'a' – ü > ok"
	comp_start sc || fail "ope-component did not connect"
	e2e_client "$out" alice sc --another "$another" --data "$data" \
		--body "$body" || rc=$?
	expect_rc 0 "$rc" "$out" "special characters"
	expect_text "$out" "$another" "'another' with & < > \" ' not echoed intact"
	expect_text "$out" "$data" "UTF-8 'data' not echoed intact"
	expect_text "$out" "$body" "body with markup characters not echoed intact"
	rc=0
	e2e_client "$out.xml" alice sc2 --xml --another "$another" \
		--data "$data" --body "$body" || rc=$?
	expect_rc 0 "$rc" "$out.xml" "special characters (--xml)"
	expect_text "$out.xml" "$data" "--xml output lacks the UTF-8 data"
}

# 3. Several clients (different users and resources) at once.
scn_parallel()
{
	local i rc pids=() who
	comp_start par || fail "ope-component did not connect"
	for i in 1 2 3 4 5; do
		if [ "$i" -le 3 ]; then who=alice; else who=bob; fi
		e2e_client "$E2E_TMP/par$i.out" "$who" "par$i" \
			--another "client-$i" --data "data-$i" --body "body $i" &
		pids[i]=$!
		scn_track "${pids[i]}"
	done
	for i in 1 2 3 4 5; do
		rc=0
		wait "${pids[i]}" || rc=$?
		expect_rc 0 "$rc" "$E2E_TMP/par$i.out" "parallel client $i"
		expect_text "$E2E_TMP/par$i.out" "data-$i" "client $i got another client's reply"
	done
	note "5 parallel clients (alice/par1-3, bob/par4-5): all exited 0"
}

# 4. TLS: the run's CA file works, --insecure works, neither fails (exit 3).
scn_tls()
{
	local out=$E2E_TMP/tls.out rc=0
	comp_start tls || fail "ope-component did not connect"
	e2e_client "$out" alice tls1 --cafile "$E2E_CAFILE" --data tls-ok || rc=$?
	expect_rc 0 "$rc" "$out" "with --cafile"
	rc=0
	e2e_client "$out.insecure" alice tls2 --insecure --data tls-insecure || rc=$?
	expect_rc 0 "$rc" "$out.insecure" "with --insecure"
	rc=0
	e2e_client "$out.none" alice tls3 --no-tls-args --data tls-none || rc=$?
	expect_rc 3 "$rc" "$out.none" "self-signed certificate without --cafile/--insecure"
	note "--cafile: 0, --insecure: 0, neither: 3 ($(grep -v '^+' "$out.none" | tail -n 1))"
}

# 5. Component not running: the server's bounce reaches the client.
scn_offline()
{
	local out=$E2E_TMP/offline.out rc=0 cond
	cond=$(e2e_offline_condition)
	e2e_client "$out" alice off --data offline || rc=$?
	expect_rc 1 "$rc" "$out" "component offline"
	expect_text "$out" "$cond" "client did not print the server's condition $cond"
	note "bounce: $(grep -v '^+' "$out" | tail -n 1)"
}

# 6. ope-component killed with SIGKILL and started again: requests work.
scn_component_killed()
{
	local out=$E2E_TMP/killed.out rc=0 pid
	comp_start k1 || fail "ope-component did not connect"
	pid=$E2E_COMPONENT_PID
	e2e_client "$out" alice k1 --data before-kill || rc=$?
	expect_rc 0 "$rc" "$out" "before the kill"
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null
	comp_start k2 || fail "ope-component did not connect again after SIGKILL"
	rc=0
	e2e_client "$out.after" alice k2 --data after-kill || rc=$?
	expect_rc 0 "$rc" "$out.after" "after restarting the killed component"
}

# CPU time (clock ticks, user+system) of a process.
cpu_ticks()
{
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}

# 7. The server restarts: ope-component reconnects by itself, without spinning.
scn_server_restart()
{
	local out=$E2E_TMP/restart.out rc=0 pid log=$E2E_TMP/rs.log
	local t0 t1 r0 r1 i hz
	hz=$(getconf CLK_TCK)
	comp_start rs || fail "ope-component did not connect"
	pid=$E2E_COMPONENT_PID
	e2e_client "$out" alice rs1 --data before-restart || rc=$?
	expect_rc 0 "$rc" "$out" "before the server restart"
	e2e_server_stop
	e2e_wait_log "$log" "connection to 127.0.0.1:$E2E_COMP_PORT lost" 20 "$pid" ||
		fail "ope-component did not notice the server going away"
	kill -0 "$pid" 2>/dev/null || fail "ope-component exited when the server stopped"
	t0=$(cpu_ticks "$pid")
	r0=$(grep -c "reconnecting to" "$log")
	sleep 3
	t1=$(cpu_ticks "$pid")
	r1=$(grep -c "reconnecting to" "$log")
	note "server down 3 s: $((r1 - r0)) reconnect attempts, $((t1 - t0)) CPU ticks (1/$hz s)"
	[ $((r1 - r0)) -ge 1 ] || fail "no reconnect attempt while the server was down"
	[ $((r1 - r0)) -le 15 ] || fail "$((r1 - r0)) reconnect attempts in 3 s: no back-off"
	[ $((t1 - t0)) -le $((hz / 2)) ] ||
		fail "ope-component used $((t1 - t0)) ticks in 3 s while waiting: spinning"
	e2e_server_restart || fail "the server did not come back"
	for ((i = 0; i < 300; i++)); do
		[ "$(grep -c "connected to 127.0.0.1:$E2E_COMP_PORT" "$log")" -ge 2 ] && break
		kill -0 "$pid" 2>/dev/null || fail "ope-component exited while reconnecting"
		sleep 0.1
	done
	[ "$(grep -c "connected to 127.0.0.1:$E2E_COMP_PORT" "$log")" -ge 2 ] ||
		{ tail -n 20 "$log"; fail "ope-component did not reconnect within 30 s"; }
	rc=0
	e2e_client "$out.after" alice rs2 --data after-restart || rc=$?
	expect_rc 0 "$rc" "$out.after" "after the server restart"
}

# 8. Wrong secret: exit 3, and the message points at component.secret.
scn_wrong_secret()
{
	local pid rc=0 i log=$E2E_TMP/ws.log
	comp_launch ws "wrong-$(openssl rand -hex 8)" || fail "cannot start ope-component"
	pid=$E2E_COMPONENT_PID
	for ((i = 0; i < 150; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && { cat "$log"; fail "ope-component still running 15 s after a refused handshake"; }
	wait "$pid" || rc=$?
	[ "$rc" = 3 ] || { cat "$log"; fail "ope-component exited $rc, expected 3"; }
	grep -q "component.secret" "$log" || { cat "$log"; fail "stderr does not mention component.secret"; }
	grep -q "not-authorized" "$log" || { cat "$log"; fail "stderr does not mention not-authorized"; }
	note "$(grep -m1 component.secret "$log" | sed 's/^.*: //')"
}

# 9. --iq, --ping, --disco, --sw-version, then the slixmpp probe.
scn_features()
{
	local out=$E2E_TMP/features rc py
	comp_start ft || fail "ope-component did not connect"
	rc=0; e2e_client "$out.iq" alice ft1 --iq --another "iq-a&" --data "iq-ü" --body "iq body <x>" || rc=$?
	expect_rc 0 "$rc" "$out.iq" "--iq"
	expect_text "$out.iq" "iq-ü" "--iq reply lacks data"
	rc=0; e2e_client "$out.ping" alice ft2 --ping || rc=$?
	expect_rc 0 "$rc" "$out.ping" "--ping"
	rc=0; e2e_client "$out.disco" alice ft3 --disco || rc=$?
	expect_rc 0 "$rc" "$out.disco" "--disco"
	local f
	for f in http://jabber.org/protocol/disco#info urn:xmpp:ping \
		jabber:iq:version "$E2E_NS"; do
		expect_text "$out.disco" "$f" "--disco does not list $f"
	done
	rc=0; e2e_client "$out.ver" alice ft4 --sw-version || rc=$?
	expect_rc 0 "$rc" "$out.ver" "--sw-version"
	expect_text "$out.ver" "ope" "--sw-version does not print the name"
	py=$(e2e_python_slixmpp) || fail "no python3 with slixmpp: install python3-slixmpp"
	rc=0
	OPE_PASSWORD=$E2E_PASSWORD timeout 120 "$py" "$E2E_SRC/probe.py" \
		--jid "probe@$E2E_HOST/probe" --host 127.0.0.1 --port "$E2E_C2S_PORT" \
		--cafile "$E2E_CAFILE" --component "$E2E_COMPONENT" \
		--max-payload 8192 >"$out.probe" 2>&1 || rc=$?
	sed 's/^/    probe: /' "$out.probe"
	[ "$rc" = 0 ] || fail "probe.py failed (exit $rc)"
	note "probe: $(grep -c '^ok' "$out.probe") checks ok"
}

# 10. XEP-0202 Entity Time: advertised, answered in UTC, within a second or
# two of this machine's clock.
scn_entity_time()
{
	local out=$E2E_TMP/time rc utc got now
	comp_start et || fail "ope-component did not connect"
	rc=0; e2e_client "$out.disco" alice et1 --disco || rc=$?
	expect_rc 0 "$rc" "$out.disco" "--disco"
	expect_text "$out.disco" "urn:xmpp:time" "--disco does not list urn:xmpp:time"
	rc=0; e2e_client "$out" alice et2 --time || rc=$?
	expect_rc 0 "$rc" "$out" "--time"
	expect_text "$out" 'tzo="+00:00"' "--time: the offset is not +00:00"
	utc=$(sed -n 's/^entity time of .*: utc="\([0-9T:Z-]*\)" tzo=.*$/\1/p' "$out")
	[ -n "$utc" ] || { sed 's/^/    output: /' "$out"; fail "--time printed no utc"; }
	[[ $utc =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$ ]] ||
		fail "utc '$utc' is not YYYY-MM-DDThh:mm:ssZ"
	got=$(date -u -d "${utc%Z} UTC" +%s) || fail "utc '$utc' is not a date"
	now=$(date -u +%s)
	# The client logs in and out after the reply: allow its whole run.
	[ $((now - got)) -ge 0 ] && [ $((now - got)) -le 30 ] ||
		fail "utc $utc is $((now - got)) s away from this machine's clock"
	note "$(grep -v '^+' "$out" | head -n 1) ($((now - got)) s before the check)"
}

# 11. ope-client's password never shows in /proc/PID/cmdline, whatever form
# -p/--password took (bundled short options included).
scn_password_argv()
{
	local secret form pid i n cmdline listen=$E2E_TMP/silent.out port
	secret="pw-$(openssl rand -hex 6)"
	# A listener that accepts and never speaks: each client stays in its
	# connecting phase, and once it has connected its argv was scrubbed.
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)
print(s.getsockname()[1], flush=True)
held = []
while True:
    held.append(s.accept()[0])
    print("accepted", flush=True)' >"$listen" 2>&1 3>&- &
	scn_track $!
	for i in $(seq 300); do
		[ -s "$listen" ] && break
		sleep 0.1
	done
	port=$(head -n 1 "$listen")
	[[ $port =~ ^[0-9]+$ ]] || fail "the silent listener did not start: $(cat "$listen")"
	n=0
	for form in "-qp$secret" "-qp $secret" "-dp$secret" "-p$secret" \
		"-p $secret" "--password=$secret" "--password $secret" \
		"-px --service-password=$secret" "-px --service-password $secret"; do
		n=$((n + 1))
		# shellcheck disable=SC2086 # FORM is one or two words on purpose
		"$OPE_BUILDDIR/ope-client" -j alice@localhost -t ope.localhost \
			--host 127.0.0.1 --port "$port" --timeout 20 $form \
			>"$E2E_TMP/argv$n.out" 2>&1 3>&- &
		pid=$!
		scn_track "$pid"
		for i in $(seq 300); do
			[ "$(grep -c accepted "$listen")" -ge "$n" ] && break
			sleep 0.1
		done
		[ "$(grep -c accepted "$listen")" -ge "$n" ] ||
			fail "ope-client $form never connected: $(cat "$E2E_TMP/argv$n.out")"
		cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline")
		case $cmdline in
		*ope-client*) ;;
		*) fail "read the wrong process's cmdline: $cmdline" ;;
		esac
		case $cmdline in
		*"$secret"*) fail "'${form/$secret/SECRET}' left the password in /proc/$pid/cmdline" ;;
		esac
		kill "$pid"
		wait "$pid" 2>/dev/null
	done
	note "$n forms of -p/--password and --service-password: none left in /proc/PID/cmdline"
}

# 12. Load: 2000 round trips, 50 in flight.
scn_load()
{
	local out=$E2E_TMP/load.out rc=0
	# One account at full speed is abuse by the default limits.
	echo 'limits = { sender = { rate = 0.0; }; total = { rate = 0.0; }; };' \
		>"$E2E_TMP/load.extra"
	comp_start load || fail "ope-component did not connect"
	e2e_client "$out" alice load --count 2000 --window 50 --timeout 60 \
		--another load --data "load-ü&" --body "load body" || rc=$?
	expect_rc 0 "$rc" "$out" "--count 2000 --window 50"
	grep -v '^+' "$out" | while IFS= read -r line; do note "$line"; done
}

# 13. One user floods ope with 60,000-child stanzas (240 KB each, under the
# server's stanza limit): each is refused with policy-violation at once,
# while another user's round trips keep their latency (issue 8: with
# libstrophe's parser one such stanza froze ope for 12-17 s).
scn_flood()
{
	local out=$E2E_TMP/flood py rc=0 p99a p99b fpid
	py=$(e2e_python_slixmpp) || fail "no python3 with slixmpp: install python3-slixmpp"
	# Round trips at full speed from one account are abuse by the default
	# rate limits; this scenario is about the parser's limits.
	echo 'limits = { sender = { rate = 0.0; }; total = { rate = 0.0; }; };' \
		>"$E2E_TMP/flood.extra"
	comp_start flood || fail "ope-component did not connect"
	e2e_client "$out.before" alice flood1 --count 500 --window 1 \
		--another f --data f --body f || rc=$?
	expect_rc 0 "$rc" "$out.before" "round trips before the flood"
	OPE_PASSWORD=$E2E_PASSWORD timeout 120 "$py" "$E2E_SRC/probe.py" \
		--jid "probe@$E2E_HOST/flood" --host 127.0.0.1 --port "$E2E_C2S_PORT" \
		--cafile "$E2E_CAFILE" --component "$E2E_COMPONENT" \
		--flood 60000 --repeat 8 --interval 0.3 --within 5 \
		>"$out.probe" 2>&1 3>&- &
	fpid=$!
	scn_track "$fpid"
	# The second user starts once the first flood stanza reached ope.
	e2e_wait_log "$E2E_TMP/flood.log" "skipped a <message> from probe@" 60 \
		"$E2E_COMPONENT_PID" || fail "the flood never reached ope-component"
	rc=0
	e2e_client "$out.during" alice flood2 --count 500 --window 1 \
		--another f --data f --body f || rc=$?
	expect_rc 0 "$rc" "$out.during" "round trips during the flood"
	rc=0
	wait "$fpid" || rc=$?
	sed 's/^/    probe: /' "$out.probe"
	[ "$rc" = 0 ] || fail "the flooding user was not refused quickly (probe exit $rc)"
	p99a=$(sed -n 's/.*p99=\([0-9.]*\)ms.*/\1/p' "$out.before" | tail -n 1)
	p99b=$(sed -n 's/.*p99=\([0-9.]*\)ms.*/\1/p' "$out.during" | tail -n 1)
	[ -n "$p99a" ] && [ -n "$p99b" ] || fail "no p99 in ope-client's summary"
	note "second user's p99: ${p99a} ms before, ${p99b} ms during the flood"
	note "$(grep '^# flood' "$out.probe")"
	# "Normal latency": within 10x or 1 s of the quiet run (the server
	# parses each 240 KB stanza too, on its one thread, and a loaded
	# machine adds its own pauses); what this catches is the parser's
	# freeze of 12-17 s per stanza (FACTS.md, libstrophe item 14).
	awk -v a="$p99a" -v b="$p99b" 'BEGIN { exit !(b <= 10 * a || b <= a + 1000) }' ||
		fail "p99 during the flood ${p99b} ms vs ${p99a} ms before"
	grep -q 'skipped a <message> from probe@' "$E2E_TMP/flood.log" ||
		fail "no 'skipped' line in ope-component's log"
}

# A config for ope-component NAME with SERVER_BLOCK inside server = { }.
link_config()
{
	local name=$1
	cat >"$E2E_TMP/$name.conf" <<EOF
# ope-component configuration written by tests/e2e/scenarios.sh
server    = { $2 };
component = { domain = "$E2E_COMPONENT"; secret = "$E2E_SECRET"; };
log       = { level = "info"; timestamps = true; };
reconnect = { initial = 0.2; maximum = 1.0; };
EOF
	chmod 600 "$E2E_TMP/$name.conf"
}

link_launch()
{
	local name=$1
	"$OPE_BUILDDIR/ope-component" -c "$E2E_TMP/$name.conf" \
		>"$E2E_TMP/$name.out" 2>"$E2E_TMP/$name.log" 3>&- &
	E2E_COMPONENT_PID=$!
	scn_track "$E2E_COMPONENT_PID"
}

# 14. Direct TLS to ejabberd's ejabberd_service (tls: true), verified against
# the run's CA file and the name "localhost"; a wrong name is refused.
scn_link_tls()
{
	local out=$E2E_TMP/link_tls.out rc=0 tls
	tls="mode = \"direct\"; ca_file = \"$E2E_CAFILE\""
	link_config ltls "host = \"127.0.0.1\"; port = $E2E_COMP_TLS_PORT;
		tls = { $tls; name = \"localhost\"; };"
	link_launch ltls
	e2e_wait_log "$E2E_TMP/ltls.log" "connected to 127.0.0.1:$E2E_COMP_TLS_PORT" \
		15 "$E2E_COMPONENT_PID" || { tail -n 5 "$E2E_TMP/ltls.log"; fail "no TLS link"; }
	grep -q "certificate verified for 'localhost'" "$E2E_TMP/ltls.log" ||
		fail "no 'certificate verified' line"
	e2e_client "$out" alice ltls --another tls --data tls --body "over TLS" || rc=$?
	expect_rc 0 "$rc" "$out" "round trip over the TLS link"
	note "$(grep 'TLS with' "$E2E_TMP/ltls.log" | sed 's/^[^ ]* //')"
	link_config ltlsbad "host = \"127.0.0.1\"; port = $E2E_COMP_TLS_PORT;
		tls = { $tls; name = \"wrong.example\"; };"
	link_launch ltlsbad
	e2e_wait_log "$E2E_TMP/ltlsbad.log" "certificate verification failed" 15 \
		"$E2E_COMPONENT_PID" || { tail -n 5 "$E2E_TMP/ltlsbad.log"; fail "a wrong name was not refused"; }
	if grep -q "connected to" "$E2E_TMP/ltlsbad.log"; then
		fail "connected although the certificate lacks the name"
	fi
	note "$(grep -m1 'certificate verification failed' "$E2E_TMP/ltlsbad.log" | cut -c1-160)"
}

# 15. server.hosts: the first server (a relay in front of the component
# port) dies; ope fails over to the second (ejabberd: another
# ejabberd_service listener; Prosody: its component port) and answers.
scn_failover()
{
	local out=$E2E_TMP/failover.out rc=0 second relay i
	second=$E2E_COMP_PORT
	[ "$E2E_SERVER" = ejabberd ] && second=$E2E_COMP2_PORT
	"$PYTHON3" "$E2E_SRC/e2e_util.py" relay "$E2E_RELAY_PORT" "$E2E_COMP_PORT" \
		>"$E2E_TMP/relay.out" 2>&1 3>&- &
	relay=$!
	scn_track "$relay"
	for i in $(seq 300); do
		grep -q listening "$E2E_TMP/relay.out" && break
		sleep 0.1
	done
	grep -q listening "$E2E_TMP/relay.out" || fail "the relay did not start within 30 s"
	link_config fo "hosts = ( \"127.0.0.1:$E2E_RELAY_PORT\", \"127.0.0.1:$second\" );"
	link_launch fo
	e2e_wait_log "$E2E_TMP/fo.log" "connected to 127.0.0.1:$E2E_RELAY_PORT" 15 \
		"$E2E_COMPONENT_PID" || { tail -n 5 "$E2E_TMP/fo.log"; fail "not connected through the relay"; }
	e2e_client "$out.1" alice fo1 --body "first" || rc=$?
	expect_rc 0 "$rc" "$out.1" "round trip through the first server"
	e2e_kill "$relay"
	e2e_wait_log "$E2E_TMP/fo.log" "connected to 127.0.0.1:$second" 15 \
		"$E2E_COMPONENT_PID" || { tail -n 5 "$E2E_TMP/fo.log"; fail "no failover"; }
	grep -q "failing over to 127.0.0.1:$second" "$E2E_TMP/fo.log" ||
		fail "no 'failing over' line"
	rc=0
	e2e_client "$out.2" alice fo2 --body "second" || rc=$?
	expect_rc 0 "$rc" "$out.2" "round trip through the second server"
	note "$(grep -E 'lost|failing over|connected to' "$E2E_TMP/fo.log" | sed 's/^[^ ]* //' | tr '\n' ' ' | cut -c1-300)"
}

# The service password of the access scenarios and its yescrypt hash, made
# by ope-component itself (stdin, never argv).
SVC_PASSWORD=svc-e2e-$$
svc_hash()
{
	printf '%s\n' "$SVC_PASSWORD" | "$OPE_BUILDDIR/ope-component" --hash-password
}

# summary_field OUT NAME: NAME's value in ope-client's --count summary.
summary_field()
{
	grep -o "$2=[0-9.]*" "$1" | tail -n 1 | cut -d= -f2
}

run_probe()
{
	local out=$1 py rc=0
	shift
	py=$(e2e_python_slixmpp) || fail "no python3 with slixmpp: install python3-slixmpp"
	OPE_PASSWORD=$E2E_PASSWORD OPE_SERVICE_PASSWORD=$SVC_PASSWORD timeout 120 \
		"$py" "$E2E_SRC/probe.py" --host 127.0.0.1 --port "$E2E_C2S_PORT" \
		--cafile "$E2E_CAFILE" --component "$E2E_COMPONENT" "$@" \
		>"$out" 2>&1 || rc=$?
	sed 's/^/    probe: /' "$out"
	[ "$rc" = 0 ] || fail "probe.py $* failed (exit $rc)"
}

# 11. The permission table and the service password, with ope-client and
# the independent slixmpp probe: allowed, denied, password right, wrong and
# missing, and a burst over the sender rate.
scn_access()
{
	local out=$E2E_TMP/access hash rc log=$E2E_TMP/acc.log pwfile
	hash=$(svc_hash) || fail "ope-component --hash-password failed"
	case $hash in "\$y\$"*) ;; *) fail "--hash-password printed '$hash'" ;; esac
	cat >"$E2E_TMP/acc.extra" <<EOF
access = {
  default = "deny";
  rules = (
    { match = "bob@$E2E_HOST"; action = "allow"; },
    { match = "carol@$E2E_HOST"; action = "deny"; },
    { match = "*@$E2E_HOST"; action = "allow"; password = "$hash"; }
  );
};
limits = { sender = { rate = 5.0; burst = 10; }; };
EOF
	e2e_component_config acc
	"$OPE_BUILDDIR/ope-component" -c "$E2E_TMP/acc.conf" --check-config \
		>"$out.check" 2>&1 || { cat "$out.check"; fail "--check-config refused the access config"; }
	expect_text "$out.check" "access: 3 rules, default deny" "--check-config lacks the access summary"
	comp_start acc || fail "ope-component did not connect"
	rc=0; e2e_client "$out.bob" bob a1 --data bob-ok || rc=$?
	expect_rc 0 "$rc" "$out.bob" "allowed without a password (bob)"
	rc=0; e2e_client "$out.carol" carol a2 || rc=$?
	expect_rc 1 "$rc" "$out.carol" "denied (carol)"
	expect_text "$out.carol" "type=auth condition=forbidden" "carol did not get auth/forbidden"
	pwfile=$E2E_TMP/svc-pw
	printf '%s\n' "$SVC_PASSWORD" >"$pwfile"
	chmod 600 "$pwfile"
	rc=0; e2e_client "$out.right" alice a3 --service-password-file "$pwfile" \
		--data right-pw || rc=$?
	expect_rc 0 "$rc" "$out.right" "right password from a file (alice)"
	rc=0; OPE_SERVICE_PASSWORD=$SVC_PASSWORD e2e_client "$out.env" alice a4 --iq || rc=$?
	expect_rc 0 "$rc" "$out.env" "right password from OPE_SERVICE_PASSWORD (--iq)"
	rc=0; OPE_SERVICE_PASSWORD=wrong-$SVC_PASSWORD e2e_client "$out.wrong" alice a5 || rc=$?
	expect_rc 1 "$rc" "$out.wrong" "wrong password"
	expect_text "$out.wrong" "type=auth condition=not-authorized" "wrong password: not auth/not-authorized"
	rc=0; e2e_client "$out.none" alice a6 || rc=$?
	expect_rc 1 "$rc" "$out.none" "missing password"
	expect_text "$out.none" "type=auth condition=not-authorized" "missing password: not auth/not-authorized"
	rc=0; e2e_client "$out.ping" carol a7 --ping || rc=$?
	expect_rc 0 "$rc" "$out.ping" "ping from a denied sender (public)"
	# A burst of 100 at once against burst = 10, rate = 5/s: refusals
	# unless it took ope 18 s to see them all.
	rc=0; e2e_client "$out.burst" alice a8 --service-password-file "$pwfile" \
		--count 100 --window 100 || rc=$?
	expect_rc 1 "$rc" "$out.burst" "burst over the sender rate"
	expect_text "$out.burst" "type=wait condition=policy-violation" "burst: no wait/policy-violation"
	expect_text "$out.burst" "rate limit" "burst: the error text does not say rate limit"
	[ "$(summary_field "$out.burst" timeouts)" = 0 ] || fail "burst: requests went unanswered"
	# At most the burst plus what the rate refilled while they came.
	awk -v ok="$(summary_field "$out.burst" ok)" -v t="$(summary_field "$out.burst" elapsed)" \
		'BEGIN { exit !(ok <= 10 + 5 * (t + 1)) }' ||
		fail "burst: $(grep -o 'ok=[0-9]*.*elapsed=[0-9.]*s' "$out.burst") is more than burst 10 + 5/s allow"
	note "burst of 100: $(grep -o 'ok=[0-9]* errors=[0-9]*' "$out.burst")"
	sleep 1.5
	rc=0; e2e_client "$out.after" alice a9 --service-password-file "$pwfile" || rc=$?
	expect_rc 0 "$rc" "$out.after" "answers again after the refill"
	run_probe "$out.probe" --jid "probe@$E2E_HOST/acc" --access password --burst 100
	run_probe "$out.probe2" --jid "carol@$E2E_HOST/acc" --access forbidden
	grep -q "denied carol@$E2E_HOST by rule $E2E_TMP/acc.conf:" "$log" ||
		{ cat "$log"; fail "no denial line naming carol and the rule's FILE:LINE"; }
	grep -q "$SVC_PASSWORD" "$log" && fail "the service password appears in the component log"
	note "probe: $(grep -c '^ok' "$out.probe") + $(grep -c '^ok' "$out.probe2") access checks ok"
}

# 12. SIGHUP changes the table live; the requests in flight are all answered.
scn_access_reload()
{
	local out=$E2E_TMP/reload pid rc log=$E2E_TMP/ar.log mport i n
	mport=$(e2e_util free-ports 1) || fail "no free port for metrics.listen"
	cat >"$E2E_TMP/ar.extra" <<EOF
access = { default = "allow"; rules = ( { match = "carol@$E2E_HOST"; action = "deny"; } ); };
limits = { sender = { rate = 0.0; }; total = { rate = 0.0; }; };
metrics = { listen = "127.0.0.1:$mport"; };
EOF
	comp_start ar || fail "ope-component did not connect"
	e2e_client "$out.load" alice r1 --count 50000 --window 20 --timeout 20 &
	pid=$!
	scn_track "$pid"
	# The reload comes once ope has answered part of the load.
	for ((i = 0; i < 600; i++)); do
		n=$(scrape_metrics "$mport" /dev/stdout 2>/dev/null |
			awk '$1 == "ope_stanzas_answered_total{kind=\"message\"}" { print $2 }')
		[ "${n:-0}" -ge 500 ] && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	[ "${n:-0}" -ge 500 ] || fail "the load was not answered within 60 s: ${n:-no} answers"
	cat >"$E2E_TMP/ar.extra" <<EOF
access = { default = "allow"; rules = ( { match = "alice@$E2E_HOST"; action = "deny"; } ); };
limits = { sender = { rate = 0.0; }; total = { rate = 0.0; }; };
metrics = { listen = "127.0.0.1:$mport"; };
EOF
	e2e_component_config ar
	kill -HUP "$(cat "$E2E_TMP/ar.pid")"
	e2e_wait_log "$log" "configuration reloaded" 10 "$(cat "$E2E_TMP/ar.pid")" ||
		{ cat "$log"; fail "no 'configuration reloaded' line"; }
	rc=0; wait "$pid" || rc=$?
	note "load across the reload: $(grep -o 'sent=.*timeouts=[0-9]*' "$out.load")"
	[ "$(summary_field "$out.load" timeouts)" = 0 ] || { cat "$out.load"; fail "requests in flight were not answered"; }
	[ "$(summary_field "$out.load" sent)" = 50000 ] || { cat "$out.load"; fail "not all 50000 sent"; }
	[ "$(summary_field "$out.load" ok)" -gt 0 ] || fail "nothing was allowed before the reload"
	[ "$(summary_field "$out.load" errors)" -gt 0 ] ||
		fail "nothing was refused after the reload (did the load end before it?)"
	expect_text "$out.load" "condition=forbidden" "refusals after the reload are not forbidden"
	rc=0; e2e_client "$out.alice" alice r2 || rc=$?
	expect_rc 1 "$rc" "$out.alice" "alice after the reload"
	expect_text "$out.alice" "condition=forbidden" "alice after the reload"
	rc=0; e2e_client "$out.carol" carol r3 || rc=$?
	expect_rc 0 "$rc" "$out.carol" "carol after the reload"
	# A broken table is refused and the running one stays.
	echo 'access = { rules = ( { match = "a@b/c"; action = "allow"; } ); };' >"$E2E_TMP/ar.extra"
	e2e_component_config ar
	kill -HUP "$(cat "$E2E_TMP/ar.pid")"
	e2e_wait_log "$log" "reload failed" 10 "$(cat "$E2E_TMP/ar.pid")" ||
		{ cat "$log"; fail "a broken table was not refused"; }
	grep -q "ar.conf:[0-9]*: 'a@b/c' is not a valid pattern" "$log" ||
		{ cat "$log"; fail "the refusal lacks FILE:LINE"; }
	rc=0; e2e_client "$out.alice2" alice r4 || rc=$?
	expect_rc 1 "$rc" "$out.alice2" "alice after a refused reload (old table kept)"
}

# 13. Hostile: one account floods wrong passwords far over its rate while a
# second one does single round trips; all of the second's replies arrive.
# bob's two runs of BOB requests fit in the burst, so no speed of his
# makes him a rate-limit case; the flood's 60,000 go far beyond it.
scn_hostile()
{
	local out=$E2E_TMP/hostile hash rc p1 p2 f1 f2 t0 t1 log=$E2E_TMP/hs.log
	local bob=300 started lines
	started=$(date +%s)
	hash=$(svc_hash) || fail "ope-component --hash-password failed"
	cat >"$E2E_TMP/hs.extra" <<EOF
access = {
  default = "deny";
  rules = (
    { match = "bob@$E2E_HOST"; action = "allow"; password = "$hash"; },
    { match = "*@$E2E_HOST"; action = "allow"; password = "$hash"; }
  );
};
# Room for both of bob's runs in the burst whatever their speed; the
# flood goes far beyond it.
limits = { sender = { rate = 100.0; burst = $((2 * bob)); }; };
EOF
	comp_start hs || fail "ope-component did not connect"
	rc=0; OPE_SERVICE_PASSWORD=$SVC_PASSWORD e2e_client "$out.quiet" bob h1 \
		--count "$bob" --window 1 || rc=$?
	expect_rc 0 "$rc" "$out.quiet" "bob without the flood"
	p1=$(summary_field "$out.quiet" p99)
	t0=$(cpu_ticks "$(cat "$E2E_TMP/hs.pid")")
	OPE_SERVICE_PASSWORD=guess e2e_client "$out.flood1" alice f1 \
		--count 30000 --window 100 --timeout 20 &
	f1=$!
	scn_track "$f1"
	OPE_SERVICE_PASSWORD=guess e2e_client "$out.flood2" alice f2 --iq \
		--count 30000 --window 100 --timeout 20 &
	f2=$!
	scn_track "$f2"
	# bob's second run starts once the flood reaches ope.
	e2e_wait_log "$log" "wrong password from alice@$E2E_HOST" 60 \
		"$(cat "$E2E_TMP/hs.pid")" || { cat "$log"; fail "the flood never reached ope-component"; }
	rc=0; OPE_SERVICE_PASSWORD=$SVC_PASSWORD e2e_client "$out.busy" bob h2 \
		--count "$bob" --window 1 || rc=$?
	kill -0 "$f1" 2>/dev/null || note "warning: the flood ended before bob's run did"
	expect_rc 0 "$rc" "$out.busy" "bob during the flood"
	p2=$(summary_field "$out.busy" p99)
	wait "$f1" || true
	wait "$f2" || true
	t1=$(cpu_ticks "$(cat "$E2E_TMP/hs.pid")")
	grep -q "wrong password from alice@$E2E_HOST" "$log" ||
		{ cat "$log"; fail "no wrong password was checked"; }
	# One line a minute per sender: whichever limit refused it first.
	grep -Eq "(too many password attempts from|over its rate limit:) alice@$E2E_HOST" "$log" ||
		{ cat "$log"; fail "the flood was not rate-limited"; }
	[ "$(summary_field "$out.flood1" ok)" = 0 ] || fail "a wrong password was accepted"
	# At most one line a minute (guard.c's LOG_EVERY_S) since the start.
	lines=$(grep -c 'wrong password from alice' "$log")
	[ "$lines" -le $((1 + ($(date +%s) - started + 59) / 60)) ] ||
		fail "the log floods: $lines lines for alice in $(($(date +%s) - started)) s"
	grep -q guess "$log" && fail "a guessed password appears in the log"
	note "hostile: bob p99 ${p1} ms without the flood, ${p2} ms with it ($bob round trips each, all answered)"
	note "flood (alice, wrong password): $(grep -o 'sent=.*timeouts=[0-9]*' "$out.flood1"); $(grep -o 'rate=[0-9.]*/s' "$out.flood1")"
	note "flood --iq: $(grep -o 'sent=.*timeouts=[0-9]*' "$out.flood2")"
	note "ope-component CPU during the flood and bob's run: $(( (t1 - t0) * 1000 / $(getconf CLK_TCK) )) ms for $(( $(summary_field "$out.flood1" sent) + $(summary_field "$out.flood2" sent) + bob )) requests; machine load: $(cut -d' ' -f1-3 /proc/loadavg)"
}

# 19. Forged senders: alice, denied, sends requests that carry bob's address
# in every shape a client can give the server (tests/e2e/forge.py) while bob
# is online there. None is served, bob hears nothing, the link stays up, and
# the forged address is never read as a sender.
scn_forgery()
{
	local out=$E2E_TMP/forgery py rc=0 log=$E2E_TMP/fg.log
	cat >"$E2E_TMP/fg.extra" <<EOF
access = { default = "deny"; rules = ( { match = "bob@$E2E_HOST"; action = "allow"; } ); };
# No rate limit: every refusal is the access table's, however fast it runs.
limits = { sender = { rate = 0.0; }; total = { rate = 0.0; }; };
EOF
	comp_start fg || fail "ope-component did not connect"
	py=$(e2e_python_slixmpp) || fail "no python3 with slixmpp: install python3-slixmpp"
	OPE_PASSWORD=$E2E_PASSWORD timeout 120 "$py" "$E2E_SRC/forge.py" \
		--attacker "alice@$E2E_HOST/forge" --victim "bob@$E2E_HOST/victim" \
		--host 127.0.0.1 --port "$E2E_C2S_PORT" --cafile "$E2E_CAFILE" \
		--component "$E2E_COMPONENT" --rounds 10 >"$out" 2>&1 || rc=$?
	sed 's/^/    forge: /' "$out"
	[ "$rc" = 0 ] || fail "forge.py failed (exit $rc)"
	[ "$(grep -c "connected to 127.0.0.1:$E2E_COMP_PORT" "$log")" = 1 ] ||
		{ cat "$log"; fail "the link was lost and made again during the forgeries"; }
	grep -q "malformed XML" "$log" && { cat "$log"; fail "the forgeries broke the stream"; }
	grep -q "bob@$E2E_HOST/victim" "$log" &&
		{ cat "$log"; fail "the forged address reached the log (it was read as a sender)"; }
	note "$(grep '^# attacker heard' "$out" | sed 's/^# //')"
}

# 20. ope-client --count: --json prints one JSON object; on a terminal one
# progress line is redrawn on stderr, and nothing of it when stderr is not
# a terminal.
scn_client_output()
{
	local out=$E2E_TMP/client-output rc=0
	echo 'limits = { sender = { rate = 0.0; }; total = { rate = 0.0; }; };' >"$E2E_TMP/co.extra"
	comp_start co || fail "ope-component did not connect"
	rc=0; e2e_client "$out.json" alice j2 --count 200 --window 20 --json || rc=$?
	expect_rc 0 "$rc" "$out.json" "--json"
	"${PYTHON3:-python3}" - "$out.json" <<'EOF' || fail "--json: not one JSON object with count=ok=200: $(cat "$out.json")"
import json, sys
lines = [l for l in open(sys.argv[1]) if l.strip()]
assert len(lines) == 1, lines
d = json.loads(lines[0])
assert d["count"] == 200 and d["ok"] == 200 and d["sent"] == 200, d
assert d["errors"] == 0 and d["timeouts"] == 0 and d["elapsed_s"] > 0, d
EOF
	grep -q "$(printf '\r')" "$out.json" && fail "a progress line went to a file"
	command -v script >/dev/null || fail "script(1) not found: install bsdutils"
	# script(1) gives ope-client a terminal; the typescript keeps the \r.
	rc=0
	OPE_PASSWORD=$E2E_PASSWORD timeout 120 script -qec "'$OPE_BUILDDIR/ope-client' \
		-j 'alice@$E2E_HOST/j3' -t '$E2E_COMPONENT' --host 127.0.0.1 \
		--port '$E2E_C2S_PORT' --cafile '$E2E_CAFILE' --timeout 15 \
		--count 200 --window 20" "$out.tty" >/dev/null 2>&1 </dev/null || rc=$?
	expect_rc 0 "$rc" "$out.tty" "--count on a terminal"
	grep -q "$(printf '\r')sent [0-9]*/200  answered" "$out.tty" ||
		fail "no progress line on the terminal: $(od -c "$out.tty" | head)"
	grep -q "sent=200 ok=200" "$out.tty" || fail "no summary after the progress line"
	note "progress: $(tr '\r' '\n' <"$out.tty" | grep -c '^sent ') lines drawn; json: $(cat "$out.json")"
}

# GET http://127.0.0.1:PORT/metrics into FILE (no curl on a bare Debian).
scrape_metrics()
{
	"${PYTHON3:-python3}" -c 'import sys, urllib.request
sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode())' \
		"http://127.0.0.1:$1/metrics" >"$2"
}

# expect_sample FILE 'NAME{LABELS}' VALUE
expect_sample()
{
	grep -qxF -- "$2 $3" "$1" ||
		fail "/metrics: want '$2 $3', got '$(grep -F -- "$2 " "$1")'"
}

# 11. Metrics and health: after a known ope-client load the counters equal
# what was sent; --health follows the link through a server restart.
scn_metrics()
{
	local out=$E2E_TMP/metrics.out conf=$E2E_TMP/metrics.conf
	local log=$E2E_TMP/metrics.log mport pid rc=0 kind
	mport=$(e2e_util free-ports 1) || fail "no free port for metrics.listen"
	# One account at full speed is abuse by the default rate limits.
	echo 'limits = { sender = { rate = 0.0; }; total = { rate = 0.0; }; };' \
		>"$E2E_TMP/metrics.extra"
	e2e_component_config metrics
	echo "metrics   = { listen = \"127.0.0.1:$mport\"; };" >>"$conf"
	"$OPE_BUILDDIR/ope-component" -c "$conf" >"$out.stdout" 2>"$log" 3>&- &
	pid=$!
	scn_track "$pid"
	e2e_wait_log "$log" "connected to 127.0.0.1:$E2E_COMP_PORT" 15 "$pid" ||
		fail "ope-component did not connect: $(tail -n 3 "$log")"
	"$OPE_BUILDDIR/ope-component" --health -c "$conf" >"$out.h1" 2>&1 ||
		fail "--health while connected: exit $?: $(cat "$out.h1")"
	e2e_client "$out.msg" alice mt1 --count 300 --window 20 || rc=$?
	expect_rc 0 "$rc" "$out.msg" "--count 300 --window 20"
	rc=0; e2e_client "$out.iq" alice mt2 --iq --count 40 --window 10 || rc=$?
	expect_rc 0 "$rc" "$out.iq" "--iq --count 40 --window 10"
	scrape_metrics "$mport" "$out.metrics" || fail "cannot GET /metrics"
	expect_sample "$out.metrics" 'ope_stanzas_received_total{kind="message"}' 300
	expect_sample "$out.metrics" 'ope_stanzas_answered_total{kind="message"}' 300
	expect_sample "$out.metrics" 'ope_stanzas_received_total{kind="iq"}' 40
	expect_sample "$out.metrics" 'ope_stanzas_answered_total{kind="iq"}' 40
	for kind in presence other; do
		expect_sample "$out.metrics" "ope_stanzas_received_total{kind=\"$kind\"}" 0
	done
	expect_sample "$out.metrics" 'ope_request_duration_seconds_count' 340
	expect_sample "$out.metrics" 'ope_link_up{link="failover"}' 1
	if grep -E '^ope_(stanza_errors_sent|stanzas_dropped)_total\{.*\} [1-9]' \
		"$out.metrics"; then
		fail "errors or drops counted for a clean load"
	fi
	command -v promtool >/dev/null ||
		fail "promtool not found: install Debian's prometheus package"
	promtool check metrics <"$out.metrics" >"$out.promtool" 2>&1 ||
		fail "promtool check metrics: $(cat "$out.promtool")"
	note "after 300 messages and 40 IQs: $(grep -F 'ope_request_duration_seconds_bucket{le="0.0001"}' "$out.metrics")"

	e2e_server_stop
	e2e_wait_log "$log" "connection to 127.0.0.1:$E2E_COMP_PORT lost" 20 "$pid" ||
		fail "ope-component did not notice the server going away"
	rc=0; "$OPE_BUILDDIR/ope-component" --health -c "$conf" >"$out.h2" 2>&1 || rc=$?
	[ "$rc" = 1 ] || fail "--health with the server stopped: exit $rc: $(cat "$out.h2")"
	grep -q '^unhealthy: link down: ' "$out.h2" ||
		fail "--health with the server stopped says: $(cat "$out.h2")"
	note "server stopped: $(cat "$out.h2")"
	e2e_server_restart || fail "the server did not come back"
	wait_log_count "$log" "connected to 127.0.0.1:$E2E_COMP_PORT" 2 30 "$pid" ||
		fail "ope-component did not reconnect within 30 s"
	"$OPE_BUILDDIR/ope-component" --health -c "$conf" >"$out.h3" 2>&1 ||
		fail "--health after the reconnect: exit $?: $(cat "$out.h3")"
	scrape_metrics "$mport" "$out.metrics2" || fail "cannot GET /metrics"
	expect_sample "$out.metrics2" 'ope_link_handshakes_total{link="failover"}' 2
	grep -qE '^ope_reconnects_total\{link="failover"\} [1-9]' "$out.metrics2" ||
		fail "no reconnect counted: $(grep reconnects "$out.metrics2")"
}

# wait_log_count FILE PATTERN COUNT TIMEOUT PID: COUNT lines match.
wait_log_count()
{
	local i
	for ((i = 0; i < $4 * 10; i++)); do
		[ "$(grep -cF -- "$2" "$1")" -ge "$3" ] && return 0
		kill -0 "$5" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# --- runner ----------------------------------------------------------------

E2E_N=0
E2E_PASSED=0
E2E_FAILED=0

# ope-client against an independent component written with slixmpp: the
# client must interoperate, not only work with ope-component.
scn_client_interop()
{
	local out=$E2E_TMP/interop log=$E2E_TMP/slixmpp-component.log py rc i
	py=$(e2e_python_slixmpp) || fail "no python3 with slixmpp: install python3-slixmpp"
	"$py" "$E2E_SRC/slixmpp_component.py" "$E2E_COMPONENT" "$E2E_SECRET" \
		"$E2E_COMP_PORT" >"$log" 2>&1 3>&- &
	scn_track $!
	for i in $(seq 600); do
		grep -q '^connected' "$log" && break
		sleep 0.1
	done
	grep -q '^connected' "$log" ||
		fail "the slixmpp component did not connect within 60 s: $(tail -n 3 "$log")"
	rc=0; e2e_client "$out.msg" alice si1 --another 'x&<' --data 'ü✓' \
		--body 'b "q"' || rc=$?
	expect_rc 0 "$rc" "$out.msg" "message round trip via the slixmpp component"
	expect_text "$out.msg" 'ü✓' "reply lacks the UTF-8 data"
	rc=0; e2e_client "$out.iq" alice si2 --iq || rc=$?
	expect_rc 0 "$rc" "$out.iq" "--iq via the slixmpp component"
	rc=0; e2e_client "$out.ping" alice si3 --ping || rc=$?
	expect_rc 0 "$rc" "$out.ping" "--ping via the slixmpp component"
	note "slixmpp component: $(head -n 1 "$out.msg")"
}

# 24. XEP-0050 ad-hoc commands for commands.admins: ope-client and slixmpp's
# xep_0050 (an independent client), as an admin and as anyone else.
scn_adhoc()
{
	local out=$E2E_TMP/adhoc rc log=$E2E_TMP/ah.log py pid i who
	cat >"$E2E_TMP/ah.extra" <<EOF
commands = { admins = ( "bob@$E2E_HOST" ); };
access = { default = "allow"; rules = ( { match = "carol@$E2E_HOST"; action = "deny"; } ); };
EOF
	comp_start ah || fail "ope-component did not connect"
	pid=$(cat "$E2E_TMP/ah.pid")
	rc=0; e2e_client "$out.status" bob h1 --command status || rc=$?
	expect_rc 0 "$rc" "$out.status" "status as an admin"
	expect_text "$out.status" "pid=$pid" "status lacks the pid"
	expect_text "$out.status" "link=up" "status lacks the link"
	rc=0; e2e_client "$out.alice" alice h2 --command status || rc=$?
	expect_rc 1 "$rc" "$out.alice" "status as a non-admin"
	expect_text "$out.alice" "condition=forbidden" "a non-admin is not forbidden"
	rc=0; e2e_client "$out.who" bob h3 --command who --field "jid=carol@$E2E_HOST" || rc=$?
	expect_rc 0 "$rc" "$out.who" "who carol"
	expect_text "$out.who" "rule=$E2E_TMP/ah.conf:" "who lacks the rule's FILE:LINE"
	expect_text "$out.who" "action=deny" "who carol: not deny"
	rc=0; e2e_client "$out.ask" bob h4 --command who || rc=$?
	expect_rc 1 "$rc" "$out.ask" "who without a JID (asks for one)"
	expect_text "$out.ask" "executing" "who without a JID does not say it needs input"
	rc=0; e2e_client "$out.forgive" bob h5 --command forgive --field "jid=alice@$E2E_HOST" || rc=$?
	expect_rc 0 "$rc" "$out.forgive" "forgive alice"
	expect_text "$out.forgive" "forgiven=true" "alice had no buckets"
	py=$(e2e_python_slixmpp) || fail "no python3 with slixmpp: install python3-slixmpp"
	for who in bob:admin alice:other; do
		rc=0
		OPE_PASSWORD=$E2E_PASSWORD timeout 120 "$py" "$E2E_SRC/adhoc_slixmpp.py" \
			--jid "${who%%:*}@$E2E_HOST/sx" --port "$E2E_C2S_PORT" \
			--cafile "$E2E_CAFILE" --component "$E2E_COMPONENT" \
			--expect "${who##*:}" --ask "carol@$E2E_HOST" \
			>"$out.sx-${who%%:*}" 2>&1 3>&- || rc=$?
		sed 's/^/    slixmpp: /' "$out.sx-${who%%:*}"
		[ "$rc" = 0 ] || fail "slixmpp xep_0050 as ${who##*:} failed (exit $rc)"
	done
	# reload: a broken file is refused with FILE:LINE, a good one says
	# what changed.
	echo 'bogus = 1;' >>"$E2E_TMP/ah.extra"
	e2e_component_config ah
	rc=0; e2e_client "$out.bad" bob h6 --command reload || rc=$?
	expect_rc 1 "$rc" "$out.bad" "reload of a broken file"
	expect_text "$out.bad" "ah.conf:" "the refused reload lacks FILE:LINE"
	sed -i 's/^bogus = 1;$/limits = { sender = { rate = 7.0; }; };/' "$E2E_TMP/ah.extra"
	e2e_component_config ah
	rc=0; e2e_client "$out.reload" bob h7 --command reload || rc=$?
	expect_rc 0 "$rc" "$out.reload" "reload"
	expect_text "$out.reload" "changed: limits.sender.rate" "reload does not say what changed"
	grep -q "admin bob@$E2E_HOST/h1 ran status" "$log" ||
		{ cat "$log"; fail "no log line naming the admin"; }
	# stop: answered, then drained and gone.
	rc=0; e2e_client "$out.stop" bob h8 --command stop || rc=$?
	expect_rc 0 "$rc" "$out.stop" "stop"
	for i in $(seq 150); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && fail "ope-component still runs 15 s after stop"
	grep -q "shutting down" "$log" || { cat "$log"; fail "no shutdown line"; }
	note "status: $(tr '\n' ' ' <"$out.status" | cut -c1-160)"
}

run_scenario()
{
	local name=$1 rc=0 log f
	E2E_N=$((E2E_N + 1))
	log=$E2E_TMP/scenario-$name.log
	touch "$E2E_TMP/scenario-$name.start"
	if ! e2e_server_answers 2 >/dev/null 2>&1; then
		e2e_log "server not answering before $name: restarting it"
		e2e_server_stop
		e2e_server_restart >>"$log" 2>&1
	fi
	(
		E2E_SCN_PIDS=$E2E_TMP/scenario-$name.pids
		: >"$E2E_SCN_PIDS"
		trap scn_cleanup EXIT
		"scn_$name"
	) >>"$log" 2>&1 || rc=$?
	if [ "$rc" = 0 ]; then
		E2E_PASSED=$((E2E_PASSED + 1))
		echo "ok $E2E_N - $name"
	else
		E2E_FAILED=$((E2E_FAILED + 1))
		echo "not ok $E2E_N - $name"
		sed 's/^/#   /' "$log"
		# The component logs this scenario wrote.
		for f in "$E2E_TMP"/*.log; do
			case $f in */scenario-*) continue ;; esac
			if [ ! -s "$f" ] || [ ! "$f" -nt "$E2E_TMP/scenario-$name.start" ]; then
				continue
			fi
			echo "#   --- ${f##*/} (last lines)"
			tail -n 8 "$f" | sed 's/^/#   /'
		done
		echo "#   --- server log (last lines)"
		e2e_server_log_tail 2>&1 | sed 's/^/#   /'
	fi
}

main()
{
	local s names
	names=${*:-$ALL_SCENARIOS}
	for s in $names; do
		declare -F "scn_$s" >/dev/null || {
			# shellcheck disable=SC2086 # the list, one word each
			echo "unknown scenario '$s'; known:" $ALL_SCENARIOS >&2
			return 64
		}
	done
	# shellcheck disable=SC2086 # the list, one word each
	set -- $names
	echo "1..$#"
	e2e_init || { echo "not ok - setting up the test run"; return 1; }
	for s in ope-component ope-client; do
		if [ ! -x "$OPE_BUILDDIR/$s" ]; then
			echo "not ok - $OPE_BUILDDIR/$s is missing: build it first (make)"
			echo "# 0 passed, 1 failed"
			return 1
		fi
	done
	e2e_log "starting ${E2E_SERVER}: c2s 127.0.0.1:$E2E_C2S_PORT, component 127.0.0.1:$E2E_COMP_PORT, temp dir $E2E_TMP"
	if ! e2e_server_start >"$E2E_TMP/server-start.log" 2>&1; then
		sed 's/^/#   /' "$E2E_TMP/server-start.log"
		echo "not ok - cannot start $E2E_SERVER (see above; install what it names)"
		echo "# 0 passed, 1 failed"
		return 1
	fi
	grep ' e2e: ' "$E2E_TMP/server-start.log" >&2
	echo "# server: $(e2e_server_describe)"
	for s in alice bob carol probe; do
		if ! e2e_server_register "$s" "$E2E_PASSWORD" \
			>>"$E2E_TMP/register.log" 2>&1; then
			sed 's/^/#   /' "$E2E_TMP/register.log"
			echo "not ok - cannot register user $s on $E2E_SERVER"
			echo "# 0 passed, 1 failed"
			return 1
		fi
	done
	for s in $names; do
		run_scenario "$s"
	done
	echo "# $E2E_PASSED passed, $E2E_FAILED failed ($(e2e_server_describe))"
	[ "$E2E_FAILED" = 0 ]
}

main "$@"
