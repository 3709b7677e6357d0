# SPDX-License-Identifier: MIT
"""fakeserver.py: a small fake XEP-0114 server (Python 3 stdlib only) for ope's tests.

It listens on 127.0.0.1 (port 0 unless told otherwise), accepts a component,
answers its stream header the way Prosody does (stream id with dashes),
checks the <handshake> digest (lowercase hex SHA-1 of stream id + secret) and
answers <handshake/> or a stream error (not-authorized, conflict,
host-unknown) and closes. After the handshake the caller sends stanzas and
collects what comes back. Incoming XML is parsed incrementally with
ElementTree's XMLPullParser, so stanzas split across reads are fine.

Everything is synchronous and bounded by deadlines: no threads, no sleeps.
Run as a script it listens, prints "PORT <n>" and logs what it receives.

Hostile mode: hostile(NAME, ...) builds the bytes of one attack (garbage,
invalid UTF-8, a DOCTYPE, deep nesting, many children or attributes, a
huge stanza, every stream error condition) for a test to send after the
handshake; a FakeServer with a TLS context speaks direct TLS (as
ejabberd_service with tls: true). As a script: --hostile NAME sends one
attack after each handshake.
"""

import hashlib
import os
import random
import select
import socket
import ssl
import sys
import time
import uuid
import xml.etree.ElementTree as ET

NS_STREAM = 'http://etherx.jabber.org/streams'
NS_COMPONENT = 'jabber:component:accept'
NS_STREAMS_ERR = 'urn:ietf:params:xml:ns:xmpp-streams'
NS_STANZAS_ERR = 'urn:ietf:params:xml:ns:xmpp-stanzas'
NS_XML = 'http://www.w3.org/XML/1998/namespace'
POOL_NS = 'urn:xmpp:ope:pool:0'

# Handshake answers the server can give.
ACCEPT = 'accept'
NOT_AUTHORIZED = 'not-authorized'
CONFLICT = 'conflict'
HOST_UNKNOWN = 'host-unknown'


class ServerError(Exception):
    """The component did something the fake server did not expect."""


def handshake_digest(stream_id, secret):
    """XEP-0114's digest: lowercase hex SHA-1 of stream id + secret."""
    return hashlib.sha1((stream_id + secret).encode('utf-8')).hexdigest()


def qname(ns, local):
    return '{%s}%s' % (ns, local) if ns else local


def local_name(tag):
    return tag.rsplit('}', 1)[-1]


def namespace(tag):
    return tag[1:].split('}', 1)[0] if tag.startswith('{') else ''


def xml_escape(text):
    """Escape character data and single-quoted attribute values."""
    return (text.replace('&', '&amp;').replace('<', '&lt;')
            .replace('>', '&gt;').replace("'", '&apos;')
            .replace('"', '&quot;'))


_order_rng = random.Random(0x0be)


def prosody_xml(tag, attrs, inner='', lang='en', shuffle=True):
    """Serialise a stanza the way Prosody sends it to a component:
    single-quoted attributes, an added xml:lang, attributes in varied order.
    ATTRS is a dict or a list of pairs (None values are left out); INNER is
    already-serialised XML (or escaped text)."""
    items = list(attrs.items() if isinstance(attrs, dict) else attrs)
    items = [(k, v) for k, v in items if v is not None]
    if lang is not None:
        items.append(('xml:lang', lang))
    if shuffle:
        _order_rng.shuffle(items)
    text = '<' + tag + ''.join(" %s='%s'" % (k, xml_escape(v))
                               for k, v in items)
    if inner:
        return text + '>' + inner + '</' + tag + '>'
    return text + '/>'


