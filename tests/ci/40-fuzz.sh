#!/bin/bash
# 40-fuzz.sh - CI stage: build every libFuzzer target (mk/fuzz.mk) with
# clang, ASan and UBSan, and run each for FUZZ_SECONDS (default 60) from
# its seed corpus.  Any crash, sanitizer report, leak or hang fails.
set -euo pipefail
cd "$(dirname "$0")/../.."

# clang and its libFuzzer runtime are in the base set; install them if a
# runner lacks them, and fail loudly if that does not work.
if ! command -v clang >/dev/null ||
    ! ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a \
    >/dev/null 2>&1; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang \
	    libclang-rt-14-dev >/dev/null
fi

rm -rf fuzz-out/corpus fuzz-out/artifacts
make -s fuzz
make fuzz-ci FUZZ_SECONDS="${FUZZ_SECONDS:-60}"
# The targets leave nothing behind but fuzz-out/ (removed by make clean).
rm -rf fuzz-out/corpus
