"""ftlib - shared pieces of the fault and crash tests.

A private spool and configuration in a temporary directory, an
"smtpfe -l" server started and stopped by PID, its session children found
through /proc, and a raw SMTP client that reads replies line by line.
"""

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time


class TestFailure(Exception):
    pass


def fail(msg):
    raise TestFailure(msg)


def is_root():
    return os.geteuid() == 0


def make_spool(spool):
    """tmp, new, failed: mode 0700, owned by nobody when we are root."""
    for d in ("tmp", "new", "failed"):
        p = os.path.join(spool, d)
        os.makedirs(p, exist_ok=True)
        if is_root():
            pw = pwd.getpwnam("nobody")
            os.chown(p, pw.pw_uid, pw.pw_gid)
        os.chmod(p, 0o700)


def write_conf(path, spool, **extra):
    user = "nobody" if is_root() else pwd.getpwuid(os.geteuid()).pw_name
    lines = [
        "hostname = mx.example.org",
        "spool = %s" % spool,
        "user = %s" % user,
        "local_domains = example.org",
        "relay_networks = 127.0.0.0/8, ::1/128",
        "greet_pause = 0",
        "timeout = 30",
    ]
    extra.setdefault("min_free_space", 0)
    for k, v in extra.items():
        lines.append("%s = %s" % (k, v))
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def listdir(spool, sub):
    return sorted(os.listdir(os.path.join(spool, sub)))


def clear_dir(spool, sub):
    d = os.path.join(spool, sub)
    for name in os.listdir(d):
        os.unlink(os.path.join(d, name))


def children(pid):
    """Live PIDs whose parent is PID (read from /proc/*/stat)."""
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                stat = f.read()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may hold blanks or parens.
        # A zombie has finished: it only waits to be reaped.
        rest = stat[stat.rfind(")") + 2:].split()
        if len(rest) > 1 and int(rest[1]) == pid and rest[0] != "Z":
            out.append(int(name))
    return out


def port_free(port):
    """Fail loudly when something listens on PORT already: a test must
    never talk to a server it did not start."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", port))
    except OSError as e:
        fail("port %d is busy (%s): a stale server?" % (port, e))
    finally:
        s.close()


class Server:
    """One "smtpfe -l 127.0.0.1:PORT", started and stopped by its PID."""

    def __init__(self, binary, conf, port, env=None, logpath=None):
        self.port = port
        port_free(port)
        full = dict(os.environ)
        full.pop("LD_PRELOAD", None)
        if env:
            full.update(env)
        self.log = open(logpath or os.devnull, "ab")
        self.proc = subprocess.Popen(
            [binary, "-f", conf, "-l", "127.0.0.1:%d" % port],
            env=full, stdin=subprocess.DEVNULL, stdout=self.log,
            stderr=self.log)
        deadline = time.monotonic() + 10
        while True:
            if self.proc.poll() is not None:
                fail("smtpfe -l on port %d exited with %s" %
                     (port, self.proc.returncode))
            try:
                s = socket.create_connection(("127.0.0.1", port), 1)
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    fail("smtpfe -l did not listen on port %d" % port)
                time.sleep(0.02)
                continue
            # A probe connection: its child sees EOF and exits.
            s.close()
            break
        if self.proc.poll() is not None:
            fail("smtpfe -l on port %d exited with %s" %
                 (port, self.proc.returncode))
        self.wait_children()

    @property
    def pid(self):
        return self.proc.pid

    def children(self):
        return children(self.proc.pid)

    def wait_children(self, timeout=10):
        deadline = time.monotonic() + timeout
        while self.children():
            if time.monotonic() > deadline:
                fail("session children of %d still running: %s" %
                     (self.pid, self.children()))
            time.sleep(0.005)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self.log.close()
                fail("smtpfe -l ignored SIGTERM")
        self.log.close()
        return self.proc.returncode


class Client:
    """A raw SMTP client: nothing is hidden, every reply is checked."""

    def __init__(self, port, timeout=30):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout)
        self.buf = b""

    def readline(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.rstrip(b"\r").decode("latin-1")

    def reply(self):
        """(code, last line) of one possibly multi-line reply."""
        lines = []
        while True:
            line = self.readline()
            lines.append(line)
            if len(line) < 4 or line[3] != "-":
                break
        last = lines[-1]
        return int(last[:3]), last

    def send(self, data):
        if isinstance(data, str):
            data = data.encode("latin-1")
        self.sock.sendall(data)

    def cmd(self, line):
        self.send(line + "\r\n")
        return self.reply()

    def expect(self, line, code):
        got = self.cmd(line)
        if got[0] != code:
            fail("%r: expected %d, got %r" % (line, code, got[1]))
        return got

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def wait_eof(self, timeout=10):
        self.sock.settimeout(timeout)
        try:
            while self.sock.recv(65536):
                pass
        except OSError:
            pass


def message(token, size):
    """A CRLF message of about SIZE octets, unique TOKEN, known trailer."""
    head = ("From: <a@example.net>\r\nTo: <x@example.org>\r\n"
            "Subject: fault test %s\r\nMessage-ID: <%s@example.net>\r\n\r\n"
            % (token, token))
    line = ("%s " % token) + "x" * 60 + "\r\n"
    body = line * max(1, (size - len(head)) // len(line))
    trailer = "END-OF-MESSAGE %s\r\n" % token
    # No line starts with a dot, so the spool body is the message with
    # CRLF turned into LF.
    return (head + body + trailer).encode("ascii")


def spooled_body(msg):
    return msg.replace(b"\r\n", b"\n")


def tempdir(prefix):
    d = tempfile.mkdtemp(prefix=prefix)
    os.chmod(d, 0o755)
    return d


def rmtree(d):
    shutil.rmtree(d, ignore_errors=True)
