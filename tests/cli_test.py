#!/usr/bin/env python3
"""
cli_test.py - the postmaster's side of smtpfe: usage, -V, -n, -b, how the
client address is found, make install, and the examples in contrib/.

Run:  SMTPFE=/abs/path/to/smtpfe python3 tests/cli_test.py [-k PATTERN] [-v]
      (make check-cli; "make check" runs it)

Every test makes its own configuration and spool under a temporary
directory.  Tests that need root (a directory owned by someone else, a
sendmail only root may run) print "not run (needs root)" as non-root and
are not counted as passed; so is the systemd-analyze check when the tool
is missing.  The last line printed is "N passed, N failed"; the exit
status is 1 when any test failed.

Ports 25750-25759 on 127.0.0.1 (the client side binds 127.0.0.2).  No DNS.
"""

import argparse
import os
import pwd
import re
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import traceback

sys.dont_write_bytecode = True

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IS_ROOT = os.geteuid() == 0
PORT_FIRST, PORT_LAST = 25750, 25759
EX_USAGE, EX_CONFIG = 64, 78
RUN_TIMEOUT = 60
HUGE = 1 << 50          # 1 PiB: more free space than any disk here

TESTS = []


class Fail(AssertionError):
    pass


class NotRun(Exception):
    pass


def fail(msg):
    raise Fail(msg)


def test(fn):
    TESTS.append(fn)
    return fn


def needs_root():
    if not IS_ROOT:
        raise NotRun("needs root")


def smtpfe_path():
    path = os.environ.get("SMTPFE")
    if not path:
        sys.exit("cli_test.py: SMTPFE is not set "
                 "(SMTPFE=/abs/path/smtpfe python3 tests/cli_test.py)")
    path = os.path.abspath(path)
    if not os.access(path, os.X_OK):
        sys.exit("cli_test.py: SMTPFE=%s is not executable" % path)
    return path


SMTPFE = None


# ---------------------------------------------------------------- fixtures

class Setup:
    """A private configuration, spool and fake sendmail under one dir."""

    def __init__(self, tmp, conf=None, drop=(), extra_lines=()):
        self.dir = tmp
        self.spool = os.path.join(tmp, "spool")
        self.conf = os.path.join(tmp, "smtpfe.conf")
        self.sendmail = os.path.join(tmp, "sendmail")
        self.user = "nobody" if IS_ROOT else pwd.getpwuid(os.getuid())[0]
        os.mkdir(self.spool, 0o755)
        for d in ("tmp", "new", "failed"):
            p = os.path.join(self.spool, d)
            os.mkdir(p, 0o700)
            os.chmod(p, 0o700)
            if IS_ROOT:
                os.chown(p, pwd.getpwnam("nobody").pw_uid, -1)
        with open(self.sendmail, "w") as f:
            f.write("#!/bin/sh\nexit 0\n")
        os.chmod(self.sendmail, 0o755)
        keys = {
            "hostname": "mx.cli.example",
            "spool": self.spool,
            "user": self.user,
            "local_domains": "example.org",
            "relay_networks": "127.0.0.1/32",
            "greet_pause": "0",
            "min_free_space": "1048576",
            "sendmail": self.sendmail,
            "timeout": "20",
        }
        keys.update(conf or {})
        for k in drop:
            keys.pop(k, None)
        self.lines = ["# cli_test.py"] + ["%s = %s" % kv
                                          for kv in keys.items()]
        self.lines += list(extra_lines)
        self.write()

    def write(self):
        with open(self.conf, "w") as f:
            f.write("\n".join(self.lines) + "\n")

    def line_of(self, text):
        """1-based line number of the first line starting with TEXT."""
        for i, ln in enumerate(self.lines):
            if ln.startswith(text):
                return i + 1
        fail("no line %r in the test configuration" % text)

    def path(self, *parts):
        return os.path.join(self.spool, *parts)

    def spooled(self):
        return sorted(os.listdir(self.path("new"))) + \
            sorted(os.listdir(self.path("tmp")))


