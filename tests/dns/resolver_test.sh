#!/bin/bash
# resolver_test.sh: runs tests/unit/resolver_test (lib/resolver) against the
# loopback DNS server serving tests/dns/resolver_test.zone. TAP.
srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
builddir=${top_builddir:-.}
prog="$builddir/tests/unit/resolver_test"
if [ ! -x "$prog" ]; then
	echo "1..0 # SKIP $prog not built (make check builds it)"
	exit 0
fi
# [::1] too when the loopback interface has it.
if grep -q ' lo$' /proc/net/if_inet6 2>/dev/null; then
	DNS_IPV6=yes
	export DNS_IPV6
fi
. "$srcdir/tests/dns/dns-lib.sh"
dns_start "$srcdir/tests/dns/resolver_test.zone" \
	"$srcdir/tests/dns/resolver_test_ptr.zone" "$srcdir/tests/dns/resolver_test_lan.zone"
# A command line for popen(3) (sh -c), hence the inner quotes.
# shellcheck disable=SC2089
DNS_QUERIES_CMD="'$DNS_SERVER_SH' queries '$DNS_WORKDIR'"
# shellcheck disable=SC2090
export DNS_QUERIES_CMD
"$prog"
