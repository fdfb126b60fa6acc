#!/usr/bin/env python3
"""
session_utf8_test.py - SMTPUTF8 and IDN domains (issue 12) end to end:
every UTF-8 row of SPEC.md's dialogue table, the spool file byte for byte
with "Smtputf8: yes" and "with UTF8SMTP", local_domains and recipients in
U-label and A-label form, "smtpfe -b" explaining the verdicts, and
Python's smtplib (mail_options=["SMTPUTF8"]) as a client nobody here
wrote.

Run:  SMTPFE=/abs/path/to/smtpfe python3 tests/session_utf8_test.py [-k RE]

A new file, not part of session_test.py, so that the UTF-8 work merges
without touching that file's groups.  Each group runs against a private
"smtpfe -l" from tests/session/harness.py on ports 2640-2659
(SMTPFE_UTF8_PORTS=FIRST-LAST to move them).  The last line printed is
"N passed, N failed"; the exit status is 1 when any test failed.
"""

import argparse
import os
import re
import smtplib
import subprocess
import sys
import time
import traceback

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "session"))

import harness  # noqa: E402
from harness import HOSTNAME, Fail, Server, fail, smtpfe_path  # noqa: E402

_ports = os.environ.get("SMTPFE_UTF8_PORTS", "2640-2659").split("-")
harness.PORT_FIRST, harness.PORT_LAST = int(_ports[0]), int(_ports[1])
harness._next_port = harness.PORT_FIRST

STRANGER = "127.0.0.2"          # not in relay_networks (127.0.0.1/32)

# josé@exämple.org, 用户@x.例子.广告 and their A-label forms
JOSE = "jos\u00e9"
EXAMPLE_U = "ex\u00e4mple.org"
EXAMPLE_A = "xn--exmple-cua.org"
CJK_LOCAL = "\u7528\u6237"
CJK_U = "\u4f8b\u5b50.\u5e7f\u544a"
CJK_A = "xn--fsqu00a.xn--4rr70v"

GROUPS = {
    # local_domains in U-label form, normalized at load
    "ulabel": dict(conf={"local_domains": "example.org, %s, .%s"
                         % (EXAMPLE_U, CJK_U)}),
    # local_domains in A-label form and a recipients file
    "alabel": dict(conf={"local_domains": "%s, .%s" % (EXAMPLE_A, CJK_A)},
                   recipients=sorted(["@x.%s" % CJK_A,
                                      "%s@%s" % (JOSE, EXAMPLE_A),
                                      "bob@%s" % EXAMPLE_A])),
    "off": dict(conf={"smtputf8": "no", "local_domains": "example.org"}),
    "ncheck": None,             # smtpfe -n; the tests make their own
}

TESTS = []


def test(group):
    def deco(fn):
        TESTS.append((group, fn.__name__, fn))
        return fn
    return deco


def rows(s, rows_, setup=(), src=STRANGER, per_session=2):
    """harness.rows, from a stranger unless told otherwise."""
    harness.rows(s, rows_, setup, src, per_session)


def ehlo_lines(c):
    r = c.cmd("EHLO client.example", 250)
    return [l.strip().upper() for l in r.lines[1:]]


# == EHLO ======================================================================

@test("ulabel")
def ehlo_offers_smtputf8(s):
    c = s.session(src=STRANGER)
    kw = ehlo_lines(c)
    if "SMTPUTF8" not in kw or kw.index("SMTPUTF8") != kw.index("8BITMIME") + 1:
        fail("EHLO: SMTPUTF8 should follow 8BITMIME (SPEC), got %s" % kw)
    c.quit()


@test("off")
def ehlo_without_smtputf8(s):
    c = s.session(src=STRANGER)
    kw = ehlo_lines(c)
    if "SMTPUTF8" in kw:
        fail("EHLO with smtputf8 = no offers SMTPUTF8: %s" % kw)
    c.quit()


# == MAIL ======================================================================

