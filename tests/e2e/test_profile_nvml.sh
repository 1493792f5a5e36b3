#!/usr/bin/env bash
# tests/e2e/test_profile_nvml.sh — an NVIDIA GPU's clocks in `dynn profile --gpu-nvml N`, against the fake
# NVML (tests/fake/fake_nvml.c, $BUILD/tests/fake/libnvidia-ml.so.1 on LD_LIBRARY_PATH; its state file
# says what was set and reset): --gpu-freq sweeps SM clocks as DVFS points (locked clocks, each
# result's gpu_freq_khz and the SM and memory clocks seen, gpu_sm_clock_mhz / gpu_mem_clock_mhz; the
# gpu_clocks object; the table's line and columns) and resets them; application clocks where locked
# clocks are refused; a driver that refuses both: noted, measured, clocks recorded, nothing set; the
# reset after an error mid-sweep and after SIGINT; one-line errors for an unsupported clock, a device
# index out of range, --gpu-devfreq beside it and no NVML library; the profile stage's gpu_nvml param
# carries the clocks to the database and the report. The backend is `cpu`: the clocks are conditions
# of the sweep whatever the backend.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../pipeline/e2e_helpers.sh"
T=$E2E_TMP
FAKE=$(cd "$(dirname "$DYNN")" && pwd)/tests/fake
[ -f "$FAKE/libnvidia-ml.so.1" ] || { fail "the fake NVML is built" "no $FAKE/libnvidia-ml.so.1 (make unit)"; e2e_done; }

"$DYNN" train --model resnet8 --width 0.25 --method uniform --widths 0.5,1 --epochs 1 --batch 64 --train-limit 256 \
  --test-limit 64 --threads 2 --seed 1 --out "$T/m.dnn" --quiet >/dev/null 2>&1 || fail "train a tiny model"
fast=(--subnets 0 --cpus 0 --warmup 0 --repeat 2 --min-time-ms 0 --backend cpu)

S=$T/nvml.state
fake_gpu() { printf '%s' "$1" > "$S"; rm -f "$S.log"; } # CONFIG-LINES: a fresh fake GPU
st() { sed -n "s/^$1 //p" "$S"; }                        # KEY: its value in the fake's state
st0() { local v; v=$(st "$1"); echo "${v:-0}"; }           # the same, 0 for a clock never set
log() { cat "$S.log" 2>/dev/null; }                        # the set/reset calls, in order
nv() { LD_LIBRARY_PATH=$FAKE FAKE_NVML_STATE=$S "$DYNN" profile "$T/m.dnn" "${fast[@]}" "$@"; }
one_line_fail() { # NAME WANT-EXIT REGEX ARGS...: that exit status, one line of output matching REGEX
  local name=$1 want=$2 re=$3; shift 3
  local o; o=$(nv "$@" 2>&1); local rc=$?
  if [ $rc -eq "$want" ] && [ "$(printf '%s\n' "$o" | wc -l)" -eq 1 ] && printf '%s' "$o" | grep -Eq -- "$re"; then pass "$name"
  else fail "$name" "exit $rc (wanted $want), wanted one line matching /$re/" "$o"; fi
}

# locked clocks: every supported SM clock, ascending, each a result with the clocks seen; all reset
fake_gpu ""
out=$(nv --gpu-nvml 0 --gpu-freq all --json 2>"$T/err"); rc=$?
[ $rc -eq 0 ] && pass "--gpu-nvml 0 --gpu-freq all: exit 0" || fail "--gpu-nvml --gpu-freq all" "exit $rc" "$(cat "$T/err")"
check "one result per SM clock, gpu_freq_khz = MHz * 1000" \
  '[.results[] | .gpu_freq_khz] == [300000, 600000, 900000, 1200000, 1410000]'
check "each result: the SM and memory clocks seen (MHz)" \
  '[.results[] | .gpu_sm_clock_mhz] == [300, 600, 900, 1200, 1410] and ([.results[] | .gpu_mem_clock_mhz == 1593] | all)'
