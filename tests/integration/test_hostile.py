#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""test_hostile.py: hostile servers: malformed XML, huge and deep stanzas, a
trickle, a server that never reads, stream errors.

The real ope-component against the fake XEP-0114 server (fakeserver.py),
with the helpers of itest.py. Prints TAP for automake's driver (see
harness.run_cases); exits 1 if any case failed.
"""

import os
import sys
import threading
import time

sys.dont_write_bytecode = True  # the source tree is read-only under distcheck
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fakeserver as fs  # noqa: E402
import itest  # noqa: E402
from harness import Component, case, check  # noqa: E402
from itest import (DOMAIN, NS_C, NS_ERR, REPLY_TIMEOUT, SECRET,  # noqa: E402
                   check_addressing, check_example_reply, error_condition,
                   message, new_id, reconnected, round_trip, show,
                   start_connected, write_config)


# ---------------------------------------------------------------------------
# Hostile servers (issue 8): for each, no crash, no CPU spin, bounded memory,
# the right log line, a reconnect where one is due, and requests still
# answered afterwards.

EVIL = 'mallory@localhost/x'


def send_quietly(conn, data):
    """Send DATA; the component may close the connection half-way (that is
    what some attacks are for), so a reset is not an error here."""
    try:
        conn.send(data)
    except OSError:
        pass


def no_spin(comp, seconds=1.0, limit=0.15):
    """The component uses almost no CPU while nothing happens."""
    c0 = comp.cpu()
    time.sleep(seconds)
    used = comp.cpu() - c0
    check(used <= limit, 'spinning: %.2f s of CPU in %.1f s of quiet %s'
          % (used, seconds, comp.why()))


def hostile_reconnect(name, log_line, n=None, cpu_max=3.0):
    srv, comp, conn = start_connected()
    try:
        check(comp.wait_log('connected to'), 'not connected %s' % comp.why())
        rss0, cpu0 = comp.rss_kib(), comp.cpu()
        send_quietly(conn, fs.hostile(name, n=n))
        check(comp.wait_log(log_line, timeout=20.0),
              'no "%s" line %s' % (log_line, comp.why()))
        conn = reconnected(srv, comp)
        round_trip(conn, comp)
        used = comp.cpu() - cpu0
        grew = comp.rss_kib() - rss0
        print('# %s: %.2f s CPU, RSS %+d KiB' % (name, used, grew))
        check(used <= cpu_max, '%s cost %.2f s of CPU' % (name, used))
        check(grew < 16384, 'RSS grew by %d KiB' % grew)
        no_spin(comp)
        check(comp.alive(), 'component died %s' % comp.why())
    finally:
        comp.stop()
        srv.close()


@case('hostile: garbage after the handshake -> malformed XML line, reconnect')
def t_garbage():
    hostile_reconnect('garbage', 'malformed XML from 127.0.0.1')


@case('hostile: invalid UTF-8 -> malformed XML line, reconnect')
def t_bad_utf8():
    hostile_reconnect('bad-utf8', 'malformed XML from 127.0.0.1')


@case('hostile: a DOCTYPE -> malformed XML line, reconnect')
def t_doctype():
    hostile_reconnect('doctype', 'malformed XML from 127.0.0.1')


@case('hostile: an undefined entity -> malformed XML line, reconnect')
def t_entity():
    hostile_reconnect('entity', 'malformed XML from 127.0.0.1')


@case('hostile: a second stream header -> malformed XML line, reconnect')
def t_second_header():
    hostile_reconnect('second-header', 'malformed XML from 127.0.0.1')


@case('hostile: 200,000 attributes in one tag -> closed, reconnect')
def t_attributes():
    # One 2 MB start tag is a single token expat must buffer whole: over
    # limits.stanza_bytes that is a stream error, not a skip.
    hostile_reconnect('attributes', 'malformed XML from 127.0.0.1')


def hostile_skip(name, limit_word, n=None, cpu_max=3.0):
    """An over-limit stanza is skipped whole; its sender gets
    policy-violation, the link stays up and keeps answering."""
    srv, comp, conn = start_connected()
    try:
        check(comp.wait_log('connected to'), 'not connected %s' % comp.why())
        rss0, cpu0 = comp.rss_kib(), comp.cpu()
        id_ = new_id('evil')
        t = time.monotonic()
        send_quietly(conn, fs.hostile(name, frm=EVIL, id_=id_, n=n))
        r = conn.recv_stanza(20.0)
        took = time.monotonic() - t
        check(r is not None, 'no policy-violation for %s %s' % (name, comp.why()))
        check_addressing(r, 'error', DOMAIN, EVIL, id_)
        errs = [c for c in r if c.tag == '{%s}error' % NS_C]
        check(errs and errs[0].find('{%s}policy-violation' % NS_ERR)
              is not None, 'not policy-violation: %s' % show(r))
        check(comp.wait_log('skipped a <message> from %s' % EVIL),
              'no "skipped" line %s' % comp.why())
        check(limit_word in comp.stderr(), 'the skipped line does not name '
              'the limit (%s): %s' % (limit_word, comp.tail()))
        round_trip(conn, comp)
        used = comp.cpu() - cpu0
        grew = comp.rss_kib() - rss0
        print('# %s: answered in %.2f s, %.2f s CPU, RSS %+d KiB'
              % (name, took, used, grew))
        check(used <= cpu_max, '%s cost %.2f s of CPU' % (name, used))
        check(grew < 16384, 'RSS grew by %d KiB' % grew)
        check(comp.count('connecting to') == 1, 'the link was reconnected')
        # One log line per sender per minute.
        send_quietly(conn, fs.hostile(name, frm=EVIL, id_=id_ + 'b', n=n))
        r = conn.recv_stanza(20.0)
        check(r is not None and r.get('type') == 'error',
              'second over-limit stanza not answered: %s' % show(r))
        check(comp.count('skipped a <message> from %s' % EVIL) == 1,
              'more than one "skipped" line a minute for one sender')
        no_spin(comp)
    finally:
        comp.stop()
        srv.close()


@case('hostile: 1,000,000-deep nesting -> skipped, policy-violation')
def t_deep():
    hostile_skip('deep', 'depth')


@case('hostile: 100,000 children -> skipped, policy-violation')
def t_children():
    hostile_skip('children', 'children')


@case('hostile: a 50 MB stanza -> skipped, policy-violation, bounded memory')
def t_huge():
    hostile_skip('huge', 'text', cpu_max=6.0)


@case('hostile: a slow trickle -> no CPU spin, then answered')
def t_trickle():
    srv, comp, conn = start_connected()
    try:
        check(comp.wait_log('connected to'), 'not connected %s' % comp.why())
        id_ = new_id()
        data = message(id_).encode()
        cpu0 = comp.cpu()
        for i in range(0, len(data), 3):
            conn.send(data[i:i + 3])
            time.sleep(0.01)
        r = conn.recv_stanza(REPLY_TIMEOUT)
        check_example_reply(r, id_)
        used = comp.cpu() - cpu0
        print('# trickle of %d bytes: %.2f s CPU' % (len(data), used))
        check(used < 0.5, 'a trickle cost %.2f s of CPU' % used)
    finally:
        comp.stop()
        srv.close()


def start_with_output_queue(size):
    """start_connected() with limits.output_queue = SIZE (the template's
    limits group gains it: a second group would be a duplicate setting)."""
    srv = fs.FakeServer(DOMAIN, SECRET)
    text = write_config(srv.port)
    with open(text) as f:
        text = f.read().replace('limits = {', 'limits = { output_queue = %d;'
                                % size, 1)
    comp = Component(write_config(0, text=text))
    conn = srv.accept(REPLY_TIMEOUT)
    check(conn is not None, 'no connection %s' % comp.why())
    conn.handshake()
    return srv, comp, conn


def flood_in_background(conn, prefix, n, body):
    """Write N messages (ids PREFIX-0...) with BODY on CONN from a thread,
    without reading; returns an Event set once all are written."""
    blob = ''.join(message('%s-%d' % (prefix, i), body=body)
                   for i in range(n)).encode()
    done = threading.Event()

    def writer():
        s = conn.sock.dup()
        s.setblocking(True)
        try:
            s.sendall(blob)
        except OSError:
            pass
        finally:
            s.close()
            done.set()

    threading.Thread(target=writer, daemon=True).start()
    return done


@case('hostile: a server that never reads -> bounded memory, nothing lost')
def t_never_reads():
    srv, comp, conn = start_with_output_queue(262144)
    try:
        check(comp.wait_log('connected to'), 'not connected %s' % comp.why())
        rss0 = comp.rss_kib()
        n = 8000
        done = flood_in_background(conn, 'nr', n, 'p' * 4000)
        # Let the component fill its queue and stop reading.
        peak = 0
        for _ in range(20):
            time.sleep(0.1)
            peak = max(peak, comp.rss_kib())
        cpu0 = comp.cpu()
        time.sleep(1.0)
        idle_cpu = comp.cpu() - cpu0
        peak = max(peak, comp.rss_kib())
        print('# never reads: RSS %d -> peak %d KiB, %.2f s CPU while stalled'
              % (rss0, peak, idle_cpu))
        check(peak - rss0 < 16384, 'RSS grew by %d KiB while the server did '
              'not read (%d KiB of replies)' % (peak - rss0, n * 4))
        check(idle_cpu < 0.15, 'spinning while stalled: %.2f s' % idle_cpu)
        check(comp.alive(), 'component died %s' % comp.why())
        # The server reads again: every reply arrives.
        got = conn.recv_stanzas(n, 60.0)
        done.wait(10.0)
        ids = {r.get('id') for r in got}
        check(len(got) == n and ids == {'nr-%d' % i for i in range(n)},
              '%d of %d replies after the stall %s' % (len(got), n, comp.why()))
        check(comp.count('connecting to') == 1, 'the link was reconnected')
    finally:
        comp.stop()
        srv.close()


@case('a server stuck writing to us while we wait for it to read -> ope reads on, answers resource-constraint, loses nothing')
def t_mutual_stall():
    # ejabberd blocks in send while its socket to us is full, and reads
    # nothing meanwhile: with ope waiting for it to read its replies, both
    # would wait for ever. This server writes everything before it reads.
    srv, comp, conn = start_with_output_queue(1048576)
    try:
        check(comp.wait_log('connected to'), 'not connected %s' % comp.why())
        rss0 = comp.rss_kib()
        # More than the kernel's socket buffers both ways hold (about 10 MB
        # on loopback) plus ope's queue, so the writer does block.
        n = 2500
        done = flood_in_background(conn, 'ms', n, 'q' * 7000)
        check(done.wait(30.0), 'the server is still blocked writing after '
              '30 s: ope stopped reading and waits for the server (deadlock) '
              '%s' % comp.why())
        got = conn.recv_stanzas(n, 60.0)
        ids = {r.get('id') for r in got}
        check(len(got) == n and ids == {'ms-%d' % i for i in range(n)},
              '%d of %d requests answered %s' % (len(got), n, comp.why()))
        errors = [r for r in got if r.get('type') == 'error']
        for r in errors:
            error_condition(r, 'wait', 'resource-constraint', r.get('id'))
        check(0 < len(errors) < n, '%d of %d answered resource-constraint'
              % (len(errors), n))
        check(comp.count('reading on and answering resource-constraint') >= 1,
              'no log line for the stall %s' % comp.why())
        check(comp.rss_kib() - rss0 < 16384, 'RSS grew by %d KiB'
              % (comp.rss_kib() - rss0))
        print('# mutual stall: %d of %d answered resource-constraint, %d '
              'served' % (len(errors), n, n - len(errors)))
        round_trip(conn, comp, 'after the stall')
        check(comp.count('connecting to') == 1, 'the link was reconnected')
    finally:
        comp.stop()
        srv.close()


@case('hostile: every stream error condition -> logged by name, reconnect or exit 3')
def t_stream_errors():
    srv, comp, conn = start_connected()
    try:
        n = 1
        for cond in fs.STREAM_ERRORS:
            if cond in ('not-authorized', 'host-unknown'):
                continue
            check(comp.wait_log('connected to', count=n),
                  '%s: not connected %s' % (cond, comp.why()))
            conn.send_stream_error(cond, 'bye from the test')
            want = ('(conflict)' if cond == 'conflict'
                    else 'stream error %s: bye from the test' % cond)
            check(comp.wait_log(want), '%s: no "%s" line %s'
                  % (cond, want, comp.why()))
            n += 1
            conn = reconnected(srv, comp, count=n)
        round_trip(conn, comp)
        for cond in ('not-authorized', 'host-unknown'):
            conn.send_stream_error(cond)
            rc = comp.wait_exit(5.0)
            check(rc == 3, '%s: exit %r, expected 3 %s' % (cond, rc, comp.why()))
            check('(%s)' % cond in comp.stderr(), '%s not named' % cond)
            if cond == 'not-authorized':
                comp.stop()
                srv.close()
                srv, comp, conn = start_connected()
                check(comp.wait_log('connected to'), 'not connected')
        no_spin_dead = comp.alive()
        check(not no_spin_dead, 'component still running after host-unknown')
    finally:
        comp.stop()
        srv.close()


if __name__ == '__main__':
    sys.exit(itest.main())
