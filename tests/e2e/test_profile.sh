#!/usr/bin/env bash
# tests/e2e/test_profile.sh — `dynn profile` end to end on a tiny trained model: the JSON has every
# field of the contract (docs/FORMATS.md, Profile output; checked with jq), one result per
# combination, at least --repeat samples each, min <= median <= max; the run really stays on the
# CPUs of its mapping; with a fake sysfs tree (--sysfs-root) frequencies are set and the tree is
# put back afterwards, and a constant 2.5 W sensor gives 2.5 W average power; each batch's peak memory
# is its own deployment's; where cpufreq is
# absent --freq is noted and the current frequency measured; bad input gets one line, exit != 0.
. "$(dirname "$0")/lib.sh"
T=$E2E_TMP

expect_ok "help" "$DYNN" profile --help
"$DYNN" train --model resnet8 --width 0.25 --method uniform --widths 0.5,1 --epochs 1 --batch 64 --train-limit 256 \
  --test-limit 64 --threads 2 --seed 1 --out "$T/m.dnn" --quiet >/dev/null 2>&1 || fail "train a tiny model"

maps="0"; nmaps=1
if [ "$(nproc)" -ge 2 ]; then maps="0,0-1"; nmaps=2; fi
fast=(--warmup 2 --repeat 5 --min-time-ms 5)
out=$("$DYNN" profile "$T/m.dnn" --subnets all --batch 1,4 --cpus "$maps" "${fast[@]}" --sysfs-root "$T/nosys" --json 2>"$T/err")
rc=$?
if [ $rc -eq 0 ] && printf '%s' "$out" | jq -e . >/dev/null 2>&1; then pass "profile --json: valid JSON, exit 0"
else fail "profile --json" "exit $rc" "$out" "$(cat "$T/err")"; fi

check "top-level fields of the contract" \
  '(keys - ["format","version","complete","model","model_crc32","synthetic","host","build","dvfs","energy","results"]) == []
   and (["format","version","model","model_crc32","synthetic","host","build","dvfs","energy","results"] - keys) == []
   and .format == "dynn-profile" and .version == 1 and .complete == true and .synthetic == false'
check "host, dvfs and energy objects" \
  '(.host | has("hostname") and has("arch") and has("cpu_model") and (.ncpus >= 1))
   and (.dvfs | has("available") and has("reason") and has("sysfs_root") and has("method") and has("frequencies_khz"))
   and (.energy | has("available") and has("reason") and (.sensors | type == "array"))'
check "one result per subnet x batch x mapping, in sweep order" \
  "(.results | length) == (2 * 2 * $nmaps) and ([.results[] | .subnet_name] | .[0:2]) == [\"w0.50\", \"w1.00\"]
   and ([.results[] | .batch] | .[0:4]) == [1, 1, 4, 4]"
check "every result has every field" \
  '[.results[] | (["subnet","subnet_name","macs","params","batch","cpus","threads","freq_khz","warmup","repeat",
     "min_time_ms","samples_ms","median_ms","p90_ms","p99_ms","mean_ms","stddev_ms","min_ms","max_ms",
     "per_image_ms","peak_rss_kib","energy_j","avg_power_w"] - keys) == []] | all'
# JSON numbers carry 10 significant digits (%.10g): compare per-image time relatively.
check "samples >= repeat; min <= median <= p90 <= p99 <= max; per image = median / batch" \
  '[.results[] | (.samples_ms | length) >= .repeat and .min_ms <= .median_ms and .median_ms <= .p90_ms
     and .p90_ms <= .p99_ms and .p99_ms <= .max_ms and .min_ms > 0
     and ((.per_image_ms - .median_ms / .batch) | fabs) <= 1e-8 * (.median_ms / .batch) and .peak_rss_kib > 0] | all'
check "threads = CPUs of the mapping; the run stayed on them" \
  '[.results[] | (if .cpus == "0" then .threads == 1 and .cpus_seen == "0" else .threads == 2 end)] | all'
check "no DVFS, no sensors: frequency and energy null, reasons given" \
  '.dvfs.available == false and (.dvfs.reason | test("no CPU directory|no cpufreq")) and .dvfs.method == "none"
   and .energy.available == false and (.energy.reason | length) > 0
   and ([.results[] | .freq_khz == null and .energy_j == null and .avg_power_w == null] | all)'
info_crc=$("$DYNN" info "$T/m.dnn" --json | jq -r .tensors_crc32)
check "model_crc32 is the checkpoint's tensors CRC" ".model_crc32 == \"$info_crc\""
check "larger subnet costs more MACs" '.results[0].macs < .results[1].macs'

# Each batch is measured through a backend opened for it: the batch-1 point's peak memory is a batch-1
# deployment's, not that of a model built for the sweep's largest batch (before: equal, a training
# model for batch 256 at every point).
out=$("$DYNN" profile "$T/m.dnn" --subnets 0 --batch 1,256 --cpus 0 --warmup 0 --repeat 1 --min-time-ms 0 --json 2>"$T/err")
if [ "${DYNN_SANITIZE:-0}" = 1 ]; then # ASan's allocator keeps freed memory in its quarantine
  skip "peak memory per batch" "under ASan the resident size is the sanitizer allocator's, not the model's"
  check "both batches through the cpu backend" '[.results[] | .batch] == [1, 256] and ([.results[] | .backend == "cpu" and (.device | length) > 0] | all)'
