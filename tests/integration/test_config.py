#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""test_config.py: --check-config and SIGHUP reloads.

The real ope-component against the fake XEP-0114 server (fakeserver.py),
with the helpers of itest.py. Prints TAP for automake's driver (see
harness.run_cases); exits 1 if any case failed.
"""

import os
import signal
import subprocess
import sys

sys.dont_write_bytecode = True  # the source tree is read-only under distcheck
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import itest  # noqa: E402
from harness import COMPONENT, case, check  # noqa: E402
from itest import (NS_DISCO_INFO, REPLY_TIMEOUT, SERVICE_NAME,  # noqa: E402
                   check_example_reply, config_text, iq, message, new_id,
                   start_connected, write_config)


def run_check_config(text):
    path = write_config(0, text=text)
    p = subprocess.run([COMPONENT, '-c', path, '--check-config'],
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=10)
    return path, p.returncode, p.stderr.decode('utf-8', 'replace')


@case('--check-config: good -> 0, bad -> 2 with FILE:LINE:')
def t_check_config():
    good = config_text(5347, initial='1.0', maximum='60.0')
    _, rc, err = run_check_config(good)
    check(rc == 0, 'good config: exit %d, stderr %r' % (rc, err))
    # A syntax error on line 3 and an out-of-range value on line 4.
    bad_syntax = good.replace('host = "127.0.0.1";', 'host = ;')
    bad_value = good.replace('port = 5347;', 'port = 70000;')
    for what, text, line in (('syntax error', bad_syntax, 3),
                             ('port out of range', bad_value, 4)):
        path, rc, err = run_check_config(text)
        check(rc == 2, '%s: exit %d, expected 2; stderr %r' % (what, rc, err))
        check('%s:%d:' % (path, line) in err, '%s: stderr lacks "%s:%d:": %r'
              % (what, path, line, err))


@case('SIGHUP: a valid config is swapped in, a broken one is refused')
def t_sighup():
    srv, comp, conn = start_connected()
    try:
        check(comp.wait_log('connected to'), 'not connected %s' % comp.why())
        with open(comp.config) as f:
            text = f.read()
        renamed = text.replace('name = "%s"' % SERVICE_NAME, 'name = "renamed"')
        check(renamed != text, 'test config has no service name to change')
        with open(comp.config, 'w') as f:
            f.write(renamed)
        os.kill(comp.proc.pid, signal.SIGHUP)
        check(comp.wait_log('configuration reloaded'),
              'no "configuration reloaded" line %s' % comp.why())
        id_ = new_id()
        conn.send(iq(id_, 'get', "<query xmlns='%s'/>" % NS_DISCO_INFO))
        r = conn.recv_stanza(REPLY_TIMEOUT)
        check(r is not None, 'no disco#info reply after reload %s' % comp.why())
        names = [i.get('name') for i in r.iter('{%s}identity' % NS_DISCO_INFO)]
        check(names == ['renamed'], 'identity names after reload: %r' % names)
        with open(comp.config, 'w') as f:
            f.write(renamed + 'bogus = 1;\n')
        os.kill(comp.proc.pid, signal.SIGHUP)
        check(comp.wait_log('reload failed'),
              'no "reload failed" line %s' % comp.why())
        check(':%d: unknown setting' % (renamed.count('\n') + 1)
              in comp.stderr(), 'reload error lacks FILE:LINE: %s' % comp.tail())
        id_ = new_id()
        conn.send(message(id_))
        check_example_reply(conn.recv_stanza(REPLY_TIMEOUT), id_)
        check(comp.alive(), 'component died on a bad reload %s' % comp.why())
    finally:
        comp.stop()
        srv.close()


if __name__ == '__main__':
    sys.exit(itest.main())
