#!/bin/bash
# privilege.sh: least privilege (needs root; skips itself otherwise).
#
#  1. dmarc-milter started as root with UserID nobody:nogroup binds a
#     privileged port (< 1024) and a local socket first, then runs with every
#     uid and gid (real, effective, saved, file system) of nobody/nogroup,
#     in every thread, with no capabilities left, and cannot get root back;
#  2. the local socket is chowned to that user and created under UMask;
#     the event database and the PID file (in directories the user owns)
#     belong to it, are not world-accessible, and go away at stop as they
#     should (the PID file is removed, the process exits 0);
#  3. started as an ordinary user with UserID set, it refuses to start with
#     a message that says what to do;
#  4. dmarc-reporter runs as an unprivileged user on a database that user
#     owns, and fails cleanly (exit status 2, a reason, no crash) on one it
#     may not read;
#  5. the systemd units in contrib/ pass `systemd-analyze security` with an
#     exposure level of at most 2.5 (where systemd-analyze can run offline).
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/tools/milter-lib.sh"
. "$top_srcdir/tests/hardening/hardening-lib.sh"
REPORTER=$top_builddir/reporter/dmarc-reporter

if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP needs root (starts the milter as root with UserID)"
	exit 0
fi
for f in "$TK_MILTER" "$REPORTER"; do
	if [ ! -x "$f" ]; then
		echo "1..0 # SKIP $f not built"
		exit 0
	fi
done
if [ -z "$HX_PY" ] || ! getent passwd nobody >/dev/null || ! command -v setpriv >/dev/null; then
	echo "1..0 # SKIP needs python3, the user nobody and setpriv (util-linux)"
	exit 0
fi
NOBODY_UID=$(id -u nobody)
NOGROUP=$(getent group nogroup >/dev/null && echo nogroup || id -gn nobody)
NOGROUP_GID=$(getent group "$NOGROUP" | cut -d: -f3)

tk_setup dmarc-hardening-priv
chmod 755 "$TK_WORK" # the unprivileged user must reach its directories
mkdir -p "$TK_WORK/state" "$TK_WORK/run" "$TK_WORK/sock"
chown nobody:"$NOGROUP" "$TK_WORK/state" "$TK_WORK/run"
mpid=
cleanup() {
	[ -n "$mpid" ] && kill -9 "$mpid" 2>/dev/null
}
TK_CLEANUP=cleanup
trap cleanup EXIT

# A privileged port nobody listens on.
port=
for i in $(seq 1 30); do
	p=$((700 + RANDOM % 300))
	if ! ss -Hltn 2>/dev/null | awk '{print $4}' | grep -q "[:.]$p\$"; then
		port=$p
		break
	fi
done

# start_milter NAME SOCKET: starts a foreground milter as root; sets mpid.
start_milter() {
	local name=$1 sock=$2 i
	cat >"$TK_WORK/$name.conf" <<EOF
AuthservID mx.receiver.example
Socket $sock
UserID nobody:$NOGROUP
UMask 027
PidFile $TK_WORK/run/$name.pid
Background no
Syslog no
LogLevel info
Nameservers 127.0.0.1@9
DNSTimeout 1
DNSMessageTimeout 1
EventDatabase $TK_WORK/state/$name-events.db
EventBatchMs 50
EOF
	"$TK_MILTER" -f -c "$TK_WORK/$name.conf" </dev/null >"$TK_WORK/$name.out" 2>"$TK_WORK/$name.log" &
	mpid=$!
	for i in $(seq 1 300); do
		grep -q "ready on" "$TK_WORK/$name.log" 2>/dev/null && return 0
		kill -0 "$mpid" 2>/dev/null || break
		sleep 0.1
	done
	tk_diag "milter $name did not start:" "$(tail -n 10 "$TK_WORK/$name.log")"
	return 1
}

# ids FIELD PID: the four ids of a /proc status line ("Uid:" or "Gid:").
ids() {
	awk -v f="$1:" '$1 == f { print $2, $3, $4, $5 }' "/proc/$2/status"
}

