#!/bin/sh
# 60-launchers.sh - CI stage: smtpfe under every launcher in contrib/,
# end to end, as root, with a real syslog daemon.
#
#   openbsd-inetd   contrib/inetd.conf      inetd -d -R 100000, 127.0.0.1:25700
#   tcpserver       contrib/tcpserver.run   (ucspi-tcp) 127.0.0.1:25701
#   xinetd          contrib/xinetd.smtpfe   xinetd -dontfork, 127.0.0.1:25702
#   systemd-socket-activate --accept --inetd (what smtpfe.socket's
#                   Accept=yes does), 127.0.0.1:25703
#
# and systemd-analyze verify on contrib/'s three units (systemd is
# installed for these two when missing, and left installed).
#
# Each launcher's configuration is made from the contrib/ file with only
# the address, port, program path and "-f CONF" changed.  Through each:
# a relay client (127.0.0.1) relays; a non-relay client (the client socket
# bound to 127.0.0.2; relay_networks = 127.0.0.1/32) gets 554 5.7.1 for a
# foreign domain and its local recipient is spooled with
# "Client: 127.0.0.2"; swaks does the same as a real client; the session
# runs chrooted to the spool as nobody (/proc/PID/root, uids, gids).
# syslog from inside the chroot: every transaction's summary line and the
# refusal line arrive at a real rsyslogd (ours on /dev/log, mail.* to a
# file of ours; or the system's, when one already owns /dev/log).
#
# xinetd conflicts with openbsd-inetd in Debian, so it is not installed:
# its package is fetched with "apt-get download" and unpacked under the
# work directory (its libraries are installed with apt-get, they do not
# conflict).  No system package is removed and no system service
# started; openbsd-inetd stays as it was.
#
# Stops only what it started, by PID (rsyslogd: the PID in its pid file);
# removes its work directory (SMTPFE_KEEP=1 keeps it).
set -eu
cd "$(dirname "$0")/../.."
TOP=$(pwd)
# shellcheck source=tests/launchers/lib.sh
. "$TOP/tests/launchers/lib.sh"

PORT_INETD=25700
PORT_TCPSERVER=25701
PORT_XINETD=25702
PORT_SYSTEMD=25703

need_root_and_tools inetd tcpserver swaks python3 rsyslogd logger \
    apt-get dpkg-deb make awk sed
export DEBIAN_FRONTEND=noninteractive

make -s smtpfe
SMTPFE_BIN=$TOP/smtpfe
work_setup

cleanup() {
	rc=$?
	set +e
	for p in $PIDS; do
		[ "$p" = "${SYSLOG_PID:-}" ] || stop_pid "$p"
	done
	syslog_stop
	if [ "$rc" != 0 ]; then
		for f in "$W"/*.log "$W"/*.out; do
			[ -f "$f" ] || continue
			echo "--- $f"
			tail -20 "$f"
		done >&2
	fi
	if [ -z "${SMTPFE_KEEP:-}" ]; then
		rm -rf "$W"
	else
		echo "kept $W" >&2
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

say "smtpfe -n on the test configuration"
"$SMTPFE_BIN" -n -f "$CONF" || die "smtpfe -n: the test setup is wrong"

syslog_start

# ---------------------------------------------------------------- inetd
say "openbsd-inetd on 127.0.0.1:$PORT_INETD (contrib/inetd.conf)"
awk -v addr="127.0.0.1:$PORT_INETD" -v bin="$SMTPFE_BIN" -v conf="$CONF" '
	/^#/ || NF == 0 { next }
	# the wait field keeps its name; the rate for a test is lifted
	{ $1 = addr; sub(/\..*/, "", $4); $4 = $4 ".100000"; $6 = bin;
	  print $0, "-f", conf }
    ' "$TOP/contrib/inetd.conf" > "$W/inetd.conf"
[ "$(wc -l < "$W/inetd.conf")" = 1 ] ||
    die "contrib/inetd.conf: want exactly one service line"
grep -q " nowait.100000 root $SMTPFE_BIN smtpfe -f " "$W/inetd.conf" ||
    { cat "$W/inetd.conf" >&2; die "contrib/inetd.conf: unexpected fields"; }
inetd -d -R 100000 "$W/inetd.conf" > "$W/inetd.log" 2>&1 &
INETD_PID=$!
track "$INETD_PID"
wait_greeting inetd "$PORT_INETD" "$INETD_PID" "$W/inetd.log"
check_launcher inetd "$PORT_INETD"
stop_pid "$INETD_PID"
check_syslog inetd

# ---------------------------------------------------------------- tcpserver
say "tcpserver on 127.0.0.1:$PORT_TCPSERVER (contrib/tcpserver.run)"
SMTPFE=$SMTPFE_BIN SMTPFE_ADDR=127.0.0.1 SMTPFE_PORT=$PORT_TCPSERVER \
    SMTPFE_CONF=$CONF "$TOP/contrib/tcpserver.run" > "$W/tcpserver.log" 2>&1 &
TCPSERVER_PID=$!	# the script execs tcpserver: the same process
track "$TCPSERVER_PID"
wait_greeting tcpserver "$PORT_TCPSERVER" "$TCPSERVER_PID" "$W/tcpserver.log"
check_launcher tcpserver "$PORT_TCPSERVER"
stop_pid "$TCPSERVER_PID"
check_syslog tcpserver

