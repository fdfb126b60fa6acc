#!/bin/sh
# 70-deb.sh - CI stage: the Debian package, as a postmaster meets it
# (issue 13, debian/README.Debian).
#
#   build     dpkg-buildpackage -us -uc -b on a clean copy of the tree
#             (git archive: no build products); the hardening flags are
#             on the compiler lines, no compiler warning; the program is
#             static-pie (no interpreter, no library) with RELRO,
#             BIND_NOW and fortified calls; lintian on the source too
#   lintian   -I -E --pedantic, output in this log; any tag that is not
#             overridden (debian/smtpfe.lintian-overrides) fails
#   install   apt-get install ./smtpfe_2.0_amd64.deb: the account (no
#             shell, no home), the spool's owners and modes, the conffile,
#             the man pages, the units installed and not enabled, inetd
#             and xinetd untouched, the three-line note; "smtpfe -n" fails
#             with "local_domains is required", then passes once it is set
#   session   through the installed program under the installed units:
#             the socket's ListenStream= replaced by 127.0.0.1:2680,
#             Accept=yes and smtpfe@.service's ExecStart= and
#             StandardInput=socket read from the units and given to
#             systemd-socket-activate --accept --inetd (systemd does not
#             run here); the message reaches /var/spool/smtpfe/new, the
#             session runs chrooted there as smtpfe
#   upgrade   a rebuild as 2.0+ci1 whose sample configuration changed too:
#             the local configuration and the spooled message are kept
#   remove    the program goes; configuration, account, message stay
#   purge     with mail in the spool: the account and the configuration
#             go, the message stays (given to root) and purge says so;
#             no other file of the package is left (file lists of /etc,
#             /usr, /lib, /var before and after)
#   purge     again on an empty spool (after a reinstall, which hands the
#             message back to smtpfe): nothing of the package is left
#
# Runs as root.  Refuses to start if smtpfe is installed or its account
# or directories exist (it would not know what to keep).  Stops what it
# started by PID; purges the package and removes the account at the end,
# whatever happens.  Port 2680 on 127.0.0.1.
set -eu
cd "$(dirname "$0")/../.."
TOP=$(pwd)
# shellcheck source=tests/launchers/lib.sh
. "$TOP/tests/launchers/lib.sh"

PORT=2680
SPOOL=/var/spool/smtpfe
CONF=/etc/smtpfe/smtpfe.conf
# The version in debian/changelog; the upgrade is to V1+ci1.
V1=$(sed -n '1s/^smtpfe (\([^)]*\)).*/\1/p' debian/changelog)
[ -n "$V1" ] || { echo "FAIL: no version in debian/changelog" >&2; exit 1; }
V2=$V1+ci1
export DEBIAN_FRONTEND=noninteractive
# Other jobs may hold dpkg's lock for a while: wait for it.
APT="apt-get -y -q -o DPkg::Lock::Timeout=600"

stage_start=$(date +%s)
[ "$(id -u)" = 0 ] || die "must run as root (installs the package)"
W=$(mktemp -d /tmp/smtpfe-deb.XXXXXX)
chmod 755 "$W"
# Until the preconditions hold, only $W is ours to clean up.
trap 'rm -rf "$W"' EXIT
# lib.sh's apt_missing, waiting for dpkg's lock like $APT
missing=""
for pkg in git dpkg-dev debhelper lintian build-essential check pkg-config \
    mandoc python3 systemd man-db; do
	dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null |
	    grep -q "install ok installed" || missing="$missing $pkg"
done
if [ -n "$missing" ]; then
	say "apt-get install$missing"
	# shellcheck disable=SC2086
	$APT install -qq $missing > "$W/apt.out" 2>&1 ||
	    { cat "$W/apt.out" >&2; die "apt-get install$missing"; }
fi
need_root_and_tools git dpkg-buildpackage lintian apt-get dpkg-query \
    systemd-socket-activate systemd-analyze python3 find sort comm stat \
    readelf nm runuser zcat
[ "$(dpkg-query -W -f='${Version}' debhelper | cut -d. -f1)" -ge 13 ] ||
    die "debhelper 13 or later is needed"

