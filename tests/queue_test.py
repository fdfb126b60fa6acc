#!/usr/bin/env python3
"""
queue_test.py - smtpfe -p (the spool listed, like mailq), smtpfe -r
(requeue from failed/) and smtpfe -Q with handoff = smtp, on the real
program.

Run:  SMTPFE=/abs/path/to/smtpfe python3 tests/queue_test.py
      (make check-queue; "make check" runs it)

Each test makes its own configuration and spool under a temporary
directory.  As root, smtpfe drops to "nobody", who then owns the spool.
The -Q tests hand off to a small SMTP server in this file, on 127.0.0.1
ports 2660-2669.  The last line printed is "N passed, N failed"; the exit
status is 1 when any test failed.
"""
import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback

SMTPFE = os.path.abspath(os.environ.get("SMTPFE", "./smtpfe"))
IS_ROOT = os.geteuid() == 0
PORTS = list(range(2660, 2670))
EX_NOINPUT = 66
TESTS = []


class Fail(AssertionError):
    pass


def test(fn):
    TESTS.append(fn)
    return fn


def check(cond, msg):
    if not cond:
        raise Fail(msg)


class Spool:
    """A configuration and a spool in a temporary directory."""

    def __init__(self, handoff="sendmail", extra=""):
        self.top = tempfile.mkdtemp(prefix="queue_test.")
        os.chmod(self.top, 0o755)
        self.spool = os.path.join(self.top, "spool")
        user = pwd.getpwuid(os.geteuid()).pw_name
        if IS_ROOT:
            user = "nobody"
        for d in ("", "tmp", "new", "failed"):
            p = os.path.join(self.spool, d)
            os.makedirs(p, exist_ok=True)
            os.chmod(p, 0o700 if d else 0o755)
            if IS_ROOT:
                pw = pwd.getpwnam("nobody")
                os.chown(p, pw.pw_uid, pw.pw_gid)
        self.conf = os.path.join(self.top, "smtpfe.conf")
        with open(self.conf, "w") as f:
            f.write("hostname = mx.example.org\nspool = %s\nuser = %s\n"
                    "local_domains = example.org\nhandoff = %s\n%s"
                    % (self.spool, user, handoff, extra))

    def put(self, where, name, sender="<a@example.net>",
            rcpts=("<x@example.org>",), body=b"Subject: t\n\nhi\n",
            arrived="2026-12-01T10:00:00Z", mtime=None):
        path = os.path.join(self.spool, where, name)
        head = "Smtpfe-Spool: 1\nClient: 192.0.2.1\nHelo: mail.example.net\n"
        head += "Sender: %s\n" % sender
        head += "".join("Recipient: %s\n" % r for r in rcpts)
        head += "Arrived: %s\n\n" % arrived
        with open(path, "wb") as f:
            f.write(head.encode() + body)
        if IS_ROOT:
            pw = pwd.getpwnam("nobody")
            os.chown(path, pw.pw_uid, pw.pw_gid)
        os.chmod(path, 0o600)
        if mtime is not None:
            os.utime(path, (mtime, mtime))
        return path

    def ls(self, where):
        return sorted(os.listdir(os.path.join(self.spool, where)))

    def run(self, *args, timeout=30):
        p = subprocess.run([SMTPFE, "-f", self.conf] + list(args),
                           capture_output=True, timeout=timeout)
        return p.returncode, p.stdout.decode(), p.stderr.decode()

    def close(self):
        shutil.rmtree(self.top, ignore_errors=True)


