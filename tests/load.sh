#!/bin/sh
# load.sh - the volume attack, scaled, through the real path:
#   N_CLIENTS concurrent clients x N_MSGS messages of SIZE octets
#   -> openbsd-inetd (127.0.0.1:2525) -> smtpfe -> SPOOL/new
#   -> smtpfe -Q 1 (running meanwhile) and, at the same time, smtpfe -q
#   started again and again (a cron job; RUNNERS=1 turns it off), both on
#   the same spool -> Postfix sendmail -> local(8) -> /var/mail/rcpt1, rcpt2
# Every message must be delivered exactly once with its checksum intact,
# and nothing may stay in new/ or failed/.  Reports wall time, messages/s,
# MB/s and the peak spool size.
#
# Defaults are the full attack (50 x 20 x 1 MB = 1000 MB); CI runs a
# smaller one: N_CLIENTS=10 N_MSGS=5 SIZE=262144 sh tests/load.sh
# HANDOFF=smtp hands off by SMTP to a Postfix listener on 127.0.0.1:10025
# (smtpfe(8) DEPLOYMENT) instead of Postfix's sendmail.
# Root only: it configures the system Postfix (tests/e2e/postfix.sh) and
# restores it at the end.
set -eu
cd "$(dirname "$0")/.."
TOP=$(pwd)
E2E_DIR=$TOP/tests/e2e
. "$E2E_DIR/lib.sh"
. "$E2E_DIR/postfix.sh"

N_CLIENTS=${N_CLIENTS:-50}
N_MSGS=${N_MSGS:-20}
SIZE=${SIZE:-1048576}
DEADLINE=${DEADLINE:-1800}	# seconds for the whole delivery
RUNNERS=${RUNNERS:-2}
HANDOFF=${HANDOFF:-sendmail}	# or smtp: Postfix's 127.0.0.1:10025 listener

need_root_and_tools postfix postconf inetd python3 make useradd du
make -s smtpfe
SMTPFE_BIN=$TOP/smtpfe
E2E_MAX_SIZE=$((SIZE * 2 + 65536))
e2e_setup
QPID=""
SPID=""
CPID=""

cleanup() {
	rc=$?
	[ -z "$QPID" ] || kill "$QPID" 2>/dev/null || true
	[ -z "$SPID" ] || kill "$SPID" 2>/dev/null || true
	[ -z "$CPID" ] || kill "$CPID" 2>/dev/null || true
	postfix_restore
	mailbox_reset 2>/dev/null || true
	e2e_cleanup
	exit "$rc"
}
trap cleanup EXIT INT TERM

postfix_setup
if [ "$HANDOFF" = smtp ]; then
	postfix_listener
	echo "handoff = smtp:127.0.0.1:10025" >> "$E2E/smtpfe.conf"
fi
mailbox_reset
inetd_start

# The peak spool size, sampled every 0.2 s.
(
	peak=0
	while :; do
		s=$(du -sk "$SPOOL" 2>/dev/null | cut -f1)
		[ "${s:-0}" -gt "$peak" ] && peak=$s && echo "$peak" > "$E2E/peak"
		sleep 0.2
	done
) &
SPID=$!

"$SMTPFE_BIN" -Q 1 -f "$E2E/smtpfe.conf" 2> "$E2E/runner.err" &
QPID=$!
if [ "$RUNNERS" -ge 2 ]; then
	# The cron job: smtpfe -q over and over on the same spool.
	(
		while [ ! -e "$E2E/stop-cron" ]; do
			rc=0
			"$SMTPFE_BIN" -q -f "$E2E/smtpfe.conf" 2>>"$E2E/cron.err" ||
			    rc=$?
			case $rc in
			0|75) echo run >> "$E2E/cron.runs" ;;
			*) echo "smtpfe -q exit $rc" >> "$E2E/cron.bad" ;;
			esac
			sleep 0.2
		done
	) &
	CPID=$!
fi

say "load: $N_CLIENTS clients x $N_MSGS messages x $SIZE octets"
t0=$(date +%s.%N)
python3 "$E2E_DIR/load.py" "$E2E_PORT" "$N_CLIENTS" "$N_MSGS" "$SIZE" \
    "$E2E/load.json"
t1=$(date +%s.%N)

# Delivered: the spool is empty and Postfix holds nothing (bounded).
i=0
while :; do
	if [ "$(ls "$SPOOL/new" | wc -l)" = 0 ] && postfix_idle; then
		break
	fi
	i=$((i + 1))
	[ "$i" -lt $((DEADLINE * 5)) ] || die "not delivered in $DEADLINE s"
	sleep 0.2
done
t2=$(date +%s.%N)
if [ -n "$CPID" ]; then
	touch "$E2E/stop-cron"
	wait "$CPID" || true
	CPID=""
	[ ! -e "$E2E/cron.bad" ] || { cat "$E2E/cron.bad" "$E2E/cron.err" >&2;
	    die "the cron runner failed"; }
	say "load: the cron runner ran $(wc -l < "$E2E/cron.runs") times"
fi
kill -TERM "$QPID"
rc=0
wait "$QPID" || rc=$?
QPID=""
[ "$rc" = 0 ] || die "smtpfe -Q exit $rc after SIGTERM"
kill "$SPID" 2>/dev/null || true
wait "$SPID" 2>/dev/null || true
SPID=""

[ "$(ls "$SPOOL/new" | wc -l)" = 0 ] || die "messages left in new/"
[ "$(ls "$SPOOL/failed" | wc -l)" = 0 ] || die "messages in failed/"
python3 "$E2E_DIR/load_verify.py" "$E2E/load.json" /var/mail
python3 - "$t0" "$t1" "$t2" "$N_CLIENTS" "$N_MSGS" "$SIZE" \
    "$(cat "$E2E/peak" 2>/dev/null || echo 0)" <<'PY'
import sys
t0, t1, t2 = (float(x) for x in sys.argv[1:4])
nc, nm, size, peak = (int(x) for x in sys.argv[4:8])
n = nc * nm
mb = n * size / 1e6
print("load: %d messages, %.0f MB" % (n, mb))
print("load: accepted in %.1f s (%.1f msg/s, %.1f MB/s)"
      % (t1 - t0, n / (t1 - t0), mb / (t1 - t0)))
print("load: delivered in %.1f s wall (%.1f msg/s, %.1f MB/s)"
      % (t2 - t0, n / (t2 - t0), mb / (t2 - t0)))
print("load: peak spool size %.1f MB" % (peak / 1024.0))
PY
say "load: ok"
