#!/usr/bin/env python3
"""report-dump.py: prints aggregate DMARC reports as canonical text lines.

usage: report-dump.py [--short] FILE...

FILE is a report as .xml, .xml.gz, or a whole message (.eml) whose
application/gzip attachment is read. Both formats are read (RFC 9990 with
its namespace, RFC 7489 without). For each report it prints

  meta org_name=... email=... extra_contact_info=... report_id=... begin=... end=...
  policy domain=... p=... (every policy_published element, in order)
  record ip=... n=... disp=... dkim=... spf=... [reason=TYPE:COMMENT]
         hfrom=... efrom=... dkimres=D/S/RESULT[/HUMAN],... spfres=D/RESULT

(one line per record, sorted; reports sorted by their policy). Addresses are printed in the canonical
compressed form, an IPv4-mapped IPv6 address as IPv4, so that both formats
give the same lines. --short prints only the policy domain and p, the
number of DKIM results and the first one (what
tests/reporter/dmarc-perl-parse.pl can give), for comparing with the
Mail::DMARC parser.
"""
import email
import email.policy
import gzip
import ipaddress
import sys
import xml.etree.ElementTree as ET


def local(tag):
    return tag.split('}', 1)[1] if tag.startswith('{') else tag


def child(node, name):
    for c in node:
        if local(c.tag) == name:
            return c
    return None


def children(node, name):
    return [c for c in node if local(c.tag) == name]


def text(node, path):
    for name in path.split('/'):
        if node is None:
            return ''
        node = child(node, name)
    return (node.text or '') if node is not None else ''


def canon_ip(ip):
    try:
        a = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if a.version == 6 and a.ipv4_mapped is not None:
        a = a.ipv4_mapped
    return a.compressed


def load(path):
    data = open(path, 'rb').read()
    if path.endswith('.eml'):
        msg = email.message_from_bytes(data, policy=email.policy.compat32)
        for part in msg.walk():
            if part.get_content_type() == 'application/gzip':
                return gzip.decompress(part.get_payload(decode=True))
        raise SystemExit('%s: no application/gzip part' % path)
    if data[:2] == b'\x1f\x8b':
        return gzip.decompress(data)
    return data


def dump(path, short):
    root = ET.fromstring(load(path))
    meta = child(root, 'report_metadata')
    out = ['meta ' + ' '.join('%s=%s' % (k, text(meta, p)) for k, p in (
        ('org_name', 'org_name'), ('email', 'email'),
        ('extra_contact_info', 'extra_contact_info'),
        ('report_id', 'report_id'), ('begin', 'date_range/begin'),
        ('end', 'date_range/end')))]
    pol = child(root, 'policy_published')
    if short:
        out.append('policy domain=%s p=%s' % (text(pol, 'domain'), text(pol, 'p')))
    else:
        out.append('policy ' + ' '.join('%s=%s' % (local(c.tag), c.text or '') for c in pol))
    recs = []
    for rec in children(root, 'record'):
        row = child(rec, 'row')
        pe = child(row, 'policy_evaluated')
        line = 'record ip=%s n=%s disp=%s dkim=%s spf=%s' % (
            canon_ip(text(row, 'source_ip')), text(row, 'count'),
            text(pe, 'disposition'), text(pe, 'dkim'), text(pe, 'spf'))
        for r in children(pe, 'reason'):
            line += ' reason=%s:%s' % (text(r, 'type'), text(r, 'comment'))
        line += ' hfrom=%s efrom=%s' % (text(rec, 'identifiers/header_from'),
                                        text(rec, 'identifiers/envelope_from'))
        auth = child(rec, 'auth_results')
        dk = []
        for d in children(auth, 'dkim'):
            s = '%s/%s/%s' % (text(d, 'domain'), text(d, 'selector'), text(d, 'result'))
            if child(d, 'human_result') is not None and not short:
                s += '/' + text(d, 'human_result')
            dk.append(s)
        if short:
            line += ' dkim#=%d dkim1=%s' % (len(dk), dk[0] if dk else '')
        else:
            line += ' dkimres=' + ','.join(dk)
        spf = children(auth, 'spf')
        line += ' spfres=' + ','.join('%s/%s' % (text(s, 'domain'), text(s, 'result'))
                                      for s in spf)
        recs.append(line)
    return out + sorted(recs)


def main():
    args = sys.argv[1:]
    short = False
    if args and args[0] == '--short':
        short = True
        args = args[1:]
    if not args:
        sys.exit(__doc__)
    # reports ordered by their policy line, so the order does not depend on
    # the file names (which hold the report ids)
    for lines in sorted((dump(path, short) for path in args), key=lambda d: d[1:]):
        for line in lines:
            print(line)


if __name__ == '__main__':
    main()
