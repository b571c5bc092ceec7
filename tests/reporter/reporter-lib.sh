# reporter-lib.sh: helpers of the dmarc-reporter suites (reporter_test.sh,
# postfix_test.sh). Source it from bash; it reads top_srcdir / top_builddir
# (exported by `make check`; otherwise guessed).
#
#   rt_setup NAME          work dir $RT_WORK (kept on failure or RT_KEEP=yes);
#                          SKIPs (TAP "1..0 # SKIP") when a tool is missing
#   rt_ok STATUS LABEL     one TAP line; rt_skip LABEL REASON; rt_diag TEXT...
#   rt_done                plan line, summary, keeps or removes the work dir
#   rt_dns_start           the loopback DNS server with reporter.zone.in
#                          (@FLAKY@ / @SLOW@ failing); rt_dns_fix repairs them
#   rt_gen DB DAY          events from standard input (tests/reporter/event-gen)
#   rt_conf NAME DB [Key=Value]...   $RT_WORK/NAME.conf from reporter.conf.in,
#                          Key=Value lines replacing or adding to it
#   rt_run CONF ARGS...    runs dmarc-reporter; output in $RT_WORK/last.out,
#                          last.err; returns its exit status
#   rt_sql DB SQL          prints the rows ("|"-separated) of a query
#   rt_day_sec YYYY-MM-DD  the epoch second the UTC day starts
# The fake sendmail keeps messages in $FAKE_SENDMAIL_DIR (tests/reporter/
# fake-sendmail.sh); rt_mail_reset empties it.

