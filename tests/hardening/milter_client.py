#!/usr/bin/env python3
"""milter_client: a hostile MTA for the hardening suites (standard library).

Speaks the MTA side of the milter protocol (version 6, as Sendmail's
libmilter/mfdef.h defines it) to a running dmarc-milter, with the freedom a
test of hostile input needs and tests/tools/milter-send deliberately lacks:
any number of header fields of any size, raw bytes (NUL, bare CR or LF,
invalid UTF-8) passed through untouched, and a hang-up after any stage.

usage: milter_client.py --socket inet:PORT@HOST [--client-ip IP]
         [--helo NAME] [--mail-from ADDR] [--rcpt ADDR] [--queue-id ID]
         [--stop-after STAGE] [--abort-after STAGE] [--timeout SEC]
         MESSAGE-FILE
STAGE is one of optneg connect helo mail rcpt data header eoh body eom.
--stop-after closes the socket without a word right after that stage;
--abort-after sends SMFIC_ABORT (then QUIT) after it, as an MTA does when
the client goes away. The message file is split at its first empty line
(LF or CRLF): header lines ("Name:value", continuation lines starting with
blank space joined with "\\n" as Postfix does), then the body, sent in
chunks of 65535 bytes exactly as stored (no line-end repair). The value
keeps its bytes after the colon, minus one leading space (we do not offer
SMFIP_HDR_LEADSPC).

Prints one line per event, like milter-send: "reply STAGE CODE [text]",
"insheader IDX NAME: VALUE", "addheader NAME: VALUE",
"chgheader IDX NAME: VALUE|(deleted)", "quarantine REASON", then
"result accept|reject|tempfail|discard|continue|hangup" and
"elapsed SECONDS" (from connect to the final answer). Exit 0 when the
conversation went as asked, 2 on a connection or protocol error.
"""
import argparse
import socket
import struct
import sys
import time

STAGES = ["optneg", "connect", "helo", "mail", "rcpt", "data", "header", "eoh", "body", "eom"]
# SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE | SMFIF_SETSYMLIST
ACTIONS = 0x01 | 0x10 | 0x20 | 0x100
CHUNK = 65535


class ProtocolError(Exception):
    pass


class Conn:
    def __init__(self, spec, timeout):
        if spec.startswith("inet:"):
            port, host = spec[5:].split("@", 1)
            self.s = socket.create_connection((host, int(port)), timeout=timeout)
        elif spec.startswith(("unix:", "local:")):
            self.s = socket.socket(socket.AF_UNIX)
            self.s.settimeout(timeout)
            self.s.connect(spec.split(":", 1)[1])
        else:
            raise ProtocolError("bad socket spec %r" % spec)
        self.out = []

    def send(self, cmd, data=b""):
        self.s.sendall(struct.pack(">I", len(data) + 1) + cmd + data)

    def read(self):
        head = self._exact(4)
        n = struct.unpack(">I", head)[0]
        if n < 1 or n > 64 * 1024 * 1024:
            raise ProtocolError("bad packet length %d" % n)
        body = self._exact(n)
        return body[:1], body[1:]

    def _exact(self, n):
        buf = b""
        while len(buf) < n:
            part = self.s.recv(n - len(buf))
            if not part:
                raise ProtocolError("closed by the filter")
            buf += part
        return buf

    def macro(self, stage_cmd, pairs):
        data = stage_cmd
        for k, v in pairs:
            data += k.encode() + b"\0" + v.encode() + b"\0"
        self.send(b"D", data)

    def reply(self, stage):
        """Reads modification actions and the final answer of a stage."""
        while True:
            cmd, data = self.read()
            text = data.rstrip(b"\0").decode("utf-8", "backslashreplace")
            if cmd == b"h":
                name, _, value = data.partition(b"\0")
                self.out.append("addheader %s: %s" % (dec(name), dec(value.rstrip(b"\0"))))
            elif cmd == b"i":
                idx = struct.unpack(">I", data[:4])[0]
                name, _, value = data[4:].partition(b"\0")
                self.out.append("insheader %d %s: %s" % (idx, dec(name), dec(value.rstrip(b"\0"))))
            elif cmd == b"m":
                idx = struct.unpack(">I", data[:4])[0]
                name, _, value = data[4:].partition(b"\0")
                value = value.rstrip(b"\0")
                self.out.append("chgheader %d %s: %s" % (idx, dec(name),
                                                         dec(value) if value else "(deleted)"))
            elif cmd == b"q":
                self.out.append("quarantine %s" % text)
            elif cmd == b"p":
                continue  # progress
            elif cmd in (b"c", b"a", b"r", b"t", b"d", b"y"):
                word = {b"c": "continue", b"a": "accept", b"r": "reject", b"t": "tempfail",
                        b"d": "discard"}.get(cmd)
                if cmd == b"y":
                    word = "reject" if text[:1] == "5" else "tempfail"
                self.out.append("reply %s %s%s" % (stage, word, " " + text if text else ""))
                return word
            else:
                raise ProtocolError("unexpected reply %r at %s" % (cmd, stage))


