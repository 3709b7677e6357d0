#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""test_servers.py: liveness pings, several servers (failover, flapping) and
TLS to the server.

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
from itest import (DOMAIN, REPLY_TIMEOUT, SECRET, make_certs, reconnected,  # noqa: E402
                   round_trip, server_tls, show, start_connected, write_config)


@case('liveness: a ping after idle; no answer -> reconnect')
def t_liveness():
    srv, comp, conn = start_connected(
        extra='liveness = { idle = 0.5; timeout = 0.5; };\n')
    try:
        check(comp.wait_log('connected to'), 'not connected %s' % comp.why())
        check(conn.wait_for(lambda: len(conn.pings) >= 2, 3.0),
              'fewer than 2 pings in 3 s with idle = 0.5 (%d) %s'
              % (len(conn.pings), comp.why()))
        ping = conn.pings[0]
        check(ping.get('to') == 'localhost' and ping.get('from') == DOMAIN,
              'ping addressing: %s' % show(ping))
        check(comp.count('no answer to a ping') == 0,
              'answered pings counted as lost %s' % comp.why())
        # The server stops answering: the component gives up on the link.
        conn.answer_pings = False
        check(conn.wait_for(lambda: comp.count('no answer to a ping') > 0,
                            3.0) or comp.wait_log('no answer to a ping', 1.0),
              'no "no answer to a ping" line %s' % comp.why())
        check(comp.count('no answer to a ping within 0.500 s') == 1,
              'unexpected ping line %s' % comp.why())
        conn = reconnected(srv, comp)
        round_trip(conn, comp)
    finally:
        comp.stop()
        srv.close()


def component_on_two(a, b):
    """A component whose server.hosts lists fake servers A and B."""
    hosts = 'hosts = ( "127.0.0.1:%d", "127.0.0.1:%d" );' % (a.port, b.port)
    with open(write_config(a.port)) as f:
        text = f.read().replace('host = "127.0.0.1";\n  port = %d;' % a.port,
                                hosts)
    return Component(write_config(0, text=text))


@case('several servers: the first dies -> fail over to the second')
def t_failover():
    a = fs.FakeServer(DOMAIN, SECRET)
    b = fs.FakeServer(DOMAIN, SECRET)
    comp = None
    try:
        comp = component_on_two(a, b)
        ca = a.accept(REPLY_TIMEOUT)
        check(ca is not None, 'no connection to the first server %s' % comp.why())
        ca.handshake()
        round_trip(ca, comp, 'on the first server')
        a.close()  # the first server dies
        check(comp.wait_log('failing over to 127.0.0.1:%d' % b.port),
              'no "failing over" line %s' % comp.why())
        cb = b.accept(REPLY_TIMEOUT)
        check(cb is not None, 'no connection to the second server %s' % comp.why())
        cb.handshake()
        round_trip(cb, comp, 'on the second server')
        # The first comes back; the second dies: back to the first.
        a.listen()
        b.close()
        ca = a.accept(REPLY_TIMEOUT)
        check(ca is not None, 'did not come back to the first %s' % comp.why())
        ca.handshake()
        round_trip(ca, comp, 'back on the first server')
    finally:
        if comp is not None:
            comp.stop()
        a.close()
        b.close()


@case('several servers that accept and drop at once -> back-off, no storm')
def t_flapping():
    a = fs.FakeServer(DOMAIN, SECRET)
    b = fs.FakeServer(DOMAIN, SECRET)
    comp = None
    try:
        comp = component_on_two(a, b)
        t_end = time.monotonic() + 3.0
        n = 0
        while time.monotonic() < t_end:
            for srv in (a, b):
                c = srv.accept(0.05)
                if c is not None:
                    n += 1
                    try:
                        c.handshake()
                    except fs.ServerError:
                        pass
                    c.close()
        cpu = comp.cpu()
        print('# %d connections in 3 s to two servers that drop at once, '
              '%.2f s CPU' % (n, cpu))
        # initial 0.1 s doubling to 0.4 s: about 2 connections per 0.4 s.
        check(4 <= n <= 30, '%d connections in 3 s: %s' % (
            n, 'a storm' if n > 30 else 'not retrying'))
        check(comp.count('reconnecting to') >= 2, 'no back-off lines %s'
              % comp.why())
        check(comp.alive(), 'component exited %s' % comp.why())
    finally:
        if comp is not None:
            comp.stop()
        a.close()
        b.close()


@case('TLS: a certificate from ca_file is verified and used')
def t_tls_good():
    d = make_certs()
    srv, comp, conn = start_connected(
        tls=server_tls(d, 'server'),
        server_extra='  tls = { mode = "direct"; ca_file = "%s"; };\n'
        % os.path.join(d, 'ca.pem'))
    try:
        check(comp.wait_log('certificate verified for \'127.0.0.1\''),
              'no TLS line %s' % comp.why())
        check(comp.wait_log('connected to'), 'not connected %s' % comp.why())
        round_trip(conn, comp, 'over TLS')
    finally:
        comp.stop()
        srv.close()


@case('TLS: a bad certificate or name is refused with a clear line, retried')
def t_tls_bad():
    d = make_certs()
    for cert, extra, want in (
            ('evil', '', 'certificate verification failed'),
            ('server', ' name = "ope.wrong.example";',
             'certificate verification failed')):
        srv = fs.FakeServer(DOMAIN, SECRET, tls=server_tls(d, cert))
        comp = Component(write_config(srv.port, server_extra=(
            '  tls = { mode = "direct"; ca_file = "%s";%s };\n'
            % (os.path.join(d, 'ca.pem'), extra))))
        try:
            srv.accept(REPLY_TIMEOUT)
            check(comp.wait_log(want), '%s: no "%s" line %s'
                  % (cert, want, comp.why()))
            check('server.tls.ca_file' in comp.stderr(),
                  'the TLS error does not say what to configure')
            check(comp.wait_log('reconnecting to'), 'no retry %s' % comp.why())
            check(comp.alive(), 'component exited %s' % comp.why())
            check(not any(h for h in srv.handshakes),
                  'a handshake went over an unverified link')
        finally:
            comp.stop()
            srv.close()


if __name__ == '__main__':
    sys.exit(itest.main())
