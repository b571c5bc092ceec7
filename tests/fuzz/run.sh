#!/usr/bin/env bash
# Builds every libFuzzer target tests/fuzz/fuzz_*.c with clang (ASan+UBSan)
# against the core library sources and runs each for a bounded time on a copy
# of its seed corpus tests/fuzz/corpus/<name>/. Prints TAP.
# usage: tests/fuzz/run.sh OUTDIR SECONDS [TARGET...]
#
# Every target links lib/*.c. Targets named milter_* also link milter/*.c
# except main.c, callbacks.c and sigshim.c (the libmilter glue), and get the
# loopback test DNS server (tests/dns/dns-server.sh serving the integration
# zone, DKIM keys filled in) through DMARC_FUZZ_DNS=127.0.0.1@PORT and an
# event database through DMARC_FUZZ_EVENTDB; without unbound or openssl such a
# target is skipped. Targets named reporter_* also link reporter/*.c except
# main.c. FUZZ_JOBS=2 runs two targets at a time (default 1).
set -u
out=${1:?usage: run.sh OUTDIR SECONDS [TARGET...]}
secs=${2:-20}
shift 2 || true
top=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$out/obj"
out=$(cd "$out" && pwd)

if ! command -v clang >/dev/null; then
	echo "1..0 # SKIP clang is not installed"
	exit 0
fi
pcs="opendkim libpsl libidn2 sqlite3 zlib libunbound"
cflags="-g -O1 -std=c11 -D_GNU_SOURCE -DSYSCONFDIR=\"/etc\" -DLOCALSTATEDIR=\"/var\" -DRUNSTATEDIR=\"/run\"
  -fsanitize=fuzzer-no-link,address,undefined -I$top/lib $(pkg-config --cflags $pcs)"
libs="$(pkg-config --libs $pcs) -lspf2 -lpthread"

