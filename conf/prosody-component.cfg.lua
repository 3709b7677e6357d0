-- SPDX-License-Identifier: MIT
-- conf/prosody-component.cfg.lua: what to add to prosody.cfg.lua (Prosody 0.12) so that ope-component can connect.
--
-- Put the two global options in the global section (before any VirtualHost),
-- and the Component block at the end of the file. The secret must equal
-- component.secret (or the contents of component.secret_file) in
-- ope-component.conf; the domain must equal component.domain.

-- XEP-0114 listener: loopback only, ope-component runs on the same machine.
-- (With Prosody in a container, publish it only on the host's loopback,
-- e.g. "-p 127.0.0.1:5347:5347", and set component_interfaces = { "*" }
-- inside the container, or run the container with --network=host.)
component_ports = { 5347 }
component_interfaces = { "127.0.0.1" }

Component "ope.localhost"
	-- A placeholder: put a real secret here and the same in
	-- ope-component.conf (e.g. `openssl rand -hex 24`); ope-component
	-- refuses to start with "change-me".
	component_secret = "change-me"
	-- Several ope-component instances for this domain, sticky by sender,
	-- nothing lost when one dies or stops: load mod_ope (mod_ope.lua,
	-- next to this file; put it in a directory of plugin_paths).
	-- modules_enabled = { "ope" }
