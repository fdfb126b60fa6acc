#!/bin/sh
# run-sample.sh - "make run": serve on 127.0.0.1:2525 with a sample
# configuration and a spool under ./run, and run the runner beside it,
# so that a message sent in ends in the mailbox run/mailbox: no MTA is
# needed.  The runner (smtpfe -Q 60) hands each message off as soon as it
# is spooled, to contrib/mbox-sendmail in place of sendmail.
#
# Until Ctrl-C, or for RUN_FOR seconds when that is set (tests; RUN_PORT
# then picks another port).  Both processes are stopped by their PIDs.
set -eu
bin=${1:?usage: run-sample.sh /path/to/smtpfe}
top=$(pwd)/run
port=${RUN_PORT:-2525}
src=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$top/spool/tmp" "$top/spool/new" "$top/spool/failed"
touch "$top/mailbox"
user=$(id -un)
if [ "$(id -u)" = 0 ]; then
	# Started as root, smtpfe chroots to the spool and drops to "user".
	user=nobody
	chown nobody "$top/spool/tmp" "$top/spool/new" "$top/spool/failed" \
	    "$top/mailbox"
fi
chmod 700 "$top/spool/tmp" "$top/spool/new" "$top/spool/failed"
chmod 755 "$top"
chmod 600 "$top/mailbox"
# The runner gives its program a clean environment and sendmail's
# arguments: this wrapper names the mailbox.
cat > "$top/deliver" <<WRAP
#!/bin/sh
exec "$src/contrib/mbox-sendmail" -m "$top/mailbox" "\$@"
WRAP
chmod 755 "$top/deliver"
cat > "$top/smtpfe.conf" <<CONF
# A sample: mail for example.org is accepted from anyone, any domain
# from 127.0.0.0/8 and ::1.  See smtpfe.conf(5).
hostname = mx.example.org
spool = $top/spool
user = $user
local_domains = example.org
relay_networks = 127.0.0.0/8, ::1/128
greet_pause = 0
min_free_space = 1048576
# The runner hands messages to this stand-in for sendmail, which appends
# them to run/mailbox.  For a real MTA: sendmail = /usr/sbin/sendmail,
# or better handoff = smtp:127.0.0.1:10025 (smtpfe(8), DEPLOYMENT).
sendmail = $top/deliver
handoff = sendmail
CONF

lpid= rpid=
stop() {
	trap - EXIT INT TERM
	[ -z "$lpid" ] || kill -TERM "$lpid" 2>/dev/null || true
	[ -z "$rpid" ] || kill -TERM "$rpid" 2>/dev/null || true
	[ -z "$lpid" ] || wait "$lpid" 2>/dev/null || true
	[ -z "$rpid" ] || wait "$rpid" 2>/dev/null || true
	echo "smtpfe: stopped; $(grep -c '^From ' "$top/mailbox" || true)" \
	    "message(s) in $top/mailbox"
}
trap stop EXIT
trap 'exit 0' INT TERM

"$bin" -f "$top/smtpfe.conf" -Q 60 &
rpid=$!
"$bin" -f "$top/smtpfe.conf" -l "127.0.0.1:$port" &
lpid=$!
echo "smtpfe: serving on 127.0.0.1:$port; the runner delivers to" \
    "$top/mailbox (Ctrl-C stops)"
if [ -n "${RUN_FOR:-}" ]; then
	sleep "$RUN_FOR" &
	spid=$!
	wait "$spid" || true
else
	wait "$lpid" || true
fi
