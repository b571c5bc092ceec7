#!/bin/bash
# dns_faults.sh: the milter under DNS faults stays within its per-message
# DNS budget (DNSMessageTimeout 3 s, DNSTimeout 1 s: tests/hardening/
# milter.conf.in), answers temperror / PROCESSING_FAILED where DNS kept it
# from a verdict, and releases every connection in time.
#
# Real servers on loopback only:
#  - "down": Nameservers point at a loopback port nobody listens on;
#  - "slow" (2 s per answer), "garbage" (random bytes) and "truncated" (TC
#    over UDP, a cut-off stream over TCP): tests/hardening/dns_responder.py;
#  - huge TXT sets, CNAME loops and chains, over-long records: the test
#    unbound (tests/dns) serving tests/hardening/faults.zone.
# Each scenario is one message sent by tests/hardening/milter_client.py; all
# are sent at once and each must finish within the budget plus HX_SLACK
# seconds (default 4: a loaded machine and ASan). Without the budget, the
# 12 slow DKIM keys alone would take 12 s. Then every milter must stop
# cleanly on SIGTERM (exit 0, no sanitizer report).
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/tools/milter-lib.sh"
. "$top_srcdir/tests/hardening/hardening-lib.sh"

if [ ! -x "$TK_MILTER" ]; then
	echo "1..0 # SKIP $TK_MILTER not built"
	exit 0
fi
if [ -z "$HX_PY" ]; then
	echo "1..0 # SKIP python3 not installed"
	exit 0
fi
BUDGET=3
SLACK=${HX_SLACK:-4}

tk_setup dmarc-hardening-dns
mkdir -p "$TK_WORK/msg"
DNS_NO_TRAP=yes
DNS_WORKDIR=$TK_WORK/dns
. "$top_srcdir/tests/dns/dns-lib.sh"
cleanup() {
	local name
	for name in "${!TK_PID[@]}"; do
		tk_milter_kill "$name"
	done
	hx_responder_stop
	dns_stop
}
trap cleanup EXIT
TK_CLEANUP=cleanup
trap 'exit 129' HUP INT TERM
dns_start "$HX_DIR/faults.zone"
if ! hx_responder_start; then
	echo "Bail out! the misbehaving DNS responder did not start"
	exit 99
fi
down_port=$(tk_free_port)

conf=$HX_DIR/milter.conf.in
for spec in "faulty=127.0.0.1@$HX_RESP_PORT" "down=127.0.0.1@$down_port" "zone=$DNS_SERVER"; do
	if ! tk_milter_start "${spec%%=*}" "$conf" "Nameservers=${spec#*=}"; then
		echo "Bail out! milter ${spec%%=*} did not start (log kept in $TK_WORK)"
		TK_KEEP=yes
		exit 99
	fi
done

# msg FILE FROM [EXTRA-HEADER-LINES]: a small message.
msg() {
	{
		printf 'From: %s\n' "$2"
		[ -n "${3:-}" ] && printf '%s' "$3"
		printf 'To: carol@receiver.example\nSubject: DNS fault\n'
		printf 'Message-ID: <%s@hardening.example>\n\nHello.\n' "$(basename "$1")"
	} >"$1"
}

# sig D: a well-formed DKIM-Signature for domain D whose key lookup is
# the only thing that can happen (the signature itself is bogus).
sig() {
	printf 'DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=%s; s=sel;\n' "$1"
	printf '\th=from:to:subject; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;\n'
	printf '\tb=dGhpcyBpcyBub3QgYSBzaWduYXR1cmUgYXQgYWxs\n'
}

sigs=
for i in $(seq 1 12); do
	sigs="$sigs$(sig "k$i.slow.example")"$'\n'
done
msg "$TK_WORK/msg/down.eml" 'a@policy.example' "$(sig key.example)"$'\n'
msg "$TK_WORK/msg/slow.eml" 'a@x.slow.example'
msg "$TK_WORK/msg/slowkeys.eml" 'a@x.slow.example' "$sigs"
msg "$TK_WORK/msg/garbage.eml" 'a@x.garbage.example' "$(sig k.garbage.example)"$'\n'
msg "$TK_WORK/msg/trunc.eml" 'a@x.trunc.example' "$(sig k.trunc.example)"$'\n'
msg "$TK_WORK/msg/mixed.eml" 'a@x.slow.example, b@y.garbage.example, c@z.trunc.example'
for d in hugetxt loop chain bigrec bigkey; do
	msg "$TK_WORK/msg/$d.eml" "a@$d.hardening" "$(sig bigkey.hardening)"$'\n'
