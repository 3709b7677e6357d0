#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""test_stop.py: stopping: SIGTERM with and without mod_ope, and the
debug log of a stopping run.

The real ope-component against the fake XEP-0114 server (fakeserver.py),
with the helpers of itest.py. Prints TAP for automake's driver (see
harness.run_cases); exits 1 if any case failed.
"""

import os
import signal
import sys
import time

sys.dont_write_bytecode = True  # the source tree is read-only under distcheck
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import itest  # noqa: E402
from harness import case, check  # noqa: E402
from itest import (DOMAIN, NS_ERR, REPLY_TIMEOUT, SECRET, check_example_reply,  # noqa: E402
                   iq, message, new_id, recv_unroute, start_connected)


DEBUG_RUN = {}


@case('SIGTERM -> exit 0 and </stream:stream> sent')
def t_sigterm():
    # The fake server answers neither the unroute IQ (no mod_ope, as
    # behind Prosody: drain.answer = 1 s, then the fallback) nor the close
    # (the 3 s grace period runs out).
    srv, comp, conn = start_connected(level='debug')
    try:
        check(comp.wait_log('connected to'), 'not connected %s' % comp.why())
        id_ = new_id()
        conn.send(message(id_))
        check_example_reply(conn.recv_stanza(REPLY_TIMEOUT), id_)
        t = time.monotonic()
        os.kill(comp.proc.pid, signal.SIGTERM)
        recv_unroute(conn)
        conn.wait_for(lambda: conn.stream_closed, 4.0)
        closed = time.monotonic() - t
        check(conn.stream_closed, 'no </stream:stream> before exit '
              '(tail %r)' % bytes(conn.raw[-80:]))
        check(0.8 <= closed < 3.0, 'closed %.2f s after SIGTERM; expected '
              'the 1 s wait for an answer to the unroute IQ' % closed)
        rc = comp.wait_exit(5.0)
        check(rc == 0, 'exit status %r after SIGTERM, expected 0 %s'
              % (rc, comp.why()))
        check(comp.count('shutting down') >= 1, 'no "shutting down" line')
        check(comp.count('mod_ope (contrib/') >= 1, 'no warning naming '
              'mod_ope %s' % comp.why())
        check(time.monotonic() - t < 7.0, 'slow exit')
        # Logged after the last loop turn: out only through the flush at
        # exit (log_set_buffered()).
        check(comp.count('exiting anyway') == 1, 'no "exiting anyway" line: '
              'the lines held at exit were lost %s' % comp.why())
    finally:
        DEBUG_RUN['stderr'] = comp.stderr()
        DEBUG_RUN['digest'] = conn.digest
        comp.stop()
        srv.close()


@case('SIGTERM with mod_ope: unrouted, requests answered until quiet, then closed')
def t_sigterm_drain():
    srv, comp, conn = start_connected(extra='drain = { quiet = 0.4; };\n')
    try:
        check(comp.wait_log('connected to'), 'not connected %s' % comp.why())
        os.kill(comp.proc.pid, signal.SIGTERM)
        iq = recv_unroute(conn)
        conn.send("<iq type='result' id='%s' from='localhost' to='%s'/>"
                  % (iq.get('id'), DOMAIN))
        # Requests routed before the unroute still come in and are answered.
        for _ in range(3):
            time.sleep(0.2)
            id_ = new_id()
            last = time.monotonic()
            conn.send(message(id_))
            check_example_reply(conn.recv_stanza(REPLY_TIMEOUT), id_)
            check(not conn.stream_closed and comp.alive(),
                  'closed while requests kept coming %s' % comp.why())
        conn.wait_for(lambda: conn.stream_closed, 3.0)
        quiet = time.monotonic() - last
        check(conn.stream_closed, 'no </stream:stream> after the drain %s'
              % comp.why())
        check(0.35 <= quiet < 2.0, 'closed %.2f s after the last request; '
              'drain.quiet is 0.4 s' % quiet)
        check(conn.drain(0.0) == [], 'the answer to the unroute IQ was '
              'answered or something else was sent')
        conn.send('</stream:stream>')
        rc = comp.wait_exit(5.0)
        check(rc == 0, 'exit %r after the drain %s' % (rc, comp.why()))
        check(comp.count('mod_ope (contrib/') == 0, 'fallback warning although '
              'the unroute IQ was answered %s' % comp.why())
    finally:
        comp.stop()
        srv.close()


@case('SIGTERM, the unroute IQ refused -> close at once, warning names mod_ope')
def t_sigterm_drain_refused():
    srv, comp, conn = start_connected(extra='drain = { answer = 5.0; };\n')
    try:
        check(comp.wait_log('connected to'), 'not connected %s' % comp.why())
        os.kill(comp.proc.pid, signal.SIGTERM)
        iq = recv_unroute(conn)
        t = time.monotonic()
        conn.send("<iq type='error' id='%s' from='localhost' to='%s'>"
                  "<error type='cancel'><service-unavailable xmlns='%s'/>"
                  "</error></iq>" % (iq.get('id'), DOMAIN, NS_ERR))
        conn.wait_for(lambda: conn.stream_closed, 3.0)
        check(conn.stream_closed and time.monotonic() - t < 1.0,
              'not closed within 1 s of the error %s' % comp.why())
        conn.send('</stream:stream>')
        rc = comp.wait_exit(5.0)
        check(rc == 0, 'exit %r %s' % (rc, comp.why()))
        check(comp.count('mod_ope (contrib/') >= 1, 'no warning naming '
              'mod_ope %s' % comp.why())
    finally:
        comp.stop()
        srv.close()


@case('debug log shows neither the secret nor the handshake digest')
def t_no_secret_logged():
    err = DEBUG_RUN.get('stderr')
    check(err, 'no debug-level run to look at')
    check(SECRET not in err, 'the component secret appears in the log')
    check(DEBUG_RUN['digest'] and DEBUG_RUN['digest'] not in err,
          'the handshake digest appears in the log')


if __name__ == '__main__':
    sys.exit(itest.main())
