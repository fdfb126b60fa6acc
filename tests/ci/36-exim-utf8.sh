#!/bin/sh
# 36-exim-utf8.sh - CI stage: internationalized mail through Exim (issue 12).
#
#   python smtplib from 127.0.0.2, MAIL ... SMTPUTF8 -> openbsd-inetd
#   (127.0.0.1:2642) -> smtpfe -> SPOOL/new -> smtpfe -q
#   -> /usr/sbin/sendmail (Exim 4.96, built with I18N: a UTF-8 address on
#   the command line turns SMTPUTF8 on) -> /etc/aliases josé ->
#   rcpt1@example.org -> /var/mail/rcpt1
#
# Checks: the message arrives once, after our Received: header (with
# UTF8SMTP), with the UTF-8 sender intact in Return-path; Exim's log marks
# it SMTPUTF8; nothing stays in Exim's queue.
#
# Replaces Postfix by exim4-daemon-light as 35-exim.sh does (no Exim
# daemon runs; the submission delivers at once), under the machine-wide
# lock /tmp/smtpfe-mta.lock, which this stage takes itself; at the end,
# always: Exim purged, Postfix reinstalled and its files restored
# (tests/e2e/swap.sh), /etc/aliases included.
# Run it plainly (bash tests/ci/NN-....sh): it re-runs itself under
# "flock /tmp/smtpfe-mta.lock".  Under an outer flock of that file, set
# SMTPFE_MTA_LOCKED=1, or the inner flock waits (at most 30 minutes) for
# the outer one.
set -eu
if [ -z "${SMTPFE_MTA_LOCKED:-}" ]; then
	command -v flock >/dev/null 2>&1 || { echo "FAIL: flock missing" >&2;
	    exit 1; }
	SMTPFE_MTA_LOCKED=1 exec flock -w 1800 /tmp/smtpfe-mta.lock sh "$0" "$@"
fi
cd "$(dirname "$0")/../.."
TOP=$(pwd)
E2E_DIR=$TOP/tests/e2e
E2E_PORT=${UTF8_EXIM_PORT:-2642}
. "$E2E_DIR/lib.sh"
. "$E2E_DIR/swap.sh"

need_root_and_tools apt-get dpkg debconf-set-selections inetd python3 make \
    useradd tar
make -s smtpfe
SMTPFE_BIN=$TOP/smtpfe

EXIM_USER_WAS=no
getent passwd Debian-exim >/dev/null && EXIM_USER_WAS=yes

finish() {
	rc=$?
	set +e
	[ "$rc" = 0 ] || { echo "--- runner"; cat "$E2E/runner.err";
	    echo "--- exim mainlog"; tail -20 /var/log/exim4/mainlog;
	    echo "--- exim paniclog"; cat /var/log/exim4/paniclog; } \
	    >&2 2>/dev/null
	inetd_stop
	swap_end exim4-daemon-light exim4-base exim4-config || rc=1
	rm -rf /var/spool/exim4 /var/log/exim4 /etc/exim4
	# Only once Exim is gone: dpkg's statoverride still names the group
	# while exim4-base is installed, and dpkg stops on a missing group.
	if [ "$EXIM_USER_WAS" = no ] && getent passwd Debian-exim >/dev/null &&
	    ! dpkg -s exim4-base >/dev/null 2>&1
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
/usr/sbin/exim4 -bV | grep -q "I18N" ||
    die "this Exim is built without I18N: $(/usr/sbin/exim4 -bV | head -3)"

say "configuring Exim: example.org local, josé an alias of rcpt1"
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
printf 'MAIN_TRUSTED_USERS = nobody\n' > /etc/exim4/exim4.conf.localmacros
update-exim4.conf
printf 'josé: rcpt1@example.org\n' >> /etc/aliases

e2e_setup
sed -i -e 's/^relay_networks = .*/relay_networks = 127.0.0.1\/32/' \
    "$E2E/smtpfe.conf"
mailbox_reset
inetd_start

say "smtplib from 127.0.0.2: MAIL FROM:<用户@例子.广告> SMTPUTF8"
python3 - "$E2E_PORT" "$E2E/sent.bin" <<'PY'
import os, smtplib, sys
port, out = int(sys.argv[1]), sys.argv[2]
sender = "\u7528\u6237@\u4f8b\u5b50.\u5e7f\u544a"
rcpts = ["jos\u00e9@example.org"]
body = ("From: %s\r\nTo: %s\r\nSubject: gr\u00fc\u00dfe\r\n"
        "Date: Mon, 7 Dec 2026 05:00:00 +0000\r\n"
        "Message-ID: <36-exim-i18n.%d@smtpfe.example.org>\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n"
        "\u4f60\u597d, jos\u00e9: 36-exim-utf8\r\n"
        % (sender, rcpts[0], os.getpid())).encode()
c = smtplib.SMTP(timeout=20, source_address=("127.0.0.2", 0))
c.connect("127.0.0.1", port)
c.ehlo("client.example.net")
if c.sendmail(sender, rcpts, body, mail_options=["SMTPUTF8",
                                                 "BODY=8BITMIME"]):
    sys.exit("a recipient was refused")
c.quit()
open(out, "wb").write(body.replace(b"\r\n", b"\n"))
PY

say "smtpfe -q -> Exim's sendmail"
run_runner

say "the mailbox"
python3 - "$E2E/sent.bin" <<'PY'
import re, sys, time
body = open(sys.argv[1], "rb").read()
sender = "\u7528\u6237@\u4f8b\u5b50.\u5e7f\u544a".encode()
path = "/var/mail/rcpt1"
deadline = time.monotonic() + 60
while time.monotonic() < deadline and body not in open(path, "rb").read():
    time.sleep(0.2)
time.sleep(0.5)
data = open(path, "rb").read()
errors = []
if data.count(b"\nReturn-path: ") + data.startswith(b"Return-path: ") != 1:
    errors.append("expected one message: %r" % data[:400])
if b"Return-path: <" + sender + b">\n" not in data:
    errors.append("Return-path is not <%s>: %r" % (sender.decode(), data[:400]))
rx = (rb"Received: from client\.example\.net \(client\.example\.net "
      rb"\[127\.0\.0\.2\]\)\n\s+by smtpfe\.example\.org \(smtpfe\) with "
      rb"UTF8SMTP id [0-9a-f.]+\n\s+for <[^>]+>; [^\n]+\n")
if not re.search(rx + re.escape(body), data):
    errors.append("our Received: header and the message, byte for byte, "
                  "not found: %r" % data[-800:])
for e in errors:
    print("FAIL: " + e, file=sys.stderr)
sys.exit(1 if errors else 0)
PY
n=$(/usr/sbin/exim4 -bpc)
[ "$n" = 0 ] || { /usr/sbin/exim4 -bp >&2; die "$n message(s) in Exim's queue"; }
# Exim's default log_selector does not show SMTPUTF8 on the "<=" line;
# the delivery above (UTF-8 sender and local part) is what counts.
grep " <= " /var/log/exim4/mainlog | grep -q "SMTPUTF8" ||
	echo "note: Exim's log line does not mark the message SMTPUTF8:" \
	    "$(grep ' <= ' /var/log/exim4/mainlog | head -1)"
say "36-exim-utf8: ok"
