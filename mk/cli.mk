# cli.mk - the postmaster's side of smtpfe (issue 5).
#
#   make check-cli   tests/cli_test.py: usage and -V, every -n problem,
#                    -b (explanations, nothing spooled, bad IP), how the
#                    client address is found (socket, TCPREMOTEIP,
#                    unknown), make install into a DESTDIR, and contrib/
#                    against smtpfe.8 (systemd-analyze verify when
#                    installed).  Root-only tests print "not run (needs
#                    root)" otherwise and do not count as passed.
#                    Ends with "N passed, N failed"; non-zero on failure.
#
# The launchers themselves (inetd, xinetd, tcpserver, syslog from the
# chroot) are tested end to end by the CI stage tests/ci/60-launchers.sh.

check-cli: $(BIN)
	SMTPFE=$(abspath $(BIN)) python3 tests/cli_test.py

check: check-cli

.PHONY: check-cli
