# shellcheck shell=bash
# hardening-lib.sh: helpers shared by the bash TAP suites in tests/hardening/.
# Source it after tests/tools/milter-lib.sh (tk_* helpers: work dir, TAP
# lines, milter instances).
#
#   hx_python                 a python3 (Debian's first), or "" (exit status 1)
#   hx_responder_start        starts dns_responder.py; sets HX_RESP_PORT/PID
#   hx_responder_stop         stops it (safe to call twice)
#   hx_send NAME INST FILE [milter_client.py options]
#                             sends FILE to milter instance INST with
#                             milter_client.py; output in $TK_WORK/out/NAME.out,
#                             errors in NAME.err; returns its exit status
#   hx_check NAME PATTERNS    0 when the output of NAME matches every ERE of
#                             PATTERNS (" ; "-separated; "!" = must not match);
#                             prints diagnostics otherwise
#   hx_elapsed NAME           the "elapsed" seconds milter_client printed
#   hx_le A B                 0 when the decimal number A <= B
#   hx_rss PID                VmRSS of a process in kB
#   hx_hwm PID                VmHWM (peak RSS) of a process in kB

HX_DIR=$top_srcdir/tests/hardening
HX_CLIENT=$HX_DIR/milter_client.py
HX_RESP_PORT=
HX_RESP_PID=

hx_python() {
	local cand
	for cand in /usr/bin/python3 python3; do
		if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import socket, struct' 2>/dev/null; then
			echo "$cand"
			return 0
		fi
	done
	return 1
}
HX_PY=$(hx_python) || HX_PY=

hx_responder_start() {
	local i
	rm -f "$TK_WORK/responder.port"
	"$HX_PY" "$HX_DIR/dns_responder.py" --port-file "$TK_WORK/responder.port" \
		--owner-pid $$ 2>"$TK_WORK/responder.log" &
	HX_RESP_PID=$!
	for i in $(seq 1 100); do
		if [ -s "$TK_WORK/responder.port" ]; then
			HX_RESP_PORT=$(cat "$TK_WORK/responder.port")
			return 0
		fi
		kill -0 "$HX_RESP_PID" 2>/dev/null || break
		sleep 0.1
	done
	tk_diag "dns_responder.py did not start: $(cat "$TK_WORK/responder.log")"
	return 1
}

hx_responder_stop() {
	[ -n "$HX_RESP_PID" ] || return 0
	kill -TERM "$HX_RESP_PID" 2>/dev/null
	wait "$HX_RESP_PID" 2>/dev/null
	HX_RESP_PID=
}

hx_send() {
	local name=$1 inst=$2 file=$3
	shift 3
	mkdir -p "$TK_WORK/out"
	"$HX_PY" "$HX_CLIENT" --socket "${TK_SOCKET[$inst]}" "$@" "$file" \
		>"$TK_WORK/out/$name.out" 2>"$TK_WORK/out/$name.err"
}

hx_check() {
	local name=$1 rest=$2 out=$TK_WORK/out/$1.out pat rc=0
	while [ -n "$rest" ]; do
		pat=${rest%% ; *}
		if [ "$pat" = "$rest" ]; then rest=; else rest=${rest#* ; }; fi
		if [ "${pat#!}" != "$pat" ]; then
			if grep -Eq -- "${pat#!}" "$out"; then
				tk_diag "$name: unexpected match for ${pat#!}"
				rc=1
			fi
		elif ! grep -Eq -- "$pat" "$out"; then
			tk_diag "$name: no match for $pat"
			rc=1
		fi
	done
	if [ $rc != 0 ]; then
		tk_diag "$name output:" "$(head -c 3000 "$out")" "$(head -c 1000 "$TK_WORK/out/$name.err")"
	fi
	return $rc
}

hx_elapsed() {
	sed -n 's/^elapsed //p' "$TK_WORK/out/$1.out" | tail -n 1
}

hx_le() {
	awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "" && a + 0 <= b + 0) }'
}

hx_rss() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null
}

hx_hwm() {
	awk '/^VmHWM:/ { print $2 }' "/proc/$1/status" 2>/dev/null
}
