#!/bin/bash
# postfix_test.sh: dmarc-reporter mails through a real Postfix on loopback.
#
# A private Postfix instance (own config, queue, data and mail directories in
# a temp dir; smtpd on a free 127.0.0.1 port with STARTTLS and a throw-away
# self-signed certificate; virtual delivery of thirdparty.example into a
# Maildir), the loopback test DNS server (tests/dns, reporter.zone.in), and
# two reports for one past day:
#   (a) ext.example through the default path, sendmail(1) -t -oi (Postfix's
#       sendmail, pointed at the private instance with MAIL_CONFIG);
#   (b) over.example through SMTP (ReportSMTPHost/ReportSMTPPort), which must
#       use STARTTLS, to the same-host override the DNS publishes;
#   (c) an SMTP server that is not there: the destination is failed, with
#       the reason, for the next run.
# Each delivered message must have the right subject, a text/plain part and
# the application/gzip attachment named receiver!domain!begin!end!id.xml.gz,
# whose XML validates and carries the id of the subject.
# Needs root, postfix, openssl and unbound; prints "1..0 # SKIP ..." otherwise.
# RT_KEEP=yes keeps the work dir.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/reporter/reporter-lib.sh"
. "$top_srcdir/tests/tools/postfix-lib.sh"

skip() {
	echo "1..0 # SKIP $*"
	exit 0
}
[ "$(id -u)" -eq 0 ] || skip "needs root (runs a private Postfix instance)"
PATH=$PATH:/usr/sbin:/sbin
command -v postfix >/dev/null 2>&1 || skip "postfix not installed (apt-get install postfix)"
command -v openssl >/dev/null 2>&1 || skip "openssl not installed"
id postfix >/dev/null 2>&1 || skip "no postfix user"

rt_setup dmarc-reporter-postfix
W=$RT_WORK
pf_setup "$W"

cleanup() {
	pf_stop
	dns_stop 2>/dev/null
}
trap cleanup EXIT
trap 'exit 129' HUP INT TERM
rt_dns_start

if ! openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=mx.thirdparty.example \
	-keyout "$PF/etc/key.pem" -out "$PF/etc/cert.pem" >"$W/openssl.out" 2>&1; then
	echo "Bail out! openssl could not make a test certificate"
	exit 99
fi

# The Postfix instance, with STARTTLS for the SMTP path.
if ! pf_start mx.thirdparty.example thirdparty.example \
	"smtpd_tls_security_level = may" "smtpd_tls_cert_file = $PF/etc/cert.pem" \
	"smtpd_tls_key_file = $PF/etc/key.pem" "smtpd_tls_received_header = yes"; then
	echo "Bail out! the private Postfix did not start"
	RT_KEEP=yes
	exit 99
fi
smtp_port=$PF_PORT

DAY=2025-01-15
DAY0=$(rt_day_sec $DAY)
DAY1=$((DAY0 + 86399))
DB=$W/events.db
rt_gen "$DB" $DAY <<'EOF'
n=3 pdom=ext.example hfrom=ext.example efrom=ext.example spf=pass spf_domain=ext.example spf_aligned=1 rua=mailto:rua@thirdparty.example
n=2 pdom=over.example hfrom=over.example efrom=over.example spf=pass spf_domain=over.example spf_aligned=1 rua=mailto:rua@thirdparty.example
n=1 pdom=down.example hfrom=down.example rua=mailto:rua@down.example
EOF

# delivered SUBJECT-PART: the delivered message whose Subject has it (30 s).
delivered() {
	pf_delivered "^Subject: Report Domain: $1 "
}

# check_message LABEL FILE DOMAIN TO: subject, parts, attachment, XML.
check_message() {
	local label=$1 f=$2 dom=$3 to=$4 subj id bad= n
	subj=$(rt_header "$f" Subject)
	id=${subj##*Report-ID: }
	case $id in *[!0-9A-Za-z]* | '') bad="$bad id:$id" ;; esac
	[ "$subj" = "Report Domain: $dom Submitter: Receiver & <Sons> Report-ID: $id" ] ||
		bad="$bad subject:$subj"
	[ "$(rt_header "$f" To)" = "$to" ] || bad="$bad to:$(rt_header "$f" To)"
	[ "$(rt_header "$f" Auto-Submitted)" = auto-generated ] || bad="$bad auto-submitted"
	"$RT_PY" - "$f" "receiver.example!$dom!$DAY0!$DAY1!$id.xml.gz" "$W/$dom.xml" <<'PYEOF' >"$W/$dom.mime" 2>&1 || bad="$bad mime"
import email, gzip, sys
msg = email.message_from_binary_file(open(sys.argv[1], 'rb'))
types = [p.get_content_type() for p in msg.walk()]
assert types == ['multipart/mixed', 'text/plain', 'application/gzip'], types
gz = [p for p in msg.walk() if p.get_content_type() == 'application/gzip'][0]
assert gz.get_filename() == sys.argv[2], (gz.get_filename(), sys.argv[2])
assert gz.get_param('name') == sys.argv[2], gz.get_param('name')
assert gz.get_content_disposition() == 'attachment'
open(sys.argv[3], 'wb').write(gzip.decompress(gz.get_payload(decode=True)))
PYEOF
	xmllint --noout --schema "$RT_SRC/schemas/dmarc-2.0-aggregate.xsd" "$W/$dom.xml" \
		>>"$W/xmllint.log" 2>&1 || bad="$bad xsd"
	n=$(xmllint --xpath "string(//*[local-name()='report_id'])" "$W/$dom.xml" 2>/dev/null)
	[ "$n" = "$id" ] || bad="$bad xml-id:$n"
	[ -z "$bad" ]
	rt_ok $? "$label"
	[ -z "$bad" ] || rt_diag "$bad" "$(cat "$W/$dom.mime" 2>/dev/null)" "$(head -n 20 "$f")"
}

