#!/usr/bin/env bash
# tests/e2e/test_cli_nn.sh — the nn CLI end to end on real Fashion-MNIST: train learns (threshold
# measured: resnet8 width 0.5, 3000 images, 2 epochs reached 53.8-57.5% on 1000 test images over
# seeds 1-3; chance is 10%), eval/info agree, same seed + threads = identical tensors, and bad
# input (options, data, checkpoints) gets one clear line and a non-zero exit.
. "$(dirname "$0")/lib.sh"
T=$E2E_TMP

for cmd in "" train eval info version; do
  expect_ok "help ${cmd:-dynn}" "$DYNN" $cmd --help
done

common=(--model resnet8 --width 0.5 --epochs 2 --train-limit 3000 --test-limit 1000 --threads 2 --seed 1)
out=$("$DYNN" train "${common[@]}" --out "$T/a.dnn" --json 2>&1)
acc=$(printf '%s' "$out" | sed -n 's/.*"test_accuracy":\([0-9.]*\).*/\1/p')
if [ -n "$acc" ] && awk -v a="$acc" 'BEGIN { exit !(a >= 0.45) }'; then pass "train learns (test accuracy $acc >= 0.45)"
else fail "train learns" "$out"; fi

ev=$("$DYNN" eval "$T/a.dnn" --test-limit 1000 --json 2>&1)
eacc=$(printf '%s' "$ev" | sed -n 's/.*"accuracy":\([0-9.]*\).*/\1/p')
if [ -n "$eacc" ] && awk -v a="$acc" -v b="$eacc" 'BEGIN { exit !((a - b) < 1e-9 && (b - a) < 1e-9) }'; then
  pass "eval reproduces the accuracy train reported"
else fail "eval reproduces the accuracy" "train: $acc" "eval: $ev"; fi
expect_match "eval plain output" 'full +[0-9.]+%' "$("$DYNN" eval "$T/a.dnn" --test-limit 200 2>&1)"

info=$("$DYNN" info "$T/a.dnn" 2>&1)
expect_match "info shows architecture and FLOPs" 'resnet8.*1x28x28.*10 classes' "$info"
expect_match "info shows MACs per image" 'MMACs' "$info"
expect_match "info --layers lists convs" 'layer1.0.conv1 +conv' "$("$DYNN" info "$T/a.dnn" --layers 2>&1)"

# Determinism: same seed and thread count -> bit-identical tensors; another seed -> different.
"$DYNN" train "${common[@]}" --out "$T/b.dnn" --quiet >/dev/null 2>&1
"$DYNN" train "${common[@]}" --seed 2 --out "$T/c.dnn" --quiet >/dev/null 2>&1
crc() { "$DYNN" info "$1" --json | sed -n 's/.*"tensors_crc32":"\([0-9a-f]*\)".*/\1/p'; }
a=$(crc "$T/a.dnn"); b=$(crc "$T/b.dnn"); c=$(crc "$T/c.dnn")
if [ -n "$a" ] && [ "$a" = "$b" ] && [ "$a" != "$c" ]; then pass "same seed+threads: identical tensors ($a)"
else fail "determinism" "a=$a b=$b c=$c"; fi

# Bad input: one line naming what is wrong, non-zero exit, nothing written.
expect_fail "unknown model" "unknown model 'vgg16'" "$DYNN" train --model vgg16 --out "$T/x.dnn"
expect_fail "bad depth" "6n\+2" "$DYNN" train --model resnet21 --out "$T/x.dnn" --train-limit 256
expect_fail "non-numeric epochs" "--epochs: 'x' is not an integer" "$DYNN" train --epochs x --out "$T/x.dnn"
expect_fail "missing --out" "--out FILE is required" "$DYNN" train
expect_fail "unknown option" "unknown or incomplete option '--bogus'" "$DYNN" train --bogus
expect_fail "missing dataset dir" "/nonexistent" "$DYNN" train --data fashion-mnist:/nonexistent --out "$T/x.dnn"
expect_fail "unknown dataset" "cifar100|unknown" "$DYNN" train --data cifar100:/tmp --out "$T/x.dnn"
[ ! -e "$T/x.dnn" ] && pass "nothing written on bad input" || fail "nothing written on bad input"
expect_fail "eval of a missing file" "$T/none.dnn" "$DYNN" eval "$T/none.dnn"
expect_fail "eval unknown subnet" "no subnet 'tiny'" "$DYNN" eval "$T/a.dnn" --subnet tiny
# corrupted and truncated checkpoints are refused with the file named
cp "$T/a.dnn" "$T/bad.dnn"
size=$(stat -c %s "$T/bad.dnn")
# 16 bytes before the end: inside the data of the last tensor (fc.bias, 10 floats), before the 8-byte end marker
printf '\xff\xff\xff\xff' | dd of="$T/bad.dnn" bs=1 seek=$((size - 16)) conv=notrunc status=none
expect_fail "corrupted checkpoint refused" "bad.dnn.*fc.bias.*CRC" "$DYNN" eval "$T/bad.dnn"
head -c $((size - 100)) "$T/a.dnn" > "$T/trunc.dnn"
expect_fail "truncated checkpoint refused" "trunc.dnn" "$DYNN" info "$T/trunc.dnn"
printf 'NOTADYNN0000000000000000' > "$T/magic.dnn"
expect_fail "wrong magic refused" "magic.dnn.*magic" "$DYNN" eval "$T/magic.dnn"

# A training run over a fake CIFAR-10 directory (the real one cannot be downloaded here).
mkdir -p "$T/cifar"
cifar_batch() { # FILE N: N records of (label byte, 3072 random pixel bytes)
  for ((i = 0; i < $2; i++)); do printf "\\x0$((i % 10))"; head -c 3072 /dev/urandom; done > "$1"
}
for k in 1 2 3 4 5; do cifar_batch "$T/cifar/data_batch_$k.bin" 40; done
cifar_batch "$T/cifar/test_batch.bin" 40
expect_ok "train on cifar10:DIR (32x32x3)" "$DYNN" train --model resnet8 --width 0.25 --data "cifar10:$T/cifar" --epochs 1 --batch 50 --threads 2 --out "$T/cifar.dnn" --quiet
expect_match "cifar model takes 3x32x32" 'input 3x32x32' "$("$DYNN" info "$T/cifar.dnn" 2>&1)"
e2e_done
