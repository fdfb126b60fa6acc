#!/usr/bin/env python3
"""
session_test.py - the SMTP session of smtpfe against SPEC.md, end to end.

Run:  SMTPFE=/abs/path/to/smtpfe python3 tests/session_test.py [-k PATTERN]
      [-l] [-v]

Each group of tests runs against one private "smtpfe -l" server with its
own configuration and spool (ports 25300-25399); the "inetd" group starts
smtpfe itself with a TCP socket on fd 0/1/2.  The last line printed is
"N passed, N failed"; the exit status is 1 when any test failed.

Environment: SMTPFE (required), SMTPFE_TEST_CHROOT=no (write "chroot = no"),
SMTPFE_SAN (set for a sanitizer build: the memory ceiling is only reported).
"""

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import time
import traceback

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "session"))

from harness import (HOSTNAME, SANITIZER, Client, Closed, Fail,  # noqa: E402
                     Server, alloc_port, check_spool_file, dot_stuff, fail,
                     pid_alive, proc_status, rows, smtpfe_path, wait_gone)

MAIN_MAX_SIZE = 100000
MEM_LIMIT_KB = 2048             # VmHWM ceiling of a session child (no ASan)
MEM_GROWTH_KB = 512             # growth allowed from DATA start to the end

RCPT_LIST = sorted(["alice@example.org", "bob@example.org",
                    "@catchall.example", "postmaster@example.org"] +
                   ["user%05d@example.org" % i for i in range(20000)])

GROUPS = {
    "main": dict(conf={"max_message_size": str(MAIN_MAX_SIZE),
                       "max_recipients": "5", "max_messages": "4",
                       "max_received": "5", "max_junk_commands": "50"}),
    "limits": dict(conf={"max_errors": "3", "max_junk_commands": "4"}),
    "errdefault": dict(conf={"max_junk_commands": "50"}),
    "rcptfile": dict(conf={"local_domains": "example.org, catchall.example"},
                     recipients=RCPT_LIST),
    "greet": dict(conf={"greet_pause": "1000"}),
    "timeout": dict(conf={"timeout": "2"}),
    "sesstimeout": dict(conf={"timeout": "2", "session_timeout": "3"}),
    # 1 PiB, the documented maximum: more than any disk here
    "freespace": dict(conf={"min_free_space": str(1 << 50)}),
    "mimeaccept": dict(conf={"mime_partial": "accept",
                             "external_body": "accept"}),
    "big": dict(conf={"max_message_size": "60000000",
                      "max_messages": "100"}),
    "crash": dict(conf={}),
    "ipv6": dict(conf={}, listen="::1", drop=("relay_networks",)),
    "inetd": None,              # no -l server: tests start smtpfe themselves
}

TESTS = []


def test(group):
    def deco(fn):
        TESTS.append((group, fn.__name__, fn))
        return fn
    return deco


NONRELAY = "127.0.0.2"

# -- helpers ------------------------------------------------------------------


def send_data(c, data, end=b".\r\n"):
    """DATA, 354, DATA text and END; returns the final reply."""
    c.cmd("DATA", 354)
    c.send(data + end)
    return c.reply(what="the reply to the end of DATA")


def queued_id(c, r):
    c.check(r, 250, "2.0.0", "end of DATA")
    m = re.search(r"queued as (\S+)", r.text)
    if not m:
        fail("250 reply lacks 'queued as ID': %r" % str(r))
    return m.group(1)


def transaction(c, sender, rcpts, body_lf, params=""):
    c.cmd("MAIL FROM:<%s>%s" % (sender, params), 250, "2.1.0")
    for r in rcpts:
        c.cmd("RCPT TO:<%s>" % r, 250, "2.1.5")
    return queued_id(c, send_data(c, dot_stuff(body_lf)))


def check_one_spooled(s, sid, **kw):
    files = s.files("new")
    if files != [sid]:
        fail("new/ should hold exactly [%s], holds %s" % (sid, files))
    data = s.read_new(sid)
    check_spool_file(data, sid=sid, **kw)
    mode = os.stat(s.path("new", sid)).st_mode & 0o7777
    if mode != 0o600:
        fail("spool file %s mode %o, SPEC: 0600" % (sid, mode))


def in_step(c):
    """The session still answers in order."""
    c.cmd("NOOP", 250, "2.0.0")


BODY_SIMPLE = b"Subject: test\n\nhello\n"

# == greeting, EHLO, HELO =======================================================


@test("main")
def greeting_exact(s):
    c = s.connect()
    r = c.reply(what="the greeting")
    want = ("220 %s ESMTP" % HOSTNAME).encode()
    if r.raw_lines != [want]:
        fail("greeting: expected %r, got %r" % (want, r.raw_lines))
    c.quit()


@test("main")
def ehlo_keywords(s):
    c = s.session()
    r = c.cmd("EHLO client.example", 250)
    if r.text.split()[:1] != [HOSTNAME]:
        fail("EHLO first line: expected '250-%s', got %r" % (HOSTNAME, str(r)))
    if len(r.raw_lines) < 2 or any(not l.startswith(b"250") for l in r.raw_lines):
        fail("EHLO reply malformed: %r" % str(r))
    got = sorted(l.strip().upper() for l in r.lines[1:])
    want = sorted(["PIPELINING", "SIZE %d" % MAIN_MAX_SIZE, "8BITMIME",
                   "SMTPUTF8", "ENHANCEDSTATUSCODES", "HELP"])
    if got != want:
        fail("EHLO keywords: expected exactly %s, got %s" % (want, got))
    c.quit()


@test("main")
def helo_reply(s):
    c = s.session()
    r = c.cmd("HELO client.example", 250)
    if len(r.raw_lines) != 1 or r.text.split()[:1] != [HOSTNAME]:
        fail("HELO: expected one line '250 %s', got %r" % (HOSTNAME, str(r)))
    c.quit()


@test("main")
def helo_ehlo_bad_argument(s):
    bad = ["", "-bad.example", "foo..bar.example", "bad!host.example",
           "[1.2.3]", "[999.1.1.1]", "user@example.net", "<client.example>",
           ".client.example", "client.example;rm"]
    for verb in ("EHLO", "HELO"):
        for arg in bad:
            c = s.session()
            c.cmd((verb + " " + arg).rstrip(), 501, "5.5.4")
            c.quit()
    c = s.session()
    c.cmd("EHLO", 501, "5.5.4")
    c.cmd("HELO", 501, "5.5.4")
    c.quit()


@test("main")
def helo_ehlo_good_argument(s):
    c = s.session()
    for line in ("EHLO [127.0.0.1]", "EHLO [IPv6:::1]", "HELO Client-1.Example",
                 "EHLO localhost", "ehlo client.example"):
        c.cmd(line, 250)
    c.quit()


# == sequence ==================================================================


@test("main")
def sequence_errors(s):
    c = s.session()
    c.cmd("MAIL FROM:<a@example.net>", 503, "5.5.1")
    c.quit()
    c = s.session()
    c.ehlo()
    c.cmd("RCPT TO:<x@example.org>", 503, "5.5.1")
    c.cmd("DATA", 503, "5.5.1")
    c.quit()
    c = s.session()
    c.ehlo()
    c.cmd("MAIL FROM:<a@example.net>", 250, "2.1.0")
    c.cmd("DATA", 503, "5.5.1")
    c.quit()
    c = s.session(src=NONRELAY)
    c.ehlo()
    c.cmd("MAIL FROM:<a@example.net>", 250, "2.1.0")
    c.cmd("RCPT TO:<x@elsewhere.example>", 554, "5.7.1")
    c.cmd("DATA", 503, "5.5.1")
    c.quit()
    c = s.session()
    c.helo()
    c.cmd("MAIL FROM:<a@example.net>", 250, "2.1.0")
    c.cmd("MAIL FROM:<b@example.net>", 503, "5.5.1")     # nested MAIL
    c.cmd("RCPT TO:<x@example.org>", 250, "2.1.5")
    c.cmd("RSET", 250, "2.0.0")
    c.cmd("RCPT TO:<x@example.org>", 503, "5.5.1")
    c.quit()


# == MAIL / RCPT syntax and policy ==============================================

LONG_DOMAIN = ("b" * 62 + ".") * 4 + "example"          # 259 octets


@test("main")
def mail_syntax(s):
    bad = ["<foo>", "<foo@>", "<@example.net>",
           "<foo@bar..example>", "<foo@example.net.>", "<a..b@example.net>",
           "<.a@example.net>", "<a.@example.net>",
           "<" + "a" * 65 + "@example.net>", "<a@" + LONG_DOMAIN + ">",
           "<foo bar@example.net>", "<foo@-bad.example>", "<foo@[1.2.3.400]>"]
    rows(s, [("MAIL FROM:" + a, 501, "5.1.7") for a in bad])
    # no or unclosed brackets: bad path (5.1.7) or bad arguments (5.5.4)
    rows(s, [("MAIL FROM:foo@example.net", 501, ("5.1.7", "5.5.4")),
             ("MAIL FROM:<foo@example.net", 501, ("5.1.7", "5.5.4")),
             ("MAIL FROM:", 501, ("5.1.7", "5.5.4")),
             ("MAIL", 501, ("5.1.7", "5.5.4"))])


@test("main")
def mail_local_part_64_ok(s):
    rows(s, [("MAIL FROM:<" + "a" * 64 + "@example.net>", 250, "2.1.0")])


@test("main")
def rcpt_syntax(s):
    bad = ["<foo>", "<foo@>", "<@example.org>",
           "<foo@bar..example.org>", "<foo@example.org.>",
           "<a..b@example.org>", "<.a@example.org>",
           "<" + "a" * 65 + "@example.org>", "<a@" + LONG_DOMAIN + ">",
           "<foo bar@example.org>"]
    rows(s, [("RCPT TO:" + a, 501, "5.1.3") for a in bad],
         setup=["MAIL FROM:<a@example.net>"])
    rows(s, [("RCPT TO:foo@example.org", 501, ("5.1.3", "5.5.4")),
             ("RCPT TO:<foo@example.org", 501, ("5.1.3", "5.5.4")),
             ("RCPT TO:", 501, ("5.1.3", "5.5.4")),
             ("RCPT", 501, ("5.1.3", "5.5.4"))],
         setup=["MAIL FROM:<a@example.net>"])


