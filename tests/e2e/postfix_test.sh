#!/bin/bash
# postfix_test.sh: dmarc-milter behind a real Postfix, end to end.
#
# Runs a private Postfix instance (its own config, queue, data and mail
# directories under a temp dir; smtpd on a free 127.0.0.1 port; no chroot;
# virtual delivery of receiver.example into a Maildir) with smtpd_milters
# pointing at a dmarc-milter (RejectFailures yes) that uses the loopback test
# DNS server. Mail is sent over SMTP with swaks:
#   (a) aligned, DKIM-signed mail from loop.example (SPF allows 127.0.0.0/8)
#       is delivered and carries our Authentication-Results and verdict fields;
#   (b) a spoof of preject.example (p=reject) is refused with 550 5.7.1 during
#       the SMTP dialogue and nothing is delivered;
#   (c) a spoof of pnone.example (p=none) is delivered, marked as a failure.
# Postfix, the milter and the DNS server are stopped at the end, also on
# failure. Needs root, postfix, swaks, unbound, openssl and the built milter;
# prints "1..0 # SKIP ..." otherwise. TK_KEEP=yes keeps the work dir.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/tools/milter-lib.sh"
. "$top_srcdir/tests/tools/postfix-lib.sh"

skip() {
	echo "1..0 # SKIP $*"
	exit 0
}
[ "$(id -u)" -eq 0 ] || skip "needs root (runs a private Postfix instance)"
PATH=$PATH:/usr/sbin:/sbin
command -v postfix >/dev/null 2>&1 || skip "postfix not installed (apt-get install postfix)"
command -v swaks >/dev/null 2>&1 || skip "swaks not installed (apt-get install swaks)"
command -v openssl >/dev/null 2>&1 || skip "openssl not installed"
for f in "$TK_MILTER" "$TK_SIGN"; do
	[ -x "$f" ] || skip "$f not built"
done
PY=$(tk_authres_py) || PY=

tk_setup dmarc-milter-e2e
pf_setup "$TK_WORK"
mkdir -p "$TK_WORK/msg"

TK_EXTRA_CLEANUP=pf_stop
tk_dns_start "$top_srcdir/tests/integration/example.zone.in"

# The milter: the client is 127.0.0.1, so IgnoreHosts must not cover it.
if ! tk_milter_start milter "$top_srcdir/tests/integration/milter.conf.in" \
	IgnoreHosts=192.0.2.99/32 RejectFailures=yes; then
	echo "Bail out! dmarc-milter did not start (log kept in $TK_WORK)"
	TK_KEEP=yes
	exit 99
fi
milter_port=${TK_SOCKET[milter]#inet:}
milter_port=${milter_port%@*}

# The Postfix instance, its smtpd handing every message to the milter.
if ! pf_start mx.receiver.example receiver.example \
	"smtpd_milters = inet:127.0.0.1:$milter_port" "non_smtpd_milters =" \
	"milter_default_action = tempfail" "milter_protocol = 6"; then
	echo "Bail out! the private Postfix did not start"
	TK_KEEP=yes
	exit 99
fi
smtp_port=$PF_PORT

# send NAME FROM MAILFROM SIGN: builds (and maybe signs) a message and sends
# it with swaks; the transcript is $TK_WORK/NAME.swaks.
send() {
	local name=$1 from=$2 mailfrom=$3 sign=$4 eml=$TK_WORK/msg/$1.eml
	{
		printf 'From: Sender <%s>\nTo: carol@receiver.example\n' "$from"
		printf 'Subject: e2e %s\nDate: %s\nMessage-ID: <%s.%s@e2e.example>\n\n' \
			"$name" "$(date -R)" "$name" "$$"
		printf 'End-to-end scenario %s.\n' "$name"
	} >"$eml"
	if [ "$sign" = yes ]; then
		"$TK_SIGN" --key "$TK_KEYS/rsa2048.key" --domain loop.example --selector s2048 \
			<"$eml" >"$eml.signed" && mv "$eml.signed" "$eml"
	fi
	swaks --server 127.0.0.1 --port "$smtp_port" --helo mx.loop.example \
		--from "$mailfrom" --to carol@receiver.example --data "@$eml" \
		--timeout 60 >"$TK_WORK/$name.swaks" 2>&1
}

# delivered NAME: the delivered file of scenario NAME (waits up to 30 s).
delivered() {
	pf_delivered "^Subject: e2e $1\$"
}

# headers FILE: the header section, folded lines joined (RFC 5322 §2.2.3).
headers() {
	awk '/^\r?$/ { exit } /^[ \t]/ { sub(/^[ \t]+/, " "); line = line $0; next }
	     { if (line != "") print line; line = $0 } END { if (line != "") print line }' "$1" |
		tr -d '\r'
}

# check LABEL FILE PATTERN...: one TAP test; every ERE must match a line.
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
	tk_ok $? "$label"
	[ -z "$bad" ] || tk_diag "$bad" "--- $file:" "$(head -n 40 "$file")"
}

