#!/bin/bash
# event_crash_test.sh: kill -9 during a load loses no more than the documented
# window, the database is intact, and a restarted milter writes to it again.
#
# milter-load (4 connections) sends messages to one milter; once the database
# holds at least CRASH_MIN_ROWS of them the milter gets SIGKILL. milter-load
# then stops and lists the messages it had an answer for, with the time of
# each answer. The milter hands a message's event to its writer before it
# answers, so every answered message should have a row, except those still in
# the writer's queue: doc/event-schema.md promises at most one EventBatchMs of
# mail. The test allows the messages answered in the last EventBatchMs before
# the kill plus one batch (EventBatchRows, the batch being written):
#   rows >= answered - (answered in the last EventBatchMs + EventBatchRows)
# and at most one row per message (no duplicates, none for a message never
# sent). Then PRAGMA integrity_check is "ok", and a new milter on the same
# database writes the row of a new message and stops cleanly.
#
# Needs: milter/dmarc-milter, tests/tools/milter-send, tests/eventlog/milter-load,
# unbound, openssl, sqlite3. TK_KEEP=yes keeps the work directory.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/tools/milter-lib.sh"
it=$top_srcdir/tests/integration
LOAD=${TK_LOAD:-$top_builddir/tests/eventlog/milter-load}
BATCH_MS=50
BATCH_ROWS=100
CRASH_MIN_ROWS=${CRASH_MIN_ROWS:-1500}

for f in "$TK_MILTER" "$TK_SEND" "$LOAD"; do
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

tk_setup dmarc-eventlog-crash
load_pid=
stop_load() {
	if [ -n "$load_pid" ]; then
		kill "$load_pid" 2>/dev/null
		wait "$load_pid" 2>/dev/null
		load_pid=
	fi
}
TK_EXTRA_CLEANUP=stop_load
tk_dns_start "$it/example.zone.in"
TK_SOCKET_KIND=unix
DB=$TK_WORK/crash-events.db

# rows: events rows of the load (queue ids crash-N); "" when unreadable.
rows() {
	sqlite3 -cmd '.timeout 2000' "file:$DB?mode=ro" \
		"SELECT count(*) FROM events WHERE queue_id LIKE 'crash-%'" 2>/dev/null
}

if ! tk_milter_start crash "$it/milter.conf.in" EventBatchMs=$BATCH_MS \
	EventBatchRows=$BATCH_ROWS EventQueueSize=100000; then
	echo "Bail out! the milter did not start (log kept in $TK_WORK)"
	TK_KEEP=yes
	exit 99
fi
tk_make_message crash from:alice@aligned.example "$TK_WORK/crash.eml"
"$LOAD" --socket "${TK_SOCKET[crash]}" --client-ip 192.0.2.10 --helo mx.aligned.example \
	--mail-from bounce@aligned.example --rcpt carol@receiver.example \
	--connections 4 --messages 1000000 --queue-prefix crash \
	--accepted "$TK_WORK/answered" "$TK_WORK/crash.eml" \
	>"$TK_WORK/load.out" 2>"$TK_WORK/load.err" &
load_pid=$!

# Wait (at most 40 s) until the database holds enough rows, then kill -9.
n=0
for _ in $(seq 1 400); do
	n=$(rows)
	[ "${n:-0}" -ge "$CRASH_MIN_ROWS" ] && break
	kill -0 "$load_pid" 2>/dev/null || break
	sleep 0.1
done
kill_ns=$(date +%s%N)
kill -9 "${TK_PID[crash]}"
wait "${TK_PID[crash]}" 2>/dev/null
unset "TK_PID[crash]"
[ "${n:-0}" -ge "$CRASH_MIN_ROWS" ]
tk_ok $? "the load reached $CRASH_MIN_ROWS rows before the kill (had ${n:-none})"

# milter-load stops by itself once its connections fail (at most 60 s).
for _ in $(seq 1 600); do
	kill -0 "$load_pid" 2>/dev/null || break
	sleep 0.1
