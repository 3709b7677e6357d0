#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/demo.sh: install deps, build, start a throwaway Prosody and ope-component, send one example_tag with ope-client, show the exchange.
#
# Works on a bare Debian 12 or Ubuntu as root or with sudo; run it again
# at will. Prosody runs in a container when podman or docker works, else
# natively (OPE_E2E_PROSODY=container|native overrides). Everything it
# starts is stopped on exit, and the demo fails if anything it or the
# install started still listens beyond loopback (tests/listeners.sh).
# Build dir: $OPE_DEMO_BUILDDIR (default build/).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
listen_before=$(mktemp "${TMPDIR:-/tmp}/ope-demo-listen.XXXXXX")
trap 'rm -f "$listen_before"' EXIT

say()
{
	printf '\n== %s\n' "$*"
}

# ss comes with iproute2, which deps.sh installs where it is missing.
snapshot=0
if command -v ss >/dev/null 2>&1; then
	bash "$root/tests/listeners.sh" snapshot "$listen_before"
	snapshot=1
fi

say "Dependencies"
bash "$root/tests/deps.sh"

say "Build"
builddir=${OPE_DEMO_BUILDDIR:-$root/build}
(cd "$root" && autoreconf -fi)
mkdir -p "$builddir"
(cd "$builddir" && "$root/configure" -q && make -j"$(nproc)")
OPE_BUILDDIR=$(cd "$builddir" && pwd)
export OPE_BUILDDIR

# The run in a subshell: lib.sh's cleanup (its EXIT trap) is over when it
# returns, so what is left can be checked.
rc=0
(
. "$root/tests/e2e/lib.sh"
OPE_E2E_SERVER=prosody
OPE_E2E_PROSODY=${OPE_E2E_PROSODY:-auto}
e2e_init || exit 1

say "Prosody"
if ! e2e_server_start; then
	echo "cannot start Prosody (message above)" >&2
	exit 1
fi
echo "running: $(e2e_server_describe)"
echo "c2s on 127.0.0.1:$E2E_C2S_PORT, components on 127.0.0.1:$E2E_COMP_PORT"
e2e_server_register alice "$E2E_PASSWORD" >/dev/null 2>&1 ||
	{ echo "cannot register alice@localhost" >&2; exit 1; }

say "ope-component"
e2e_component_start demo || exit 1
sed 's/secret = "[^"]*"/secret = "(hidden)"/; s/^/  conf: /' "$E2E_TMP/demo.conf"
sed 's/^/  log: /' "$E2E_TMP/demo.log"

another="demo & <test>"
data="ünïcödé ✓"
body="Hello, component!"
say "Sending"
cat <<MSG
from alice@localhost/demo to $E2E_COMPONENT:
  <message to='$E2E_COMPONENT'>
    <body>$body</body>
    <example_tag xmlns='$E2E_NS' another='demo &amp; &lt;test&gt;' data='$data'/>
  </message>
MSG
rc=0
e2e_client "$E2E_TMP/demo.out" alice demo --xml \
	--another "$another" --data "$data" --body "$body" || rc=$?

say "Received (ope-client's output, exit $rc)"
grep -v '^+ ' "$E2E_TMP/demo.out" | sed 's/^/  /'
if [ "$rc" = 0 ]; then
	echo
	echo "The component answered with an <iq type='result'> carrying the same"
	echo "example_tag attributes and the message body as its text."
fi
say "Cleaning up"
exit "$rc"
) || rc=$?

say "Listeners left beyond loopback"
if [ "$snapshot" = 0 ]; then
	echo "not checked: ss was not installed before the demo began"
elif bash "$root/tests/listeners.sh" check "$listen_before"; then
	echo "none"
else
	rc=1
fi
exit "$rc"