if dpkg-query -W -f='${Status}' smtpfe 2>/dev/null | grep -qv not-installed
then
	die "smtpfe is installed (or its configuration is): purge it first"
fi
getent passwd smtpfe >/dev/null && die "an account smtpfe exists already"
getent group smtpfe >/dev/null && die "a group smtpfe exists already"
[ ! -e "$SPOOL" ] || die "$SPOOL exists already"
[ ! -e /etc/smtpfe ] || die "/etc/smtpfe exists already"

SSA_PID=""
cleanup() {
	rc=$?
	set +e
	[ -z "$SSA_PID" ] || stop_pid "$SSA_PID"
	if dpkg-query -W -f='${Status}' smtpfe 2>/dev/null |
	    grep -qv not-installed; then
		$APT purge smtpfe > "$W/cleanup-purge.out" 2>&1 ||
		    cat "$W/cleanup-purge.out" >&2
	fi
	# Our test message and file, if a failure left them: neither the
	# spool nor /etc/smtpfe was there before this stage began.
	rm -rf "$SPOOL" /etc/smtpfe
	getent passwd smtpfe >/dev/null && userdel smtpfe
	getent group smtpfe >/dev/null && groupdel smtpfe
	if [ "$rc" != 0 ]; then
		for f in "$W"/*.log "$W"/*.out; do
			[ -f "$f" ] || continue
			echo "--- $f"
			tail -25 "$f"
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

# file_list NAME - every path under the places a package can touch.
# Not /var/cache/man: man-db caches a formatted page there when the page
# is read (here by systemd-analyze verify, which runs man for the units'
# Documentation=); that is man-db's cache, pruned by mandb, as for every
# package's pages.
file_list() {
	find /etc /usr /lib /var/lib /var/spool /var/cache /opt -xdev \
	    \( -path /var/lib/apt/lists -o -path /var/cache/man \) -prune \
	    -o -print 2>/dev/null |
	    LC_ALL=C sort > "$W/files.$1"
}

# copy_tree DIR - DIR/src: a clean copy of the tree (the files git
# tracks, with their changes not yet committed; no build products)
copy_tree() {
	mkdir -p "$1/src"
	rev=$(git stash create 2>/dev/null) || rev=""
	git archive "${rev:-HEAD}" | tar -x -C "$1/src" ||
	    die "git archive"
	[ ! -e "$1/src/obj" ] && [ ! -e "$1/src/smtpfe" ] ||
	    die "the copy holds build products"
}
# build DIR VERSION - dpkg-buildpackage in DIR/src
build() {
	say "dpkg-buildpackage -us -uc -b: smtpfe $2 (in $1/src)"
	(cd "$1/src" && dpkg-buildpackage -us -uc -b) > "$1/build.log" 2>&1 ||
	    { tail -40 "$1/build.log" >&2; die "dpkg-buildpackage ($2)"; }
	[ -f "$1/smtpfe_$2_amd64.deb" ] || die "no $1/smtpfe_$2_amd64.deb"
}

# ------------------------------------------------------------ build
copy_tree "$W/v1"
start=$(date +%s)
build "$W/v1" "$V1"
say "built in $(( $(date +%s) - start )) s: $(ls "$W/v1"/*.deb | xargs -n1 basename | tr '\n' ' ')"
for flag in -static-pie -D_FORTIFY_SOURCE=2 -fstack-protector-strong \
    -Wl,-z,relro -Wl,-z,now -Werror; do
	grep "^cc .* -o smtpfe " "$W/v1/build.log" | grep -q -- "$flag" ||
	    die "the link of smtpfe lacks $flag"
done
if grep -E '^[^ ]+\.(c|h):[0-9]+:[0-9]+: warning' "$W/v1/build.log"; then
	die "compiler warnings in the package build"
fi
# The program as packaged: position-independent (ELF type DYN) with no
# interpreter and no library (static-pie), RELRO and BIND_NOW; the build
# tree's unstripped copy calls glibc's fortified (_chk) functions.
prog=$W/v1/src/debian/smtpfe/usr/sbin/smtpfe
readelf -h "$prog" | grep -q "Type: *DYN" || die "smtpfe is not PIE"
readelf -l "$prog" | grep -q INTERP && die "smtpfe has an interpreter"
readelf -d "$prog" | grep -q NEEDED && die "smtpfe needs a library"
readelf -l "$prog" | grep -q GNU_RELRO || die "smtpfe has no RELRO"
readelf -d "$prog" | grep -q "FLAGS_1.*NOW" || die "smtpfe: no BIND_NOW"
nm "$W/v1/src/smtpfe" | grep -q ' __[a-z]*_chk$' ||
    die "smtpfe calls no fortified function"
grep -q "^== obj/check_" "$W/v1/build.log" ||
    die "the unit tests did not run in the package build"

say "lintian (tags overridden in debian/smtpfe.lintian-overrides shown as O:)"
# (--show-overrides makes overridden tags count for --fail-on: the
# verdict is the absence of E/W/I/P/X lines; O: lines are overridden.)
rc=0
lintian -I -E --pedantic --show-overrides --fail-on none \
    "$W/v1/smtpfe_${V1}_amd64.changes" > "$W/lintian.out" 2>&1 || rc=$?
sed 's/^/    /' "$W/lintian.out"
[ "$rc" = 0 ] || die "lintian failed (exit $rc)"
if grep -E '^[EWIPX]: ' "$W/lintian.out"; then
	die "lintian: tags that are not overridden"
fi
say "lintian on the source package (dpkg-source -b; overrides in" \
    "debian/source/lintian-overrides)"
copy_tree "$W/source"
(cd "$W/source/src" && dpkg-source -b .) > "$W/source.out" 2>&1 ||
    { cat "$W/source.out" >&2; die "dpkg-source -b"; }
rc=0
lintian -I -E --pedantic --show-overrides --fail-on none \
    "$W/source/smtpfe_${V1}.dsc" > "$W/lintian-source.out" 2>&1 || rc=$?
sed 's/^/    /' "$W/lintian-source.out"
[ "$rc" = 0 ] || die "lintian (source) failed (exit $rc)"
# Experimental tags (X:) on the source are shown, not judged: lintian
# itself calls them unsettled, and they fire on prose and test data.
if grep -E '^[EWIP]: ' "$W/lintian-source.out"; then
	die "lintian (source): tags that are not overridden"
fi
rm -rf "$W/source"

# readme_debian - the installed README.Debian (dh_compress gzips it when
# it is over 4 KiB)
readme_debian() {
	zcat -f /usr/share/doc/smtpfe/README.Debian*
}

# ------------------------------------------------------------ install
file_list before
inetd_before=$(cat /etc/inetd.conf /etc/xinetd.d/* 2>/dev/null | cksum)
wants_before=$(find /etc/systemd/system -name 'smtpfe*' | wc -l)
say "apt-get install ./smtpfe_${V1}_amd64.deb"
(cd "$W/v1" && $APT install "./smtpfe_${V1}_amd64.deb") \
    > "$W/install.out" 2>&1 ||
    { cat "$W/install.out" >&2; die "apt-get install"; }
dpkg-query -W -f='${Status} ${Version}\n' smtpfe |
    grep -qx "install ok installed $V1" || die "smtpfe $V1 not installed"
# (apt runs dpkg on a pseudo-terminal: its lines end in CR LF)
tr -d '\r' < "$W/install.out" |
    grep -A2 "^smtpfe is installed but not switched on" > "$W/note" ||
    die "no note on installation"
sed 's/^/    /' "$W/note"
[ "$(wc -l < "$W/note")" = 3 ] || die "the note is not three lines"
readme_debian | sed -n 's/^  //p' |
    grep -A2 "^smtpfe is installed but not switched on" |
    cmp -s - "$W/note" || die "README.Debian does not quote the note"

[ -x /usr/sbin/smtpfe ] || die "no /usr/sbin/smtpfe"
# debian/changelog and SMTPFE_VERSION (smtpfe.h) should name the same
# version; a difference is reported, not failed (the lead sets both).
prog_version=$(/usr/sbin/smtpfe -V | sed 's/^smtpfe //')
[ "$prog_version" = "$V1" ] || echo "   NOTE: smtpfe -V says $prog_version," \
    "the package is $V1: SMTPFE_VERSION in smtpfe.h and debian/changelog" \
    "differ"
ent=$(getent passwd smtpfe) || die "no account smtpfe"
case $ent in
smtpfe:*:*:*:*:/nonexistent:/usr/sbin/nologin) ;;
*) die "account: $ent" ;;
esac
uid=$(id -u smtpfe)
[ "$uid" -lt 1000 ] || die "smtpfe is not a system account (uid $uid)"
[ "$(id -gn smtpfe)" = smtpfe ] || die "smtpfe's group is not smtpfe"
[ ! -e /nonexistent ] || die "/nonexistent exists"
[ "$(stat -c '%U:%G %a' "$SPOOL")" = "root:root 755" ] ||
    die "$SPOOL: $(stat -c '%U:%G %a' "$SPOOL")"
for d in tmp new failed; do
	[ "$(stat -c '%U:%G %a' "$SPOOL/$d")" = "smtpfe:smtpfe 700" ] ||
	    die "$SPOOL/$d: $(stat -c '%U:%G %a' "$SPOOL/$d")"
done
dpkg-query -W -f='${Conffiles}\n' smtpfe | grep -q "^ $CONF " ||
    die "$CONF is not a conffile"
[ "$(stat -c '%U:%G %a' "$CONF")" = "root:root 644" ] || die "$CONF mode"
for f in /usr/share/man/man8/smtpfe.8.gz /usr/share/man/man5/smtpfe.conf.5.gz \
    /usr/share/doc/smtpfe/README.Debian* \
    /usr/share/doc/smtpfe/examples/xinetd.smtpfe; do
	[ -f "$f" ] || die "$f is not installed"
done
UNITS=/lib/systemd/system
for u in smtpfe.socket smtpfe@.service smtpfe-runner.service; do
	[ -f "$UNITS/$u" ] || die "$UNITS/$u is not installed"
done
if grep -rn /usr/local "$UNITS"/smtpfe* /usr/share/doc/smtpfe/examples; then
	die "installed units or examples name /usr/local"
fi
[ "$(find /etc/systemd/system -name 'smtpfe*' | wc -l)" = "$wants_before" ] ||
    die "a unit was enabled: $(find /etc/systemd/system -name 'smtpfe*')"
for u in smtpfe.socket smtpfe-runner.service; do
	st=$(systemctl is-enabled "$u" 2>&1) || true
	[ "$st" = disabled ] || die "systemctl is-enabled $u: $st"
done
[ "$(cat /etc/inetd.conf /etc/xinetd.d/* 2>/dev/null | cksum)" = \
    "$inetd_before" ] || die "inetd.conf or xinetd.d changed"
out=$(systemd-analyze verify "$UNITS/smtpfe.socket" "$UNITS/smtpfe@.service" \
    "$UNITS/smtpfe-runner.service" 2>&1) ||
    die "systemd-analyze verify (installed units): $out"
[ -z "$out" ] || die "systemd-analyze verify (installed units): $out"
say "install: account, spool, conffile, man pages, units (disabled): ok"

# The switch-on commands: the same in README.Debian and smtpfe(8) as
# installed, and what they install is contrib/'s with the package's path.
readme=$(readme_debian | sed "s/sudo //g")
man8=$(zcat /usr/share/man/man8/smtpfe.8.gz | sed 's/\\e/\\/g')
for doc in readme man8; do
	eval "text=\$$doc"
	for cmd in "systemctl enable --now smtpfe.socket smtpfe-runner.service" \
	    "cp /usr/share/doc/smtpfe/examples/xinetd.smtpfe /etc/xinetd.d/smtp && systemctl reload xinetd && systemctl enable --now smtpfe-runner.service"; do
		printf '%s\n' "$text" | grep -qF -- "$cmd" ||
		    die "$doc lacks: $cmd"
	done
	printf '%s\n' "$text" | grep -o "update-inetd --add '[^']*'" \
	    > "$W/inetd-cmd.$doc" || die "$doc: no update-inetd --add"
done
cmp -s "$W/inetd-cmd.readme" "$W/inetd-cmd.man8" ||
    die "README.Debian and smtpfe(8) differ on update-inetd"
entry=$(sed "s/^update-inetd --add '//; s/'\$//; s/\\\\t/ /g" \
    "$W/inetd-cmd.readme")
want=$(grep -v '^#' "$TOP/contrib/inetd.conf" | grep . |
    sed 's|/usr/local/libexec/smtpfe|/usr/sbin/smtpfe|' | tr -s ' \t' '  ')
[ "$entry" = "$want" ] ||
    die "update-inetd line \"$entry\", contrib/inetd.conf \"$want\""
sed 's|/usr/local/libexec/smtpfe|/usr/sbin/smtpfe|' \
    "$TOP/contrib/xinetd.smtpfe" |
    cmp -s - /usr/share/doc/smtpfe/examples/xinetd.smtpfe ||
    die "examples/xinetd.smtpfe is not contrib's with /usr/sbin/smtpfe"
say "switch-on commands: README.Debian and smtpfe(8) agree with contrib/: ok"

rc=0
smtpfe -n > "$W/n1.out" 2>&1 || rc=$?
sed 's/^/    /' "$W/n1.out"
[ "$rc" = 78 ] || die "smtpfe -n before local_domains: exit $rc, want 78"
grep -q "$CONF: local_domains is required" "$W/n1.out" ||
    die "smtpfe -n does not say local_domains is required"
sed -i 's/^#local_domains = example\.org$/local_domains = example.org/' "$CONF"
grep -q '^local_domains = example\.org$' "$CONF" ||
    die "cannot fill in local_domains"
smtpfe -n > "$W/n2.out" 2>&1 ||
    { cat "$W/n2.out" >&2; die "smtpfe -n with local_domains set"; }
say "smtpfe -n: fails until local_domains is set, then: $(cat "$W/n2.out")"
cp -p "$CONF" "$W/conf.local"

# ------------------------------------------------------------ a session
# The installed socket unit, read: what systemd would do with it.
unit_value() {	# FILE KEY - the value of KEY= in FILE
	sed -n "s/^$2=//p" "$1"
}
listen=$(unit_value "$UNITS/smtpfe.socket" ListenStream)
[ "$listen" = 25 ] || die "smtpfe.socket: ListenStream=$listen, want 25"
[ "$(unit_value "$UNITS/smtpfe.socket" Accept)" = yes ] ||
    die "smtpfe.socket: no Accept=yes"
for k in StandardInput StandardOutput; do
	[ "$(unit_value "$UNITS/smtpfe@.service" $k)" = socket ] ||
	    die "smtpfe@.service: $k is not socket"
done
[ -z "$(unit_value "$UNITS/smtpfe@.service" User)" ] ||
    die "smtpfe@.service: a User= (the session must start as root)"
exec_start=$(unit_value "$UNITS/smtpfe@.service" ExecStart)
[ "$exec_start" = /usr/sbin/smtpfe ] ||
    die "smtpfe@.service: ExecStart=$exec_start"
say "smtpfe.socket (ListenStream=25 -> 127.0.0.1:$PORT) + smtpfe@.service:" \
    "systemd-socket-activate --accept --inetd $exec_start"
# shellcheck disable=SC2086
systemd-socket-activate -l "127.0.0.1:$PORT" --accept --inetd $exec_start \
    > "$W/ssa.log" 2>&1 &
SSA_PID=$!
wait_greeting systemd-socket "$PORT" "$SSA_PID" "$W/ssa.log"
id=$(python3 "$CLIENT" --port "$PORT" --source 127.0.0.1 --relay yes \
    --spool "$SPOOL" --tag deb) || die "session through the socket unit"
[ -f "$SPOOL/new/$id" ] || die "no $SPOOL/new/$id"
[ "$(stat -c '%U %a' "$SPOOL/new/$id")" = "smtpfe 600" ] ||
    die "spool file: $(stat -c '%U %a' "$SPOOL/new/$id")"
python3 "$CLIENT" --port "$PORT" --source 127.0.0.1 --jail smtpfe \
    --spool "$SPOOL" --tag deb || die "the session is not jailed"
stop_pid "$SSA_PID"
SSA_PID=""
cp -p "$SPOOL/new/$id" "$W/message"
say "session: 250 queued as $id, in $SPOOL/new, chrooted, as smtpfe: ok"

# ------------------------------------------------------------ upgrade
copy_tree "$W/v2"
sed -i "1s/^smtpfe ($V1)/smtpfe ($V2)/" "$W/v2/src/debian/changelog"
head -1 "$W/v2/src/debian/changelog" | grep -qF "smtpfe ($V2)" ||
    die "cannot set the version $V2"
# The packaged sample changes too, as between real versions: dpkg must
# keep the local file (--force-confold: what a postmaster answers).
echo "# changed in $V2" >> "$W/v2/src/smtpfe.conf"
DEB_BUILD_OPTIONS=nocheck build "$W/v2" "$V2"
say "upgrade to $V2 with the message in new/"
(cd "$W/v2" && $APT -o Dpkg::Options::=--force-confdef \
    -o Dpkg::Options::=--force-confold install "./smtpfe_${V2}_amd64.deb") \
    > "$W/upgrade.out" 2>&1 ||
    { cat "$W/upgrade.out" >&2; die "apt-get install (upgrade)"; }
dpkg-query -W -f='${Version}' smtpfe | grep -qxF "$V2" ||
    die "not upgraded to $V2"
cmp -s "$CONF" "$W/conf.local" || die "the upgrade changed $CONF"
grep -q "# changed in $V2" "$CONF.dpkg-dist" ||
    die "no $CONF.dpkg-dist with the new sample"
cmp -s "$SPOOL/new/$id" "$W/message" || die "the upgrade lost $id"
[ "$(stat -c '%U:%G %a' "$SPOOL/new")" = "smtpfe:smtpfe 700" ] ||
    die "the upgrade changed new/"
grep -q "^smtpfe is installed" "$W/upgrade.out" &&
    die "the note is printed on upgrades too"
smtpfe -n > /dev/null 2>&1 || die "smtpfe -n after the upgrade"
say "upgrade: configuration kept (new sample in .dpkg-dist), message kept: ok"

# ------------------------------------------------------------ remove
$APT remove smtpfe > "$W/remove.out" 2>&1 ||
    { cat "$W/remove.out" >&2; die "apt-get remove"; }
[ ! -e /usr/sbin/smtpfe ] || die "remove left /usr/sbin/smtpfe"
cmp -s "$CONF" "$W/conf.local" || die "remove changed $CONF"
getent passwd smtpfe >/dev/null || die "remove deleted the account"
cmp -s "$SPOOL/new/$id" "$W/message" || die "remove lost $id"
for d in tmp new failed; do
	[ -d "$SPOOL/$d" ] || die "remove deleted $SPOOL/$d"
done
say "remove: program gone; configuration, account, message kept: ok"

# ------------------------------------------------------------ purge
$APT purge smtpfe > "$W/purge.out" 2>&1 ||
    { cat "$W/purge.out" >&2; die "apt-get purge"; }
grep "^smtpfe: " "$W/purge.out" | sed 's/^/    /'
grep -q "^smtpfe: $SPOOL still holds 1 file(s)" "$W/purge.out" ||
    die "purge does not say the spool still holds mail"
getent passwd smtpfe >/dev/null && die "purge left the account"
getent group smtpfe >/dev/null && die "purge left the group"
[ ! -e /etc/smtpfe ] || die "purge left /etc/smtpfe: $(ls -A /etc/smtpfe)"
cmp -s "$SPOOL/new/$id" "$W/message" || die "purge lost $id"
[ "$(stat -c '%U:%G' "$SPOOL/new/$id")" = root:root ] ||
    die "the kept message is not root's"
file_list after-purge
comm -13 "$W/files.before" "$W/files.after-purge" > "$W/new-files"
printf '%s\n' "$SPOOL" "$SPOOL/new" "$SPOOL/new/$id" > "$W/want-left"
grep smtpfe "$W/new-files" > "$W/left" || true
diff "$W/want-left" "$W/left" ||
    die "purge left files of the package (diff: want, got)"
if grep -v smtpfe "$W/new-files" > "$W/other"; then
	echo "   (new files elsewhere, not the package's: other jobs?)"
	sed 's/^/    /' "$W/other" | head -20
fi
left=$(find /etc /usr /lib /var /opt -xdev -uid "$uid" 2>/dev/null |
    head -5)
[ -z "$left" ] || die "files of the removed uid $uid: $left"
say "purge with mail: account and configuration gone, the message kept" \
    "(root's), nothing else left: ok"

# ------------------------------------------------------------ purge, empty
(cd "$W/v2" && $APT install "./smtpfe_${V2}_amd64.deb") \
    > "$W/reinstall.out" 2>&1 ||
    { cat "$W/reinstall.out" >&2; die "apt-get install (again)"; }
[ "$(stat -c '%U' "$SPOOL/new/$id")" = smtpfe ] ||
    die "the reinstall did not hand $id back to smtpfe"
# The runner as the installed smtpfe-runner.service runs it (User=,
# ExecStart= with -q for one pass instead of -Q 60), with a sendmail of
# ours that keeps what it is given: the message the purge kept goes out.
runner_user=$(unit_value "$UNITS/smtpfe-runner.service" User)
runner_exec=$(unit_value "$UNITS/smtpfe-runner.service" ExecStart)
[ "$runner_user" = smtpfe ] || die "smtpfe-runner.service: User=$runner_user"
[ "$runner_exec" = "/usr/sbin/smtpfe -Q 60" ] ||
    die "smtpfe-runner.service: ExecStart=$runner_exec"
mkdir "$W/handed"
chown smtpfe "$W/handed"
printf '#!/bin/sh\necho "$*" > %s/argv\ncat > %s/message\n' \
    "$W/handed" "$W/handed" > "$W/sendmail"
chmod 755 "$W/sendmail"
sed -e 's/^#local_domains = example\.org$/local_domains = example.org/' \
    "$CONF" > "$W/runner.conf"
echo "sendmail = $W/sendmail" >> "$W/runner.conf"
chmod 644 "$W/runner.conf"
rc=0
runuser -u "$runner_user" -- "${runner_exec%% *}" -q -f "$W/runner.conf" \
    > "$W/runner.out" 2>&1 || rc=$?
[ "$rc" = 0 ] || { cat "$W/runner.out" >&2; die "smtpfe -q: exit $rc"; }
[ ! -e "$SPOOL/new/$id" ] || die "the runner left $id in new/"
grep -q "id $id" "$W/handed/message" ||
    die "the runner did not hand off $id"
grep -qx -- "-i -f sender@example.net -- far@foreign.example near@example.org" \
    "$W/handed/argv" ||
    die "sendmail's arguments: $(cat "$W/handed/argv")"
say "the runner (User=$runner_user) hands off the message the purge kept:" \
    "sendmail $(cat "$W/handed/argv")"
# A file of the postmaster's next to the configuration: purge keeps it
# and says so.
echo "@example.org" > /etc/smtpfe/recipients
$APT purge smtpfe > "$W/purge2.out" 2>&1 ||
    { cat "$W/purge2.out" >&2; die "apt-get purge (empty spool)"; }
grep "^smtpfe: " "$W/purge2.out" | sed 's/^/    /'
grep -q "still holds" "$W/purge2.out" &&
    die "purge of an empty spool says it holds mail"
grep -q "^smtpfe: /etc/smtpfe kept: it holds files of yours (recipients)" \
    "$W/purge2.out" || die "purge does not say /etc/smtpfe is kept"
[ -f /etc/smtpfe/recipients ] && [ "$(ls -A /etc/smtpfe)" = recipients ] ||
    die "purge: /etc/smtpfe holds $(ls -A /etc/smtpfe)"
rm -r /etc/smtpfe	# the test's own file
[ ! -e "$SPOOL" ] || die "purge left the empty spool"
getent passwd smtpfe >/dev/null && die "purge left the account"
file_list after-purge2
comm -13 "$W/files.before" "$W/files.after-purge2" | grep smtpfe &&
    die "the second purge left files of the package"
say "reinstall hands the kept message back; purge of an empty spool" \
    "leaves nothing: ok"
say "70-deb: ok in $(( $(date +%s) - stage_start )) s"
