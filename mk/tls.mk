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

# The same tests against the ASan+UBSan build (as check-san builds it).
check-tls-san:
	$(MAKE) O=san BIN=san/smtpfe STATIC= EXTRA_CFLAGS="$(SANFLAGS)" \
	    LDFLAGS="$(SANFLAGS)" san/smtpfe
	SMTPFE_SAN=1 SMTPFE_TEST_CHROOT=no SMTPFE=$(abspath san/smtpfe) \
	    python3 tests/session_tls_test.py

.PHONY: check-tls check-tls-san

# make bench-tls: the STARTTLS workload (1 KB, 1 msg/conn, c=20) for
# smtpfe, Postfix's smtpd (smtpd_tls_security_level = may) and the TLS
# floor; as root, about 3 minutes (BENCH_QUICK=1: under one).  Ends with
# "tls_rate_vs_postfix=R tls_cpu_vs_floor=F".  bench/tls_bench.py says
# what is measured and how.
bench/tls_floor: bench/tls_floor.c
	$(CC) $(CFLAGS) -Wall -Wextra -Werror -o $@ bench/tls_floor.c

bench-tls: $(BIN) bench/floor bench/tls_floor
	$(BENCH_PYTHON) bench/tls_bench.py --smtpfe $(BIN) --floor bench/floor \
	    --tls-floor bench/tls_floor $(if $(BENCH_QUICK),--quick) \
	    $(if $(BENCH_ROUNDS),--rounds $(BENCH_ROUNDS))

.PHONY: bench-tls
