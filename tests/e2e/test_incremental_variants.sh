#!/usr/bin/env bash
# tests/e2e/test_incremental_variants.sh — incremental's variants: distillation of each new group
# from a teacher network (`--teacher FILE`, or `train`: one trained first) or from the frozen
# subnet's own logits (`--self-distill`), and the joint ablation (`--joint`: every group trained at
# once on the same connectivity). Each trains on a small Fashion-MNIST subset (resnet8 at width 0.5,
# 2560 images, 2 epochs per group, 500 test images) and every subnet ends above a threshold measured
# on this configuration; the checkpoint records the variant; the pipeline's train stage takes the
# same options and the report names the variant; bad teachers and option mixes are one-line errors.
. "$(dirname "$0")/lib.sh"
T=$E2E_TMP
common=(--model resnet8 --width 0.5 --batch 64 --train-limit 2560 --test-limit 500 --threads 2 --seed 1 --json)

# every subnet above MIN: accuracies from the JSON summary
above() { # NAME MIN JSON
  check_json "$1: every subnet above $2" "$3" "(.subnets | length) == 4 and all(.subnets[]; .accuracy > $2)"
}

# the teacher: plain resnet8 at the same width, 2 epochs (measured 61.4%)
"$DYNN" train "${common[@]}" --method plain --epochs 2 --quiet --out "$T/teacher.dnn" >/dev/null 2>&1
# measured (seed 1), smallest subnet first: incremental 46.4/57.2/59.0/61.2%, +teacher 46.4/58.0/58.8/59.0%,
# +self-distill (T 2) 46.4/51.2/55.2/55.8%, +joint 53.2/63.8/64.0/63.8%
out=$("$DYNN" train "${common[@]}" --method incremental --epochs 8 --teacher "$T/teacher.dnn" --out "$T/kd.dnn" 2>&1)
above "teacher distillation" 0.40 "$out"
check "teacher distillation: the variant and the teacher's accuracy in the summary" \
  '.variant == "incremental+teacher" and .teacher_accuracy > 0.5'
info=$("$DYNN" info "$T/kd.dnn" 2>&1)
expect_match "checkpoint records the variant" "train.variant = incremental\+teacher" "$info"
expect_match "checkpoint records the distillation settings" "train.distill = teacher" "$info"
expect_match "checkpoint records the temperature" "train.distill_temp = 4" "$info"
expect_match "checkpoint records the teacher" "train.teacher = .*teacher.dnn" "$info"
# --teacher train: the same teacher recipe (--epochs/--groups = 2 epochs) trained by the job gives the same model
out2=$("$DYNN" train "${common[@]}" --method incremental --epochs 8 --teacher train --out "$T/kd2.dnn" 2>&1)
a1=$(printf '%s' "$out" | jq -c '[.subnets[].accuracy]' 2>/dev/null)
a2=$(printf '%s' "$out2" | jq -c '[.subnets[].accuracy]' 2>/dev/null)
if [ -n "$a1" ] && [ "$a1" = "$a2" ]; then pass "teacher train: the same subnets as with the same teacher given"
else fail "teacher train: the same subnets as with the same teacher given" "$a1" "$a2"; fi
out=$out2 check "teacher train: its training counted in the cost" \
  ".train_flops > $(printf '%s' "$out" | jq '.train_flops')"

out=$("$DYNN" train "${common[@]}" --method incremental --epochs 8 --self-distill --distill-temp 2 --out "$T/self.dnn" 2>&1)
above "self-distillation" 0.38 "$out"
# the first group learns the labels only with either source: the same first subnet
g1_kd=$(printf '%s' "$out2" | jq '.subnets[0].accuracy' 2>/dev/null)
check "the first group is not distilled: the same first subnet with a teacher and with self-distillation" \
  ".subnets[0].accuracy == ${g1_kd:-null}"
check "self-distillation: the variant" '.variant == "incremental+self-distill"'
expect_match "checkpoint records self-distillation" "train.distill = self" "$("$DYNN" info "$T/self.dnn" 2>&1)"

out=$("$DYNN" train "${common[@]}" --method incremental --epochs 8 --joint --out "$T/joint.dnn" 2>&1)
above "joint ablation" 0.35 "$out"  # the sanitizer build (other rounding): 42.4/51.8/57.4/58.0%
check "joint: the variant, E/G epochs" '.variant == "incremental+joint" and .epochs_trained == 2'
expect_match "checkpoint records joint" "train.joint = 1" "$("$DYNN" info "$T/joint.dnn" 2>&1)"

# Bad input: one line, non-zero exit, nothing written.
"$DYNN" train --model alexnet --width 0.25 --method plain --epochs 1 --batch 64 --train-limit 256 --test-limit 64 \
  --quiet --out "$T/alex.dnn" >/dev/null 2>&1
bad=(--model resnet8 --width 0.5 --method incremental --epochs 4 --batch 64 --train-limit 256 --test-limit 64 --quiet)
expect_fail "teacher of another architecture" "^dynn train: teacher .*alex.dnn: model alexnet, but this job trains resnet8" \
  "$DYNN" train "${bad[@]}" --teacher "$T/alex.dnn" --out "$T/x.dnn"