@test("ulabel")
def mail_parameter(s):
    rows(s, [
        ("MAIL FROM:<%s@%s> SMTPUTF8" % (JOSE, EXAMPLE_U), 250, "2.1.0"),
        ("MAIL FROM:<%s@%s> smtputf8" % (CJK_LOCAL, CJK_U), 250, "2.1.0"),
        ("MAIL FROM:<a@example.net> SMTPUTF8", 250, "2.1.0"),
        ("MAIL FROM:<> SMTPUTF8", 250, "2.1.0"),
        ("MAIL FROM:<%s@example.net> BODY=8BITMIME SMTPUTF8 SIZE=100"
         % JOSE, 250, "2.1.0"),
        ("MAIL FROM:<%s@example.net>" % JOSE, 553, "5.6.7"),
        ("MAIL FROM:<a@%s>" % EXAMPLE_U, 553, "5.6.7"),
        ("MAIL FROM:<a@example.net> SMTPUTF8=yes", 501, "5.5.4"),
        ("MAIL FROM:<a@example.net> SMTPUTF8 SMTPUTF8", 501, "5.5.4"),
        ("MAIL FROM:<%s@example.net> SMTPUTF8 XYZZY" % JOSE, 555, "5.5.4"),
    ])


@test("ulabel")
def mail_ascii_check_comes_first(s):
    # SPEC: without the parameter, non-ASCII is 553 5.6.7 "checked before
    # anything else about the address": never 501 or 553 5.1.7.
    rows(s, [
        ("MAIL FROM:<j\u00f6rg@@example.net>", 553, "5.6.7"),
        ("MAIL FROM:<j\u00f6rg@example.net.>", 553, "5.6.7"),
        ("MAIL FROM:<|j\u00f6rg@example.net>", 553, "5.6.7"),
        (b"MAIL FROM:<j\xe9rg@example.net>", 553, "5.6.7"),
        (b"MAIL FROM:<j\xc0\xafrg@example.net>", 553, "5.6.7"),
        ("MAIL FROM:<\uff5ccmd@example.net>", 553, "5.6.7"),
    ])


@test("ulabel")
def mail_ill_formed(s):
    rows(s, [
        (b"MAIL FROM:<j\xe9rg@example.net> SMTPUTF8", 501, "5.1.7"),
        (b"MAIL FROM:<a@ex\xc3mple.net> SMTPUTF8", 501, "5.1.7"),
        (b"MAIL FROM:<\xc0\xafx@example.net> SMTPUTF8", 501, "5.1.7"),
        (b"MAIL FROM:<a\xed\xa0\x80@example.net> SMTPUTF8", 501, "5.1.7"),
        (b"MAIL FROM:<a\xf4\x90\x80\x80@example.net> SMTPUTF8", 501, "5.1.7"),
        (b"MAIL FROM:<a\xc2\x85@example.net> SMTPUTF8", 501, "5.1.7"),
        (b"MAIL FROM:<a\xc2\x9f@example.net> SMTPUTF8", 501, "5.1.7"),
        (b"MAIL FROM:<a\xc2\xa0@example.net> SMTPUTF8", 250, "2.1.0"),
    ])


@test("ulabel")
def mail_confusables(s):
    rows(s, [
        ("MAIL FROM:<a\uff05b@example.net> SMTPUTF8", 553, "5.1.7"),
        ("MAIL FROM:<\uff5ccmd@example.net> SMTPUTF8", 553, "5.1.7"),
        ("MAIL FROM:<\uff0fetc@example.net> SMTPUTF8", 553, "5.1.7"),
        ("MAIL FROM:<\uff0doQ@example.net> SMTPUTF8", 553, "5.1.7"),
        ("MAIL FROM:<a\ufe6bb@example.net> SMTPUTF8", 553, "5.1.7"),
        ("MAIL FROM:<a\ufe50b@example.net> SMTPUTF8", 553, "5.1.7"),
        ("MAIL FROM:<a\uff01b@example.net> SMTPUTF8", 553, "5.1.7"),
        ("MAIL FROM:<a\uff5eb@example.net> SMTPUTF8", 553, "5.1.7"),
        ("MAIL FROM:<a\uff5fb@example.net> SMTPUTF8", 250, "2.1.0"),
        ("MAIL FROM:<a\ufe4fb@example.net> SMTPUTF8", 250, "2.1.0"),
    ])


@test("off")
def mail_smtputf8_off(s):
    rows(s, [
        ("MAIL FROM:<a@example.net> SMTPUTF8", 555, "5.5.4"),
        ("MAIL FROM:<%s@example.net> SMTPUTF8" % JOSE, 553, "5.6.7"),
        ("MAIL FROM:<%s@example.net>" % JOSE, 553, "5.6.7"),
        ("MAIL FROM:<a@example.net>", 250, "2.1.0"),
    ])


