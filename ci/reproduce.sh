#!/usr/bin/env bash
# ci/reproduce.sh — `make reproduce`: the paper-scale experiments (hours). It first says what will
# run and what is missing, then runs what it can; a missing dataset or board is reported with what
# to provide, and the exit status is non-zero when anything was skipped or failed.
#   CIFAR10=DIR   the CIFAR-10 binary batches (data_batch_1.bin … data_batch_5.bin, test_batch.bin)
#   BOARDS=1      experiments/platforms/odroid-xu3.yaml and jetson-nano.yaml were edited to reach the
#                 boards (host, user, identity), each board has a dynn built for it
# Results: .dynn/results.db; reports in out/fashion-full, out/fashion-single-path, out/paper-resnet,
# out/paper-incremental. Without CIFAR10, paper-resnet's ResNet-18 at 224x224 (synthetic weights: no
# data set) still runs: `dynn run experiments/paper-resnet.yaml --only resnet18`.
set -uo pipefail
cd "$(dirname "$0")/.."
DYNN=./build/dynn
missing=()
plan=(fashion-full fashion-single-path)
if [ -z "${CIFAR10:-}" ]; then
  plan+=(paper-resnet:resnet18)
  missing+=("paper-resnet (but for its synthetic ResNet-18, which needs no data set), paper-incremental: CIFAR-10 is not given: download cifar-10-binary.tar.gz (https://www.cs.toronto.edu/~kriz/cifar.html), unpack it and run 'make reproduce CIFAR10=DIR' with DIR holding data_batch_1.bin ... test_batch.bin")
elif ! msg=$("$DYNN" validate experiments/paper-resnet.yaml --set "cifar10=$CIFAR10" 2>&1); then
  missing+=("paper-resnet, paper-incremental: $msg")
else
  plan+=(paper-resnet)
  if [ "${BOARDS:-0}" = 1 ]; then plan+=(paper-incremental)
  else missing+=("paper-incremental: the boards are not set up: edit host/user/identity in experiments/platforms/odroid-xu3.yaml and jetson-nano.yaml (check with 'ssh -o BatchMode=yes USER@HOST true'), give each board a dynn built for it (make TARGET=armhf for the XU3, whose board file names build-armhf/dynn; make TARGET=aarch64 for the Nano, with binary: ../../build-aarch64/dynn), then 'make reproduce CIFAR10=DIR BOARDS=1'"); fi
fi
echo "make reproduce: will run ${plan[*]}"
for m in "${missing[@]}"; do echo "make reproduce: skipped ${m}"; done
status=$(( ${#missing[@]} > 0 ))
for name in "${plan[@]}"; do
  echo "== $name"
  args=(); file=${name%%:*}
  if [ "$file" != "$name" ]; then args=(--only "${name#*:}")   # file:REGEX, the stages that need no data set
  elif [ "${name#fashion-}" = "$name" ]; then args=(--set "cifar10=$CIFAR10"); fi
  if ! "$DYNN" run "experiments/$file.yaml" "${args[@]}"; then status=1; echo "== $name did not finish (see the stage errors above; 'dynn status last')"; fi
done
exit $status