done

# The scenarios: name instance mail-from :: checks (hx_check patterns).
SCENARIOS=$(cat <<'EOF'
down      down   b@sender.example      :: spf=temperror ; dkim=temperror ; dmarc=temperror ; X-SPF-Verdict: PROCESSING_FAILED ; X-DKIM-Verdict: PROCESSING_FAILED ; X-DMARC-Verdict: PROCESSING_FAILED ; result accept
slow      faulty b@y.slow.example      :: spf=temperror ; dmarc=temperror ; X-DMARC-Verdict: PROCESSING_FAILED ; result accept
slowkeys  faulty b@y.slow.example      :: dkim=temperror[^;]*header\.d=k1\.slow\.example ; dkim=temperror[^;]*header\.d=k10\.slow\.example ; !dkim=pass ; dmarc=temperror ; X-DKIM-Verdict: PROCESSING_FAILED ; result accept
garbage   faulty b@y.garbage.example   :: spf=temperror ; dkim=temperror ; dmarc=temperror ; X-DMARC-Verdict: PROCESSING_FAILED ; result accept
trunc     faulty b@y.trunc.example     :: spf=temperror ; dkim=temperror ; dmarc=temperror ; X-DMARC-Verdict: PROCESSING_FAILED ; result accept
mixed     faulty b@y.trunc.example     :: dmarc=temperror ; X-DMARC-Verdict: PROCESSING_FAILED ; result accept
hugetxt   zone   b@hugespf.hardening   :: spf=permerror ; X-SPF-Verdict: PROCESSING_FAILED ; dmarc=none[^;]*header\.from=hugetxt\.hardening ; X-DMARC-Verdict: GRAY ; result accept
loop      zone   b@loop.hardening      :: dmarc=temperror[^;]*header\.from=loop\.hardening ; X-DMARC-Verdict: PROCESSING_FAILED ; result accept
chain     zone   b@chain.hardening     :: dmarc=(temperror|none)[^;]*header\.from=chain\.hardening ; !dmarc=pass ; result accept
bigrec    zone   b@bigrec.hardening    :: dmarc=none[^;]*header\.from=bigrec\.hardening ; X-DMARC-Verdict: GRAY ; result accept
bigkey    zone   b@bigkey.hardening    :: dkim=(permerror|fail)[^;]*header\.d=bigkey\.hardening ; !dkim=pass ; spf=fail ; result accept
EOF
)

# All at once: each one measures its own time.
declare -A SPID
while read -r name inst from _; do
	[ -n "$name" ] || continue
	hx_send "$name" "$inst" "$TK_WORK/msg/$name.eml" --client-ip 192.0.2.40 \
		--helo mx.sender.example --mail-from "$from" --queue-id "DNS$name" --timeout 60 &
	SPID[$name]=$!
done <<<"$SCENARIOS"

while read -r name inst from rest; do
	[ -n "$name" ] || continue
	wait "${SPID[$name]}"
	st=$?
	checks=${rest#:: }
	[ $st = 0 ] && hx_check "$name" "$checks"
	tk_ok $? "$name: verdict ($inst)"
	el=$(hx_elapsed "$name")
	hx_le "$el" $((BUDGET + SLACK))
	st=$?
	[ $st = 0 ] || tk_diag "$name: took ${el:-?} s; the budget is ${BUDGET} s (+${SLACK} s slack)"
	tk_ok $st "$name: done within the DNS budget (${el:-?} s)"
done <<<"$SCENARIOS"

# Nothing lingers: no message is still counted as in progress, and every
# milter answers a fresh message right away.
msg "$TK_WORK/msg/after.eml" 'a@after.hardening'
for inst in faulty down zone; do
	hx_send "after-$inst" "$inst" "$TK_WORK/msg/after.eml" --mail-from b@after.hardening \
		--queue-id "AFTER$inst" --timeout 30
	st=$?
	[ $st = 0 ] && hx_check "after-$inst" "result accept"
	tk_ok $? "$inst: still serving after the faults"
done

for inst in faulty down zone; do
	tk_milter_stop "$inst"
	tk_ok $? "$inst: clean exit on SIGTERM (status 0, no sanitizer report)"
	! grep -q "still in progress" "$TK_WORK/$inst.log"
	tk_ok $? "$inst: no message left in progress at stop"
done
hx_responder_stop
tk_diag "$(cat "$TK_WORK/responder.log")"
tk_done
