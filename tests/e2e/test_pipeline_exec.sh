#!/usr/bin/env bash
# tests/e2e/test_pipeline_exec.sh — the exec stage under `dynn run`: `timeout:` (a hung command fails
# its stage and leaves no process behind, one ignoring SIGTERM too), and metrics from a large output
# in linear time.
# `timeout N` around the runs only catches hangs; nothing here asserts a duration.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../pipeline/e2e_helpers.sh"
W=$E2E_TMP/exec; mkdir -p "$W"; cd "$W" || exit 1
DB=$W/.dynn/results.db

# ---- timeout ----
cat > hung.yaml <<'YAML'
stages:
  hung:
    type: exec
    params:
      cmd: [sh, -c, 'echo $$ > "hung.pid"; sleep 1000 & echo $! > "hung-child.pid"; wait']
      timeout: 2s
  stubborn:
    type: exec
    params:
      cmd: [sh, -c, 'trap "" TERM; echo $$ > "stubborn.pid"; sleep 1000']
      timeout: 1s
YAML
out=$(timeout 120 "$DYNN" run hung.yaml -j 2 2>&1); rc=$?
expect_eq "a timed-out stage fails the run" "1 hung=FAILED stubborn=FAILED" "$rc $(states)"
expect_match "the failure names the timeout" "FAILED +hung .*'sh' timed out after 2s: its processes got SIGTERM " "$out"
expect_match "SIGKILL when SIGTERM is ignored" "FAILED +stubborn .*'sh' timed out after 1s: its processes got SIGTERM, then SIGKILL" "$out"
expect_eq "the error is recorded" "'sh' timed out after 2s: its processes got SIGTERM" "$(q "SELECT error FROM stages WHERE name = 'hung'")"
for f in hung.pid hung-child.pid stubborn.pid; do
  if [ ! -s "$f" ]; then fail "$f was written"; continue; fi
  alive "$(cat "$f")" && fail "no process left: $f" "$(ps -o pid,stat,cmd -p "$(cat "$f")")" || pass "no process left: $f"
done
printf '%s\n' 'stages:' "  x: {type: exec, params: {cmd: [sleep, '1'], timeout: 2 minutes}}" > bad_timeout.yaml
expect_fail "a bad timeout is refused at validation" "^dynn validate: bad_timeout.yaml:2:56: stage 'x': 'timeout' must be a duration like 30s, 5m, 1h30m or 1.5h \(units ms, s, m, h, d\), not '2 minutes'$" \
  timeout 60 "$DYNN" validate bad_timeout.yaml

# ---- metrics from a large output: 16 MB, 262144 matches, linear ----
cat > big.yaml <<'YAML'
stages:
  log:
    type: exec
    params:
      cmd: [sh, -c, 'awk "BEGIN { for (i = 0; i < 262144; i++) printf \"step %9d of the epoch, loss %.6f, lr 0.1 pad pad\\n\", i, 1 / (i + 1) }"']
      metrics: {loss: 'loss ([0-9.]+)'}
YAML
out=$(timeout 60 "$DYNN" run big.yaml 2>&1); rc=$?
expect_eq "16 MB of output: the stage finishes (hang guard 60 s)" "0 log=FINISHED" "$rc $(states)"
expect_eq "every match is a step" "262144 262143 0.000004" "$(q "SELECT count(*) || ' ' || max(step) || ' ' || printf('%.6f', min(value)) FROM metrics WHERE name = 'loss'")"
e2e_done
