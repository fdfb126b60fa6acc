#!/usr/bin/env python3
"""
drive.py - run sessions of the real smtpfe, as inetd does (the socket on
fd 0, 1 and 2, here one end of a socketpair, TCPREMOTEIP set), through
every path that makes system calls: a full transaction, an over-size
message, a bad-command storm (tarpit sleeps), junk commands, a read
timeout, a lost connection in DATA, bare LF, a long line, a spool that
refuses the file.  No TCP port is used.

usage: drive.py CONF SCENARIO... [-- WRAPPER...]
       drive.py --setup DIR yes|no
  The second form makes a spool and a configuration in DIR (chroot yes
  or no; user nobody when run as root), runs every scenario, and checks
  the spool afterwards and, when chrooted, that syslog lines arrived at
  the spool's dev/log.  check_sandbox runs it against $SMTPFE.
  SYSLOG_SOCK=PATH in the environment: bind a datagram socket there (the
  spool's dev/log, for a chrooted session) and print what it receives.
  WRAPPER is a command put in front of smtpfe (e.g. strace -f -o LOG).
Prints one line per scenario: name, the session's wait status, the
replies' codes.  Exits 1 if a session died of a signal or a reply was
not the one expected.
"""

import os
import socket
import subprocess
import sys
import threading
import time

SMTPFE = os.environ.get("SMTPFE", "./smtpfe")


def session(conf, wrapper, script, timeout=20.0):
    a, b = socket.socketpair()
    env = {"TCPREMOTEIP": "192.0.2.7", "PATH": "/usr/bin:/bin"}
    for k in ("SMTPFE_SANDBOX", "ASAN_OPTIONS", "UBSAN_OPTIONS"):
        if k in os.environ:
            env[k] = os.environ[k]
    p = subprocess.Popen(wrapper + [SMTPFE, "-f", conf], stdin=b, stdout=b,
                         stderr=b, env=env, close_fds=True)
    b.close()
    a.settimeout(timeout)
    buf = b""
    codes = []

    def reply():
        nonlocal buf
        while True:
            i = buf.find(b"\r\n")
            if i >= 0:
                line, buf = buf[:i], buf[i + 2:]
                if line[3:4] == b"-":
                    continue
                codes.append(line[:3].decode("latin-1"))
                return line
            chunk = a.recv(65536)
            if not chunk:
                codes.append("EOF")
                return b""
            buf += chunk

    try:
        script(a, reply)
    except (OSError, socket.timeout) as e:
        codes.append("ERR:%s" % e)
    a.close()
    try:
        st = p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        st = p.wait()
        codes.append("HUNG")
    return st, codes


def hello(s, r):
    r()
    s.sendall(b"EHLO client.example.net\r\n")
    r()


def plain(s, r):
    hello(s, r)
    s.sendall(b"MAIL FROM:<a@example.net> BODY=8BITMIME\r\n")
    r()
    for i in range(3):
        s.sendall(b"RCPT TO:<u%d@example.org>\r\n" % i)
        r()
    s.sendall(b"DATA\r\n")
    r()
    s.sendall(b"Subject: hi\r\n\r\n" + b"line of text\r\n" * 2000 +
              b".\r\n")
    r()
    s.sendall(b"MAIL FROM:<>\r\nRCPT TO:<x@example.org>\r\nDATA\r\n")
    r(); r(); r()
    # RFC 2920: NOOP and VRFY end a group; the client waits after each.
    s.sendall(b"short\r\n.\r\nRSET\r\nNOOP\r\n")
    r(); r(); r()
    s.sendall(b"VRFY x\r\n")
    r()
    s.sendall(b"HELP\r\nQUIT\r\n")
    r(); r()


def oversize(s, r):
    hello(s, r)
    s.sendall(b"MAIL FROM:<a@example.net>\r\nRCPT TO:<u@example.org>\r\n"
              b"DATA\r\n")
    r(); r(); r()
    s.sendall(b"X" * 70 + b"\r\n")
    chunk = (b"y" * 998 + b"\r\n") * 64
    for _ in range(4):
        s.sendall(chunk)
    s.sendall(b".\r\nQUIT\r\n")
    r(); r()


def storm(s, r):
    hello(s, r)
    for i in range(10):
        s.sendall(b"BOGUS %d\r\n" % i)
        r()
    r()
    r()