# (a) aligned and signed: delivered with our fields.
t0=$(date +%s)
send aligned alice@loop.example bounce@loop.example yes
check "aligned: swaks sees 250 after DATA" "$TK_WORK/aligned.swaks" '^<- *250 .*queued'
if f=$(delivered aligned); then
	headers "$f" >"$TK_WORK/aligned.headers"
	tk_ok 0 "aligned: delivered to the Maildir"
else
	: >"$TK_WORK/aligned.headers"
	tk_ok 1 "aligned: delivered to the Maildir"
	tk_diag "$(tail -n 20 "$TK_WORK/postfix.log" 2>/dev/null)"
fi
check "aligned: Authentication-Results of mx.receiver.example" "$TK_WORK/aligned.headers" \
	'^Authentication-Results: mx\.receiver\.example;' \
	'spf=pass smtp\.mailfrom=\S*loop\.example' \
	'dkim=pass[^;]*header\.d=loop\.example' \
	'dmarc=pass[^;]*header\.from=loop\.example'
check "aligned: verdict fields" "$TK_WORK/aligned.headers" \
	'^X-SPF-Verdict: PASS' '^X-DKIM-Verdict: PASS' '^X-DMARC-Verdict: PASS' '!^X-DMARC-Policy:'
if [ -n "$PY" ]; then
	sed -n 's/^Authentication-Results:/addheader Authentication-Results:/p' \
		"$TK_WORK/aligned.headers" >"$TK_WORK/aligned.ar"
	"$PY" "$top_srcdir/tests/tools/authres-check.py" <"$TK_WORK/aligned.ar" >"$TK_WORK/aligned.ar.out" 2>&1
	tk_ok $? "aligned: delivered Authentication-Results parses (python3-authres)"
	grep -q . "$TK_WORK/aligned.ar.out" && tk_diag "$(cat "$TK_WORK/aligned.ar.out")"
fi

# (b) p=reject spoof: refused in the SMTP dialogue, nothing delivered.
send spoof-reject ceo@preject.example bounce@loop.example no
check "p=reject spoof: swaks sees 550 5.7.1" "$TK_WORK/spoof-reject.swaks" '^<\*\* *550[ -]5\.7\.1'
sleep 1
if grep -lq "^Subject: e2e spoof-reject" "$MAILDIR"/new/* 2>/dev/null; then
	tk_ok 1 "p=reject spoof: nothing delivered"
else
	tk_ok 0 "p=reject spoof: nothing delivered"
fi

# (c) p=none spoof: delivered, marked as a DMARC failure.
send spoof-none ceo@pnone.example bounce@loop.example no
if f=$(delivered spoof-none); then
	headers "$f" >"$TK_WORK/spoof-none.headers"
else
	: >"$TK_WORK/spoof-none.headers"
fi
check "p=none spoof: delivered with dmarc=fail and X-DMARC-Policy: NONE" \
	"$TK_WORK/spoof-none.headers" 'dmarc=fail[^;]*header\.from=pnone\.example' \
	'^X-DMARC-Verdict: FAIL' '^X-DMARC-Policy: NONE'
tk_diag "three messages through Postfix in $(($(date +%s) - t0)) s"

# Postfix logged the milter's reject, and the milter stops cleanly.
check "postfix log shows the milter reject" "$TK_WORK/postfix.log" 'milter-reject: END-OF-MESSAGE.*5\.7\.1'
pf_stop
tk_milter_stop milter
tk_ok $? "milter exits cleanly on SIGTERM"

tk_done
