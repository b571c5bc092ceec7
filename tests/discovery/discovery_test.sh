#!/bin/bash
# discovery_test.sh: runs tests/unit/policy_discovery_test (lib/policy_discovery
# and lib/dmarc_check, both standards) against the loopback DNS server serving
# the zone files of tests/discovery/. TAP.
srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
builddir=${top_builddir:-.}
prog=${DISCOVERY_TEST_PROG:-$builddir/tests/unit/policy_discovery_test}
if [ ! -x "$prog" ]; then
	echo "1..0 # SKIP $prog not built (make check builds it)"
	exit 0
fi
. "$srcdir/tests/dns/dns-lib.sh"
dns_start "$srcdir/tests/discovery/example.zone" \
	"$srcdir/tests/discovery/uk.zone" \
	"$srcdir/tests/discovery/nozone.zone"
"$prog" "$DNS_PORT" "$srcdir"