class FakeMTA:
    """A minimal SMTP server: accepts everything, counts each message."""

    def __init__(self):
        self.sock = None
        for port in PORTS:
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                s.close()
                continue
            self.sock, self.port = s, port
            break
        check(self.sock is not None, "no free port in 2660-2669")
        self.sock.listen(16)
        self.messages = []
        self.lock = threading.Lock()
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.session, args=(c,),
                             daemon=True).start()

    def session(self, c):
        f = c.makefile("rb")
        c.sendall(b"220 fake ESMTP\r\n")
        envelope = []
        for line in f:
            cmd = line[:4].upper()
            if cmd == b"EHLO":
                c.sendall(b"250-fake\r\n250-PIPELINING\r\n250 8BITMIME\r\n")
            elif cmd in (b"MAIL", b"RCPT"):
                envelope.append(line.strip().decode())
                c.sendall(b"250 ok\r\n")
            elif cmd == b"DATA":
                c.sendall(b"354 go\r\n")
                data = b""
                for dl in f:
                    if dl == b".\r\n":
                        break
                    data += dl
                with self.lock:
                    self.messages.append((envelope, data))
                envelope = []
                c.sendall(b"250 queued\r\n")
            elif cmd == b"QUIT":
                c.sendall(b"221 bye\r\n")
                break
            else:
                c.sendall(b"250 ok\r\n")
        c.close()

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)    # ends the accept()
        except OSError:
            pass
        self.sock.close()


LINE = re.compile(r"^(\S+) (new|failed|deferred until \S+) (\S+) (\d+) "
                  r"(<[^>]*>) (\S+)$")


@test
def list_empty():
    s = Spool()
    try:
        rc, out, err = s.run("-p")
        check(rc == 0, "rc %d: %s" % (rc, err))
        check(out == "0 messages: 0 new, 0 deferred, 0 failed\n", repr(out))
    finally:
        s.close()


@test
def list_every_state():
    s = Spool()
    try:
        now = time.time()
        s.put("new", "b2", rcpts=("<x@example.org>", "<y@example.org>"))
        s.put("new", "a1", mtime=now + 1200)
        s.put("failed", "c3", sender="<>")
        p = s.put("new", "d4")
        with open(p, "wb") as f:
            f.write(b"garbage\n\nbody\n")
        rc, out, err = s.run("-p")
        check(rc == 0, "rc %d: %s" % (rc, err))
        lines = out.splitlines()
        check(len(lines) == 5, repr(out))
        check(lines[0].startswith("a1 deferred until 20"), lines[0])
        m = LINE.match(lines[0])
        check(m is not None, lines[0])
        check(lines[1] == "b2 new 2026-12-01T10:00:00Z 15 <a@example.net> "
              "<x@example.org>,<y@example.org>", lines[1])
        check(lines[2].startswith("d4 new - 14 (envelope line "), lines[2])
        check(lines[3] == "c3 failed 2026-12-01T10:00:00Z 15 <> "
              "<x@example.org>", lines[3])
        check(lines[4] == "4 messages: 2 new, 1 deferred, 1 failed",
              lines[4])
    finally:
        s.close()


@test
def requeue_named_and_missing():
    s = Spool()
    try:
        s.put("failed", "m1", mtime=time.time() - 86400)
        s.put("failed", "m2")
        rc, out, err = s.run("-r", "m1", "nosuch")
        check(rc == EX_NOINPUT, "rc %d" % rc)
        check("m1: requeued" in out, out)
        check("nosuch: not in failed/" in err, err)
        check(s.ls("new") == ["m1"], s.ls("new"))
        check(s.ls("failed") == ["m2"], s.ls("failed"))
        st = os.stat(os.path.join(s.spool, "new", "m1"))
        check(abs(st.st_mtime - time.time()) < 10, "not due now")
        rc, out, err = s.run("-r", "m2")
        check(rc == 0 and s.ls("failed") == [], (rc, err))
    finally:
        s.close()


@test
def requeue_not_an_id():
    s = Spool()
    try:
        s.put("failed", "m1")
        s.put("failed", ".hidden")
        for bad in ("failed/m1", "../failed/m1", "/etc/passwd", ".hidden",
                    "", "x" * 64):
            rc, out, err = s.run("-r", bad)
            check(rc == EX_NOINPUT, "%r: rc %d" % (bad, rc))
            check("not a message ID" in err, "%r: %s" % (bad, err))
        check(s.ls("failed") == [".hidden", "m1"], s.ls("failed"))
        check(s.ls("new") == [], s.ls("new"))
        # 63 octets is still an ID (not found); 64 was refused above.
        rc, out, err = s.run("-r", "y" * 63)
        check(rc == EX_NOINPUT and "not in failed/" in err, err)
    finally:
        s.close()


