#!/usr/bin/env bash
# bench/cuda_check.sh — the cuda backend on an NVIDIA GPU, in one run of under 8 minutes:
#   1. builds dynn (with CUDA: nvcc, cuDNN, cuBLAS under CUDA_HOME), test_backend and the benchmark;
#   2. runs the equality tests (tests/run.sh 'test_backend|test_cuda': every subnet of every method's
#      logits within 1e-4 of the CPU's, a switch allocating nothing; the CLI's cuda checks);
#   3. profiles ResNet-18 at HWxHW per uniform subnet (widths 0.25, 0.5, 0.75, 1) at batch 1 and 128
#      through dynn (bench/backend_latency) and PyTorch (bench/torch_resnet18.py, /usr/bin/python3)
#      on the same device with the same timing rule (warm-ups, then the median of synchronized
#      repeats, host input to host logits), and prints the table, PyTorch / dynn per subnet (> 1:
#      dynn faster), the dynamic range across the subnets against DAC 2020's 4.6x (Yang et al.,
#      desktop GPU, batch 128: 13.4 / 24.6 / 41.3 / 62.1 ms), and the cost of a subnet switch.
# DEVICE=cpu (with a small HW, e.g. HW=64) runs the same plumbing on the CPU: dynn's cpu backend
# next to PyTorch on the CPU; the GPU checks of step 2 then print SKIP with their reason.
#
# Usage: bench/cuda_check.sh      Env: DEVICE (cuda, or cuda:N, or cpu), HW (224), BUILD (build),
#        WARMUP (5; cpu 1), REPEAT (20; cpu 3), THREADS (host threads of the cpu backend and of
#        PyTorch on the CPU: every CPU), JOBS (make -j: the CPU count).
set -euo pipefail
cd "$(dirname "$0")/.."
DEVICE=${DEVICE:-cuda}
HW=${HW:-224}
BUILD=${BUILD:-build}
case $DEVICE in
  cpu) TORCH_DEVICE=cpu; WARMUP=${WARMUP:-1}; REPEAT=${REPEAT:-3} ;;
  cuda) TORCH_DEVICE=cuda; WARMUP=${WARMUP:-5}; REPEAT=${REPEAT:-20} ;;
  cuda:[0-9]*) TORCH_DEVICE=$DEVICE; WARMUP=${WARMUP:-5}; REPEAT=${REPEAT:-20} ;;
  *) echo "bench/cuda_check.sh: DEVICE must be cuda, cuda:N or cpu (got '$DEVICE')" >&2; exit 2 ;;
esac
THREADS=${THREADS:-$(nproc)}
start=$(date +%s)
T=$(mktemp -d "${TMPDIR:-/tmp}/cuda-check.XXXXXX")
trap 'rm -rf "$T"' EXIT
elapsed() { echo "($(( $(date +%s) - start )) s)"; }

echo "== 1. build $(elapsed)"
make -s -j"${JOBS:-$(nproc)}" BUILD="$BUILD" all "$BUILD/tests/test_backend" "$BUILD/bench/backend_latency"
if ! "$BUILD/dynn" devices --json | jq -e '[.backends[].name] | index("cuda")' >/dev/null; then
  echo "bench/cuda_check.sh: this dynn was built without CUDA (no nvcc, cudnn.h and cublas_v2.h under ${CUDA_HOME:-/usr/local/cuda})" >&2
  [ "$DEVICE" = cpu ] || exit 1
fi
"$BUILD/dynn" devices --json | jq -r '.backends[] | select(.name == "cuda") | if .error then "   cuda: \(.error)" else
  (.devices[] | "   \(.spec) \(.name), compute capability \(.compute_capability), \(.compute_units) SMs, \(.memory_bytes / 1073741824 | floor) GiB, driver \(.driver); \(.runtime)") end' || true

echo "== 2. equality tests $(elapsed)"
BUILD="$BUILD" tests/run.sh 'test_backend|test_cuda' | grep -Ev '^test_backend: \[ +OK' | tail -25

