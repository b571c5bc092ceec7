#!/bin/bash
# event_rows_test.sh: every column of the event-log rows the milter writes for
# the integration scenarios, and the aggregate reports built from them.
#
# Reuses the integration suite's zone template, messages and configuration
# template (tests/integration/, through tests/tools/milter-lib.sh), plus the
# records of eventlog.zone.frag. Sends each scenario of the table below with
# tests/tools/milter-send to one of several milter instances (configuration
# variants), stops the instances (SIGTERM flushes the event queue) and then
# compares, with event_rows_check.py, the events row(s) and event_dkim rows of
# every message with the table: every column, NULL where the table names none.
# The verdict columns must also equal the X-*-Verdict / X-DMARC-Policy fields
# the milter added. One TAP test per scenario, plus one per instance for a
# clean stop and one for PRAGMA integrity_check.
#
# Needs: milter/dmarc-milter, tests/tools/milter-send and dkim-sign built,
# unbound, openssl, python3 (with its sqlite3 module).
# TK_ONLY=regex runs only the scenarios whose name matches; TK_KEEP=yes keeps
# the work directory.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/tools/milter-lib.sh"
here=$top_srcdir/tests/eventlog
it=$top_srcdir/tests/integration

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
PY=
for cand in /usr/bin/python3 python3; do
	if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import sqlite3' 2>/dev/null; then
		PY=$cand
		break
	fi
done
if [ -z "$PY" ]; then
	echo "1..0 # SKIP no python3 with the sqlite3 module"
	exit 0
fi

tk_setup dmarc-eventlog-rows
mkdir -p "$TK_WORK/msg" "$TK_WORK/out"
tk_dns_start "$it/example.zone.in" "$here/eventlog.zone.frag"

# Configuration variants. "override" rejects failures except for its trusted
# forwarder and mailing list; "rfc7489" uses the PSL and pct, and has two of
# the verdict fields switched off (their columns must then be NULL); "nolog"
# has the event log switched off (EventDatabase "").
TK_SOCKET_KIND=unix
declare -A VARIANT=(
	[base]="IgnoreHosts=192.0.2.99/32"
	[reject]="RejectFailures=yes"
	[hold]="HoldQuarantinedMessages=yes"
	[tempfail]="TempFailOnDnsError=yes"
	[override]="RejectFailures=yes TrustedForwarders=203.0.113.0/24 MailingListIds=news.lists.example"
	[rfc7489]="DMARCStandard=rfc7489 AddSPFVerdict=no AddDMARCPolicy=no"
	[nolog]="EventDatabase="
)
INSTANCES="base reject hold tempfail override rfc7489 nolog"
for inst in $INSTANCES; do
	# shellcheck disable=SC2086
	if ! tk_milter_start "$inst" "$it/milter.conf.in" ${VARIANT[$inst]}; then
		echo "Bail out! milter instance $inst did not start (log kept in $TK_WORK)"
		TK_KEEP=yes
		exit 99
	fi
done