@test
def requeue_all():
    s = Spool()
    try:
        rc, out, err = s.run("-r", "all")
        check(rc == 0 and out == "", (rc, out, err))
        for n in ("m1", "m2", "m3"):
            s.put("failed", n)
        rc, out, err = s.run("-r", "all")
        check(rc == 0, (rc, err))
        check(s.ls("new") == ["m1", "m2", "m3"] and s.ls("failed") == [],
              (s.ls("new"), s.ls("failed")))
    finally:
        s.close()


@test
def requeue_never_replaces():
    s = Spool()
    try:
        s.put("failed", "m1", sender="<old@example.net>")
        s.put("new", "m1", sender="<new@example.net>")
        rc, out, err = s.run("-r", "m1")
        check(rc == EX_NOINPUT, "rc %d" % rc)
        with open(os.path.join(s.spool, "new", "m1")) as f:
            check("<new@example.net>" in f.read(), "new/m1 replaced")
        check(s.ls("failed") == ["m1"], s.ls("failed"))
    finally:
        s.close()


@test
def usage_r_needs_id():
    p = subprocess.run([SMTPFE, "-r"], capture_output=True)
    check(p.returncode == 64, "rc %d" % p.returncode)


def wait_for(cond, seconds):
    end = time.time() + seconds
    while time.time() < end:
        if cond():
            return True
        time.sleep(0.02)
    return cond()


@test
def requeue_while_runner_runs():
    """-Q 3600: a requeued message is handed off at once (inotify)."""
    mta = FakeMTA()
    s = Spool("smtp:127.0.0.1:%d" % mta.port)
    q = None
    try:
        s.put("failed", "m1")
        q = subprocess.Popen([SMTPFE, "-Q", "3600", "-f", s.conf],
                             stderr=subprocess.PIPE)
        time.sleep(0.5)
        t0 = time.time()
        rc, out, err = s.run("-r", "m1")
        check(rc == 0, (rc, err))
        check(wait_for(lambda: len(mta.messages) == 1, 5), "not handed off")
        took = time.time() - t0
        check(took < 1.5, "took %.2f s" % took)
        check(wait_for(lambda: s.ls("new") == [], 2), s.ls("new"))
        env, data = mta.messages[0]
        check(env == ["MAIL FROM:<a@example.net>", "RCPT TO:<x@example.org>"],
              env)
        check(data.endswith(b"Subject: t\r\n\r\nhi\r\n"), data)
        q.terminate()
        check(q.wait(10) == 0, "-Q exit %s" % q.returncode)
        q = None
    finally:
        if q is not None:
            q.kill()
            q.wait()
        s.close()
        mta.close()


@test
def runner_many_once_each():
    """-Q with 3 workers: 60 messages renamed in, each handed off once."""
    mta = FakeMTA()
    s = Spool("smtp:127.0.0.1:%d" % mta.port, "handoff_processes = 3\n")
    q = None
    try:
        q = subprocess.Popen([SMTPFE, "-Q", "3600", "-f", s.conf],
                             stderr=subprocess.PIPE)
        time.sleep(0.3)
        for i in range(60):
            s.put("tmp", "m%02d" % i, body=b"n: %d\n" % i)
            os.rename(os.path.join(s.spool, "tmp", "m%02d" % i),
                      os.path.join(s.spool, "new", "m%02d" % i))
        check(wait_for(lambda: len(mta.messages) >= 60, 15),
              "%d handed off" % len(mta.messages))
        time.sleep(0.3)
        bodies = sorted(d for _, d in mta.messages)
        check(len(bodies) == 60 and len(set(bodies)) == 60,
              "%d messages, %d distinct" % (len(bodies), len(set(bodies))))
        check(s.ls("new") == [] and s.ls("failed") == [],
              (s.ls("new"), s.ls("failed")))
        q.terminate()
        check(q.wait(10) == 0, "-Q exit %s" % q.returncode)
        q = None
    finally:
        if q is not None:
            q.kill()
            q.wait()
        s.close()
        mta.close()


