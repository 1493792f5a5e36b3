#!/usr/bin/env bash
# tests/e2e/test_devices.sh — `dynn devices` and the opencl backend from the command line: the CPU
# is always listed (its cores, the spec `cpu`); where the build has OpenCL and pocl is installed,
# pocl's device is listed with a spec that `dynn profile --backend` takes, a profile through it
# has the device clock's samples next to the host's, and `dynn eval --backend` gives the CPU's
# accuracy for every subnet; an unknown device, a malformed spec and a
# machine without any OpenCL driver (an empty vendor directory) get one line and exit != 0.
. "$(dirname "$0")/lib.sh"
T=$E2E_TMP

expect_ok "help" "$DYNN" devices --help
out=$("$DYNN" devices --json 2>"$T/err"); rc=$?
if [ $rc -eq 0 ] && printf '%s' "$out" | jq -e . >/dev/null 2>&1; then pass "devices --json: valid JSON, exit 0"
else fail "devices --json" "exit $rc" "$out" "$(cat "$T/err")"; fi
check "the cpu backend first, one device: this machine's cores" \
  ".backends[0].name == \"cpu\" and (.backends[0].devices | length) == 1 and .backends[0].devices[0].spec == \"cpu\"
   and .backends[0].devices[0].compute_units == $(nproc) and .backends[0].devices[0].memory_bytes > 0"
text=$("$DYNN" devices --platform "$(dirname "$0")/../../experiments/platforms/odroid-xu3.yaml" 2>&1)
expect_match "--platform FILE: the board's clusters" "little +CPUs 0-3" "$text"
expect_match "--platform FILE: the board's GPU" "GPU of odroid-xu3: .*devfreq node 11800000.mali, 177.0..600.0 MHz" "$text"
expect_match "--platform FILE --json: the GPU's devfreq node and table" "true" \
  "$("$DYNN" devices --platform "$(dirname "$0")/../../experiments/platforms/jetson-nano.yaml" --json | jq '.gpu.devfreq == "57000000.gpu" and (.gpu.frequencies_hz | length) > 1 and .gpu.sensor == "gpu"')"
expect_fail "devices: an unknown option" "unknown option '--jsn' \(did you mean '--json'\?\)" "$DYNN" devices --jsn

# A profile stage of a checkpoint file that no train stage of the run made: the report still draws
# its figures (the points are ordered by the profiler's subnet index).
"$DYNN" train --model resnet8 --width 0.25 --method uniform --widths 0.5,1 --epochs 1 --batch 64 --train-limit 256 \
  --test-limit 64 --threads 2 --seed 1 --out "$T/m.dnn" --quiet >/dev/null 2>&1 || fail "train a tiny model"
mkdir -p "$T/pipe" && cd "$T/pipe" || exit 1
pipeline() { # DEVICES: an experiment profiling m.dnn on each device, aggregated and reported
  cat > p.yaml <<YAML
name: devices
stages:
  prof:
    type: profile
    matrix: {dev: [$1]}
    params: {platform: local, model: $T/m.dnn, device: "\${matrix.dev}", batch: [1, 2], warmup: 1, repeat: 3, min_time_ms: 0}
  agg:
    type: aggregate
    needs: prof
  report:
    type: report
    needs: prof
    params: {out: rep}
YAML
}
pipeline cpu
run=$("$DYNN" run p.yaml 2>&1); rc=$?
if [ $rc -eq 0 ] && [ -f rep/report.md ] && ls rep/plots/latency_width__unknown_model__local_b1.svg >/dev/null 2>&1; then
  pass "profile of a model file + report: the run finishes, figures drawn"
else fail "profile of a model file + report" "exit $rc" "$run"; fi
cd "$T" || exit 1

if ! printf '%s' "$out" | jq -e '[.backends[].name] | index("opencl")' >/dev/null; then
  skip "opencl" "this dynn is built without OpenCL (pkg-config found no OpenCL + CLBlast: ci/deps.sh)"
  e2e_done
fi
spec=$(printf '%s' "$out" | jq -r '[.backends[] | select(.name == "opencl") | .devices[]][0].spec // empty')
if [ -z "$spec" ]; then
  skip "opencl device" "no OpenCL device on this machine: $(printf '%s' "$out" | jq -r '.backends[] | select(.name == "opencl") | .error')"
  e2e_done
fi
check "every opencl device: spec, name, compute units, memory" \
  '[.backends[] | select(.name == "opencl") | .devices[] | (.spec | test("^opencl:[0-9]+:[0-9]+$")) and (.name | length) > 0
    and .compute_units > 0 and .memory_bytes > 0] | all'

