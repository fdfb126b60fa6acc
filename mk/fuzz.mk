# fuzz.mk - libFuzzer targets.
#
#   make fuzz      build every tests/fuzz/fuzz_NAME.c into fuzz-out/fuzz_NAME
#   make fuzz-ci   run each target for FUZZ_SECONDS (default 60); any crash,
#                  sanitizer report, leak or hang fails
#
# Adding a target takes one file: tests/fuzz/fuzz_NAME.c, which defines
# LLVMFuzzerTestOneInput (and, if it needs one, LLVMFuzzerInitialize) and is
# linked with every module of $(MODULES), built here with clang and the
# sanitizers into fuzz-out/o/.  Seeds go in tests/fuzz/corpus/NAME/ and an
# optional dictionary in tests/fuzz/NAME.dict; both are picked up by name.
# What a run finds is written to fuzz-out/artifacts/NAME-*; rerun one with
# "fuzz-out/fuzz_NAME FILE".  New corpus entries go to fuzz-out/corpus/NAME,
# never into the source tree.

FUZZ_CC		?= clang
FUZZ_SECONDS	?= 60
FUZZ_OUT	= fuzz-out
# The sanitizers abort on the first report, so that every report is a
# finding.  Warnings are errors here too, as in every build.
FUZZ_SAN	= -fsanitize=address,undefined -fno-sanitize-recover=all \
		  -fno-omit-frame-pointer
FUZZ_CFLAGS	= $(STD) $(WARN) -O1 -g $(FUZZ_SAN) \
		  -DSYSCONFDIR='"$(SYSCONFDIR)"'
FUZZ_SRCS	= $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_NAMES	= $(FUZZ_SRCS:tests/fuzz/fuzz_%.c=%)
FUZZ_BINS	= $(FUZZ_NAMES:%=$(FUZZ_OUT)/fuzz_%)
FUZZ_OBJS	= $(MODULES:%=$(FUZZ_OUT)/o/%.o)

$(FUZZ_OUT)/o/%.o: %.c $(HEADERS)
	@mkdir -p $(FUZZ_OUT)/o
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_OUT)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_OBJS) $(HEADERS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -I. -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJS)

fuzz: $(FUZZ_BINS)

# -timeout: an input that takes 10 s is a hang; -rss_limit_mb: the
# modules work in fixed memory, so 2 GB (ASan's quarantine included) is a
# leak or a runaway.  Paths are absolute: a target may chdir.
FUZZ_ABS	= $(CURDIR)/$(FUZZ_OUT)

fuzz-ci: fuzz
	@set -e; mkdir -p $(FUZZ_OUT)/artifacts; \
	for n in $(FUZZ_NAMES); do \
	    mkdir -p $(FUZZ_OUT)/corpus/$$n; \
	    seeds=; test -d tests/fuzz/corpus/$$n && \
	        seeds=$(CURDIR)/tests/fuzz/corpus/$$n; \
	    dict=; test -f tests/fuzz/$$n.dict && \
	        dict=-dict=$(CURDIR)/tests/fuzz/$$n.dict; \
	    echo "== fuzz_$$n for $(FUZZ_SECONDS) s"; \
	    if ! $(FUZZ_ABS)/fuzz_$$n -max_total_time=$(FUZZ_SECONDS) \
	        -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	        -artifact_prefix=$(FUZZ_ABS)/artifacts/$$n- $$dict \
	        $(FUZZ_ABS)/corpus/$$n $$seeds \
	        >$(FUZZ_OUT)/$$n.log 2>&1; then \
	        tail -n 60 $(FUZZ_OUT)/$$n.log; \
	        echo "fuzz-ci: fuzz_$$n found a problem;" \
	            "see $(FUZZ_OUT)/$$n.log and $(FUZZ_OUT)/artifacts/"; \
	        exit 1; \
	    fi; \
	    grep -E '^stat::(number_of_executed_units|peak_rss_mb)' \
	        $(FUZZ_OUT)/$$n.log || true; \
	done; echo "fuzz-ci: all targets ran $(FUZZ_SECONDS) s clean"

.PHONY: fuzz fuzz-ci
