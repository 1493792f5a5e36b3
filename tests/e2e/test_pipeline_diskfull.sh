#!/usr/bin/env bash
# tests/e2e/test_pipeline_diskfull.sh — a stage fills the disk of the results database (a 1 MiB tmpfs
# mounted here): the runner cannot record the run's end, says so and keeps it in its note; `dynn runs`
# and `dynn status` still work while the disk is full; once there is room, the next command records
# the run FAILED with the cause on its stage (not KILLED without a word), and the next run works.
# Needs root for the mount; skipped otherwise.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../pipeline/e2e_helpers.sh"
W=$E2E_TMP/diskfull; mkdir -p "$W/full"; cd "$W" || exit 1
if ! mount -t tmpfs -o size=1m dynn-e2e-full "$W/full" 2> mount.err; then
  skip "disk full" "cannot mount a tmpfs here ($(head -1 mount.err)); needs root"
  e2e_done
fi
trap 'umount "$W/full"; rm -rf "$E2E_TMP"' EXIT
DB=$W/full/results.db

cat > x.yaml <<YAML
stages:
  fill: {type: exec, params: {cmd: [sh, -c, 'head -c 5000000 /dev/zero > $W/full/fill; echo filled']}}
  after: {type: exec, needs: fill, params: {cmd: [echo, after]}}
YAML
out=$(timeout 60 "$DYNN" run x.yaml --db "$DB" 2>&1); rc=$?
expect_eq "the run fails" 1 "$rc"
expect_match "it says the database is full and where the run's end is kept" \
  'dynn run: .*results.db: .*database or disk is full \(the run.s end is kept in .*/work/[0-9a-f-]+/runner.note and recorded by the next dynn command on the database\)' "$out"
[ -s "$(ls "$W"/full/work/*/runner.note 2>/dev/null | head -1)" ] && pass "the note is there" || fail "the note is there" "$(ls -R full)"

# still full: the read commands work on what the database holds
out=$("$DYNN" runs --db "$DB" 2>&1); rc=$?
expect_eq "dynn runs works while the disk is full" 0 "$rc"
expect_match "with a warning saying why it cannot mark dead runs" '^dynn runs: warning: the database cannot be written \(.*full.*\); showing it as it is' "$out"
out=$("$DYNN" status --db "$DB" 2>&1); rc=$?
expect_eq "dynn status works while the disk is full" 0 "$rc"
expect_match "and shows the run" 'fill +RUNNING' "$out"

# room again: the next command records the end from the note
rm -f full/fill
out=$("$DYNN" runs --db "$DB" 2>&1); rc=$?
expect_eq "dynn runs once there is room" 0 "$rc"
expect_match "the run is recorded FAILED, without a warning" '^[0-9a-f]{8} +x +FAILED ' "$out"
expect_eq "no stage left RUNNING or QUEUED" "after=SKIPPED fill=FAILED" "$(states)"
expect_match "the stage carries the cause" '^not recorded: the runner \(pid [0-9]+\) stopped: .*results.db: .*database or disk is full$' \
  "$(q "SELECT error FROM stages WHERE name = 'fill'")"
expect_eq "the run has an end" 1 "$(q "SELECT ended_at >= started_at FROM runs")"
printf 'stages:\n  ok: {type: exec, params: {cmd: [echo, ok]}}\n' > ok.yaml
expect_ok "a next run works" timeout 60 "$DYNN" run ok.yaml --db "$DB"
expect_eq "and removed the old run's work directory" 0 "$(ls full/work | wc -l | tr -d ' ')"
e2e_done
