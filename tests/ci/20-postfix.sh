#!/bin/sh
# 20-postfix.sh - CI stage: smtpfe end to end with the system Postfix.
#
#   swaks / python smtplib -> openbsd-inetd (private, 127.0.0.1:2525)
#   -> smtpfe (root: chroot to the spool, drop to nobody) -> SPOOL/new
#   -> smtpfe -q, then smtpfe -Q 1 (root: drop to nobody)
#   -> /usr/sbin/sendmail (Postfix) -> local(8) -> /var/mail/rcpt1, rcpt2
#
# Checks: every message delivered exactly once, byte for byte (a line of
# just ".", 8-bit octets, 1.8 MB of long lines), our Received: header
# right before it, Return-Path the envelope sender (a null sender:
# "<>", what Postfix's local(8) writes), nothing left in new/ or failed/,
# and -Q stops with 0 on SIGTERM.  Then a small tests/load.sh (10 clients
# x 10 messages x 256 KB) on port 2526.
#
# It configures the system Postfix for local delivery of example.org
# (postconf -e), starts it when it is not running, and restores main.cf
# and the running state at the end.  Users rcpt1 and rcpt2 are created
# when missing and removed again.
set -eu
cd "$(dirname "$0")/../.."
TOP=$(pwd)
E2E_DIR=$TOP/tests/e2e
. "$E2E_DIR/lib.sh"
. "$E2E_DIR/postfix.sh"

need_root_and_tools postfix postconf inetd swaks python3 make useradd
[ -x /usr/sbin/sendmail ] || die "/usr/sbin/sendmail missing"
/usr/sbin/sendmail -bV 2>/dev/null | grep -qi postfix ||
    postconf mail_version >/dev/null 2>&1 || die "sendmail is not Postfix's"

make -s smtpfe
SMTPFE_BIN=$TOP/smtpfe
e2e_setup

cleanup() {
	rc=$?
	[ -z "${QPID:-}" ] || kill "$QPID" 2>/dev/null || true
	postfix_restore
	[ "$rc" = 0 ] || { echo "--- inetd log"; tail -20 "$E2E/inetd.log";
	    echo "--- runner"; cat "$E2E/runner.err" 2>/dev/null; } >&2 || true
	e2e_cleanup
	exit "$rc"
}
trap cleanup EXIT INT TERM

say "configuring Postfix: local delivery for example.org"
postfix_setup
mailbox_reset

say "inetd on 127.0.0.1:$E2E_PORT"
inetd_start

say "round 1: send, then smtpfe -q"
python3 "$E2E_DIR/send.py" "$E2E_PORT" "$E2E/sent1.json"
n=$(ls "$SPOOL/new" | wc -l)
[ "$n" -gt 0 ] || die "nothing spooled"
run_runner
python3 "$E2E_DIR/verify.py" --wait 60 "$E2E/sent1.json" /var/mail "<>"

say "round 2: smtpfe -Q 1 running while mail arrives"
mailbox_reset
"$SMTPFE_BIN" -Q 1 -f "$E2E/smtpfe.conf" 2> "$E2E/runner.err" &
QPID=$!
python3 "$E2E_DIR/send.py" "$E2E_PORT" "$E2E/sent2.json"
python3 "$E2E_DIR/verify.py" --wait 60 "$E2E/sent2.json" /var/mail "<>"
kill -TERM "$QPID"
rc=0
wait "$QPID" || rc=$?
QPID=""
[ "$rc" = 0 ] || die "smtpfe -Q exit $rc after SIGTERM"
[ "$(ls "$SPOOL/new" | wc -l)" = 0 ] || die "messages left in new/"
[ "$(ls "$SPOOL/failed" | wc -l)" = 0 ] || die "messages in failed/"

say "round 3: a small load (tests/load.sh; the full one is run by hand)"
E2E_PORT=2526 N_CLIENTS=${LOAD_CLIENTS:-10} N_MSGS=${LOAD_MSGS:-10} \
    SIZE=${LOAD_SIZE:-262144} DEADLINE=600 sh "$TOP/tests/load.sh"
say "20-postfix: ok"