# (a) sendmail(1): Postfix's own, told by MAIL_CONFIG to use our instance.
conf_a=$(rt_conf sendmail "$DB" ReportSendmail=/usr/sbin/sendmail)
MAIL_CONFIG=$PF/etc rt_run "$conf_a" --domain ext.example
rc=$?
check() {
	grep -Eq -- "$3" "$2"
	rt_ok $? "$1"
	grep -Eq -- "$3" "$2" || rt_diag "$(cat "$2")"
}
[ "$rc" -eq 0 ]
rt_ok $? "sendmail path: exit status 0"
check "sendmail path: the report was handed to Postfix's sendmail" "$W/last.out" ' 1 sent, 0 skipped, 0 failed'
if f=$(delivered ext.example); then
	rt_ok 0 "sendmail path: delivered to the Maildir"
	check_message "sendmail path: subject, MIME parts, attachment name, valid XML with the same id" \
		"$f" ext.example rua@thirdparty.example
else
	rt_ok 1 "sendmail path: delivered to the Maildir"
	rt_diag "$(tail -n 20 "$W/postfix.log" 2>/dev/null)"
fi

# (b) SMTP with STARTTLS, to the same-host override.
conf_b=$(rt_conf smtp "$DB" ReportSMTPHost=127.0.0.1 ReportSMTPPort=$smtp_port)
rt_run "$conf_b" --domain over.example
rc=$?
[ "$rc" -eq 0 ]
rt_ok $? "SMTP path: exit status 0"
check "SMTP path: the report was sent" "$W/last.out" ' 1 sent, 0 skipped, 0 failed'
if f=$(delivered over.example); then
	rt_ok 0 "SMTP path: delivered to the Maildir"
	check_message "SMTP path: subject, MIME parts, attachment name, valid XML with the same id" \
		"$f" over.example other@thirdparty.example
	sed -n '1,/^$/p' "$f" >"$W/over.headers"
	check "SMTP path: STARTTLS was used (Received: ... using TLS)" "$W/over.headers" \
		'^[[:space:]]+\(using TLSv[0-9.]+ '
	check "SMTP path: envelope sender is ReportEmail (Return-Path)" "$W/over.headers" \
		'^Return-Path: <dmarc-reports@receiver\.example>'
else
	rt_ok 1 "SMTP path: delivered to the Maildir"
	rt_diag "$(tail -n 20 "$W/postfix.log" 2>/dev/null)"
fi
check "Postfix logged both deliveries" "$W/postfix.log" \
	'to=<other@thirdparty\.example>.*status=sent'
grep -q 'to=<rua@thirdparty\.example>.*status=sent' "$W/postfix.log"
rt_ok $? "Postfix logged the sendmail delivery too"

# (c) no SMTP server on that port: failed, with the reason, for the next run.
dead_port=$((smtp_port == 65535 ? smtp_port - 1 : smtp_port + 1))
ss -Hlnt 2>/dev/null | awk '{print $4}' | grep -q ":$dead_port\$" && dead_port=9
conf_c=$(rt_conf smtpdown "$DB" ReportSMTPHost=127.0.0.1 ReportSMTPPort=$dead_port)
rt_run "$conf_c" --domain down.example
rc=$?
x=$(rt_sql "$DB" "SELECT status || '|' || attempts || '|' || last_error FROM report_destinations
	WHERE address = 'rua@down.example'")
case $x in
"failed|1|SMTP: cannot connect to 127.0.0.1 port $dead_port"*) ok=0 ;;
*) ok=1 ;;
esac
[ "$rc" -eq 1 ] && [ "$ok" -eq 0 ]
rt_ok $? "SMTP server down: exit 1, destination failed with the reason, retried later"
[ "$ok" -eq 0 ] || rt_diag "exit $rc; row: $x"

pf_stop
rt_done