def dec(b):
    return b.decode("utf-8", "backslashreplace").replace("\n", "\\n").replace("\r", "\\r")


def split_message(raw):
    """(headers [(name bytes, value bytes)], body bytes)."""
    headers, pos = [], 0
    lines = []
    while pos < len(raw):
        nl = raw.find(b"\n", pos)
        end = len(raw) if nl < 0 else nl
        line = raw[pos:end]
        nxt = len(raw) if nl < 0 else nl + 1
        if line in (b"", b"\r"):
            pos = nxt
            break
        if line[:1] in (b" ", b"\t") and lines:
            lines[-1] += b"\n" + line.rstrip(b"\r")
        elif b":" in line:
            lines.append(line.rstrip(b"\r"))
        else:
            break  # not a header line: the body starts here
        pos = nxt
    for line in lines:
        name, _, value = line.partition(b":")
        if value.startswith(b" "):
            value = value[1:]
        headers.append((name, value))
    return headers, raw[pos:]


def run(args, raw):
    stop = args.stop_after or args.abort_after
    c = Conn(args.socket, args.timeout)
    t0 = time.monotonic()
    final = None

    def done(stage):
        """True when the conversation ends after this stage."""
        if stage != stop:
            return False
        if args.abort_after:
            c.send(b"A")
            c.send(b"Q")
            c.out.append("result aborted")
        else:
            c.out.append("result hangup")
        c.s.close()
        return True

    def step(stage, cmd, data):
        c.send(cmd, data)
        word = c.reply(stage)
        if word in ("accept", "reject", "tempfail", "discard"):
            return word
        return None

    c.send(b"O", struct.pack(">III", 6, ACTIONS, 0))
    cmd, data = c.read()
    if cmd != b"O":
        raise ProtocolError("no option negotiation reply")
    if done("optneg"):
        return c
    ip = args.client_ip
    fam = b"6" if ":" in ip else b"4"
    c.macro(b"C", [("j", "mta.test"), ("{daemon_name}", "hostile"), ("{client_addr}", ip)])
    final = step("connect", b"C", b"client.test\0" + fam + struct.pack(">H", 25) + ip.encode() + b"\0")
    if final is None and not done("connect"):
        final = step("helo", b"H", args.helo.encode() + b"\0")
        if final is None and not done("helo"):
            c.macro(b"M", [("i", args.queue_id)])
            final = step("mail", b"M", b"<" + args.mail_from.encode() + b">\0")
            if final is None and not done("mail"):
                for r in args.rcpt or ["carol@receiver.example"]:
                    c.macro(b"R", [("i", args.queue_id)])
                    final = step("rcpt", b"R", b"<" + r.encode() + b">\0")
                    if final is not None:
                        break
                if final is None and not done("rcpt"):
                    final = step("data", b"T", b"")
                    if final is None and not done("data"):
                        final = send_content(c, args, raw, done, step)
    if c.s.fileno() < 0:
        return c  # hung up or aborted as asked
    c.out.append("result %s" % (final or "continue"))
    c.out.append("elapsed %.3f" % (time.monotonic() - t0))
    if stop != "eom":
        c.send(b"Q")  # after EOM, --stop-after eom hangs up without QUIT
    c.s.close()
    return c


def send_content(c, args, raw, done, step):
    headers, body = split_message(raw)
    for name, value in headers:
        final = step("header", b"L", name + b"\0" + value + b"\0")
        if final is not None:
            return final
        if done("header"):
            return None
    c.macro(b"N", [("i", args.queue_id)])
    final = step("eoh", b"N", b"")
    if final is not None or done("eoh"):
        return final
    for i in range(0, len(body), CHUNK):
        final = step("body", b"B", body[i:i + CHUNK])
        if final is not None:
            return final
        if done("body"):
            return None
    if done("body"):
        return None
    c.macro(b"E", [("i", args.queue_id)])
    return step("eom", b"E", b"")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--socket", required=True)
    ap.add_argument("--client-ip", default="198.51.100.7")
    ap.add_argument("--helo", default="relay.other.example")
    ap.add_argument("--mail-from", default="x@other.example")
    ap.add_argument("--rcpt", action="append")
    ap.add_argument("--queue-id", default="HOSTILE1")
    ap.add_argument("--stop-after", choices=STAGES)
    ap.add_argument("--abort-after", choices=STAGES)
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("message")
    args = ap.parse_args()
    with open(args.message, "rb") as f:
        raw = f.read()
    try:
        c = run(args, raw)
    except (OSError, ProtocolError) as e:
        print("milter_client: %s" % e, file=sys.stderr)
        return 2
    sys.stdout.write("".join(line + "\n" for line in c.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
