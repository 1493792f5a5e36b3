#!/usr/bin/env bash
# tests/e2e/test_train_snapshot.sh — training that goes on after a kill (nn/snapshot.h): `dynn train
# --snapshot` killed with SIGKILL after an epoch and run again ends with the very checkpoint an
# uninterrupted run writes, and removes its snapshot; a snapshot of another job is refused and left
# alone; nonuniform-* refuse --snapshot. In a pipeline the train stage keeps its snapshot in
# .dynn/resume/<key>: a runner killed mid-stage, run again, resumes the stage (its log says so) with
# the same model as an uninterrupted run (its RUNNING line says it goes on), and the resume directory
# is gone once the stage finished.
. "$(dirname "$0")/lib.sh"
W=$E2E_TMP/snapshot; mkdir -p "$W"; cd "$W" || exit 1

JOB=(--model resnet8 --method incremental --train-limit 1024 --test-limit 200 --epochs 12 --threads 1)

# wait_file PATH: up to 60 s for PATH to exist
wait_file() { for _ in $(seq 600); do [ -e "$1" ] && return 0; sleep 0.1; done; return 1; }

expect_ok "uninterrupted reference" "$DYNN" train "${JOB[@]}" --quiet --out ref.dnn

"$DYNN" train "${JOB[@]}" --quiet --out b.dnn --snapshot b.snap > b1.out 2>&1 & pid=$!
if wait_file b.snap; then kill -STOP $pid; kill -9 $pid; fi
wait $pid 2>/dev/null
if [ -e b.snap ] && [ ! -e b.dnn ]; then pass "killed after an epoch: a snapshot, no checkpoint"
else fail "killed after an epoch: a snapshot, no checkpoint" "$(ls -la)" "$(cat b1.out)"; fi
out=$("$DYNN" train "${JOB[@]}" --out b.dnn --snapshot b.snap 2>&1); rc=$?
expect_eq() { if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "wanted: $2" "got: $3"; fi; }
expect_eq "the resumed run exits 0" 0 "$rc"
expect_match "it says what it resumed from" "resuming from b.snap: [0-9]+ epochs? of training passes already done" "$out"
if cmp -s ref.dnn b.dnn; then pass "resumed checkpoint = uninterrupted checkpoint, byte for byte"
else fail "resumed checkpoint = uninterrupted checkpoint, byte for byte" "$(cmp ref.dnn b.dnn 2>&1)"; fi
[ ! -e b.snap ] && pass "the snapshot is removed once the checkpoint is saved" || fail "the snapshot is removed once the checkpoint is saved"

# a snapshot of another job (another learning rate): refused, kept, no checkpoint written
"$DYNN" train "${JOB[@]}" --out c.dnn --snapshot c.snap > /dev/null 2>&1 & pid=$!
if wait_file c.snap; then kill -STOP $pid; kill -9 $pid; fi
wait $pid 2>/dev/null
sum=$(sha256sum c.snap 2>/dev/null)
out=$("$DYNN" train "${JOB[@]}" --lr 0.05 --out d.dnn --snapshot c.snap 2>&1 >/dev/null); rc=$?
if [ $rc -eq 1 ] && [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] && printf '%s' "$out" | grep -q "c.snap: a snapshot of another training job"; then
  pass "another job's snapshot: one line naming it, exit 1"
else fail "another job's snapshot: one line naming it, exit 1" "exit $rc" "$out"; fi
expect_eq "that snapshot is left as it was" "$sum" "$(sha256sum c.snap 2>/dev/null)"
[ ! -e d.dnn ] && pass "no checkpoint from the refused run" || fail "no checkpoint from the refused run"
expect_fail "nonuniform-single refuses --snapshot" "snapshot: method nonuniform-single cannot go on" \
  "$DYNN" train --method nonuniform-single --model resnet8 --epochs 2 --out e.dnn --snapshot e.snap

# the pipeline: a train stage resumes after its runner was killed
mkdir -p ref run
cat > ref/e.yaml <<'YAML'
name: snap
seed: 3
stages:
  t:
    type: train
    params: {model: resnet8, method: incremental, self_distill: true, epochs: 12, train_limit: 1024, test_limit: 200, threads: 1}
YAML
cp ref/e.yaml run/
(cd ref && "$DYNN" run e.yaml > out 2>&1) || fail "pipeline reference run" "$(cat ref/out)"
model_hash() { (cd "$1" && "$DYNN" show last --json 2>/dev/null | jq -r '.artifacts[] | select(.artifact == "model") | .hash'); }
cd run || exit 1
"$DYNN" run e.yaml > out1 2>&1 & runner=$!
snap=
for _ in $(seq 600); do snap=$(ls .dynn/resume/*/train.snapshot 2>/dev/null | head -n 1); [ -n "$snap" ] && break; sleep 0.1; done
kill -9 $runner; wait $runner 2>/dev/null
[ -n "$snap" ] && [ -e "$snap" ] && pass "the killed stage left its snapshot in .dynn/resume/<key>" \
  || fail "the killed stage left its snapshot in .dynn/resume/<key>" "$(cat out1)"
out=$("$DYNN" fsck 2>&1) # (a problem: the killed runner's run is left RUNNING; not the snapshot)
if printf '%s' "$out" | grep -q "stale-resume"; then fail "fsck: an interrupted stage's snapshot is not a problem" "$out"
else pass "fsck: an interrupted stage's snapshot is not a problem"; fi
expect_match "fsck lists it as resumable" "resumable resume/[0-9a-f]{64}: [0-9]+ bytes left by an interrupted stage" "$out"
out=$("$DYNN" run e.yaml 2>&1); rc=$?
expect_eq "the next run exits 0" 0 "$rc"
expect_match "the run's progress line says the stage goes on" "RUNNING +t +\(goes on where an interrupted run stopped: .*/\.dynn/resume/[0-9a-f]{64}\)" "$out"
if grep -q "goes on where" ../ref/out; then fail "a fresh run's progress says nothing of the kind" "$(cat ../ref/out)"
else pass "a fresh run's progress says nothing of the kind"; fi
expect_match "the stage's log says it resumed" "resuming from .*train.snapshot: [0-9]+ epochs? of training" "$(cat .dynn/logs/*/t.log)"
ref_hash=$(cd .. && model_hash ref); run_hash=$(model_hash .)
if [ -n "$ref_hash" ] && [ "$ref_hash" = "$run_hash" ]; then pass "the resumed stage's model = the uninterrupted run's"
else fail "the resumed stage's model = the uninterrupted run's" "ref $ref_hash" "run $run_hash"; fi
[ -z "$(ls -A .dynn/resume 2>/dev/null)" ] && pass "no resume directory once the stage finished" \
  || fail "no resume directory once the stage finished" "$(ls -R .dynn/resume)"
# a resume directory whose stage has finished since (a runner that died between the two): stale
key=$("$DYNN" show last --json | jq -r '.stages[] | select(.stage == "t") | .key')
mkdir -p ".dynn/resume/$key" && echo left > ".dynn/resume/$key/train.snapshot"
out=$("$DYNN" fsck 2>&1); rc=$?
if [ $rc -eq 1 ] && printf '%s' "$out" | grep -q "stale-resume resume/$key: left by a stage that has finished since"; then
  pass "fsck: a finished stage's resume directory is stale"
else fail "fsck: a finished stage's resume directory is stale" "exit $rc" "$out"; fi
"$DYNN" fsck --repair > /dev/null 2>&1
[ ! -e ".dynn/resume/$key" ] && pass "fsck --repair removes it" || fail "fsck --repair removes it"
exit $((E2E_FAILS > 0))
