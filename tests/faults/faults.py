#!/usr/bin/env python3
"""faults.py - failed system calls and a full file system while spooling.

  faults.py matrix  --bin SMTPFE --shim failshim.so [--spoolcheck BIN]
  faults.py fullfs  --bin SMTPFE [--spoolcheck BIN]        (root: mounts)

matrix: for each errno (ENOSPC, EIO) and each call kind (open, write,
fsync, rename, close, any), for N = 1, 2, ... until a run in which the
shim injected nothing (then once more for short writes, which must not
matter at all): one session under "smtpfe -l" with the shim
preloaded, where the Nth counted call fails.  The client must get
451 4.3.0 (EIO) or 452 4.3.1 (ENOSPC) -- at DATA when the temporary file
cannot be created, after the final dot otherwise -- never 250; the next
transaction of the same session must be accepted; afterwards new/ holds
only that second message and tmp/ is empty.

fullfs: the spool is a 2 MiB tmpfs.  A 3 MB message gets 452 4.3.1 and
leaves nothing behind, a small one is then accepted; SIZE= over the free
space and min_free_space over the free space both get 452 4.3.1 at MAIL.
"""

import argparse
import os
import pwd
import stat
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True
import ftlib  # noqa: E402
from ftlib import fail  # noqa: E402

PORT_MATRIX = 25600
PORT_FULLFS = 25601

EXPECT = {"EIO": (451, "4.3.0"), "ENOSPC": (452, "4.3.1")}
KINDS = ("open", "write", "fsync", "rename", "close", "any")
# A short write is no error: the message must go through whole.
# Calls one accepted ~100 KB message makes at least (tmp file and new/):
# a kind that counts fewer means the shim no longer sees smtpfe's calls.
MIN_CALLS = {"open": 2, "write": 2, "fsync": 2, "rename": 1, "close": 2,
             "any": 9, "short": 2}
BIG = 100 * 1024
SMALL = 4 * 1024
N_CAP = 400


def check_new(args, spool, want, label):
    """new/ must hold exactly one file: WANT's spooled form at the end."""
    names = ftlib.listdir(spool, "new")
    if len(names) != 1:
        fail("%s: new/ holds %d files, expected 1: %s" %
             (label, len(names), names))
    path = os.path.join(spool, "new", names[0])
    st = os.lstat(path)
    if st.st_mode & 0o7777 != 0o600 or not stat.S_ISREG(st.st_mode):
        fail("%s: new/%s has mode %o, expected a file of mode 0600" %
             (label, names[0], st.st_mode))
    if ftlib.is_root() and st.st_uid != pwd.getpwnam("nobody").pw_uid:
        fail("%s: new/%s is owned by uid %d, not nobody" %
             (label, names[0], st.st_uid))
    with open(path, "rb") as f:
        data = f.read()
    if not data.endswith(ftlib.spooled_body(want)):
        fail("%s: new/%s does not end with the message sent" %
             (label, names[0]))
    if args.spoolcheck:
        r = subprocess.run([args.spoolcheck, path], stdout=subprocess.PIPE,
                           universal_newlines=True)
        if r.returncode != 0:
            fail("%s: spoolcheck: %s" % (label, r.stdout.strip()))
    os.unlink(path)


def check_reply(label, got, errname):
    code, enh = EXPECT[errname]
    if got[0] != code or not got[1].startswith("%d %s " % (code, enh)):
        fail("%s: expected %d %s, got %r" % (label, code, enh, got[1]))


def transaction(c, msg):
    """MAIL, RCPT, DATA and the message: (reply to DATA or the dot, phase)."""
    c.expect("MAIL FROM:<a@example.net>", 250)
    c.expect("RCPT TO:<x@example.org>", 250)
    got = c.cmd("DATA")
    if got[0] != 354:
        return got, "DATA"
    c.send(msg + b".\r\n")
    return c.reply(), "dot"


def injections(report):
    try:
        with open(report) as f:
            return [ln.split() for ln in f if ln.startswith("inject ")]
    except FileNotFoundError:
        return []