done
if kill -0 "$load_pid" 2>/dev/null; then
	stop_load
	tk_ok 1 "the load client stops when the milter is gone"
else
	wait "$load_pid"
	load_pid=
	tk_ok 0 "the load client stops when the milter is gone"
fi
tk_diag "milter-load: $(head -n 1 "$TK_WORK/load.out")"

answered=$(grep -c . "$TK_WORK/answered" 2>/dev/null)
window=$(awk -v since=$((kill_ns - BATCH_MS * 1000000)) '$2 > since { n++ } END { print n + 0 }' \
	"$TK_WORK/answered" 2>/dev/null)
got=$(rows)
bound=$(( ${answered:-0} - ${window:-0} - BATCH_ROWS ))
lost=$(( ${answered:-0} - ${got:-0} ))
[ -n "$got" ] && [ "${answered:-0}" -gt 0 ] && [ "$got" -ge "$bound" ]
tk_ok $? "kill -9 lost $lost of $answered answered messages (allowed: $window answered in the last ${BATCH_MS} ms + one batch of $BATCH_ROWS)"

# No row twice, and no row for a message that was never sent: at most the
# messages in flight at the kill (one per connection) have a row but no answer.
dups=$(sqlite3 "file:$DB?mode=ro" "SELECT count(*) FROM (SELECT queue_id FROM events
	GROUP BY queue_id HAVING count(*) > 1)" 2>&1)
sent=$(awk '/^messages /{ print $2 }' "$TK_WORK/load.out")
extra=$(sqlite3 "file:$DB?mode=ro" "SELECT count(*) FROM events WHERE queue_id LIKE 'crash-%'
	AND CAST(substr(queue_id, 7) AS INTEGER) >= ${sent:-0}" 2>&1)
[ "$dups" = 0 ] && [ "$extra" = 0 ] && [ "${got:-0}" -le $(( ${answered:-0} + 4 )) ]
tk_ok $? "one row per message, none for a message never sent (duplicates $dups, beyond the last sent $extra)"

# The file survived the crash: SQLite replays the WAL on the next open.
ic=$(sqlite3 "$DB" 'PRAGMA integrity_check' 2>&1)
[ "$ic" = ok ]
tk_ok $? "PRAGMA integrity_check after kill -9: $ic"

# A new milter on the same database writes again.
if tk_milter_start crash2 "$it/milter.conf.in" "EventDatabase=$DB"; then
	tk_make_message after-restart from:alice@aligned.example "$TK_WORK/after.eml"
	"$TK_SEND" --socket "${TK_SOCKET[crash2]}" --client-ip 192.0.2.10 \
		--helo mx.aligned.example --mail-from bounce@aligned.example \
		--rcpt carol@receiver.example --queue-id after-restart "$TK_WORK/after.eml" \
		>"$TK_WORK/after.out" 2>&1
	found=
	for _ in $(seq 1 100); do
		found=$(sqlite3 -cmd '.timeout 2000' "file:$DB?mode=ro" \
			"SELECT dmarc_result FROM events WHERE queue_id = 'after-restart'" 2>/dev/null)
		[ -n "$found" ] && break
		sleep 0.1
	done
	[ "$found" = pass ]
	tk_ok $? "a restarted milter writes to the same database (row: ${found:-none})"
	tk_milter_stop crash2
	tk_ok $? "the restarted milter stops cleanly"
	! grep -Eq "event log: .*(wait in memory|events dropped|reopening|unwritten)" \
		"$TK_WORK/crash2.log"
	tk_ok $? "the restarted milter logged no event-log error"
else
	tk_ok 1 "a restarted milter writes to the same database (it did not start)"
fi
ic=$(sqlite3 "$DB" 'PRAGMA integrity_check' 2>&1)
[ "$ic" = ok ]
tk_ok $? "PRAGMA integrity_check at the end: $ic"

tk_done