expect_fail "missing teacher" "teacher: .*nope.dnn: cannot open" "$DYNN" train "${bad[@]}" --teacher "$T/nope.dnn" --out "$T/x.dnn"
# CIFAR-shaped files (3x32x32): a teacher trained on them does not fit Fashion-MNIST
mkdir -p "$T/cifar"
cifar_batch() { # FILE N: N records of (label byte, 3072 random pixel bytes)
  for ((i = 0; i < $2; i++)); do printf "\\x0$((i % 10))"; head -c 3072 /dev/urandom; done > "$1"
}
for k in 1 2 3 4 5; do cifar_batch "$T/cifar/data_batch_$k.bin" 40; done
cifar_batch "$T/cifar/test_batch.bin" 40
"$DYNN" train --data "cifar10:$T/cifar" --model resnet8 --width 0.5 --method plain --epochs 1 --batch 20 --quiet \
  --out "$T/cifar.dnn" >/dev/null 2>&1
expect_fail "teacher for other inputs" "teacher .*cifar.dnn: takes 3x32x32 images into 10 classes, the data here is 1x28x28" \
  "$DYNN" train "${bad[@]}" --teacher "$T/cifar.dnn" --out "$T/x.dnn"
expect_fail "teacher and self-distillation together" "--teacher and --self-distill are exclusive" \
  "$DYNN" train "${bad[@]}" --teacher train --self-distill --out "$T/x.dnn"
expect_fail "joint with distillation" "--joint trains every group at once" "$DYNN" train "${bad[@]}" --joint --self-distill --out "$T/x.dnn"
expect_fail "temperature without distillation" "--distill-temp needs --teacher or --self-distill" \
  "$DYNN" train "${bad[@]}" --distill-temp 2 --out "$T/x.dnn"
expect_fail "variant options for another method" "--joint applies to method incremental, not uniform" \
  "$DYNN" train --method uniform --joint --out "$T/x.dnn"
expect_fail "weight out of range" "--distill-weight" "$DYNN" train "${bad[@]}" --self-distill --distill-weight 1.5 --out "$T/x.dnn"
[ ! -e "$T/x.dnn" ] && pass "nothing written on bad input" || fail "nothing written on bad input"

# The pipeline: the same options as params, the teacher the model of a needed stage; the report's
# accuracy table names each variant.
W=$T/run; mkdir -p "$W"; cd "$W" || exit 1
cat > v.yaml <<'YAML'
name: variants
seed: 1
vars: {data: {model: resnet8, width: 0.5, batch: 64, train_limit: 512, test_limit: 128}}
stages:
  teacher:
    type: train
    threads: 2
    params: {model: resnet8, width: 0.5, batch: 64, train_limit: 512, test_limit: 128, method: plain, epochs: 1}
  train:
    type: train
    needs: teacher
    threads: 2
    matrix: {variant: [plain, teacher, self, joint]}
    params:
      model: resnet8
      width: 0.5
      batch: 64
      train_limit: 512
      test_limit: 128
      method: incremental
      epochs: 4
YAML
# the matrix picks the options: written out per variant (a param cannot be absent in one instance)
python3 - <<'PY'
import re
s = open("v.yaml").read()
s = s.replace("    matrix: {variant: [plain, teacher, self, joint]}\n", "")
base = s[s.index("  train:"):]
out = s[:s.index("  train:")]
for name, extra in [("inc", ""), ("kd", "      teacher: teacher\n"), ("self", "      self_distill: true\n      distill_weight: 0.3\n"),
                    ("joint", "      joint: true\n")]:
    out += base.replace("  train:", "  %s:" % name, 1) + extra
open("v.yaml", "w").write(out)
PY
expect_ok "variants run as train stages" "$DYNN" run v.yaml
run=$("$DYNN" query --csv "SELECT uuid FROM runs ORDER BY id DESC LIMIT 1" 2>/dev/null | tail -1)
rep=$("$DYNN" report "$run" -o rep 2>&1)
md=$(cat rep/report.md 2>/dev/null)
for v in "incremental" "incremental\+teacher" "incremental\+self-distill" "incremental\+joint"; do
  expect_match "report's accuracy table names $v" "\| $v \|" "$md"
done
sed 's/teacher: teacher/teacher: nothing_here/' v.yaml > bad.yaml
expect_fail "a teacher no needed stage trains" "param 'teacher' 'nothing_here': no needed stage instance or artifact" \
  "$DYNN" run bad.yaml
# a file path is refused before anything runs (a stage's cache key could not follow the file)
sed "s|teacher: teacher|teacher: $T/teacher.dnn|" v.yaml > path.yaml
expect_fail "a teacher given as a path in YAML: refused by validate" \
  "path.yaml:[0-9]+:[0-9]+: stage 'kd': param 'teacher' '.*teacher.dnn' is a file path" "$DYNN" validate path.yaml
e2e_done
