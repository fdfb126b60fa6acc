# faults.mk - failed system calls, a full file system, kill -9 (issue 4).
#
#   make faults         the fault matrix: every open, write, fsync, rename
#                       and close of a transaction failed in turn with
#                       ENOSPC and EIO through an LD_PRELOAD shim; then a
#                       real full file system (a 2 MiB tmpfs; needs root)
#   make faults-matrix  only the matrix
#   make faults-fullfs  only the full file system (root)
#   make crash          1000 sessions killed with SIGKILL at random points;
#                       new/ must hold only complete, well-formed messages
#                       (CRASH_SESSIONS, CRASH_JOBS, CRASH_SEED override)
#
# The shim is built without the sanitizers.  It is preloaded into a
# dynamically linked build of the same objects ($(BIN) is static, and a
# static program ignores LD_PRELOAD).

FAULTS_PY	= tests/faults/faults.py
CRASH_SESSIONS	?= 1000
CRASH_JOBS	?= 6
CRASH_SEED	?= 0

$(O)/failshim.so: tests/faults/failshim.c | $(O)
	$(CC) -std=c11 -Wall -Wextra -Werror -Wformat=2 -Wshadow \
	    -Wstrict-prototypes -Wmissing-prototypes -O2 -g -fPIC -shared \
	    -o $@ tests/faults/failshim.c -ldl

$(O)/smtpfe-dynamic: $(LIBOBJS) $(O)/smtpfe.o
	$(CC) $(ALLCFLAGS) $(LDFLAGS) -o $@ $(LIBOBJS) $(O)/smtpfe.o

$(O)/spoolcheck: tests/faults/spoolcheck.c $(LIBOBJS) $(HEADERS)
	$(CC) $(ALLCFLAGS) -I. -o $@ tests/faults/spoolcheck.c $(LIBOBJS) \
	    $(LDFLAGS)

faults: faults-matrix faults-fullfs

faults-matrix: $(O)/smtpfe-dynamic $(O)/failshim.so $(O)/spoolcheck
	python3 $(FAULTS_PY) matrix --bin $(O)/smtpfe-dynamic \
	    --shim $(O)/failshim.so \
	    --spoolcheck $(O)/spoolcheck

faults-fullfs: $(BIN) $(O)/spoolcheck
	python3 $(FAULTS_PY) fullfs --bin $(BIN) --spoolcheck $(O)/spoolcheck

crash: $(BIN) $(O)/spoolcheck
	python3 tests/faults/crash.py --bin $(BIN) \
	    --spoolcheck $(O)/spoolcheck --sessions $(CRASH_SESSIONS) \
	    --jobs $(CRASH_JOBS) --seed $(CRASH_SEED)

.PHONY: faults faults-matrix faults-fullfs crash
