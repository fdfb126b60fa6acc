#!/bin/sh
# 35-exim.sh - CI stage: smtpfe end to end with Debian's Exim.
#
# Replaces Postfix by exim4-daemon-light configured for local delivery
# only (example.org delivered to /var/mail), Debian's permissive
# untrusted_set_sender turned off (MAIN_FORCE_SENDER) and the runner's
# user nobody in trusted_users, so that only that trust keeps
# "-f SENDER"; no Exim daemon runs: the submission delivers at once.
# Then the checks of 20-postfix.sh (the null sender: "Return-path: <>",
# what Exim's appendfile writes), no Sender:/X-Authentication-Warning,
# nothing left in Exim's queue, no option taken for a recipient.  Then
# the same by SMTP (handoff = smtp:127.0.0.1:10025, an Exim daemon on that
# loopback port) and -Q running while that daemon is stopped and started
# again: nothing lost or doubled.  At the end, always: Exim
# purged, Postfix reinstalled and its files restored (tests/e2e/swap.sh).
set -eu
cd "$(dirname "$0")/../.."
TOP=$(pwd)
E2E_DIR=$TOP/tests/e2e
. "$E2E_DIR/lib.sh"
. "$E2E_DIR/swap.sh"

need_root_and_tools apt-get dpkg debconf-set-selections inetd swaks python3 \
    make useradd tar
make -s smtpfe
SMTPFE_BIN=$TOP/smtpfe

EXIM_USER_WAS=no
getent passwd Debian-exim >/dev/null && EXIM_USER_WAS=yes

# exim_stop - the Exim daemon we started, by its pid file
exim_stop() {
	if [ -s "${EXIM_PIDFILE:-}" ]; then
		pid=$(head -1 "$EXIM_PIDFILE")
		kill "$pid" 2>/dev/null || true
		i=0
		while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		rm -f "$EXIM_PIDFILE"
	fi
}

finish() {
	rc=$?
	set +e
	[ -z "${QPID:-}" ] || { kill "$QPID"; wait "$QPID"; }
	exim_stop
	inetd_stop
	swap_end exim4-daemon-light exim4-base exim4-config || rc=1
	rm -rf /var/spool/exim4 /var/log/exim4 /etc/exim4
	# The purge keeps the system user exim4-base made; we made it, so go.
	if [ "$EXIM_USER_WAS" = no ] && getent passwd Debian-exim >/dev/null
	then
		userdel Debian-exim
		getent group Debian-exim >/dev/null && groupdel Debian-exim
	fi
	e2e_cleanup
	exit "$rc"
}
trap finish EXIT INT TERM

say "replacing Postfix by Exim"
swap_begin
hosts_fqdn
echo "exim4-config exim4/dc_eximconfig_configtype select local delivery only; not on a network" |
    debconf-set-selections
apt_install exim4-daemon-light

say "configuring Exim: local delivery of example.org, nobody trusted"
cat > /etc/exim4/update-exim4.conf.conf <<CONF
dc_eximconfig_configtype='local'
dc_other_hostnames='example.org'
dc_local_interfaces='127.0.0.1'
dc_readhost=''
dc_relay_domains=''
dc_minimaldns='true'
dc_relay_nets=''
dc_smarthost=''
CFILEMODE='644'
dc_use_split_config='false'
dc_hide_mailname=''
dc_mailname_in_oh='true'
dc_localdelivery='mail_spool'
CONF
# MAIN_FORCE_SENDER undoes Debian's "untrusted_set_sender = *", so that
# only the trust given to nobody keeps the sender (what smtpfe.8 says).
printf 'MAIN_FORCE_SENDER = 1\nMAIN_TRUSTED_USERS = nobody\n' \
    > /etc/exim4/exim4.conf.localmacros
update-exim4.conf
/usr/sbin/exim4 -bV >/dev/null || die "exim4 -bV"

e2e_setup
mailbox_reset
inetd_start

say "send, then smtpfe -q"
python3 "$E2E_DIR/send.py" "$E2E_PORT" "$E2E/sent1.json"
run_runner
python3 "$E2E_DIR/verify.py" --wait 120 "$E2E/sent1.json" /var/mail "<>"
# Nothing queued or frozen (a bounce would be), no stray recipient.
n=$(/usr/sbin/exim4 -bpc)
[ "$n" = 0 ] || { /usr/sbin/exim4 -bp >&2; die "$n message(s) in Exim's queue"; }
log=/var/log/exim4/mainlog
n=$(grep -c " <= " "$log") || die "no Exim log at $log"
[ "$n" -ge 6 ] || die "Exim logged $n messages received, want 6"
if grep -i "8bitmime@\|-B@\|--@" "$log" >&2; then
	die "an option was read as a recipient"
fi

say "handoff = smtp:127.0.0.1:10025 (an Exim daemon on a loopback port)"
EXIM_PIDFILE=/run/smtpfe-e2e-exim.pid
exim_start() {
	/usr/sbin/exim4 -bd -oX 10025 -oP "$EXIM_PIDFILE"
	i=0
	until python3 "$E2E_DIR/smtpcheck.py" 127.0.0.1 10025 >/dev/null 2>&1
	do
		i=$((i + 1))
		[ $i -lt 100 ] || die "Exim does not answer on 127.0.0.1:10025"
		sleep 0.2
	done
}
exim_start
echo "handoff = smtp:127.0.0.1:10025" >> "$E2E/smtpfe.conf"
mailbox_reset
python3 "$E2E_DIR/send.py" "$E2E_PORT" "$E2E/sent2.json"
run_runner
python3 "$E2E_DIR/verify.py" --wait 120 "$E2E/sent2.json" /var/mail "<>"

say "smtpfe -Q 1 by SMTP while Exim is stopped and started again"
mailbox_reset
"$SMTPFE_BIN" -Q 1 -f "$E2E/smtpfe.conf" 2> "$E2E/runner.err" &
QPID=$!
python3 "$E2E_DIR/send.py" "$E2E_PORT" "$E2E/sent3a.json"
exim_stop
python3 "$E2E_DIR/send.py" "$E2E_PORT" "$E2E/sent3b.json"
sleep 2
echo "   held in new/ while Exim was down: $(ls "$SPOOL/new" | wc -l)"
exim_start
# Their back-off (five minutes) is over.
find "$SPOOL/new" -type f -exec touch -c -m -d "@$(($(date +%s) - 1))" {} +
python3 - "$E2E/sent3a.json" "$E2E/sent3b.json" "$E2E/sent3.json" <<'PY'
import json, sys
json.dump(json.load(open(sys.argv[1])) + json.load(open(sys.argv[2])),
          open(sys.argv[3], "w"))
PY
python3 "$E2E_DIR/verify.py" --wait 120 "$E2E/sent3.json" /var/mail "<>"
kill -TERM "$QPID"
rc=0
wait "$QPID" || rc=$?
QPID=""
[ "$rc" = 0 ] || die "smtpfe -Q exit $rc after SIGTERM"
[ "$(ls "$SPOOL/new" | wc -l)" = 0 ] || die "messages left in new/"
[ "$(ls "$SPOOL/failed" | wc -l)" = 0 ] || die "messages in failed/"
n=$(/usr/sbin/exim4 -bpc)
[ "$n" = 0 ] || { /usr/sbin/exim4 -bp >&2; die "$n message(s) in Exim's queue"; }
say "35-exim: ok"
