#!/usr/bin/env bash
# tests/e2e/test_pipeline_lifecycle.sh — nothing a stage starts outlives it, with both executors:
# kill -9 of a stage process (its command never writes its output afterwards), Ctrl-C, a double
# Ctrl-C, SIGHUP and kill -9 of the runner with a command that ignores SIGTERM (and a daemon that
# left the process group with setsid), kill -9 of the local executor's fork server, background children
# of a finished stage; `-j` beyond the cap.
# The scenarios run side by side (each in its own directory and database) since several wait out the
# 5 s grace period; `timeout`/polling limits only guard against hangs.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../pipeline/e2e_helpers.sh"
W=$E2E_TMP/lifecycle; mkdir -p "$W"; cd "$W" || exit 1

# survivors TOKEN: live processes (pid:name) whose environment holds DYNN_TEST_TOKEN=TOKEN (every process an
# exec stage starts inherits it, also after setsid).
survivors() {
  local p
  for p in /proc/[0-9]*; do
    { tr '\0' '\n' < "$p/environ"; } 2>/dev/null | grep -qx "DYNN_TEST_TOKEN=$1" && alive "${p#/proc/}" \
      && printf '%s:%s ' "${p#/proc/}" "$(cat "$p/comm" 2>/dev/null)"
  done
}

# gone_within TOKEN TENTHS: polls until no survivor is left (a hang guard, not a timing claim).
gone_within() {
  local n=$2
  while [ $n -gt 0 ]; do [ -z "$(survivors "$1")" ] && return 0; sleep 0.1; n=$((n - 1)); done
  return 1
}

# wait_exit PID: waits for the runner (at most 60 s, then kill -9) and sets RC to its exit status.
wait_exit() {
  local n=600
  while [ $n -gt 0 ] && alive "$1"; do sleep 0.1; n=$((n - 1)); done
  if alive "$1"; then kill -9 "$1"; wait "$1" 2>/dev/null; RC=hung; return; fi
  wait "$1"; RC=$?
}

# stubborn DIR TOKEN: an experiment whose command ignores SIGTERM/SIGINT/SIGHUP and starts a daemon that
# leaves the process group (setsid) and ignores them too; both loop forever.
# (Commands here write the files the test waits for under $DYNN_WORKDIR: what an exec command creates
# in its private directory reaches the working directory only when it ends.)
stubborn() {
  mkdir -p "$1"
  cat > "$1/x.yaml" <<YAML
stages:
  s:
    type: exec
    params:
      env: {DYNN_TEST_TOKEN: $2}
      cmd: [sh, -c, 'trap "" TERM INT HUP; setsid sh -c "trap \"\" TERM INT HUP; while :; do sleep 1; done" & echo \$\$ > "\$DYNN_WORKDIR/cmd.pid"; while :; do sleep 1; done']
YAML
}

# signal_runner EXECUTOR NAME SIGNALS...: starts the stubborn stage, sends the signals to the runner
# (0.5 s apart), and checks that the runner ends with 130, the stage KILLED, and nothing of it left.
signal_runner() {
  local ex=$1 name=$2; shift 2
  local d=$W/$name-$ex tok=$name-$ex-$$
  DB=$d/.dynn/results.db
  stubborn "$d" "$tok"; cd "$d" || return
  "$DYNN" run x.yaml --executor "$ex" > run.out 2>&1 & local runner=$!
  if ! wait_for cmd.pid 100; then fail "$name ($ex): the stage started" "$(cat run.out)"; kill -9 $runner; return; fi
  local sig
  for sig in "$@"; do kill -"$sig" $runner; sleep 0.5; done
  wait_exit $runner
  local left; left=$(survivors "$tok")
  [ -z "$left" ] && pass "$name ($ex): the stage's processes are gone when the runner has ended" \
    || fail "$name ($ex): the stage's processes are gone when the runner has ended" "left: $left" "$(cat run.out)"
  expect_eq "$name ($ex): the runner exits 130" 130 "$RC"
  expect_eq "$name ($ex): the stage is KILLED" "s=KILLED" "$(states)"
  for p in $left; do kill -9 "${p%%:*}" 2>/dev/null; done
}

