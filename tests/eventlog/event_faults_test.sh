#!/bin/bash
# event_faults_test.sh: a broken event database never stalls the milter.
#
# Against real faults, with milter-load driving the milter (one connection):
#   full       the database on a small tmpfs that is then filled up: mail
#              flows at its usual latency, the log says events wait and are
#              dropped (EventQueueSize 100), rows arrive once space is freed,
#              and rows = submitted - dropped as the milter counts them.
#   read-only  the tmpfs mounted read-only when the milter starts: mail flows,
#              the log says events wait, rows arrive after "remount,rw".
#   deleted    the database files removed underneath the running milter: the
#              writer notices, creates a new file and the new rows go there.
#   locked     another process holds "BEGIN EXCLUSIVE": mail flows, no row
#              is written while it holds the lock, all arrive after COMMIT.
#   reader     another process holds a read transaction open (the reporter's
#              case): rows keep arriving meanwhile (WAL), and the reader
#              still sees its own snapshot.
# "Usual latency": the median of the messages sent during the fault is at
# most 5 times the healthy median plus 100 ms (a writer that blocked the
# milter would cost 200 ms busy timeouts or 1 s retries per message).
# Waits are bounded polls. full and read-only need root and tmpfs mounts;
# without them they are skipped.
#
# Needs: milter/dmarc-milter, tests/eventlog/milter-load, unbound, openssl,
# sqlite3. TK_KEEP=yes keeps the work directory.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/tools/milter-lib.sh"
it=$top_srcdir/tests/integration
LOAD=${TK_LOAD:-$top_builddir/tests/eventlog/milter-load}

for f in "$TK_MILTER" "$LOAD"; do
	if [ ! -x "$f" ]; then
		echo "1..0 # SKIP $f not built"
		exit 0
	fi
done
for p in openssl sqlite3; do
	if ! command -v "$p" >/dev/null 2>&1; then
		echo "1..0 # SKIP $p not installed"
		exit 0
	fi
done

tk_setup dmarc-eventlog-faults
FS=$TK_WORK/fs
mounted=no
holder_pid=
# The sqlite3 process that holds a lock or a read transaction, fed through
# a FIFO on file descriptor 8.
holder_stop() {
	if [ -n "$holder_pid" ]; then
		exec 8>&- 2>/dev/null
		kill "$holder_pid" 2>/dev/null
		wait "$holder_pid" 2>/dev/null
		holder_pid=
	fi
}
extra_cleanup() {
	holder_stop
	if [ "$mounted" = yes ]; then
		umount "$FS" 2>/dev/null || umount -l "$FS" 2>/dev/null
		mounted=no
	fi
}
TK_EXTRA_CLEANUP=extra_cleanup
tk_dns_start "$it/example.zone.in"
TK_SOCKET_KIND=unix
tk_make_message fault from:alice@aligned.example "$TK_WORK/fault.eml"

# count DB [PREFIX]: events rows (whose queue id starts with PREFIX-); "" when
# the database cannot be read.
count() {
	local where=
	[ -n "${2:-}" ] && where="WHERE queue_id LIKE '$2-%'"
	sqlite3 -cmd '.timeout 3000' "file:$1?mode=ro" "SELECT count(*) FROM events $where" 2>/dev/null
}

# wait_count DB PREFIX N [SECONDS]: polls until count DB PREFIX is N (default
# 20 s). Returns 0 when it got there.
wait_count() {
	local i limit=$(( ${4:-20} * 10 ))
	for ((i = 0; i < limit; i++)); do
		[ "$(count "$1" "$2")" = "$3" ] && return 0
		sleep 0.1
	done
	return 1
}

# wait_log INST ERE [SECONDS]: polls until the instance's log has a matching line.
wait_log() {
	local i limit=$(( ${3:-20} * 10 ))
	for ((i = 0; i < limit; i++)); do
		grep -Eq -- "$2" "$TK_WORK/$1.log" && return 0
		sleep 0.1
	done
	return 1
}

# load INST PREFIX N: sends N messages on one connection; sets LOAD_OUT (the
# summary) and P50 (median latency, ms); returns milter-load's status.
load() {
	"$LOAD" --socket "${TK_SOCKET[$1]}" --client-ip 192.0.2.10 --helo mx.aligned.example \
		--mail-from bounce@aligned.example --rcpt carol@receiver.example \
		--connections 1 --messages "$3" --queue-prefix "$2" --timeout 10 \
		"$TK_WORK/fault.eml" >"$TK_WORK/load-$2.out" 2>&1
	local rc=$?
	LOAD_OUT=$(head -n 1 "$TK_WORK/load-$2.out")
	P50=$(awk '/^latency_ms/ { print $3 }' "$TK_WORK/load-$2.out")
	return $rc
}