def run(args, stdin=b"", env=None, timeout=RUN_TIMEOUT):
    p = subprocess.run(args, input=stdin, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, env=env, timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8", "replace"), \
        p.stderr.decode("utf-8", "replace")


def smtpfe(*args, stdin=b"", env=None):
    return run([SMTPFE] + list(args), stdin=stdin, env=env)


def want_rc(rc, want, out, err, what):
    if rc != want:
        fail("%s: exit %d, want %d\nstdout: %s\nstderr: %s"
             % (what, rc, want, out, err))


# ---------------------------------------------------------------- usage, -V

@test
def usage_unknown_option(t):
    rc, out, err = smtpfe("-x")
    want_rc(rc, EX_USAGE, out, err, "smtpfe -x")
    if "usage: smtpfe" not in err or out != "":
        fail("usage must go to stderr only: stdout %r stderr %r" % (out, err))
    for opt in ("-q", "-Q seconds", "-n", "-b ip", "-l addr:port", "-V"):
        if opt not in err:
            fail("usage text lacks %r: %r" % (opt, err))


@test
def usage_extra_argument_and_two_modes(t):
    for args in (["-n", "stray"], ["-n", "-q"], ["-V", "-b", "127.0.0.1"],
                 ["-Q", "0"], ["-Q", "x"], ["-b"]):
        rc, out, err = smtpfe(*args)
        want_rc(rc, EX_USAGE, out, err, "smtpfe " + " ".join(args))
        if "usage" not in err and "option" not in err:
            fail("smtpfe %s: no usage on stderr: %r" % (" ".join(args), err))


@test
def version(t):
    rc, out, err = smtpfe("-V")
    want_rc(rc, 0, out, err, "smtpfe -V")
    if not re.fullmatch(r"smtpfe [0-9]+(\.[0-9]+)+\n", out) or err:
        fail("smtpfe -V printed %r / stderr %r" % (out, err))


# ---------------------------------------------------------------- -n

def confcheck(s):
    rc, out, err = smtpfe("-n", "-f", s.conf)
    errors = [ln for ln in err.splitlines() if ln.strip()]
    return rc, out, err, errors


def want_problems(s, n, *needles):
    """-n must exit 78 with N problem lines; each needle in some line."""
    rc, out, err, lines = confcheck(s)
    want_rc(rc, EX_CONFIG, out, err, "smtpfe -n")
    errs = [ln for ln in lines if "warning" not in ln]
    if len(errs) != n:
        fail("want %d problem line(s), got %d:\n%s" % (n, len(errs), err))
    for needle in needles:
        if not any(needle in ln for ln in errs):
            fail("no problem line names %r:\n%s" % (needle, err))
    if "ok" in out.split():
        fail("-n said ok with problems: %r" % out)
    return errs


@test
def n_good_setup(t):
    s = Setup(t)
    rc, out, err, lines = confcheck(s)
    want_rc(rc, 0, out, err, "smtpfe -n (good setup)")
    if not re.search(r"\bok\b", out) or lines:
        fail("good setup: stdout %r, stderr %r" % (out, err))


@test
def n_unknown_key(t):
    s = Setup(t, extra_lines=["frobnicate = yes"])
    errs = want_problems(s, 1, "frobnicate")
    where = "%s:%d:" % (s.conf, s.line_of("frobnicate"))
    if where not in errs[0]:
        fail("unknown key: want file:line %r in %r" % (where, errs[0]))


@test
def n_bad_value(t):
    s = Setup(t, conf={"max_recipients": "lots"})
    errs = want_problems(s, 1, "max_recipients")
    where = "%s:%d:" % (s.conf, s.line_of("max_recipients"))
    if where not in errs[0]:
        fail("bad value: want file:line %r in %r" % (where, errs[0]))


@test
def n_every_config_problem_listed(t):
    s = Setup(t, conf={"timeout": "soon", "chroot": "maybe"},
              extra_lines=["colour = blue"])
    errs = want_problems(s, 3, "timeout", "chroot", "colour")
    for key in ("timeout", "chroot", "colour"):
        where = "%s:%d:" % (s.conf, s.line_of(key))
        if not any(where in ln and key in ln for ln in errs):
            fail("no %r line for %s:\n%s" % (where, key, "\n".join(errs)))


@test
def n_missing_local_domains(t):
    s = Setup(t, drop=("local_domains",))
    want_problems(s, 1, "local_domains")


@test
def n_spool_dir_missing(t):
    s = Setup(t)
    os.rmdir(s.path("new"))
    want_problems(s, 1, s.path("new"))


@test
def n_spool_missing_altogether(t):
    s = Setup(t)
    shutil.rmtree(s.spool)
    want_problems(s, 3, s.path("tmp"), s.path("new"), s.path("failed"))


@test
def n_world_writable_dir(t):
    s = Setup(t)
    os.chmod(s.path("failed"), 0o777)
    errs = want_problems(s, 1, s.path("failed"))
    if "writable" not in errs[0]:
        fail("world-writable dir: line does not say so: %r" % errs[0])


@test
def n_spool_top_writable(t):
    """The spool directory itself writable by others: whoever can write
    there can swap new/ for forged messages."""
    s = Setup(t)
    os.chmod(s.spool, 0o777)
    want_problems(s, 1, s.spool, "writable by group or others")
    os.chmod(s.spool, 0o775)
    want_problems(s, 1, s.spool, "0775")
    os.chmod(s.spool, 0o755)
    rc, out, err, _ = confcheck(s)
    want_rc(rc, 0, out, err, "-n with the spool at 0755")


@test
def n_wrong_owner(t):
    needs_root()
    s = Setup(t)            # user = nobody
    os.chown(s.path("tmp"), 0, 0)
    os.chown(s.path("new"), 0, 0)
    errs = want_problems(s, 2, s.path("tmp"), s.path("new"))
    for ln in errs:
        if "nobody" not in ln and "owner" not in ln and "owned" not in ln:
            fail("wrong owner: the line does not say who: %r" % ln)


@test
def n_free_space(t):
    s = Setup(t, conf={"min_free_space": str(HUGE)})
    want_problems(s, 1, "min_free_space")


@test
def n_sendmail_not_executable(t):
    s = Setup(t)
    os.chmod(s.sendmail, 0o644)
    want_problems(s, 1, s.sendmail)
    os.unlink(s.sendmail)
    want_problems(s, 1, s.sendmail)


@test
def n_sendmail_is_a_directory(t):
    # access(X_OK) is true for a directory: it must not count as a program
    s = Setup(t, conf={"sendmail": t})
    want_problems(s, 1, t)


@test
def n_sendmail_not_executable_by_user(t):
    # -n runs as root, the runner as "user": root may run a 0700 file,
    # nobody may not
    needs_root()
    s = Setup(t)
    os.chmod(s.sendmail, 0o700)
    want_problems(s, 1, s.sendmail)


@test
def n_relay_open_ipv4(t):
    s = Setup(t, conf={"relay_networks": "127.0.0.1/32, 0.0.0.0/0"})
    want_problems(s, 1, "relay_networks")


@test
def n_relay_open_ipv6(t):
    s = Setup(t, conf={"relay_networks": "127.0.0.1/32 ::/0"})
    want_problems(s, 1, "relay_networks")


@test
def n_relay_wide_is_a_warning(t):
    s = Setup(t, conf={"relay_networks": "127.0.0.1/32, 0.0.0.0/4"})
    rc, out, err, lines = confcheck(s)
    want_rc(rc, 0, out, err, "smtpfe -n with a /4")
    if len(lines) != 1 or "warning" not in lines[0] or \
            "relay_networks" not in lines[0] or "error" in lines[0]:
        fail("a /4 wants one warning line naming relay_networks: %r" % err)
    if not re.search(r"\bok\b", out):
        fail("a /4 alone: -n must still say ok: %r" % out)


def recipients_setup(t, lines):
    path = os.path.join(t, "recipients")
    with open(path, "w") as f:
        f.write("".join(ln + "\n" for ln in lines))
    return Setup(t, conf={"recipients": path}), path


@test
def n_recipients_good(t):
    s, _ = recipients_setup(t, ["@catchall.example.org", "alice@example.org",
                                "bob@example.org"])
    rc, out, err, lines = confcheck(s)
    want_rc(rc, 0, out, err, "smtpfe -n (sorted recipients)")


@test
def n_recipients_unsorted(t):
    s, path = recipients_setup(t, ["alice@example.org", "carol@example.org",
                                   "bob@example.org"])
    errs = want_problems(s, 1, path)
    if "%s:3:" % path not in errs[0]:
        fail("unsorted: want the first line out of order (%s:3): %r"
             % (path, errs[0]))


@test
def n_recipients_mixed_case(t):
    s, path = recipients_setup(t, ["alice@example.org", "bob@Example.org"])
    errs = want_problems(s, 1, path)
    if "%s:2:" % path not in errs[0]:
        fail("mixed case: want %s:2: %r" % (path, errs[0]))


@test
def n_one_line_per_problem(t):
    s = Setup(t, conf={"min_free_space": str(HUGE)})
    os.chmod(s.path("new"), 0o777)
    os.rmdir(s.path("failed"))
    os.chmod(s.sendmail, 0o600)
    want_problems(s, 4, s.path("new"), s.path("failed"), "min_free_space",
                  s.sendmail)


# ---------------------------------------------------------------- -b

DIALOGUE = (b"EHLO client.example.net\r\n"
            b"MAIL FROM:<sender@example.net>\r\n"
            b"RCPT TO:<far@foreign.example>\r\n"
            b"RCPT TO:<near@example.org>\r\n"
            b"DATA\r\n"
            b"Subject: -b test\r\n\r\nhello\r\n.\r\n"
            b"QUIT\r\n")


# DIALOGUE in the groups RFC 2920 allows, with the number of replies
# each one waits for: a session refuses (554 5.5.0) a client outside
# relay_networks that sends past EHLO or DATA without waiting.
DIALOGUE_GROUPS = [(b"", 1),
                   (b"EHLO client.example.net\r\n", 1),
                   (b"MAIL FROM:<sender@example.net>\r\n"
                    b"RCPT TO:<far@foreign.example>\r\n"
                    b"RCPT TO:<near@example.org>\r\n"
                    b"DATA\r\n", 4),
                   (b"Subject: -b test\r\n\r\nhello\r\n.\r\n"
                    b"QUIT\r\n", 2)]
assert b"".join(g for g, _ in DIALOGUE_GROUPS) == DIALOGUE


def converse(write, read):
    """DIALOGUE_GROUPS through WRITE, each group once the replies to the
    one before have come (READ returns b"" at the end); all output."""
    data = b""
    finals = 0
    want = 0
    for group, n in DIALOGUE_GROUPS:
        if group:
            write(group)
        want += n
        while finals < want:
            chunk = read()
            if not chunk:
                return data
            data += chunk
            finals = sum(1 for ln in data.split(b"\r\n")
                         if ln[3:4] == b" ")
    while True:
        chunk = read()
        if not chunk:
            return data
        data += chunk


def replies(out):
    """The reply lines, each must look like one."""
    lines = out.splitlines()
    for ln in lines:
        if not re.match(r"[2-5][0-9][0-9][ -]", ln):
            fail("stdout holds a non-reply line %r:\n%s" % (ln, out))
    return lines


def explanations(err):
    lines = err.splitlines()
    for ln in lines:
        if not ln.startswith(">>> "):
            fail("stderr line without '>>> ': %r" % ln)
    return lines


def test_session(s, ip, dialogue=DIALOGUE):
    rc, out, err = smtpfe("-b", ip, "-f", s.conf, stdin=dialogue)
    want_rc(rc, 0, out, err, "smtpfe -b %s" % ip)
    return replies(out), explanations(err)


def final(lines):
    return [ln for ln in lines if ln[3] == " "]


@test
def b_relay_refused_and_explained(t):
    s = Setup(t)
    out, err = test_session(s, "192.0.2.7")
    f = final(out)
    # 220, EHLO 250, MAIL 250, RCPT far, RCPT near, 354, end of DATA, 221
    if len(f) != 8 or not f[3].startswith("554 5.7.1"):
        fail("relay attempt from 192.0.2.7: replies %r" % f)
    why = [ln for ln in err if "554 5.7.1" in ln]
    if not why or "far@foreign.example" not in why[0]:
        fail("no explanation of the 554 5.7.1 naming the recipient:\n%s"
             % "\n".join(err))
    if not any("local_domains" in ln for ln in err) or \
            not any("192.0.2.7" in ln and "relay" in ln for ln in err):
        fail("the explanation does not name the rule (local_domains, "
             "relay_networks):\n%s" % "\n".join(err))


@test
def b_relay_from_relay_client(t):
    s = Setup(t)
    out, err = test_session(s, "127.0.0.1")
    f = final(out)
    if len(f) != 8 or not f[3].startswith("250 2.1.5") or \
            not f[4].startswith("250 2.1.5"):
        fail("from 127.0.0.1: replies %r" % f)
    if not any("relay_networks" in ln for ln in err):
        fail("accepting a relay recipient: relay_networks not named:\n%s"
             % "\n".join(err))


@test
def b_mapped_ipv4_is_ipv4(t):
    s = Setup(t)
    f = final(test_session(s, "::ffff:127.0.0.1")[0])
    if not f[3].startswith("250 2.1.5"):
        fail("-b ::ffff:127.0.0.1 must count as 127.0.0.1: %r" % f)
    f = final(test_session(s, "::1")[0])
    if not f[3].startswith("554 5.7.1"):
        fail("-b ::1 is not in 127.0.0.1/32: %r" % f)


@test
def b_nothing_spooled(t):
    s = Setup(t)
    out, err = test_session(s, "127.0.0.1")
    f = final(out)
    if not re.match(r"250 2\.0\.0 .*test mode", f[6]):
        fail("end of DATA in test mode: %r" % f[6])
    if f[7] != "221 2.0.0 Bye" and not f[7].startswith("221 2.0.0"):
        fail("QUIT: %r" % f[7])
    if s.spooled():
        fail("-b spooled something: %r" % s.spooled())


@test
def b_bad_ip(t):
    s = Setup(t)
    for ip in ("300.1.1.1", "example.org", "", "127.0.0.1/8", "1.2.3",
               "::g"):
        rc, out, err = smtpfe("-b", ip, "-f", s.conf, stdin=DIALOGUE)
        want_rc(rc, EX_USAGE, out, err, "smtpfe -b %r" % ip)
        if out:
            fail("-b %r: a session was started: %r" % (ip, out))


@test
def b_config_error(t):
    s = Setup(t, drop=("local_domains",))
    rc, out, err = smtpfe("-b", "127.0.0.1", "-f", s.conf, stdin=DIALOGUE)
    want_rc(rc, EX_CONFIG, out, err, "smtpfe -b with a bad configuration")
    if "local_domains" not in err or out:
        fail("-b with a bad configuration: %r / %r" % (out, err))


# ------------------------------------------------- the client's address

ENV_BASE = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}


