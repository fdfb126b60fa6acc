#!/usr/bin/env python3
"""tls_bench.py - STARTTLS: smtpfe beside Postfix and a TLS floor.

Run by "make bench-tls" (see mk/tls.mk), as root.  A file of its own
because the load needs a TLS client (smtp-source has none) and the
subjects need a certificate; it borrows bench.py's /proc accounting and
its private Postfix instance.  Ports 26100-26119 on 127.0.0.1.

Workload: 1 KB, one message per connection, 20 connections at a time,
every connection EHLO, STARTTLS, handshake, EHLO, MAIL, RCPT, DATA, QUIT
(no pipelining, no session resumption).  Subjects, one self-signed EC
P-256 certificate for all:
  smtpfe      ./smtpfe under tcpserver started as root (TLS parent,
              sandboxed session, stunnel4 per STARTTLS; chroot, nobody)
  postfix     Postfix's smtpd, smtpd_tls_security_level = may, messages
              put on hold (nothing delivered)
  floor       tcpserver -> bench/tls_floor: a canned greeting and 220,
              then stunnel4 (configured as smtpfe configures it) with
              bench/floor behind it (canned replies, the message written
              and fsynced): the launcher and the wrapper alone

Server CPU per session: the launcher's tree (utime+stime of itself, its
reaped children and live descendants; for Postfix, master's), before and
after a run, divided by the sessions.  Peak RSS of one TLS session: one
session held open after its message was accepted, on a fresh server, and
the VmHWM of every process serving it summed: smtpfe's TLS parent,
session and stunnel4; the floor's stunnel4 and floor; Postfix's smtpd,
cleanup and tlsmgr (master, qmgr and the rest are shared, like tcpserver).
The client is Python (ssl) in 4 processes of 5 threads on the same two
cores: the rate is what this machine does with client and server on it.

Prints a table and, last, "tls_rate_vs_postfix=R tls_cpu_vs_floor=F"
(medians of the per-round ratios).
"""

import argparse
import concurrent.futures
import os
import pwd
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench as B  # noqa: E402

