#!/usr/bin/env bash
# Builds every libFuzzer target tests/fuzz/fuzz_*.c with clang (ASan+UBSan)
# against the core library sources and runs each for a bounded time on a copy
# of its seed corpus tests/fuzz/corpus/<name>/. Prints TAP.
# usage: tests/fuzz/run.sh OUTDIR SECONDS [TARGET...]
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

# The core library, instrumented once.
objs=""
for c in "$top"/lib/*.c; do
	o="$out/obj/$(basename "${c%.c}").o"
	# shellcheck disable=SC2086
	clang $cflags -c "$c" -o "$o" || { echo "not ok 1 - compile $(basename "$c")"; echo "1..1"; exit 1; }
	objs="$objs $o"
done

targets=("$@")
if [ ${#targets[@]} = 0 ]; then
	for f in "$top"/tests/fuzz/fuzz_*.c; do
		t=$(basename "${f%.c}"); targets+=("${t#fuzz_}")
	done
fi

n=0
fail=0
for t in "${targets[@]}"; do
	n=$((n + 1))
	bin="$out/fuzz_$t"
	# shellcheck disable=SC2086
	if ! clang $cflags -fsanitize=fuzzer "$top/tests/fuzz/fuzz_$t.c" $objs $libs -o "$bin" 2>"$out/$t.build.log"; then
		echo "not ok $n - fuzz_$t: does not build (see $out/$t.build.log)"
		fail=1; continue
	fi
	corpus="$out/corpus-$t"
	rm -rf "$corpus"; mkdir -p "$corpus"
	[ -d "$top/tests/fuzz/corpus/$t" ] && cp -r "$top/tests/fuzz/corpus/$t/." "$corpus/"
	if (cd "$out" && "$bin" -max_total_time="$secs" -rss_limit_mb=2048 -print_final_stats=1 \
		"$corpus" >"$out/$t.log" 2>&1); then
		execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$out/$t.log" | grep -o '[0-9]*$')
		echo "ok $n - fuzz_$t: ${execs:-?} runs in ${secs}s, no finding"
	else
		echo "not ok $n - fuzz_$t: finding, see $out/$t.log"
		grep -m3 -E 'ERROR|SUMMARY' "$out/$t.log" | sed 's/^/# /'
		fail=1
	fi
done
echo "1..$n"
exit $fail