def serve(s, stdin_fd=None, env_ip=None, dialogue=DIALOGUE):
    """smtpfe in session mode, stdin a pipe (or STDIN_FD): the replies."""
    env = dict(ENV_BASE)
    if env_ip is not None:
        env["TCPREMOTEIP"] = env_ip
    if stdin_fd is None:
        p = subprocess.Popen([SMTPFE, "-f", s.conf], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env=env)

        def write(b):
            p.stdin.write(b)
            p.stdin.flush()
        out = converse(write, lambda: os.read(p.stdout.fileno(), 65536))
        p.stdin.close()
        err = p.stderr.read()
        rc = p.wait(timeout=RUN_TIMEOUT)
        if err:
            fail("session mode wrote to stderr: %r" % err)
        if rc != 0:
            fail("session mode exit %d: %r" % (rc, out))
        return out.decode("ascii", "replace")
    p = subprocess.Popen([SMTPFE, "-f", s.conf], stdin=stdin_fd,
                         stdout=stdin_fd, stderr=stdin_fd, env=env)
    return p


def serve_raw(s, env=None):
    p = subprocess.run([SMTPFE, "-f", s.conf], input=DIALOGUE,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       env=env or ENV_BASE, timeout=RUN_TIMEOUT)
    return p.returncode, p.stdout.decode("ascii", "replace"), \
        p.stderr.decode("ascii", "replace")


