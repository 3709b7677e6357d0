#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""test_envlog.py: ope-component configured by OPE_ variables alone, and
every line of a whole session (connect, requests, a refusal, SIGHUP, stop)
in log.format "json" (each a JSON object with ts, level, pid, msg) and
"text" (each with the usual prefix), against the fake server."""

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fakeserver as fs  # noqa: E402
import harness  # noqa: E402
from harness import COMPONENT, PROCS, case, check, run_cases  # noqa: E402

DOMAIN = 'ope.localhost'
SECRET = 'Env-Sekr1t-77'
NS_EX = 'https://example.net/our_extension'
TIMEOUT = 10.0
TMPDIR = harness.start('ope-envlog-')
TEXT_LINE = re.compile(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z '
                       r'ope-component\[\d+\] (error|warning|info|debug): ')


def secret_file():
    path = os.path.join(TMPDIR, 'secret')
    if not os.path.exists(path):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
        with os.fdopen(fd, 'w') as f:
            f.write(SECRET + '\n')
    return path


def base_env(extra):
    """Our environment without any OPE_ settings variable, plus EXTRA, and
    variables a harness or ope-client may export (left alone)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith('OPE_')}
    env['OPE_TEST_ONLY'] = '1'
    env['OPE_SERVICE_PASSWORD'] = 'ope-client reads this, not us'
    env['OPE_BUILDDIR'] = os.environ.get('OPE_BUILDDIR', os.getcwd())
    env.update(extra)
    return env


def default_path():
    """The file ope-component reads without -c (from --help)."""
    out = subprocess.run([COMPONENT, '--help'], capture_output=True,
                         text=True).stdout
    m = re.search(r'configuration file \(default: ([^;) ]+)', out)
    return m.group(1) if m else None