prof=$("$DYNN" profile "$T/m.dnn" --backend "$spec" --batch 1,2 --warmup 1 --repeat 3 --min-time-ms 0 --json 2>"$T/err"); rc=$?
if [ $rc -eq 0 ] && printf '%s' "$prof" | jq -e \
  '([.results[] | .backend == "opencl" and (.device | length) > 0 and (.device_samples_ms | length) == (.samples_ms | length)
    and .device_median_ms > 0 and .device_median_ms <= .median_ms * 1.5] | all) and (.results | length) == 4' >/dev/null
then pass "profile --backend $spec: host and device samples of every point"
else fail "profile --backend $spec" "exit $rc" "$prof" "$(cat "$T/err")"; fi
ev_cpu=$("$DYNN" eval "$T/m.dnn" --test-limit 1000 --json 2>&1)
ev_cl=$("$DYNN" eval "$T/m.dnn" --test-limit 1000 --backend "$spec" --json 2>&1)
expect_match "eval --backend $spec: every subnet's accuracy equals the CPU's, loss within 1e-4" "true" \
  "$(jq -n --argjson a "$ev_cpu" --argjson b "$ev_cl" '($a.subnets | length) == 2 and $b.backend.name == "opencl"
     and ([range(0; 2) as $i | $a.subnets[$i].accuracy == $b.subnets[$i].accuracy
          and (($a.subnets[$i].loss - $b.subnets[$i].loss) | fabs) < 1e-4] | all)' 2>&1)"
cpu=$("$DYNN" profile "$T/m.dnn" --batch 1 --warmup 0 --repeat 2 --min-time-ms 0 --json 2>/dev/null)
expect_match "the cpu backend has no device clock: null" "true" \
  "$(printf '%s' "$cpu" | jq '[.results[] | .device_samples_ms == null and .device_median_ms == null] | all')"
expect_fail "an opencl device out of range: one line naming what there is" "^dynn profile: .*opencl device '0:99': no such device \(this machine has 0:0 " \
  "$DYNN" profile "$T/m.dnn" --backend opencl:0:99 --repeat 1 --min-time-ms 0
expect_fail "a malformed opencl device" "opencl device 'x': expected PLATFORM or PLATFORM:DEVICE" \
  "$DYNN" profile "$T/m.dnn" --backend opencl:x --repeat 1 --min-time-ms 0
mkdir -p "$T/novendors"
expect_fail "no OpenCL driver at all: what to install" "no OpenCL platform on this machine .*pocl-opencl-icd" \
  env OCL_ICD_VENDORS="$T/novendors" "$DYNN" profile "$T/m.dnn" --backend opencl --repeat 1 --min-time-ms 0
# the profile stage on both backends, into the database, the aggregate and the report
cd "$T/pipe" && rm -rf .dynn rep || exit 1
pipeline "cpu, $spec"
run=$("$DYNN" run p.yaml 2>&1); rc=$?
expect_match "profile stage with device: $spec, aggregated and reported: the run finishes" "^0$" "$rc"
expect_match "the database has each measurement's backend" "^4 4$" \
  "$("$DYNN" query "SELECT sum(value = 'cpu'), sum(value = 'opencl') FROM conditions WHERE key = 'backend'" --csv | tail -1 | tr ',' ' ')"
expect_match "the aggregate: speed-up of each subnet and batch against the cpu backend" "^4$" \
  "$("$DYNN" query "SELECT count(*) FROM metrics WHERE name = 'speedup_vs_cpu' AND value > 0" --csv | tail -1)"
expect_match "the report: a table per device and the comparison" \
  "\| \(unknown model\)/local/opencl/b2 \| w1.00 \| .* \| (cpu|opencl) \| [0-9.]+x \|" "$(cat rep/report.md 2>/dev/null)"
if ls rep/plots/latency_width__unknown_model__local_opencl_b1.svg rep/plots/latency_width__unknown_model__local_b1.svg >/dev/null 2>&1
then pass "the report: figures per device"; else fail "the report: figures per device" "$(ls rep/plots 2>&1)"; fi
cd "$T" || exit 1
none=$(OCL_ICD_VENDORS="$T/novendors" "$DYNN" devices --json 2>&1)
expect_match "devices without a driver: the cpu still listed, opencl's error said" "true" \
  "$(printf '%s' "$none" | jq '(.backends[0].devices | length) == 1 and ([.backends[] | select(.name == "opencl") | .error | test("no OpenCL platform")] | all)')"
e2e_done