@test
def serve_config_error(t):
    """Session mode, bad configuration: one 421 4.3.5, exit 78, and
    nothing on stderr (inetd may have the socket there)."""
    s = Setup(t, drop=("local_domains",))
    rc, out, err = serve_raw(s)
    want_rc(rc, EX_CONFIG, out, err, "session with a bad configuration")
    if not re.fullmatch(r"421 4\.3\.5 [^\r\n]*\r\n", out) or err:
        fail("bad configuration: stdout %r stderr %r" % (out, err))


@test
def serve_cannot_drop(t):
    """Started as root with a user that does not exist (or is root):
    421 4.3.0, exit 71, never a session as root."""
    needs_root()
    for user in ("no-such-user-smtpfe", "root"):
        d = os.path.join(t, user)
        os.mkdir(d, 0o755)
        s = Setup(d, conf={"user": user})
        rc, out, err = serve_raw(s)
        want_rc(rc, 71, out, err, "session as root, user = %s" % user)
        if not re.fullmatch(r"421 4\.3\.0 [^\r\n]*\r\n", out) or err:
            fail("user = %s: stdout %r stderr %r" % (user, out, err))


def spooled_client(s, out):
    m = re.search(r"250 2\.0\.0 queued as (\S+)", out)
    if not m:
        fail("not queued:\n%s" % out)
    with open(s.path("new", m.group(1)), "rb") as f:
        head = f.read().split(b"\n\n", 1)[0].decode("ascii")
    m = re.search(r"^Client: (.*)$", head, re.M)
    if not m:
        fail("no Client: line:\n%s" % head)
    return m.group(1), head


