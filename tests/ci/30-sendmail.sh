#!/bin/sh
# 30-sendmail.sh - CI stage: smtpfe end to end with Debian's sendmail.
#
# Replaces Postfix by sendmail-bin (they conflict), with our own minimal
# configuration (tests/e2e/sendmail.mc: a daemon on 127.0.0.1:25, local
# mbox delivery through procmail for example.org; tests/e2e/submit.mc:
# the submission program relays to it, and it is there, in submit.cf,
# that the runner's user nobody must be trusted: trusting it in
# sendmail.cf alone still gives an X-Authentication-Warning), then runs
# the checks of 20-postfix.sh: delivered exactly once, byte for byte,
# our Received: header, Return-Path the envelope sender (the null
# sender: "<MAILER-DAEMON>", what sendmail's local delivery writes), no
# X-Authentication-Warning.  Then the same by SMTP (handoff =
# smtp:127.0.0.1:10025, a second DaemonPortOptions in sendmail.mc), and
# -Q running while the sendmail daemon is stopped and started again:
# nothing lost or doubled.  At the end, always (tests/e2e/swap.sh):
# sendmail purged, Postfix reinstalled, /etc/postfix, /etc/aliases,
# /etc/mailname and /etc/hosts restored, Postfix running again only if it
# was running before.
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
SM_PIDFILE=/run/smtpfe-e2e-sendmail.pid

# sm_stop - the sendmail daemon we started, by its pid file
sm_stop() {
	if [ -s "$SM_PIDFILE" ]; then
		pid=$(head -1 "$SM_PIDFILE")
		kill "$pid" 2>/dev/null || true
		i=0
		while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		rm -f "$SM_PIDFILE"
	fi
}

PROCMAIL_PKG=procmail
dpkg -s procmail 2>/dev/null | grep -q "^Status: install ok installed" &&
    PROCMAIL_PKG=""

finish() {
	rc=$?
	set +e
	[ -z "${QPID:-}" ] || { kill "$QPID"; wait "$QPID"; }
	inetd_stop
	sm_stop
	# shellcheck disable=SC2086
	swap_end sendmail-bin sendmail-base sendmail-cf sensible-mda \
	    $PROCMAIL_PKG || rc=1
	e2e_cleanup
	exit "$rc"
}
trap finish EXIT INT TERM

say "replacing Postfix by sendmail"
swap_begin
hosts_fqdn
apt_install sendmail-bin sendmail-cf m4 procmail
case "$(readlink -f /usr/sbin/sendmail)" in
*/sendmail/sendmail) ;;
*) die "/usr/sbin/sendmail is not sendmail's: $(readlink -f /usr/sbin/sendmail)" ;;
esac
[ -x /usr/bin/procmail ] || die "procmail missing"

say "configuring sendmail (tests/e2e/sendmail.mc, submit.mc)"
m4 "$E2E_DIR/sendmail.mc" > "$SWAP/sendmail.cf"
m4 "$E2E_DIR/submit.mc" > "$SWAP/submit.cf"
install -m 644 "$SWAP/sendmail.cf" /etc/mail/sendmail.cf
install -m 644 "$SWAP/submit.cf" /etc/mail/submit.cf
[ -f /etc/aliases ] || echo "postmaster: root" > /etc/aliases
/usr/sbin/sendmail -bi >/dev/null 2>&1 || true
mkdir -p /run/sendmail/mta /run/sendmail/msp
chown smmta:smmta /run/sendmail/mta 2>/dev/null || true
chown smmsp:smmsp /run/sendmail/msp 2>/dev/null || true
/usr/sbin/sendmail -bd -q5s
i=0
until python3 "$E2E_DIR/smtpcheck.py" 127.0.0.1 25 >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -lt 150 ] || die "sendmail does not answer on 127.0.0.1:25"
	sleep 0.2
done

e2e_setup
mailbox_reset
inetd_start

say "send, then smtpfe -q"
python3 "$E2E_DIR/send.py" "$E2E_PORT" "$E2E/sent1.json"
run_runner
python3 "$E2E_DIR/verify.py" --wait 120 "$E2E/sent1.json" /var/mail \
    "<MAILER-DAEMON>"

say "handoff = smtp:127.0.0.1:10025 (a second DaemonPortOptions), smtpfe -q"
python3 "$E2E_DIR/smtpcheck.py" 127.0.0.1 10025 ||
    die "sendmail does not answer on 127.0.0.1:10025"
echo "handoff = smtp:127.0.0.1:10025" >> "$E2E/smtpfe.conf"
mailbox_reset
python3 "$E2E_DIR/send.py" "$E2E_PORT" "$E2E/sent2.json"
run_runner
python3 "$E2E_DIR/verify.py" --wait 120 "$E2E/sent2.json" /var/mail \
    "<MAILER-DAEMON>"

say "smtpfe -Q 1 by SMTP while sendmail is stopped and started again"
mailbox_reset
"$SMTPFE_BIN" -Q 1 -f "$E2E/smtpfe.conf" 2> "$E2E/runner.err" &
QPID=$!
python3 "$E2E_DIR/send.py" "$E2E_PORT" "$E2E/sent3a.json"
sm_stop
python3 "$E2E_DIR/send.py" "$E2E_PORT" "$E2E/sent3b.json"
sleep 2
held=$(ls "$SPOOL/new" | wc -l)
echo "   held in new/ while sendmail was down: $held"
# sendmail's children for open connections outlive the daemon: the
# kept connection may still carry mail after sm_stop.
/usr/sbin/sendmail -bd -q5s
i=0
until python3 "$E2E_DIR/smtpcheck.py" 127.0.0.1 10025 >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -lt 150 ] || die "sendmail does not answer on 127.0.0.1:10025"
	sleep 0.2
done
# Their back-off (five minutes) is over.
find "$SPOOL/new" -type f -exec touch -c -m -d "@$(($(date +%s) - 1))" {} +
python3 - "$E2E/sent3a.json" "$E2E/sent3b.json" "$E2E/sent3.json" <<'PY'
import json, sys
json.dump(json.load(open(sys.argv[1])) + json.load(open(sys.argv[2])),
          open(sys.argv[3], "w"))
PY
python3 "$E2E_DIR/verify.py" --wait 120 "$E2E/sent3.json" /var/mail \
    "<MAILER-DAEMON>"
kill -TERM "$QPID"
rc=0
wait "$QPID" || rc=$?
QPID=""
[ "$rc" = 0 ] || die "smtpfe -Q exit $rc after SIGTERM"
[ "$(ls "$SPOOL/new" | wc -l)" = 0 ] || die "messages left in new/"
[ "$(ls "$SPOOL/failed" | wc -l)" = 0 ] || die "messages in failed/"
say "30-sendmail: ok"
