# SPDX-License-Identifier: MIT
"""probe.py: an independent slixmpp client that checks ope-component's protocol behaviour through a real server.

Usage: OPE_PASSWORD=pw probe.py --jid probe@localhost/probe --host 127.0.0.1
       --port PORT --cafile CERT --component ope.localhost [--max-payload N]
       [--flood CHILDREN --repeat K --interval S]
       [--access password|forbidden [--burst N]]
--access runs only the access-control checks: "password" expects a rule that
wants the service password in OPE_SERVICE_PASSWORD (missing and wrong ones
get auth/not-authorized; --burst N then sends N requests at once and expects
wait/policy-violation for some, and an answer again after a pause);
"forbidden" expects auth/forbidden. Ping must stay public in both.
Prints "ok - ..." / "not ok - ..." per check; exits 0 when all pass,
1 when one fails, 3 when it cannot log in. With --flood it only sends K
messages whose example_tag holds CHILDREN empty children, S seconds apart,
and checks that each is refused with policy-violation within --within
seconds.
"""
import argparse
import asyncio
import datetime
import os
import sys
import uuid
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape, quoteattr

import slixmpp
from slixmpp.exceptions import IqError, IqTimeout
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

NS = "https://example.net/our_extension"
STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
DISCO_INFO = "http://jabber.org/protocol/disco#info"
TIME = "urn:xmpp:time"
SPECIAL_ANOTHER = "a&b<c>d\"e'f"
SPECIAL_DATA = "ünïcödé € ✓ 日本 😀"
SPECIAL_BODY = "<b>bold</b> & \"q\" 'a' – ü"


