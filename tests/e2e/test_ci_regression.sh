#!/usr/bin/env bash
# tests/e2e/test_ci_regression.sh — CI's regression gate: the small experiment ci/regression.yaml
# (two dynamic ResNet-8 models: every subnet's accuracy, relative latency, and instructions of one
# forward pass counted under callgrind) is run and checked against the committed ci/baseline.yaml with
# `dynn check`; a change that makes a subnet less accurate, relatively slower or execute more
# instructions fails here. Counting needs valgrind and the x86-64-v3 build `make test` makes
# (build-v3/dynn, which then runs the whole experiment); without them the instruction half is skipped
# with the reason. Then the gate itself is tested: fewer epochs (less accurate), a baseline whose
# counts are 5% lower (more instructions), another kernel set and another experiment (refused, exit 2).
. "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
W=$E2E_TMP/ci; mkdir -p "$W"; cd "$W" || exit 1
cp "$ROOT/ci/regression.yaml" regression.yaml
cp "$ROOT/ci/baseline.yaml" baseline.yaml
COUNT=$ROOT/build-v3/dynn why=
if [ "${DYNN_SANITIZE:-0}" = 1 ]; then why="the sanitizer build cannot run under valgrind"
elif [ "$(uname -m)" != x86_64 ]; then why="the committed counts are of x86-64-v3; this is $(uname -m)"
elif ! command -v valgrind >/dev/null; then why="valgrind is not installed (ci/deps.sh installs it)"
elif [ ! -x "$COUNT" ]; then why="no counting build: make BUILD=build-v3 OPT=\"-O3 -march=x86-64-v3\" build-v3/dynn (make test does)"
fi
if [ -n "$why" ]; then # the accuracy and latency half only
  skip "instruction counts against ci/baseline.yaml" "$why"
  sed -i '/^  count:/,$d' regression.yaml
  sed -i '/^instructions:/,$d' baseline.yaml
  COUNT=$DYNN
fi

start=$(date +%s)
out=$("$COUNT" run regression.yaml -j 2 2>&1); rc=$?
if [ $rc -eq 0 ]; then pass "ci/regression.yaml runs ($(( $(date +%s) - start )) s)"; else fail "ci/regression.yaml runs" "$out"; fi
out=$("$COUNT" check last --baseline baseline.yaml 2>&1); rc=$?
printf '%s\n' "$out" | sed 's/^/    /'
if [ $rc -eq 0 ]; then pass "no regression against ci/baseline.yaml"
else fail "no regression against ci/baseline.yaml (exit $rc): a change made a subnet less accurate, slower or execute more instructions;
  if intended, refresh with: make BUILD=build-v3 OPT=\"-O3 -march=x86-64-v3\" build-v3/dynn &&
  build-v3/dynn run ci/regression.yaml && build-v3/dynn check last --baseline ci/baseline.yaml --update"; fi

if [ -z "$why" ]; then
  # the same run against a baseline whose g2 at batch 1 executed 5% fewer instructions: a regression
  awk '/subnet: "g2", instructions:/ && /batch: 1,/ && !done { match($0, /instructions: [0-9]+/);
       n = substr($0, RSTART + 14, RLENGTH - 14); sub(/instructions: [0-9]+/, "instructions: " int(n / 1.05)); done = 1 } 1' \
    baseline.yaml > fewer.yaml
  out=$("$COUNT" check last --baseline fewer.yaml 2>&1); rc=$?
  expect_match "5% more instructions than the baseline: dynn check exits 1" "^1$" "$rc"
  expect_match "  ... naming the subnet" "instructions +incremental/local/b1/callgrind.* g2 .*REGRESSION" "$out"
  # counts of another kernel set are refused, not failed
  sed 's/callgrind x86-64-v3 (/callgrind x86-64-v4 (/' baseline.yaml > v4.yaml
  out=$("$COUNT" check last --baseline v4.yaml 2>&1); rc=$?
  expect_match "another kernel set: dynn check exits 2" "^2$" "$rc"
  expect_match "  ... saying why" "counted by 'callgrind x86-64-v3.*the baseline's by 'callgrind x86-64-v4" "$out"
  # a count does not depend on the heap's history: the same model and point counted with glibc's
  # allocator behaving otherwise (no fast bins, freed memory overwritten) gives the same number (the
  # allocator's own instructions moved a count by up to 2.7% between processes and failed CI)
  model=
  for f in .dynn/store/*/*; do "$COUNT" info "$f" >/dev/null 2>&1 && { model=$f; break; }; done
  count_of() { "$COUNT" profile "$model" --cpus 0 --threads 1 --batch 1 --subnets 0 --warmup 1 --count instructions \
                 --json 2>&1 | grep -o '"instructions": *[0-9]*'; }
  plain=$(count_of)
  other=$(GLIBC_TUNABLES=glibc.malloc.mxfast=0:glibc.malloc.perturb=85 count_of)
  expect_match "a model of the run is in the store" "." "$model"
  expect_match "the count of a forward is a number" '"instructions": *[1-9]' "$plain"
  expect_match "  ... the same whatever the allocator did before ($plain / $other)" "^${plain:-none}$" "$other"
fi

out=$("$COUNT" run regression.yaml -j 2 --set epochs=1 2>&1)
out=$("$COUNT" check last --baseline baseline.yaml 2>&1); rc=$?
expect_match "fewer epochs: dynn check exits 1" "^1$" "$rc"
expect_match "  ... naming the less accurate subnet" "accuracy +(uniform|incremental) +[wg][0-9.]+ .*REGRESSION" "$out"

# a run of another experiment (the README's `make run` then `dynn check last`) is refused in one line
printf 'name: other\nstages:\n  hello:\n    type: exec\n    params: {cmd: ["true"]}\n' > other.yaml
out=$("$DYNN" run other.yaml 2>&1)
out=$("$DYNN" check last --baseline "$ROOT/ci/baseline.yaml" 2>&1); rc=$?
expect_match "another experiment: dynn check exits 2" "^2$" "$rc"
expect_match "  ... naming both experiments" "run is of experiment 'other', the baseline's numbers are of 'ci-regression'" "$out"
e2e_done
