#!/usr/bin/env bash
# bench/run.sh — `make bench`: dynn against the physical limit (OpenBLAS sgemm) and against the
# PyTorch peer (../shared/peers/torch_resnet.py), measured back to back in the same run, because
# these machines are noisy: ratios from one run mean more than absolute numbers across runs.
# Not a test: prints figures only.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
T=${THREADS:-2}
peer=../shared/peers/torch_resnet.py
# BENCH_ISA=avx2 measures an AVX2 machine's code paths on an AVX-512 one: dynn's avx2 kernel set,
# OpenBLAS's Haswell kernels (the sgemm peak too) and PyTorch's oneDNN and ATen limited to AVX2.
if [ "${BENCH_ISA:-}" = avx2 ]; then
  export DYNN_KERNELS=avx2 OPENBLAS_CORETYPE=Haswell DNNL_MAX_CPU_ISA=AVX2 ONEDNN_MAX_CPU_ISA=AVX2 ATEN_CPU_CAPABILITY=avx2
fi
echo "CPU: $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1), $(nproc) CPUs; $("$BUILD/dynn" version 2>/dev/null | grep -E '^(kernels|blas):' | tr '\n' ' ')"
echo "== convolutions vs sgemm ($T threads)"
"$BUILD/bench/conv_vs_sgemm" --threads "$T"
echo
echo "== training step and inference, ResNet-20 on 28x28x1"
# ROUNDS rounds (5), dynn then torch back to back in each, so a slow spell of the machine hits both;
# the ratio reported is the median of the per-round ratios. (On these VMs the two vCPUs sometimes
# share one core's FMA units: a 2-thread kernel then runs at its 1-thread speed for a while.)
have_torch=0
if [ -f "$peer" ] && /usr/bin/python3 -c 'import torch' 2>/dev/null; then have_torch=1
else echo "(PyTorch peer not available: install python3-torch, e.g. DYNN_DEPS_EXTRA=1 ci/deps.sh)"; fi
ratios=""
torch_json=""
ROUNDS=${ROUNDS:-5}
for round in $(seq 1 "$ROUNDS"); do
  dynn_train=$("$BUILD/bench/train_step" --batch 128 --threads "$T" --steps 8 --json)
  dynn_rate=$(printf '%s' "$dynn_train" | sed -n 's/.*"train_img_per_s":\([0-9.]*\).*/\1/p')
  if [ "$have_torch" = 1 ]; then
    torch_json=$(/usr/bin/python3 "$peer" --threads "$T" --json 2>/dev/null | tail -1)
    torch_rate=$(printf '%s' "$torch_json" | sed -n 's/.*"train_img_per_s_b128_w1.0": \([0-9.]*\).*/\1/p')
    r=$(awk -v a="$dynn_rate" -v b="$torch_rate" 'BEGIN{printf "%.2f", a/b}')
    ratios="$ratios $r"
    printf 'round %d: dynn %s img/s, torch %.1f img/s -> %sx\n' "$round" "$dynn_rate" "$torch_rate" "$r"
  else
    printf 'round %d: dynn %s img/s (batch 128, %s threads)\n' "$round" "$dynn_rate" "$T"
  fi
done
if [ -n "$ratios" ]; then
  echo "dynn/torch training throughput (median of the rounds): $(printf '%s\n' $ratios | sort -n | sed -n "$(( (ROUNDS + 1) / 2 ))p")x"
fi
echo
printf '%-6s %12s %12s %12s %12s\n' width "dynn b1 ms" "torch b1 ms" "dynn b128 ms" "torch b128 ms"
for w in 0.25 0.5 0.75 1.0; do
  b1=$("$BUILD/bench/train_step" --batch 1 --threads "$T" --steps 40 --width "$w" --json | sed -n 's/.*"infer_ms":\([0-9.]*\).*/\1/p')
  b128=$("$BUILD/bench/train_step" --batch 128 --threads "$T" --steps 4 --width "$w" --json | sed -n 's/.*"infer_ms":\([0-9.]*\).*/\1/p')
  tb1=-; tb128=-
  if [ -n "$torch_json" ]; then
    tb1=$(printf '%s' "$torch_json" | python3 -c "import json,sys; d=json.load(sys.stdin); print('%.3f' % d['infer']['$w']['b1_ms'])")
    tb128=$(printf '%s' "$torch_json" | python3 -c "import json,sys; d=json.load(sys.stdin); print('%.3f' % d['infer']['$w']['b128_ms'])")
  fi
  printf '%-6s %12s %12s %12s %12s\n' "$w" "$b1" "$tb1" "$b128" "$tb128"
done
echo
echo "== subnet switch cost"
"$BUILD/bench/switch_cost" --threads 1
if [ "${SKIP_PIPELINE:-0}" != 1 ] && { [ -x "$BUILD/bench/pipeline_bench" ] || [ -f bench/pipeline_bench.sh ]; }; then
  echo
  echo "== pipeline runner"
  [ -f bench/pipeline_bench.sh ] && bash bench/pipeline_bench.sh
fi
echo
echo "== inference backends: ResNet-20 28x28 per subnet, every backend of this build (opencl: pocl or a GPU; cuda: a GPU)"
for b in 1 128; do
  "$BUILD/bench/backend_latency" --device cpu --batch "$b" --repeat 5
  for dev in opencl cuda; do
    if "$BUILD/dynn" devices --json | jq -e --arg d "$dev" '[.backends[] | select(.name == $d) | .devices[]] | length > 0' >/dev/null 2>&1; then
      "$BUILD/bench/backend_latency" --device "$dev" --batch "$b" --repeat 5
    else
      echo "(no $dev backend or device here: see dynn devices)"
    fi
  done
done
