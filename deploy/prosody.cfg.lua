-- SPDX-License-Identifier: MIT
-- deploy/prosody.cfg.lua: Prosody for deploy/compose.yml: one virtual host and ope's component.
--
-- Change example.org to your XMPP domain (here and in ope-component.conf,
-- and name the certificate files after it). The component secret is read
-- from a copy of the compose secret that compose.yml's entrypoint gives
-- to the prosody user, never written here.

local function read_secret(path)
	local f = assert(io.open(path, "r"))
	local line = f:read("*l")
	f:close()
	assert(line and line ~= "", path .. " is empty: write the component secret into it")
	return line
end

admins = { }
modules_enabled = {
	"roster"; "saslauth"; "tls"; "dialback"; "disco"; "carbons"; "pep";
	"private"; "blocklist"; "vcard4"; "vcard_legacy"; "version"; "uptime";
	"time"; "ping"; "posix";
}
-- s2s stays off here; enable it (and publish 5269) to federate.
modules_disabled = { "s2s" }

-- Inside the container: all its interfaces. compose.yml publishes only
-- c2s, on the host's 127.0.0.1; the component port stays on the
-- project's network, where ope-component reaches it as "prosody".
interfaces = { "*" }
c2s_ports = { 5222 }
component_ports = { 5347 }
component_interfaces = { "*" }
s2s_ports = { }
legacy_ssl_ports = { }

c2s_require_encryption = true
authentication = "internal_hashed"
storage = "internal"
log = { { levels = { min = "info" }, to = "console" } }
-- /etc/prosody/certs/example.org.crt and .key (compose.yml mounts OPE_CERTS).
certificates = "certs"

VirtualHost "example.org"

Component "ope.example.org"
	component_secret = read_secret("/run/ope/component_secret")
