#!/usr/bin/env python3
"""make_hostile: writes the hostile messages of hostile_mail.sh into a directory.

usage: make_hostile.py DIR [DKIM-SIGN KEY-FILE]
Every message comes from alice@aligned.example (tests/integration zone), so a
message the milter reads correctly gets spf=pass and dmarc=pass from the
client 192.0.2.10. With dkim-sign and the rsa2048 test key, dkim100.eml
carries one valid signature among 99 bogus ones.
"""
import base64
import hashlib
import os
import re
import subprocess
import sys
import time

FROM = b"From: Alice <alice@aligned.example>\n"
TAIL = b"To: carol@receiver.example\nDate: Tue, 02 Jan 2024 10:00:00 +0000\n"
BODY = b"\nHello, hostile world.\n"


def write(d, name, data):
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def fake_sig(i, domain):
    return (b"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=%s; s=s%d;\n"
            b"\th=from:to:subject; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;\n"
            b"\tb=Ym9ndXMgc2lnbmF0dXJlIG51bWJlciAlZA%03d==\n" % (domain, i, i))


def relaxed_header(name, value):
    """RFC 6376 §3.4.2 relaxed header canonicalization, without the CRLF."""
    value = re.sub(rb"\r?\n", b"", value)
    value = re.sub(rb"[ \t]+", b" ", value).strip(b" ")
    return name.strip().lower() + b":" + value


def relaxed_body(body):
    """RFC 6376 §3.4.4 relaxed body canonicalization."""
    lines = body.replace(b"\r\n", b"\n").split(b"\n")
    lines = [re.sub(rb"[ \t]+", b" ", ln).rstrip(b" ") for ln in lines]
    while lines and lines[-1] == b"":
        lines.pop()
    return b"".join(ln + b"\r\n" for ln in lines)


def sign_custom(headers, body, hlist, key):
    """A DKIM-Signature (relaxed/relaxed, rsa-sha256, d=aligned.example,
    s=s2048) whose h= is exactly hlist, names of absent fields included:
    a valid signature libopendkim's signer would never write. Signs with
    openssl(1). headers: [(name, value)] top to bottom."""
    bh = base64.b64encode(hashlib.sha256(relaxed_body(body)).digest())
    value = (b" v=1; a=rsa-sha256; c=relaxed/relaxed; d=aligned.example; s=s2048;"
             b" t=%d; bh=%s; h=%s; b=" % (int(time.time()), bh, b":".join(hlist)))
    used = set()
    data = b""
    for name in hlist:  # RFC 6376 §5.4.2: the last unused instance, bottom up
        for i in range(len(headers) - 1, -1, -1):
            if i not in used and headers[i][0].lower() == name.lower():
                used.add(i)
                data += relaxed_header(*headers[i]) + b"\r\n"
                break
    data += relaxed_header(b"DKIM-Signature", value)
    sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key], input=data,
                         stdout=subprocess.PIPE, check=True).stdout
    return b"DKIM-Signature:" + value + base64.b64encode(sig) + b"\n"