class Connection:
    """One accepted component connection."""

    def __init__(self, sock, server):
        self.sock = sock
        self.server = server
        self.sock.setblocking(False)
        self.parser = ET.XMLPullParser(events=('start', 'end'))
        self.depth = 0
        self.root = None
        self.header = None          # the component's <stream:stream> attributes
        self.stanzas = []           # complete top-level elements not yet taken
        self.raw = bytearray()      # every byte received on this connection
        self.stream_closed = False  # saw </stream:stream>
        self.eof = False            # peer closed its side (recv returned 0)
        self.stream_id = None
        self.digest = None          # what the component sent in <handshake>
        self.digest_ok = None
        # Answer the component's XEP-0199 pings to the server, as Prosody
        # and ejabberd do; they are kept in PINGS, not in STANZAS.
        self.answer_pings = True
        self.pings = []
        # The pool announcement (doc/pool-protocol.md) is kept in
        # ANNOUNCEMENTS, not in STANZAS, and answered as the server's
        # POOL_ANSWER says.
        self.announcements = []

    # ---- reading -------------------------------------------------------
    def _feed(self, data):
        self.raw += data
        self.parser.feed(data)
        for event, elem in self.parser.read_events():
            if event == 'start':
                if self.depth == 0:
                    self.root = elem
                    self.header = dict(elem.attrib)
                    self.header['tag'] = elem.tag
                self.depth += 1
            else:
                self.depth -= 1
                if self.depth == 0:
                    self.stream_closed = True
                elif self.depth == 1:
                    # Keep memory flat over long streams.
                    self.root.remove(elem)
                    if self._is_server_ping(elem):
                        self.pings.append(elem)
                        if self.answer_pings:
                            self.send("<iq type='result' id='%s' from='%s' "
                                      "to='%s'/>" % (xml_escape(elem.get('id', '')),
                                                     xml_escape(elem.get('to', '')),
                                                     xml_escape(elem.get('from', ''))))
                        continue
                    if self._is_pool_announcement(elem):
                        self.announcements.append(elem)
                        self._answer_pool(elem, self.server.pool_answer)
                        continue
                    self.stanzas.append(elem)

    def _is_server_ping(self, elem):
        return (local_name(elem.tag) == 'iq' and elem.get('type') == 'get'
                and elem.get('to') != self.server.domain
                and elem.find('{urn:xmpp:ping}ping') is not None)

    def _is_pool_announcement(self, elem):
        return (local_name(elem.tag) == 'iq' and elem.get('type') == 'set'
                and elem.get('to') != self.server.domain
                and elem.find('{%s}instance' % POOL_NS) is not None)

    def _answer_pool(self, elem, how):
        """Answer announcement ELEM: None (not at all), 'result' (with the
        server's POOL_SIZE) or an error condition."""
        if how is None:
            return
        head = "<iq id='%s' from='%s' to='%s'" % (
            xml_escape(elem.get('id', '')), xml_escape(elem.get('to', '')),
            xml_escape(elem.get('from', '')))
        if how == 'result':
            self.send("%s type='result'><pool xmlns='%s' size='%d'/></iq>"
                      % (head, POOL_NS, self.server.pool_size))
        else:
            self.send("%s type='error'><error type='cancel'><%s xmlns="
                      "'urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
                      % (head, how))

    def _read_some(self, deadline):
        """Wait until data or EOF, at most until DEADLINE (a passed deadline
        still takes one non-blocking look); False if nothing came."""
        if self.sock is None:
            self.eof = True
            return False
        remaining = max(0.0, deadline - time.monotonic())
        pending = isinstance(self.sock, ssl.SSLSocket) and self.sock.pending()
        if not pending:
            ready, _, _ = select.select([self.sock], [], [], remaining)
            if not ready:
                return False
        try:
            data = self.sock.recv(65536)
        except (ConnectionResetError, BrokenPipeError, ssl.SSLError):
            data = b''
        except (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
            return True
        if not data:
            self.eof = True
            return True
        try:
            self._feed(data)
        except ET.ParseError as e:
            raise ServerError('component sent malformed XML: %s (raw tail %r)'
                              % (e, bytes(self.raw[-200:])))
        return True

    def wait_for(self, cond, timeout):
        """Read until COND() is true; False if TIMEOUT passes or the peer
        closed first."""
        deadline = time.monotonic() + timeout
        while not cond():
            if self.eof:
                return cond()
            if not self._read_some(deadline):
                return cond()
        return True

    def recv_stanza(self, timeout=5.0):
        """The next complete top-level element, or None after TIMEOUT/EOF."""
        if self.wait_for(lambda: self.stanzas, timeout):
            return self.stanzas.pop(0)
        return None

    def recv_stanzas(self, count, timeout=10.0):
        """Up to COUNT stanzas within TIMEOUT (fewer if time runs out)."""
        self.wait_for(lambda: len(self.stanzas) >= count, timeout)
        got, self.stanzas = self.stanzas[:count], self.stanzas[count:]
        return got

    def drain(self, timeout=0.0):
        """Every stanza that arrives within TIMEOUT (just a look if 0)."""
        deadline = time.monotonic() + timeout
        while not self.eof and self._read_some(deadline):
            pass
        got, self.stanzas = self.stanzas, []
        return got

    def wait_closed(self, timeout=5.0):
        """True once the component closed its stream and its socket."""
        return self.wait_for(lambda: self.eof, timeout)

    # ---- writing -------------------------------------------------------
    def send(self, data):
        if isinstance(data, str):
            data = data.encode('utf-8')
        self.sock.setblocking(True)
        self.sock.settimeout(10.0)
        try:
            self.sock.sendall(data)
        finally:
            self.sock.setblocking(False)

    def send_stream_error(self, condition, text=None):
        inner = "<%s xmlns='%s'/>" % (condition, NS_STREAMS_ERR)
        if text:
            inner += ("<text xmlns='%s'>%s</text>"
                      % (NS_STREAMS_ERR, xml_escape(text)))
        try:
            self.send('<stream:error>%s</stream:error></stream:stream>' % inner)
        except OSError:
            pass

    # ---- the XEP-0114 opening -------------------------------------------
    def handshake(self, answer=ACCEPT, timeout=5.0):
        """Run the opening. Raises ServerError if the component's stream
        header or handshake is wrong. With ANSWER other than ACCEPT the
        matching stream error is sent and the connection closed. Returns
        True when the digest matched."""
        if not self.wait_for(lambda: self.header is not None, timeout):
            raise ServerError('no stream header from the component within %.1f s'
                              ' (got %r)' % (timeout, bytes(self.raw[:200])))
        h = self.header
        if h['tag'] != qname(NS_STREAM, 'stream'):
            raise ServerError('stream header is %s, not stream:stream' % h['tag'])
        if b"jabber:component:accept" not in bytes(self.raw):
            raise ServerError('stream header lacks xmlns jabber:component:accept')
        if h.get('to') != self.server.domain:
            raise ServerError('stream header to=%r, expected %r'
                              % (h.get('to'), self.server.domain))
        self.stream_id = str(uuid.uuid4())  # dashes, as Prosody's ids have
        self.send("<?xml version='1.0'?><stream:stream"
                  " xmlns='%s' xmlns:stream='%s' from='%s' id='%s'>"
                  % (NS_COMPONENT, NS_STREAM, self.server.domain,
                     self.stream_id))
        hs = self.recv_stanza(timeout)
        if hs is None:
            raise ServerError('no <handshake> from the component within %.1f s'
                              % timeout)
        if local_name(hs.tag) != 'handshake':
            raise ServerError('expected <handshake>, got %s' % hs.tag)
        self.digest = (hs.text or '').strip()
        expected = handshake_digest(self.stream_id, self.server.secret)
        self.digest_ok = (self.digest == expected)
        if answer == ACCEPT and not self.digest_ok:
            answer = NOT_AUTHORIZED
        if answer == ACCEPT:
            self.send('<handshake/>')
        else:
            text = None
            if answer == NOT_AUTHORIZED:
                text = 'Given token does not match calculated token'
            self.send_stream_error(answer, text)
            self.close()
        self.server.handshakes.append((self.digest_ok, answer))
        return self.digest_ok

    def close(self):
        if self.sock is not None:
            try:
                self.sock.close()
            finally:
                self.sock = None
                self.eof = True


class FakeServer:
    """The listening side. PORT is read back after binding (0 = any)."""

    def __init__(self, domain='ope.localhost', secret='s3cret', port=0,
                 host='127.0.0.1', tls=None):
        self.domain = domain
        self.secret = secret
        self.host = host
        self.tls = tls              # an ssl.SSLContext: direct TLS
        self.tls_errors = []        # why TLS handshakes failed
        self.listener = None
        self.conns = []
        self.accepted = 0
        self.handshakes = []
        # How announcements are answered (Connection._answer_pool): not at
        # all by default, so that no answer lands in the middle of a
        # stanza a test writes in pieces (test_pool.py sets one).
        self.pool_answer = None
        self.pool_size = 1
        self.listen(port)

    def listen(self, port=None):
        """(Re)open the listening socket, on PORT or the previous port."""
        if port is None:
            port = self.port
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((self.host, port))
            s.listen(16)
        except OSError:
            s.close()
            raise
        self.listener = s
        self.port = s.getsockname()[1]

    def accept(self, timeout=5.0):
        """The next component connection, or None after TIMEOUT."""
        ready, _, _ = select.select([self.listener], [], [], timeout)
        if not ready:
            return None
        sock, _ = self.listener.accept()
        self.accepted += 1
        if self.tls is not None:
            sock.settimeout(timeout)
            try:
                sock = self.tls.wrap_socket(sock, server_side=True)
            except (ssl.SSLError, OSError) as e:
                self.tls_errors.append(str(e))
                sock.close()
                return None
        conn = Connection(sock, self)
        self.conns.append(conn)
        return conn

    def stop_listening(self):
        if self.listener is not None:
            self.listener.close()
            self.listener = None

    def close(self):
        """Close the listener and every connection (the server goes away)."""
        self.stop_listening()
        for c in self.conns:
            c.close()
        self.conns = []


# ---- hostile mode ---------------------------------------------------------

# RFC 6120 section 4.9.3's stream error conditions.
STREAM_ERRORS = (
    'bad-format', 'bad-namespace-prefix', 'conflict', 'connection-timeout',
    'host-gone', 'host-unknown', 'improper-addressing',
    'internal-server-error', 'invalid-from', 'invalid-namespace',
    'invalid-xml', 'not-authorized', 'not-well-formed', 'policy-violation',
    'remote-connection-failed', 'reset', 'resource-constraint',
    'restricted-xml', 'see-other-host', 'system-shutdown',
    'undefined-condition', 'unsupported-encoding', 'unsupported-feature',
    'unsupported-stanza-type', 'unsupported-version')

HOSTILE = ('garbage', 'bad-utf8', 'doctype', 'entity', 'second-header',
           'deep', 'children', 'attributes', 'huge', 'huge-token')


def hostile(name, frm='mallory@localhost/x', to='ope.localhost', id_='evil',
            n=None):
    """The bytes of attack NAME (one of HOSTILE), sent after the handshake.
    Stanza-shaped attacks are messages from FRM with ID so a component can
    answer policy-violation; N scales them."""
    head = ("<message from='%s' to='%s' id='%s' type='chat'>"
            % (frm, to, id_)).encode()
    ex = b"<example_tag xmlns='https://example.net/our_extension'>"
    tail = b'</example_tag></message>'
    if name == 'garbage':
        return b'\x00\x01 this is not XML <<<>>> \xff\xfe'
    if name == 'bad-utf8':
        return head + b'<body>\xc3\x28 \xed\xa0\x80</body></message>'
    if name == 'doctype':
        return b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]>' + head + b'</message>'
    if name == 'entity':
        return head + b'<body>&undefined;</body></message>'
    if name == 'second-header':
        return (b"<stream:stream xmlns='jabber:component:accept' "
                b"xmlns:stream='http://etherx.jabber.org/streams' id='x'>")
    if name == 'deep':
        n = n or 1000000
        return head + b'<a>' * n + b'</a>' * n + b'</message>'
    if name == 'children':
        n = n or 100000
        return head + ex + b'<c/>' * n + tail
    if name == 'attributes':
        n = n or 200000
        return (head + b'<example_tag xmlns=\'https://example.net/our_extension\''
                + b''.join(b" a%d=''" % i for i in range(n)) + b'/></message>')
    if name == 'huge':
        n = n or 50 * 1024 * 1024
        chunk = b'x' * 65536
        return head + b'<body>' + chunk * (n // len(chunk)) + b'</body></message>'
    if name == 'huge-token':
        n = n or 1024 * 1024
        return head + b'<!--' + b'y' * n + b'-->' + b'</message>'
    raise ValueError('unknown hostile mode %r' % name)


def main(argv):
    import argparse
    ap = argparse.ArgumentParser(description='fake XEP-0114 server')
    ap.add_argument('--domain', default='ope.localhost')
    ap.add_argument('--secret', default='s3cret')
    ap.add_argument('--port', type=int, default=0)
    ap.add_argument('--answer', default=ACCEPT,
                    choices=[ACCEPT, NOT_AUTHORIZED, CONFLICT, HOST_UNKNOWN])
    ap.add_argument('--hostile', choices=HOSTILE + tuple(
        'stream-error:' + c for c in STREAM_ERRORS),
        help='after each handshake send this attack')
    args = ap.parse_args(argv)
    srv = FakeServer(args.domain, args.secret, args.port)
    print('PORT %d' % srv.port, flush=True)
    try:
        while True:
            conn = srv.accept(timeout=3600)
            if conn is None:
                continue
            try:
                ok = conn.handshake(args.answer)
                print('handshake %s' % ('ok' if ok else 'BAD DIGEST'), flush=True)
                if args.hostile and args.hostile.startswith('stream-error:'):
                    conn.send_stream_error(args.hostile.split(':', 1)[1])
                elif args.hostile:
                    conn.send(hostile(args.hostile, to=args.domain))
                while conn.sock is not None and not conn.eof:
                    st = conn.recv_stanza(timeout=3600)
                    if st is not None:
                        print(ET.tostring(st, encoding='unicode'), flush=True)
            except ServerError as e:
                print('error: %s' % e, flush=True)
            conn.close()
    except KeyboardInterrupt:
        pass
    finally:
        srv.close()
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