# The scenarios: "name inst client-ip helo mail-from message signatures
# options :: expected row", the first eight fields as in
# tests/integration/milter_test.sh (options here: - or listid=ID, which adds
# a List-Id field). The expected row is a list of column=value words
# (event_rows_check.py): every column not named, and not filled in from the
# scenario (time, day, queue_id, client_ip, helo, envelope_from, envelope_to,
# header_from), must be NULL. Shorthands ("-" = NULL):
#   pol=policy_domain/policy_origin/discovery_method/org_domain
#   rec=DOMAIN       the tags of that @record line (p sp np adkim aspf fo t psd pct rua ruf)
#   spf=spf_result/spf_domain/spf_scope     al=spf_aligned/dkim_aligned
#   dmarc=dmarc_result/policy_applied/disposition
#   v=spf_verdict/dkim_verdict/dmarc_verdict[/policy_verdict]
#   dkim=domain/selector/result/aligned,...  the event_dkim rows in idx order
#   LP, LP_RF        the local_policy overrides (@define lines)
# "||" separates the rows of a message with several author domains.
SPOOF="198.51.100.7 relay.other.example x@other.example"
FWD="203.0.113.5 fwd.forwarder.example"
OWN="192.0.2.10 mx.aligned.example"
TABLE=$(cat <<'EOF'
@record aligned.example p=reject rua=mailto:dmarc-reports@aligned.example
@record strict.example p=reject adkim=s aspf=s
@record pnone.example p=none
@record pquar.example p=quarantine
@record preject.example p=reject
@record spdom.example p=none sp=quarantine np=reject
@record malformedrua.example p=none rua=mailto:dmarc@malformedrua.example
@record testing.example p=reject t=y
@record xn--bcher-kva.example p=reject
@record tags.example p=quarantine sp=none np=reject adkim=s aspf=r fo=1:d t=n psd=n pct=100 rua=mailto:agg@tags.example,mailto:agg2@other.example!10485760 ruf=mailto:fo@tags.example
@record pctzero.example p=reject pct=0
@define LP override_type=local_policy 'override_comment=delivered with verdict headers'
@define LP_RF override_type=local_policy 'override_comment=RejectFailures off: delivered with verdict headers'
spf-aligned         base $OWN bounce@aligned.example from:alice@aligned.example - - :: pol=aligned.example/author/treewalk/- rec=aligned.example spf=pass/aligned.example/mfrom al=1/0 dmarc=pass/reject/none v=PASS/GRAY/PASS
dkim-aligned        base $SPOOF from:alice@aligned.example rsa2048/aligned.example/s2048 - :: pol=aligned.example/author/treewalk/- rec=aligned.example spf=pass/other.example/mfrom al=0/1 dmarc=pass/reject/none v=PASS/PASS/PASS dkim=aligned.example/s2048/pass/1
forwarded           base $FWD alice@aligned.example from:alice@aligned.example rsa2048/aligned.example/s2048 - :: pol=aligned.example/author/treewalk/- rec=aligned.example spf=fail/aligned.example/mfrom al=0/1 dmarc=pass/reject/none v=FAIL/PASS/PASS dkim=aligned.example/s2048/pass/1
spoof-p-none        base $SPOOF from:ceo@pnone.example - - :: pol=pnone.example/author/treewalk/- rec=pnone.example spf=pass/other.example/mfrom al=0/0 dmarc=fail/none/none v=PASS/GRAY/FAIL/NONE
spoof-p-quarantine  base $SPOOF from:ceo@pquar.example - - :: pol=pquar.example/author/treewalk/- rec=pquar.example spf=pass/other.example/mfrom al=0/0 dmarc=fail/quarantine/none LP v=PASS/GRAY/FAIL/QUARANTINE
spoof-p-reject      base $SPOOF from:ceo@preject.example - - :: pol=preject.example/author/treewalk/- rec=preject.example spf=pass/other.example/mfrom al=0/0 dmarc=fail/reject/none LP_RF v=PASS/GRAY/FAIL/REJECT
dkim-strict-sub     base $SPOOF from:ceo@strict.example rsa2048/mail.strict.example/s2048 - :: pol=strict.example/author/treewalk/- rec=strict.example spf=pass/other.example/mfrom al=0/0 dmarc=fail/reject/none LP_RF v=PASS/PASS/FAIL/REJECT dkim=mail.strict.example/s2048/pass/0
spf-strict-sub      base 192.0.2.10 mx.strict.example bounce@mail.strict.example from:ceo@strict.example - - :: pol=strict.example/author/treewalk/- rec=strict.example spf=pass/mail.strict.example/mfrom al=0/0 dmarc=fail/reject/none LP_RF v=PASS/GRAY/FAIL/REJECT
from-subdomain      base $OWN bounce@aligned.example from:alice@sub.aligned.example - - :: pol=aligned.example/organizational/treewalk/aligned.example rec=aligned.example spf=pass/aligned.example/mfrom al=1/0 dmarc=pass/reject/none v=PASS/GRAY/PASS
subdomain-sp        base $SPOOF from:ceo@sub.spdom.example - - :: pol=spdom.example/organizational/treewalk/spdom.example rec=spdom.example spf=pass/other.example/mfrom al=0/0 dmarc=fail/quarantine/none LP v=PASS/GRAY/FAIL/QUARANTINE
nonexistent-np      base $SPOOF from:ceo@nx.spdom.example - - :: pol=spdom.example/organizational/treewalk/spdom.example rec=spdom.example spf=pass/other.example/mfrom al=0/0 dmarc=fail/reject/none LP_RF v=PASS/GRAY/FAIL/REJECT
no-dmarc-record     base 192.0.2.10 mx.nodmarc.example bounce@nodmarc.example from:alice@nodmarc.example - - :: pol=-/-/-/nodmarc.example spf=pass/nodmarc.example/mfrom al=0/0 dmarc=none/-/none v=PASS/GRAY/GRAY
malformed-p-rua     base $SPOOF from:ceo@malformedrua.example - - :: pol=malformedrua.example/author/treewalk/- rec=malformedrua.example spf=pass/other.example/mfrom al=0/0 dmarc=fail/none/none v=PASS/GRAY/FAIL/NONE
testing-t-y         base $SPOOF from:ceo@testing.example - - :: pol=testing.example/author/treewalk/- rec=testing.example spf=pass/other.example/mfrom al=0/0 dmarc=fail/reject/none override_type=policy_test_mode 'override_comment=t=y: disposition lowered one step; delivered with verdict headers' v=PASS/GRAY/FAIL/REJECT
all-tags            base $SPOOF from:ceo@tags.example - - :: pol=tags.example/author/treewalk/tags.example rec=tags.example spf=pass/other.example/mfrom al=0/0 dmarc=fail/quarantine/none LP v=PASS/GRAY/FAIL/QUARANTINE
dmarc-servfail      base $OWN bounce@aligned.example from:ceo@sf.servfail.test - - :: pol=-/-/-/- spf=pass/aligned.example/mfrom al=0/0 dmarc=temperror/-/none v=PASS/GRAY/PROCESSING_FAILED
dkim-key-servfail   base $OWN bounce@aligned.example from:alice@aligned.example rsa2048/dk.servfail.test/s2048 - :: pol=aligned.example/author/treewalk/- rec=aligned.example spf=pass/aligned.example/mfrom al=1/0 dmarc=pass/reject/none v=PASS/PROCESSING_FAILED/PASS dkim=dk.servfail.test/s2048/temperror/0
multi-from          base $SPOOF multi-from.eml - - :: header_from=pnone.example pol=pnone.example/author/treewalk/- rec=pnone.example spf=pass/other.example/mfrom al=0/0 dmarc=fail/none/none v=PASS/GRAY/FAIL/REJECT || header_from=preject.example pol=preject.example/author/treewalk/- rec=preject.example spf=pass/other.example/mfrom al=0/0 dmarc=fail/reject/none LP_RF v=PASS/GRAY/FAIL/REJECT
no-from             base $OWN bounce@aligned.example no-from.eml - - :: header_from= pol=-/-/-/- spf=pass/aligned.example/mfrom al=0/0 dmarc=permerror/-/none v=PASS/GRAY/PROCESSING_FAILED
idn-from            base $OWN bounce@xn--bcher-kva.example idn-from.eml - - :: header_from=xn--bcher-kva.example pol=xn--bcher-kva.example/author/treewalk/- rec=xn--bcher-kva.example spf=pass/xn--bcher-kva.example/mfrom al=1/0 dmarc=pass/reject/none v=PASS/GRAY/PASS
null-sender-helo    base $OWN <> from:alice@aligned.example - - :: envelope_from=mx.aligned.example pol=aligned.example/author/treewalk/- rec=aligned.example spf=pass/mx.aligned.example/helo al=1/0 dmarc=pass/reject/none v=PASS/GRAY/PASS
ipv6-client         base 2001:db8::25 mx.aligned.example bounce@aligned.example from:alice@aligned.example - - :: pol=aligned.example/author/treewalk/- rec=aligned.example spf=pass/aligned.example/mfrom al=1/0 dmarc=pass/reject/none v=PASS/GRAY/PASS
good-and-bad-sig    base $FWD alice@aligned.example from:alice@aligned.example rsa1024/aligned.example/wrong+rsa2048/aligned.example/s2048 - :: pol=aligned.example/author/treewalk/- rec=aligned.example spf=fail/aligned.example/mfrom al=0/1 dmarc=pass/reject/none v=FAIL/PASS/PASS dkim=aligned.example/s2048/pass/1,aligned.example/wrong/fail/0
body-modified       base $FWD alice@aligned.example from:alice@aligned.example rsa2048/aligned.example/s2048+tamper - :: pol=aligned.example/author/treewalk/- rec=aligned.example spf=fail/aligned.example/mfrom al=0/0 dmarc=fail/reject/none LP_RF v=FAIL/FAIL/FAIL/REJECT dkim=aligned.example/s2048/fail/0
reject-failures     reject $SPOOF from:ceo@preject.example - - :: pol=preject.example/author/treewalk/- rec=preject.example spf=pass/other.example/mfrom al=0/0 dmarc=fail/reject/reject v=PASS/GRAY/FAIL/REJECT
reject-quarantine-p reject $SPOOF from:ceo@pquar.example - - :: pol=pquar.example/author/treewalk/- rec=pquar.example spf=pass/other.example/mfrom al=0/0 dmarc=fail/quarantine/none LP v=PASS/GRAY/FAIL/QUARANTINE
hold-quarantine     hold $SPOOF from:ceo@pquar.example - - :: pol=pquar.example/author/treewalk/- rec=pquar.example spf=pass/other.example/mfrom al=0/0 dmarc=fail/quarantine/quarantine v=PASS/GRAY/FAIL/QUARANTINE
tempfail-dns        tempfail $OWN bounce@aligned.example from:ceo@sf.servfail.test - - :: pol=-/-/-/- spf=pass/aligned.example/mfrom al=0/0 dmarc=temperror/-/none v=PASS/GRAY/PROCESSING_FAILED
trusted-forwarder   override $FWD ceo@preject.example from:ceo@preject.example - - :: pol=preject.example/author/treewalk/- rec=preject.example spf=fail/preject.example/mfrom al=0/0 dmarc=fail/reject/none override_type=trusted_forwarder 'override_comment=client in TrustedForwarders' v=FAIL/GRAY/FAIL/REJECT
mailing-list        override $SPOOF from:ceo@preject.example - listid=news.lists.example :: pol=preject.example/author/treewalk/- rec=preject.example spf=pass/other.example/mfrom al=0/0 dmarc=fail/reject/none override_type=mailing_list 'override_comment=List-Id in MailingListIds' v=PASS/GRAY/FAIL/REJECT
no-override         override $SPOOF from:ceo@preject.example - listid=other.lists.example :: pol=preject.example/author/treewalk/- rec=preject.example spf=pass/other.example/mfrom al=0/0 dmarc=fail/reject/reject v=PASS/GRAY/FAIL/REJECT
psl-subdomain       rfc7489 $OWN bounce@aligned.example from:alice@sub.aligned.example - - :: pol=aligned.example/organizational/psl/aligned.example rec=aligned.example spf=pass/aligned.example/mfrom al=1/0 dmarc=pass/reject/none v=-/GRAY/PASS
pct-sampled-out     rfc7489 $SPOOF from:ceo@pctzero.example - - :: pol=pctzero.example/author/psl/pctzero.example rec=pctzero.example spf=pass/other.example/mfrom al=0/0 dmarc=fail/reject/none override_type=sampled_out 'override_comment=pct=0: not sampled, disposition lowered one step; delivered with verdict headers' v=-/GRAY/FAIL
EOF
)
TABLE=${TABLE//\$SPOOF/$SPOOF}
TABLE=${TABLE//\$FWD/$FWD}
TABLE=${TABLE//\$OWN/$OWN}

# send_scenario LINE: builds, signs and sends one message; appends
# "name inst t0 t1 status" to $TK_WORK/sent (t0/t1: epoch seconds around the
# conversation; status 0 when milter-send completed).
send_scenario() {
	local rest=${1%% :: *} name inst ip helo from msg sign opts o rc t0 t1
	read -r name inst ip helo from msg sign opts <<<"$rest"
	local eml=$TK_WORK/msg/$name.eml out=$TK_WORK/out/$name.out
	if ! tk_make_message "$name" "$msg" "$eml"; then
		echo "$name $inst 0 0 build" >>"$TK_WORK/sent"
		return
	fi
	for o in ${opts//,/ }; do
		case $o in
		listid=*) sed -i "1i List-Id: Some list <${o#*=}>" "$eml" ;;
		esac
	done
	if ! tk_sign_message "$sign" "$eml"; then
		echo "$name $inst 0 0 sign" >>"$TK_WORK/sent"
		return
	fi
	t0=$(date +%s)
	"$TK_SEND" --socket "${TK_SOCKET[$inst]}" --client-ip "$ip" --helo "$helo" \
		--mail-from "$from" --rcpt carol@receiver.example --queue-id "$name" \
		"$eml" >"$out" 2>"$out.err"
	rc=$?
	t1=$(date +%s)
	echo "$name $inst $t0 $t1 $rc" >>"$TK_WORK/sent"
}

: >"$TK_WORK/sent"
printf '%s\n' "$TABLE" >"$TK_WORK/table"
while IFS= read -r line; do
	case $line in ''|@*) continue ;; esac
	if [ -n "${TK_ONLY:-}" ] && ! [[ ${line%% *} =~ $TK_ONLY ]]; then
		continue
	fi
	send_scenario "$line"
done <<<"$TABLE"

# EventDatabase "": mail is evaluated as usual, nothing is written.
tk_make_message nolog from:alice@aligned.example "$TK_WORK/msg/nolog.eml"
"$TK_SEND" --socket "${TK_SOCKET[nolog]}" --client-ip 192.0.2.10 --helo mx.aligned.example \
	--mail-from bounce@aligned.example --rcpt carol@receiver.example --queue-id nolog \
	"$TK_WORK/msg/nolog.eml" >"$TK_WORK/out/nolog.out" 2>&1

# SIGTERM flushes each instance's queue; then the rows are final. All are
# signalled first: each takes a few seconds to leave libmilter's loop.
for inst in $INSTANCES; do
	tk_milter_term "$inst"
done
for inst in $INSTANCES; do
	tk_milter_stop "$inst"
	tk_ok $? "instance $inst exits cleanly on SIGTERM"
done

grep -q "X-DMARC-Verdict: PASS" "$TK_WORK/out/nolog.out" &&
	grep -q "event log: off (EventDatabase is empty)" "$TK_WORK/nolog.log" &&
	! ls "$TK_WORK"/nolog-events.db* >/dev/null 2>&1 &&
	! grep -q "event log: [0-9]" "$TK_WORK/nolog.log"
tk_ok $? "EventDatabase \"\": the message is evaluated, the log says the event log is off, no database"

"$PY" "$here/event_rows_check.py" "$TK_WORK/table" "$TK_WORK/sent" "$TK_WORK" \
	>"$TK_WORK/check.out" 2>&1
rc=$?
if [ "$rc" -ne 0 ] && ! grep -q '^[A-Z]* ' "$TK_WORK/check.out"; then
	tk_ok 1 "event_rows_check.py ran"
	tk_diag "$(cat "$TK_WORK/check.out")"
fi
while IFS= read -r line; do
	case $line in
	"PASS "*) tk_ok 0 "${line#PASS }" ;;
	"FAIL "*)
		tk_ok 1 "${line#FAIL }"
		;;
	"# "*) echo "$line" ;;
	esac
