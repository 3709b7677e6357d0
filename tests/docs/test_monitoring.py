#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""test_monitoring.py: the Prometheus rules and the Grafana dashboard in
contrib/ name only metrics, labels and label values that ope-component's
/metrics really exports, and promtool accepts and unit-tests the rules.

Starts $OPE_BUILDDIR/ope-component (or $OPE_COMPONENT) with metrics.listen
on a free loopback port against the integration tests' fake server, scrapes
/metrics once the link is up and collects every sample's name (so a
histogram's _bucket, _sum and _count) with its labels and their values.
Then, in contrib/prometheus/ope-rules.yml, its unit tests and
contrib/grafana/ope-dashboard.json, every name starting with ope_ must be
one of those, and every matcher `label="value"` (or `=~"a|b"`) on it must
name an exported label and values it takes, and /metrics prints each
series once.

Prints TAP for automake's driver; exits 1 if any case failed. The
component and the fake server are stopped on the way out.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.dont_write_bytecode = True  # the source tree is read-only under distcheck
SRCDIR = os.environ.get('OPE_SRCDIR',
                        os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                     '..', '..'))
sys.path.insert(0, os.path.join(SRCDIR, 'tests', 'integration'))
import fakeserver as fs  # noqa: E402
import harness  # noqa: E402
from harness import COMPONENT, PROCS  # noqa: E402

RULES = os.path.join(SRCDIR, 'contrib', 'prometheus', 'ope-rules.yml')
RULE_TESTS = os.path.join(SRCDIR, 'contrib', 'prometheus', 'ope-rules.test.yml')
DASHBOARD = os.path.join(SRCDIR, 'contrib', 'grafana', 'ope-dashboard.json')

DOMAIN = 'ope.localhost'
SECRET = 'Sekr1t-xyzzy-4242'
WAIT = 30.0  # generous: the wait ends as soon as the event happens

# Labels Prometheus adds to every series of a target.
TARGET_LABELS = {'instance', 'job'}

RESULTS = []  # (ok, description)


def result(ok, desc):
    RESULTS.append((ok, desc))


# ---------------------------------------------------------------------------
# What /metrics exports

