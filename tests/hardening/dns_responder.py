#!/usr/bin/env python3
"""dns_responder: a tiny misbehaving DNS server for the hardening suites.

A real server process on 127.0.0.1 (UDP and TCP on one port), standard
library only. What it does with a query depends on the labels of the name
asked (case-insensitive), so one server can play every fault at once:

  ...slow...     answers NXDOMAIN, but only after --delay seconds (2 s)
  ...garbage...  answers random bytes: half the time with the query's ID
                 and a QR header claiming records that are not there, half
                 the time pure noise
  ...trunc...    over UDP: an empty answer with the TC bit set (so the
                 client retries over TCP); over TCP: a length prefix that
                 promises more than is sent, then the connection is closed
  anything else  REFUSED at once

usage: dns_responder.py --port-file FILE [--delay SEC] [--owner-pid PID]
The chosen port is written to FILE once both sockets listen. The server
exits on SIGTERM, or within a second once --owner-pid is gone. Every query
is counted; the counts per kind go to stderr on exit.
"""
import argparse
import os
import random
import signal
import socket
import struct
import sys
import threading
import time

COUNTS = {"slow": 0, "garbage": 0, "trunc": 0, "other": 0, "tcp": 0}
LOCK = threading.Lock()
STOP = threading.Event()


def qname_labels(msg):
    """The labels of the first question, lower-cased; [] when malformed."""
    labels, pos = [], 12
    try:
        while True:
            n = msg[pos]
            if n == 0 or n >= 0xC0:
                break
            labels.append(msg[pos + 1:pos + 1 + n].decode("ascii", "replace").lower())
            pos += 1 + n
    except IndexError:
        return []
    return labels


def question_end(msg):
    """Offset just past the first question (name + type + class)."""
    pos = 12
    while pos < len(msg) and msg[pos] != 0:
        pos += 1 + msg[pos]
    return min(pos + 5, len(msg))


def kind_of(msg):
    labels = qname_labels(msg)
    for k in ("slow", "garbage", "trunc"):
        if k in labels:
            return k
    return "other"


def reply_header(query, rcode, tc=False, qdcount=1, ancount=0, aa=True):
    qid = query[:2] if len(query) >= 2 else b"\0\0"
    rd = query[2] & 0x01 if len(query) > 2 else 0
    flags1 = 0x80 | (0x04 if aa else 0) | (0x02 if tc else 0) | rd
    flags2 = 0x80 | rcode  # RA set
    return qid + bytes([flags1, flags2]) + struct.pack(">HHHH", qdcount, ancount, 0, 0)


def answer(query, kind, transport):
    """The reply bytes for one query (None: say nothing)."""
    if len(query) < 12:
        return None
    question = query[12:question_end(query)]
    if kind == "slow":
        return reply_header(query, 3) + question  # NXDOMAIN, late
    if kind == "garbage":
        noise = os.urandom(random.randint(0, 600))
        if random.random() < 0.5:
            return reply_header(query, 0, ancount=random.randint(1, 40)) + question + noise
        return noise
    if kind == "trunc":
        if transport == "udp":
            return reply_header(query, 0, tc=True) + question
        return None  # handled by the TCP code
    return reply_header(query, 5, aa=False) + question  # REFUSED


def count(kind):
    with LOCK:
        COUNTS[kind] += 1


def serve_udp(sock, delay):
    def late(data, addr):
        if STOP.wait(delay):
            return
        out = answer(data, "slow", "udp")
        try:
            sock.sendto(out, addr)
        except OSError:
            pass

    while not STOP.is_set():
        try:
            data, addr = sock.recvfrom(4096)
        except socket.timeout:
            continue
        except OSError:
            return
        kind = kind_of(data)
        count(kind)
        if kind == "slow":
            threading.Thread(target=late, args=(data, addr), daemon=True).start()
            continue
        out = answer(data, kind, "udp")
        if out is not None:
            try:
                sock.sendto(out, addr)
            except OSError:
                pass


def read_exact(conn, n):
    buf = b""
    while len(buf) < n:
        part = conn.recv(n - len(buf))
        if not part:
            return None
        buf += part
    return buf


def serve_tcp_conn(conn, delay):
    conn.settimeout(10)
    try:
        while not STOP.is_set():
            head = read_exact(conn, 2)
            if head is None:
                return
            data = read_exact(conn, struct.unpack(">H", head)[0])
            if data is None:
                return
            kind = kind_of(data)
            count(kind)
            count("tcp")
            if kind == "trunc":
                out = reply_header(data, 0) + data[12:question_end(data)]
                conn.sendall(struct.pack(">H", len(out) + 200) + out)
                return  # promised 200 more bytes, closes instead
            if kind == "slow" and STOP.wait(delay):
                return
            out = answer(data, kind, "tcp")
            if out is None:
                return
            conn.sendall(struct.pack(">H", len(out)) + out)
    except OSError:
        return
    finally:
        conn.close()


def serve_tcp(sock, delay):
    while not STOP.is_set():
        try:
            conn, _ = sock.accept()
        except socket.timeout:
            continue
        except OSError:
            return
        threading.Thread(target=serve_tcp_conn, args=(conn, delay), daemon=True).start()


def bind_pair():
    """A UDP and a TCP socket on the same free port of 127.0.0.1."""
    for _ in range(20):
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind(("127.0.0.1", 0))
        port = udp.getsockname()[1]
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            tcp.bind(("127.0.0.1", port))
        except OSError:
            udp.close()
            tcp.close()
            continue
        tcp.listen(64)
        return udp, tcp, port
    raise SystemExit("dns_responder: no free port")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--delay", type=float, default=2.0)
    ap.add_argument("--owner-pid", type=int, default=0)
    args = ap.parse_args()

    signal.signal(signal.SIGTERM, lambda *_: STOP.set())
    signal.signal(signal.SIGINT, lambda *_: STOP.set())
    udp, tcp, port = bind_pair()
    udp.settimeout(0.5)
    tcp.settimeout(0.5)
    threads = [threading.Thread(target=serve_udp, args=(udp, args.delay), daemon=True),
               threading.Thread(target=serve_tcp, args=(tcp, args.delay), daemon=True)]
    for t in threads:
        t.start()
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.rename(tmp, args.port_file)
    while not STOP.wait(1.0):
        if args.owner_pid:
            try:
                os.kill(args.owner_pid, 0)
            except ProcessLookupError:
                break
    STOP.set()
    for t in threads:
        t.join(2)
    udp.close()
    tcp.close()
    print("dns_responder: queries %s" % " ".join("%s=%d" % kv for kv in sorted(COUNTS.items())),
          file=sys.stderr)


if __name__ == "__main__":
    main()
