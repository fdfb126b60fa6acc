#!/bin/sh
# 25-utf8.sh - CI stage: internationalized mail end to end (issue 12).
#
#   python smtplib from 127.0.0.2 (not a relay client), MAIL ... SMTPUTF8
#   -> openbsd-inetd (private, 127.0.0.1:2641) -> smtpfe (root: chroot,
#   drop to nobody) -> SPOOL/new ("Smtputf8: yes", "with UTF8SMTP")
#   -> smtpfe -q -> /usr/sbin/sendmail (Postfix, smtputf8_enable = yes)
#   -> virtual alias josé@exämple.org -> rcpt1, josé@xn--exmple-cua.org
#   -> rcpt2 -> local(8) -> /var/mail/rcpt1, rcpt2
#
# Checks: the UTF-8 recipient at a U-label domain is accepted from a
# stranger only because local_domains lists exämple.org (in U-label form)
# and the recipients file lists josé@xn--exmple-cua.org (A-label form);
# without SMTPUTF8 the same address is 553 5.6.7 through the real inetd;
# the spool file says Smtputf8: yes; both mailboxes get the message once,
# byte for byte after our Received: header, with Return-Path the UTF-8
# sender intact.  Then smtpfe -n against Postfix's sendmail (no EAI
# complaint) and against Debian's real sendmail 8.17 binary, fetched with
# "apt-get download sendmail-bin" and unpacked, never installed (the EAI
# complaint, exit 78).
#
# The system Postfix is configured (postconf -e, a virtual alias table in
# /etc/postfix/smtpfe-utf8-virtual) under the machine-wide lock
# /tmp/smtpfe-mta.lock, which this stage takes itself; main.cf, the
# running state and the table are restored at the end.  Users rcpt1 and
# rcpt2 are created when missing and removed again.
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
E2E_PORT=${UTF8_PORT:-2641}
. "$E2E_DIR/lib.sh"
. "$E2E_DIR/postfix.sh"

need_root_and_tools postfix postconf inetd python3 make useradd dpkg-deb \
    apt-get
/usr/sbin/sendmail -bV 2>/dev/null | grep -qi postfix ||
    postconf mail_version >/dev/null 2>&1 || die "sendmail is not Postfix's"
pv=$(postconf -h mail_version)
case $pv in
[012].*) die "Postfix $pv has no SMTPUTF8 (3.0 or later needed)" ;;
esac

make -s smtpfe
SMTPFE_BIN=$TOP/smtpfe
VIRTUAL=/etc/postfix/smtpfe-utf8-virtual
e2e_setup

cleanup() {
	rc=$?
	postfix_restore
	rm -f "$VIRTUAL"
	[ "$rc" = 0 ] || { echo "--- inetd log"; tail -20 "$E2E/inetd.log";
	    echo "--- runner"; cat "$E2E/runner.err" 2>/dev/null; } >&2 || true
	e2e_cleanup
	exit "$rc"
}
trap cleanup EXIT INT TERM

# A stranger (127.0.0.2) may send only to local domains; exämple.org is
# listed in U-label form, the recipients file in A-label form.
sed -i -e 's/^relay_networks = .*/relay_networks = 127.0.0.1\/32/' \
    -e 's/^local_domains = .*/local_domains = example.org, exämple.org/' \
    "$E2E/smtpfe.conf"
printf '%s\n' "josé@xn--exmple-cua.org" > "$E2E/recipients"
echo "recipients = $E2E/recipients" >> "$E2E/smtpfe.conf"
"$SMTPFE_BIN" -n -f "$E2E/smtpfe.conf" > "$E2E/n.out" 2>&1 ||
    { cat "$E2E/n.out" >&2; die "smtpfe -n on the stage's configuration"; }

say "configuring Postfix: smtputf8_enable = yes, a UTF-8 virtual alias"
postfix_setup
[ -f "$VIRTUAL" ] && die "$VIRTUAL exists already: not ours to replace"
cat > "$VIRTUAL" <<'MAP'
josé@exämple.org rcpt1@example.org
josé@xn--exmple-cua.org rcpt2@example.org
MAP
chmod 644 "$VIRTUAL"
postconf -e "smtputf8_enable = yes" "virtual_alias_maps = texthash:$VIRTUAL"
postfix reload >/dev/null
mailbox_reset

say "inetd on 127.0.0.1:$E2E_PORT"
inetd_start

say "smtplib from 127.0.0.2: MAIL FROM:<用户@例子.广告> SMTPUTF8"
python3 - "$E2E_PORT" "$E2E/sent.bin" <<'PY'
import os, smtplib, sys
port, out = int(sys.argv[1]), sys.argv[2]
sender = "\u7528\u6237@\u4f8b\u5b50.\u5e7f\u544a"
rcpts = ["jos\u00e9@ex\u00e4mple.org", "jos\u00e9@xn--exmple-cua.org"]
# Date: and Message-ID: given, so that Postfix adds no header of its own.
body = ("From: %s\r\nTo: %s\r\nSubject: gr\u00fc\u00dfe aus smtpfe\r\n"
        "Date: Mon, 7 Dec 2026 05:00:00 +0000\r\n"
        "Message-ID: <25-utf8.%d@smtpfe.example.org>\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n"
        "\u4f60\u597d, jos\u00e9: 25-utf8 end to end\r\n"
        % (sender, rcpts[0], os.getpid())).encode()
