# lib.sh - shared by the end-to-end stages (tests/ci/20-postfix.sh,
# 30-sendmail.sh, 35-exim.sh) and tests/load.sh.  Sourced, not run.
#
# inetd -> smtpfe (session) -> SPOOL/new -> smtpfe -q -> MTA -> mailbox.
# Everything private lives under $E2E (a mkdtemp directory); the only
# system state touched is the MTA's own (each stage says what and undoes
# it) and two local users, rcpt1 and rcpt2, created when missing.

E2E_PORT=${E2E_PORT:-2525}
E2E_USERS="rcpt1 rcpt2"

die() {
	echo "FAIL: $*" >&2
	exit 1
}

say() {
	echo "== $*"
}

# need_root_and_tools - fail loudly when something is missing
need_root_and_tools() {
	[ "$(id -u)" = 0 ] || die "must run as root (it configures the MTA)"
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || die "missing tool: $t"
	done
}

# e2e_setup - the private directory, spool, smtpfe.conf, users
e2e_setup() {
	E2E=$(mktemp -d /tmp/smtpfe-e2e.XXXXXX)
	SPOOL=$E2E/spool
	mkdir -p "$SPOOL/tmp" "$SPOOL/new" "$SPOOL/failed"
	chown nobody "$SPOOL/tmp" "$SPOOL/new" "$SPOOL/failed"
	chmod 700 "$SPOOL/tmp" "$SPOOL/new" "$SPOOL/failed"
	cat > "$E2E/smtpfe.conf" <<CONF
# end-to-end test configuration (tests/e2e/lib.sh)
hostname = smtpfe.example.org
spool = $SPOOL
user = nobody
local_domains = example.org
relay_networks = 127.0.0.0/8
greet_pause = 0
min_free_space = 1048576
max_message_size = ${E2E_MAX_SIZE:-10485760}
max_messages = 1000
sendmail = /usr/sbin/sendmail
CONF
	E2E_CREATED_USERS=""
	for u in $E2E_USERS; do
		if ! getent passwd "$u" >/dev/null; then
			# Home "/": Exim's local delivery changes into it.
			useradd -M -d / -s /usr/sbin/nologin "$u" ||
			    die "useradd $u"
			E2E_CREATED_USERS="$E2E_CREATED_USERS $u"
		fi
	done
}

# mailbox_reset - empty /var/mail/rcptN, owned as the MTA expects
mailbox_reset() {
	for u in $E2E_USERS; do
		: > "/var/mail/$u"
		chown "$u:mail" "/var/mail/$u"
		chmod 660 "/var/mail/$u"
	done
}

# inetd_start - a private openbsd-inetd on 127.0.0.1:$E2E_PORT
inetd_start() {
	cat > "$E2E/inetd.conf" <<CONF
127.0.0.1:$E2E_PORT stream tcp4 nowait.100000 root $SMTPFE_BIN smtpfe -f $E2E/smtpfe.conf
CONF
	inetd -d -R 100000 "$E2E/inetd.conf" > "$E2E/inetd.log" 2>&1 &
	INETD_PID=$!
	echo "$INETD_PID" > "$E2E/inetd.pid"
	# Wait (bounded) until the port answers with a greeting.
	i=0
	while [ $i -lt 50 ]; do
		if python3 "$E2E_DIR/smtpcheck.py" 127.0.0.1 "$E2E_PORT" \
		    >/dev/null 2>&1; then
			return 0
		fi
		kill -0 "$INETD_PID" 2>/dev/null ||
		    { cat "$E2E/inetd.log" >&2; die "inetd exited"; }
		sleep 0.2
		i=$((i + 1))
	done
	cat "$E2E/inetd.log" >&2
	die "no greeting on 127.0.0.1:$E2E_PORT"
}

# inetd_stop - by the PID we kept, never by name
inetd_stop() {
	if [ -n "${INETD_PID:-}" ]; then
		kill "$INETD_PID" 2>/dev/null || true
		wait "$INETD_PID" 2>/dev/null || true
		INETD_PID=""
	fi
}

# run_runner - smtpfe -q as root (it drops to nobody); checks the spool
run_runner() {
	rc=0
	"$SMTPFE_BIN" -q -f "$E2E/smtpfe.conf" 2> "$E2E/runner.err" || rc=$?
	[ "$rc" = 0 ] || { cat "$E2E/runner.err" >&2; die "smtpfe -q exit $rc"; }
	left=$(ls "$SPOOL/new" | wc -l)
	failed=$(ls "$SPOOL/failed" | wc -l)
	[ "$left" = 0 ] || die "$left message(s) left in new/"
	[ "$failed" = 0 ] || { cat "$E2E/runner.err" >&2;
	    die "$failed message(s) in failed/"; }
}

# e2e_cleanup - stop what we started, remove what we created
e2e_cleanup() {
	inetd_stop
	for u in ${E2E_CREATED_USERS:-}; do
		userdel "$u" 2>/dev/null || true
		rm -f "/var/mail/$u"
	done
	if [ -n "${E2E:-}" ] && [ -z "${E2E_KEEP:-}" ]; then
		rm -rf "$E2E"
	fi
}
