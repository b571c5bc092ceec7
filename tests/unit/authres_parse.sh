#!/bin/sh
# authres_parse.sh: every Authentication-Results value lib/authres builds must
# parse with an independent RFC 8601 parser (Debian python3-authres) and yield
# the methods, results and properties we meant. Prints TAP.
#
# The sample values come from tests/unit/authres_test --samples FILE: records
# separated by a blank line; each record is the folded value followed by one
# summary line "method=result ptype.prop=value ...|method=result ...".
builddir=${top_builddir:-.}
prog="$builddir/tests/unit/authres_test"

# A python3 that has the authres module (pyenv shims may hide Debian's).
py=
for cand in python3 /usr/bin/python3; do
	if command -v "$cand" >/dev/null 2>&1 &&
	   "$cand" -c 'import authres' >/dev/null 2>&1; then
		py=$cand
		break
	fi
done
if [ -z "$py" ]; then
	echo "1..0 # SKIP python3-authres not installed (apt-get install python3-authres)"
	exit 0
fi
if [ ! -x "$prog" ]; then
	echo "1..0 # SKIP $prog not built"
	exit 0
fi

tmp=$(mktemp) || exit 1
trap 'rm -f "$tmp"' EXIT
if ! "$prog" --samples "$tmp" >/dev/null; then
	echo "not ok 1 - authres_test --samples ran"
	echo "1..1"
	exit 1
fi

"$py" - "$tmp" <<'EOF'
import sys
import authres

def summary(header):
    parts = []
    for r in header.results:
        words = ["%s=%s" % (r.method, r.result)]
        words += ["%s.%s=%s" % (p.type, p.name, p.value) for p in r.properties]
        parts.append(" ".join(words))
    return "|".join(parts)

text = open(sys.argv[1]).read()
records = [r for r in text.split("\n\n") if r.strip()]
failed = 0
for n, rec in enumerate(records, 1):
    lines = rec.split("\n")
    value, want = "\n".join(lines[:-1]), lines[-1]
    label = want.split("|")[0]
    try:
        h = authres.AuthenticationResultsHeader.parse(
            "Authentication-Results: " + value)
        got = summary(h)
        ok = got == want and h.authserv_id == "mx.example.org"
    except Exception as e:  # a parse error is a failed check
        got, ok = "exception %r" % (e,), False
    if ok:
        print("ok %d - python3-authres parses: %s" % (n, label))
    else:
        failed += 1
        print("not ok %d - python3-authres parses: %s: got %s, want %s"
              % (n, label, got, want))
print("1..%d" % len(records))
sys.exit(1 if failed else 0)
EOF
