#!/usr/bin/env python3
"""bench.py - smtpfe side by side with Postfix and a floor, in one run.

Run by "make bench" (see mk/bench.mk), as root: it starts its own
tcpserver instances and its own Postfix instance (own config, queue and
data directories under the work directory; /etc/postfix is never read for
configuration nor written), all on 127.0.0.1, ports 26000-26099.

Subjects (all fsync an accepted message before they answer 250):
  smtpfe         ./smtpfe under tcpserver started as root, so each session
                 chroots to the spool and drops to "nobody" (the deployment
                 smtpfe(8) shows)
  smtpfe-dynamic  the same sources linked dynamically (STATIC=)
  floor          bench/floor.c under the same tcpserver: the launcher plus
                 the disk, the bound no inetd-style front end can beat
  postfix        Postfix's own master/smtpd/cleanup, its messages put on
                 hold (check_client_access static:HOLD) so that nothing is
                 ever delivered: acceptance alone is measured

The load comes from Postfix's smtp-source.  Each workload is run in
rounds; within a round every subject runs once, in a rotating order, so
that the drift of a shared machine hits them alike.  Ratios are the
median of the per-round ratios.

Server CPU: the launcher's own and its reaped children's times
(/proc/PID/stat utime+stime+cutime+cstime) plus those of every live
descendant, read before and after a run; for Postfix the launcher is
master.  Peak RSS of a session: a separate pass runs each session under
bench/rsswrap, which reads VmHWM as the session exits; for Postfix the
VmHWM of its live smtpd and cleanup processes.  Instructions: one session
under valgrind --tool=callgrind, driven over a socketpair (without the
seccomp sandbox and the chroot, which valgrind cannot follow).  The
recipients pass compares smtpfe's CPU per 1 KB message with a recipients
file of one entry and of 1,000,000 entries (an empty file would refuse
every recipient).

By default the spools and Postfix's queue live on a fresh journaled ext4
in BENCH_WORK/fs.img, loop-mounted for the run (--fs loop); --fs dir
uses the work directory as it is.  "--passes profile" (make
bench-profile) records perf profiles instead.
"""

import argparse
import os
import pwd
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time

HZ = os.sysconf("SC_CLK_TCK")
HOST = "127.0.0.1"
PORTS = {"smtpfe": 26001, "smtpfe-dynamic": 26002, "floor": 26003,
         "postfix": 26004, "rss:smtpfe": 26011, "rss:smtpfe-dynamic": 26012,
         "rss:floor": 26013, "rcpt:small": 26021, "rcpt:big": 26022}
HELO = "bench.example.net"
SENDER = "sender@example.net"
RCPT = "bench@example.org"
MSG_LIMIT = 60000000        # max_message_size / message_size_limit
KB, MB = 1024, 1024 * 1024

# name, title, payload bytes, concurrency, messages per connection,
# connections in full mode, connections in quick mode
WORKLOADS = [
    ("c1", "1 KB, 1 msg/conn, c=1", KB, 1, 1, 600, 150),
    ("c20", "1 KB, 1 msg/conn, c=20", KB, 20, 1, 3000, 800),
    ("m100", "1 KB, 100 msg/conn, c=5", KB, 5, 100, 5, 5),
    ("1mb", "1 MB, 1 msg/conn, c=5", MB, 5, 1, 150, 40),
    ("50mb", "50 MB, one message", 50 * MB, 1, 1, 1, 1),
]
SUBJECTS = ["smtpfe", "smtpfe-dynamic", "floor", "postfix"]
WORKLOADS_ALL = list(WORKLOADS)


def log(*a):
    print("bench:", *a, file=sys.stderr, flush=True)


# On the fresh journaled file system (--fs loop) each run's messages are
# removed after it (and os.sync() before the next run writes the removal
# out); on a file system without a journal they stay until the end, see
# remove_spools().
CLEAN_EACH_RUN = False
STARTED = []            # tcpserver Popens and Postfix top dirs to stop


