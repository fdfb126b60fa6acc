#!/usr/bin/env python3
"""summary.py - make bench's one summary line from the parts' outputs.

make bench runs bench/bench.py and the workloads that issues added
(bench/tls_bench.py, bench/dnsbl_bench.py, bench/sustained_bench.py),
each into a file of its own.  Each part ends with its figures as
KEY=VALUE words: bench.py on a line that starts with "bench: ", the
others on lines made of nothing else.  This prints every part's output
but those lines, then the single line

    bench: KEY=VALUE KEY=VALUE ...

with the keys in the order the parts were given.  A part that printed no
figure makes the run fail (exit 1), so that a summary line never hides a
workload that did not run.
"""

import re
import sys

WORD = re.compile(r"^[a-z][a-z0-9_]*=\S+$")


def figures(line):
    """The KEY=VALUE words of a summary line, or None for any other."""
    text = line[len("bench: "):] if line.startswith("bench: ") else line
    words = text.split()
    if words and all(WORD.match(w) for w in words):
        return words
    return None


def main(paths):
    keys = {}
    missing = []
    for path in paths:
        found = []
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                line = line.rstrip("\n")
                words = figures(line)
                if words is None:
                    print(line)
                else:
                    found.extend(words)
        if not found:
            missing.append(path)
        for w in found:
            keys.setdefault(w.split("=", 1)[0], w)
    if missing:
        print("bench: no figures from %s" % ", ".join(missing),
              file=sys.stderr)
    print("bench: " + " ".join(keys.values()))
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
