#!/bin/sh
# 65-tls.sh - CI stage: STARTTLS end to end (issue 10).
#
#   swaks --tls, openssl s_client -starttls smtp, and a private Postfix
#   instance (smtp_tls_security_level = encrypt, relayhost smtpfe)
#   -> openbsd-inetd (private, 127.0.0.1:2621) -> smtpfe (root: fork the
#   TLS parent, chroot the session, drop to nobody) -> stunnel4 ->
#   SPOOL/new -> smtpfe -q -> the system Postfix -> /var/mail/rcpt1, rcpt2
#
# Checks: the handshakes verify against the test's own CA-less self-signed
# EC certificate (SAN smtpfe.example.org), every spooled message and every
# delivered one carries "with ESMTPS" in smtpfe's Received: line, the
# private Postfix logs "TLS connection established" to smtpfe, and
# testssl.sh --starttls smtp finds no SSLv3, TLS 1.0 or 1.1, no weak
# cipher category, and no vulnerability (its summary is printed; the
# cert_* findings are about the self-signed test certificate and are
# not judged).  About 50 s, testssl 30 s of it.
#
# The system Postfix is configured and restored under the machine-wide
# lock /tmp/smtpfe-mta.lock (tests/e2e/postfix.sh), only for the hand-off
# and delivery; the private Postfix lives under the work directory
# (its own config, queue and data directories) on 127.0.0.1:2622 and is
# stopped with "postfix -c DIR stop".  Everything is stopped by PID.
set -eu
cd "$(dirname "$0")/../.."
TOP=$(pwd)
E2E_DIR=$TOP/tests/e2e
. "$E2E_DIR/lib.sh"
. "$E2E_DIR/postfix.sh"

E2E_PORT=2621
PF_PORT=2622
export DEBIAN_FRONTEND=noninteractive
[ "$(id -u)" = 0 ] || die "must run as root"
apt-get install -y -qq stunnel4 testssl.sh openssl swaks openbsd-inetd \
    python3 >/dev/null || die "apt-get install"
need_root_and_tools inetd swaks openssl stunnel4 testssl postfix postconf \
    python3 make flock
[ -x /usr/sbin/sendmail ] || die "/usr/sbin/sendmail missing"

make -s smtpfe
SMTPFE_BIN=$TOP/smtpfe
e2e_setup
PF=$E2E/pf