# == RCPT ======================================================================

MAIL_U = "MAIL FROM:<%s@example.net> SMTPUTF8" % JOSE


@test("ulabel")
def rcpt_ulabel_domains(s):
    rows(s, [
        ("RCPT TO:<%s@%s>" % (JOSE, EXAMPLE_U), 250, "2.1.5"),
        ("RCPT TO:<%s@%s>" % (JOSE, EXAMPLE_A), 250, "2.1.5"),
        ("RCPT TO:<%s@XN--EXMPLE-CUA.ORG>" % JOSE, 250, "2.1.5"),
        ("RCPT TO:<%s@EX\u00e4MPLE.org>" % JOSE, 250, "2.1.5"),
        # Ä is not folded to ä: another domain, relay denied
        ("RCPT TO:<%s@ex\u00c4mple.org>" % JOSE, 554, "5.7.1"),
        ("RCPT TO:<%s@x.%s>" % (CJK_LOCAL, CJK_U), 250, "2.1.5"),
        ("RCPT TO:<%s@x.%s>" % (CJK_LOCAL, CJK_A), 250, "2.1.5"),
        ("RCPT TO:<%s@%s>" % (CJK_LOCAL, CJK_U), 554, "5.7.1"),
        # U+3002 is not a dot
        ("RCPT TO:<a@x.\u4f8b\u5b50\u3002\u5e7f\u544a>", 554, "5.7.1"),
        ("RCPT TO:<a@x.%s>" % CJK_U.replace(".", "\uff0e"), 554, "5.7.1"),
    ], setup=[MAIL_U])


@test("ulabel")
def rcpt_without_parameter(s):
    rows(s, [
        ("RCPT TO:<%s@example.org>" % JOSE, 553, "5.6.7"),
        ("RCPT TO:<a@%s>" % EXAMPLE_U, 553, "5.6.7"),
        ("RCPT TO:<j\u00f6rg@@example.org>", 553, "5.6.7"),
        ("RCPT TO:<a@%s>" % EXAMPLE_A, 250, "2.1.5"),
    ], setup=["MAIL FROM:<a@example.net>"])


@test("ulabel")
def rcpt_flag_is_per_transaction(s):
    c = s.session(src=STRANGER)
    c.ehlo()
    c.cmd(MAIL_U, 250, "2.1.0")
    c.cmd("RCPT TO:<%s@%s>" % (JOSE, EXAMPLE_U), 250, "2.1.5")
    c.cmd("RSET", 250, "2.0.0")
    c.cmd("MAIL FROM:<a@example.net>", 250, "2.1.0")
    c.cmd("RCPT TO:<%s@%s>" % (JOSE, EXAMPLE_U), 553, "5.6.7")
    c.quit()


@test("ulabel")
def rcpt_ill_formed_and_tricks(s):
    rows(s, [
        (b"RCPT TO:<j\xe9@example.org>", 501, "5.1.3"),
        (b"RCPT TO:<a@ex\xe4mple.org>", 501, "5.1.3"),
        (b"RCPT TO:<a\xc2\x80@example.org>", 501, "5.1.3"),
        (b"RCPT TO:<a\xef\xbf@example.org>", 501, "5.1.3"),
        ("RCPT TO:<a\uff05b@%s>" % EXAMPLE_U, 553, "5.1.3"),
        ("RCPT TO:<\"a\uff20b\"@example.org>", 553, "5.1.3"),
        ("RCPT TO:<a%%%s@%s>" % (JOSE, EXAMPLE_U), 553, "5.1.3"),
        ("RCPT TO:<%s!a@%s>" % (JOSE, EXAMPLE_U), 553, "5.1.3"),
        ("RCPT TO:<|%s@example.org>" % JOSE, 553, "5.1.3"),
        ("RCPT TO:<%s@example.org> SMTPUTF8" % JOSE, 555, "5.5.4"),
        ("RCPT TO:<a@-\u00fc.example.org>", 501, "5.1.3"),
        ("RCPT TO:<a@\u00fc_x.example.org>", 501, "5.1.3"),
    ], setup=[MAIL_U])


