#!/bin/bash
# reporter_test.sh: dmarc-reporter end to end, against the loopback test DNS
# server (tests/dns) and a fake sendmail that keeps every message
# (tests/reporter/fake-sendmail.sh). Events come from tests/reporter/event-gen.
#
#   1. content: both XML formats validate (xmllint --schema, the schemas
#      copied in tests/reporter/schemas/), gzip reads back, the records equal
#      the events (content.expected), escaping, DKIM order and cap, IPv6;
#      Mail::DMARC (libmail-dmarc-perl) parses the same records;
#   2. report ids: letters and digits, the same in subject, attachment name
#      and XML, stable across runs;
#   3. destinations: same organization, external authorization (RFC 9990 §3),
#      overrides, DNS failures retried on a later run, non-mailto, header
#      injection, !size (RFC 7489 mode), ReportMaxDestinations, ReportMaxPerRun;
#   4. state: failed sends retried up to ReportMaxAttempts, a crash between two
#      destinations, nothing sent twice, the current day never reported,
#      catch-up of several days;
#   5. --summary and --expire.
# RT_KEEP=yes keeps the work directory (runs.log has every run's output).
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/reporter/reporter-lib.sh"

rt_setup dmarc-reporter-test
cleanup() {
	dns_stop 2>/dev/null
}
trap cleanup EXIT
trap 'exit 129' HUP INT TERM
rt_dns_start

W=$RT_WORK
XSD9990=$RT_SRC/schemas/dmarc-2.0-aggregate.xsd
XSD7489=$RT_SRC/schemas/rfc7489-aggregate-nonamespace.xsd
DUMP="$RT_PY $RT_SRC/report-dump.py"
DAY=2025-01-15
DAY0=$(rt_day_sec $DAY)
DAY1=$((DAY0 + 86399))
HAVE_PERL=no
perl -MMail::DMARC::Report::Receive -e 1 2>/dev/null && HAVE_PERL=yes

# check LABEL FILE PATTERN...: every ERE matches a line of FILE ("!RE": none does).
check() {
	local label=$1 file=$2 p bad=
	shift 2
	for p in "$@"; do
		if [ "${p#!}" != "$p" ]; then
			grep -Eq -- "${p#!}" "$file" && bad="$bad unexpected /${p#!}/"
		else
			grep -Eq -- "$p" "$file" || bad="$bad missing /$p/"
		fi
	done
	[ -z "$bad" ]
	rt_ok $? "$label"
	[ -z "$bad" ] || rt_diag "$bad" "--- $file:" "$(head -n 30 "$file")"
}

# same LABEL WANT GOT: the two texts are equal (a diff otherwise).
same() {
	if [ "$2" = "$3" ]; then
		rt_ok 0 "$1"
	else
		rt_ok 1 "$1"
		rt_diag "$(diff <(printf '%s\n' "$2") <(printf '%s\n' "$3") | head -n 40)"
	fi
}

# xcount FILE XPATH-LOCAL-NAMES: number of nodes (namespace ignored), e.g.
# xcount f.xml record/auth_results/spf
xcount() {
	local path= n
	for n in $(echo "$2" | tr '/' ' '); do
		path="$path/*[local-name()='$n']"
	done
	xmllint --xpath "count(/*[local-name()='feedback']$path)" "$1"
}