def far_reply(out):
    lines = [ln for ln in out.splitlines() if ln[3:4] == " "]
    return lines[3]


@test
def peer_tcpremoteip_nonrelay(t):
    s = Setup(t)
    out = serve(s, env_ip="127.0.0.2")
    if not far_reply(out).startswith("554 5.7.1"):
        fail("TCPREMOTEIP=127.0.0.2 relayed: %r" % far_reply(out))
    client, head = spooled_client(s, out)
    if client != "127.0.0.2":
        fail("TCPREMOTEIP=127.0.0.2: spool says Client: %s" % client)


@test
def peer_tcpremoteip_relay(t):
    s = Setup(t)
    out = serve(s, env_ip="127.0.0.1")
    if not far_reply(out).startswith("250 2.1.5"):
        fail("TCPREMOTEIP=127.0.0.1 may relay: %r" % far_reply(out))
    client, head = spooled_client(s, out)
    if client != "127.0.0.1" or "Recipient: <far@foreign.example>" \
            not in head:
        fail("TCPREMOTEIP=127.0.0.1: envelope\n%s" % head)


@test
def peer_unknown(t):
    s = Setup(t, conf={"relay_networks": "0.0.0.0/1 128.0.0.0/1 ::/1 8000::/1"})
    for env_ip in (None, "", "not-an-address", "127.0.0.1 x"):
        out = serve(s, env_ip=env_ip)
        if not far_reply(out).startswith("554 5.7.1"):
            fail("unknown client (TCPREMOTEIP=%r) relayed: %r"
                 % (env_ip, far_reply(out)))
        client, head = spooled_client(s, out)
        if client != "unknown":
            fail("TCPREMOTEIP=%r: Client: %s, want unknown"
                 % (env_ip, client))


def free_port():
    for port in range(PORT_FIRST, PORT_LAST + 1):
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            ls.bind(("127.0.0.1", port))
            ls.listen(1)
            return ls
        except OSError:
            ls.close()
    fail("no free port in %d-%d" % (PORT_FIRST, PORT_LAST))


