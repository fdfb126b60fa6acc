#!/usr/bin/env python3
"""
dnsbl_bench.py - what "dnsbl" costs a session (issue 9, item 5).

Two private "smtpfe -l" servers (TCP 2615 and 2616) with the same
configuration but for "dnsbl = bl.test" and "dns_resolver" pointing at a
fake resolver on 127.0.0.56:5315 that answers NXDOMAIN at once (the
client is not listed: the goal is that an unlisted session pays nothing).
N sessions from 127.0.0.2 (not a relay client) against each, alternating
rounds so that drift on a shared machine hits both alike (the resolver:
dnsmasq when installed, serving bl.test itself; else the Python fake
resolver of the session tests), for two kinds
of session:

  rcpt  EHLO, MAIL, RCPT, QUIT: the part of a session that DNS touches
  1kb   EHLO, MAIL, RCPT, DATA with a 1 KB message (spooled), QUIT

Measured per session: CPU of the session processes (a fresh -l launcher
per round, stopped with SIGTERM and reaped with wait4(2): its rusage
holds its own time and that of every session child it reaped, to the
microsecond; the resolver and the client are not counted), wall time
from connect to the 221 reply, and the reply time of each command (RCPT
is where a session with dnsbl would wait for DNS).  With --pin the sessions
run on CPU 0 and the client and the resolver on CPU 1, which separates
the session's own cost from that of a resolver sharing its CPU.

Prints a table and the summary keys:
  dnsbl_cpu_ratio=X.XX     CPU per session with dnsbl / without (rcpt kind)
  dnsbl_wall_added_ms=X.XX median wall time added per session (rcpt kind)

usage: SMTPFE=/abs/smtpfe python3 bench/dnsbl_bench.py [-n N] [-r ROUNDS]
           [--resolver dnsmasq|fake] [--pin]
Run as root for the real set-up (chroot, nobody); works unprivileged too.
"""

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "session"))

import harness  # noqa: E402
from fakedns import FakeDNS  # noqa: E402

harness.PORT_FIRST, harness.PORT_LAST = 2615, 2619
harness._next_port = 2615

DNS = ("127.0.0.56", 5315)
CLIENT = "127.0.0.2"
BODY = b"Subject: bench\r\n\r\n" + (b"x" * 70 + b"\r\n") * 14 + b".\r\n"
PHASES = ("greeting", "EHLO", "MAIL", "RCPT", "DATA", "message", "QUIT")


def expect(f, code):
    """Read one reply (multi-line aware); fail unless it starts with CODE."""
    while True:
        line = f.readline()
        if not line:
            raise RuntimeError("connection closed, wanted %s" % code)
        if line[3:4] != b"-":
            break
    if not line.startswith(code):
        raise RuntimeError("got %r, wanted %s" % (line, code))


def session(port, kind):
    """One session; {phase: seconds from the command to its reply}, with
    "greeting" from connect and "wall" the whole."""
    steps = [(None, b"220", "greeting"),
             (b"EHLO bench.example\r\n", b"250", "EHLO"),
             (b"MAIL FROM:<bench@example.net>\r\n", b"250", "MAIL"),
             (b"RCPT TO:<user@example.org>\r\n", b"250", "RCPT")]
    if kind == "1kb":
        steps += [(b"DATA\r\n", b"354", "DATA"), (BODY, b"250", "message")]
    steps.append((b"QUIT\r\n", b"221", "QUIT"))
    out = {}
    t0 = time.monotonic()
    s = socket.socket()
    s.bind((CLIENT, 0))
    s.connect(("127.0.0.1", port))
    f = s.makefile("rb")
    for data, code, name in steps:
        t = time.monotonic() if data is not None else t0
        if data is not None:
            s.sendall(data)
        expect(f, code)
        out[name] = time.monotonic() - t
    out["wall"] = time.monotonic() - t0
    f.close()
    s.close()
    return out


class Dnsmasq:
    """dnsmasq (dnsmasq-base) on DNS: bl.test is local, so NXDOMAIN at once;
    every query logged to count them.  Stopped by its PID."""

    def __init__(self, addr, port):
        self.dir = tempfile.mkdtemp(prefix="smtpfe-dnsbl-bench-")
        self.log = os.path.join(self.dir, "dnsmasq.log")
        args = ["dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null",
                "--no-resolv", "--no-hosts", "--bind-interfaces",
                "--listen-address=%s" % addr, "--port=%d" % port,
                "--pid-file=", "--log-queries", "--log-facility=" + self.log,
                "--local=/bl.test/"]
        if harness.IS_ROOT:
            args += ["--user=nobody", "--group=nogroup"]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        # (inherits this process's CPU affinity: --pin puts it on CPU 1)
        time.sleep(0.3)
        if self.proc.poll() is not None:
            raise RuntimeError("dnsmasq exited at start")

    def queries(self, suffix):
        with open(self.log, errors="replace") as f:
            return [l for l in f if "query[A]" in l and suffix in l]

    def stop(self):
        self.proc.terminate()
        self.proc.wait(5)
        shutil.rmtree(self.dir, ignore_errors=True)


PIN = None      # --pin: (sessions' CPU, everyone else's CPU)


