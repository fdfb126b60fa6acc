#!/bin/sh
# 15-probes.sh - CI stage: smtpfe as a scanner sees it, with probes
# nobody here wrote: nmap's SMTP scripts (Debian's nmap package).
#
# smtpfe -l on 127.0.0.1:25800, with relay_networks = 192.0.2.0/24 so
# that the scanner on the loopback is a stranger.  nmap names a port's
# service from its own services file, and its SMTP scripts run only on
# a port it calls "smtp": the stage gives it a private data directory
# (--datadir) whose nmap-services says so for 25800; nothing else in
# that copy changes.
#
# Verdicts required:
#   smtp-open-relay     "doesn't seem to be an open relay": all 16 of its
#                       tries refused, and the session lasted long enough
#                       for the verdict (max_errors = 20: at 10 the
#                       script was cut off before it could judge)
#   smtp-commands       exactly the EHLO keywords SPEC lists, nothing more
#   smtp-enum-users     no account found through VRFY or EXPN
#   smtp-vuln-cve2010-4344, -2011-1720, -2011-1764   nothing flagged
#
# Stops only the listener it started, by PID; removes its work directory.
set -eu
cd "$(dirname "$0")/../.."
TOP=$(pwd)
PORT=25800

die() {
	echo "FAIL: $*" >&2
	exit 1
}

command -v nmap >/dev/null 2>&1 ||
    apt-get install -y -qq nmap >/dev/null 2>&1 || die "cannot install nmap"
[ -r /usr/share/nmap/nmap-services ] || die "nmap-services missing"
[ "$(id -u)" = 0 ] || die "must run as root (the session drops to nobody)"

make -s smtpfe
W=$(mktemp -d /tmp/smtpfe-probes.XXXXXX)
LPID=""
cleanup() {
	rc=$?
	[ -z "$LPID" ] || kill "$LPID" 2>/dev/null || true
	[ "$rc" = 0 ] || cat "$W"/nmap.out >&2 2>/dev/null || true
	rm -rf "$W"
	exit "$rc"
}
trap cleanup EXIT INT TERM

mkdir -p "$W/spool/tmp" "$W/spool/new" "$W/spool/failed" "$W/nmap"
chown nobody "$W/spool/tmp" "$W/spool/new" "$W/spool/failed"
chmod 700 "$W/spool/tmp" "$W/spool/new" "$W/spool/failed"
cat > "$W/smtpfe.conf" <<CONF
hostname = mx.probe.example
spool = $W/spool
user = nobody
local_domains = example.org
relay_networks = 192.0.2.0/24
greet_pause = 0
min_free_space = 0
CONF
grep -v "	$PORT/tcp" /usr/share/nmap/nmap-services > "$W/nmap/nmap-services"
printf 'smtp\t%s/tcp\t0.5\n' "$PORT" >> "$W/nmap/nmap-services"

"$TOP/smtpfe" -l "127.0.0.1:$PORT" -f "$W/smtpfe.conf" &
LPID=$!
i=0
until python3 tests/e2e/smtpcheck.py 127.0.0.1 "$PORT" >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -lt 50 ] || die "smtpfe -l did not answer on $PORT"
	sleep 0.1
done

timeout 300 nmap -Pn -sT -n --datadir "$W/nmap" -p "$PORT" \
    --script "smtp-open-relay,smtp-commands,smtp-enum-users,smtp-vuln-cve2010-4344,smtp-vuln-cve2011-1720,smtp-vuln-cve2011-1764" \
    --script-args 'smtp-open-relay.domain=probe.example,smtp-enum-users.methods={VRFY,EXPN}' \
    127.0.0.1 > "$W/nmap.out" 2>&1 || die "nmap failed"
cat "$W/nmap.out"

grep -q "^$PORT/tcp open  *smtp" "$W/nmap.out" ||
    die "nmap did not treat $PORT as smtp"
grep -q "smtp-open-relay: Server doesn't seem to be an open relay, all tests failed" \
    "$W/nmap.out" || die "smtp-open-relay did not reach 'not an open relay'"
grep -q "smtp-commands: mx.probe.example, PIPELINING, SIZE 10485760, 8BITMIME, .*ENHANCEDSTATUSCODES, HELP$" \
    "$W/nmap.out" || die "smtp-commands: unexpected EHLO keywords"
if grep -qi "VULNERABLE" "$W/nmap.out" &&
    grep -i "VULNERABLE" "$W/nmap.out" | grep -qv "NOT VULNERABLE"; then
	die "a smtp-vuln script flagged something"
fi
sed -n '/smtp-enum-users:/,/^|_/p' "$W/nmap.out" |
    grep -q "Couldn't find any accounts" ||
    die "smtp-enum-users: not \"Couldn't find any accounts\""
n=$(ls "$W/spool/new" | wc -l)
[ "$n" = 0 ] || die "the probes left $n messages in new/"
echo "== 15-probes: ok"
