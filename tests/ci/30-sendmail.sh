#!/bin/sh
# 30-sendmail.sh - CI stage: smtpfe end to end with Debian's sendmail.
#
# Replaces Postfix by sendmail-bin (they conflict), with our own minimal
# configuration (tests/e2e/sendmail.mc: a daemon on 127.0.0.1:25, local
# mbox delivery for example.org; tests/e2e/submit.mc: the submission
# program relays to it; the runner's user nobody is trusted), then runs
# the same checks as 20-postfix.sh: delivered exactly once, byte for
# byte, our Received: header, Return-Path the envelope sender (the null
# sender: "<MAILER-DAEMON>", what sendmail's local delivery writes), no
# X-Authentication-Warning.  At the end, always: sendmail purged, Postfix
# reinstalled, /etc/postfix, /etc/aliases, /etc/mailname and /etc/hosts
# restored, Postfix running again only if it was running before.
set -eu
cd "$(dirname "$0")/../.."
TOP=$(pwd)
E2E_DIR=$TOP/tests/e2e
. "$E2E_DIR/lib.sh"

need_root_and_tools apt-get dpkg debconf-set-selections inetd swaks python3 \
    make useradd tar
make -s smtpfe
SMTPFE_BIN=$TOP/smtpfe
STATE=$(mktemp -d /tmp/smtpfe-sendmail-state.XXXXXX)
SM_PIDFILE=/run/smtpfe-e2e-sendmail.pid
POLICY_CREATED=no
POSTFIX_WAS_RUNNING=no
SWAPPED=no
export DEBIAN_FRONTEND=noninteractive

# apt_install - install, updating the package lists once if needed
apt_install() {
	apt-get install -y -qq "$@" >"$STATE/apt.log" 2>&1 || {
		apt-get update -qq >/dev/null 2>&1 || true
		apt-get install -y -qq "$@" >"$STATE/apt.log" 2>&1 ||
		    { cat "$STATE/apt.log" >&2; return 1; }
	}
}

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

restore() {
	rc=$?
	set +e
	inetd_stop
	sm_stop
	if [ "$SWAPPED" = yes ]; then
		say "restoring Postfix"
		echo "postfix postfix/main_mailer_type select Local only" |
		    debconf-set-selections
		apt_install postfix || echo "FAIL: cannot reinstall postfix" >&2
		apt-get purge -y -qq sendmail-bin sendmail-base sendmail-cf \
		    sensible-mda >/dev/null 2>&1
		rm -rf /etc/postfix
		tar -C / -xpf "$STATE/etc.tar"
		newaliases
	fi
	cat "$STATE/hosts" > /etc/hosts
	[ "$POLICY_CREATED" = no ] || rm -f /usr/sbin/policy-rc.d
	if [ "$POSTFIX_WAS_RUNNING" = yes ]; then
		postfix start >/dev/null 2>&1
	fi
	if ! dpkg -s postfix 2>/dev/null | grep -q "^Status: install ok"; then
		echo "FAIL: postfix is not installed after the stage" >&2
		rc=1
	fi
	e2e_cleanup
	rm -rf "$STATE"
	exit "$rc"
}
trap restore EXIT INT TERM

say "saving the Postfix configuration"
postfix status >/dev/null 2>&1 && POSTFIX_WAS_RUNNING=yes
saved=""
for f in etc/postfix etc/aliases etc/aliases.db etc/mailname; do
	[ -e "/$f" ] && saved="$saved $f"
done
# shellcheck disable=SC2086
tar -C / -cpf "$STATE/etc.tar" $saved
cp -p /etc/hosts "$STATE/hosts"

# sendmail sleeps a minute at start when the host name has no dot.
host=$(hostname)
case "$(getent hosts "$host" | awk '{print $2}')" in
*.*) ;;
*) { echo "127.0.1.1 $host.example.org $host"; cat "$STATE/hosts"; } \
    > /etc/hosts ;;
esac

# No daemon may start from the packages' scripts: we start our own.
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
	POLICY_CREATED=yes
fi

say "replacing Postfix by sendmail"
[ "$POSTFIX_WAS_RUNNING" = no ] || postfix stop >/dev/null 2>&1 || true
SWAPPED=yes
apt_install sendmail-bin sendmail-cf m4
[ -x /usr/libexec/sendmail/mail.local ] || die "mail.local missing"

say "configuring sendmail (tests/e2e/sendmail.mc, submit.mc)"
m4 "$E2E_DIR/sendmail.mc" > "$STATE/sendmail.cf"
m4 "$E2E_DIR/submit.mc" > "$STATE/submit.cf"
install -m 644 "$STATE/sendmail.cf" /etc/mail/sendmail.cf
install -m 644 "$STATE/submit.cf" /etc/mail/submit.cf
: > /etc/mail/local-host-names
[ -f /etc/aliases ] || echo "postmaster: root" > /etc/aliases
/usr/sbin/sendmail -bi >/dev/null 2>&1 || newaliases || true
/usr/sbin/sendmail -bd -q5s
i=0
until python3 "$E2E_DIR/smtpcheck.py" 127.0.0.1 25 >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -lt 100 ] || die "sendmail does not answer on 127.0.0.1:25"
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
say "30-sendmail: ok"
