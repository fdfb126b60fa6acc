# utf8.mk - internationalized mail: SMTPUTF8 and IDN domains (issue 12).
#
#   make check-utf8          tests/session_utf8_test.py: every UTF-8 row
#                            of SPEC's dialogue table against a private
#                            "smtpfe -l" (ports 2640-2659), the spool file
#                            byte for byte, U-label and A-label
#                            local_domains and recipients, -b, and
#                            Python's smtplib as the client.  Ends with
#                            "N passed, N failed"; non-zero on failure.
#   make check-utf8-vectors  tests/utf8/gen_vectors.py --check: the RFC
#                            3492 samples of tests/utf8/punycode_vectors.h
#                            (used by tests/check_utf8.c) agree with
#                            Python's punycode codec both ways.
#
# The Check program tests/check_utf8.c runs with "make unit"; the system
# Postfix end to end is the CI stage tests/ci/25-utf8.sh.

$(O)/check_utf8: tests/utf8/punycode_vectors.h

check-utf8: $(BIN)
	SMTPFE=$(abspath $(BIN)) python3 tests/session_utf8_test.py

check-utf8-vectors:
	python3 tests/utf8/gen_vectors.py --check

check: check-utf8 check-utf8-vectors

.PHONY: check-utf8 check-utf8-vectors
