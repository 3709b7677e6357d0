#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""test_stanzas.py: the stanzas ope-component answers: messages, IQs (disco,
ping, version, time, errors), presence, a pipelined burst.

The real ope-component against the fake XEP-0114 server (fakeserver.py),
with the helpers of itest.py. Prints TAP for automake's driver (see
harness.run_cases); exits 1 if any case failed.
"""

import os
import re
import signal
import sys
import time

sys.dont_write_bytecode = True  # the source tree is read-only under distcheck
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fakeserver as fs  # noqa: E402
import itest  # noqa: E402
from harness import case, check  # noqa: E402
from itest import (DOMAIN, ENV, MAX_PAYLOAD, NS_C, NS_DISCO_INFO,  # noqa: E402
                   NS_DISCO_ITEMS, NS_ERR, NS_EX, NS_PING, NS_TIME, NS_VERSION,
                   REPLY_TIMEOUT, SECRET, SERVICE_NAME, USER, check_addressing,
                   check_example_reply, env, error_condition, expect_no_reply,
                   expect_reply, iq, message, new_id, presence, recv_unroute,
                   show)


# ---------------------------------------------------------------------------
# The cases

@case('handshake digest accepted, connected log line')
def t_handshake():
    env()
    c = ENV.conn
    check(c.header.get('to') == DOMAIN, 'stream header to=%r'
          % c.header.get('to'))
    check(c.digest == fs.handshake_digest(c.stream_id, SECRET),
          'digest %r is not sha1(stream id + secret)' % c.digest)
    check(ENV.comp.count('connecting to 127.0.0.1:%d as %s'
                         % (ENV.srv.port, DOMAIN)) >= 1,
          'no "connecting to" log line')
    line = ENV.comp.stderr().splitlines()[0]
    check(re.match(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z '
                   r'ope-component\[%d\] [A-Za-z]+: ' % ENV.comp.proc.pid,
                   line), 'log line format: %r' % line)


CHILDREN = ("<item n='1' kind='x'>first</item>"
            "<other xmlns='urn:example:other' k='v'><deep a='b'/></other>")


@case('message with example_tag -> exact IQ result')
def t_message_basic():
    conn = env()
    id_ = new_id()
    r = expect_reply(conn, message(id_, children=CHILDREN))
    check_example_reply(r, id_, children=CHILDREN)


@case('message to local@domain/res -> reply from that address')
def t_message_local():
    conn = env()
    id_ = new_id()
    to = 'bot@%s/res1' % DOMAIN
    r = expect_reply(conn, message(id_, to=to))
    check_example_reply(r, id_, to=to)


@case('message without id -> fresh non-empty ids')
def t_message_noid():
    conn = env()
    ids = []
    for _ in range(2):
        r = expect_reply(conn, message(None, another='noid'))
        check_example_reply(r, None, another='noid')
        check(r.get('id'), 'reply id empty or missing: %s' % show(r))
        ids.append(r.get('id'))
    check(ids[0] != ids[1], 'two replies reuse id %r' % ids[0])


@case('absent attributes and body stay absent')
def t_message_absent():
    conn = env()
    for another, data, body in (('a', None, 'x'), (None, 'd', 'x'),
                                (None, None, 'x'), ('a', 'd', None)):
        id_ = new_id()
        r = expect_reply(conn, message(id_, another=another, data=data,
                                       body=body))
        check_example_reply(r, id_, another=another, data=data,
                            text=body or '')


@case('XML specials and UTF-8 survive')
def t_message_escaping():
    conn = env()
    special = 'a & b < c > d " e \' f'
    utf = 'héllo ✓ 日本 🎉'
    kids = ("<item v='%s'>%s</item>"
            % (fs.xml_escape(special + utf), fs.xml_escape(utf + special)))
    id_ = new_id("q'&<")
    r = expect_reply(conn, message(id_, another=special, data=utf,
                                   body=special + ' ' + utf, children=kids))
    check_example_reply(r, id_, another=special, data=utf,
                        text=special + ' ' + utf, children=kids)


@case('message split over several TCP writes')
def t_message_fragmented():
    conn = env()
    id_ = new_id()
    data = message(id_, body='fragmented ✓').encode('utf-8')
    cuts = [0, 7, len(data) // 2, len(data) // 2 + 1, len(data) - 3,
            len(data)]
    for a, b in zip(cuts, cuts[1:]):
        conn.send(data[a:b])
        time.sleep(0.02)  # let each piece go out in its own segment
    r = conn.recv_stanza(REPLY_TIMEOUT)
    check_example_reply(r, id_, text='fragmented ✓')


@case('type=error message gets no reply')
def t_message_error_type():
    conn = env()
    expect_no_reply(conn, message(new_id(), mtype='error'))


@case('message without example_tag gets no reply')
def t_message_no_tag():
    conn = env()
    expect_no_reply(conn, message(new_id(), with_tag=False))


@case('stanza without from dropped, component keeps working')
def t_no_from():
    conn = env()
    warn = re.compile(r'\] (?i:warn|warning): ')
    before = len(ENV.comp.lines)
    expect_no_reply(conn, message(new_id(), frm=None))
    expect_no_reply(conn, iq(new_id(), 'get', "<ping xmlns='%s'/>" % NS_PING,
                             frm=None))
    check(ENV.comp.alive(), 'component died %s' % ENV.comp.why())
    with ENV.comp.cv:
        new = [l for _, l in ENV.comp.lines[before:]]
    check(any(warn.search(l) for l in new),
          'no warning logged for the stanza without from')


@case('IQ get/set with example_tag -> result')
def t_iq_example():
    conn = env()
    for itype in ('get', 'set'):
        id_ = new_id()
        payload = ("<example_tag xmlns='%s' data='stuff' another='some'>"
                   "hello &amp; ✓</example_tag>" % NS_EX)
        r = expect_reply(conn, iq(id_, itype, payload))
        check_example_reply(r, id_, text='hello & ✓')


@case('disco#info: identity and features')
def t_disco_info():
    conn = env()
    id_ = new_id()
    r = expect_reply(conn, iq(id_, 'get', "<query xmlns='%s'/>"
                              % NS_DISCO_INFO))
    check_addressing(r, 'result', DOMAIN, USER, id_)
    q = r.find('{%s}query' % NS_DISCO_INFO)
    check(q is not None, 'no disco#info query: %s' % show(r))
    ids = [(i.get('category'), i.get('type'), i.get('name'))
           for i in q.findall('{%s}identity' % NS_DISCO_INFO)]
    check(('component', 'generic', SERVICE_NAME) in ids,
          'identity component/generic/%s missing: %r' % (SERVICE_NAME, ids))
    feats = {f.get('var') for f in q.findall('{%s}feature' % NS_DISCO_INFO)}
    want = {NS_DISCO_INFO, NS_DISCO_ITEMS, NS_EX, NS_PING, NS_VERSION,
            NS_TIME}
    check(want <= feats, 'features missing: %r' % sorted(want - feats))


@case('disco#items: empty result')
def t_disco_items():
    conn = env()
    id_ = new_id()
    r = expect_reply(conn, iq(id_, 'get', "<query xmlns='%s'/>"
                              % NS_DISCO_ITEMS))
    check_addressing(r, 'result', DOMAIN, USER, id_)
    q = r.find('{%s}query' % NS_DISCO_ITEMS)
    check(q is not None and len(q) == 0, 'not an empty disco#items query: %s'
          % show(r))


@case('ping: empty result')
def t_ping():
    conn = env()
    id_ = new_id()
    r = expect_reply(conn, iq(id_, 'get', "<ping xmlns='%s'/>" % NS_PING))
    check_addressing(r, 'result', DOMAIN, USER, id_)
    check(len(r) == 0, 'ping result is not empty: %s' % show(r))


@case('jabber:iq:version: name, version, os')
def t_version():
    conn = env()
    id_ = new_id()
    r = expect_reply(conn, iq(id_, 'get', "<query xmlns='%s'/>" % NS_VERSION))
    check_addressing(r, 'result', DOMAIN, USER, id_)
    q = r.find('{%s}query' % NS_VERSION)
    check(q is not None, 'no version query: %s' % show(r))
    for field in ('name', 'version', 'os'):
        e = q.find('{%s}%s' % (NS_VERSION, field))
        check(e is not None and (e.text or '').strip(),
              'version <%s> missing or empty (show_os = true): %s'
              % (field, show(r)))


@case('urn:xmpp:time: tzo +00:00 and utc now, to the second')
def t_time():
    conn = env()
    id_ = new_id()
    before = int(time.time())
    r = expect_reply(conn, iq(id_, 'get', "<time xmlns='%s'/>" % NS_TIME))
    after = int(time.time())
    check_addressing(r, 'result', DOMAIN, USER, id_)
    t = r.find('{%s}time' % NS_TIME)
    check(t is not None, 'no time element: %s' % show(r))
    tzo = t.find('{%s}tzo' % NS_TIME)
    utc = t.find('{%s}utc' % NS_TIME)
    check(tzo is not None and tzo.text == '+00:00', 'tzo: %s' % show(r))
    stamps = {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(s))
              for s in range(before, after + 1)}
    check(utc is not None and utc.text in stamps,
          'utc %r not in %r' % (utc.text if utc is not None else None,
                                sorted(stamps)))


@case('unknown IQ get/set -> service-unavailable (cancel)')
def t_iq_unknown():
    conn = env()
    for itype, payload in (('get', "<query xmlns='jabber:iq:last'/>"),
                           ('set', "<command xmlns='urn:example:nope'/>")):
        id_ = new_id()
        r = expect_reply(conn, iq(id_, itype, payload))
        error_condition(r, 'cancel', 'service-unavailable', id_)


@case('IQ with 0 or 2 payload children -> bad-request (modify)')
def t_iq_bad_request():
    conn = env()
    for payload in ("<ping xmlns='%s'/><query xmlns='%s'/>"
                    % (NS_PING, NS_VERSION), ''):
        id_ = new_id()
        r = expect_reply(conn, iq(id_, 'get', payload))
        error_condition(r, 'modify', 'bad-request', id_)


@case('oversized IQ payload -> policy-violation (modify)')
def t_iq_oversized():
    conn = env()
    id_ = new_id()
    payload = ("<example_tag xmlns='%s' another='a' data='d'>%s</example_tag>"
               % (NS_EX, 'x' * (MAX_PAYLOAD * 3)))
    r = expect_reply(conn, iq(id_, 'get', payload))
    error_condition(r, 'modify', 'policy-violation', id_)


@case('IQ result/error gets no reply')
def t_iq_result_error():
    conn = env()
    expect_no_reply(conn, iq(new_id(), 'result', ''))
    expect_no_reply(conn, iq(new_id(), 'result', "<query xmlns='%s'/>"
                             % NS_VERSION))
    expect_no_reply(conn, iq(new_id(), 'error',
                             "<error type='cancel'><item-not-found xmlns='%s'/>"
                             "</error>" % NS_ERR))


@case('presence probe/subscribe/unsubscribe')
def t_presence():
    conn = env()
    bare = 'alice@localhost'
    conn.send(presence('probe', frm=bare))
    r = conn.recv_stanza(REPLY_TIMEOUT)
    check(r is not None and r.tag == '{%s}presence' % NS_C,
          'probe: no presence back: %s' % show(r))
    check_addressing(r, None, DOMAIN, bare)
    conn.send(presence('subscribe', frm=bare))
    got = conn.recv_stanzas(2, REPLY_TIMEOUT)
    check(len(got) == 2, 'subscribe: %d stanzas back, expected 2: %s'
          % (len(got), '; '.join(show(s) for s in got)))
    check_addressing(got[0], 'subscribed', DOMAIN, bare)
    check_addressing(got[1], None, DOMAIN, bare)
    check(all(s.tag == '{%s}presence' % NS_C for s in got),
          'subscribe: not presences: %s' % '; '.join(show(s) for s in got))
    conn.send(presence('unsubscribe', frm=bare))
    r = conn.recv_stanza(REPLY_TIMEOUT)
    check(r is not None and r.tag == '{%s}presence' % NS_C,
          'unsubscribe: no presence back: %s' % show(r))
    check_addressing(r, 'unsubscribed', DOMAIN, bare)


@case('burst of 500 pipelined messages -> 500 correct replies')
def t_burst():
    # Sent in one write, so many stanzas arrive in one read. This is also
    # the regression test for FACTS.md item 1: libstrophe 0.12.2 crashes a
    # component connection on the first stanza it receives (NULL sm_state)
    # unless ope works around it.
    conn = env()
    n = 500
    ids = ['burst-%d' % i for i in range(n)]
    conn.send(''.join(message(i, another='a%s' % i, data='d' + i,
                              body='body ' + i) for i in ids))
    got = conn.recv_stanzas(n, 20.0)
    check(len(got) == n, 'only %d of %d replies %s'
          % (len(got), n, ENV.comp.why()))
    by_id = {r.get('id'): r for r in got}
    check(set(by_id) == set(ids), 'reply ids differ: missing %r, extra %r'
          % (sorted(set(ids) - set(by_id))[:5],
             sorted(set(by_id) - set(ids))[:5]))
    for i in ids:
        check_example_reply(by_id[i], i, another='a%s' % i, data='d' + i,
                            text='body ' + i)


@case("no 'jabber:client' anywhere in the bytes received")
def t_no_jabber_client():
    conn = env()
    check(len(conn.raw) > 1000, 'too little traffic to judge')
    check(b'jabber:client' not in bytes(conn.raw),
          'jabber:client found in the component\'s output')


@case('SIGTERM on the shared component -> exit 0')
def t_sigterm_shared():
    conn = env()
    os.kill(ENV.comp.proc.pid, signal.SIGTERM)
    recv_unroute(conn)
    # Unanswered unroute IQ (1 s) and close (3 s grace).
    rc = ENV.comp.wait_exit(7.0)
    check(rc == 0, 'exit status %r, expected 0 %s' % (rc, ENV.comp.why()))
    check(conn.wait_for(lambda: conn.stream_closed, 1.0),
          'no </stream:stream>')


if __name__ == '__main__':
    sys.exit(itest.main())
