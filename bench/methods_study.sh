#!/usr/bin/env bash
# bench/methods_study.sh — the five dynamic-network methods on the same data, model and epoch
# budget: a table of method x subnet -> test accuracy, MMACs, parameters, and each method's
# training cost (TFLOPs, wall time) and memory against separate models. Not a test.
# Usage: bench/methods_study.sh [OUT_DIR] (env: MODEL=resnet20 EPOCHS=15 DATA=fashion-mnist
#        TRAIN_LIMIT=0 THREADS=2 SEED=1 FLOPS=0.0625,0.25,0.5625,1 METHODS="uniform ...")
# The non-uniform MACs targets default to the uniform widths' MACs (0.25^2, 0.5^2, 0.75^2, 1), so
# subnets of equal MACs can be compared across methods.
set -u
cd "$(dirname "$0")/.."
DYNN=${DYNN:-./build/dynn}
out=${1:-out/methods-study}
mkdir -p "$out"
MODEL=${MODEL:-resnet20}; EPOCHS=${EPOCHS:-15}; DATA=${DATA:-fashion-mnist}; THREADS=${THREADS:-2}
SEED=${SEED:-1}; FLOPS=${FLOPS:-0.0625,0.25,0.5625,1}
METHODS=${METHODS:-"uniform nonuniform-multi nonuniform-single incremental individual"}
limit=(); [ "${TRAIN_LIMIT:-0}" -gt 0 ] && limit=(--train-limit "$TRAIN_LIMIT")
for method in $METHODS; do
  extra=()
  case $method in nonuniform-*) extra=(--flops "$FLOPS");; esac
  [ -f "$out/$method.json" ] && { echo "$method: done already ($out/$method.json)"; continue; }
  echo "$method: training ($MODEL, $EPOCHS epochs, $DATA)..."
  if "$DYNN" train --model "$MODEL" --data "$DATA" --method "$method" "${extra[@]}" --epochs "$EPOCHS" \
       --threads "$THREADS" --seed "$SEED" "${limit[@]}" --out "$out/$method.dnn" --json > "$out/$method.json.tmp" 2> "$out/$method.log"; then
    mv "$out/$method.json.tmp" "$out/$method.json"
  else
    echo "$method: failed, see $out/$method.log"; rm -f "$out/$method.json.tmp"
  fi
done
python3 - "$out" $METHODS <<'PY'
import json, os, sys, subprocess
out, methods = sys.argv[1], sys.argv[2:]
print(f"| method | subnet | accuracy | MMACs | params |")
print(f"| --- | --- | --- | --- | --- |")
costs = []
for m in methods:
    p = os.path.join(out, m + ".json")
    if not os.path.exists(p): continue
    r = json.load(open(p))
    for s in r["subnets"]:
        print(f"| {m} | {s['name']} | {100*s['accuracy']:.2f}% | {s['macs']/1e6:.2f} | {s['params']:.0f} |")
    info = json.loads(subprocess.run([os.environ.get("DYNN", "./build/dynn"), "info", os.path.join(out, m + ".dnn"), "--json"],
                                     capture_output=True, text=True).stdout)
    costs.append((m, r["train_flops"] / 1e12, r["wall_s"], info["bytes"] / 2**20, info["separate_models_bytes"] / 2**20))
print()
print("| method | training TFLOPs | wall time | model MiB | as separate models MiB |")
print("| --- | --- | --- | --- | --- |")
for m, tf, w, b, sep in costs:
    print(f"| {m} | {tf:.1f} | {w/60:.1f} min | {b:.2f} | {sep:.2f} |")
PY
