#!/bin/bash
# fake-sendmail.sh: stands in for sendmail(1) in the dmarc-reporter tests.
# Called as "sendmail -t -oi -f FROM" with the message on standard input,
# like the real one. It keeps every message it accepts as
# $FAKE_SENDMAIL_DIR/NNN.eml (NNN counts the calls, from 001) and the
# arguments of each call in NNN.args. Control files in that directory:
#   fail        exit 75 (EX_TEMPFAIL) after reading the message; keep nothing
#   kill-at     holds a call number N: call N kills its parent (the reporter)
#               with SIGKILL before reading the message, keeps nothing, and
#               removes the file (a crash between two destinations)
#   kill-after  holds a call number N: call N keeps the message, then kills
#               its parent and removes the file (a crash during the hand-over)
dir=${FAKE_SENDMAIL_DIR:?FAKE_SENDMAIL_DIR is not set}
n=$(($(cat "$dir/count" 2>/dev/null || echo 0) + 1))
echo "$n" >"$dir/count"
id=$(printf '%03d' "$n")
printf '%s\n' "$@" >"$dir/$id.args"
if [ -f "$dir/kill-at" ] && [ "$(cat "$dir/kill-at")" = "$n" ]; then
	rm -f "$dir/kill-at"
	kill -KILL "$PPID"
	exit 75
fi
if [ -f "$dir/fail" ]; then
	cat >/dev/null
	echo "fake-sendmail: told to fail (call $n)" >&2
	exit 75
fi
cat >"$dir/$id.eml.tmp" && mv "$dir/$id.eml.tmp" "$dir/$id.eml"
if [ -f "$dir/kill-after" ] && [ "$(cat "$dir/kill-after")" = "$n" ]; then
	rm -f "$dir/kill-after"
	kill -KILL "$PPID"
fi
