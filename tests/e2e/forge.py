# SPDX-License-Identifier: MIT
"""forge.py: a denied user tries to pass as an allowed one through a real server; nobody but the forger may hear back.

Usage: OPE_PASSWORD=pw forge.py --attacker alice@localhost/forge
       --victim bob@localhost/victim --host 127.0.0.1 --port PORT
       --cafile CERT --component ope.localhost [--rounds N]

The attacker (denied by ope's access table) sends N rounds of requests that
carry a forged sender in every shape a client can give a server: a
namespaced from before and after the real one, a prefix bound to
jabber:client, eight copies under eight namespaces, a namespaced id, to or
type, xml:foo and <xml:foo/> (which Prosody writes as a prefix or a default
namespace bound to the xml namespace),
on message, IQ and presence. The victim (allowed) stays online at the forged
full JID. Then both send one plain request: the attacker's is refused, the
victim's is answered.

Checks: the attacker gets only errors (no result); the victim gets nothing
from the component but the answer to their own request; every request is
over before the plain ones are answered (the component answers in order).
Prints "ok - ..." / "not ok - ..."; exits 0 when all pass, 1 when one
fails, 3 when a login fails.
"""
import argparse
import asyncio
import os
import sys
import uuid

import slixmpp

NS = "https://example.net/our_extension"
STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"


class Party(slixmpp.ClientXMPP):
    def __init__(self, jid, password, cafile, comp):
        super().__init__(jid, password)
        self.ca_certs = cafile
        self.comp = comp
        self.heard = []         # what the component sent us, as elements
        self.waiters = {}
        self.ready = asyncio.get_event_loop().create_future()
        self.add_event_handler("session_start", self.on_start)
        self.add_event_handler("failed_auth", self.on_fail)
        self.add_event_handler("connection_failed", self.on_fail)
        for kind in ("iq", "message", "presence"):
            self.register_handler(slixmpp.xmlstream.handler.Callback(
                "forge-" + kind,
                slixmpp.xmlstream.matcher.MatchXPath("{jabber:client}%s" % kind),
                self.on_stanza))

    async def on_start(self, _event):
        self.send_presence()
        if not self.ready.done():
            self.ready.set_result(0)

    def on_fail(self, _event):
        if not self.ready.done():
            self.ready.set_result(3)

    def on_stanza(self, stanza):
        x = stanza.xml
        if (x.get("from") or "").split("/")[0] != self.comp:
            return
        self.heard.append(x)
        fut = self.waiters.pop(x.get("id"), None)
        if fut is not None and not fut.done():
            fut.set_result(x)

    async def request(self, xml, sid, timeout):
        fut = asyncio.get_event_loop().create_future()
        self.waiters[sid] = fut
        self.send_raw(xml)
        try:
            return await asyncio.wait_for(fut, timeout)
        except asyncio.TimeoutError:
            self.waiters.pop(sid, None)
            return None


def forged(comp, victim, n):
    """The forged stanzas of round N: (id, xml)."""
    out = []
    tag = "<example_tag xmlns='%s' data='forged'/>" % NS
    eight = " ".join("xmlns:p%d='urn:forge:%d' p%d:from='%s'" % (k, k, k, victim)
                     for k in range(8))
    shapes = [
        "xmlns:x='urn:anything' x:from='%s'" % victim,
        "xmlns:x='urn:forge:%s' x:from='%s'" % (uuid.uuid4().hex, victim),
        "xmlns:jc='jabber:client' jc:from='%s'" % victim,
        eight,
        "xmlns:x='urn:x' x:to='%s' x:id='forged' x:type='result'" % victim,
        "xml:foo='%s'" % victim,
    ]
    for s, attrs in enumerate(shapes):
        for kind, open_, inner in (
                ("message", "type='chat'", "<body>hi</body>" + tag),
                ("iq", "type='get'", tag),
                ("presence", "", "")):
            sid = "forge-%d-%d-%s" % (n, s, kind)
            out.append((sid, "<%s to='%s' id='%s' %s %s>%s</%s>" % (
                kind, comp, sid, open_, attrs, inner, kind)))
    # The same shapes inside the payload, where two names could clash.
    sid = "forge-%d-payload" % n
    out.append((sid, "<message to='%s' id='%s' type='chat'><example_tag "
                "xmlns='%s' xmlns:x='urn:x' x:data='%s' data='d'/></message>"
                % (comp, sid, NS, victim)))
    sid = "forge-%d-payload-xml" % n
    out.append((sid, "<message to='%s' id='%s' type='chat'><example_tag "
                "xmlns='%s' xml:foo='%s'/></message>" % (comp, sid, NS, victim)))
    sid = "forge-%d-xml-element" % n
    out.append((sid, "<message to='%s' id='%s' type='chat'><example_tag "
                "xmlns='%s'/><xml:foo/></message>" % (comp, sid, NS)))
    return out