def socket_session(s, source, env_ip=None, family=socket.AF_INET):
    """A TCP connection from SOURCE, accepted and given to smtpfe as fd
    0, 1 and 2 (as inetd does); the replies it sent."""
    if family == socket.AF_INET:
        ls = free_port()
    else:
        # an IPv6 socket on the IPv4-mapped loopback: peers look like
        # ::ffff:127.0.0.x, as on a dual-stack [::]:25 (systemd's default)
        ls = None
        for port in range(PORT_FIRST, PORT_LAST + 1):
            cand = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
            try:
                cand.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
                cand.bind(("::ffff:127.0.0.1", port))
                cand.listen(1)
                ls = cand
                break
            except OSError:
                cand.close()
        if ls is None:
            fail("cannot listen on [::ffff:127.0.0.1] in %d-%d"
                 % (PORT_FIRST, PORT_LAST))
    cs = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    cs.settimeout(RUN_TIMEOUT)
    try:
        cs.bind((source, 0))
    except OSError as e:
        fail("cannot bind %s (%s): this test needs it" % (source, e))
    cs.connect(("127.0.0.1", ls.getsockname()[1]))
    conn, peer = ls.accept()
    ls.close()
    if family == socket.AF_INET6 and peer[0] != "::ffff:" + source:
        fail("the accepted peer is %r, not IPv4-mapped" % (peer,))
    p = serve(s, stdin_fd=conn.fileno(), env_ip=env_ip)
    conn.close()
    data = converse(cs.sendall, lambda: cs.recv(65536))
    cs.close()
    rc = p.wait(timeout=RUN_TIMEOUT)
    out = data.decode("ascii", "replace")
    if rc != 0:
        fail("session exit %d:\n%s" % (rc, out))
    return out


@test
def peer_unix_socket_uses_tcpremoteip(t):
    """fd 0 a Unix socket (a TLS wrapper, s6-style tools): the socket's
    peer is no IP address, so TCPREMOTEIP decides."""
    s = Setup(t)
    for env_ip, want_far, want_client in (("127.0.0.2", "554 5.7.1",
                                           "127.0.0.2"),
                                          ("127.0.0.1", "250 2.1.5",
                                           "127.0.0.1"),
                                          (None, "554 5.7.1", "unknown")):
        mine, theirs = socket.socketpair()
        mine.settimeout(RUN_TIMEOUT)
        p = serve(s, stdin_fd=theirs.fileno(), env_ip=env_ip)
        theirs.close()
        data = converse(mine.sendall, lambda: mine.recv(65536))
        mine.close()
        if p.wait(timeout=RUN_TIMEOUT) != 0:
            fail("session on a Unix socket: exit %d" % p.returncode)
        out = data.decode("ascii", "replace")
        if not far_reply(out).startswith(want_far):
            fail("Unix socket, TCPREMOTEIP=%r: %r, want %s"
                 % (env_ip, far_reply(out), want_far))
        client, head = spooled_client(s, out)
        if client != want_client:
            fail("Unix socket, TCPREMOTEIP=%r: Client: %s, want %s"
                 % (env_ip, client, want_client))


@test
def peer_mapped_ipv4_socket(t):
    """::ffff:127.0.0.x on the socket counts as 127.0.0.x."""
    s = Setup(t)
    out = socket_session(s, "127.0.0.2", family=socket.AF_INET6)
    if not far_reply(out).startswith("554 5.7.1"):
        fail("::ffff:127.0.0.2 relayed: %r" % far_reply(out))
    client, head = spooled_client(s, out)
    if client != "127.0.0.2":
        fail("peer ::ffff:127.0.0.2: Client: %s, want 127.0.0.2" % client)
    out = socket_session(s, "127.0.0.1", family=socket.AF_INET6)
    if not far_reply(out).startswith("250 2.1.5"):
        fail("::ffff:127.0.0.1 is 127.0.0.1/32, may relay: %r"
             % far_reply(out))


@test
def peer_socket_wins_over_tcpremoteip(t):
    """A real socket on fd 0 decides; TCPREMOTEIP cannot override it."""
    s = Setup(t)
    out = socket_session(s, "127.0.0.2", env_ip="127.0.0.1")
    if not far_reply(out).startswith("554 5.7.1"):
        fail("socket from 127.0.0.2 with TCPREMOTEIP=127.0.0.1 relayed: %r"
             % far_reply(out))
    client, head = spooled_client(s, out)
    if client != "127.0.0.2":
        fail("Client: %s, want 127.0.0.2 (the socket's peer)" % client)


# ---------------------------------------------------------------- install

def make(*args, timeout=600):
    # A make of its own: no variables inherited from a calling make.
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKEFLAGS", "MFLAGS", "MAKEOVERRIDES", "MAKELEVEL",
                        "DESTDIR", "PREFIX", "SYSCONFDIR", "MANDIR",
                        "LIBEXECDIR", "O", "BIN")}
    p = subprocess.run(["make", "-s", "-C", TOP] + list(args),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       env=env, timeout=timeout)
    if p.returncode != 0:
        fail("make %s: exit %d\n%s" % (" ".join(args), p.returncode,
                                       p.stdout.decode("utf-8", "replace")))


