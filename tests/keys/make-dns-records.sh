#!/bin/sh
# make-dns-records.sh: the DKIM key records (RFC 6376 §3.6.1) of the test keys.
#
#   make-dns-records.sh              prints "NAME<TAB>v=DKIM1; k=...; p=..." per key
#   make-dns-records.sh --subst FILE prints FILE with @RSA2048@, @RSA1024@,
#                                    @RSA512@ and @ED25519@ replaced by the
#                                    record as zone-file TXT strings (quoted,
#                                    split at 250 octets: RFC 1035 §3.3.14)
#
# RSA keys publish the DER SubjectPublicKeyInfo (k=rsa); Ed25519 keys the raw
# 32-octet public key (k=ed25519, RFC 8463 §4.2). The keys are test keys,
# generated once with "openssl genpkey" and committed; never use them elsewhere.
# Needs openssl(1) and base64(1).
set -eu

keydir=$(cd "$(dirname "$0")" && pwd)
KEYS="rsa2048 rsa1024 rsa512 ed25519"

# record NAME: prints the TXT value of one key.
record() {
	case $1 in
	ed25519)
		p=$(openssl pkey -in "$keydir/$1.key" -pubout -outform DER 2>/dev/null |
			tail -c 32 | base64 -w0)
		printf 'v=DKIM1; k=ed25519; p=%s\n' "$p" ;;
	*)
		p=$(openssl pkey -in "$keydir/$1.key" -pubout -outform DER 2>/dev/null |
			base64 -w0)
		printf 'v=DKIM1; k=rsa; p=%s\n' "$p" ;;
	esac
	[ -n "$p" ] || { echo "make-dns-records.sh: cannot read $keydir/$1.key" >&2; exit 1; }
}

# quoted VALUE: the value as "..." "..." strings of at most 250 octets.
quoted() {
	printf '%s' "$1" | fold -b -w 250 | sed 's/^/"/; s/$/"/' | tr '\n' ' ' | sed 's/ $//'
}

case ${1:-} in
"")
	for k in $KEYS; do
		printf '%s\t%s\n' "$k" "$(record "$k")"
	done ;;
--subst)
	[ $# -eq 2 ] || { echo "usage: $0 [--subst FILE]" >&2; exit 2; }
	script=
	for k in $KEYS; do
		up=$(echo "$k" | tr a-z A-Z)
		script="$script s|@$up@|$(quoted "$(record "$k")")|g;"
	done
	sed "$script" "$2" ;;
*)
	echo "usage: $0 [--subst FILE]" >&2
	exit 2 ;;
esac
