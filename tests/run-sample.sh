#!/bin/sh
# run-sample.sh - "make run": serve on 127.0.0.1:2525 with a sample
# configuration and a spool under ./run, until Ctrl-C.
set -eu
bin=${1:?usage: run-sample.sh /path/to/smtpfe}
top=$(pwd)/run
mkdir -p "$top/spool/tmp" "$top/spool/new" "$top/spool/failed"
user=$(id -un)
if [ "$(id -u)" = 0 ]; then
	# Started as root, smtpfe chroots to the spool and drops to "user".
	user=nobody
	chown nobody "$top/spool/tmp" "$top/spool/new" "$top/spool/failed"
fi
chmod 700 "$top/spool/tmp" "$top/spool/new" "$top/spool/failed"
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
CONF
echo "smtpfe: serving on 127.0.0.1:2525, spool $top/spool/new (Ctrl-C stops)"
exec "$bin" -f "$top/smtpfe.conf" -l 127.0.0.1:2525
