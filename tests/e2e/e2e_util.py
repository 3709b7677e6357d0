# SPDX-License-Identifier: MIT
"""e2e_util.py: small socket/text helpers for the end-to-end shell harness (stdlib only)."""
import ctypes
import html
import os
import selectors
import random
import signal
import socket
import sys
import time

PR_SET_CHILD_SUBREAPER = 36

STREAM_OPEN = ("<?xml version='1.0'?><stream:stream xmlns='{ns}' "
               "xmlns:stream='http://etherx.jabber.org/streams' "
               "to='{to}' version='1.0'>")


def ephemeral_range():
    """The kernel's range for outgoing connections' local ports."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            lo, hi = (int(x) for x in f.read().split())
            return lo, hi
    except (OSError, ValueError):
        return 32768, 60999


def free_ports(count):
    """Print COUNT ports free on 127.0.0.1 right now, chosen at random
    outside the kernel's ephemeral range: a port picked by binding to 0
    comes from that range, and any outgoing connection (a client, a server's
    own) can take it before the server under test binds it (seen as
    eaddrinuse when several e2e tests run at once)."""
    lo, hi = ephemeral_range()
    candidates = [p for p in range(10000, 65000) if not lo <= p <= hi]
    rng = random.SystemRandom()
    chosen, socks = [], []
    try:
        while len(chosen) < count:
            port = rng.choice(candidates)
            if port in chosen:
                continue
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                s.close()
                continue
            socks.append(s)
            chosen.append(port)
        print(" ".join(str(p) for p in chosen))
    finally:
        for s in socks:
            s.close()
    return 0


def stream_answers(port, ns, to):
    """True when 127.0.0.1:PORT answers a stream open with a stream header."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(STREAM_OPEN.format(ns=ns, to=to).encode())
            s.settimeout(1)
            data = b""
            end = time.monotonic() + 2
            while time.monotonic() < end:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
                # A stream header with an id means the server itself answered
                # (a container's port proxy accepts before the server is up).
                if b"stream:stream" in data and b"id=" in data:
                    return True
    except OSError:
        pass
    return False


def wait_stream(port, ns, to, timeout):
    """Poll until PORT answers a stream open; exit 1 after TIMEOUT seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if stream_answers(port, ns, to):
            return 0
        time.sleep(0.1)
    print("no XMPP stream header from 127.0.0.1:%d (%s) within %.0f s"
          % (port, ns, timeout), file=sys.stderr)
    return 1


def contains(path, value):
    """Exit 0 when the file holds VALUE, raw, XML-escaped or C-quoted."""
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    # As printed: raw, XML-escaped (--xml) or C-style quoted (\" and \\).
    unquoted = text.replace('\\"', '"').replace("\\\\", "\\")
    for candidate in (text, html.unescape(text), unquoted):
        if value in candidate:
            return 0
    print("%s: expected to find %r" % (path, value), file=sys.stderr)
    return 1


def relay(listen_port, target_port):
    """Forward every connection to 127.0.0.1:LISTEN_PORT to TARGET_PORT until
    killed (a stand-in for a server that dies). Prints "listening"."""
    lsn = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsn.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsn.bind(("127.0.0.1", listen_port))
    lsn.listen(8)
    sel = selectors.DefaultSelector()
    sel.register(lsn, selectors.EVENT_READ, None)
    print("listening", flush=True)
    while True:
        for key, _ in sel.select():
            if key.data is None:
                a, _ = lsn.accept()
                b = socket.create_connection(("127.0.0.1", target_port))
                sel.register(a, selectors.EVENT_READ, b)
                sel.register(b, selectors.EVENT_READ, a)
                continue
            src, dst = key.fileobj, key.data
            try:
                data = src.recv(65536)
            except OSError:
                data = b""
            if data:
                dst.sendall(data)
                continue
            for s in (src, dst):
                sel.unregister(s)
                s.close()


def reap(status_path, cmd):
    """Run CMD as a child of this process, made a child subreaper: the
    processes CMD leaves behind when it exits (a takeover's successor) are
    reparented here, not to init, so their exit statuses can be seen too.
    Appends "started PID" for CMD, then "exited PID STATUS" or "killed PID
    SIGNAL" for every process reaped, to STATUS_PATH; returns when none is
    left."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        print("reap: prctl(PR_SET_CHILD_SUBREAPER): %s"
              % os.strerror(ctypes.get_errno()), file=sys.stderr)
        return 1
    with open(status_path, "a", buffering=1) as out:
        pid = os.fork()
        if pid == 0:
            # Python ignores SIGPIPE; the program gets the default back.
            signal.signal(signal.SIGPIPE, signal.SIG_DFL)
            try:
                os.execv(cmd[0], cmd)
            except OSError as e:
                print("reap: cannot run %s: %s" % (cmd[0], e), file=sys.stderr)
            os._exit(127)
        out.write("started %d\n" % pid)
        while True:
            try:
                child, status = os.waitpid(-1, 0)
            except ChildProcessError:
                return 0
            if os.WIFEXITED(status):
                out.write("exited %d %d\n" % (child, os.WEXITSTATUS(status)))
            elif os.WIFSIGNALED(status):
                out.write("killed %d %d\n" % (child, os.WTERMSIG(status)))


def main(argv):
    cmd = argv[1] if len(argv) > 1 else ""
    if cmd == "free-ports" and len(argv) == 3:
        return free_ports(int(argv[2]))
    if cmd == "wait-stream" and len(argv) == 6:
        return wait_stream(int(argv[2]), argv[3], argv[4], float(argv[5]))
    if cmd == "contains" and len(argv) == 4:
        return contains(argv[2], argv[3])
    if cmd == "relay" and len(argv) == 4:
        return relay(int(argv[2]), int(argv[3]))
    if cmd == "reap" and len(argv) >= 4:
        return reap(argv[2], argv[3:])
    print("usage: e2e_util.py free-ports N | wait-stream PORT NS TO TIMEOUT"
          " | contains FILE VALUE | relay LISTEN_PORT TARGET_PORT"
          " | reap STATUS_FILE PROGRAM [ARGS...]",
          file=sys.stderr)
    return 64


if __name__ == "__main__":
    sys.exit(main(sys.argv))