# ---------------------------------------------------------------- xinetd
if command -v xinetd >/dev/null 2>&1; then
	XINETD=$(command -v xinetd)
	say "xinetd: the installed $XINETD"
else
	say "xinetd: fetching the Debian package (not installing it)"
	apt_missing libselinux1 libtirpc3 libwrap0 netbase
	mkdir -m 777 "$W/xinetd-deb"	# apt's _apt user writes here
	(cd "$W/xinetd-deb" && apt-get download -qq xinetd) \
	    > "$W/xinetd-deb.out" 2>&1 ||
	    { cat "$W/xinetd-deb.out" >&2; die "apt-get download xinetd"; }
	set -- "$W"/xinetd-deb/xinetd_*.deb
	[ -f "$1" ] || die "apt-get download xinetd: no .deb"
	dpkg-deb -x "$1" "$W/xinetd-root" || die "dpkg-deb -x $1"
	XINETD=$W/xinetd-root/usr/sbin/xinetd
	[ -x "$XINETD" ] || die "no usr/sbin/xinetd in $1"
	say "xinetd: $(basename "$1"), $("$XINETD" -version 2>&1 | head -1)"
fi
say "xinetd on 127.0.0.1:$PORT_XINETD (contrib/xinetd.smtpfe)"
sed -e "s|/usr/local/libexec/smtpfe|$SMTPFE_BIN|" \
    -e "/^}/i\\
        type            = UNLISTED\\
        port            = $PORT_XINETD\\
        bind            = 127.0.0.1\\
        server_args     = -f $CONF\\
        flags           = REUSE\\
        log_type        = FILE $W/xinetd-service.log" \
    "$TOP/contrib/xinetd.smtpfe" > "$W/xinetd.conf"
grep -q "server *= $SMTPFE_BIN\$" "$W/xinetd.conf" ||
    { cat "$W/xinetd.conf" >&2; die "contrib/xinetd.smtpfe: no server line"; }
grep -q "^ *port *= $PORT_XINETD\$" "$W/xinetd.conf" ||
    { cat "$W/xinetd.conf" >&2; die "contrib/xinetd.smtpfe: no closing }"; }
"$XINETD" -dontfork -f "$W/xinetd.conf" > "$W/xinetd.log" 2>&1 &
XINETD_PID=$!
track "$XINETD_PID"
wait_greeting xinetd "$PORT_XINETD" "$XINETD_PID" "$W/xinetd.log"
check_launcher xinetd "$PORT_XINETD"
stop_pid "$XINETD_PID"
check_syslog xinetd

# ------------------------------------------------- systemd
# Not in the base set of a container: install it (it does not become the
# init; nothing is started) for systemd-analyze and
# systemd-socket-activate.  It is left installed.
if ! command -v systemd-analyze >/dev/null 2>&1; then
	apt_missing systemd
fi
command -v systemd-analyze >/dev/null 2>&1 ||
    die "systemd-analyze missing: the units in contrib/ were NOT checked"
say "systemd-analyze verify contrib/smtpfe.socket smtpfe@.service" \
    "smtpfe-runner.service"
mkdir "$W/units"
for u in smtpfe.socket smtpfe@.service smtpfe-runner.service; do
	# verify wants the program to exist: point it at the build
	sed "s|/usr/local/libexec/smtpfe|$SMTPFE_BIN|" "$TOP/contrib/$u" \
	    > "$W/units/$u"
done
rc=0
out=$(systemd-analyze verify "$W/units/smtpfe.socket" \
    "$W/units/smtpfe@.service" "$W/units/smtpfe-runner.service" 2>&1) ||
    rc=$?
if [ "$rc" != 0 ] || [ -n "$out" ]; then
	die "systemd-analyze verify: exit $rc: $out"
fi

command -v systemd-socket-activate >/dev/null 2>&1 ||
    die "systemd-socket-activate missing (package systemd)"
say "systemd-socket-activate --accept --inetd on 127.0.0.1:$PORT_SYSTEMD" \
    "(what smtpfe.socket's Accept=yes does)"
systemd-socket-activate -l "127.0.0.1:$PORT_SYSTEMD" --accept \
    --inetd "$SMTPFE_BIN" -f "$CONF" > "$W/systemd.log" 2>&1 &
SYSTEMD_PID=$!
track "$SYSTEMD_PID"
wait_greeting systemd "$PORT_SYSTEMD" "$SYSTEMD_PID" "$W/systemd.log"
check_launcher systemd "$PORT_SYSTEMD"
stop_pid "$SYSTEMD_PID"
check_syslog systemd
nl=4

# ------------------------------------------------- the spool at the end
n=$(find "$SPOOL/new" -type f | wc -l)
[ "$n" = $((nl * 3)) ] || die "$n files in new/, want $((nl * 3))"
[ -z "$(ls -A "$SPOOL/tmp")" ] || die "files left in tmp/"
[ -z "$(ls -A "$SPOOL/failed")" ] || die "files in failed/"
say "60-launchers: ok ($nl launchers, $n messages, syslog: $SYSLOG_MODE)"