def free_port():
    import socket
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def get(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        return r.status, r.read().decode('utf-8')


def scrape_running_component():
    """Start the component against the fake server; /metrics's text once
    the link is up, or raise with the component's log."""
    srv = fs.FakeServer(DOMAIN, SECRET)
    mport = free_port()
    config = os.path.join(harness.TMPDIR, 'ope-component.conf')
    fd = os.open(config, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, 'w') as f:
        f.write('server = { host = "127.0.0.1"; port = %d; };\n'
                'component = { domain = "%s"; secret = "%s"; };\n'
                'metrics = { listen = "127.0.0.1:%d"; };\n'
                % (srv.port, DOMAIN, SECRET, mport))
    log_path = os.path.join(harness.TMPDIR, 'ope-component.log')
    log = open(log_path, 'w')
    proc = subprocess.Popen([COMPONENT, '-c', config], stdin=subprocess.DEVNULL,
                            stdout=log, stderr=log)
    PROCS.append(proc)

    def why():
        with open(log_path) as f:
            return '; log: ' + f.read()[-2000:]
    try:
        conn = srv.accept(WAIT)
        if conn is None:
            raise RuntimeError('ope-component did not connect' + why())
        conn.handshake(timeout=WAIT)
        deadline = time.monotonic() + WAIT
        text = ''
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError('ope-component exited with %d' % proc.returncode
                                   + why())
            try:
                status, text = get('http://127.0.0.1:%d/metrics' % mport)
            except OSError:
                status = 0
            if status == 200 and re.search(r'^ope_link_up\{link="[^"]*"\} 1$', text, re.M):
                return text
            time.sleep(0.05)  # polling for an event, bounded by WAIT
        raise RuntimeError('no /metrics with ope_link_up 1 within %.0f s' % WAIT
                           + why())
    finally:
        srv.close()


SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+\S+$')
MATCHER = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"')


def exported(text):
    """{name: {label: set of values}} of the samples, the families (# TYPE
    lines) and the series printed more than once."""
    names, families, seen, dups = {}, set(), set(), []
    for line in text.splitlines():
        if line.startswith('# TYPE '):
            families.add(line.split()[2])
        if not line or line.startswith('#'):
            continue
        m = SAMPLE.match(line)
        if m is None:
            raise RuntimeError('not a sample line: %r' % line)
        name, labels = m.group(1), m.group(2) or ''
        key = name + labels
        if key in seen:
            dups.append(key)
        seen.add(key)
        entry = names.setdefault(name, {})
        for label, _, value in MATCHER.findall(labels):
            entry.setdefault(label, set()).add(value)
    return names, families, dups


# ---------------------------------------------------------------------------
# What the rules and the dashboard use

USE = re.compile(r'(?<![a-zA-Z0-9_:])(ope_[a-zA-Z0-9_]+)\s*(\{[^}]*\})?')


def dashboard_strings(node, key=None):
    """(string, whether it is a query) for every string in the dashboard."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield from dashboard_strings(v, k)
    elif isinstance(node, list):
        for v in node:
            yield from dashboard_strings(v, key)
    elif isinstance(node, str):
        yield node, key in ('expr', 'query', 'definition')


def uses(text, where, out, query=True):
    """Add (name, matchers, QUERY) for each metric named in TEXT to
    OUT[where]. Prose (QUERY false) may name a histogram by its family."""
    for m in USE.finditer(text):
        out.setdefault(where, []).append((m.group(1),
                                          MATCHER.findall(m.group(2) or ''),
                                          query))


def check_use(name, matchers, names):
    """What is wrong with NAME{MATCHERS} given the exported NAMES, or None."""
    if name not in names:
        return None  # reported by the name check
    labels = names[name]
    for label, op, value in matchers:
        if label in TARGET_LABELS:
            continue
        if label not in labels:
            return '%s has no label %s (it has: %s)' % (
                name, label, ', '.join(sorted(labels)) or 'none')
        if op == '=' and value not in labels[label]:
            return '%s{%s="%s"}: no such value (exported: %s)' % (
                name, label, value, ', '.join(sorted(labels[label])))
        if op == '=~':
            # Each alternative of a plain a|b|c must be a value; any other
            # regex must match at least one.
            if re.fullmatch(r'[a-zA-Z0-9_.+-]+(\|[a-zA-Z0-9_.+-]+)*', value):
                missing = [v for v in value.split('|')
                           if v not in labels[label]]
                if missing:
                    return '%s{%s=~"%s"}: %s not exported (exported: %s)' % (
                        name, label, value, ', '.join(missing),
                        ', '.join(sorted(labels[label])))
            elif not any(re.fullmatch(value, v) for v in labels[label]):
                return '%s{%s=~"%s"} matches no exported value' % (
                    name, label, value)
    return None


def promtool(*args):
    path = shutil.which('promtool')
    if path is None:
        return 127, ('promtool not found: install Debian\'s prometheus '
                     'package (bash tests/deps.sh)')
    p = subprocess.run([path] + list(args), stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=120)
    return p.returncode, p.stdout.decode('utf-8', 'replace')


def dashboard_exprs(dash):
    """Every PromQL expression of the dashboard: panel targets, annotations
    and template queries that are not label_values()."""
    exprs = []

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get('expr'), str):
                exprs.append(node['expr'])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
    walk(dash)
    return exprs


def check_dashboard_shape(dash):
    """What is wrong with the dashboard's structure, or None."""
    if not isinstance(dash.get('panels'), list) or not dash['panels']:
        return 'no panels'
    variables = {v.get('name') for v in dash.get('templating', {}).get('list', [])}
    if 'datasource' not in variables:
        return 'no datasource variable: the dashboard would be tied to one Prometheus'
    ids, cells = set(), {}
    for p in dash['panels']:
        title = p.get('title', '?')
        if p.get('id') in ids:
            return 'panel id %r used twice' % p.get('id')
        ids.add(p.get('id'))
        g = p.get('gridPos', {})
        if not all(isinstance(g.get(k), int) for k in 'xywh') or \
                g['x'] < 0 or g['x'] + g['w'] > 24:
            return 'panel %r: gridPos %r outside the 24 columns' % (title, g)
        for x in range(g['x'], g['x'] + g['w']):
            for y in range(g['y'], g['y'] + g['h']):
                if (x, y) in cells:
                    return 'panels %r and %r overlap' % (cells[(x, y)], title)
                cells[(x, y)] = title
        if p.get('type') == 'row':
            continue
        targets = p.get('targets') or []
        if not targets or not all(t.get('expr') for t in targets):
            return 'panel %r has a target without a query' % title
        if p.get('datasource', {}).get('uid') != '${datasource}':
            return 'panel %r does not use the datasource variable' % title
        if not p.get('description'):
            return 'panel %r says nothing about what it shows' % title
    return None


# ---------------------------------------------------------------------------

def main():
    harness.start('ope-monitoring-')
    if not os.access(COMPONENT, os.X_OK):
        print('1..1\nnot ok 1 - ope-component not found at %s (set OPE_BUILDDIR)'
              % COMPONENT)
        return 1

    # 1. The rules and their unit tests, through promtool.
    rc, out = promtool('check', 'rules', RULES)
    result(rc == 0, 'promtool check rules contrib/prometheus/ope-rules.yml'
           + ('' if rc == 0 else ': ' + out.strip().replace('\n', ' | ')))
    rc, out = promtool('test', 'rules', RULE_TESTS)
    result(rc == 0, 'promtool test rules contrib/prometheus/ope-rules.test.yml'
           + ('' if rc == 0 else ': ' + out.strip().replace('\n', ' | ')[:3000]))

    # 2. The dashboard: JSON, its shape, its queries as PromQL.
    try:
        with open(DASHBOARD, encoding='utf-8') as f:
            dash = json.load(f)
        why = None
    except (OSError, ValueError) as e:
        dash, why = {}, 'not valid JSON: %s' % e
    result(why is None, 'contrib/grafana/ope-dashboard.json is valid JSON'
           + ('' if why is None else ': ' + why))
    why = check_dashboard_shape(dash) if dash else 'not loaded'
    result(why is None, 'the dashboard\'s panels: unique ids, within the '
           'grid, no overlap, a query, the datasource variable and a '
           'description each' + ('' if why is None else ': ' + why))
    exprs = dashboard_exprs(dash)
    with tempfile.NamedTemporaryFile('w', suffix='.yml', dir=harness.TMPDIR,
                                     delete=False) as f:
        f.write('groups:\n  - name: dashboard\n    rules:\n')
        for i, e in enumerate(exprs):
            e = e.replace('$__rate_interval', '5m').replace('$instance', '.+')
            f.write('      - record: dashboard_%d\n        expr: %s\n'
                    % (i, json.dumps(e)))
    rc, out = promtool('check', 'rules', f.name)
    result(rc == 0 and len(exprs) > 0, 'the dashboard\'s %d queries are valid '
           'PromQL (promtool check rules)' % len(exprs)
           + ('' if rc == 0 else ': ' + out.strip().replace('\n', ' | ')))

    # 3. Recording rules used are recorded.
    with open(RULES, encoding='utf-8') as f:
        rules_text = f.read()
    with open(RULE_TESTS, encoding='utf-8') as f:
        tests_text = f.read()
    recorded = set(re.findall(r'record:\s*(\S+)', rules_text))
    used = set(re.findall(r'(?<![a-zA-Z0-9_:])(ope:[a-zA-Z0-9_:]+)',
                          rules_text + '\n'.join(exprs)))
    result(used <= recorded, 'every ope:... series used is a recording rule'
           + ('' if used <= recorded else ': not recorded: '
              + ', '.join(sorted(used - recorded))))

    # 4. Against what /metrics exports.
    try:
        text = scrape_running_component()
        names, families, dups = exported(text)
        why = None
    except Exception as e:  # noqa: BLE001 - reported as a failed case
        names, families, dups = {}, set(), []
        why = '%s: %s' % (type(e).__name__, e)
    result(why is None, '/metrics of ope-component with metrics.listen, link '
           'up: %d series names' % len(names) + ('' if why is None else ': ' + why))
    if why is None:
        result(not dups, '/metrics prints each series once'
               + ('' if not dups else ': twice: ' + ', '.join(dups)))

    used_at = {}
    uses(rules_text, 'ope-rules.yml', used_at)
    uses(tests_text, 'ope-rules.test.yml', used_at)
    for s, query in dashboard_strings(dash):
        uses(s, 'ope-dashboard.json', used_at, query)
    if why is None:
        for where in ('ope-rules.yml', 'ope-rules.test.yml', 'ope-dashboard.json'):
            found = used_at.get(where, [])
            unknown = sorted({n for n, _, query in found
                              if n not in names and
                              (query or n not in families)})
            wrong = sorted({w for w in (check_use(n, m, names)
                                        for n, m, _ in found) if w})
            result(found and not unknown and not wrong,
                   '%s names only exported metrics, labels and values (%d uses)'
                   % (where, len(found))
                   + ('' if found else ': no ope_ metric found in it')
                   + ('' if not unknown else ': not exported: '
                      + ', '.join(unknown))
                   + ('' if not wrong else ': ' + '; '.join(wrong)))

    print('1..%d' % len(RESULTS))
    failed = 0
    for n, (ok, desc) in enumerate(RESULTS, 1):
        desc = desc.replace('#', '\\#')
        print('%s %d - %s' % ('ok' if ok else 'not ok', n, desc))
        failed += not ok
    print('# %d passed, %d failed' % (len(RESULTS) - failed, failed))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
