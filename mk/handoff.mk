# handoff.mk - the hand-off to the MTA by SMTP, and the queue tools
# (issue 11).
#
#   make check-queue   tests/queue_test.py: smtpfe -p and -r (exit codes,
#                      IDs with "/", -r while a -Q runner runs) and -Q
#                      with handoff = smtp against a small fake MTA.
#                      Ends with "N passed, N failed".
#   make bench-sustained
#                      bench/sustained_bench.py: smtp-source into smtpfe
#                      with a -Q runner handing off by SMTP to a private
#                      Postfix, against smtp-source straight into it.
#
# tests/check_mta.c (the SMTP client against a scripted fake MTA) is a
# Check program like the others: "make unit" runs it.

check-queue: $(BIN)
	SMTPFE=$(abspath $(BIN)) python3 tests/queue_test.py

check: check-queue

bench-sustained: $(BIN)
	SMTPFE=$(abspath $(BIN)) python3 bench/sustained_bench.py

.PHONY: check-queue bench-sustained
