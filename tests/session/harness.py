"""
harness.py - the pieces the session tests share: a private "smtpfe -l"
server per configuration, an SMTP client that keeps a transcript, the
spool readers and the expected spool file.

Python 3 standard library only.  Ports 25300-25399, 127.0.0.0/8 and ::1.
"""

import calendar
import errno
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

HOSTNAME = "mx.test.example"
IS_ROOT = os.geteuid() == 0
CHROOT = os.environ.get("SMTPFE_TEST_CHROOT", "yes") != "no"
SANITIZER = bool(os.environ.get("SMTPFE_SAN"))
PORT_FIRST, PORT_LAST = 25300, 25399
_next_port = PORT_FIRST


class Fail(AssertionError):
    """A test assertion with a readable reason."""


def fail(msg):
    raise Fail(msg)


def smtpfe_path():
    path = os.environ.get("SMTPFE")
    if not path:
        fail("SMTPFE is not set (run as SMTPFE=/abs/path/smtpfe python3 "
             "tests/session_test.py)")
    if not os.path.isabs(path):
        path = os.path.abspath(path)
    if not os.access(path, os.X_OK):
        fail("SMTPFE=%s is not an executable file" % path)
    return path


def _port_free(port, family=socket.AF_INET, addr="127.0.0.1"):
    s = socket.socket(family, socket.SOCK_STREAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((addr, port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def alloc_port(family=socket.AF_INET, addr="127.0.0.1"):
    """The next free port of our range (bounded)."""
    global _next_port
    probe = socket.socket(family, socket.SOCK_STREAM)
    try:
        probe.bind((addr, 0))
    except OSError as e:
        fail("cannot bind %s here (%s): this test needs it" % (addr, e))
    finally:
        probe.close()
    while _next_port <= PORT_LAST:
        port = _next_port
        _next_port += 1
        if _port_free(port, family, addr):
            return port
    fail("no free port left in %d-%d" % (PORT_FIRST, PORT_LAST))


def _listening(port):
    """True when some socket listens on PORT (from /proc/net/tcp*)."""
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(name) as f:
                next(f)
                for line in f:
                    fields = line.split()
                    local, state = fields[1], fields[3]
                    if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                        return True
        except OSError:
            continue
    return False


def proc_children(pid):
    """PIDs whose parent is PID (scan of /proc/*/stat, by PID only)."""
    kids = []
    for ent in os.listdir("/proc"):
        if not ent.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % ent) as f:
                stat = f.read()
        except OSError:
            continue
        # "pid (comm) state ppid ..."; comm may hold blanks or parens.
        rest = stat[stat.rfind(")") + 2:].split()
        if len(rest) > 1 and rest[1] == str(pid) and rest[0] != "Z":
            kids.append(int(ent))
    return sorted(kids)


def proc_status(pid, key):
    """A field of /proc/PID/status, e.g. VmHWM -> kB as int."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return None


def pid_alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2:].split()[0] != "Z"


def wait_gone(pids, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(pid_alive(p) for p in pids):
            return True
        time.sleep(0.02)
    return False


class Server:
    """A private smtpfe -l with its own spool and configuration."""

    BASE = {
        "hostname": HOSTNAME,
        "local_domains": "example.org, .example.com",
        "relay_networks": "127.0.0.1/32 ::1/128",
        "greet_pause": "0",
        "min_free_space": "0",
        "timeout": "10",
        "session_timeout": "120",
    }

    def __init__(self, name, conf=None, listen="127.0.0.1", recipients=None,
                 raw=None, drop=()):
        self.name = name
        self.listen_addr = listen
        self.family = socket.AF_INET6 if ":" in listen else socket.AF_INET
        self.dir = tempfile.mkdtemp(prefix="smtpfe-sess-%s-" % name)
        os.chmod(self.dir, 0o755)
        self.spool = os.path.join(self.dir, "spool")
        os.mkdir(self.spool)
        for sub in ("tmp", "new", "failed"):
            os.mkdir(os.path.join(self.spool, sub))
        if IS_ROOT:
            nobody = pwd.getpwnam("nobody")
            for d in ("", "tmp", "new", "failed"):
                p = os.path.join(self.spool, d)
                os.chown(p, nobody.pw_uid, nobody.pw_gid)
                os.chmod(p, 0o700)
        keys = dict(self.BASE)
        keys["spool"] = self.spool
        if IS_ROOT:
            keys["user"] = "nobody"
        if not CHROOT:
            keys["chroot"] = "no"
        if recipients is not None:
            rpath = os.path.join(self.dir, "recipients")
            with open(rpath, "w") as f:
                f.write("".join(r + "\n" for r in recipients))
            os.chmod(rpath, 0o644)
            keys["recipients"] = rpath
        keys.update(conf or {})
        for k in drop:
            keys.pop(k, None)
        self.conf_keys = keys
        self.conf = os.path.join(self.dir, "smtpfe.conf")
        with open(self.conf, "w") as f:
            f.write("# session_test %s\n" % name)
            for k, v in keys.items():
                f.write("%s = %s\n" % (k, v))
            if raw:
                f.write(raw)
        os.chmod(self.conf, 0o644)
        self.proc = None
        self.port = None
        self.clients = []
        self.errlog = os.path.join(self.dir, "server.stderr")

    # -- life cycle -------------------------------------------------------

    def start(self):
        exe = smtpfe_path()
        self.port = alloc_port(self.family, self.listen_addr)
        if self.family == socket.AF_INET6:
            spec = "[%s]:%d" % (self.listen_addr, self.port)
        else:
            spec = "%s:%d" % (self.listen_addr, self.port)
        self.listen_spec = spec
        err = open(self.errlog, "wb")
        self.proc = subprocess.Popen([exe, "-f", self.conf, "-l", spec],
                                     stdin=subprocess.DEVNULL,
                                     stdout=err, stderr=err)
        err.close()
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                fail("smtpfe -f %s -l %s exited %s at start: %s"
                     % (self.conf, spec, self.proc.returncode,
                        self.stderr_text()))
            if _listening(self.port):
                return self
            time.sleep(0.02)
        fail("smtpfe -l %s does not listen after 5 s: %s"
             % (spec, self.stderr_text()))

    def stderr_text(self):
        try:
            with open(self.errlog, "rb") as f:
                return f.read()[-2000:].decode("utf-8", "replace").strip()
        except OSError:
            return ""

    def stop(self):
        """SIGTERM the server by PID, wait; returns a problem or None."""
        problem = None
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                problem = "server pid %d ignored SIGTERM for 5 s" % self.proc.pid
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None and problem is None and self.proc.returncode not in (0, -signal.SIGTERM):
            problem = "server exited %s on SIGTERM (SPEC: 0)" % self.proc.returncode
        return problem

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- clients ----------------------------------------------------------

    def connect(self, src=None, timeout=10.0):
        host = self.listen_addr
        if src is None:
            src = "::1" if self.family == socket.AF_INET6 else "127.0.0.1"
        c = Client(host, self.port, src=src, family=self.family,
                   timeout=timeout)
        self.clients.append(c)
        return c

    def close_clients(self):
        for c in self.clients:
            c.close()
        self.clients = []

    def session(self, src=None, timeout=10.0):
        """Connect and read a one-line 220 greeting."""
        c = self.connect(src=src, timeout=timeout)
        c.expect_greeting()
        return c

    def children(self):
        return proc_children(self.proc.pid)

    def session_child(self, before, timeout=3.0):
        """The one session child that appeared since BEFORE."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            new = [p for p in self.children() if p not in before]
            if len(new) == 1:
                return new[0]
            if len(new) > 1:
                fail("several new children of the -l server: %s" % new)
            time.sleep(0.01)
        fail("no session child of server pid %d appeared" % self.proc.pid)

    def wait_idle(self, timeout=5.0):
        """Wait until no session child is left."""
        kids = self.children()
        if not wait_gone(kids, timeout):
            fail("session children %s still alive after %.0f s"
                 % ([k for k in kids if pid_alive(k)], timeout))

    # -- spool ------------------------------------------------------------

    def path(self, sub, name=""):
        return os.path.join(self.spool, sub, name)

    def files(self, sub):
        return sorted(os.listdir(self.path(sub)))

    def clean_spool(self):
        """Empty new/, tmp/ and failed/ (between tests of one server)."""
        self.wait_idle()
        for sub in ("new", "tmp", "failed"):
            for n in os.listdir(self.path(sub)):
                os.unlink(self.path(sub, n))

    def read_new(self, name):
        with open(self.path("new", name), "rb") as f:
            return f.read()

    def assert_nothing_spooled(self, what=""):
        new = self.files("new")
        if new:
            fail("%sexpected nothing in new/, found %s" % (what, new))

    def assert_tmp_empty(self, what=""):
        self.wait_idle()
        tmp = self.files("tmp")
        if tmp:
            fail("%sexpected tmp/ empty after the session, found %s" % (what, tmp))


class Closed(Exception):
    """The server closed the connection."""


class Reply:
    ENH = re.compile(r"^([245])\.(\d{1,3})\.(\d{1,3})(?:\s|$)")

    def __init__(self, lines):
        self.raw_lines = lines          # bytes, no CRLF
        first = lines[0].decode("latin-1")
        self.code = int(first[:3])
        self.lines = [l.decode("latin-1")[4:] for l in lines]
        self.text = self.lines[0]
        m = self.ENH.match(self.text)
        self.enh = "%s.%s.%s" % m.groups() if m else None

    def __str__(self):
        return " / ".join(l.decode("latin-1") for l in self.raw_lines)

    def enh_all(self):
        """The enhanced code of every line, None where missing."""
        out = []
        for t in self.lines:
            m = self.ENH.match(t)
            out.append("%s.%s.%s" % m.groups() if m else None)
        return out


def _short(b, n=160):
    if isinstance(b, bytes):
        b = b.decode("latin-1")
    r = repr(b)
    if len(r) > n:
        r = r[:n - 20] + "...(%d octets)" % len(b)
    return r


class Client:
    def __init__(self, host, port, src=None, family=socket.AF_INET,
                 timeout=10.0, sock=None):
        if sock is None:
            sock = socket.socket(family, socket.SOCK_STREAM)
            if src:
                sock.bind((src, 0))
            sock.settimeout(timeout)
            sock.connect((host, port))
        self.sock = sock
        self.sock.settimeout(timeout)
        self.timeout = timeout
        self.buf = b""
        self.eof = False
        self.log = []                   # transcript: ("C"|"S", text)

    @classmethod
    def from_socket(cls, sock, timeout=10.0):
        return cls(None, None, timeout=timeout, sock=sock)

    def transcript(self, last=12):
        return "\n      ".join("%s: %s" % (d, t) for d, t in self.log[-last:])

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, data):
        if isinstance(data, str):
            data = data.encode("utf-8")
        self.log.append(("C", _short(data)))
        self.sock.sendall(data)

    def _fill(self, timeout):
        if self.eof:
            raise Closed()
        self.sock.settimeout(timeout)
        try:
            chunk = self.sock.recv(65536)
        except ConnectionResetError:
            chunk = b""
        finally:
            self.sock.settimeout(self.timeout)
        if not chunk:
            self.eof = True
            raise Closed()
        self.buf += chunk

    def readline(self, timeout=None):
        """A line from the server without CRLF; Closed at EOF."""
        timeout = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout("no line from the server in %.1f s" % timeout)
            self._fill(left)
        line, self.buf = self.buf.split(b"\n", 1)
        if line.endswith(b"\r"):
            line = line[:-1]
        else:
            fail("reply line not ended by CRLF: %s" % _short(line))
        self.log.append(("S", _short(line)))
        return line

    def reply(self, timeout=None, what="a reply"):
        lines = []
        try:
            while True:
                line = self.readline(timeout)
                if len(line) < 3 or not line[:3].isdigit() or \
                        (len(line) > 3 and line[3:4] not in (b" ", b"-")):
                    fail("malformed reply line %s\n      %s"
                         % (_short(line), self.transcript()))
                lines.append(line)
                if len(line) == 3 or line[3:4] == b" ":
                    break
                if len(lines) > 100:
                    fail("reply of over 100 lines")
        except Closed:
            fail("connection closed while waiting for %s (got %s)\n      %s"
                 % (what, [l.decode('latin-1') for l in lines], self.transcript()))
        except socket.timeout:
            fail("no complete reply while waiting for %s within %.1f s (got %s)\n      %s"
                 % (what, self.timeout if timeout is None else timeout,
                    [l.decode('latin-1') for l in lines], self.transcript()))
        return Reply(lines)

    def maybe_reply(self, timeout):
        """A reply if one starts within TIMEOUT, else None; Closed at EOF."""
        if b"\n" not in self.buf:
            try:
                self._fill(timeout)
            except socket.timeout:
                return None
        return self.reply()

    def check(self, r, code, enh=None, what=""):
        ok = r.code == code if isinstance(code, int) else r.code in code
        if ok and enh is not None:
            ok = r.enh == enh if isinstance(enh, str) else r.enh in enh
        if not ok:
            fail("%s: expected %s%s, got %r\n      %s"
                 % (what or "reply", code, (" " + str(enh)) if enh else "",
                    str(r), self.transcript()))
        return r

    def expect(self, code, enh=None, what="", timeout=None):
        return self.check(self.reply(timeout, what=what or "reply %s" % code),
                          code, enh, what)

    def cmd(self, line, code=None, enh=None, timeout=None):
        """Send LINE + CRLF, read the reply, check it when CODE given."""
        if isinstance(line, str):
            line = line.encode("utf-8")
        self.send(line + b"\r\n")
        r = self.reply(timeout, what="the reply to %s" % _short(line, 80))
        if code is not None:
            self.check(r, code, enh, "after %s" % _short(line, 100))
        return r

    def expect_greeting(self):
        r = self.reply(what="the greeting")
        if r.code != 220 or len(r.raw_lines) != 1:
            fail("greeting: expected one line '220 %s ESMTP', got %r"
                 % (HOSTNAME, str(r)))
        return r

    def ehlo(self, name="client.example"):
        return self.cmd("EHLO " + name, 250)

    def helo(self, name="client.example"):
        return self.cmd("HELO " + name, 250)

    def expect_closed(self, timeout=3.0, what=""):
        """The server must close without sending anything more."""
        try:
            if self.buf:
                fail("%sexpected the connection closed, got more: %s"
                     % (what, _short(self.buf)))
            self._fill(timeout)
            fail("%sexpected the connection closed, got more: %s\n      %s"
                 % (what, _short(self.buf), self.transcript()))
        except Closed:
            return
        except socket.timeout:
            fail("%sexpected the connection closed within %.1f s; still open\n      %s"
                 % (what, timeout, self.transcript()))

    def quit(self):
        self.cmd("QUIT", 221, "2.0.0")
        self.expect_closed(what="after QUIT: ")
        self.close()


# -- messages and the spool file ----------------------------------------------

def dot_stuff(body_lf):
    """LF-form text (bytes) -> the CRLF, dot-stuffed DATA to send (no end)."""
    if body_lf and not body_lf.endswith(b"\n"):
        body_lf += b"\n"
    out = []
    for line in body_lf.split(b"\n")[:-1]:
        if line.startswith(b"."):
            line = b"." + line
        out.append(line + b"\r\n")
    return b"".join(out)


ISO = re.compile(rb"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)Z$")
DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
MONS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep",
        "Oct", "Nov", "Dec"]
