#!/usr/bin/env python3
"""event_rows_check.py TABLE SENT WORKDIR: the event rows against the table.

Called by event_rows_test.sh (see the table format there). TABLE holds the
@record / @define lines and the scenarios; SENT one line per message sent
("name inst t0 t1 status"); WORKDIR the instances' databases
(INST-events.db) and milter-send outputs (out/NAME.out).

Prints "PASS label" or "FAIL label" per scenario and per database, each FAIL
followed by "# ..." lines naming every column that differs ("column: got X,
want Y"). Exit status 0 when everything passed, 1 otherwise.
"""
import os
import re
import shlex
import sqlite3
import sys

# Every column of events, in schema order. A column the database has and this
# list lacks fails the check: a new column must get an expectation here.
EVENT_COLUMNS = [
    'id', 'time', 'day', 'queue_id', 'client_ip', 'helo', 'envelope_from',
    'envelope_to', 'header_from', 'policy_domain', 'policy_origin',
    'discovery_method', 'org_domain', 'p', 'sp', 'np', 'adkim', 'aspf', 'fo',
    't', 'psd', 'pct', 'rua', 'ruf', 'spf_result', 'spf_domain', 'spf_scope',
    'spf_aligned', 'dkim_aligned', 'dmarc_result', 'policy_applied',
    'disposition', 'override_type', 'override_comment', 'spf_verdict',
    'dkim_verdict', 'dmarc_verdict', 'policy_verdict',
]
DKIM_COLUMNS = ['event_id', 'idx', 'domain', 'selector', 'result',
                'human_result', 'aligned']
RECORD_TAGS = ['p', 'sp', 'np', 'adkim', 'aspf', 'fo', 't', 'psd', 'pct',
               'rua', 'ruf']
INT_COLUMNS = {'pct', 'spf_aligned', 'dkim_aligned'}
SHORTHANDS = {
    'pol': ['policy_domain', 'policy_origin', 'discovery_method', 'org_domain'],
    'spf': ['spf_result', 'spf_domain', 'spf_scope'],
    'al': ['spf_aligned', 'dkim_aligned'],
    'dmarc': ['dmarc_result', 'policy_applied', 'disposition'],
    'v': ['spf_verdict', 'dkim_verdict', 'dmarc_verdict', 'policy_verdict'],
}
VERDICT_HEADERS = {
    'spf_verdict': 'X-SPF-Verdict', 'dkim_verdict': 'X-DKIM-Verdict',
    'dmarc_verdict': 'X-DMARC-Verdict', 'policy_verdict': 'X-DMARC-Policy',
}


class TableError(Exception):
    pass


def typed(col, val):
    if val is None or col not in INT_COLUMNS:
        return val
    return int(val)


def parse_table(path):
    records, defines, scenarios = {}, {}, {}
    with open(path, encoding='utf-8') as f:
        for line in f:
            line = line.rstrip('\n')
            if not line.strip():
                continue
            if line.startswith('@record '):
                words = shlex.split(line[len('@record '):])
                records[words[0]] = dict(w.split('=', 1) for w in words[1:])
            elif line.startswith('@define '):
                name, rest = line[len('@define '):].split(' ', 1)
                defines[name] = shlex.split(rest)
            else:
                head, exp = line.split(' :: ', 1)
                fields = head.split()
                if len(fields) != 8:
                    raise TableError('%s: expected 8 fields before "::"' % head)
                sc = dict(zip(['name', 'inst', 'ip', 'helo', 'mail_from', 'msg',
                               'sign', 'opts'], fields))
                sc['rows'] = [shlex.split(part) for part in exp.split(' || ')]
                scenarios[sc['name']] = sc
    return records, defines, scenarios


