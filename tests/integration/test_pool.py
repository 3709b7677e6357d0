#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""test_pool.py: ope-component's half of the pool protocol
(doc/pool-protocol.md) over a fake XEP-0114 server: the instance name
(component.instance, or "<short host>-<pid>"), its announcement after the
handshake, the answers it accepts and how each is logged, the announcement
on every fresh stream and none after a takeover (whose successor keeps the
name). Prints TAP; every process it starts is killed by PID on the way out.
"""

import os
import re
import signal
import socket
import sys
import urllib.request

sys.dont_write_bytecode = True  # the source tree is read-only under distcheck
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fakeserver as fs  # noqa: E402
import harness  # noqa: E402
from harness import SUCCESSORS, Component, case, check  # noqa: E402

DOMAIN = 'ope.localhost'
SERVER = 'localhost'       # the parent domain the announcement goes to
SECRET = 'pool-secret-7781'
NS_POOL = 'urn:xmpp:ope:pool:0'
TIMEOUT = 10.0
TMPDIR = harness.start('ope-pool-')

BASE = '''server = { host = "127.0.0.1"; port = %(port)d; };
component = { domain = "%(domain)s"; secret = "%(secret)s"; %(instance)s};
log = { level = "info"; timestamps = false; };
reconnect = { initial = 0.1; maximum = 0.4; };
'''

_seq = [0]


def write_config(port, instance=None, extra=''):
    _seq[0] += 1
    path = os.path.join(TMPDIR, 'ope-%d.conf' % _seq[0])
    inst = 'instance = "%s"; ' % instance if instance is not None else ''
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'w') as f:
        f.write(BASE % dict(port=port, domain=DOMAIN, secret=SECRET,
                            instance=inst) + extra)
    return path


def start(answer='service-unavailable', instance=None, extra=''):
    """A fake server answering announcements with ANSWER, and a component
    connected to it."""
    srv = fs.FakeServer(DOMAIN, SECRET)
    srv.pool_answer = answer
    comp = Component(write_config(srv.port, instance, extra))
    conn = accept(srv, comp)
    return srv, comp, conn


def accept(srv, comp):
    conn = srv.accept(TIMEOUT)
    check(conn is not None, 'no connection %s' % comp.why())
    conn.handshake()
    return conn


def announcement(conn, comp, count=1):
    """The COUNT-th announcement on CONN, checked against the contract."""
    check(conn.wait_for(lambda: len(conn.announcements) >= count, TIMEOUT),
          'no announcement after the handshake %s' % comp.why())
    iq = conn.announcements[count - 1]
    check(iq.get('from') == DOMAIN and iq.get('to') == SERVER and
          iq.get('type') == 'set', 'announcement addressed wrongly: %r'
          % iq.attrib)
    check(re.fullmatch(r'pool-[0-9a-f]{32}', iq.get('id') or ''),
          'guessable announcement id %r' % iq.get('id'))
    return iq.find('{%s}instance' % NS_POOL).get('name')


def round_trip(conn, comp, id_):
    """A request answered: everything sent before it was read."""
    conn.send("<iq type='get' id='%s' from='alice@localhost/r' to='%s'>"
              "<ping xmlns='urn:xmpp:ping'/></iq>" % (id_, DOMAIN))
    r = conn.recv_stanza(TIMEOUT)
    check(r is not None and r.get('id') == id_ and r.get('type') == 'result',
          'request %s not answered %s' % (id_, comp.why()))


@case('default name <short host>-<pid>: announced once after the handshake; no pool module -> one info line')
def t_default():
    srv, comp, conn = start()
    try:
        name = announcement(conn, comp)
        pid = comp.proc.pid
        check(re.fullmatch(r'[A-Za-z0-9._:@/-]{1,64}', name) and
              name.endswith('-%d' % pid) and '.' not in name[:-len(str(pid))],
              'default name %r is not <short host>-%d' % (name, pid))
        check(comp.wait_log('starting for %s as instance %s' % (DOMAIN, name)),
              'the startup line does not name the instance %s' % comp.why())
        check(comp.wait_log('%s routes by itself: no pool module' % SERVER),
              'no "routes by itself" line %s' % comp.why())
        round_trip(conn, comp, 'p1')
        check(len(conn.announcements) == 1 and
              comp.count('routes by itself') == 1 and
              comp.count('WARN') == 0,
              'announced %d times, %d lines %s' % (len(conn.announcements),
                                                   comp.count('routes by'),
                                                   comp.why()))
    finally:
        comp.stop()
        srv.close()


@case('component.instance announced; a pool module\'s result -> "in the pool on SERVER as NAME (N connections)"')
def t_result():
    srv, comp, conn = start('result', 'node-a')
    try:
        check(announcement(conn, comp) == 'node-a', 'wrong name announced')
        check(comp.wait_log('in the pool on %s as node-a (1 connection)'
                            % SERVER), 'no "in the pool" line %s' % comp.why())
        round_trip(conn, comp, 'p2')
        # A fresh stream announces again, with a new id.
        first = conn.announcements[0].get('id')
        srv.pool_size = 3
        conn.close()
        conn = accept(srv, comp)
        announcement(conn, comp)
        check(conn.announcements[0].get('id') != first, 'the id was reused')
        check(comp.wait_log('in the pool on %s as node-a (3 connections)'
                            % SERVER), 'no second "in the pool" line %s'
              % comp.why())
    finally:
        comp.stop()
        srv.close()


@case('conflict and bad-request: a warning naming component.instance')
def t_refused():
    srv, comp, conn = start('conflict', 'node-b')
    try:
        announcement(conn, comp)
        check(comp.wait_log('refused the instance name \'node-b\': another '
                            'live connection'), 'no conflict warning %s'
              % comp.why())
        check(comp.count('component.instance') >= 1, 'the warning does not '
              'name the setting %s' % comp.why())
        srv.pool_answer = 'bad-request'
        conn.close()
        conn = accept(srv, comp)
        announcement(conn, comp)
        check(comp.wait_log('(bad-request); check component.instance'),
              'no bad-request warning %s' % comp.why())
        round_trip(conn, comp, 'p3')
    finally:
        comp.stop()
        srv.close()


@case('answers from anyone else, or with another id, are not taken for the server\'s')
def t_forged():
    srv, comp, conn = start(None, 'node-c')
    try:
        announcement(conn, comp)
        id_ = conn.announcements[0].get('id')
        ok = ("<iq type='result' id='%s' from='%s' to='%s'><pool xmlns='%s' "
              "size='9'/></iq>")
        conn.send(ok % (id_, 'mallory@localhost/x', DOMAIN, NS_POOL))
        conn.send(ok % (id_, 'ope.localhost', DOMAIN, NS_POOL))
        conn.send(ok % ('pool-' + '0' * 32, SERVER, DOMAIN, NS_POOL))
        round_trip(conn, comp, 'p4')
        check(comp.count('in the pool') == 0, 'a forged answer was taken %s'
              % comp.why())
        conn.send(ok % (id_, SERVER, DOMAIN, NS_POOL))
        check(comp.wait_log('in the pool on %s as node-c (9 connections)'
                            % SERVER), 'the real answer was not taken %s'
              % comp.why())
        conn.send(ok % (id_, SERVER, DOMAIN, NS_POOL))
        round_trip(conn, comp, 'p5')
        check(comp.count('in the pool') == 1, 'the answer counted twice %s'
              % comp.why())
        check(conn.drain(0.0) == [], 'something answered an answer')
    finally:
        comp.stop()
        srv.close()


@case('takeover: the successor does not announce again and keeps the name')
def t_takeover():
    extra = 'control = { path = "%s"; };\n' % os.path.join(TMPDIR, 'tk.sock')
    srv, comp, conn = start('result', None, extra)
    try:
        name = announcement(conn, comp)
        check(comp.wait_log('in the pool on'), 'not in the pool %s'
              % comp.why())
        check(comp.wait_log('listening for a takeover on'),
              'no control socket line %s' % comp.why())
        os.kill(comp.proc.pid, signal.SIGUSR2)
        check(comp.wait_log('handed the link over to pid', TIMEOUT),
              'not handed over %s' % comp.why())
        SUCCESSORS.extend(comp.successors())
        check(comp.wait_log("instance name '%s' kept from the predecessor"
                            % name, TIMEOUT), 'the successor did not keep '
              'the name %s' % comp.why())
        check(comp.wait_exit(TIMEOUT) == 0, 'the old process did not exit '
              '%s' % comp.why())
        round_trip(conn, comp, 'p6')
        check(len(conn.announcements) == 1 and srv.accepted == 1,
              '%d announcements, %d connections' % (len(conn.announcements),
                                                    srv.accepted))
    finally:
        comp.stop()
        srv.close()


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def http_get(port, path):
    try:
        with urllib.request.urlopen('http://127.0.0.1:%d%s' % (port, path),
                                    timeout=TIMEOUT) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


@case('metrics: ope_info names the instance, link samples carry link=, /health names the link')
def t_metrics():
    mport = free_port()
    srv, comp, conn = start('result', 'node-m', 'metrics = { listen = '
                            '"127.0.0.1:%d"; };\n' % mport)
    try:
        announcement(conn, comp)
        check(comp.wait_log('in the pool on'), 'not in the pool %s'
              % comp.why())
        status, text = http_get(mport, '/metrics')
        check(status == 200 and
              re.search(r'^ope_info\{instance_name="node-m"\} 1$', text,
                        re.M) and
              re.search(r'^ope_link_up\{link="failover"\} 1$', text, re.M),
              '/metrics: %d %r' % (status, text[:300]))
        status, body = http_get(mport, '/health')
        want = ('ok; 1 of 1 link up: failover: connected to 127.0.0.1:%d as '
                '%s\n' % (srv.port, DOMAIN))
        check((status, body) == (200, want), '/health: %d %r' % (status, body))
    finally:
        comp.stop()
        srv.close()


@case('component.instance with a bad byte: FILE:LINE error, exit 2')
def t_bad_setting():
    path = write_config(1, 'node 1')
    comp = Component(path)
    rc = comp.wait_exit(TIMEOUT)
    check(rc == 2, 'exit %r %s' % (rc, comp.why()))
    check(comp.count("%s:2: component.instance 'node 1' is not a valid "
                     "instance name" % path) == 1, 'no FILE:LINE error %s'
          % comp.why())


if __name__ == '__main__':
    sys.exit(harness.run_cases(only=os.environ.get('OPE_ONLY')))
