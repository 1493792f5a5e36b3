#!/usr/bin/env bash
# tests/e2e/test_pipeline_run.sh — `dynn run` end to end with exec stages: results in the database,
# cache hits, invalidation of exactly one stage and what depends on it, --force, --only, parallel
# execution, the thread budget, failures with and without --keep-going, metrics, and the read
# commands (status, show, runs, compare, query, dag, validate).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../pipeline/e2e_helpers.sh"
W=$E2E_TMP/run; mkdir -p "$W"; cd "$W" || exit 1
DB=$W/.dynn/results.db

cat > chain.yaml <<'YAML'
name: chain
vars:
  scale: 2
  label: same
stages:
  a:
    type: exec
    params: {cmd: [sh, -c, 'echo 21 > a.txt'], outs: [a.txt]}
  b:
    type: exec
    needs: a
    params:
      cmd: [sh, -c, 'echo $(( $(cat a.txt) * ${scale} )) > b.txt; echo "b ran: ${label}"']
      outs: [b.txt]
  c:
    type: exec
    needs: b
    params:
      cmd: [sh, -c, 'echo "value=$(cat b.txt)"; echo c >> c.runs']
      metrics: {value: 'value=(\d+)'}
  d:
    type: exec
    params: {cmd: [sh, -c, 'echo "loss=0.5 loss=0.25 loss=0.125"'], metrics: {loss: 'loss=([0-9.]+)'}}
YAML

out=$("$DYNN" run chain.yaml -j 2 2>&1); rc=$?
expect_eq "first run exits 0" 0 "$rc"
expect_eq "first run: every stage ran" "a=FINISHED b=FINISHED c=FINISHED d=FINISHED" "$(states)"
expect_eq "metric extracted from output" "42" "$(q "SELECT value FROM metrics WHERE name = 'value'")"
expect_eq "every match is a step" "0:0.5 1:0.25 2:0.125" "$(q "SELECT step || ':' || value FROM metrics WHERE name = 'loss' ORDER BY step" | tr '\n' ' ' | sed 's/ $//')"
expect_match "one line per state change" 'FINISHED c' "$out"
expect_eq "artifacts stored by content" "2" "$(q "SELECT count(*) FROM artifacts")"
[ -f .dynn/store/$(q "SELECT substr(hash, 1, 2) || '/' || substr(hash, 3) FROM artifacts WHERE name = 'b.txt'") ] \
  && pass "artifact is in .dynn/store" || fail "artifact is in .dynn/store"
expect_eq "provenance recorded" "1" "$(q "SELECT count(*) FROM runs WHERE host <> '' AND cpu_model <> '' AND git_commit <> '' AND build_id <> ''")"

"$DYNN" run chain.yaml -j 2 > /dev/null 2>&1
expect_eq "second run: all cached" "a=CACHED b=CACHED c=CACHED d=CACHED" "$(states)"
expect_eq "cached stages did not run again" "1" "$(wc -l < c.runs | tr -d ' ')"

# a deleted workspace output comes back from the store on a cache hit
rm -f b.txt
"$DYNN" run chain.yaml > /dev/null 2>&1
expect_eq "cached output restored" "42" "$(cat b.txt 2>/dev/null)"

# one param of b changes: b and c re-run (b's output changed), a and d stay cached
"$DYNN" run chain.yaml --set scale=3 > /dev/null 2>&1
expect_eq "changing b re-runs b and c only" "a=CACHED b=FINISHED c=FINISHED d=CACHED" "$(states)"
expect_eq "new value" "63" "$(q "SELECT value FROM metrics WHERE name = 'value' ORDER BY id DESC LIMIT 1")"
# a change that leaves b's output the same: b re-runs, c is cached (keys use output hashes)
"$DYNN" run chain.yaml --set scale=3 --set label=other > /dev/null 2>&1
expect_eq "same output, dependents cached" "a=CACHED b=FINISHED c=CACHED d=CACHED" "$(states)"

