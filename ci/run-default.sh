#!/usr/bin/env bash
# ci/run-default.sh — `make run`: the default experiment on Fashion-MNIST.
# Trains ResNet-20 (3 epochs, the full 60000 training images, seed 1), evaluates it on the 10000
# test images and writes a Markdown report to out/quick/report.md. (The declarative pipeline
# version, experiments/quick.yaml, replaces this script once the pipeline stages exist.)
set -euo pipefail
cd "$(dirname "$0")/.."
out=out/quick
mkdir -p "$out"
DYNN=./build/dynn
start=$(date +%s)
"$DYNN" train --model resnet20 --data fashion-mnist --epochs "${EPOCHS:-3}" --batch 128 --lr 0.1 --seed 1 \
  --out "$out/resnet20.dnn" | tee "$out/train.log"
"$DYNN" eval "$out/resnet20.dnn" --json > "$out/eval.json"
"$DYNN" eval "$out/resnet20.dnn" > "$out/eval.txt"
"$DYNN" info "$out/resnet20.dnn" > "$out/info.txt"
elapsed=$(( $(date +%s) - start ))
{
  echo "# dynn default experiment: ResNet-20 on Fashion-MNIST"
  echo
  echo "Recipe: ${EPOCHS:-3} epochs, batch 128, SGD momentum 0.9 (Nesterov), lr 0.1 cosine, weight decay 5e-4,"
  echo "random crop (pad 2) + horizontal flip, seed 1. Wall time: ${elapsed} s on $(nproc) CPUs."
  echo
  echo '```'; cat "$out/eval.txt"; echo '```'
  echo
  echo "Training log:"
  echo '```'; cat "$out/train.log"; echo '```'
  echo
  echo "Model:"
  echo '```'; cat "$out/info.txt"; echo '```'
} > "$out/report.md.tmp"
mv "$out/report.md.tmp" "$out/report.md"
echo "report: $out/report.md"