check "gpu_clocks: device, method, memory clock, supported SM clocks" \
  '.gpu_clocks == {"nvml_index": 0, "name": "Fake GPU", "method": "locked", "reason": "", "memory_locked": true,
                   "memory_clock_mhz": 1593, "sm_clocks_mhz": [300, 600, 900, 1200, 1410]} and has("gpu_dvfs") == false'
expect_eq "locked: the clocks are reset" "0 0 0" "$(st locked_sm) $(st locked_mem) $(st inits)"
expect_eq "locked: the calls (the memory clock locked once, both reset at the end)" \
  "SetGpuLockedClocks 300 300 = ok|SetMemoryLockedClocks 1593 1593 = ok|SetGpuLockedClocks 600 600 = ok|SetGpuLockedClocks 900 900 = ok|SetGpuLockedClocks 1200 1200 = ok|SetGpuLockedClocks 1410 1410 = ok|ResetGpuLockedClocks = ok|ResetMemoryLockedClocks = ok" \
  "$(log | paste -sd '|')"

# the table: the GPU's line and the clocks seen
fake_gpu ""
text=$(nv --gpu-nvml 0 --gpu-freq max 2>&1)
expect_match "table: the GPU's line" 'NVIDIA GPU 0 \(Fake GPU\) through NVML: locked clocks, memory 1593 MHz \(locked\); SM MHz 300 600 900 1200 1410' "$text"
expect_match "table: gpu_sm_MHz and gpu_mem_MHz columns" 'device_ms +gpu_sm_MHz +gpu_mem_MHz' "$text"
expect_match "table: the point's clocks" ' 1410000 .* 1410 +1593 *$' "$text"

# locked clocks refused: application clocks at the highest memory clock, in the order given, reset
fake_gpu "locked no_permission
"
out=$(nv --gpu-nvml 0 --gpu-freq 1200000000,min --json 2>"$T/err"); rc=$?
[ $rc -eq 0 ] && pass "application clocks: exit 0" || fail "application clocks" "exit $rc" "$(cat "$T/err")"
check "application clocks: results in the order given, clocks seen" \
  '[.results[] | [.gpu_freq_khz, .gpu_sm_clock_mhz, .gpu_mem_clock_mhz]] == [[1200000, 1200, 1593], [300000, 300, 1593]]
   and .gpu_clocks.method == "application" and .gpu_clocks.memory_locked == false'
expect_eq "application clocks: reset" "0 0" "$(st app_sm) $(st app_mem)"
expect_match "application clocks: the last call resets them" 'ResetApplicationsClocks = ok$' "$(log)"

# the driver refuses both: noted, measured once at the driver's clocks, which are recorded; nothing set
fake_gpu "locked no_permission
app no_permission
"
out=$(nv --gpu-nvml 0 --gpu-freq all --json 2>"$T/err"); rc=$?
if [ $rc -eq 0 ] && grep -q "note: GPU clocks not set (the driver refuses setting the clocks of GPU 0 (Fake GPU)" "$T/err"; then
  pass "no permission: noted, measured anyway"
else fail "no permission" "exit $rc" "$(cat "$T/err")"; fi
check "no permission: one result, no GPU frequency set, the clocks seen recorded" \
  '(.results | length) == 1 and .results[0].gpu_freq_khz == null and .results[0].gpu_sm_clock_mhz == 900
   and .results[0].gpu_mem_clock_mhz == 810 and .gpu_clocks.method == "none" and (.gpu_clocks.reason | test("Insufficient Permissions"))
   and .gpu_clocks.memory_clock_mhz == null'
expect_eq "no permission: nothing set, nothing reset" \
  "SetGpuLockedClocks 300 300 = no_permission|SetApplicationsClocks 1593 300 = no_permission" "$(log | paste -sd '|')"

# --gpu-nvml alone: the clocks recorded, nothing set
fake_gpu ""
out=$(nv --gpu-nvml 0 --batch 1,2 --json 2>"$T/err"); rc=$?
[ $rc -eq 0 ] && pass "--gpu-nvml alone: exit 0" || fail "--gpu-nvml alone" "exit $rc" "$(cat "$T/err")"
check "--gpu-nvml alone: every result has the clocks seen, no GPU frequency" \
  '([.results[] | [.gpu_freq_khz, .gpu_sm_clock_mhz, .gpu_mem_clock_mhz]] == [[null, 900, 810], [null, 900, 810]])
   and .gpu_clocks.reason == "not asked (no --gpu-freq)"'
