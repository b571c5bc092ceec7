#!/bin/bash
# milter_test.sh: the milter against real DNS and a real milter client.
#
# Starts the loopback test DNS server (tests/dns) with example.zone (key
# records from tests/keys filled in), starts one dmarc-milter per
# configuration variant on a free loopback port, sends every scenario of the
# table below with tests/tools/milter-send (signed by tests/tools/dkim-sign
# where the scenario says so), and checks the lines milter-send prints. Each
# scenario is one TAP test; every Authentication-Results field added must also
# parse with python3-authres, and the event database row of each message must
# agree with the header. Logs and outputs are kept when a test fails
# (TK_KEEP=yes keeps them always).
#
# Needs: milter/dmarc-milter and tests/tools/* built (make check builds them),
# unbound, openssl; python3-authres (else those checks are skipped).
# TK_ONLY=regex runs only the scenarios whose name matches.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/tools/milter-lib.sh"
here=$top_srcdir/tests/integration

for f in "$TK_MILTER" "$TK_SEND" "$TK_SIGN"; do
	if [ ! -x "$f" ]; then
		echo "1..0 # SKIP $f not built"
		exit 0
	fi
done
if ! command -v openssl >/dev/null 2>&1; then
	echo "1..0 # SKIP openssl not installed (needed for the DKIM key records)"
	exit 0
fi
PY=$(tk_authres_py) || PY=

tk_setup dmarc-milter-it
mkdir -p "$TK_WORK/msg" "$TK_WORK/out"
tk_dns_start "$here/example.zone.in"

# Configuration variants: one milter instance each. 192.0.2.99 is the only
# ignored host, so loopback and every other scenario client is looked at.
declare -A VARIANT=(
	[base]="IgnoreHosts=192.0.2.99/32"
	[reject]="IgnoreHosts=192.0.2.99/32 RejectFailures=yes"
	[hold]="IgnoreHosts=192.0.2.99/32 HoldQuarantinedMessages=yes"
	[tempfail]="IgnoreHosts=192.0.2.99/32 TempFailOnDnsError=yes"
)
for inst in base reject hold tempfail; do
	# shellcheck disable=SC2086
	if ! tk_milter_start "$inst" "$here/milter.conf.in" ${VARIANT[$inst]}; then
		echo "Bail out! milter instance $inst did not start (log kept in $TK_WORK)"
		TK_KEEP=yes
		exit 99
	fi
done

