#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""test_adhoc.py: XEP-0050 ad-hoc commands of the real ope-component, over a
fake XEP-0114 server: admins only (disco#items and execution), status,
reload (what changed, FILE:LINE when refused), who, forgive, the access
table and rate limits on commands, restart in place (a takeover) and stop
(a drain). Prints TAP like the other test_*.py; every process it starts is
killed by PID on the way out.
"""

import os
import re
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

sys.dont_write_bytecode = True  # the source tree is read-only under distcheck
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fakeserver as fs  # noqa: E402
import harness  # noqa: E402
from harness import SUCCESSORS, Component, case, check  # noqa: E402

NS_C = fs.NS_COMPONENT
NS_ERR = fs.NS_STANZAS_ERR
NS_CMD = 'http://jabber.org/protocol/commands'
NS_DATA = 'jabber:x:data'
NS_DISCO_INFO = 'http://jabber.org/protocol/disco#info'
NS_DISCO_ITEMS = 'http://jabber.org/protocol/disco#items'
DOMAIN = 'ope.localhost'
SECRET = 'adhoc-secret-5521'
ADMIN = 'boss@localhost/desk'
USER = 'alice@localhost/laptop'
TIMEOUT = 5.0
COMMANDS = ['status', 'reload', 'restart', 'stop', 'who', 'forgive']
TMPDIR = harness.start('ope-adhoc-')

BASE = '''server = { host = "127.0.0.1"; port = %(port)d; };
component = { domain = "%(domain)s"; secret = "%(secret)s"; };
log = { level = "info"; timestamps = false; };
reconnect = { initial = 0.1; maximum = 0.4; };
drain = { answer = 0.2; };
commands = { admins = ( %(admins)s ); };
'''

_seq = [0]


def write_config(port, extra='', admins='"BOSS@localhost"'):
    _seq[0] += 1
    path = os.path.join(TMPDIR, 'ope-%d.conf' % _seq[0])
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'w') as f:
        f.write(BASE % dict(port=port, domain=DOMAIN, secret=SECRET,
                            admins=admins) + extra)
    return path


def start(extra='', admins='"BOSS@localhost"'):
    srv = fs.FakeServer(DOMAIN, SECRET)
    comp = Component(write_config(srv.port, extra, admins))
    conn = srv.accept(TIMEOUT)
    check(conn is not None, 'no connection %s' % comp.why())
    conn.handshake()
    check(comp.wait_log('connected to'), 'not connected %s' % comp.why())
    return srv, comp, conn


_ids = [0]


def new_id():
    _ids[0] += 1
    return 'c-%d' % _ids[0]


def command(conn, node, frm=ADMIN, fields=None, action=None, password=None):
    """Send NODE's execute (with FIELDS as a submitted form); the reply."""
    id_ = new_id()
    form = ''
    if fields:
        form = "<x xmlns='%s' type='submit'>%s</x>" % (NS_DATA, ''.join(
            "<field var='%s'><value>%s</value></field>" % (k, fs.xml_escape(v))
            for k, v in fields.items()))
    attrs = [('xmlns', NS_CMD), ('node', node)]
    if action:
        attrs.append(('action', action))
    if password:
        attrs.append(('password', password))
    conn.send(fs.prosody_xml('iq', {'from': frm, 'to': DOMAIN, 'id': id_,
                                    'type': 'set'},
                             fs.prosody_xml('command', attrs, form, lang=None)))
    r = conn.recv_stanza(TIMEOUT)
    check(r is not None, 'no answer to command %s' % node)
    check(r.get('id') == id_ and r.get('to') == frm,
          'answer not addressed back: %s' % ET.tostring(r, 'unicode'))
    return r


def cmd_of(r):
    c = r.find('{%s}command' % NS_CMD)
    check(c is not None and r.get('type') == 'result',
          'not a command result: %s' % ET.tostring(r, 'unicode'))
    return c


def fields_of(c):
    x = c.find('{%s}x' % NS_DATA)
    check(x is not None, 'no data form: %s' % ET.tostring(c, 'unicode'))
    return {f.get('var'): (f.findtext('{%s}value' % NS_DATA) or '')
            for f in x.findall('{%s}field' % NS_DATA)}


def error_of(r):
    e = r.find('{%s}error' % NS_C)
    check(r.get('type') == 'error' and e is not None,
          'not an error: %s' % ET.tostring(r, 'unicode'))
    return [k.tag.split('}')[1] for k in e if k.tag.startswith('{%s}' % NS_ERR)
            and not k.tag.endswith('}text')][0]


def disco(conn, frm, ns, node=None):
    id_ = new_id()
    attrs = [('xmlns', ns)] + ([('node', node)] if node else [])
    conn.send(fs.prosody_xml('iq', {'from': frm, 'to': DOMAIN, 'id': id_,
                                    'type': 'get'},
                             fs.prosody_xml('query', attrs, '', lang=None)))
    r = conn.recv_stanza(TIMEOUT)
    check(r is not None and r.get('type') == 'result',
          'no disco result: %s' % (r is not None and ET.tostring(r, 'unicode')))
    return r


@case('disco: the commands feature; items for the admin only; a non-admin '
      'is forbidden and logged, an admin use is logged with the JID')
def t_disco_and_forbidden():
    srv, comp, conn = start()
    try:
        r = disco(conn, USER, NS_DISCO_INFO)
        feats = [f.get('var') for f in r.iter('{%s}feature' % NS_DISCO_INFO)]
        check(NS_CMD in feats, 'no commands feature: %r' % feats)
        r = disco(conn, ADMIN, NS_DISCO_ITEMS, NS_CMD)
        nodes = [i.get('node') for i in r.iter('{%s}item' % NS_DISCO_ITEMS)]
        check(nodes == COMMANDS, 'admin sees %r' % nodes)
        check(all(i.get('jid') == DOMAIN
                  for i in r.iter('{%s}item' % NS_DISCO_ITEMS)), 'item jid')
        r = disco(conn, USER, NS_DISCO_ITEMS, NS_CMD)
        check(list(r.iter('{%s}item' % NS_DISCO_ITEMS)) == [],
              'a non-admin sees items')
        for node in COMMANDS:
            check(error_of(command(conn, node, frm=USER)) == 'forbidden',
                  '%s not forbidden to a non-admin' % node)
        check(comp.wait_log('alice@localhost/laptop, not an admin'),
              'refusal not logged %s' % comp.why())
        cmd_of(command(conn, 'status'))
        check(comp.wait_log('admin boss@localhost/desk ran status'),
              'use not logged with the JID %s' % comp.why())
        check(comp.proc.poll() is None, 'died %s' % comp.why())
    finally:
        comp.stop()
        srv.close()


@case('status: version, pid, uptime, the link, counters, queue')
def t_status():
    srv, comp, conn = start()
    try:
        f = fields_of(cmd_of(command(conn, 'status')))
        check(f['pid'] == str(comp.proc.pid), 'pid %r' % f)
        check(f['instance'].endswith('-%d' % comp.proc.pid), 'instance %r'
              % f)
        check(f['link'] == 'up' and f['link_server'] == '127.0.0.1:%d'
              % srv.port and f['link_tls'] == 'none', 'link %r' % f)
        check(int(f['link_up']) >= 0 and int(f['uptime']) >= 0, 'times %r' % f)
        check(f['domain'] == DOMAIN and re.match(r'\d', f['version']),
              'identity %r' % f)
        check(f['requests'] == '1' and f['refused'] == '0', 'counters %r' % f)
        command(conn, 'status', frm=USER)
        f = fields_of(cmd_of(command(conn, 'status')))
        check(f['requests'] == '3' and f['refused'] == '1', 'counters %r' % f)
        check(f['queue_bytes'].isdigit() and f['password_checks'] == '0',
              'queues %r' % f)
    finally:
        comp.stop()
        srv.close()


@case('reload: says what changed; a broken file is refused with FILE:LINE '
      'and the running configuration kept')
def t_reload():
    srv, comp, conn = start()
    try:
        with open(comp.config) as fp:
            text = fp.read()
        with open(comp.config, 'w') as fp:
            fp.write(text.replace('level = "info"', 'level = "warning"')
                     .replace('port = %d' % srv.port, 'port = 1'))
        c = cmd_of(command(conn, 'reload'))
        f = fields_of(c)
        check(c.get('status') == 'completed' and f['result'] == 'ok',
              'reload %r' % f)
        check('changed: log.level' in f['detail'] and
              'after a restart only: server.port' in f['detail'],
              'detail %r' % f['detail'])
        note = c.find('{%s}note' % NS_CMD)
        check(note is not None and note.get('type') == 'info', 'note')
        with open(comp.config, 'w') as fp:
            fp.write(text + 'bogus = 1;\n')
        c = cmd_of(command(conn, 'reload'))
        f = fields_of(c)
        line = text.count('\n') + 1
        check(f['result'] == 'failed' and '%s:%d:' % (comp.config, line)
              in f['detail'], 'refused reload %r' % f)
        check(c.find('{%s}note' % NS_CMD).get('type') == 'error', 'note')
        # Still served, still an admin.
        cmd_of(command(conn, 'status'))
    finally:
        comp.stop()
        srv.close()


ACCESS = '''access = {
  default = "deny";
  rules = (
    { match = "mallory@localhost"; action = "deny"; },
    { match = "*@localhost"; action = "allow"; }
  );
};
limits = { sender = { rate = 0.001; burst = 4; }; };
'''
OPS = 'ops@localhost/shell'


@case('who and forgive; the access table and rate limits apply to commands')
def t_who_forgive_limits():
    srv, comp, conn = start(ACCESS, '"boss@localhost", "ops@localhost", '
                            '"mallory@localhost"')
    try:
        with open(comp.config) as fp:
            lines = fp.read().split('\n')
        at = dict((w, '%s:%d' % (comp.config, n + 1))
                  for n, l in enumerate(lines)
                  for w in ('mallory@', '*@') if '"%s' % w in l)
        r = command(conn, 'who')
        c = cmd_of(r)
        check(c.get('status') == 'executing' and
              c.find('{%s}x' % NS_DATA).get('type') == 'form',
              'who without a JID does not ask: %s' % ET.tostring(r, 'unicode'))
        f = fields_of(cmd_of(command(conn, 'who',
                                     fields={'jid': 'Carol@LocalHost/x'})))
        check(f['jid'] == 'carol@localhost' and f['action'] == 'allow' and
              f['rule'] == at['*@'] and f['password'] == 'false',
              'who carol %r' % f)
        f = fields_of(cmd_of(command(conn, 'who',
                                     fields={'jid': 'mallory@localhost'})))
        check(f['rule'] == at['mallory@'] and f['action'] == 'deny' and
              f['admin'] == 'true', 'who mallory %r' % f)
        f = fields_of(cmd_of(command(conn, 'who',
                                     fields={'jid': 'x@elsewhere'})))
        check(f['rule'] == 'access.default' and f['action'] == 'deny',
              'who x@elsewhere %r' % f)
        # burst 4: the fifth request is refused, even for an admin.
        check(error_of(command(conn, 'status')) == 'policy-violation',
              'no rate limit on commands')
        # An admin the access table denies gets nothing either.
        check(error_of(command(conn, 'status', frm='mallory@localhost/m'))
              == 'forbidden', 'the access table does not apply')
        f = fields_of(cmd_of(command(conn, 'forgive', frm=OPS,
                                     fields={'jid': 'boss@localhost'})))
        check(f['forgiven'] == 'true', 'forgive boss %r' % f)
        check(comp.wait_log('boss@localhost is forgiven'), 'not logged')
        cmd_of(command(conn, 'status'))
        f = fields_of(cmd_of(command(conn, 'forgive', frm=OPS,
                                     fields={'jid': 'nobody@localhost'})))
        check(f['forgiven'] == 'false', 'forgive nobody %r' % f)
    finally:
        comp.stop()
        srv.close()


@case('stop: answered, then drained and stopped as SIGTERM (exit 0)')
def t_stop():
    srv, comp, conn = start()
    try:
        c = cmd_of(command(conn, 'stop'))
        check(c.get('status') == 'completed' and
              fields_of(c)['result'] == 'ok', 'stop %s' % ET.tostring(c, 'unicode'))
        check(comp.wait_log('shutting down'), 'no shutdown %s' % comp.why())
        check(conn.wait_closed(TIMEOUT + 3), 'stream not closed %s' % comp.why())
        try:
            rc = comp.proc.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            rc = None
        check(rc == 0, 'exit status %r %s' % (rc, comp.why()))
    finally:
        comp.stop()
        srv.close()


def command_stanza(node, frm=ADMIN):
    """An execute of NODE from FRM, as bytes, and its id."""
    id_ = new_id()
    return id_, fs.prosody_xml('iq', {'from': frm, 'to': DOMAIN, 'id': id_,
                                      'type': 'set'},
                               fs.prosody_xml('command', [('xmlns', NS_CMD),
                                                          ('node', node)],
                                              '', lang=None))


@case('a command whose action waits ends with its stream: reload and the '
      'server\'s close in one read -> the next stream starts with its header')
def t_action_and_close():
    srv, comp, conn = start()
    try:
        _, xml = command_stanza('reload')
        conn.send(xml + '</stream:stream>')
        conn.close()
        nxt = srv.accept(TIMEOUT + 3)
        check(nxt is not None, 'no reconnect %s' % comp.why())
        # The component speaks first on a new stream: its header.
        check(nxt.wait_for(lambda: b'>' in bytes(nxt.raw), TIMEOUT),
              'nothing on the new stream %s' % comp.why())
        head = bytes(nxt.raw).lstrip()
        check(head.startswith(b'<?xml') or head.startswith(b'<stream:stream'),
              'the new stream does not start with its header: %r' % head[:80])
        nxt.handshake()
        check(comp.wait_log('connected to'), 'not connected %s' % comp.why())
        # The slot is free again: a new command is served.
        c = cmd_of(command(nxt, 'status'))
        check(c.get('status') == 'completed', 'status after the reconnect')
    finally:
        comp.stop()
        srv.close()


@case('a reload that drops its admin is still answered; stop during a drain '
      'is answered and closes at once, as a second SIGTERM')
def t_reload_self_and_stop_twice():
    srv, comp, conn = start()
    try:
        with open(comp.config) as f:
            text = f.read()
        # The reload drops the admin who asks for it: answered all the same.
        with open(comp.config, 'w') as f:
            f.write(text.replace('"BOSS@localhost"', '"other@localhost"'))
        c = cmd_of(command(conn, 'reload'))
        check(c.get('status') == 'completed', 'reload answered %s'
              % ET.tostring(c, 'unicode'))
        # Back to the admin, and a drain that waits a minute for the
        # server's answer (the fake server gives none).
        with open(comp.config, 'w') as f:
            f.write(text.replace('answer = 0.2', 'answer = 60.0'))
        os.kill(comp.proc.pid, signal.SIGHUP)
        check(comp.wait_log('configuration reloaded from %s' % comp.config,
                            TIMEOUT), 'no reload %s' % comp.why())
        os.kill(comp.proc.pid, signal.SIGTERM)
        iq = conn.recv_stanza(TIMEOUT)
        check(iq is not None and iq.get('id', '').startswith('drain-'),
              'no unroute IQ %s' % comp.why())
        c = cmd_of(command(conn, 'stop'))
        check('already stopping' in ET.tostring(c, 'unicode'),
              'second stop: %s' % ET.tostring(c, 'unicode'))
        check(comp.wait_log('closing at once'), 'not closed at once %s'
              % comp.why())
        check(conn.wait_closed(TIMEOUT), 'stream not closed %s' % comp.why())
    finally:
        comp.stop()
        srv.close()


@case('restart: answered "started", the new process takes the same stream '
      'over and answers; without a control socket the answer says why')
def t_restart():
    srv, comp, conn = start('control = { path = "%s"; };\n'
                            % os.path.join(TMPDIR, 'ctl.sock'))
    try:
        f = fields_of(cmd_of(command(conn, 'restart')))
        m = re.search(r'started pid (\d+)', f['detail'])
        check(f['result'] == 'ok' and m, 'restart %r' % f)
        pid = int(m.group(1))
        SUCCESSORS.append(pid)
        check(comp.wait_log('handed the link over to pid %d' % pid, 10.0),
              'no handover %s' % comp.why())
        try:
            rc = comp.proc.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            rc = None
        check(rc == 0, 'old process: exit %r' % rc)
        f = fields_of(cmd_of(command(conn, 'status')))
        check(f['pid'] == str(pid), 'status from pid %s, not %d' % (f['pid'], pid))
        check(srv.accepted == 1, 'reconnected instead of a takeover')
    finally:
        comp.stop()
        harness.kill_pids(SUCCESSORS)
        srv.close()
    srv, comp, conn = start()
    try:
        f = fields_of(cmd_of(command(conn, 'restart')))
        check(f['result'] == 'failed' and 'no takeover restart' in f['detail']
              and 'no control socket' in f['detail'],
              'restart without a control socket %r' % f)
        check(comp.proc.poll() is None, 'died %s' % comp.why())
    finally:
        comp.stop()
        srv.close()


def main():
    return harness.run_cases(None, os.environ.get('OPE_TEST_ONLY'))


if __name__ == '__main__':
    sys.exit(main())
