#!/usr/bin/env python3
"""
client.py - one SMTP transaction through a launcher, judged exactly.

    client.py --port P --source IP --relay {yes,no} --spool DIR [--tag T]

Connects to 127.0.0.1:P from the local address IP (bound before the
connect, so that the launcher sees IP as the client), then:

    EHLO, MAIL FROM:<sender@example.net>,
    RCPT TO:<far@foreign.example>   250 2.1.5 when --relay yes,
                                    554 5.7.1 when --relay no
    RCPT TO:<near@example.org>      250 2.1.5 (a local domain, anyone)
    DATA, a short message, 250 2.0.0 queued as ID, QUIT 221

and checks the spool file DIR/new/ID: "Client: IP", the Helo, the Sender,
and exactly the recipients that were accepted.  Prints the ID on success;
exits 1 with the reason otherwise.  No DNS: numeric addresses only.

    client.py --port P --source IP --jail USER --spool DIR

instead holds a connection open after the greeting, finds the smtpfe
process on the other end (/proc/net/tcp, then /proc/PID/fd) and checks
that its root directory is DIR and that every uid, gid and group is
USER's; then QUIT.  Probe mode (--probe): greeting and QUIT only.
"""

import argparse
import os
import pwd
import socket
import sys
import time

sys.dont_write_bytecode = True

HELO = "client.example.net"
SENDER = "<sender@example.net>"
FAR = "<far@foreign.example>"
NEAR = "<near@example.org>"


class Failure(Exception):
    pass


class Conn:
    def __init__(self, port, source, timeout):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.bind((source, 0))
        self.sock.connect(("127.0.0.1", port))
        self.buf = b""
        self.log = []

    def line(self):
        while b"\r\n" not in self.buf:
            data = self.sock.recv(4096)
            if not data:
                raise Failure("connection closed; dialogue so far: %r"
                              % self.log)
            self.buf += data
        ln, self.buf = self.buf.split(b"\r\n", 1)
        text = ln.decode("ascii", "replace")
        self.log.append("S: " + text)
        return text

    def reply(self):
        """A whole (multi-line) reply: (code, last line)."""
        while True:
            ln = self.line()
            if len(ln) < 4 or not ln[:3].isdigit() or ln[3] not in " -":
                raise Failure("malformed reply line %r" % ln)
            if ln[3] == " ":
                return ln[:3], ln

    def send(self, text):
        self.log.append("C: " + text)
        self.sock.sendall(text.encode("ascii") + b"\r\n")

    def cmd(self, text, want, enhanced=None):
        self.send(text)
        code, ln = self.reply()
        if code != want:
            raise Failure("%s: got %r, want %s; dialogue: %r"
                          % (text, ln, want, self.log))
        if enhanced is not None and not ln[4:].startswith(enhanced + " "):
            raise Failure("%s: got %r, want enhanced code %s"
                          % (text, ln, enhanced))
        return ln


def transaction(args):
    c = Conn(args.port, args.source, args.timeout)
    code, ln = c.reply()
    if code != "220":
        raise Failure("greeting %r" % ln)
    c.cmd("EHLO " + HELO, "250")
    c.cmd("MAIL FROM:" + SENDER, "250", "2.1.0")
    accepted = []
    if args.relay == "yes":
        c.cmd("RCPT TO:" + FAR, "250", "2.1.5")
        accepted.append(FAR)
    else:
        c.cmd("RCPT TO:" + FAR, "554", "5.7.1")
    c.cmd("RCPT TO:" + NEAR, "250", "2.1.5")
    accepted.append(NEAR)
    c.cmd("DATA", "354")
    c.send("Subject: launcher test %s\r\n\r\nsent from %s\r\n."
           % (args.tag, args.source))
    ln = c.reply()[1]
    if not ln.startswith("250 2.0.0 queued as "):
        raise Failure("end of DATA: %r" % ln)
    sid = ln.split()[-1]
    c.cmd("QUIT", "221", "2.0.0")
    c.sock.close()
    return sid, accepted