def expected_row(sc, words, records, defines):
    """The full expected events row (minus id/time/day) and its DKIM rows."""
    want = {c: None for c in EVENT_COLUMNS if c not in ('id', 'time', 'day')}
    want['queue_id'] = sc['name']
    want['client_ip'] = sc['ip']
    want['helo'] = sc['helo']
    mf = sc['mail_from']
    want['envelope_from'] = mf.rsplit('@', 1)[1] if '@' in mf else sc['helo']
    want['envelope_to'] = 'receiver.example'
    if sc['msg'].startswith(('from:', 'big:')):
        want['header_from'] = sc['msg'].rsplit('@', 1)[1].lower()
    dkim = []
    expanded = []
    for w in words:
        expanded.extend(defines.get(w, [w]))
    for w in expanded:
        if '=' not in w:
            raise TableError('%s: "%s" is not column=value' % (sc['name'], w))
        key, val = w.split('=', 1)
        if key in SHORTHANDS:
            parts = val.split('/')
            cols = SHORTHANDS[key]
            if not len(cols) - (1 if key == 'v' else 0) <= len(parts) <= len(cols):
                raise TableError('%s: %s needs %d parts' % (sc['name'], key, len(cols)))
            parts += ['-'] * (len(cols) - len(parts))
            for col, part in zip(cols, parts):
                want[col] = typed(col, None if part == '-' else part)
        elif key == 'rec':
            if val not in records:
                raise TableError('%s: no @record %s' % (sc['name'], val))
            for tag in RECORD_TAGS:
                want[tag] = typed(tag, records[val].get(tag))
        elif key == 'dkim':
            for i, sig in enumerate(val.split(',')):
                d, s, res, al = sig.split('/')
                dkim.append({'idx': i, 'domain': d, 'selector': s, 'result': res,
                             'aligned': int(al)})
        elif key in want:
            want[key] = typed(key, val)
        else:
            raise TableError('%s: unknown column %s' % (sc['name'], key))
    return want, dkim


def verdict_headers(out_path):
    """The verdict fields milter-send saw added, and the final result."""
    found, result = {}, None
    try:
        with open(out_path, encoding='utf-8', errors='replace') as f:
            for line in f:
                m = re.match(r'(?:addheader|insheader \d+) (X-[A-Za-z-]+): ?(.*)$', line)
                if m:
                    found[m.group(1).lower()] = m.group(2).strip()
                m = re.match(r'result (\S+)', line)
                if m:
                    result = m.group(1)
    except OSError:
        pass
    return found, result


def show(v):
    return 'NULL' if v is None else repr(v)