class Probe(slixmpp.ClientXMPP):
    def __init__(self, args, password):
        super().__init__(args.jid, password)
        self.args = args
        self.comp = args.component
        self.ca_certs = args.cafile
        self.waiters = {}
        self.seen = []          # (id, type, tag) of everything from the component
        self.failures = 0
        self.done = asyncio.get_event_loop().create_future()
        # XEP-0202 Entity Time requests are built by slixmpp itself.
        self.register_plugin("xep_0202")
        self.add_event_handler("session_start", self.on_start)
        self.add_event_handler("failed_auth", self.on_fail)
        self.add_event_handler("connection_failed", self.on_fail)
        for kind in ("iq", "message"):
            self.register_handler(Callback(
                "probe-" + kind, MatchXPath("{jabber:client}%s" % kind),
                self.on_stanza))

    def on_fail(self, _event):
        if not self.done.done():
            self.done.set_result(3)

    def on_stanza(self, stanza):
        x = stanza.xml
        if not (x.get("from") or "").startswith(self.comp):
            return
        sid = x.get("id")
        self.seen.append((sid, x.get("type"), x.tag))
        fut = self.waiters.pop(sid, None)
        if fut and not fut.done():
            fut.set_result(x)

    def check(self, ok, what, detail=""):
        if ok:
            print("ok - %s" % what)
        else:
            self.failures += 1
            print("not ok - %s%s" % (what, (": " + detail) if detail else ""))

    async def request(self, xml, sid, timeout=10):
        """Send raw XML whose id is SID; return the component's answer or None."""
        fut = asyncio.get_event_loop().create_future()
        self.waiters[sid] = fut
        self.send_raw(xml)
        try:
            return await asyncio.wait_for(fut, timeout)
        except asyncio.TimeoutError:
            self.waiters.pop(sid, None)
            return None

    def iq(self, typ, payload, sid=None):
        sid = sid or "probe-" + uuid.uuid4().hex[:12]
        return sid, "<iq type='%s' to='%s' id='%s'>%s</iq>" % (
            typ, self.comp, sid, payload)

    @staticmethod
    def condition(reply):
        if reply is None or reply.get("type") != "error":
            return None
        err = reply.find("{jabber:client}error")
        if err is None:
            return "?"
        for child in err:
            if child.tag.startswith("{%s}" % STANZAS) and \
                    not child.tag.endswith("}text"):
                return "%s/%s" % (err.get("type"), child.tag.split("}")[1])
        return "?"

    def expect_error(self, reply, want, what):
        got = self.condition(reply)
        self.check(got == want, what, "got %s" % (
            got if reply is not None else "no reply"))

    async def flood(self):
        """K over-limit messages; each must be refused, and quickly."""
        a = self.args
        kids = "<c/>" * a.flood
        worst = 0.0
        for i in range(a.repeat):
            sid = "probe-flood-%d-%s" % (i, uuid.uuid4().hex[:6])
            xml = ("<message to='%s' id='%s' type='chat'><example_tag xmlns='%s'>"
                   "%s</example_tag></message>" % (self.comp, sid, NS, kids))
            t = asyncio.get_event_loop().time()
            r = await self.request(xml, sid, timeout=30)
            took = asyncio.get_event_loop().time() - t
            worst = max(worst, took)
            self.expect_error(r, "modify/policy-violation",
                              "%d children (%d bytes) refused in %.0f ms"
                              % (a.flood, len(xml), took * 1000))
            self.check(took <= a.within, "refused within %.1f s" % a.within,
                       "took %.2f s" % took)
            await asyncio.sleep(a.interval)
        print("# flood: %d stanzas of %d children, slowest refusal %.0f ms"
              % (a.repeat, a.flood, worst * 1000))

    def example(self, password=None, iq=False):
        """An example_tag request (message or IQ set) with PASSWORD."""
        pw = "" if password is None else " password=%s" % quoteattr(password)
        if iq:
            return self.iq("set", "<example_tag xmlns='%s' data='p'%s>t"
                           "</example_tag>" % (NS, pw))
        sid = "probe-acc-" + uuid.uuid4().hex[:8]
        return sid, ("<message to='%s' id='%s'><body>b</body><example_tag "
                     "xmlns='%s' data='p'%s/></message>" % (self.comp, sid, NS, pw))

    async def run_access_checks(self):
        mode, right = self.args.access, os.environ.get("OPE_SERVICE_PASSWORD", "")
        if mode == "forbidden":
            for iq in (False, True):
                sid, xml = self.example(right or None, iq)
                self.expect_error(await self.request(xml, sid), "auth/forbidden",
                                  "denied sender, %s -> auth/forbidden"
                                  % ("IQ" if iq else "message"))
        else:
            for iq in (False, True):
                kind = "IQ" if iq else "message"
                sid, xml = self.example(None, iq)
                self.expect_error(await self.request(xml, sid),
                                  "auth/not-authorized", "no password, %s" % kind)
                sid, xml = self.example(right + "-wrong", iq)
                self.expect_error(await self.request(xml, sid),
                                  "auth/not-authorized", "wrong password, %s" % kind)
                sid, xml = self.example(right, iq)
                r = await self.request(xml, sid)
                et = r.find("{%s}example_tag" % NS) if r is not None else None
                self.check(r is not None and r.get("type") == "result" and
                           et is not None and et.get("data") == "p",
                           "right password, %s -> result" % kind,
                           ET.tostring(r, encoding="unicode") if r is not None
                           else "no reply")
                self.check(et is not None and et.get("password") is None,
                           "the password is not echoed (%s)" % kind)
            if self.args.burst:
                sids = []
                for _ in range(self.args.burst):
                    sid, xml = self.example(right)
                    fut = asyncio.get_event_loop().create_future()
                    self.waiters[sid] = fut
                    sids.append(fut)
                    self.send_raw(xml)
                done = await asyncio.wait_for(asyncio.gather(*sids), 30)
                conds = [self.condition(r) for r in done]
                limited = conds.count("wait/policy-violation")
                self.check(limited > 0 and limited + conds.count(None)
                           == len(conds), "burst of %d: some wait/policy-"
                           "violation, the rest answered" % len(conds),
                           "conditions %r" % sorted(set(map(str, conds))))
                texts = [r.findtext("{jabber:client}error/{%s}text" % STANZAS)
                         for r in done if self.condition(r)]
                self.check(any("rate limit" in (t or "") for t in texts),
                           "the policy-violation text says rate limit")
                await asyncio.sleep(self.args.refill)
                sid, xml = self.example(right)
                r = await self.request(xml, sid)
                self.check(r is not None and r.get("type") == "result",
                           "answers again after the refill",
                           str(self.condition(r)))
        sid, xml = self.iq("get", "<ping xmlns='urn:xmpp:ping'/>")
        r = await self.request(xml, sid)
        self.check(r is not None and r.get("type") == "result",
                   "ping stays public")

    async def on_start(self, _event):
        try:
            if self.args.flood:
                await self.flood()
            elif self.args.access:
                await self.run_access_checks()
            else:
                await self.run_checks()
        except Exception as exc:  # report, don't hang
            self.check(False, "probe crashed", repr(exc))
        if not self.done.done():
            self.done.set_result(1 if self.failures else 0)

    async def check_entity_time(self):
        """XEP-0202, asked with slixmpp's xep_0202 plugin. Its stanza getters
        cannot parse a conforming reply (slixmpp 1.8.3 reads utc as
        '...ZZ' and tzo as a bare time), so the XML is read directly."""
        before = datetime.datetime.now(datetime.timezone.utc)
        try:
            r = (await self["xep_0202"].get_entity_time(
                self.comp, timeout=10)).xml
        except IqError as exc:
            r = exc.iq.xml
        except IqTimeout:
            r = None
        after = datetime.datetime.now(datetime.timezone.utc)
        shown = ET.tostring(r, encoding="unicode") if r is not None \
            else "no reply"
        t = r.find("{%s}time" % TIME) if r is not None else None
        tzo = t.findtext("{%s}tzo" % TIME) if t is not None else None
        utc = t.findtext("{%s}utc" % TIME) if t is not None else None
        try:
            when = datetime.datetime.strptime(
                utc or "", "%Y-%m-%dT%H:%M:%SZ").replace(
                    tzinfo=datetime.timezone.utc)
        except ValueError:
            when = None
        # utc has whole seconds: it may be up to a second before BEFORE.
        self.check(r is not None and r.get("type") == "result"
                   and tzo == "+00:00" and when is not None
                   and before - datetime.timedelta(seconds=1) <= when <= after,
                   "urn:xmpp:time (slixmpp xep_0202): tzo +00:00, utc now",
                   "%s (asked between %s and %s)" % (shown, before, after))

    async def run_checks(self):
        comp = self.comp
        # disco#info: identity and features.
        sid, xml = self.iq("get", "<query xmlns='%s'/>" % DISCO_INFO)
        r = await self.request(xml, sid)
        q = r.find("{%s}query" % DISCO_INFO) if r is not None else None
        ident = q.find("{%s}identity" % DISCO_INFO) if q is not None else None
        self.check(ident is not None and ident.get("category") == "component"
                   and ident.get("type") == "generic",
                   "disco#info identity component/generic",
                   ET.tostring(r, encoding="unicode") if r is not None else "no reply")
        feats = set(f.get("var") for f in q.findall("{%s}feature" % DISCO_INFO)) \
            if q is not None else set()
        for f in (DISCO_INFO, "http://jabber.org/protocol/disco#items", NS,
                  "urn:xmpp:ping", "jabber:iq:version", TIME):
            self.check(f in feats, "disco#info feature %s" % f)

        # ping and version.
        sid, xml = self.iq("get", "<ping xmlns='urn:xmpp:ping'/>")
        r = await self.request(xml, sid)
        self.check(r is not None and r.get("type") == "result", "ping result")
        sid, xml = self.iq("get", "<query xmlns='jabber:iq:version'/>")
        r = await self.request(xml, sid)
        name = r.find("{jabber:iq:version}query/{jabber:iq:version}name") \
            if r is not None else None
        self.check(name is not None and name.text, "jabber:iq:version has a name",
                   ET.tostring(r, encoding="unicode") if r is not None else "no reply")

        await self.check_entity_time()

        # Unknown IQ, two payloads, oversized payload.
        sid, xml = self.iq("get", "<query xmlns='urn:example:unknown'/>")
        self.expect_error(await self.request(xml, sid),
                          "cancel/service-unavailable", "unknown IQ get")
        sid, xml = self.iq("set", "<query xmlns='urn:example:unknown'/>")
        self.expect_error(await self.request(xml, sid),
                          "cancel/service-unavailable", "unknown IQ set")
        sid, xml = self.iq("get", "<ping xmlns='urn:xmpp:ping'/>"
                           "<query xmlns='jabber:iq:version'/>")
        self.expect_error(await self.request(xml, sid),
                          "modify/bad-request", "IQ with two payload children")
        big = "x" * (self.args.max_payload + 1024)
        sid, xml = self.iq("set", "<example_tag xmlns='%s' data='big'>%s</example_tag>"
                           % (NS, big))
        self.expect_error(await self.request(xml, sid),
                          "modify/policy-violation", "oversized payload")

        # example_tag message: result with the same id, attributes, body, children.
        sid = "probe-msg-" + uuid.uuid4().hex[:8]
        xml = ("<message to='%s' id='%s'><body>%s</body>"
               "<example_tag xmlns='%s' another=%s data=%s>"
               "<child xmlns='urn:example:child' n='1'>inner &amp; text</child>"
               "</example_tag></message>"
               % (comp, sid, escape(SPECIAL_BODY), NS,
                  quoteattr(SPECIAL_ANOTHER), quoteattr(SPECIAL_DATA)))
        r = await self.request(xml, sid)
        et = r.find("{%s}example_tag" % NS) if r is not None else None
        ok = (r is not None and r.get("type") == "result" and et is not None
              and et.get("another") == SPECIAL_ANOTHER
              and et.get("data") == SPECIAL_DATA
              and (et.text or "") == SPECIAL_BODY)
        self.check(ok, "example_tag message -> IQ result with special chars/UTF-8",
                   ET.tostring(r, encoding="unicode") if r is not None else "no reply")
        child = et.find("{urn:example:child}child") if et is not None else None
        self.check(child is not None and child.get("n") == "1"
                   and child.text == "inner & text",
                   "example_tag children copied")

        # Absent attributes stay absent; no body, no text.
        sid = "probe-min-" + uuid.uuid4().hex[:8]
        r = await self.request("<message to='%s' id='%s'><example_tag xmlns='%s'/>"
                               "</message>" % (comp, sid, NS), sid)
        et = r.find("{%s}example_tag" % NS) if r is not None else None
        self.check(et is not None and et.get("another") is None
                   and et.get("data") is None and not (et.text or ""),
                   "bare example_tag -> bare result")

        # example_tag IQ: same id, text echoed.
        sid, xml = self.iq("set", "<example_tag xmlns='%s' another=%s data=%s>%s"
                           "</example_tag>" % (NS, quoteattr(SPECIAL_ANOTHER),
                                               quoteattr(SPECIAL_DATA),
                                               escape(SPECIAL_BODY)))
        r = await self.request(xml, sid)
        et = r.find("{%s}example_tag" % NS) if r is not None else None
        self.check(r is not None and r.get("type") == "result" and et is not None
                   and et.get("data") == SPECIAL_DATA
                   and et.get("another") == SPECIAL_ANOTHER
                   and (et.text or "") == SPECIAL_BODY,
                   "example_tag IQ -> result with special chars/UTF-8",
                   ET.tostring(r, encoding="unicode") if r is not None else "no reply")

        # Never answered: error-type message and IQ, message without example_tag.
        quiet = []
        for kind, xml in (
                ("error message", "<message type='error' to='%s' id='%%s'>"
                 "<example_tag xmlns='%s' data='e'/><error type='cancel'>"
                 "<item-not-found xmlns='%s'/></error></message>" % (comp, NS, STANZAS)),
                ("error IQ", "<iq type='error' to='%s' id='%%s'><error type='cancel'>"
                 "<item-not-found xmlns='%s'/></error></iq>" % (comp, STANZAS)),
                ("result IQ", "<iq type='result' to='%s' id='%%s'/>" % comp),
                ("message without example_tag",
                 "<message to='%s' id='%%s'><body>hi</body></message>" % comp)):
            sid = "probe-quiet-" + uuid.uuid4().hex[:8]
            quiet.append((kind, sid))
            self.send_raw(xml % sid)
        # The component answers in order: once this ping's result is back,
        # any reply to the stanzas above would have arrived too.
        sid, xml = self.iq("get", "<ping xmlns='urn:xmpp:ping'/>")
        r = await self.request(xml, sid)
        await asyncio.sleep(0.5)
        self.check(r is not None, "ping after the unanswerable stanzas")
        answered = set(s[0] for s in self.seen)
        for kind, sid in quiet:
            self.check(sid not in answered, "no reply to: %s" % kind)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jid", required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--cafile", required=True)
    ap.add_argument("--component", required=True)
    ap.add_argument("--max-payload", type=int, default=65536)
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--flood", type=int, default=0, metavar="CHILDREN")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--interval", type=float, default=0.5)
    ap.add_argument("--within", type=float, default=2.0)
    ap.add_argument("--access", choices=("password", "forbidden"))
    ap.add_argument("--burst", type=int, default=0)
    ap.add_argument("--refill", type=float, default=2.0)
    args = ap.parse_args()
    password = os.environ.get("OPE_PASSWORD")
    if not password:
        print("set OPE_PASSWORD", file=sys.stderr)
        return 64
    probe = Probe(args, password)
    probe.connect((args.host, args.port))
    loop = asyncio.get_event_loop()
    try:
        rc = loop.run_until_complete(asyncio.wait_for(probe.done, args.timeout))
    except asyncio.TimeoutError:
        print("not ok - probe timed out after %.0f s" % args.timeout)
        rc = 2
    if rc == 3:
        print("not ok - cannot connect or log in to %s:%d as %s"
              % (args.host, args.port, args.jid))
    probe.disconnect()
    try:
        loop.run_until_complete(asyncio.wait_for(probe.disconnected, 5))
    except Exception:
        pass
    return rc


if __name__ == "__main__":
    sys.exit(main())
