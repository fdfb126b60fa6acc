# lib.sh - shared by tests/ci/60-launchers.sh.  Sourced, not run.
#
# A private work directory $W (spool, smtpfe.conf, launcher configs,
# logs), the launchers started in the foreground and stopped by the PID
# we kept, the syslog daemon (our own rsyslogd on /dev/log, or the one
# already there), and the checks one launcher has to pass.
# Needs: $TOP (the source tree), $SMTPFE_BIN.  Ports 25700-25799.

LAUNCHERS_DIR=$TOP/tests/launchers
CLIENT=$LAUNCHERS_DIR/client.py
PIDS=""			# every daemon we started, for the cleanup

die() {
	echo "FAIL: $*" >&2
	exit 1
}

say() {
	echo "== $*"
}

# need_root_and_tools - fail loudly when something is missing
need_root_and_tools() {
	[ "$(id -u)" = 0 ] || die "must run as root (chroot, privilege drop)"
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || die "missing tool: $t"
	done
}

# work_setup - $W, the spool (tmp/new/failed owned by nobody, 0700) and
# smtpfe.conf: only 127.0.0.1 relays, so 127.0.0.2 is a non-relay client
work_setup() {
	W=$(mktemp -d /tmp/smtpfe-launchers.XXXXXX)
	chmod 755 "$W"
	SPOOL=$W/spool
	CONF=$W/smtpfe.conf
	mkdir -m 755 "$SPOOL"
	for d in tmp new failed; do
		mkdir -m 700 "$SPOOL/$d"
		chown nobody "$SPOOL/$d"
	done
	cat > "$CONF" <<CONF
# tests/ci/60-launchers.sh: only 127.0.0.1 may relay
hostname = mx.launchers.example
spool = $SPOOL
user = nobody
local_domains = example.org
relay_networks = 127.0.0.1/32
greet_pause = 200
min_free_space = 1048576
sendmail = /bin/true
timeout = 30
CONF
}

# track PID - remember a daemon of ours for the cleanup
track() {
	PIDS="$PIDS $1"
}

# stop_pid PID - stop one daemon of ours, by its PID, and reap it
stop_pid() {
	[ -n "$1" ] || return 0
	kill "$1" 2>/dev/null || true
	i=0
	while kill -0 "$1" 2>/dev/null && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -KILL "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
	rest=""
	for q in $PIDS; do
		[ "$q" = "$1" ] || rest="$rest $q"
	done
	PIDS=$rest
}

# apt_missing PKG... - install those of the packages that are missing
# (never upgrade one that is there)
apt_missing() {
	missing=""
	for pkg in "$@"; do
		dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null |
		    grep -q "install ok installed" || missing="$missing $pkg"
	done
	[ -n "$missing" ] || return 0
	say "apt-get install$missing"
	# shellcheck disable=SC2086
	apt-get install -y -qq $missing > "$W/apt.out" 2>&1 ||
	    { cat "$W/apt.out" >&2; die "apt-get install$missing"; }
}

# wait_greeting NAME PORT PID LOG - until 127.0.0.1:PORT greets (bounded)
wait_greeting() {
	i=0
	while [ $i -lt 100 ]; do
		if python3 "$CLIENT" --probe --port "$2" --source 127.0.0.1 \
		    --spool "$SPOOL" --tag "$1" --timeout 5 2>/dev/null; then
			return 0
		fi
		if ! kill -0 "$3" 2>/dev/null; then
			cat "$4" >&2 2>/dev/null || true
			die "$1 exited before it served 127.0.0.1:$2"
		fi
		sleep 0.1
		i=$((i + 1))
	done
	cat "$4" >&2 2>/dev/null || true
	die "$1: no greeting on 127.0.0.1:$2 within 10 s"
}