def junk(s, r):
    hello(s, r)
    for _ in range(101):
        s.sendall(b"NOOP\r\n")
        r()
    r()


def timeout(s, r):
    hello(s, r)
    r()   # 421 after the configured timeout


def lost(s, r):
    hello(s, r)
    s.sendall(b"MAIL FROM:<a@example.net>\r\nRCPT TO:<u@example.org>\r\n"
              b"DATA\r\n")
    r(); r(); r()
    s.sendall(b"part of a message\r\n")
    s.shutdown(socket.SHUT_WR)
    r()


def bare(s, r):
    hello(s, r)
    s.sendall(b"MAIL FROM:<a@example.net>\r\nRCPT TO:<u@example.org>\r\n"
              b"DATA\r\n")
    r(); r(); r()
    s.sendall(b"bare\nlf\r\n.\r\n")
    r()
    s.sendall(b"A" * 600 + b"\r\nDEBUG\r\nEXPN x\r\n")
    r(); r(); r()
    s.sendall(b"MAIL FROM:<b@example.net>\r\n"
              b"RCPT TO:<|/bin/sh@example.org>\r\nQUIT\r\n")
    r(); r(); r()


def partial(s, r):
    hello(s, r)
    s.sendall(b"MAIL FROM:<a@example.net>\r\nRCPT TO:<u@example.org>\r\n"
              b"DATA\r\n")
    r(); r(); r()
    s.sendall(b"Content-Type: message/partial; id=1; number=1\r\n\r\n"
              b"x\r\n.\r\nQUIT\r\n")
    r(); r()


EXPECT = {
    "plain": ["220", "250", "250", "250", "250", "250", "354", "250",
              "250", "250", "354", "250", "250", "250", "252", "214",
              "221"],
    "oversize": ["220", "250", "250", "250", "354", "552", "221"],
    "storm": ["220", "250"] + ["500"] * 10 + ["421", "EOF"],
    "junk": ["220", "250"] + ["250"] * 100 + ["421", "EOF"],
    "timeout": ["220", "250", "421"],
    "lost": ["220", "250", "250", "250", "354", "EOF"],
    "bare": ["220", "250", "250", "250", "354", "550", "500", "502",
             "502", "250", "553", "221"],
    "partial": ["220", "250", "250", "250", "354", "554", "221"],
    # the spool's tmp/ made unwritable by the caller: 451 after DATA
    "nospool": ["220", "250", "250", "250", "451", "221"],
}


def nospool(s, r):
    hello(s, r)
    s.sendall(b"MAIL FROM:<a@example.net>\r\nRCPT TO:<u@example.org>\r\n"
              b"DATA\r\n")
    r(); r(); r()
    s.sendall(b"QUIT\r\n")
    r()


SCENARIOS = {"plain": plain, "oversize": oversize, "storm": storm,
             "junk": junk, "timeout": timeout, "lost": lost, "bare": bare,
             "partial": partial, "nospool": nospool}


class SyslogSink:
    """A datagram socket at PATH standing in for /dev/log, read by a
    thread of its own (a full socket would block the session's syslog)."""

    def __init__(self, path):
        if os.path.exists(path):
            os.unlink(path)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        os.chmod(path, 0o666)
        self.lines = []
        self.lock = threading.Lock()
        threading.Thread(target=self.run, daemon=True).start()

    def run(self):
        while True:
            line = self.sock.recv(65536).decode("latin-1")
            with self.lock:
                self.lines.append(line)

    def drain(self):
        time.sleep(0.05)
        with self.lock:
            lines, self.lines = self.lines, []
        return lines


def many(s, r):
    """40 long recipients: the summary log line outgrows syslog's
    stack buffer, so syslog(3) allocates."""
    hello(s, r)
    s.sendall(b"MAIL FROM:<a@example.net>\r\n")
    r()
    for i in range(40):
        s.sendall(b"RCPT TO:<%s%02d@example.org>\r\n" % (b"r" * 62, i))
        r()
    s.sendall(b"DATA\r\n")
    r()
    s.sendall(b"many\r\n.\r\nQUIT\r\n")
    r(); r()


def pipeline(s, r):
    """RFC 2920's group end ignored: input already there when the NOOP's
    reply would go out (netio_pending's poll and read under the filter)."""
    hello(s, r)
    s.sendall(b"NOOP\r\nNOOP\r\n")
    r(); r()


