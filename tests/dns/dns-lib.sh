# dns-lib.sh: start and stop the loopback test DNS server from a bash TAP
# script. Source it; do not run it. See tests/dns/README.
#
#   . "$top_srcdir/tests/dns/dns-lib.sh"
#   dns_start "$top_srcdir/tests/mysuite/example.com.zone" ...
#   ... use $DNS_SERVER (127.0.0.1@PORT) or $DNS_ADDR / $DNS_PORT ...
#
# dns_start sets DNS_PORT, DNS_ADDR, DNS_SERVER, DNS_WORKDIR and, unless
# DNS_NO_TRAP=yes, a trap that stops the server when the script exits. When
# unbound is not installed it prints "1..0 # SKIP ..." and exits 0; when the
# server cannot start it prints "Bail out! ..." and exits 99 (call it before
# printing any test line). DNS_KEEP=yes keeps the work directory (logs).
# The server also stops by itself within 1 s once the script is gone.

DNS_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DNS_SERVER_SH="$DNS_LIB_DIR/dns-server.sh"
DNS_PORT=
DNS_ADDR=127.0.0.1
DNS_SERVER=
DNS_WORKDIR=${DNS_WORKDIR:-}
dns_workdir_is_ours=no
dns_pid=

# dns_start <zonefile|name=zonefile>...: starts the server (see above).
dns_start() {
	local rc
	if [ -n "$DNS_PORT" ]; then
		echo "Bail out! dns_start called twice (port $DNS_PORT already running)"
		exit 99
	fi
	if [ -z "$DNS_WORKDIR" ]; then
		DNS_WORKDIR=$(mktemp -d "${TMPDIR:-/tmp}/dmarc-dns.XXXXXX") || {
			echo "Bail out! mktemp failed"
			exit 99
		}
		dns_workdir_is_ours=yes
	fi
	if [ "${DNS_NO_TRAP:-}" != yes ]; then
		trap dns_stop EXIT
		trap 'exit 129' HUP INT TERM
	fi
	DNS_PORT=$(DNS_OWNER_PID=$$ "$DNS_SERVER_SH" start "$DNS_WORKDIR" "$@")
	rc=$?
	case $rc in
	0) ;;
	77)
		DNS_PORT=
		echo "1..0 # SKIP unbound not installed (apt-get install unbound)"
		exit 0
		;;
	*)
		DNS_PORT=
		echo "Bail out! test DNS server did not start (see stderr; work dir $DNS_WORKDIR)"
		DNS_KEEP=yes
		exit 99
		;;
	esac
	DNS_SERVER="$DNS_ADDR@$DNS_PORT"
	dns_pid=$(cat "$DNS_WORKDIR/unbound.pid" 2>/dev/null)
	export DNS_PORT DNS_ADDR DNS_SERVER DNS_WORKDIR
}

# dns_stop: stops the server; removes the work directory we created unless
# DNS_KEEP=yes. Safe to call twice.
dns_stop() {
	[ -n "$DNS_WORKDIR" ] || return 0
	if [ -d "$DNS_WORKDIR" ]; then
		"$DNS_SERVER_SH" stop "$DNS_WORKDIR"
	elif [ -n "$dns_pid" ]; then
		kill "$dns_pid" 2>/dev/null # the work dir was removed first
	fi
	dns_pid=
	if [ "$dns_workdir_is_ours" = yes ] && [ "${DNS_KEEP:-}" != yes ]; then
		rm -rf "$DNS_WORKDIR"
		DNS_WORKDIR=
	fi
	DNS_PORT=
	return 0
}

# dns_queries: prints how many queries the server has received so far.
dns_queries() {
	"$DNS_SERVER_SH" queries "$DNS_WORKDIR"
}

# dns_reload: re-reads every zone file (after a test rewrote one).
dns_reload() {
	"$DNS_SERVER_SH" reload "$DNS_WORKDIR"
}
