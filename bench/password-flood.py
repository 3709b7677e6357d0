#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""password-flood.py: a second user's latency with and without a flood of
wrong service passwords from many senders against one rule.

Plays the server (tests/integration/fakeserver.py) for a fresh
ope-component whose access rule holds a yescrypt hash. Each phase lasts
SECONDS: the user (admin@localhost, a rule without a password) sends one
request every INTERVAL ms and waits for its reply; in the flood phase every request
of the user goes out in one write behind FLOOD wrong guesses, each from
another account (the per-sender limits never apply). Prints, per phase,
the user's requests and p50/p99/max latency (send to reply), and how the
guesses were answered. Exits 1 if any user request is not answered with a
result.

Usage: bench/password-flood.py [-c OPE_COMPONENT] [-s SECONDS] [-f FLOOD]
       [-i INTERVAL]
(default: ./ope-component, or $OPE_COMPONENT; 10 s; 5 guesses a request;
20 ms: 50 requests and 250 guesses a second).
Pass an older ope-component with -c to compare (one that hashes on its
event loop)."""

import argparse
import os
import sys
import tempfile
import time
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'tests', 'integration'))
import fakeserver as fs  # noqa: E402

DOMAIN = 'ope.localhost'
SECRET = 's3cret'
NS_EX = 'https://example.net/our_extension'
# "pw-right", yescrypt with mkpasswd's default cost (about 0.1 s a check).
Y_HASH = ('$y$j9T$GiNHUxm0jXu2WVQ0UsTEm1$'
          'Thq2MdZbNr2xsJhUFWrCt0doBbqXLr5DhuoejvDg8N7')
CONFIG = '''server = { host = "127.0.0.1"; port = %d; };
component = { domain = "%s"; secret = "%s"; };
log = { level = "warning"; };
limits = { sender = { rate = 1000000.0; burst = 1000000; };
           total = { rate = 1000000.0; burst = 1000000; }; };
access = {
  default = "deny";
  rules = (
    { match = "admin@localhost"; action = "allow"; },
    { match = "*@localhost"; action = "allow"; password = "%s"; }
  );
};
'''


def message(id_, frm, password=None):
    pw = " password='%s'" % password if password else ''
    return ("<message from='%s' to='%s' id='%s' xml:lang='en'><example_tag "
            "xmlns='%s' another='a' data='d'%s/></message>"
            % (frm, DOMAIN, id_, NS_EX, pw))


def percentile(sorted_values, p):
    if not sorted_values:
        return 0.0
    i = min(len(sorted_values) - 1, int(round(p / 100.0 * len(sorted_values))))
    return sorted_values[i]


def phase(conn, seconds, flood, interval, seq):
    """One phase; returns (latencies in s, {guess answer: count}, failures)."""
    lat, answers, failures = [], {}, 0
    pending_guesses = set()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        time.sleep(interval)
        data = []
        for _ in range(flood):
            seq[0] += 1
            g = 'g%d' % seq[0]
            pending_guesses.add(g)
            data.append(message(g, 'm%d@localhost/r' % seq[0],
                                'guess%d' % seq[0]))
        seq[0] += 1
        mine = 'u%d' % seq[0]
        data.append(message(mine, 'admin@localhost/x'))
        t0 = time.monotonic()
        conn.send(''.join(data))
        while True:
            r = conn.recv_stanza(60.0)
            if r is None:
                print('no reply to %s within 60 s' % mine, file=sys.stderr)
                return lat, answers, failures + 1
            if r.get('id') == mine:
                lat.append(time.monotonic() - t0)
                failures += r.get('type') != 'result'
                break
            note_guess(r, pending_guesses, answers)
    # The guesses still waiting for their answers.
    while pending_guesses:
        r = conn.recv_stanza(60.0)
        if r is None:
            break
        note_guess(r, pending_guesses, answers)
    return lat, answers, failures


def note_guess(r, pending, answers):
    pending.discard(r.get('id'))
    err = r.find('{jabber:component:accept}error')
    cond = 'result'
    if err is not None and len(err):
        cond = fs.local_name(err[0].tag)
        if err.get('type') == 'wait':
            cond += '/wait'
    answers[cond] = answers.get(cond, 0) + 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('-c', default=os.environ.get('OPE_COMPONENT',
                                                 './ope-component'))
    ap.add_argument('-s', type=float, default=10.0)
    ap.add_argument('-f', type=int, default=5)
    ap.add_argument('-i', type=float, default=20.0)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix='ope-pwflood-')
    srv = fs.FakeServer(DOMAIN, SECRET)
    proc = None
    try:
        import subprocess
        path = os.path.join(tmp, 'c.conf')
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, 'w') as f:
            f.write(CONFIG % (srv.port, DOMAIN, SECRET, Y_HASH))
        proc = subprocess.Popen([a.c, '-c', path], stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL)
        conn = srv.accept(10.0)
        if conn is None:
            print('ope-component did not connect', file=sys.stderr)
            return 1
        conn.handshake(fs.ACCEPT)
        seq = [0]
        bad = 0
        print('%-10s %8s %9s %9s %9s  %s' % ('phase', 'requests', 'p50 ms',
                                             'p99 ms', 'max ms',
                                             'guesses answered'))
        for name, flood in (('quiet', 0), ('flood', a.f)):
            lat, answers, failures = phase(conn, a.s, flood, a.i / 1000.0,
                                           seq)
            bad += failures
            lat.sort()
            print('%-10s %8d %9.3f %9.3f %9.3f  %s' % (
                name, len(lat), percentile(lat, 50) * 1e3,
                percentile(lat, 99) * 1e3, (lat[-1] if lat else 0) * 1e3,
                ', '.join('%s %d' % kv for kv in sorted(answers.items()))
                or '-'))
        return 1 if bad else 0
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        srv.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
