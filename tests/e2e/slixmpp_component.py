#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# slixmpp_component.py: an independent example_tag component (slixmpp), so e2e can
# prove ope-client interoperates with more than ope-component.
#
# Usage: slixmpp_component.py DOMAIN SECRET PORT   (the server on 127.0.0.1:PORT)
# Prints "connected" once the server accepted the handshake; runs until killed.
# Answers like the tutorial's ResponseClient: a message with example_tag gets an
# <iq type="result"> to the sender's full JID with the message's id, and an
# example_tag IQ get/set a result with the request's text. Ping and disco come
# from slixmpp's own plugins.
import asyncio
import sys

import slixmpp
from slixmpp.xmlstream import ET
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

NS = "https://example.net/our_extension"


class ExampleComponent(slixmpp.ComponentXMPP):
    def __init__(self, domain, secret, port):
        super().__init__(domain, secret, "127.0.0.1", port)
        self.register_plugin("xep_0030")
        self.register_plugin("xep_0199")
        self["xep_0030"].add_feature(NS)
        self.add_event_handler("session_start", self.on_start)
        for kind in ("message", "iq"):
            self.register_handler(Callback(
                "example-" + kind,
                MatchXPath("{jabber:component:accept}%s/{%s}example_tag"
                           % (kind, NS)),
                self.on_request))

    def on_start(self, _event):
        print("connected", flush=True)

    def on_request(self, stanza):
        x = stanza.xml
        if x.get("type") in ("error", "result"):
            return
        req = x.find("{%s}example_tag" % NS)
        reply = self.make_iq_result(id=x.get("id"), ito=x.get("from"),
                                    ifrom=x.get("to"))
        tag = ET.SubElement(reply.xml, "{%s}example_tag" % NS)
        for name in ("another", "data"):
            if req.get(name) is not None:
                tag.set(name, req.get(name))
        if x.tag.endswith("message"):
            body = x.find("{jabber:component:accept}body")
            tag.text = body.text if body is not None else None
        else:
            tag.text = req.text
        for child in req:
            tag.append(child)
        reply.send()


def main():
    domain, secret, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    comp = ExampleComponent(domain, secret, port)
    comp.connect()
    asyncio.get_event_loop().run_forever()


if __name__ == "__main__":
    main()