def compare_row(got, want, t0, t1, headers, result, problems, tag):
    for col in got.keys():
        if col not in EVENT_COLUMNS:
            problems.append('%scolumn %s is not checked by event_rows_check.py' % (tag, col))
    for col in EVENT_COLUMNS:
        if col not in got.keys():
            problems.append('%scolumn %s missing from the database' % (tag, col))
    if not isinstance(got['time'], int) or not t0 <= got['time'] <= t1:
        problems.append('%stime: got %s, want %d..%d' % (tag, show(got['time']), t0, t1))
    elif got['day'] != got['time'] // 86400:
        problems.append('%sday: got %s, want %d' % (tag, show(got['day']), got['time'] // 86400))
    for col, w in want.items():
        if got[col] != w:
            problems.append('%s%s: got %s, want %s' % (tag, col, show(got[col]), show(w)))
    # The verdict columns are the fields the milter added to the message.
    if result in ('accept', 'quarantine'):
        for col, hdr in VERDICT_HEADERS.items():
            h = headers.get(hdr.lower())
            if h != got[col]:
                problems.append('%s%s: column %s but header %s %s' %
                                (tag, col, show(got[col]), hdr, show(h)))


def compare_dkim(con, event_id, want, problems, tag):
    cur = con.execute('SELECT * FROM event_dkim WHERE event_id = ? ORDER BY idx', (event_id,))
    cols = [d[0] for d in cur.description]
    for col in cols:
        if col not in DKIM_COLUMNS:
            problems.append('%sevent_dkim column %s is not checked' % (tag, col))
    rows = [dict(zip(cols, r)) for r in cur.fetchall()]
    if len(rows) != len(want):
        problems.append('%sevent_dkim: %d rows, want %d (%s)' %
                        (tag, len(rows), len(want),
                         ', '.join('%s/%s/%s' % (r['domain'], r['selector'], r['result'])
                                   for r in rows)))
        return
    for got, w in zip(rows, want):
        for col in ('idx', 'domain', 'selector', 'result', 'aligned'):
            if got[col] != w[col]:
                problems.append('%sdkim[%d].%s: got %s, want %s' %
                                (tag, w['idx'], col, show(got[col]), show(w[col])))
        # the reason text ("signature verified", "body hash mismatch", ...):
        # free text, but never missing
        hr = got['human_result']
        if not isinstance(hr, str) or not hr.strip():
            problems.append('%sdkim[%d].human_result: got %s, want a reason text' %
                            (tag, w['idx'], show(hr)))


def check_scenario(con, sc, t0, t1, status, workdir, records, defines):
    problems = []
    if status != '0':
        return ['milter-send did not complete (%s); see out/%s.out.err' % (status, sc['name'])]
    con.row_factory = sqlite3.Row
    rows = con.execute('SELECT * FROM events WHERE queue_id = ? ORDER BY id',
                       (sc['name'],)).fetchall()
    wants = [expected_row(sc, words, records, defines) for words in sc['rows']]
    if len(rows) != len(wants):
        return ['%d events rows, want %d' % (len(rows), len(wants))]
    headers, result = verdict_headers(os.path.join(workdir, 'out', sc['name'] + '.out'))
    by_from = {w[0]['header_from']: w for w in wants}
    for i, got in enumerate(rows):
        tag = '' if len(rows) == 1 else 'row %s: ' % got['header_from']
        want, dkim = by_from.get(got['header_from'], wants[i])
        compare_row(got, want, t0, t1, headers, result, problems, tag)
        compare_dkim(con, got['id'], dkim, problems, tag)
    return problems


def main():
    table, sent, workdir = sys.argv[1:4]
    try:
        records, defines, scenarios = parse_table(table)
    except (TableError, ValueError) as exc:
        print('table error: %s' % exc)
        return 2
    failed = False
    per_inst = {}
    with open(sent, encoding='utf-8') as f:
        sent_lines = [line.split() for line in f if line.strip()]
    for name, inst, t0, t1, status in sent_lines:
        per_inst.setdefault(inst, []).append(name)
    cons = {}
    for inst in sorted(per_inst):
        db = os.path.join(workdir, '%s-events.db' % inst)
        try:
            con = sqlite3.connect('file:%s?mode=ro' % db, uri=True)
            ic = con.execute('PRAGMA integrity_check').fetchall()
            n = con.execute('SELECT count(*) FROM events').fetchone()[0]
        except sqlite3.Error as exc:
            print('FAIL %s: database %s: %s' % (inst, db, exc))
            failed = True
            continue
        want_n = sum(len(scenarios[s]['rows']) for s in per_inst[inst])
        if ic != [('ok',)] or n != want_n:
            print('FAIL %s: integrity_check and row count' % inst)
            print('# integrity_check: %s; %d rows, want %d' % (ic, n, want_n))
            failed = True
        else:
            print('PASS %s: integrity_check ok, %d rows for %d messages' %
                  (inst, n, len(per_inst[inst])))
        cons[inst] = con
    for name, inst, t0, t1, status in sent_lines:
        if inst not in cons:
            print('FAIL %s: no database' % name)
            failed = True
            continue
        try:
            problems = check_scenario(cons[inst], scenarios[name], int(t0), int(t1),
                                      status, workdir, records, defines)
        except (TableError, ValueError, KeyError) as exc:
            problems = ['table error: %s' % exc]
        if problems:
            failed = True
            print('FAIL %s: events row' % name)
            for p in problems:
                print('# ' + p)
        else:
            print('PASS %s: events row' % name)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
