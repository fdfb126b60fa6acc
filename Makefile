# smtpfe - plain make, no autotools.
#
#   make                build ./smtpfe
#   make check          unit tests (Check), session tests, doc checks
#   make check-san      the same suite against an ASan+UBSan build (in san/)
#   make install        PREFIX, DESTDIR, SYSCONFDIR, MANDIR honoured
#   make run            serve on 127.0.0.1:2525 with a sample configuration
#
# Further targets come from mk/*.mk fragments (fuzz, bench, e2e, ...).

PREFIX	?= /usr/local
SYSCONFDIR ?= /etc/smtpfe
MANDIR	?= $(PREFIX)/share/man
LIBEXECDIR ?= $(PREFIX)/libexec
DESTDIR	?=

CC	?= cc
CFLAGS	?= -O2 -g
# O: the object directory; BIN: the program.  check-san reuses the rules
# with O=san.
O	?= obj
BIN	?= smtpfe
STD	= -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
WARN	= -Wall -Wextra -Werror -Wformat=2 -Wshadow -Wstrict-prototypes \
	  -Wmissing-prototypes -Wpointer-arith -Wcast-qual
ALLCFLAGS = $(STD) $(WARN) $(CFLAGS) $(EXTRA_CFLAGS) \
	  -DSYSCONFDIR='"$(SYSCONFDIR)"'
SANFLAGS = -fsanitize=address,undefined -fno-sanitize-recover=all \
	  -fno-omit-frame-pointer

MODULES	= util policy config confcheck netio session spool runner mime sandbox \
	  dnsbl tls utf8 mta queue
LIBOBJS	= $(MODULES:%=$(O)/%.o)
HEADERS	= $(wildcard *.h)
CHECK_SRCS = $(wildcard tests/check_*.c)
CHECK_BINS = $(CHECK_SRCS:tests/%.c=$(O)/%)
CHECK_CFLAGS = $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS = $(shell pkg-config --libs check 2>/dev/null || echo -lcheck)

all: $(BIN)

$(O):
	mkdir -p $(O)

$(O)/%.o: %.c $(HEADERS) | $(O)
	$(CC) $(ALLCFLAGS) -c -o $@ $<

# smtpfe.o compiles SYSCONFDIR in: rebuild it whenever that value changes.
$(O)/sysconfdir.stamp: FORCE | $(O)
	@echo '$(SYSCONFDIR)' > $@.new; \
	    if cmp -s $@.new $@; then rm -f $@.new; else mv $@.new $@; fi

$(O)/smtpfe.o: $(O)/sysconfdir.stamp

FORCE:

# Linked statically by default: a process starts per connection, and the
# dynamic loader alone was 45% of a 1 KB session's instructions (bench/).
# STATIC= links dynamically; the sanitizer build must.
STATIC	?= -static

$(BIN): $(LIBOBJS) $(O)/smtpfe.o
	$(CC) $(ALLCFLAGS) $(LDFLAGS) $(STATIC) -o $@ $(LIBOBJS) $(O)/smtpfe.o

$(O)/check_%: tests/check_%.c $(LIBOBJS) $(HEADERS) tests/check_util.h
	$(CC) $(ALLCFLAGS) -I. $(CHECK_CFLAGS) -Wno-missing-prototypes \
	    -o $@ $< $(LIBOBJS) $(LDFLAGS) $(CHECK_LIBS)

# unit: every tests/check_*.c is a program of its own.
unit: $(BIN) $(CHECK_BINS)
	@set -e; for t in $(CHECK_BINS); do echo "== $$t"; \
	    SMTPFE=$(abspath $(BIN)) ./$$t; done

session: $(BIN)
	SMTPFE=$(abspath $(BIN)) python3 tests/session_test.py

check: unit session check-docs

# The sanitizer run-time wants /proc after the privilege drop: no chroot.
check-san:
	SMTPFE_SAN=1 SMTPFE_TEST_CHROOT=no $(MAKE) O=san BIN=san/smtpfe STATIC= \
	    EXTRA_CFLAGS="$(SANFLAGS)" \
	    LDFLAGS="$(SANFLAGS)" unit session $(SAN_SESSION_TESTS)

# Session test targets of the mk/ fragments that check-san runs too.
SAN_SESSION_TESTS = check-tls check-dnsbl check-utf8

install: $(BIN)
	install -d $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(MANDIR)/man8 \
	    $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(SYSCONFDIR)
	install -m 755 $(BIN) $(DESTDIR)$(LIBEXECDIR)/smtpfe
	install -m 644 man/smtpfe.8 $(DESTDIR)$(MANDIR)/man8/smtpfe.8
	install -m 644 man/smtpfe.conf.5 $(DESTDIR)$(MANDIR)/man5/smtpfe.conf.5
	test -e $(DESTDIR)$(SYSCONFDIR)/smtpfe.conf || \
	    install -m 644 smtpfe.conf $(DESTDIR)$(SYSCONFDIR)/smtpfe.conf

run: $(BIN)
	sh tests/run-sample.sh $(abspath $(BIN))

clean:
	rm -rf obj san smtpfe fuzz-out

.PHONY: all unit session check check-san install run clean check-docs FORCE

-include mk/*.mk