SCENARIOS["many"] = many
SCENARIOS["pipeline"] = pipeline
EXPECT["pipeline"] = ["220", "250", "554", "EOF"]
EXPECT["many"] = ["220", "250", "250"] + ["250"] * 40 + ["354", "250", "221"]
# How many files each scenario leaves in new/.
SPOOLED = {"plain": 2, "many": 1}

CONF = """# drive.py
hostname = mx.test.example
local_domains = example.org
relay_networks = 127.0.0.1/32
spool = %(spool)s
user = nobody
chroot = %(chroot)s
greet_pause = 0
min_free_space = 0
timeout = 2
max_message_size = 100000
max_errors = 10
"""


def setup(top, chroot):
    """A spool and a configuration under TOP; the syslog sink path or
    None (a chrooted session reconnects to the spool's dev/log)."""
    spool = os.path.join(top, "spool")
    os.chmod(top, 0o755)
    os.mkdir(spool)
    for sub in ("tmp", "new", "failed"):
        os.mkdir(os.path.join(spool, sub))
    if os.geteuid() == 0:
        import pwd
        nobody = pwd.getpwnam("nobody")
        for sub in ("", "tmp", "new", "failed"):
            os.chown(os.path.join(spool, sub), nobody.pw_uid, nobody.pw_gid)
    for sub in ("", "tmp", "new", "failed"):
        os.chmod(os.path.join(spool, sub), 0o700)
    conf = os.path.join(top, "smtpfe.conf")
    with open(conf, "w") as f:
        f.write(CONF % {"spool": spool, "chroot": chroot})
    os.chmod(conf, 0o644)
    sink = None
    if os.geteuid() == 0 and chroot == "yes":
        os.mkdir(os.path.join(spool, "dev"), 0o755)
        sink = os.path.join(spool, "dev", "log")
    return conf, spool, sink


def run_setup(argv):
    """--setup DIR CHROOT: every scenario, then the spool is checked."""
    top, chroot = argv[2], argv[3]
    conf, spool, sinkpath = setup(top, chroot)
    sink = SyslogSink(sinkpath) if sinkpath else None
    bad = 0
    want = 0
    for name in SCENARIOS:
        t0 = time.monotonic()
        if name == "nospool":
            os.chmod(os.path.join(spool, "tmp"), 0o500)
        st, codes = session(conf, [], SCENARIOS[name])
        if name == "nospool":
            os.chmod(os.path.join(spool, "tmp"), 0o700)
        ok = st == 0 and codes == EXPECT[name]
        logged = sink.drain() if sink else []
        if sink and not any("connect from" in l for l in logged):
            ok = False
            codes.append("(no syslog line)")
        bad += not ok
        want += SPOOLED.get(name, 0)
        if ok:
            print("drive.py %s: ok, exit 0, %.1fs" % (name,
                  time.monotonic() - t0))
        else:
            print("drive.py %s: FAIL, status %s, replies %s (expected %s)"
                  % (name, st, " ".join(codes), " ".join(EXPECT[name])))
    new = os.listdir(os.path.join(spool, "new"))
    tmp = os.listdir(os.path.join(spool, "tmp"))
    if len(new) != want or tmp:
        print("spool: %d in new/ (want %d), tmp/ %s" % (len(new), want, tmp))
        bad += 1
    return 1 if bad else 0


def main(argv):
    if len(argv) == 4 and argv[1] == "--setup":
        return run_setup(argv)
    if len(argv) < 3:
        sys.exit(__doc__)
    sink = None
    if os.environ.get("SYSLOG_SOCK"):
        sink = SyslogSink(os.environ["SYSLOG_SOCK"])
    conf = argv[1]
    rest = argv[2:]
    wrapper = []
    if "--" in rest:
        i = rest.index("--")
        rest, wrapper = rest[:i], rest[i + 1:]
    bad = 0
    for name in rest:
        t0 = time.monotonic()
        st, codes = session(conf, wrapper, SCENARIOS[name])
        ok = st == 0 and codes == EXPECT[name]
        bad += not ok
        print("%-9s %s status=%s %.1fs %s" % (name, "ok  " if ok else "FAIL",
              st, time.monotonic() - t0, " ".join(codes)))
        if sink is not None:
            for line in sink.drain():
                print("    syslog: %s" % line[:150])
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
