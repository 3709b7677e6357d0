-- SPDX-License-Identifier: MIT
-- bench/prosody-track-mem.lua: the memory contrib/prosody/mod_ope.lua spends per tracked request, measured with collectgarbage("count").
--
-- Run with Prosody's Lua and libraries: PROSODY_LIB=/usr/lib/prosody
-- lua5.4 bench/prosody-track-mem.lua [N]. It builds N requests shaped as
-- ope-client sends them (a <message/> with an example_tag and a body) the
-- way Prosody's parser does, and the module's tracking entry for each
-- (the same fields, key and table slot as route() in mod_ope.lua), and
-- prints the bytes per request: the entry alone, and the entry with the
-- stanza it keeps alive (without tracking, the stanza is garbage once sent),
-- then the CPU time of that bookkeeping per request.
local lib = os.getenv("PROSODY_LIB") or "/usr/lib/prosody";
package.path = lib .. "/?.lua;" .. package.path;
package.cpath = lib .. "/?.so;" .. package.cpath;
local st = require "util.stanza";
local N = tonumber(arg[1]) or 100000;

local function request(i)
	return st.message({ to = "ope.localhost", id = ("req-%d-%d"):format(i % 97, i), type = "normal",
		from = ("user%d@localhost/load%d"):format(i % 100, i % 3), ["xml:lang"] = "en" })
		:tag("example_tag", { xmlns = "urn:example:ope", another = "x", data = "y" }):up()
		:tag("body"):text("hello"):up();
end

local function kb() collectgarbage("collect"); collectgarbage("collect"); return collectgarbage("count"); end

local stanzas = {};
local k0 = kb();
for i = 1, N do stanzas[i] = request(i); end
local k1 = kb();
local tracked, origin = {}, {};
for i = 1, N do
	local s = stanzas[i];
	tracked[s.attr.from .. "\0" .. s.attr.id] = { s, origin, i, 0, 200, nil };
end
local k2 = kb();
local entry = (k2 - k1) * 1024 / N;
local stanza = (k1 - k0) * 1024 / N;
print(("N=%d entry=%.0f B stanza=%.0f B total=%.0f B per tracked request (%s)"):format(
	N, entry, stanza, entry + stanza, _VERSION));

-- The bookkeeping's CPU per request: track (key, entry) and untrack (the
-- answer's key, lookup, removal), as route() and on_answer() do; the
-- serialisation is not counted (mod_component does it either way).
local t0 = os.clock();
local live = {};
for i = 1, N do
	local s = stanzas[i];
	local attr = s.attr;
	local key = attr.from .. "\0" .. attr.id;
	if live[key] == nil then live[key] = { s, origin, i, 0, 200, nil }; end
	local akey = attr.from .. "\0" .. attr.id;
	local e = live[akey];
	if e then live[akey] = nil; end
end
print(("bookkeeping: %.2f us per request (track and answer)"):format((os.clock() - t0) * 1e6 / N));