# Gunzips every .xml.gz of DIR next to it (FILE.xml).
gunzip_all() {
	local f
	for f in "$1"/*.xml.gz; do
		gzip -dc "$f" >"${f%.gz}" || return 1
	done
}

# validate XSD DIR: every DIR/*.xml validates; prints the number checked.
validate() {
	local f n=0 bad=0
	for f in "$2"/*.xml; do
		n=$((n + 1))
		xmllint --noout --schema "$1" "$f" >>"$W/xmllint.log" 2>&1 || bad=$((bad + 1))
	done
	echo "$n"
	[ "$bad" -eq 0 ] && [ "$n" -gt 0 ]
}

# A dump with the report ids replaced (their properties are tested on
# their own).
canon() {
	sed -E 's/report_id=[0-9A-Za-z]+/report_id=ID/'
}

########################################################################
# 1. Report content
########################################################################
C=$W/content.db
rt_gen "$C" $DAY <"$RT_SRC/content.events"
# many.example: 101 signatures on one message (event-gen stores 100, the
# 101st, the only aligned pass, goes in by SQL): the record keeps 100, the
# aligned pass first.
{
	printf 'ip=192.0.2.50 hfrom=many.example efrom=many.example p=none spf=pass spf_domain=many.example spf_aligned=1 dkim_aligned=1'
	for i in $(seq 1 100); do printf ' dkim=signer%d.example/s%d/fail/0' "$i" "$i"; done
	echo
} | rt_gen "$C" $DAY
rt_sql "$C" "INSERT INTO event_dkim SELECT id, 100, 'many.example', 'last', 'pass', NULL, 1 FROM events WHERE header_from = 'many.example'"

conf9=$(rt_conf content9990 "$C")
conf7=$(rt_conf content7489 "$C" DMARCStandard=rfc7489)
rt_run "$conf9" --dry-run "$W/out9990"
rc=$?
cp "$W/last.out" "$W/dry9990.out"
check "dry run (RFC 9990): exit 0 and one summary line" "$W/last.out" \
	'^dmarc-reporter: 6 reports built \(0 built earlier\), 3 written, 0 skipped, 0 failed, 0 waiting for DNS$'
[ "$rc" -eq 0 ] && [ "$(wc -l <"$W/last.out")" -eq 1 ]
rt_ok $? "dry run (RFC 9990): exit status 0, nothing else on stdout"
rt_sql "$C" "SELECT count(*) FROM reports" >"$W/n"
check "dry run records no state" "$W/n" '^0$'

gunzip_all "$W/out9990"
rt_ok $? "every .xml.gz reads back with gzip"
n=$(validate "$XSD9990" "$W/out9990")
rt_ok $? "every RFC 9990 report ($n) validates against dmarc-2.0-aggregate.xsd"
[ "$n" -eq 6 ] || rt_diag "$(cat "$W/xmllint.log")"

$DUMP "$W"/out9990/*.xml >"$W/dump9990"
same "RFC 9990: metadata, policies and records equal the events (content.expected)" \
	"$(grep -v '^#' "$RT_SRC/content.expected" | sed -e "s/@BEGIN@/$DAY0/g" -e "s/@END@/$DAY1/g")" \
	"$(ls "$W"/out9990/*.xml | grep -v '!many\.example!' | xargs $DUMP | canon)"

x=$(ls "$W"/out9990/*!sender.example!*.xml | head -n 1)
ok=0
for f in "$W"/out9990/*.xml; do
	[ "$(xcount "$f" record)" = "$(xcount "$f" record/auth_results/spf)" ] || ok=1
	[ "$(xcount "$f" record/auth_results/dkim)" = "$(xcount "$f" record/auth_results/dkim/selector)" ] || ok=1
done
rt_ok $ok "every record has an SPF result, every DKIM result a selector"
cat "$W"/out9990/*.xml >"$W/all9990.xml"
check "XML metacharacters are escaped (org name, contact, comment, selector, human_result)" \
	"$W/all9990.xml" '<org_name>Receiver &amp; &lt;Sons&gt;</org_name>' \
	'<extra_contact_info>https://receiver.example/dmarc\?a=1&amp;b=2</extra_contact_info>' \
	"<comment>a&lt;b&gt;&amp;(&quot;|\")c(&apos;|')d</comment>" \
	'<selector>a&amp;b&lt;c&gt;</selector>' \
	'<human_result>body hash (&quot;|")did not(&quot;|") verify</human_result>'
check "RFC 9990 elements: namespace, generator, discovery_method, testing, np" \
	"$W/all9990.xml" '<feedback xmlns="urn:ietf:params:xml:ns:dmarc-2.0">' \
	'<generator>dmarc-milter [0-9.]+</generator>' '<discovery_method>treewalk</discovery_method>' \
	'<testing>y</testing>' '<testing>n</testing>' '<np>quarantine</np>' \
	'<type>policy_test_mode</type>' '!<pct>' '!<scope>helo</scope>'
check "RFC 9990: source addresses as they were" "$W/all9990.xml" \
	'<source_ip>2001:db8::25</source_ip>' '<source_ip>::ffff:192.0.2.99</source_ip>'
ids=$(grep -ho '<report_id>[^<]*' "$W"/out9990/*.xml | sed 's/<report_id>//' | sort)
[ "$(echo "$ids" | sort -u | wc -l)" -eq 6 ]
rt_ok $? "policy change: sender.example has two reports, six distinct ids in all"
m=$(ls "$W"/out9990/*!many.example!*.xml)
[ "$(xcount "$m" record/auth_results/dkim)" = 100 ] &&
	[ "$(xmllint --xpath "string(//*[local-name()='dkim'][1]/*[local-name()='selector'])" "$m")" = last ]
rt_ok $? "DKIM results capped at 100 per record, the aligned pass first"

# RFC 7489 format.
rt_run "$conf7" --dry-run "$W/out7489"
rc=$?
[ "$rc" -eq 0 ] && gunzip_all "$W/out7489"
rt_ok $? "dry run (RFC 7489): exit 0, gzip reads back"
n=$(validate "$XSD7489" "$W/out7489")
rt_ok $? "every RFC 7489 report ($n) validates against rfc7489-aggregate-nonamespace.xsd"
$DUMP "$W"/out7489/*.xml >"$W/dump7489"
# (RFC 7489 has no policy_test_mode override: it is "other" there)
same "RFC 7489: the same records as RFC 9990" \
	"$(grep '^record' "$W/dump9990" | sed 's/reason=policy_test_mode:/reason=other:/')" \
	"$(grep '^record' "$W/dump7489")"
cat "$W"/out7489/*.xml >"$W/all7489.xml"
check "RFC 7489 elements: version, pct, fo, sp, scope, no namespace" "$W/all7489.xml" \
	'^<feedback>$' '<version>1.0</version>' '<pct>100</pct>' '<fo>1</fo>' '<fo>0</fo>' \
	'<sp>quarantine</sp>' '<scope>helo</scope>' '<scope>mfrom</scope>' \
	'<type>other</type>' '!<generator>' '!<testing>' '!<np>' '!<discovery_method>'
check "RFC 7489: IPv6 as eight groups, mapped IPv4 as IPv4" "$W/all7489.xml" \
	'<source_ip>2001:db8:0:0:0:0:0:25</source_ip>' '<source_ip>192.0.2.99</source_ip>' \
	'!<source_ip>[^<]*::'
[ "$(grep -c '<envelope_from>' "$W/all7489.xml")" = "$(grep -c '<record>' "$W/all7489.xml")" ]
rt_ok $? "RFC 7489: every record has envelope_from"

# An independent consumer: Mail::DMARC.
if [ "$HAVE_PERL" = yes ]; then
	perl "$RT_SRC/dmarc-perl-parse.pl" "$W"/out7489/*.eml >"$W/perl7489" 2>"$W/perl7489.err"
	rc=$?
	same "Mail::DMARC parses the RFC 7489 messages (MIME, gzip, XML) into the same records" \
		"$($DUMP --short "$W"/out7489/*.eml)" "$(cat "$W/perl7489")"
	[ "$rc" -eq 0 ] || rt_diag "$(cat "$W/perl7489.err")"
	perl "$RT_SRC/dmarc-perl-parse.pl" "$W"/out9990/*.xml.gz >"$W/perl9990" 2>"$W/perl9990.err"
	same "Mail::DMARC parses the RFC 9990 reports into the same records" \
		"$($DUMP --short "$W"/out9990/*.xml.gz)" "$(cat "$W/perl9990")"
else
	rt_skip "Mail::DMARC parses the RFC 7489 messages" "libmail-dmarc-perl not installed"
	rt_skip "Mail::DMARC parses the RFC 9990 reports" "libmail-dmarc-perl not installed"
fi

########################################################################
# 2. Report ids
########################################################################
bad=
for e in "$W"/out9990/*.eml; do
	subj=$(rt_header "$e" Subject)
	sid=${subj##*Report-ID: }
	fname=$(grep -o 'filename="[^"]*"' "$e" | head -n 1 | sed 's/filename="//; s/"$//')
	fid=${fname##*!}
	fid=${fid%.xml.gz}
	xid=$($DUMP "$e" | sed -n 's/.*report_id=\([^ ]*\).*/\1/p')
	case $sid in *[!0-9A-Za-z]* | '') bad="$bad bad-id:$sid" ;; esac
	[ "$sid" = "$fid" ] && [ "$sid" = "$xid" ] || bad="$bad mismatch:$sid/$fid/$xid"
	case $fname in
	"receiver.example!"*"!$DAY0!$DAY1!$sid.xml.gz") ;;
	*) bad="$bad name:$fname" ;;
	esac
	case $subj in
	"Report Domain: "*" Submitter: Receiver & <Sons> Report-ID: $sid") ;;
	*) bad="$bad subject:$subj" ;;
	esac
