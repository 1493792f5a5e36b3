#!/usr/bin/env bash
# ci/reproduce.sh — `make reproduce`: the paper-scale experiments. Each one says what it needs
# (a dataset directory, a reachable board) and stops with that message when it is missing; the
# others still run. Results: .dynn/results.db, reports under out/.
#   CIFAR10=DIR     the CIFAR-10 binary batches (data_batch_1.bin … test_batch.bin)
#   ODROID=HOST JETSON=HOST   boards reachable over ssh for paper-incremental.yaml
set -uo pipefail
cd "$(dirname "$0")/.."
DYNN=./build/dynn
status=0
run() { # NAME ARGS...
  local name=$1; shift
  echo "== $name"
  if ! "$DYNN" run "experiments/$name.yaml" "$@"; then status=1; echo "== $name did not finish (see above)"; fi
}
run fashion-full
if [ -n "${CIFAR10:-}" ]; then
  run paper-resnet --set "cifar10=$CIFAR10"
  if [ -n "${ODROID:-}" ] && [ -n "${JETSON:-}" ]; then
    run paper-incremental --set "cifar10=$CIFAR10" --set "odroid_host=$ODROID" --set "jetson_host=$JETSON"
  else
    echo "== paper-incremental skipped: set ODROID=HOST and JETSON=HOST (boards reachable with 'ssh HOST' in BatchMode) to profile on the boards"
    status=1
  fi
else
  echo "== paper-resnet and paper-incremental skipped: set CIFAR10=DIR to the CIFAR-10 binary batches (data_batch_1.bin ... test_batch.bin from https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz)"
  status=1
fi
exit $status