class Proc:
    """ope-component with ARGS and ENV; its stderr lines collected."""

    def __init__(self, args, env):
        self.lines = []
        self.cv = threading.Condition()
        self.proc = subprocess.Popen([COMPONENT] + args, env=env,
                                     stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        PROCS.append(self.proc)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for raw in iter(self.proc.stderr.readline, b''):
            with self.cv:
                self.lines.append(raw.decode('utf-8', 'replace'))
                self.cv.notify_all()
        with self.cv:
            self.cv.notify_all()

    def wait_log(self, substr, timeout=TIMEOUT):
        deadline = time.monotonic() + timeout
        with self.cv:
            while not any(substr in line for line in self.lines):
                left = deadline - time.monotonic()
                if left <= 0 or not self.reader.is_alive():
                    return False
                self.cv.wait(min(left, 0.2))
            return True

    def wait_exit(self, timeout=TIMEOUT):
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
        self.reader.join(5.0)
        return rc

    def why(self):
        with self.cv:
            return '(stderr: %s)' % ' | '.join(l.rstrip('\n')
                                               for l in self.lines[-6:])


def request(id_, frm):
    ex = fs.prosody_xml('example_tag', [('xmlns', NS_EX), ('another', 'a'),
                                        ('data', 'd')], '', lang=None)
    return fs.prosody_xml('message', {'from': frm, 'to': DOMAIN, 'id': id_,
                                      'type': 'chat'}, ex)


@case('environment alone: no -c, no file, connects and answers')
def t_env_only():
    path = default_path()
    check(path is not None, 'no default path in --help')
    if os.path.exists(path):
        print('# skipped: %s exists on this machine' % path)
        return
    srv = fs.FakeServer(DOMAIN, SECRET)
    env = base_env({
        'OPE_SERVER_HOST': '127.0.0.1',
        'OPE_SERVER_PORT': str(srv.port),
        'OPE_COMPONENT_DOMAIN': DOMAIN,
        'OPE_COMPONENT_SECRET_FILE': secret_file(),
        'OPE_RECONNECT_INITIAL': '0.1',
        'OPE_RECONNECT_MAXIMUM': '0.4',
        'OPE_LIMITS_SENDER_RATE': '1000',
    })
    out = subprocess.run([COMPONENT, '--check-config'], env=env,
                         capture_output=True, text=True, timeout=TIMEOUT)
    check(out.returncode == 0 and 'the environment: configuration OK'
          in out.stdout, '--check-config: %r %r' % (out.stdout, out.stderr))
    p = Proc([], env)
    try:
        conn = srv.accept(TIMEOUT)
        check(conn is not None, 'no connection to 127.0.0.1:%d %s'
              % (srv.port, p.why()))
        check(conn.handshake(), 'the secret from OPE_COMPONENT_SECRET_FILE '
              'was not used')
        conn.send(request('env1', 'alice@localhost/a'))
        r = conn.recv_stanza(TIMEOUT)
        check(r is not None and r.get('id') == 'env1', 'no answer')
        os.kill(p.proc.pid, signal.SIGHUP)
        check(p.wait_log('configuration reloaded from the environment'),
              'SIGHUP did not reload %s' % p.why())
    finally:
        p.proc.kill()
        p.wait_exit()
        srv.close()


@case('environment: a bad value and an unknown variable name the variable')
def t_env_errors():
    env = base_env({'OPE_COMPONENT_DOMAIN': DOMAIN,
                    'OPE_COMPONENT_SECRET_FILE': secret_file(),
                    'OPE_LIMITS_SENDER_RATE': 'abc'})
    cfg = os.path.join(TMPDIR, 'empty.conf')
    open(cfg, 'w').close()
    out = subprocess.run([COMPONENT, '-c', cfg, '--check-config'], env=env,
                         capture_output=True, text=True, timeout=TIMEOUT)
    check(out.returncode == 2 and 'OPE_LIMITS_SENDER_RATE: "abc" is not a '
          'number' in out.stderr, 'got %d %r' % (out.returncode, out.stderr))
    del env['OPE_LIMITS_SENDER_RATE']
    env['OPE_SERVER_PROT'] = '5347'
    out = subprocess.run([COMPONENT, '-c', cfg, '--check-config'], env=env,
                         capture_output=True, text=True, timeout=TIMEOUT)
    check(out.returncode == 2 and 'OPE_SERVER_PROT: unknown setting variable '
          '(did you mean OPE_SERVER_PORT?)' in out.stderr,
          'got %d %r' % (out.returncode, out.stderr))
    del env['OPE_SERVER_PROT']
    env['OPE_COMPONENT_SECRET'] = SECRET
    out = subprocess.run([COMPONENT, '-c', cfg, '--check-config'], env=env,
                         capture_output=True, text=True, timeout=TIMEOUT)
    check(out.returncode == 2 and 'OPE_COMPONENT_SECRET_FILE' in out.stderr
          and SECRET not in out.stderr, 'got %r' % out.stderr)


def session(fmt):
    """Connect, answer, refuse one sender, SIGHUP, stop; every stderr line."""
    srv = fs.FakeServer(DOMAIN, SECRET)
    cfg = os.path.join(TMPDIR, 'session-%s.conf' % fmt)
    with open(cfg, 'w') as f:
        f.write('''server = { host = "127.0.0.1"; port = %d; };
component = { domain = "%s"; secret_file = "%s"; };
log = { format = "%s"; };
reconnect = { initial = 0.1; maximum = 0.4; };
drain = { answer = 0.05; quiet = 0.05; };
access = { default = "allow";
  rules = ( { match = "mallory@localhost"; action = "deny"; } ); };
''' % (srv.port, DOMAIN, secret_file(), fmt))
    p = Proc(['-c', cfg], base_env({}))
    try:
        conn = srv.accept(TIMEOUT)
        check(conn is not None, 'no connection %s' % p.why())
        check(conn.handshake(), 'handshake failed')
        check(p.wait_log('connected to'), 'no "connected" line %s' % p.why())
        for i in range(3):
            conn.send(request('ok%d' % i, 'alice@localhost/a'))
        check(len(conn.recv_stanzas(3, TIMEOUT)) == 3, 'answers missing')
        conn.send(request('no1', 'mallory@localhost/m'))
        check(conn.recv_stanza(TIMEOUT) is not None, 'no refusal')
        check(p.wait_log('mallory@localhost'), 'refusal not logged %s'
              % p.why())
        os.kill(p.proc.pid, signal.SIGHUP)
        check(p.wait_log('configuration reloaded'), 'no reload %s' % p.why())
        os.kill(p.proc.pid, signal.SIGTERM)
        rc = p.wait_exit(TIMEOUT)
        check(rc == 0, 'exit status %r after SIGTERM %s' % (rc, p.why()))
    finally:
        if p.proc.poll() is None:
            p.proc.kill()
            p.wait_exit()
        srv.close()
    with p.cv:
        return list(p.lines)


@case('log.format = "json": every line one object with ts, level, pid, msg')
def t_json_session():
    lines = session('json')
    check(len(lines) >= 5, 'only %d lines' % len(lines))
    objs = []
    for line in lines:
        check(line.endswith('\n'), 'a cut line: %r' % line)
        try:
            obj = json.loads(line)
        except ValueError as e:
            raise harness.Failure('not JSON (%s): %r' % (e, line))
        for key in ('ts', 'level', 'pid', 'msg'):
            check(key in obj, 'no %r in %r' % (key, line))
        check(re.match(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$',
                       obj['ts']), 'ts %r' % obj['ts'])
        check(obj['level'] in ('error', 'warning', 'info', 'debug'),
              'level %r' % obj['level'])
        check(isinstance(obj['pid'], int), 'pid %r' % obj['pid'])
        objs.append(obj)
    refusals = [o for o in objs if o.get('jid') == 'mallory@localhost']
    check(refusals and 'rule' in refusals[0] and
          refusals[0]['rule'].endswith(':7'), 'no refusal with jid and '
          'rule (FILE:LINE): %r' % refusals)
    links = [o for o in objs if o.get('link', '').startswith('127.0.0.1:')]
    check(any(o['msg'].startswith('connected to') for o in links),
          'no "connected" line with a link field')


@case('log.format = "text": every line has the usual prefix')
def t_text_session():
    lines = session('text')
    check(len(lines) >= 5, 'only %d lines' % len(lines))
    for line in lines:
        check(TEXT_LINE.match(line), 'no prefix: %r' % line)
        check('"jid"' not in line, 'fields in text: %r' % line)
    check(any('access:' in l and 'mallory@localhost' in l for l in lines),
          'no refusal line')


sys.exit(run_cases())