done
[ -z "$bad" ]
rt_ok $? "report id: letters and digits, identical in subject, attachment name and XML"
[ -z "$bad" ] || rt_diag "$bad"
rt_run "$conf9" --dry-run "$W/out9990b"
ids2=$(for f in "$W"/out9990b/*.xml.gz; do gzip -dc "$f"; done | grep -o '<report_id>[^<]*' |
	sed 's/<report_id>//' | sort)
same "report ids are stable across runs" "$ids" "$ids2"

# A long, non-ASCII org name: RFC 2047 encoded words, folded lines.
confu=$(rt_conf utf8 "$C" "ReportOrgName=\"Empfänger & Söhne Aktiengesellschaft für Aggregatberichte\"")
rt_run "$confu" --dry-run "$W/oututf8" --domain testing.example
e=$(ls "$W"/oututf8/*.eml 2>/dev/null | head -n 1)
"$RT_PY" - "$e" <<'PYEOF' >"$W/utf8.out" 2>&1
import email, email.header, sys
raw = open(sys.argv[1], 'rb').read()
head = raw.split(b'\n\n', 1)[0]
assert all(len(l) <= 78 for l in head.split(b'\n')), 'a header line over 78'
assert all(b < 0x80 for b in head), '8-bit byte in the header'
msg = email.message_from_bytes(raw)
subj = str(email.header.make_header(email.header.decode_header(msg['Subject'])))
want = 'Report Domain: testing.example Submitter: Empfänger & Söhne Aktiengesellschaft für Aggregatberichte Report-ID: '
assert subj.startswith(want), subj
assert subj[len(want):].isalnum(), subj
PYEOF
rt_ok $? "non-ASCII org name: RFC 2047 encoded, header lines of at most 78 characters"
[ -s "$W/utf8.out" ] && rt_diag "$(cat "$W/utf8.out")"

########################################################################
# 3. Destinations
########################################################################
D=$W/dest.db
rt_gen "$D" $DAY <<'EOF'
pdom=same.example hfrom=same.example rua=mailto:dmarc@same.example,mailto:agg@reports.same.example
pdom=mail.corp.example hfrom=mail.corp.example rua=mailto:dmarc@corp.example
pdom=ext.example hfrom=ext.example rua=mailto:rua@thirdparty.example
pdom=noauth.example hfrom=noauth.example rua=mailto:rua@thirdparty.example
pdom=notdmarc.example hfrom=notdmarc.example rua=mailto:rua@thirdparty.example
pdom=over.example hfrom=over.example rua=mailto:rua@thirdparty.example
pdom=elsewhere.example hfrom=elsewhere.example rua=mailto:rua@thirdparty.example
pdom=flaky.example hfrom=flaky.example rua=mailto:rua@thirdparty.example
pdom=slow.example hfrom=slow.example rua=mailto:rua@thirdparty.example
pdom=mixed.example hfrom=mixed.example rua=https://reports.mixed.example/dmarc,mailto:dmarc%2Breports@mixed.example
pdom=inject.example hfrom=inject.example rua=mailto:a%0d%0aBcc:victim@evil.example@inject.example,mailto:ok@inject.example
pdom=caps.example hfrom=caps.example rua=mailto:m1@caps.example,mailto:m2@caps.example,mailto:m3@caps.example,mailto:m4@caps.example,mailto:m5@caps.example,mailto:m6@caps.example,mailto:m7@caps.example
EOF
confd=$(rt_conf dest "$D")
rt_mail_reset
t0=$(date +%s)
rt_run "$confd" -v
rc=$?
rt_diag "first destination run: $(($(date +%s) - t0)) s"
check "destinations: exit 0, summary counts" "$W/last.out" \
	'^dmarc-reporter: 12 reports built \(0 built earlier\), 12 sent, 5 skipped, 0 failed, 2 waiting for DNS$'
[ "$rc" -eq 0 ]
rt_ok $? "destinations: exit status 0"
rows() {
	rt_sql "$D" "SELECT r.policy_domain, d.address, ifnull(d.send_to, ''), d.status
		FROM report_destinations d JOIN reports r ON r.id = d.report ORDER BY 1, 2"
}
rows >"$W/rows1"
same "destination rows: address as published, where it goes, status" "$(cat <<'EOF'
caps.example|m1@caps.example|m1@caps.example|sent
caps.example|m2@caps.example|m2@caps.example|sent
caps.example|m3@caps.example|m3@caps.example|sent
caps.example|m4@caps.example|m4@caps.example|sent
caps.example|m5@caps.example|m5@caps.example|sent
elsewhere.example|rua@thirdparty.example|rua@thirdparty.example|unauthorized
ext.example|rua@thirdparty.example|rua@thirdparty.example|sent
flaky.example|rua@thirdparty.example|rua@thirdparty.example|tempfail
inject.example|mailto:a%0d%0aBcc:victim@evil.example@inject.example||skipped
inject.example|ok@inject.example|ok@inject.example|sent
mail.corp.example|dmarc@corp.example|dmarc@corp.example|sent
mixed.example|dmarc+reports@mixed.example|dmarc+reports@mixed.example|sent
mixed.example|https://reports.mixed.example/dmarc||skipped
noauth.example|rua@thirdparty.example|rua@thirdparty.example|unauthorized
notdmarc.example|rua@thirdparty.example|rua@thirdparty.example|unauthorized
over.example|rua@thirdparty.example|other@thirdparty.example|sent
same.example|agg@reports.same.example|agg@reports.same.example|sent
same.example|dmarc@same.example|dmarc@same.example|sent
slow.example|rua@thirdparty.example|rua@thirdparty.example|tempfail
EOF
)" "$(cat "$W/rows1")"
rt_sql "$D" "SELECT r.policy_domain || ': ' || d.last_error FROM report_destinations d
	JOIN reports r ON r.id = d.report WHERE d.status <> 'sent' ORDER BY 1" >"$W/reasons1"
check "reasons recorded for every destination not sent" "$W/reasons1" \
	'^noauth.example: noauth.example._report._dmarc.thirdparty.example: no v=DMARC1 record \(nxdomain\): thirdparty.example did not authorize reports for noauth.example$' \
	'^notdmarc.example: notdmarc.example._report._dmarc.thirdparty.example: no v=DMARC1 record \(other TXT only\)' \
	'^elsewhere.example: elsewhere.example._report._dmarc.thirdparty.example points reports to another host' \
	'^flaky.example: .*(servfail|SERVFAIL|temp|lookup failed)' \
	'^slow.example: .*(timeout|temp|lookup failed)' \
	'^mixed.example: https://reports.mixed.example/dmarc: only mailto: URIs are supported' \
	'^inject.example: invalid URI: .*control character'
rt_mails | xargs -r -n 1 sh -c 'sed -n "s/^To: //p" "$0" | head -n 1' | sort >"$W/to1"
same "messages went to exactly the sent destinations (override followed)" "$(cat <<'EOF'
agg@reports.same.example
dmarc+reports@mixed.example
dmarc@corp.example
dmarc@same.example
m1@caps.example
m2@caps.example
m3@caps.example
m4@caps.example
m5@caps.example
ok@inject.example
other@thirdparty.example
rua@thirdparty.example
EOF
)" "$(cat "$W/to1")"
check "ReportMaxDestinations: the excess is logged" "$W/last.err" \
	'caps.example: 2 destinations beyond ReportMaxDestinations=5 ignored'
bad=
for e in $(rt_mails); do
	grep -q 'victim@evil\.example' "$e" && bad="$bad $e:victim"
	# the header section: every line a "Name: value" field or a continuation
	awk '/^$/ { exit } !/^[A-Za-z-]+: / && !/^[ \t]/ { bad = 1 } END { exit bad }' "$e" || bad="$bad $e:header"
	grep -q $'\r' "$e" && bad="$bad $e:CR"
done
[ -z "$bad" ]
rt_ok $? "header injection: the CR/LF address reached no message, every header line well-formed"
[ -z "$bad" ] || rt_diag "$bad"

# One message in detail (ext.example, authorized externally).
e=$(grep -l '^To: rua@thirdparty.example' $(rt_mails) | head -n 1)
id=$(rt_sql "$D" "SELECT report_id FROM reports WHERE policy_domain = 'ext.example'")
rt_headers "$e" >"$W/ext.headers"
check "message headers: From, To, Subject, Date, Message-ID, MIME, Auto-Submitted" "$W/ext.headers" \
	'^From: dmarc-reports@receiver\.example$' '^To: rua@thirdparty\.example$' \
	"^Subject: Report Domain: ext\\.example Submitter: Receiver & <Sons> Report-ID: $id\$" \
	'^Date: [A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9:]{8} \+0000$' \
	"^Message-ID: <$id\\.[0-9]+\\.[0-9a-f]+@receiver\\.example>\$" '^MIME-Version: 1\.0$' \
	'^Auto-Submitted: auto-generated$' '^Content-Type: multipart/mixed; boundary='
check "message parts: text/plain, application/gzip named receiver!domain!begin!end!id.xml.gz" "$e" \
	'^Content-Type: text/plain; charset=utf-8' \
	"^Content-Type: application/gzip; name=\"receiver\\.example!ext\\.example!$DAY0!$DAY1!$id\\.xml\\.gz\"\$" \
	"^Content-Disposition: attachment; filename=\"receiver\\.example!ext\\.example!$DAY0!$DAY1!$id\\.xml\\.gz\"\$"
$DUMP "$e" >"$W/ext.dump" 2>&1 && grep -q "report_id=$id " "$W/ext.dump"
rt_ok $? "the attachment is the gzipped report with the same id"
printf '%s\n' -t -oi -f dmarc-reports@receiver.example >"$W/args.want"
cmp -s "$W/args.want" "$FAKE_SENDMAIL_DIR/001.args"
rt_ok $? "sendmail is called as: sendmail -t -oi -f ReportEmail"
x=$(rt_sql "$D" "SELECT count(*) FROM report_destinations WHERE status = 'sent' AND sent_time IS NOT NULL AND attempts = 1")
same "sent rows carry their sent time and one attempt" 12 "$x"

# DNS repaired: the two waiting destinations go out on the next run, nothing else.
rt_dns_fix
before=$(rt_mails | wc -l)
rt_run "$confd"
rc=$?
check "next run after DNS repair: the two waiting destinations are sent" "$W/last.out" \
	'^dmarc-reporter: 0 reports built \(0 built earlier\), 2 sent, 0 skipped, 0 failed, 0 waiting for DNS$'
rows >"$W/rows2"
check "flaky.example sent; slow.example sent to its same-host override" "$W/rows2" \
	'^flaky\.example\|rua@thirdparty\.example\|rua@thirdparty\.example\|sent$' \
	'^slow\.example\|rua@thirdparty\.example\|slow-reports@thirdparty\.example\|sent$'
new=$(for e in $(rt_mails | tail -n +$((before + 1))); do rt_header "$e" To; done | sort | tr '\n' ' ')
same "only those two messages were handed over" "rua@thirdparty.example slow-reports@thirdparty.example " "$new"
rt_run "$confd"
check "a further run sends nothing" "$W/last.out" \
	'^dmarc-reporter: 0 reports built \(0 built earlier\), 0 sent, 0 skipped, 0 failed, 0 waiting for DNS$'

# !size (RFC 7489 mode only): a report of 300 records is over 1 KiB gzipped.
S=$W/size.db
for i in $(seq 1 300); do
	echo "ip=10.$((i / 200)).$((i % 200)).$((i * 7 % 250)) hfrom=big.example efrom=e$i.example spf=fail spf_domain=e$i.example rua=mailto:small@big.example!1k,mailto:large@big.example!10m,mailto:plain@big.example"
done | rt_gen "$S" $DAY
cp "$S" "$W/size9990.db"
confs=$(rt_conf size "$S" DMARCStandard=rfc7489)
rt_mail_reset
rt_run "$confs"
rt_sql "$S" "SELECT d.address, d.status, ifnull(d.last_error, '') FROM report_destinations d ORDER BY 1" >"$W/size.rows"
check "RFC 7489 !size: over the limit skipped (with the reason), the others sent" "$W/size.rows" \
	'^large@big\.example\|sent\|$' '^plain@big\.example\|sent\|$' \
	'^small@big\.example\|skipped\|the report \([0-9]+ bytes gzipped\) exceeds the limit of 1024 bytes'
[ "$(rt_mails | wc -l)" -eq 2 ]
rt_ok $? "RFC 7489 !size: two messages"
confs9=$(rt_conf size9990 "$W/size9990.db")
rt_run "$confs9" --dry-run "$W/size9990"
[ "$(ls "$W"/size9990/*.eml 2>/dev/null | wc -l)" -eq 3 ]
rt_ok $? "RFC 9990 ignores the obsolete !size: three messages"

# ReportMaxPerRun: 3 due, 2 per run.
P=$W/perrun.db
printf 'hfrom=p%d.example rua=mailto:r@p%d.example\n' 1 1 2 2 3 3 | rt_gen "$P" $DAY
confp=$(rt_conf perrun "$P" ReportMaxPerRun=2)
rt_mail_reset
rt_run "$confp"
check "ReportMaxPerRun=2: first run sends two" "$W/last.out" ' 2 sent, '
rt_run "$confp"
check "ReportMaxPerRun=2: the next run sends the third" "$W/last.out" ' 1 sent, '
[ "$(rt_mails | wc -l)" -eq 3 ] &&
	[ "$(for e in $(rt_mails); do rt_header "$e" To; done | sort -u | wc -l)" -eq 3 ]
rt_ok $? "ReportMaxPerRun: three distinct messages in all"

########################################################################
# 4. State
########################################################################
# A failing sendmail: retried on later runs, attempts counted.
F=$W/fail.db
echo 'hfrom=retry.example rua=mailto:r@retry.example' | rt_gen "$F" $DAY
conff=$(rt_conf fail "$F" ReportMaxAttempts=3)
rt_mail_reset
touch "$FAKE_SENDMAIL_DIR/fail"
rt_run "$conff"
rc=$?
st() { rt_sql "$1" "SELECT status || '/' || attempts FROM report_destinations"; }
[ "$rc" -eq 1 ] && [ "$(st "$F")" = failed/1 ]
rt_ok $? "sendmail fails: status failed, 1 attempt, exit status 1 (nothing could be sent)"
check "the failure says what happened and that it is retried" "$W/last.err" \
	'r@retry\.example: .*exited with status 75; retried next run'
rt_sql "$F" "SELECT last_error FROM report_destinations" >"$W/lasterr"
check "last_error recorded" "$W/lasterr" 'exited with status 75'
rt_run "$conff"
same "second run retries: 2 attempts" failed/2 "$(st "$F")"
rm -f "$FAKE_SENDMAIL_DIR/fail"
rt_run "$conff"
rc=$?
[ "$rc" -eq 0 ] && [ "$(st "$F")" = sent/3 ] && [ "$(rt_mails | wc -l)" -eq 1 ]
rt_ok $? "third run succeeds: sent after 3 attempts, one message"
rt_run "$conff"
[ "$(rt_mails | wc -l)" -eq 1 ] && [ "$(cat "$FAKE_SENDMAIL_DIR/count")" -eq 3 ]
rt_ok $? "a sent destination is never sent again"

G=$W/giveup.db
echo 'hfrom=giveup.example rua=mailto:r@giveup.example' | rt_gen "$G" $DAY
confg=$(rt_conf giveup "$G" ReportMaxAttempts=3)
rt_mail_reset
touch "$FAKE_SENDMAIL_DIR/fail"
rt_run "$confg"
rt_run "$confg"
rt_run "$confg"
cp "$W/last.err" "$W/giveup.err"
rm -f "$FAKE_SENDMAIL_DIR/fail"
rt_run "$confg"
rc=$?
[ "$(st "$G")" = failed/3 ] && [ "$(cat "$FAKE_SENDMAIL_DIR/count")" -eq 3 ] && [ "$rc" -eq 0 ]
rt_ok $? "ReportMaxAttempts=3: given up after 3 attempts, never tried again"
check "giving up is logged as an error" "$W/giveup.err" 'error: .*giving up after ReportMaxAttempts'

# A crash between two destinations: the fake sendmail's 2nd call kills the
# reporter (SIGKILL) before it takes the message.
K=$W/crash.db
echo 'hfrom=crash.example rua=mailto:a@crash.example,mailto:b@crash.example' | rt_gen "$K" $DAY
confk=$(rt_conf crash "$K")
rt_mail_reset
echo 2 >"$FAKE_SENDMAIL_DIR/kill-at"
rt_run "$confk"
rc=$?
rt_sql "$K" "SELECT address || ':' || status FROM report_destinations ORDER BY 1" | tr '\n' ' ' >"$W/crash.st"
[ "$rc" -eq 137 ] && [ "$(cat "$W/crash.st")" = "a@crash.example:sent b@crash.example:sending " ]
rt_ok $? "crash: the reporter was killed after the 1st delivery (a sent, b sending)"
[ "$rc" -eq 137 ] || rt_diag "exit $rc, rows: $(cat "$W/crash.st")"
rt_run "$confk"
check "the next run finishes the other destination only" "$W/last.out" ' 1 sent, '
to=$(for e in $(rt_mails); do rt_header "$e" To; done | sort | tr '\n' ' ')
same "crash: each destination got exactly one message" "a@crash.example b@crash.example " "$to"
rt_run "$confk"
check "crash: a third run sends nothing" "$W/last.out" ' 0 sent, '
# A crash while sendmail takes the message: the reporter cannot know it got
# through, so the next run sends it again, with the same Report-ID.
K2=$W/crash2.db
echo 'hfrom=handover.example rua=mailto:h@handover.example' | rt_gen "$K2" $DAY
confk2=$(rt_conf crash2 "$K2")
rt_mail_reset
echo 1 >"$FAKE_SENDMAIL_DIR/kill-after"
rt_run "$confk2"
rc=$?
x=$(rt_sql "$K2" "SELECT status FROM report_destinations")
rt_run "$confk2"
y=$(rt_sql "$K2" "SELECT status || '/' || attempts FROM report_destinations")
ids=$(for e in $(rt_mails); do rt_header "$e" Subject; done | sed 's/.*Report-ID: //' | sort -u | wc -l)
[ "$rc" -eq 137 ] && [ "$x" = sending ] && [ "$y" = sent/1 ] &&
	[ "$(rt_mails | wc -l)" -eq 2 ] && [ "$ids" -eq 1 ]
rt_ok $? "crash during the hand-over: sent again by the next run, same Report-ID (at least once)"

# The current day is never reported; catch-up reports every finished day.
T=$W/days.db
echo 'hfrom=today.example rua=mailto:r@today.example' | rt_gen "$T" -0
for d in -4 -3 -2; do
	echo 'hfrom=catchup.example rua=mailto:r@catchup.example' | rt_gen "$T" $d
done
conft=$(rt_conf days "$T")
rt_mail_reset
# another run holds the lock: this one does nothing (and says so)
if command -v flock >/dev/null 2>&1; then
	flock "$T.reporter-lock" "$RT_REPORTER" -c "$conft" >"$W/locked.out" 2>"$W/locked.err"
	rc=$?
	[ "$rc" -eq 0 ] && ! [ -s "$W/locked.out" ] && [ "$(rt_mails | wc -l)" -eq 0 ] &&
		grep -q 'another dmarc-reporter is running' "$W/locked.err"
	rt_ok $? "a second run while one holds the lock does nothing, says why, exits 0"
else
	rt_skip "a second run while one holds the lock does nothing" "no flock(1)"
fi
rt_run "$conft"
today=$(($(date -u +%s) / 86400))
rt_sql "$T" "SELECT policy_domain || ':' || ($today - day) FROM reports ORDER BY day" | tr '\n' ' ' >"$W/days"
same "catch-up: the three finished days are reported, today is not" \
	"catchup.example:4 catchup.example:3 catchup.example:2 " "$(cat "$W/days")"
[ "$(rt_mails | wc -l)" -eq 3 ] &&
	[ "$(rt_sql "$T" "SELECT count(*) FROM reported_days")" -eq 3 ]
rt_ok $? "catch-up: three messages, three days marked reported"
rt_run "$conft"
check "catch-up: the next run builds and sends nothing" "$W/last.out" \
	'^dmarc-reporter: 0 reports built \(0 built earlier\), 0 sent, '
rt_run "$conft" --day "$(date -u +%Y-%m-%d)"
rc=$?
[ "$rc" -eq 2 ] && grep -q 'not finished' "$W/last.err"
rt_ok $? "--day today is refused (exit 2): the day is not finished"
rt_run "$conft" --day "$(date -u -d @$(((today - 3) * 86400)) +%Y-%m-%d)"
check "--day of a reported day: the report exists, nothing is sent again" "$W/last.out" \
	'^dmarc-reporter: 0 reports built \(1 built earlier\), 0 sent, '

########################################################################
# 5. --summary and --expire
########################################################################
rt_run "$conf9" --summary --day $DAY
cp "$W/last.out" "$W/summary.out"
check "--summary: one row per policy domain and source IP with the counts" "$W/summary.out" \
	"^UTC day $DAY\$" \
	'^sender\.example +192\.0\.2\.10 +10 +10 +0 +0 +10 +0 +0$' \
	'^sender\.example +203\.0\.113\.5 +4 +0 +4 +0 +4 +0 +0$' \
	'^sender\.example +203\.0\.113\.6 +1 +0 +1 +0 +0 +0 +1$' \
	'^testing\.example +192\.0\.2\.20 +3 +0 +3 +0 +3 +0 +0$' \
	'^\(no policy\) +192\.0\.2\.40 +7 ' \
	'^total +34 '
rt_run "$conf9" --summary --day $DAY --domain TESTING.example.
check "--summary --domain (any case, trailing dot): that domain only" "$W/last.out" \
	'^testing\.example +192\.0\.2\.20 +3 ' '^total +3 ' '!^sender\.example'

E=$W/expire.db
for d in -10 -9 -3 -1; do
	echo "n=2 hfrom=old$d.example dkim=old.example/s/pass/1" | rt_gen "$E" $d
done
confe=$(rt_conf expire "$E")
rt_run "$confe" # reports for the four days (no rua: nothing to send)
rt_run "$confe" --expire 7
rc=$?
check "--expire 7: deletes the events and reports older than 7 days" "$W/last.out" \
	'^dmarc-reporter: 4 events and 2 reports older than 7 days deleted$'
x=$(rt_sql "$E" "SELECT (SELECT count(*) FROM events) || '/' || (SELECT count(*) FROM event_dkim)
	|| '/' || (SELECT count(*) FROM reports) || '/' || (SELECT count(*) FROM reported_days)")
[ "$rc" -eq 0 ] && [ "$x" = 4/4/2/4 ]
rt_ok $? "--expire: the newer events (and their DKIM rows) and reports are kept"
[ "$x" = 4/4/2/4 ] || rt_diag "events/dkim/reports/reported days left: $x"
rt_run "$confe"
check "--expire: the expired days are not reported again" "$W/last.out" \
	'^dmarc-reporter: 0 reports built \(0 built earlier\)' 
rt_run "$confe" --expire 0
[ $? -eq 2 ]
rt_ok $? "--expire 0 is a usage error (exit 2)"

rt_done