@test("main")
def rcpt_null_refused(s):
    rows(s, [("RCPT TO:<>", (501, 553), "5.1.3")],
         setup=["MAIL FROM:<a@example.net>"])


TRICK_LOCALS = ["|cat", "|/bin/sh", "/tmp/x", "-oQ/tmp", "-bs",
                '":include:/etc/passwd"', 'a\x01b', 'a\x7fb', '"|cat"',
                '"/etc/passwd"']


@test("main")
def mail_tricks(s):
    r = [("MAIL FROM:<%s@example.net>" % l, 553, "5.1.7") for l in TRICK_LOCALS]
    rows(s, r)
    rows(s, r, src=NONRELAY)


@test("main")
def rcpt_tricks(s):
    r = [("RCPT TO:<%s@example.org>" % l, 553, "5.1.3") for l in TRICK_LOCALS]
    rows(s, r, setup=["MAIL FROM:<a@example.net>"])
    rows(s, r, setup=["MAIL FROM:<a@example.net>"], src=NONRELAY)


RELAY_TRICKS = ["<user%evil.example@example.org>",
                "<evil.example!user@example.org>",
                '<"user@evil.example"@example.org>',
                "<user@evil.example@example.org>",
                "<user%evil.example@host.example.com>",
                "<evil!user@host.example.com>",
                '<"user%evil.example"@example.org>']


@test("main")
def rcpt_relay_tricks_relay_client(s):
    rows(s, [("RCPT TO:" + a, 553, "5.1.3") for a in RELAY_TRICKS],
         setup=["MAIL FROM:<a@example.net>"])


@test("main")
def rcpt_relay_tricks_nonrelay_client(s):
    rows(s, [("RCPT TO:" + a, 553, "5.1.3") for a in RELAY_TRICKS],
         setup=["MAIL FROM:<a@example.net>"], src=NONRELAY)


@test("main")
def rcpt_double_at_nonlocal_refused(s):
    c = s.session(src=NONRELAY)
    c.ehlo()
    c.cmd("MAIL FROM:<a@example.net>", 250)
    r = c.cmd("RCPT TO:<user@example.org@evil.example>")
    if r.code // 100 != 5:
        fail("RCPT TO:<user@example.org@evil.example> from a non-relay "
             "client: expected a 5xx refusal, got %r" % str(r))
    c.quit()


@test("main")
def non_ascii_address(s):
    rows(s, [("MAIL FROM:<jörg@example.net>", 553, "5.6.7"),
             ("MAIL FROM:<joe@exämple.net>", 553, "5.6.7"),
             (b"MAIL FROM:<j\xe9@example.net>", 553, "5.6.7")])
    rows(s, [("RCPT TO:<jörg@example.org>", 553, "5.6.7"),
             (b"RCPT TO:<j\xe9@example.org>", 553, "5.6.7"),
             ("RCPT TO:<joe@exämple.org>", 553, "5.6.7")],
         setup=["MAIL FROM:<a@example.net>"])


@test("main")
def unknown_parameters(s):
    rows(s, [("MAIL FROM:<a@example.net> RET=FULL", 555, "5.5.4"),
             ("MAIL FROM:<a@example.net> ENVID=abc", 555, "5.5.4"),
             ("MAIL FROM:<a@example.net> AUTH=<>", 555, "5.5.4"),
             ("MAIL FROM:<a@example.net> XYZZY=1", 555, "5.5.4")])
    rows(s, [("RCPT TO:<x@example.org> NOTIFY=NEVER", 555, "5.5.4"),
             ("RCPT TO:<x@example.org> ORCPT=rfc822;x@example.org", 555, "5.5.4"),
             ("RCPT TO:<x@example.org> NOTIFY=SUCCESS,FAILURE", 555, "5.5.4")],
         setup=["MAIL FROM:<a@example.net>"])


@test("main")
def mail_size_parameter(s):
    rows(s, [("MAIL FROM:<a@example.net> SIZE=%d" % (MAIN_MAX_SIZE + 1), 552, "5.3.4"),
             ("MAIL FROM:<a@example.net> SIZE=%d" % MAIN_MAX_SIZE, 250, "2.1.0"),
             ("MAIL FROM:<a@example.net> SIZE=0", 250, "2.1.0"),
             ("MAIL FROM:<a@example.net> SIZE=99999999999999999999999999",
              (552, 501), ("5.3.4", "5.5.4"))])


@test("big")           # max_messages there is 100: RSET loops count
def mail_good_forms(s):
    c = s.session()
    c.ehlo()
    for line in ("MAIL FROM:<>", "mail from:<A@Example.NET>",
                 "MAIL FROM:<a@example.net> BODY=8BITMIME",
                 "MAIL FROM:<a@example.net> BODY=7BIT",
                 "MAIL FROM:<a@example.net> body=8bitmime size=10",
                 'MAIL FROM:<"quoted local"@example.net>',
                 "MAIL FROM:<a@[192.0.2.1]>",
                 "MAIL FROM:<a@[IPv6:2001:db8::1]>",
                 "MAIL FROM:<@a.example,@b.example:u@example.net>",
                 "MAIL FROM:<a+tag@example.net>"):
        c.cmd(line, 250, "2.1.0")
        c.cmd("RSET", 250, "2.0.0")
    c.quit()


@test("main")
def relay_check_nonrelay(s):
    rows(s, [("RCPT TO:<x@elsewhere.example>", 554, "5.7.1"),
             ("RCPT TO:<x@EXAMPLE.ORG>", 250, "2.1.5"),
             ("RCPT TO:<x@host.example.com>", 250, "2.1.5"),
             ("RCPT TO:<x@HOST.Example.COM>", 250, "2.1.5"),
             ("RCPT TO:<x@notexample.org>", 554, "5.7.1"),
             ("RCPT TO:<x@example.org.elsewhere.example>", 554, "5.7.1"),
             ("RCPT TO:<x@[127.0.0.1]>", 554, "5.7.1"),
             ("RCPT TO:<x@[IPv6:::1]>", 554, "5.7.1"),
             ("RCPT TO:<@relay.example:x@elsewhere.example>", 554, "5.7.1"),
             ("RCPT TO:<@example.org:x@elsewhere.example>", 554, "5.7.1"),
             ("RCPT TO:<@elsewhere.example:x@example.org>", 250, "2.1.5"),
             ('RCPT TO:<"x y"@example.org>', 250, "2.1.5")],
         setup=["MAIL FROM:<a@example.net>"], src=NONRELAY)


@test("main")
def relay_check_relay_client(s):
    rows(s, [("RCPT TO:<x@elsewhere.example>", 250, "2.1.5"),
             ("RCPT TO:<x@[192.0.2.1]>", 250, "2.1.5"),
             ("RCPT TO:<x@example.org>", 250, "2.1.5")],
         setup=["MAIL FROM:<a@example.net>"], per_session=3)


@test("main")
def max_recipients(s):
    c = s.session()
    c.ehlo()
    c.cmd("MAIL FROM:<a@example.net>", 250, "2.1.0")
    rc = ["r%d@example.org" % i for i in range(5)]
    for r in rc:
        c.cmd("RCPT TO:<%s>" % r, 250, "2.1.5")
    c.cmd("RCPT TO:<r5@example.org>", 452, "4.5.3")
    sid = queued_id(c, send_data(c, dot_stuff(BODY_SIMPLE)))
    c.quit()
    check_one_spooled(s, sid, client="127.0.0.1", helo="client.example",
                      sender="a@example.net", rcpts=rc, body_lf=BODY_SIMPLE)


@test("main")
def max_messages(s):
    c = s.session()
    c.ehlo()
    for i in range(4):
        transaction(c, "a@example.net", ["x@example.org"], BODY_SIMPLE)
    c.cmd("MAIL FROM:<a@example.net>", 452, "4.5.3")
    c.quit()
    if len(s.files("new")) != 4:
        fail("expected 4 messages in new/, found %d" % len(s.files("new")))


# == DATA and the spool file ===================================================

BODY_RICH = (b"From: Sender <sender@example.net>\n"
             b"Subject: spool format\n"
             b"\n"
             b".\n"
             b"..\n"
             b".x\n"
             b"...three\n"
             b"\n"
             b"trailing blanks   \n"
             b"\ttab\n"
             b"eight bit: \xc3\xa9\xff\x80\xfe\n"
             b"del \x7f and ctrl \x01\n"
             b" .leading blank then dot\n"
             b"last line\n")


@test("main")
def spool_exact_esmtp(s):
    c = s.session()
    c.cmd("EHLO Client.Example", 250)
    c.cmd("MAIL FROM:<Sender@Example.NET> BODY=8BITMIME", 250, "2.1.0")
    c.cmd("RCPT TO:<first@example.org>", 250, "2.1.5")
    c.cmd("RCPT TO:<Second@Example.org>", 250, "2.1.5")
    c.cmd("RCPT TO:<third@elsewhere.example>", 250, "2.1.5")
    sent = dot_stuff(BODY_RICH)
    if b"\r\n..\r\n" not in sent or b"\r\n...x\r\n" in sent or b"\r\n..x\r\n" not in sent:
        fail("test bug: dot stuffing")
    sid = queued_id(c, send_data(c, sent))
    c.quit()
    check_one_spooled(s, sid, client="127.0.0.1", helo="Client.Example",
                      sender="Sender@Example.NET",
                      rcpts=["first@example.org", "Second@Example.org",
                             "third@elsewhere.example"],
                      body_lf=BODY_RICH, body_param="8BITMIME")
    s.assert_tmp_empty()


