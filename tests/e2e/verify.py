#!/usr/bin/env python3
"""verify.py [--wait SECONDS] MANIFEST MAILDIR NULL_RETURN_PATH - check
the delivered mail (waiting at most SECONDS for it to arrive).

For every message in MANIFEST (send.py) and every recipient: the mbox
MAILDIR/USER holds it exactly once, byte for byte as sent, right after
our Received: header; Return-Path is the envelope sender (for the null
sender: NULL_RETURN_PATH, what that MTA's local delivery writes); no
X-Authentication-Warning and no Sender: added.  No mailbox holds anything
else.
"""
import base64
import json
import re
import sys
import time

args = sys.argv[1:]
wait = 0
if args[0] == "--wait":
    wait = int(args[1])
    args = args[2:]
manifest = json.load(open(args[0]))
maildir = args[1]
null_rp = args[2]
errors = []


def arrived():
    """1 when every recipient's mailbox holds every token."""
    for m in manifest:
        for r in m["rcpts"]:
            try:
                data = open("%s/%s" % (maildir, r.split("@")[0]), "rb").read()
            except OSError:
                return 0
            if b"\nX-E2E-Token: " + m["token"].encode() + b"\n" not in data:
                return 0
    return 1


deadline = time.monotonic() + wait
while not arrived() and time.monotonic() < deadline:
    time.sleep(0.2)
time.sleep(0.5 if wait else 0)  # a duplicate would come right behind
RECEIVED = re.compile(
    rb"Received: from client\.example\.net \(client\.example\.net "
    rb"\[127\.0\.0\.1\]\)\n\s+by smtpfe\.example\.org \(smtpfe\) with ESMTP "
    rb"id [0-9a-f.]+\n\s+for <[^>]+>; [A-Z][a-z][a-z], \d+ [A-Z][a-z][a-z] "
    rb"\d{4} \d\d:\d\d:\d\d \+0000\n$")


def messages(user):
    data = open("%s/%s" % (maildir, user), "rb").read()
    parts = re.split(rb"(?m)^From [^\n]*\n", data)
    if parts and parts[0] == b"":
        parts = parts[1:]
    elif parts:
        errors.append("%s: mbox does not start with From_" % user)
    return parts


boxes = {}
for m in manifest:
    for r in m["rcpts"]:
        user = r.split("@")[0]
        if user not in boxes:
            boxes[user] = messages(user)
expected = {u: 0 for u in boxes}
for m in manifest:
    orig = base64.b64decode(m["orig"])
    tok = m["token"].encode()
    for r in m["rcpts"]:
        user = r.split("@")[0]
        expected[user] += 1
        hits = [p for p in boxes[user]
                if b"\nX-E2E-Token: " + tok + b"\n" in p]
        if len(hits) != 1:
            errors.append("%s: token %s delivered %d times"
                          % (user, m["token"], len(hits)))
            continue
        p = hits[0]
        i = p.find(orig)
        if i < 0:
            errors.append("%s: %s: message not intact" % (user, m["token"]))
            continue
        if p[i + len(orig):] not in (b"", b"\n"):
            errors.append("%s: %s: text after the message: %r"
                          % (user, m["token"], p[i + len(orig):][:80]))
        head = p[:i]
        j = head.rfind(b"Received: from client.example.net")
        if j < 0 or not RECEIVED.search(head[j:]):
            errors.append("%s: %s: our Received: header is not right "
                          "before the message: %r"
                          % (user, m["token"], head[-300:]))
        # Header names are case-insensitive (Exim writes "Return-path").
        rp = re.findall(rb"(?im)^Return-Path: ([^\n]*)$", head)
        want = ("<%s>" % m["sender"]) if m["sender"] else null_rp
        if rp != [want.encode()]:
            errors.append("%s: %s: Return-Path %r, want %r"
                          % (user, m["token"], rp, want))
        if re.search(rb"(?im)^X-Authentication-Warning:", head):
            errors.append("%s: %s: X-Authentication-Warning present"
                          % (user, m["token"]))
        # An MTA that distrusts the caller's -f adds Sender: (Exim).
        if re.search(rb"(?im)^Sender:", head):
            errors.append("%s: %s: Sender: header added"
                          % (user, m["token"]))
for user, parts in boxes.items():
    if len(parts) != expected[user]:
        errors.append("%s: %d messages in the mailbox, want %d"
                      % (user, len(parts), expected[user]))
for e in errors:
    print("FAIL:", e)
if errors:
    sys.exit(1)
print("verified %d messages, %d deliveries" % (len(manifest),
                                                sum(expected.values())))
