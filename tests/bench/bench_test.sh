#!/bin/bash
# bench_test.sh: the benchmark's tools work (not how fast anything is).
#
# Generates a small corpus with tests/bench/bench-corpus, then runs
# tests/bench/run-bench.sh --quick --no-chain: 60 signed messages, the
# loopback DNS server, dmarc-milter, and milter-bench sending 50 messages
# over 4 connections. Every message must be answered, with no protocol error
# and the DMARC result the corpus expects. Timing goals live in `make bench`
# (BENCHMARKS), never here.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$(pwd)}"
export top_srcdir top_builddir
CORPUS=$top_builddir/tests/bench/bench-corpus

for f in "$CORPUS" "$top_builddir/tests/bench/milter-bench" \
	"$top_builddir/milter/dmarc-milter" "$top_builddir/tests/tools/dkim-sign"; do
	if [ ! -x "$f" ]; then
		echo "1..0 # SKIP $f not built"
		exit 0
	fi
done
for cmd in unbound openssl; do
	if ! command -v "$cmd" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$cmd" ]; then
		echo "1..0 # SKIP $cmd not installed"
		exit 0
	fi
done

work=$(mktemp -d "${TMPDIR:-/tmp}/bench-test.XXXXXX") || {
	echo "Bail out! mktemp failed"
	exit 99
}
trap 'rm -rf "$work"' EXIT
n=0 failed=0
ok() { # STATUS LABEL
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi
}

# 1-3: the corpus generator.
"$CORPUS" -n 20 -d 10 -s 7 "$work/c1" 2>"$work/c1.err"
ok $? "bench-corpus runs"
lines=$(wc -l <"$work/c1/plan" 2>/dev/null || echo 0)
emls=$(find "$work/c1/unsigned" -name '*.eml' 2>/dev/null | wc -l)
[ "$lines" -eq 20 ] && [ "$emls" -eq 20 ] && grep -q '^_dmarc.d009 ' "$work/c1/bench.zone.in"
ok $? "20 messages, their plan and 10 policy domains in the zone"
"$CORPUS" -n 20 -d 10 -s 7 "$work/c2" 2>/dev/null && diff -r "$work/c1" "$work/c2" >/dev/null
ok $? "the same seed gives the same corpus"

# 4-6: the whole benchmark, small.
BENCH_WORK=$work/run bash "$top_srcdir/tests/bench/run-bench.sh" --quick --no-chain \
	--messages 50 --conns 4 >"$work/out" 2>"$work/err"
rc=$?
ok $rc "run-bench.sh --quick --no-chain: exit 0"
if [ "$rc" -ne 0 ]; then
	sed 's/^/# /' "$work/out" "$work/err" | tail -n 30
fi
grep -Eq '^ +errors / unexpected results +0 / 0 *' "$work/out"
ok $? "50 messages answered, 0 protocol errors, 0 unexpected DMARC results"
grep -Eq '^ +DNS queries / message +[0-9.]+' "$work/out" &&
	grep -Eq '^ +CPU-seconds / 1000 messages +[0-9.]+' "$work/out"
ok $? "CPU per 1000 messages and DNS queries per message reported"

echo "1..$n"
[ "$failed" -eq 0 ]
