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

# postfix_restore - main.cf and the running state as they were
postfix_restore() {
	[ -f "$E2E/main.cf.orig" ] || return 0
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
