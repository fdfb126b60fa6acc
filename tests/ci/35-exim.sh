#!/bin/sh
# 35-exim.sh - CI stage: smtpfe end to end with Debian's Exim.
#
# Replaces Postfix by exim4-daemon-light configured for local delivery
# only (example.org delivered to /var/mail), Debian's permissive
# untrusted_set_sender turned off (MAIN_FORCE_SENDER) and the runner's
# user nobody in trusted_users, so that only that trust keeps
# "-f SENDER"; no Exim daemon runs: the submission delivers at once.
# Then the checks of 20-postfix.sh (the null sender: "Return-path: <>",
# what Exim's appendfile writes), no Sender:/X-Authentication-Warning,
# nothing left in Exim's queue, no option taken for a recipient.  At the end, always: Exim
# purged, Postfix reinstalled and its files restored (tests/e2e/swap.sh).
set -eu
cd "$(dirname "$0")/../.."
TOP=$(pwd)
E2E_DIR=$TOP/tests/e2e
. "$E2E_DIR/lib.sh"
. "$E2E_DIR/swap.sh"

need_root_and_tools apt-get dpkg debconf-set-selections inetd swaks python3 \
    make useradd tar
make -s smtpfe
SMTPFE_BIN=$TOP/smtpfe

EXIM_USER_WAS=no
getent passwd Debian-exim >/dev/null && EXIM_USER_WAS=yes

finish() {
	rc=$?
	set +e
	inetd_stop
	swap_end exim4-daemon-light exim4-base exim4-config || rc=1
	rm -rf /var/spool/exim4 /var/log/exim4 /etc/exim4
	# The purge keeps the system user exim4-base made; we made it, so go.
	if [ "$EXIM_USER_WAS" = no ] && getent passwd Debian-exim >/dev/null
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

say "configuring Exim: local delivery of example.org, nobody trusted"
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
# MAIN_FORCE_SENDER undoes Debian's "untrusted_set_sender = *", so that
# only the trust given to nobody keeps the sender (what smtpfe.8 says).
printf 'MAIN_FORCE_SENDER = 1\nMAIN_TRUSTED_USERS = nobody\n' \
    > /etc/exim4/exim4.conf.localmacros
update-exim4.conf
/usr/sbin/exim4 -bV >/dev/null || die "exim4 -bV"

e2e_setup
mailbox_reset
inetd_start

say "send, then smtpfe -q"
python3 "$E2E_DIR/send.py" "$E2E_PORT" "$E2E/sent1.json"
run_runner
python3 "$E2E_DIR/verify.py" --wait 120 "$E2E/sent1.json" /var/mail "<>"
# Nothing queued or frozen (a bounce would be), no stray recipient.
n=$(/usr/sbin/exim4 -bpc)
[ "$n" = 0 ] || { /usr/sbin/exim4 -bp >&2; die "$n message(s) in Exim's queue"; }
log=/var/log/exim4/mainlog
n=$(grep -c " <= " "$log") || die "no Exim log at $log"
[ "$n" -ge 6 ] || die "Exim logged $n messages received, want 6"
if grep -i "8bitmime@\|-B@\|--@" "$log" >&2; then
	die "an option was read as a recipient"
fi
say "35-exim: ok"