RFCDATE = re.compile(rb"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d{1,2}) "
                     rb"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
                     rb"(\d{4}) (\d\d):(\d\d):(\d\d) \+0000$")


def _near_now(t, slack=10):
    return abs(t - time.time()) <= slack


def check_spool_file(data, *, client, helo, sender, rcpts, body_lf, sid,
                     body_param=None, proto="ESMTP"):
    """Compare a spool file with SPEC "The spool", byte for byte."""
    head, sep, rest = data.partition(b"\n\n")
    if not sep:
        fail("spool file %s has no blank line after the envelope: %s"
             % (sid, _short(data, 300)))
    lines = head.split(b"\n")
    want = [b"Smtpfe-Spool: 1", b"Client: " + client.encode(),
            b"Helo: " + helo.encode(), b"Sender: <" + sender.encode() + b">"]
    want += [b"Recipient: <" + r.encode() + b">" for r in rcpts]
    if body_param:
        want.append(b"Body: " + body_param.encode())
    arrived = lines[-1] if lines else b""
    if not arrived.startswith(b"Arrived: ") or not ISO.match(arrived[9:]):
        fail("spool %s: last envelope line should be 'Arrived: "
             "YYYY-MM-DDTHH:MM:SSZ', got %s\n      envelope: %s"
             % (sid, _short(arrived), _short(head, 600)))
    y, mo, d, h, mi, s = map(int, ISO.match(arrived[9:]).groups())
    t = calendar.timegm((y, mo, d, h, mi, s, 0, 0, 0))
    if not _near_now(t):
        fail("spool %s: Arrived %s is not within 10 s of now (%s)"
             % (sid, arrived.decode(), time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())))
    want.append(arrived)
    if lines != want:
        fail("spool %s envelope:\n      expected %s\n      got      %s"
             % (sid, [l.decode("latin-1") for l in want],
                [l.decode("latin-1") for l in lines]))
    # The Received: header the server adds.
    rl = rest.split(b"\n", 3)
    if len(rl) < 4:
        fail("spool %s: message part too short: %s" % (sid, _short(rest, 400)))
    dm = re.match(rb"^        for <" + re.escape(rcpts[0].encode()) +
                  rb">; (.*)$", rl[2])
    want_recv = [
        b"Received: from %s (%s [%s])" % (helo.encode(), helo.encode(),
                                           client.encode()),
        b"        by %s (smtpfe) with %s id %s" % (HOSTNAME.encode(),
                                                    proto.encode(), sid.encode()),
    ]
    if rl[:2] != want_recv or not dm:
        fail("spool %s Received: header:\n      expected %s\n        + '        for <%s>; DAY, DD MON YYYY HH:MM:SS +0000'\n      got      %s"
             % (sid, [l.decode() for l in want_recv], rcpts[0],
                [l.decode("latin-1") for l in rl[:3]]))
    dd = RFCDATE.match(dm.group(1))
    if not dd:
        fail("spool %s: Received: date %s is not 'DAY, DD MON YYYY HH:MM:SS +0000'"
             % (sid, _short(dm.group(1))))
    day, dnum, mon, yy, hh, mm, ss = [x.decode() for x in dd.groups()]
    t2 = calendar.timegm((int(yy), MONS.index(mon) + 1, int(dnum), int(hh),
                          int(mm), int(ss), 0, 0, 0))
    if not _near_now(t2) or DAYS[time.gmtime(t2).tm_wday] != day:
        fail("spool %s: Received: date %s wrong or not near now"
             % (sid, dm.group(1).decode()))
    body = rl[3]
    if body != body_lf:
        i = 0
        while i < min(len(body), len(body_lf)) and body[i] == body_lf[i]:
            i += 1
        fail("spool %s: message body differs at octet %d (expected %d octets, got %d):"
             "\n      expected %s\n      got      %s"
             % (sid, i, len(body_lf), len(body), _short(body_lf[max(0, i - 20):i + 40]),
                _short(body[max(0, i - 20):i + 40])))


def rows(s, rows_, setup=(), src=None, per_session=2):
    """Check (line, code, enh) rows, PER_SESSION rows per connection, so
    that no session reaches the error tarpit.  SETUP lines must get 2xx."""
    for i in range(0, len(rows_), per_session):
        c = s.session(src=src)
        c.ehlo()
        for line in setup:
            c.cmd(line, 250)
        for line, code, enh in rows_[i:i + per_session]:
            r = c.cmd(line, code, enh)
            if r.code // 100 == 2:
                c.cmd("RSET", 250, "2.0.0")
                for line2 in setup:
                    c.cmd(line2, 250)
        c.quit()
