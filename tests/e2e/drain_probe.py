#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# tests/e2e/drain_probe.py: a bare XEP-0114 connection that asks ejabberd's mod_ope to unroute it, then counts what still reaches it.
"""Usage: drain_probe.py PORT DOMAIN SERVER SECRET STOPFILE [noask|announce=NAME]

Connects to the component port, authenticates, sends
<iq type='set'><unroute xmlns='urn:xmpp:ope:drain:0'/></iq> (unless
"noask"), prints "reply: result|error|none" for it, then stays connected
until STOPFILE exists (at most 300 s) and prints "received: N" for the
stanzas (messages and IQs other than the drain reply and mod_ope's
liveness pings, ids ope-ping-*, which it answers) routed to it meanwhile.
Exits 1 if the connection fails or closes early.

With announce=NAME it does not ask to be unrouted: it announces NAME
(<instance xmlns='urn:xmpp:ope:pool:0'/>, doc/pool-protocol.md) and prints
"announce: result size=N" or "announce: error CONDITION" (or "none").
"""
import os
import hashlib
import re
import socket
import sys
import time

DRAIN_NS = "urn:xmpp:ope:drain:0"
POOL_NS = "urn:xmpp:ope:pool:0"


def read_until(sock, buf, pattern, deadline):
    """Read until the regex PATTERN matches BUF; return (match, buf)."""
    while True:
        m = re.search(pattern, buf)
        if m:
            return m, buf
        left = deadline - time.monotonic()
        if left <= 0:
            return None, buf
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            return None, buf
        if not chunk:
            raise ConnectionError("server closed the stream")
        buf += chunk.decode("utf-8", "replace")


def main(argv):
    if len(argv) not in (6, 7):
        print(__doc__, file=sys.stderr)
        return 64
    port, domain, server, secret = int(argv[1]), argv[2], argv[3], argv[4]
    stopfile = argv[5]
    ask = len(argv) == 6
    announce = argv[6][len("announce="):] if (
        len(argv) == 7 and argv[6].startswith("announce=")) else None
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall((
        "<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept'"
        " xmlns:stream='http://etherx.jabber.org/streams' to='%s'>" % domain
    ).encode())
    m, buf = read_until(sock, "", r"<stream:stream[^>]* id=['\"]([^'\"]+)",
                        time.monotonic() + 10)
    if not m:
        print("no stream header", file=sys.stderr)
        return 1
    digest = hashlib.sha1((m.group(1) + secret).encode()).hexdigest()
    sock.sendall(("<handshake>%s</handshake>" % digest).encode())
    m, buf = read_until(sock, buf, r"<handshake\s*/>|<handshake></handshake>",
                        time.monotonic() + 10)
    if not m:
        print("handshake failed: %r" % buf[-300:], file=sys.stderr)
        return 1
    buf = buf[m.end():]
    reply = "none"
    if ask:
        sock.sendall((
            "<iq type='set' id='drain1' from='%s' to='%s'>"
            "<unroute xmlns='%s'/></iq>" % (domain, server, DRAIN_NS)
        ).encode())
        m, buf = read_until(
            sock, buf, r"<iq[^>]*id=['\"]drain1['\"][^>]*>",
            time.monotonic() + 5)
        if m:
            t = re.search(r"type=['\"](\w+)['\"]", m.group(0))
            reply = t.group(1) if t else "?"
            buf = buf[m.end():]
    print("reply: %s" % reply, flush=True)
    if announce is not None:
        sock.sendall((
            "<iq type='set' id='pool-1' from='%s' to='%s'>"
            "<instance xmlns='%s' name='%s'/></iq>"
            % (domain, server, POOL_NS, announce)).encode())
        m, buf = read_until(
            sock, buf, r"<iq[^>]*id=['\"]pool-1['\"][^>]*>.*?</iq>|"
            r"<iq[^>]*id=['\"]pool-1['\"][^>]*/>", time.monotonic() + 5)
        if not m:
            print("announce: none", flush=True)
        else:
            iq = m.group(0)
            buf = buf[m.end():]
            if re.search(r"type=['\"]result['\"]", iq):
                size = re.search(r"<pool[^>]*size=['\"](\d+)['\"]", iq)
                print("announce: result size=%s" % (
                    size.group(1) if size else "?"), flush=True)
            else:
                cond = re.search(
                    r"<([a-z-]+) xmlns=['\"]urn:ietf:params:xml:ns:"
                    r"xmpp-stanzas['\"]", iq)
                print("announce: error %s" % (
                    cond.group(1) if cond else "?"), flush=True)
    deadline = time.monotonic() + 300
    count = 0
    while time.monotonic() < deadline and not os.path.exists(stopfile):
        _, buf = read_until(sock, buf, r"(?!)", min(deadline,
                                                     time.monotonic() + 0.2))
        tags = re.findall(r"<(?:message|iq)[\s>][^>]*>", buf)
        count += sum(1 for tag in tags if "ope-ping-" not in tag)
        # Answer mod_ope's pings, as ope does, so the module keeps this
        # connection (it closes one silent past its liveness timeout).
        for tag in tags:
            ping = re.search(r"id=['\"](ope-ping-[0-9]+)['\"]", tag)
            sender = re.search(r"from=['\"]([^'\"]+)['\"]", tag)
            if ping and sender:
                sock.sendall((
                    "<iq type='result' id='%s' from='%s' to='%s'/>"
                    % (ping.group(1), domain, sender.group(1))).encode())
        buf = buf[max(0, buf.rfind(">") + 1):]
    print("received: %d" % count)
    sock.sendall(b"</stream:stream>")
    sock.close()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except (OSError, ConnectionError) as e:
        print("drain_probe: %s" % e, file=sys.stderr)
        sys.exit(1)
