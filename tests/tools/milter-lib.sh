# milter-lib.sh: shared helpers of the bash TAP suites that drive a real
# dmarc-milter (tests/integration/milter_test.sh, tests/e2e/postfix_test.sh).
# Source it after setting nothing; it reads top_srcdir / top_builddir (exported
# by `make check`; otherwise guessed from the current directory).
#
#   tk_setup NAME            work dir $TK_WORK (kept on failure or TK_KEEP=yes)
#   tk_ok STATUS LABEL       one TAP line ("ok" when STATUS is 0)
#   tk_skip LABEL REASON     a skipped TAP test; tk_diag TEXT... "# " lines
#   tk_done                  plan line, $TK_CLEANUP, keeps or removes the work dir
#   tk_free_port             a TCP port on 127.0.0.1 nobody listens on now
#   tk_zone_from_template IN OUT   key placeholders replaced (tests/keys)
#   tk_milter_start NAME TEMPLATE [Key=Value]...   start a milter instance
#   tk_milter_stop NAME      SIGTERM, wait, then check its exit and its log
#   tk_milter_term NAME      SIGTERM only (stop several at once, then tk_milter_stop)
#   tk_authres_py            a python3 that can "import authres", or ""
#   tk_dns_start TEMPLATE [FRAGMENT]...   zone from TEMPLATE (+ FRAGMENTs),
#                            loopback DNS server, EXIT trap (tk_cleanup)
#   tk_cleanup               stops every milter instance and the DNS server
#   tk_make_message NAME SPEC OUT   a scenario message (see below)
#   tk_sign_message SPEC FILE       DKIM signatures applied in place
#
# Milter instances: TEMPLATE is a configuration file with @SOCKET@, @DNS@ and
# @WORK@ placeholders; Key=Value arguments are appended as "Key Value" lines,
# replacing the template's line for that key if it has one ("Key=" gives the
# empty value: Key "").
# tk_milter_start waits for "dmarc-milter ... ready on <socket>" on stderr and
# sets TK_SOCKET[NAME] and TK_PID[NAME]; the log is $TK_WORK/NAME.log.
# The socket is a free loopback TCP port, or with TK_SOCKET_KIND=unix the
# UNIX-domain socket $TK_WORK/NAME.sock.

top_srcdir=${top_srcdir:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
top_builddir=${top_builddir:-$(pwd)}
TK_MILTER=${TK_MILTER:-$top_builddir/milter/dmarc-milter}
TK_SEND=${TK_SEND:-$top_builddir/tests/tools/milter-send}
TK_SIGN=${TK_SIGN:-$top_builddir/tests/tools/dkim-sign}
TK_KEYS=$top_srcdir/tests/keys
TK_READY_TIMEOUT=${TK_READY_TIMEOUT:-30}
declare -A TK_SOCKET TK_PID
tk_n=0
tk_failed=0
TK_WORK=

# tk_setup NAME: creates the work directory.
tk_setup() {
	TK_WORK=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX") || {
		echo "Bail out! mktemp failed"
		exit 99
	}
}

# tk_diag TEXT...: TAP diagnostics (every line prefixed with "# ").
tk_diag() {
	printf '%s\n' "$@" | sed 's/^/# /'
}

