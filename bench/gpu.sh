#!/usr/bin/env bash
# bench/gpu.sh — on a machine with a GPU: ResNet-18 at 224x224, batch 128, latency of each uniform
# subnet (widths 0.25, 0.5, 0.75, 1; host wall time and the GPU's own clock) through a device
# backend (opencl or cuda), the subnet-switch cost, the convolutions' GFLOP/s against the vendor's
# SGEMM of the same shapes (CLBlast for opencl, cuBLAS for cuda), and the GPU's SGEMM peak — to set
# next to the desktop-GPU figures of Yang et al. (DAC 2020): ResNet-18 subnets at 13.4 / 24.6 / 41.3
# / 62.1 ms at batch 128 (../shared/PAPERS.md). The weights are random: latency does not depend on
# them. Not a test: prints figures only. (bench/cuda_check.sh sets the cuda backend next to PyTorch.)
#
# Usage: bench/gpu.sh [DEVICE_SPEC]   (default: the first CUDA GPU, else the first OpenCL GPU, that
#        `dynn devices` lists)       Env: BUILD (build), REPEAT (5), BATCH (128)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
spec=${1:-}
if [ -z "$spec" ]; then
  spec=$("$BUILD/dynn" devices --json | jq -r '[.backends[] | select(.name == "cuda" or .name == "opencl") | .devices[]
    | select(.kind == "gpu")] | sort_by(.spec | startswith("opencl")) | .[0].spec // empty')
  if [ -z "$spec" ]; then
    echo "bench/gpu.sh: no CUDA or OpenCL GPU on this machine:" >&2
    "$BUILD/dynn" devices >&2
    exit 1
  fi
fi
[ -x "$BUILD/bench/backend_latency" ] || make -s "$BUILD/bench/backend_latency"
echo "== ResNet-18 224x224, batch ${BATCH:-128}, on $spec"
"$BUILD/bench/backend_latency" --device "$spec" --model resnet18 --hw 224 --batch "${BATCH:-128}" --repeat "${REPEAT:-5}"
echo "DAC 2020 (Yang et al.), desktop GPU, batch 128: w0.25 13.4 ms, w0.50 24.6 ms, w0.75 41.3 ms, w1.00 62.1 ms"