top_srcdir=${top_srcdir:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
top_builddir=${top_builddir:-$(pwd)}
RT_SRC=$top_srcdir/tests/reporter
RT_REPORTER=${RT_REPORTER:-$top_builddir/reporter/dmarc-reporter}
RT_GEN=${RT_GEN:-$top_builddir/tests/reporter/event-gen}
rt_n=0
rt_failed=0
RT_WORK=

rt_diag() {
	printf '%s\n' "$@" | sed 's/^/# /'
}

rt_ok() {
	rt_n=$((rt_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $rt_n - $2"
	else
		echo "not ok $rt_n - $2"
		rt_failed=$((rt_failed + 1))
	fi
}

rt_skip() {
	rt_n=$((rt_n + 1))
	echo "ok $rt_n - $1 # SKIP $2"
}

rt_done() {
	if [ -s "$RT_WORK/runs.log" ]; then
		! grep -Eq 'Sanitizer|runtime error:' "$RT_WORK/runs.log"
		rt_ok $? "no sanitizer report in any dmarc-reporter run"
		grep -Eq 'Sanitizer|runtime error:' "$RT_WORK/runs.log" &&
			rt_diag "$(grep -E -A5 'Sanitizer|runtime error:' "$RT_WORK/runs.log" | head -n 20)"
	fi
	echo "1..$rt_n"
	echo "# $((rt_n - rt_failed)) passed, $rt_failed failed"
	# the DNS server's pid file is in the work dir: stop it first
	if declare -F dns_stop >/dev/null; then
		dns_stop
	fi
	if [ -n "$RT_WORK" ]; then
		if [ "$rt_failed" -gt 0 ] || [ "${RT_KEEP:-}" = yes ]; then
			echo "# work dir kept: $RT_WORK"
		else
			rm -rf "$RT_WORK"
		fi
	fi
	[ "$rt_failed" -eq 0 ]
}

# A python3 with sqlite3 (the Debian one first: pyenv shims may lack modules).
rt_python() {
	local cand
	for cand in /usr/bin/python3 python3; do
		if command -v "$cand" >/dev/null 2>&1 &&
			"$cand" -c 'import sqlite3, gzip, xml.etree.ElementTree' 2>/dev/null; then
			echo "$cand"
			return 0
		fi
	done
	return 1
}

rt_setup() {
	local f
	for f in "$RT_REPORTER" "$RT_GEN"; do
		if [ ! -x "$f" ]; then
			echo "1..0 # SKIP $f not built (make check builds it)"
			exit 0
		fi
	done
	if ! RT_PY=$(rt_python); then
		echo "1..0 # SKIP python3 (with sqlite3) not installed"
		exit 0
	fi
	if ! command -v xmllint >/dev/null 2>&1; then
		echo "1..0 # SKIP xmllint not installed (apt-get install libxml2-utils)"
		exit 0
	fi
	RT_WORK=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX") || {
		echo "Bail out! mktemp failed"
		exit 99
	}
	FAKE_SENDMAIL_DIR=$RT_WORK/spool
	export FAKE_SENDMAIL_DIR
	mkdir -p "$FAKE_SENDMAIL_DIR"
	# a copy, so the mode bit does not depend on how the source was unpacked
	cp "$RT_SRC/fake-sendmail.sh" "$RT_WORK/sendmail"
	chmod 755 "$RT_WORK/sendmail"
}

# rt_zone FLAKY SLOW: writes the zone file with those record texts.
rt_zone() {
	sed -e "s|@FLAKY@|$1|" -e "s|@SLOW@|$2|" "$RT_SRC/reporter.zone.in" >"$RT_WORK/reporter.zone"
}

rt_dns_start() {
	rt_zone 'IN CNAME x.servfail.test.' 'IN CNAME x.timeout.test.'
	DNS_NO_TRAP=yes
	DNS_WORKDIR=$RT_WORK/dns
	. "$top_srcdir/tests/dns/dns-lib.sh"
	dns_start "$RT_WORK/reporter.zone"
}

# The failing names now authorize: flaky.example plainly, slow.example with
# a same-host override.
rt_dns_fix() {
	rt_zone 'IN TXT "v=DMARC1"' \
		'IN TXT "v=DMARC1; rua=mailto:slow-reports@thirdparty.example"'
	dns_reload >/dev/null
}

rt_gen() {
	"$RT_GEN" "$1" "$2" >"$RT_WORK/gen.out" 2>&1 || {
		rt_diag "event-gen failed:" "$(cat "$RT_WORK/gen.out")"
		return 1
	}
}

rt_conf() {
	local name=$1 db=$2 kv
	shift 2
	sed -e "s|@DNS@|${DNS_SERVER:-127.0.0.1}|g" -e "s|@WORK@|$RT_WORK|g" \
		-e "s|@DB@|$db|g" "$RT_SRC/reporter.conf.in" >"$RT_WORK/$name.conf"
	for kv in "$@"; do
		# a key of the template is replaced (a key given twice is an error)
		grep -iv "^${kv%%=*}[[:space:]]" "$RT_WORK/$name.conf" >"$RT_WORK/$name.conf.tmp"
		mv "$RT_WORK/$name.conf.tmp" "$RT_WORK/$name.conf"
		printf '%s %s\n' "${kv%%=*}" "${kv#*=}" >>"$RT_WORK/$name.conf"
	done
	echo "$RT_WORK/$name.conf"
}

rt_run() {
	local conf=$1 rc
	shift
	# (the braces keep bash's "Killed" notice of the crash test off stderr)
	{ "$RT_REPORTER" -c "$conf" "$@" >"$RT_WORK/last.out" 2>"$RT_WORK/last.err"; } 2>/dev/null
	rc=$?
	{
		echo "== dmarc-reporter -c $conf $* -> exit $rc"
		cat "$RT_WORK/last.out" "$RT_WORK/last.err"
	} >>"$RT_WORK/runs.log"
	return $rc
}

rt_sql() {
	"$RT_PY" - "$1" "$2" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
for row in db.execute(sys.argv[2]):
    print('|'.join('' if v is None else str(v) for v in row))
EOF
}

rt_day_sec() {
	date -u -d "$1 00:00:00" +%s
}

# Messages the fake sendmail kept, oldest first.
rt_mails() {
	ls "$FAKE_SENDMAIL_DIR"/*.eml 2>/dev/null
}

rt_mail_reset() {
	rm -f "$FAKE_SENDMAIL_DIR"/*
}

# rt_headers FILE: the header section, folded lines joined (RFC 5322 §2.2.3).
rt_headers() {
	awk '/^\r?$/ { exit } { sub(/\r$/, "") }
	     /^[ \t]/ { line = line $0; next }
	     { if (line != "") print line; line = $0 } END { if (line != "") print line }' "$1"
}

# rt_header FILE NAME: the value of the first NAME: header (unfolded).
rt_header() {
	rt_headers "$1" | awk -v h="$2" 'BEGIN { h = tolower(h) ":" }
		{ l = tolower($0); if (index(l, h) == 1) { sub(/^[^:]*:[ \t]*/, ""); print; exit } }'
}
