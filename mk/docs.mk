# docs.mk - placeholder until the man pages land.
check-docs:
	@echo "check-docs: no man pages yet"
