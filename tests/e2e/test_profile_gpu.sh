#!/usr/bin/env bash
# tests/e2e/test_profile_gpu.sh — GPU DVFS in `dynn profile` on a fake devfreq tree (--sysfs-root):
# --gpu-devfreq NODE --gpu-freq all sweeps the node's frequencies (each result's gpu_freq_khz, the
# gpu_dvfs object of the JSON, the table's gpu_kHz column) and puts the node back (userspace
# governor, and min/max clamping without it); a board file's `gpu: {devfreq}` names the node; a
# SIGINT mid-sweep with both a CPU and the GPU changed puts both back and ends the profiler by the
# signal; an absent node is noted and measured at the current frequency; without --gpu-freq nothing
# is written; bad values get one line and a non-zero exit. The backend is `cpu`: the GPU frequency is
# a condition of the sweep whatever the backend.
. "$(dirname "$0")/lib.sh"
T=$E2E_TMP

"$DYNN" train --model resnet8 --width 0.25 --method uniform --widths 0.5,1 --epochs 1 --batch 64 --train-limit 256 \
  --test-limit 64 --threads 2 --seed 1 --out "$T/m.dnn" --quiet >/dev/null 2>&1 || fail "train a tiny model"
fast=(--subnets 0 --cpus 0 --warmup 0 --repeat 2 --min-time-ms 0 --backend cpu)

F=$T/sys
N=$F/class/devfreq/57000000.gpu
make_node() { # USERSPACE(0|1): a Tegra-like node, frequencies listed out of order
  rm -rf "$N"; mkdir -p "$N/userspace"
  echo nvhost_podgov > "$N/governor"
  if [ "$1" = 1 ]; then echo "wmark_active nvhost_podgov userspace performance" > "$N/available_governors"
  else echo "wmark_active nvhost_podgov performance" > "$N/available_governors"; rmdir "$N/userspace"; fi
  echo "921600000 76800000 460800000" > "$N/available_frequencies"
  echo 76800000 > "$N/min_freq"; echo 921600000 > "$N/max_freq"; echo 460800000 > "$N/cur_freq"
  [ "$1" = 1 ] && echo 0 > "$N/userspace/set_freq"
  return 0
}
node_state() { echo "$(cat "$N/governor") $(cat "$N/min_freq") $(cat "$N/max_freq")"; }

# userspace governor: every frequency, ascending, each a result; the governor put back
make_node 1
out=$("$DYNN" profile "$T/m.dnn" "${fast[@]}" --gpu-devfreq 57000000.gpu --gpu-freq all --sysfs-root "$F" --json 2>"$T/err")
rc=$?
[ $rc -eq 0 ] && pass "--gpu-freq all (userspace): exit 0" || fail "--gpu-freq all (userspace)" "exit $rc" "$(cat "$T/err")"
check "one result per GPU frequency, gpu_freq_khz = Hz / 1000, CPU frequency untouched" \
  '[.results[] | .gpu_freq_khz] == [76800, 460800, 921600] and ([.results[] | .freq_khz == null] | all)'
check "gpu_dvfs: node, method, the node's frequencies in Hz" \
  '.gpu_dvfs == {"available": true, "reason": "", "node": "57000000.gpu", "method": "userspace",
                 "frequencies_hz": [76800000, 460800000, 921600000]}'
expect_match "userspace: the last frequency set was the last of the sweep" '^921600000$' "$(cat "$N/userspace/set_freq")"
expect_match "userspace: the node is put back" '^nvhost_podgov 76800000 921600000$' "$(node_state)"

# no userspace governor: min_freq = max_freq per point, limits put back; a list in the order given
make_node 0
out=$("$DYNN" profile "$T/m.dnn" "${fast[@]}" --gpu-devfreq 57000000.gpu --gpu-freq max,76800000 --sysfs-root "$F" --json 2>"$T/err")
rc=$?
[ $rc -eq 0 ] && pass "--gpu-freq max,76800000 (minmax): exit 0" || fail "--gpu-freq (minmax)" "exit $rc" "$(cat "$T/err")"
check "minmax: results in the order given" '[.results[] | .gpu_freq_khz] == [921600, 76800] and .gpu_dvfs.method == "minmax"'
expect_match "minmax: the limits are put back" '^nvhost_podgov 76800000 921600000$' "$(node_state)"

# the table: the node's line and the gpu_kHz column
text=$("$DYNN" profile "$T/m.dnn" "${fast[@]}" --gpu-devfreq 57000000.gpu --gpu-freq min --sysfs-root "$F" 2>&1)
expect_match "table: the GPU node's line" 'GPU devfreq node 57000000.gpu: minmax, Hz 76800000 460800000 921600000' "$text"
expect_match "table: gpu_kHz column" 'freq_kHz +gpu_kHz' "$text"
expect_match "table: the point's GPU frequency" 'w0\.50 +[0-9.]+ +1 +0 +1 +- +76800 ' "$text"