def run_one(args, work, spool, conf, kind, errname, n):
    """One session with the Nth KIND call failing; the injected call or None."""
    report = os.path.join(work, "report")
    if os.path.exists(report):
        os.unlink(report)
    label = "%s %s N=%d" % (errname, kind, n)
    env = {"LD_PRELOAD": args.shim, "FAIL_CALL": kind, "FAIL_AT": str(n),
           "FAIL_ERRNO": errname, "FAIL_REPORT": report}
    srv = ftlib.Server(args.bin, conf, PORT_MATRIX, env,
                       os.path.join(work, "server.log"))
    try:
        tok1, tok2 = "tokA%s%s%d" % (errname, kind, n), \
            "tokB%s%s%d" % (errname, kind, n)
        msg1, msg2 = ftlib.message(tok1, BIG), ftlib.message(tok2, SMALL)
        c = ftlib.Client(PORT_MATRIX)
        if c.reply()[0] != 220:
            fail("%s: no greeting" % label)
        c.expect("EHLO client.example.net", 250)
        got, phase = transaction(c, msg1)
        inj = injections(report)
        if len(inj) > 1:
            fail("%s: the shim injected %d failures" % (label, len(inj)))
        if not inj or kind == "short":
            if got[0] != 250:
                fail("%s: nothing injected, yet %r" % (label, got[1]))
            c.expect("QUIT", 221)
            c.wait_eof()
            c.close()
            srv.wait_children()
            check_new(args, spool, msg1, label)
            return (inj[0], phase) if inj else None
        check_reply("%s (at %s, %s)" % (label, phase, " ".join(inj[0][1:3])),
                    got, errname)
        if phase == "DATA":
            if inj[0][1] != "open" or not inj[0][-1].startswith("tmp/"):
                fail("%s: DATA refused, but the failure was %s" %
                     (label, inj[0]))
            c.expect("RSET", 250)
        got2, phase2 = transaction(c, msg2)
        if got2[0] != 250:
            fail("%s: the next transaction got %r (at %s)" %
                 (label, got2[1], phase2))
        c.expect("QUIT", 221)
        c.wait_eof()
        c.close()
        srv.wait_children()
        check_new(args, spool, msg2, label)
        return inj[0], phase
    finally:
        srv.stop()
        left = ftlib.listdir(spool, "tmp")
        if left:
            fail("%s: tmp/ not empty after the session: %s" % (label, left))


def guarded(work, fn, *a):
    """FN(*A); any failure names the case and keeps WORK for a look."""
    try:
        return fn(*a)
    except ftlib.TestFailure as e:
        fail("%s (kept %s)" % (e, work))
    except (EOFError, OSError) as e:
        fail("%s %s N=%s: %r (kept %s)" % (a[5], a[4], a[6], e, work))


def matrix(args):
    work = ftlib.tempdir("smtpfe-faults.")
    spool = os.path.join(work, "spool")
    conf = os.path.join(work, "smtpfe.conf")
    ftlib.make_spool(spool)
    ftlib.write_conf(conf, spool)
    t0 = time.monotonic()
    runs = 0
    table = []
    for errname in ("ENOSPC", "EIO"):
        for kind in KINDS:
            n = 1
            phases = {}
            while True:
                if n > N_CAP:
                    fail("%s %s: still injecting at N=%d" %
                         (errname, kind, n))
                r = guarded(work, run_one, args, work, spool, conf, kind,
                            errname, n)
                runs += 1
                if r is None:
                    break
                key = "%s@%s" % (r[0][1], r[1])
                phases[key] = phases.get(key, 0) + 1
                n += 1
            if n - 1 < MIN_CALLS[kind]:
                fail("%s %s: only %d calls counted, expected at least %d" %
                     (errname, kind, n - 1, MIN_CALLS[kind]))
            table.append((errname, kind, n, phases))
            print("faults: %-6s %-6s N=1..%-3d %d failures injected, "
                  "all refused %s, next message accepted; one clean run "
                  "(250) [%s]" % (errname, kind, n, n - 1,
                                  "%d %s" % EXPECT[errname],
                                  ", ".join("%s %d" % kv for kv in
                                            sorted(phases.items()))))
            sys.stdout.flush()
    n = 1
    while True:
        if n > N_CAP:
            fail("short: still injecting at N=%d" % n)
        r = guarded(work, run_one, args, work, spool, conf, "short", "EIO",
                    n)
        runs += 1
        if r is None:
            break
        n += 1
    if n - 1 < MIN_CALLS["short"]:
        fail("short: only %d writes counted" % (n - 1))
    print("faults: short writes N=1..%d: each message accepted (250) and "
          "spooled whole" % n)
    print("faults: matrix PASSED: %d sessions in %.1f s" %
          (runs, time.monotonic() - t0))
    ftlib.rmtree(work)


