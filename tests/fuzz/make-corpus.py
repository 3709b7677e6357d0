#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# make-corpus.py: writes the seed corpus under tests/fuzz/corpus/ (run from anywhere; idempotent).
#
# Each seed's first byte: bit 0 = tiny limits, bit 1 = send a stream header
# first; second byte: feed size (0 = all at once). See fuzz_common.c.
import os

HERE = os.path.dirname(os.path.abspath(__file__))
EX = "xmlns='https://example.net/our_extension'"

PROSODY_HDR = ("<?xml version='1.0'?><stream:stream xmlns:stream="
               "'http://etherx.jabber.org/streams' xml:lang='en' "
               "xmlns='jabber:component:accept' "
               "id='1f6a1b6e-4a8e-4f36-9d0a-6a3c0b0b1c2d' from='ope.localhost'>")
EJABBERD_HDR = ("<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept' "
                "xmlns:stream='http://etherx.jabber.org/streams' "
                "from='ope.localhost' id='4279437521744180516'>")

PROSODY = [
    "<handshake/>",
    "<message xml:lang='en' type='chat' to='ope.localhost' from='alice@localhost/r1' "
    "id='m1'><example_tag " + EX + " another='some' data='stuff'/>"
    "<body>OUR_MESSAGE</body></message>",
    "<iq xml:lang='en' type='get' to='ope.localhost' from='alice@localhost/r1' id='d1'>"
    "<query xmlns='http://jabber.org/protocol/disco#info'/></iq>",
    "<iq xml:lang='en' type='get' to='ope.localhost' from='alice@localhost/r1' id='d2'>"
    "<query xmlns='http://jabber.org/protocol/disco#items'/></iq>",
    "<iq type='get' to='ope.localhost' from='localhost' id='p1'>"
    "<ping xmlns='urn:xmpp:ping'/></iq>",
    "<iq xml:lang='en' type='get' to='ope.localhost' from='alice@localhost/r1' id='v1'>"
    "<query xmlns='jabber:iq:version'/></iq>",
    "<presence xml:lang='en' type='subscribe' to='ope.localhost' from='alice@localhost'/>",
    "<presence type='probe' to='bot@ope.localhost' from='alice@localhost/r1'/>",
    "<presence xml:lang='en' to='ope.localhost' from='alice@localhost/r1'><c "
    "xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='http://x' "
    "ver='abc='/></presence>",
    "<message type='error' to='ope.localhost' from='alice@localhost/r1' id='e1'>"
    "<error type='cancel'><service-unavailable "
    "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>",
    "<iq type='set' to='ope.localhost' from='alice@localhost/r1' id='s1'>"
    "<query xmlns='jabber:iq:register'/></iq>",
    "<iq type='result' to='ope.localhost' from='localhost' id='ping-1'/>",
]
EJABBERD = [
    "<handshake/>",
    "<message from='alice@localhost/r1' to='ope.localhost' type='chat' id='m2' "
    "xml:lang='en'><example_tag " + EX + " another='some' data='stuff'/></message>",
    "<iq from='alice@localhost/r1' to='ope.localhost' type='get' id='d3' xml:lang='en'>"
    "<query xmlns='http://jabber.org/protocol/disco#info' node='x'/></iq>",
    "<presence from='alice@localhost/r1' to='ope.localhost' xml:lang='en'>"
    "<priority>5</priority></presence>",
    "<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
    "</stream:error></stream:stream>",
]

