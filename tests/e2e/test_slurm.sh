#!/usr/bin/env bash
# tests/e2e/test_slurm.sh — the slurm executor against a real one-node Slurm cluster started here
# (tests/slurm/cluster.sh: slurmctld, slurmd, munged, no accounting daemon, so job states come from
# squeue and scontrol):
#   - exec and train stages through Slurm give the local executor's cache keys, artifacts (checkpoint
#     bytes) and metrics; the job id is recorded with each stage (metric slurm_job_id);
#   - a failing stage, one over its 1-minute time limit (TIMEOUT) and one cancelled from outside
#     (scancel) each fail naming Slurm's state and the log; --keep-going lets the others finish;
#   - kill -9 of the runner while its jobs run, then `dynn run` again: no stage submitted twice
#     (sbatch calls counted through a wrapper), every stage FINISHED with its output;
#   - SIGINT to the runner cancels every job it submitted (squeue empty of them afterwards);
#   - a work directory the compute node does not share (a private mount for the runner) stops the
#     run before any stage, naming the directory and --slurm-workdir.
# SKIPs (with the reason) where the cluster cannot start: not root, slurm-wlm or munge missing.
# The TIMEOUT run goes on in the background while the other checks run; about 2 minutes in all.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../pipeline/e2e_helpers.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CL=$E2E_TMP/cluster
if ! why=$(bash "$ROOT/tests/slurm/cluster.sh" start "$CL" 8 2>&1 >/dev/null); then
  skip "slurm executor" "no Slurm cluster here: ${why:-cluster.sh failed}"
  exit 0
fi
trap 'bash "$ROOT/tests/slurm/cluster.sh" stop "$CL"; rm -rf "$E2E_TMP"' EXIT
export SLURM_CONF=$CL/slurm.conf
PATH=$PATH:/usr/sbin

# sbatch through a wrapper that logs every submission's job name
BIN=$E2E_TMP/bin; mkdir -p "$BIN"
real_sbatch=$(command -v sbatch)
cat > "$BIN/sbatch" <<EOF
#!/bin/sh
for a in "\$@"; do case \$a in --job-name=*) echo "\${a#--job-name=}" >> "$E2E_TMP/sbatch.calls" ;; esac; done
exec "$real_sbatch" "\$@"
EOF
chmod +x "$BIN/sbatch"
export PATH=$BIN:$PATH
submissions() { grep -c "^dynn-[0-9a-f]" "$E2E_TMP/sbatch.calls" 2>/dev/null || echo 0; }