def df_avail(path):
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def fullfs(args):
    if not ftlib.is_root():
        fail("fullfs: needs root (it mounts a tmpfs)")
    work = ftlib.tempdir("smtpfe-fullfs.")
    mnt = os.path.join(work, "spool")
    conf = os.path.join(work, "smtpfe.conf")
    os.mkdir(mnt)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m,mode=0755",
                    "tmpfs", mnt], check=True)
    try:
        fullfs_run(args, work, mnt, conf)
    except (EOFError, OSError) as e:
        fail("fullfs: %r" % (e,))
    finally:
        for _ in range(50):
            if subprocess.run(["umount", mnt]).returncode == 0:
                break
            time.sleep(0.1)
        else:
            subprocess.run(["umount", "-l", mnt])
            fail("fullfs: could not unmount %s" % mnt)
        ftlib.rmtree(work)


def fullfs_session(args, conf, mnt, log):
    srv = ftlib.Server(args.bin, conf, PORT_FULLFS, None, log)
    try:
        c = ftlib.Client(PORT_FULLFS)
        if c.reply()[0] != 220:
            fail("fullfs: no greeting")
        c.expect("EHLO client.example.net", 250)
        return srv, c
    except BaseException:
        srv.stop()
        raise


def fullfs_run(args, work, mnt, conf):
    log = os.path.join(work, "server.log")
    ftlib.make_spool(mnt)
    ftlib.write_conf(conf, mnt, min_free_space=0)
    free0 = df_avail(mnt)
    big = ftlib.message("tokFULL", 3 * 1000 * 1000)
    small = ftlib.message("tokSMALL", 2048)

    srv, c = fullfs_session(args, conf, mnt, log)
    try:
        got, phase = transaction(c, big)
        if phase != "dot":
            fail("fullfs: DATA refused: %r" % (got[1],))
        check_reply("fullfs: 3 MB into 2 MiB", got, "ENOSPC")
        if ftlib.listdir(mnt, "new") or ftlib.listdir(mnt, "tmp"):
            fail("fullfs: left behind: new/ %s tmp/ %s" %
                 (ftlib.listdir(mnt, "new"), ftlib.listdir(mnt, "tmp")))
        got, phase = transaction(c, small)
        if got[0] != 250:
            fail("fullfs: the small message after the full one got %r" %
                 (got[1],))
        check_new(args, mnt, small, "fullfs")
        # SIZE= over the free space: refused at MAIL.
        got = c.cmd("MAIL FROM:<a@example.net> SIZE=%d" % len(big))
        check_reply("fullfs: MAIL SIZE=%d" % len(big), got, "ENOSPC")
        c.expect("QUIT", 221)
        c.wait_eof()
        c.close()
        srv.wait_children()
    finally:
        srv.stop()
    if ftlib.listdir(mnt, "tmp"):
        fail("fullfs: tmp/ not empty: %s" % ftlib.listdir(mnt, "tmp"))
    free1 = df_avail(mnt)
    if free1 < free0 - 64 * 1024:
        fail("fullfs: space did not come back: %d then %d" % (free0, free1))
    print("fullfs: 3 MB message into a 2 MiB tmpfs: 452 4.3.1, new/ and "
          "tmp/ empty; next message 250; MAIL SIZE=%d: 452 4.3.1" % len(big))

    # min_free_space above what is free: every MAIL is refused.
    ftlib.write_conf(conf, mnt, min_free_space=4 * 1024 * 1024)
    srv, c = fullfs_session(args, conf, mnt, log)
    try:
        got = c.cmd("MAIL FROM:<a@example.net>")
        check_reply("fullfs: min_free_space 4 MiB on 2 MiB", got, "ENOSPC")
        c.expect("QUIT", 221)
        c.wait_eof()
        c.close()
        srv.wait_children()
    finally:
        srv.stop()
    print("fullfs: min_free_space = 4194304 on a 2 MiB spool: MAIL gets "
          "452 4.3.1")
    print("fullfs PASSED")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=("matrix", "fullfs"))
    ap.add_argument("--bin", required=True)
    ap.add_argument("--shim")
    ap.add_argument("--spoolcheck")
    args = ap.parse_args()
    args.bin = os.path.abspath(args.bin)
    if args.what == "matrix":
        if not args.shim:
            ap.error("matrix needs --shim")
        args.shim = os.path.abspath(args.shim)
        if not os.path.exists(args.shim):
            fail("no shim at %s" % args.shim)
    if args.spoolcheck:
        args.spoolcheck = os.path.abspath(args.spoolcheck)
    try:
        if args.what == "matrix":
            matrix(args)
        else:
            fullfs(args)
    except ftlib.TestFailure as e:
        print("FAILED: %s" % e, file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
