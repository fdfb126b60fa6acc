#!/bin/sh
# 45-dnsbl.sh - CI stage: DNS blocklists end to end with real parts.
#
#   dnsmasq (dnsmasq-base) on 127.0.0.55:5310 is the real resolver, serving
#   a small test zone bl.test: 2.0.0.127.bl.test A 127.0.0.2 (listed),
#   5.0.0.127.bl.test A 127.255.255.254 (the zone refusing us), every
#   other name in bl.test NXDOMAIN; it logs every query.
#   openbsd-inetd on 127.0.0.1:2610 starts smtpfe (chrooted, sandboxed,
#   as nobody) with dnsbl = bl.test and dns_resolver = 127.0.0.55:5310.
#   swaks is the client, its socket bound to 127.0.0.2 (listed), 127.0.0.3
#   and 127.0.0.5 (not listed), 127.0.0.1 (a relay client: never asked).
#
# Checks: smtpfe -n and -b against the real resolver; the listed client's
# RCPT gets "554 5.7.1 Service unavailable; client [127.0.0.2] blocked
# using bl.test" and nothing is spooled, but its mail to postmaster@ is
# spooled; the unlisted clients' mail is spooled; the relay client's
# session sends no query (dnsmasq's log); each non-relay session asked
# exactly once.
#
# Installs what is missing (apt-get install -y -qq, idempotent), starts
# dnsmasq and inetd in the foreground and stops them by the PIDs it kept;
# removes its work directory (SMTPFE_KEEP=1 keeps it).
set -eu
cd "$(dirname "$0")/../.."
TOP=$(pwd)

PORT=2610
DNS_ADDR=127.0.0.55
DNS_PORT=5310
PIDS=""

die() {
	echo "FAIL: $*" >&2
	exit 1
}

say() {
	echo "== $*"
}

[ "$(id -u)" = 0 ] || die "must run as root (chroot, privilege drop)"
export DEBIAN_FRONTEND=noninteractive
missing=""
for pkg in openbsd-inetd dnsmasq-base swaks; do
	dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null |
	    grep -q "install ok installed" || missing="$missing $pkg"
done
if [ -n "$missing" ]; then
	say "apt-get install$missing"
	# shellcheck disable=SC2086
	apt-get install -y -qq $missing > /tmp/smtpfe-45-apt.out 2>&1 ||
	    { cat /tmp/smtpfe-45-apt.out >&2; die "apt-get install$missing"; }
fi
for t in inetd dnsmasq swaks python3 make; do
	command -v "$t" >/dev/null 2>&1 || die "missing tool: $t"
done

make -s smtpfe
BIN=$TOP/smtpfe
W=$(mktemp -d /tmp/smtpfe-dnsbl.XXXXXX)
chmod 755 "$W"

