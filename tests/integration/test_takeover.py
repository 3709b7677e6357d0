#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""test_takeover.py: takeover restarts (SIGUSR2, --takeover): the stream moves
to a new process, nothing lost; control socket peers.

The real ope-component against the fake XEP-0114 server (fakeserver.py),
with the helpers of itest.py. Prints TAP for automake's driver (see
harness.run_cases); exits 1 if any case failed.
"""

import os
import re
import shutil
import signal
import socket
import struct
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True  # the source tree is read-only under distcheck
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fakeserver as fs  # noqa: E402
import itest  # noqa: E402
from harness import SUCCESSORS, Component, case, check  # noqa: E402
from itest import (DOMAIN, NS_ERR, REPLY_TIMEOUT, SECRET, TMPDIR, USER,  # noqa: E402
                   check_example_reply, free_port, iq, make_certs, message,
                   new_id, recv_unroute, round_trip, scrape, server_tls,
                   start_connected, write_config)


# ---------------------------------------------------------------------------
# Takeover restart (SIGUSR2, --takeover): the stream moves to a new process

def control_extra(name):
    return 'control = { path = "%s"; };\n' % os.path.join(TMPDIR, name)


def successor_pid(comp, count=1, timeout=10.0):
    """The pid in the COUNT-th "handed the link over to pid N" line."""
    check(comp.wait_log('handed the link over to pid', timeout, count),
          'no "handed the link over" line %s' % comp.why())
    with comp.cv:
        lines = [l for _, l in comp.lines if 'handed the link over to pid' in l]
    pid = int(re.search(r'to pid (\d+)', lines[count - 1]).group(1))
    SUCCESSORS.append(pid)
    return pid


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie until the test's reaper (or init) collects it.
    with open('/proc/%d/stat' % pid) as f:
        return f.read().rsplit(')', 1)[1].split()[0] != 'Z'


def wait_gone(pid, timeout=5.0):
    deadline = time.monotonic() + timeout
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    return not pid_alive(pid)


@case('takeover: SIGUSR2 twice under load: the same stream goes on, nothing lost')
def t_takeover():
    srv, comp, conn = start_connected(extra=control_extra('tk1.sock'))
    try:
        check(comp.wait_log('listening for a takeover on'),
              'no control socket line %s' % comp.why())
        check(comp.wait_log('connected to'), 'not connected %s' % comp.why())
        sent = []
        stop = threading.Event()

        def load():
            n = 0
            while not stop.is_set():
                id_ = 'tk-%d' % n
                conn.send(message(id_))
                sent.append(id_)
                n += 1
                time.sleep(0.002)
        th = threading.Thread(target=load, daemon=True)
        th.start()
        try:
            time.sleep(0.3)
            os.kill(comp.proc.pid, signal.SIGUSR2)
            first = successor_pid(comp)
            check(comp.wait_exit(5.0) == 0, 'the old process did not exit 0 '
                  'after handing over %s' % comp.why())
            check(comp.wait_log('took over the link to 127.0.0.1:%d from '
                                'pid %d' % (srv.port, comp.proc.pid)),
                  'no "took over" line from the new process %s' % comp.why())
            time.sleep(0.3)
            # The successor starts its own successor: a chain of upgrades.
            os.kill(first, signal.SIGUSR2)
            second = successor_pid(comp, 2)
            check(wait_gone(first), 'the first successor did not exit')
            time.sleep(0.3)
        finally:
            stop.set()
            th.join(5.0)
        replies = conn.recv_stanzas(len(sent), 20.0)
        got = [r.get('id') for r in replies]
        check(sorted(got) == sorted(sent), '%d requests sent, %d answered; '
              'missing %s' % (len(sent), len(got),
                              sorted(set(sent) - set(got))[:5]))
        check(len(set(got)) == len(got), 'duplicate replies')
        for r in replies[:3] + replies[-3:]:
            check_example_reply(r, r.get('id'))
        check(srv.accepted == 1 and srv.accept(0.5) is None,
              'ope-component reconnected (%d connections)' % srv.accepted)
        check(not conn.eof and not conn.stream_closed,
              'the stream was closed during the takeover')
        check(pid_alive(second), 'the second successor is not running')
        round_trip(conn, comp, 'after two takeovers')
        check(comp.count('malformed') == 0 and comp.count('lost') == 0,
              'a loss was logged %s' % comp.why())
    finally:
        comp.stop()
        srv.close()


@case('takeover: a stanza split across the hold is finished by the old process, the bytes after it go to the new one')
def t_takeover_split():
    srv, comp, conn = start_connected(extra=control_extra('tk2.sock'))
    try:
        check(comp.wait_log('connected to'), 'not connected %s' % comp.why())
        a, b, c = message('split-a'), message('split-b'), message('split-c')
        conn.send(a + b[:25])
        check_example_reply(conn.recv_stanza(REPLY_TIMEOUT), 'split-a')
        os.kill(comp.proc.pid, signal.SIGUSR2)
        check(comp.wait_log('takeover requested by pid'),
              'no request line %s' % comp.why())
        time.sleep(0.3)
        check(comp.count('handed the link over') == 0,
              'handed over in the middle of a stanza')
        conn.send(b[25:] + c[:40])
        time.sleep(0.1)
        conn.send(c[40:])
        successor_pid(comp)
        got = sorted(r.get('id') for r in conn.recv_stanzas(2, 10.0))
        check(got == ['split-b', 'split-c'], 'replies %r' % got)
        check(comp.wait_log('took over the link'), 'no "took over" line')
        with comp.cv:
            left = [l for _, l in comp.lines if 'took over the link' in l]
        check(re.search(r'\((\d+) bytes left over\)', left[0]) and
              int(re.search(r'\((\d+) bytes left over\)', left[0]).group(1))
              == 40, 'expected the 40 bytes read after the boundary to be '
              'handed over: %s' % left[0])
        check(srv.accepted == 1, 'reconnected')
        round_trip(conn, comp, 'after the takeover')
    finally:
        comp.stop()
        srv.close()


@case('takeover: refused for a direct TLS link; the old process serves on')
def t_takeover_tls():
    d = make_certs()
    srv, comp, conn = start_connected(
        tls=server_tls(d, 'server'),
        server_extra='  tls = { mode = "direct"; ca_file = "%s"; };\n'
        % os.path.join(d, 'ca.pem'), extra=control_extra('tk3.sock'))
    other = None
    try:
        check(comp.wait_log('connected to'), 'not connected %s' % comp.why())
        # SIGUSR2 cannot restart in place: it re-reads the config instead.
        os.kill(comp.proc.pid, signal.SIGUSR2)
        check(comp.wait_log('configuration reloaded'), 'no reload %s'
              % comp.why())
        check(comp.count('no takeover restart: its link is direct TLS') == 1,
              'SIGUSR2 does not say why %s' % comp.why())
        # By hand: refused with the reason, exit 4.
        other = Component(comp.config, args=['--takeover'])
        check(other.wait_exit(10.0) == 4, 'exit %r, expected 4 %s'
              % (other.proc.poll(), other.why()))
        check(other.count('takeover refused') == 1 and
              other.count('TLS session cannot move') == 1,
              'the refusal does not say why %s' % other.why())
        check(comp.alive(), 'the old process died')
        round_trip(conn, comp, 'after the refused takeover')
        check(srv.accepted == 1, 'reconnected')
    finally:
        if other is not None:
            other.stop()
        comp.stop()
        srv.close()


@case('takeover: a new process that cannot start or reach the old one changes nothing')
def t_takeover_fails():
    sock = os.path.join(TMPDIR, 'tk4.sock')
    mport = free_port()
    srv, comp, conn = start_connected(
        extra=control_extra('tk4.sock')
        + 'metrics = { listen = "127.0.0.1:%d"; };\n' % mport)
    other = None
    try:
        check(comp.wait_log('connected to'), 'not connected %s' % comp.why())
        # By hand, at a socket nobody listens on: exit 4, clear line.
        other = Component(comp.config, args=['--takeover=%s.none' % sock])
        check(other.wait_exit(10.0) == 4, 'exit %r, expected 4 %s'
              % (other.proc.poll(), other.why()))
        check(other.count('takeover failed: cannot reach') == 1,
              'unclear failure %s' % other.why())
        # A config broken in place: the successor exits 2, the old goes on.
        with open(comp.config, 'a') as f:
            f.write('nonsense = ;\n')
        os.kill(comp.proc.pid, signal.SIGUSR2)
        check(comp.wait_log('exited with status 2'),
              'no failure line for the broken successor %s' % comp.why())
        check(comp.count('carrying on') >= 1, 'no "carrying on" %s'
              % comp.why())
        round_trip(conn, comp, 'after the failed takeover')
        check(comp.alive() and srv.accepted == 1, 'the old link suffered')
        # A successor for another domain gives the link back: the server
        # accepted the stream for this one.
        other_cfg = comp.config + '.other'
        with open(comp.config) as f:
            text = f.read().replace('nonsense = ;\n', '')
        fd = os.open(other_cfg, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, 'w') as f:
            f.write(text.replace('domain = "%s"' % DOMAIN,
                                 'domain = "other.localhost"'))
        other = Component(other_cfg, args=['--takeover=%s' % sock])
        check(other.wait_exit(10.0) == 4, 'exit %r for another domain, '
              'expected 4 %s' % (other.proc.poll(), other.why()))
        check(other.count('serves %s and this configuration says '
                          'component.domain = "other.localhost"' % DOMAIN)
              == 1, 'unclear refusal %s' % other.why())
        check(comp.wait_log('gave the link back'), 'the old process did not '
              'notice %s' % comp.why())
        round_trip(conn, comp, 'after a successor for another domain')
        check(comp.alive() and srv.accepted == 1, 'the old link suffered')
        # The old process counted both failures, each once: the broken
        # successor it started, and the link given back.
        after, _ = scrape(mport)
        got = {r: after.get('ope_takeover_failures_total{reason="%s"}' % r)
               for r in ('spawn', 'refused', 'handover')}
        check(got == {'spawn': 1, 'refused': 0, 'handover': 1},
              'ope_takeover_failures_total: %r' % got)
    finally:
        if other is not None:
            other.stop()
        comp.stop()
        srv.close()


@case('takeover: with no link up, the new process connects by itself')
def t_takeover_no_link():
    srv = fs.FakeServer(DOMAIN, SECRET)
    comp = Component(write_config(srv.port, initial='5', maximum='5',
                                  extra=control_extra('tk5.sock')))
    other = None
    try:
        conn = srv.accept(REPLY_TIMEOUT)
        check(conn is not None, 'no connection %s' % comp.why())
        conn.handshake()
        check(comp.wait_log('connected to'), 'not connected %s' % comp.why())
        conn.close()
        check(comp.wait_log('reconnecting to'), 'no back-off %s' % comp.why())
        other = Component(comp.config, args=['--takeover'])
        check(comp.wait_exit(5.0) == 0, 'the old process did not exit 0 %s'
              % comp.why())
        check(comp.count('no link was up') == 1, 'no "no link was up" line '
              '%s' % comp.why())
        check(other.wait_log('which had no link up: connecting'),
              'no line from the new process %s' % other.why())
        conn = srv.accept(REPLY_TIMEOUT)
        check(conn is not None, 'the new process did not connect at once %s'
              % other.why())
        conn.handshake()
        check(other.wait_log('connected to'), 'not connected %s'
              % other.why())
        round_trip(conn, other, 'after taking over no link')
    finally:
        if other is not None:
            other.stop()
        comp.stop()
        srv.close()


@case('SIGTERM: forged answers to the unroute IQ (a user\'s from) do not end the wait for the server\'s')
def t_sigterm_drain_forged():
    srv, comp, conn = start_connected(extra='drain = { quiet = 0.2; };\n')
    try:
        check(comp.wait_log('connected to'), 'not connected %s' % comp.why())
        os.kill(comp.proc.pid, signal.SIGTERM)
        iq = recv_unroute(conn)
        # A user answers with the right id (the server stamps the user's
        # from), and with the id of the old scheme from the server.
        conn.send("<iq type='result' id='%s' from='%s' to='%s'/>"
                  % (iq.get('id'), USER, DOMAIN))
        conn.send("<iq type='error' id='%s' from='%s' to='%s'><error "
                  "type='cancel'><service-unavailable xmlns='%s'/></error>"
                  "</iq>" % (iq.get('id'), USER, DOMAIN, NS_ERR))
        conn.send("<iq type='result' id='drain-1' from='localhost' to='%s'/>"
                  % DOMAIN)
        # Only drain.answer running out ends the wait: the fallback.
        check(comp.wait_log('no answer to the drain request within'),
              'no fallback after forged answers only %s' % comp.why())
        check(comp.count('drained:') == 0 and
              comp.count('answered the drain request with an error') == 0,
              'a forged answer ended the drain %s' % comp.why())
        conn.wait_for(lambda: conn.stream_closed, 5.0)
        conn.send('</stream:stream>')
        check(comp.wait_exit(5.0) == 0, 'exit %r %s'
              % (comp.proc.poll(), comp.why()))
    finally:
        comp.stop()
        srv.close()


# The other ends of a control socket, as other processes (tests below).
REQUEST = b'OPE-TAKEOVER 1\n'
NOBODY = 65534
WIRE = struct.Struct('=9I')  # handover.c's struct wire

def ask_for_link(sock):
    """Ask the process on SOCK for its link: what came back."""
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(30)
    s.connect(sock)
    try:
        s.sendall(REQUEST)
        data, fds, _, _ = socket.recv_fds(s, 65536, 4)
    except OSError:  # closed on us: a broken pipe or a reset
        return 'bytes=0 fds=0'
    return 'bytes=%d fds=%d' % (len(data), len(fds))


def listen_for_asker(sock, ready):
    """Listen on SOCK, call READY(), and say what the one client sent
    before hanging up."""
    lsock = socket.socket(socket.AF_UNIX)
    lsock.bind(sock)
    lsock.listen(1)
    ready()
    lsock.settimeout(60)
    c, _ = lsock.accept()
    c.settimeout(30)
    got = b''
    try:
        while True:
            b = c.recv(4096)
            if not b:
                break
            got += b
    except OSError:
        pass
    return 'bytes=%d' % len(got)


class Nobody:
    """FN(*ARGS, ready) run in a child process as uid/gid 65534 (root
    only); what it returns is its output. A fork, not an exec: no
    interpreter path has to be reachable for that user."""

    def __init__(self, fn, *args):
        r, w = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            os.close(r)
            signal.alarm(90)  # never outlives the test for long
            try:
                os.setgroups([])
                os.setgid(NOBODY)
                os.setuid(NOBODY)
                out = fn(*args, lambda: os.write(w, b'ready\n'))
                os.write(w, out.encode() + b'\n')
            finally:
                os._exit(0)
        os.close(w)
        self.pipe = os.fdopen(r)

    def wait_ready(self):
        return self.pipe.readline().strip() == 'ready'

    def output(self):
        """Its result (it has generous time-outs of its own)."""
        out = self.pipe.readline().strip()
        self.stop()
        return out

    def stop(self):
        if self.pid > 0:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            os.waitpid(self.pid, 0)
            self.pid = -1
            self.pipe.close()


def need_root():
    if os.geteuid() != 0:
        print('# skipped: only root can act as another user here (the '
              'unit test test_handover.c covers it with another uid)')
        return False
    return True


@case('takeover: a control client of another uid is refused, named in the log; the link serves on')
def t_takeover_other_uid():
    if not need_root():
        return
    # Reachable for anyone, as a careless mode or directory would make it:
    # the peer's uid must still keep the link.
    d = tempfile.mkdtemp(prefix='ope-ctl-')
    sock = os.path.join(d, 'control.sock')
    srv, comp, conn = start_connected(
        extra='control = { path = "%s"; };\n' % sock)
    try:
        check(comp.wait_log('listening for a takeover on'),
              'no control socket %s' % comp.why())
        check(comp.wait_log('connected to'), 'not connected %s' % comp.why())
        os.chmod(d, 0o711)
        os.chmod(sock, 0o666)
        asker = Nobody(lambda path, ready: ask_for_link(path), sock)
        pid = asker.pid
        out = asker.output()
        check(out == 'bytes=0 fds=0', 'uid %d got an answer: %s %s'
              % (NOBODY, out, comp.why()))
        check(comp.wait_log('refused a client running as uid %d (pid %d)'
                            % (NOBODY, pid)),
              'no log line naming uid and pid %s' % comp.why())
        check(comp.count('takeover requested') == 0 and
              comp.count('handed the link over') == 0, 'it held or handed '
              'over the link %s' % comp.why())
        round_trip(conn, comp, 'after the refused client')
        check(comp.alive() and srv.accepted == 1, 'the link suffered')
    finally:
        comp.stop()
        srv.close()
        shutil.rmtree(d, ignore_errors=True)


@case('takeover: the new process does not ask a control socket of another uid')
def t_takeover_other_uid_listener():
    if not need_root():
        return
    d = tempfile.mkdtemp(prefix='ope-ctl-')
    os.chown(d, NOBODY, NOBODY)
    sock = os.path.join(d, 'control.sock')
    srv = fs.FakeServer(DOMAIN, SECRET)
    other = fake = None
    try:
        fake = Nobody(listen_for_asker, sock)
        check(fake.wait_ready(), 'the fake old process did not listen')
        other = Component(write_config(srv.port),
                          args=['--takeover=%s' % sock])
        check(other.wait_exit(20.0) == 4, 'exit %r, expected 4 %s'
              % (other.proc.poll(), other.why()))
        check(other.count('is uid %d (pid %d)' % (NOBODY, fake.pid)) == 1,
              'no line naming the listener\'s uid and pid %s' % other.why())
        out = fake.output()
        check(out == 'bytes=0', 'the listener of uid %d was asked: %s'
              % (NOBODY, out))
        check(srv.accepted == 0, 'it connected to the server')
    finally:
        if other is not None:
            other.stop()
        if fake is not None:
            fake.stop()
        srv.close()
        shutil.rmtree(d, ignore_errors=True)


def control_client(comp, sock):
    """A control connection of ours, once the component listens."""
    check(comp.wait_log('listening for a takeover on'),
          'no control socket %s' % comp.why())
    c = socket.socket(socket.AF_UNIX)
    c.settimeout(REPLY_TIMEOUT)
    c.connect(sock)
    return c


def still_open(c):
    """True while the other end has not closed C (nothing to read yet)."""
    c.setblocking(False)
    try:
        return c.recv(1) != b''
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        c.settimeout(REPLY_TIMEOUT)


@case('takeover: a control client that sends nothing does not delay answers; it is given up with a log line')
def t_takeover_silent_client():
    sock = os.path.join(TMPDIR, 'tk6.sock')
    srv, comp, conn = start_connected(extra=control_extra('tk6.sock'))
    c = None
    try:
        check(comp.wait_log('connected to'), 'not connected %s' % comp.why())
        c = control_client(comp, sock)
        # Requests are answered while the silent client is still there:
        # nothing waits for it.
        for _ in range(3):
            round_trip(conn, comp, 'with a silent control client')
        check(still_open(c), 'the silent client was dropped before the '
              'requests were answered: its wait held them up %s'
              % comp.why())
        check(comp.wait_log('sent no takeover request within', 20.0),
              'the silent client was never given up %s' % comp.why())
        check(c.recv(1) == b'', 'not closed after giving up')
        round_trip(conn, comp, 'after giving up the silent client')
        check(comp.alive() and srv.accepted == 1, 'the link suffered')
    finally:
        if c is not None:
            c.close()
        comp.stop()
        srv.close()


@case('takeover: a new process that never answers is given up, told the old one keeps the link, and nothing is lost')
def t_takeover_no_answer():
    sock = os.path.join(TMPDIR, 'tk7.sock')
    srv, comp, conn = start_connected(extra=control_extra('tk7.sock'))
    c = None
    try:
        check(comp.wait_log('connected to'), 'not connected %s' % comp.why())
        c = control_client(comp, sock)
        c.sendall(REQUEST)
        head, fds, _, _ = socket.recv_fds(c, WIRE.size, 1)
        for fd in fds:
            os.close(fd)  # ours is a copy: the stream stays the old one's
        check(len(head) == WIRE.size and len(fds) == 1,
              'no link frame: %r, %d fds %s' % (head, len(fds), comp.why()))
        rest = sum(WIRE.unpack(head)[4:])
        # Requests while the link waits in our hands: held, not lost.
        ids = [new_id() for _ in range(5)]
        for id_ in ids:
            conn.send(message(id_))
        check(comp.wait_log('did not answer within', 20.0),
              'no give-up line %s' % comp.why())
        got = b''
        c.settimeout(REPLY_TIMEOUT)
        while True:
            b = c.recv(4096)
            if not b:
                break
            got += b
        # From version 3 on the instance name follows, its length first.
        n = (struct.unpack('=I', got[rest:rest + 4])[0]
             if len(got) >= rest + 4 else -1)
        check(0 < n <= 64 and len(got) == rest + 4 + n + 1
              and got[-1:] == b'K',
              'not told that the old process keeps the link: %r' % got[-8:])
        replies = conn.recv_stanzas(len(ids), 10.0)
        check(sorted(r.get('id') for r in replies) == sorted(ids),
              'requests lost while the link was held: %s %s'
              % ([r.get('id') for r in replies], comp.why()))
        round_trip(conn, comp, 'after the silent new process')
        check(comp.alive() and srv.accepted == 1, 'the link suffered')
    finally:
        if c is not None:
            c.close()
        comp.stop()
        srv.close()


@case('second SIGTERM during the drain -> close at once')
def t_sigterm_twice():
    srv, comp, conn = start_connected(
        extra='drain = { answer = 5.0; maximum = 20.0; };\n')
    try:
        check(comp.wait_log('connected to'), 'not connected %s' % comp.why())
        os.kill(comp.proc.pid, signal.SIGTERM)
        recv_unroute(conn)
        check(not conn.stream_closed, 'closed before the second signal')
        t = time.monotonic()
        os.kill(comp.proc.pid, signal.SIGTERM)
        conn.wait_for(lambda: conn.stream_closed, 3.0)
        check(conn.stream_closed and time.monotonic() - t < 1.0,
              'not closed within 1 s of the second SIGTERM %s' % comp.why())
        conn.send('</stream:stream>')
        rc = comp.wait_exit(5.0)
        check(rc == 0, 'exit %r %s' % (rc, comp.why()))
    finally:
        comp.stop()
        srv.close()


if __name__ == '__main__':
    sys.exit(itest.main())