@test("main")
def spool_exact_helo_null_sender(s):
    c = s.session()
    c.cmd("HELO relay.example", 250)
    c.cmd("MAIL FROM:<>", 250, "2.1.0")
    c.cmd("RCPT TO:<x@example.org>", 250, "2.1.5")
    sid = queued_id(c, send_data(c, dot_stuff(BODY_SIMPLE)))
    c.quit()
    check_one_spooled(s, sid, client="127.0.0.1", helo="relay.example",
                      sender="", rcpts=["x@example.org"],
                      body_lf=BODY_SIMPLE, proto="SMTP")


@test("main")
def spool_body_7bit(s):
    c = s.session()
    c.ehlo()
    sid = transaction(c, "a@example.net", ["x@example.org"], BODY_SIMPLE,
                      params=" BODY=7BIT")
    c.quit()
    check_one_spooled(s, sid, client="127.0.0.1", helo="client.example",
                      sender="a@example.net", rcpts=["x@example.org"],
                      body_lf=BODY_SIMPLE, body_param="7BIT")


@test("main")
def spool_nonrelay_client_and_source_route(s):
    c = s.session(src=NONRELAY)
    c.cmd("EHLO [127.0.0.2]", 250)
    c.cmd("MAIL FROM:<@hop.example:u@example.net>", 250, "2.1.0")
    c.cmd("RCPT TO:<@hop.example,@hop2.example:x@example.org>", 250, "2.1.5")
    sid = queued_id(c, send_data(c, dot_stuff(BODY_SIMPLE)))
    c.quit()
    check_one_spooled(s, sid, client="127.0.0.2", helo="[127.0.0.2]",
                      sender="u@example.net", rcpts=["x@example.org"],
                      body_lf=BODY_SIMPLE)


@test("main")
def spool_empty_message(s):
    c = s.session()
    c.ehlo()
    c.cmd("MAIL FROM:<a@example.net>", 250, "2.1.0")
    c.cmd("RCPT TO:<x@example.org>", 250, "2.1.5")
    sid = queued_id(c, send_data(c, b""))
    c.quit()
    check_one_spooled(s, sid, client="127.0.0.1", helo="client.example",
                      sender="a@example.net", rcpts=["x@example.org"],
                      body_lf=b"")


@test("main")
def spool_ids_unique_and_names(s):
    c = s.session()
    c.ehlo()
    ids = [transaction(c, "a@example.net", ["x@example.org"], BODY_SIMPLE)
           for _ in range(3)]
    c.quit()
    if len(set(ids)) != 3 or sorted(ids) != s.files("new"):
        fail("ids %s vs new/ %s" % (ids, s.files("new")))
    for i in ids:
        if i.startswith(".") or "/" in i:
            fail("bad spool id %r" % i)
    s.assert_tmp_empty()


def body_of_crlf_size(n):
    """LF-form body whose DATA form (CRLF, unstuffed) is exactly N octets,
    with dot-stuffed lines in it."""
    lines = [b"Subject: size", b"", b".dot line", b"..two dots", b"."]
    total = sum(len(l) + 2 for l in lines)
    while n - total > 80 + 2 + 82:
        lines.append(b"y" * 80)
        total += 82
    rest = n - total - 2
    if rest < 0:
        fail("test bug: body too small")
    lines.append(b"z" * rest)
    body = b"".join(l + b"\n" for l in lines)
    assert len(body) + body.count(b"\n") == n
    return body


@test("main")
def message_size_at_limit(s):
    body = body_of_crlf_size(MAIN_MAX_SIZE)
    c = s.session()
    c.ehlo()
    sid = transaction(c, "a@example.net", ["x@example.org"], body)
    c.quit()
    check_one_spooled(s, sid, client="127.0.0.1", helo="client.example",
                      sender="a@example.net", rcpts=["x@example.org"],
                      body_lf=body)


@test("main")
def message_size_over_by_one(s):
    body = body_of_crlf_size(MAIN_MAX_SIZE + 1)
    c = s.session()
    c.ehlo()
    c.cmd("MAIL FROM:<a@example.net>", 250, "2.1.0")
    c.cmd("RCPT TO:<x@example.org>", 250, "2.1.5")
    c.check(send_data(c, dot_stuff(body)), 552, "5.3.4", "message 1 octet over")
    in_step(c)
    c.quit()
    s.assert_nothing_spooled()
    s.assert_tmp_empty()


@test("main")
def message_size_far_over(s):
    body = b"Subject: big\n\n" + (b"w" * 98 + b"\n") * 4000   # ~400 kB
    c = s.session()
    c.ehlo()
    c.cmd("MAIL FROM:<a@example.net>", 250, "2.1.0")
    c.cmd("RCPT TO:<x@example.org>", 250, "2.1.5")
    c.check(send_data(c, dot_stuff(body)), 552, "5.3.4", "message 4x over")
    in_step(c)
    sid = transaction(c, "a@example.net", ["x@example.org"], BODY_SIMPLE)
    c.quit()
    if s.files("new") != [sid]:
        fail("after a refused big message and a good one, new/ holds %s"
             % s.files("new"))
    s.assert_tmp_empty()


def bad_data_case(s, data):
    c = s.session()
    c.ehlo()
    c.cmd("MAIL FROM:<a@example.net>", 250, "2.1.0")
    c.cmd("RCPT TO:<x@example.org>", 250, "2.1.5")
    c.check(send_data(c, data), 550, "5.6.0", "DATA %r" % data[:60])
    in_step(c)
    s.assert_nothing_spooled()
    sid = transaction(c, "a@example.net", ["x@example.org"], BODY_SIMPLE)
    c.quit()
    if s.files("new") != [sid]:
        fail("new/ holds %s" % s.files("new"))
    s.assert_tmp_empty()


@test("main")
def bare_lf_in_data(s):
    bad_data_case(s, b"Subject: x\r\n\r\nline1\nline2\r\n")


@test("main")
def bare_lf_in_header(s):
    bad_data_case(s, b"Subject: x\nFrom: y\r\n\r\nbody\r\n")


@test("main")
def bare_cr_in_data(s):
    bad_data_case(s, b"Subject: x\r\n\r\na\rb\r\n")


@test("main")
def cr_cr_lf_in_data(s):
    bad_data_case(s, b"Subject: x\r\n\r\nabc\r\r\n")


SMUGGLE = (b"MAIL FROM:<evil@x>\r\nRCPT TO:<victim@example.org>\r\nDATA\r\n"
           b"smuggled\r\n.\r\n")
SMUGGLE_ENDS = [b"\n.\n", b"\n.\r\n", b"\r\n.\n", b"\r.\r\n", b"\r\n.\r",
                b"\r.\n", b"\r.\r", b"\n.\r",
                # smtpsmug's two NUL probes: a NUL next to the dot
                b"\r\n\x00.\r\n", b"\r\n.\x00\r\n"]


@test("main")
def smtp_smuggling(s):
    for end in SMUGGLE_ENDS:
        s.clean_spool()
        c = s.session()
        c.ehlo()
        c.cmd("MAIL FROM:<a@example.net>", 250, "2.1.0")
        c.cmd("RCPT TO:<x@example.org>", 250, "2.1.5")
        c.cmd("DATA", 354)
        c.send(b"Subject: smuggle\r\n\r\nhello" + end + SMUGGLE + b"\r\n.\r\n")
        r = c.reply(what="the reply to the smuggling DATA")
        c.check(r, 550, "5.6.0", "smuggling with end %r" % end)
        c.send(b"NOOP\r\n")
        extra = []
        while True:
            r = c.reply(what="the NOOP reply after smuggling %r" % end)
            if r.code == 250 and r.enh == "2.0.0" and "queued" not in r.text:
                break
            if r.code // 100 != 5 or len(extra) >= 2:
                fail("smuggling %r: after the 550, replies %s then %r; "
                     "expected at most two 5xx (for the empty line and '.') "
                     "then the NOOP's 250\n      %s"
                     % (end, extra, str(r), c.transcript()))
            extra.append(str(r))
        c.quit()
        s.wait_idle()
        for sub in ("new", "tmp", "failed"):
            for n in s.files(sub):
                with open(s.path(sub, n), "rb") as f:
                    data = f.read()
                if b"smuggled" in data or b"evil@x" in data:
                    fail("smuggling %r: %s/%s holds the smuggled message"
                         % (end, sub, n))
        s.assert_nothing_spooled("smuggling %r: " % end)


def nul_case(s, data, what):
    s.clean_spool()
    c = s.session()
    c.ehlo()
    c.cmd("MAIL FROM:<a@example.net>", 250, "2.1.0")
    c.cmd("RCPT TO:<x@example.org>", 250, "2.1.5")
    r = send_data(c, data)
    c.check(r, 550, "5.6.0", what)
    in_step(c)
    c.quit()
    s.wait_idle()
    s.assert_nothing_spooled(what + ": ")
    s.assert_tmp_empty(what + ": ")


@test("main")
def nul_in_data(s):
    nul_case(s, b"Subject: x\r\n\r\nab\x00cd\r\n", "NUL inside a line")
    nul_case(s, b"\x00Subject: x\r\n\r\nbody\r\n", "NUL first octet")
    nul_case(s, b"Subject: x\r\n\r\nbody\r\n\x00\r\n", "a line of one NUL")
    nul_case(s, b"Subject: x\r\n\r\nbody\r\n..\x00\r\n",
             "NUL after a stuffed dot")


@test("main")
def nul_free_message_accepted(s):
    """The NUL check does not refuse the octets around it: 0x01 and 0xff
    pass (8BITMIME; SPEC says bytes as sent)."""
    s.clean_spool()
    c = s.session()
    c.ehlo()
    body = b"Subject: x\n\n\x01\xff.\x7f\n"
    sid = transaction(c, "a@example.net", ["x@example.org"], body)
    c.quit()
    check_one_spooled(s, sid, client="127.0.0.1", helo="client.example",
                      sender="a@example.net", rcpts=["x@example.org"],
                      body_lf=body)


