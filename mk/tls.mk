# tls.mk - STARTTLS through tls_wrapper (issue 10).
#
#   make check-tls   tests/session_tls_test.py: every row of SPEC.md
#                    "STARTTLS" against a real stunnel4 (the CVE-2011-0411
#                    injection from relay and non-relay clients, bytes
#                    after the 220, 501/503/502, the session starting
#                    over, "with ESMTPS"), the processes of a TLS session
#                    (one filtered, all non-root, chrooted), certificate
#                    renewal without a restart, -n and -b.  Needs
#                    stunnel4 and openssl: a missing one fails the run.
#                    Ends with "N passed, N failed"; non-zero on failure.
#
# End to end (inetd, swaks, openssl s_client, Postfix, testssl.sh): the
# CI stage tests/ci/65-tls.sh.  The benchmark: bench/tls_bench.py.

check-tls: $(BIN)
	SMTPFE=$(abspath $(BIN)) python3 tests/session_tls_test.py

check: check-tls

.PHONY: check-tls