# flows PREFIX N: the TAP line for mail sent during a fault (all N answered,
# median within 5 x healthy + 100 ms).
flows() {
	local what=$1 rc=$2
	[ "$rc" -eq 0 ] && awk -v p="${P50:-1e9}" -v b="$BASE_P50" 'BEGIN { exit !(p <= 5 * b + 100) }'
	tk_ok $? "mail flows while $what: ${LOAD_OUT#messages }; median ${P50:-?} ms (healthy $BASE_P50 ms)"
}

# holder_start DB SQL: starts the sqlite3 holder and waits until it printed "held".
holder_start() {
	rm -f "$TK_WORK/holder.fifo"
	mkfifo "$TK_WORK/holder.fifo" || return 1
	: >"$TK_WORK/holder.out"
	sqlite3 "$1" <"$TK_WORK/holder.fifo" >"$TK_WORK/holder.out" 2>&1 &
	holder_pid=$!
	exec 8>"$TK_WORK/holder.fifo"
	printf '.timeout 5000\n%s\nSELECT '"'"'held'"'"';\n' "$2" >&8
	local i
	for ((i = 0; i < 100; i++)); do
		grep -q '^held$' "$TK_WORK/holder.out" && return 0
		sleep 0.1
	done
	return 1
}

# holder_end SQL: sends the last statements, closes the FIFO and waits.
holder_end() {
	printf '%s\n' "$1" >&8
	exec 8>&-
	wait "$holder_pid" 2>/dev/null
	holder_pid=
}

# ---- the healthy milter "del" (deleted, locked, reader) -------------------
DB=$TK_WORK/del-events.db
if ! tk_milter_start del "$it/milter.conf.in" "EventDatabase=$DB"; then
	echo "Bail out! the milter did not start (log kept in $TK_WORK)"
	TK_KEEP=yes
	exit 99
fi
load del warm 50
load del healthy 200
rc=$?
BASE_P50=${P50:-0}
wait_count "$DB" healthy 200
tk_ok $(( rc + $? )) "healthy: 200 messages answered and written (${LOAD_OUT#messages }, median $BASE_P50 ms)"

# ---- full ------------------------------------------------------------------
mkdir -p "$FS"
if [ "$(id -u)" -eq 0 ] && mount -t tmpfs -o size=2m,mode=0755 tmpfs "$FS" 2>/dev/null; then
	mounted=yes
fi
FULL_DB=$FS/events.db
if [ "$mounted" = yes ] &&
	tk_milter_start full "$it/milter.conf.in" "EventDatabase=$FULL_DB" EventQueueSize=100; then
	load full before 100
	wait_count "$FULL_DB" before 100
	tk_ok $? "full: 100 rows written before the tmpfs fills up"
	dd if=/dev/zero of="$FS/filler" bs=4096 >/dev/null 2>&1
	load full during 300
	flows "the database's file system is full" $?
	wait_log full "event log: .*full.*events wait in memory" 10 &&
		wait_log full "event log: [0-9]+ events dropped" 10
	tk_ok $? "full: the log says events wait and are dropped"
	[ "$(count "$FULL_DB" during)" = 0 ]
	tk_ok $? "full: no row written while the disk is full"
	rm -f "$FS/filler"
	wait_log full "event log: writing to" 20 &&
		load full after 50 && wait_count "$FULL_DB" after 50
	tk_ok $? "full: writing resumes once space is free (rows during: $(count "$FULL_DB" during))"
	tk_milter_term full
else
	for t in "rows written before the tmpfs fills up" "mail flows while the disk is full" \
		"the log says events wait and are dropped" "no row written while the disk is full" \
		"writing resumes once space is free"; do
		tk_skip "full: $t" "needs root and a tmpfs mount"
	done
fi

# ---- deleted ---------------------------------------------------------------
rm -f "$DB" "$DB-wal" "$DB-shm"
load del deleted 50
flows "the database was deleted" $?
wait_count "$DB" deleted 50 && wait_log del "deleted or replaced; reopening" 1
tk_ok $? "deleted: a new database file gets the rows (healthy rows in it: $(count "$DB" healthy))"

