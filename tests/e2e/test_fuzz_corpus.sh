#!/usr/bin/env bash
# tests/e2e/test_fuzz_corpus.sh — every fuzz target (fuzz/fuzz_NAME.c: libFuzzer, ASan, UBSan) runs
# once over each input of its corpus (fuzz/corpus/NAME: seeds and the regressions the fuzzers found),
# with allocations capped, and generates no new input: an input that crashes, leaks, hits undefined
# behaviour, allocates without bound or hangs again fails here. Builds the targets first if needed
# (`make fuzz-build`, clang; `make test` has already done so).
. "$(dirname "$0")/lib.sh"
ROOT=${DYNN_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$ROOT" || exit 1

if out=$(make -s --no-print-directory fuzz-build 2>&1); then pass "fuzz targets build (clang, ASan, UBSan)"
else fail "fuzz targets build" "$out"; e2e_done; fi

for src in fuzz/fuzz_*.c; do
  t=$(basename "$src" .c); t=${t#fuzz_}
  inputs=(fuzz/corpus/"$t"/*)
  if [ ! -e "${inputs[0]}" ]; then fail "fuzz_$t: corpus fuzz/corpus/$t is empty"; continue; fi
  # (timeout: only to catch a hang; the whole corpus takes seconds)
  out=$(ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        timeout 300 build-fuzz/fuzz/fuzz_"$t" -rss_limit_mb=2048 -malloc_limit_mb=256 -timeout=30 \
        "${inputs[@]}" < /dev/null 2>&1); rc=$?
  ran=$(printf '%s\n' "$out" | grep -c '^Executed ')
  if [ $rc -eq 0 ] && [ "$ran" -eq ${#inputs[@]} ]; then pass "fuzz_$t: all ${#inputs[@]} corpus inputs run clean"
  else fail "fuzz_$t over its corpus" "exit $rc, $ran of ${#inputs[@]} inputs run" "$(printf '%s\n' "$out" | tail -30)"; fi
done
e2e_done
