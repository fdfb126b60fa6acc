# postfix.sh - configure the system Postfix for local delivery of
# example.org, and undo it.  Sourced after lib.sh (needs $E2E).

# postfix_setup - save main.cf, configure, start (or reload) Postfix
postfix_setup() {
	POSTFIX_WAS_RUNNING=no
	postfix status >/dev/null 2>&1 && POSTFIX_WAS_RUNNING=yes
	cp -p /etc/postfix/main.cf "$E2E/main.cf.orig"
	dest=$(postconf -h mydestination)
	case ", $dest," in
	*", example.org,"*) ;;
	*) postconf -e "mydestination = $dest, example.org" ;;
	esac
	postconf -e "inet_interfaces = loopback-only" "mailbox_command =" \
	    "home_mailbox =" "mail_spool_directory = /var/mail" \
	    "default_transport = error" "relay_transport = error" \
	    "relayhost =" "smtputf8_enable = no" "mailbox_size_limit = 0" \
	    "message_size_limit = 0"
	[ -f /etc/aliases ] || echo "postmaster: root" > /etc/aliases
	newaliases
	if [ "$POSTFIX_WAS_RUNNING" = yes ]; then
		postfix reload
	else
		if [ -x /usr/lib/postfix/configure-instance.sh ]; then
			/usr/lib/postfix/configure-instance.sh - \
			    >/dev/null 2>&1 || true
		fi
		postfix start
	fi
}

# postfix_listener - the 127.0.0.1:10025 listener of smtpfe(8)
# DEPLOYMENT, for handoff = smtp (master.cf saved, restored by
# postfix_restore); after postfix_setup
postfix_listener() {
	cp -p /etc/postfix/master.cf "$E2E/master.cf.orig"
	cat >> /etc/postfix/master.cf <<'MASTER'
127.0.0.1:10025 inet n - n - - smtpd
  -o syslog_name=postfix/smtpfe
  -o content_filter=
  -o mynetworks=127.0.0.0/8
  -o smtpd_client_restrictions=
  -o smtpd_helo_restrictions=
  -o smtpd_sender_restrictions=
  -o smtpd_relay_restrictions=permit_mynetworks,reject
  -o smtpd_recipient_restrictions=permit_mynetworks,reject
  -o smtpd_data_restrictions=
  -o smtpd_authorized_xforward_hosts=127.0.0.0/8
  -o local_header_rewrite_clients=
  -o smtpd_peername_lookup=no
  -o smtpd_error_sleep_time=0
  -o smtpd_soft_error_limit=1001
  -o smtpd_hard_error_limit=1000
  -o smtpd_client_connection_count_limit=0
  -o smtpd_client_connection_rate_limit=0
  -o smtpd_client_message_rate_limit=0
MASTER
	postfix reload >/dev/null 2>&1 || postfix start
	i=0
	until python3 "$E2E_DIR/smtpcheck.py" 127.0.0.1 10025; do
		i=$((i + 1))
		[ $i -lt 50 ] || die "no listener on 127.0.0.1:10025"
		sleep 0.2
	done
}

# postfix_restore - main.cf (and master.cf) and the running state as they
# were
postfix_restore() {
	[ -f "$E2E/main.cf.orig" ] || return 0
	[ ! -f "$E2E/master.cf.orig" ] ||
	    cp -p "$E2E/master.cf.orig" /etc/postfix/master.cf
	cp -p "$E2E/main.cf.orig" /etc/postfix/main.cf
	if [ "$POSTFIX_WAS_RUNNING" = yes ]; then
		postfix reload >/dev/null 2>&1 || true
	else
		postfix stop >/dev/null 2>&1 || true
	fi
}

# postfix_idle - 0 when Postfix holds no message (maildrop to active)
postfix_idle() {
	n=$(find /var/spool/postfix/maildrop /var/spool/postfix/incoming \
	    /var/spool/postfix/active /var/spool/postfix/deferred -type f \
	    2>/dev/null | wc -l)
	[ "$n" = 0 ]
}