# ---- locked ----------------------------------------------------------------
if holder_start "$DB" "BEGIN EXCLUSIVE;"; then
	load del locked 50
	flows "another process holds an exclusive lock" $?
	wait_log del "event log: .*locked.*events wait in memory" 10
	tk_ok $? "locked: the log says the database is locked and events wait"
	[ "$(count "$DB" locked)" = 0 ]
	tk_ok $? "locked: no row written while the lock is held"
	holder_end "COMMIT;"
	wait_count "$DB" locked 50
	tk_ok $? "locked: all rows arrive after the lock is released"
else
	holder_stop
	tk_ok 1 "locked: sqlite3 could not take the lock: $(cat "$TK_WORK/holder.out")"
fi

# ---- a long reader ---------------------------------------------------------
before=$(count "$DB")
if holder_start "$DB" "BEGIN; SELECT count(*) FROM events;"; then
	load del reader 50
	flows "a reader holds a read transaction" $?
	wait_count "$DB" reader 50 10
	tk_ok $? "reader: rows keep arriving while a read transaction is open"
	holder_end "SELECT 'snapshot ' || count(*) FROM events; COMMIT;"
	grep -qx "snapshot $before" "$TK_WORK/holder.out"
	tk_ok $? "reader: its transaction stayed open meanwhile (it saw $before rows: $(grep snapshot "$TK_WORK/holder.out"))"
else
	holder_stop
	tk_ok 1 "reader: sqlite3 could not start its transaction: $(cat "$TK_WORK/holder.out")"
fi

# ---- full: the accounting, once that milter has stopped --------------------
if [ "$mounted" = yes ] && [ -n "${TK_PID[full]:-}" ]; then
	tk_milter_stop full
	tk_ok $? "full: the milter stops cleanly"
	line=$(grep -Eo "event log: [0-9]+ events submitted, [0-9]+ dropped" "$TK_WORK/full.log" | tail -n 1)
	submitted=$(echo "$line" | awk '{ print $3 }')
	dropped=$(echo "$line" | awk '{ print $6 }')
	rows=$(count "$FULL_DB")
	ic=$(sqlite3 "$FULL_DB" 'PRAGMA integrity_check' 2>&1)
	# 300 messages while full, 100 of them fit the queue.
	[ "${dropped:-x}" = 200 ] && [ "$rows" = $(( submitted - dropped )) ] && [ "$ic" = ok ]
	tk_ok $? "full: drops are counted ($dropped of $submitted), rows = submitted - dropped ($rows), integrity_check $ic"
else
	tk_skip "full: the milter stops cleanly" "needs root and a tmpfs mount"
	tk_skip "full: drops are counted" "needs root and a tmpfs mount"
fi

# ---- read-only -------------------------------------------------------------
if [ "$mounted" = yes ] && mount -o remount,ro "$FS" 2>/dev/null &&
	tk_milter_start ro "$it/milter.conf.in" "EventDatabase=$FULL_DB"; then
	load ro readonly 20
	flows "the database is on a read-only file system" $?
	wait_log ro "event log: .*events wait in memory" 10
	tk_ok $? "read-only: the log says events wait ($(grep -m1 -o 'event log: [^;]*' "$TK_WORK/ro.log"))"
	mount -o remount,rw "$FS" &&
		wait_count "$FULL_DB" readonly 20 && wait_log ro "event log: writing to" 1
	tk_ok $? "read-only: rows arrive after remount,rw"
	tk_milter_term ro
else
	for t in "mail flows on a read-only file system" "the log says events wait" \
		"rows arrive after remount,rw"; do
		tk_skip "read-only: $t" "needs root and a tmpfs mount"
	done
fi

tk_milter_term del
tk_milter_stop del
tk_ok $? "the milter of the deleted/locked/reader cases stops cleanly"
ic=$(sqlite3 "$DB" 'PRAGMA integrity_check' 2>&1)
[ "$ic" = ok ] && [ "$(count "$DB")" = $(( 50 + 50 + 50 )) ]
tk_ok $? "deleted/locked/reader: integrity_check $ic, $(count "$DB") rows in the new file (want 150)"
if [ -n "${TK_PID[ro]:-}" ]; then
	tk_milter_stop ro
	tk_ok $? "read-only: the milter stops cleanly"
fi

tk_done
