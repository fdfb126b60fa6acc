#!/bin/sh
# check-docs.sh - the documentation must say what the code does.
#
# usage: tests/check-docs.sh SMTPFE-BINARY
#
# 1. Every configuration key in config.c's key table has an entry
#    (".It Cm key") in man/smtpfe.conf.5 and a "key = ..." line (maybe
#    commented out) in the sample smtpfe.conf, and neither documents a key
#    the code does not know.
# 2. The SYNOPSIS of man/smtpfe.8 and the usage text the program prints
#    name the same invocations: the same options, with the same arguments,
#    in the same forms.  When smtpfe.c calls getopt(), its option string must
#    agree too.
# 3. The sample smtpfe.conf loads without a complaint, as shipped and with
#    every commented-out default switched on.
#
# Run from the top of the source tree (make check-docs does).  Exits 1 on
# the first kind of mismatch found, after printing every difference.

set -u
LC_ALL=C
export LC_ALL

bin=${1:-${SMTPFE:-./smtpfe}}
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
fail=0

die() {
	echo "check-docs: $*" >&2
	exit 1
}

# compare NAME-A FILE-A NAME-B FILE-B WHAT - report lines in one, not in
# the other
compare() {
	if ! cmp -s "$2" "$4"; then
		comm -23 "$2" "$4" | sed "s/^/check-docs: $5 in $1, not in $3: /" >&2
		comm -13 "$2" "$4" | sed "s/^/check-docs: $5 in $3, not in $1: /" >&2
		fail=1
	fi
}

for f in config.c man/smtpfe.conf.5 man/smtpfe.8 smtpfe.conf; do
	[ -f "$f" ] || die "$f is missing (run from the top of the tree)"
done
[ -x "$bin" ] || die "no program to ask for its usage: $bin"

# --- 1. configuration keys ------------------------------------------------

# The key table in config.c, "static const struct conf_key conf_keys[] =
# {" up to "};".  A row names its key first, bare or quoted, either in a
# macro, CK_NUM(max_errors, 1, 10000) or CK_INT("chroot", ...), or in a
# plain initialiser, { "chroot", ... }.
awk '/^static const struct [a-z_]*key[a-z_]* [a-z_]*\[\][[:space:]]*=/ \
    { table = 1; next } table && /^};/ { exit } table' config.c |
    sed -n 's/^[[:space:]]*\([A-Z_][A-Z0-9_]*([[:space:]]*\|{[[:space:]]*\)"\{0,1\}\([a-z][a-z0-9_]*\)"\{0,1\}[[:space:]]*,.*/\2/p' |
    sort > "$tmp/code.raw"
