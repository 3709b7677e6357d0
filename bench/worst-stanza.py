#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""worst-stanza.py: ope-component's CPU time for one stanza at every limit's
maximum, sent through the integration tests' fake server.

Stanzas are built through libstrophe's public API, whose append walks the
parent's children and whose attribute table has 8 buckets: the maxima of
limits.children and limits.attributes (xmlstream.h) bound that. Each shape
below fills limits.stanza_bytes (or limits.elements) at those maxima, is
sent as an example_tag message (echoed whole in the IQ result), and the CPU
time ope-component spent on it is read from /proc. For comparison, the same
bytes in small flat elements ("flat").

Usage: bench/worst-stanza.py [BUILDDIR]   (default: $OPE_BUILDDIR, else build/)
Environment: WORST_BYTES=N stanza bytes (default 16777216, the maximum of
limits.stanza_bytes); WORST_REPEAT=K stanzas per shape (default 3);
WORST_SHAPES="wide deep" only those shapes; OPE_COMPONENT another binary.
"""

import os
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(here, '..', 'tests', 'integration'))
if len(sys.argv) > 1:
    os.environ['OPE_BUILDDIR'] = os.path.abspath(sys.argv[1])
elif 'OPE_BUILDDIR' not in os.environ:
    os.environ['OPE_BUILDDIR'] = os.path.join(here, '..', 'build')
import fakeserver as fs  # noqa: E402
import harness  # noqa: E402

DOMAIN = 'ope.localhost'
SECRET = 'worst-stanza-secret'
NS_EX = 'https://example.net/our_extension'
BYTES = int(os.environ.get('WORST_BYTES', 16777216))
REPEAT = int(os.environ.get('WORST_REPEAT', 3))
# The maxima (xmlstream.h's XMLSTREAM_MAX_*, config.c's bounds).
DEPTH, CHILDREN, ELEMENTS, ATTRS = 1024, 256, 1048576, 256

CONFIG = '''server = { host = "127.0.0.1"; port = %d; };
component = { domain = "%s"; secret = "%s"; };
log = { level = "warning"; };
service = { max_payload = 16777216; };
limits = { stanza_bytes = %d; depth = %d; children = %d; elements = %d;
  attributes = %d; attribute_bytes = 16777216; text_bytes = 16777216;
  output_queue = 1073741824;
  sender = { rate = 1000000.0; burst = 1000000; }; };
'''

# What wraps the payload; its elements count too.
HEAD = ("<message from='alice@localhost/x' to='%s' id='w' type='chat'>"
        "<example_tag xmlns='%s' another='a' data='d'>" % (DOMAIN, NS_EX))
TAIL = "</example_tag></message>"
ROOM = BYTES - len(HEAD) - len(TAIL) - 64
LEFT = ELEMENTS - 8


def pack(item, n, elements):
    """N copies of ITEM (ELEMENTS elements each) as children of
    example_tag: in <q> groups of CHILDREN, and groups of those, so that
    no element has more than CHILDREN children. Returns (xml, elements)."""
    total = n * elements
    siblings = [item] * n
    while len(siblings) > CHILDREN:
        siblings = ['<q>' + ''.join(siblings[i:i + CHILDREN]) + '</q>'
                    for i in range(0, len(siblings), CHILDREN)]
        total += len(siblings)
    return ''.join(siblings), total


def fit(item, elements):
    """As many ITEMs as the bytes and the elements allow, packed."""
    n = min(LEFT // (elements + 1), ROOM // (len(item) + 8))
    return pack(item, n, elements)


def wide():
    """Elements with CHILDREN empty children each."""
    return fit('<p>' + '<c/>' * CHILDREN + '</p>', CHILDREN + 1)


def wide_text():
    """As wide, with a text node between the children (a libstrophe list
    twice as long)."""
    return fit('<p>' + '<c/>t' * CHILDREN + '</p>', CHILDREN + 1)


def attrs():
    """Elements with ATTRS attributes each."""
    return fit('<a' + ''.join(" a%d=''" % i for i in range(ATTRS)) + '/>', 1)


def deep():
    """Chains nested DEPTH - 6 deep (message, example_tag and the groups
    take the rest). Parsed and built whole, then answered policy-violation:
    a payload deeper than STANZA_MAX_DEPTH (stanza.h) is not echoed."""
    d = DEPTH - 6
    return fit('<d>' * d + '</d>' * d, d)


def flat():
    """Small elements (16 children each): the linear cost of the bytes."""
    return fit('<p>' + '<c/>' * 16 + '</p>', 17)


def main():
    harness.start('ope-worst-')
    srv = fs.FakeServer(DOMAIN, SECRET)
    path = os.path.join(harness.TMPDIR, 'worst.conf')
    with open(path, 'w') as f:
        f.write(CONFIG % (srv.port, DOMAIN, SECRET, BYTES, DEPTH, CHILDREN,
                          ELEMENTS, ATTRS))
    os.chmod(path, 0o600)
    comp = harness.Component(path)
    conn = srv.accept(30.0)
    if conn is None or not conn.handshake(timeout=30.0):
        print('worst-stanza: ope-component did not connect %s' % comp.why())
        return 1
    print('%-10s %10s %9s %12s %12s  %s' % ('shape', 'bytes', 'elements',
                                            'cpu/stanza', 'ns/byte', 'reply'))
    shapes = (flat, wide, wide_text, attrs, deep)
    if os.environ.get('WORST_SHAPES'):
        shapes = [globals()[n] for n in os.environ['WORST_SHAPES'].split()]
    for shape in shapes:
        payload, elements = shape()
        stanza = (HEAD + payload + TAIL).encode()
        before = comp.cpu()
        for _ in range(REPEAT):
            # The component reads as it parses: slower than send()'s
            # 10 s timeout on the biggest shapes.
            conn.sock.setblocking(True)
            conn.sock.settimeout(600.0)
            conn.sock.sendall(stanza)
            conn.sock.setblocking(False)
        got = conn.recv_stanzas(REPEAT, timeout=600.0)
        spent = (comp.cpu() - before) / REPEAT
        if len(got) != REPEAT:
            print('worst-stanza: %s: %d of %d replies %s'
                  % (shape.__name__, len(got), REPEAT, comp.why()))
            return 1
        # An echo (result), or policy-violation when the reply would pass
        # service.max_payload (each element's inherited xmlns counts).
        answer = got[-1].get('type')
        print('%-10s %10d %9d %10.3f s %12.1f  %s'
              % (shape.__name__, len(stanza), elements, spent,
                 spent * 1e9 / len(stanza), answer))
        sys.stdout.flush()
    comp.stop()
    return 0


if __name__ == '__main__':
    sys.exit(main())