def condition(x):
    err = x.find("{jabber:client}error")
    if err is None:
        return None
    for c in err:
        if c.tag.startswith("{%s}" % STANZAS) and not c.tag.endswith("}text"):
            return "%s/%s" % (err.get("type"), c.tag.split("}")[1])
    return "?"


async def run(args, password):
    failures = 0

    def check(ok, what, detail=""):
        nonlocal failures
        print(("ok - %s" if ok else "not ok - %s") % what
              + ("" if ok or not detail else ": " + detail))
        failures += not ok

    a = Party(args.attacker, password, args.cafile, args.component)
    v = Party(args.victim, password, args.cafile, args.component)
    for p in (a, v):
        p.connect((args.host, args.port))
    rcs = await asyncio.gather(a.ready, v.ready)
    if any(rcs):
        print("not ok - cannot log in as %s and %s" % (args.attacker, args.victim))
        return 3
    sent = 0
    for n in range(args.rounds):
        for _sid, xml in forged(args.component, args.victim, n):
            a.send_raw(xml)
            sent += 1
    # The component answers in order, and so does the server per sender:
    # once this plain request's answer is back, every forged one was dealt
    # with. Denied: forbidden.
    sid = "forge-plain-" + uuid.uuid4().hex[:8]
    r = await a.request("<iq type='get' to='%s' id='%s'><example_tag xmlns='%s'/>"
                        "</iq>" % (args.component, sid, NS), sid, args.timeout)
    check(r is not None and condition(r) == "auth/forbidden",
          "the attacker's own plain request is refused (forbidden)",
          "got %s" % (condition(r) if r is not None else "nothing"))
    results = [x for x in a.heard if x.get("type") == "result"]
    check(not results, "no forged request of %d was served" % sent,
          "%d results, e.g. id %s" % (len(results),
                                       results[0].get("id") if results else ""))
    conds = {}
    for x in a.heard:
        c = condition(x)
        conds[c] = conds.get(c, 0) + 1
    print("# attacker heard %d answers to %d forged stanzas: %s" % (
        len(a.heard) - 1, sent, ", ".join("%s=%d" % kv for kv in sorted(
            conds.items(), key=lambda kv: str(kv[0])))))
    # The victim's own request, then: heard nothing else.
    sid = "victim-" + uuid.uuid4().hex[:8]
    r = await v.request("<iq type='get' to='%s' id='%s'><example_tag xmlns='%s' "
                        "data='mine'/></iq>" % (args.component, sid, NS), sid,
                        args.timeout)
    check(r is not None and r.get("type") == "result",
          "the victim's own request is answered",
          "got %s" % (condition(r) if r is not None else "nothing"))
    others = [x for x in v.heard if x.get("id") != sid]
    check(not others, "the victim heard nothing of the forgeries",
          "%d stanzas, e.g. %s id=%s" % (len(others),
                                         others[0].tag if others else "",
                                         others[0].get("id") if others else ""))
    for p in (a, v):
        p.disconnect()
    return 1 if failures else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--attacker", required=True)
    ap.add_argument("--victim", required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--cafile", required=True)
    ap.add_argument("--component", required=True)
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--timeout", type=float, default=60)
    args = ap.parse_args()
    password = os.environ.get("OPE_PASSWORD")
    if not password:
        print("set OPE_PASSWORD", file=sys.stderr)
        return 64
    return asyncio.get_event_loop().run_until_complete(run(args, password))


if __name__ == "__main__":
    sys.exit(main())
