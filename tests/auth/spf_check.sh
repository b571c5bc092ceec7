#!/bin/bash
# spf_check.sh: runs tests/unit/spf_check_test (lib/spf_check) against the
# loopback test DNS server serving this directory's SPF zones. TAP output.
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
prog=$top_builddir/tests/unit/spf_check_test
if [ ! -x "$prog" ]; then
	echo "1..0 # SKIP $prog not built (make check builds it)"
	exit 0
fi
. "$top_srcdir/tests/dns/dns-lib.sh"
dns_start "$top_srcdir/tests/auth/spf.example.zone" \
	"$top_srcdir/tests/auth/0.18.198.in-addr.arpa.zone"
"$prog"