HOST = "127.0.0.1"
PORTS = {"smtpfe": 26101, "postfix": 26102, "floor": 26103}
SUBJECTS = ["smtpfe", "postfix", "floor"]
CONC, PROCS = 20, 4
PAYLOAD = 1024
MSG = ("From: <sender@example.net>\r\nTo: <bench@example.org>\r\n"
       "Subject: tls bench\r\n\r\n" +
       ("x" * 76 + "\r\n") * (PAYLOAD // 78) + ".\r\n").encode()


def log(*a):
    print(*a, flush=True)


# ---------------------------------------------------------------- client

class Conn:
    def __init__(self, port):
        self.sock = socket.create_connection((HOST, port), timeout=30)
        self.buf = b""

    def reply(self):
        """one whole reply: (code, text)"""
        lines = []
        while True:
            while b"\r\n" not in self.buf:
                chunk = self.sock.recv(4096)
                if not chunk:
                    raise OSError("closed after %r" % lines)
                self.buf += chunk
            line, self.buf = self.buf.split(b"\r\n", 1)
            lines.append(line)
            if line[3:4] != b"-":
                return int(line[:3]), lines

    def cmd(self, text, want):
        self.sock.sendall(text)
        code, lines = self.reply()
        if code != want:
            raise OSError("%r: %r" % (text, lines))
        return code


def session(port, ctx, hold=None):
    c = Conn(port)
    if c.reply()[0] != 220:
        raise OSError("no greeting")
    c.cmd(b"EHLO client.example.net\r\n", 250)
    c.cmd(b"STARTTLS\r\n", 220)
    c.sock = ctx.wrap_socket(c.sock, server_hostname="mx.example.org")
    c.sock.sendall(b"EHLO client.example.net\r\n")
    code, _ = c.reply()
    if code == 220:         # the floor's program greets after TLS
        code, _ = c.reply()
    if code != 250:
        raise OSError("EHLO after TLS: %d" % code)
    c.cmd(b"MAIL FROM:<sender@example.net>\r\n", 250)
    c.cmd(b"RCPT TO:<bench@example.org>\r\n", 250)
    c.cmd(b"DATA\r\n", 354)
    c.cmd(MSG, 250)
    if hold is not None:
        hold()
    c.cmd(b"QUIT\r\n", 221)
    c.sock.close()


def client_context():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def worker(port, n, threads):
    """N sessions over THREADS threads; (ok, first error)"""
    ctx = client_context()
    left = [n]
    ok = [0]
    err = []
    lock = threading.Lock()

    def run():
        while True:
            with lock:
                if left[0] == 0:
                    return
                left[0] -= 1
            try:
                session(port, ctx)
                with lock:
                    ok[0] += 1
            except (OSError, ssl.SSLError) as e:
                with lock:
                    err.append(str(e))
    ts = [threading.Thread(target=run) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return ok[0], err[:1]


def load(pool, port, conns):
    shares = [conns // PROCS + (1 if i < conns % PROCS else 0)
              for i in range(PROCS)]
    futs = [pool.submit(worker, port, s, CONC // PROCS) for s in shares]
    ok, errs = 0, []
    for f in futs:
        o, e = f.result()
        ok += o
        errs += e
    return ok, errs


# ---------------------------------------------------------------- servers

class Subject:
    def __init__(self, name, port, pid, queue, proc=None):
        self.name, self.port, self.pid = name, port, pid
        self.queue, self.proc = queue, proc

    def count(self):
        return len(os.listdir(self.queue))

    def quiesce(self):
        if self.name == "postfix":
            time.sleep(0.3)
            return
        end = time.monotonic() + 15
        while time.monotonic() < end:
            if len(B.descendants(self.pid)[0]) == 1:
                return
            time.sleep(0.01)
        B.die("%s: sessions still running 15 s after the load" % self.name)


def make_cert(work):
    cert, key = os.path.join(work, "cert.pem"), os.path.join(work, "key.pem")
    B.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
           "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out",
           cert, "-days", "2", "-subj", "/CN=mx.example.org",
           "-addext", "subjectAltName=DNS:mx.example.org"])
    nobody = pwd.getpwnam("nobody")
    os.chown(key, nobody.pw_uid, nobody.pw_gid)   # smtpfe(8): user's, 0600
    os.chmod(key, 0o600)
    os.chmod(cert, 0o644)
    return cert, key


def tcpserver(name, argv):
    port = PORTS[name]
    B.port_free(port, name)
    p = subprocess.Popen(["tcpserver", "-R", "-H", "-l", "0", "-c", "100",
                          HOST, str(port)] + argv,
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    B.STARTED.append(p)
    B.wait_port(port, name)
    return p


def start_smtpfe(args, cert, key):
    top = os.path.join(args.work, "smtpfe")
    spool = os.path.join(top, "spool")
    B.make_spool(spool, pwd.getpwnam("nobody"))
    conf = os.path.join(top, "smtpfe.conf")
    B.write_file(conf, "# written by bench/tls_bench.py\n"
                 "hostname = mx.example.org\nspool = %s\nuser = nobody\n"
                 "local_domains = example.org\ntls_cert = %s\n"
                 "tls_key = %s\n" % (spool, cert, key))
    out = B.run([args.smtpfe, "-n", "-f", conf])
    if "ok" not in out:
        B.die("smtpfe -n: %s" % out)
    p = tcpserver("smtpfe", [args.smtpfe, "-f", conf])
    return Subject("smtpfe", PORTS["smtpfe"], p.pid,
                   os.path.join(spool, "new"), p)


def start_floor(args, cert, key):
    spool = os.path.join(args.work, "floor", "spool")
    B.make_spool(spool, pwd.getpwuid(0))
    p = tcpserver("floor", [args.tls_floor, args.wrapper, cert, key,
                            args.floor, spool])
    return Subject("floor", PORTS["floor"], p.pid,
                   os.path.join(spool, "new"), p)


POSTFIX_TLS = """\
smtpd_tls_security_level = may
smtpd_tls_cert_file = {cert}
smtpd_tls_key_file = {key}
smtpd_tls_loglevel = 0
"""


def start_postfix(args, cert, key):
    """bench.py's private instance, on our port, with TLS (and tlsmgr)"""
    top = os.path.join(args.work, "postfix")
    shutil.rmtree(top, ignore_errors=True)
    for d in ("etc", "queue", "data"):
        os.makedirs(os.path.join(top, d))
    pf = pwd.getpwnam("postfix")
    os.chown(os.path.join(top, "data"), pf.pw_uid, pf.pw_gid)
    B.write_file(os.path.join(top, "etc", "main.cf"),
                 B.POSTFIX_MAIN.format(top=top, maillog="",
                                       limit=B.MSG_LIMIT).replace(
                     "syslog_name = postfix-bench",
                     "syslog_name = postfix-tlsbench") +
                 POSTFIX_TLS.format(cert=cert, key=key))
    B.write_file(os.path.join(top, "etc", "master.cf"),
                 B.POSTFIX_MASTER.format(listen="%s:%d" % (
                     HOST, PORTS["postfix"])) +
                 "tlsmgr    unix  -       -       n       1000?   1       "
                 "tlsmgr\n")
    B.port_free(PORTS["postfix"], "postfix")
    B.STARTED.append(top)
    B.run(B.postfix_cmd(top, "start"))
    B.wait_port(PORTS["postfix"], "postfix")
    with open(os.path.join(top, "queue", "pid", "master.pid")) as f:
        pid = int(f.read().strip())
    return Subject("postfix", PORTS["postfix"], pid,
                   os.path.join(top, "queue", "hold"))


def stop(s, args):
    if s.name == "postfix":
        top = os.path.join(args.work, "postfix")
        subprocess.run(B.postfix_cmd(top, "stop"), stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        if top in B.STARTED:
            B.STARTED.remove(top)
        return
    if s.proc in B.STARTED:
        B.STARTED.remove(s.proc)
    s.proc.terminate()
    s.proc.wait(timeout=10)


# ---------------------------------------------------------------- passes

RSS_NAMES = {"smtpfe": None, "floor": None,
             "postfix": ("smtpd", "cleanup", "tlsmgr")}


def rss_one(s):
    """peak RSS (KiB) of the processes serving one held TLS session"""
    got = {}

    def hold():
        time.sleep(0.2)
        pids, _ = B.descendants(s.pid)
        parts = []
        for p in pids:
            if p == s.pid:
                continue
            name = B.comm(p)
            want = RSS_NAMES[s.name]
            if want is not None and name not in want:
                continue
            parts.append((name, B.status_kib(p, "VmHWM") or 0))
        got["parts"] = parts
    session(s.port, client_context(), hold)
    return sum(k for _, k in got["parts"]), sorted(got["parts"])


def one_run(pool, s, conns):
    before = s.count()
    os.sync()
    time.sleep(0.1)
    t0_cpu = B.tree_ticks(s.pid)
    t0 = time.monotonic()
    ok, errs = load(pool, s.port, conns)
    elapsed = time.monotonic() - t0
    s.quiesce()
    cpu = (B.tree_ticks(s.pid) - t0_cpu) / B.HZ
    if ok != conns:
        B.die("%s: %d of %d sessions failed: %s" % (s.name, conns - ok,
                                                   conns, errs))
    got = s.count() - before
    if got != conns:
        B.die("%s: %d messages accepted, %d sessions" % (s.name, got, conns))
    return {"rate": conns / elapsed, "cpu": cpu / conns}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--smtpfe", required=True)
    ap.add_argument("--floor", required=True)
    ap.add_argument("--tls-floor", required=True)
    ap.add_argument("--wrapper", default="/usr/bin/stunnel4")
    ap.add_argument("--work", default=None)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--conns", type=int, default=300)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    if os.geteuid() != 0:
        B.die("run as root (the servers drop to nobody, Postfix needs root)")
    for t in ("tcpserver", "postfix", "openssl", args.wrapper):
        if shutil.which(t) is None:
            B.die("missing: %s" % t)
    if args.quick:
        args.rounds, args.conns = 1, 80
    for a in ("smtpfe", "floor", "tls_floor"):
        setattr(args, a, os.path.abspath(getattr(args, a)))
    made = args.work is None
    args.work = args.work or tempfile.mkdtemp(prefix="smtpfe-tlsbench-")
    os.makedirs(args.work, exist_ok=True)
    os.chmod(args.work, 0o755)
    started = time.time()
    try:
        cert, key = make_cert(args.work)
        subj = {"smtpfe": start_smtpfe(args, cert, key),
                "postfix": start_postfix(args, cert, key),
                "floor": start_floor(args, cert, key)}
        rss = {n: rss_one(s) for n, s in subj.items()}
        res = {n: [] for n in SUBJECTS}
        with concurrent.futures.ProcessPoolExecutor(PROCS) as pool:
            load(pool, subj["floor"].port, 20)         # warm the client
            for r in range(args.rounds):
                order = SUBJECTS[r % 3:] + SUBJECTS[:r % 3]
                for n in order:
                    res[n].append(one_run(pool, subj[n], args.conns))
                log("round %d: " % (r + 1) + ", ".join(
                    "%s %.1f/s %.1f ms" % (n, res[n][-1]["rate"],
                                           1000 * res[n][-1]["cpu"])
                    for n in SUBJECTS))
        for s in subj.values():
            stop(s, args)
    finally:
        B.cleanup()
    rate_pf = statistics.median(a["rate"] / b["rate"] for a, b in
                                zip(res["smtpfe"], res["postfix"]))
    cpu_floor = statistics.median(a["cpu"] / b["cpu"] for a, b in
                                  zip(res["smtpfe"], res["floor"]))
    log("")
    log("TLS workload: 1 KB, 1 msg/conn, c=%d, STARTTLS; %d rounds of %d "
        "sessions (%.0f s)" % (CONC, args.rounds, args.conns,
                               time.time() - started))
    log("%-8s %10s %14s %16s  %s" % ("subject", "sessions/s",
                                     "CPU/session", "peak RSS/session",
                                     "(processes, KiB)"))
    for n in SUBJECTS:
        log("%-8s %10.1f %11.2f ms %13d KiB  %s" % (
            n, statistics.median(x["rate"] for x in res[n]),
            1000 * statistics.median(x["cpu"] for x in res[n]),
            rss[n][0], " ".join("%s:%d" % p for p in rss[n][1])))
    log("tls_rate_vs_postfix=%.2f tls_cpu_vs_floor=%.2f" % (rate_pf,
                                                           cpu_floor))
    if made:
        shutil.rmtree(args.work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