"$DYNN" run chain.yaml --force > /dev/null 2>&1
expect_eq "--force runs everything" "a=FINISHED b=FINISHED c=FINISHED d=FINISHED" "$(states)"
"$DYNN" run chain.yaml --force '^d$' > /dev/null 2>&1
expect_eq "--force REGEX runs the matches" "a=CACHED b=CACHED c=CACHED d=FINISHED" "$(states)"
"$DYNN" run chain.yaml --only '^b$' > /dev/null 2>&1
expect_eq "--only runs a stage and what it needs" "a=CACHED b=CACHED" "$(states)"
expect_fail "--only with a bad pattern" "--only: bad pattern 'b\(' at offset 2" "$DYNN" run chain.yaml --only 'b('

# read commands
expect_match "runs lists the runs" 'chain +FINISHED' "$("$DYNN" runs --db "$DB")"
expect_match "status shows stages" 'b +CACHED' "$("$DYNN" status --db "$DB")"
first=$(q "SELECT uuid FROM runs ORDER BY id LIMIT 1")
expect_match "show has params" 'a +cmd\.2 +echo 21 > a\.txt' "$("$DYNN" show "${first:0:6}" --db "$DB")"
expect_match "show --json has metrics" '"metrics":\[\{"stage":"d","subnet":null,"metric":"loss","value":0.125,"step":2,"steps":3\}' "$("$DYNN" show "$first" --db "$DB" --json)"
scaled=$(q "SELECT uuid FROM runs WHERE argv LIKE '%scale=3' ORDER BY id LIMIT 1")
expect_match "compare shows deltas" '^c,,value,42,63,21,50$' "$("$DYNN" compare "${first:0:8}" "${scaled:0:8}" --db "$DB" --csv)"
for cmd in "runs" "status" "status last" "show last" "show last --json" "runs --csv"; do
  expect_ok "dynn $cmd exits 0" "$DYNN" $cmd --db "$DB"
done
expect_ok "query exits 0" "$DYNN" query "SELECT 1" --db "$DB"
expect_ok "dag exits 0" "$DYNN" dag chain.yaml --json
expect_ok "compare exits 0" "$DYNN" compare "${first:0:8}" last --db "$DB"
expect_fail "ambiguous or unknown run" "no run 'ffffffff'" "$DYNN" show ffffffff --db "$DB"
before=$(q "SELECT count(*) FROM experiments")
expect_fail "query refuses INSERT" "refused: only read-only statements" "$DYNN" query --db "$DB" "INSERT INTO experiments(name, created_at) VALUES ('x', 1)"
expect_eq "nothing was inserted" "$before" "$(q "SELECT count(*) FROM experiments")"
expect_match "query --json" '^\[\{"n":4\}\]$' "$("$DYNN" query --db "$DB" --json "SELECT count(*) AS n FROM stages WHERE run_id = 1")"
expect_match "dag --dot" '"a" -> "b";' "$("$DYNN" dag chain.yaml --dot)"
expect_match "dag tree" '└── b' "$("$DYNN" dag chain.yaml)"
expect_match "validate" 'ok — experiment .chain., 4 stages, 4 instances, 2 dependencies' "$("$DYNN" validate chain.yaml)"

# an invalid file: one line naming file:line:column, and nothing runs (no database appears)
mkdir -p invalid && cat > invalid/bad.yaml <<'YAML'
stages:
  train: {type: exec, params: {cmd: [echo]}}
  eval: {type: exec, needs: [trian], params: {cmd: [echo]}}
YAML
out=$(cd invalid && "$DYNN" run bad.yaml 2>&1); rc=$?
expect_eq "invalid file exits 1" 1 "$rc"
expect_eq "invalid file: one precise line" "dynn run: bad.yaml:3:30: stage 'eval' needs unknown stage 'trian' (did you mean 'train'?)" "$out"
[ ! -e invalid/.dynn ] && pass "invalid file: nothing ran" || fail "invalid file: nothing ran" "$(ls -la invalid)"
expect_fail "usage error" "unknown option '--jbos' \(did you mean '--jobs'\?\)" "$DYNN" run chain.yaml --jbos 2

# parallel: two 0.4 s stages overlap at -j 2, and not at -j 1 or when their threads fill the budget
cat > par.yaml <<'YAML'
vars: {t: 1}
stages:
  p1: {type: exec, threads: "${t}", params: {cmd: [sh, -c, 'date +%s%N > p1.start; sleep 0.4; date +%s%N > p1.end']}}
  p2: {type: exec, threads: "${t}", params: {cmd: [sh, -c, 'date +%s%N > p2.start; sleep 0.4; date +%s%N > p2.end']}}
