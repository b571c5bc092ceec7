#!/bin/sh
# conf_man_test: every option of the table (lib/config.c) is documented in
# conf/dmarc-milter.conf.5 as ".B Name" with its default, and appears in the
# sample conf/dmarc-milter.conf with its default; the man page documents no
# option the table lacks; the sample parses as is and with every commented
# option line enabled. TAP output, one line per option plus the file checks.
: "${top_srcdir:=.}"
: "${top_builddir:=.}"
man="$top_srcdir/conf/dmarc-milter.conf.5"
sample="$top_srcdir/conf/dmarc-milter.conf"
list="$top_builddir/tests/unit/config_list"

if [ ! -x "$list" ]; then
	echo "1..0 # SKIP $list not built"
	exit 0
fi
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

n=0
fail=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); fail=1; echo "not ok $n - $1"; }

"$list" -d > "$tmp/options" || { echo "Bail out! $list -d failed"; exit 1; }
tab=$(printf '\t')

while IFS="$tab" read -r name def; do
	why=""
	grep -qx "\.B $name" "$man" || why="$why; no '.B $name' in the man page"
	grep -qE "^#?$name( |$)" "$sample" || why="$why; not in the sample"
	# Defaults: shown when not empty, computed (-) or build-dependent (EventDatabase).
	if [ -n "$def" ] && [ "$def" != "-" ] && [ "$name" != EventDatabase ]; then
		# The type line follows ".B Name" right after ".TP".
		typeline=$(awk -v n=".B $name" 'prev == ".TP" && $0 == n { getline; print; exit } { prev = $0 }' "$man")
		case "$typeline" in
		*"default $def)"* | *"default $def;"*) ;;
		*) why="$why; man page type line '$typeline' lacks 'default $def'" ;;
		esac
		grep -qxF "#$name $def" "$sample" || grep -qxF "$name $def" "$sample" ||
			why="$why; sample lacks the line '#$name $def'"
	fi
	if [ -z "$why" ]; then ok "$name documented"; else notok "$name documented$why"; fi
done < "$tmp/options"

# Options the man page documents must exist in the table.
awk 'prev == ".TP" && /^\.B / { print $2 } { prev = $0 }' "$man" |
	sed -n '/^[A-Z][A-Za-z]*$/p' > "$tmp/documented"
cut -f1 "$tmp/options" > "$tmp/names"
extra=$(grep -vxFf "$tmp/names" "$tmp/documented" | grep -vE '^/' | tr '\n' ' ')
if [ -z "$extra" ]; then ok "the man page documents no unknown option"; else notok "the man page documents unknown options: $extra"; fi

if "$list" "$sample" > /dev/null 2> "$tmp/err"; then
	ok "the sample configuration parses"
else
	notok "the sample configuration parses: $(cat "$tmp/err")"
fi

sed -E 's/^#([A-Z][A-Za-z]+ )/\1/' "$sample" > "$tmp/enabled.conf"
if "$list" "$tmp/enabled.conf" > /dev/null 2> "$tmp/err"; then
	ok "the sample parses with every commented option enabled"
else
	notok "the sample parses with every commented option enabled: $(cat "$tmp/err")"
fi

echo "1..$n"
exit $fail
