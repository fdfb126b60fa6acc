# swap.sh - replace Postfix by another MTA for one CI stage, and put
# Postfix back whatever happens.  Sourced after lib.sh.
#
#   swap_begin              save /etc/postfix, /etc/aliases, /etc/mailname,
#                           /etc/hosts; block daemon starts (policy-rc.d)
#   apt_install PKG...      install (the MTA packages remove Postfix)
#   swap_end PKG...         purge PKG..., reinstall Postfix, restore the
#                           saved files and Postfix's running state
export DEBIAN_FRONTEND=noninteractive
# Wait for dpkg's lock rather than fail at once: other work on the machine
# may be installing packages (a failed reinstall would leave no Postfix).
APT="apt-get -o DPkg::Lock::Timeout=600"

# apt_install - install, updating the package lists once if needed
apt_install() {
	$APT install -y -qq --no-install-recommends "$@" \
	    >"$SWAP/apt.log" 2>&1 || {
		apt-get update -qq >/dev/null 2>&1 || true
		$APT install -y -qq --no-install-recommends "$@" \
		    >"$SWAP/apt.log" 2>&1 ||
		    { cat "$SWAP/apt.log" >&2; return 1; }
	}
}

swap_begin() {
	SWAP=$(mktemp -d /tmp/smtpfe-swap.XXXXXX)
	SWAPPED=no
	POLICY_CREATED=no
	POSTFIX_WAS_RUNNING=no
	postfix status >/dev/null 2>&1 && POSTFIX_WAS_RUNNING=yes
	saved=""
	for f in etc/postfix etc/aliases etc/aliases.db etc/mailname; do
		[ -e "/$f" ] && saved="$saved $f"
	done
	# shellcheck disable=SC2086
	tar -C / -cpf "$SWAP/etc.tar" $saved
	cp -p /etc/hosts "$SWAP/hosts"
	# No daemon may start from the packages' scripts: we start our own.
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		POLICY_CREATED=yes
	fi
	[ "$POSTFIX_WAS_RUNNING" = no ] || postfix stop >/dev/null 2>&1 || true
	SWAPPED=yes
}

# hosts_fqdn - give the host name a dot in /etc/hosts (restored by
# swap_end): sendmail sleeps a minute at start without one, and Debian's
# Exim set-up wants one for dc_minimaldns
hosts_fqdn() {
	host=$(hostname)
	case "$(getent hosts "$host" | awk '{print $2}')" in
	*.*) ;;
	*) { echo "127.0.1.1 $host.example.org $host"; cat "$SWAP/hosts"; } \
	    > /etc/hosts ;;
	esac
}

# swap_end - returns non-zero when Postfix is not back
swap_end() {
	[ -n "${SWAP:-}" ] || return 0
	if [ "$SWAPPED" = yes ]; then
		say "restoring Postfix"
		echo "postfix postfix/main_mailer_type select Local only" |
		    debconf-set-selections
		apt_install postfix || echo "FAIL: cannot reinstall postfix" >&2
		purge=""
		for p in "$@"; do
			dpkg -s "$p" >/dev/null 2>&1 && purge="$purge $p"
		done
		# shellcheck disable=SC2086
		[ -z "$purge" ] || $APT purge -y -qq $purge >/dev/null 2>&1 ||
		    echo "warning: cannot purge$purge" >&2
		rm -rf /etc/postfix
		tar -C / -xpf "$SWAP/etc.tar"
		newaliases || true
	fi
	cat "$SWAP/hosts" > /etc/hosts
	[ "$POLICY_CREATED" = no ] || rm -f /usr/sbin/policy-rc.d
	[ "$POSTFIX_WAS_RUNNING" = no ] || postfix start >/dev/null 2>&1 || true
	rm -rf "$SWAP"
	SWAP=""
	dpkg -s postfix 2>/dev/null | grep -q "^Status: install ok installed" ||
	    { echo "FAIL: postfix is not installed after the stage" >&2;
	    return 1; }
	[ -x /usr/sbin/postconf ] && [ -x /usr/sbin/sendmail ] ||
	    { echo "FAIL: postfix binaries missing" >&2; return 1; }
}
