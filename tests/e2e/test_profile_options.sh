#!/usr/bin/env bash
# tests/e2e/test_profile_options.sh — `dynn profile` and the profile stage follow one option table
# (platforms/profile_options.c): the same bad value gets the same refusal from the command line
# (exit 2, one line) and from `dynn validate` on a profile stage (file:line:col), and a value one
# accepts the other accepts. Before the table the stage took batch up to 2^20, repeat up to 2^24,
# min_time_ms up to 2^30 and only integers, while the profiler on the board refused batch 65537,
# repeat 1000001 and threads 2000 but took min_time_ms 0.5.
. "$(dirname "$0")/lib.sh"
T=$E2E_TMP
cd "$T" || exit 1

"$DYNN" train --model resnet8 --width 0.25 --method uniform --widths 0.5,1 --epochs 1 --batch 32 --train-limit 64 \
  --test-limit 32 --threads 1 --seed 1 --out "$T/m.dnn" --quiet >/dev/null 2>&1 || fail "train a tiny model"

# stage PARAMS-YAML-LINES...: an experiment with one profile stage on the local machine.
stage() {
  { printf 'stages:\n  prof:\n    type: profile\n    params:\n      platform: {name: here, type: local}\n      model: m.dnn\n'
    printf '      %s\n' "$@"; } > "$T/p.yaml"
}

# same_refusal NAME FLAG VALUE PARAM-LINE MESSAGE VALIDATE-MESSAGE: the profiler refuses `FLAG VALUE`
# with "dynn profile: FLAG: MESSAGE" (exit 2, one line) and validate refuses the stage with one line
# "p.yaml:LINE:COL: stage 'prof': VALIDATE-MESSAGE" (the YAML checks' wording, the table's range).
same_refusal() {
  local name=$1 flag=$2 value=$3 param=$4 msg=$5 vmsg=$6 out rc vout vrc
  out=$("$DYNN" profile "$T/m.dnn" "$flag" "$value" --warmup 0 --repeat 1 --min-time-ms 0 2>&1); rc=$?
  stage "$param"
  vout=$("$DYNN" validate "$T/p.yaml" 2>&1); vrc=$?
  if [ $rc -eq 2 ] && [ "$out" = "dynn profile: $flag: $msg" ] && [ $vrc -ne 0 ] &&
     [ "$(printf '%s\n' "$vout" | grep -c .)" -eq 1 ] &&
     [ "${vout%"p.yaml:7:"[0-9]*": stage 'prof': $vmsg"}" != "$vout" ]; then
    pass "$name: refused by both"
  else fail "$name" "profile: exit $rc: $out" "validate: exit $vrc: $vout"; fi
}

same_refusal "batch above the range" --batch 65537 "batch: [1, 65537]" "65537 is out of range 1..65536" \
  "'batch' must be between 1 and 65536, not 65537"
same_refusal "batch zero" --batch 0 "batch: 0" "0 is out of range 1..65536" "'batch' must be between 1 and 65536, not 0"
same_refusal "batch listed twice" --batch 4,4 "batch: [4, 4]" "4 is listed twice" "'batch' lists 4 twice"
same_refusal "batch not a number" --batch x "batch: x" "'x' is not an integer" "'batch' must be an integer, not 'x'"
same_refusal "warmup negative" --warmup -1 "warmup: -1" "-1 is out of range 0..1000000" \
  "'warmup' must be between 0 and 1000000, not -1"
same_refusal "warmup above the range" --warmup 1048576 "warmup: 1048576" "1048576 is out of range 0..1000000" \
  "'warmup' must be between 0 and 1000000, not 1048576"
same_refusal "repeat zero" --repeat 0 "repeat: 0" "0 is out of range 1..1000000" "'repeat' must be between 1 and 1000000, not 0"
same_refusal "repeat above the range" --repeat 16777216 "repeat: 16777216" "16777216 is out of range 1..1000000" \
  "'repeat' must be between 1 and 1000000, not 16777216"