expect_eq "--gpu-nvml alone: NVML opened once, no clock set" "opened=1 calls=" "opened=$(st opened) calls=$(log)"
out=$("$DYNN" profile "$T/m.dnn" "${fast[@]}" --json 2>&1)
check "without --gpu-nvml: no gpu_clocks, clocks null" \
  'has("gpu_clocks") == false and .results[0].gpu_sm_clock_mhz == null and .results[0].gpu_mem_clock_mhz == null'

# an error mid-sweep (the third clock cannot be set): the points before it kept, exit 1, clocks reset
fake_gpu "fail_set 900
"
out=$(nv --gpu-nvml 0 --gpu-freq all --json 2>"$T/err"); rc=$?
if [ $rc -eq 1 ] && grep -q "cannot set the SM clock to 900 MHz (locked clocks): Unknown Error" "$T/err"; then
  pass "error mid-sweep: exit 1 naming the clock"
else fail "error mid-sweep" "exit $rc" "$(cat "$T/err")"; fi
check "error mid-sweep: incomplete, the two points before it" \
  '.complete == false and [.results[] | .gpu_freq_khz] == [300000, 600000]'
expect_eq "error mid-sweep: the clocks are reset" "0 0" "$(st locked_sm) $(st locked_mem)"

# SIGINT mid-sweep: the clocks reset by the one handler, the profiler ends by SIGINT
for config in "" "locked not_supported"; do
  fake_gpu "$config
"
  LD_LIBRARY_PATH=$FAKE FAKE_NVML_STATE=$S "$DYNN" profile "$T/m.dnn" --subnets 0 --cpus 0 --warmup 0 --repeat 1 \
    --min-time-ms 60000 --gpu-nvml 0 --gpu-freq all --json >"$T/out" 2>"$T/err" &
  pid=$!
  for _ in $(seq 1 600); do # until a clock is set (at most 60 s)
    [ "$(st locked_mem)" = 1593 ] || [ "$(st app_sm)" = 300 ] && break # locked: the memory clock is locked last
    sleep 0.1
  done
  set_before="$(st0 locked_sm) $(st0 locked_mem) $(st0 app_sm)"
  kill -INT $pid; wait $pid; rc=$?
  if [ $rc -eq 130 ]; then pass "SIGINT mid-sweep (${config:-locked}): ended by SIGINT"
  else fail "SIGINT mid-sweep (${config:-locked})" "exit $rc, wanted 130 ($set_before)" "$(cat "$T/err")"; fi
  if [ -z "$config" ]; then want="300 1593 0"; else want="0 0 300"; fi
  expect_eq "SIGINT mid-sweep (${config:-locked}): the clocks set (SM, memory, application), then reset" \
    "$want -> 0 0 0" "$set_before -> $(st0 locked_sm) $(st0 locked_mem) $(st0 app_sm)"
done

# one-line errors, exit 2, nothing set
fake_gpu ""
one_line_fail "an unsupported clock, listing the supported ones" 2 \
  '^dynn profile: --gpu-freq: 1000000000 Hz is not a supported SM clock of GPU 0 \(Fake GPU\) at memory clock 1593 MHz \(supported, MHz: 300 600 900 1200 1410\)$' \
  --gpu-nvml 0 --gpu-freq 1000000000
one_line_fail "a device index out of range" 2 \
  '^dynn profile: --gpu-nvml: no NVIDIA GPU 3: NVML sees 1 \(indices 0..0, as nvidia-smi lists them\)$' --gpu-nvml 3 --gpu-freq max
one_line_fail "--gpu-nvml and --gpu-devfreq" 2 '^dynn profile: --gpu-nvml and --gpu-devfreq both name the GPU' \
  --gpu-nvml 0 --gpu-devfreq 57000000.gpu --gpu-freq max
