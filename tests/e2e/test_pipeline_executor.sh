#!/usr/bin/env bash
# tests/e2e/test_pipeline_executor.sh — the executor seam end to end: an experiment with `resources:`
# (under `defaults:` and per stage) and `executor:` keys validates and runs, stages on two executors in
# one run; `resources.cpus` is the thread demand the local executor admits by; bad keys and values are
# refused by `dynn validate` at FILE:LINE:COL; and a stage process started by a wrapper that is not the
# runner (as a batch system would start it) runs to its end instead of killing itself.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../pipeline/e2e_helpers.sh"
W=$E2E_TMP/executor; mkdir -p "$W"; cd "$W" || exit 1
DB=$W/.dynn/results.db

cat > res.yaml <<'YAML'
defaults:
  resources: {memory: 2G, time: 30m}
stages:
  a:
    type: exec
    executor: local
    resources: {cpus: 1, gpus: 0, partition: short}
    params: {cmd: [sh, -c, 'echo a ran']}
  b:
    type: exec
    needs: a
    executor: spawn
    resources: {memory: 512M, time: 1h30m}
    params: {cmd: [sh, -c, 'echo b ran']}
  c:
    type: exec
    needs: a
    params: {cmd: [sh, -c, 'echo c ran']}
YAML
expect_ok "validate accepts resources: and executor:" "$DYNN" validate res.yaml
out=$("$DYNN" run res.yaml -j 2 2>&1); rc=$?
expect_eq "a run with resources: and executors local and spawn succeeds" "0 a=FINISHED b=FINISHED c=FINISHED" "$rc $(states)"
expect_match "the spawn stage ran its command" "b ran" "$(cat .dynn/logs/*/b.log)"

# resources.cpus is the demand the local executor admits by: two 1-thread stages asking for 2 cpus each
# in a budget of 2 run one at a time; without cpus they overlap (the control)
cat > par.yaml <<'YAML'
vars: {cpus: 1}
stages:
  p1: {type: exec, resources: {cpus: "${cpus}"}, params: {cmd: [sh, -c, 'date +%s%N > p1.start; sleep 0.4; date +%s%N > p1.end']}}
  p2: {type: exec, resources: {cpus: "${cpus}"}, params: {cmd: [sh, -c, 'date +%s%N > p2.start; sleep 0.4; date +%s%N > p2.end']}}
YAML
overlap() { [ "$(cat p1.start)" -lt "$(cat p2.end)" ] && [ "$(cat p2.start)" -lt "$(cat p1.end)" ]; }
"$DYNN" run par.yaml -j 2 --threads 2 > /dev/null 2>&1
overlap && pass "cpus: 1 each in a budget of 2: the stages overlap" \
  || fail "cpus: 1 each in a budget of 2: the stages overlap" "p1 $(cat p1.start)-$(cat p1.end) p2 $(cat p2.start)-$(cat p2.end)"
"$DYNN" run par.yaml -j 2 --threads 2 --set cpus=2 --force > /dev/null 2>&1 # resources are not in the cache key
overlap && fail "cpus: 2 each in a budget of 2: one at a time" "p1 $(cat p1.start)-$(cat p1.end) p2 $(cat p2.start)-$(cat p2.end)" \
  || pass "cpus: 2 each in a budget of 2: one at a time"

# refused at validation, one line naming FILE:LINE:COL
mkdir -p bad && cd bad || exit 1
printf 'stages:\n  a: {type: exec, executor: pbs, params: {cmd: [true]}}\n' > unknown.yaml
out=$("$DYNN" validate unknown.yaml 2>&1); rc=$?
expect_eq "unknown executor: exit 1" 1 "$rc"
expect_eq "unknown executor: FILE:LINE:COL and the known executors" \
  "dynn validate: unknown.yaml:2:29: stage 'a' has unknown executor 'pbs'; known executors: local, spawn, slurm" "$out"
printf 'stages:\n  a: {type: exec, executor: lcoal, params: {cmd: [true]}}\n' > typo.yaml
expect_fail "misspelt executor: did you mean" "typo.yaml:2:29: stage 'a' has unknown executor 'lcoal' \(did you mean 'local'\?\)" \
  "$DYNN" validate typo.yaml
printf 'stages:\n  a: {type: exec, params: {cmd: [true]}}\n  r:\n    type: report\n    needs: a\n    executor: local\n' > report.yaml
expect_fail "executor: on a report stage is refused" \
  "report.yaml:6:15: stage 'r': 'executor' cannot be set on a report stage: it reads the results database and always runs where the database is" \
  "$DYNN" validate report.yaml
printf 'stages:\n  a: {type: exec, params: {cmd: [true]}, resources: {memory: 4GB}}\n' > memory.yaml
expect_fail "a bad memory size" "memory.yaml:2:62: stage 'a': 'resources.memory' must be a size like 512M or 4G" \
  "$DYNN" validate memory.yaml
printf 'defaults:\n  resources: {tiem: 1h}\nstages:\n  a: {type: exec, params: {cmd: [true]}}\n' > key.yaml
expect_fail "a misspelt resources key" "key.yaml:2:15: unknown key 'tiem' in 'defaults.resources' .* \(did you mean 'time'\?\)" \
  "$DYNN" validate key.yaml
[ ! -e .dynn ] && pass "nothing ran for the refused files" || fail "nothing ran for the refused files" "$(ls -a)"
expect_fail "dynn run --executor with an unknown name" "^dynn run: --executor: unknown executor 'spwan' \(did you mean 'spawn'\?\); known executors: local, spawn, slurm$" \
  "$DYNN" run ../res.yaml --executor spwan --db "$W/other.db"
cd "$W" || exit 1

# a stage process under a wrapper that is not the runner (what an sbatch script would be): it does not
# kill itself for that reason, also with a stale DYNN_PARENT_PID (what the runner used to pass) in its
# environment, and it hands back its records
mkdir -p wrapped/.dynn && cd wrapped || exit 1
cat > desc.json <<JSON
{"version":"1","name":"w","stage":"w","type":"exec","key":"$(printf '0%.0s' $(seq 64))","threads":"1","seed":"0",
 "workdir":"$PWD","state_dir":"$PWD/.dynn","db":"$PWD/.dynn/results.db","run":"wrapped","log":"$PWD/w.log",
 "records":"$PWD/w.rec","scratch":"$PWD/w.scratch","slot_dir":"","plugins":[],
 "params":{"cmd":["sh","-c","sleep 0.2; echo wrapped stage ran"]},"inputs":[]}
JSON
DYNN_PARENT_PID=$$ sh -c '"$1" stage-exec desc.json; echo "rc=$?" > wrapper.rc' wrapper "$DYNN" > w.out 2>&1
expect_eq "under a wrapper: the stage process exits 0" "rc=0" "$(cat wrapper.rc 2>/dev/null)"
expect_match "under a wrapper: the stage's command ran" "wrapped stage ran" "$(cat w.log 2>/dev/null)"
expect_match "under a wrapper: the records say ok" "$(printf '^result\tok')" "$(cat w.rec 2>/dev/null)"

e2e_done
