# dnsbl.mk - DNS blocklists at the front door (issue 9, item 5).
#
#   make check-dnsbl   tests/session_dnsbl_test.py: the real smtpfe behind
#                      its own -l (TCP 2600-2619), sandboxed, against a fake
#                      DNS server on 127.0.0.53 and ::1 (UDP 5300-5301)
#                      that counts queries: listed, 127.255.255.x, answers
#                      outside 127/8, NXDOMAIN, SERVFAIL/TC, junk and
#                      mismatched answers, no answer (nothing before RCPT
#                      waits; RCPT waits what is left of 3 s), relay
#                      clients never asked, postmaster@ exempt, two zones
#                      in order, IPv6 nibbles, -b and -n.
#                      Ends with "N passed, N failed"; non-zero on failure.
#   make check-san-dnsbl  the same against the ASan+UBSan build (in check-san)
#   make bench-dnsbl   bench/dnsbl_bench.py: CPU and wall time per session
#                      with dnsbl set and unset (prints dnsbl_cpu_ratio=).
#
# The unit tests are tests/check_dnsbl.c (run by `make unit`), the fuzzer
# tests/fuzz/fuzz_dnsbl.c (make fuzz, seeds in tests/fuzz/corpus/dnsbl/); the end-to-end
# stage with dnsmasq and openbsd-inetd is tests/ci/45-dnsbl.sh.

check-dnsbl: $(BIN)
	SMTPFE=$(abspath $(BIN)) python3 tests/session_dnsbl_test.py

bench-dnsbl: $(BIN)
	SMTPFE=$(abspath $(BIN)) python3 bench/dnsbl_bench.py

check: check-dnsbl

.PHONY: check-dnsbl bench-dnsbl

# The same session tests against the ASan+UBSan build, as check-san does
# for the others (no chroot: the sanitizer run-time wants /proc).
check-san: check-san-dnsbl

check-san-dnsbl:
	SMTPFE_SAN=1 SMTPFE_TEST_CHROOT=no $(MAKE) O=san BIN=san/smtpfe \
	    STATIC= EXTRA_CFLAGS="$(SANFLAGS)" LDFLAGS="$(SANFLAGS)" \
	    check-dnsbl

.PHONY: check-san-dnsbl
