"""
fakedns.py - a fake DNS server on loopback for the dnsbl tests: answers
type A questions from a table, counts every query, and can misbehave on
purpose (no answer, late answer, garbage, a wrong ID, SERVFAIL).

Python 3 standard library only.  One UDP socket, one thread.

    dns = FakeDNS("127.0.0.53", 5300)
    dns.set("2.0.0.127.bl.test", a=["127.0.0.2"])
    dns.set("3.0.0.127.bl.test", rcode=3)           # NXDOMAIN
    dns.set("4.0.0.127.bl.test", drop=True)         # never answers
    dns.start(); ...; dns.queries("bl.test"); dns.stop()

Names that are in no rule get NXDOMAIN.
"""

import socket
import struct
import threading
import time


def name_wire(name):
    out = b""
    for label in name.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def parse_question(pkt):
    """(id, flags, qname text, qtype, qclass, end of question) or None."""
    if len(pkt) < 12:
        return None
    qid, flags, qd = struct.unpack("!HHH", pkt[:6])
    if qd != 1:
        return None
    pos, labels = 12, []
    while pos < len(pkt) and pkt[pos] != 0:
        n = pkt[pos]
        if n > 63:
            return None
        labels.append(pkt[pos + 1:pos + 1 + n].decode("ascii", "replace"))
        pos += 1 + n
    pos += 1
    if pos + 4 > len(pkt):
        return None
    qtype, qclass = struct.unpack("!HH", pkt[pos:pos + 4])
    return qid, flags, ".".join(labels), qtype, qclass, pos + 4


def answer(pkt, q, a=(), rcode=0, tc=False, qid=None, rrtype=1, rrclass=1,
           owner=None):
    """A response to question Q (from parse_question) with A records A."""
    rid, _flags, qname, _qt, _qc, end = q
    flags = 0x8180 | (rcode & 0xF) | (0x0200 if tc else 0)
    body = pkt[12:end]
    rrs = b""
    for addr in a:
        own = b"\xc0\x0c" if owner is None else name_wire(owner)
        rdata = socket.inet_aton(addr)
        rrs += own + struct.pack("!HHIH", rrtype, rrclass, 60,
                                 len(rdata)) + rdata
    hdr = struct.pack("!HHHHHH", rid if qid is None else qid, flags, 1,
                      len(a), 0, 0)
    return hdr + body + rrs


class FakeDNS:
    def __init__(self, addr, port):
        self.addr, self.port = addr, port
        self.family = socket.AF_INET6 if ":" in addr else socket.AF_INET
        self.rules = {}
        self.log = []           # (time, qname, qtype, source port)
        self.lock = threading.Lock()
        self.sock = None
        self.thread = None
        self.running = False
        self.pending = []       # (due time, packet, peer)

    def set(self, name, **rule):
        """Rule keys: a=[addrs], rcode=n, drop=True, delay=s, tc=True,
        garbage=True (a junk datagram first, then the answer),
        wrongid=True (an answer with another ID first, then the right
        one), rrtype/rrclass=n (the A records' type and class),
        wrongq=True (an answer to another question first)."""
        with self.lock:
            self.rules[name.lower()] = rule

    def clear(self):
        with self.lock:
            self.rules.clear()
            self.log.clear()

    def queries(self, suffix=""):
        with self.lock:
            return [q for q in self.log if q[1].lower().endswith(suffix)]

    def start(self):
        self.sock = socket.socket(self.family, socket.SOCK_DGRAM)
        self.sock.bind((self.addr, self.port))
        self.sock.settimeout(0.02)
        self.running = True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.running = False
        if self.thread is not None:
            self.thread.join(2)
        if self.sock is not None:
            self.sock.close()

    def _send_due(self):
        now = time.monotonic()
        keep = []
        for due, pkt, peer in self.pending:
            if due <= now:
                try:
                    self.sock.sendto(pkt, peer)
                except OSError:
                    pass
            else:
                keep.append((due, pkt, peer))
        self.pending = keep

    def _run(self):
        while self.running:
            self._send_due()
            try:
                pkt, peer = self.sock.recvfrom(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            q = parse_question(pkt)
            if q is None:
                continue
            with self.lock:
                self.log.append((time.monotonic(), q[2], q[3], peer[1]))
                rule = dict(self.rules.get(q[2].lower(), {"rcode": 3}))
            self._respond(pkt, q, peer, rule)

    def _respond(self, pkt, q, peer, rule):
        if rule.get("drop"):
            return
        out = []
        if rule.get("garbage"):
            out.append(b"\xde\xad" + pkt[2:4] + b"\xff" * 40)
            out.append(pkt[:2] + b"\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00"
                       + b"\xc0\x0c\x00\x01")
        if rule.get("wrongid"):
            out.append(answer(pkt, q, a=["127.0.0.99"],
                              qid=(q[0] + 1) & 0xFFFF))
        if rule.get("wrongq"):
            other = name_wire("1.1.1.1.other.test")
            bad = (pkt[:12] + other + b"\x00\x01\x00\x01")
            bq = parse_question(bad)
            out.append(answer(bad, bq, a=["127.0.0.98"]))
        out.append(answer(pkt, q, a=rule.get("a", []),
                          rcode=rule.get("rcode", 0), tc=rule.get("tc", False),
                          rrtype=rule.get("rrtype", 1),
                          rrclass=rule.get("rrclass", 1)))
        due = time.monotonic() + rule.get("delay", 0)
        for p in out:
            if rule.get("delay"):
                self.pending.append((due, p, peer))
            else:
                self.sock.sendto(p, peer)
