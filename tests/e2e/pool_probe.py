#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# tests/e2e/pool_probe.py: a bare XEP-0114 connection that announces instance names to a server module (urn:xmpp:ope:pool:0) and prints the answers.
"""Usage: pool_probe.py PORT DOMAIN SERVER SECRET STOPFILE NAME...

Connects to the component port and authenticates (prints "handshake:
failed: ..." and exits 1 when refused), then sends one announcement
<iq type='set'><instance xmlns='urn:xmpp:ope:pool:0' name='NAME'/></iq>
per NAME, in order, and prints "NAME: result size=N" or "NAME: error
CONDITION" or "NAME: none" (no answer within 10 s) for each, then
"ready", and stays connected until STOPFILE exists (at most 300 s).
Meanwhile, with PROBE_ANSWER=N in the environment, it answers each
<iq type='get|set'/> from a user (a JID with an @) N times with a result,
and prints "received: K" whenever K, the count of such IQs, grows.
"""
import os
import hashlib
import re
import socket
import sys
import time
from xml.sax.saxutils import quoteattr

POOL_NS = "urn:xmpp:ope:pool:0"


def read_until(sock, buf, pattern, deadline):
    """Read until the regex PATTERN matches BUF; return (match, buf)."""
    while True:
        m = re.search(pattern, buf, re.S)
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
            return None, buf + "<closed/>"
        buf += chunk.decode("utf-8", "replace")


def main(argv):
    if len(argv) < 6:
        print(__doc__, file=sys.stderr)
        return 64
    port, domain, server, secret = int(argv[1]), argv[2], argv[3], argv[4]
    stopfile, names = argv[5], argv[6:]
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall((
        "<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept'"
        " xmlns:stream='http://etherx.jabber.org/streams' to='%s'>" % domain
    ).encode())
    m, buf = read_until(sock, "", r"<stream:stream[^>]* id=['\"]([^'\"]+)",
                        time.monotonic() + 10)
    if not m:
        print("handshake: failed: no stream header", flush=True)
        return 1
    digest = hashlib.sha1((m.group(1) + secret).encode()).hexdigest()
    sock.sendall(("<handshake>%s</handshake>" % digest).encode())
    m, buf = read_until(sock, buf, r"<handshake\s*/>|<handshake></handshake>"
                        r"|</stream:error>|<closed/>", time.monotonic() + 10)
    if not m or not m.group(0).startswith("<handshake"):
        print("handshake: failed: %s" % buf[-300:].replace("\n", " "),
              flush=True)
        return 1
    buf = buf[m.end():]
    for i, name in enumerate(names):
        sock.sendall((
            "<iq type='set' id='pool-%d' from='%s' to='%s'>"
            "<instance xmlns='%s' name=%s/></iq>"
            % (i, domain, server, POOL_NS, quoteattr(name))).encode())
        m, buf = read_until(sock, buf, r"<iq[^>]*id=['\"]pool-%d['\"].*?</iq>" % i,
                            time.monotonic() + 10)
        if not m:
            print("%s: none" % name, flush=True)
            continue
        iq = m.group(0)
        buf = buf[m.end():]
        if re.search(r"type=['\"]result['\"]", iq):
            size = re.search(r"size=['\"](\d+)['\"]", iq)
            print("%s: result size=%s" % (name, size.group(1) if size else "?"),
                  flush=True)
        else:
            cond = re.search(r"<([a-z-]+) xmlns=['\"]urn:ietf:params:xml:ns:xmpp-stanzas['\"]", iq)
            print("%s: error %s" % (name, cond.group(1) if cond else "?"),
                  flush=True)
    print("ready", flush=True)
    answer = int(os.environ.get("PROBE_ANSWER", "0"))
    received = 0
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not os.path.exists(stopfile):
        _, buf = read_until(sock, buf, r"(?!)",
                            min(deadline, time.monotonic() + 0.2))
        got = 0
        for m in re.finditer(r"<iq\b[^>]*>", buf):
            tag = m.group(0)
            attrs = dict(re.findall(r"([a-z]+)=['\"]([^'\"]*)['\"]", tag))
            if attrs.get("type") not in ("get", "set") or \
                    "@" not in attrs.get("from", ""):
                continue
            got += 1
            reply = "<iq type='result' id=%s from=%s to=%s/>" % (
                quoteattr(attrs.get("id", "")), quoteattr(domain),
                quoteattr(attrs["from"]))
            for _ in range(answer):
                sock.sendall(reply.encode())
        if got:
            received += got
            print("received: %d" % received, flush=True)
        buf = buf[max(0, buf.rfind(">") + 1):]
    sock.sendall(b"</stream:stream>")
    sock.close()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except (OSError, ConnectionError) as e:
        print("pool_probe: %s" % e, file=sys.stderr)
        sys.exit(1)