def seeds():
    yield "prosody", 0, 0, PROSODY_HDR + "\n".join(PROSODY) + "</stream:stream>"
    yield "prosody-split", 0, 7, PROSODY_HDR + "".join(PROSODY)
    yield "ejabberd", 0, 0, EJABBERD_HDR + "".join(EJABBERD)
    yield "ejabberd-tiny", 1, 13, EJABBERD_HDR + "".join(EJABBERD)
    for i, s in enumerate(PROSODY + EJABBERD[1:4]):
        yield "stanza-%02d" % i, 2, 0, s
        yield "stanza-%02d-tiny" % i, 3, 3, s
    frm = "from='alice@localhost/r1' to='ope.localhost'"
    hostile = {
        "deep": "<message %s id='x'>" % frm + "<a>" * 2000 + "</a>" * 2000 + "</message>",
        "children": "<message %s id='x'><example_tag %s>" % (frm, EX) + "<a/>" * 3000
                    + "</example_tag></message>",
        "attrs": "<message %s id='x'><e " % frm + " ".join("a%d='%d'" % (i, i) for i in range(500))
                 + "/></message>",
        "ns-decls": "<message %s><e " % frm + " ".join("xmlns:p%d='u%d'" % (i, i) for i in range(300))
                    + " p7:x='1' p8:x='2'/></message>",
        "entities": "<message %s><body>" % frm + "a&amp;&#x41;&#65;&lt;" * 500 + "</body></message>",
        "comments": "<message %s><body>" % frm + "a<!--c-->" * 500 + "</body></message>",
        "cdata": "<message %s><body>" % frm + "a<![CDATA[<b>]]>" * 500 + "</body></message>",
        "doctype": "<!DOCTYPE lol [<!ENTITY a 'aaaa'><!ENTITY b '&a;&a;&a;'>]>",
        "undefined-entity": "<message %s><body>&lol;</body></message>" % frm,
        "invalid-utf8": "<message %s><body>\udcc3(\udced\udca0\udc80</body></message>" % frm,
        "second-header": "<stream:stream xmlns:stream='http://etherx.jabber.org/streams'/>",
        "junk-after-close": "<presence %s/></stream:stream><message/>" % frm,
        "big-attr": "<message %s id='" % frm + "x" * 17000 + "'/>",
        "big-text": "<message %s><body>" % frm + "y" * 66000 + "</body></message><presence %s/>" % frm,
        "pi-and-space": "<?pi data?> \n <presence %s/> <!-- c -->\n" % frm,
        "xml-ns-attrs": "<message %s xml:lang='en' xml:space='preserve'><body xml:lang='de'>x"
                        "</body></message>" % frm,
        "prefixed-stanza": "<c:message xmlns:c='jabber:component:accept' %s><c:body>x</c:body>"
                           "</c:message>" % frm,
        "empty-ns": "<message xmlns='' %s><body/></message>" % frm,
        "stream-error": "<stream:error><text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>"
                        "&lt;bye&gt;</text></stream:error>",
        # What Prosody writes for a client's forged x:from, xml:foo and <xml:foo/>.
        "forged-from": "<message xmlns:ns1='urn:x' ns1:from='boss@localhost/x' %s id='f'>"
                       "<example_tag %s xmlns:ns1='urn:q' ns1:data='a' data='b'/></message>"
                       % (frm, EX),
        "xml-ns-prefix": "<message %s id='x'><e xmlns:ns1='http://www.w3.org/XML/1998/"
                         "namespace' ns1:foo='1'/></message><iq xmlns:ns1='http://www.w3.org/"
                         "XML/1998/namespace' ns1:foo='1' %s/><presence %s/>" % (frm, frm, frm),
        "xml-ns-default": "<message %s><foo xmlns='http://www.w3.org/XML/1998/namespace'>"
                          "<a/></foo></message><presence %s/>" % (frm, frm),
    }
    for name, s in hostile.items():
        yield "hostile-" + name, 2, 0, s
        if len(s) < 20000:
            yield "hostile-" + name + "-tiny", 3, 17, s
    yield "stray-top", 0, 0, "<message xmlns='jabber:component:accept'/>"
    yield "garbage", 0, 0, "\x00\x01garbage<<>>"

for target in ("fuzz-xmlstream", "fuzz-dispatch"):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    for name, flags, cut, text in seeds():
        with open(os.path.join(d, name), "wb") as f:
            f.write(bytes([flags, cut]) + text.encode("utf-8", "surrogateescape"))
