-- SPDX-License-Identifier: MIT
-- mod_ope: a pool of ope connections for one component domain, sticky by sender, that loses nothing when one dies (doc/pool-protocol.md).
--
-- Load it on the component's host:
--
--   Component "ope.example.org"
--       component_secret = "..."
--       modules_enabled = { "ope" }
--
-- It accepts every connection that authenticates for the domain (instead
-- of mod_component's `conflict`), routes each stanza to one of them by
-- rendezvous hashing of the sender's bare JID over their names, remembers
-- each request until its connection answers it, pings quiet connections
-- and closes silent ones, routes a dead connection's unanswered requests
-- again, holds stanzas while no connection is up, and answers the drain
-- (urn:xmpp:ope:drain:0) and announcement (urn:xmpp:ope:pool:0) IQs.
-- contrib/prosody/README.md documents the options and the guarantees.
local st = require "util.stanza";
local xml_parse = require "util.xml".parse;
local sha1 = require "util.hashes".sha1;
local jid_bare = require "util.jid".bare;
local time_now = require "util.time".now;
local t_concat, t_sort = table.concat, table.sort;
local s_byte = string.byte;
local pairs, ipairs, next, tostring, pcall = pairs, ipairs, next, tostring, pcall;

local NS_DRAIN = "urn:xmpp:ope:drain:0";
local NS_POOL = "urn:xmpp:ope:pool:0";
local NS_PING = "urn:xmpp:ping";

if module:get_option_string("component_module") ~= "component" then
	error("mod_ope belongs on an external component's host (Component \"name\" with no module)", 0);
end

local host = module.host;
-- The server domain the drain and announcement IQs are addressed to.
local server = host:match("^[^.]+%.(.+)$") or host;

local hold_seconds = module:get_option_number("ope_hold_seconds", 5);
local hold_max = module:get_option_number("ope_hold_max", 10000);
local hold_max_bytes = module:get_option_number("ope_hold_max_bytes", 32 * 1024 * 1024);
local track_max = module:get_option_number("ope_track_max", 10000);
local track_max_bytes = module:get_option_number("ope_track_max_bytes", 16 * 1024 * 1024);
local track_seconds = module:get_option_number("ope_track_seconds", 300);
local track_per_sender = module:get_option_number("ope_track_per_sender", 1000);
local ping_seconds = module:get_option_number("ope_ping_seconds", 5);
local liveness_seconds = module:get_option_number("ope_liveness_seconds", 15);
local validate_from = module:get_option_boolean("validate_from_addresses", true);

-- The pool. conns: session -> conn; routable: the conns that take new
-- requests (not drained), sorted by name. A conn is
--   { session, name, routable, tracked = { [from.."\0"..id] = entry },
--     count, bytes, senders = { [bare] = entries }, heard (time of the
--     last read), ping (time sent or nil) }
-- and an entry { data, origin, seq, time, size, again, bare } (an array: a
-- third smaller than named fields; bench/prosody-track-mem.lua). DATA is
-- the serialised request (the string sent, a fraction of a parsed
-- stanza's heap), parsed again only to route it again or bounce it; SIZE
-- is its length plus the entry's bookkeeping.
local conns = {};
local routable = {};
local serial = 0;        -- provisional names conn-1, conn-2...
local seq = 0;           -- arrival order of tracked requests
local clock = time_now(); -- coarse time, updated by the tick and events
-- bare JID -> conn, valid while the routable set does not change.
local choice, n_choice = {}, 0;
-- Requests routed again and since answered: key -> when. A second answer
-- to one of these is dropped.
local done = {};
local stats = { untracked = 0, over_sender = 0, expired = 0, rerouted = 0, duplicates = 0, bounced = 0 };
-- Set while the module unloads: nothing is held or routed again, what is
-- left is bounced (its timers and hooks are about to go).
local unloading = false;

-- Held while no connection is routable, oldest first:
-- { data = serialised stanza, origin, size, again }.
local held, held_bytes, since, hold_timer, overflow = {}, 0, nil, nil, 0;

-- Bookkeeping of a tracked entry beyond its strings (table, array part,
-- hash slot, string headers), measured with Lua 5.4 (415 bytes in all for
-- a 114-byte ping): counted against ope_track_max_bytes and the hold bound.
local ENTRY_COST = 272;

-- STANZA serialised as route() sends it (no stream namespace).
local function serialise(stanza)
	stanza.attr.xmlns = nil;
	return tostring(stanza);
end

-- DATA (a stanza serialise() made) parsed again, or nil when it can't be
-- (it always can: it came from a parsed stanza).
local function parse(data)
	local ok, stanza = pcall(xml_parse, data);
	if ok and stanza and stanza.name then return stanza; end
	module:log("error", "could not parse a tracked or held stanza again (%s); dropped", tostring(stanza));
	return nil;
end

-- What mod_component does with a stanza when it has no session.
local function bounce(stanza, origin)
	if stanza and stanza.attr.type ~= "error" and stanza.attr.type ~= "result" then
		stats.bounced = stats.bounced + 1;
		origin.send(st.error_reply(stanza, "wait", "remote-server-timeout", "Component unavailable", host)
			:tag("not-connected", { xmlns = "xmpp:prosody.im/protocol/component" }));
	end
end

local function totals()
	return ("re-routed %d, untracked %d (over ope_track_per_sender %d), expired %d, duplicates dropped %d, bounced %d"):format(
		stats.rerouted, stats.untracked, stats.over_sender, stats.expired, stats.duplicates, stats.bounced);
end

-- Forget tracked entry E of CONN under KEY.
local function untrack(conn, key, e)
	conn.tracked[key] = nil;
	conn.count = conn.count - 1;
	conn.bytes = conn.bytes - e[5];
	local senders, bare = conn.senders, e[7];
	local n = senders[bare] - 1;
	senders[bare] = n > 0 and n or nil;
end

local function rebuild()
	local r = {};
	for _, conn in pairs(conns) do
		if conn.routable then r[#r + 1] = conn; end
	end
	t_sort(r, function (a, b) return a.name < b.name; end);
	routable = r;
	choice, n_choice = {}, 0;
end

-- weight(name, bare): the first 4 bytes of SHA-1(name 0x00 bare), big-endian.
local function weight(name, bare)
	local a, b, c, d = s_byte(sha1(name .. "\0" .. bare), 1, 4);
	return ((a * 256 + b) * 256 + c) * 256 + d;
end

-- The routable conn for a stanza from FROM, or nil.
local function pick(from)
	local n = #routable;
	if n <= 1 then return routable[1]; end
	local bare = from and jid_bare(from) or from or "";
	local best = choice[bare];
	if best then return best; end
	local best_w;
	for i = 1, n do
		local conn = routable[i];
		local w = weight(conn.name, bare);
		-- Names are unique in the pool: on a tie the smaller one wins.
		if not best_w or w > best_w or w == best_w and conn.name < best.name then
			best, best_w = conn, w;
		end
	end
	if n_choice >= 10000 then choice, n_choice = {}, 0; end
	choice[bare] = best;
	n_choice = n_choice + 1;
	return best;
end

local hold;

-- Send STANZA to a routable connection, tracking it if it is a request.
-- AGAIN: it was routed before, to a connection that ended. DATA: STANZA
-- already serialised, if it is. Returns true when sent or held (or
-- bounced for want of room), false when nothing can take it (bounce it).
local function route(stanza, origin, again, data)
	if unloading then return false; end
	local conn = pick(stanza.attr.from);
	if not conn then
		if since then return hold(stanza, origin, again, data); end
		return false;
	end
	-- Serialised here instead of in session.send (mod_component's does
	-- tostring() too): once; tracking keeps the string.
	data = data or serialise(stanza);
	local attr = stanza.attr;
	local id, from, name = attr.id, attr.from, stanza.name;
	if id and id ~= "" and from and (name == "message" and attr.type ~= "error"
		or name == "iq" and (attr.type == "get" or attr.type == "set")) then
		local key = from .. "\0" .. id;
		local tracked = conn.tracked;
		local size = #data + #key + ENTRY_COST;
		local bare = jid_bare(from) or from;
		local mine = conn.senders[bare] or 0;
		if tracked[key] == nil and conn.count < track_max and conn.bytes + size <= track_max_bytes
			and mine < track_per_sender then
			seq = seq + 1;
			tracked[key] = { data, origin, seq, clock, size, again, bare };
			conn.count = conn.count + 1;
			conn.bytes = conn.bytes + size;
			conn.senders[bare] = mine + 1;
		else
			stats.untracked = stats.untracked + 1;
			if mine >= track_per_sender then
				stats.over_sender = stats.over_sender + 1;
				if not conn.sender_full then
					conn.sender_full = true;
					module:log("warn", "%s: %s has %d requests tracked (ope_track_per_sender %d): routing its further ones untracked; totals: %s",
						conn.name, bare, mine, track_per_sender, totals());
				end
			elseif not conn.full then
				conn.full = true;
				module:log("warn", "%s: %d requests of %d bytes tracked (ope_track_max %d, ope_track_max_bytes %d): routing further ones untracked",
					conn.name, conn.count, conn.bytes, track_max, track_max_bytes);
			end
		end
	end
	conn.session.send(data);
	return true;
end

local function stop_holding()
	held, held_bytes, since, overflow = {}, 0, nil, 0;
	if hold_timer then hold_timer:stop(); hold_timer = nil; end
end

-- Route again what is held (or bounce it, when nothing is routable).
local function release(why)
	if not since then return; end
	local events, waited = held, time_now() - since;
	stop_holding();
	local sent, bounced = 0, 0;
	for _, e in ipairs(events) do
		local stanza = parse(e.data);
		if stanza and route(stanza, e.origin, e.again, e.data) then
			sent = sent + 1;
		else
			bounce(stanza, e.origin);
			bounced = bounced + 1;
		end
	end
	module:log(bounced > 0 and "warn" or "info", "%s after %.1f s: delivered %d held stanzas, bounced %d (remote-server-timeout)",
		why, waited, sent, bounced);
end

local function start_holding(why)
	if since then return; end
	since = time_now();
	module:log("info", "%s: holding stanzas for up to %g s", why, hold_seconds);
	hold_timer = module:add_timer(hold_seconds, function ()
		hold_timer = nil;
		release("no connection came back");
	end);
end

-- Append held entry E if it fits the bounds; false if not (bounce it).
local function keep(e)
	if #held >= hold_max or e.size > hold_max_bytes - held_bytes then
		overflow = overflow + 1;
		if overflow == 1 then
			module:log("warn", "%d stanzas of %d bytes held (ope_hold_max %d, ope_hold_max_bytes %d): bouncing further ones",
				#held, held_bytes, hold_max, hold_max_bytes);
		end
		return false;
	end
	held[#held + 1] = e;
	held_bytes = held_bytes + e.size;
	return true;
end

-- Hold STANZA (DATA: serialised) until a connection joins; it is held
-- serialised, and its length is what counts.
function hold(stanza, origin, again, data)
	data = data or serialise(stanza);
	if not keep({ data = data, origin = origin, size = #data + ENTRY_COST, again = again }) then
		bounce(stanza, origin);
	end
	return true;
end

local function pool_size()
	local n = 0;
	for _ in pairs(conns) do n = n + 1; end
	return n;
end

-- CONN's session ended: route its unanswered requests again, in order.
local function leave(conn, why)
	conns[conn.session] = nil;
	conn.session.ope_conn, conn.session.ope_pool = nil, nil;
	rebuild();
	local entries = {};
	for _, e in pairs(conn.tracked) do entries[#entries + 1] = e; end
	conn.tracked, conn.senders, conn.count, conn.bytes = {}, {}, 0, 0;
	t_sort(entries, function (a, b) return a[3] < b[3]; end);
	if #routable == 0 and #entries > 0 and not unloading then
		start_holding(conn.name .. " left with none routable");
	end
	-- Re-routed requests are older than anything held: they go first.
	local older = held;
	if since then held, held_bytes = {}, 0; end
	local bounced = stats.bounced;
	for _, e in ipairs(entries) do
		local stanza = parse(e[1]);
		-- While unloading route() refuses: bounced, as mod_component would.
		if not stanza or not route(stanza, e[2], true, e[1]) then bounce(stanza, e[2]); end
	end
	if not unloading then stats.rerouted = stats.rerouted + #entries; end
	if since and older ~= held then
		-- Held before: what no longer fits the bounds is bounced.
		for _, e in ipairs(older) do
			if not keep(e) then bounce(parse(e.data), e.origin); end
		end
	end
	module:log("info", "%s left (%s): %d unanswered requests routed again over %d connections (%d held, %d bounced); pool %d; totals: %s",
		conn.name, tostring(why), #entries, #routable, #held, stats.bounced - bounced, pool_size(), totals());
	if #routable == 0 and not unloading then start_holding("no connection is routable"); end
end

-- A handshake: mod_component's check, then the pool instead of `conflict`.
module:hook("stanza/jabber:component:accept:handshake", function (event)
	local session, stanza = event.origin, event.stanza;
	if session.type ~= "component_unauthed" then return; end
	if not session.host or #stanza.tags > 0 then
		(session.log or module._log)("warn", "Invalid component handshake for host: %s", session.host);
		session:close("not-authorized");
		return true;
	end
	local secret = module:get_option_string("component_secret");
	if not secret then
		(session.log or module._log)("warn", "Component attempted to identify as %s, but component_secret is not set", session.host);
		session:close("not-authorized");
		return true;
	end
	if t_concat(stanza):lower() ~= sha1(session.streamid .. secret, true):lower() then
		module:log("info", "Component authentication failed for %s", session.host);
		session:close{ condition = "not-authorized", text = "Given token does not match calculated token" };
		return true;
	end
	-- A provisional name no connection has (an instance may have announced
	-- conn-N).
	local name;
	repeat
		serial = serial + 1;
		name = "conn-" .. serial;
		local taken = false;
		for _, other in pairs(conns) do
			if other.name == name then taken = true; break; end
		end
	until not taken
	clock = time_now();
	local conn = { session = session, name = name, routable = true, tracked = {}, senders = {},
		count = 0, bytes = 0, heard = clock };
	session.type = "component";
	session.component_validate_from = validate_from;
	session.ope_pool, session.ope_conn = host, conn;
	-- Any bytes read count as life (cheaper than a hook per stanza); the
	-- coarse clock is exact to a tick.
	local data = session.data;
	session.data = function (c, d)
		conn.heard, conn.ping = clock, nil;
		return data(c, d);
	end
	conns[session] = conn;
	rebuild();
	session.send(st.stanza("handshake"));
	module:log("info", "%s joined: pool %d connections", conn.name, pool_size());
	module:fire_event("component-authenticated", { session = session });
	release(conn.name .. " joined");
	return true;
end, 1);

module:hook("component-disconnected", function (event)
	local conn = event.session.ope_pool == host and event.session.ope_conn;
	if conn then leave(conn, event.reason); end
end);

-- Stanzas for the domain: before mod_component's handler (priority -1).
local function on_stanza(event)
	local stanza = event.stanza;
	if #routable == 0 and since and stanza.name == "iq" and stanza.attr.type == "get" and stanza.attr.to == host
		and module:get_option_string("name") and stanza.tags[1]
		and stanza.tags[1].attr.xmlns == "http://jabber.org/protocol/disco#info" then
		return; -- mod_component answers it
	end
	if route(stanza, event.origin) then return true; end
	-- Nothing routable and not holding: mod_component bounces it.
end
for _, kind in ipairs({ "iq", "message", "presence" }) do
	for _, to in ipairs({ "bare", "full", "host" }) do
		module:hook(kind .. "/" .. to, on_stanza, -0.5);
	end
end

-- Stanzas from a pool connection, on whichever host they go to: an answer
-- ends its request's tracking; a second answer to a re-routed one is dropped.
local function on_answer(event)
	local origin = event.origin;
	if origin.ope_pool ~= host then return; end
	local attr = event.stanza.attr;
	local id, to = attr.id, attr.to;
	if not id or not to then return; end
	local conn = origin.ope_conn;
	if conn.count == 0 and next(done) == nil then return; end
	local key = to .. "\0" .. id;
	local e = conn.tracked[key];
	if e then
		untrack(conn, key, e);
		if e[6] then done[key] = clock; end
	elseif done[key] then
		-- Only one more answer is expected (the dead connection's).
		done[key] = nil;
		stats.duplicates = stats.duplicates + 1;
		module:log("info", "%s: dropped a second answer (id %s to %s); duplicates dropped: %d",
			conn.name, id, to, stats.duplicates);
		return true;
	end
end
local function watch(h)
	local ctx = module:context(h);
	for _, kind in ipairs({ "iq", "message", "presence" }) do
		for _, to in ipairs({ "bare", "full", "host" }) do
			ctx:hook(kind .. "/" .. to, on_answer, 1000);
		end
	end
	ctx:hook("iq-set/host/" .. NS_DRAIN .. ":unroute", function (event)
		local origin = event.origin;
		if origin.ope_pool ~= host then return; end
		local conn = origin.ope_conn;
		if conn.routable then
			conn.routable = false;
			rebuild();
			module:log("info", "%s asked to be unrouted (%d requests tracked): %d routable left", conn.name, conn.count, #routable);
			if #routable == 0 then start_holding(conn.name .. " asked to be unrouted before closing"); end
		end
		origin.send(st.reply(event.stanza));
		return true;
	end);
	ctx:hook("iq-set/host/" .. NS_POOL .. ":instance", function (event)
		local origin, stanza = event.origin, event.stanza;
		if origin.ope_pool ~= host then return; end
		local conn = origin.ope_conn;
		local name = stanza.tags[1].attr.name;
		if type(name) ~= "string" or #name < 1 or #name > 64 or name:find("[^A-Za-z0-9._:@/%-]") then
			origin.send(st.error_reply(stanza, "modify", "bad-request", "An instance name is 1-64 bytes of A-Z a-z 0-9 . _ : @ / -"));
			return true;
		end
		for _, other in pairs(conns) do
			if other ~= conn and other.name == name then
				origin.send(st.error_reply(stanza, "cancel", "conflict", "Another connection of the pool is named " .. name));
				return true;
			end
		end
		module:log("info", "%s is instance %s", conn.name, name);
		conn.name = name;
		rebuild();
		origin.send(st.reply(stanza):tag("pool", { xmlns = NS_POOL, size = tostring(pool_size()) }));
		return true;
	end);
end
for h in pairs(prosody.hosts) do watch(h); end
module:hook_global("host-activated", watch);
-- Answers to remote domains leave through route/remote on this host.
module:hook("route/remote", on_answer, 1000);

-- Liveness, expiry: every tick.
local tick = math.max(0.1, math.min(1, ping_seconds / 2, liveness_seconds / 4));
local next_sweep = clock + math.max(1, track_seconds / 4);
local ping_serial = 0;
local function sweep()
	clock = time_now();
	local dead = {};
	for session, conn in pairs(conns) do
		-- heard is a tick's clock: the silence is at least this long.
		local silent = clock - conn.heard - tick;
		if silent >= liveness_seconds and (conn.count > 0 or conn.ping) then
			dead[#dead + 1] = conn;
		elseif silent >= ping_seconds and not conn.ping then
			conn.ping = clock;
			ping_serial = ping_serial + 1;
			session.send(st.iq({ type = "get", id = "ope-ping-" .. ping_serial, from = server, to = host })
				:tag("ping", { xmlns = NS_PING }));
		end
	end
	for _, conn in ipairs(dead) do
		module:log("warn", "%s is dead: silent for %.1f s with %d tracked requests%s (ope_liveness_seconds %g); closing it",
			conn.name, clock - conn.heard - tick, conn.count, conn.ping and " and a ping unanswered" or "", liveness_seconds);
		conn.session:close{ condition = "connection-timeout", text = "Silent for too long" };
		-- close() ends the session at once (component-disconnected);
		-- should it not, the pool forgets it all the same.
		if conns[conn.session] == conn then leave(conn, "dead"); end
	end
	if clock >= next_sweep then
		next_sweep = clock + math.max(1, track_seconds / 4);
		local n = 0;
		for _, conn in pairs(conns) do
			for key, e in pairs(conn.tracked) do
				if clock - e[4] >= track_seconds then
					untrack(conn, key, e);
					n = n + 1;
				end
			end
			if conn.full and conn.count < track_max then conn.full = nil; end
			conn.sender_full = nil;
		end
		for key, t in pairs(done) do
			if clock - t >= track_seconds then done[key] = nil; end
		end
		if n > 0 then
			stats.expired = stats.expired + n;
			module:log("info", "forgot %d requests unanswered for %g s (ope_track_seconds); totals: %s", n, track_seconds, totals());
		end
	end
end
-- An error in one tick is logged and the next tick comes all the same.
module:add_timer(tick, function ()
	local ok, err = pcall(sweep);
	if not ok then module:log("error", "tick failed: %s", tostring(err)); end
	return tick;
end);

-- Unloading: the pool's connections close (ope reconnects) and what they
-- leave unanswered, and what is held, is bounced (as mod_component bounces
-- for a component that is not connected): the timers that would hold or
-- expire it stop with the module.
function module.unload()
	unloading = true;
	local list = {};
	for session, conn in pairs(conns) do list[#list + 1] = conn; end
	for _, conn in ipairs(list) do
		conn.session:close{ condition = "reset", text = "mod_ope unloaded" };
		if conns[conn.session] == conn then leave(conn, "mod_ope unloaded"); end
	end
	release("mod_ope unloaded");
	module:log("info", "unloaded; totals: %s", totals());
end
