#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""test_metrics.py: metrics.listen: /metrics counts a known load, health
follows the link, misconfigurations.

The real ope-component against the fake XEP-0114 server (fakeserver.py),
with the helpers of itest.py. Prints TAP for automake's driver (see
harness.run_cases); exits 1 if any case failed.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # the source tree is read-only under distcheck
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fakeserver as fs  # noqa: E402
import itest  # noqa: E402
from harness import COMPONENT, Component, case, check  # noqa: E402
from itest import (DOMAIN, NS_PING, REPLY_TIMEOUT, SECRET, free_port, http_get,  # noqa: E402
                   iq, message, presence, scrape, show, write_config)


def ask_health(config):
    p = subprocess.run([COMPONENT, '--health', '-c', config],
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=10)
    return (p.returncode, p.stdout.decode('utf-8', 'replace').strip(),
            p.stderr.decode('utf-8', 'replace').strip())


def metrics_config(port, mport):
    return write_config(port, extra='metrics = { listen = "127.0.0.1:%d"; };\n'
                        % mport)


def start_with_metrics():
    srv = fs.FakeServer(DOMAIN, SECRET)
    mport = free_port()
    comp = Component(metrics_config(srv.port, mport))
    conn = srv.accept(REPLY_TIMEOUT)
    check(conn is not None, 'no connection %s' % comp.why())
    conn.handshake()
    check(comp.wait_log('connected to'), 'not connected %s' % comp.why())
    check(comp.count('serving metrics on http://127.0.0.1:%d/metrics'
                     % mport) == 1, 'no "serving metrics" line %s'
          % comp.why())
    return srv, comp, conn, mport


METRICS_RUN = {}


@case('metrics: counters equal a known load; promtool accepts /metrics')
def t_metrics_counts():
    srv, comp, conn, mport = start_with_metrics()
    METRICS_RUN.update(srv=srv, comp=comp, conn=conn, mport=mport)
    before, _ = scrape(mport)
    check(before['ope_stanzas_received_total{kind="message"}'] == 0,
          'counts before any stanza: %r' % before)
    check(before['ope_link_up{link="failover"}'] == 1 and
          before['ope_link_handshakes_total{link="failover"}'] == 1,
          'link not up in /metrics: %r' % before)
    load = (
        [message('mx-%d' % i) for i in range(300)]                      # answered
        + [iq('iu-%d' % i, 'get', "<query xmlns='urn:unknown'/>")
           for i in range(20)]                                          # service-unavailable
        + [iq('', 'get', "<ping xmlns='%s'/>" % NS_PING)
           for i in range(10)]                                          # bad-request (no id)
        + [presence('probe') for i in range(5)]                         # answered
        + [message('me-%d' % i, mtype='error') for i in range(7)]       # ignored
        + [iq('ir-%d' % i, 'result', '') for i in range(6)]             # ignored
        + [fs.prosody_xml('message', {'to': DOMAIN, 'id': 'nf-%d' % i},
                          '<body>x</body>') for i in range(3)]          # dropped: no from
        + [message('ft-%d' % i, to='other.localhost') for i in range(4)]  # dropped
        # Stanzas are handled in order and counted before the reply is
        # queued: once this one's reply is back, all of the above count.
        + [message('sentinel')]
    )
    conn.send(''.join(load))
    answered = 301 + 20 + 10 + 5
    got = conn.recv_stanzas(answered, 20.0)
    check(len(got) == answered, '%d of %d replies %s'
          % (len(got), answered, comp.why()))
    check(got[-1].get('id') == 'sentinel', 'last reply is not the '
          'sentinel\'s: %s' % show(got[-1]))
    after, text = scrape(mport)
    want = {
        'ope_stanzas_received_total{kind="message"}': 301 + 7 + 3 + 4,
        'ope_stanzas_received_total{kind="iq"}': 20 + 10 + 6,
        'ope_stanzas_received_total{kind="presence"}': 5,
        'ope_stanzas_received_total{kind="other"}': 0,
        'ope_stanzas_answered_total{kind="message"}': 301,
        'ope_stanzas_answered_total{kind="iq"}': 30,
        'ope_stanzas_answered_total{kind="presence"}': 5,
        'ope_stanza_errors_sent_total{condition="service-unavailable",type="cancel"}': 20,
        'ope_stanza_errors_sent_total{condition="bad-request",type="modify"}': 10,
        'ope_stanza_errors_sent_total{condition="policy-violation",type="modify"}': 0,
        'ope_stanza_errors_sent_total{condition="policy-violation",type="wait"}': 0,
        'ope_stanzas_dropped_total{reason="no_from"}': 3,
        'ope_stanzas_dropped_total{reason="not_our_domain"}': 4,
        'ope_stanzas_dropped_total{reason="bad_from"}': 0,
        'ope_request_duration_seconds_count': answered,
        'ope_request_duration_seconds_bucket{le="+Inf"}': answered,
        'ope_link_up{link="failover"}': 1,
        'ope_reconnects_total{link="failover"}': 0,
        # limits.output_queue's default: the template sets none.
        'ope_output_queue_limit_bytes{link="failover"}': 4194304,
        'ope_takeover_failures_total{reason="spawn"}': 0,
        'ope_drains_total{result="quiet"}': 0,
    }
    wrong = {k: (after.get(k), v) for k, v in want.items()
             if after.get(k) != v}
    check(not wrong, 'counters (got, want): %r' % wrong)
    check(0 < after['ope_request_duration_seconds_sum'] < answered,
          'latency sum %r' % after['ope_request_duration_seconds_sum'])
    check(after['ope_link_last_handshake_timestamp_seconds{link="failover"}'] > time.time() - 60,
          'last handshake time %r'
          % after['ope_link_last_handshake_timestamp_seconds{link="failover"}'])
    promtool = shutil.which('promtool')
    check(promtool is not None, 'promtool not found: install Debian\'s '
          'prometheus package (bash tests/deps.sh)')
    p = subprocess.run([promtool, 'check', 'metrics'], input=text.encode(),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=30)
    check(p.returncode == 0 and not p.stdout.strip(),
          'promtool check metrics: exit %d: %s'
          % (p.returncode, p.stdout.decode('utf-8', 'replace')))


