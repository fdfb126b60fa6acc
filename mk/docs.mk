# docs.mk - the documentation is checked like code (STYLE.md, Tests 4).
#
#   make check-docs     mandoc -Tlint must print nothing for any page, and
#                       tests/check-docs.sh must find the configuration keys
#                       and the options of the code in the pages and in the
#                       sample smtpfe.conf (and nothing more).

DOCS_MANPAGES = man/smtpfe.8 man/smtpfe.conf.5

check-docs: $(BIN)
	@command -v mandoc >/dev/null || \
	    { echo "check-docs: mandoc is not installed" >&2; exit 1; }
	@out=$$(mandoc -Tlint -Wwarning man/*.[0-9] 2>&1); \
	if [ -n "$$out" ]; then \
	    echo "$$out" >&2; echo "check-docs: mandoc -Tlint FAILED" >&2; \
	    exit 1; \
	fi; echo "check-docs: mandoc -Tlint -Wwarning: clean ($(DOCS_MANPAGES))"
	sh tests/check-docs.sh $(abspath $(BIN))