else
check "peak memory per batch: batch 1 well under batch 256, both through the cpu backend" \
  '[.results[] | .batch] == [1, 256] and .results[0].peak_rss_kib * 2 < .results[1].peak_rss_kib
   and ([.results[] | .backend == "cpu" and (.device | length) > 0] | all)'
fi

text=$("$DYNN" profile "$T/m.dnn" --subnets w1.00 --cpus 0 "${fast[@]}" 2>&1)
expect_match "table output" 'w1\.00 +[0-9.]+ +1 +0 +1 ' "$text"

# A fake sysfs: cpufreq with the userspace governor for CPUs 0-1 and a constant 2.5 W INA231 sensor.
F=$T/sys
pol=$F/devices/system/cpu/cpufreq/policy0
mkdir -p "$pol" "$F/devices/system/cpu/cpu0" "$F/devices/system/cpu/cpu1" "$F/bus/i2c/drivers/INA231/3-0040"
echo schedutil > "$pol/scaling_governor"
echo "performance schedutil userspace" > "$pol/scaling_available_governors"
echo "200000 800000 1400000" > "$pol/scaling_available_frequencies"
echo 200000 > "$pol/scaling_min_freq"; echo 1400000 > "$pol/scaling_max_freq"
echo "<unsupported>" > "$pol/scaling_setspeed"
ln -s ../cpufreq/policy0 "$F/devices/system/cpu/cpu0/cpufreq"
ln -s ../cpufreq/policy0 "$F/devices/system/cpu/cpu1/cpufreq"
echo 2.500000 > "$F/bus/i2c/drivers/INA231/3-0040/sensor_W"
cat > "$T/board.yaml" <<'EOF'
name: fake-board
arch: x86_64
clusters: {little: "0"}
frequencies_khz: {little: [200000, 800000, 1400000]}
sensors:
  - {name: a7, kind: ina231, path: /sys/bus/i2c/drivers/INA231/3-0040/sensor_W, scale: 1}
EOF
out=$(DYNN_SYSFS_ROOT=$F "$DYNN" profile "$T/m.dnn" --subnets w0.50 --cpus little --freq min,max --platform "$T/board.yaml" \
      "${fast[@]}" --sample-ms 1 --json 2>"$T/err")
rc=$?
[ $rc -eq 0 ] && pass "profile with DVFS and a sensor (fake sysfs)" || fail "profile with DVFS" "exit $rc" "$(cat "$T/err")"
check "dvfs available (userspace) with the policy's frequencies" \
  '.dvfs.available == true and .dvfs.method == "userspace" and .dvfs.frequencies_khz["0"] == [200000, 800000, 1400000]'
check "one result per frequency, cluster name mapped to its CPUs" \
  '[.results[] | .freq_khz] == [200000, 1400000] and ([.results[] | .cpus] | unique) == ["0"]'
check "energy: 2.5 W average; energy of all inferences >= 2.5 W x their timed time" \
  '.energy.available == true and .energy.sensors[0].kind == "ina231"
   and ([.results[] | ((.avg_power_w - 2.5) | fabs) < 1e-6
         and .energy_j * (.samples_ms | length) >= 2.5 * (.samples_ms | add) / 1000 * 0.999999] | all)'
gov=$(cat "$pol/scaling_governor"); speed=$(cat "$pol/scaling_setspeed")
if [ "$gov" = schedutil ] && [ "$speed" = 1400000 ]; then pass "governor restored after the sweep (last speed set was max)"
else fail "governor restored" "governor=$gov setspeed=$speed"; fi

# A sweep that fails part-way prints what it measured with "complete": false, exits 1 and still
# puts the tree back: CPU 1 gets its own policy whose setspeed cannot be written (a directory).
if [ "$(nproc)" -ge 2 ]; then
  pol1=$F/devices/system/cpu/cpufreq/policy1
  cp -r "$pol" "$pol1"; rm "$pol1/scaling_setspeed"; mkdir "$pol1/scaling_setspeed"
  rm "$F/devices/system/cpu/cpu1/cpufreq"; ln -s ../cpufreq/policy1 "$F/devices/system/cpu/cpu1/cpufreq"
  out=$("$DYNN" profile "$T/m.dnn" --subnets 0 --cpus 0,1 --freq max "${fast[@]}" --sysfs-root "$F" --json 2>"$T/err")
  rc=$?
  if [ $rc -eq 1 ] && grep -q "policy1/scaling_setspeed" "$T/err"; then pass "failing sweep: exit 1, error names the file"
  else fail "failing sweep" "exit $rc" "$(cat "$T/err")"; fi
  check "failing sweep: what was measured, complete false" '.complete == false and (.results | length) == 1 and .results[0].cpus == "0"'
  g0=$(cat "$pol/scaling_governor"); g1=$(cat "$pol1/scaling_governor")
  [ "$g0" = schedutil ] && [ "$g1" = schedutil ] && pass "failing sweep: both governors restored" \
    || fail "failing sweep: governors restored" "policy0=$g0 policy1=$g1"
