# runner.mk - the runner's test helpers and end-to-end targets (issue 3).
#
#   make e2e     inetd -> smtpfe -> spool -> smtpfe -q -> Postfix -> mailbox
#                (root; configures the system Postfix: CI or a dev VM only)
#   make load    the same path under load; N_CLIENTS, N_MSGS, SIZE

# The fake sendmail is built next to the Check programs, which find it there.
$(O)/fake-sendmail: tests/fake-sendmail/fake-sendmail.c | $(O)
	$(CC) $(STD) $(WARN) $(CFLAGS) -o $@ tests/fake-sendmail/fake-sendmail.c

$(O)/check_runner: $(O)/fake-sendmail

e2e: $(BIN)
	sh tests/ci/20-postfix.sh

load: $(BIN)
	sh tests/load.sh

.PHONY: e2e load