c = smtplib.SMTP(timeout=20, source_address=("127.0.0.2", 0))
c.connect("127.0.0.1", port)
c.ehlo("client.example.net")
if not c.has_extn("smtputf8"):
    sys.exit("SMTPUTF8 not offered: %r" % c.esmtp_features)
# Without the parameter, the real inetd path says 553 5.6.7.
c.send(("MAIL FROM:<%s>\r\n" % sender).encode())
code, msg = c.getreply()
if code != 553 or not msg.startswith(b"5.6.7"):
    sys.exit("MAIL without SMTPUTF8: %d %r" % (code, msg))
code, msg = c.docmd("RSET")
if c.sendmail(sender, rcpts, body, mail_options=["SMTPUTF8",
                                                 "BODY=8BITMIME"]):
    sys.exit("a recipient was refused")
c.quit()
open(out, "wb").write(body.replace(b"\r\n", b"\n"))
PY
n=$(ls "$SPOOL/new" | wc -l)
[ "$n" = 1 ] || die "expected one spool file, found $n"
f=$SPOOL/new/$(ls "$SPOOL/new")
grep -q '^Smtputf8: yes$' "$f" || die "spool file lacks Smtputf8: yes"
grep -q '^Sender: <用户@例子.广告>$' "$f" || die "spool file: sender"
grep -q ' with UTF8SMTP id ' "$f" || die "spool file: not 'with UTF8SMTP'"

say "smtpfe -q -> Postfix's sendmail"
run_runner

say "the mailboxes"
python3 - "$E2E/sent.bin" <<'PY'
import re, sys, time
body = open(sys.argv[1], "rb").read()
sender = "\u7528\u6237@\u4f8b\u5b50.\u5e7f\u544a".encode()
errors = []
for user, orig in (("rcpt1", "jos\u00e9@ex\u00e4mple.org"),
                   ("rcpt2", "jos\u00e9@xn--exmple-cua.org")):
    path = "/var/mail/" + user
    deadline = time.monotonic() + 60
    data = b""
    while time.monotonic() < deadline:
        data = open(path, "rb").read()
        if body in data:
            break
        time.sleep(0.2)
    time.sleep(0.5)
    data = open(path, "rb").read()
    if data.count(b"\nReturn-Path: <") + data.startswith(b"Return-Path: <") != 1:
        errors.append("%s: expected one message, got %r" % (path, data[:400]))
        continue
    if b"Return-Path: <" + sender + b">\n" not in data:
        errors.append("%s: Return-Path is not <%s>: %r"
                      % (path, sender.decode(), data[:300]))
    if ("X-Original-To: %s\n" % orig).encode() not in data:
        errors.append("%s: X-Original-To is not %s" % (path, orig))
    rx = (rb"Received: from client\.example\.net \(client\.example\.net "
          rb"\[127\.0\.0\.2\]\)\n\s+by smtpfe\.example\.org \(smtpfe\) with "
          rb"UTF8SMTP id [0-9a-f.]+\n\s+for <[^>]+>; [^\n]+\n")
    if not re.search(rx + re.escape(body), data):
        errors.append("%s: our Received: header and the message, byte for "
                      "byte, not found: %r" % (path, data[-800:]))
for e in errors:
    print("FAIL: " + e, file=sys.stderr)
sys.exit(1 if errors else 0)
PY

say "smtpfe -n: Postfix's sendmail takes UTF-8"
if grep -q "without EAI" "$E2E/n.out"; then
	die "smtpfe -n flags Postfix's sendmail: $(cat "$E2E/n.out")"
fi

say "smtpfe -n: Debian's sendmail 8.17 (unpacked, not installed) does not"
mkdir "$E2E/sm"
(cd "$E2E/sm" && apt-get download -q sendmail-bin >/dev/null 2>&1) ||
    die "apt-get download sendmail-bin failed"
dpkg-deb -x "$E2E"/sm/sendmail-bin_*.deb "$E2E/sm/x"
SMBIN=$E2E/sm/x/usr/libexec/sendmail/sendmail
[ -f "$SMBIN" ] || SMBIN=$(find "$E2E/sm/x" -type f -name sendmail | head -1)
[ -n "$SMBIN" ] && [ -f "$SMBIN" ] || die "no sendmail in sendmail-bin"
chmod 755 "$SMBIN"
SMTPFE="$SMTPFE_BIN" SMTPFE_DEBIAN_SENDMAIL=$SMBIN \
    python3 "$TOP/tests/session_utf8_test.py" -k '^ncheck\.' ||
    die "smtpfe -n against Debian's sendmail"
say "25-utf8: ok"