same_refusal "min_time_ms above the range" --min-time-ms 1073741824 "min_time_ms: 1073741824" \
  "1.07374e+09 is out of range [0, 3.6e+06]" "'min_time_ms': 1.07374e+09 is out of range [0, 3.6e+06]"
same_refusal "sample_ms below the range" --sample-ms 0.01 "sample_ms: 0.01" "0.01 is out of range [0.1, 1000]" \
  "'sample_ms': 0.01 is out of range [0.1, 1000]"
same_refusal "frequency zero" --freq 0 "frequencies_khz: [0]" "0 is out of range 1..100000000" \
  "'frequencies_khz' must be between 1 and 100000000, not 0"
same_refusal "GPU frequency zero" --gpu-freq 0 "gpu_frequencies_hz: [0]" "0 is out of range 1..100000000000" \
  "'gpu_frequencies_hz' must be between 1 and 100000000000, not 0"
same_refusal "GPU frequency above the range (beyond an int)" --gpu-freq 100000000001 "gpu_frequencies_hz: [100000000001]" \
  "100000000001 is out of range 1..100000000000" "'gpu_frequencies_hz' must be between 1 and 100000000000, not 100000000001"
same_refusal "GPU frequency listed twice" --gpu-freq 76800000,76800000 "gpu_frequencies_hz: [76800000, 76800000]" \
  "76800000 is listed twice" "'gpu_frequencies_hz' lists 76800000 twice"
same_refusal "subnet listed twice" --subnets w1.00,w1.00 "subnets: [w1.00, w1.00]" "w1.00 is listed twice" \
  "'subnets' lists w1.00 twice"
same_refusal "empty backend" --backend "" "backend: ''" "empty value" "'backend': empty value"

# threads: --threads on the command line, a mapping's threads in the stage
out=$("$DYNN" profile "$T/m.dnn" --threads 4097 2>&1); rc=$?
stage "mapping: [{threads: 4097}]"
vout=$("$DYNN" validate "$T/p.yaml" 2>&1); vrc=$?
if [ $rc -eq 2 ] && [ "$out" = "dynn profile: --threads: 4097 is out of range 1..4096" ] && [ $vrc -ne 0 ] &&
   printf '%s' "$vout" | grep -Fq "stage 'prof': 'threads' must be between 1 and 4096, not 4097"; then
  pass "threads above the range: refused by both"
else fail "threads above the range" "profile: exit $rc: $out" "validate: exit $vrc: $vout"; fi

# What one accepts, the other accepts: the top of each range, a fractional time.
stage "batch: [1, 65536]" "warmup: 1000000" "repeat: 1000000" "min_time_ms: 0.5" "sample_ms: 1000" \
  "mapping: [{cpus: '0', threads: 4096}]" "frequencies_khz: [100000000]" "backend: cpu"
expect_ok "validate takes the top of every range and min_time_ms 0.5" "$DYNN" validate "$T/p.yaml"
expect_ok "the profiler takes min_time_ms 0.5" \
  "$DYNN" profile "$T/m.dnn" --subnets 0 --batch 1 --cpus 0 --threads 1 --warmup 0 --repeat 1 --min-time-ms 0.5
# 4096 threads pass the options (the run stops at the unknown subnet, before starting any thread)
expect_fail "the profiler takes 4096 threads and batch 65536" "^dynn profile: --subnets: no subnet 'none'" \
  "$DYNN" profile "$T/m.dnn" --subnets none --batch 65536 --threads 4096 --warmup 1000000 --repeat 1000000
# a backend this build does not have: the profiler refuses it (the target's dynn may have it, so
# validate only checks it is a name)
expect_fail "unknown backend" "^dynn profile: --backend: backend 'fpga' is not built into this dynn \(built in: cpu(, opencl)?(, cuda)?\)$" \
  "$DYNN" profile "$T/m.dnn" --backend fpga
stage "backend: fpga"
expect_ok "validate leaves the backend name to the target" "$DYNN" validate "$T/p.yaml"
e2e_done
