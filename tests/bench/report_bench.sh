#!/bin/bash
# report_bench.sh: how long dmarc-reporter takes to build a busy day's
# reports. A benchmark, not a test: it prints the figure and asserts nothing
# (exit status 0 unless something failed to run).
#
# Fills an event database with one UTC day (yesterday) of REPORT_BENCH_EVENTS
# events (default 1,000,000) across REPORT_BENCH_DOMAINS policy domains
# (default 10,000) with tests/bench/report_bench_gen, then times
#   dmarc-reporter -c bench.conf --dry-run DIR --day YESTERDAY
# which aggregates the day, renders and gzips every report and writes each
# .xml.gz and .eml into DIR. The rua of every generated domain is on the
# domain itself, so no DNS query is needed; Nameservers points at a port
# where nothing answers, so an unexpected query would show in the time.
# Target: 20 s for the default day on the 2-core development machine.
# Build without --enable-sanitizers for a meaningful figure (`make bench`
# from such a build dir). REPORT_BENCH_KEEP=yes keeps the work directory;
# REPORT_BENCH_DB=path reuses (or creates and keeps) a database.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$(pwd)}"
GEN=$top_builddir/tests/bench/report_bench_gen
REPORTER=$top_builddir/reporter/dmarc-reporter
EVENTS=${REPORT_BENCH_EVENTS:-1000000}
DOMAINS=${REPORT_BENCH_DOMAINS:-10000}
for f in "$GEN" "$REPORTER"; do
	if [ ! -x "$f" ]; then
		echo "report_bench: $f not built (make bench builds it)" >&2
		exit 1
	fi
done
if nm "$REPORTER" 2>/dev/null | grep -q __asan_init; then
	echo "report_bench: warning: $REPORTER is built with sanitizers; the figure is not meaningful" >&2
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/report_bench.XXXXXX") || exit 1
cleanup() {
	if [ "${REPORT_BENCH_KEEP:-}" = yes ]; then
		echo "report_bench: work dir kept: $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
day=$(date -u -d yesterday +%Y-%m-%d)
db=${REPORT_BENCH_DB:-$work/events.db}
if [ ! -s "$db" ]; then
	t0=$(date +%s.%N)
	"$GEN" "$db" "$day" "$EVENTS" "$DOMAINS" || exit 1
	echo "report_bench: database filled in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"
else
	echo "report_bench: reusing $db (its events must be on $day)"
fi
cat >"$work/bench.conf" <<CONF
AuthservID mx.receiver.example
Syslog no
Nameservers 127.0.0.1@9
DNSTimeout 1
EventDatabase $db
EventRetentionDays 0
ReportOrgName Receiver Example
ReportEmail dmarc-reports@receiver.example
ReportSendmail /bin/false
CONF
t0=$(date +%s.%N)
"$REPORTER" -c "$work/bench.conf" --dry-run "$work/out" --day "$day" >"$work/run.out" 2>"$work/run.err"
rc=$?
t1=$(date +%s.%N)
cat "$work/run.out"
if [ "$rc" -ne 0 ]; then
	echo "report_bench: dmarc-reporter exited with status $rc:" >&2
	head -n 20 "$work/run.err" >&2
	exit 1
fi
secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
files=$(ls "$work/out" | wc -l)
bytes=$(du -sb "$work/out" | cut -f1)
printf 'report_bench: %s events, %s policy domains: dmarc-reporter --dry-run took %s s (target <= 20 s), %s files, %s bytes\n' \
	"$EVENTS" "$DOMAINS" "$secs" "$files" "$bytes"