def main():
    d = sys.argv[1]
    os.makedirs(d, exist_ok=True)
    # 10,000 header fields
    many = b"".join(b"X-Filler-%05d: header field number %d\n" % (i, i) for i in range(10000))
    write(d, "headers10k.eml", FROM + many + TAIL + b"Subject: 10,000 fields\n" + BODY)
    # one header line of 1 MB, and one of 60 KB (under libmilter's 64 KB packet)
    write(d, "line1m.eml", FROM + TAIL + b"Subject: " + b"x" * (1024 * 1024) + b"\n" + BODY)
    write(d, "line60k.eml", FROM + TAIL + b"Subject: " + b"y" * (60 * 1024) + b"\n" + BODY)
    # a From line of 60 KB: over FROM_MAX_FIELD_LEN (16 KB)
    write(d, "fromlong.eml", b"From: " + b"z" * (60 * 1024) + b" <alice@aligned.example>\n" +
          TAIL + b"Subject: long From\n" + BODY)
    # 100 DKIM signatures (99 bogus, at 40 domains)
    sigs = b"".join(fake_sig(i, b"d%d.aligned.example" % (i % 40)) for i in range(99))
    plain = FROM + TAIL + b"Subject: 100 signatures\n" + BODY
    if len(sys.argv) > 3:
        plain = subprocess.run([sys.argv[2], "--key", sys.argv[3], "--domain",
                                "aligned.example", "--selector", "s2048"],
                               input=plain, stdout=subprocess.PIPE, check=True).stdout
    write(d, "dkim100.eml", sigs + plain)
    # h= naming more fields than the message has. A valid signature that
    # names absent fields (oversigning) must still pass; one that names
    # every field, itself included, and more made libopendkim 2.11 write
    # past a heap block (lib/dkim_verify.c pads the header list now).
    if len(sys.argv) > 3:
        hdrs = [(b"From", b" alice@aligned.example"), (b"Subject", b" oversigned")]
        body = b"Hello, oversigned world.\n"
        sig = sign_custom(hdrs, body, [b"From", b"Subject", b"Date", b"To", b"Cc", b"From"],
                          sys.argv[3])
        write(d, "oversign.eml", sig + b"".join(n + b":" + v + b"\n" for n, v in hdrs) +
              b"\n" + body)
    overrun = (b"DKIM-Signature: v=1; a=rsa-sha256; c=simple/simple; d=aligned.example;"
               b" s=s2048; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;"
               b" h=DKIM-Signature:From:To:Subject:Date:Message-ID; b=YWJjZA==\n")
    write(d, "hoverrun.eml", overrun + b"From: alice@aligned.example\n\nbody\n")
    write(d, "hoverrun3.eml", overrun + b"From: alice@aligned.example\nX-A: 1\n\nbody\n")
    # 50 From addresses in one field, and 50 From fields
    addrs = b", ".join(b"user%d@d%d.example" % (i, i) for i in range(49))
    write(d, "from50.eml", b"From: alice@aligned.example, " + addrs + b"\n" + TAIL +
          b"Subject: 50 authors\n" + BODY)
    write(d, "fromfields50.eml", FROM * 50 + TAIL + b"Subject: 50 From fields\n" + BODY)
    # a mailbox we cannot check next to one that passes, and an unterminated
    # comment (the multi-From bypass of CVE-2019-16378 and friends)
    write(d, "fromliteral.eml", b"From: alice@aligned.example, ceo@[192.0.2.1]\n" + TAIL +
          b"Subject: domain literal\n" + BODY)
    write(d, "fromcomment.eml", b"From: \xc3( <alice@aligned.example>\n" + TAIL +
          b"Subject: unterminated comment\n" + BODY)
    # NUL bytes in header values and the body
    write(d, "nul.eml", FROM + b"Subject: before\0after\nX-Nul: \0\0\0\n" + TAIL +
          b"\nbody\0with\0NULs\n\0\n")
    write(d, "nulfrom.eml", b"From: alice@aligned.example\0evil@attacker.example\n" + TAIL +
          b"Subject: NUL in From\n" + BODY)
    # invalid UTF-8 everywhere
    write(d, "utf8.eml", b"From: \xff\xfe\xc3\xed\xa0\x80 <alice@aligned.example>\n" + TAIL +
          b"Subject: \xed\xa0\x80 \xf8\x88\x80\x80\x80 \xc0\xaf\n\n\xc3\x28\xa0\xa1\xff\n")
    write(d, "utf8domain.eml", b"From: alice@al\xffigned.example\n" + TAIL + b"Subject: x\n" + BODY)
    # bare CR and LF: a CR inside a header value, LF-only and CR-only body lines
    write(d, "crlf.eml", FROM + b"Subject: bare\rCR and\r\n folding\n" + TAIL +
          b"X-Bare: a\rb\r\n\r\nline one\rline two\nline three\r\n\r\r\n")
    write(d, "crfrom.eml", b"From: alice@aligned.example\rFrom: evil@attacker.example\n" + TAIL +
          b"Subject: CR in From\n" + BODY)


if __name__ == "__main__":
    main()
