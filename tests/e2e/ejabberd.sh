# SPDX-License-Identifier: MIT
# tests/e2e/ejabberd.sh: start/stop a throwaway ejabberd (Debian package) from its own config dir, without epmd.
# shellcheck shell=bash
#
# Sourced by lib.sh. "ejabberdctl --config-dir DIR" reads DIR/ejabberdctl.cfg,
# which runs the node as the current user with Erlang distribution on a
# free loopback port and a private cookie, so no epmd is started and no
# other ejabberd on the machine is touched.
#
# Optional, set by callers that need more than one plain node (scaleout.sh):
#   EJABBERD_NODE         a name for a second/third node: its own directory
#                         (ejabberd-NAME), node name and the ports the caller
#                         put in E2E_C2S_PORT/E2E_COMP_PORT/E2E_DIST_PORT
#   EJABBERD_EPMD_PORT    cluster mode (FACTS.md): a private epmd on this
#                         loopback port, INET_DIST_INTERFACE=127.0.0.1 and the
#                         fixed distribution port E2E_DIST_PORT set only for
#                         start (ERL_DIST_PORT cannot cluster two nodes)
#   EJABBERD_COOKIE       a cookie shared by the nodes of a cluster
#   EJABBERD_ERL_PA       a directory of extra .beam files (-pa)
#   EJABBERD_MODULES      extra lines under "modules:" (two-space indented)
#   EJABBERD_TOP          extra top-level ejabberd.yml text

ejabberd_dir()
{
	echo "$E2E_TMP/ejabberd${EJABBERD_NODE:+-$EJABBERD_NODE}"
}

# The Erlang node name of the current node (EJABBERD_NODE).
ejabberd_node()
{
	echo "$E2E_ID${EJABBERD_NODE:+-$EJABBERD_NODE}@localhost"
}

ejabberd_ctl()
{
	ejabberdctl --config-dir "$(ejabberd_dir)" "$@"
}

ejabberd_write_config()
{
	local d cookie
	d=$(ejabberd_dir)
	mkdir -p "$d/spool" "$d/logs" "$d/modules"
	cookie=${EJABBERD_COOKIE:-$(openssl rand -hex 16)} || return 1
	local pa= dist
	[ -n "${EJABBERD_ERL_PA:-}" ] && pa="-pa $EJABBERD_ERL_PA "
	if [ -n "${EJABBERD_EPMD_PORT:-}" ]; then
		# ejabberdctl sources this file with its command in $1.
		dist="ERL_EPMD_PORT=$EJABBERD_EPMD_PORT
ERL_EPMD_ADDRESS=127.0.0.1
export ERL_EPMD_PORT ERL_EPMD_ADDRESS
INET_DIST_INTERFACE=127.0.0.1
case \$1 in start|foreground|live) FIREWALL_WINDOW=$E2E_DIST_PORT-$E2E_DIST_PORT ;; esac
ERL_OPTIONS=\"${pa}-env ERL_CRASH_DUMP_BYTES 0 -setcookie $cookie\""
	else
		dist="ERL_DIST_PORT=$E2E_DIST_PORT
ERL_OPTIONS=\"${pa}-env ERL_CRASH_DUMP_BYTES 0 -kernel inet_dist_use_interface {127,0,0,1} -setcookie $cookie\""
	fi
	cat >"$d/ejabberdctl.cfg" <<EOF
# ejabberdctl.cfg written by tests/e2e/ejabberd.sh for one test run.
EXEC_CMD=as_current_user
ERLANG_NODE=$(ejabberd_node)
EJABBERD_CONFIG_PATH=$d/ejabberd.yml
SPOOL_DIR=$d/spool
LOGS_DIR=$d/logs
EJABBERD_PID_PATH=$d/ejabberd.pid
CONTRIB_MODULES_PATH=$d/modules
CONTRIB_MODULES_CONF_DIR=$d/modules
EJABBERD_BYPASS_WARNINGS=true
$dist
EOF
	chmod 600 "$d/ejabberdctl.cfg"
	# ejabberdctl points ERL_INETRC here; without it Erlang logs an error.
	: >"$d/inetrc"
	cat >"$d/ejabberd.yml" <<EOF
# ejabberd.yml written by tests/e2e/ejabberd.sh for one test run.
hosts:
  - localhost