def cleanup():
    while STARTED:
        x = STARTED.pop()
        if isinstance(x, tuple):        # ("umount", mount point)
            subprocess.run(["umount", x[1]], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        elif isinstance(x, str):
            subprocess.run(postfix_cmd(x, "stop"), stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        elif x.poll() is None:
            x.send_signal(signal.SIGTERM)
            try:
                x.wait(timeout=10)
            except subprocess.TimeoutExpired:
                x.kill()
                x.wait()


def die(msg):
    log("FAILED:", msg)
    cleanup()
    sys.exit(1)


def run(cmd, **kw):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, **kw)
    if r.returncode != 0:
        die("%s: exit %d: %s" % (" ".join(cmd), r.returncode,
                                 r.stdout.strip()))
    return r.stdout


# ---------------------------------------------------------------- /proc

def proc_table():
    """pid -> (ppid, cpu ticks: utime+stime+cutime+cstime)"""
    t = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                s = f.read()
        except OSError:
            continue
        f = s[s.rindex(")") + 2:].split()
        # f[0] is field 3 (state): ppid is field 4, utime..cstime 14..17
        t[int(d)] = (int(f[1]), sum(int(x) for x in f[11:15]))
    return t


def descendants(root, table=None):
    table = table if table is not None else proc_table()
    kids = {}
    for pid, (ppid, _) in table.items():
        kids.setdefault(ppid, []).append(pid)
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out, table


def tree_ticks(root):
    """CPU ticks of ROOT, its reaped children and every live descendant"""
    pids, table = descendants(root)
    return sum(table[p][1] for p in pids if p in table)


def status_kib(pid, key):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def comm(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return ""


# ---------------------------------------------------------------- setup

def wait_port(port, what, seconds=10):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            s = socket.create_connection((HOST, port), timeout=1)
            s.settimeout(2)
            banner = s.recv(512)
            s.close()
            if banner.startswith(b"220"):
                return
        except OSError:
            pass
        time.sleep(0.05)
    die("%s does not answer on %s:%d" % (what, HOST, port))


def make_spool(path, owner):
    for d in ("tmp", "new", "failed"):
        os.makedirs(os.path.join(path, d), exist_ok=True)
        os.chown(os.path.join(path, d), owner.pw_uid, owner.pw_gid)
        os.chmod(os.path.join(path, d), 0o700)


def write_file(path, text):
    with open(path, "w") as f:
        f.write(text)


class Subject:
    """one server under test: its root pid and where its messages land"""

    def __init__(self, name, port, root_pid, queue_dirs, proc=None):
        self.name, self.port, self.pid = name, port, root_pid
        self.queue_dirs = queue_dirs   # accepted messages appear here
        self.proc = proc               # a Popen we own, if any
        self.base = 0

    def clean(self):
        """remove every accepted message (and temporary file)"""
        for d in self.queue_dirs + [os.path.join(os.path.dirname(d), "tmp")
                                    for d in self.queue_dirs
                                    if d.endswith("/new")]:
            if os.path.isdir(d):
                for n in os.listdir(d):
                    os.unlink(os.path.join(d, n))
        self.base = 0

    def files(self):
        return sum(len(os.listdir(d)) for d in self.queue_dirs)

    def mark(self):
        self.base = self.files()

    def count(self):
        """messages accepted since mark()"""
        return self.files() - self.base

    def quiesce(self, postfix=False):
        """wait until the sessions are over: tcpserver has no child left.
        Postfix keeps its processes; its messages are in hold/ already."""
        if postfix:
            time.sleep(0.05)
            return
        end = time.monotonic() + 5
        while time.monotonic() < end:
            pids, table = descendants(self.pid)
            if len(pids) == 1:
                return
            time.sleep(0.005)
        die("%s: sessions still running 5 s after the client finished"
            % self.name)


def port_free(port, what):
    try:
        socket.create_connection((HOST, port), timeout=1).close()
    except OSError:
        return
    die("%s: port %d is already in use" % (what, port))


def tcpserver(name, port, argv, env=None):
    port_free(port, name)
    cmd = ["tcpserver", "-R", "-H", "-l", "0", "-c", "100", HOST,
           str(port)] + argv
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, env=env)
    STARTED.append(p)
    wait_port(port, name)
    return p


def smtpfe_conf(work, name, recipients=None):
    top = os.path.join(work, name)
    spool = os.path.join(top, "spool")
    make_spool(spool, pwd.getpwnam("nobody"))
    conf = os.path.join(top, "smtpfe.conf")
    text = ("# %s: written by bench/bench.py\n"
            "hostname = mx.example.org\n"
            "spool = %s\n"
            "user = nobody\n"
            "local_domains = example.org\n"
            "max_message_size = %d\n" % (name, spool, MSG_LIMIT))
    if recipients:
        text += "recipients = %s\n" % recipients
    write_file(conf, text)
    return conf, spool


def check_conf(smtpfe, conf):
    r = subprocess.run([smtpfe, "-n", "-f", conf], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        die("smtpfe -n -f %s: %s" % (conf, r.stdout.strip()))


def start_smtpfe(args, name, binary, port=None, wrap=None, recipients=None):
    conf, spool = smtpfe_conf(args.work, name, recipients)
    check_conf(binary, conf)
    argv = [binary, "-f", conf]
    if wrap:
        argv = [args.rsswrap, wrap] + argv
    p = tcpserver(name, port or PORTS[name], argv)
    return Subject(name, port or PORTS[name], p.pid,
                   [os.path.join(spool, "new")], p)


def start_floor(args, name="floor", port=None, wrap=None):
    spool = os.path.join(args.work, name, "spool")
    make_spool(spool, pwd.getpwuid(0))
    argv = [args.floor, spool]
    if wrap:
        argv = [args.rsswrap, wrap] + argv
    p = tcpserver(name, port or PORTS[name], argv)
    return Subject(name, port or PORTS[name], p.pid,
                   [os.path.join(spool, "new")], p)


POSTFIX_MASTER = """\
# written by bench/bench.py: a private instance, chroot off (column 5 "n")
{listen} inet n - n - - smtpd
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
postlog   unix-dgram n  -       n       -       1       postlogd
"""

POSTFIX_MAIN = """\
# written by bench/bench.py: a private Postfix instance for the benchmark.
# Every message is accepted, fsynced by cleanup into hold/ and never
# delivered; no DNS, no reverse look-up of the client.
compatibility_level = 3.6
config_directory = {top}/etc
queue_directory = {top}/queue
data_directory = {top}/data
syslog_name = postfix-bench
{maillog}myhostname = mx.example.org
mydomain = example.org
myorigin = example.org
mydestination = example.org
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
local_recipient_maps =
alias_maps =
alias_database =
biff = no
smtpd_peername_lookup = no
smtp_dns_support_level = disabled
smtpd_recipient_restrictions = check_client_access static:HOLD
message_size_limit = {limit}
"""


def postfix_cmd(top, verb):
    return ["postfix", "-c", os.path.join(top, "etc"), verb]


def start_postfix(args, debug_log=False):
    top = os.path.join(args.work, "postfix")
    if os.path.exists(os.path.join(top, "queue", "pid", "master.pid")):
        subprocess.run(postfix_cmd(top, "stop"), stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    shutil.rmtree(top, ignore_errors=True)
    for d in ("etc", "queue", "data"):
        os.makedirs(os.path.join(top, d))
    pf = pwd.getpwnam("postfix")
    os.chown(os.path.join(top, "data"), pf.pw_uid, pf.pw_gid)
    maillog = "maillog_file = %s/maillog\n" % top if debug_log else ""
    write_file(os.path.join(top, "etc", "main.cf"), POSTFIX_MAIN.format(
        top=top, maillog=maillog, limit=MSG_LIMIT))
    write_file(os.path.join(top, "etc", "master.cf"), POSTFIX_MASTER.format(
        listen="%s:%d" % (HOST, PORTS["postfix"])))
    port_free(PORTS["postfix"], "postfix")
    STARTED.append(top)
    r = subprocess.run(postfix_cmd(top, "start"), stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        if not debug_log:
            log("postfix did not start; again with maillog_file for why")
            return start_postfix(args, debug_log=True)
        msg = r.stdout
        try:
            with open(os.path.join(top, "maillog")) as f:
                msg += f.read()
        except OSError:
            pass
        die("postfix -c %s/etc start: %s" % (top, msg.strip()))
    wait_port(PORTS["postfix"], "postfix")
    with open(os.path.join(top, "queue", "pid", "master.pid")) as f:
        pid = int(f.read().strip())
    return Subject("postfix", PORTS["postfix"], pid,
                   [os.path.join(top, "queue", "hold")])


def stop_postfix(args):
    """postfix stop, and wait for master to be gone"""
    top = os.path.join(args.work, "postfix")
    try:
        with open(os.path.join(top, "queue", "pid", "master.pid")) as f:
            pid = int(f.read().strip())
    except (OSError, ValueError):
        pid = None
    subprocess.run(postfix_cmd(top, "stop"), stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    if top in STARTED:
        STARTED.remove(top)
    end = time.monotonic() + 10
    while pid and os.path.exists("/proc/%d" % pid) and \
            time.monotonic() < end:
        time.sleep(0.05)


def stop(subject):
    if subject.proc in STARTED:
        STARTED.remove(subject.proc)
    if subject.proc is not None:
        subject.proc.send_signal(signal.SIGTERM)
        try:
            subject.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            subject.proc.kill()
            subject.proc.wait()


# ---------------------------------------------------------------- load

def source_cmds(port, size, conc, per_conn, conns):
    base = ["smtp-source", "-4", "-M", HELO, "-f", SENDER, "-t", RCPT,
            "-l", str(size)]
    target = "%s:%d" % (HOST, port)
    if per_conn == 1:
        return [base + ["-s", str(conc), "-m", str(conns), target]]
    # -d keeps a connection for the next message, but the sessions share
    # one message counter; one process per connection makes the number
    # per connection exact.
    assert conns == conc
    return [base + ["-d", "-s", "1", "-m", str(per_conn), target]
            for _ in range(conc)]


def one_run(subject, wl, conns, postfix=False):
    name, title, size, conc, per_conn = wl[:5]
    msgs = conns * per_conn
    subject.mark()
    os.sync()
    time.sleep(0.1)
    t0_cpu = tree_ticks(subject.pid)
    t0 = time.monotonic()
    procs = [subprocess.Popen(c, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT)
             for c in source_cmds(subject.port, size, conc, per_conn, conns)]
    outs = [p.communicate(timeout=600)[0] for p in procs]
    elapsed = time.monotonic() - t0
    for p, out in zip(procs, outs):
        if p.returncode != 0:
            die("%s, %s: smtp-source exit %d: %s" % (
                subject.name, title, p.returncode,
                out.decode(errors="replace").strip()))
    subject.quiesce(postfix)
    cpu = (tree_ticks(subject.pid) - t0_cpu) / HZ
    got = subject.count()
    if got != msgs:
        die("%s, %s: %d messages queued, %d sent" % (subject.name, title,
                                                     got, msgs))
    if CLEAN_EACH_RUN:
        subject.clean()
    return {"rate": msgs / elapsed, "cpu": cpu / msgs, "elapsed": elapsed,
            "msgs": msgs}


# ---------------------------------------------------------------- numbers

def med(xs):
    return statistics.median(xs)


def spread(xs):
    return "%s-%s" % (fmt(min(xs)), fmt(max(xs)))


def fmt(x):
    if x >= 100:
        return "%.0f" % x
    if x >= 10:
        return "%.1f" % x
    return "%.2f" % x


def ratios(res, wl, a, b, key):
    xs = [ra[key] / rb[key] for ra, rb in zip(res[wl][a], res[wl][b])
          if rb[key] > 0]
    return xs


# ---------------------------------------------------------------- passes

def timed_pass(args, rounds):
    subjects = []
    try:
        subjects.append(start_smtpfe(args, "smtpfe", args.smtpfe))
        subjects.append(start_smtpfe(args, "smtpfe-dynamic", args.dynamic))
        subjects.append(start_floor(args))
        subjects.append(start_postfix(args))
        for s in subjects:      # warm up: page cache, Postfix's processes
            one_run(s, WORKLOADS_ALL[1], 100, s.name == "postfix")
        return timed_rounds(args, subjects, rounds)
    finally:
        for s in subjects:
            stop(s) if s.name != "postfix" else stop_postfix(args)


def timed_rounds(args, subjects, rounds):
    res = {}
    for wl in WORKLOADS:
        conns = wl[6] if args.quick else wl[5]
        res[wl[0]] = {s.name: [] for s in subjects}
        log("%s: %d rounds x %s" % (wl[1], rounds,
                                    ", ".join(s.name for s in subjects)))
        for r in range(rounds):
            order = subjects[r % len(subjects):] + subjects[:r % len(subjects)]
            for s in order:
                res[wl[0]][s.name].append(
                    one_run(s, wl, conns, s.name == "postfix"))
        for s in subjects:
            rs = res[wl[0]][s.name]
            log("  %-14s %8s msg/s  %8s ms CPU/msg" % (
                s.name, fmt(med([x["rate"] for x in rs])),
                fmt(1000 * med([x["cpu"] for x in rs]))))
    return res


def rss_pass(args):
    """peak RSS of one session at 1 KB, 1 MB, 50 MB and 100 msg/conn"""
    sizes = [("1 KB", KB, 1, 1, 10), ("1 KB x 100/conn", KB, 1, 100, 1),
             ("1 MB", MB, 1, 1, 3), ("50 MB", 50 * MB, 1, 1, 1)]
    out = {}
    wrapped = []
    for name in ("smtpfe", "smtpfe-dynamic", "floor"):
        rec = os.path.join(args.work, "rss-%s.out" % name)
        if name == "floor":
            s = start_floor(args, "rss-floor", PORTS["rss:" + name], rec)
        else:
            binary = args.smtpfe if name == "smtpfe" else args.dynamic
            s = start_smtpfe(args, "rss-" + name, binary,
                             PORTS["rss:" + name], rec)
        wrapped.append((name, s, rec))
    try:
        for name, s, rec in wrapped:
            out[name] = {}
            for label, size, conc, per_conn, conns in sizes:
                if os.path.exists(rec):
                    os.unlink(rec)
                wl = ("rss", label, size, conc, per_conn)
                one_run(s, wl, conns)
                with open(rec) as f:
                    vals = [tuple(int(x) for x in ln.split())
                            for ln in f if ln.strip()]
                if len(vals) != conns:
                    die("rsswrap recorded %d sessions, %d ran"
                        % (len(vals), conns))
                out[name][label] = max(v[0] for v in vals)
                out.setdefault("parts", {})[name] = max(vals)[1:]
    finally:
        for _, s, _ in wrapped:
            stop(s)
    # Postfix: a fresh instance, then the high-water marks of its live
    # smtpd and cleanup processes after each size (they are reused).
    pf = start_postfix(args)
    try:
        out["postfix smtpd"], out["postfix cleanup"] = {}, {}
        for label, size, conc, per_conn, conns in sizes:
            one_run(pf, ("rss", label, size, conc, per_conn), conns, True)
            pids, _ = descendants(pf.pid)
            for c in ("smtpd", "cleanup"):
                hw = [status_kib(p, "VmHWM") for p in pids if comm(p) == c]
                hw = [x for x in hw if x]
                out["postfix " + c][label] = max(hw) if hw else 0
    finally:
        stop_postfix(args)
    out["sizes"] = [x[0] for x in sizes]
    log("rss: " + ", ".join("%s %s" % (n, max(v.values()))
                            for n, v in out.items()
                            if isinstance(v, dict) and n != "parts"))
    return out


def recipients_files(args):
    small = os.path.join(args.work, "recipients-1")
    big = os.path.join(args.work, "recipients-1M")
    write_file(small, RCPT + "\n")
    if not os.path.exists(big) or os.path.getsize(big) < 20000000:
        names = ["u%07d@example.org" % i for i in range(999999)] + [RCPT]
        names.sort(key=lambda x: x.encode())
        write_file(big + ".tmp", "\n".join(names) + "\n")
        os.rename(big + ".tmp", big)
    return small, big


def recipients_pass(args, rounds):
    small, big = recipients_files(args)
    a = start_smtpfe(args, "rcpt-1", args.smtpfe, PORTS["rcpt:small"],
                     recipients=small)
    b = start_smtpfe(args, "rcpt-1M", args.smtpfe, PORTS["rcpt:big"],
                     recipients=big)
    wl = [w for w in WORKLOADS if w[0] == "c20"][0]
    conns = wl[6] if args.quick else wl[5]
    ra, rb = [], []
    try:
        for r in range(rounds):
            for s, acc in ((a, ra), (b, rb)) if r % 2 == 0 else \
                    ((b, rb), (a, ra)):
                acc.append(one_run(s, wl, conns))
    finally:
        stop(a)
        stop(b)
    log("recipients: 1 entry %.3f ms, 1M entries %.3f ms CPU/msg" % (
        1000 * med([x["cpu"] for x in ra]), 1000 * med([x["cpu"] for x in rb])))
    return ra, rb


CG_SESSION = (b"EHLO " + HELO.encode() + b"\r\n",
              b"MAIL FROM:<" + SENDER.encode() + b">\r\n",
              b"RCPT TO:<" + RCPT.encode() + b">\r\n", b"DATA\r\n")


def message(size):
    head = ("From: <%s>\r\nTo: <%s>\r\nSubject: bench\r\n\r\n"
            % (SENDER, RCPT)).encode()
    line = b"X" * 78 + b"\r\n"
    body = line * ((size - len(head)) // len(line) + 1)
    return head + body + b".\r\n"


def drive(sock, nmsgs, size):
    f = sock.makefile("rb")

    def reply():
        while True:
            line = f.readline()
            if not line:
                die("callgrind session: connection closed")
            if line[3:4] != b"-":
                return line

    rep = reply()
    if not rep.startswith(b"220"):
        die("callgrind session: no greeting: %r" % rep)
    for i in range(nmsgs):
        for cmd in CG_SESSION if i == 0 else CG_SESSION[1:]:
            sock.sendall(cmd)
            rep = reply()
            if rep[:1] not in (b"2", b"3"):
                die("callgrind session: %r -> %r" % (cmd, rep))
        sock.sendall(message(size))
        if not reply().startswith(b"250"):
            die("callgrind session: message refused")
    sock.sendall(b"QUIT\r\n")
    reply()


def callgrind_one(args, label, argv, nmsgs, env_extra, size=KB):
    out = os.path.join(args.work, "callgrind", "%s.%dx%d.out"
                       % (label, nmsgs, size))
    os.makedirs(os.path.dirname(out), exist_ok=True)
    # The session drops to nobody before callgrind writes its file.
    write_file(out, "")
    nobody = pwd.getpwnam("nobody")
    os.chown(out, nobody.pw_uid, nobody.pw_gid)
    a, b = socket.socketpair()
    env = dict(os.environ, **env_extra)
    p = subprocess.Popen(["valgrind", "--tool=callgrind", "--vgdb=no",
                          "--callgrind-out-file=" + out] + argv,
                         stdin=b.fileno(), stdout=b.fileno(),
                         stderr=subprocess.PIPE, env=env)
    b.close()
    drive(a, nmsgs, size)
    a.close()
    err = p.communicate(timeout=120)[1].decode(errors="replace")
    if p.returncode != 0:
        die("callgrind %s: exit %d: %s" % (label, p.returncode, err))
    with open(out) as f:
        for line in f:
            if line.startswith("totals:") or line.startswith("summary:"):
                return int(line.split()[1])
    die("callgrind %s: no totals in %s" % (label, out))


def callgrind_pass(args):
    """instructions of a whole 1 KB session, and of each further message"""
    conf, spool = smtpfe_conf(args.work, "callgrind")
    # callgrind writes its output at exit, by path: no chroot here.
    with open(conf, "a") as f:
        f.write("chroot = no\n")
    check_conf(args.smtpfe, conf)
    fspool = os.path.join(args.work, "callgrind", "floor-spool")
    make_spool(fspool, pwd.getpwuid(0))
    # valgrind cannot run under the session's seccomp filter: the sandbox
    # (resource limits, no_new_privs, the filter) is left out here.
    env = {"TCPREMOTEIP": HOST, "SMTPFE_SANDBOX": "off"}
    res = {}
    for label, argv in (("smtpfe", [args.smtpfe, "-f", conf]),
                        ("smtpfe-dynamic", [args.dynamic, "-f", conf]),
                        ("floor", [args.floor, fspool])):
        one = callgrind_one(args, label, argv, 1, env)
        eleven = callgrind_one(args, label, argv, 11, env)
        big = callgrind_one(args, label, argv, 1, env, MB)
        res[label] = (one, (eleven - one) / 10, big)
    for d in (os.path.join(spool, "new"), os.path.join(fspool, "new")):
        for n in os.listdir(d):
            os.unlink(os.path.join(d, n))
    log("callgrind: " + ", ".join("%s %d + %d/msg, 1 MB %d" % ((n,) + v)
                                  for n, v in res.items()))
    return res


# ---------------------------------------------------------------- report

NAN = float("nan")


def report(args, P, rounds, started, took):
    """the Markdown report and the summary line from the passes in P"""
    res = P.get("timed", {})
    L = ["Measured %s on %s (%d CPUs, Linux %s), %d rounds per workload%s, "
         "in %.0f s; spools on %s." % (
             started, os.uname().nodename, os.cpu_count(), os.uname().release,
             rounds, " (BENCH_QUICK)" if args.quick else "", took,
             "a fresh journaled ext4 (loop device over a file on the "
             "machine's disk)" if args.fs == "loop" else args.work), ""]

    def g(wl, a, b, key="rate"):
        if wl not in res:
            return NAN
        return med(ratios(res, wl, a, b, key))

    if res:
        L.append("| workload | subject | msg/s | CPU ms/msg | "
                 "rate vs Postfix | rate vs floor | CPU vs floor |")
        L.append("|---|---|---|---|---|---|---|")
        for wl in WORKLOADS:
            for n in SUBJECTS:
                rate = [x["rate"] for x in res[wl[0]][n]]
                cpu = [1000 * x["cpu"] for x in res[wl[0]][n]]
                vp = vf = cf = "-"
                if n != "postfix":
                    vp = fmt(g(wl[0], n, "postfix"))
                if n != "floor":
                    vf = fmt(g(wl[0], n, "floor"))
                    cf = fmt(g(wl[0], n, "floor", "cpu"))
                L.append("| %s | %s | %s (%s) | %s (%s) | %s | %s | %s |" % (
                    wl[1], n, fmt(med(rate)), spread(rate), fmt(med(cpu)),
                    spread(cpu), vp, vf, cf))
        L.append("")
        L.append("msg/s and CPU: median (min-max) over the rounds; ratios: "
                 "median of the per-round ratios.  CPU: all server "
                 "processes (the launcher included) per message; the "
                 "client's is not counted.")
        L.append("")
    rss = P.get("rss")
    if rss:
        sizes = rss["sizes"]
        L.append("Peak RSS of one session process, KiB (VmHWM):")
        L.append("")
        L.append("| subject | " + " | ".join(sizes) + " |")
        L.append("|---|" + "---|" * len(sizes))
        for n in ("smtpfe", "smtpfe-dynamic", "floor", "postfix smtpd",
                  "postfix cleanup"):
            L.append("| %s | %s |" % (n, " | ".join(str(rss[n][x])
                                                    for x in sizes)))
        L.append("")
        L.append("smtpfe and floor: the largest VmHWM of the sessions, read "
                 "as each exits (bench/rsswrap); at the end of the 50 MB "
                 "session it was made of " + ", ".join(
                     "%s %d KiB anonymous + %d KiB file-backed" % (n, a, f)
                     for n, (a, f) in rss["parts"].items()) +
                 " (shared library text counts in full).  Postfix: VmHWM "
                 "of its long-lived processes after each step, starting "
                 "fresh; a Postfix session needs an smtpd and a cleanup.")
        L.append("")
    cost = NAN
    rcpt = P.get("rcpt")
    if rcpt:
        ra, rb = rcpt
        cost = med([y["cpu"] / x["cpu"] for x, y in zip(ra, rb)])
        L.append("recipients file, 1 KB at c=20: one entry %s ms CPU/msg "
                 "(%s msg/s), 1,000,000 entries %s ms CPU/msg (%s msg/s): "
                 "CPU ratio %s (per round: %s)." % (
                     fmt(1000 * med([x["cpu"] for x in ra])),
                     fmt(med([x["rate"] for x in ra])),
                     fmt(1000 * med([x["cpu"] for x in rb])),
                     fmt(med([x["rate"] for x in rb])), fmt(cost),
                     ", ".join(fmt(y["cpu"] / x["cpu"])
                               for x, y in zip(ra, rb))))
        L.append("")
    cg = P.get("callgrind")
    if cg:
        L.append("Instructions (callgrind, user space, whole process):")
        L.append("")
        L.append("| program | session with one 1 KB message | "
                 "each further 1 KB message | one 1 MB message |")
        L.append("|---|---|---|---|")
        for n, (one, more, big) in cg.items():
            L.append("| %s | %d | %d | %d |" % (n, one, more, big))
        L.append("")
    rss_max = max(rss["smtpfe"].values()) if rss else NAN
    flat = rss["smtpfe"]["50 MB"] / rss["smtpfe"]["1 KB"] if rss else NAN
    mb_cpu = (1000 * med([x["cpu"] for x in res["1mb"]["smtpfe"]])
              if "1mb" in res else NAN)
    goals = [
        ("1 KB c=20: rate vs floor >= 0.95", g("c20", "smtpfe", "floor"),
         lambda x: x >= 0.95),
        ("1 KB c=20: CPU/msg vs floor <= 1.1",
         g("c20", "smtpfe", "floor", "cpu"), lambda x: x <= 1.1),
        ("1 KB c=20: rate vs Postfix >= 1.0",
         g("c20", "smtpfe", "postfix"), lambda x: x >= 1.0),
        ("100 msg/conn: rate vs Postfix >= 1.2",
         g("m100", "smtpfe", "postfix"), lambda x: x >= 1.2),
        ("1 MB: rate vs Postfix >= 3", g("1mb", "smtpfe", "postfix"),
         lambda x: x >= 3),
        ("1 MB: rate vs floor >= 0.9", g("1mb", "smtpfe", "floor"),
         lambda x: x >= 0.9),
        ("1 MB: CPU ms per MB <= 3", mb_cpu, lambda x: x <= 3),
        ("peak RSS per session, KiB <= 2048", rss_max,
         lambda x: x <= 2048),
        ("RSS 50 MB / RSS 1 KB (flat) <= 1.05", flat, lambda x: x <= 1.05),
        ("recipients 1M / 1 entry, CPU <= 1.1", cost, lambda x: x <= 1.1),
    ]
    L.append("| goal (smtpfe as built by make) | measured | met |")
    L.append("|---|---|---|")
    for text, val, ok in goals:
        L.append("| %s | %s | %s |" % (text, fmt(val), "-" if val != val
                                       else "yes" if ok(val) else "**no**"))
    L.append("")
    summary = ("bench: rate_vs_postfix_c20=%.2f rate_vs_floor_c20=%.2f "
               "rate_vs_postfix_1mb=%.2f rss_kib=%s big_recipients_cost=%.2f"
               % (g("c20", "smtpfe", "postfix"), g("c20", "smtpfe", "floor"),
                  g("1mb", "smtpfe", "postfix"),
                  "nan" if rss_max != rss_max else "%d" % rss_max, cost))
    return "\n".join(L), summary


FS_SIZE = 8 << 30


def loop_fs(base):
    """A fresh journaled ext4 for the whole run, in a sparse file under
    BASE mounted through a loop device: every run starts from the same
    empty file system, whatever other programs on the machine and earlier
    runs did to the disk."""
    img, mnt = os.path.join(base, "fs.img"), os.path.join(base, "mnt")
    os.makedirs(mnt, exist_ok=True)
    if os.path.ismount(mnt):
        run(["umount", mnt])
    with open(img, "wb") as f:
        f.truncate(FS_SIZE)
    run(["mkfs.ext4", "-q", "-F", "-L", "smtpfe-bench", "-E",
         "lazy_itable_init=0,lazy_journal_init=0", img])
    STARTED.append(("umount", mnt))
    r = subprocess.run(["mount", "-o", "loop", img, mnt],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True)
    if r.returncode != 0:
        die("mount -o loop %s: %s (no loop devices here? BENCH_FS=dir "
            "measures in %s itself)" % (img, r.stdout.strip(), base))
    os.chmod(mnt, 0o755)
    return mnt, img


PASSES = ("callgrind", "timed", "rcpt", "rss", "profile")
DEFAULT_PASSES = ("callgrind", "timed", "rcpt", "rss")


def perf_top(data, children):
    cmd = ["perf", "report", "-i", data, "--stdio", "-g", "none", "-n",
           "--sort", "symbol" if children else "dso,symbol",
           "--children" if children else "--no-children"]
    out = subprocess.run(cmd, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True).stdout
    rows = [ln.rstrip() for ln in out.splitlines()
            if ln.strip() and not ln.startswith("#")]
    if children:
        rows = [r for r in rows if "__x64_sys_" in r or "page_fault" in r
                or "_dl_start" in r or " main" in r or "ret_from_fork" in r]
    return rows[:25]


def profile_pass(args):
    """perf record (cpu-clock; this machine has no hardware counters) of
    every process under the launcher, smtpfe against the floor"""
    if shutil.which("perf") is None:
        die("perf is not installed (linux-perf)")
    L = []
    for wl_name, conns in (("c20", 2000), ("1mb", 100)):
        wl = [w for w in WORKLOADS_ALL if w[0] == wl_name][0]
        for name in ("smtpfe", "floor"):
            s = (start_floor(args) if name == "floor" else
                 start_smtpfe(args, name, args.smtpfe))
            try:
                one_run(s, wl, conns // 4)
                data = os.path.join(args.base, "perf.%s.%s" % (name,
                                                               wl_name))
                p = subprocess.Popen(["perf", "record", "-q", "-g", "-e",
                                      "cpu-clock", "-p", str(s.pid), "-o",
                                      data], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
                time.sleep(1)
                r = one_run(s, wl, conns)
                p.send_signal(signal.SIGINT)
                p.wait(timeout=60)
            finally:
                stop(s)
            L.append("== %s, %s: %.0f msg/s, %.3f ms CPU/msg; perf %s" % (
                name, wl[1], r["rate"], 1000 * r["cpu"], data))
            L.append("-- self, by symbol (samples of 1/4000 s):")
            L.extend(perf_top(data, False))
            L.append("-- system calls and faults, children included:")
            L.extend(perf_top(data, True))
            L.append("")
    return "\n".join(L)


def remove_spools(args):
    """Accepted messages are kept until the end of the run: on a file
    system without a journal (as here), ext4 scans past recently deleted
    inodes (fs/ext4/ialloc.c, recently_deleted) whenever it allocates
    one, so deleting between runs would slow every subject's next run.
    Returns the number of files removed."""
    n = 0
    for name in os.listdir(args.work):
        for sub in ("spool", "queue", "floor-spool"):
            d = os.path.join(args.work, name, sub)
            if os.path.isdir(d):
                n += sum(len(f) for _, _, f in os.walk(d))
                shutil.rmtree(d)
    return n


def main():
    global CLEAN_EACH_RUN
    ap = argparse.ArgumentParser()
    ap.add_argument("--smtpfe", required=True)
    ap.add_argument("--dynamic", required=True)
    ap.add_argument("--floor", required=True)
    ap.add_argument("--rsswrap", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--rounds", type=int, default=0)
    ap.add_argument("--fs", choices=("loop", "dir"), default="loop",
                    help="loop: a fresh ext4 in a file under --work "
                    "(default); dir: --work itself")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--report", help="also write the report here")
    ap.add_argument("--passes", default=",".join(DEFAULT_PASSES),
                    help="some of " + ",".join(PASSES))
    ap.add_argument("--only", help="these workloads only: " +
                    ",".join(w[0] for w in WORKLOADS))
    args = ap.parse_args()
    for k in ("smtpfe", "dynamic", "floor", "rsswrap", "work"):
        setattr(args, k, os.path.abspath(getattr(args, k)))
    passes = args.passes.split(",")
    if not passes or any(p not in PASSES for p in passes):
        die("--passes: some of " + ",".join(PASSES))
    if os.geteuid() != 0:
        die("run as root: it starts tcpserver and a Postfix instance, "
            "and smtpfe's sessions chroot and drop to nobody")
    for tool in ("tcpserver", "smtp-source", "postfix", "valgrind"):
        if shutil.which(tool) is None:
            die("%s is not installed (ucspi-tcp, postfix, valgrind)" % tool)
    if args.only:
        WORKLOADS[:] = [w for w in WORKLOADS if w[0] in args.only.split(",")]
    rounds = args.rounds or (3 if args.quick else 7)
    os.makedirs(args.work, exist_ok=True)
    os.chmod(args.work, 0o755)
    base, img = args.work, None
    args.base = base
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    t0 = time.monotonic()
    P = {}
    try:
        if args.fs == "loop":
            args.work, img = loop_fs(base)
            CLEAN_EACH_RUN = True
        if remove_spools(args) > 1000:
            log("removed the spools of an earlier run; waiting 61 s for "
                "ext4 to stop treating those inodes as recently deleted")
            os.sync()
            time.sleep(61)
        if "callgrind" in passes:
            P["callgrind"] = callgrind_pass(args)
        if "timed" in passes:
            P["timed"] = timed_pass(args, rounds)
        if "rcpt" in passes:
            P["rcpt"] = recipients_pass(args, rounds)
        if "rss" in passes:
            P["rss"] = rss_pass(args)
        if "profile" in passes:
            P["profile"] = profile_pass(args)
    finally:
        cleanup()
        if img is not None:
            os.unlink(img)
        else:
            remove_spools(args)
        args.work = base
    if "profile" in P:
        print(P["profile"])
        write_file(os.path.join(args.work, "profile.txt"), P["profile"])
        if passes == ["profile"]:
            return
    text, summary = report(args, P, rounds, started, time.monotonic() - t0)
    print(text)
    if args.report:
        write_file(args.report, text + "\n" + summary + "\n")
    print(summary)


if __name__ == "__main__":
    main()