# stop_milter NAME: SIGTERM; 0 when it exited 0 with no sanitizer report.
stop_milter() {
	local i rc
	kill -TERM "$mpid" 2>/dev/null
	for i in $(seq 1 200); do
		kill -0 "$mpid" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$mpid" 2>/dev/null
	wait "$mpid"
	rc=$?
	mpid=
	[ $rc = 0 ] || tk_diag "$1 exited with status $rc:" "$(tail -n 10 "$TK_WORK/$1.log")"
	[ $rc = 0 ] && ! grep -Eq "Sanitizer|runtime error" "$TK_WORK/$1.log"
}

########################################################################
# 1-2. A privileged port
########################################################################
if [ -z "$port" ] || ! start_milter inet "inet:$port@127.0.0.1"; then
	echo "Bail out! the milter did not start as root (log kept in $TK_WORK)"
	TK_KEEP=yes
	exit 99
fi
ss -Hltn 2>/dev/null | awk '{print $4}' | grep -q "127.0.0.1:$port\$"
tk_ok $? "listens on privileged port $port (bound before the switch)"
u=$(ids Uid "$mpid")
g=$(ids Gid "$mpid")
[ "$u" = "$NOBODY_UID $NOBODY_UID $NOBODY_UID $NOBODY_UID" ]
tk_ok $? "real, effective, saved and fs uid are nobody ($u): root cannot come back"
[ "$g" = "$NOGROUP_GID $NOGROUP_GID $NOGROUP_GID $NOGROUP_GID" ]
tk_ok $? "real, effective, saved and fs gid are $NOGROUP ($g)"
grp=$(awk '$1 == "Groups:" { $1 = ""; print }' "/proc/$mpid/status" | xargs)
case " $grp " in *" 0 "*) false ;; *) true ;; esac
tk_ok $? "no root group among the supplementary groups ($grp)"
caps=$(awk '$1 ~ /^Cap(Inh|Prm|Eff|Amb):$/ { printf "%s%s ", $1, $2 }' "/proc/$mpid/status")
! echo "$caps" | grep -Eq ':[0-9a-f]*[1-9a-f]'
tk_ok $? "no capabilities left ($caps)"

