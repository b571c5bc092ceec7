#!/bin/bash
# milter_latency.sh: the milter's latency per message with the event log on
# and off, under the same load. Prints figures; asserts nothing.
#
# Starts the loopback test DNS server (the integration zone) and two
# dmarc-milter instances from the integration configuration template: "on"
# writes its event log (production batching: EventBatchMs 200, EventBatchRows
# 1000), "off" has EventDatabase "" (no event log). Both log at info level to
# a file. Then runs tests/eventlog/milter-load against them in alternating
# rounds (on, off, on, off, ...): BENCH_CONNECTIONS concurrent connections
# (default 4), BENCH_MESSAGES messages per round (default 5000) after a
# warm-up of 500, SPF- and DMARC-pass mail with one DKIM signature. Prints
# p50/p90/p99 per round and the median of the rounds for each instance.
#
# The milters listen on loopback TCP ports (the default Socket kind), or on
# UNIX-domain sockets with BENCH_SOCKET=unix.
#
# Run it from a build configured WITHOUT --enable-sanitizers:
#   make bench        (runs it with the other benchmarks), or
#   top_srcdir=.. top_builddir=. ../tests/bench/milter_latency.sh
# Environment: BENCH_MESSAGES, BENCH_CONNECTIONS, BENCH_ROUNDS (default 3),
# BENCH_SOCKET (inet or unix).
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/tools/milter-lib.sh"
it=$top_srcdir/tests/integration
LOAD=$top_builddir/tests/eventlog/milter-load
N=${BENCH_MESSAGES:-5000}
C=${BENCH_CONNECTIONS:-4}
ROUNDS=${BENCH_ROUNDS:-3}
WARMUP=500

for f in "$TK_MILTER" "$TK_SIGN" "$LOAD"; do
	if [ ! -x "$f" ]; then
		echo "milter_latency: $f not built (make check builds it)" >&2
		exit 1
	fi
done
if grep -q __asan_init "$TK_MILTER" 2>/dev/null; then
	echo "milter_latency: note: $TK_MILTER is built with sanitizers; the figures" \
		"are not representative (configure a build without --enable-sanitizers)"
fi

tk_setup dmarc-milter-latency
tk_dns_start "$it/example.zone.in" >/dev/null
TK_SOCKET_KIND=${BENCH_SOCKET:-inet}
common="LogLevel=info EventBatchMs=200 EventBatchRows=1000"
# shellcheck disable=SC2086
if ! tk_milter_start on "$it/milter.conf.in" $common ||
	! tk_milter_start off "$it/milter.conf.in" $common EventDatabase=; then
	echo "milter_latency: a milter did not start; logs in $TK_WORK" >&2
	TK_KEEP=yes
	tk_failed=1
	tk_done >/dev/null
	exit 1
fi
tk_make_message bench from:alice@aligned.example "$TK_WORK/bench.eml"
tk_sign_message rsa2048/aligned.example/s2048 "$TK_WORK/bench.eml" >/dev/null

# round INST K: one round; appends "p50 p90 p99 per_second" to $TK_WORK/INST.rounds.
round() {
	local out=$TK_WORK/$1-$2.out
	if ! "$LOAD" --socket "${TK_SOCKET[$1]}" --client-ip 192.0.2.10 --helo mx.aligned.example \
		--mail-from bounce@aligned.example --rcpt carol@receiver.example \
		--connections "$C" --messages $((N + WARMUP)) --warmup "$WARMUP" \
		--queue-prefix "$1-$2" "$TK_WORK/bench.eml" >"$out" 2>&1; then
		echo "milter_latency: round $2 on $1 failed: $(cat "$out")" >&2
		return 1
	fi
	awk '/^latency_ms/ { l = $3 " " $5 " " $7 } /^messages/ { r = $10 }
		END { print l, r }' "$out" >>"$TK_WORK/$1.rounds"
	printf '  round %d  event log %-3s  %s\n' "$2" "$1" "$(grep ^latency_ms "$out") $(awk '/^messages/ { print $10 " msg/s" }' "$out")"
}

echo "milter latency: $C connections, $N messages per round after $WARMUP warm-up, $ROUNDS rounds"
echo "  ($TK_SOCKET_KIND socket; SPF pass, one rsa2048 DKIM signature, DMARC pass; LogLevel info)"
ok=0
for k in $(seq 1 "$ROUNDS"); do
	round on "$k" && round off "$k" || ok=1
done

# median of column COL of FILE
median() {
	sort -g -k"$2" "$1" | awk -v c="$2" '{ v[NR] = $c } END { print v[int((NR + 1) / 2)] }'
}
if [ "$ok" -eq 0 ]; then
	printf '%-11s %9s %9s %9s %9s\n' "event log" "p50 ms" "p90 ms" "p99 ms" "msg/s"
	for inst in on off; do
		printf '%-11s %9s %9s %9s %9s\n' "$inst" "$(median "$TK_WORK/$inst.rounds" 1)" \
			"$(median "$TK_WORK/$inst.rounds" 2)" "$(median "$TK_WORK/$inst.rounds" 3)" \
			"$(median "$TK_WORK/$inst.rounds" 4)"
	done
	awk -v on="$(median "$TK_WORK/on.rounds" 3)" -v off="$(median "$TK_WORK/off.rounds" 3)" \
		'BEGIN { printf "p99 with the event log minus without: %+.3f ms\n", on - off }'
fi
tk_milter_term on
tk_milter_term off
tk_milter_stop on || ok=1
tk_milter_stop off || ok=1
rows=$(sqlite3 "$TK_WORK/on-events.db" 'SELECT count(*) FROM events' 2>/dev/null)
echo "events written by the \"on\" instance: ${rows:-?} (want $(( ROUNDS * (N + WARMUP) )))"
[ "$ok" -eq 0 ] || { TK_KEEP=yes; tk_failed=1; }
tk_done >/dev/null
exit "$ok"