cleanup() {
	rc=$?
	set +e
	if [ -f "$PF/etc/main.cf" ]; then
		postfix -c "$PF/etc" stop >/dev/null 2>&1
	fi
	# main.cf.orig exists only while this script holds the lock (fd 9).
	[ ! -f "$E2E/main.cf.orig" ] || postfix_restore
	[ "$rc" = 0 ] || { echo "--- inetd log"; tail -20 "$E2E/inetd.log";
	    echo "--- private postfix log"; tail -20 "$PF/maillog" 2>/dev/null;
	    echo "--- runner"; cat "$E2E/runner.err" 2>/dev/null; } >&2
	e2e_cleanup
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# ------------------------------------------------------------ certificate
say "a self-signed EC certificate for smtpfe.example.org"
chmod 711 "$E2E"
mkdir -m 755 "$E2E/tls"
CERT=$E2E/tls/cert.pem
KEY=$E2E/tls/key.pem
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$KEY" -out "$CERT" -days 2 -subj /CN=smtpfe.example.org \
    -addext subjectAltName=DNS:smtpfe.example.org 2>/dev/null ||
    die "openssl req"
chown nobody "$KEY"
chmod 600 "$KEY"
chmod 644 "$CERT"
cat >> "$E2E/smtpfe.conf" <<CONF
tls_cert = $CERT
tls_key = $KEY
CONF
"$SMTPFE_BIN" -n -f "$E2E/smtpfe.conf" || die "smtpfe -n with TLS"

say "inetd on 127.0.0.1:$E2E_PORT"
inetd_start

# ------------------------------------------------------------ swaks
say "swaks --tls"
swaks --server 127.0.0.1:$E2E_PORT --tls --tls-verify --tls-ca-path "$CERT" \
    --helo client.example.net --from sender@example.net \
    --to rcpt1@example.org --header "X-E2E: swaks" \
    > "$E2E/swaks.out" 2>&1 || { cat "$E2E/swaks.out" >&2; die "swaks --tls"; }
grep -q '^=== TLS started' "$E2E/swaks.out" ||
    { cat "$E2E/swaks.out" >&2; die "swaks: no TLS"; }
grep -q '<~  250 2.0.0 queued as' "$E2E/swaks.out" ||
    { cat "$E2E/swaks.out" >&2; die "swaks: not queued over TLS"; }
grep '=== TLS started' "$E2E/swaks.out"

# ------------------------------------------------------------ s_client
say "openssl s_client -starttls smtp"
{
	sleep 1; printf 'EHLO client.example.net\n'
	sleep 0.5; printf 'MAIL FROM:<sender@example.net>\n'
	sleep 0.3; printf 'RCPT TO:<rcpt2@example.org>\n'
	sleep 0.3; printf 'DATA\n'
	sleep 0.3; printf 'Subject: s_client\nX-E2E: s_client\n\nhello\n.\n'
	sleep 0.5; printf 'QUIT\n'
	sleep 0.5
} | timeout 20 openssl s_client -starttls smtp -crlf -ign_eof \
    -connect 127.0.0.1:$E2E_PORT -servername smtpfe.example.org \
    -CAfile "$CERT" -verify_return_error > "$E2E/s_client.out" 2>&1 ||
    { cat "$E2E/s_client.out" >&2; die "openssl s_client"; }
grep -q 'Verify return code: 0 (ok)' "$E2E/s_client.out" ||
    { cat "$E2E/s_client.out" >&2; die "s_client: certificate not verified"; }
grep -q '^250 2.0.0 queued as' "$E2E/s_client.out" ||
    { cat "$E2E/s_client.out" >&2; die "s_client: not queued"; }
grep -q '^221 2.0.0' "$E2E/s_client.out" ||
    { cat "$E2E/s_client.out" >&2; die "s_client: no 221"; }
grep -E '^(New|Protocol|    Protocol|    Cipher)' "$E2E/s_client.out" | sort -u

# ------------------------------------------------------------ Postfix, encrypt
say "a private Postfix (smtp_tls_security_level = encrypt) relaying to smtpfe"
mkdir -p "$PF/etc" "$PF/queue" "$PF/data"
chown postfix "$PF/data"
cat > "$PF/etc/main.cf" <<CONF
# written by tests/ci/65-tls.sh: a private instance, relays to smtpfe
compatibility_level = 3.6
config_directory = $PF/etc
queue_directory = $PF/queue
data_directory = $PF/data
syslog_name = postfix-tlsci
maillog_file = $PF/maillog
maillog_file_prefixes = $PF
myhostname = client.example.net
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost = [127.0.0.1]:$E2E_PORT
smtp_tls_security_level = encrypt
smtp_tls_CAfile = $CERT
smtp_tls_loglevel = 1
smtp_dns_support_level = disabled
smtpd_peername_lookup = no
alias_maps =
alias_database =
biff = no
CONF
cat > "$PF/etc/master.cf" <<CONF
127.0.0.1:$PF_PORT inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
postlog   unix-dgram n  -       n       -       1       postlogd
CONF
postfix -c "$PF/etc" start > "$E2E/pf-start.out" 2>&1 ||
    { cat "$E2E/pf-start.out" "$PF/maillog" >&2 2>/dev/null;
    die "private postfix start"; }
swaks --server 127.0.0.1:$PF_PORT --helo client.example.net \
    --from sender@example.net --to rcpt1@example.org \
    --header "X-E2E: postfix-encrypt" > "$E2E/swaks-pf.out" 2>&1 ||
    { cat "$E2E/swaks-pf.out" >&2; die "swaks to the private postfix"; }
i=0
while [ $i -lt 100 ] && [ "$(ls "$SPOOL/new" | wc -l)" -lt 3 ]; do
	sleep 0.2
	i=$((i + 1))
done
[ "$(ls "$SPOOL/new" | wc -l)" = 3 ] ||
    { tail -30 "$PF/maillog" >&2; die "the private postfix did not relay"; }
grep -E 'TLS connection established to 127\.0\.0\.1\[127\.0\.0\.1\]:'"$E2E_PORT" \
    "$PF/maillog" ||
    { tail -30 "$PF/maillog" >&2; die "no 'TLS connection established'"; }
grep -E 'status=sent' "$PF/maillog" | tail -1
postfix -c "$PF/etc" stop >/dev/null 2>&1 || true

# ------------------------------------------------------------ the spool
say "every spooled message says 'with ESMTPS'"
for f in "$SPOOL"/new/*; do
	grep -q '(smtpfe) with ESMTPS id' "$f" ||
	    { head -20 "$f" >&2; die "$f: no 'with ESMTPS'"; }
done

# ------------------------------------------------------------ testssl.sh
say "testssl --starttls smtp (protocols, cipher categories, vulnerabilities)"
TS_START=$(date +%s)
testssl --starttls smtp --quiet --color 0 --warnings off --openssl-timeout 5 \
    -p -s -f -U --jsonfile "$E2E/testssl.json" \
    127.0.0.1:$E2E_PORT > "$E2E/testssl.out" 2>&1 || true
echo "testssl took $(( $(date +%s) - TS_START )) s"
[ -s "$E2E/testssl.json" ] || { cat "$E2E/testssl.out" >&2; die "testssl: no JSON"; }
python3 - "$E2E/testssl.json" <<'PY' || die "testssl found problems"
import json, sys
found = json.load(open(sys.argv[1]))
by = {f["id"]: f for f in found}
bad = []
for pid in ("SSLv2", "SSLv3", "TLS1", "TLS1_1"):
    f = by.get(pid)
    if f is None or "not offered" not in f["finding"]:
        bad.append("%s: %s" % (pid, f and f["finding"]))
for pid in ("TLS1_2", "TLS1_3"):
    f = by.get(pid)
    if f is None or not f["finding"].startswith("offered"):
        bad.append("%s: %s" % (pid, f and f["finding"]))
for pid in ("cipherlist_NULL", "cipherlist_aNULL", "cipherlist_EXPORT",
            "cipherlist_LOW", "cipherlist_3DES_IDEA", "cipherlist_AVERAGE"):
    f = by.get(pid)
    if f is None or "not offered" not in f["finding"]:
        bad.append("%s: %s" % (pid, f and f["finding"]))
vulns = ("heartbleed", "CCS", "ticketbleed", "ROBOT",
         "secure_renego", "secure_client_renego", "CRIME_TLS", "POODLE_SSL",
         "fallback_SCSV", "SWEET32", "FREAK", "DROWN", "LOGJAM",
         "BEAST", "LUCKY13", "RC4")
for f in found:
    sev = f.get("severity", "")
    if f["id"] in vulns or f["id"].startswith("cipherlist_"):
        print("  %-22s %-8s %s" % (f["id"], sev, f["finding"]))
    if sev in ("MEDIUM", "HIGH", "CRITICAL") and \
            not f["id"].startswith("cert_"):
        bad.append("%s (%s): %s" % (f["id"], sev, f["finding"]))
for pid in ("SSLv3", "TLS1", "TLS1_1", "TLS1_2", "TLS1_3", "FS"):
    if pid in by:
        print("  %-22s %-8s %s" % (pid, by[pid].get("severity", ""),
                                   by[pid]["finding"]))
missing = [v for v in ("heartbleed", "CCS", "ROBOT", "secure_renego",
                       "CRIME_TLS", "POODLE_SSL", "SWEET32", "FREAK",
                       "LOGJAM", "BEAST", "LUCKY13", "RC4") if v not in by]
if missing:
    bad.append("testssl did not report: %s" % ", ".join(missing))
for b in bad:
    print("PROBLEM: " + b)
sys.exit(1 if bad else 0)
PY

# ------------------------------------------------------------ hand-off
say "smtpfe -q -> the system Postfix (under /tmp/smtpfe-mta.lock)"
exec 9> /tmp/smtpfe-mta.lock
flock 9
# Another stage may have removed rcpt1/rcpt2 since e2e_setup (they are
# shared by name): make sure they exist while the lock is held.
for u in $E2E_USERS; do
	if ! getent passwd "$u" >/dev/null; then
		useradd -M -d / -s /usr/sbin/nologin "$u" || die "useradd $u"
		E2E_CREATED_USERS="$E2E_CREATED_USERS $u"
	fi
done
postfix_setup
mailbox_reset
run_runner
i=0
while [ $i -lt 150 ]; do
	n=$(cat /var/mail/rcpt1 /var/mail/rcpt2 | grep -c '^X-E2E: ' || true)
	[ "$n" -ge 3 ] && break
	sleep 0.2
	i=$((i + 1))
done
[ "$n" = 3 ] || die "delivered $n of 3 messages"
n=$(cat /var/mail/rcpt1 /var/mail/rcpt2 |
    grep -c 'by smtpfe\.example\.org (smtpfe) with ESMTPS id' || true)
[ "$n" = 3 ] || { cat /var/mail/rcpt1 /var/mail/rcpt2 >&2;
    die "$n of 3 delivered messages say 'with ESMTPS'"; }
grep -h -B1 -A1 '(smtpfe) with ESMTPS' /var/mail/rcpt1 /var/mail/rcpt2 | head -6
postfix_restore
rm -f "$E2E/main.cf.orig"
mailbox_reset
flock -u 9
exec 9>&-
say "65-tls: ok"
