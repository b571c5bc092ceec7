#!/bin/bash
# hostile_mail.sh: hostile messages and hostile clients against a real
# dmarc-milter (ASan/LSan build under make check).
#
# Messages (tests/hardening/make_hostile.py): 10,000 header fields, a 1 MB
# and a 60 KB header line, a 60 KB From, 100 DKIM signatures, 50 From
# addresses and 50 From fields, NUL bytes, invalid UTF-8, bare CR and LF,
# DKIM h= lists naming more fields than the message has (one valid, one that
# overran a heap block inside libopendkim 2.11).
# Each must get an answer within HX_MSG_SECONDS (default 20) with a correct
# verdict or an honest permerror, and never a crash; the milter's peak memory
# must stay under HX_MAX_RSS_MB (default 256 MB under ASan, whose
# quarantine is capped at 16 MB here). A packet over libmilter's 64 KB
# limit (the 1 MB line) makes libmilter drop that connection: the MTA
# then applies its milter_default_action (Postfix: tempfail); the milter
# must go on serving.
# Clients: a hang-up and an SMFIC_ABORT after every milter stage; then the
# milter must stop cleanly on SIGTERM: exit 0 and no LeakSanitizer report
# (every per-message and per-connection allocation was freed).
# Uses tests/hardening/milter_client.py (not milter-send: it refuses more
# than 1,000 header fields and cuts nothing, by design).
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/tools/milter-lib.sh"
. "$top_srcdir/tests/hardening/hardening-lib.sh"

for f in "$TK_MILTER" "$TK_SIGN"; do
	if [ ! -x "$f" ]; then
		echo "1..0 # SKIP $f not built"
		exit 0
	fi
done
if [ -z "$HX_PY" ]; then
	echo "1..0 # SKIP python3 not installed"
	exit 0
fi
if ! command -v openssl >/dev/null 2>&1; then
	echo "1..0 # SKIP openssl not installed (needed for the DKIM key records)"
	exit 0
fi
MSG_SECONDS=${HX_MSG_SECONDS:-20}
MAX_RSS_MB=${HX_MAX_RSS_MB:-256}

tk_setup dmarc-hardening-mail
tk_dns_start "$top_srcdir/tests/integration/example.zone.in"

if ! "$HX_PY" "$HX_DIR/make_hostile.py" "$TK_WORK/msg" "$TK_SIGN" "$TK_KEYS/rsa2048.key" \
	2>"$TK_WORK/make.err"; then
	echo "Bail out! make_hostile.py failed: $(cat "$TK_WORK/make.err")"
	exit 99
fi

# A small ASan quarantine, so that peak RSS says something about our memory.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=16"
if ! tk_milter_start mta "$HX_DIR/milter.conf.in" "Nameservers=$DNS_SERVER" \
	"DKIMMaxSignatures=100"; then
	echo "Bail out! the milter did not start (log kept in $TK_WORK)"
	TK_KEEP=yes
	exit 99
fi
pid=${TK_PID[mta]}
rss0=$(hx_rss "$pid")

OWN="--client-ip 192.0.2.10 --helo mx.aligned.example --mail-from bounce@aligned.example"
# name :: checks. A message read correctly passes SPF and DMARC (aligned).
SCENARIOS=$(cat <<'EOF'
headers10k   :: spf=pass ; dmarc=pass[^;]*header\.from=aligned\.example ; X-DMARC-Verdict: PASS ; result accept
line60k      :: dmarc=pass ; result accept
fromlong     :: dmarc=permerror ; X-DMARC-Verdict: PROCESSING_FAILED ; result accept
dkim100      :: dkim=permerror[^;]*header\.d=d1\.aligned\.example ; dmarc=pass ; X-DKIM-Verdict: (PASS|PROCESSING_FAILED) ; result accept
from50       :: dmarc=permerror ; !dmarc=pass ; X-DMARC-Verdict: PROCESSING_FAILED ; result accept
fromfields50 :: !dmarc=pass ; dmarc=permerror[^;]*header\.from=aligned\.example ; X-DMARC-Verdict: PROCESSING_FAILED ; result accept
fromliteral  :: !dmarc=pass ; dmarc=permerror[^;]*header\.from=aligned\.example ; X-DMARC-Verdict: PROCESSING_FAILED ; result accept
fromcomment  :: !dmarc=pass ; dmarc=permerror ; X-DMARC-Verdict: PROCESSING_FAILED ; result accept
oversign     :: dkim=pass[^;]*header\.d=aligned\.example ; X-DKIM-Verdict: PASS ; dmarc=pass ; result accept
hoverrun     :: dkim=(fail|permerror)[^;]*header\.d=aligned\.example ; !dkim=pass ; dmarc=pass ; result accept
hoverrun3    :: dkim=(fail|permerror)[^;]*header\.d=aligned\.example ; !dkim=pass ; dmarc=pass ; result accept
nul          :: dmarc=pass ; result accept
nulfrom      :: dmarc=pass[^;]*header\.from=aligned\.example ; !attacker ; result accept
utf8         :: dmarc=pass ; result accept
utf8domain   :: dmarc=permerror ; X-DMARC-Verdict: PROCESSING_FAILED ; result accept
crlf         :: dmarc=pass ; result accept
crfrom       :: !dmarc=pass ; X-DMARC-Verdict: PROCESSING_FAILED ; result accept
EOF
)
while read -r name rest; do
	[ -n "$name" ] || continue
	# shellcheck disable=SC2086
	hx_send "$name" mta "$TK_WORK/msg/$name.eml" $OWN --queue-id "H$name" --timeout 60
	st=$?
	[ $st = 0 ] && hx_check "$name" "${rest#:: }"
	tk_ok $? "$name: answered with the expected verdict"
	el=$(hx_elapsed "$name")
	hx_le "$el" "$MSG_SECONDS"
	tk_ok $? "$name: answered within ${MSG_SECONDS} s (${el:-?} s)"
