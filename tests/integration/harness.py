# SPDX-License-Identifier: MIT
"""harness.py: what the integration tests share: the binary under test, a
temporary directory, the processes they started (killed by PID on the way
out), check(), the case registry and the TAP runner.

A test calls start('ope-NAME-') first, registers its cases with @case(...)
and ends with sys.exit(run_cases(...)).
"""

import atexit
import os
import shutil
import signal
import sys
import tempfile

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
    """Run the registered cases (those whose name contains ONLY, if set),
    printing TAP; AFTER_EACH() runs after a case that passed and may fail
    it. Returns the exit status."""
    if not os.access(COMPONENT, os.X_OK):
        print('1..1')
        print('not ok 1 - ope-component not found at %s (set OPE_BUILDDIR)'
              % COMPONENT)
        print('# 0 passed, 1 failed')
        return 1
    print('1..%d' % len(CASES), flush=True)
    passed = failed = 0
    for n, (name, fn) in enumerate(CASES, 1):
        if only and only not in name:
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