YAML
overlap() { [ "$(cat p1.start)" -lt "$(cat p2.end)" ] && [ "$(cat p2.start)" -lt "$(cat p1.end)" ]; }
"$DYNN" run par.yaml -j 2 --threads 2 > /dev/null 2>&1
overlap && pass "-j 2: stages overlap in time" || fail "-j 2: stages overlap in time" "p1 $(cat p1.start)-$(cat p1.end) p2 $(cat p2.start)-$(cat p2.end)"
"$DYNN" run par.yaml -j 1 --force > /dev/null 2>&1
overlap && fail "-j 1: one at a time" || pass "-j 1: one at a time"
"$DYNN" run par.yaml -j 2 --threads 2 --set t=2 > /dev/null 2>&1
overlap && fail "thread budget: two 2-thread stages in a budget of 2 run one at a time" || pass "thread budget: two 2-thread stages in a budget of 2 run one at a time"

# failures
cat > fail.yaml <<'YAML'
stages:
  bad: {type: exec, params: {cmd: [sh, -c, 'echo oops >&2; exit 3']}}
  after_bad: {type: exec, needs: bad, params: {cmd: [echo, never]}}
  slow: {type: exec, params: {cmd: [sh, -c, 'sleep 0.3; echo ok > slow.txt'], outs: [slow.txt]}}
  after_slow: {type: exec, needs: slow, params: {cmd: [cat, slow.txt]}}
YAML
out=$("$DYNN" run fail.yaml -j 2 2>&1); rc=$?
expect_eq "a failure exits 1" 1 "$rc"
expect_eq "without --keep-going nothing new starts" "after_bad=SKIPPED after_slow=SKIPPED bad=FAILED slow=FINISHED" "$(states)"
expect_match "the failure says why and where the log is" "FAILED +bad .*'sh' exited with status 3 +\(log: .*/bad.log\)" "$out"
grep -q oops .dynn/logs/*/bad.log && pass "stderr is in the stage log" || fail "stderr is in the stage log"
expect_eq "exit code recorded" "3" "$(q "SELECT exit_code FROM stages WHERE name = 'bad' ORDER BY id DESC LIMIT 1")"
"$DYNN" run fail.yaml -j 2 --keep-going > /dev/null 2>&1
expect_eq "--keep-going finishes independent branches" "after_bad=SKIPPED after_slow=FINISHED bad=FAILED slow=CACHED" "$(states)"
expect_eq "the run is FAILED" "FAILED" "$(q "SELECT status FROM runs ORDER BY id DESC LIMIT 1")"

# --json summary on stdout, progress on stderr
json=$("$DYNN" run chain.yaml --json 2>/dev/null)
expect_match "--json summary" '^\{"run":"[0-9a-f-]{36}","status":"FINISHED".*"counts":\{"QUEUED":0,"RUNNING":0,"FINISHED":0,"CACHED":4' "$json"

# on a terminal: a live summary line redrawn under the state lines
if command -v script > /dev/null; then
  tty_out=$(script -qec "$DYNN run chain.yaml --force '^d$'" /dev/null 2>&1)
  expect_match "live summary on a TTY" $'[0-9]+/4 done · [0-9]+ running · [0-9]+ queued · 0 failed · [0-9.]+ s\r\033\\[K' "$tty_out"
  plain=$("$DYNN" run chain.yaml --force '^d$' 2>&1)
  printf '%s' "$plain" | grep -q $'\033' && fail "no escape codes when not a terminal" || pass "no escape codes when not a terminal"
fi

# the spawn executor (one dynn process per stage) gives the same results
"$DYNN" run chain.yaml --force --executor spawn > /dev/null 2>&1
expect_eq "spawn executor" "a=FINISHED b=FINISHED c=FINISHED d=FINISHED" "$(states)"

# every shipped experiment passes validation (the CIFAR-10 ones once given a directory)
for f in "$(dirname "$DYNN")"/../experiments/*.yaml; do
  set_cifar=(); grep -q '^  cifar10:' "$f" && set_cifar=(--set cifar10="$W")
  expect_ok "shipped $(basename "$f") validates" "$DYNN" validate "$f" "${set_cifar[@]}"
done
e2e_done