# tk_ok STATUS LABEL: "ok N - LABEL" when STATUS is 0.
tk_ok() {
	tk_n=$((tk_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $tk_n - $2"
	else
		echo "not ok $tk_n - $2"
		tk_failed=$((tk_failed + 1))
	fi
}

# tk_skip LABEL REASON: "ok N - LABEL # SKIP REASON".
tk_skip() {
	tk_n=$((tk_n + 1))
	echo "ok $tk_n - $1 # SKIP $2"
}

# tk_done: prints the plan and a summary; runs the script's cleanup function
# $TK_CLEANUP (which must stop every process whose files live in the work dir,
# e.g. the DNS server) and then removes the work dir, unless a test failed.
tk_done() {
	local name
	for name in "${!TK_PID[@]}"; do
		tk_milter_kill "$name"
	done
	if [ -n "${TK_CLEANUP:-}" ]; then
		"$TK_CLEANUP"
	fi
	echo "1..$tk_n"
	echo "# $((tk_n - tk_failed)) passed, $tk_failed failed"
	if [ -n "$TK_WORK" ]; then
		if [ "$tk_failed" -gt 0 ] || [ "${TK_KEEP:-}" = yes ]; then
			echo "# logs kept in $TK_WORK"
		else
			rm -rf "$TK_WORK"
		fi
	fi
	[ "$tk_failed" -eq 0 ]
}

# tk_free_port: a port in 20000..60999 without a listener right now.
tk_free_port() {
	local p i
	for i in 1 2 3 4 5 6 7 8 9 10; do
		p=$((20000 + (RANDOM * 32768 + RANDOM) % 41000))
		if command -v ss >/dev/null 2>&1 &&
			ss -Hlnt 2>/dev/null | awk '{print $4}' | grep -q "[:.]$p\$"; then
			continue
		fi
		break
	done
	echo "$p"
}

# tk_zone_from_template IN OUT: the zone with the test key records filled in.
tk_zone_from_template() {
	"$TK_KEYS/make-dns-records.sh" --subst "$1" >"$2"
}

# tk_authres_py: prints a python3 that has Debian's authres module, or nothing.
tk_authres_py() {
	local cand
	for cand in /usr/bin/python3 python3; do
		if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import authres' 2>/dev/null; then
			echo "$cand"
			return 0
		fi
	done
	return 1
}

# tk_milter_start NAME TEMPLATE [Key=Value]...: starts one milter instance.
# Returns 0 once it is ready; 1 (reason via tk_diag) otherwise.
tk_milter_start() {
	local name=$1 template=$2 attempt port conf log pid waited kv
	shift 2
	conf=$TK_WORK/$name.conf
	log=$TK_WORK/$name.log
	for attempt in 1 2 3 4 5; do
		port=$(tk_free_port)
		local spec="inet:$port@127.0.0.1" client="inet:$port@127.0.0.1"
		if [ "${TK_SOCKET_KIND:-inet}" = unix ]; then
			spec="local:$TK_WORK/$name.sock"
			client="unix:$TK_WORK/$name.sock"
		fi
		local -a drop=()
		for kv in "$@"; do
			drop+=(-e "/^[[:space:]]*${kv%%=*}[[:space:]]/d")
		done
		sed -e "s|@SOCKET@|$spec|g" -e "s|@DNS@|${DNS_SERVER:-}|g" \
			-e "s|@WORK@|$TK_WORK|g" -e "s|@NAME@|$name|g" "${drop[@]}" \
			"$template" >"$conf" || return 1
		for kv in "$@"; do
			if [ -n "${kv#*=}" ]; then
				printf '%s %s\n' "${kv%%=*}" "${kv#*=}" >>"$conf"
			else
				printf '%s ""\n' "${kv%%=*}" >>"$conf"
			fi
		done
		"$TK_MILTER" -f -c "$conf" </dev/null >"$TK_WORK/$name.out" 2>"$log" &
		pid=$!
		waited=0
		while :; do
			if grep -q "ready on" "$log" 2>/dev/null; then
				TK_SOCKET[$name]=$client
				TK_PID[$name]=$pid
				return 0
			fi
			if ! kill -0 "$pid" 2>/dev/null; then
				wait "$pid" 2>/dev/null
				grep -qi "in use" "$log" && continue 2
				tk_diag "milter $name exited during startup; its log:"
				tk_diag "$(tail -n 20 "$log")"
				return 1
			fi
			if [ "$waited" -ge $((TK_READY_TIMEOUT * 10)) ]; then
				kill -9 "$pid" 2>/dev/null
				wait "$pid" 2>/dev/null
				tk_diag "milter $name not ready within ${TK_READY_TIMEOUT}s; its log:"
				tk_diag "$(tail -n 20 "$log")"
				return 1
			fi
			sleep 0.1
			waited=$((waited + 1))
		done
	done
	tk_diag "milter $name: no free port after 5 attempts"
	return 1
}

# tk_milter_term NAME: sends SIGTERM only. A milter takes a few seconds to
# leave libmilter's loop, so a script stopping several instances signals them
# all first and then calls tk_milter_stop for each (which does not signal
# again: a second SIGTERM while the milter stops is not a clean stop).
declare -A TK_TERMED
tk_milter_term() {
	local pid=${TK_PID[$1]:-}
	[ -n "$pid" ] || return 1
	kill -TERM "$pid" 2>/dev/null
	TK_TERMED[$1]=yes
}

# tk_milter_stop NAME: SIGTERM (unless tk_milter_term sent it); waits up to
# 20 s. Returns 0 when the milter exited with status 0 and its log holds no
# sanitizer or panic report.
tk_milter_stop() {
	local name=$1 pid=${TK_PID[$1]:-} i rc
	[ -n "$pid" ] || return 1
	[ -n "${TK_TERMED[$name]:-}" ] || kill -TERM "$pid" 2>/dev/null
	unset "TK_TERMED[$name]"
	for i in $(seq 1 200); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		tk_diag "milter $name ignored SIGTERM for 20 s; killed"
		kill -9 "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
	rc=$?
	unset "TK_PID[$name]"
	if [ "$rc" -ne 0 ]; then
		tk_diag "milter $name exited with status $rc; log tail:" "$(tail -n 15 "$TK_WORK/$name.log")"
		return 1
	fi
	if grep -Eq "runtime error|AddressSanitizer|LeakSanitizer|panic:" "$TK_WORK/$name.log"; then
		tk_diag "milter $name: sanitizer or panic report in $TK_WORK/$name.log:"
		tk_diag "$(grep -E -A5 "runtime error|Sanitizer|panic:" "$TK_WORK/$name.log" | head -n 30)"
		return 1
	fi
	return 0
}

# tk_milter_kill NAME: stops an instance without judging it (cleanup paths).
tk_milter_kill() {
	local pid=${TK_PID[$1]:-}
	unset "TK_TERMED[$1]"
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	sleep 0.5
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	unset "TK_PID[$1]"
	return 0
}

# tk_dns_start TEMPLATE [FRAGMENT]...: writes $TK_WORK/test.zone (TEMPLATE with
# the key records of tests/keys filled in, then each FRAGMENT: more records
# of the same zone), starts the loopback test DNS server on it (DNS_SERVER)
# and sets the EXIT trap to tk_cleanup. Call after tk_setup and before any
# TAP line (dns_start may print "1..0 # SKIP" or "Bail out!" and exit).
tk_dns_start() {
	local template=$1
	shift
	if ! tk_zone_from_template "$template" "$TK_WORK/test.zone" ||
		! cat "$@" </dev/null >>"$TK_WORK/test.zone"; then
		echo "Bail out! cannot build the zone file (tests/keys/make-dns-records.sh)"
		exit 99
	fi
	DNS_NO_TRAP=yes
	DNS_WORKDIR=$TK_WORK/dns
	. "$top_srcdir/tests/dns/dns-lib.sh"
	trap tk_cleanup EXIT
	TK_CLEANUP=tk_cleanup
	trap 'exit 129' HUP INT TERM
	dns_start "$TK_WORK/test.zone"
}

# tk_cleanup: stops every milter instance, runs $TK_EXTRA_CLEANUP (a script's
# own processes and mounts) and stops the DNS server. Safe to call twice.
tk_cleanup() {
	local name
	for name in "${!TK_PID[@]}"; do
		tk_milter_kill "$name"
	done
	if [ -n "${TK_EXTRA_CLEANUP:-}" ]; then
		"$TK_EXTRA_CLEANUP"
	fi
	if declare -F dns_stop >/dev/null; then
		dns_stop
	fi
}

# tk_make_message NAME SPEC OUT: writes a scenario message to OUT. SPEC is
# from:ADDR (a plain message from ADDR), big:ADDR (folded Subject, 200 KB
# body) or a file name in $TK_MESSAGES (default tests/integration/messages).
TK_MESSAGES=${TK_MESSAGES:-$top_srcdir/tests/integration/messages}
tk_make_message() {
	local name=$1 spec=$2 out=$3 i
	case $spec in
	from:*|big:*)
		{
			printf 'From: Sender <%s>\n' "${spec#*:}"
			printf 'To: carol@receiver.example\n'
			if [ "${spec%%:*}" = big ]; then
				printf 'Subject: scenario %s, a long subject folded\n  over two lines\n' "$name"
			else
				printf 'Subject: scenario %s\n' "$name"
			fi
			printf 'Date: Tue, 02 Jan 2024 10:00:00 +0000\n'
			printf 'Message-ID: <%s@milter-test.example>\n\n' "$name"
			printf 'Hello, this is integration scenario %s.\n' "$name"
			if [ "${spec%%:*}" = big ]; then
				for i in $(seq 1 2500); do
					printf 'line %05d of a body that spans several milter body chunks ....\n' "$i"
				done
			fi
		} >"$out" ;;
	*)
		cp "$TK_MESSAGES/$spec" "$out" ;;
	esac
}