@case('health: 503 while the server is down, 200 after the reconnect; '
      '--health exits 1 / 0')
def t_metrics_health():
    srv, comp, conn = (METRICS_RUN.get(k) for k in ('srv', 'comp', 'conn'))
    mport = METRICS_RUN.get('mport')
    check(comp is not None, 'the metrics case did not start a component')
    try:
        port = srv.port
        # Which links are up, by name, with their last state.
        ok = 'ok; 1 of 1 link up: failover: connected to 127.0.0.1:%d as %s' % (port, DOMAIN)
        status, body, _ = http_get(mport, '/health')
        check((status, body) == (200, ok + '\n'), '/health while up: %d %r'
              % (status, body))
        rc, out, err = ask_health(comp.config)
        check((rc, out) == (0, ok), '--health while up: exit %d, %r %r'
              % (rc, out, err))
        srv.close()
        check(comp.wait_log('connection to 127.0.0.1:%d lost' % port),
              'no "connection lost" line %s' % comp.why())
        status, body, _ = http_get(mport, '/health')
        check(status == 503 and re.match(
            r'^link down: (reconnecting in \d+\.\d s: [^\n]+'
            r'|connecting to 127\.0\.0\.1:%d)\n$' % port, body),
            '/health while down: %d %r' % (status, body))
        rc, out, err = ask_health(comp.config)
        check(rc == 1 and err.startswith('unhealthy: link down: ')
              and '\n' not in err,
              '--health while down: exit %d, %r %r' % (rc, out, err))
        srv.listen(port)
        conn = srv.accept(5.0)
        check(conn is not None, 'no reconnection %s' % comp.why())
        conn.handshake()
        check(comp.wait_log('connected to 127.0.0.1:%d' % port, count=2),
              'no second "connected to" line %s' % comp.why())
        status, body, _ = http_get(mport, '/health')
        check((status, body) == (200, ok + '\n'), '/health after reconnect: '
              '%d %r' % (status, body))
        rc, out, err = ask_health(comp.config)
        check((rc, out) == (0, ok), '--health after reconnect: exit %d, '
              '%r %r' % (rc, out, err))
        samples, _ = scrape(mport)
        check(samples['ope_reconnects_total{link="failover"}'] >= 1 and
              samples['ope_link_handshakes_total{link="failover"}'] == 2 and
              samples['ope_link_up{link="failover"}'] == 1, 'link counters after reconnect: '
              'reconnects %r, handshakes %r, up %r'
              % (samples['ope_reconnects_total{link="failover"}'],
                 samples['ope_link_handshakes_total{link="failover"}'],
                 samples['ope_link_up{link="failover"}']))
        status, _, _ = http_get(mport, '/nonexistent')
        check(status == 404, '/nonexistent answered %d' % status)
        os.kill(comp.proc.pid, signal.SIGTERM)
        # Unanswered unroute IQ (1 s) and close (3 s grace).
        rc = comp.wait_exit(7.0)
        check(rc == 0, 'exit %r after SIGTERM %s' % (rc, comp.why()))
        rc, out, err = ask_health(comp.config)
        check(rc == 1 and 'cannot ask http://127.0.0.1:%d/health' % mport
              in err, '--health with the daemon gone: exit %d, %r' % (rc, err))
    finally:
        comp.stop()
        srv.close()


@case('--health without metrics.listen, and a busy metrics port')
def t_metrics_misconfigured():
    config = write_config(5347)
    rc, out, err = ask_health(config)
    check(rc == 1 and 'sets no metrics.listen' in err,
          '--health without metrics.listen: exit %d, %r' % (rc, err))
    import socket
    with socket.socket() as busy:
        busy.bind(('127.0.0.1', 0))
        busy.listen(1)
        comp = Component(metrics_config(5347, busy.getsockname()[1]))
        try:
            rc = comp.wait_exit(5.0)
            check(rc == 2, 'busy metrics port: exit %r, expected 2 %s'
                  % (rc, comp.why()))
            check('Address already in use' in comp.stderr(),
                  'busy metrics port not explained: %s' % comp.tail())
        finally:
            comp.stop()


if __name__ == '__main__':
    sys.exit(itest.main())
