#!/bin/bash
# reporter_hostile.sh: dmarc-reporter fed hostile events and hostile DNS.
# (tests/reporter/reporter_test.sh has the functional tests; this suite
# only plays the attacker.)
#
#  1. XML metacharacters and CR/LF in every text an outsider controls
#     (HELO, envelope and SPF domains, DKIM d=/s= and results text, override
#     comments) and raw CR/LF written straight into the database: the report
#     is well-formed XML, valid against the RFC 9990 schema, the values come
#     back intact, and the mail carries no injected header line;
#  2. a policy domain holding CR/LF (a damaged database): no injected header;
#  3. a rua list of 1,000 URIs: at most ReportMaxDestinations mails;
#  4. 10,000 policy domains whose rua all name one victim that authorized
#     nothing: zero mails to the victim (and the run stays quick);
#  5. an authorization record that overrides the address with another host
#     (also through a wildcard): zero mails to the victim;
#  6. rua URIs that smuggle a second address or a header through
#     percent-encoding: zero mails to the victim.
# Real DNS (tests/dns with tests/hardening/reporter.zone), the fake sendmail
# of tests/reporter, events from tests/reporter/event-gen and SQL.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/reporter/reporter-lib.sh"
HX_DIR=$top_srcdir/tests/hardening

rt_setup dmarc-hardening-reporter
cleanup() {
	dns_stop 2>/dev/null
}
trap cleanup EXIT
trap 'exit 129' HUP INT TERM
DNS_NO_TRAP=yes
DNS_WORKDIR=$RT_WORK/dns
. "$top_srcdir/tests/dns/dns-lib.sh"
dns_start "$HX_DIR/reporter.zone"

W=$RT_WORK
DAY=2025-03-10
XSD9990=$RT_SRC/schemas/dmarc-2.0-aggregate.xsd
MAX_SECONDS=${HX_REPORTER_SECONDS:-60}

# mails_to ADDR: how many kept mails have ADDR in a To: or Cc: or Bcc: line.
mails_to() {
	local f n=0
	for f in $(rt_mails); do
		rt_headers "$f" | grep -Eiq "^(To|Cc|Bcc):.*$1" && n=$((n + 1))
	done
	echo "$n"
}

# bad_header_lines: header lines of kept mails that are not ours.
bad_header_lines() {
	local f
	for f in $(rt_mails); do
		rt_headers "$f" | grep -Evi '^(From|To|Subject|Date|Message-ID|MIME-Version|Content-Type|Content-Transfer-Encoding|Content-Disposition|Auto-Submitted|X-[A-Za-z-]+):'
	done
}

########################################################################
# 1. Hostile values in the report
########################################################################
H=$W/hostile.db
META='<x y="1">&amp;"quoted"'\''apos'\''<![CDATA[z]]>'
# event-gen escapes: \x20 space, \x0d\x0a CR LF (it stores them as spaces;
# raw CR/LF go in by SQL below)
esc() { printf '%s' "$1" | sed -e 's/ /\\x20/g'; }
M=$(esc "$META")
rt_gen "$H" $DAY <<EOF
ip=192.0.2.7 hfrom=sender.example pdom=sender.example p=reject rua=mailto:dmarc@sender.example helo=$M efrom=$M spf=fail spf_domain=$M dkim=$M/$M/fail/0/$M override=other comment=$M
ip=2001:db8::7 hfrom=sender.example pdom=sender.example p=reject rua=mailto:dmarc@sender.example efrom=a\x0d\x0aBcc:\x20victim@victim.example dkim=sig.example/s/pass/0/line\x0d\x0abreak
EOF
rt_ok $? "hostile events stored"
rt_sql "$H" "UPDATE events SET envelope_from = 'cr' || char(13) || 'lf' || char(10) || 'Bcc: victim@victim.example', override_comment = 'a' || char(13, 10) || 'To: victim@victim.example' WHERE client_ip = '2001:db8::7'" >/dev/null
rt_sql "$H" "UPDATE event_dkim SET human_result = 'x' || char(10) || '<y/>' || char(0) || 'z', selector = 's' || char(13) || '&' WHERE domain = 'sig.example'" >/dev/null

