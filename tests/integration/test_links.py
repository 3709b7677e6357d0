#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""test_links.py: server.connect = "all": one link to each of two fake
servers at once, each answering on itself, pinned to its own entry,
shown per link in /health, /metrics and the status command, drained one by
one on SIGTERM; takeover refused.

The real ope-component against two fake XEP-0114 servers (fakeserver.py),
with the helpers of itest.py. Prints TAP for automake's driver (see
harness.run_cases); exits 1 if any case failed.
"""

import os
import signal
import sys
import time

sys.dont_write_bytecode = True  # the source tree is read-only under distcheck
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fakeserver as fs  # noqa: E402
import itest  # noqa: E402
from harness import Component, case, check  # noqa: E402
from itest import (DOMAIN, REPLY_TIMEOUT, SECRET, USER, check_example_reply,  # noqa: E402
                   free_port, http_get, message, new_id, recv_unroute,
                   scrape, show, write_config)

NS_CMD = 'http://jabber.org/protocol/commands'
NS_DATA = 'jabber:x:data'
ADMIN = 'boss@localhost/desk'


def config_all(a, b, extra=''):
    """connect = "all" to fake servers A and B (quick reconnects)."""
    hosts = ('connect = "all";\n  hosts = ( "127.0.0.1:%d", "127.0.0.1:%d" );'
             % (a.port, b.port))
    with open(write_config(a.port)) as f:
        text = f.read().replace('host = "127.0.0.1";\n  port = %d;' % a.port,
                                hosts)
    if 'limits =' in extra:
        # Instead of the template's limits (one group of a name only).
        text = '\n'.join(line for line in text.split('\n')
                         if not line.startswith('limits ='))
    return write_config(0, text=text + extra)


class Two:
    """Two fake servers, a component linked to both (handshakes done)."""

    def __init__(self, extra=''):
        self.a = fs.FakeServer(DOMAIN, SECRET)
        self.b = fs.FakeServer(DOMAIN, SECRET)
        self.comp = None
        self.metrics = None
        if 'metrics' in extra:
            self.metrics = free_port()
            extra = extra.replace('METRICS', str(self.metrics))
        self.comp = Component(config_all(self.a, self.b, extra))
        self.ca = self.connected(self.a)
        self.cb = self.connected(self.b)

    def connected(self, srv, count=1):
        conn = srv.accept(REPLY_TIMEOUT)
        check(conn is not None, 'no link to 127.0.0.1:%d %s'
              % (srv.port, self.comp.why()))
        conn.handshake()
        check(self.comp.wait_log('connected to 127.0.0.1:%d' % srv.port,
                                 count=count),
              'no "connected to 127.0.0.1:%d" line %s'
              % (srv.port, self.comp.why()))
        return conn

    def close(self):
        if self.comp is not None:
            self.comp.stop()
        self.a.close()
        self.b.close()


def answered_here(conn, other, comp, what):
    """A request on CONN is answered on CONN, and nothing comes on OTHER."""
    id_ = new_id()
    conn.send(message(id_))
    r = conn.recv_stanza(REPLY_TIMEOUT)
    check(r is not None, 'no answer on %s %s' % (what, comp.why()))
    check_example_reply(r, id_)
    if other is not None:
        check(other.drain(0.0) == [], 'something came on the other link '
              'for a request on %s' % what)


@case('connect = "all": a link to each server, each answering its own requests, one announcement each')
def t_both_up():
    t = Two()
    try:
        check(t.comp.wait_log('one link to each of 2 servers'),
              'no start line %s' % t.comp.why())
        for _ in range(3):
            answered_here(t.ca, t.cb, t.comp, 'the first link')
            answered_here(t.cb, t.ca, t.comp, 'the second link')
        # Each server sees one connection under one name, the same name.
        check(t.ca.wait_for(lambda: len(t.ca.announcements) == 1, 5.0) and
              t.cb.wait_for(lambda: len(t.cb.announcements) == 1, 5.0),
              'announcements: %d and %d' % (len(t.ca.announcements),
                                            len(t.cb.announcements)))
        na = t.ca.announcements[0][0].get('name')
        nb = t.cb.announcements[0][0].get('name')
        check(na and na == nb, 'instance names %r and %r' % (na, nb))
        check(t.comp.count('failing over') == 0, 'a failover line with '
              '"all" %s' % t.comp.why())
    finally:
        t.close()


@case('connect = "all": the guard is shared: one sender\'s rate over both links')
def t_shared_guard():
    # Three requests in the burst for the sender, whichever link they take.
    t = Two(extra='limits = { sender = { rate = 0.001; burst = 3; }; };\n')
    try:
        answered_here(t.ca, t.cb, t.comp, 'the first link')
        answered_here(t.cb, t.ca, t.comp, 'the second link')
        answered_here(t.ca, t.cb, t.comp, 'the first link')
        id_ = new_id()
        t.cb.send(message(id_))
        r = t.cb.recv_stanza(REPLY_TIMEOUT)
        check(r is not None and r.get('type') == 'error' and
              r.get('id') == id_, 'the fourth request (on the second link) '
              'was not refused by the shared rate limit: %s' % show(r))
    finally:
        t.close()


@case('connect = "all": one server dies: the other serves on, the first reconnects to its own entry only')
def t_one_dies():
    t = Two(extra='metrics = { listen = "127.0.0.1:METRICS"; };\n')
    try:
        a_port = t.a.port
        t.a.close()  # the first server goes away
        check(t.comp.wait_log('reconnecting to 127.0.0.1:%d' % a_port),
              'no back-off to the first server %s' % t.comp.why())
        answered_here(t.cb, None, t.comp, 'the second link while the '
                      'first is down')
        status, body, _ = http_get(t.metrics, '/health')
        check(status == 200 and body.startswith('ok; 1 of 2 links up: '),
              '/health with one link down: %d %r' % (status, body))
        check('127.0.0.1:%d: ' % a_port in body and
              '127.0.0.1:%d: connected to' % t.b.port in body,
              '/health does not name both links: %r' % body)
        # Several back-off rounds: never a second connection to the other.
        check(t.comp.wait_log('reconnecting to 127.0.0.1:%d' % a_port,
                              count=3),
              'fewer than 3 reconnect attempts %s' % t.comp.why())
        check(t.b.accept(0.0) is None and t.b.accepted == 1,
              'the first link failed over to the second server (%d '
              'connections there)' % t.b.accepted)
        check(t.comp.count('failing over') == 0, 'a failover line %s'
              % t.comp.why())
        t.a.listen()
        ca = t.connected(t.a, count=2)
        answered_here(ca, t.cb, t.comp, 'the first link, back')
        samples, _ = scrape(t.metrics)
        for port in (a_port, t.b.port):
            check(samples.get('ope_link_up{link="127.0.0.1:%d"}' % port) == 1,
                  'ope_link_up of 127.0.0.1:%d: %r' % (port, samples.get(
                      'ope_link_up{link="127.0.0.1:%d"}' % port)))
        check(samples.get('ope_reconnects_total{link="127.0.0.1:%d"}'
                          % a_port, 0) >= 1 and
              samples.get('ope_reconnects_total{link="127.0.0.1:%d"}'
                          % t.b.port) == 0,
              'reconnects per link: %r' % {k: v for k, v in samples.items()
                                           if 'reconnects' in k})
        check(not any('failover' in k for k in samples),
              'a "failover" link with connect = "all"')
        status, body, _ = http_get(t.metrics, '/health')
        check(status == 200 and body.startswith('ok; 2 of 2 links up: '),
              '/health with both up: %d %r' % (status, body))
    finally:
        t.close()


@case('connect = "all": /health is down only when every link is')
def t_health_all_down():
    t = Two(extra='metrics = { listen = "127.0.0.1:METRICS"; };\n')
    try:
        a_port, b_port = t.a.port, t.b.port
        t.a.close()
        t.b.close()
        check(t.comp.wait_log('reconnecting to 127.0.0.1:%d' % a_port) and
              t.comp.wait_log('reconnecting to 127.0.0.1:%d' % b_port),
              'no back-off on both %s' % t.comp.why())
        status, body, _ = http_get(t.metrics, '/health')
        check(status != 200 and body.startswith('links down: '),
              '/health with both down: %d %r' % (status, body))
    finally:
        t.close()


def status_fields(conn):
    id_ = new_id()
    conn.send(fs.prosody_xml('iq', {'from': ADMIN, 'to': DOMAIN, 'id': id_,
                                    'type': 'set'},
                             fs.prosody_xml('command', [('xmlns', NS_CMD),
                                                        ('node', 'status')],
                                            '', lang=None)))
    r = conn.recv_stanza(REPLY_TIMEOUT)
    check(r is not None and r.get('type') == 'result' and
          r.get('id') == id_, 'no status result: %s' % show(r))
    x = r.find('{%s}command/{%s}x' % (NS_CMD, NS_DATA))
    check(x is not None, 'no form: %s' % show(r))
    return {f.get('var'): (f.findtext('{%s}value' % NS_DATA) or '')
            for f in x.findall('{%s}field' % NS_DATA)}


@case('connect = "all": the status command names the link it came on and lists every link')
def t_status():
    t = Two(extra='commands = { admins = ( "BOSS@localhost" ); };\n')
    try:
        for conn, srv in ((t.ca, t.a), (t.cb, t.b)):
            f = status_fields(conn)
            check(f.get('link_server') == '127.0.0.1:%d' % srv.port and
                  f.get('link') == 'up', 'status on 127.0.0.1:%d: %r'
                  % (srv.port, f))
            check(f.get('links') == '127.0.0.1:%d up; 127.0.0.1:%d up'
                  % (t.a.port, t.b.port), 'links: %r' % f.get('links'))
    finally:
        t.close()


@case('connect = "all": SIGTERM drains every link, each closes when its drain ends, exit once all are done')
def t_sigterm_drains_both():
    t = Two(extra='drain = { quiet = 0.5; answer = 5.0; };\n')
    try:
        os.kill(t.comp.proc.pid, signal.SIGTERM)
        ua = recv_unroute(t.ca)
        ub = recv_unroute(t.cb)
        check(ua.get('id') != ub.get('id'), 'one unroute id for two links')
        # The first link's drain is answered; the second's not yet.
        t.ca.send("<iq type='result' id='%s' from='localhost' to='%s'/>"
                  % (ua.get('id'), DOMAIN))
        t.ca.wait_for(lambda: t.ca.stream_closed, 5.0)
        check(t.ca.stream_closed, 'the first link did not close after its '
              'drain %s' % t.comp.why())
        t.ca.send('</stream:stream>')
        # The second still drains: requests there are answered.
        answered_here(t.cb, None, t.comp, 'the second link while it drains')
        check(t.comp.alive() and not t.cb.stream_closed,
              'stopped before the second link\'s drain ended %s'
              % t.comp.why())
        t.cb.send("<iq type='result' id='%s' from='localhost' to='%s'/>"
                  % (ub.get('id'), DOMAIN))
        t.cb.wait_for(lambda: t.cb.stream_closed, 5.0)
        check(t.cb.stream_closed, 'the second link did not close %s'
              % t.comp.why())
        t.cb.send('</stream:stream>')
        rc = t.comp.wait_exit(5.0)
        check(rc == 0, 'exit %r %s' % (rc, t.comp.why()))
        check(t.comp.count('mod_ope (contrib/') == 0, 'fallback warning %s'
              % t.comp.why())
        check(t.comp.count('127.0.0.1:%d: drained' % t.a.port) == 1 and
              t.comp.count('127.0.0.1:%d: drained' % t.b.port) == 1,
              'no "drained" line per link %s' % t.comp.why())
    finally:
        t.close()


@case('connect = "all": a second SIGTERM closes every link at once')
def t_second_sigterm():
    t = Two(extra='drain = { quiet = 30; answer = 30; maximum = 60; };\n')
    try:
        os.kill(t.comp.proc.pid, signal.SIGTERM)
        recv_unroute(t.ca)
        recv_unroute(t.cb)
        os.kill(t.comp.proc.pid, signal.SIGTERM)
        for conn in (t.ca, t.cb):
            conn.wait_for(lambda: conn.stream_closed, 5.0)
            check(conn.stream_closed, 'a link stayed open after the second '
                  'signal %s' % t.comp.why())
            conn.send('</stream:stream>')
        rc = t.comp.wait_exit(5.0)
        check(rc == 0, 'exit %r %s' % (rc, t.comp.why()))
    finally:
        t.close()


@case('connect = "all": takeover refused both ways, with the reason')
def t_takeover_refused():
    ctl = os.path.join(itest.TMPDIR, 'links-ctl.sock')
    t = Two(extra='control = { path = "%s"; };\n' % ctl)
    succ = None
    try:
        os.kill(t.comp.proc.pid, signal.SIGUSR2)
        check(t.comp.wait_log('no takeover restart: takeover moves one link'),
              'no refusal line on SIGUSR2 %s' % t.comp.why())
        answered_here(t.ca, t.cb, t.comp, 'the first link after SIGUSR2')
        answered_here(t.cb, t.ca, t.comp, 'the second link after SIGUSR2')
        # A successor with this configuration refuses before asking.
        succ = Component(t.comp.config, args=('--takeover',))
        rc = succ.wait_exit(10.0)
        check(rc == 4, '--takeover with connect = "all" exited %r %s'
              % (rc, succ.why()))
        check(succ.count('takeover moves one link') == 1,
              'no reason from the successor %s' % succ.why())
        check(t.comp.alive(), 'the running one stopped %s' % t.comp.why())
        answered_here(t.ca, t.cb, t.comp, 'the first link after --takeover')
    finally:
        if succ is not None:
            succ.stop()
        t.close()


if __name__ == '__main__':
    sys.exit(itest.main())