@test("ulabel")
def rcpt_confusable_from_relay_client(s):
    # the confusable forms are refused whoever the client is
    rows(s, [
        ("RCPT TO:<a\uff05b@elsewhere.example>", 553, "5.1.3"),
        ("RCPT TO:<\uff5ccat@elsewhere.example>", 553, "5.1.3"),
        ("RCPT TO:<%s@elsewhere.example>" % JOSE, 250, "2.1.5"),
    ], setup=[MAIL_U], src="127.0.0.1")


def udomain(n):
    """A domain of exactly N octets as sent: labels of ten "é" (20
    octets, xn--9caaaaaaaaaa) and an ASCII label to fill."""
    out, rem = "", n
    while rem > 25:
        out += "\u00e9" * 10 + "."
        rem -= 21
    out += "d" * rem
    if len(out.encode()) != n:
        fail("test bug: domain of %d octets, not %d" % (len(out.encode()), n))
    return out


@test("ulabel")
def length_limits(s):
    e = "\u00e9"
    rows(s, [
        # local part: 64 octets as sent (32 "é"), then 65
        ("RCPT TO:<%s@example.org>" % (e * 32), 250, "2.1.5"),
        ("RCPT TO:<%sa@example.org>" % (e * 32), 501, "5.1.3"),
        # a label: 55 'a' + "ü" is 63 octets as an A-label, 56 'a' is 64
        ("RCPT TO:<a@%s\u00fc.elsewhere.example>" % ("a" * 55), 554, "5.7.1"),
        ("RCPT TO:<a@%s\u00fc.elsewhere.example>" % ("a" * 56), 501, "5.1.3"),
    ], setup=[MAIL_U])
    rows(s, [
        # path: "<" 64 "@" 189 ">" = 256 octets, then 257 (relay client)
        ("RCPT TO:<%s@%s>" % (e * 32, udomain(189)), 250, "2.1.5"),
        ("RCPT TO:<%s@%s>" % (e * 32, udomain(190)), 501, "5.1.3"),
        # domain: 255 octets passes its own limit, then the path's; 256 not
        ("RCPT TO:<a@%s>" % udomain(255), 501, "5.1.3"),
        ("RCPT TO:<a@%s>" % udomain(256), 501, "5.1.3"),
    ], setup=[MAIL_U], src="127.0.0.1", per_session=1)
    c = s.session(src="127.0.0.1")
    c.ehlo()
    c.cmd(MAIL_U, 250)
    r = c.cmd("RCPT TO:<a@%s>" % udomain(255), 501, "5.1.3")
    if "Path longer" not in r.text:
        fail("255-octet domain: expected the path limit, got %r" % str(r))
    r = c.cmd("RCPT TO:<a@%s>" % udomain(256), 501, "5.1.3")
    if "Domain longer" not in r.text:
        fail("256-octet domain: expected the domain limit, got %r" % str(r))
    c.quit()


@test("alabel")
def recipients_in_alabel_form(s):
    rows(s, [
        ("RCPT TO:<%s@%s>" % (JOSE, EXAMPLE_U), 250, "2.1.5"),
        ("RCPT TO:<%s@%s>" % (JOSE, EXAMPLE_A), 250, "2.1.5"),
        ("RCPT TO:<Jos\u00e9@%s>" % EXAMPLE_U, 250, "2.1.5"),
        ("RCPT TO:<JOS\u00c9@%s>" % EXAMPLE_U, 550, "5.1.1"),
        ("RCPT TO:<jose@%s>" % EXAMPLE_U, 550, "5.1.1"),
        ("RCPT TO:<bob@%s>" % EXAMPLE_U, 250, "2.1.5"),
        ("RCPT TO:<anyone@x.%s>" % CJK_U, 250, "2.1.5"),
        ("RCPT TO:<anyone@y.%s>" % CJK_U, 550, "5.1.1"),
        ("RCPT TO:<a@elsewhere.example>", 554, "5.7.1"),
    ], setup=[MAIL_U])


# == the spool ================================================================

