#!/bin/bash
# valgrind.sh: valgrind memcheck over the milter suites and the unit tests.
#
# usage: tests/valgrind.sh [BUILDDIR]      (or `make check-valgrind` there)
#
# BUILDDIR (default: the current directory) must be configured WITHOUT
# --enable-sanitizers: valgrind and ASan do not mix. For example:
#     mkdir build-vg && cd build-vg && ../configure -q && make -j2 check-valgrind
#
# 1. The unit tests that need no DNS server run under valgrind directly.
# 2. The integration suite (tests/integration/milter_test.sh) and the
#    hardening suites hostile_mail.sh and dns_faults.sh run with every
#    dmarc-milter they start wrapped in valgrind (TK_MILTER points at a
#    wrapper); their time limits are stretched (valgrind is 20-50 times
#    slower).
# A run fails on any memcheck error (invalid read or write, use of
# uninitialised memory, bad free) and on any definitely or indirectly lost
# block; the valgrind logs stay in the work directory it names when something
# failed (VG_KEEP=yes: always). Prints TAP
# lines and ends with "N passed, M failed". Takes a few minutes; not part of
# `make check`.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=$(cd "${1:-${top_builddir:-.}}" && pwd)
export top_srcdir top_builddir

if ! command -v valgrind >/dev/null 2>&1; then
	echo "1..0 # SKIP valgrind is not installed (apt-get install valgrind)"
	exit 0
fi
milter=$top_builddir/milter/dmarc-milter
if [ ! -x "$milter" ]; then
	echo "Bail out! $milter is not built (make, then make check TESTS= builds the tools)"
	exit 1
fi
if nm "$milter" 2>/dev/null | grep -q __asan_init || ldd "$milter" 2>/dev/null | grep -q libasan; then
	echo "Bail out! $top_builddir is an ASan build; configure one without --enable-sanitizers"
	exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/dmarc-valgrind.XXXXXX") || exit 1
vgopts="--tool=memcheck --error-exitcode=97 --leak-check=full --show-leak-kinds=definite,indirect
	--errors-for-leak-kinds=definite,indirect --num-callers=30 --child-silent-after-fork=yes
	--suppressions=$top_srcdir/tests/valgrind.supp"
n=0
failed=0
tap() { # tap STATUS LABEL
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi
}

# 1. Unit tests (those that start no DNS server).
for t in strbuf_test authres_test dmarc_record_test dmarc_eval_test domain_test \
	from_header_test config_test cidr_test; do
	bin=$top_builddir/tests/unit/$t
	[ -x "$bin" ] || { tap 1 "unit $t: not built"; continue; }
	# shellcheck disable=SC2086
	valgrind $vgopts --log-file="$work/unit-$t.vg" "$bin" >"$work/unit-$t.out" 2>&1
	st=$?
	grep -q '^not ok' "$work/unit-$t.out" && st=1
	tap $st "unit $t under valgrind"
done
bin=$top_builddir/tests/hardening/oom_test
if [ -x "$bin" ]; then
	# shellcheck disable=SC2086
	valgrind $vgopts --log-file="$work/unit-oom_test.vg" "$bin" >"$work/unit-oom_test.out" 2>&1
	tap $? "allocation-failure injection (oom_test) under valgrind"
fi

# 2. The milter suites, each milter under valgrind.
cat >"$work/vg-milter" <<EOF
#!/bin/sh
exec valgrind $(echo $vgopts) --log-file=$work/milter.%p.vg "$milter" "\$@"
EOF
chmod 755 "$work/vg-milter"
for suite in tests/integration/milter_test.sh tests/hardening/hostile_mail.sh \
	tests/hardening/dns_faults.sh; do
	name=$(basename "$suite" .sh)
	(cd "$top_builddir" && TK_MILTER=$work/vg-milter TK_READY_TIMEOUT=180 HX_SLACK=40 \
		HX_MSG_SECONDS=300 HX_MAX_RSS_MB=100000 bash "$top_srcdir/$suite") \
		>"$work/$name.out" 2>&1
	st=$?
	passed=$(grep -c '^ok' "$work/$name.out")
	bad=$(grep -c '^not ok' "$work/$name.out")
	tap $st "$name with the milter under valgrind ($passed ok, $bad not ok)"
	[ "$st" = 0 ] || grep '^not ok' "$work/$name.out" | head -n 5 | sed 's/^/# /'
done

# Every milter's valgrind log: no error, no leak (the exit status says so
# too, but a milter killed during cleanup would not report it).
logs=$(ls "$work"/milter.*.vg 2>/dev/null | wc -l)
bad=$(grep -l -E 'ERROR SUMMARY: [1-9]|(definitely|indirectly) lost: [1-9]' "$work"/milter.*.vg \
	"$work"/unit-*.vg 2>/dev/null)
[ "$logs" -gt 0 ] && [ -z "$bad" ]
tap $? "memcheck clean in all $logs milter runs and the unit tests"
for f in $bad; do
	echo "# $f:"
	grep -E -A12 'Invalid|uninitialised|definitely lost in|indirectly lost in' "$f" | head -n 30 |
		sed 's/^/#   /'
done

echo "1..$n"
if [ "$failed" = 0 ] && [ "${VG_KEEP:-}" != yes ]; then
	rm -rf "$work"
else
	echo "# logs in $work"
fi
echo "$((n - failed)) passed, $failed failed"
[ "$failed" = 0 ]
