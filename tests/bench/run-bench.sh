#!/bin/bash
# run-bench.sh: the milter benchmark, dmarc-milter side by side with Debian's
# opendkim + opendmarc chain. `make bench` runs it; figures in BENCHMARKS.
#
#   tests/bench/run-bench.sh [--quick] [--no-chain] [--long [N]] [--keep]
#                            [--messages N] [--corpus N] [--conns "4 32"]
#
# All on loopback, in one invocation:
#   1. the corpus: tests/bench/bench-corpus writes the messages, the zone
#      "example." of 200 policy domains and a PSL; tests/tools/dkim-sign signs
#      them with the test keys (tests/keys);
#   2. the loopback DNS server (tests/dns/dns-lib.sh), on port 53 when it can
#      (OpenDMARC's libc resolver cannot be pointed at another port);
#   3. dmarc-milter (LogLevel info to a file, event log on): one pass over the
#      corpus warms its cache, then tests/bench/milter-bench replays it at
#      each connection count as fast as the filter answers, at 4 connections
#      paced at $pace messages/s (latency of a filter that is not saturated),
#      and at 256 connections (memory);
#   4. null-milter (tests/bench/null-milter.c), a filter that does nothing,
#      the same way: the floor that libmilter and the kernel set;
#   5. opendkim (Mode v, libunbound pointed at the DNS server) chained with
#      opendmarc (SPFSelfValidate, HistoryFile, empty IgnoreHosts, resolv.conf
#      bind-mounted to the DNS server in a private mount namespace), both
#      installed with apt-get when missing and never started as services:
#      the message goes to opendkim, its header is applied, then to opendmarc;
#   6. the figures side by side, with the ratios.
# CPU is utime+stime of the filter processes (all threads) from
# /proc/PID/stat around each run, per 1,000 messages: stable on a shared
# machine, unlike wall time. With perf(1) the instructions per message are
# counted too (steadier still). Latency is measured by the client per message
# (connect to the final EOM reply); it depends on what else the machine runs.
#
# --quick      small (the functional test bench_test.sh uses it)
# --no-chain   skip OpenDKIM/OpenDMARC
# --long [N]   dmarc-milter alone, N messages (default 200000) at 32
#              connections, its RSS printed every N/20 messages (it must stay
#              flat once warm); nothing else
# --keep       keep the work directory (logs, corpus, databases)
# Environment: top_srcdir, top_builddir (set by make; else guessed),
#   BENCH_WORK (work directory), BENCH_MILTER (another dmarc-milter binary,
#   e.g. an older build, to compare), BENCH_PERF=yes (perf record -g of
#   dmarc-milter during the 32-connection run, kept in the work directory).
# Exit status: 0 when every run answered every message as expected, 1 when
#   not, 77 when a prerequisite is missing.
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$(pwd)}
MILTER=${BENCH_MILTER:-$top_builddir/milter/dmarc-milter}
BENCH=$top_builddir/tests/bench/milter-bench
CORPUS=$top_builddir/tests/bench/bench-corpus
NULLM=$top_builddir/tests/bench/null-milter
SIGN=$top_builddir/tests/tools/dkim-sign
KEYS=$top_srcdir/tests/keys

quick=no chain=yes long=0 keep=no
messages= corpus_n=400 conns="4 32" big_conns=256 pace=200 paced_n=1000
while [ $# -gt 0 ]; do
	case $1 in
	--quick) quick=yes ;;
	--no-chain) chain=no ;;
	--long)
		long=200000
		if [ $# -gt 1 ] && [ "${2#-}" = "$2" ]; then long=$2; shift; fi ;;
	--keep) keep=yes ;;
	--messages) messages=$2; shift ;;
	--corpus) corpus_n=$2; shift ;;
	--conns) conns=$2; shift ;;
	*) echo "usage: $0 [--quick] [--no-chain] [--long [N]] [--keep] [--messages N]" \
		"[--corpus N] [--conns \"4 32\"]" >&2; exit 2 ;;
	esac
	shift
done
if [ "$quick" = yes ]; then
	: "${messages:=200}"
	corpus_n=60 big_conns=0 paced_n=0
