#!/usr/bin/env bash
# tests/e2e/test_pipeline_train.sh — the `train` stage type: params are `dynn train` options
# (validated before anything runs, errors positioned in the file), per-subnet metrics and the
# checkpoint land in the results database, the stage's checkpoint equals the CLI's for the same
# options and seed, and a second run is all cache hits.
. "$(dirname "$0")/lib.sh"
W=$E2E_TMP/train; mkdir -p "$W"; cd "$W" || exit 1
q() { "$DYNN" query --csv "$1" 2>&1 | tail -n +2; }

cat > t.yaml <<'YAML'
name: trainstage
seed: 3
stages:
  train:
    type: train
    matrix: {method: [uniform, incremental]}
    threads: 1
    params:
      model: resnet8
      width: 0.5
      method: ${matrix.method}
      epochs: 1
      batch: 64
      train_limit: 512
      test-limit: 256
YAML
expect_ok "train stages run" "$DYNN" run t.yaml -j 2
expect_match "four subnets per method with accuracy" "^8$" "$(q "SELECT count(*) FROM metrics WHERE name='accuracy' AND value BETWEEN 0 AND 1")"
expect_match "uniform subnets named by width" "w0.25,w0.50,w0.75,w1.00" \
  "$(q "SELECT group_concat(subnet) FROM (SELECT m.subnet FROM metrics m JOIN stages s ON s.id=m.stage_id WHERE s.name='train@method=uniform' AND m.name='macs' ORDER BY m.value)")"
expect_match "largest subnet has width 1" "^2$" "$(q "SELECT count(*) FROM metrics WHERE name='width' AND value=1")"
expect_match "cost metrics recorded" "^2$" "$(q "SELECT count(*) FROM metrics WHERE name='train_flops' AND value > 0")"
expect_match "incremental model smaller than separate models" "^1$" \
  "$(q "SELECT (SELECT value FROM metrics m JOIN stages s ON s.id=m.stage_id WHERE s.name='train@method=incremental' AND m.name='model_bytes') < (SELECT value FROM metrics m JOIN stages s ON s.id=m.stage_id WHERE s.name='train@method=incremental' AND m.name='separate_models_bytes')")"
store=$(q "SELECT a.path FROM artifacts a JOIN stages s ON s.id=a.stage_id WHERE s.name='train@method=uniform' AND a.name='model'")
expect_ok "model artifact is a checkpoint" "$DYNN" info ".dynn/$store"

# the same options through the CLI give the same bytes (seed = the run's seed, threads = the stage's)
"$DYNN" train --model resnet8 --width 0.5 --method uniform --epochs 1 --batch 64 --train-limit 512 --test-limit 256 \
  --seed 3 --threads 1 --quiet --out cli.dnn >/dev/null 2>&1
a=$("$DYNN" info --json cli.dnn | grep -o '"tensors_crc32":"[0-9a-f]*"'); b=$("$DYNN" info --json ".dynn/$store" | grep -o '"tensors_crc32":"[0-9a-f]*"')
if [ -n "$a" ] && [ "$a" = "$b" ]; then pass "stage checkpoint equals the CLI's"; else fail "stage checkpoint equals the CLI's" "cli $a stage $b"; fi

out=$("$DYNN" run t.yaml -j 2 2>&1)
expect_match "second run all cached" "0 ran, 2 cached" "$out"

sed 's/epochs: 1/epocs: 1/' t.yaml > typo.yaml
expect_fail "misspelt param named with position" "typo.yaml:12:7: .*unknown train param 'epocs' \(did you mean 'epochs'\?\)" "$DYNN" validate typo.yaml
sed 's/batch: 64/batch: many/' t.yaml > bad.yaml
expect_fail "bad number named with position" "bad.yaml:13:14: .*param 'batch': 'many' is not an integer" "$DYNN" validate bad.yaml
sed 's/\[uniform, incremental\]/[nonuniform-multi]/; s/epochs: 1/epochs: 1\n      widths: [0.5, 1]/' t.yaml > mix.yaml
expect_fail "widths with a non-uniform method" "widths applies to method uniform or individual, not nonuniform-multi" "$DYNN" validate mix.yaml
sed 's/\[uniform, incremental\]/[uniform, slimmable]/' t.yaml > meth.yaml
expect_fail "unknown method" "slimmable" "$DYNN" validate meth.yaml

# nonuniform-*: greedy slimming's cost lands in the database with the other cost metrics
sed 's/\[uniform, incremental\]/[nonuniform-multi]/; s/epochs: 1/epochs: 1\n      bg_epochs: 1\n      slim_images: 128/' t.yaml > nu.yaml
expect_ok "nonuniform-multi stage runs" "$DYNN" run nu.yaml
nu() { q "SELECT m.value FROM metrics m JOIN stages s ON s.id=m.stage_id WHERE s.name='train@method=nonuniform-multi' AND m.name='$1'"; }
expect_match "slimming steps recorded" "^[1-9][0-9]*$" "$(nu slim_steps)"
expect_match "slimming trial forwards recorded, more than its steps" "^1$" \
  "$(q "SELECT (SELECT value FROM metrics WHERE name='slim_trials') > (SELECT value FROM metrics WHERE name='slim_steps')")"
expect_match "slimming seconds recorded" "^1$" "$(q "SELECT count(*) FROM metrics WHERE name='slim_seconds' AND value > 0")"
e2e_done