done <"$TK_WORK/check.out"

# Aggregate reports built by dmarc-reporter from these very rows (the
# reporter issue: reports from events the milter wrote). The reporter never
# reports the current day, so the rows are moved one day back first; then
# every report must validate against its schema and count exactly the
# messages that have a policy domain.
REPORTER=$top_builddir/reporter/dmarc-reporter
SCHEMAS=$top_srcdir/tests/reporter/schemas
for inst in base rfc7489; do
	db=$TK_WORK/$inst-events.db
	xsd=$SCHEMAS/dmarc-2.0-aggregate.xsd
	[ "$inst" = rfc7489 ] && xsd=$SCHEMAS/rfc7489-aggregate-nonamespace.xsd
	if [ ! -x "$REPORTER" ] || ! command -v xmllint >/dev/null 2>&1; then
		tk_skip "$inst: reports from the milter's events" "dmarc-reporter or xmllint missing"
		continue
	fi
	"$PY" - "$db" <<'PYEOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("UPDATE events SET time = time - 86400, day = day - 1")
db.commit()
PYEOF
	{ cat "$TK_WORK/$inst.conf"; printf 'ReportOrgName "Receiver Example"\nReportEmail dmarc-noreply@receiver.example\n'; } \
		>"$TK_WORK/$inst-reporter.conf"
	out=$TK_WORK/$inst-reports
	"$REPORTER" -c "$TK_WORK/$inst-reporter.conf" --dry-run "$out" >"$TK_WORK/$inst-reporter.out" 2>&1
	rc=$?
	nrep=0
	valid=0
	total=0
	for gz in "$out"/*.xml.gz; do
		[ -e "$gz" ] || continue
		nrep=$((nrep + 1))
		gunzip -c "$gz" >"${gz%.gz}" &&
			xmllint --noout --schema "$xsd" "${gz%.gz}" 2>>"$TK_WORK/$inst-xmllint.out" &&
			valid=$((valid + 1))
		total=$((total + $(sed -n 's/.*<count>\([0-9]*\)<\/count>.*/\1/p' "${gz%.gz}" |
			awk '{ s += $1 } END { print s + 0 }')))
	done
	want=$("$PY" -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM events WHERE policy_domain IS NOT NULL").fetchone()[0])' "$db")
	[ "$rc" -eq 0 ] && [ "$nrep" -gt 0 ] && [ "$valid" -eq "$nrep" ] && [ "$total" -eq "$want" ]
	if ! tk_ok $? "$inst: $nrep reports from the milter's events validate ($(basename "$xsd")) and count all $want messages"; then
		tk_diag "reporter exit $rc, $valid of $nrep valid, $total counted, $want events"
		tk_diag "$(cat "$TK_WORK/$inst-reporter.out" "$TK_WORK/$inst-xmllint.out" 2>/dev/null | head -20)"
	fi
done

tk_done