# kill9_runner EXECUTOR: kill -9 of the runner; the stage process notices (PR_SET_PDEATHSIG) and ends the
# stubborn command and daemon: SIGTERM, SIGKILL 5 s later.
kill9_runner() {
  local ex=$1 d=$W/kill9runner-$1 tok=kill9runner-$1-$$
  stubborn "$d" "$tok"; cd "$d" || return
  "$DYNN" run x.yaml --executor "$ex" > run.out 2>&1 & local runner=$!
  if ! wait_for cmd.pid 100; then fail "kill -9 runner ($ex): the stage started" "$(cat run.out)"; kill -9 $runner; return; fi
  kill -9 $runner; wait $runner 2>/dev/null
  if gone_within "$tok" 300; then pass "kill -9 runner ($ex): the stage's processes are gone after the grace period"
  else
    local left; left=$(survivors "$tok")
    fail "kill -9 runner ($ex): the stage's processes are gone after the grace period" "left after 30 s: $left"
    for p in $left; do kill -9 "${p%%:*}" 2>/dev/null; done
  fi
}

# kill9_stage EXECUTOR: kill -9 of the stage process while its command sleeps: the stage FAILS, the
# command is gone and never writes the output it would have written 5 s later.
kill9_stage() {
  local ex=$1 d=$W/kill9stage-$1 tok=kill9stage-$1-$$
  DB=$d/.dynn/results.db
  mkdir -p "$d"; cd "$d" || return
  cat > x.yaml <<YAML
stages:
  s:
    type: exec
    params:
      env: {DYNN_TEST_TOKEN: $tok}
      cmd: [sh, -c, 'echo \$PPID > "\$DYNN_WORKDIR/stage.pid"; setsid sh -c "sleep 5; echo late > \$DYNN_WORKDIR/late2.txt" & sleep 5; echo late > "\$DYNN_WORKDIR/late.txt"']
YAML
  "$DYNN" run x.yaml --executor "$ex" > run.out 2>&1 & local runner=$!
  if ! wait_for stage.pid 100; then fail "kill -9 stage ($ex): the stage started" "$(cat run.out)"; kill -9 $runner; return; fi
  kill -9 "$(cat stage.pid)"
  wait_exit $runner
  expect_eq "kill -9 stage ($ex): the run fails" 1 "$RC"
  expect_match "kill -9 stage ($ex): the stage FAILED, killed by signal 9" 'FAILED +s .*killed by signal 9' "$(cat run.out)"
  local left; left=$(survivors "$tok")
  [ -z "$left" ] && pass "kill -9 stage ($ex): its command and daemon are gone when the stage is FAILED" \
    || fail "kill -9 stage ($ex): its command and daemon are gone when the stage is FAILED" "left: $left"
  sleep 5.5 # longer than the commands' sleep: a surviving command would write its file by now
  [ ! -e late.txt ] && [ ! -e late2.txt ] && pass "kill -9 stage ($ex): no output written after the stage ended" \
    || fail "kill -9 stage ($ex): no output written after the stage ended" "$(ls)"
  for p in $left; do kill -9 "${p%%:*}" 2>/dev/null; done
}

# kill9_server: kill -9 of the local executor's fork server while its stage runs the stubborn command: the
# runner inherits the stage process and what it started, ends them, and fails the stage.
kill9_server() {
  local d=$W/kill9server tok=kill9server-$$
  DB=$d/.dynn/results.db
  stubborn "$d" "$tok"; cd "$d" || return
  "$DYNN" run x.yaml > run.out 2>&1 & local runner=$!
  if ! wait_for cmd.pid 100; then fail "kill -9 server: the stage started" "$(cat run.out)"; kill -9 $runner; return; fi
  local stage server
  stage=$(ps -o ppid= -p "$(cat cmd.pid)" | tr -d ' '); server=$(ps -o ppid= -p "$stage" | tr -d ' ')
  kill -9 "$server"
  wait_exit $runner
  expect_eq "kill -9 server: the run fails" 1 "$RC"
  expect_eq "kill -9 server: the stage is FAILED" "s=FAILED" "$(states)"
  local left; left=$(survivors "$tok")
  [ -z "$left" ] && pass "kill -9 server: the stage's processes are gone when the runner has ended" \
    || fail "kill -9 server: the stage's processes are gone when the runner has ended" "left: $left" "$(cat run.out)"
  for p in $left; do kill -9 "${p%%:*}" 2>/dev/null; done
}

