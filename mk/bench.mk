# bench.mk - "make bench": smtpfe side by side with Postfix and a floor.
#
#   make bench                 the full run (about 15 minutes), as root:
#                              bench.py, then the STARTTLS, dnsbl and
#                              sustained hand-off workloads; one summary
#                              line at the end
#   make bench BENCH_QUICK=1   fewer messages and rounds (1-2 minutes)
#   make bench BENCH_ROUNDS=N  N rounds per workload
#   make bench BENCH_REPORT=bench/RESULTS.md   also write the report there
#   make bench BENCH_FS=dir    spools in BENCH_WORK itself, not on a fresh
#                              ext4 in BENCH_WORK/fs.img (loop-mounted)
#   make bench-profile         perf profiles of smtpfe and the floor
#   make bench-clean           remove the bench programs and the work dir
#
# Needs tcpserver (ucspi-tcp), postfix (smtp-source and a private instance
# under BENCH_WORK; /etc/postfix is left alone), valgrind and python3.
# Not part of "make check" nor of CI.  bench/bench.py says what is
# measured and how.

BENCH_WORK	?= /var/tmp/smtpfe-bench
BENCH_QUICK	?=
BENCH_ROUNDS	?=
BENCH_REPORT	?=
BENCH_FS	?= loop
BENCH_PYTHON	?= python3
BENCH_PROGS	= bench/smtpfe-dynamic bench/floor bench/rsswrap

# The same objects as $(BIN), linked dynamically: what the static default
# saves per connection.
bench/smtpfe-dynamic: $(LIBOBJS) $(O)/smtpfe.o
	$(CC) $(ALLCFLAGS) $(LDFLAGS) -o $@ $(LIBOBJS) $(O)/smtpfe.o

bench/floor: bench/floor.c
	$(CC) $(CFLAGS) -Wall -Wextra -Werror -o $@ bench/floor.c

bench/rsswrap: bench/rsswrap.c
	$(CC) $(CFLAGS) -Wall -Wextra -Werror -o $@ bench/rsswrap.c

BENCH_ARGS	= --smtpfe $(BIN) --dynamic bench/smtpfe-dynamic \
		  --floor bench/floor --rsswrap bench/rsswrap \
		  --work $(BENCH_WORK) --fs $(BENCH_FS) \
		  $(if $(BENCH_QUICK),--quick) \
		  $(if $(BENCH_ROUNDS),--rounds $(BENCH_ROUNDS)) \
		  $(if $(BENCH_REPORT),--report $(BENCH_REPORT))

# Each part writes its output to a file of its own; bench/summary.py
# prints them and then the one summary line, "bench: KEY=VALUE ...", with
# every part's figures (a part with no figure fails the run).  The parts:
# bench.py (plaintext acceptance, RSS, recipients), tls_bench.py
# (STARTTLS: tls_rate_vs_postfix, tls_cpu_vs_floor), dnsbl_bench.py
# (dnsbl_cpu_ratio, dnsbl_wall_added_ms), sustained_bench.py (the hand-off
# by SMTP: e2e_vs_postfix, handoff_latency_ms_p50, ...).
BENCH_PARTS	= $(BENCH_WORK)/parts

bench: $(BIN) $(BENCH_PROGS) bench/tls_floor
	mkdir -p $(BENCH_PARTS)
	$(BENCH_PYTHON) bench/bench.py $(BENCH_ARGS) > $(BENCH_PARTS)/1-main.out
	$(BENCH_PYTHON) bench/tls_bench.py --smtpfe $(BIN) --floor bench/floor \
	    --tls-floor bench/tls_floor $(if $(BENCH_QUICK),--quick) \
	    $(if $(BENCH_ROUNDS),--rounds $(BENCH_ROUNDS)) \
	    > $(BENCH_PARTS)/2-tls.out
	SMTPFE=$(abspath $(BIN)) $(BENCH_PYTHON) bench/dnsbl_bench.py \
	    $(if $(BENCH_QUICK),-n 100 -r 3) > $(BENCH_PARTS)/3-dnsbl.out
	SMTPFE=$(abspath $(BIN)) $(BENCH_PYTHON) bench/sustained_bench.py \
	    $(if $(BENCH_QUICK),--messages 500 --processes 8) \
	    > $(BENCH_PARTS)/4-sustained.out
	$(BENCH_PYTHON) bench/summary.py $(BENCH_PARTS)/1-main.out \
	    $(BENCH_PARTS)/2-tls.out $(BENCH_PARTS)/3-dnsbl.out \
	    $(BENCH_PARTS)/4-sustained.out

# perf record of smtpfe's and the floor's sessions (1 KB c=20, 1 MB c=5):
# where the CPU goes, by symbol and by system call.
bench-profile: $(BIN) $(BENCH_PROGS)
	$(BENCH_PYTHON) bench/bench.py $(BENCH_ARGS) --passes profile

bench-clean:
	rm -f $(BENCH_PROGS)
	if mountpoint -q $(BENCH_WORK)/mnt; then umount $(BENCH_WORK)/mnt; fi
	rm -rf $(BENCH_WORK)

.PHONY: bench bench-profile bench-clean