def expect_spool(s, sid, *, sender, rcpts, body_param, proto, body):
    """The whole spool file, byte for byte but for the two dates."""
    data = s.read_new(sid)
    env = ["Smtpfe-Spool: 1", "Client: " + STRANGER, "Helo: client.example",
           "Sender: <%s>" % sender]
    env += ["Recipient: <%s>" % r for r in rcpts]
    if body_param:
        env.append("Body: " + body_param)
    if proto.startswith("UTF8"):
        env.append("Smtputf8: yes")
    want = ("\n".join(env) + "\nArrived: @A@\n\n"
            "Received: from client.example (client.example [%s])\n"
            "        by %s (smtpfe) with %s id %s\n"
            "        for <%s>; @D@\n" % (STRANGER, HOSTNAME, proto, sid,
                                        rcpts[0])).encode() + body
    pat = re.escape(want).replace(re.escape(b"@A@"),
                                  rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
    pat = pat.replace(re.escape(b"@D@"), rb"[A-Z][a-z]{2}, \d{1,2} [A-Z][a-z]{2}"
                      rb" \d{4} \d\d:\d\d:\d\d \+0000")
    if not re.fullmatch(pat, data, re.S):
        fail("spool file %s:\n      expected %r\n      got      %r"
             % (sid, want, data))


def send_one(s, mail, rcpts, body):
    c = s.session(src=STRANGER)
    c.ehlo()
    c.cmd(mail, 250, "2.1.0")
    for r in rcpts:
        c.cmd("RCPT TO:<%s>" % r, 250, "2.1.5")
    c.cmd("DATA", 354)
    c.send(body.replace(b"\n", b"\r\n") + b".\r\n")
    r = c.expect(250, "2.0.0")
    m = re.search(r"queued as (\S+)", r.text)
    if not m:
        fail("no 'queued as ID' in %r" % str(r))
    c.quit()
    return m.group(1)


BODY = ("From: %s@example.net\nTo: %s@%s\nSubject: gr\u00fc\u00dfe\n\n"
        "\u4f60\u597d, %s\n" % (JOSE, CJK_LOCAL, CJK_U, JOSE)).encode()


@test("ulabel")
def spool_utf8smtp_8bitmime(s):
    sender = "%s@%s" % (JOSE, EXAMPLE_U)
    rcpts = ["%s@x.%s" % (CJK_LOCAL, CJK_U), "%s@%s" % (JOSE, EXAMPLE_A)]
    sid = send_one(s, "MAIL FROM:<%s> BODY=8BITMIME SMTPUTF8" % sender,
                   rcpts, BODY)
    expect_spool(s, sid, sender=sender, rcpts=rcpts, body_param="8BITMIME",
                 proto="UTF8SMTP", body=BODY)


@test("ulabel")
def spool_utf8smtp_no_body(s):
    sid = send_one(s, "MAIL FROM:<a@example.net> SMTPUTF8",
                   ["b@example.org"], b"Subject: x\n\nascii\n")
    expect_spool(s, sid, sender="a@example.net", rcpts=["b@example.org"],
                 body_param=None, proto="UTF8SMTP", body=b"Subject: x\n\nascii\n")


@test("ulabel")
def spool_plain_esmtp(s):
    sid = send_one(s, "MAIL FROM:<a@example.net>", ["b@%s" % EXAMPLE_A],
                   b"Subject: x\n\nascii\n")
    expect_spool(s, sid, sender="a@example.net", rcpts=["b@%s" % EXAMPLE_A],
                 body_param=None, proto="ESMTP", body=b"Subject: x\n\nascii\n")


# == a client nobody here wrote ===============================================

def smtplib_client(s):
    c = smtplib.SMTP(timeout=10, source_address=(STRANGER, 0))
    c.connect("127.0.0.1", s.port)
    return c


@test("ulabel")
def smtplib_smtputf8(s):
    sender = "%s@%s" % (JOSE, EXAMPLE_U)
    rcpts = ["%s@x.%s" % (CJK_LOCAL, CJK_U)]
    c = smtplib_client(s)
    c.ehlo("client.example")
    if not c.has_extn("smtputf8"):
        fail("smtplib does not see SMTPUTF8 in %r" % c.esmtp_features)
    # bytes are sent as they are: CRLF is the caller's job
    refused = c.sendmail(sender, rcpts, BODY.replace(b"\n", b"\r\n"),
                         mail_options=["SMTPUTF8", "BODY=8BITMIME"])
    if refused:
        fail("smtplib: recipients refused: %r" % refused)
    c.quit()
    s.wait_idle()
    new = s.files("new")
    if len(new) != 1:
        fail("expected one spool file, found %s" % new)
    expect_spool(s, new[0], sender=sender, rcpts=rcpts,
                 body_param="8BITMIME", proto="UTF8SMTP", body=BODY)


@test("ulabel")
def smtplib_without_parameter(s):
    c = smtplib_client(s)
    c.ehlo("client.example")
    try:
        c.sendmail("%s@example.net" % JOSE, ["b@example.org"], b"x\n")
        fail("smtplib: a UTF-8 sender without SMTPUTF8 was accepted")
    except smtplib.SMTPSenderRefused as e:
        if e.smtp_code != 553 or not e.smtp_error.startswith(b"5.6.7"):
            fail("expected 553 5.6.7, got %s %r" % (e.smtp_code, e.smtp_error))
    except UnicodeEncodeError:
        pass            # an older smtplib refuses to send it at all
    c.quit()
    s.assert_nothing_spooled()


@test("off")
def smtplib_sees_no_smtputf8(s):
    c = smtplib_client(s)
    c.ehlo("client.example")
    try:
        c.sendmail("%s@example.net" % JOSE, ["b@example.org"], b"x\n",
                   mail_options=["SMTPUTF8"])
        fail("smtplib sent SMTPUTF8 to a server with smtputf8 = no")
    except smtplib.SMTPNotSupportedError:
        pass
    c.quit()
    s.assert_nothing_spooled()


@test("ulabel")
def swaks_without_parameter(s):
    # swaks (20201014) cannot send the SMTPUTF8 parameter; it still shows
    # an unmodified client meeting 553 5.6.7 for a UTF-8 address.
    import shutil
    swaks = shutil.which("swaks")
    if swaks is None:
        fail("swaks is not installed (apt-get install swaks)")
    for args, where in ((["--from", "%s@example.net" % JOSE, "--to",
                          "b@example.org"], "MAIL"),
                        (["--from", "a@example.net", "--to",
                          "%s@%s" % (JOSE, EXAMPLE_U)], "RCPT")):
        p = subprocess.run([swaks, "--server", "127.0.0.1:%d" % s.port,
                            "--local-interface", STRANGER,
                            "--helo", "client.example", "--quit-after",
                            "RCPT", "--timeout", "10"] + args,
                           capture_output=True, timeout=30)
        out = (p.stdout + p.stderr).decode("utf-8", "replace")
        if not re.search(r"<\*\* 553 5\.6\.7 ", out):
            fail("swaks, UTF-8 address in %s: no 553 5.6.7:\n%s"
                 % (where, out))
    s.assert_nothing_spooled()


# == smtpfe -b ================================================================

@test("ulabel")
def b_explains(s):
    dialogue = ("EHLO client.example\r\nMAIL FROM:<%s@example.net>\r\n"
                "MAIL FROM:<%s@example.net> SMTPUTF8\r\n"
                "RCPT TO:<%s@%s>\r\nRCPT TO:<a\uff05b@%s>\r\n"
                "QUIT\r\n" % (JOSE, JOSE, JOSE, EXAMPLE_U, EXAMPLE_U)).encode()
    p = subprocess.run([smtpfe_path(), "-b", STRANGER, "-f", s.conf],
                       input=dialogue, capture_output=True, timeout=20)
    out = (p.stdout + p.stderr).decode("utf-8", "replace")
    if p.returncode != 0:
        fail("smtpfe -b exited %d: %s" % (p.returncode, out))
    for want in ("250-SMTPUTF8", "553 5.6.7", "SMTPUTF8 transaction",
                 "is %s in A-label form" % EXAMPLE_A, "250 2.1.5",
                 "553 5.1.3 Fullwidth"):
        if want not in out:
            fail("smtpfe -b output lacks %r:\n%s" % (want, out))
    s.assert_nothing_spooled()


# == smtpfe -n: the MTA probe ==================================================

# What the probe looks for (smtpfe(8)): sendmail 8's option name and -d0.1
# banner, and the message of a build without EAI.
SM8 = b"\0DontBlameSendmail\0Compiled with:\0"
NO_EAI = b"\0Warning: Option: %s requires USE_EAI support\n\0"


def n_check(name, program, smtputf8="yes"):
    """smtpfe -n with sendmail = PROGRAM (bytes written to a 0755 file, or
    a path); returns (exit status, stderr)."""
    srv = Server("utf8-n-" + name)
    try:
        if isinstance(program, bytes):
            path = os.path.join(srv.dir, "sendmail")
            with open(path, "wb") as f:
                f.write(b"\x7fELF" + b"\0" * 64 + program + b"\0" * 64)
            os.chmod(path, 0o755)
        else:
            path = program
        with open(srv.conf, "a") as f:
            f.write("sendmail = %s\nsmtputf8 = %s\n" % (path, smtputf8))
        p = subprocess.run([smtpfe_path(), "-n", "-f", srv.conf],
                           capture_output=True, timeout=20)
        return p.returncode, (p.stdout + p.stderr).decode("utf-8", "replace")
    finally:
        srv.cleanup()


def n_expect(name, program, smtputf8, flagged):
    rc, out = n_check(name, program, smtputf8)
    said = "built without EAI" in out
    if said != flagged or rc != (78 if flagged else 0):
        fail("smtpfe -n, sendmail %s, smtputf8 = %s: expected %s, got exit "
             "%d: %s" % (name, smtputf8, "the EAI error and 78" if flagged
                         else "no EAI error and 0", rc, out))


@test("ncheck")
def n_sendmail_without_eai(s):
    n_expect("sm8-no-eai", SM8 + NO_EAI, "yes", True)
    n_expect("sm8-no-eai", SM8 + NO_EAI, "no", False)


@test("ncheck")
def n_sendmail_before_eai(s):
    n_expect("sm8-old", SM8, "yes", True)


@test("ncheck")
def n_sendmail_with_eai(s):
    n_expect("sm8-eai", SM8 + b"\0USE_EAI\0", "yes", False)


@test("ncheck")
def n_postfix_and_others(s):
    if os.path.exists("/usr/sbin/postdrop"):
        n_expect("postfix", "/usr/sbin/sendmail", "yes", False)
    n_expect("exim-like", b"\0Exim version %s\0", "yes", False)


@test("ncheck")
def n_debian_sendmail(s):
    # The real Debian 12 binary, when the caller extracted one (the CI
    # stage tests/ci/25-utf8.sh does, with apt-get download sendmail-bin).
    path = os.environ.get("SMTPFE_DEBIAN_SENDMAIL")
    if not path:
        print("      (SMTPFE_DEBIAN_SENDMAIL unset: only the synthetic "
              "programs were probed)")
        return
    n_expect("debian", path, "yes", True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-k", action="append", default=[])
    ap.add_argument("-v", action="store_true")
    args = ap.parse_args()
    passed = failed = 0
    for group, spec in GROUPS.items():
        tests = [(n, f) for g, n, f in TESTS if g == group and
                 (not args.k or any(re.search(k, "%s.%s" % (g, n))
                                    for k in args.k))]
        if not tests:
            continue
        srv = Server("utf8-" + group, **spec) if spec is not None else None
        start_error = None
        try:
            if srv is not None:
                srv.start()
        except Fail as e:
            start_error = str(e)
        for name, fn in tests:
            full = "%s.%s" % (group, name)
            t0 = time.monotonic()
            try:
                if start_error:
                    fail("server did not start: " + start_error)
                if srv is not None:
                    srv.clean_spool()
                fn(srv)
                if srv is not None and srv.proc.poll() is not None:
                    fail("the -l server died (exit %s): %s"
                         % (srv.proc.returncode, srv.stderr_text()))
                passed += 1
                print("ok    %s (%.1f s)" % (full, time.monotonic() - t0))
            except Exception as e:
                failed += 1
                msg = str(e) if isinstance(e, Fail) else "".join(
                    traceback.format_exception(type(e), e,
                                               e.__traceback__)[-3:]).rstrip()
                print("FAIL  %s (%.1f s)\n      %s"
                      % (full, time.monotonic() - t0, msg))
            finally:
                if srv is not None:
                    srv.close_clients()
            sys.stdout.flush()
        if srv is None:
            continue
        problem = srv.stop() if srv.proc is not None else None
        if args.v:
            print("    [%s server stderr] %s" % (group, srv.stderr_text()))
        if problem:
            failed += 1
            print("FAIL  %s.stop\n      %s" % (group, problem))
        srv.cleanup()
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