fi

# No cpufreq: --freq is noted on stderr, the current frequency is measured.
out=$("$DYNN" profile "$T/m.dnn" --subnets 0 --cpus 0 --freq max "${fast[@]}" --sysfs-root "$T/nosys" --json 2>"$T/err")
rc=$?
if [ $rc -eq 0 ] && grep -q "note: DVFS unavailable" "$T/err"; then pass "--freq without cpufreq: noted, measured anyway"
else fail "--freq without cpufreq" "exit $rc" "$(cat "$T/err")"; fi
check "--freq without cpufreq: freq_khz null" '(.results | length) == 1 and .results[0].freq_khz == null'

expect_one_line_fail() { # NAME REGEX ARGS...: exit != 0, exactly one line of output matching REGEX
  local name=$1 re=$2; shift 2
  local o; o=$("$DYNN" profile "$@" 2>&1); local rc=$?
  if [ $rc -ne 0 ] && [ "$(printf '%s\n' "$o" | wc -l)" -eq 1 ] && printf '%s' "$o" | grep -Eq -- "$re"; then pass "$name"
  else fail "$name" "exit $rc, wanted one line matching /$re/" "$o"; fi
}
expect_one_line_fail "unknown subnet" "no subnet 'tiny' \(this model has w0.50, w1.00" "$T/m.dnn" --subnets tiny
expect_one_line_fail "--cpus 99" "--cpus: CPU 99 is not available" "$T/m.dnn" --cpus 99
expect_one_line_fail "bad --batch" "--batch: 'x' is not an integer" "$T/m.dnn" --batch 1,x
expect_one_line_fail "zero --batch" "--batch: 0 is out of range" "$T/m.dnn" --batch 0
expect_one_line_fail "cluster without --platform" "cluster names need --platform" "$T/m.dnn" --cpus big
expect_one_line_fail "unknown cluster" "no cluster 'big' in .*board.yaml \(clusters: little\)" "$T/m.dnn" --cpus big --platform "$T/board.yaml"
expect_one_line_fail "frequency not offered" "--freq: 900000 kHz is not available on CPU 0" "$T/m.dnn" --cpus 0 --freq 900000 --sysfs-root "$F"
expect_one_line_fail "missing model" "none.dnn" "$T/none.dnn"
expect_one_line_fail "unknown option" "unknown option '--bogus'" "$T/m.dnn" --bogus
# --count instructions (the CI gate's measure, platforms/counter.h): refused in one line where it cannot count
expect_one_line_fail "--count: one word" "--count: 'cycles' is not one of: instructions" "$T/m.dnn" --count cycles
expect_one_line_fail "--count: one thread" "--count instructions needs one thread" "$T/m.dnn" --count instructions --threads 2
if grep -q avx512f /proc/cpuinfo && "$DYNN" version --json 2>/dev/null | grep -q 'march=native'; then
  expect_one_line_fail "--count: an AVX-512 build names the build to use" \
    "built for x86-64-v4 \(AVX-512.*make BUILD=build-v3 OPT=\"-O3 -march=x86-64-v3\"" "$T/m.dnn" --count instructions --threads 1
fi
V3=$(cd "$(dirname "$0")/../.." && pwd)/build-v3/dynn
if [ "${DYNN_SANITIZE:-0}" != 1 ] && [ -x "$V3" ] && command -v valgrind >/dev/null; then
  mkdir -p "$T/tmp"
  out=$(TMPDIR=$T/tmp "$V3" profile "$T/m.dnn" --count instructions --threads 1 --subnets 0 --batch 1 --warmup 1 --json 2>&1); rc=$?
  expect_match "--count instructions: a count per point, the counter named" \
    '"counter": ?"callgrind x86-64-v3 \(.*"instructions": ?[1-9][0-9]{4,}' "$(printf '%s' "$out" | tr -d '\n')"
  out2=$("$V3" profile "$T/m.dnn" --count instructions --threads 1 --subnets 0 --batch 1 --warmup 1 --json 2>&1)
  n1=$(printf '%s' "$out" | grep -Eo '"instructions": ?[0-9]+' | grep -Eo '[0-9]+$')
  n2=$(printf '%s' "$out2" | grep -Eo '"instructions": ?[0-9]+' | grep -Eo '[0-9]+$')
  if [ -n "$n1" ] && [ -n "$n2" ] && awk -v a="$n1" -v b="$n2" 'BEGIN { d = a - b; exit !(d * d <= (a * 0.005) ^ 2) }'
  then pass "--count instructions: two runs agree within 0.5% ($n1, $n2)"
  else fail "--count instructions: two runs agree within 0.5%" "$n1 vs $n2"; fi
  ls "$T/tmp"/dynn-count.* >/dev/null 2>&1 && fail "--count leaves no temp directory" || pass "--count leaves no temp directory"
else
  skip "--count instructions measured" "needs build-v3/dynn (make test builds it), valgrind and no sanitizer"
fi
e2e_done