# compile_dir DIR NAME SKIP...: instruments DIR/*.c (but the SKIP files) once
# into $out/obj/NAME-*.o and prints the object list; false on an error.
compile_dir() {
	local dir=$1 tag=$2 c b o list=""
	shift 2
	for c in "$top/$dir"/*.c; do
		b=$(basename "$c")
		case " $* " in *" $b "*) continue ;; esac
		o="$out/obj/$tag-${b%.c}.o"
		# shellcheck disable=SC2086
		clang $cflags -I"$top/$dir" -c "$c" -o "$o" 2>>"$out/obj/$tag.build.log" ||
			{ echo "compile $dir/$b" >&2; return 1; }
		list="$list $o"
	done
	echo "$list"
}

# The core library, instrumented once.
rm -f "$out"/obj/*.build.log
if ! objs=$(compile_dir lib lib); then
	echo "not ok 1 - compile lib/ (see $out/obj/lib.build.log)"
	echo "1..1"
	exit 1
fi

targets=("$@")
if [ ${#targets[@]} = 0 ]; then
	for f in "$top"/tests/fuzz/fuzz_*.c; do
		t=$(basename "${f%.c}"); targets+=("${t#fuzz_}")
	done
fi

# The test DNS server of the milter_* targets, started on first use.
dns_dir=
dns_port=
dns_up() {
	[ -n "$dns_port" ] && return 0
	command -v openssl >/dev/null 2>&1 || return 1
	dns_dir="$out/dns"
	rm -rf "$dns_dir" && mkdir -p "$dns_dir" || return 1
	"$top/tests/keys/make-dns-records.sh" --subst "$top/tests/integration/example.zone.in" \
		>"$out/example.zone" 2>"$out/dns.log" || return 1
	dns_port=$(DNS_OWNER_PID=$$ "$top/tests/dns/dns-server.sh" start "$dns_dir" \
		"$out/example.zone" 2>>"$out/dns.log") || { dns_port=; return 1; }
}
dns_down() {
	[ -n "$dns_port" ] && "$top/tests/dns/dns-server.sh" stop "$dns_dir" >/dev/null 2>&1
	dns_port=
}
trap dns_down EXIT

# The milter/ and reporter/ objects, when a target needs them (compiled here,
# before targets run in parallel). "-" = does not build.
milter_objs=
reporter_objs=
for t in "${targets[@]}"; do
	case $t in
	milter_*)
		[ -n "$milter_objs" ] && continue
		dns_up || true
		milter_objs=$(compile_dir milter milter main.c callbacks.c sigshim.c) || milter_objs=-
		;;
	reporter_*)
		[ -n "$reporter_objs" ] && continue
		reporter_objs=$(compile_dir reporter reporter main.c) || reporter_objs=-
		;;
	esac
done

# run_target N T: builds and runs one target; prints its TAP line.
run_target() {
	local n=$1 t=$2
	local bin="$out/fuzz_$t" extra="" env=()
	local cflags_t="$cflags" libs_t="$libs" opts=()
	case $t in
	milter_*)
		[ "$milter_objs" != - ] ||
			{ echo "not ok $n - fuzz_$t: milter/ does not build (see $out/obj/milter.build.log)"; return 1; }
		extra=$milter_objs
		cflags_t="$cflags -I$top/milter"
		libs_t="$libs $(pkg-config --libs libssl libcrypto)" # milter/keycache.c
		if [ -z "$dns_port" ]; then
			echo "ok $n - fuzz_$t # SKIP no test DNS server (unbound and openssl needed; see $out/dns.log)"
			return 0
		fi
		rm -f "$out/$t-events.db"*
		env=(DMARC_FUZZ_DNS="127.0.0.1@$dns_port" DMARC_FUZZ_EVENTDB="$out/$t-events.db")
		# a message held past DNSMessageTimeout (2 s) by more than this
		# is a finding too
		opts=(-timeout=25)
		;;
	reporter_*)
		[ "$reporter_objs" != - ] ||
			{ echo "not ok $n - fuzz_$t: reporter/ does not build (see $out/obj/reporter.build.log)"; return 1; }
		extra=$reporter_objs
		cflags_t="$cflags -I$top/reporter"
		libs_t="$libs $(pkg-config --libs libssl libcrypto)"
		;;
	esac
	# shellcheck disable=SC2086
	if ! clang $cflags_t -fsanitize=fuzzer "$top/tests/fuzz/fuzz_$t.c" $objs $extra $libs_t \
		-o "$bin" 2>"$out/$t.build.log"; then
		echo "not ok $n - fuzz_$t: does not build (see $out/$t.build.log)"
		return 1
	fi
	local corpus="$out/corpus-$t"
	rm -rf "$corpus"; mkdir -p "$corpus"
	[ -d "$top/tests/fuzz/corpus/$t" ] && cp -r "$top/tests/fuzz/corpus/$t/." "$corpus/"
	if (cd "$out" && env "${env[@]}" "$bin" -max_total_time="$secs" -rss_limit_mb=2048 \
		-print_final_stats=1 "${opts[@]}" "$corpus" >"$out/$t.log" 2>&1); then
		local execs
		execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$out/$t.log" | grep -o '[0-9]*$')
		echo "ok $n - fuzz_$t: ${execs:-?} runs in ${secs}s, no finding"
	else
		echo "not ok $n - fuzz_$t: finding, see $out/$t.log"
		grep -m3 -E 'ERROR|SUMMARY' "$out/$t.log" | sed 's/^/# /'
		return 1
	fi
}

n=0
fail=0
jobs=${FUZZ_JOBS:-1}
pids=()
for t in "${targets[@]}"; do
	n=$((n + 1))
	run_target "$n" "$t" >"$out/$t.tap" &
	pids+=($!)
	if [ ${#pids[@]} -ge "$jobs" ]; then
		wait "${pids[0]}" || fail=1
		pids=("${pids[@]:1}")
	fi
done
for p in "${pids[@]}"; do
	wait "$p" || fail=1
done
for t in "${targets[@]}"; do
	cat "$out/$t.tap"
done
echo "1..$n"
exit $fail