# the node from a board file's gpu:, its power rail one of the board's sensors
mkdir -p "$F/bus/i2c/drivers/INA231/3-0044"; echo 1.500000 > "$F/bus/i2c/drivers/INA231/3-0044/sensor_W"
cat > "$T/board.yaml" <<'YAML'
name: fake-gpu-board
clusters: {little: "0"}
sensors:
  - {name: gpu, kind: ina231, path: /sys/bus/i2c/drivers/INA231/3-0044/sensor_W}
gpu: {name: "Maxwell 128-core", devfreq: 57000000.gpu, frequencies_hz: [76800000, 460800000, 921600000], sensor: gpu}
YAML
make_node 1
out=$("$DYNN" profile "$T/m.dnn" "${fast[@]}" --platform "$T/board.yaml" --gpu-freq 460800000 --sysfs-root "$F" --json 2>"$T/err")
rc=$?
[ $rc -eq 0 ] && pass "board gpu: devfreq names the node" || fail "board gpu:" "exit $rc" "$(cat "$T/err")"
check "board gpu: one point at 460800 kHz, energy from the rail" \
  '[.results[] | .gpu_freq_khz] == [460800] and .gpu_dvfs.node == "57000000.gpu" and .energy.available == true'
expect_match "board gpu: the node is put back" '^nvhost_podgov 76800000 921600000$' "$(node_state)"

