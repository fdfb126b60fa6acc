#!/usr/bin/env python3
"""sustained_bench.py - the whole system under a sustained load: smtpfe
and its -Q runner handing off to Postfix, against Postfix alone, in one
run (issue 11).

Run as root (make bench-sustained; make bench may call it too):
  SMTPFE=./smtpfe python3 bench/sustained_bench.py [--messages N]
      [--processes 1,2,4] [--sendmail-messages N] [--work DIR]

It starts, all on 127.0.0.1, ports 26200-26299:
  postfix   a private Postfix instance (bench.py's: own config, queue
            and data directories under --work; /etc/postfix is neither
            read for configuration nor written) whose smtpd on :26204
            puts every message on hold (check_client_access static:HOLD)
            and accepts XFORWARD from the loopback.  No pickup service:
            what sendmail/postdrop deposits stays in maildrop/.
  smtpfe    ./smtpfe under tcpserver on :26201, started as root (each
            session chroots and drops to nobody), and beside it
            "smtpfe -Q 3600" with handoff = smtp:127.0.0.1:26204 and
            handoff_processes = P, for each P asked for.

Runs, one after the other, each with smtp-source at c=20 and N messages
of 1 KB:
  postfix          smtp-source straight into Postfix's smtpd
  smtpfe+smtp P=.. smtp-source into smtpfe; the runner hands off by SMTP
  smtpfe+sendmail  the same with handoff = sendmail (Postfix's sendmail
                   for the private instance, through a two-line wrapper);
                   fewer messages, it is slow.  Postfix's postdrop only
                   accepts a private instance's configuration when the
                   system main.cf lists it in alternate_config_directories:
                   for this run only, and main.cf is restored right after.
The whole run holds flock /tmp/smtpfe-mta.lock: the private Postfix runs
the system's Postfix programs, which the MTA stages swap out.
  drain-smtp, drain-sendmail
                   the hand-off alone: the same messages spooled first
                   with no runner, then "smtpfe -Q" started and timed
                   until all are in Postfix's queue.
A message counts as done when its file is in Postfix's queue (hold/, or
maildrop/ for the sendmail path).  Measured: messages/s from the first
connection until the last message is in Postfix's queue; CPU per message
of every server process (tcpserver and the sessions, the runner and its
children, Postfix's master and its children), and of smtp-source apart;
the deepest new/ got (sampled every 20 ms); and the latency from our 250
to Postfix's acceptance: from the spool ID's time stamp (taken when the
spool file is created, under a millisecond before the 250 for 1 KB) to
the modification time of Postfix's queue file, which holds our Received:
line and so the spool ID.

The last lines are the figures make bench's summary wants:
  e2e_vs_postfix=R handoff_latency_ms_p50=X handoff_latency_ms_p99=Y
  smtp_vs_sendmail=Z drain_smtp_vs_sendmail=W
(R, X, Y and Z for the default handoff_processes, DEFAULT_P below.)
"""
import argparse
import os
import pwd
import re
import resource
import shutil
import statistics
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench as B  # noqa: E402  (its helpers: /proc, tcpserver, postfix)

PORT_SMTPFE = 26201
PORT_POSTFIX = 26204
HZ = B.HZ
ID_RE = re.compile(rb"\(smtpfe\) with E?SMTPS? id ([0-9]+)\.([0-9]{6})\.")
LOCK = "/tmp/smtpfe-mta.lock"
DEFAULT_P = 8           # config.c: handoff_processes


def log(*a):
    print("sustained:", *a, file=sys.stderr, flush=True)


def start_postfix(work):
    """bench.py's private Postfix, on our port, XFORWARD from 127/8"""
    B.PORTS["postfix"] = PORT_POSTFIX
    B.POSTFIX_MAIN += "smtpd_authorized_xforward_hosts = 127.0.0.0/8\n" \
        "local_header_rewrite_clients =\n"
    args = argparse.Namespace(work=work)
    return B.start_postfix(args)


