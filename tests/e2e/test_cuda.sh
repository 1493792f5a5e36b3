#!/usr/bin/env bash
# tests/e2e/test_cuda.sh — the cuda backend from the command line. Everywhere the build has it: the
# binary links no CUDA library (they are loaded at run time), `dynn devices --json` has a cuda entry
# (its GPUs with spec, name, compute capability, SMs, memory, driver and runtime versions, or the
# one-line reason there are none), a malformed device index is refused before anything loads, the
# toolkit's stub libcuda is named as such, and a machine without a driver (or without a visible GPU)
# gets one line from profile and eval. Where a GPU is present: a profile through it has the device
# clock's samples next to the host's, and eval gives the CPU's accuracy for every subnet.
. "$(dirname "$0")/lib.sh"
T=$E2E_TMP

out=$("$DYNN" devices --json 2>"$T/err"); rc=$?
if [ $rc -ne 0 ] || ! printf '%s' "$out" | jq -e . >/dev/null 2>&1; then
  fail "devices --json" "exit $rc" "$out" "$(cat "$T/err")"; e2e_done
fi
if ! printf '%s' "$out" | jq -e '[.backends[].name] | index("cuda")' >/dev/null; then
  skip "cuda" "this dynn is built without CUDA (no nvcc, cudnn.h and cublas_v2.h under CUDA_HOME, or CUDA=0)"
  e2e_done
fi
libs=$(ldd "$DYNN" 2>&1)
if printf '%s' "$libs" | grep -Eq 'libcuda|libcudart|libcudnn|libcublas'; then
  fail "the binary links no CUDA library (dlopen only)" "$libs"
else pass "the binary links no CUDA library (dlopen only)"; fi
cuda=$(printf '%s' "$out" | jq -c '.backends[] | select(.name == "cuda")')
if printf '%s' "$cuda" | jq -e '(.error == null and (.devices | length) > 0 and ([.devices[] | (.spec | test("^cuda:[0-9]+$"))
    and .kind == "gpu" and (.name | length) > 0 and (.compute_capability | test("^[0-9]+\\.[0-9]+$")) and .compute_units > 0
    and .memory_bytes > 0 and (.driver | test("^CUDA [0-9]+\\.[0-9]+$")) and (.runtime | test("cuDNN [0-9]+\\.[0-9]+\\.[0-9]+, cuBLAS"))] | all))
    or ((.error | type) == "string" and (.error | test("^no CUDA (driver|GPU) on this machine")) and (.devices | length) == 0)' >/dev/null
then pass "devices --json: the cuda GPUs (capability, SMs, memory, versions), or why there are none"
else fail "devices --json: the cuda entry" "$cuda"; fi
expect_match "devices: the cuda backend listed" "^cuda — " "$("$DYNN" devices 2>&1)"

"$DYNN" train --model resnet8 --width 0.25 --method uniform --widths 0.5,1 --epochs 1 --batch 64 --train-limit 256 \
  --test-limit 64 --threads 2 --seed 1 --out "$T/m.dnn" --quiet >/dev/null 2>&1 || fail "train a tiny model"
for bad in x 0:1 -1; do
  expect_fail "a malformed cuda device 'cuda:$bad': one line, before loading anything" \
    "^dynn profile: .*cuda device '$bad': expected a device index \(cuda:N\), as 'dynn devices' lists them$" \
    "$DYNN" profile "$T/m.dnn" --backend "cuda:$bad" --repeat 1 --min-time-ms 0
done
stub=${CUDA_HOME:-/usr/local/cuda}/lib64/stubs/libcuda.so
if [ -f "$stub" ]; then
  mkdir -p "$T/stub" && ln -s "$stub" "$T/stub/libcuda.so.1"
  expect_fail "the toolkit's stub libcuda: named, and what to install" \
    "^dynn profile: .*no CUDA driver on this machine: the libcuda.so.1 that loads \(.*stub.*\) is the toolkit's stub, not a driver: install the NVIDIA driver$" \
    env LD_LIBRARY_PATH="$T/stub" "$DYNN" profile "$T/m.dnn" --backend cuda --repeat 1 --min-time-ms 0
else skip "the stub libcuda" "no $stub (CUDA_HOME is not a full toolkit)"; fi

spec=$(printf '%s' "$cuda" | jq -r '.devices[0].spec // empty')
if [ -z "$spec" ]; then
  why=$(printf '%s' "$cuda" | jq -r .error)
  for cmd in profile eval; do
    args=(--repeat 1 --min-time-ms 0); [ $cmd = eval ] && args=(--test-limit 10)
    expect_fail "dynn $cmd --backend cuda without a GPU: one line, what is missing" \
      "^dynn $cmd: .*no CUDA (driver|GPU) on this machine.*(install the NVIDIA driver|nvidia-smi)" \
      "$DYNN" $cmd "$T/m.dnn" --backend cuda "${args[@]}"
    lines=$("$DYNN" $cmd "$T/m.dnn" --backend cuda "${args[@]}" 2>&1 | wc -l)
    expect_match "dynn $cmd --backend cuda without a GPU: exactly one line" "^1$" "$lines"
  done
  skip "cuda on a GPU (profile with the device clock, eval equal to the CPU)" "$why"
  e2e_done
fi
# A GPU: hidden from the driver, the same one-line refusal
expect_fail "CUDA_VISIBLE_DEVICES='': no CUDA GPU, one line" "^dynn profile: .*no CUDA GPU on this machine" \
  env CUDA_VISIBLE_DEVICES= "$DYNN" profile "$T/m.dnn" --backend cuda --repeat 1 --min-time-ms 0
prof=$("$DYNN" profile "$T/m.dnn" --backend "$spec" --batch 1,2 --warmup 1 --repeat 3 --min-time-ms 0 --json 2>"$T/err"); rc=$?
if [ $rc -eq 0 ] && printf '%s' "$prof" | jq -e \
  '([.results[] | .backend == "cuda" and (.device | length) > 0 and (.device_samples_ms | length) == (.samples_ms | length)
    and .device_median_ms > 0 and .device_median_ms <= .median_ms * 1.5] | all) and (.results | length) == 4' >/dev/null
then pass "profile --backend $spec: host and device samples of every point"
else fail "profile --backend $spec" "exit $rc" "$prof" "$(cat "$T/err")"; fi
ev_cpu=$("$DYNN" eval "$T/m.dnn" --test-limit 1000 --json 2>&1)
ev_gpu=$("$DYNN" eval "$T/m.dnn" --test-limit 1000 --backend "$spec" --json 2>&1)
expect_match "eval --backend $spec: every subnet's accuracy equals the CPU's, loss within 1e-4" "true" \
  "$(jq -n --argjson a "$ev_cpu" --argjson b "$ev_gpu" '($a.subnets | length) == 2 and $b.backend.name == "cuda"
     and ([range(0; 2) as $i | $a.subnets[$i].accuracy == $b.subnets[$i].accuracy
          and (($a.subnets[$i].loss - $b.subnets[$i].loss) | fabs) < 1e-4] | all)' 2>&1)"
expect_fail "a cuda device out of range: one line naming what there is" "^dynn profile: .*cuda device '99': no such device \(this machine has 0 " \
  "$DYNN" profile "$T/m.dnn" --backend cuda:99 --repeat 1 --min-time-ms 0
e2e_done