def check_spool(args, sid, accepted):
    path = os.path.join(args.spool, "new", sid)
    if os.sep in sid or sid.startswith(".") or not os.path.isfile(path):
        raise Failure("queued as %r but %s is not a file" % (sid, path))
    with open(path, "rb") as f:
        head = f.read().split(b"\n\n", 1)[0].decode("ascii")
    lines = head.split("\n")
    want = ["Smtpfe-Spool: 1", "Client: " + args.source, "Helo: " + HELO,
            "Sender: " + SENDER] + ["Recipient: " + r for r in accepted]
    if lines[:len(want)] != want or len(lines) != len(want) + 1 or \
            not lines[-1].startswith("Arrived: "):
        raise Failure("spool envelope of %s:\n%s\nwanted first:\n%s"
                      % (sid, head, "\n".join(want)))


def tcp_inode(port, lport):
    """The inode of 127.0.0.1:PORT's socket talking to 127.0.0.x:LPORT."""
    with open("/proc/net/tcp") as f:
        for ln in f.read().splitlines()[1:]:
            fields = ln.split()
            local, remote, inode = fields[1], fields[2], fields[9]
            if local == "0100007F:%04X" % port and \
                    remote.endswith(":%04X" % lport):
                return inode
    return None


def socket_owners(inode):
    want = "socket:[%s]" % inode
    pids = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            fds = os.listdir("/proc/%s/fd" % pid)
            for fd in fds:
                if os.readlink("/proc/%s/fd/%s" % (pid, fd)) == want:
                    pids.append(pid)
                    break
        except OSError:
            continue
    return pids


def status_ids(pid):
    ids = {}
    with open("/proc/%s/status" % pid) as f:
        for ln in f:
            key, _, val = ln.partition(":")
            if key in ("Uid", "Gid", "Groups"):
                ids[key] = [int(x) for x in val.split()]
    return ids


def check_jail(args):
    c = Conn(args.port, args.source, args.timeout)
    code, ln = c.reply()
    if code != "220":
        raise Failure("greeting %r" % ln)
    inode = tcp_inode(args.port, c.sock.getsockname()[1])
    if inode is None:
        raise Failure("no server socket for this connection in "
                      "/proc/net/tcp")
    pids = [p for p in socket_owners(inode)
            if open("/proc/%s/comm" % p).read().strip() == "smtpfe"]
    if len(pids) != 1:
        raise Failure("want one smtpfe process on the connection, found %r"
                      % pids)
    pw = pwd.getpwnam(args.jail)
    root = os.readlink("/proc/%s/root" % pids[0])
    ids = status_ids(pids[0])
    if root != os.path.realpath(args.spool):
        raise Failure("session %s: root directory %s, want %s"
                      % (pids[0], root, args.spool))
    if ids["Uid"] != [pw.pw_uid] * 4 or ids["Gid"] != [pw.pw_gid] * 4 or \
            ids["Groups"] != [pw.pw_gid]:
        raise Failure("session %s: ids %r, want all %s (%d:%d)"
                      % (pids[0], ids, args.jail, pw.pw_uid, pw.pw_gid))
    c.cmd("QUIT", "221", "2.0.0")
    return "pid %s root %s uid/gid %s" % (pids[0], root, args.jail)


def probe(args):
    c = Conn(args.port, args.source, args.timeout)
    code, ln = c.reply()
    if code != "220":
        raise Failure("greeting %r" % ln)
    c.cmd("QUIT", "221", "2.0.0")
    return ln


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--relay", choices=("yes", "no"))
    ap.add_argument("--jail", metavar="USER")
    ap.add_argument("--probe", action="store_true")
    ap.add_argument("--spool", required=True)
    ap.add_argument("--tag", default="")
    ap.add_argument("--timeout", type=float, default=20)
    args = ap.parse_args()
    t0 = time.monotonic()
    try:
        if args.probe or args.jail:
            what = probe(args) if args.probe else check_jail(args)
            print("client.py: %s from %s: %s" % (args.tag, args.source,
                                                 what), file=sys.stderr)
            return 0
        if args.relay is None:
            raise Failure("--relay yes|no, --jail or --probe")
        sid, accepted = transaction(args)
        check_spool(args, sid, accepted)
    except (Failure, OSError) as e:
        print("client.py (%s from %s): %s" % (args.tag, args.source, e),
              file=sys.stderr)
        return 1
    print(sid)
    print("client.py: %s from %s: relay=%s ok (%.0f ms)"
          % (args.tag, args.source, args.relay,
             (time.monotonic() - t0) * 1000), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