def tree(root):
    found = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in filenames + [d for d in dirnames
                                 if os.path.islink(os.path.join(dirpath, d))]:
            p = os.path.join(dirpath, name)
            found[os.path.relpath(p, root)] = stat.S_IMODE(os.lstat(p).st_mode)
    return found


class Install:
    """A build of its own (O, BIN under T) and an install into T/dest."""

    def __init__(self, t):
        tag = "smtpfe-cli-%d" % os.getpid()
        self.obj = os.path.join(t, "obj")
        self.bin = os.path.join(t, "smtpfe")
        self.dest = os.path.join(t, "dest")
        # Paths that exist nowhere: anything written outside DESTDIR
        # would create them.
        self.prefix = "/opt/%s/usr" % tag
        self.sysconf = "/opt/%s/etc/mail" % tag
        self.mandir = "/opt/%s/man" % tag
        self.outside = "/opt/%s" % tag
        if os.path.exists(self.outside):
            fail("%s exists before the test" % self.outside)
        # First "make", as a user would, with the default SYSCONFDIR;
        # then "make install" with the paths of the package.
        make("O=" + self.obj, "BIN=" + self.bin)

    def install(self):
        make("O=" + self.obj, "BIN=" + self.bin, "install",
             "DESTDIR=" + self.dest, "PREFIX=" + self.prefix,
             "SYSCONFDIR=" + self.sysconf, "MANDIR=" + self.mandir)
        if os.path.exists(self.outside):
            fail("make install wrote outside DESTDIR: %s exists"
                 % self.outside)

    def d(self, path):
        return self.dest + path

    def want(self):
        return {
            (self.prefix + "/libexec/smtpfe")[1:]: 0o755,
            (self.mandir + "/man8/smtpfe.8")[1:]: 0o644,
            (self.mandir + "/man5/smtpfe.conf.5")[1:]: 0o644,
            (self.sysconf + "/smtpfe.conf")[1:]: 0o644,
        }


def same_file(a, b):
    with open(a, "rb") as f, open(b, "rb") as g:
        return f.read() == g.read()


@test
def install_tree(t):
    i = Install(t)
    i.install()
    got, want = tree(i.dest), i.want()
    if got != want:
        fail("installed tree:\n  %s\nwant exactly:\n  %s"
             % ("\n  ".join("%s %04o" % kv for kv in sorted(got.items())),
                "\n  ".join("%s %04o" % kv for kv in sorted(want.items()))))
    for src, dst in (("smtpfe.conf", i.sysconf + "/smtpfe.conf"),
                     ("man/smtpfe.8", i.mandir + "/man8/smtpfe.8"),
                     ("man/smtpfe.conf.5", i.mandir + "/man5/smtpfe.conf.5"),
                     (i.bin, i.prefix + "/libexec/smtpfe")):
        if not same_file(os.path.join(TOP, src), i.d(dst)):
            fail("%s is not a copy of %s" % (dst, src))


@test
def install_keeps_existing_config(t):
    i = Install(t)
    i.install()
    conf = i.d(i.sysconf + "/smtpfe.conf")
    mine = "# the postmaster's own\nlocal_domains = example.net\n"
    with open(conf, "w") as f:
        f.write(mine)
    os.unlink(i.d(i.mandir + "/man8/smtpfe.8"))
    i.install()
    with open(conf) as f:
        if f.read() != mine:
            fail("make install overwrote an existing smtpfe.conf")
    if tree(i.dest) != i.want():
        fail("second install: tree %r" % sorted(tree(i.dest)))


@test
def install_default_config_is_sysconfdir(t):
    """The installed program looks for SYSCONFDIR/smtpfe.conf by default,
    even when "make" ran before "make install SYSCONFDIR=..."."""
    i = Install(t)
    i.install()
    rc, out, err = run([i.d(i.prefix + "/libexec/smtpfe"), "-n"])
    want = i.sysconf + "/smtpfe.conf"
    if want not in err:
        m = re.search(r"(/\S*smtpfe\.conf)", err)
        fail("installed with SYSCONFDIR=%s, the program reads %s by default"
             % (i.sysconf, m.group(1) if m else err.strip()))


# ------------------------------------------------- contrib/ and the man page

MAN8 = os.path.join(TOP, "man", "smtpfe.8")
CONTRIB = os.path.join(TOP, "contrib")


def unroff(line):
    for a, b in (("\\(ga", "`"), ("\\(aq", "'"), ("\\e", "\\"),
                 ("\\&", ""), ("\\-", "-")):
        line = line.replace(a, b)
    return line


def man_literal_blocks():
    blocks, cur = [], None
    with open(MAN8) as f:
        for ln in f.read().splitlines():
            if ln.startswith(".Bd -literal"):
                cur = []
            elif ln.startswith(".Ed") and cur is not None:
                blocks.append(cur)
                cur = None
            elif cur is not None:
                cur.append(unroff(ln))
    return blocks