# The scenarios. One per line:
#   name inst client-ip helo mail-from message signatures options :: checks
# message:    from:ADDR (a plain message from ADDR), big:ADDR (folded Subject,
#             200 KB body), or a file in messages/
# signatures: - or SIG[+SIG...], applied left to right; SIG is
#             KEY/DOMAIN/SELECTOR[/opt=v,opt=v] (opts: alg, expire, toff
#             (time offset), canon as h-b) or "tamper" (append a body line)
# options:    - or opt,opt: auth=USER ({auth_authen}), chunk=N, noar (no
#             Authentication-Results expected, skip the parse check)
# checks:     ERE patterns separated by " ; " that must match a line of the
#             milter-send output; a leading ! means must not match.
# Clients: 192.0.2.x are the senders' own servers, 198.51.100.7 a third party
# (other.example), 203.0.113.5 an unauthorised forwarder.
SPOOF="198.51.100.7 relay.other.example x@other.example"
FWD="203.0.113.5 fwd.forwarder.example"
OWN="192.0.2.10 mx.aligned.example"
SCENARIOS=$(cat <<'EOF'
spf-aligned          base 192.0.2.10 mx.aligned.example bounce@aligned.example from:alice@aligned.example - - :: spf=pass smtp\.mailfrom=\S*aligned\.example ; dkim=none ; dmarc=pass[^;]*header\.from=aligned\.example ; X-SPF-Verdict: PASS ; X-DKIM-Verdict: GRAY ; X-DMARC-Verdict: PASS ; !X-DMARC-Policy ; result accept
dkim-aligned         base $SPOOF from:alice@aligned.example rsa2048/aligned.example/s2048 - :: spf=pass smtp\.mailfrom=\S*other\.example ; dkim=pass[^;]*header\.d=aligned\.example ; dkim=pass[^;]*header\.s=s2048 ; dmarc=pass ; X-DKIM-Verdict: PASS ; X-DMARC-Verdict: PASS ; !X-DMARC-Policy ; result accept
forwarded            base $FWD alice@aligned.example from:alice@aligned.example rsa2048/aligned.example/s2048 - :: spf=fail ; dkim=pass ; dmarc=pass ; X-SPF-Verdict: FAIL ; X-DMARC-Verdict: PASS ; result accept
spoof-p-none         base $SPOOF from:ceo@pnone.example - - :: spf=pass ; dmarc=fail[^;]*dis=none[^;]*header\.from=pnone\.example ; X-DMARC-Verdict: FAIL ; X-DMARC-Policy: NONE ; result accept
spoof-p-quarantine   base $SPOOF from:ceo@pquar.example - - :: dmarc=fail[^;]*dis=quarantine ; X-DMARC-Verdict: FAIL ; X-DMARC-Policy: QUARANTINE ; !^quarantine ; result accept
spoof-p-reject       base $SPOOF from:ceo@preject.example - - :: dmarc=fail[^;]*p=reject[^;]*dis=reject ; X-DMARC-Policy: REJECT ; !^reply eom ; result accept
dkim-strict-sub      base $SPOOF from:ceo@strict.example rsa2048/mail.strict.example/s2048 - :: dkim=pass[^;]*header\.d=mail\.strict\.example ; dmarc=fail[^;]*dis=reject ; X-DKIM-Verdict: PASS ; X-DMARC-Verdict: FAIL
dkim-strict-exact    base $SPOOF from:ceo@strict.example rsa2048/strict.example/s2048 - :: dkim=pass[^;]*header\.d=strict\.example ; dmarc=pass
dkim-relaxed-sub     base $SPOOF from:alice@aligned.example rsa2048/mail.aligned.example/s2048 - :: dkim=pass[^;]*header\.d=mail\.aligned\.example ; dmarc=pass
spf-strict-sub       base 192.0.2.10 mx.strict.example bounce@mail.strict.example from:ceo@strict.example - - :: spf=pass smtp\.mailfrom=\S*mail\.strict\.example ; dmarc=fail ; X-SPF-Verdict: PASS ; X-DMARC-Verdict: FAIL
spf-relaxed-sub      base $OWN bounce@mail.aligned.example from:alice@aligned.example - - :: spf=pass smtp\.mailfrom=\S*mail\.aligned\.example ; dmarc=pass
from-subdomain       base $OWN bounce@aligned.example from:alice@sub.aligned.example - - :: spf=pass ; dmarc=pass[^;]*header\.from=sub\.aligned\.example
subdomain-sp         base $SPOOF from:ceo@sub.spdom.example - - :: dmarc=fail[^;]*dis=quarantine[^;]*header\.from=sub\.spdom\.example ; X-DMARC-Policy: QUARANTINE
nonexistent-np       base $SPOOF from:ceo@nx.spdom.example - - :: dmarc=fail[^;]*dis=reject[^;]*header\.from=nx\.spdom\.example ; X-DMARC-Policy: REJECT
org-p-none           base $SPOOF from:ceo@spdom.example - - :: dmarc=fail[^;]*dis=none ; X-DMARC-Policy: NONE
no-dmarc-record      base 192.0.2.10 mx.nodmarc.example bounce@nodmarc.example from:alice@nodmarc.example - - :: spf=pass ; dmarc=none ; X-DMARC-Verdict: GRAY ; !X-DMARC-Policy ; result accept
malformed-record     base $SPOOF from:ceo@malformed.example - - :: dmarc=none ; X-DMARC-Verdict: GRAY ; !X-DMARC-Policy
malformed-p-rua      base $SPOOF from:ceo@malformedrua.example - - :: dmarc=fail[^;]*dis=none ; X-DMARC-Policy: NONE
two-records          base $SPOOF from:ceo@tworec.example - - :: dmarc=none ; X-DMARC-Verdict: GRAY ; !X-DMARC-Policy
testing-t-y          base $SPOOF from:ceo@testing.example - - :: dmarc=fail[^;]*dis=quarantine ; X-DMARC-Verdict: FAIL
dmarc-servfail       base $OWN bounce@aligned.example from:ceo@sf.servfail.test - - :: spf=pass ; dmarc=temperror ; X-DMARC-Verdict: PROCESSING_FAILED ; !X-DMARC-Policy ; result accept
dmarc-timeout        base $OWN bounce@aligned.example from:ceo@slow.timeout.test - - :: dmarc=temperror ; X-DMARC-Verdict: PROCESSING_FAILED ; result accept
dkim-key-servfail    base $OWN bounce@aligned.example from:alice@aligned.example rsa2048/dk.servfail.test/s2048 - :: dkim=temperror[^;]*header\.d=dk\.servfail\.test ; spf=pass ; dmarc=pass ; X-DKIM-Verdict: PROCESSING_FAILED
spf-servfail         base $OWN bounce@sp.servfail.test from:alice@aligned.example rsa2048/aligned.example/s2048 - :: spf=temperror ; X-SPF-Verdict: PROCESSING_FAILED ; dkim=pass ; dmarc=pass
multi-from           base $SPOOF multi-from.eml - - :: header\.from=pnone\.example ; header\.from=preject\.example ; dmarc=fail[^;]*dis=reject ; X-DMARC-Policy: REJECT ; result accept
no-from              base $OWN bounce@aligned.example no-from.eml - - :: dmarc=permerror ; X-DMARC-Verdict: PROCESSING_FAILED ; result accept
idn-from             base $OWN bounce@xn--bcher-kva.example idn-from.eml - - :: spf=pass ; dmarc=pass[^;]*header\.from=xn--bcher-kva\.example
uppercase-from       base $OWN bounce@aligned.example uppercase-from.eml - - :: dmarc=pass[^;]*header\.from=aligned\.example
body-modified        base $FWD alice@aligned.example from:alice@aligned.example rsa2048/aligned.example/s2048+tamper - :: dkim=fail[^;]*header\.d=aligned\.example ; !dkim=pass ; dmarc=fail ; X-DKIM-Verdict: FAIL
good-and-bad-sig     base $FWD alice@aligned.example from:alice@aligned.example rsa1024/aligned.example/wrong+rsa2048/aligned.example/s2048 - :: dkim=pass[^;]*header\.s=s2048 ; dkim=fail[^;]*header\.s=wrong ; dmarc=pass ; X-DKIM-Verdict: PASS
expired-sig          base $FWD alice@aligned.example from:alice@aligned.example rsa2048/aligned.example/s2048/expire=3600,toff=-7200 - :: dkim=[a-z]+[^;]*header\.d=aligned\.example ; !dkim=pass ; dmarc=fail
rsa512-key           base $FWD alice@aligned.example from:alice@aligned.example rsa512/aligned.example/s512 - :: dkim=[a-z]+[^;]*header\.s=s512 ; !dkim=pass ; dmarc=fail
rsa1024-key          base $FWD alice@aligned.example from:alice@aligned.example rsa1024/aligned.example/s1024 - :: dkim=pass[^;]*header\.s=s1024 ; dmarc=pass
rsa-sha1             base $FWD alice@aligned.example from:alice@aligned.example rsa2048/aligned.example/s2048/alg=rsa-sha1 - :: dkim=[a-z]+[^;]*header\.s=s2048 ; !dkim=pass ; dmarc=fail
ed25519              base $FWD alice@aligned.example from:alice@aligned.example ed25519/aligned.example/sed - :: dkim=pass[^;]*header\.s=sed ; dmarc=pass ; X-DKIM-Verdict: PASS
simple-canon-chunked base $FWD alice@aligned.example big:alice@aligned.example rsa2048/aligned.example/s2048/canon=simple-simple chunk=8000 :: dkim=pass ; dmarc=pass
forged-ar-removed    base $SPOOF forged-ar.eml - - :: ^chgheader 2 Authentication-Results: \(deleted\) ; !^chgheader 1 ; dmarc=fail
ignore-hosts         base 192.0.2.99 mx.aligned.example bounce@aligned.example from:alice@aligned.example - noar :: !Authentication-Results ; !X-DMARC-Verdict ; !X-SPF-Verdict ; result accept
authenticated        base $FWD ceo@preject.example from:ceo@preject.example - auth=alice,noar :: !Authentication-Results ; !X-DMARC-Verdict ; result accept
softfail-kept        base $FWD x@softfail.example from:x@softfail.example - - :: spf=softfail ; X-SPF-Verdict: FAIL
neutral-kept         base $FWD x@neutral.example from:x@neutral.example - - :: spf=neutral ; X-SPF-Verdict: GRAY
spf-permerror        base $FWD x@spfbroken.example from:x@spfbroken.example - - :: spf=permerror ; X-SPF-Verdict: PROCESSING_FAILED
spf-none             base $FWD x@nospf.example from:x@nospf.example - - :: spf=none ; X-SPF-Verdict: GRAY
null-sender-helo     base $OWN <> from:alice@aligned.example - - :: spf=pass smtp\.helo=mx\.aligned\.example ; dmarc=pass
ipv6-client          base 2001:db8::25 mx.aligned.example bounce@aligned.example from:alice@aligned.example - - :: spf=pass ; dmarc=pass
reject-failures      reject $SPOOF from:ceo@preject.example - noar :: ^reply eom reject 550 5\.7\.1 ; result reject
reject-quarantine-p  reject $SPOOF from:ceo@pquar.example - - :: !^reply eom ; dmarc=fail[^;]*dis=quarantine ; result accept
reject-pass          reject $OWN bounce@aligned.example from:alice@aligned.example - - :: dmarc=pass ; !^reply eom ; result accept
hold-quarantine      hold $SPOOF from:ceo@pquar.example - - :: ^quarantine ; dmarc=fail[^;]*dis=quarantine ; result quarantine
hold-pass            hold $OWN bounce@aligned.example from:alice@aligned.example - - :: !^quarantine ; result accept
tempfail-dns         tempfail $OWN bounce@aligned.example from:ceo@sf.servfail.test - - noar :: ^reply eom tempfail 451 ; result tempfail
tempfail-no-error    tempfail $OWN bounce@aligned.example from:alice@aligned.example - - :: dmarc=pass ; result accept
EOF
)
SCENARIOS=${SCENARIOS//\$SPOOF/$SPOOF}
SCENARIOS=${SCENARIOS//\$FWD/$FWD}
SCENARIOS=${SCENARIOS//\$OWN/$OWN}

# The messages are built and signed by tk_make_message / tk_sign_message
# (tests/tools/milter-lib.sh).

# check_output OUT CHECKS: every check against OUT; problems on stdout.
check_output() {
	local out=$1 checks=$2 c
	while IFS= read -r c; do
		c=$(echo "$c" | sed 's/^ *//; s/ *$//')
		[ -n "$c" ] || continue
		if [ "${c#!}" != "$c" ]; then
			if grep -Eq -- "${c#!}" "$out"; then
				echo "unexpected line matching /${c#!}/"
			fi
		elif ! grep -Eq -- "$c" "$out"; then
			echo "no line matching /$c/"
		fi
	done <<<"${checks// ; /$'\n'}"
}

# run_scenario LINE: one TAP test.
declare -A QUEUE_INST
run_scenario() {
	local line=$1 name inst ip helo from msg sign opts checks rest problems rc t0 t1
	rest=${line%% :: *}
	checks=${line#* :: }
	read -r name inst ip helo from msg sign opts <<<"$rest"
	local eml=$TK_WORK/msg/$name.eml out=$TK_WORK/out/$name.out err=$TK_WORK/out/$name.err
	local -a args=(--socket "${TK_SOCKET[$inst]}" --client-ip "$ip" --helo "$helo"
		--mail-from "$from" --rcpt carol@receiver.example --queue-id "$name")
	local noar=no o
	for o in ${opts//,/ }; do
		case $o in
		-) ;;
		auth=*) args+=(--macro "{auth_authen}=${o#*=}" --macro "{auth_type}=PLAIN") ;;
		chunk=*) args+=(--chunk "${o#*=}") ;;
		noar) noar=yes ;;
		esac
	done
	problems=
	if ! tk_make_message "$name" "$msg" "$eml" || ! tk_sign_message "$sign" "$eml"; then
		problems="could not build or sign the message"
	else
		t0=$(date +%s%N)
		"$TK_SEND" "${args[@]}" "$eml" >"$out" 2>"$err"
		rc=$?
		t1=$(date +%s%N)
		[ "$rc" -eq 0 ] || problems="milter-send exited $rc: $(cat "$err")"
		problems="$problems${problems:+$'\n'}$(check_output "$out" "$checks")"
		if [ -n "$PY" ] && [ "$noar" = no ]; then
			if ! "$PY" "$top_srcdir/tests/tools/authres-check.py" <"$out" >"$out.ar" 2>&1; then
				problems="$problems
python3-authres: $(cat "$out.ar")"
			fi
		fi
		QUEUE_INST[$name]=$inst
	fi
	if [ -n "$problems" ]; then
		tk_ok 1 "$name"
		tk_diag "$problems" "--- milter-send output:" "$(cat "$out" 2>/dev/null)"
	else
		tk_ok 0 "$name ($(((t1 - t0) / 1000000)) ms)"
	fi
}

while IFS= read -r line; do
	[ -n "$line" ] || continue
	if [ -n "${TK_ONLY:-}" ] && ! [[ ${line%% *} =~ $TK_ONLY ]]; then
		continue
	fi
	run_scenario "$line"
done <<<"$SCENARIOS"

# Each instance stops cleanly on SIGTERM (exit 0, no sanitizer report); all
# are signalled first, as each takes a few seconds to stop.
for inst in base reject hold tempfail; do
	tk_milter_term "$inst"
done
for inst in base reject hold tempfail; do
	tk_milter_stop "$inst"
	tk_ok $? "instance $inst exits cleanly on SIGTERM"
done

# The event rows agree with the headers: for every scenario that got an
# Authentication-Results field with one dmarc result, the events table of its
# instance holds a row with that queue id and that dmarc_result.
if [ -n "$PY" ]; then
	for inst in base reject hold tempfail; do
		db=$TK_WORK/$inst-events.db
		expect=$TK_WORK/$inst-events.expect
		: >"$expect"
		for name in "${!QUEUE_INST[@]}"; do
			[ "${QUEUE_INST[$name]}" = "$inst" ] || continue
			# "dmarc=X" resinfos, not "policy.dmarc=X" properties
			res=$(grep -Eo '(^|[^.a-z])dmarc=[a-z]+' "$TK_WORK/out/$name.out" |
				sed 's/.*dmarc=//' | sort -u)
			[ "$(echo "$res" | grep -c .)" -eq 1 ] || continue
			echo "$name $res" >>"$expect"
		done
		if [ ! -f "$db" ]; then
			tk_ok 1 "instance $inst: event rows agree with the headers"
			tk_diag "no event database written ($db)"
			continue
		fi
		problems=$("$PY" - "$db" "$expect" <<'PYEOF'
import sqlite3, sys
db, expect = sys.argv[1], sys.argv[2]
try:
    con = sqlite3.connect('file:%s?mode=ro' % db, uri=True)
    rows = {}
    for qid, res in con.execute('SELECT queue_id, dmarc_result FROM events'):
        rows.setdefault(qid, set()).add(res)
except Exception as exc:
    print('cannot read %s: %s' % (db, exc))
    sys.exit(0)
for line in open(expect):
    name, want = line.split()
    got = rows.get(name)
    if got is None:
        print('%s: no event row' % name)
    elif want not in got:
        print('%s: dmarc_result %s, want %s' % (name, ','.join(sorted(got)), want))
PYEOF
)
		[ -z "$problems" ]
		tk_ok $? "instance $inst: event rows agree with the headers ($(wc -l <"$expect") messages)"
		[ -z "$problems" ] || tk_diag "$problems"
	done
fi

tk_done
