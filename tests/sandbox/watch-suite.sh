#!/bin/sh
# watch-suite.sh - run the session suite (tests/session_test.py) with an
# strace attached to each "smtpfe -l" server, tracing no call but every
# signal, and count how the session children ended (from the servers'
# SIGCHLD): any child killed by SIGSYS is a call the filter denied.
#
#   sh tests/sandbox/watch-suite.sh [SMTPFE]      (from the top of the tree)
#
# strace is attached by PID from a detached process, so that the server
# keeps its place in the process tree that the suite inspects.  Exits 1
# if a child died of SIGSYS or the suite failed.
set -u
bin=$(cd "$(dirname "${1:-./smtpfe}")" && pwd)/$(basename "${1:-./smtpfe}")
command -v strace >/dev/null || { echo "watch-suite: strace missing" >&2; exit 1; }
w=$(mktemp -d /tmp/watch-suite.XXXXXX)
cat > "$w/smtpfe" <<EOW
#!/bin/sh
me=\$\$
( strace -qq -e trace=none -o "$w/trace.\$me" -p \$me </dev/null >/dev/null 2>&1 & )
sleep 0.5
exec "$bin" "\$@"
EOW
chmod 755 "$w/smtpfe"
SMTPFE="$w/smtpfe" python3 tests/session_test.py > "$w/suite.log" 2>&1
suite=$?
tail -1 "$w/suite.log"
cat "$w"/trace.* 2>/dev/null |
    grep -o 'si_code=[A-Z_]*, si_pid=[0-9]*, si_uid=[0-9]*, si_status=[A-Z0-9]*' |
    sed 's/si_pid=[0-9]*, //' | sort | uniq -c
sigsys=$(cat "$w"/trace.* 2>/dev/null | grep -c 'si_status=SIGSYS')
echo "watch-suite: $sigsys session(s) killed by SIGSYS"
rm -rf "$w"
[ "$suite" -eq 0 ] && [ "$sigsys" -eq 0 ]