@test
def bad_handoff_values():
    for v in ("smtp", "smtp:127.0.0.1", "smtp:localhost:25", "smtp:::1:25",
              "smtp:127.0.0.1:0", "smtp:127.0.0.1:65536", "lmtp:1.2.3.4:24",
              "/usr/sbin/sendmail"):
        s = Spool(v)
        try:
            rc, out, err = s.run("-p")
            check(rc == 78 and "handoff" in err, "%r: rc %d %s" % (v, rc, err))
        finally:
            s.close()
    for v in ("0", "65"):
        s = Spool("sendmail", "handoff_processes = %s\n" % v)
        try:
            rc, out, err = s.run("-p")
            check(rc == 78 and "handoff_processes" in err, (v, rc, err))
        finally:
            s.close()
    for v in ("1", "64"):
        s = Spool("sendmail", "handoff_processes = %s\n" % v)
        try:
            rc, out, err = s.run("-p")
            check(rc == 0, (v, rc, err))
        finally:
            s.close()
    for v in ("smtp:127.0.0.1:10025", "smtp:[::1]:10025", "sendmail"):
        s = Spool(v)
        try:
            rc, out, err = s.run("-p")
            check(rc == 0, "%r: rc %d %s" % (v, rc, err))
        finally:
            s.close()


@test
def make_run_flow():
    """tests/run-sample.sh (make run): a message ends in run/mailbox."""
    import smtplib
    top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    cwd = tempfile.mkdtemp(prefix="queue_test.run.")
    os.chmod(cwd, 0o755)
    port = PORTS[-1]
    p = subprocess.Popen(["sh", os.path.join(top, "tests/run-sample.sh"),
                          SMTPFE], cwd=cwd, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT,
                         env=dict(os.environ, RUN_FOR="4",
                                  RUN_PORT=str(port)))
    try:
        def up():
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                return True
            except OSError:
                return False
        check(wait_for(up, 3), "make run does not listen")
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as c:
            c.sendmail("me@example.net", ["you@example.org"],
                       b"Subject: hello\r\n\r\nFrom me, hello.\r\n")
        box = os.path.join(cwd, "run", "mailbox")
        check(wait_for(lambda: os.path.getsize(box) > 0, 2),
              "nothing in run/mailbox")
        out = p.communicate(timeout=20)[0].decode()
        check(p.returncode == 0, "rc %s: %s" % (p.returncode, out))
        check("1 message(s) in" in out, out)
        with open(box, "rb") as f:
            mbox = f.read()
        check(mbox.startswith(b"From me@example.net "), mbox[:80])
        check(b"\nReturn-Path: <me@example.net>\nX-Envelope-To: "
              b"you@example.org\nReceived: from " in mbox, mbox[:300])
        check(mbox.endswith(b"\n\n>From me, hello.\n\n"), mbox[-60:])
        check(os.listdir(os.path.join(cwd, "run", "spool", "new")) == [],
              "left in new/")
    finally:
        if p.poll() is None:
            p.terminate()       # its trap stops smtpfe by PID
            p.wait(20)
        shutil.rmtree(cwd, ignore_errors=True)


@test
def n_checks_the_listener():
    """-n with handoff = smtp: the listener must greet, sendmail is moot"""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))       # a port nobody listens on
    free = probe.getsockname()[1]
    probe.close()
    s = Spool("smtp:127.0.0.1:%d" % free, "sendmail = /nonexistent\n")
    try:
        rc, out, err = s.run("-n")
        check(rc == 78 and "handoff smtp:127.0.0.1:%d: cannot connect" % free
              in err, (rc, err))
        check("sendmail" not in err.replace("handoff", ""), err)
    finally:
        s.close()
    mta = FakeMTA()
    s = Spool("smtp:127.0.0.1:%d" % mta.port, "sendmail = /nonexistent\n")
    try:
        rc, out, err = s.run("-n")
        check(rc == 0 and out.endswith(": ok\n"), (rc, out, err))
    finally:
        s.close()
        mta.close()


def main():
    passed = failed = 0
    for fn in TESTS:
        try:
            fn()
            passed += 1
            print("ok   %s" % fn.__name__)
        except Exception:
            failed += 1
            print("FAIL %s" % fn.__name__)
            traceback.print_exc()
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
