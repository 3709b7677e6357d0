#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""test_notify.py: ope-component's systemd notifications, without systemd.

The test plays the service manager: it binds a unix datagram socket, passes
it as NOTIFY_SOCKET (and a watchdog interval as WATCHDOG_USEC) to the real
$OPE_BUILDDIR/ope-component, drives the link with fakeserver.py and checks
what arrives and when: no READY=1 before the handshake, READY=1 with a
"connected to" STATUS after it, STATUS following a server restart,
WATCHDOG=1 at about half the interval all along, STOPPING=1 on SIGTERM and
on a refusal. Prints TAP: the plan "1..N", "ok N - name" or
"not ok N - name: why" per case, then "# N passed, M failed". When ope was
built without libsystemd it prints a skip plan ("1..0 # SKIP ..."), which
tests/all.sh counts as a failure.
"""

import os
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True  # the source tree is read-only under distcheck
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fakeserver as fs  # noqa: E402
import harness  # noqa: E402
from harness import COMPONENT, PROCS, SUCCESSORS, case, check  # noqa: E402

DOMAIN = 'ope.localhost'
SECRET = 'notify-secret-7781'
WATCHDOG_MS = 400
TMPDIR = harness.start('ope-notify-')


def write_config(port, extra='', server=None):
    """A config for the server on PORT (or SERVER: the server group's
    inside)."""
    path = os.path.join(TMPDIR, 'ope-%d.conf' % port)
    if server is None:
        server = 'host = "127.0.0.1"; port = %d;' % port
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'w') as f:
        f.write('server = { %s };\n'
                'component = { domain = "%s"; secret = "%s"; };\n'
                'log = { level = "info"; timestamps = false; };\n'
                'reconnect = { initial = 0.2; maximum = 0.4; };\n%s'
                % (server, DOMAIN, SECRET, extra))
    return path


class Manager:
    """The service manager's side of sd_notify: a datagram socket that
    records every message with its arrival time, and ope-component
    started with NOTIFY_SOCKET pointing at it."""

    _seq = [0]

    def __init__(self, port, watchdog_ms=WATCHDOG_MS, extra='', server=None):
        Manager._seq[0] += 1
        self.path = os.path.join(TMPDIR, 'notify-%d.sock' % Manager._seq[0])
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        # As systemd does: know who sent each message.
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self.sock.settimeout(0.1)
        self.msgs = []  # (monotonic time, {key: value})
        self.cv = threading.Condition()
        self.running = True
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()
        env = dict(os.environ, NOTIFY_SOCKET=self.path)
        env.pop('WATCHDOG_PID', None)
        env.pop('WATCHDOG_USEC', None)
        if watchdog_ms:
            env['WATCHDOG_USEC'] = str(watchdog_ms * 1000)
        self.errlog = open(os.path.join(TMPDIR, 'stderr-%d' % Manager._seq[0]),
                           'w+')
        # As systemd does, WATCHDOG_PID names the main process (the
        # shell's pid is ope-component's after exec).
        self.proc = subprocess.Popen(['/bin/sh', '-c',
                                      'export WATCHDOG_PID=$$; exec "$0" "$@"',
                                      COMPONENT, '-c',
                                      write_config(port, extra, server)],
                                     env=env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=self.errlog)
        PROCS.append(self.proc)

    def _read(self):
        while self.running:
            try:
                data, anc, _, _ = self.sock.recvmsg(
                    4096, socket.CMSG_SPACE(struct.calcsize('3i')))
            except socket.timeout:
                continue
            except OSError:
                return
            # '_pid': the sender, from its SCM_CREDENTIALS.
            fields = {}
            for level, kind, cdata in anc:
                if (level == socket.SOL_SOCKET and
                        kind == socket.SCM_CREDENTIALS):
                    fields['_pid'] = struct.unpack('3i', cdata[:12])[0]
            for line in data.decode('utf-8', 'replace').split('\n'):
                if '=' in line:
                    k, v = line.split('=', 1)
                    fields[k] = v
            with self.cv:
                self.msgs.append((time.monotonic(), fields))
                self.cv.notify_all()

    def wait(self, pred, timeout=5.0, since=0.0):
        """The first message at or after SINCE for which PRED(fields) holds,
        as (time, fields), or None after TIMEOUT."""
        deadline = time.monotonic() + timeout
        with self.cv:
            while True:
                for t, f in self.msgs:
                    if t >= since and pred(f):
                        return t, f
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cv.wait(min(left, 0.1))

    def find(self, key, since=0.0, until=float('inf')):
        with self.cv:
            return [(t, f) for t, f in self.msgs
                    if key in f and since <= t <= until]

    def statuses(self):
        with self.cv:
            return [f['STATUS'] for _, f in self.msgs if 'STATUS' in f]

    def why(self):
        rc = self.proc.poll()
        self.errlog.flush()
        self.errlog.seek(0)
        tail = ' | '.join(self.errlog.read().splitlines()[-5:])
        return '(ope-component %s; statuses %r; stderr tail: %s)' % (
            'running' if rc is None else 'exited with %d' % rc,
            self.statuses()[-6:], tail)

    def close(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self.running = False
        self.thread.join(2.0)
        self.sock.close()
        self.errlog.close()


# What the link says while nothing listens on the server's port.
REFUSED_STATUS = re.compile(
    r'reconnecting in [0-9]+\.[0-9] s: 127\.0\.0\.1: Connection refused$')


def status_has(text):
    return lambda f: text in f.get('STATUS', '')


def check_watchdog(m, since, until):
    """WATCHDOG=1 at about half the interval between SINCE and UNTIL."""
    pets = [t for t, _ in m.find('WATCHDOG', since, until)]
    span = until - since
    want = span / (WATCHDOG_MS / 2000.0)
    check(len(pets) >= 0.6 * want,
          '%d WATCHDOG=1 in %.1f s, expected about %.0f (interval %d ms) %s'
          % (len(pets), span, want, WATCHDOG_MS, m.why()))
    check(len(pets) <= 1.5 * want + 2,
          '%d WATCHDOG=1 in %.1f s: more than twice per interval' %
          (len(pets), span))
    gaps = [b - a for a, b in zip(pets, pets[1:])]
    check(not gaps or max(gaps) < WATCHDOG_MS / 1000.0,
          'a gap of %.3f s between WATCHDOG=1, interval %.3f s'
          % (max(gaps), WATCHDOG_MS / 1000.0))
    return len(pets), max(gaps) if gaps else 0.0


@case('READY only after the handshake; STATUS follows a server restart; '
      'WATCHDOG all along; STOPPING on SIGTERM')
def t_lifecycle():
    srv = fs.FakeServer(DOMAIN, SECRET)
    m = Manager(srv.port)
    try:
        port = srv.port
        where = '127.0.0.1:%d' % port
        t_start = time.monotonic()
        conn = srv.accept(5.0)
        check(conn is not None, 'no connection %s' % m.why())
        # Hold the handshake back: connected by TCP, not yet accepted.
        time.sleep(1.0)
        check(not m.find('READY'), 'READY=1 before the handshake %s' % m.why())
        check(m.wait(status_has('connecting to %s' % where), 0.1),
              'no "connecting to" STATUS %s' % m.why())
        conn.handshake()
        r = m.wait(lambda f: 'READY' in f)
        check(r is not None, 'no READY=1 after the handshake %s' % m.why())
        t_ready, ready = r
        check(ready['READY'] == '1', 'READY=%r' % ready['READY'])
        check(ready.get('STATUS') == 'connected to %s as %s' % (where, DOMAIN),
              'READY came with STATUS=%r' % ready.get('STATUS'))

        # The server goes away, refuses for a while, then comes back.
        srv.close()
        r = m.wait(status_has('reconnecting in '), since=t_ready)
        check(r is not None, 'no "reconnecting" STATUS after the server '
              'went away %s' % m.why())
        # The connection that was up ends as "closed by the server"; the
        # attempts after it find nothing listening.
        r = m.wait(lambda f: REFUSED_STATUS.match(f.get('STATUS', '')),
                   since=r[0])
        check(r is not None, 'no "reconnecting in N.N s: 127.0.0.1: '
              'Connection refused" STATUS while the server is down %s'
              % m.why())
        time.sleep(0.5)
        srv.listen(port)
        conn = srv.accept(5.0)
        check(conn is not None, 'no reconnection %s' % m.why())
        t_back = time.monotonic()
        conn.handshake()
        r = m.wait(status_has('connected to %s as %s' % (where, DOMAIN)),
                   since=t_back)
        check(r is not None, 'no "connected to" STATUS after the server came '
              'back %s' % m.why())
        check(len(m.find('READY')) == 1, 'READY=1 sent %d times'
              % len(m.find('READY')))

        t_term = time.monotonic()
        os.kill(m.proc.pid, signal.SIGTERM)
        r = m.wait(lambda f: 'STOPPING' in f, since=t_term)
        check(r is not None, 'no STOPPING=1 after SIGTERM %s' % m.why())
        check(r[1]['STOPPING'] == '1', 'STOPPING=%r' % r[1]['STOPPING'])
        try:
            rc = m.proc.wait(5.0)
        except subprocess.TimeoutExpired:
            rc = None
        check(rc == 0, 'exit status %r after SIGTERM %s' % (rc, m.why()))
        check(len(m.find('STOPPING')) == 1, 'STOPPING=1 sent %d times'
              % len(m.find('STOPPING')))
        # Order over the whole run: READY, then STOPPING last of the two.
        keys = [k for _, f in m.msgs for k in f if k in ('READY', 'STOPPING')]
        check(keys == ['READY', 'STOPPING'], 'READY/STOPPING order %r' % keys)
        n, gap = check_watchdog(m, t_start + 0.5, t_term)
        print('# %d WATCHDOG=1 in %.1f s, longest gap %.3f s; statuses: %s'
              % (n, t_term - t_start - 0.5, gap,
                 ' / '.join(dict.fromkeys(m.statuses()))))
    finally:
        m.close()
        srv.close()


@case('refused for good (not-authorized): STOPPING with the reason, no '
      'READY, exit 3; no WATCHDOG=1 without WATCHDOG_USEC')
def t_refused():
    srv = fs.FakeServer(DOMAIN, 'another-secret')
    m = Manager(srv.port, watchdog_ms=0)
    try:
        conn = srv.accept(5.0)
        check(conn is not None, 'no connection %s' % m.why())
        conn.handshake()
        try:
            rc = m.proc.wait(5.0)
        except subprocess.TimeoutExpired:
            rc = None
        check(rc == 3, 'exit status %r, expected 3 %s' % (rc, m.why()))
        r = m.wait(lambda f: 'STOPPING' in f, 1.0)
        check(r is not None, 'no STOPPING=1 %s' % m.why())
        want = 'refused by 127.0.0.1:%d (not-authorized)' % srv.port
        check(want in r[1].get('STATUS', ''),
              'STOPPING came with STATUS=%r, expected it to contain %r'
              % (r[1].get('STATUS'), want))
        check(not m.find('READY'), 'READY=1 for a refused handshake')
        check(not m.find('WATCHDOG'), 'WATCHDOG=1 without WATCHDOG_USEC')
    finally:
        m.close()
        srv.close()


@case('server down from the start: STATUS says why and when, no READY')
def t_never_up():
    srv = fs.FakeServer(DOMAIN, SECRET)
    port = srv.port
    srv.close()  # nothing listens on PORT now
    m = Manager(port)
    try:
        r = m.wait(status_has('reconnecting in '))
        check(r is not None, 'no "reconnecting" STATUS %s' % m.why())
        st = r[1]['STATUS']
        check(REFUSED_STATUS.match(st), 'STATUS=%r, expected "reconnecting '
              'in N.N s: 127.0.0.1: Connection refused"' % st)
        time.sleep(1.0)
        check(not m.find('READY'), 'READY=1 while the server is down')
        check(m.find('WATCHDOG'), 'no WATCHDOG=1 while the server is down %s'
              % m.why())
    finally:
        m.close()


@case('takeover: the old process names the new one (MAINPID=) and goes '
      'quiet; the new one sends READY=1 after that and pets the watchdog')
def t_takeover():
    srv = fs.FakeServer(DOMAIN, SECRET)
    m = Manager(srv.port, extra='control = { path = "%s"; };\n'
                % os.path.join(TMPDIR, 'ctl.sock'))
    new = None
    try:
        conn = srv.accept(5.0)
        check(conn is not None, 'no connection %s' % m.why())
        conn.handshake()
        old = m.proc.pid
        check(m.wait(lambda f: 'READY' in f) is not None, 'no READY %s'
              % m.why())
        t_usr2 = time.monotonic()
        os.kill(old, signal.SIGUSR2)
        r = m.wait(lambda f: 'MAINPID' in f, since=t_usr2)
        check(r is not None, 'no MAINPID= after SIGUSR2 %s' % m.why())
        t_main, f = r
        new = int(f['MAINPID'])
        SUCCESSORS.append(new)
        check(new != old, 'MAINPID names the old process')
        check(f.get('_pid') == old, 'MAINPID= came from pid %r, not from '
              'the old main process %d' % (f.get('_pid'), old))
        try:
            rc = m.proc.wait(5.0)
        except subprocess.TimeoutExpired:
            rc = None
        check(rc == 0, 'the old process exited %r %s' % (rc, m.why()))
        r = m.wait(lambda f: 'READY' in f and f.get('_pid') == new,
                   since=t_usr2)
        check(r is not None, 'no READY=1 from the new process %s' % m.why())
        check(r[0] >= t_main, 'READY=1 from the new process came before '
              'MAINPID= named it (systemd would drop it)')
        time.sleep(1.5)
        pets = [f for _, f in m.find('WATCHDOG', since=r[0])]
        check(len(pets) >= 2 and all(f.get('_pid') == new for f in pets),
              'WATCHDOG=1 after the takeover: %r' % pets)
        late = [f for t, f in m.msgs if t > t_main and f.get('_pid') == old]
        check(not late, 'the old process spoke after MAINPID=: %r' % late)
        check(not m.find('STOPPING'), 'STOPPING=1 during a takeover')
        check(srv.accepted == 1, 'the component reconnected')
    finally:
        harness.kill_pids([new] if new is not None else [])
        m.close()
        srv.close()


@case('server.connect = "all": READY at the first link up, STATUS names '
      'the link, no STOPPING while another link is up; STOPPING on SIGTERM')
def t_all_links():
    a = fs.FakeServer(DOMAIN, SECRET)
    b = fs.FakeServer(DOMAIN, SECRET)
    m = Manager(a.port, server='connect = "all"; hosts = ( "127.0.0.1:%d", '
                '"127.0.0.1:%d" );' % (a.port, b.port))
    try:
        ca = a.accept(5.0)
        cb = b.accept(5.0)
        check(ca is not None and cb is not None, 'not two links %s' % m.why())
        # The second server accepts first: READY then, naming it.
        cb.handshake()
        r = m.wait(lambda f: 'READY' in f)
        check(r is not None, 'no READY=1 at the first link up %s' % m.why())
        want = '127.0.0.1:%d: connected to 127.0.0.1:%d' % (b.port, b.port)
        check(want in r[1].get('STATUS', ''), 'READY came with STATUS=%r, '
              'expected it to contain %r' % (r[1].get('STATUS'), want))
        t_ready = r[0]
        ca.handshake()
        check(m.wait(status_has('127.0.0.1:%d: connected to' % a.port),
                     since=t_ready) is not None,
              'no STATUS for the second link up %s' % m.why())
        a.close()
        check(m.wait(status_has('127.0.0.1:%d: reconnecting in' % a.port))
              is not None, 'no STATUS for the link that went down %s'
              % m.why())
        check(len(m.find('READY')) == 1, 'READY=1 more than once')
        check(not m.find('STOPPING'), 'STOPPING=1 while a link is up')
        os.kill(m.proc.pid, signal.SIGTERM)
        check(m.wait(lambda f: 'STOPPING' in f) is not None,
              'no STOPPING=1 on SIGTERM %s' % m.why())
    finally:
        m.close()
        a.close()
        b.close()


def main():
    if os.environ.get('OPE_HAVE_SYSTEMD') == 'no':
        print('1..0 # SKIP ope-component was built without libsystemd '
              '(configure found no libsystemd-dev): install it and reconfigure')
        return 0
    return harness.run_cases()


if __name__ == '__main__':
    sys.exit(main())
