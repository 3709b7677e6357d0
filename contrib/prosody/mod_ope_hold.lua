-- SPDX-License-Identifier: MIT
-- mod_ope_hold: Prosody holds an external component's stanzas while it restarts, instead of bouncing them.
--
-- Prosody has one connection per component domain. While it has none,
-- mod_component bounces every stanza for the domain with
-- wait/remote-server-timeout. With this module loaded on the component's
-- host, Prosody instead holds them, in order, from the moment the
-- component's connection closes, and hands them to the next connection
-- that authenticates. What is still held after ope_hold_seconds (default 5)
-- is released as mod_component would handle it: sent if a connection is up
-- again, otherwise bounced with the same error. A stanza that would take
-- the held ones above ope_hold_max (default 10000) stanzas or above
-- ope_hold_max_bytes (default 32 MiB of their serialised size, estimated
-- without serialising them) is bounced at once.
--
-- A component about to close can also ask to be unrouted first (ope does
-- it on SIGTERM, as for ejabberd's mod_ope_drain):
--
--   <iq type='set' id='...' from='ope.example.org' to='example.org'>
--     <unroute xmlns='urn:xmpp:ope:drain:0'/></iq>
--
-- The module then starts holding at once, answers on the same stream, and
-- the component answers what is already on its way before it closes: a
-- stop followed by a start within the hold time loses and bounces nothing.
--
-- Install: put this file in a directory listed in plugin_paths, and load
-- it on the component's host:
--
--   Component "ope.example.org"
--       component_secret = "..."
--       modules_enabled = { "ope_hold" }
local st = require "util.stanza";
local time_now = require "util.time".now;

local NS_DRAIN = "urn:xmpp:ope:drain:0";

if module:get_option_string("component_module") ~= "component" then
	error("mod_ope_hold belongs on an external component's host (Component \"name\" with no module)", 0);
end
local hold_seconds = module:get_option_number("ope_hold_seconds", 5);
local hold_max = module:get_option_number("ope_hold_max", 10000);
local hold_max_bytes = module:get_option_number("ope_hold_max_bytes", 32 * 1024 * 1024);
local held = {};      -- events for the component, oldest first
local held_bytes = 0; -- their estimated size
local since = nil;    -- when holding started; nil while not holding
local timer = nil;
local overflow = 0;

-- About how many bytes STANZA takes serialised (its names, attributes and
-- text plus the markup around them; escaping is not counted), or more than
-- LIMIT: the walk stops there, so a huge stanza costs no more than LIMIT's
-- worth of walking and is never serialised here.
local function size_of(stanza, limit)
	local n = 2 * #stanza.name + 5;
	for k, v in pairs(stanza.attr) do
		n = n + #k + #v + 4;
	end
	for _, child in ipairs(stanza) do
		if n > limit then return n; end
		if type(child) == "string" then
			n = n + #child;
		else
			n = n + size_of(child, limit - n);
		end
	end
	return n;
end

-- mod_component's current session for this host, or nil.
local function component_session()
	local env = prosody.hosts[module.host].modules.component;
	return env and env.session or nil;
end

-- What mod_component does with a stanza when it has no session.
local function bounce(stanza, origin)
	if stanza.attr.type ~= "error" and stanza.attr.type ~= "result" then
		origin.send(st.error_reply(stanza, "wait", "remote-server-timeout", "Component unavailable", module.host)
			:tag("not-connected", { xmlns = "xmpp:prosody.im/protocol/component" }));
	end
end

-- Stop holding: send what is held to the component if it is
-- connected, else bounce it, in arrival order.
local function release(why)
	if not since then return; end
	local session, events, n = component_session(), held, #held;
	local waited = time_now() - since;
	held, held_bytes, since, overflow = {}, 0, nil, 0;
	if timer then timer:stop(); timer = nil; end
	for _, event in ipairs(events) do
		if session then
			event.stanza.attr.xmlns = nil;
			session.send(event.stanza);
		else
			bounce(event.stanza, event.origin);
		end
	end
	module:log(session and "info" or "warn", "%s after %.1f s: %s %d held stanzas", why, waited,
		session and "delivered" or "bounced (remote-server-timeout)", n);
end

local function start_holding(why)
	if since then return; end
	since = time_now();
	module:log("info", "%s: holding stanzas for up to %g s", why, hold_seconds);
	timer = module:add_timer(hold_seconds, function ()
		timer = nil;
		release("the component did not come back");
	end);
end

-- Runs just before mod_component's own handler (priority -1).
local function hold(event)
	if not since then return; end
	local stanza = event.stanza;
	-- mod_component answers disco#info itself when "name" is set:
	-- let it (a disco#info to a node it bounces at once, as before).
	if stanza.name == "iq" and stanza.attr.type == "get" and stanza.attr.to == module.host
		and module:get_option_string("name") and stanza.tags[1]
		and stanza.tags[1].attr.xmlns == "http://jabber.org/protocol/disco#info" then
		return;
	end
	local room = hold_max_bytes - held_bytes;
	local size = size_of(stanza, room);
	if #held >= hold_max or size > room then
		overflow = overflow + 1;
		if overflow == 1 then
			module:log("warn", "%d stanzas of about %d bytes held (ope_hold_max %d, ope_hold_max_bytes %d): bouncing further ones",
				#held, held_bytes, hold_max, hold_max_bytes);
		end
		bounce(stanza, event.origin);
		return true;
	end
	held[#held + 1] = event;
	held_bytes = held_bytes + size;
	return true;
end
for _, kind in ipairs({ "iq", "message", "presence" }) do
	for _, to in ipairs({ "bare", "full", "host" }) do
		module:hook(kind .. "/" .. to, hold, -0.5);
	end
end

module:hook("component-authenticated", function ()
	release("the component connected again");
end);
module:hook("component-disconnected", function (event)
	-- A refused second connection also ends here: only the live one counts.
	if event.session == component_session() then
		start_holding("the component disconnected (" .. tostring(event.reason) .. ")");
	end
end);

-- The unroute IQ is addressed to a server host: listen on every host.
local function unroute(event)
	local origin = event.origin;
	if origin.type ~= "component" or origin.host ~= module.host or origin ~= component_session() then
		return;
	end
	start_holding("the component asked to be unrouted before closing");
	origin.send(st.reply(event.stanza));
	return true;
end
local function watch(host)
	if host ~= module.host then
		module:context(host):hook("iq-set/host/" .. NS_DRAIN .. ":unroute", unroute);
	end
end
for host in pairs(prosody.hosts) do watch(host); end
module:hook_global("host-activated", watch);

function module.unload()
	release("mod_ope_hold unloaded");
end
