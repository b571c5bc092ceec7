#!/usr/bin/python3
"""authres-check.py: parse the Authentication-Results fields a milter added.

Reads milter-send output on stdin; every "addheader Authentication-Results: V"
or "insheader N Authentication-Results: V" line is parsed with Debian's
python3-authres (an RFC 8601 parser independent of ours). Prints one summary
line per field, "authserv-id method=result ptype.prop=value ...", and exits 0
when there was at least one such field and all of them parsed; 1 otherwise
(the reason on stderr). --none: succeed only when there is no such field.
"""
import re
import sys

import authres

LINE = re.compile(r'^(?:addheader|insheader [0-9]+) Authentication-Results: ?(.*)$',
                  re.IGNORECASE)


def summary(field):
    parts = [field.authserv_id]
    for res in field.results:
        words = ['%s=%s' % (res.method, res.result)]
        for prop in res.properties:
            words.append('%s.%s=%s' % (prop.type, prop.name, prop.value))
        parts.append(' '.join(words))
    return '; '.join(parts)


def main():
    want_none = '--none' in sys.argv[1:]
    found = 0
    for line in sys.stdin:
        m = LINE.match(line.rstrip('\n'))
        if not m:
            continue
        found += 1
        value = m.group(1)
        try:
            field = authres.AuthenticationResultsHeader.parse(
                'Authentication-Results: ' + value)
        except Exception as exc:  # the library raises several types
            sys.stderr.write('unparsable Authentication-Results: %s\n  %s: %s\n'
                             % (value, type(exc).__name__, exc))
            return 1
        print(summary(field))
    if want_none:
        if found:
            sys.stderr.write('%d Authentication-Results field(s), want none\n' % found)
        return 1 if found else 0
    if not found:
        sys.stderr.write('no Authentication-Results field added\n')
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