# Every thread (libmilter's, the resolver's, the event writer's) too, once a
# message has made them all run.
printf 'From: a@sender.example\nSubject: privilege\n\nbody\n' >"$TK_WORK/m.eml"
TK_SOCKET[inet]="inet:$port@127.0.0.1"
hx_send priv inet "$TK_WORK/m.eml" --timeout 30
st=$?
[ $st = 0 ] && hx_check priv "result accept ; X-DMARC-Verdict"
tk_ok $? "a message is evaluated as nobody"
bad=0
nthreads=0
for t in /proc/"$mpid"/task/*; do
	nthreads=$((nthreads + 1))
	[ "$(awk '$1 == "Uid:" { print $3 }' "$t/status")" = "$NOBODY_UID" ] || bad=1
done
tk_ok $bad "all $nthreads threads run as nobody"
[ "$(cat "$TK_WORK/run/inet.pid" 2>/dev/null)" = "$mpid" ]
tk_ok $? "PID file written"
sleep 0.3 # the writer's batch interval
db=$TK_WORK/state/inet-events.db
[ "$(stat -c %U "$db" 2>/dev/null)" = nobody ] && [ $(($(stat -c %#a "$db") & 07)) = 0 ]
tk_ok $? "event database owned by nobody, no access for others ($(stat -c '%U %a' "$db" 2>/dev/null))"
stop_milter inet
tk_ok $? "clean exit on SIGTERM as nobody (status 0)"
[ ! -e "$TK_WORK/run/inet.pid" ]
tk_ok $? "PID file removed at stop (its directory belongs to the user)"

########################################################################
# 2. A local socket
########################################################################
if start_milter unix "local:$TK_WORK/sock/milter.sock"; then
	s=$TK_WORK/sock/milter.sock
	[ -S "$s" ] && [ "$(stat -c %U "$s")" = nobody ] && [ $(($(stat -c %#a "$s") & 07)) = 0 ]
	tk_ok $? "local socket chowned to nobody, no access for others ($(stat -c '%U:%G %a' "$s" 2>/dev/null))"
	TK_SOCKET[unix]="unix:$s"
	hx_send privunix unix "$TK_WORK/m.eml" --timeout 30 && hx_check privunix "result accept"
	tk_ok $? "a message through the local socket"
	stop_milter unix
	tk_ok $? "clean exit on SIGTERM (local socket)"
else
	tk_ok 1 "milter with a local socket started"
fi

########################################################################
# 3. Not root, but UserID set
########################################################################
cp "$TK_WORK/inet.conf" "$TK_WORK/user.conf"
chmod 644 "$TK_WORK/user.conf"
sed -i "s|^Socket .*|Socket local:$TK_WORK/run/user.sock|; s|^UserID .*|UserID root|; /^PidFile/d" \
	"$TK_WORK/user.conf"
setpriv --reuid=nobody --regid="$NOGROUP" --clear-groups "$TK_MILTER" -f -c "$TK_WORK/user.conf" \
	</dev/null >/dev/null 2>"$TK_WORK/user.log"
rc=$?
[ $rc = 1 ] && grep -q "only root can change users" "$TK_WORK/user.log"
tk_ok $? "as nobody with UserID root: refuses to start (exit $rc, says why)"

########################################################################
# 4. dmarc-reporter as an unprivileged user
########################################################################
cat >"$TK_WORK/reporter.conf" <<EOF
AuthservID mx.receiver.example
Syslog no
Nameservers 127.0.0.1@9
EventDatabase $TK_WORK/state/inet-events.db
ReportOrgName Receiver
ReportEmail dmarc-reports@receiver.example
ReportSendmail /bin/false
EOF
chmod 644 "$TK_WORK/reporter.conf"
setpriv --reuid=nobody --regid="$NOGROUP" --clear-groups "$REPORTER" -c "$TK_WORK/reporter.conf" \
	--summary >"$TK_WORK/reporter.out" 2>&1
rc=$?
tk_ok $rc "dmarc-reporter --summary as nobody on its own database (exit $rc)"
[ $rc = 0 ] || tk_diag "$(head -n 5 "$TK_WORK/reporter.out")"
mkdir -p "$TK_WORK/rootonly"
chmod 700 "$TK_WORK/rootonly"
cp "$TK_WORK/state/inet-events.db" "$TK_WORK/rootonly/events.db"
sed "s|^EventDatabase .*|EventDatabase $TK_WORK/rootonly/events.db|" "$TK_WORK/reporter.conf" \
	>"$TK_WORK/reporter2.conf"
chmod 644 "$TK_WORK/reporter2.conf"
setpriv --reuid=nobody --regid="$NOGROUP" --clear-groups "$REPORTER" -c "$TK_WORK/reporter2.conf" \
	--summary >"$TK_WORK/reporter2.out" 2>&1
rc=$?
[ $rc = 2 ] && grep -q "rootonly/events.db" "$TK_WORK/reporter2.out" &&
	! grep -Eq "Sanitizer|runtime error" "$TK_WORK/reporter2.out"
tk_ok $? "dmarc-reporter as nobody on a database it may not open: exit $rc with the path named"
[ $rc = 2 ] || tk_diag "$(head -n 5 "$TK_WORK/reporter2.out")"

########################################################################
# 5. The systemd units
########################################################################
if command -v systemd-analyze >/dev/null 2>&1 &&
	systemd-analyze security --help 2>/dev/null | grep -q -- --offline; then
	for unit in dmarc-milter dmarc-reporter; do
		f=$top_srcdir/contrib/$unit.service
		if [ ! -f "$f" ]; then
			tk_skip "$unit.service hardening" "not in contrib/ yet"
			continue
		fi
		# a copy whose ExecStart exists here (the exposure does not depend on it)
		sed -e 's|^ExecStart=[^ ]*|ExecStart=/bin/true|' "$f" >"$TK_WORK/$unit.service"
		level=$(timeout 60 systemd-analyze security --offline=yes "$TK_WORK/$unit.service" 2>/dev/null |
			sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
		hx_le "$level" 2.5
		tk_ok $? "$unit.service: systemd exposure level ${level:-?} (at most 2.5)"
	done
else
	tk_skip "systemd units hardening" "systemd-analyze security --offline not available"
fi
tk_done
