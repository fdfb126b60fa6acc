#!/usr/bin/env python3
"""
calls.py - the system calls an "strace -f -o LOG" of smtpfe shows after
the privilege drop's proof (the setuid(0) that must fail), i.e. from the
sandbox on; with -a, every call of the log.  Prints "count name" lines
and any signal or kill the log shows.

usage: calls.py [-a] LOG...
"""
import re
import sys

CALL = re.compile(r"^(\d+)\s+(?:<\.\.\. )?([a-z_0-9]+)[( ]")


def main(argv):
    every = "-a" in argv
    counts = {}
    events = []
    for path in [a for a in argv[1:] if a != "-a"]:
        on = set()
        with open(path, errors="replace") as f:
            for line in f:
                m = CALL.match(line)
                pid = line.split()[0] if line.strip() else ""
                if "+++" in line or "---" in line:
                    if pid in on or every:
                        events.append("%s: %s" % (path, line.strip()))
                    continue
                if m is None or "resumed>" in line:
                    continue
                if m.group(2) == "setuid" and "setuid(0)" in line:
                    on.add(pid)
                    continue
                if pid in on or every:
                    counts[m.group(2)] = counts.get(m.group(2), 0) + 1
    for name, n in sorted(counts.items(), key=lambda kv: -kv[1]):
        print("%6d %s" % (n, name))
    for e in events:
        print(e)


if __name__ == "__main__":
    main(sys.argv)