stop_pid() {
	kill "$1" 2>/dev/null || true
	i=0
	while kill -0 "$1" 2>/dev/null && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -KILL "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

cleanup() {
	rc=$?
	set +e
	for p in $PIDS; do
		stop_pid "$p"
	done
	if [ "$rc" != 0 ]; then
		for f in "$W"/*.log "$W"/*.out; do
			[ -f "$f" ] || continue
			echo "--- $f"
			tail -30 "$f"
		done >&2
	fi
	if [ -z "${SMTPFE_KEEP:-}" ]; then
		rm -rf "$W"
	else
		echo "kept $W" >&2
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

SPOOL=$W/spool
CONF=$W/smtpfe.conf
mkdir -m 755 "$SPOOL"
for d in tmp new failed; do
	mkdir -m 700 "$SPOOL/$d"
	chown nobody "$SPOOL/$d"
done
cat > "$CONF" <<CONF
# tests/ci/45-dnsbl.sh
hostname = mx.dnsbl.example
spool = $SPOOL
user = nobody
local_domains = example.org
relay_networks = 127.0.0.1/32
greet_pause = 0
min_free_space = 1048576
sendmail = /bin/true
dnsbl = bl.test
dns_resolver = $DNS_ADDR:$DNS_PORT
CONF

say "dnsmasq on $DNS_ADDR:$DNS_PORT serving bl.test"
dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts \
    --bind-interfaces --listen-address="$DNS_ADDR" --port="$DNS_PORT" \
    --user=nobody --group=nogroup --pid-file= --log-queries \
    --log-facility="$W/dnsmasq.log" --local=/bl.test/ \
    --address=/2.0.0.127.bl.test/127.0.0.2 \
    --address=/5.0.0.127.bl.test/127.255.255.254 \
    > "$W/dnsmasq.out" 2>&1 &
DNS_PID=$!
PIDS="$PIDS $DNS_PID"

say "smtpfe -n and -b against the real resolver"
"$BIN" -n -f "$CONF" > "$W/n.out" 2>&1 || { cat "$W/n.out"; die "smtpfe -n"; }
i=0
until printf 'QUIT\r\n' | "$BIN" -f "$CONF" -b 127.0.0.2 > "$W/b.out" 2>&1 &&
    grep -q "listed in bl.test (answer 127.0.0.2)" "$W/b.out"; do
	kill -0 "$DNS_PID" 2>/dev/null || die "dnsmasq exited"
	i=$((i + 1))
	[ $i -lt 50 ] || { cat "$W/b.out" >&2; die "-b: 127.0.0.2 not listed"; }
	sleep 0.1
done
printf 'QUIT\r\n' | "$BIN" -f "$CONF" -b 127.0.0.3 > "$W/b3.out" 2>&1
grep -q "127.0.0.3 not listed in bl.test (NXDOMAIN)" "$W/b3.out" ||
    { cat "$W/b3.out" >&2; die "-b: 127.0.0.3 should be NXDOMAIN"; }

say "openbsd-inetd on 127.0.0.1:$PORT"
echo "127.0.0.1:$PORT stream tcp nowait.100000 root $BIN smtpfe -f $CONF" \
    > "$W/inetd.conf"
inetd -d -R 100000 "$W/inetd.conf" > "$W/inetd.log" 2>&1 &
INETD_PID=$!
PIDS="$PIDS $INETD_PID"
i=0
until swaks --server "127.0.0.1:$PORT" --quit-after CONNECT \
    > /dev/null 2>&1; do
	kill -0 "$INETD_PID" 2>/dev/null || die "inetd exited"
	i=$((i + 1))
	[ $i -lt 100 ] || die "inetd: no greeting on 127.0.0.1:$PORT"
	sleep 0.1
done

# swaks_from SRC TO NAME - one message from SRC to TO; output in NAME.out
swaks_from() {
	swaks --server "127.0.0.1:$PORT" --local-interface "$1" --to "$2" \
	    --from sender@example.net --helo client.example \
	    --header "Subject: dnsbl $3" > "$W/$3.out" 2>&1 || true
}

# spooled SRC - how many spool files say "Client: SRC"
spooled() {
	grep -l "^Client: $1\$" "$SPOOL"/new/* 2>/dev/null | wc -l
}

# queries NAME - how many times dnsmasq was asked NAME
queries() {
	grep -c "query\[A\] $1 from" "$W/dnsmasq.log" || true
}

say "127.0.0.2 (listed): 554 5.7.1 at RCPT, nothing spooled"
swaks_from 127.0.0.2 user@example.org listed
grep -q "<\*\* *554 5.7.1 Service unavailable; client \[127.0.0.2\] blocked using bl.test" \
    "$W/listed.out" || { cat "$W/listed.out" >&2; die "listed client not refused"; }
[ "$(spooled 127.0.0.2)" = 0 ] || die "a listed client's mail was spooled"

say "127.0.0.2 (listed) to postmaster@example.org: spooled"
swaks_from 127.0.0.2 PostMaster@example.org postmaster
grep -q "<- *250 2.0.0 queued as" "$W/postmaster.out" ||
    { cat "$W/postmaster.out" >&2; die "postmaster@ refused"; }
[ "$(spooled 127.0.0.2)" = 1 ] || die "mail to postmaster@ not spooled"

say "127.0.0.3 (NXDOMAIN) and 127.0.0.5 (127.255.255.254): spooled"
swaks_from 127.0.0.3 user@example.org clean
grep -q "<- *250 2.0.0 queued as" "$W/clean.out" ||
    { cat "$W/clean.out" >&2; die "unlisted client refused"; }
swaks_from 127.0.0.5 user@example.org refusedcode
grep -q "<- *250 2.0.0 queued as" "$W/refusedcode.out" ||
    { cat "$W/refusedcode.out" >&2; die "127.255.255.254 taken as a listing"; }
[ "$(spooled 127.0.0.3)" = 1 ] && [ "$(spooled 127.0.0.5)" = 1 ] ||
    die "unlisted clients' mail not spooled"

say "127.0.0.1 (relay client): spooled, never looked up"
swaks_from 127.0.0.1 someone@elsewhere.example relay
grep -q "<- *250 2.0.0 queued as" "$W/relay.out" ||
    { cat "$W/relay.out" >&2; die "relay client refused"; }
sleep 0.3
[ "$(queries 1.0.0.127.bl.test)" = 0 ] || die "a relay client was looked up"

say "one query per non-relay session"
# -b asked 2.0.0.127 at least once and 3.0.0.127 once before the sessions
n2=$(queries 2.0.0.127.bl.test)
n3=$(queries 3.0.0.127.bl.test)
n5=$(queries 5.0.0.127.bl.test)
echo "queries: 127.0.0.2 $n2 (with -b's), 127.0.0.3 $n3 (one -b), 127.0.0.5 $n5"
[ "$n3" = 2 ] && [ "$n5" = 1 ] || die "want 2 and 1 queries, got $n3 and $n5"

say "the sessions ran chrooted and sandboxed: no session was killed"
# inetd -d logs "PID reaped, status N" for each session: all must be 0
# (a session the seccomp filter killed would show the signal's status).
[ "$(grep -c "reaped, status" "$W/inetd.log")" -ge 5 ] ||
    { cat "$W/inetd.log" >&2; die "inetd reaped fewer than 5 sessions"; }
if grep "reaped, status" "$W/inetd.log" | grep -qv "status 0$"; then
	cat "$W/inetd.log" >&2
	die "inetd saw a session end with a non-zero status"
fi
say "45-dnsbl: ok"
