#!/usr/bin/env python3
"""crash.py - kill -9 sessions at random points; new/ must stay clean.

  crash.py --bin SMTPFE --spoolcheck BIN [--sessions 1000] [--jobs 6]
           [--seed 0] [--size 204800]

JOBS "smtpfe -l" servers share one spool, each on a port of its own, so a
server's only live child is the session a worker is talking to; the
worker kills that child by PID with SIGKILL at a random point:

  bytes  once the client has sent a random number of octets of the whole
         dialogue (commands, the message in 16 KB chunks, the final dot)
  time   a random delay after the greeting, up to twice a calibrated
         session's length
  commit a random delay after the final dot was sent, up to 5 times the
         calibrated wait for the 250 (the fsync/rename window)

Every message carries a unique token and a known trailer.  Afterwards
every file in new/ must pass the runner's envelope_parse (spoolcheck), be
a Received: header followed by exactly one whole message, whose final dot
the client had sent; every 250 "queued as ID" must have new/ID.
"""

import argparse
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True
import ftlib  # noqa: E402
from ftlib import fail  # noqa: E402

PORT_BASE = 25610
CHUNK = 16 * 1024


class Killed(Exception):
    pass


def alive_child(server_pid, pid):
    """1 when PID is still a live child of SERVER_PID."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except OSError:
        return False
    rest = stat[stat.rfind(")") + 2:].split()
    return int(rest[1]) == server_pid and rest[0] != "Z"


class Session:
    """One dialogue; kill() may be called from a timer thread."""

    def __init__(self, srv, token, size, plan, rng):
        self.srv = srv
        self.token = token
        self.msg = ftlib.message(token, size)
        self.plan = plan
        self.rng = rng
        self.child = None
        self.killed = threading.Event()
        self.lock = threading.Lock()
        self.total = dialogue_octets(len(self.msg))
        self.queued = None
        self.reply = None
        self.sent = 0

    @property
    def dot_sent(self):
        """The client had sent the whole dialogue, final dot included."""
        return self.sent >= self.total

    def kill(self):
        with self.lock:
            if self.killed.is_set():
                return
            if self.child is not None and alive_child(self.srv.pid,
                                                      self.child):
                os.kill(self.child, signal.SIGKILL)
            self.killed.set()

    def send(self, c, data):
        """Send DATA; in "bytes" mode stop and kill at the planned octet."""
        mode, arg = self.plan
        if mode == "bytes" and self.sent + len(data) >= arg:
            part = arg - self.sent
            c.send(data[:part])
            self.sent += part
            time.sleep(self.rng.uniform(0, 0.003))
            self.kill()
            raise Killed()
        c.send(data)
        self.sent += len(data)

    def cmd(self, c, line, code):
        self.send(c, (line + "\r\n").encode("ascii"))
        got = c.reply()
        if got[0] != code:
            fail("%s: %r got %r" % (self.token, line, got[1]))

    def dialogue(self, c):
        if c.reply()[0] != 220:
            fail("%s: no greeting" % self.token)
        kids = self.srv.children()
        if len(kids) != 1:
            fail("%s: server %d has children %s" %
                 (self.token, self.srv.pid, kids))
        self.child = kids[0]
        mode, arg = self.plan
        if mode == "time":
            threading.Timer(arg, self.kill).start()
        self.cmd(c, "EHLO client.example.net", 250)
        self.cmd(c, "MAIL FROM:<a@example.net>", 250)
        self.cmd(c, "RCPT TO:<x@example.org>", 250)
        self.cmd(c, "DATA", 354)
        for i in range(0, len(self.msg), CHUNK):
            self.send(c, self.msg[i:i + CHUNK])
        t0 = time.monotonic()
        self.send(c, b".\r\n")
        if mode == "commit":
            threading.Timer(arg, self.kill).start()
        got = c.reply()
        self.reply = got
        self.commit_time = time.monotonic() - t0
        m = re.match(r"250 2\.0\.0 queued as (\S+)$", got[1])
        if m is None:
            fail("%s: the final dot got %r" % (self.token, got[1]))
        self.queued = m.group(1)

    def run(self, port):
        c = ftlib.Client(port, timeout=20)
        try:
            self.dialogue(c)
            if self.plan[0] is None:
                c.cmd("QUIT")
                c.wait_eof()
            else:
                # Killed with the session idle after its 250 at the latest.
                self.killed.wait(10)
                if not self.killed.is_set():
                    fail("%s: the kill timer never fired" % self.token)
        except Killed:
            pass
        except (EOFError, OSError):
            # The connection died: only our kill may do that.
            if not self.killed.wait(5):
                fail("%s: connection lost without a kill" % self.token)
        finally:
            c.close()
        deadline = time.monotonic() + 10
        while self.child is not None and alive_child(self.srv.pid,
                                                     self.child):
            if time.monotonic() > deadline:
                fail("%s: child %d outlived SIGKILL" %
                     (self.token, self.child))
            time.sleep(0.002)


def plan_for(rng, total, t_session, t_commit):
    r = rng.random()
    if r < 0.4:
        return ("bytes", rng.randint(1, total))
    if r < 0.7:
        return ("time", rng.uniform(0, 2 * t_session))
    return ("commit", rng.uniform(0, 5 * t_commit))


def dialogue_octets(msglen):
    cmds = ("EHLO client.example.net\r\nMAIL FROM:<a@example.net>\r\n"
            "RCPT TO:<x@example.org>\r\nDATA\r\n")
    return len(cmds) + msglen + 3


def worker(args, srv, jobs, results, errors):
    while not errors:
        try:
            i, token, plan, seed = jobs.pop()
        except IndexError:
            return
        s = Session(srv, token, args.size, plan, random.Random(seed))
        try:
            s.run(srv.port)
        except ftlib.TestFailure as e:
            errors.append(str(e))
            return
        except Exception as e:  # noqa: BLE001 - report, do not hang
            errors.append("%s: %r" % (token, e))
            return
        results[i] = s


def validate(args, spool, results):
    """Every file in new/: well-formed, whole, sent to its final dot."""
    by_token = {s.token: s for s in results if s is not None}
    names = ftlib.listdir(spool, "new")
    paths = [os.path.join(spool, "new", n) for n in names]
    offsets = {}
    for k in range(0, len(paths), 200):
        r = subprocess.run([args.spoolcheck] + paths[k:k + 200],
                           stdout=subprocess.PIPE, universal_newlines=True)
        for line in r.stdout.splitlines():
            f = line.split(" ", 3)
            if f[0] != "OK":
                fail("new/ holds a malformed file: %s" % line)
            offsets[f[1]] = int(f[2])
        if r.returncode != 0:
            fail("spoolcheck exited %d" % r.returncode)
    seen = set()
    for name, path in zip(names, paths):
        with open(path, "rb") as f:
            data = f.read()
        msg = data[offsets[path]:]
        head = re.match(rb"Received: from client\.example\.net "
                        rb"\(client\.example\.net \[127\.0\.0\.1\]\)\n"
                        rb"        by mx\.example\.org \(smtpfe\) with ESMTP "
                        rb"id (\S+)\n        for <x@example\.org>; [^\n]+\n",
                        msg)
        if head is None:
            fail("new/%s: no Received: header of ours" % name)
        if head.group(1).decode() != name:
            fail("new/%s: Received: names id %s" % (name, head.group(1)))
        tok = re.search(rb"^Subject: fault test (crash\d+)\n", msg, re.M)
        if tok is None:
            fail("new/%s: no token" % name)
        token = tok.group(1).decode()
        s = by_token.get(token)
        if s is None:
            fail("new/%s: token %s was never sent" % (name, token))
        if msg[head.end():] != ftlib.spooled_body(s.msg):
            fail("new/%s: not exactly the message sent (%s)" % (name, token))
        if not s.dot_sent:
            fail("new/%s: %s was spooled but its final dot was never sent"
                 % (name, token))
        if token in seen:
            fail("new/%s: %s spooled twice" % (name, token))
        seen.add(token)
    for s in by_token.values():
        if s.queued is not None and s.queued not in names:
            fail("%s got 250 queued as %s, but new/%s is missing" %
                 (s.token, s.queued, s.queued))
    return names, seen


def calibrate(args, srv):
    """Five sessions that are not killed: how long one lasts, and commit."""
    ts, tc = [], []
    for k in range(5):
        s = Session(srv, "crash9%04d" % k, args.size, (None, None),
                    random.Random(k))
        t0 = time.monotonic()
        s.run(srv.port)
        ts.append(time.monotonic() - t0)
        tc.append(s.commit_time)
    return sorted(ts)[2], sorted(tc)[2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--spoolcheck", required=True)
    ap.add_argument("--sessions", type=int, default=1000)
    ap.add_argument("--jobs", type=int, default=6)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--size", type=int, default=200 * 1024)
    args = ap.parse_args()
    if not 1 <= args.jobs <= 40:
        ap.error("--jobs: 1 to 40")
    args.bin = os.path.abspath(args.bin)
    args.spoolcheck = os.path.abspath(args.spoolcheck)
    work = ftlib.tempdir("smtpfe-crash.")
    spool = os.path.join(work, "spool")
    conf = os.path.join(work, "smtpfe.conf")
    ftlib.make_spool(spool)
    ftlib.write_conf(conf, spool)
    servers = []
    t_start = time.monotonic()
    try:
        for j in range(args.jobs):
            servers.append(ftlib.Server(args.bin, conf, PORT_BASE + j, None,
                                        os.path.join(work, "server.log")))
        t_session, t_commit = calibrate(args, servers[0])
        ftlib.clear_dir(spool, "new")
        rng = random.Random(args.seed)
        total = dialogue_octets(len(ftlib.message("crash00000",
                                                  args.size)))
        jobs = []
        for i in range(args.sessions):
            jobs.append((i, "crash%05d" % i,
                         plan_for(rng, total, t_session, t_commit),
                         rng.getrandbits(32)))
        jobs.reverse()
        results = [None] * args.sessions
        errors = []
        threads = [threading.Thread(target=worker,
                                    args=(args, srv, jobs, results, errors))
                   for srv in servers]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            fail("; ".join(errors[:5]))
        for srv in servers:
            srv.wait_children()
    finally:
        for srv in servers:
            srv.stop()
    try:
        names, seen = validate(args, spool, results)
    except ftlib.TestFailure as e:
        fail("%s (kept %s)" % (e, work))
    modes = {}
    for s in results:
        modes[s.plan[0]] = modes.get(s.plan[0], 0) + 1
    before = sum(1 for s in results if not s.dot_sent)
    after_dot = sum(1 for s in results if s.dot_sent and s.queued is None)
    got250 = sum(1 for s in results if s.queued is not None)
    spooled_no250 = sum(1 for s in results
                        if s.queued is None and s.token in seen)
    left_tmp = len(ftlib.listdir(spool, "tmp"))
    print("crash: %d sessions killed with SIGKILL (seed %d, %d jobs, "
          "%d-octet messages; plans: %s)" %
          (args.sessions, args.seed, args.jobs, args.size,
           ", ".join("%s %d" % kv for kv in sorted(modes.items()))))
    print("crash: calibrated session %.1f ms, dot-to-250 %.1f ms" %
          (t_session * 1000, t_commit * 1000))
    print("crash: killed before the final dot: %d; after the dot, before "
          "the 250: %d; after the 250: %d" % (before, after_dot, got250))
    print("crash: new/ holds %d files, all well-formed and whole: %d with "
          "their 250, %d killed after the dot before the 250; tmp/ "
          "leftovers: %d" % (len(names), got250, spooled_no250, left_tmp))
    print("crash PASSED in %.1f s" % (time.monotonic() - t_start))
    ftlib.rmtree(work)


if __name__ == "__main__":
    try:
        main()
    except ftlib.TestFailure as e:
        print("FAILED: %s" % e, file=sys.stderr)
        sys.exit(1)