# job ids the runs in the current directory submitted (from the stage logs)
job_ids() { cat .dynn/logs/*/*.log 2>/dev/null | sed -n "s/.*submitted as Slurm job \([0-9]*\).*/\1/p" | sort -un; }
# how many of the given job ids Slurm still has queued or running
still_queued() { local n=0 id; for id in "$@"; do squeue -h -j "$id" -o %i 2>/dev/null | grep -qx "$id" && n=$((n + 1)); done; echo $n; }

# ---- failures, in the background (the TIMEOUT takes one to two minutes) ----
F=$E2E_TMP/fail; mkdir -p "$F"; cd "$F" || exit 1
cat > f.yaml <<'YAML'
stages:
  fine: {type: exec, params: {cmd: [sh, -c, 'echo fine > fine.txt'], outs: [fine.txt]}}
  after: {type: exec, needs: fine, params: {cmd: [sh, -c, 'cat fine.txt > after.txt'], outs: [after.txt]}}
  bad: {type: exec, params: {cmd: [sh, -c, 'echo failing; exit 3']}}
  slow: {type: exec, resources: {time: 1m}, params: {cmd: [sleep, '600']}}
  victim: {type: exec, params: {cmd: [sleep, '601']}}
YAML
"$DYNN" run f.yaml --executor slurm -j 5 --keep-going > run.out 2>&1 &
fail_pid=$!

# ---- local vs slurm: same keys, artifacts, checkpoint bytes, metrics ----
for mode in local slurm; do
  mkdir -p "$E2E_TMP/eq-$mode"; cd "$E2E_TMP/eq-$mode" || exit 1
  cat > e.yaml <<'YAML'
seed: 5
stages:
  gen: {type: exec, params: {cmd: [sh, -c, 'seq 1 1000 > numbers.txt'], outs: [numbers.txt]}}
  sum: {type: exec, needs: gen, params: {cmd: [sh, -c, 'awk "{s+=\$1} END {print s}" numbers.txt > sum.txt'], outs: [sum.txt]}}
  train:
    type: train
    threads: 1
    params: {model: resnet8, width: 0.25, method: uniform, epochs: 1, batch: 64, train_limit: 256, test-limit: 128}
YAML
  out=$("$DYNN" run e.yaml --executor "$mode" -j 3 2>&1) && pass "$mode run of exec and train stages" \
    || fail "$mode run of exec and train stages" "$out"
done
DB=$E2E_TMP/eq-local/.dynn/results.db
keys_local=$(q "SELECT name || ' ' || key FROM stages ORDER BY name")
arts_local=$(q "SELECT s.name || ' ' || a.name || ' ' || a.hash FROM artifacts a JOIN stages s ON s.id = a.stage_id ORDER BY 1")
mets_local=$(q "SELECT s.name || ' ' || m.name || ' ' || coalesce(m.subnet, '') || ' ' || m.value FROM metrics m JOIN stages s ON s.id = m.stage_id
                WHERE m.name NOT IN ('train_seconds', 'slurm_job_id') ORDER BY 1")
DB=$E2E_TMP/eq-slurm/.dynn/results.db
expect_eq "slurm: every stage FINISHED" "gen=FINISHED sum=FINISHED train=FINISHED" "$(states)"
expect_eq "slurm: the same cache keys as local" "$keys_local" "$(q "SELECT name || ' ' || key FROM stages ORDER BY name")"
expect_eq "slurm: the same artifacts (checkpoint bytes included) as local" "$arts_local" \
  "$(q "SELECT s.name || ' ' || a.name || ' ' || a.hash FROM artifacts a JOIN stages s ON s.id = a.stage_id ORDER BY 1")"
expect_eq "slurm: the same metrics as local" "$mets_local" \
  "$(q "SELECT s.name || ' ' || m.name || ' ' || coalesce(m.subnet, '') || ' ' || m.value FROM metrics m JOIN stages s ON s.id = m.stage_id
        WHERE m.name NOT IN ('train_seconds', 'slurm_job_id') ORDER BY 1")"
[ "$(cat "$E2E_TMP/eq-slurm/sum.txt")" = 500500 ] && pass "slurm: exec outs in the working directory" \
  || fail "slurm: exec outs in the working directory" "$(ls "$E2E_TMP/eq-slurm")"
cd "$E2E_TMP/eq-slurm" || exit 1
ids=$(job_ids | tr '\n' ' ')
expect_eq "slurm: each of the 3 stages' job id recorded with it" "3 $ids" \
  "$(echo $ids | wc -w) $(q "SELECT cast(value AS INTEGER) FROM metrics WHERE name = 'slurm_job_id' ORDER BY value" | tr '\n' ' ')"
[ -d .dynn/slurm/jobs ] && [ -z "$(ls .dynn/slurm/jobs)" ] && pass "slurm: job directories removed after the run" \
  || fail "slurm: job directories removed after the run" "$(ls -R .dynn/slurm 2>&1)"
out=$("$DYNN" run e.yaml --executor slurm 2>&1)
expect_match "slurm: a second run is all cache hits" "0 ran, 3 cached" "$out"
DB=$E2E_TMP/eq-local/.dynn/results.db
expect_eq "local: no slurm_job_id metric" "0" "$(q "SELECT count(*) FROM metrics WHERE name = 'slurm_job_id'")"

# ---- the external scancel of the victim (once it runs) ----
cd "$F" || exit 1
victim_job=
for _ in $(seq 300); do
  for d in .dynn/slurm/jobs/*/; do
    grep -q '"name": *"victim"' "$d/desc.json" 2>/dev/null && [ -s "$d/jobid" ] || continue
    id=$(cat "$d/jobid")
    [ "$(squeue -h -j "$id" -o %T 2>/dev/null)" = RUNNING ] && victim_job=$id
  done
  [ -n "$victim_job" ] && break
  sleep 0.1
done
if [ -n "$victim_job" ]; then scancel "$victim_job"; else fail "the victim's job runs" "$(squeue 2>&1)"; fi

# ---- kill -9 of the runner, then run again: nothing submitted twice, nothing lost ----
K=$E2E_TMP/kill; mkdir -p "$K"; cd "$K" || exit 1
cat > k.yaml <<'YAML'
stages:
  k:
    type: exec
    matrix: {i: [1, 2, 3]}
    params: {cmd: [sh, -c, 'sleep 6; echo done-${matrix.i} > k${matrix.i}.txt'], outs: ['k${matrix.i}.txt']}
YAML
before=$(submissions)
"$DYNN" run k.yaml --executor slurm -j 3 > run1.out 2>&1 &
runner=$!
for _ in $(seq 200); do [ "$(job_ids | wc -l)" -ge 3 ] && break; sleep 0.1; done
sleep 1
kill -9 $runner; wait $runner 2>/dev/null
queued=$(still_queued $(job_ids))
expect_eq "kill -9: the runner's 3 jobs go on in Slurm" "3" "$queued"
out=$("$DYNN" run k.yaml --executor slurm -j 3 2>&1); rc=$?
DB=$K/.dynn/results.db
expect_eq "kill -9 then run again: every stage FINISHED" "0 k@i=1=FINISHED k@i=2=FINISHED k@i=3=FINISHED" "$rc $(states)"
expect_eq "kill -9 then run again: no stage submitted twice (3 sbatch calls in all)" "3" "$(( $(submissions) - before ))"
expect_eq "kill -9 then run again: every output there" "done-1 done-2 done-3" "$(cat k1.txt k2.txt k3.txt 2>/dev/null | tr '\n' ' ' | sed 's/ $//')"
expect_match "the second run's log says it took the job over" "taken over, not submitted again" "$(cat .dynn/logs/*/k@i=1.log)"

# ---- Ctrl-C: every job cancelled ----
C=$E2E_TMP/int; mkdir -p "$C"; cd "$C" || exit 1
cat > c.yaml <<'YAML'
stages:
  c:
    type: exec
    matrix: {i: [1, 2, 3]}
    params: {cmd: [sh, -c, 'sleep 300 # ${matrix.i}']}
YAML
"$DYNN" run c.yaml --executor slurm -j 3 > run.out 2>&1 &
runner=$!
for _ in $(seq 200); do [ "$(job_ids | wc -l)" -ge 3 ] && break; sleep 0.1; done
ids=$(job_ids)
kill -INT $runner
for _ in $(seq 200); do alive $runner || break; sleep 0.1; done
wait $runner; rc=$?
DB=$C/.dynn/results.db
expect_eq "SIGINT: the run ends 130, its stages KILLED" "130 c@i=1=KILLED c@i=2=KILLED c@i=3=KILLED" "$rc $(states)"
for _ in $(seq 100); do [ "$(still_queued $ids)" = 0 ] && break; sleep 0.1; done
expect_eq "SIGINT: none of its 3 jobs left in squeue" "3 0" "$(echo $ids | wc -w) $(still_queued $ids)"

# ---- a work directory the node does not see ----
P=$E2E_TMP/private; mkdir -p "$P/wd"; cd "$P" || exit 1
printf 'stages:\n  a: {type: exec, params: {cmd: [true]}}\n' > p.yaml
if unshare -m --propagation private true 2>/dev/null; then
  before=$(submissions); probes=$(grep -c '^dynn-probe$' "$E2E_TMP/sbatch.calls")
  out=$(unshare -m --propagation private sh -c "mount -t tmpfs none '$P/wd' && '$DYNN' run p.yaml --executor slurm --slurm-workdir '$P/wd'" 2>&1); rc=$?
  expect_eq "unshared work directory: exit 1" 1 "$rc"
  expect_match "unshared work directory: one line naming it and --slurm-workdir" \
    "^dynn run: slurm executor: $P/wd is not visible from the compute nodes: .*--slurm-workdir" "$out"
  DB=$P/.dynn/results.db
  expect_eq "unshared work directory: the probe submitted, no stage" "1 0" \
    "$(( $(grep -c '^dynn-probe$' "$E2E_TMP/sbatch.calls") - probes )) $(( $(submissions) - before ))"
else
  skip "unshared work directory" "unshare -m is not allowed here"
fi

# ---- the failures ----
cd "$F" || exit 1
for _ in $(seq 1800); do alive $fail_pid || break; sleep 0.1; done
wait $fail_pid; rc=$?
DB=$F/.dynn/results.db
expect_eq "failures with --keep-going: the others finish" "1 after=FINISHED bad=FAILED fine=FINISHED slow=FAILED victim=FAILED" "$rc $(states)"
err() { q "SELECT error FROM stages WHERE name = '$1'"; }
expect_match "a failing stage: its own error, Slurm's FAILED and the log" \
  "exited with status 3.*\(Slurm job [0-9]+ FAILED, exit code 1; see .*/bad\.log\)" "$(err bad)"
expect_match "over its time limit: TIMEOUT named, with the log" "Slurm job [0-9]+ ended TIMEOUT .*; see .*/slow\.log" "$(err slow)"
expect_match "cancelled from outside: CANCELLED named" "Slurm job $victim_job ended CANCELLED.*; see .*/victim\.log" "$(err victim)"
expect_match "Slurm's own line in the stage log" "DUE TO TIME LIMIT" "$(cat .dynn/logs/*/slow.log)"
expect_eq "nothing of the tests left in squeue" "" "$(squeue -h -o %i)"
e2e_done
