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
expect_fail "unknown option" "unknown option '--bogus'" "$DYNN" train --bogus
expect_fail "missing dataset dir" "/nonexistent" "$DYNN" train --data fashion-mnist:/nonexistent --out "$T/x.dnn"
# where the results go is checked before training, not after it (a typo must not cost hours)
for what in out snapshot; do
  args=(--out "$T/x.dnn"); [ $what = out ] && args=(--out "$T/nodir/x.dnn") || args+=(--snapshot "$T/nodir/s.snap")
  out=$("$DYNN" train --train-limit 256 --test-limit 64 --epochs 1 --threads 1 "${args[@]}" 2>&1); rc=$?
  if [ $rc -ne 0 ] && printf '%s' "$out" | grep -Eq -- "--$what $T/nodir/.*: directory $T/nodir: No such file" \
     && ! printf '%s' "$out" | grep -q 'epoch 1/1'; then pass "--$what into a missing directory: refused before training"
  else fail "--$what into a missing directory: refused before training" "exit $rc" "$out"; fi
done
expect_fail "--out naming a directory" "--out $T: is a directory" "$DYNN" train --out "$T" --train-limit 256
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

# Requests too large for memory: one line saying how many bytes were needed, exit 1, no crash (the old
# code formatted the message from the freed description: a segfault). ulimit -v makes it fail the same
# on any machine. Under ASan (make sanitize) ulimit -v leaves no room for the shadow memory, so there
# the same ~4 GB cap is ASan's own: an allocation over it returns NULL (its one-line warning about
# that is dropped, so the line counts stay those of a plain build).
limited() {
  if [ "${DYNN_SANITIZE:-0}" = 1 ]; then
    local out rc
    out=$(ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}allocator_may_return_null=1:max_allocation_size_mb=3900" "$@" 2>&1); rc=$?
    printf '%s\n' "$out" | grep -v 'WARNING: AddressSanitizer failed to allocate' >&2
    return $rc
  fi
  (ulimit -v 4000000; "$@")
}
for cmd in "profile $T/a.dnn --batch 65536 --repeat 1 --warmup 0 --min-time-ms 0" "eval $T/a.dnn --batch 65536"; do
  out=$(limited "$DYNN" $cmd 2>&1); rc=$?
  if [ $rc -eq 1 ] && [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] &&
     printf '%s' "$out" | grep -Eq 'model resnet8, batch 65536: needs [0-9]+ bytes \([0-9.]+ GiB'; then
    pass "${cmd%% *} --batch 65536 under a memory limit: one line with the bytes needed"
  else fail "${cmd%% *} --batch 65536 under a memory limit" "exit $rc" "$out"; fi
done
# A valid IDX file of one 4000x4000 image: a clear error (the model for it needs terabytes), no crash.
mkdir -p "$T/big"
{ printf '\x00\x00\x08\x03\x00\x00\x00\x01\x00\x00\x0f\xa0\x00\x00\x0f\xa0'; head -c 16000000 /dev/zero; } | gzip -1 > "$T/big/train-images-idx3-ubyte.gz"
printf '\x00\x00\x08\x01\x00\x00\x00\x01\x03' | gzip > "$T/big/train-labels-idx1-ubyte.gz"
cp "$T/big/train-images-idx3-ubyte.gz" "$T/big/t10k-images-idx3-ubyte.gz"
cp "$T/big/train-labels-idx1-ubyte.gz" "$T/big/t10k-labels-idx1-ubyte.gz"
out=$(limited "$DYNN" train --data "mnist:$T/big" --model resnet8 --width 0.25 --epochs 1 --threads 2 --out "$T/big.dnn" 2>&1); rc=$?
if [ $rc -eq 1 ] && printf '%s' "$out" | grep -Eq '^dynn train: model resnet8, batch [0-9]+: needs [0-9]+ bytes' && [ ! -e "$T/big.dnn" ]; then
  pass "one 4000x4000 IDX image: a clear error, nothing written"
else fail "one 4000x4000 IDX image" "exit $rc" "$out"; fi

# Crafted descriptions (with_meta: tests/e2e/ckpt_meta.sh).
. "$(dirname "$0")/ckpt_meta.sh"
with_meta "$T/a.dnn" "$T/same.dnn" 's/^classes 10$/classes 10/'
expect_ok "with_meta writes a valid checkpoint" "$DYNN" info "$T/same.dnn"
with_meta "$T/a.dnn" "$T/huge-input.dnn" 's/^input 1 28 28$/input 1 100000 100000/'
for cmd in info eval; do # (timeout: only to catch a hang)
  expect_fail "$cmd: a huge input is refused by field" \
    "^dynn $cmd: .*huge-input.dnn: model description line [0-9]+: input height: 100000 is outside 1\.\.16384$" \
    limited timeout 120 "$DYNN" $cmd "$T/huge-input.dnn"
done
with_meta "$T/a.dnn" "$T/huge-classes.dnn" 's/^classes 10$/classes 2000000000/'
expect_fail "eval: a huge class count is refused by field" "line [0-9]+: classes: 2000000000 is outside 2\.\.1000000" \
  limited "$DYNN" eval "$T/huge-classes.dnn"
with_meta "$T/a.dnn" "$T/many-classes.dnn" 's/^classes 10$/classes 900000/'
for cmd in info eval; do
  expect_fail "$cmd: tensors that disagree with the architecture are refused before allocating" \
    "many-classes.dnn: tensor 'fc.weight' is \[10x32\] in the file; .* needs \[900000x32\]" limited "$DYNN" $cmd "$T/many-classes.dnn"
done
with_meta "$T/a.dnn" "$T/lenient.dnn" 's/^norm .*/norm nan 1/'
expect_fail "info: a lenient description (norm nan) is refused" "line [0-9]+: norm mean: 'nan' is not a finite" \
  "$DYNN" info "$T/lenient.dnn"

# Training twice with the same seed and threads gives byte-identical files (no wall time inside),
# so a retrained model keeps its hash and every downstream cache entry.
if cmp -s "$T/a.dnn" "$T/b.dnn"; then pass "same seed+threads: byte-identical checkpoints"
else fail "same seed+threads: byte-identical checkpoints" "$(cmp "$T/a.dnn" "$T/b.dnn" 2>&1)"; fi

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
