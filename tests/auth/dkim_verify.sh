#!/bin/bash
# dkim_verify.sh: runs tests/unit/dkim_verify_test (lib/dkim_verify) against
# the loopback test DNS server publishing testkit's keys (tests/keys/) in
# dkim.example. TAP output.
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
prog=$top_builddir/tests/unit/dkim_verify_test
if [ ! -x "$prog" ]; then
	echo "1..0 # SKIP $prog not built (make check builds it)"
	exit 0
fi
if ! command -v openssl >/dev/null 2>&1; then
	echo "1..0 # SKIP openssl(1) not installed (needed for the key records)"
	exit 0
fi
zonedir=$(mktemp -d "${TMPDIR:-/tmp}/dkim-zone.XXXXXX") || {
	echo "Bail out! mktemp failed"
	exit 99
}
DNS_NO_TRAP=yes
. "$top_srcdir/tests/dns/dns-lib.sh"
cleanup() {
	dns_stop
	rm -rf "$zonedir"
}
trap cleanup EXIT
trap 'exit 129' HUP INT TERM
if ! "$top_srcdir/tests/keys/make-dns-records.sh" --subst \
	"$top_srcdir/tests/auth/dkim.example.zone.in" >"$zonedir/dkim.example.zone"; then
	echo "Bail out! tests/keys/make-dns-records.sh failed"
	exit 99
fi
dns_start "$zonedir/dkim.example.zone"
KEYDIR=$top_srcdir/tests/keys "$prog"