# == RFC 2920 section 3.1: commands that end a pipelined group ================

GROUP_ENDERS = [("EHLO client.example", None), ("HELO client.example", None),
                ("NOOP", None), ("VRFY postmaster", None),
                ("EXPN staff", None), ("DATA", "rcpt")]


def expect_554_closed(c, what):
    r = c.reply(what=what)
    c.check(r, 554, "5.5.0", what)
    c.expect_closed(what="after 554 5.5.0 (%s): " % what)


@test("main")
def pipelining_group_end_refused(s):
    """Each command that ends a group, with more input behind it in the
    same write, from a non-relay client: 554 5.5.0 instead of its reply,
    whatever it would have been, and the close; the input behind it is
    never executed."""
    for line, setup in GROUP_ENDERS:
        s.clean_spool()
        c = s.session(src=NONRELAY)
        if not line.startswith(("EHLO", "HELO")):
            c.ehlo()
        if setup == "rcpt":
            c.cmd("MAIL FROM:<a@example.net>", 250, "2.1.0")
            c.cmd("RCPT TO:<x@example.org>", 250, "2.1.5")
        c.send(line.encode() + b"\r\nMAIL FROM:<b@example.net>\r\n")
        expect_554_closed(c, "%s with MAIL behind it" % line.split()[0])
        s.wait_idle()
        s.assert_nothing_spooled(line + ": ")


@test("main")
def pipelining_group_end_refused_whatever_reply(s):
    """A HELO with a bad argument would get 501; an EXPN 502; a DATA with
    no recipient 503: all become 554 when input is waiting behind them."""
    for line in ("HELO bad..name", "EXPN x", "DATA"):
        c = s.session(src=NONRELAY)
        if line != "HELO bad..name":
            c.ehlo()
        c.send(line.encode() + b"\r\nNOOP\r\n")
        expect_554_closed(c, line)


@test("main")
def pipelining_smtpsmug_probe(s):
    """smtpsmug's "pipelining" probe: a whole transaction, message and QUIT
    in one write without waiting for any reply."""
    s.clean_spool()
    c = s.session(src=NONRELAY)
    c.send(b"EHLO client.example\r\nMAIL FROM:<a@example.net>\r\n"
           b"RCPT TO:<x@example.org>\r\nDATA\r\nSubject: x\r\n\r\nbody\r\n"
           b".\r\nQUIT\r\n")
    expect_554_closed(c, "EHLO followed by a whole transaction")
    s.wait_idle()
    s.assert_nothing_spooled("smtpsmug pipelining probe: ")
    # The same once EHLO was answered: DATA with the message behind it.
    c = s.session(src=NONRELAY)
    c.ehlo()
    c.send(b"MAIL FROM:<a@example.net>\r\nRCPT TO:<x@example.org>\r\n"
           b"DATA\r\nSubject: x\r\n\r\nbody\r\n.\r\nQUIT\r\n")
    c.expect(250, "2.1.0")
    c.expect(250, "2.1.5")
    expect_554_closed(c, "DATA followed by the message")
    s.wait_idle()
    s.assert_nothing_spooled("DATA with the message behind it: ")


@test("main")
def pipelining_legitimate_groups(s):
    """What RFC 2920 allows is never hit: MAIL, RCPTs and DATA in one
    write, the message then "." and QUIT in one write, RSET and MAIL in one
    write, from a non-relay client."""
    s.clean_spool()
    c = s.session(src=NONRELAY)
    c.ehlo()
    c.send(b"RSET\r\nMAIL FROM:<a@example.net>\r\nRCPT TO:<x@example.org>\r\n"
           b"RCPT TO:<y@example.org>\r\nDATA\r\n")
    c.expect(250, "2.0.0")
    c.expect(250, "2.1.0")
    c.expect(250, "2.1.5")
    c.expect(250, "2.1.5")
    c.expect(354)
    c.send(dot_stuff(BODY_SIMPLE) + b".\r\nMAIL FROM:<b@example.net>\r\n"
           b"RCPT TO:<x@example.org>\r\nDATA\r\n")
    queued_id(c, c.reply())
    c.expect(250, "2.1.0")
    c.expect(250, "2.1.5")
    c.expect(354)
    c.send(dot_stuff(BODY_SIMPLE) + b".\r\nQUIT\r\n")
    queued_id(c, c.reply())
    c.expect(221, "2.0.0")
    c.expect_closed()
    s.wait_idle()
    if len(s.files("new")) != 2:
        fail("two messages expected in new/, found %s" % s.files("new"))


@test("main")
def pipelining_helo_client_refused(s):
    """A client that greeted with HELO was not offered PIPELINING: MAIL
    and RCPT in one write get 554 5.5.0 at MAIL; the same client that
    waits is served."""
    c = s.session(src=NONRELAY)
    c.helo()
    c.send(b"MAIL FROM:<a@example.net>\r\nRCPT TO:<x@example.org>\r\n")
    expect_554_closed(c, "MAIL with RCPT behind it after HELO")
    c = s.session(src=NONRELAY)
    c.helo()
    c.cmd("MAIL FROM:<a@example.net>", 250, "2.1.0")
    c.cmd("RCPT TO:<x@example.org>", 250, "2.1.5")
    c.cmd("RSET", 250, "2.0.0")
    c.quit()
    # Before any greeting too: RSET with EHLO behind it.
    c = s.session(src=NONRELAY)
    c.send(b"RSET\r\nEHLO client.example\r\n")
    expect_554_closed(c, "RSET with EHLO behind it before any greeting")


@test("main")
def pipelining_relay_client_exempt(s):
    """Relay clients (relay_networks) may pipeline past group ends."""
    c = s.session()
    c.send(b"EHLO client.example\r\nNOOP\r\nVRFY x\r\nNOOP\r\n")
    r = c.reply(what="EHLO reply")
    c.check(r, 250, None, "EHLO from a relay client")
    c.expect(250, "2.0.0")
    c.expect(252, "2.5.2")
    c.expect(250, "2.0.0")
    c.quit()


@test("main")
def pipelining_waiting_client_never_hit(s):
    """Every group end answered normally when the client waits, even with
    the next command sent a moment after the reply."""
    c = s.session(src=NONRELAY)
    for i in range(3):
        c.ehlo()
        c.cmd("NOOP", 250, "2.0.0")
        c.cmd("VRFY x", 252, "2.5.2")
        time.sleep(0.05)
    c.quit()


@test("main")
def pipelining_transactions(s):
    c = s.session()
    c.ehlo()
    burst = b""
    want = []
    for i in range(3):
        body = b"Subject: pipelined %d\n\nbody %d\n.dot\n" % (i, i)
        burst += (b"MAIL FROM:<s%d@example.net>\r\nRCPT TO:<a%d@example.org>\r\n"
                  b"RCPT TO:<b%d@example.org>\r\nDATA\r\n" % (i, i, i))
        burst += dot_stuff(body) + b".\r\n"
        want.append((i, body))
    burst += b"QUIT\r\n"
    c.send(burst)
    ids = []
    for i, body in want:
        c.expect(250, "2.1.0", "MAIL %d" % i)
        c.expect(250, "2.1.5", "RCPT a%d" % i)
        c.expect(250, "2.1.5", "RCPT b%d" % i)
        c.expect(354, None, "DATA %d" % i)
        ids.append(queued_id(c, c.reply(what="end of DATA %d" % i)))
    c.expect(221, "2.0.0", "QUIT")
    c.expect_closed()
    if sorted(ids) != s.files("new") or len(set(ids)) != 3:
        fail("queued ids %s, new/ holds %s" % (ids, s.files("new")))
    for (i, body), sid in zip(want, ids):
        check_spool_file(s.read_new(sid), client="127.0.0.1",
                         helo="client.example", sender="s%d@example.net" % i,
                         rcpts=["a%d@example.org" % i, "b%d@example.org" % i],
                         body_lf=body, sid=sid)


@test("main")
def pipelining_failed_rcpt(s):
    c = s.session(src=NONRELAY)
    c.ehlo()
    # RFC 2920: DATA ends the group; the message waits for the 354, and
    # "." and QUIT may go together.
    c.send(b"MAIL FROM:<a@example.net>\r\nRCPT TO:<ok1@example.org>\r\n"
           b"RCPT TO:<x@elsewhere.example>\r\nRCPT TO:<ok2@example.org>\r\n"
           b"DATA\r\n")
    c.expect(250, "2.1.0")
    c.expect(250, "2.1.5")
    c.expect(554, "5.7.1")
    c.expect(250, "2.1.5")
    c.expect(354)
    c.send(dot_stuff(BODY_SIMPLE) + b".\r\nQUIT\r\n")
    sid = queued_id(c, c.reply())
    c.expect(221, "2.0.0")
    c.expect_closed()
    check_one_spooled(s, sid, client="127.0.0.2", helo="client.example",
                      sender="a@example.net",
                      rcpts=["ok1@example.org", "ok2@example.org"],
                      body_lf=BODY_SIMPLE)


