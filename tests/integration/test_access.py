#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""test_access.py: access rules, forged senders, password back-off and masking,
per-sender limits.

The real ope-component against the fake XEP-0114 server (fakeserver.py),
with the helpers of itest.py. Prints TAP for automake's driver (see
harness.run_cases); exits 1 if any case failed.
"""

import os
import sys
import time

sys.dont_write_bytecode = True  # the source tree is read-only under distcheck
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fakeserver as fs  # noqa: E402
import itest  # noqa: E402
from harness import Component, case, check  # noqa: E402
from itest import (DOMAIN, NS_C, NS_ERR, NS_EX, NS_PING, REPLY_TIMEOUT, SECRET,  # noqa: E402
                   USER, check_example_reply, config_text, iq, message, new_id,
                   show, start_connected, write_config)


# "pw-right" (mkpasswd -m sha512crypt)
PW_HASH = ('$6$AcmlSbM6nEC.9.Io$Jk7V6ooFrrxk3L7tafPXufHXkuWpUhGA3KINNit4UROv'
           'F/sfakdRb0y6KhXtio4jm59e025Qvm8uVfBlhOyaH1')
ACCESS_CFG = '''
access = {
  default = "deny";
  rules = (
    { match = "admin@localhost"; action = "allow"; },
    { match = "*@localhost"; action = "allow"; password = "%s"; },
    { match = "evil.example"; action = "deny"; }
  );
};
''' % PW_HASH


def access_error(r, etype, cond, id_, to, name='message'):
    """R is a <NAME type='error'> to TO with ID_ and <error type=ETYPE>
    holding COND; returns its <text/> or ''."""
    check(r is not None, 'no reply to %s' % id_)
    check(r.tag == '{%s}%s' % (NS_C, name) and r.get('type') == 'error'
          and r.get('id') == id_ and r.get('to') == to
          and r.get('from') == DOMAIN, 'not an error reply to %s from %s: %s'
          % (to, DOMAIN, show(r)))
    errs = [c for c in r if c.tag == '{%s}error' % NS_C]
    check(len(errs) == 1 and errs[0].get('type') == etype,
          'error type is not %s: %s' % (etype, show(r)))
    conds = [c.tag for c in errs[0] if c.tag != '{%s}text' % NS_ERR]
    check(conds == ['{%s}%s' % (NS_ERR, cond)], 'condition is not %s: %s'
          % (cond, show(r)))
    texts = [c.text or '' for c in errs[0] if c.tag == '{%s}text' % NS_ERR]
    return texts[0] if texts else ''


@case('access: allowed, forbidden (auth), not-authorized (auth) for a '
      'missing or wrong password, right password; never echoed or logged')
def t_access():
    srv, comp, conn = start_connected(level='debug', extra=ACCESS_CFG)
    try:
        ok = new_id()
        conn.send(message(ok, frm='Admin@LOCALHOST/x', password='pw-right'))
        r = conn.recv_stanza(REPLY_TIMEOUT)
        check(r is not None and r.get('type') == 'result',
              'admin not answered: %s %s' % (show(r), comp.why()))
        ex = [c for c in r if c.tag == '{%s}example_tag' % NS_EX]
        check(ex and 'password' not in ex[0].attrib,
              'the password was copied into the reply: %s' % show(r))
        for frm, pw, cond, idx in (
                ('eve@evil.example/r', None, 'forbidden', 'deny rule'),
                ('x@other.example/r', None, 'forbidden', 'default'),
                (USER, None, 'not-authorized', 'no password'),
                (USER, 'pw-wrong', 'not-authorized', 'wrong password')):
            id_ = new_id()
            conn.send(message(id_, frm=frm, password=pw))
            access_error(conn.recv_stanza(REPLY_TIMEOUT), 'auth', cond, id_,
                         frm)
        id_ = new_id()
        conn.send(iq(id_, 'get', "<example_tag xmlns='%s' password='pw-wrong'>"
                     "t</example_tag>" % NS_EX))
        access_error(conn.recv_stanza(REPLY_TIMEOUT), 'auth', 'not-authorized',
                     id_, USER, name='iq')
        for i in range(3):
            id_ = new_id()
            conn.send(message(id_, password='pw-right'))
            check_example_reply(conn.recv_stanza(REPLY_TIMEOUT), id_)
        # Ping stays public.
        id_ = new_id()
        conn.send(iq(id_, 'get', "<ping xmlns='%s'/>" % NS_PING,
                     frm='eve@evil.example/r'))
        r = conn.recv_stanza(REPLY_TIMEOUT)
        check(r is not None and r.get('type') == 'result',
              'ping from a denied sender not answered: %s' % show(r))
        check(comp.wait_log('denied eve@evil.example by rule '),
              'no denial log line naming the rule %s' % comp.tail())
        check(comp.config + ':' in comp.stderr(),
              'the denial line lacks FILE:LINE: %s' % comp.tail())
        err = comp.stderr()
        check("password='***'" in err, 'the debug log shows no masked '
              'traffic line: nothing to judge')
        check('pw-right' not in err and 'pw-wrong' not in err,
              'a password appears in the debug log')
    finally:
        comp.stop()
        srv.close()


FORGERY_CFG = '''
access = {
  default = "deny";
  rules = ( { match = "bob@localhost"; action = "allow"; } );
};
'''

# The bytes Prosody 0.12 writes for a client's stanza that carries a
# namespaced from: the namespaced attribute stays, next to the stamped from,
# in an order the sender steers by choosing the URI.
FORGED = 'bob@localhost/x'
EX_TAG = "<example_tag xmlns='%s'/>" % NS_EX


def forged_shapes(i):
    """(name, stanza, answered) for the I-th set of forged stanzas from
    alice: the forgery before and after the real from, bound to
    jabber:client, eight copies, on message, iq and presence."""
    real = USER
    shapes = []
    for name, kind, inner in (('message', 'chat', '<body>hi</body>' + EX_TAG),
                              ('iq', 'get', EX_TAG),
                              ('presence', None, '')):
        tp = " type='%s'" % kind if kind else ''
        n = 'f%d-%s' % (i, name)
        shapes += [
            (name, "<%s xmlns:ns1='urn:anything' ns1:from='%s' id='%s-1'%s "
             "to='%s' from='%s' xml:lang='en'>%s</%s>"
             % (name, FORGED, n, tp, DOMAIN, real, inner, name), kind),
            (name, "<%s id='%s-2'%s to='%s' from='%s' xml:lang='en' "
             "xmlns:ns1='urn:anything' ns1:from='%s'>%s</%s>"
             % (name, n, tp, DOMAIN, real, FORGED, inner, name), kind),
            (name, "<%s xmlns:ns1='jabber:client' ns1:from='%s' id='%s-3'%s "
             "to='%s' from='%s'>%s</%s>"
             % (name, FORGED, n, tp, DOMAIN, real, inner, name), kind),
            (name, "<%s %s id='%s-4'%s to='%s' from='%s' %s>%s</%s>"
             % (name, ' '.join("xmlns:n%d='urn:%d' n%d:from='%s'"
                               % (k, k, k, FORGED) for k in range(4)),
                n, tp, DOMAIN, real,
                ' '.join("xmlns:m%d='urn:m%d' m%d:from='%s'"
                         % (k, k, k, FORGED) for k in range(4)),
                inner, name), kind),
        ]
    return shapes


@case('forged sender: a namespaced from never stands in for the stamped '
      'one (Prosody\'s bytes); the real sender gets policy-violation, '
      'nobody else anything')
def t_forged_from():
    srv, comp, conn = start_connected(extra=FORGERY_CFG)
    try:
        answered = 0
        for i in range(5):
            for name, stanza, kind in forged_shapes(i):
                conn.send(stanza)
                if kind is None:
                    continue
                answered += 1
                r = conn.recv_stanza(REPLY_TIMEOUT)
                access_error(r, 'modify', 'policy-violation',
                             stanza.split("id='")[1].split("'")[0], USER,
                             name=name)
        # A forged presence gets no answer; bob's own request is served.
        id_ = new_id()
        conn.send(message(id_, frm='bob@localhost/r'))
        r = conn.recv_stanza(REPLY_TIMEOUT)
        check(r is not None and r.get('id') == id_
              and r.get('type') == 'result'
              and r.get('to') == 'bob@localhost/r',
              'bob not served after the forgeries: %s %s'
              % (show(r), comp.why()))
        check(comp.alive(), 'component died %s' % comp.why())
        check(comp.count('forged or clashing attribute names') == 1,
              'not one log line for alice\'s %d forgeries: %s'
              % (answered, comp.tail()))
        check(FORGED not in comp.stderr(), 'the forged address was logged '
              'or served: %s' % comp.tail())
    finally:
        comp.stop()
        srv.close()


@case('passwords: a flood of wrong ones from many senders backs the rule off '
      '(policy-violation, wait; logged with FILE:LINE) while a sender without '
      'a password and one with a cached password are answered, in order')
def t_password_backoff():
    # Only the rule's budget may refuse: the per-sender and total password
    # rates are out of the way, and the back-off outlasts the test.
    extra = ACCESS_CFG + (
        'limits = { sender = { rate = 1000000.0; burst = 1000000; }; '
        'password = { rate = 1000.0; burst = 1000; total = 1000.0; '
        'rule_failures = 3; rule_backoff = 600.0; }; };\n')
    srv = fs.FakeServer(DOMAIN, SECRET)
    text = config_text(srv.port)
    text = '\n'.join(l for l in text.split('\n')
                     if not l.startswith('limits')) + extra
    comp = Component(write_config(0, text=text))
    flood = 60
    try:
        conn = srv.accept(REPLY_TIMEOUT)
        check(conn is not None, 'no connection %s' % comp.why())
        conn.handshake(fs.ACCEPT)
        # Alice's password is verified once (a hash), then cached.
        id_ = new_id('alice')
        conn.send(message(id_, password='pw-right'))
        check_example_reply(conn.recv_stanza(REPLY_TIMEOUT), id_)
        # The flood, each guess from another account, with the two users'
        # requests in between, all in one write.
        mine, guesses, data = [], [], []
        for i in range(flood):
            g = new_id('guess')
            guesses.append(g)
            data.append(message(g, frm='m%d@localhost/r' % i,
                                password='guess%d' % i))
            a, b = new_id('alice'), new_id('admin')
            mine += [a, b]
            data.append(message(a, password='pw-right'))
            data.append(message(b, frm='admin@localhost/x'))
        conn.send(''.join(data))
        got = conn.recv_stanzas(3 * flood, REPLY_TIMEOUT)
        check(len(got) == 3 * flood, 'only %d of %d replies %s'
              % (len(got), 3 * flood, comp.why()))
        order = [r.get('id') for r in got if r.get('id') in set(mine)]
        check(order == mine, 'the two users were not answered in order: %r'
              % order[:10])
        for r in got:
            if r.get('id') in set(mine):
                check(r.get('type') == 'result', 'a user got %s' % show(r))
        wrong = slowed = 0
        for r in got:
            if r.get('id') not in set(guesses):
                continue
            if r.find('{%s}error/{%s}not-authorized' % (NS_C, NS_ERR)) \
                    is not None:
                wrong += 1
                continue
            text = access_error(r, 'wait', 'policy-violation', r.get('id'),
                                r.get('to'))
            check('slowed down' in text, 'not the back-off text: %r' % text)
            slowed += 1
        # 3 wrong ones in the budget, then one at a time with a delay of
        # 1, 2, 4... s: a few more at most while the flood lasts.
        check(wrong >= 3 and wrong <= 10 and wrong + slowed == flood,
              'expected 3 to 10 hashed guesses and the rest refused, got '
              '%d hashed, %d refused' % (wrong, slowed))
        check(comp.wait_log('password checks slowed down'),
              'no back-off log line %s' % comp.tail())
        lines = [l for l in comp.stderr().split('\n')
                 if 'password checks slowed down' in l]
        check(len(lines) == 1 and 'rule %s:' % comp.config in lines[0],
              'not one back-off line a minute naming the rule\'s FILE:LINE: '
              '%r' % lines)
        # Alice's cached password still works.
        id_ = new_id('alice')
        conn.send(message(id_, password='pw-right'))
        check_example_reply(conn.recv_stanza(REPLY_TIMEOUT), id_)
    finally:
        comp.stop()
        srv.close()


@case('debug log: a password split across two reads is masked in both')
def t_password_split_log():
    srv, comp, conn = start_connected(level='debug')
    try:
        check(comp.wait_log('connected to'), 'not connected %s' % comp.why())
        id_ = new_id()
        data = message(id_, password='pw-SPLIT-secret').encode()
        cut = data.index(b'pw-SPLIT-secret') + len('pw-SPL')
        reads = comp.count('RECV from')
        conn.send(data[:cut])
        # ope logs every read: once the first half's line is out, the
        # second half can only come in another read.
        check(comp.wait_log('RECV from', count=reads + 1),
              'no debug line for the first half %s' % comp.why())
        conn.send(data[cut:])
        check_example_reply(conn.recv_stanza(REPLY_TIMEOUT), id_)
        err = comp.stderr()
        check('pw-SPL' not in err and 'IT-secret' not in err,
              'a part of the password appears in the debug log: %s'
              % [l[-80:] for l in err.splitlines()
                 if 'SPL' in l or 'IT-s' in l])
        check("password='***" in err, 'no masked password in the debug '
              'log: nothing to judge %s' % comp.tail())
    finally:
        comp.stop()
        srv.close()


@case('limits: a burst over the sender rate -> policy-violation (wait), '
      'answers again after the refill; total rate -> resource-constraint')
def t_limits():
    # A slow refill: the batch of 7 gets a sixth token only if the
    # component takes a second over it, whatever the machine's speed.
    extra = ('limits = { sender = { rate = 1.0; burst = 5; }; '
             'total = { rate = 0.1; burst = 8; }; };\n')
    # The template's own limits line comes first; libconfig refuses a
    # duplicate, so drop it.
    srv = fs.FakeServer(DOMAIN, SECRET)
    text = config_text(srv.port)
    text = '\n'.join(l for l in text.split('\n')
                     if not l.startswith('limits')) + extra
    comp = Component(write_config(0, text=text))
    try:
        conn = srv.accept(REPLY_TIMEOUT)
        check(conn is not None, 'no connection %s' % comp.why())
        conn.handshake(fs.ACCEPT)
        ids = [new_id('rl') for _ in range(7)]
        conn.send(''.join(message(i) for i in ids))
        got = {r.get('id'): r for r in conn.recv_stanzas(7, REPLY_TIMEOUT)}
        check(len(got) == 7, 'only %d replies' % len(got))
        for i in ids[:5]:
            check_example_reply(got[i], i)
        for i in ids[5:]:
            text = access_error(got[i], 'wait', 'policy-violation', i, USER)
            check('rate limit' in text, 'no rate-limit text: %r' % text)
        time.sleep(1.1)  # the refill of one token
        id_ = new_id()
        conn.send(message(id_))
        check_example_reply(conn.recv_stanza(REPLY_TIMEOUT), id_)
        # 6 of the total's 8 are spent; another sender gets 2, then waits.
        ids = [new_id('tot') for _ in range(4)]
        conn.send(''.join(message(i, frm='bob@localhost/b') for i in ids))
        got = {r.get('id'): r for r in conn.recv_stanzas(4, REPLY_TIMEOUT)}
        conds = sorted(r.get('type') for r in got.values())
        check(conds == ['error', 'error', 'result', 'result'],
              'expected 2 results and 2 errors, got %r' % conds)
        for r in got.values():
            if r.get('type') == 'error':
                access_error(r, 'wait', 'resource-constraint', r.get('id'),
                             'bob@localhost/b')
        check(comp.wait_log('over its rate limit'),
              'no rate-limit log line %s' % comp.tail())
    finally:
        comp.stop()
        srv.close()


if __name__ == '__main__':
    sys.exit(itest.main())