one_line_fail "--gpu-nvml out of the range" 2 '^dynn profile: --gpu-nvml: 64 is out of range 0..63$' --gpu-nvml 64
expect_eq "errors: NVML opened for the two that need the device, no clock set" "opened=2 inits=0 calls=" \
  "opened=$(st opened) inits=$(st inits) calls=$(log)"
if ldconfig -p 2>/dev/null | grep -q 'libnvidia-ml\.so\.1 '; then
  skip "no NVML library: one-line error" "this machine has the NVIDIA driver's libnvidia-ml.so.1"
else
  o=$(env -u LD_LIBRARY_PATH "$DYNN" profile "$T/m.dnn" "${fast[@]}" --gpu-nvml 0 2>&1); rc=$?
  re="^dynn profile: --gpu-nvml: cannot load libnvidia-ml.so.1, the NVIDIA driver's NVML library \(.*\): install the NVIDIA driver, or put the directory holding libnvidia-ml.so.1 on LD_LIBRARY_PATH$"
  if [ $rc -eq 2 ] && [ "$(printf '%s\n' "$o" | wc -l)" -eq 1 ] && printf '%s' "$o" | grep -Eq -- "$re"; then
    pass "no NVML library: one-line error naming libnvidia-ml.so.1 and the driver"
  else fail "no NVML library" "exit $rc" "$o"; fi
fi

# the profile stage: gpu_nvml and gpu_frequencies_hz on a board without devfreq; the clocks seen reach
# the database (conditions gpu_sm_clock, gpu_mem_clock) and the report's latency table
mkdir -p "$T/exp"
cat > "$T/exp/e.yaml" <<YAML
stages:
  prof:
    type: profile
    params:
      platform: {name: nvbox, type: local, clusters: {one: "0"}}
      model: $T/m.dnn
      subnets: [0]
      mapping: [{cpus: one, threads: 1}]
      gpu_nvml: 0
      gpu_frequencies_hz: [300000000, 1410000000]
      warmup: 0
      repeat: 2
      min_time_ms: 0
YAML
fake_gpu ""
DB=$T/exp/.dynn/results.db
o=$(cd "$T/exp" && LD_LIBRARY_PATH=$FAKE FAKE_NVML_STATE=$S "$DYNN" run e.yaml 2>&1); rc=$?
[ $rc -eq 0 ] && pass "profile stage with gpu_nvml" || fail "profile stage with gpu_nvml" "exit $rc" "$o"
expect_eq "profile stage: gpu_freq, gpu_sm_clock and gpu_mem_clock per measurement in the database" \
  "300000,300,1593 1410000,1410,1593" \
  "$(q "SELECT f.value || ',' || s.value || ',' || m.value FROM conditions f
        JOIN conditions s ON s.measurement_id = f.measurement_id AND s.key = 'gpu_sm_clock'
        JOIN conditions m ON m.measurement_id = f.measurement_id AND m.key = 'gpu_mem_clock'
        WHERE f.key = 'gpu_freq' ORDER BY f.value + 0" | tr -d '"' | tr '\n' ' ' | sed 's/ $//')"
expect_eq "profile stage: the clocks are reset" "0 0" "$(st locked_sm) $(st locked_mem)"
o=$(cd "$T/exp" && "$DYNN" report --db "$DB" -o rep 2>&1); rc=$?
md=$(cat "$T/exp/rep/report.md" 2>/dev/null)
expect_match "report: the GPU clocks columns" '\| GPU MHz \(set\) \| GPU SM / mem MHz \(seen\) \|' "$md"
expect_match "report: a point's GPU clock set and seen" '\| 1410 \| 1410 / 1593 \|' "$md"
expect_fail "profile stage: gpu_nvml out of range is refused at validation" \
  "e.yaml:[0-9]+:[0-9]+: stage 'prof': 'gpu_nvml' must be between 0 and 63, not 64" \
  sh -c "sed 's/gpu_nvml: 0/gpu_nvml: 64/' '$T/exp/e.yaml' > '$T/exp/bad.yaml' && mv '$T/exp/bad.yaml' '$T/exp/e.yaml' && '$DYNN' validate '$T/exp/e.yaml'"
e2e_done