def run(conf, name, kind, n):
    """N sessions against a fresh launcher; (CPU s per session, walls).
    The CPU is the launcher's rusage from wait4(): its own and that of
    every session child it reaped, to the microsecond."""
    srv = harness.Server("bench-dnsbl-%s" % name, conf=conf)
    harness._next_port = harness.PORT_FIRST     # the last one is free again
    srv.start()
    if PIN is not None:
        os.sched_setaffinity(srv.proc.pid, {PIN[0]})
    try:
        time.sleep(0.1)
        walls = [session(srv.port, kind) for _ in range(n)]
        srv.wait_idle()
        time.sleep(0.6)        # the -l loop reaps within its 500 ms poll
        srv.proc.send_signal(signal.SIGTERM)
        _pid, _status, ru = os.wait4(srv.proc.pid, 0)
        srv.proc.returncode = 0
    finally:
        if srv.proc.returncode is None:
            srv.stop()
        srv.cleanup()
    return (ru.ru_utime + ru.ru_stime) / n, walls


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=300, help="sessions per round")
    ap.add_argument("-r", type=int, default=5, help="rounds")
    ap.add_argument("--resolver", choices=("dnsmasq", "fake"),
                    default="dnsmasq" if shutil.which("dnsmasq") else "fake",
                    help="dnsmasq (default when installed) or the Python "
                    "fake resolver of the session tests")
    ap.add_argument("--pin", action="store_true",
                    help="sessions on CPU 0; this client and the resolver on "
                    "CPU 1, so that the resolver's work never runs on the "
                    "session's CPU")
    args = ap.parse_args()
    global PIN
    harness.smtpfe_path()
    if args.pin:
        PIN = (0, 1)
        os.sched_setaffinity(0, {1})
    if args.resolver == "dnsmasq":
        dns = Dnsmasq(*DNS)
    else:
        dns = FakeDNS(*DNS).start()
    common = {"relay_networks": "127.0.0.1/32", "timeout": "30",
              "max_message_size": "100000"}
    confs = {"off": dict(common),
             "on": dict(common, dnsbl="bl.test",
                        dns_resolver="%s:%d" % DNS)}
    results = {}
    try:
        for kind in ("rcpt", "1kb"):
            for r in range(args.r):
                for name in ("off", "on") if r % 2 == 0 else ("on", "off"):
                    cpu, walls = run(confs[name], name, kind, args.n)
                    d = results.setdefault((kind, name),
                                           {"cpu": [], "wall": [],
                                            "phases": []})
                    d["cpu"].append(cpu)
                    d["wall"].extend(w["wall"] for w in walls)
                    d["phases"].extend(walls)
        nq = len(dns.queries("bl.test"))
    finally:
        dns.stop()
    want = args.n * args.r * 2
    print("dnsbl cost per session: %d sessions x %d rounds per kind and "
          "setting, client %s (not listed: NXDOMAIN at once from %s on "
          "loopback), %s%s" % (args.n, args.r, CLIENT, args.resolver,
                               "as root (chroot, nobody)" if harness.IS_ROOT
                               else "unprivileged",
                               "; sessions pinned to CPU 0, client and "
                               "resolver to CPU 1" if args.pin else ""))
    print("resolver queries: %d (want %d: one per session with dnsbl)"
          % (nq, want))
    print()
    print("| session | dnsbl | CPU ms/session (median of rounds) | "
          "wall ms median | wall ms p90 |")
    print("|---|---|---|---|---|")
    summary = {}
    for kind in ("rcpt", "1kb"):
        for name in ("off", "on"):
            d = results[(kind, name)]
            cpu = statistics.median(d["cpu"]) * 1000
            w = sorted(d["wall"])
            med = statistics.median(w) * 1000
            p90 = w[int(len(w) * 0.9)] * 1000
            summary[(kind, name)] = (cpu, med)
            print("| %s | %s | %.3f (%s) | %.3f | %.3f |"
                  % (kind, name, cpu, ", ".join("%.3f" % (c * 1000)
                                                for c in d["cpu"]), med, p90))
    print()
    print("Reply times, ms, median (from sending the command, or from "
          "connect for the greeting):")
    print()
    print("| session | dnsbl | %s |" % " | ".join(PHASES))
    print("|---|---|%s" % ("---|" * len(PHASES)))
    for kind in ("rcpt", "1kb"):
        for name in ("off", "on"):
            ph = results[(kind, name)]["phases"]
            print("| %s | %s | %s |" % (kind, name, " | ".join(
                "%.3f" % (statistics.median(p[x] for p in ph) * 1000)
                if x in ph[0] else "-" for x in PHASES)))
    print()
    for kind in ("rcpt", "1kb"):
        ratio = summary[(kind, "on")][0] / summary[(kind, "off")][0]
        added = summary[(kind, "on")][1] - summary[(kind, "off")][1]
        print("%s: CPU ratio on/off %.3f, wall time added %.3f ms (median)"
              % (kind, ratio, added))
    print()
    print("dnsbl_cpu_ratio=%.2f" % (summary[("rcpt", "on")][0] /
                                    summary[("rcpt", "off")][0]))
    print("dnsbl_wall_added_ms=%.2f" % (summary[("rcpt", "on")][1] -
                                        summary[("rcpt", "off")][1]))
    if nq != want:
        print("FAIL: %d queries, want %d" % (nq, want))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