loglevel: info
certfiles:
  - "$E2E_TMP/certs/localhost.pem"
s2s_access: none
auth_method: internal
listen:
  -
    port: $E2E_C2S_PORT
    ip: "127.0.0.1"
    module: ejabberd_c2s
    starttls: true
    shaper: none
    max_stanza_size: 1048576
  -
    port: $E2E_COMP_PORT
    ip: "127.0.0.1"
    module: ejabberd_service
    shaper: none
    hosts:
      $E2E_COMPONENT:
        password: "$E2E_SECRET"
  -
    port: $E2E_COMP_TLS_PORT
    ip: "127.0.0.1"
    module: ejabberd_service
    tls: true
    certfile: "$E2E_TMP/certs/localhost.pem"
    shaper: none
    hosts:
      $E2E_COMPONENT:
        password: "$E2E_SECRET"
  -
    port: $E2E_COMP2_PORT
    ip: "127.0.0.1"
    module: ejabberd_service
    shaper: none
    hosts:
      $E2E_COMPONENT:
        password: "$E2E_SECRET"
acl:
  local:
    user_regexp: ""
access_rules:
  local:
    allow: local
  c2s:
    allow: all
shaper_rules:
  c2s_shaper: none
  max_user_sessions: 100
${EJABBERD_TOP:-}
modules:
  mod_disco: {}
  mod_ping: {}
  mod_roster: {}
${EJABBERD_MODULES:-}
EOF
	chmod 600 "$d/ejabberd.yml"
}

ejabberd_start()
{
	local d
	d=$(ejabberd_dir)
	if ! command -v ejabberdctl >/dev/null 2>&1; then
		echo "cannot start ejabberd: install the ejabberd package" >&2
		return 1
	fi
	# Marks that cleanup has an ejabberd to stop.
	[ -d "$d" ] || ejabberd_write_config || return 1
	touch "$d/started"
	if ! ejabberd_ctl start >"$d/start.log" 2>&1 3>&-; then
		cat "$d/start.log" >&2
		echo "ejabberdctl start failed (log above)" >&2
		return 1
	fi
	# "started" waits for the node; then the listeners must answer.
	timeout 60 ejabberdctl --config-dir "$d" started >>"$d/start.log" 2>&1
	if ! e2e_server_answers 30; then
		ejabberd_log_tail >&2
		echo "ejabberd did not come up (log above; $d/logs)" >&2
		return 1
	fi
}

ejabberd_stop()
{
	ejabberd_stop_dir "$(ejabberd_dir)"
}

# ejabberd_stop_dir DIR: stop the node whose ejabberdctl.cfg is in DIR.
ejabberd_stop_dir()
{
	local d=$1 pid i
	pid=$(cat "$d/ejabberd.pid" 2>/dev/null)
	timeout 60 ejabberdctl --config-dir "$d" stop >>"$d/stop.log" 2>&1
	timeout 60 ejabberdctl --config-dir "$d" stopped >>"$d/stop.log" 2>&1
	# Last resort, by the PID this node wrote (never by name).
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		for ((i = 0; i < 50; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		e2e_kill "$pid"
	fi
	rm -f "$d/ejabberd.pid"
	return 0
}

ejabberd_resume()
{
	ejabberd_start
}

ejabberd_register()
{
	ejabberd_ctl register "$1" "$E2E_HOST" "$2"
}

ejabberd_cleanup()
{
	local d port
	for d in "$E2E_TMP"/ejabberd*/; do
		[ -f "$d/started" ] || continue
		ejabberd_stop_dir "${d%/}"
		rm -f "$d/started"
	done
	# A cluster's private epmd (only ours: its own port).
	for port in $(cat "$E2E_TMP/epmd-ports" 2>/dev/null); do
		epmd -port "$port" -kill >/dev/null 2>&1
	done
	return 0
}

ejabberd_describe()
{
	echo "ejabberd, native ($(dpkg-query -W -f '${Version}' ejabberd 2>/dev/null || echo '?'))"
}

ejabberd_log_tail()
{
	tail -n 30 "$(ejabberd_dir)/logs/ejabberd.log" 2>/dev/null
	tail -n 10 "$(ejabberd_dir)/logs/error.log" 2>/dev/null
}