rows=$(awk '/^static const struct [a-z_]*key[a-z_]* [a-z_]*\[\][[:space:]]*=/ \
    { table = 1; next } table && /^};/ { exit }
    table && /^[[:space:]]*([A-Z_][A-Z0-9_]*\(|\{)/ { n++ } END { print n + 0 }' \
    config.c)
[ "$rows" -eq "$(wc -l < "$tmp/code.raw")" ] ||
    die "config.c: the key table has $rows rows, only $(wc -l < "$tmp/code.raw") keys were read"
sort -u "$tmp/code.raw" > "$tmp/code"
n=$(wc -l < "$tmp/code")
[ "$n" -ge 10 ] ||
    die "found only $n keys in config.c: has the key table changed shape?"
[ "$n" -eq "$(wc -l < "$tmp/code.raw")" ] ||
    die "config.c: a key appears twice in the key table"

# The KEYS section of smtpfe.conf.5: one ".It Cm key No = ..." per key.
awk '/^\.Sh /{ keys = ($2 == "KEYS") } keys && /^\.It Cm /{ print $3 }' \
    man/smtpfe.conf.5 | sort > "$tmp/man.raw"
sort -u "$tmp/man.raw" > "$tmp/man"
[ -s "$tmp/man" ] || die "man/smtpfe.conf.5: no KEYS section or no entries"
uniq -d "$tmp/man.raw" | sed 's/^/check-docs: smtpfe.conf.5 twice: /' >&2
cmp -s "$tmp/man" "$tmp/man.raw" || fail=1

# The sample: "key = value" or "#key = value" lines.
sed -n 's/^#\{0,1\}\([a-z][a-z0-9_]*\)[[:space:]]*=.*/\1/p' smtpfe.conf |
    sort > "$tmp/sample.raw"
sort -u "$tmp/sample.raw" > "$tmp/sample"
uniq -d "$tmp/sample.raw" | sed 's/^/check-docs: smtpfe.conf twice: /' >&2
cmp -s "$tmp/sample" "$tmp/sample.raw" || fail=1

compare config.c "$tmp/code" smtpfe.conf.5 "$tmp/man" "key"
compare config.c "$tmp/code" smtpfe.conf "$tmp/sample" "key"

# --- 2. invocations -------------------------------------------------------

# Each invocation becomes one normalised line, such as "-l ARG [ -f ARG ]".

# From the SYNOPSIS of smtpfe.8: every ".Nm" starts an invocation; "Op"
# encloses the rest of its line in brackets; "Fl x" is an option and an
# "Ar" after it (before the next "Fl") its argument.
awk '
function flush() { if (started) print sig; sig = "" }
/^\.Sh / { if (syn) flush(); syn = ($2 == "SYNOPSIS"); started = 0; next }
!syn { next }
/^\.Nm/ { flush(); started = 1; next }
{
	line = ""; opt = 0; arg = 0
	for (i = 1; i <= NF; i++) {
		w = $i; sub(/^\./, "", w)
		if (w == "Op") { line = line " ["; opt++ }
		else if (w == "Fl") { line = line " -" $(i + 1); i++; arg = 0 }
		else if (w == "Ar" && !arg) { line = line " ARG"; arg = 1 }
	}
	while (opt-- > 0) line = line " ]"
	sig = sig line
}
END { if (syn) flush() }' man/smtpfe.8 |
    sed 's/^ *//; s/  */ /g; s/ *$//' | sort > "$tmp/synopsis"
[ -s "$tmp/synopsis" ] || die "man/smtpfe.8: no SYNOPSIS"

# From the program: an unknown option must print the usage text and exit
# 64 (EX_USAGE), as smtpfe.8 says.
rc=0
timeout 10 "$bin" -Z < /dev/null > "$tmp/usage.out" 2>&1 || rc=$?
[ "$rc" -eq 64 ] ||
    die "$bin -Z exited $rc, smtpfe.8 (EXIT STATUS) says 64"
sed -n '/usage:/,$p' "$tmp/usage.out" > "$tmp/usage.txt"
[ -s "$tmp/usage.txt" ] || die "$bin -Z printed no \"usage:\" text"

# "usage: smtpfe A | B | ..." or one "smtpfe ..." line per invocation.
sed 's/^.*usage://' "$tmp/usage.txt" | tr '|' '\n' |
    sed 's/^[[:space:]]*smtpfe\([[:space:]]\|$\)//' |
    awk '/^[[:space:]]*$/ { next }
    {
	gsub(/\[/, " [ "); gsub(/\]/, " ] ")
	sig = ""
	for (i = 1; i <= NF; i++) {
		w = $i
		if (w ~ /^-[A-Za-z0-9]$/ || w == "[" || w == "]")
			sig = sig " " w
		else
			sig = sig " ARG"
	}
	print sig
    }' |
    sed 's/^ *//; s/  */ /g; s/ *$//; s/^$/(no options)/' |
    sort > "$tmp/usage"
sed -i 's/^$/(no options)/' "$tmp/synopsis"
sort -o "$tmp/synopsis" "$tmp/synopsis"
compare smtpfe.8 "$tmp/synopsis" usage "$tmp/usage" "invocation"

# The options alone, "x" or "x:" as getopt() spells them.
opts() {
	tr ' ' '\n' < "$1" | awk '
	    /^-/ { if (o != "") print o; o = substr($0, 2); next }
	    $0 == "ARG" && o != "" { print o ":"; o = ""; next }
	    { if (o != "") print o; o = "" }
	    END { if (o != "") print o }' | sort -u
}
opts "$tmp/synopsis" > "$tmp/synopsis.opts"
opts "$tmp/usage" > "$tmp/usage.opts"
compare smtpfe.8 "$tmp/synopsis.opts" usage "$tmp/usage.opts" "option"

if [ -f smtpfe.c ] && grep -q 'getopt(' smtpfe.c; then
	sed -n 's/.*getopt([^"]*"\([^"]*\)".*/\1/p' smtpfe.c | head -1 |
	    sed 's/^[+:]*//' |
	    awk '{ for (i = 1; i <= length($0); i++) {
		c = substr($0, i, 1)
		if (substr($0, i + 1, 1) == ":") { print c ":"; i++ }
		else print c } }' | sort -u > "$tmp/getopt.opts"
	[ -s "$tmp/getopt.opts" ] || die "smtpfe.c: cannot read getopt()'s option string"
	compare smtpfe.8 "$tmp/synopsis.opts" "getopt() in smtpfe.c" \
	    "$tmp/getopt.opts" "option"
fi

# --- 3. the sample is a valid configuration --------------------------------

# As shipped, and with every commented-out "#key = default" line switched
# on: the documented defaults must be values the loader accepts.  Only the
# loader's "FILE:LINE: ..." complaints count; -n's findings about the
# spool and the recipients file of this machine do not.
cp smtpfe.conf "$tmp/sample.conf"
# First make sure that such a complaint would be seen at all.
printf 'local_domains = example.org\nno_such_key = 1\n' > "$tmp/bad.conf"
timeout 10 "$bin" -n -f "$tmp/bad.conf" < /dev/null > "$tmp/n.out" 2>&1
grep -q -F "$tmp/bad.conf:2:" "$tmp/n.out" ||
    die "$bin -n does not report an unknown key as FILE:LINE"
sed 's/^#\([a-z][a-z0-9_]*[[:space:]]*=\)/\1/' smtpfe.conf > "$tmp/all.conf"
for conf in "$tmp/sample.conf" "$tmp/all.conf"; do
	timeout 10 "$bin" -n -f "$conf" < /dev/null > "$tmp/n.out" 2>&1
	# (-n's own "FILE: ok" line is no complaint: it appears when this
	# machine happens to have the sample's user and spool.)
	if grep -F "$conf:" "$tmp/n.out" | grep -v -x -F "smtpfe: $conf: ok" \
	    > "$tmp/n.err"; then
		sed "s|^|check-docs: sample smtpfe.conf: |" "$tmp/n.err" >&2
		fail=1
	fi
done
[ "$(grep -c '^[a-z]' "$tmp/all.conf")" -eq "$n" ] ||
    die "smtpfe.conf: not every key has a (commented) default line"

if [ "$fail" -ne 0 ]; then
	echo "check-docs: FAILED" >&2
	exit 1
fi
echo "check-docs: $n keys, $(wc -l < "$tmp/usage") invocations and the sample smtpfe.conf agree"