@test("big")
def pipelining_many_commands(s):
    """A burst larger than the output buffer: replies must all come back."""
    c = s.session()
    c.ehlo()
    n = 150
    burst = b"".join(b"MAIL FROM:<sender-with-a-longish-name-%03d@example.net>\r\n"
                     b"RCPT TO:<recipient-%03d@example.org>\r\nRSET\r\n"
                     % (i, i) for i in range(n // 4))
    c.send(burst)
    for i in range(n // 4):
        c.expect(250, "2.1.0")
        c.expect(250, "2.1.5")
        c.expect(250, "2.0.0")
    c.quit()


@test("main")
def flush_before_blocking_read(s):
    c = s.session()
    c.ehlo()
    c.send(b"NOOP\r\nNO")
    c.expect(250, "2.0.0", "NOOP while the next line is incomplete "
             "(output must be flushed before a blocking read)", timeout=3)
    c.send(b"OP\r\n")
    c.expect(250, "2.0.0")
    c.quit()


@test("main")
def ehlo_resets_transaction(s):
    c = s.session()
    c.ehlo()
    c.cmd("MAIL FROM:<a@example.net>", 250, "2.1.0")
    c.cmd("RCPT TO:<x@example.org>", 250, "2.1.5")
    c.ehlo("again.example")
    c.cmd("DATA", 503, "5.5.1")
    c.cmd("MAIL FROM:<a@example.net>", 250, "2.1.0")
    c.quit()


@test("main")
def enhanced_codes_everywhere(s):
    """Every reply but the greeting, EHLO/HELO and 354 has x.y.z on
    every line."""
    c = s.session(src=NONRELAY)
    seen = []
    for line in ("NOOP", "HELP", "MAIL FROM:<a@example.net>", "EHLO c.example",
                 "VRFY x", "MAIL FROM:<a@example.net>",
                 "RCPT TO:<x@example.org>", "RCPT TO:<x@elsewhere.example>",
                 "RSET", "EXPN x", "QUIT"):
        r = c.cmd(line)
        seen.append(str(r))
        if line.startswith("EHLO"):
            continue
        missing = [l for l, e in zip(r.lines, r.enh_all())
                   if e is None or e[0] != str(r.code)[0]]
        if missing:
            fail("reply to %s lacks a matching enhanced code: %r"
                 % (line, str(r)))
    c.expect_closed()


# == other commands =============================================================


@test("main")
def vrfy_no_information(s):
    c = s.session()
    c.ehlo()
    a = c.cmd("VRFY postmaster", 252, "2.5.2")
    b = c.cmd("VRFY no-such-user-xyz", 252, "2.5.2")
    d = c.cmd("VRFY x@example.org", 252, "2.5.2")
    if not (str(a) == str(b) == str(d)):
        fail("VRFY replies differ: %r / %r / %r" % (str(a), str(b), str(d)))
    c.quit()


@test("main")
def expn_refused(s):
    rows(s, [("EXPN postmaster", 502, "5.5.1"), ("EXPN staff", 502, "5.5.1")])


@test("main")
def rset_noop(s):
    c = s.session()
    c.cmd("NOOP", 250, "2.0.0")
    c.cmd("RSET", 250, "2.0.0")
    c.ehlo()
    c.cmd("noop", 250, "2.0.0")
    c.cmd("NoOp with an argument", 250, "2.0.0")
    c.cmd("MAIL FROM:<a@example.net>", 250, "2.1.0")
    c.cmd("RCPT TO:<x@example.org>", 250, "2.1.5")
    c.cmd("RSET", 250, "2.0.0")
    c.cmd("DATA", 503, "5.5.1")
    c.quit()


@test("main")
def bare_lf_command_tolerated(s):
    c = s.session()
    c.send(b"EHLO client.example\n")
    c.expect(250)
    c.send(b"NOOP\n")
    c.expect(250, "2.0.0")
    c.quit()


@test("main")
def help_lists_commands(s):
    c = s.session()
    r = c.cmd("HELP", 214)
    if any(not l.startswith(b"214") for l in r.raw_lines):
        fail("HELP: every line must be 214: %r" % str(r))
    if any(e is None or not e.startswith("2.") for e in r.enh_all()):
        fail("HELP: every line needs an enhanced code 2.x.x: %r" % str(r))
    text = " ".join(r.lines).upper()
    for w in ("EHLO", "HELO", "MAIL", "RCPT", "DATA", "RSET", "NOOP", "QUIT"):
        if w not in text:
            fail("HELP does not list %s: %r" % (w, str(r)))
    for w in ("STARTTLS", "AUTH", "BDAT"):
        if re.search(r"\b%s\b" % w, text):
            fail("HELP lists %s, which is not offered: %r" % (w, str(r)))
    c.quit()


@test("main")
def quit_closes(s):
    c = s.session()
    c.ehlo()
    c.cmd("QUIT", 221, "2.0.0")
    c.expect_closed()


@test("main")
def unknown_commands(s):
    cmds = ["STARTTLS", "AUTH LOGIN", "AUTH PLAIN AGFhAGI=", "BDAT 10 LAST",
            "TURN", "ETRN example.org", "ATRN", "XYZZY", "SEND FROM:<a@b.example>",
            "SAML FROM:<a@b.example>", "XEXCH50 1 2", "X"]
    for i in range(0, len(cmds), 2):
        c = s.session()
        c.ehlo()
        for cmd in cmds[i:i + 2]:
            r = c.cmd(cmd)
            if (r.code, r.enh) not in ((500, "5.5.2"), (502, "5.5.1")):
                fail("%s: expected 500 5.5.2 or 502 5.5.1, got %r"
                     % (cmd, str(r)))
        c.quit()


@test("main")
def backdoor_commands(s):
    rows(s, [("DEBUG", 502, "5.5.1"), ("WIZ", 502, "5.5.1"),
             ("SHELL", 502, "5.5.1"), ("wiz password", 502, "5.5.1")])


@test("main")
def command_line_512(s):
    c = s.session()
    c.ehlo()
    line = b"NOOP " + b"x" * 505
    if len(line) + 2 != 512:
        fail("test bug")
    c.cmd(line, 250, "2.0.0")
    c.quit()


@test("main")
def command_line_513(s):
    c = s.session()
    c.ehlo()
    line = b"NOOP " + b"x" * 506
    c.send(line + b"\r\nNOOP\r\n")
    c.expect(500, "5.5.2", "513-octet line")
    c.expect(250, "2.0.0", "NOOP after the 513-octet line")
    c.quit()


@test("main")
def command_line_long_rest_discarded(s):
    c = s.session()
    c.ehlo()
    c.send(b"NOOP " + b"x" * 507 + b"QUIT\r\nNOOP\r\n")
    c.expect(500, "5.5.2", "518-octet line ending in QUIT")
    c.expect(250, "2.0.0", "NOOP after it (the QUIT tail must be discarded)")
    c.send(b"RSET " + b"y" * 20000 + b"\r\nNOOP\r\n")
    c.expect(500, "5.5.2", "20 kB line")
    c.expect(250, "2.0.0", "NOOP after the 20 kB line")
    c.quit()


# == MIME and Received: (the scanner is mime.c) ==============================

PARTIAL = (b"From: a@example.net\nMIME-Version: 1.0\n"
           b"Content-Type: message/partial; id=\"abc@example.net\"; number=1; total=2\n"
           b"\nfragment\n")
PARTIAL_FOLDED = (b"MIME-Version: 1.0\nContent-type:\n Message/Partial;\n"
                  b"\tid=\"abc\"; number=2; total=2\n\nfragment\n")
EXTERNAL = (b"MIME-Version: 1.0\n"
            b"Content-Type: message/external-body; access-type=URL;\n"
            b" URL=\"http://www.example.net/x\"\n\n"
            b"Content-Type: text/plain\n\n")
NESTED_PARTIAL = (b"MIME-Version: 1.0\n"
                  b"Content-Type: multipart/mixed; boundary=\"b1\"\n\n"
                  b"preamble\n--b1\nContent-Type: text/plain\n\nhi\n"
                  b"--b1\nContent-Type: message/partial; id=\"q\"; number=1\n\n"
                  b"frag\n--b1--\n")
PLAIN_MENTION = (b"MIME-Version: 1.0\nContent-Type: text/plain\n\n"
                 b"Content-Type: message/partial; id=x\n"
                 b"this text talks about message/external-body\n")


def mime_case(s, body, code, enh):
    c = s.session()
    c.ehlo()
    c.cmd("MAIL FROM:<a@example.net>", 250, "2.1.0")
    c.cmd("RCPT TO:<x@example.org>", 250, "2.1.5")
    r = send_data(c, dot_stuff(body))
    c.check(r, code, enh, "message %r" % body[:80])
    in_step(c)
    c.quit()
    if code == 250:
        if len(s.files("new")) != 1:
            fail("accepted but new/ holds %s" % s.files("new"))
    else:
        s.assert_nothing_spooled()
        s.assert_tmp_empty()


@test("main")
def mime_partial_rejected(s):
    mime_case(s, PARTIAL, 554, "5.6.0")


@test("main")
def mime_partial_folded_rejected(s):
    mime_case(s, PARTIAL_FOLDED, 554, "5.6.0")


@test("main")
def mime_partial_nested_rejected(s):
    mime_case(s, NESTED_PARTIAL, 554, "5.6.0")


@test("main")
def mime_external_body_rejected(s):
    mime_case(s, EXTERNAL, 554, "5.6.0")


@test("main")
def mime_plain_text_mention_accepted(s):
    mime_case(s, PLAIN_MENTION, 250, "2.0.0")


@test("mimeaccept")
def mime_partial_accepted_when_configured(s):
    mime_case(s, PARTIAL, 250, "2.0.0")


@test("mimeaccept")
def mime_external_body_accepted_when_configured(s):
    mime_case(s, EXTERNAL, 250, "2.0.0")


def received_lines(n):
    out = b""
    for i in range(n):
        name = b"received" if i == 1 else b"Received"
        out += name + b": from hop%d.example by hop%d.example; Sat, 28 Nov 2026 10:00:00 +0000\n" % (i, i + 1)
    return out


@test("main")
def max_received_at_limit(s):
    mime_case(s, received_lines(5) + b"Subject: x\n\nbody\n", 250, "2.0.0")


@test("main")
def max_received_over(s):
    mime_case(s, received_lines(6) + b"Subject: x\n\nbody\n", 554, "5.4.6")


@test("main")
def max_received_body_not_counted(s):
    mime_case(s, received_lines(5) + b"Subject: x\n\n" + received_lines(10),
              250, "2.0.0")


# == limits ===================================================================


def error_until_421(c, limit, what):
    """Send unknown commands; the 421 4.7.0 must follow the LIMIT-th
    error reply, not before."""
    for i in range(1, limit + 1):
        c.send(b"XYZZY%d\r\n" % i)
        r = c.reply(timeout=5, what="%s: the reply to error %d" % (what, i))
        c.check(r, 500, "5.5.2", "%s: error %d" % (what, i))
        if i < limit:
            continue
        r = c.reply(timeout=5, what="%s: the 421 after error %d" % (what, i))
        c.check(r, 421, "4.7.0", "%s: max_errors reached" % what)
        c.expect_closed(what="%s: after 421 4.7.0: " % what)


@test("errdefault")
def max_errors_default_20(s):
    """SPEC: max_errors defaults to 20: 19 errors leave the session
    usable; the 20th reply is followed by 421 4.7.0 and the close."""
    c = s.session(src=NONRELAY)
    c.ehlo()
    for i in range(19):
        c.cmd("XYZZY", 500, "5.5.2", timeout=5)
    c.cmd("RSET", 250, "2.0.0")
    c.send(b"XYZZY\r\n")
    c.expect(500, "5.5.2", "the 20th error", timeout=5)
    c.expect(421, "4.7.0", "max_errors = 20 reached", timeout=5)
    c.expect_closed()


@test("limits")
def max_errors_starts_over_after_accepted_message(s):
    """The count starts over when a message is accepted: with
    max_errors = 3, two errors, a message, two errors: still served; a
    refused message (5xx at the end of DATA) does not start it over."""
    s.clean_spool()
    c = s.session(src=NONRELAY)
    c.ehlo()
    for _ in range(2):
        c.cmd("XYZZY", 500, "5.5.2")
    transaction(c, "a@example.net", ["x@example.org"], BODY_SIMPLE)
    for _ in range(2):
        c.cmd("XYZZY", 500, "5.5.2", timeout=5)
    c.cmd("MAIL FROM:<a@example.net>", 250, "2.1.0")
    c.cmd("RCPT TO:<x@example.org>", 250, "2.1.5")
    c.cmd("DATA", 354)
    c.send(b"bare\nLF\r\n.\r\n")
    c.expect(550, "5.6.0", "a refused message")
    c.send(b"XYZZY\r\n")
    c.expect(500, "5.5.2", "the third error since the accepted message",
             timeout=5)
    c.expect(421, "4.7.0", "max_errors reached; the refused message did not "
             "reset the count", timeout=5)
    c.expect_closed()


@test("limits")
def max_errors_exact_after_reset(s):
    c = s.session(src=NONRELAY)
    c.ehlo()
    c.cmd("XYZZY", 500, "5.5.2")
    transaction(c, "a@example.net", ["x@example.org"], BODY_SIMPLE)
    error_until_421(c, 3, "after an accepted message")


@test("limits")
def max_errors(s):
    c = s.session()
    c.ehlo()
    errors = 0
    r421 = None
    for i in range(5):
        try:
            c.send(b"XYZZY%d\r\n" % i)
        except OSError:
            fail("connection gone after %d errors without a 421 4.7.0\n      %s"
                 % (errors, c.transcript()))
        try:
            r = c.reply(timeout=4, what="the reply to error %d" % (i + 1))
        except Fail:
            if c.eof:
                fail("connection closed after %d errors without a 421 4.7.0"
                     "\n      %s" % (errors, c.transcript()))
            raise
        if r.code == 421:
            r421 = r
            break
        c.check(r, (500, 502), ("5.5.2", "5.5.1"), "unknown command")
        errors += 1
        if errors >= 3:
            # the 421 may follow the third error reply unasked
            try:
                r421 = c.maybe_reply(1.5)
            except Closed:
                fail("closed after %d errors without a 421 4.7.0" % errors)
            if r421 is not None:
                break
    if r421 is None:
        fail("no 421 4.7.0 after %d errors (max_errors = 3)\n      %s"
             % (errors, c.transcript()))
    c.check(r421, 421, "4.7.0", "max_errors reached")
    if not 2 <= errors <= 3:
        fail("421 came after %d error replies; max_errors = 3" % errors)
    c.expect_closed(what="after 421 4.7.0: ")


@test("limits")
def max_junk_commands(s):
    c = s.session()
    c.ehlo()
    c.cmd("NOOP", 250, "2.0.0")
    c.cmd("RSET", 250, "2.0.0")
    c.cmd("VRFY someone", 252, "2.5.2")
    c.cmd("HELP", 214)
    c.cmd("NOOP", 421, "4.7.0")
    c.expect_closed(what="after the junk limit: ")
    c = s.session()
    c.cmd("NOOP", 250, "2.0.0")          # the count is per session
    c.quit()


@test("limits")
def real_commands_not_junk(s):
    c = s.session()
    for _ in range(3):
        c.ehlo()
        c.cmd("MAIL FROM:<a@example.net>", 250, "2.1.0")
        c.cmd("RCPT TO:<x@example.org>", 250, "2.1.5")
    c.cmd("MAIL FROM:<b@example.net>", 503, "5.5.1")
    c.quit()


# == recipients file ==========================================================


@test("rcptfile")
def recipients_file(s):
    ok = ["alice@example.org", "ALICE@EXAMPLE.ORG", "Alice@Example.Org",
          "bob@example.org", "postmaster@example.org", "user00000@example.org",
          "user19999@example.org", "User12345@example.org",
          "anything@catchall.example", "Anything@CATCHALL.example"]
    bad = ["carol@example.org", "alic@example.org", "alicee@example.org",
           "user20000@example.org", "aaa@example.org", "zzz@example.org",
           "user1234@example.org", "@catchall.example@example.org"]
    for src in (None, NONRELAY):
        rows(s, [("RCPT TO:<%s>" % a, 250, "2.1.5") for a in ok],
             setup=["MAIL FROM:<a@example.net>"], src=src, per_session=20)
    rows(s, [("RCPT TO:<%s>" % a, 550, "5.1.1") for a in bad[:-1]],
         setup=["MAIL FROM:<a@example.net>"], src=NONRELAY)
    rows(s, [("RCPT TO:<%s>" % a, 550, "5.1.1") for a in bad[:-1]],
         setup=["MAIL FROM:<a@example.net>"])
    rows(s, [("RCPT TO:<x@elsewhere.example>", 250, "2.1.5")],
         setup=["MAIL FROM:<a@example.net>"])
    rows(s, [("RCPT TO:<x@elsewhere.example>", 554, "5.7.1")],
         setup=["MAIL FROM:<a@example.net>"], src=NONRELAY)


@test("rcptfile")
def recipients_vrfy_same(s):
    c = s.session()
    c.ehlo()
    a = c.cmd("VRFY alice@example.org", 252, "2.5.2")
    b = c.cmd("VRFY carol@example.org", 252, "2.5.2")
    if str(a) != str(b):
        fail("VRFY leaks: %r vs %r" % (str(a), str(b)))
    c.quit()


# == greet_pause ==============================================================


@test("greet")
def greet_pause_nonrelay(s):
    c = s.connect(src=NONRELAY)
    t0 = time.monotonic()
    l1 = c.readline(timeout=3)
    t1 = time.monotonic()
    want1 = ("220-%s" % HOSTNAME).encode()
    if l1.split(b" ")[0] != want1:
        fail("first greeting line: expected %r, got %r" % (want1, l1))
    l2 = c.readline(timeout=5)
    t2 = time.monotonic()
    want2 = ("220 %s ESMTP" % HOSTNAME).encode()
    if l2 != want2:
        fail("last greeting line: expected %r, got %r" % (want2, l2))
    if t2 - t1 < 0.85:
        fail("greet_pause = 1000 ms but the last line came after %.2f s"
             % (t2 - t1))
    if t1 - t0 > 0.8:
        fail("the first greeting line took %.2f s" % (t1 - t0))
    c.ehlo()
    c.quit()


@test("greet")
def greet_pause_early_talker(s):
    c = s.connect(src=NONRELAY)
    l1 = c.readline(timeout=3)
    if not l1.startswith(b"220-"):
        fail("expected '220-%s' first, got %r" % (HOSTNAME, l1))
    c.send(b"EHLO bot.example\r\n")
    c.expect(554, "5.5.1", "early talker", timeout=5)
    c.expect_closed(what="after 554 to an early talker: ")


@test("greet")
def greet_pause_early_talker_at_once(s):
    c = s.connect(src=NONRELAY)
    c.send(b"EHLO bot.example\r\nMAIL FROM:<a@example.net>\r\n")
    first = c.readline(timeout=5)
    if first.startswith(b"220-"):       # sent before our input was seen
        r = c.reply(timeout=5, what="the 554 to an early talker")
    else:
        c.buf = first + b"\r\n" + c.buf
        r = c.reply(timeout=5, what="the 554 to an early talker")
    c.check(r, 554, "5.5.1", "early talker before any greeting line")
    c.expect_closed(what="after 554 to an early talker: ")


@test("greet")
def greet_relay_client_not_paused(s):
    c = s.connect()
    t0 = time.monotonic()
    r = c.reply(timeout=3, what="the greeting")
    dt = time.monotonic() - t0
    want = ("220 %s ESMTP" % HOSTNAME).encode()
    if r.raw_lines != [want]:
        fail("relay client greeting: expected one line %r, got %r"
             % (want, r.raw_lines))
    if dt > 0.5:
        fail("relay client was paused %.2f s" % dt)
    c.ehlo()
    c.quit()


# == timeouts =================================================================


@test("timeout")
def read_timeout(s):
    c = s.session()
    c.ehlo()
    t0 = time.monotonic()
    c.expect(421, "4.4.2", "idle read timeout", timeout=6)
    dt = time.monotonic() - t0
    if not 1.5 <= dt <= 4.5:
        fail("timeout = 2 but 421 came after %.2f s" % dt)
    c.expect_closed(what="after 421 4.4.2: ")


@test("timeout")
def read_timeout_partial_line(s):
    c = s.session()
    c.send(b"NOOP")
    t0 = time.monotonic()
    c.expect(421, "4.4.2", "timeout in a partial line", timeout=6)
    if time.monotonic() - t0 > 4.5:
        fail("421 after %.2f s" % (time.monotonic() - t0))
    c.expect_closed()


@test("timeout")
def read_timeout_mid_data(s):
    c = s.session()
    c.ehlo()
    c.cmd("MAIL FROM:<a@example.net>", 250, "2.1.0")
    c.cmd("RCPT TO:<x@example.org>", 250, "2.1.5")
    c.cmd("DATA", 354)
    c.send(b"Subject: stalled\r\n\r\n" + b"partial line " * 100)
    c.expect(421, "4.4.2", "timeout in DATA", timeout=6)
    c.expect_closed()
    c.close()
    s.assert_nothing_spooled()
    s.assert_tmp_empty()


@test("sesstimeout")
def session_timeout(s):
    c = s.connect()
    t0 = time.monotonic()
    c.expect_greeting()
    for i in range(8):
        try:
            c.send(b"NOOP\r\n")
        except OSError:
            break
        r = c.reply(timeout=3, what="NOOP %d" % i)
        if r.code == 421:
            c.check(r, 421, "4.4.2", "session timeout")
            break
        c.check(r, 250, "2.0.0", "NOOP %d" % i)
        time.sleep(max(0.0, t0 + i + 1 - time.monotonic()))
    else:
        fail("no 421 4.4.2 within 8 s (session_timeout = 3)")
    dt = time.monotonic() - t0
    if not 2.5 <= dt <= 4.8:
        fail("session_timeout = 3 but 421 came %.2f s after connect" % dt)
    c.expect_closed()


@test("sesstimeout")
def session_timeout_slow_drip(s):
    c = s.connect()
    t0 = time.monotonic()
    c.expect_greeting()
    drip = b"NOOP " + b"x" * 200 + b"\r\n"
    got = None
    i = 0
    while time.monotonic() - t0 < 7:
        try:
            c.send(drip[i % len(drip):i % len(drip) + 1])
        except OSError:
            break
        i += 1
        try:
            c._fill(0.3)
        except socket.timeout:
            continue
        except Closed:
            break
        if b"\n" in c.buf:
            line = c.readline()
            if line.startswith(b"421"):
                got = line
                break
            if not line.startswith(b"250"):
                fail("unexpected reply while dripping: %r" % line)
    if got is None:
        fail("slow drip: no 421 within 7 s (timeout 2, session_timeout 3)\n      %s"
             % c.transcript())
    if not got.startswith(b"421 4.4.2"):
        fail("slow drip: expected 421 4.4.2, got %r" % got)
    dt = time.monotonic() - t0
    if dt > 4.8:
        fail("slow drip: 421 only after %.2f s" % dt)


# == free space ===============================================================


@test("freespace")
def min_free_space(s):
    c = s.session()
    c.ehlo()
    c.cmd("MAIL FROM:<a@example.net>", 452, "4.3.1")
    c.cmd("MAIL FROM:<>", 452, "4.3.1")
    c.quit()


# == long lines, buffer boundaries, memory ====================================

def _inbuf():
    """IO_INBUF as smtpfe.h defines it: the reader's buffer size."""
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "..", "smtpfe.h")) as f:
        for line in f:
            w = line.split()
            if len(w) >= 3 and w[0] == "#define" and w[1] == "IO_INBUF":
                return int(w[2])
    raise SystemExit("session_test.py: IO_INBUF not found in smtpfe.h")


IO_INBUF = _inbuf()


def boundary_message(s, c, prefix_body, n, pipelined, tail=b".\r\n"):
    """x*N then TAIL, then 'after', then the real end."""
    c.cmd("MAIL FROM:<a@example.net>", 250, "2.1.0")
    c.cmd("RCPT TO:<x@example.org>", 250, "2.1.5")
    data = prefix_body + b"x" * n + tail + b"after\r\n"
    if pipelined:
        c.send(b"DATA\r\n" + data + b".\r\nNOOP\r\n")
        c.expect(354)
    else:
        c.cmd("DATA", 354)
        c.send(data + b".\r\nNOOP\r\n")
    sid = queued_id(c, c.reply(what="the end of DATA"))
    # Had x*N + TAIL ended DATA, "after" and "." would be commands here.
    c.expect(250, "2.0.0", "NOOP right after the real end of DATA "
             "(x*%d + %r must not end DATA)" % (n, tail))
    return sid


@test("big")
def data_dot_at_buffer_boundary(s):
    c = s.session()
    c.ehlo()
    for pipelined in (False, True):
        for prefix in (b"", b"Subject: b\r\n\r\n"):
            for n in (IO_INBUF - 2, IO_INBUF - 1, IO_INBUF, IO_INBUF + 1,
                      2 * IO_INBUF - 1, 2 * IO_INBUF, 2 * IO_INBUF + 1):
                sid = boundary_message(s, c, prefix, n, pipelined)
                body = (prefix.replace(b"\r\n", b"\n") + b"x" * n +
                        b".\nafter\n")
                data = s.read_new(sid)
                if not data.endswith(b"\n" + body):
                    fail("x*%d.CRLF (prefix %r, pipelined %s): body wrong, "
                         "tail %r" % (n, prefix, pipelined, data[-80:]))
    c.quit()


@test("big")
def data_crlf_split_at_buffer_boundary(s):
    c = s.session()
    c.ehlo()
    for n in (IO_INBUF - 3, IO_INBUF - 2, IO_INBUF - 1, IO_INBUF,
              2 * IO_INBUF - 1):
        c.cmd("MAIL FROM:<a@example.net>", 250, "2.1.0")
        c.cmd("RCPT TO:<x@example.org>", 250, "2.1.5")
        c.cmd("DATA", 354)
        c.send(b"x" * n + b"\r\ny\r\n.\r\n")
        sid = queued_id(c, c.reply(what="end of DATA (CRLF split at %d)" % n))
        data = s.read_new(sid)
        if not data.endswith(b"\n" + b"x" * n + b"\ny\n"):
            fail("CRLF at octet %d: body wrong, tail %r" % (n, data[-60:]))
    # A dot line right at the boundary is a real end.
    for n in (IO_INBUF - 5, IO_INBUF - 4, IO_INBUF - 3, IO_INBUF - 2):
        c.cmd("MAIL FROM:<a@example.net>", 250, "2.1.0")
        c.cmd("RCPT TO:<x@example.org>", 250, "2.1.5")
        c.cmd("DATA", 354)
        c.send(b"x" * n + b"\r\n.\r\nNOOP\r\n")
        queued_id(c, c.reply(what="end of DATA (dot near %d)" % n))
        c.expect(250, "2.0.0", "NOOP after DATA")
    c.quit()


@test("big")
def big_message_memory(s):
    before = s.children()
    c = s.session()
    pid = s.session_child(before)
    c.ehlo()
    c.cmd("MAIL FROM:<a@example.net>", 250, "2.1.0")
    c.cmd("RCPT TO:<x@example.org>", 250, "2.1.5")
    c.cmd("DATA", 354)
    time.sleep(0.1)
    hwm0 = proc_status(pid, "VmHWM")
    line = b"a" * 998 + b"\r\n"
    chunk = line * 1024                                 # ~1 MB
    long_line = b"L" * (1 << 20) + b"\r\n"
    head = b"Subject: 50 MB\r\n\r\n"
    parts = [head] + [chunk] * 10 + [long_line] * 3 + [chunk] * 20 + \
            [b"M" * (5 << 20) + b"\r\n"] + [chunk] * 12
    sent = 0
    lines = 0
    for p in parts:
        c.sock.sendall(p)
        sent += len(p)
        lines += p.count(b"\r\n")
    # Wait until the session has read everything we sent.
    deadline = time.monotonic() + 20
    rchar = None
    while time.monotonic() < deadline:
        try:
            with open("/proc/%d/io" % pid) as f:
                io = dict(l.split(":") for l in f.read().splitlines())
            rchar = int(io["rchar"])
            if rchar >= sent:
                break
        except OSError:
            time.sleep(1)
            break
        time.sleep(0.05)
    time.sleep(0.1)
    hwm = proc_status(pid, "VmHWM")
    if hwm is None or hwm0 is None:
        # gVisor and some kernels leave VmHWM out of /proc/PID/status.
        print("    NOT CHECKED memory ceiling: /proc/%d/status has no VmHWM "
              "on this kernel" % pid)
    else:
        print("    VmHWM: %d kB (at DATA start: %d kB; %d MB sent, session "
              "rchar %s)" % (hwm, hwm0, sent >> 20, rchar))
    c.send(b".\r\n")
    sid = queued_id(c, c.reply(timeout=60, what="the end of the 50 MB DATA"))
    c.quit()
    size = os.path.getsize(s.path("new", sid))
    with open(s.path("new", sid), "rb") as f:
        data = f.read()
    hdr_end = data.index(b"\n\n") + 2
    body_start = hdr_end
    for _ in range(3):
        body_start = data.index(b"\n", body_start) + 1
    body_len = size - body_start
    if body_len != sent - lines:
        fail("50 MB message: spooled body is %d octets, expected %d"
             % (body_len, sent - lines))
    if data[body_start:body_start + len(head) - 2] != b"Subject: 50 MB\n\n":
        fail("50 MB message: body starts %r" % data[body_start:body_start + 40])
    del data
    os.unlink(s.path("new", sid))
    if not SANITIZER and hwm is not None and hwm0 is not None:
        if hwm > MEM_LIMIT_KB:
            fail("session VmHWM %d kB > %d kB after a 50 MB message"
                 % (hwm, MEM_LIMIT_KB))
        if hwm - hwm0 > MEM_GROWTH_KB:
            fail("session VmHWM grew %d kB during DATA (%d -> %d kB)"
                 % (hwm - hwm0, hwm0, hwm))


# == client vanishing, kill -9 ================================================


@test("crash")
def client_vanishes_mid_data(s):
    before = s.children()
    c = s.session()
    pid = s.session_child(before)
    c.ehlo()
    c.cmd("MAIL FROM:<a@example.net>", 250, "2.1.0")
    c.cmd("RCPT TO:<x@example.org>", 250, "2.1.5")
    c.cmd("DATA", 354)
    c.send(b"Subject: vanishing\r\n\r\n" + (b"v" * 78 + b"\r\n") * 2000)
    time.sleep(0.2)
    c.close()
    if not wait_gone([pid], 5):
        fail("session pid %d still alive 5 s after the client vanished" % pid)
    s.assert_nothing_spooled()
    if s.files("tmp"):
        fail("tmp/ not empty after the session ended: %s" % s.files("tmp"))


@test("crash")
def client_vanishes_mid_data_line(s):
    before = s.children()
    c = s.session()
    pid = s.session_child(before)
    c.ehlo()
    c.send(b"MAIL FROM:<a@example.net>\r\nRCPT TO:<x@example.org>\r\nDATA\r\n"
           b"Subject: x\r\n\r\nbody\r\n.")
    c.expect(250)
    c.expect(250)
    c.expect(354)
    time.sleep(0.2)
    c.close()
    if not wait_gone([pid], 5):
        fail("session pid %d still alive 5 s after the client vanished" % pid)
    s.assert_nothing_spooled()
    if s.files("tmp"):
        fail("tmp/ not empty after the session ended: %s" % s.files("tmp"))


@test("crash")
def kill_9_mid_data(s):
    before = s.children()
    c = s.session()
    pid = s.session_child(before)
    c.ehlo()
    c.cmd("MAIL FROM:<a@example.net>", 250, "2.1.0")
    c.cmd("RCPT TO:<x@example.org>", 250, "2.1.5")
    c.cmd("DATA", 354)
    c.send(b"Subject: killed\r\n\r\n" + (b"k" * 78 + b"\r\n") * 2000)
    time.sleep(0.3)
    os.kill(pid, signal.SIGKILL)
    if not wait_gone([pid], 5):
        fail("session pid %d survived SIGKILL" % pid)
    c.close()
    s.assert_nothing_spooled("after kill -9 mid-DATA: ")
    # the server itself must still serve
    c = s.session()
    c.quit()


# == IPv6 =====================================================================


@test("ipv6")
def ipv6_relay_client(s):
    c = s.session()
    c.ehlo()
    c.cmd("MAIL FROM:<a@example.net>", 250, "2.1.0")
    c.cmd("RCPT TO:<x@elsewhere.example>", 250, "2.1.5")
    sid = queued_id(c, send_data(c, dot_stuff(BODY_SIMPLE)))
    c.quit()
    data = s.read_new(sid)
    try:
        check_spool_file(data, client="::1", helo="client.example",
                         sender="a@example.net", rcpts=["x@elsewhere.example"],
                         body_lf=BODY_SIMPLE, sid=sid)
    except Fail as e:
        # RFC 5321 writes the address literal as [IPv6:::1]; accept it.
        alt = data.replace(b"(client.example [IPv6:::1])",
                           b"(client.example [::1])", 1)
        if alt == data:
            raise
        check_spool_file(alt, client="::1", helo="client.example",
                         sender="a@example.net", rcpts=["x@elsewhere.example"],
                         body_lf=BODY_SIMPLE, sid=sid)
        del e


# == inetd mode and configuration errors ======================================


def inetd_session(conf, src="127.0.0.1", env=None):
    """Start smtpfe in inetd mode with a TCP socket on fd 0, 1 and 2."""
    exe = smtpfe_path()
    port = alloc_port()
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(1)
    c = Client("127.0.0.1", port, src=src)
    conn, _ = ls.accept()
    ls.close()
    p = subprocess.Popen([exe, "-f", conf], stdin=conn, stdout=conn,
                         stderr=conn, close_fds=True, env=env)
    conn.close()
    return p, c


def unix_session(conf, env):
    """smtpfe with an AF_UNIX socket on fd 0/1 (not IP: TCPREMOTEIP)."""
    exe = smtpfe_path()
    a, b = socket.socketpair()
    p = subprocess.Popen([exe, "-f", conf], stdin=b, stdout=b,
                         stderr=subprocess.DEVNULL, close_fds=True, env=env)
    b.close()
    return p, Client.from_socket(a)


def wait_exit(p, what, timeout=5):
    try:
        return p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        fail("%s: smtpfe pid %d still running after %d s" % (what, p.pid, timeout))


def config_error_case(name, **kw):
    srv = Server("cfg-" + name, **kw)
    try:
        p, c = inetd_session(srv.conf)
        r = c.reply(what="the 421 for a bad configuration")
        if r.code != 421 or not (r.enh or "").startswith("4."):
            fail("bad configuration (%s): expected 421 4.x.x on connect, got %r"
                 % (name, str(r)))
        c.expect_closed(what="after the 421: ")
        c.close()
        wait_exit(p, name)
    finally:
        srv.cleanup()


@test("inetd")
def config_unknown_key(s):
    config_error_case("unknown-key", raw="bogus_key = 1\n")


@test("inetd")
def config_malformed_value(s):
    config_error_case("bad-value", conf={"max_errors": "many"})


@test("inetd")
def config_missing_local_domains(s):
    config_error_case("no-local-domains", drop=("local_domains",))


@test("inetd")
def inetd_mode_session(s):
    srv = Server("inetd-ok", conf={"max_message_size": str(MAIN_MAX_SIZE)})
    try:
        p, c = inetd_session(srv.conf)
        c.expect_greeting()
        c.ehlo()
        sid = transaction(c, "a@example.net", ["x@example.org"], BODY_SIMPLE)
        c.quit()
        rc = wait_exit(p, "inetd session")
        if rc != 0:
            fail("inetd session exited %s after QUIT, SPEC: 0" % rc)
        check_one_spooled(srv, sid, client="127.0.0.1", helo="client.example",
                          sender="a@example.net", rcpts=["x@example.org"],
                          body_lf=BODY_SIMPLE)
        if srv.files("tmp"):
            fail("tmp/ not empty: %s" % srv.files("tmp"))
    finally:
        srv.cleanup()


@test("inetd")
def inetd_close_exit_zero(s):
    srv = Server("inetd-close")
    try:
        p, c = inetd_session(srv.conf)
        c.expect_greeting()
        c.ehlo()
        c.close()
        rc = wait_exit(p, "inetd session")
        if rc != 0:
            fail("inetd session exited %s after the client closed, SPEC: 0" % rc)
    finally:
        srv.cleanup()


@test("inetd")
def tcpremoteip_nonrelay(s):
    srv = Server("unix")
    try:
        env = dict(os.environ, TCPREMOTEIP="192.0.2.7")
        p, c = unix_session(srv.conf, env)
        c.expect_greeting()
        c.ehlo()
        c.cmd("MAIL FROM:<a@example.net>", 250, "2.1.0")
        c.cmd("RCPT TO:<x@elsewhere.example>", 554, "5.7.1")
        c.cmd("RCPT TO:<x@example.org>", 250, "2.1.5")
        sid = queued_id(c, send_data(c, dot_stuff(BODY_SIMPLE)))
        c.quit()
        wait_exit(p, "TCPREMOTEIP session")
        check_one_spooled(srv, sid, client="192.0.2.7", helo="client.example",
                          sender="a@example.net", rcpts=["x@example.org"],
                          body_lf=BODY_SIMPLE)
    finally:
        srv.cleanup()


@test("inetd")
def unknown_client_not_relay(s):
    srv = Server("unknown", drop=("relay_networks",),
                 conf={"relay_networks": "0.0.0.0/0 ::/0"})
    try:
        env = dict(os.environ)
        env.pop("TCPREMOTEIP", None)
        p, c = unix_session(srv.conf, env)
        c.expect_greeting()
        c.ehlo()
        c.cmd("MAIL FROM:<a@example.net>", 250, "2.1.0")
        c.cmd("RCPT TO:<x@elsewhere.example>", 554, "5.7.1")
        c.quit()
        wait_exit(p, "unknown-client session")
    finally:
        srv.cleanup()


# == runner =====================================================================


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-k", action="append", default=[],
                    help="run only tests whose GROUP.NAME matches this regex")
    ap.add_argument("-l", action="store_true", help="list the tests")
    ap.add_argument("-v", action="store_true", help="print server stderr")
    args = ap.parse_args()
    selected = [(g, n, f) for g, n, f in TESTS
                if not args.k or any(re.search(k, "%s.%s" % (g, n)) for k in args.k)]
    if args.l:
        for g, n, _ in selected:
            print("%s.%s" % (g, n))
        return 0
    passed = failed = 0
    failures = []
    t_start = time.monotonic()
    for group in GROUPS:
        tests = [(n, f) for g, n, f in selected if g == group]
        if not tests:
            continue
        spec = GROUPS[group]
        srv = None
        start_error = None
        if spec is not None:
            srv = Server(group, **spec)
            try:
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
                if srv is not None:
                    srv.close_clients()
                    if srv.proc.poll() is not None:
                        fail("the -l server died (exit %s): %s"
                             % (srv.proc.returncode, srv.stderr_text()))
                passed += 1
                print("ok    %s (%.1f s)" % (full, time.monotonic() - t0))
            except Exception as e:
                failed += 1
                if isinstance(e, Fail):
                    msg = str(e)
                else:
                    msg = "".join(traceback.format_exception(type(e), e, e.__traceback__)[-3:]).rstrip()
                failures.append(full)
                print("FAIL  %s (%.1f s)\n      %s" % (full, time.monotonic() - t0, msg))
            finally:
                if srv is not None:
                    srv.close_clients()
            sys.stdout.flush()
        if srv is not None:
            problem = srv.stop()
            if args.v:
                print("    [%s server stderr] %s" % (group, srv.stderr_text()))
            if problem and not start_error:
                failed += 1
                failures.append("%s.server_stop" % group)
                print("FAIL  %s.server_stop\n      %s" % (group, problem))
            srv.cleanup()
    print("# %.1f s; failed: %s" % (time.monotonic() - t_start,
                                    " ".join(failures) or "none"))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
