# SPDX-License-Identifier: MIT
"""harness.py: what the integration tests share: the binary under test, a
temporary directory, ope-component as a process whose log can be waited
for (Component), the processes they started (killed by PID on the way
out), check(), the case registry and the TAP runner.

A test calls start('ope-NAME-') first, registers its cases with @case(...)
and ends with sys.exit(run_cases(...)).
"""

import atexit
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

BUILDDIR = os.environ.get('OPE_BUILDDIR', os.getcwd())
COMPONENT = (os.environ.get('OPE_COMPONENT')
             or os.path.join(BUILDDIR, 'ope-component'))

TMPDIR = None
PROCS = []       # subprocess.Popen objects we started
SUCCESSORS = []  # PIDs of processes our ope-components started (takeover)
CASES = []       # (name, function), in registration order


def start(prefix):
    """Make the temporary directory; clean up at exit, also on a signal."""
    global TMPDIR
    TMPDIR = tempfile.mkdtemp(prefix=prefix)
    atexit.register(cleanup)
    # atexit does not run on a signal: turn SIGTERM/SIGHUP into an exit.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda signum, frame: sys.exit(128 + signum))
    return TMPDIR


def kill_pids(pids):
    """SIGKILL each of PIDS that still runs an ope-component of this run
    (a successor ours started; a PID alone may have been reused)."""
    for pid in pids:
        try:
            with open('/proc/%d/cmdline' % pid, 'rb') as f:
                if TMPDIR.encode() not in f.read():
                    continue
            os.kill(pid, signal.SIGKILL)
        except (FileNotFoundError, ProcessLookupError):
            pass


def cleanup():
    for p in PROCS:
        if p.poll() is None:
            try:
                os.kill(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()
    kill_pids(SUCCESSORS)
    if TMPDIR is not None:
        shutil.rmtree(TMPDIR, ignore_errors=True)


class Component:
    """ope-component running on CONFIG (or, when None, on ARGS alone, with
    ENV); its stderr is collected by a thread so the test can wait for log
    lines."""

    def __init__(self, config, args=(), env=None):
        self.config = config
        self.lines = []  # (monotonic time, text)
        self.cv = threading.Condition()
        env = dict(os.environ if env is None else env)
        # An ASan build keeps up to 256 MB of freed memory in quarantine,
        # which would hide whether ope's own memory stays bounded.
        env['ASAN_OPTIONS'] = ('quarantine_size_mb=4:'
                               + env.get('ASAN_OPTIONS', ''))
        argv = [COMPONENT] + (['-c', config] if config else []) + list(args)
        self.proc = subprocess.Popen(argv,
                                     env=env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        PROCS.append(self.proc)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for raw in iter(self.proc.stderr.readline, b''):
            line = raw.decode('utf-8', 'replace').rstrip('\n')
            with self.cv:
                self.lines.append((time.monotonic(), line))
                self.cv.notify_all()
        with self.cv:
            self.cv.notify_all()

    def count(self, substr, since=0.0):
        with self.cv:
            return sum(1 for t, l in self.lines if substr in l and t >= since)

    def wait_log(self, substr, timeout=5.0, count=1):
        """True once COUNT lines containing SUBSTR were logged."""
        deadline = time.monotonic() + timeout
        with self.cv:
            while sum(1 for _, l in self.lines if substr in l) < count:
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None
                                 and not self.reader.is_alive()):
                    return False
                self.cv.wait(min(left, 0.1))
            return True

    def stderr(self):
        with self.cv:
            return '\n'.join(l for _, l in self.lines)

    def tail(self, n=6):
        with self.cv:
            return ' | '.join(l for _, l in self.lines[-n:])

    def wait_exit(self, timeout=5.0):
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
        self.reader.join(2.0)
        return rc

    def alive(self):
        return self.proc.poll() is None

    def cpu(self):
        """User + system CPU seconds used so far (/proc/PID/stat)."""
        with open('/proc/%d/stat' % self.proc.pid) as f:
            fields = f.read().rsplit(')', 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')

    def rss_kib(self):
        """Resident memory now (VmRSS in /proc/PID/status), KiB."""
        with open('/proc/%d/status' % self.proc.pid) as f:
            for line in f:
                if line.startswith('VmRSS:'):
                    return int(line.split()[1])
        return 0

    def why(self):
        rc = self.proc.poll()
        state = ('running' if rc is None else 'exited with status %d' % rc)
        return '(ope-component %s; stderr tail: %s)' % (state, self.tail())

    def successors(self):
        """PIDs of the processes this one started or handed its link to
        (takeover), from its log: they outlive it."""
        pattern = re.compile(r'(?:started \S+ \(pid|handed the link over '
                             r'to pid) (\d+)')
        with self.cv:
            return [int(m.group(1)) for _, l in self.lines
                    for m in [pattern.search(l)] if m]

    def stop(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        # Successors first read the same stderr pipe: stop them too.
        kill_pids(self.successors())
        self.reader.join(2.0)


class Failure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def case(name):
    def register(fn):
        CASES.append((name, fn))
        return fn
    return register


def run_cases(after_each=None, only=None):
    """Run the registered cases (those whose name contains ONLY, by default
    $OPE_TEST_ONLY, if set), printing TAP; AFTER_EACH() runs after a case
    that passed and may fail it. The plan counts every case: one that ONLY
    leaves out is reported "ok N - name # SKIP not selected", so case N
    keeps its number and the plan stays valid. Returns the exit status."""
    if not os.access(COMPONENT, os.X_OK):
        print('1..1')
        print('not ok 1 - ope-component not found at %s (set OPE_BUILDDIR)'
              % COMPONENT)
        print('# 0 passed, 1 failed')
        return 1
    if only is None:
        only = os.environ.get('OPE_TEST_ONLY')
    print('1..%d' % len(CASES), flush=True)
    passed = failed = 0
    for n, (name, fn) in enumerate(CASES, 1):
        if only and only not in name:
            print('ok %d - %s # SKIP not selected' % (n, name), flush=True)
            continue
        try:
            fn()
            if after_each is not None:
                after_each()
        except Failure as e:
            failed += 1
            print('not ok %d - %s: %s' % (n, name, e), flush=True)
        except Exception as e:  # a bug in a case or the fake server
            failed += 1
            print('not ok %d - %s: %s: %s' % (n, name, type(e).__name__, e),
                  flush=True)
        else:
            passed += 1
            print('ok %d - %s' % (n, name), flush=True)
    print('# %d passed, %d failed' % (passed, failed))
    return 1 if failed else 0
