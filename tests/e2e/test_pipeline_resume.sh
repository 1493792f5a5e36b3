#!/usr/bin/env bash
# tests/e2e/test_pipeline_resume.sh — interruptions: `kill -9` of the runner in the middle of a stage
# leaves no stage process behind and the next run resumes (finished stages cached, the interrupted
# one re-run; the dead run ends at its runner's last heartbeat, its stage says why it was reaped);
# Ctrl-C (SIGINT) stops the running stage cleanly, marks it KILLED and exits 130.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../pipeline/e2e_helpers.sh"
W=$E2E_TMP/resume; mkdir -p "$W"; cd "$W" || exit 1
DB=$W/.dynn/results.db

cat > k.yaml <<'YAML'
vars: {nap: 30}
stages:
  first: {type: exec, params: {cmd: [sh, -c, 'echo 1 >> first.runs; echo one > first.txt'], outs: [first.txt]}}
  long:
    type: exec
    needs: first
    # long.pid and long.runs must be in the working directory while the stage runs (and after it was
    # killed): files a command creates in its private directory appear there only when it ends
    params: {cmd: [sh, -c, 'echo $$ > "$DYNN_WORKDIR/long.pid"; echo 1 >> "$DYNN_WORKDIR/long.runs"; sleep ${nap}; cat first.txt > long.txt'], outs: [long.txt]}
  last: {type: exec, needs: long, params: {cmd: [cat, long.txt]}}
YAML

# kill -9 while `long` sleeps
"$DYNN" run k.yaml > run1.out 2>&1 & runner=$!
if wait_for long.pid; then pass "the long stage started"; else fail "the long stage started" "$(cat run1.out)"; fi
sleep 2.5 # the runner's heartbeat (every second) is the only sign of life after the stage's start
kill -9 $runner; wait $runner 2>/dev/null
stage_pid=$(cat long.pid)
for _ in $(seq 50); do alive "$stage_pid" || break; sleep 0.1; done
alive "$stage_pid" && fail "kill -9 of the runner leaves no stage running" "pid $stage_pid: $(ps -o stat,cmd -p "$stage_pid")" \
  || pass "kill -9 of the runner leaves no stage running"
expect_eq "the finished stage is in the database" "first=FINISHED last=QUEUED long=RUNNING" "$(states)"
[ ! -e long.txt ] && pass "no output of the half-done stage" || fail "no output of the half-done stage"

# resume (a short nap this time)
out=$("$DYNN" run k.yaml --set nap=0 2>&1); rc=$?
expect_eq "resumed run exits 0" 0 "$rc"
expect_eq "resume: finished stage cached, the rest re-run" "first=CACHED last=FINISHED long=FINISHED" "$(states)"
expect_eq "first ran once in all" 1 "$(wc -l < first.runs | tr -d ' ')"
expect_eq "long ran twice (killed, then again)" 2 "$(wc -l < long.runs | tr -d ' ')"
expect_eq "the dead run is marked KILLED" "KILLED FINISHED" "$(q "SELECT status FROM runs ORDER BY id" | tr '\n' ' ' | sed 's/ $//')"
expect_eq "its running stage too" "KILLED" "$(q "SELECT status FROM stages WHERE run_id = 1 AND name = 'long'")"
expect_eq "the dead run ended at its runner's last heartbeat, after anything in the database" 1 \
  "$(q "SELECT r.ended_at > s.started_at FROM runs r JOIN stages s ON s.run_id = r.id WHERE r.id = 1 AND s.name = 'long'")"
expect_match "its reaped stage says why" '^the runner \(pid [0-9]+\) died while this stage ran; marked KILLED when the database was next opened$' \
  "$(q "SELECT error FROM stages WHERE run_id = 1 AND name = 'long'")"
expect_eq "and ends with the run" 1 "$(q "SELECT s.ended_at = r.ended_at FROM runs r JOIN stages s ON s.run_id = r.id WHERE r.id = 1 AND s.name = 'long'")"
expect_eq "dynn runs shows a duration for the dead run" 1 "$("$DYNN" runs --db "$DB" | awk '$3 == "KILLED" {print ($6 > 0)}')"
expect_eq "its work files are cleaned up" "0" "$(ls .dynn/work | wc -l | tr -d ' ')"

# Ctrl-C: SIGINT to the runner
rm -f long.pid
"$DYNN" run k.yaml --force long > run3.out 2>&1 & runner=$!
wait_for long.pid || fail "the long stage started again" "$(cat run3.out)"
stage_pid=$(cat long.pid)
kill -INT $runner; wait $runner; rc=$?
expect_eq "interrupted run exits 130" 130 "$rc"
alive "$stage_pid" && fail "SIGINT stops the stage" || pass "SIGINT stops the stage"
expect_eq "interrupted: KILLED and SKIPPED" "first=CACHED last=SKIPPED long=KILLED" "$(states)"
expect_eq "the run is KILLED" "KILLED" "$(q "SELECT status FROM runs ORDER BY id DESC LIMIT 1")"
expect_match "status lines say so" 'KILLED +long' "$(cat run3.out)"
# a stage server (local executor) killed while idle is replaced: `a` kills its own server 0.3 s after
# it finished, `b` starts on that slot once the slow `c` is done
cat > z.yaml <<'YAML'
stages:
  a: {type: exec, params: {cmd: [sh, -c, 'z=$(ps -o ppid= -p $PPID | tr -d " "); echo $z > server.pid; (sleep 0.3; kill -9 $z) > /dev/null 2>&1 &']}}
  c: {type: exec, params: {cmd: [sleep, '0.8']}}
  b: {type: exec, needs: [a, c], params: {cmd: [echo, b]}}
YAML
out=$("$DYNN" run z.yaml -j 2 2>&1); rc=$?
expect_eq "a dead idle stage server is replaced" "0 a=FINISHED b=FINISHED c=FINISHED" "$rc $(states)"
alive "$(cat server.pid)" && fail "the server was really killed" || pass "the server was really killed"
e2e_done