done <<<"$SCENARIOS"

# The h= overrun once more, many times: heap damage would show sooner or later.
for i in $(seq 1 20); do
	# shellcheck disable=SC2086
	hx_send "hoverrun-$i" mta "$TK_WORK/msg/hoverrun3.eml" $OWN --queue-id "HO$i" --timeout 30 ||
		break
done
kill -0 "$pid" 2>/dev/null && grep -q "^result accept" "$TK_WORK/out/hoverrun-20.out"
tk_ok $? "20 more h= overrun messages: the milter is still up"

# Every added field stays within the limits of a header line: no line of an
# added field over 998 octets (RFC 5322 §2.1.1), no CR, no NUL, and no field
# over AUTHRES_MAX_LEN (60000) plus its name.
! grep -hE '^insheader ' "$TK_WORK"/out/*.out | awk '{ if (length($0) > 60100) bad = 1 } END { exit !bad }'
tk_ok $? "no added field is longer than an Authentication-Results may be"

# The 1 MB line: libmilter refuses the packet and drops the connection.
# shellcheck disable=SC2086
hx_send line1m mta "$TK_WORK/msg/line1m.eml" $OWN --queue-id Hline1m --timeout 60
st=$?
grep -Eq "closed by the filter|reset by peer|Broken pipe" "$TK_WORK/out/line1m.err" ||
	grep -q "^result accept" "$TK_WORK/out/line1m.out"
tk_ok $? "line1m: connection dropped by libmilter, or the message evaluated (status $st)"
kill -0 "$pid" 2>/dev/null
tk_ok $? "the milter is still running after the 1 MB line"

# Hang-ups and aborts at every stage, then a normal message on a fresh
# connection must still work.
printf 'From: alice@aligned.example\nSubject: hang-up\n\nbody\n' >"$TK_WORK/msg/small.eml"
bad=
for stage in optneg connect helo mail rcpt data header eoh body eom; do
	for how in stop abort; do
		# shellcheck disable=SC2086
		hx_send "$how-$stage" mta "$TK_WORK/msg/small.eml" $OWN --"$how"-after "$stage" \
			--queue-id "X$how$stage" --timeout 30 || bad="$bad $how-$stage"
	done
done
[ -z "$bad" ]
tk_ok $? "hang-up and abort after every stage (failed:${bad:- none})"
# shellcheck disable=SC2086
hx_send after mta "$TK_WORK/msg/small.eml" $OWN --queue-id Hafter --timeout 30
st=$?
[ $st = 0 ] && hx_check after "dmarc=pass ; result accept"
tk_ok $? "a normal message after the hang-ups"

hwm=$(hx_hwm "$pid")
rss1=$(hx_rss "$pid")
tk_diag "milter RSS: ${rss0:-?} kB at start, ${rss1:-?} kB at the end, peak ${hwm:-?} kB"
[ -n "$hwm" ] && [ "$hwm" -le $((MAX_RSS_MB * 1024)) ]
tk_ok $? "peak RSS ${hwm:-?} kB within ${MAX_RSS_MB} MB"

tk_milter_stop mta
tk_ok $? "clean exit on SIGTERM: status 0, no leak or other sanitizer report"
! grep -q "still in progress" "$TK_WORK/mta.log"
tk_ok $? "no message left in progress at stop"
tk_done
