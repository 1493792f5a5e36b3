#!/usr/bin/env bash
# tests/e2e/test_pipeline_exec.sh — the exec stage under `dynn run`: its private directory (two runs in
# one working directory writing the same output each record their own file; the working directory is
# visible, new files come back to it), `timeout:` (a hung command fails its stage and leaves no
# process behind, one ignoring SIGTERM too), and metrics from a large output in linear time.
# `timeout N` around the runs only catches hangs; nothing here asserts a duration.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../pipeline/e2e_helpers.sh"
W=$E2E_TMP/exec; mkdir -p "$W"; cd "$W" || exit 1
DB=$W/.dynn/results.db
sha() { sha256sum "$@" | cut -c1-64; }

# ---- two runs, one working directory, the same `outs` path written at the same time ----
# a writes shared.txt, lets b write it too, then ends; b waits for a's file, writes, then ends. In one
# shared directory a's artifact would hold b's bytes. sync/ exists beforehand, so both reach it through
# their view of the working directory.
mkdir -p sync
race() { # race NAME SCRIPT: an experiment whose one stage runs SCRIPT and declares shared.txt
  printf '%s\n' "name: $1" 'stages:' '  w:' '    type: exec' '    params:' "      cmd: [sh, -c, '$2']" '      outs: [shared.txt]' > "$1.yaml"
}
until_exists() { echo "n=0; until [ -e $1 ] || [ \$n -ge 300 ]; do sleep 0.1; n=\$((n+1)); done"; } # 30 s at most
race race_a "echo from-a > shared.txt; touch sync/a-wrote; $(until_exists sync/b-wrote); cat shared.txt"
race race_b "$(until_exists sync/a-wrote); echo from-b > shared.txt; touch sync/b-wrote"
timeout 120 "$DYNN" run race_a.yaml > race_a.out 2>&1 & pa=$!
timeout 120 "$DYNN" run race_b.yaml > race_b.out 2>&1 & pb=$!
wait $pa; ra=$?; wait $pb; rb=$?
expect_eq "both racing runs succeed" "0 0" "$ra $rb"
echo from-a > want_a; echo from-b > want_b
hash_of() { q "SELECT a.hash FROM artifacts a JOIN stages s ON s.id = a.stage_id JOIN runs r ON r.id = s.run_id JOIN experiments e ON e.id = r.experiment_id WHERE e.name = '$1'"; }
expect_eq "run a recorded the bytes it wrote" "$(sha want_a)" "$(hash_of race_a)"
expect_eq "run b recorded the bytes it wrote" "$(sha want_b)" "$(hash_of race_b)"
grep -qx 'from-a' .dynn/logs/*/w.log && pass "a's command read back its own file" || fail "a's command read back its own file" "$(cat .dynn/logs/*/w.log)"
expect_match "the working directory has one of the two files" '^from-[ab]$' "$(cat shared.txt)"

# ---- what the command sees and leaves ----
mkdir -p data
echo 'print-me' > data/input.txt
echo 1 > counter.txt
cat > view.yaml <<'YAML'
stages:
  make:
    type: exec
    params:
      cmd: [sh, -c, 'cat data/input.txt > out/copy.txt; echo side > side.txt; echo 2 >> counter.txt; pwd > where.txt; echo "$DYNN_WORKDIR" > workdir.txt']
      outs: [out/copy.txt]
  use:
    type: exec
    needs: make
    params:
      cmd: [sh, -c, 'cat ../out/copy.txt > used.txt']
      cwd: data
      outs: [used.txt]
YAML
out=$(timeout 60 "$DYNN" run view.yaml 2>&1)
expect_eq "stages run in their private directories" "make=FINISHED use=FINISHED" "$(states)"
expect_eq "reads the working directory, output published" "print-me" "$(cat out/copy.txt 2>/dev/null)"
expect_eq "an input reaches a stage in a subdirectory" "print-me" "$(cat data/used.txt 2>/dev/null)"
expect_eq "a new file comes back to the working directory" "side" "$(cat side.txt 2>/dev/null)"
expect_eq "an existing file is written in place" "1 2" "$(tr '\n' ' ' < counter.txt | sed 's/ $//')"
expect_match "the command runs below the state directory" "^$W/\.dynn/work/[0-9a-f-]+/[0-9]+\.dir$" "$(cat where.txt)"
expect_eq "DYNN_WORKDIR is the working directory" "$W" "$(cat workdir.txt)"
expect_eq "the private directories are gone" "0" "$(ls .dynn/work | wc -l | tr -d ' ')"

# ---- timeout ----
cat > hung.yaml <<'YAML'
stages:
  hung:
    type: exec
    params:
      cmd: [sh, -c, 'echo $$ > "$DYNN_WORKDIR/hung.pid"; sleep 1000 & echo $! > "$DYNN_WORKDIR/hung-child.pid"; wait']
      timeout: 2s
  stubborn:
    type: exec
    params:
      cmd: [sh, -c, 'trap "" TERM; echo $$ > "$DYNN_WORKDIR/stubborn.pid"; sleep 1000']
      timeout: 1s
YAML
out=$(timeout 120 "$DYNN" run hung.yaml -j 2 2>&1); rc=$?
expect_eq "a timed-out stage fails the run" "1 hung=FAILED stubborn=FAILED" "$rc $(states)"
expect_match "the failure names the timeout" "FAILED +hung .*'sh' timed out after 2s: its processes got SIGTERM " "$out"
expect_match "SIGKILL when SIGTERM is ignored" "FAILED +stubborn .*'sh' timed out after 1s: its processes got SIGTERM, then SIGKILL" "$out"
expect_eq "the error is recorded" "'sh' timed out after 2s: its processes got SIGTERM" "$(q "SELECT error FROM stages WHERE name = 'hung'")"
# the timeout itself ended (and reaped) the command's group: the stage's end-of-stage sweep found nothing
grep -q 'left .* running' .dynn/logs/*/hung.log && fail "the timeout ended all of the command's group" "$(cat .dynn/logs/*/hung.log)" \
  || pass "the timeout ended all of the command's group"
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
