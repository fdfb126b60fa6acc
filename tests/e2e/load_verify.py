#!/usr/bin/env python3
"""load_verify.py MANIFEST MAILDIR - every token delivered exactly once,
its SHA-256 intact, and nothing else in the mailboxes."""
import hashlib
import json
import re
import sys

manifest = json.load(open(sys.argv[1]))
seen = {}
errors = []
TOKEN = re.compile(rb"\nX-E2E-Token: ([^\n]+)\n")
for user in sorted({u for _, u in manifest.values()}):
    data = open("%s/%s" % (sys.argv[2], user), "rb").read()
    starts = [m.start() for m in re.finditer(rb"(?m)^From ", data)]
    starts.append(len(data))
    for a, b in zip(starts, starts[1:]):
        part = data[a:b]
        m = TOKEN.search(part)
        if m is None:
            errors.append("%s: a message without a token at %d" % (user, a))
            continue
        tok = m.group(1).decode()
        seen[tok] = seen.get(tok, 0) + 1
        # The message runs from its first header (the token) to the
        # blank line mbox puts before the next From_ line.
        msg = part[m.start() + 1:]
        if msg.endswith(b"\n\n"):
            msg = msg[:-1]
        want = manifest.get(tok)
        if want is None:
            errors.append("%s: unknown token %s" % (user, tok))
        elif hashlib.sha256(msg).hexdigest() != want[0]:
            errors.append("%s: %s: checksum differs" % (user, tok))
        elif want[1] != user:
            errors.append("%s: %s: wrong mailbox" % (user, tok))
for tok in manifest:
    if seen.get(tok, 0) != 1:
        errors.append("%s delivered %d times" % (tok, seen.get(tok, 0)))
for e in errors[:20]:
    print("FAIL:", e)
if errors:
    print("FAIL: %d problems" % len(errors))
    sys.exit(1)
print("verified %d messages, each delivered once, checksums intact"
      % len(manifest))