fi
: "${messages:=4000}"
# The chain answers about 46 messages/s per 4 connections (see BENCHMARKS):
# fewer messages keep its runs short; CPU per message needs no more.
chain_messages=$((messages / 4))
chain_paced_n=$((paced_n * 2 / 5))

log() { printf '%s\n' "$*" >&2; }
die() { log "run-bench.sh: $*"; exit 1; }

for f in "$MILTER" "$BENCH" "$CORPUS" "$SIGN"; do
	[ -x "$f" ] || { log "run-bench.sh: $f not built (make bench builds it)"; exit 77; }
done
command -v openssl >/dev/null || { log "run-bench.sh: openssl missing"; exit 77; }
if nm "$MILTER" 2>/dev/null | grep -q __asan_init; then
	log "run-bench.sh: warning: $MILTER is built with sanitizers: its figures mean" \
		"nothing (configure a separate build dir without --enable-sanitizers)"
fi
perf_ok=no
if [ "$quick" = no ] && command -v perf >/dev/null &&
	perf stat -e instructions true >/dev/null 2>&1; then
	perf_ok=yes
fi

WORK=${BENCH_WORK:-$(mktemp -d "${TMPDIR:-/tmp}/milter-bench.XXXXXX")}
mkdir -p "$WORK"
PIDS_TO_STOP=()
cleanup() {
	local p
	for p in "${PIDS_TO_STOP[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${PIDS_TO_STOP[@]}"; do
		for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$p" 2>/dev/null
	done
	dns_stop
	if [ "$keep" = yes ]; then log "work directory kept: $WORK"; else rm -rf "$WORK"; fi
}
DNS_NO_TRAP=yes
DNS_WORKDIR=$WORK/dns
# shellcheck source=../dns/dns-lib.sh
. "$top_srcdir/tests/dns/dns-lib.sh"
trap cleanup EXIT
trap 'exit 129' HUP INT TERM

# free_port: a port for a filter to listen on, below the ephemeral range:
# the benchmark opens tens of thousands of client connections, whose ports
# stay in TIME_WAIT for a minute and cannot be bound meanwhile.
free_port() {
	local p lo
	lo=$(awk '{ print $1 }' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null)
	[ "${lo:-0}" -gt 12000 ] || lo=32768
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		p=$((10000 + RANDOM % (lo - 10000)))
		ss -Hant 2>/dev/null | awk '{ print $4 }' | grep -q "[:.]$p\$" || break
	done
	echo "$p"
}

# wait_listen PORT PID NAME: until something listens on 127.0.0.1:PORT.
wait_listen() {
	for _ in $(seq 1 300); do
		ss -Hlnt 2>/dev/null | awk '{print $4}' | grep -q "^127.0.0.1:$1\$" && return 0
		kill -0 "$2" 2>/dev/null || { log "run-bench.sh: $3 exited during start-up"; return 1; }
		sleep 0.1
	done
	log "run-bench.sh: $3 does not listen on port $1 after 30 s"
	return 1
}

