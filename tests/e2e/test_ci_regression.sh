#!/usr/bin/env bash
# tests/e2e/test_ci_regression.sh — CI's regression gate: the small experiment ci/regression.yaml
# (two dynamic ResNet-8 models, every subnet's accuracy and relative latency) is run and checked
# against the committed ci/baseline.yaml with `dynn check`; a change that makes a subnet less
# accurate or relatively slower fails here. Then the gate itself is tested: the same experiment
# trained for fewer epochs (a deliberate regression) must be caught, naming the subnet.
. "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
W=$E2E_TMP/ci; mkdir -p "$W"; cd "$W" || exit 1
cp "$ROOT/ci/regression.yaml" .

out=$("$DYNN" run regression.yaml -j 2 2>&1); rc=$?
if [ $rc -eq 0 ]; then pass "ci/regression.yaml runs"; else fail "ci/regression.yaml runs" "$out"; fi
out=$("$DYNN" check last --baseline "$ROOT/ci/baseline.yaml" 2>&1); rc=$?
printf '%s\n' "$out" | sed 's/^/    /'
if [ $rc -eq 0 ]; then pass "no regression against ci/baseline.yaml"
else fail "no regression against ci/baseline.yaml (exit $rc): a change made a subnet less accurate or slower;
  if intended, refresh with: dynn run ci/regression.yaml && dynn check last --baseline ci/baseline.yaml --update"; fi

out=$("$DYNN" run regression.yaml -j 2 --set epochs=1 2>&1)
out=$("$DYNN" check last --baseline "$ROOT/ci/baseline.yaml" 2>&1); rc=$?
expect_match "fewer epochs: dynn check exits 1" "^1$" "$rc"
expect_match "  ... naming the less accurate subnet" "accuracy +(uniform|incremental) +[wg][0-9.]+ .*REGRESSION" "$out"
e2e_done
