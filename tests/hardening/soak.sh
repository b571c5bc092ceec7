#!/bin/bash
# soak.sh: dmarc-milter under steady load for a long time; its memory must
# stay flat. Not part of `make check` (it runs for as long as you ask).
#
# usage (from a build directory; a build without sanitizers gives RSS
# figures that mean something, e.g. the one of `make check-valgrind`):
#     bash ../tests/hardening/soak.sh 3600 [CLIENTS]     # one hour, 4 clients
#
# Starts the loopback test DNS server with the integration zone, one milter
# (LogLevel warning, event log on), and CLIENTS loops of tests/tools/
# milter-send cycling through a mix of messages: aligned, DKIM-signed,
# spoofed p=reject, several From, no From, SERVFAIL and slow (timeout) DNS,
# NUL bytes and 2,000 header fields. RSS is sampled every SOAK_SAMPLE
# seconds (default 60) into $TK_WORK/rss.log. At the end: messages sent,
# failed conversations, RSS after the warm-up sample, at the end and at
# its peak. TAP checks: every conversation completed, the milter is still up
# and stops cleanly, and RSS grew by less than SOAK_MAX_GROWTH_MB (default
# 32) between the second sample and the end.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/tools/milter-lib.sh"
. "$top_srcdir/tests/hardening/hardening-lib.sh"

SECONDS_TOTAL=${1:-300}
CLIENTS=${2:-4}
SAMPLE=${SOAK_SAMPLE:-60}
MAX_GROWTH_MB=${SOAK_MAX_GROWTH_MB:-32}
for f in "$TK_MILTER" "$TK_SEND" "$TK_SIGN"; do
	if [ ! -x "$f" ]; then
		echo "1..0 # SKIP $f not built"
		exit 0
	fi
done

tk_setup dmarc-soak
mkdir -p "$TK_WORK/msg" "$TK_WORK/count"
cpids=()
# the load clients, stopped with everything else (tk_cleanup)
stop_clients() {
	local p
	for p in "${cpids[@]}"; do kill "$p" 2>/dev/null; done
}
TK_EXTRA_CLEANUP=stop_clients
tk_dns_start "$top_srcdir/tests/integration/example.zone.in"

sed -e 's/^LogLevel .*/LogLevel warning/' "$HX_DIR/milter.conf.in" >"$TK_WORK/soak.conf.in"
if ! tk_milter_start soak "$TK_WORK/soak.conf.in" "Nameservers=$DNS_SERVER"; then
	echo "Bail out! the milter did not start"
	exit 99
fi
pid=${TK_PID[soak]}

# The message mix.
m() { printf 'From: %s\nTo: carol@receiver.example\nSubject: soak\nDate: Tue, 02 Jan 2024 10:00:00 +0000\n\n%s\n' "$1" "${2:-Hello.}"; }
m 'alice@aligned.example' >"$TK_WORK/msg/01-aligned.eml"
m 'alice@aligned.example' | "$TK_SIGN" --key "$TK_KEYS/rsa2048.key" --domain aligned.example \
	--selector s2048 >"$TK_WORK/msg/02-signed.eml"
m 'ceo@preject.example' >"$TK_WORK/msg/03-spoof.eml"
m 'a@pnone.example, b@preject.example, c@[192.0.2.1]' >"$TK_WORK/msg/04-multi.eml"
printf 'Subject: no from\n\nbody\n' >"$TK_WORK/msg/05-nofrom.eml"
m 'x@sf.servfail.test' >"$TK_WORK/msg/06-servfail.eml"
m 'x@slow.timeout.test' >"$TK_WORK/msg/07-timeout.eml"
{ printf 'X-Nul: a\0b\n'; m 'alice@aligned.example' "$(printf 'body\001\002')"; } >"$TK_WORK/msg/08-nul.eml"
{ for i in $(seq 1 900); do printf 'X-F%d: v\n' "$i"; done; m 'alice@aligned.example'; } \
	>"$TK_WORK/msg/09-headers.eml"
msgs=("$TK_WORK"/msg/*.eml)

end=$(($(date +%s) + SECONDS_TOTAL))
client() { # client N: sends until the end; counts ok/failed in count/N.{ok,fail}
	local n=$1 i=0 ok=0 fail=0 f
	while [ "$(date +%s)" -lt "$end" ]; do
		f=${msgs[$(((i + n) % ${#msgs[@]}))]}
		if "$TK_SEND" --socket "${TK_SOCKET[soak]}" --client-ip 192.0.2.10 \
			--helo mx.aligned.example --mail-from bounce@aligned.example \
			--rcpt carol@receiver.example --queue-id "S$n$i" --timeout 60 "$f" \
			>/dev/null 2>>"$TK_WORK/count/$n.err"; then
			ok=$((ok + 1))
		else
			fail=$((fail + 1))
		fi
		i=$((i + 1))
		if [ $((i % 20)) = 0 ]; then echo "$ok $fail" >"$TK_WORK/count/$n"; fi
	done
	echo "$ok $fail" >"$TK_WORK/count/$n"
}
for c in $(seq 1 "$CLIENTS"); do
	client "$c" &
	cpids+=($!)
done

t0=$(date +%s)
: >"$TK_WORK/rss.log"
while :; do
	now=$(date +%s)
	echo "$((now - t0)) $(hx_rss "$pid")" >>"$TK_WORK/rss.log"
	[ "$now" -ge "$end" ] && break
	sleep "$SAMPLE"
done
for p in "${cpids[@]}"; do wait "$p"; done
cpids=()
echo "$(($(date +%s) - t0)) $(hx_rss "$pid")" >>"$TK_WORK/rss.log"

sent=0
failed=0
for f in "$TK_WORK"/count/[0-9]*; do
	case $f in *.err) continue ;; esac
	read -r ok fail <"$f"
	sent=$((sent + ok + fail))
	failed=$((failed + fail))
done
rss_start=$(sed -n 2p "$TK_WORK/rss.log" | awk '{print $2}')
rss_first=$(sed -n 1p "$TK_WORK/rss.log" | awk '{print $2}')
rss_end=$(tail -n 1 "$TK_WORK/rss.log" | awk '{print $2}')
hwm=$(hx_hwm "$pid")
tk_diag "$sent messages in $((SECONDS_TOTAL / 60)) min $((SECONDS_TOTAL % 60)) s from $CLIENTS clients, $failed failed" \
	"RSS: ${rss_first:-?} kB at start, ${rss_start:-?} kB after warm-up, ${rss_end:-?} kB at the end, peak ${hwm:-?} kB" \
	"samples (seconds kB): $(tr '\n' ' ' <"$TK_WORK/rss.log")"
[ "$sent" -gt 0 ] && [ "$failed" = 0 ]
tk_ok $? "every conversation completed ($sent sent, $failed failed)"
kill -0 "$pid" 2>/dev/null
tk_ok $? "the milter is still running"
[ -n "$rss_start" ] && [ -n "$rss_end" ] && [ $((rss_end - rss_start)) -le $((MAX_GROWTH_MB * 1024)) ]
tk_ok $? "RSS growth after warm-up $(( (${rss_end:-0} - ${rss_start:-0}) / 1024 )) MB (at most $MAX_GROWTH_MB MB)"
tk_milter_stop soak
tk_ok $? "clean exit on SIGTERM"
tk_done
