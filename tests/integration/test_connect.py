#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""test_connect.py: connecting: a wrong secret, refusals, a conflict, name
resolution, a server that goes away.

The real ope-component against the fake XEP-0114 server (fakeserver.py),
with the helpers of itest.py. Prints TAP for automake's driver (see
harness.run_cases); exits 1 if any case failed.
"""

import re
import os
import sys
import time

sys.dont_write_bytecode = True  # the source tree is read-only under distcheck
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fakeserver as fs  # noqa: E402
import itest  # noqa: E402
from harness import Component, case, check  # noqa: E402
from itest import (DOMAIN, REPLY_TIMEOUT, SECRET, check_example_reply,  # noqa: E402
                   config_text, message, new_id, start_connected, write_config)


@case('wrong secret -> exit 3, not-authorized, names component.secret')
def t_wrong_secret():
    srv, comp, conn = start_connected(secret='wrong-secret',
                                      server_secret=SECRET)
    try:
        check(not conn.digest_ok, 'fake server accepted a wrong digest')
        rc = comp.wait_exit(5.0)
        check(rc == 3, 'exit status %r, expected 3 %s' % (rc, comp.why()))
        err = comp.stderr()
        check('component.secret' in err, 'stderr does not name '
              'component.secret: %s' % comp.tail())
        check('not-authorized' in err, 'stderr does not say not-authorized')
        check(srv.accept(0.3) is None, 'component reconnected after refusal')
    finally:
        comp.stop()
        srv.close()


@case('host-unknown -> exit 3 without retry')
def t_refused():
    srv, comp, conn = start_connected(answer=fs.HOST_UNKNOWN)
    try:
        rc = comp.wait_exit(5.0)
        check(rc == 3, 'exit status %r, expected 3 %s' % (rc, comp.why()))
        check('host-unknown' in comp.stderr(), 'not named in stderr: %s'
              % comp.tail())
        check(srv.accept(0.3) is None, 'component reconnected')
    finally:
        comp.stop()
        srv.close()


@case('conflict is transient: an error line naming the cause, retry, then success')
def t_conflict():
    srv, comp, conn = start_connected(answer=fs.CONFLICT)
    try:
        for _ in range(2):  # refused twice, then accepted
            conn = srv.accept(5.0)
            check(conn is not None, 'no retry after conflict %s' % comp.why())
            conn.handshake(fs.CONFLICT if _ == 0 else fs.ACCEPT)
        check(comp.wait_log('connected to 127.0.0.1:%d' % srv.port),
              'not connected after conflict %s' % comp.why())
        check(comp.count('(conflict)') == 2,
              '%d conflict error lines, expected 2 %s'
              % (comp.count('(conflict)'), comp.why()))
        err = comp.stderr()
        check('half-open' in err and 'second ope-component' in err,
              'the conflict line does not name the likely causes: %s'
              % comp.tail())
        id_ = new_id()
        conn.send(message(id_))
        check_example_reply(conn.recv_stanza(REPLY_TIMEOUT), id_)
        check(comp.alive(), 'component exited %s' % comp.why())
    finally:
        comp.stop()
        srv.close()


@case('a server name that does not resolve: retries go on (no lost timer)')
def t_unresolvable():
    # A connect that fails before any I/O (the name does not resolve) must
    # still schedule the next attempt; the container deployment hits it
    # while the server's container is stopped (its name is gone from the
    # network's DNS).
    text = config_text(5347, maximum='0.2')
    text = text.replace('"127.0.0.1"', '"ope-test.invalid"')
    check('ope-test.invalid' in text, 'config template has no host to replace')
    comp = Component(write_config(0, text=text))
    try:
        check(comp.wait_log('connecting to ope-test.invalid:5347 as', 10.0,
                            count=4),
              'fewer than 4 connection attempts %s' % comp.why())
        failed = comp.count('cannot connect to ope-test.invalid:5347 '
                            '(cannot resolve ope-test.invalid: ')
        check(failed >= 3, '%d "cannot connect to ope-test.invalid:5347 '
              '(cannot resolve ...)" lines after 4 attempts, expected 3 or '
              'more %s' % (failed, comp.why()))
        check(comp.count('reconnecting to ope-test.invalid:5347 in ') >= 3,
              'the failed attempts were not followed by back-off lines %s'
              % comp.why())
        check(comp.alive(), 'component exited %s' % comp.why())
    finally:
        comp.stop()


@case('a server given by name (localhost) is looked up and reached')
def t_resolve_localhost():
    # The name is looked up off the event loop (resolve.c); localhost may
    # give ::1 first, where nothing listens: the next address is tried.
    srv = fs.FakeServer(DOMAIN, SECRET)
    text = config_text(srv.port).replace('"127.0.0.1"', '"localhost"')
    check('"localhost"' in text, 'config template has no host to replace')
    comp = Component(write_config(0, text=text))
    try:
        conn = srv.accept(REPLY_TIMEOUT)
        check(conn is not None, 'no connection via localhost %s' % comp.why())
        conn.handshake(fs.ACCEPT)
        check(comp.wait_log('connected to localhost:%d as' % srv.port),
              'no "connected to localhost:%d" line %s' % (srv.port, comp.why()))
        id_ = new_id()
        conn.send(message(id_))
        check_example_reply(conn.recv_stanza(REPLY_TIMEOUT), id_)
    finally:
        comp.stop()
        srv.close()


@case('server goes away: bounded back-off, then reconnects and works')
def t_reconnect():
    srv, comp, conn = start_connected()
    try:
        port = srv.port
        hostport = '127.0.0.1:%d' % port
        check(comp.wait_log('connected to %s' % hostport),
              'not connected %s' % comp.why())
        srv.close()  # listener and connection: the server is gone
        check(comp.wait_log('connection to %s lost' % hostport),
              'no "connection to %s lost" line %s' % (hostport, comp.why()))
        t0 = time.monotonic()
        window = 2.0
        time.sleep(window)
        check(comp.alive(), 'component exited while the server was down %s'
              % comp.why())
        pat = re.compile(r'reconnecting to %s in (\d+\.\d+) s \(attempt (\d+)\)'
                         % re.escape(hostport))
        with comp.cv:
            found = [pat.search(l) for t, l in comp.lines
                     if t0 - 0.5 <= t <= t0 + window]
        found = [m for m in found if m]
        delays = [float(m.group(1)) for m in found]
        attempts = [int(m.group(2)) for m in found]
        connecting = comp.count('connecting to %s' % hostport, since=t0)
        print('# %d reconnect lines in %.1f s, delays %s' % (
            len(found), window, ' '.join('%.3f' % d for d in delays)))
        check(3 <= len(found) <= 15, '%d "reconnecting" lines in %.1f s '
              '(want 3..15; delays %r)' % (len(found), window, delays))
        check(connecting <= 16, '%d connection attempts in %.1f s: spinning'
              % (connecting, window))
        check(attempts == sorted(set(attempts)),
              'attempt numbers not increasing: %r' % attempts)
        check(0.09 <= delays[0] <= 0.14,
              'first delay %.3f s, expected about initial = 0.1' % delays[0])
        check(max(delays) >= 0.35, 'delays never reach maximum = 0.4: %r'
              % delays)
        check(all(d <= 0.55 for d in delays),
              'a delay above maximum + jitter: %r' % delays)
        check(all(b >= 0.75 * a for a, b in zip(delays, delays[1:])),
              'delays do not grow: %r' % delays)
        # The server comes back on the same port.
        srv.listen(port)
        conn = srv.accept(5.0)
        check(conn is not None, 'no reconnection within 5 s %s' % comp.why())
        conn.handshake()
        check(comp.wait_log('connected to %s' % hostport, count=2),
              'no second "connected to" line %s' % comp.why())
        id_ = new_id()
        conn.send(message(id_))
        check_example_reply(conn.recv_stanza(REPLY_TIMEOUT), id_)
    finally:
        comp.stop()
        srv.close()


if __name__ == '__main__':
    sys.exit(itest.main())