conf=$(rt_conf hostile "$H")
rt_run "$conf" --day $DAY --dry-run "$W/dry"
rt_ok $? "dry run over hostile values (exit 0)"
n=0
bad=0
for f in "$W"/dry/*.xml.gz; do
	[ -e "$f" ] || continue
	n=$((n + 1))
	gzip -dc "$f" >"${f%.gz}" || bad=1
	xmllint --noout "${f%.gz}" 2>>"$W/xmllint.log" || bad=1
done
[ "$n" -ge 1 ] && [ "$bad" = 0 ]
rt_ok $? "the report is well-formed XML ($n report)"
bad=0
for f in "$W"/dry/*.xml; do
	[ -e "$f" ] || { bad=1; continue; }
	xmllint --noout --schema "$XSD9990" "$f" >>"$W/xmllint.log" 2>&1 || bad=1
done
rt_ok $bad "the report validates against the RFC 9990 schema"
[ $bad = 0 ] || rt_diag "$(tail -n 5 "$W/xmllint.log")"
# The metacharacters come back as text, none leaked as markup.
"$RT_PY" - "$W"/dry/*.xml "$META" <<'PY' >"$W/values.out" 2>&1
import sys, xml.etree.ElementTree as ET
files, meta = sys.argv[1:-1], sys.argv[-1]
texts = []
for f in files:
    for el in ET.parse(f).iter():
        if el.text:
            texts.append(el.text)
        # an element that came from a value would show here
        if el.tag.split('}')[-1] == 'x':
            print("injected element", el.tag)
            sys.exit(1)
found = sum(1 for t in texts if meta in t)
print("values holding the metacharacters:", found)
sys.exit(0 if found >= 3 else 1)
PY
rt_ok $? "metacharacters survive as text ($(tail -n 1 "$W/values.out"))"

rt_mail_reset
rt_run "$conf" --day $DAY
rt_ok $? "real run over hostile values (exit 0)"
[ "$(rt_mails | wc -l)" -eq 1 ] && [ "$(mails_to dmarc@sender.example)" -eq 1 ]
rt_ok $? "one report, to dmarc@sender.example"
[ "$(mails_to victim@victim.example)" -eq 0 ] && [ -z "$(bad_header_lines)" ]
rt_ok $? "no injected header line, nothing to the victim"
[ -z "$(bad_header_lines)" ] || rt_diag "$(bad_header_lines | head -n 5)"

########################################################################
# 2. A policy domain with CR/LF (a damaged database)
########################################################################
I=$W/inject.db
rt_gen "$I" $DAY <<'EOF'
hfrom=inj.example pdom=inj.example p=none rua=mailto:dmarc@inj.example
EOF
rt_sql "$I" "UPDATE events SET policy_domain = 'inj.example' || char(13, 10) || 'Bcc: victim@victim.example', header_from = 'inj.example' || char(10) || 'X-Injected: yes'" >/dev/null
rt_mail_reset
rt_run "$(rt_conf inject "$I")" --day $DAY
rt_diag "exit $? (a refusal is fine; an injected header is not)"
[ "$(mails_to victim@victim.example)" -eq 0 ] && [ -z "$(bad_header_lines)" ] &&
	! grep -rqi '^X-Injected' "$FAKE_SENDMAIL_DIR"
rt_ok $? "CR/LF in the policy domain: no injected header, nothing to the victim"

########################################################################
# 3. 1,000 rua URIs
########################################################################
B=$W/big.db
rt_gen "$B" $DAY <<'EOF'
hfrom=big.example pdom=big.example p=reject rua=mailto:dmarc@big.example
EOF
rua=$(for i in $(seq 1 1000); do printf 'mailto:r%d@big.example,' "$i"; done)
rt_sql "$B" "UPDATE events SET rua = '${rua%,}'" >/dev/null
rt_mail_reset
start=$(date +%s)
rt_run "$(rt_conf big "$B")" --day $DAY
rc=$?
el=$(($(date +%s) - start))
n=$(rt_mails | wc -l)
[ $rc = 0 ] && [ "$n" -eq 5 ]
rt_ok $? "1,000 rua URIs: $n mails (ReportMaxDestinations 5), ${el} s"
[ "$el" -le "$MAX_SECONDS" ]
rt_ok $? "1,000 rua URIs: done within ${MAX_SECONDS} s"

########################################################################
# 4. 10,000 domains, every rua at the victim
########################################################################
V=$W/victim.db
"$RT_PY" - >"$W/victim.events" <<'PY'
for i in range(10000):
    print("hfrom=d%d.example pdom=d%d.example p=reject rua=mailto:victim@victim.example" % (i, i))
PY
rt_gen "$V" $DAY <"$W/victim.events"
rt_ok $? "10,000 events stored"
rt_mail_reset
q0=$(dns_queries)
start=$(date +%s)
rt_run "$(rt_conf victim "$V" DMARCStandard=rfc7489)" --day $DAY
rc=$?
el=$(($(date +%s) - start))
q1=$(dns_queries)
rt_ok $rc "10,000 domains: the run completes (exit 0)"
[ "$(rt_mails | wc -l)" -eq 0 ]
rt_ok $? "10,000 domains pointing rua at the victim: zero mails (${el} s, $((q1 - q0)) DNS queries)"
[ "$el" -le "$MAX_SECONDS" ]
rt_ok $? "10,000 domains: done within ${MAX_SECONDS} s"

########################################################################
# 5. Authorization records that redirect to another host
########################################################################
O=$W/override.db
rt_gen "$O" $DAY <<'EOF'
hfrom=attacker.example pdom=attacker.example p=none rua=mailto:reports@thirdparty.example
hfrom=other.example pdom=other.example p=none rua=mailto:reports@wild.example
EOF
rt_mail_reset
rt_run "$(rt_conf override "$O")" --day $DAY
rc=$?
[ $rc = 0 ] && [ "$(rt_mails | wc -l)" -eq 0 ]
rt_ok $? "an override to another host (plain and wildcard): zero mails"

########################################################################
# 6. Smuggled addresses
########################################################################
S=$W/smuggle.db
rt_gen "$S" $DAY <<'EOF'
hfrom=smug.example pdom=smug.example p=none rua=mailto:a%0d%0aBcc:victim@victim.example@smug.example,mailto:victim@victim.example%2cdmarc@smug.example,mailto:%22victim@victim.example%22@smug.example
EOF
rt_mail_reset
rt_run "$(rt_conf smuggle "$S")" --day $DAY
[ "$(mails_to 'victim@victim\.example[^"]')" -eq 0 ] && [ -z "$(bad_header_lines)" ]
rt_ok $? "percent-encoded CR/LF, commas and quotes in rua: nothing to the victim"
[ -z "$(bad_header_lines)" ] || rt_diag "$(bad_header_lines | head -n 5)"

rt_done
