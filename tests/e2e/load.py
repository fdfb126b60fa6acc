#!/usr/bin/env python3
"""load.py PORT N_CLIENTS N_MSGS SIZE MANIFEST - the volume attack, scaled.

N_CLIENTS concurrent SMTP clients, each sending N_MSGS messages of about
SIZE octets over one connection, alternately to rcpt1 and rcpt2.  Every
message has a unique X-E2E-Token; MANIFEST gets, per token, the SHA-256
of the message as the MTA must deliver it (LF line ends) and the user.
Prints the acceptance time.
"""
import base64
import hashlib
import json
import os
import smtplib
import sys
import threading
import time

PORT, NC, NM, SIZE = (int(a) for a in sys.argv[1:5])
out = {}
lock = threading.Lock()
failures = []


def body(size):
    raw = base64.b64encode(os.urandom(size * 3 // 4 + 3))
    lines = [raw[i:i + 76] for i in range(0, len(raw), 76)]
    return b"\r\n".join(lines)[:size - 2] + b"\r\n"


def client(c):
    try:
        with smtplib.SMTP("127.0.0.1", PORT, local_hostname="client.example.net",
                          timeout=120) as s:
            for m in range(NM):
                tok = "L%03d-%03d-%s" % (c, m, os.urandom(6).hex())
                user = "rcpt%d" % (1 + (c + m) % 2)
                msg = (b"X-E2E-Token: " + tok.encode() + b"\r\n"
                       b"From: load@example.net\r\n"
                       b"To: " + user.encode() + b"@example.org\r\n"
                       b"Subject: load " + tok.encode() + b"\r\n"
                       b"Date: Sat, 28 Nov 2026 15:04:05 +0000\r\n"
                       b"Message-ID: <" + tok.encode() + b"@example.net>\r\n"
                       b"\r\n" + body(SIZE))
                s.sendmail("load@example.net", [user + "@example.org"], msg)
                h = hashlib.sha256(msg.replace(b"\r\n", b"\n")).hexdigest()
                with lock:
                    out[tok] = [h, user]
    except Exception as e:  # noqa: BLE001 - report every client's failure
        with lock:
            failures.append("client %d: %r" % (c, e))


t0 = time.monotonic()
threads = [threading.Thread(target=client, args=(c,)) for c in range(NC)]
for t in threads:
    t.start()
for t in threads:
    t.join()
elapsed = time.monotonic() - t0
with open(sys.argv[5], "w") as f:
    json.dump(out, f)
for e in failures:
    print("FAIL:", e)
print("accepted %d messages in %.1f s" % (len(out), elapsed))
sys.exit(1 if failures or len(out) != NC * NM else 0)