# tk_sign_message SPEC FILE: applies the signatures of SPEC to FILE in place.
# SPEC is - or SIG[+SIG...], left to right; SIG is KEY/DOMAIN/SELECTOR[/opts]
# (opts, comma-separated: alg=, expire=, toff= (time offset), canon=h-b) or
# "tamper" (append a body line). Problems go to tk_diag; returns 1.
tk_sign_message() {
	local spec=$1 file=$2 sig key dom sel opts opt
	local -a o args
	[ "$spec" = - ] && return 0
	local IFS_SAVE=$IFS
	IFS=+
	for sig in $spec; do
		IFS=$IFS_SAVE
		if [ "$sig" = tamper ]; then
			printf 'A line a mailing list added.\n' >>"$file"
			continue
		fi
		IFS=/ read -r key dom sel opts <<<"$sig"
		args=(--key "$TK_KEYS/$key.key" --domain "$dom" --selector "$sel")
		[ "$key" = ed25519 ] && args+=(--alg ed25519-sha256)
		IFS=, read -r -a o <<<"$opts"
		for opt in "${o[@]}"; do
			case $opt in
			alg=*) args+=(--alg "${opt#*=}") ;;
			expire=*) args+=(--expire "${opt#*=}") ;;
			toff=*) args+=(--time-offset "${opt#*=}") ;;
			canon=*) args+=(--canon "$(echo "${opt#*=}" | tr - /)") ;;
			*) tk_diag "unknown signature option $opt"; IFS=$IFS_SAVE; return 1 ;;
			esac
		done
		"$TK_SIGN" "${args[@]}" <"$file" >"$file.signed" 2>>"$file.sign.err" || {
			tk_diag "dkim-sign failed: $(cat "$file.sign.err")"
			return 1
		}
		mv "$file.signed" "$file"
		IFS=+
	done
	IFS=$IFS_SAVE
	return 0
}