# without --gpu-freq nothing about the GPU is touched (not even the writability check) and no gpu_dvfs
make_node 1
chmod 0444 "$N/governor" "$N/min_freq" "$N/max_freq" "$N/userspace/set_freq"
before=$(stat -c '%Y %s' "$N"/* "$N/userspace/set_freq" | md5sum)
out=$("$DYNN" profile "$T/m.dnn" "${fast[@]}" --gpu-devfreq 57000000.gpu --sysfs-root "$F" --json 2>"$T/err")
rc=$?
[ $rc -eq 0 ] && pass "--gpu-devfreq without --gpu-freq: exit 0" || fail "--gpu-devfreq alone" "exit $rc" "$(cat "$T/err")"
check "without --gpu-freq: no gpu_dvfs, gpu_freq_khz null" 'has("gpu_dvfs") == false and .results[0].gpu_freq_khz == null'
after=$(stat -c '%Y %s' "$N"/* "$N/userspace/set_freq" | md5sum)
[ "$before" = "$after" ] && pass "without --gpu-freq: the node is not written" || fail "without --gpu-freq: node written"
chmod 0644 "$N/governor" "$N/min_freq" "$N/max_freq" "$N/userspace/set_freq"

# an absent node: noted, measured at the current frequency, gpu_dvfs says why
out=$("$DYNN" profile "$T/m.dnn" "${fast[@]}" --gpu-devfreq 11800000.mali --gpu-freq all --sysfs-root "$F" --json 2>"$T/err")
rc=$?
if [ $rc -eq 0 ] && grep -q "note: GPU DVFS unavailable (no devfreq node $F/class/devfreq/11800000.mali" "$T/err"; then
  pass "absent node: noted, measured anyway"
else fail "absent node" "exit $rc" "$(cat "$T/err")"; fi
check "absent node: gpu_dvfs unavailable with the reason, gpu_freq_khz null" \
  '.gpu_dvfs.available == false and (.gpu_dvfs.reason | test("no devfreq node")) and .gpu_dvfs.method == "none"
   and (.results | length) == 1 and .results[0].gpu_freq_khz == null'

# SIGINT mid-sweep with a CPU policy and the GPU node changed: both put back, the profiler ends by SIGINT
pol=$F/devices/system/cpu/cpufreq/policy0
mkdir -p "$pol" "$F/devices/system/cpu/cpu0"
echo schedutil > "$pol/scaling_governor"; echo "schedutil userspace" > "$pol/scaling_available_governors"
echo "200000 1400000" > "$pol/scaling_available_frequencies"
echo 200000 > "$pol/scaling_min_freq"; echo 1400000 > "$pol/scaling_max_freq"; echo 0 > "$pol/scaling_setspeed"
ln -sfn ../cpufreq/policy0 "$F/devices/system/cpu/cpu0/cpufreq"
for userspace in 1 0; do
  make_node $userspace
  "$DYNN" profile "$T/m.dnn" --subnets 0 --cpus 0 --warmup 0 --repeat 1 --min-time-ms 60000 --freq max \
    --gpu-devfreq 57000000.gpu --gpu-freq all --sysfs-root "$F" --json >"$T/out" 2>"$T/err" &
  pid=$!
  for _ in $(seq 1 600); do # until both are changed (at most 60 s)
    if [ "$(cat "$pol/scaling_governor")" = userspace ] && { [ "$(cat "$N/governor")" = userspace ] || [ "$(cat "$N/max_freq")" = 76800000 ]; }; then break; fi
    sleep 0.1
  done
  changed="cpu=$(cat "$pol/scaling_governor") gpu=$(node_state)"
  kill -INT $pid; wait $pid; rc=$?
  if [ $rc -eq 130 ]; then pass "SIGINT mid-sweep (gpu userspace=$userspace): ended by SIGINT ($changed)"
  else fail "SIGINT mid-sweep (gpu userspace=$userspace)" "exit $rc, wanted 130 ($changed)" "$(cat "$T/err")"; fi
  expect_match "SIGINT mid-sweep (gpu userspace=$userspace): the GPU node put back" '^nvhost_podgov 76800000 921600000$' "$(node_state)"
  expect_match "SIGINT mid-sweep (gpu userspace=$userspace): the CPU governor put back" '^schedutil$' "$(cat "$pol/scaling_governor")"
done
rm -rf "$F/devices"

# the profile stage: gpu_frequencies_hz: all sweeps the board's gpu table, one `dynn profile --gpu-freq F`
# per point; each measurement's gpu_freq condition reaches the database (kHz); the node is put back
. "$(dirname "$0")/../pipeline/e2e_helpers.sh"
mkdir -p "$T/exp"
cat > "$T/exp/e.yaml" <<YAML
stages:
  prof:
    type: profile
    params:
      platform: {name: gbox, type: local, clusters: {one: "0"},
                 gpu: {devfreq: 57000000.gpu, frequencies_hz: [76800000, 460800000, 921600000]}}
      model: $T/m.dnn
      subnets: [0]
      mapping: [{cpus: one, threads: 1}]
      gpu_frequencies_hz: all
      warmup: 0
      repeat: 2
      min_time_ms: 0
YAML
make_node 1
DB=$T/exp/.dynn/results.db
o=$(cd "$T/exp" && DYNN_SYSFS_ROOT=$F "$DYNN" run e.yaml 2>&1); rc=$?
[ $rc -eq 0 ] && pass "profile stage with gpu_frequencies_hz: all" || fail "profile stage with gpu_frequencies_hz" "exit $rc" "$o"
expect_eq "profile stage: one measurement per board GPU frequency, gpu_freq in kHz in the database" "76800 460800 921600" \
  "$(q "SELECT value FROM conditions WHERE key = 'gpu_freq' ORDER BY value + 0" | tr '\n' ' ' | sed 's/ $//')"
expect_match "profile stage: the node is put back" '^nvhost_podgov 76800000 921600000$' "$(node_state)"
sed 's/gpu: {devfreq: 57000000.gpu, frequencies_hz: \[76800000, 460800000, 921600000\]}/description: no gpu/' "$T/exp/e.yaml" > "$T/exp/nogpu.yaml"
expect_fail "profile stage: gpu_frequencies_hz on a board without gpu: is refused at validation" \
  "nogpu.yaml:[0-9]+:[0-9]+: stage 'prof': 'gpu_frequencies_hz', but platform 'gbox' has no 'gpu: \{devfreq: NODE\}'" \
  "$DYNN" validate "$T/exp/nogpu.yaml"

expect_one_line_fail() { # NAME REGEX ARGS...: exit != 0, exactly one line of output matching REGEX
  local name=$1 re=$2; shift 2
  local o; o=$("$DYNN" profile "$@" 2>&1); local rc=$?
  if [ $rc -ne 0 ] && [ "$(printf '%s\n' "$o" | wc -l)" -eq 1 ] && printf '%s' "$o" | grep -Eq -- "$re"; then pass "$name"
  else fail "$name" "exit $rc, wanted one line matching /$re/" "$o"; fi
}
make_node 1
g=(--gpu-devfreq 57000000.gpu --sysfs-root "$F")
expect_one_line_fail "--gpu-freq without a node" "--gpu-freq: no GPU devfreq node: name it with --gpu-devfreq NODE" \
  "$T/m.dnn" "${fast[@]}" --gpu-freq all --sysfs-root "$F"
expect_one_line_fail "--gpu-freq not a number" "--gpu-freq: 'fast' is not a frequency in Hz, all, min or max" \
  "$T/m.dnn" "${fast[@]}" "${g[@]}" --gpu-freq fast
expect_one_line_fail "--gpu-freq out of range" "--gpu-freq: 200000000000 is out of range 1..100000000000" \
  "$T/m.dnn" "${fast[@]}" "${g[@]}" --gpu-freq 200000000000
expect_one_line_fail "--gpu-freq twice" "--gpu-freq: 76800000 is listed twice" \
  "$T/m.dnn" "${fast[@]}" "${g[@]}" --gpu-freq 76800000,76800000
expect_one_line_fail "--gpu-freq not offered" "--gpu-freq: 100000000 Hz is not available on GPU devfreq node 57000000.gpu \(available: 76800000 460800000 921600000\)" \
  "$T/m.dnn" "${fast[@]}" "${g[@]}" --gpu-freq 100000000
expect_one_line_fail "--gpu-devfreq a path" "--gpu-devfreq: GPU devfreq node '../x': give the name of a directory" \
  "$T/m.dnn" "${fast[@]}" --gpu-devfreq ../x --gpu-freq all --sysfs-root "$F"
expect_match "a refused --gpu-freq leaves the node as it was" '^nvhost_podgov 76800000 921600000$' "$(node_state)"
e2e_done
