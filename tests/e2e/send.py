#!/usr/bin/env python3
"""send.py PORT MANIFEST - send the end-to-end test messages to smtpfe.

Each message carries a unique X-E2E-Token header.  MANIFEST (JSON) gets,
per message, the token, the envelope and the message exactly as the MTA
must deliver it (LF line ends, dot-unstuffed): verify.py compares.
Messages go through python smtplib and through swaks.
"""
import base64
import json
import smtplib
import subprocess
import sys
import uuid

PORT = int(sys.argv[1])
HELO = "client.example.net"
sent = []


def message(token, frm, to, subject, body, extra=b""):
    """A complete message with every header an MTA would add if missing."""
    head = (b"From: " + frm.encode() + b"\r\n"
            b"To: " + b", ".join(t.encode() for t in to) + b"\r\n"
            b"Subject: " + subject.encode() + b"\r\n"
            b"Date: Sat, 28 Nov 2026 15:04:05 +0000\r\n"
            b"Message-ID: <" + token.encode() + b"@client.example.net>\r\n"
            b"X-E2E-Token: " + token.encode() + b"\r\n" + extra)
    return head + b"\r\n" + body


def record(token, sender, rcpts, msg, body8=False):
    sent.append({"token": token, "sender": sender, "rcpts": rcpts,
                 "body8": body8,
                 "orig": base64.b64encode(msg.replace(b"\r\n", b"\n"))
                 .decode()})


def via_smtplib(sender, rcpts, subject, body, body8=False, extra=b""):
    token = "t" + uuid.uuid4().hex
    msg = message(token, sender or "MAILER-DAEMON@client.example.net",
                  rcpts, subject, body, extra)
    with smtplib.SMTP("127.0.0.1", PORT, local_hostname=HELO,
                      timeout=30) as s:
        s.ehlo(HELO)
        opts = ["BODY=8BITMIME"] if body8 else []
        refused = s.sendmail(sender, rcpts, msg, mail_options=opts)
        if refused:
            sys.exit("refused: %r" % (refused,))
    record(token, sender, rcpts, msg, body8)


def via_swaks(sender, rcpts, subject, body):
    token = "t" + uuid.uuid4().hex
    msg = message(token, sender or "MAILER-DAEMON@client.example.net",
                  rcpts, subject, body)
    path = "/tmp/smtpfe-e2e-swaks-%s.eml" % token
    # swaks always sends CRLF "." CRLF after the data: without our last
    # CRLF the message arrives exactly as recorded.
    with open(path, "wb") as f:
        f.write(msg[:-2] if msg.endswith(b"\r\n") else msg)
    cmd = ["swaks", "--server", "127.0.0.1", "--port", str(PORT),
           "--helo", HELO, "--from", sender or "<>",
           "--to", ",".join(rcpts), "--data", "@" + path, "--silent", "2",
           "--timeout", "30"]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        sys.exit("swaks failed (%d): %s" % (r.returncode,
                                            r.stdout.decode("latin-1")))
    subprocess.run(["rm", "-f", path], check=True)
    record(token, sender, rcpts, msg)


DOTS = (b"first line\r\n"
        b".\r\n"
        b"..\r\n"
        b". leading dot and space\r\n"
        b".hidden dot line\r\n"
        b"a line with trailing blanks  \r\n"
        b"\r\n"
        b"\r\n"
        b"last line\r\n")
EIGHT = (b"Caf\xc3\xa9 cr\xc3\xa8me br\xc3\xbbl\xc3\xa9e\r\n"
         b"latin-1 octets: \xe9\xe8\xff\xa0 end\r\n"
         b".\r\n"
         b"\xe2\x82\xac 100\r\n")
EIGHT_HDR = (b"MIME-Version: 1.0\r\n"
             b"Content-Type: text/plain; charset=utf-8\r\n"
             b"Content-Transfer-Encoding: 8bit\r\n")
LONG = b"".join(b"%06d " % i + b"x" * 900 + b"\r\n" for i in range(2000))

via_smtplib("a@example.net", ["rcpt1@example.org"], "dots", DOTS)
via_smtplib("a@example.net", ["rcpt1@example.org", "rcpt2@example.org"],
            "eight bit", EIGHT, body8=True, extra=EIGHT_HDR)
via_smtplib("", ["rcpt2@example.org"], "null sender", DOTS)
via_smtplib("big@example.net", ["rcpt2@example.org"], "big", LONG)
via_swaks("b@example.net", ["rcpt1@example.org"], "swaks",
          b"sent by swaks\r\nsecond line\r\n")
via_swaks("", ["rcpt1@example.org"], "swaks null sender",
          b"bounce-like\r\n")

with open(sys.argv[2], "w") as f:
    json.dump(sent, f)
print("sent %d messages" % len(sent))