echo "== 3. ResNet-18 ${HW}x${HW} per subnet, dynn $DEVICE and PyTorch $TORCH_DEVICE $(elapsed)"
for b in 1 128; do
  "$BUILD/bench/backend_latency" --device "$DEVICE" --model resnet18 --hw "$HW" --batch "$b" --warmup "$WARMUP" \
    --repeat "$REPEAT" --threads "$THREADS" --json > "$T/dynn_b$b.json"
  echo "   dynn batch $b done $(elapsed)"
done
torch_ok=1
if ! /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  echo "   (no PyTorch for /usr/bin/python3: install python3-torch or pip's torch; the table has dynn only)"
  torch_ok=0
elif ! /usr/bin/python3 bench/torch_resnet18.py --device "$TORCH_DEVICE" --hw "$HW" --batches 1,128 --warmup "$WARMUP" \
       --repeat "$REPEAT" --threads "$THREADS" --json > "$T/torch.json"; then
  echo "   (PyTorch failed on $TORCH_DEVICE; the table has dynn only)"
  torch_ok=0
fi
echo "   torch done $(elapsed)"
[ "$torch_ok" = 1 ] || echo '{"results": [], "device": "-", "torch": "-"}' > "$T/torch.json"
/usr/bin/python3 - "$T/dynn_b1.json" "$T/dynn_b128.json" "$T/torch.json" <<'PY'
import json, sys
d1, d128, t = (json.load(open(p)) for p in sys.argv[1:4])
torch = {(r["width"], r["batch"]): r for r in t["results"]}
print(f"dynn {d128['backend']} on {d128['device']}; PyTorch {t['torch']} on {t['device']}")
print(f"medians of {d128['repeat']} after {d128['warmup']} warm-ups, host input to host logits (ms); "
      "ratio = PyTorch / dynn (> 1: dynn faster); device = CUDA events")
hdr = f"{'subnet':8} {'MMACs':>8} | {'dynn b1':>9} {'torch b1':>9} {'ratio':>6} | {'dynn b128':>10} {'torch b128':>10} {'ratio':>6} | {'dev b128':>9}"
print(hdr)
print("-" * len(hdr))
for s1, s128 in zip(d1["subnets"], d128["subnets"]):
    w = s1["width"]
    t1, t128 = torch.get((w, 1)), torch.get((w, 128))
    f = lambda r: f"{r['host_ms']:9.3f}" if r else f"{'-':>9}"
    ratio = lambda r, s: f"{r['host_ms'] / s['host_ms']:6.2f}" if r else f"{'-':>6}"
    dev = f"{s128['device_ms']:9.3f}" if s128["device_ms"] is not None else f"{'-':>9}"
    print(f"{s1['name']:8} {s1['mmacs']:8.1f} | {s1['host_ms']:9.3f} {f(t1)} {ratio(t1, s1)} | "
          f"{s128['host_ms']:10.3f} {f(t128):>10} {ratio(t128, s128)} | {dev}")
for name, d, b in (("dynn", d128, 128), ("dynn", d1, 1)):
    ms = [s["host_ms"] for s in d["subnets"]]
    print(f"dynamic range, {name} batch {b}: {max(ms) / min(ms):.2f}x (largest / smallest subnet)", end="")
    tr = [torch[(s["width"], b)]["host_ms"] for s in d["subnets"] if (s["width"], b) in torch]
    print(f"; PyTorch {max(tr) / min(tr):.2f}x" if len(tr) == len(ms) else "", end="")
    print("; DAC 2020 desktop GPU, batch 128: 62.1 / 13.4 = 4.63x" if b == 128 else "")
for d, b in ((d1, 1), (d128, 128)):
    s = d["switch"]
    print(f"subnet switch, batch {b}: set_subnet {s['set_subnet_ns']:.1f} ns; the largest subnet's forward right after "
          f"switching from the smallest {s['forward_after_switch_ms']:.3f} ms, staying on it {s['forward_staying_ms']:.3f} ms "
          f"({s['forward_after_switch_ms'] - s['forward_staying_ms']:+.3f} ms); {s['allocations']} device allocations, "
          f"{s['uploads']} uploads in {s['forwards']} forwards")
PY
echo "== done $(elapsed)"
