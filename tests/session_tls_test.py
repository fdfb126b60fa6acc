#!/usr/bin/env python3
"""
session_tls_test.py - STARTTLS (SPEC.md "STARTTLS") against a real
stunnel4, through "smtpfe -l": every row of the table, the CVE-2011-0411
injection from a relay and a non-relay client, what the processes of a
TLS session are (sandbox, uid, chroot), certificate renewal without a
restart, and -n / -b.

A file of its own (not in session_test.py) because it needs stunnel4 and
openssl, generates a certificate, and runs servers with other keys.
Python 3 standard library only, plus the programs stunnel4 and openssl
(a missing one fails the run: it is never skipped).  Ports 2620-2639.

usage: SMTPFE=/abs/smtpfe python3 tests/session_tls_test.py [-k REGEX] [-v]
"""

import argparse
import os
import pwd
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import traceback
import warnings

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "session"))
import harness  # noqa: E402
from harness import Server, Client, Closed, fail, HOSTNAME  # noqa: E402

harness.PORT_FIRST, harness.PORT_LAST = 2620, 2639
harness._next_port = harness.PORT_FIRST

STUNNEL = "/usr/bin/stunnel4"
OPENSSL = shutil.which("openssl")
CERTDIR = None          # made in main()
TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


def make_cert(dirpath, name, cn=HOSTNAME, kind="ec"):
    """A self-signed certificate and its key: (cert, key) paths."""
    cert = os.path.join(dirpath, name + ".pem")
    key = os.path.join(dirpath, name + ".key")
    if kind == "ec":
        newkey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]
    else:
        newkey = ["-newkey", "rsa:2048"]
    subprocess.run([OPENSSL, "req", "-x509"] + newkey +
                   ["-nodes", "-keyout", key, "-out", cert, "-days", "2",
                    "-subj", "/CN=" + cn,
                    "-addext", "subjectAltName=DNS:" + cn],
                   check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    own_key(key)
    os.chmod(cert, 0o644)
    return cert, key


def own_key(key):
    """The key as smtpfe(8) asks: 0600, owned by the account `user`."""
    os.chmod(key, 0o600)
    if harness.IS_ROOT:
        nobody = pwd.getpwnam("nobody")
        os.chown(key, nobody.pw_uid, nobody.pw_gid)


def tls_server(name, extra=None, **kw):
    conf = {"tls_cert": os.path.join(CERTDIR, "main.pem"),
            "tls_key": os.path.join(CERTDIR, "main.key")}
    conf.update(extra or {})
    return Server("tls-" + name, conf=conf, **kw).start()


def client_context(cafile=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cafile or os.path.join(CERTDIR, "main.pem"))
    return ctx


def starttls(c, ctx=None):
    """STARTTLS, the 220, the handshake; the client now talks TLS."""
    c.cmd("STARTTLS", 220, "2.0.0")
    if c.buf:
        fail("bytes after the 220 before the handshake: %r" % c.buf)
    ctx = ctx or client_context()
    c.sock = ctx.wrap_socket(c.sock, server_hostname=HOSTNAME)
    c.log.append(("-", "TLS %s %s" % (c.sock.version(), c.sock.cipher()[0])))
    return c.sock


def ehlo_lines(r):
    return [l.decode("latin-1")[4:].upper() for l in r.raw_lines]


def send_message(c, rcpt="user@example.org"):
    c.cmd("MAIL FROM:<sender@example.net>", 250, "2.1.0")
    c.cmd("RCPT TO:<%s>" % rcpt, 250, "2.1.5")
    c.cmd("DATA", 354)
    c.send(b"Subject: over TLS\r\n\r\nhello\r\n.\r\n")
    return c.expect(250, "2.0.0", what="end of DATA")


def proc_status(pid):
    with open("/proc/%d/status" % pid) as f:
        return dict(l.rstrip("\n").split(":\t", 1) for l in f if ":\t" in l)


def session_pids(srv, timeout=3.0):
    """The TLS parent (the -l server's child), the session and the
    wrapper: {pid: (name, uid, seccomp, nnp, root)}."""
    out = {}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = {}
        todo = list(srv.children())
        while todo:
            pid = todo.pop()
            todo.extend(harness.proc_children(pid))
            try:
                st = proc_status(pid)
                out[pid] = (st["Name"], st["Uid"].split()[0], st["Seccomp"],
                            st["NoNewPrivs"], os.readlink("/proc/%d/root" % pid))
            except (OSError, KeyError):
                pass
        if len(out) >= 3:
            break
        time.sleep(0.05)
    return out


# -- the rows ---------------------------------------------------------------

@test
def ehlo_offers_starttls(s):
    c = s["main"].session()
    r = c.ehlo()
    lines = ehlo_lines(r)
    if "STARTTLS" not in lines:
        fail("EHLO does not offer STARTTLS: %s" % lines)
    want = ["PIPELINING", "SIZE", "8BITMIME", "SMTPUTF8",
            "ENHANCEDSTATUSCODES", "HELP", "STARTTLS"]
    if [ln.split()[0] for ln in lines[1:]] != want:
        fail("EHLO keywords %s, SPEC's order: %s" % (lines[1:], want))
    c.quit()


@test
def message_over_tls(s):
    srv = s["main"]
    c = srv.session()
    c.ehlo()
    starttls(c)
    if c.sock.version() not in ("TLSv1.2", "TLSv1.3"):
        fail("protocol %s" % c.sock.version())
    # The session starts over: no greeting, EHLO required.
    c.cmd("MAIL FROM:<a@example.net>", 503, "5.5.1")
    r = c.ehlo()
    if "STARTTLS" in ehlo_lines(r):
        fail("EHLO after TLS still offers STARTTLS: %s" % ehlo_lines(r))
    c.cmd("STARTTLS", 503, "5.5.1")
    send_message(c)
    c.quit()
    srv.wait_idle()
    new = srv.files("new")
    if len(new) != 1:
        fail("expected one spooled message, got %s" % new)
    text = srv.read_new(new[0]).decode("latin-1")
    if not re.search(r"\(client\.example \[127\.0\.0\.1\]\)\s+by %s "
                     r"\(smtpfe\) with ESMTPS id" % re.escape(HOSTNAME), text):
        fail("Received: header without the client or 'with ESMTPS':\n%s"
             % text[:600])
    if "\nHelo: client.example\n" not in text and "Helo: client.example" not in text:
        fail("envelope lost the post-TLS HELO name:\n%s" % text[:400])


@test
def helo_after_tls(s):
    c = s["main"].session()
    c.ehlo()
    starttls(c)
    c.helo("after.example")
    c.cmd("STARTTLS", 503, "5.5.1")
    send_message(c)
    c.quit()


@test
def starttls_with_parameter(s):
    c = s["main"].session()
    c.ehlo()
    c.cmd("STARTTLS now", 501, "5.5.4")
    c.cmd("NOOP", 250)
    c.quit()


@test
def starttls_before_ehlo(s):
    c = s["main"].session()
    c.cmd("STARTTLS", 503, "5.5.1")
    c.helo()
    c.cmd("STARTTLS", 503, "5.5.1")     # HELO does not count
    c.quit()


@test
def starttls_in_transaction(s):
    c = s["main"].session()
    c.ehlo()
    c.cmd("MAIL FROM:<a@example.net>", 250)
    c.cmd("STARTTLS", 503, "5.5.1")
    c.cmd("RCPT TO:<user@example.org>", 250)
    c.cmd("STARTTLS", 503, "5.5.1")
    c.cmd("RSET", 250)
    starttls(c)
    c.ehlo()
    c.quit()


def injection(srv, src):
    c = srv.connect(src=src)
    c.expect_greeting()
    c.ehlo()
    c.send(b"STARTTLS\r\nRSET\r\n")
    c.expect(554, "5.5.0", what="the reply to STARTTLS with RSET behind it")
    c.expect_closed(what="after 554: ")
    srv.wait_idle()


@test
def injection_relay_client(s):
    injection(s["main"], "127.0.0.1")


@test
def injection_non_relay_client(s):
    injection(s["main"], "127.0.0.2")


@test
def injection_starttls_helo_pipelined(s):
    """From a relay client (exempt from RFC 2920's group ends) EHLO and
    STARTTLS in one write are answered; more after STARTTLS is not.  From
    anyone else EHLO with input behind it is already refused."""
    c = s["main"].connect(src="127.0.0.1")
    c.expect_greeting()
    c.send(b"EHLO client.example\r\nSTARTTLS\r\nMAIL FROM:<a@example.net>\r\n")
    c.expect(250)
    c.expect(554, "5.5.0")
    c.expect_closed()
    c = s["main"].connect(src="127.0.0.2")
    c.expect_greeting()
    c.send(b"EHLO client.example\r\nSTARTTLS\r\n")
    c.expect(554, "5.5.0")
    c.expect_closed()


@test
def bytes_after_220_never_answered(s):
    srv = s["main"]
    for src in ("127.0.0.1", "127.0.0.2"):
        c = srv.connect(src=src)
        c.expect_greeting()
        c.ehlo()
        c.cmd("STARTTLS", 220, "2.0.0")
        c.send(b"RSET\r\nNOOP\r\n")
        # The wrapper takes them as a broken handshake and closes; no
        # reply may ever come, in plaintext or otherwise.
        try:
            c._fill(8.0)
            fail("from %s: got %r after the 220 and plaintext RSET"
                 % (src, c.buf))
        except Closed:
            pass
        except socket.timeout:
            fail("from %s: connection still open 8 s after a plaintext "
                 "RSET in place of the handshake" % src)
    srv.wait_idle()


@test
def bytes_after_220_then_handshake(s):
    """Plaintext written between the 220 and a ClientHello: the handshake
    fails; nothing is answered before or inside TLS."""
    c = s["main"].session()
    c.ehlo()
    c.cmd("STARTTLS", 220, "2.0.0")
    c.send(b"RSET\r\n")
    try:
        tls = client_context().wrap_socket(c.sock, server_hostname=HOSTNAME)
    except (ssl.SSLError, OSError):
        return
    tls.settimeout(3)
    try:
        tls.sendall(b"NOOP\r\n")
        data = tls.recv(1000)
    except (ssl.SSLError, OSError):
        return
    if data.startswith(b"250"):
        fail("the plaintext RSET was answered inside TLS: %r" % data)


@test
def quit_without_tls_closes(s):
    """TLS configured, never used: QUIT closes at once (the parent's copy
    of the client socket does not keep it open)."""
    c = s["main"].session()
    c.ehlo()
    send_message(c)
    t0 = time.monotonic()
    c.quit()
    if time.monotonic() - t0 > 1.0:
        fail("close after QUIT took %.2f s" % (time.monotonic() - t0))


@test
def processes_of_a_tls_session(s):
    srv = s["main"]
    c = srv.session()
    c.ehlo()
    starttls(c)
    c.ehlo()
    procs = session_pids(srv)
    names = sorted(v[0] for v in procs.values())
    sessions = [(p, v) for p, v in procs.items() if v[2] == "2"]
    if len(sessions) != 1:
        fail("expected exactly one seccomp-filtered process (the session), "
             "got %s" % procs)
    pid, (name, uid, sec, nnp, root) = sessions[0]
    if harness.IS_ROOT:
        nobody = str(pwd.getpwnam("nobody").pw_uid)
        for p, v in procs.items():
            if v[1] != nobody:
                fail("process %d (%s) runs as uid %s, not nobody: %s"
                     % (p, v[0], v[1], procs))
        if harness.CHROOT and root != srv.spool:
            fail("the session's root is %s, not the spool" % root)
    if nnp != "1":
        fail("the session has no no_new_privs: %s" % procs)
    # After the hand-back fds 0, 1 and 2 are the plaintext side, as under
    # inetd: nothing stray can land in a spool file through fd 2.
    links = [os.readlink("/proc/%d/fd/%d" % (pid, n)) for n in (0, 1, 2)]
    if len(set(links)) != 1 or not links[0].startswith("socket:"):
        fail("the session's fds 0-2 after TLS: %s" % links)
    if not any(n.startswith("stunnel") for n in names):
        fail("no wrapper process among %s" % procs)
    c.quit()
    srv.wait_idle()


@test
def handshake_timeout(s):
    """STARTTLS, then silence: the session ends within its timeout."""
    srv = s["short"]
    c = srv.session()
    c.ehlo()
    c.cmd("STARTTLS", 220, "2.0.0")
    t0 = time.monotonic()
    try:
        c._fill(15)
        fail("got %r instead of a close" % c.buf)
    except Closed:
        pass
    except socket.timeout:
        fail("still open 15 s after a STARTTLS with no handshake (timeout 2)")
    srv.wait_idle(timeout=15)
    if time.monotonic() - t0 > 14:
        fail("took %.1f s" % (time.monotonic() - t0))


@test
def wrapper_fails_after_220(s):
    """A key that does not match: 220, then the connection closes; never
    a plaintext session."""
    srv = s["badkey"]
    c = srv.session()
    r = c.ehlo()
    if "STARTTLS" not in ehlo_lines(r):
        fail("STARTTLS should still be offered: %s" % ehlo_lines(r))
    c.cmd("STARTTLS", 220, "2.0.0")
    c.send(b"EHLO plain.example\r\n")
    try:
        c._fill(8)
        fail("got %r after the 220 with a failing wrapper" % c.buf)
    except Closed:
        pass
    except socket.timeout:
        fail("connection still open 8 s after the wrapper failed")
    srv.wait_idle()


@test
def not_configured(s):
    srv = s["plain"]
    c = srv.session()
    r = c.ehlo()
    if "STARTTLS" in ehlo_lines(r):
        fail("STARTTLS offered without tls_cert/tls_key: %s" % ehlo_lines(r))
    c.cmd("STARTTLS", 502, "5.5.1")
    c.ehlo()
    # Nothing forks: the -l server's child is the session itself.
    procs = session_pids(srv, timeout=0.5)
    if len(procs) != 1 or list(procs.values())[0][2] != "2":
        fail("without TLS the session should be one filtered process: %s"
             % procs)
    c.quit()


@test
def wrapper_missing(s):
    srv = s["nowrapper"]
    c = srv.session()
    r = c.ehlo()
    if "STARTTLS" in ehlo_lines(r):
        fail("STARTTLS offered with tls_wrapper missing: %s" % ehlo_lines(r))
    c.cmd("STARTTLS", 502, "5.5.1")
    c.quit()


@test
def only_cert_set(s):
    srv = s["halfset"]
    c = srv.session()
    if "STARTTLS" in ehlo_lines(c.ehlo()):
        fail("STARTTLS offered with tls_key unset")
    c.quit()


@test
def certificate_renewal(s):
    """Replace the certificate and key between two sessions: the second
    handshake presents the new one, with no restart."""
    srv = s["renew"]
    cert, key = srv.conf_keys["tls_cert"], srv.conf_keys["tls_key"]
    seen = []
    for round_ in range(2):
        c = srv.session()
        c.ehlo()
        sock = starttls(c, client_context(cert))
        seen.append(sock.getpeercert(binary_form=True))
        c.ehlo()
        c.quit()
        if round_ == 0:
            d = tempfile.mkdtemp(dir=CERTDIR)
            ncert, nkey = make_cert(d, "renewed")
            os.rename(ncert, cert)      # as certbot's deploy hook would
            os.rename(nkey, key)
    if seen[0] == seen[1]:
        fail("the second session presented the old certificate")


@test
def tls12_floor(s):
    """A client limited to TLS 1.1 is refused; 1.2 works."""
    srv = s["main"]
    for ver, ok in ((ssl.TLSVersion.TLSv1_1, False),
                    (ssl.TLSVersion.TLSv1_2, True)):
        ctx = client_context()
        try:
            ctx.minimum_version = ver
            ctx.maximum_version = ver
        except ValueError:
            continue
        if not ok:
            ctx.set_ciphers("ALL:@SECLEVEL=0")
        c = srv.session()
        c.ehlo()
        try:
            starttls(c, ctx)
            got = True
            c.ehlo()
        except (ssl.SSLError, OSError) as e:
            got = False
            if "NO_PROTOCOLS" in str(e) or "NO_CIPHERS" in str(e):
                fail("%s: the client itself cannot try: %s" % (ver.name, e))
        if got != ok:
            fail("%s: handshake %s" % (ver.name, "succeeded" if got else "failed"))
        c.close()
    srv.wait_idle()


# -- -n and -b ----------------------------------------------------------------

def run_smtpfe(args, conf):
    return subprocess.run([harness.smtpfe_path(), "-f", conf] + args,
                          stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=30)


@test
def confcheck_ok(s):
    r = run_smtpfe(["-n"], s["main"].conf)
    if r.returncode != 0 or "ok" not in r.stdout:
        fail("-n on a good TLS configuration: exit %d, %s %s"
             % (r.returncode, r.stdout, r.stderr))


@test
def confcheck_problems(s):
    cases = [("badkey", "key values mismatch"),
             ("nowrapper", "tls_wrapper"),
             ("halfset", "both be set")]
    for name, want in cases:
        r = run_smtpfe(["-n"], s[name].conf)
        if r.returncode != 78 or want not in r.stderr:
            fail("-n with %s: expected exit 78 and %r, got %d: %s"
                 % (name, want, r.returncode, r.stderr))
    if harness.IS_ROOT:
        # A key only root can read: the account `user` could not load it.
        srv = s["rootkey"]
        r = run_smtpfe(["-n"], srv.conf)
        if r.returncode != 78 or "Permission denied" not in r.stderr:
            fail("-n with a key nobody cannot read: %d %s"
                 % (r.returncode, r.stderr))
        # Readable by every user: a warning, not an error.
        os.chmod(srv.conf_keys["tls_key"], 0o644)
        r = run_smtpfe(["-n"], srv.conf)
        os.chmod(srv.conf_keys["tls_key"], 0o600)
        if r.returncode != 0 or "readable by every user" not in r.stderr:
            fail("-n with a world-readable key: %d %s" % (r.returncode, r.stderr))
        # smtpfe itself where `user` cannot run it: the wrapper could not
        # hand the connection back after a handshake.
        d = tempfile.mkdtemp(dir=CERTDIR)
        os.chmod(d, 0o700)
        exe = os.path.join(d, "smtpfe")
        shutil.copy(harness.smtpfe_path(), exe)
        r = subprocess.run([exe, "-n", "-f", s["main"].conf],
                           stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=30)
        if r.returncode != 78 or "not executable by this account" not in r.stderr:
            fail("-n with smtpfe out of user's reach: %d %s"
                 % (r.returncode, r.stderr))


@test
def test_mode_explains(s):
    for name, want in (("main", "would offer it"),
                       ("plain", "tls_cert and tls_key unset"),
                       ("nowrapper", "missing or not executable")):
        p = subprocess.run([harness.smtpfe_path(), "-f", s[name].conf, "-b",
                            "192.0.2.1"], input="EHLO x.example\r\nSTARTTLS\r\n"
                           "QUIT\r\n", capture_output=True, text=True,
                           timeout=10)
        if want not in p.stderr:
            fail("-b (%s) does not explain STARTTLS (%r): %s"
                 % (name, want, p.stderr))
        if "STARTTLS" in p.stdout.split("502")[0]:
            fail("-b offers STARTTLS: %s" % p.stdout)


def servers():
    d = CERTDIR
    make_cert(d, "main")
    make_cert(d, "other", cn="other.example")
    rdir = os.path.join(d, "renew")
    os.mkdir(rdir)
    os.chmod(rdir, 0o755)
    make_cert(rdir, "cur")
    rootkey_cert, rootkey_key = make_cert(d, "rootonly")
    if harness.IS_ROOT:
        os.chown(rootkey_key, 0, 0)
    srv = {}
    srv["main"] = tls_server("main")
    srv["short"] = tls_server("short", {"timeout": "2"})
    srv["badkey"] = tls_server("badkey", {"tls_key": os.path.join(d, "other.key")})
    srv["plain"] = Server("tls-plain").start()
    srv["nowrapper"] = tls_server("nowrapper", {"tls_wrapper": "/nonexistent/stunnel4"})
    srv["halfset"] = Server("tls-halfset", conf={
        "tls_cert": os.path.join(d, "main.pem")}).start()
    srv["renew"] = tls_server("renew", {"tls_cert": os.path.join(rdir, "cur.pem"),
                                        "tls_key": os.path.join(rdir, "cur.key")})
    srv["rootkey"] = Server("tls-rootkey", conf={
        "tls_cert": rootkey_cert, "tls_key": rootkey_key})
    return srv


def main():
    global CERTDIR
    warnings.simplefilter("ignore", DeprecationWarning)
    ap = argparse.ArgumentParser()
    ap.add_argument("-k", action="append", default=[])
    ap.add_argument("-v", action="store_true")
    args = ap.parse_args()
    for prog in (STUNNEL, OPENSSL):
        if not prog or not os.access(prog, os.X_OK):
            print("FAIL  missing program %s: apt-get install stunnel4 openssl"
                  % (prog or "openssl"))
            print("0 passed, 1 failed")
            return 1
    CERTDIR = tempfile.mkdtemp(prefix="smtpfe-tls-")
    os.chmod(CERTDIR, 0o755)
    passed = failed = 0
    srv = {}
    try:
        srv = servers()
        for fn in TESTS:
            if args.k and not any(re.search(k, fn.__name__) for k in args.k):
                continue
            t0 = time.monotonic()
            try:
                for x in srv.values():
                    if x.proc is not None:
                        x.clean_spool()
                fn(srv)
                passed += 1
                print("ok    %s (%.1f s)" % (fn.__name__, time.monotonic() - t0))
            except Exception as e:
                failed += 1
                msg = str(e) if isinstance(e, harness.Fail) else "".join(
                    traceback.format_exception(type(e), e, e.__traceback__)[-3:])
                print("FAIL  %s (%.1f s)\n      %s"
                      % (fn.__name__, time.monotonic() - t0, msg.rstrip()))
            finally:
                for x in srv.values():
                    x.close_clients()
            sys.stdout.flush()
    finally:
        for name, x in srv.items():
            problem = x.stop() if x.proc is not None else None
            if args.v:
                print("    [%s stderr] %s" % (name, x.stderr_text()))
            if problem:
                failed += 1
                print("FAIL  %s.server_stop\n      %s" % (name, problem))
            x.cleanup()
        shutil.rmtree(CERTDIR, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