# spool_file_with TEXT - the one file in new/ that contains TEXT
spool_file_with() {
	n=0
	found=""
	for f in "$SPOOL"/new/*; do
		[ -f "$f" ] || continue
		if grep -qF -- "$1" "$f"; then
			found=$f
			n=$((n + 1))
		fi
	done
	[ "$n" = 1 ] || die "want one spool file with \"$1\", found $n"
	echo "$found"
}

# check_launcher NAME PORT - what every launcher must get right
#   relay client 127.0.0.1: a foreign recipient accepted, spooled
#   non-relay client 127.0.0.2: 554 5.7.1, the local recipient spooled
#   with "Client: 127.0.0.2"; swaks (a real client) the same way;
#   the session chrooted to the spool and running as nobody
# Appends "NAME ID CLIENT" lines to $W/ids for the syslog checks.
check_launcher() {
	name=$1
	port=$2
	for src in 127.0.0.1 127.0.0.2; do
		relay=no
		[ "$src" = 127.0.0.1 ] && relay=yes
		id=$(python3 "$CLIENT" --port "$port" --source "$src" \
		    --relay "$relay" --spool "$SPOOL" --tag "$name") ||
		    die "$name: client from $src (relay=$relay)"
		echo "$name $id $src" >> "$W/ids"
	done

	python3 "$CLIENT" --port "$port" --source 127.0.0.1 --jail nobody \
	    --spool "$SPOOL" --tag "$name" || die "$name: session not jailed"

	# swaks: a real client, from the non-relay address
	tag="swaks-through-$name-$$"
	swaks --server 127.0.0.1 --port "$port" --local-interface 127.0.0.2 \
	    --helo swaks.example.net --from swaks@example.net \
	    --to near@example.org --header "Subject: $tag" \
	    --timeout 30 > "$W/swaks-$name.out" 2>&1 ||
	    { cat "$W/swaks-$name.out" >&2; die "$name: swaks delivery"; }
	f=$(spool_file_with "Subject: $tag") || exit 1
	grep -qx "Client: 127.0.0.2" "$f" ||
	    { head -8 "$f" >&2; die "$name: swaks message: wrong Client:"; }
	grep -qx "Helo: swaks.example.net" "$f" ||
	    die "$name: swaks message: wrong Helo:"
	rc=0
	swaks --server 127.0.0.1 --port "$port" --local-interface 127.0.0.2 \
	    --helo swaks.example.net --from swaks@example.net \
	    --to far@foreign.example --quit-after RCPT \
	    --timeout 30 > "$W/swaks-$name-relay.out" 2>&1 || rc=$?
	if [ "$rc" = 0 ] ||
	    ! grep -q '<\*\* *554 5\.7\.1' "$W/swaks-$name-relay.out"; then
		cat "$W/swaks-$name-relay.out" >&2
		die "$name: swaks relay attempt from 127.0.0.2 not refused" \
		    "554 5.7.1"
	fi
	say "$name: relay client, non-relay client, swaks, chroot+nobody: ok"
}

# ---------------------------------------------------------------- syslog
#
# SYSLOG_MODE: own (our rsyslogd, mail.* to $W/mail.log), system (the
# running rsyslogd's mail log), journal (journald owns /dev/log).

# devlog_live - 0 when something receives on /dev/log
devlog_live() {
	python3 - <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
try:
    s.connect("/dev/log")
except OSError:
    sys.exit(1)
PY
}

# syslog_mail_file - the file the system rsyslogd writes mail.* to
syslog_mail_file() {
	# "mail.*  -/var/log/mail.log" in Debian's /etc/rsyslog.conf
	cat /etc/rsyslog.conf /etc/rsyslog.d/*.conf 2>/dev/null |
	    awk '$1 ~ /^mail\.(\*|info)$/ { f = $2; sub(/^-/, "", f);
	        if (f ~ /^\//) { print f; exit } }'
}

syslog_start() {
	SYSLOG_MODE=""
	SYSLOG_PID=""
	DEVLOG_OURS=no
	if [ -e /dev/log ] || [ -L /dev/log ]; then
		if devlog_live; then
			sys_pid=$(cat /run/rsyslogd.pid 2>/dev/null || true)
			if [ -L /dev/log ] &&
			    readlink /dev/log | grep -q systemd/journal; then
				command -v journalctl >/dev/null ||
				    die "journald owns /dev/log, no journalctl"
				SYSLOG_MODE=journal
			elif [ -n "$sys_pid" ] &&
			    [ "$(cat "/proc/$sys_pid/comm" 2>/dev/null)" = \
			    rsyslogd ]; then
				SYSLOG_MODE=system
				SYSLOG_FILE=$(syslog_mail_file)
				[ -n "$SYSLOG_FILE" ] || die "the system " \
				    "rsyslogd logs mail.* to no file"
			else
				ls -l /dev/log >&2
				die "/dev/log is live but not rsyslogd's" \
				    "(/run/rsyslogd.pid) nor journald's:" \
				    "cannot read what smtpfe logs"
			fi
			say "syslog: using the running $SYSLOG_MODE logger" \
			    "${SYSLOG_FILE:-}"
			syslog_probe
			return 0
		fi
		# A socket nobody reads: left over by a stopped daemon.
		[ -S /dev/log ] || die "/dev/log exists and is not a socket"
		rm -f /dev/log
	fi
	SYSLOG_MODE=own
	SYSLOG_FILE=$W/mail.log
	mkdir -m 700 "$W/rsyslog"
	cat > "$W/rsyslog.conf" <<CONF
# tests/ci/60-launchers.sh: a private rsyslogd, mail.* only
global(workDirectory="$W/rsyslog")
module(load="imuxsock" SysSock.Name="/dev/log" SysSock.RateLimit.Interval="0")
mail.*	action(type="omfile" file="$SYSLOG_FILE")
CONF
	rsyslogd -N1 -f "$W/rsyslog.conf" > "$W/rsyslog.check" 2>&1 ||
	    { cat "$W/rsyslog.check" >&2; die "rsyslogd -N1: bad config"; }
	rsyslogd -n -f "$W/rsyslog.conf" -i "$W/rsyslogd.pid" \
	    > "$W/rsyslogd.out" 2>&1 &
	SYSLOG_PID=$!
	track "$SYSLOG_PID"
	DEVLOG_OURS=yes
	say "syslog: our own rsyslogd (pid $SYSLOG_PID) on /dev/log," \
	    "mail.* to $SYSLOG_FILE"
	syslog_probe
}

# syslog_text - what the logger has written for us so far
syslog_text() {
	case $SYSLOG_MODE in
	journal)
		journalctl -q -o short --since "@$SYSLOG_SINCE" 2>/dev/null ;;
	*)
		cat "$SYSLOG_FILE" 2>/dev/null ;;
	esac
}

# syslog_wait TEXT - until a line with TEXT is in the log (bounded)
syslog_wait() {
	i=0
	while [ $i -lt 100 ]; do
		syslog_text | grep -qF -- "$1" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# syslog_probe - the logger works: a line from logger(1) arrives
syslog_probe() {
	SYSLOG_SINCE=$(date +%s)
	probe="smtpfe-launchers-probe-$$"
	i=0
	while [ $i -lt 10 ]; do
		if [ -n "$SYSLOG_PID" ] && ! kill -0 "$SYSLOG_PID" 2>/dev/null
		then
			st=0
			wait "$SYSLOG_PID" || st=$?
			cat "$W/rsyslogd.out" >&2 2>/dev/null || true
			die "syslog: our rsyslogd exited (wait status $st)"
		fi
		logger -p mail.info -t smtpfe-probe "$probe" \
		    2>> "$W/logger.out" || true
		syslog_wait "$probe" && return 0
		i=$((i + 1))
	done
	ls -li /dev/log >&2 || true
	cat "$W/rsyslogd.out" "$W/logger.out" >&2 2>/dev/null || true
	die "syslog: a logger(1) line never reached the log"
}

# syslog_stop - only our own rsyslogd, by its pid file
syslog_stop() {
	[ "${SYSLOG_MODE:-}" = own ] || return 0
	if [ -s "$W/rsyslogd.pid" ]; then
		pid=$(cat "$W/rsyslogd.pid")
		[ "$pid" = "$SYSLOG_PID" ] || echo "warning: rsyslogd.pid" \
		    "says $pid, we started $SYSLOG_PID" >&2
	fi
	stop_pid "$SYSLOG_PID"
	# imuxsock removes its socket; make sure no dead one is left
	if [ "$DEVLOG_OURS" = yes ] && [ -S /dev/log ] && ! devlog_live; then
		rm -f /dev/log
	fi
	SYSLOG_MODE=""
}

# check_syslog NAME - for each message NAME spooled: the summary line,
# and for the non-relay client the refusal line of the same session
# (same PID), all written by a session that ran chrooted
check_syslog() {
	name=$1
	while read -r n id src; do
		[ "$n" = "$name" ] || continue
		if [ "$src" = 127.0.0.1 ]; then
			to="<far@foreign.example>,<near@example.org>"
		else
			to="<near@example.org>"
		fi
		want="client=$src helo=client.example.net from=<sender@example.net> to=$to size="
		tail="id=$id verdict=\"250 2.0.0 queued as $id\""
		syslog_wait "$tail" ||
		    { syslog_text | tail -20 >&2;
		      die "$name: no summary line for $id in the log"; }
		line=$(syslog_text | grep -F -- "$tail")
		case $line in
		*"smtpfe["*"]: $want"*) ;;
		*) die "$name: summary line for $id: $line" ;;
		esac
		pid=$(printf '%s\n' "$line" | sed -n 's/.*smtpfe\[\([0-9]*\)\]:.*/\1/p')
		[ -n "$pid" ] || die "$name: no PID in $line"
		[ "$src" = 127.0.0.2 ] || continue
		refusal="smtpfe[$pid]: refused RCPT TO:<far@foreign.example> from 127.0.0.2 (sender <sender@example.net>): 554 5.7.1"
		syslog_text | grep -qF -- "$refusal" ||
		    { syslog_text | grep -F "smtpfe[$pid]" >&2;
		      die "$name: no refusal line for the relay attempt"; }
	done < "$W/ids"
	say "$name: syslog summary and refusal lines from the chroot: ok"
}