def norm(lines):
    return [" ".join(ln.split()) for ln in lines
            if ln.strip() and not ln.lstrip().startswith("#")]


def contrib_lines(name):
    with open(os.path.join(CONTRIB, name)) as f:
        return norm(f.read().splitlines())


@test
def contrib_agrees_with_man(t):
    blocks = [norm(b) for b in man_literal_blocks()]
    for name in ("inetd.conf", "xinetd.smtpfe", "smtpfe.socket",
                 "smtpfe@.service", "smtpfe-runner.service", "smtpfe.cron"):
        mine = contrib_lines(name)
        if not mine:
            fail("contrib/%s is empty" % name)
        if mine not in blocks:
            fail("contrib/%s does not match any example in smtpfe.8:\n%s"
                 % (name, "\n".join(mine)))


@test
def contrib_tcpserver_run(t):
    """The run script starts exactly smtpfe.8's tcpserver command."""
    man = [b for b in (norm(b) for b in man_literal_blocks())
           if len(b) == 1 and b[0].startswith("tcpserver ")]
    if len(man) != 1:
        fail("smtpfe.8 has %d one-line tcpserver examples" % len(man))
    fake = os.path.join(t, "bin")
    os.mkdir(fake)
    with open(os.path.join(fake, "tcpserver"), "w") as f:
        f.write('#!/bin/sh\nprintf "%s\\n" tcpserver "$@"\n')
    os.chmod(os.path.join(fake, "tcpserver"), 0o755)
    script = os.path.join(CONTRIB, "tcpserver.run")
    if not os.access(script, os.X_OK):
        fail("contrib/tcpserver.run is not executable")
    env = {"PATH": fake + ":/usr/bin:/bin"}
    rc, out, err = run([script], env=env)
    if rc != 0 or out.splitlines() != man[0][0].split():
        fail("tcpserver.run runs %r, smtpfe.8 says %r (exit %d, %s)"
             % (out.split(), man[0][0].split(), rc, err))
    env.update(SMTPFE="/x/smtpfe", SMTPFE_ADDR="127.0.0.1",
               SMTPFE_PORT="2525", SMTPFE_CONF="/x/a b.conf",
               SMTPFE_MAXCONN="7")
    rc, out, err = run([script], env=env)
    want = ["tcpserver", "-R", "-H", "-l", "0", "-c", "7", "127.0.0.1",
            "2525", "/x/smtpfe", "-f", "/x/a b.conf"]
    if rc != 0 or out.splitlines() != want:
        fail("tcpserver.run with settings: %r, want %r" % (out, want))


@test
def contrib_systemd_verify(t):
    tool = shutil.which("systemd-analyze")
    if tool is None:
        raise NotRun("systemd-analyze is not installed: the units in "
                     "contrib/ were NOT checked")
    d = os.path.join(t, "units")
    os.mkdir(d)
    names = ("smtpfe.socket", "smtpfe@.service", "smtpfe-runner.service")
    for name in names:
        with open(os.path.join(CONTRIB, name)) as f:
            text = f.read()
        if name.endswith(".service") and \
                "/usr/local/libexec/smtpfe" not in text:
            fail("contrib/%s does not run /usr/local/libexec/smtpfe" % name)
        # verify wants the program to exist: point it at the build
        with open(os.path.join(d, name), "w") as f:
            f.write(text.replace("/usr/local/libexec/smtpfe", SMTPFE))
    rc, out, err = run([tool, "verify"] + [os.path.join(d, n)
                                          for n in names])
    if rc != 0 or out.strip() or err.strip():
        fail("systemd-analyze verify: exit %d\n%s%s" % (rc, out, err))


# ---------------------------------------------------------------- main

def main():
    global SMTPFE
    ap = argparse.ArgumentParser()
    ap.add_argument("-k", help="run only tests whose name contains this")
    ap.add_argument("-v", action="store_true", help="print every result")
    args = ap.parse_args()
    SMTPFE = smtpfe_path()
    passed = failed = 0
    notrun = []
    for fn in TESTS:
        name = fn.__name__
        if args.k and args.k not in name:
            continue
        t = tempfile.mkdtemp(prefix="smtpfe-cli.")
        os.chmod(t, 0o755)
        try:
            fn(t)
        except NotRun as e:
            notrun.append(name)
            print("not run  %s (%s)" % (name, e), flush=True)
        except Fail as e:
            failed += 1
            print("FAIL     %s: %s" % (name, e), flush=True)
        except Exception:
            failed += 1
            print("FAIL     %s: exception\n%s" % (name,
                                                 traceback.format_exc()),
                  flush=True)
        else:
            passed += 1
            if args.v:
                print("ok       %s" % name, flush=True)
        finally:
            shutil.rmtree(t, ignore_errors=True)
    if notrun:
        print("%d not run, not counted: %s" % (len(notrun),
                                                ", ".join(notrun)))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