def queue_files(top, sub):
    d = os.path.join(top, "queue", sub)
    out = []
    for root, _, files in os.walk(d):
        out.extend(os.path.join(root, f) for f in files)
    return out


def source(n, port):
    """smtp-source c=20, N messages of 1 KB; (wall start, client CPU s)"""
    cmd = B.source_cmds(port, B.KB, 20, 1, n)[0]
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    p = subprocess.run(cmd, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True)
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        B.die("smtp-source: %s" % p.stderr.strip())
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    return t0, cpu


def wait_count(top, sub, want, seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        n = len(queue_files(top, sub))
        if n >= want:
            return time.monotonic(), n
        time.sleep(0.01)
    return None, len(queue_files(top, sub))


class Sampler(threading.Thread):
    """the deepest new/ got"""

    def __init__(self, path):
        super().__init__(daemon=True)
        self.path, self.deepest, self.stop = path, 0, False

    def run(self):
        while not self.stop:
            try:
                n = len(os.listdir(self.path))
            except OSError:
                n = 0
            self.deepest = max(self.deepest, n)
            time.sleep(0.02)


def clear_queue(top):
    for sub in ("hold", "maildrop", "incoming", "active", "deferred"):
        for f in queue_files(top, sub):
            os.unlink(f)


def latencies(top):
    """ms from our spool ID's time stamp to Postfix's queue file mtime"""
    out = []
    for f in queue_files(top, "hold"):
        try:
            with open(f, "rb") as fh:
                data = fh.read(8192)
            mt = os.stat(f).st_mtime
        except OSError:
            continue
        m = ID_RE.search(data)
        if m:
            ours = int(m.group(1)) + int(m.group(2)) / 1e6
            out.append((mt - ours) * 1000)
    return sorted(out)


def pct(xs, p):
    if not xs:
        return float("nan")
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def run_postfix_alone(pf, top, n):
    clear_queue(top)
    c0 = B.tree_ticks(pf.pid)
    t0, ccpu = source(n, PORT_POSTFIX)
    t1, got = wait_count(top, "hold", n, 120)
    if t1 is None:
        B.die("postfix alone: %d of %d in hold/" % (got, n))
    cpu = (B.tree_ticks(pf.pid) - c0) / HZ
    return {"name": "postfix", "rate": n / (t1 - t0), "secs": t1 - t0,
            "cpu_ms": {"postfix": cpu * 1000 / n}, "client_ms":
            ccpu * 1000 / n, "n": n}


def smtpfe_conf(work, name, extra):
    top = os.path.join(work, name)
    spool = os.path.join(top, "spool")
    shutil.rmtree(top, ignore_errors=True)
    os.makedirs(top)
    os.chmod(top, 0o755)
    B.make_spool(spool, pwd.getpwnam("nobody"))
    conf = os.path.join(top, "smtpfe.conf")
    B.write_file(conf, "hostname = mx.example.org\nspool = %s\n"
                 "user = nobody\nlocal_domains = example.org\n"
                 "greet_pause = 0\nmin_free_space = 1048576\n%s"
                 % (spool, extra))
    B.check_conf(SMTPFE, conf)
    return conf, spool


def start_runner(conf):
    runner = subprocess.Popen([SMTPFE, "-Q", "3600", "-f", conf],
                              stderr=subprocess.DEVNULL)
    B.STARTED.append(runner)
    return runner


def run_smtpfe(work, pf, top, n, name, extra, where, timeout, drain=False):
    """N messages through smtpfe and the runner; DRAIN: the runner starts
    only once all are spooled, and the clock with it (the hand-off alone)"""
    conf, spool = smtpfe_conf(work, name, extra)
    clear_queue(top)
    ts = B.tcpserver(name, PORT_SMTPFE, [SMTPFE, "-f", conf])
    runner = None if drain else start_runner(conf)
    time.sleep(0.5)
    sampler = Sampler(os.path.join(spool, "new"))
    sampler.start()
    c_ts, c_pf = B.tree_ticks(ts.pid), B.tree_ticks(pf.pid)
    c_run = 0 if drain else B.tree_ticks(runner.pid)
    t0, ccpu = source(n, PORT_SMTPFE)
    t_acc = time.monotonic()
    if drain:
        ccpu = 0.0
        c_ts, c_pf = B.tree_ticks(ts.pid), B.tree_ticks(pf.pid)
        t0 = time.monotonic()
        runner = start_runner(conf)
    t1, got = wait_count(top, where, n, timeout)
    sampler.stop = True
    cpu = {"smtpfe sessions": (B.tree_ticks(ts.pid) - c_ts) / HZ,
           "runner": (B.tree_ticks(runner.pid) - c_run) / HZ,
           "postfix": (B.tree_ticks(pf.pid) - c_pf) / HZ}
    B.stop(B.Subject(name, PORT_SMTPFE, runner.pid, [], runner))
    B.stop(B.Subject(name, PORT_SMTPFE, ts.pid, [], ts))
    if t1 is None:
        B.die("%s: %d of %d in Postfix's %s/ after %d s" %
              (name, got, n, where, timeout))
    lat = latencies(top) if where == "hold" else []
    left = len(os.listdir(os.path.join(spool, "new"))) + \
        len(os.listdir(os.path.join(spool, "failed")))
    if left:
        B.die("%s: %d messages left in the spool" % (name, left))
    return {"name": name, "rate": n / (t1 - t0), "secs": t1 - t0,
            "accept_rate": n / max(t_acc - t0, 1e-3), "n": n,
            "cpu_ms": {k: v * 1000 / n for k, v in cpu.items()},
            "client_ms": ccpu * 1000 / n, "deepest": sampler.deepest,
            "p50": pct(lat, 50), "p99": pct(lat, 99), "nlat": len(lat)}


def with_alternate_config(top, fn):
    """main.cf's alternate_config_directories for FN (the lock is held)"""
    etc = os.path.join(top, "etc")
    saved = "/etc/postfix/main.cf"
    backup = os.path.join(top, "main.cf.system")
    shutil.copy2(saved, backup)
    try:
        B.run(["postconf", "-e", "alternate_config_directories = %s" % etc])
        return fn()
    finally:
        shutil.copy2(backup, saved)


def take_lock():
    """the machine-wide MTA lock, for the whole run: the private Postfix
    runs the system's Postfix programs, which another stage may swap out"""
    import fcntl
    lk = open(LOCK, "a")
    log("waiting for %s" % LOCK)
    fcntl.flock(lk, fcntl.LOCK_EX)
    return lk


def fmt_cpu(r):
    total = sum(r["cpu_ms"].values())
    parts = ", ".join("%s %.2f" % (k, v) for k, v in r["cpu_ms"].items())
    return "%.2f ms (%s; smtp-source %.2f)" % (total, parts, r["client_ms"])


def main():
    global SMTPFE
    ap = argparse.ArgumentParser()
    ap.add_argument("--smtpfe", default=os.environ.get("SMTPFE", "./smtpfe"))
    ap.add_argument("--work", default=os.environ.get(
        "BENCH_WORK", "/var/tmp/smtpfe-sustained"))
    ap.add_argument("--messages", type=int, default=2000)
    ap.add_argument("--processes", default="1,2,4,8")
    ap.add_argument("--sendmail-messages", type=int, default=300)
    ap.add_argument("--report")
    args = ap.parse_args()
    SMTPFE = os.path.abspath(args.smtpfe)
    if os.geteuid() != 0:
        B.die("run as root: tcpserver as root, smtpfe drops to nobody, "
              "a private Postfix")
    lock = take_lock()  # noqa: F841  (held until exit)
    for tool in ("tcpserver", "smtp-source", "postfix", "postconf"):
        if shutil.which(tool) is None:
            B.die("%s is not installed (ucspi-tcp, postfix)" % tool)
    work = os.path.abspath(args.work)
    os.makedirs(work, exist_ok=True)
    os.chmod(work, 0o755)
    procs = [int(x) for x in args.processes.split(",")]
    n = args.messages
    res = []
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    try:
        pf = start_postfix(work)
        top = os.path.join(work, "postfix")
        log("postfix alone, %d messages" % n)
        alone = run_postfix_alone(pf, top, n)
        for p in procs:
            log("smtpfe -Q, handoff = smtp, %d at once, %d messages"
                % (p, n))
            r = run_smtpfe(work, pf, top, n, "smtp-p%d" % p,
                           "handoff = smtp:127.0.0.1:%d\n"
                           "handoff_processes = %d\n" % (PORT_POSTFIX, p),
                           "hold", 300)
            res.append(r)
        ns = args.sendmail_messages
        wrapper = os.path.join(work, "pf-sendmail")
        B.write_file(wrapper, "#!/bin/sh\nexec /usr/sbin/sendmail -C %s "
                     "\"$@\"\n" % os.path.join(top, "etc"))
        os.chmod(wrapper, 0o755)
        log("smtpfe -Q, handoff = sendmail, %d at once, %d messages"
            % (DEFAULT_P, ns))
        sm = with_alternate_config(top, lambda: run_smtpfe(
            work, pf, top, ns, "sendmail-p%d" % DEFAULT_P,
            "handoff = sendmail\nsendmail = %s\nhandoff_processes = %d\n"
            % (wrapper, DEFAULT_P), "maildrop", 600))
        log("drain: %d spooled, then smtpfe -Q by SMTP, %d at once"
            % (ns, DEFAULT_P))
        dsmtp = run_smtpfe(work, pf, top, ns, "drain-smtp",
                           "handoff = smtp:127.0.0.1:%d\n"
                           "handoff_processes = %d\n"
                           % (PORT_POSTFIX, DEFAULT_P), "hold", 300, True)
        log("drain: %d spooled, then smtpfe -Q by sendmail, %d at once"
            % (ns, DEFAULT_P))
        dsm = with_alternate_config(top, lambda: run_smtpfe(
            work, pf, top, ns, "drain-sendmail",
            "handoff = sendmail\nsendmail = %s\nhandoff_processes = %d\n"
            % (wrapper, DEFAULT_P), "maildrop", 600, True))
        clear_queue(top)
    finally:
        B.cleanup()
    lines = ["sustained: %s, 1 KB messages, smtp-source c=20, one run"
             % started,
             "  %-22s %8.1f msg/s  CPU/msg %s" % (
                 "postfix alone", alone["rate"], fmt_cpu(alone))]
    for r in res + [sm]:
        lines.append("  %-22s %8.1f msg/s end to end (accepted %.1f/s), "
                     "deepest new/ %d, latency p50 %.1f ms p99 %.1f ms "
                     "(%d)\n  %22s CPU/msg %s" % (
                         r["name"], r["rate"], r["accept_rate"],
                         r["deepest"], r["p50"], r["p99"], r["nlat"], "",
                         fmt_cpu(r)))
    for r in (dsmtp, dsm):
        lines.append("  %-22s %8.1f msg/s, the hand-off alone (%d spooled "
                     "first)\n  %22s CPU/msg %s" % (
                         r["name"], r["rate"], r["n"], "", fmt_cpu(r)))
    best = max(res, key=lambda r: r["rate"])
    default = next((r for r in res if r["name"] == "smtp-p%d" % DEFAULT_P),
                   best)
    lines.append("  best: %s" % best["name"])
    summary = ("e2e_vs_postfix=%.2f handoff_latency_ms_p50=%.1f "
               "handoff_latency_ms_p99=%.1f smtp_vs_sendmail=%.1f "
               "drain_smtp_vs_sendmail=%.1f" % (
                   default["rate"] / alone["rate"], default["p50"],
                   default["p99"], default["rate"] / sm["rate"],
                   dsmtp["rate"] / dsm["rate"]))
    text = "\n".join(lines)
    print(text)
    print(summary)
    if args.report:
        B.write_file(args.report, text + "\n" + summary + "\n")


SMTPFE = None

if __name__ == "__main__":
    main()