# stop_pid PID: SIGTERM, and wait (up to 20 s) until it is gone.
stop_pid() {
	kill -TERM "$1" 2>/dev/null
	for _ in $(seq 1 200); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

# ---- 1. corpus --------------------------------------------------------------
t_start=$(date +%s)
log "corpus: $corpus_n messages in $WORK/corpus"
"$CORPUS" -n "$corpus_n" "$WORK/corpus" || die "bench-corpus failed"
"$KEYS/make-dns-records.sh" --subst "$WORK/corpus/bench.zone.in" >"$WORK/corpus/bench.zone" ||
	die "cannot fill in the key records"
mkdir -p "$WORK/corpus/signed"
: >"$WORK/manifest"
while read -r id ip helo from rcpt expect sigs tamper; do
	cur=$WORK/corpus/unsigned/$id.eml
	out=$WORK/corpus/signed/$id.eml
	n=0
	if [ "$sigs" != - ]; then
		IFS=, read -r -a list <<<"$sigs"
		for s in "${list[@]}"; do
			IFS=: read -r key dom sel <<<"$s"
			alg=rsa-sha256
			[ "$key" = ed25519 ] && alg=ed25519-sha256
			n=$((n + 1))
			# the author's signature relaxed/relaxed, an ESP's relaxed/simple
			"$SIGN" --key "$KEYS/$key.key" --alg "$alg" --domain "$dom" --selector "$sel" \
				--canon "$([ "$n" = 1 ] && echo relaxed/relaxed || echo relaxed/simple)" \
				<"$cur" >"$out.$n" || die "dkim-sign failed for $id"
			cur=$out.$n
		done
	fi
	cp "$cur" "$out"
	rm -f "$out".[0-9]
	[ "$tamper" = y ] && printf 'This line was added in transit.\n' >>"$out"
	echo "$ip $helo $from $rcpt $expect $out" >>"$WORK/manifest"
done <"$WORK/corpus/plan"

# ---- 2. DNS -------------------------------------------------------------------
# Port 53 (root only) lets OpenDMARC's libc resolver reach the server.
if [ "$chain" = yes ] && [ "$(id -u)" = 0 ]; then
	export DNS_PORT_TRY=53
fi
for attempt in 1 2 3; do
	dns_start "$WORK/corpus/bench.zone" >/dev/null
	[ -z "${DNS_PORT_TRY:-}" ] || [ "$DNS_PORT" = 53 ] || [ "$attempt" = 3 ] && break
	# Port 53 was busy (another test's server, one still shutting down):
	# try again shortly, then go on without the chain.
	log "DNS server: port 53 busy (attempt $attempt); got $DNS_PORT"
	dns_stop
	sleep 3
done
log "DNS server on $DNS_SERVER"

failed=0
declare -A R

# field LINE KEY: the value of KEY=... in a result line.
field() {
	printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"
}

# run_bench LABEL N CONNS "OPTIONS" SPEC... -- PID...: one measured run with
# the client options given (-m, -R, -X); prints the client's "result" line
# plus dns_queries=, instr= and rc= (also kept in $WORK/LABEL.out). The
# instructions are counted (perf stat) only when COUNT_INSTR=yes: counting
# makes every context switch dearer (about +40% CPU time for dmarc-milter),
# so it gets runs of its own, apart from those that measure CPU time.
run_bench() {
	local label=$1 n=$2 c=$3 extra=$4 specs=() pids=() q0 q1 ppid= instr=-1 rc
	shift 4
	while [ $# -gt 0 ] && [ "$1" != -- ]; do specs+=(-s "$1"); shift; done
	shift
	for p in "$@"; do pids+=(-p "$p"); done
	q0=$(dns_queries)
	if [ "$perf_ok" = yes ] && [ "${COUNT_INSTR:-}" = yes ]; then
		perf stat -x, -e instructions -p "$(IFS=,; echo "$*")" -o "$WORK/$label.perf" \
			>/dev/null 2>&1 &
		ppid=$!
		sleep 0.2
	fi
	# shellcheck disable=SC2086 # $extra: options, split on purpose
	"$BENCH" "${specs[@]}" "${pids[@]}" -M "$WORK/manifest" -c "$c" -n "$n" $extra \
		-l "$label" >"$WORK/$label.out" 2>"$WORK/$label.err"
	rc=$?
	if [ -n "$ppid" ]; then
		kill -INT "$ppid" 2>/dev/null
		wait "$ppid" 2>/dev/null
		instr=$(awk -F, '$3 == "instructions" && $1 ~ /^[0-9]+$/ { s += $1 } END { print s + 0 }' \
			"$WORK/$label.perf" 2>/dev/null)
	fi
	q1=$(dns_queries)
	grep -v '^result ' "$WORK/$label.out" >&2
	sed 's/^/  /' "$WORK/$label.err" | head -n 5 >&2
	echo "$(grep '^result ' "$WORK/$label.out") dns_queries=$((q1 - q0)) instr=${instr:--1} rc=$rc"
}

# record KEY LINE: keeps a result line; counts it as failed unless rc=0.
record() {
	R[$1]=$2
	[ "$(field "$2" rc)" = 0 ] || failed=$((failed + 1))
}

# ---- 3. dmarc-milter ------------------------------------------------------------
start_milter() {
	local port attempt
	for attempt in 1 2 3; do
		port=$(free_port)
		cat >"$WORK/milter.conf" <<EOF
AuthservID mx.receiver.example
Socket inet:$port@127.0.0.1
Background no
Syslog no
LogLevel info
Nameservers $DNS_SERVER
EventDatabase $WORK/events.db
EOF
		"$MILTER" -f -c "$WORK/milter.conf" </dev/null >"$WORK/milter.out" \
			2>"$WORK/milter.log" &
		MILTER_PID=$!
		PIDS_TO_STOP+=("$MILTER_PID")
		MILTER_SPEC="inet:$port@127.0.0.1"
		wait_listen "$port" "$MILTER_PID" dmarc-milter && return 0
		tail -n 5 "$WORK/milter.log" >&2
		stop_pid "$MILTER_PID"
		log "run-bench.sh: dmarc-milter start-up failed (attempt $attempt; a port taken?)"
	done
	die "dmarc-milter did not start"
}
start_milter
log "dmarc-milter pid $MILTER_PID on $MILTER_SPEC; warming the cache"
run_bench ours-warmup "$corpus_n" 4 "-m 1" "$MILTER_SPEC" -- "$MILTER_PID" >/dev/null

if [ "$long" -gt 0 ]; then
	log "long run: $long messages at 32 connections"
	"$BENCH" -s "$MILTER_SPEC" -p "$MILTER_PID" -M "$WORK/manifest" -c 32 -n "$long" \
		-r $((long / 20)) -l long | tee "$WORK/long.out"
	rc=${PIPESTATUS[0]}
	stop_pid "$MILTER_PID"
	exit "$rc"
fi

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for c in $conns; do
	record "ours.$c" "$(run_bench "ours-c$c" "$messages" "$c" "-m 1" "$MILTER_SPEC" -- \
		"$MILTER_PID")"
done
# Instructions per message: one more 32-connection run, counted by perf.
if [ "$perf_ok" = yes ]; then
	R[ours.instr]=$(COUNT_INSTR=yes run_bench ours-instr "$((messages / 4))" 32 "-m 1" \
		"$MILTER_SPEC" -- "$MILTER_PID")
fi
# BENCH_PERF=yes: a profile of one more 32-connection run (not one of the
# measured ones: sampling costs CPU).
if [ "${BENCH_PERF:-}" = yes ] && command -v perf >/dev/null; then
	perf record -F 2000 --call-graph dwarf,16384 -o "$WORK/perf-ours.data" \
		-p "$MILTER_PID" >/dev/null 2>&1 &
	perf_pid=$!
	sleep 0.5
	run_bench ours-perf "$messages" 32 "-m 1" "$MILTER_SPEC" -- "$MILTER_PID" >/dev/null
	kill -INT "$perf_pid"
	wait "$perf_pid"
	log "perf data: $WORK/perf-ours.data (perf report -i ... --no-children)"
fi
if [ "$paced_n" -gt 0 ]; then
	record ours.paced "$(run_bench ours-paced "$paced_n" 4 "-m 1 -R $pace" "$MILTER_SPEC" -- \
		"$MILTER_PID")"
fi
if [ "$big_conns" -gt 0 ]; then
	record "ours.$big_conns" "$(run_bench "ours-c$big_conns" "$messages" "$big_conns" "-m 1" \
		"$MILTER_SPEC" -- "$MILTER_PID")"
fi
ours_hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$MILTER_PID/status")
stop_pid "$MILTER_PID"
events=$(sqlite3 "$WORK/events.db" 'select count(*) from events' 2>/dev/null || echo "?")
log "dmarc-milter stopped; event log rows: $events"

# ---- 4. the floor: a filter that does nothing --------------------------------------
if [ -x "$NULLM" ] && [ "$quick" = no ]; then
	port=$(free_port)
	"$NULLM" -p "inet:$port@127.0.0.1" </dev/null >"$WORK/null.log" 2>&1 &
	NULL_PID=$!
	PIDS_TO_STOP+=("$NULL_PID")
	if wait_listen "$port" "$NULL_PID" null-milter; then
		run_bench null-warmup "$corpus_n" 4 "-m 1 -X" "inet:$port@127.0.0.1" -- \
			"$NULL_PID" >/dev/null
		for c in $conns; do
			record "null.$c" "$(run_bench "null-c$c" "$messages" "$c" "-m 1 -X" \
				"inet:$port@127.0.0.1" -- "$NULL_PID")"
		done
		if [ "$perf_ok" = yes ]; then
			R[null.instr]=$(COUNT_INSTR=yes run_bench null-instr "$((messages / 4))" 32 \
				"-m 1 -X" "inet:$port@127.0.0.1" -- "$NULL_PID")
		fi
	fi
	stop_pid "$NULL_PID"
fi

# ---- 5. opendkim + opendmarc ------------------------------------------------------
chain_ok=no
install_chain() {
	command -v opendkim >/dev/null && command -v opendmarc >/dev/null && return 0
	[ "$(id -u)" = 0 ] || { log "opendkim/opendmarc missing and not root: chain skipped"; return 1; }
	command -v apt-get >/dev/null || { log "no apt-get: chain skipped"; return 1; }
	log "installing opendkim and opendmarc (apt-get; their services are not started)"
	# policy-rc.d exit 101: no maintainer script starts a service.
	local prc=/usr/sbin/policy-rc.d made_prc=no
	if [ ! -e "$prc" ]; then
		printf '#!/bin/sh\nexit 101\n' >"$prc" && chmod 755 "$prc" && made_prc=yes
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		opendkim opendmarc dbconfig-no-thanks >"$WORK/apt.log" 2>&1
	local rc=$?
	[ "$made_prc" = yes ] && rm -f "$prc"
	[ "$rc" = 0 ] || { log "apt-get failed (see $WORK/apt.log): chain skipped"; return 1; }
	return 0
}

start_chain() {
	local kport mport
	kport=$(free_port)
	mport=$(free_port)
	[ "$kport" != "$mport" ] || mport=$((mport + 1))
	# opendkim: its libunbound forwards to the test server on port 53
	# (Nameservers; its ResolverConfiguration file is not read reliably by
	# Debian's 2.11); no trust anchor (the test zone is not signed), no
	# query cache of its own (libunbound caches).
	cat >"$WORK/opendkim.conf" <<EOF
Mode v
Socket inet:$kport@127.0.0.1
PidFile $WORK/opendkim.pid
Syslog yes
SyslogSuccess yes
AuthservID mx.receiver.example
Nameservers $DNS_ADDR
EOF
	: >"$WORK/opendmarc-ignore"
	cat >"$WORK/opendmarc.conf" <<EOF
Socket inet:$mport@127.0.0.1
PidFile $WORK/opendmarc.pid
Syslog true
AuthservID mx.receiver.example
TrustedAuthservIDs mx.receiver.example
SPFSelfValidate true
IgnoreHosts $WORK/opendmarc-ignore
PublicSuffixList $WORK/corpus/bench.psl
HistoryFile $WORK/opendmarc.history
RejectFailures false
EOF
	echo "nameserver $DNS_ADDR" >"$WORK/resolv.conf"
	opendkim -f -x "$WORK/opendkim.conf" </dev/null >"$WORK/opendkim.log" 2>&1 &
	DKIM_PID=$!
	PIDS_TO_STOP+=("$DKIM_PID")
	# A private mount namespace: only opendmarc sees our resolv.conf.
	unshare -m sh -c 'mount --bind "$1" /etc/resolv.conf && exec opendmarc -f -c "$2"' \
		sh "$WORK/resolv.conf" "$WORK/opendmarc.conf" </dev/null >"$WORK/opendmarc.log" 2>&1 &
	DMARC_PID=$!
	PIDS_TO_STOP+=("$DMARC_PID")
	DKIM_SPEC="inet:$kport@127.0.0.1"
	DMARC_SPEC="inet:$mport@127.0.0.1"
	wait_listen "$kport" "$DKIM_PID" opendkim && wait_listen "$mport" "$DMARC_PID" opendmarc &&
		return 0
	cat "$WORK/opendkim.log" "$WORK/opendmarc.log" >&2
	stop_pid "$DKIM_PID"
	stop_pid "$DMARC_PID"
	return 1
}

# start_chain_retry: start_chain, again with other ports if one was taken.
start_chain_retry() {
	local attempt
	for attempt in 1 2 3; do
		start_chain && return 0
		log "run-bench.sh: chain start-up failed (attempt $attempt; a port taken?)"
	done
	return 1
}

if [ "$chain" = yes ]; then
	if [ "$DNS_PORT" != 53 ]; then
		log "the DNS server is not on port 53 (needs root and a free port 53):" \
			"OpenDMARC could not reach it; chain skipped"
	elif ! command -v unshare >/dev/null; then
		log "unshare(1) missing: chain skipped"
	elif install_chain && start_chain_retry; then
		chain_ok=yes
		log "opendkim pid $DKIM_PID on $DKIM_SPEC, opendmarc pid $DMARC_PID on $DMARC_SPEC"
		run_bench chain-warmup "$corpus_n" 4 "-m 1" "$DKIM_SPEC" "$DMARC_SPEC" -- \
			"$DKIM_PID" "$DMARC_PID" >/dev/null
		for c in $conns; do
			record "chain.$c" "$(run_bench "chain-c$c" "$chain_messages" "$c" "-m 1" \
				"$DKIM_SPEC" "$DMARC_SPEC" -- "$DKIM_PID" "$DMARC_PID")"
		done
		if [ "$perf_ok" = yes ]; then
			R[chain.instr]=$(COUNT_INSTR=yes run_bench chain-instr "$chain_messages" 32 \
				"-m 1" "$DKIM_SPEC" "$DMARC_SPEC" -- "$DKIM_PID" "$DMARC_PID")
		fi
		if [ "$paced_n" -gt 0 ]; then
			record chain.paced "$(run_bench chain-paced "$chain_paced_n" 4 "-m 1 -R $pace" \
				"$DKIM_SPEC" "$DMARC_SPEC" -- "$DKIM_PID" "$DMARC_PID")"
		fi
		chain_hwm_k=$(awk '/^VmHWM:/ { print $2 }' "/proc/$DKIM_PID/status")
		chain_hwm_m=$(awk '/^VmHWM:/ { print $2 }' "/proc/$DMARC_PID/status")
	else
		log "chain skipped"
	fi
	[ -n "${DKIM_PID:-}" ] && stop_pid "$DKIM_PID"
	[ -n "${DMARC_PID:-}" ] && stop_pid "$DMARC_PID"
fi

# ---- 6. the table --------------------------------------------------------------------
# per1000 LINE [K]: CPU-seconds per 1000 messages of process K (default:
# all processes of the run added up).
per1000() {
	local line=$1 k=${2:-all} n cpu
	n=$(field "$line" messages)
	if [ "$k" = all ]; then
		cpu=$(printf '%s\n' "$line" | tr ' ' '\n' |
			awk -F= '$1 ~ /^cpu_sec\./ { s += $2; n++ } END { print n ? s : -1 }')
	else
		cpu=$(field "$line" "cpu_sec.$k")
	fi
	awk -v c="$cpu" -v n="$n" 'BEGIN { if (c == "" || c < 0 || n == 0) print "?"; else printf "%.3f", c * 1000 / n }'
}
perq() { # LINE: DNS queries per message
	awk -v q="$(field "$1" dns_queries)" -v n="$(field "$1" messages)" \
		'BEGIN { if (n == 0) print "?"; else printf "%.3f", q / n }'
}
instr() { # LINE: million instructions per message
	awk -v i="$(field "$1" instr)" -v n="$(field "$1" messages)" \
		'BEGIN { if (i == "" || i <= 0 || n == 0) print "-"; else printf "%.2f M", i / n / 1e6 }'
}
ratio() { # A B: A / B as "N.Nx"
	awk -v a="$1" -v b="$2" 'BEGIN { a += 0; b += 0; if (a <= 0 || b <= 0) print "-"; else printf "%.1fx", a / b }'
}
row() { printf '  %-32s %16s %26s %8s\n' "$@"; }
mb() { awk -v k="$1" 'BEGIN { if (k == "") print "?"; else printf "%.1f MB", k / 1024 }'; }

# section TITLE OURS_LINE CHAIN_LINE: the rows of one run.
section() {
	local title=$1 o=$2 t=$3 ocpu tcpu
	echo " $title"
	ocpu=$(per1000 "$o")
	if [ -n "$t" ]; then
		tcpu=$(per1000 "$t")
		row "CPU-seconds / 1000 messages" "$ocpu" "$tcpu ($(per1000 "$t" 0) + $(per1000 "$t" 1))" \
			"$(ratio "$tcpu" "$ocpu")"
		row "messages / second" "$(field "$o" msgs_per_sec)" "$(field "$t" msgs_per_sec)" \
			"$(ratio "$(field "$o" msgs_per_sec)" "$(field "$t" msgs_per_sec)")"
		for p in p50 p90 p99; do
			row "latency $p (ms)" "$(field "$o" ${p}_ms)" "$(field "$t" ${p}_ms)" \
				"$(ratio "$(field "$t" ${p}_ms)" "$(field "$o" ${p}_ms)")"
		done
		row "DNS queries / message" "$(perq "$o")" "$(perq "$t")" ""
		row "errors / unexpected results" "$(field "$o" errors) / $(field "$o" mismatches)" \
			"$(field "$t" errors) / $(field "$t" mismatches)" ""
	else
		row "CPU-seconds / 1000 messages" "$ocpu" "-" ""
		row "messages / second" "$(field "$o" msgs_per_sec)" "-" ""
		for p in p50 p90 p99; do row "latency $p (ms)" "$(field "$o" ${p}_ms)" "-" ""; done
		row "DNS queries / message" "$(perq "$o")" "-" ""
		row "errors / unexpected results" "$(field "$o" errors) / $(field "$o" mismatches)" "-" ""
	fi
}

echo
echo "dmarc-milter vs opendkim+opendmarc: $(nproc) CPUs, corpus of $corpus_n messages;" \
	"$messages messages per dmarc-milter run, $chain_messages per chain run"
row "" "dmarc-milter" "opendkim+opendmarc" "ratio"
for c in $conns; do
	section "$c connections, as fast as answered" "${R[ours.$c]:-}" "${R[chain.$c]:-}"
done
if [ -n "${R[ours.paced]:-}" ]; then
	section "4 connections paced at $pace messages/s" "${R[ours.paced]}" "${R[chain.paced]:-}"
fi
if [ "$big_conns" -gt 0 ]; then
	o=${R[ours.$big_conns]:-}
	echo " $big_conns connections (dmarc-milter only)"
	row "CPU-seconds / 1000 messages" "$(per1000 "$o")" "" ""
	row "latency p50 / p99 (ms)" "$(field "$o" p50_ms) / $(field "$o" p99_ms)" "" ""
	row "errors / unexpected results" "$(field "$o" errors) / $(field "$o" mismatches)" "" ""
fi
if [ -n "${R[ours.instr]:-}" ]; then
	echo " instructions / message (perf stat, a separate 32-connection run)"
	o=${R[ours.instr]} t=${R[chain.instr]:-}
	if [ -n "$t" ]; then
		row "all filter processes" "$(instr "$o")" "$(instr "$t")" \
			"$(ratio "$(instr "$t" | tr -d ' M')" "$(instr "$o" | tr -d ' M')")"
	else
		row "all filter processes" "$(instr "$o")" "-" ""
	fi
fi
echo " memory"
if [ "$chain_ok" = yes ]; then
	row "peak RSS (VmHWM)" "$(mb "$ours_hwm")" \
		"$(mb $((chain_hwm_k + chain_hwm_m))) ($(mb "$chain_hwm_k") + $(mb "$chain_hwm_m"))" ""
else
	row "peak RSS (VmHWM)" "$(mb "$ours_hwm")" "-" ""
fi
if [ -n "${R[null.32]:-}${R[null.4]:-}" ]; then
	echo " floor: null-milter (libmilter + kernel, same conversation, does nothing)"
	for c in $conns; do
		[ -n "${R[null.$c]:-}" ] || continue
		row "CPU-s / 1000 msgs, $c connections" "$(per1000 "${R[null.$c]}")" "" ""
	done
	[ -n "${R[null.instr]:-}" ] && row "instructions / message" "$(instr "${R[null.instr]}")" "" ""
fi
echo " CPU: utime+stime of the filter processes, all threads (chain: opendkim + opendmarc)."
echo " Ratios: chain / dmarc-milter (messages per second: dmarc-milter / chain)."
echo " Event log rows written by dmarc-milter: $events. Load average before the runs" \
	"$load_before, after $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine" \
	"inflates CPU time and latency). Run time $(($(date +%s) - t_start)) s;" \
	"$failed runs with errors."
[ "$failed" = 0 ]
