#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""adhoc_slixmpp.py: ope-component's XEP-0050 ad-hoc commands driven by an independent client (slixmpp's xep_0050).

Usage: OPE_PASSWORD=pw adhoc_slixmpp.py --jid boss@localhost/sx --port PORT
       --cafile CERT --component ope.localhost --expect admin|other
       [--ask JID]
As an admin: the commands node lists status, reload, restart, stop, who
and forgive; "status" completes with a pid; "who" asks for a JID first,
then, submitted with the session id it gave, names the deciding rule.
As anyone else: the node lists nothing and "status" gets forbidden.
Prints "ok - ..." / "not ok - ..." per check; exits 0 when all pass, 1
when one fails, 3 when it cannot log in.
"""
import argparse
import asyncio
import os
import sys

import slixmpp
from slixmpp.exceptions import IqError, IqTimeout

WANT = ["status", "reload", "restart", "stop", "who", "forgive"]


class Admin(slixmpp.ClientXMPP):
    def __init__(self, args, password):
        super().__init__(args.jid, password)
        self.args = args
        self.ca_certs = args.cafile
        self.failures = 0
        self.done = asyncio.get_event_loop().create_future()
        for p in ("xep_0030", "xep_0004", "xep_0050"):
            self.register_plugin(p)
        self.add_event_handler("session_start", self.on_start)
        self.add_event_handler("failed_auth", self.on_fail)
        self.add_event_handler("connection_failed", self.on_fail)

    def on_fail(self, _event):
        if not self.done.done():
            self.done.set_result(3)

    def check(self, cond, what):
        print("%s - %s" % ("ok" if cond else "not ok", what), flush=True)
        if not cond:
            self.failures += 1

    @staticmethod
    def values(iq):
        return dict(iq["command"]["form"].get_values())

    async def as_admin(self, comp):
        items = await self["xep_0050"].get_commands(comp, timeout=15)
        nodes = [i[1] for i in items["disco_items"]["items"]]
        self.check(sorted(nodes) == sorted(WANT),
                   "the commands node lists %r" % nodes)
        r = await self["xep_0050"].send_command(comp, "status", timeout=15)
        v = self.values(r)
        self.check(r["command"]["status"] == "completed" and
                   str(v.get("pid", "")).isdigit() and v.get("link") == "up",
                   "status completed: pid=%s link=%s" % (v.get("pid"),
                                                         v.get("link")))
        r = await self["xep_0050"].send_command(comp, "who", timeout=15)
        sid = r["command"]["sessionid"]
        self.check(r["command"]["status"] == "executing" and
                   "jid" in self.values(r) and sid,
                   "who asks for a JID (session %s)" % sid)
        form = self["xep_0004"].make_form(ftype="submit")
        form.add_field(var="jid", value=self.args.ask)
        r = await self["xep_0050"].send_command(
            comp, "who", action="complete", payload=form, sessionid=sid,
            timeout=15)
        v = self.values(r)
        self.check(r["command"]["status"] == "completed" and v.get("rule"),
                   "who %s: rule=%s action=%s" % (self.args.ask, v.get("rule"),
                                                   v.get("action")))

    async def as_other(self, comp):
        items = await self["xep_0050"].get_commands(comp, timeout=15)
        nodes = [i[1] for i in items["disco_items"]["items"]]
        self.check(nodes == [], "a non-admin sees no commands (%r)" % nodes)
        try:
            await self["xep_0050"].send_command(comp, "status", timeout=15)
            self.check(False, "status answered a non-admin")
        except IqError as e:
            cond = e.iq["error"]["condition"]
            self.check(cond == "forbidden", "status for a non-admin: %s" % cond)

    async def on_start(self, _event):
        try:
            if self.args.expect == "admin":
                await self.as_admin(self.args.component)
            else:
                await self.as_other(self.args.component)
        except (IqError, IqTimeout) as e:
            self.check(False, "unexpected %s" % type(e).__name__)
        except Exception as e:  # a malformed answer: say what, don't hang
            self.check(False, "unexpected %r" % e)
        if not self.done.done():
            self.done.set_result(1 if self.failures else 0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jid", required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--cafile", required=True)
    ap.add_argument("--component", required=True)
    ap.add_argument("--expect", choices=("admin", "other"), required=True)
    ap.add_argument("--ask", default="someone@example.org")
    ap.add_argument("--timeout", type=float, default=60)
    args = ap.parse_args()
    password = os.environ.get("OPE_PASSWORD")
    if not password:
        print("set OPE_PASSWORD", file=sys.stderr)
        return 64
    xmpp = Admin(args, password)
    xmpp.connect((args.host, args.port))
    loop = asyncio.get_event_loop()
    try:
        rc = loop.run_until_complete(asyncio.wait_for(xmpp.done, args.timeout))
    except asyncio.TimeoutError:
        print("not ok - timed out after %.0f s" % args.timeout)
        rc = 2
    if rc == 3:
        print("not ok - cannot connect or log in as %s" % args.jid)
    xmpp.disconnect()
    try:
        loop.run_until_complete(asyncio.wait_for(xmpp.disconnected, 5))
    except Exception:
        pass
    return rc


if __name__ == "__main__":
    sys.exit(main())