# background EXECUTOR: a stage that finishes leaving `sleep 100 &` and a setsid daemon: both are gone when
# the run has ended, and the log says so.
background() {
  local ex=$1 d=$W/background-$1 tok=background-$1-$$
  DB=$d/.dynn/results.db
  mkdir -p "$d"; cd "$d" || return
  cat > x.yaml <<YAML
stages:
  s:
    type: exec
    params:
      env: {DYNN_TEST_TOKEN: $tok}
      cmd: [sh, -c, 'sleep 100 & setsid sleep 100 & echo started']
  after: {type: exec, needs: s, params: {cmd: [echo, after]}}
YAML
  local out rc
  out=$(timeout 60 "$DYNN" run x.yaml --executor "$ex" 2>&1); rc=$?
  expect_eq "background ($ex): the run succeeds" "0 after=FINISHED s=FINISHED" "$rc $(states)"
  local left; left=$(survivors "$tok")
  [ -z "$left" ] && pass "background ($ex): the finished stage's background processes are gone" \
    || fail "background ($ex): the finished stage's background processes are gone" "left: $left" "$out"
  expect_match "background ($ex): the log says what was ended" "stage 's' left 2 processes running; ended" \
    "$(cat .dynn/logs/*/s.log)"
  for p in $left; do kill -9 "${p%%:*}" 2>/dev/null; done
}

# many_ends: 300 stages at -j 300 ending while the runner is stopped: it then finds more ends at once than
# one wait takes (256); every one must still be noticed (they were dropped: stages left RUNNING in a
# FINISHED run). The stages wait for a lock the test holds (flock: no polling, and one that asks late
# gets it at once).
many_ends() {
  local d=$W/many
  DB=$d/.dynn/results.db
  mkdir -p "$d"; cd "$d" || return
  exec 9> go.lock; flock 9
  { echo "stages:"; for i in $(seq 300); do
      echo "  s$i: {type: exec, params: {cmd: [sh, -c, 'touch \$DYNN_WORKDIR/started.\$DYNN_STAGE; flock -s go.lock true'], env: {I: '$i'}}}"
    done; } > many.yaml
  "$DYNN" run many.yaml -j 300 --threads 300 9>&- > run.out 2>&1 & local runner=$!
  local n=1200
  while [ $n -gt 0 ] && [ "$(ls | grep -c '^started\.')" -lt 300 ]; do sleep 0.1; n=$((n - 1)); done
  kill -STOP $runner
  exec 9>&-                            # the lock is free: every stage ends
  local servers; servers=$(pgrep -d, -P $runner)  # the fork servers; their children are the stage processes
  n=600; while [ $n -gt 0 ] && [ -n "$(ps -o pid= --ppid "$servers")" ]; do sleep 0.1; n=$((n - 1)); done
  sleep 0.5                            # the servers write their answers right after
  kill -CONT $runner
  wait_exit $runner
  expect_eq "300 stages ending at once: the run succeeds" 0 "$RC"
  expect_eq "every one is FINISHED" "300" "$(q "SELECT count(*) FROM stages WHERE status = 'FINISHED'")"
}

logs=()
for ex in local spawn; do
  for t in "signal_runner $ex sigint INT" "signal_runner $ex double-sigint INT INT" "signal_runner $ex sighup HUP" \
           "kill9_runner $ex" "kill9_stage $ex" "background $ex"; do
    log=$W/$(echo "$t" | tr ' ' '_').log
    ( $t ) > "$log" 2>&1 &
    logs+=("$log")
  done
done
for t in kill9_server many_ends; do
  ( $t ) > "$W/$t.log" 2>&1 &
  logs+=("$W/$t.log")
done
wait
for log in "${logs[@]}"; do
  cat "$log"
  E2E_FAILS=$((E2E_FAILS + $(grep -c '^FAIL ' "$log")))
done

# -j: the largest value accepted before (1000000) crashed the local executor (arrays on the stack); the cap
# is the one of `threads`, 4096, which works
cd "$W" || exit 1
printf 'stages:\n  a: {type: exec, params: {cmd: [echo, a]}}\n  b: {type: exec, params: {cmd: [echo, b]}}\n' > j.yaml
expect_fail "-j over the cap is refused, naming the cap" "^dynn run: -j: 1000000 is out of range 1..4096$" \
  timeout 60 "$DYNN" run j.yaml -j 1000000
expect_fail "--jobs over the cap too" "--jobs: 4097 is out of range 1..4096" timeout 60 "$DYNN" run j.yaml --jobs=4097
expect_fail "--threads over the cap too" "--threads: 5000 is out of range 1..4096" timeout 60 "$DYNN" run j.yaml --threads 5000
expect_ok "-j 4096 runs" timeout 60 "$DYNN" run j.yaml -j 4096 --threads 4096

e2e_done
