#!/usr/bin/env bash
# fuzz/gen_corpus.sh — (re)writes the generated seed inputs of the fuzz targets under fuzz/corpus/NAME/.
#
# Usage: fuzz/gen_corpus.sh [DYNN]   (DYNN: the dynn binary, default build/dynn; needs gzip)
#
# Seeds named seed-* are written here: small valid inputs of each format (tiny models trained on a
# fake 8x8 IDX dataset for ckpt and desc, IDX and CIFAR files, the experiment files of the repository,
# records files) and a few damaged ones. Inputs named regress-* are regressions: each made a reader
# crash, leak, run into undefined behaviour or allocate without bound before it was fixed; those found
# by the fuzzers are committed as found and never rewritten here, those crafted for known defects are
# written by this script. fuzz/corpus/snapshot is not written here: its seeds (a snapshot of resnet8 at
# width 0.25 on 8x8 images, the model fuzz_snapshot opens them against, cut short, and a one-parameter
# one) were made once with train_resume_save and are kept as made. Every file stays small (the targets' -max_len: 16 KiB for ckpt and cifar,
# 4 KiB otherwise). Deterministic but for the build id recorded in a checkpoint (train.dynn).
set -euo pipefail
cd "$(dirname "$0")/.."
DYNN=${1:-build/dynn}
C=fuzz/corpus
for t in ckpt desc idx cifar spec records; do
  mkdir -p "$C/$t"
  rm -f "$C/$t"/seed-*
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/dynn-corpus.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export LC_ALL=C

be32() { printf "$(printf '\\x%02x\\x%02x\\x%02x\\x%02x' $(($1 >> 24 & 255)) $(($1 >> 16 & 255)) $(($1 >> 8 & 255)) $(($1 & 255)))"; }
# idx_images N H W: an IDX image file of N HxW images with a fixed pixel pattern.
idx_images() {
  be32 2051; be32 "$1"; be32 "$2"; be32 "$3"
  local n=$(($1 * $2 * $3)) i s=""
  for ((i = 0; i < n; i++)); do s+=$(printf '\\x%02x' $(((i * 37) & 255))); done
  printf "$s"
}
# idx_labels N: N labels 0, 1, ... 9, 0, ...
idx_labels() { be32 2049; be32 "$1"; local i; for ((i = 0; i < $1; i++)); do printf "\\x0$((i % 10))"; done; }
. tests/e2e/ckpt_meta.sh # meta_of, with_meta

# ---- idx: the readers' seeds, and the fake dataset the models below train on ----
mkdir -p "$tmp/data"
idx_images 20 8 8 > "$tmp/data/train-images-idx3-ubyte"
idx_labels 20 > "$tmp/data/train-labels-idx1-ubyte"
idx_images 10 8 8 > "$tmp/data/t10k-images-idx3-ubyte"
idx_labels 10 > "$tmp/data/t10k-labels-idx1-ubyte"
cp "$tmp/data/t10k-images-idx3-ubyte" "$C/idx/seed-images-10x8x8"
cp "$tmp/data/t10k-labels-idx1-ubyte" "$C/idx/seed-labels-10"
gzip -9 -n -c "$tmp/data/t10k-images-idx3-ubyte" > "$C/idx/seed-images-10x8x8.gz"
gzip -9 -n -c "$tmp/data/t10k-labels-idx1-ubyte" > "$C/idx/seed-labels-10.gz"
head -c 100 "$tmp/data/t10k-images-idx3-ubyte" > "$C/idx/seed-images-truncated"
gzip -9 -n -c "$tmp/data/t10k-images-idx3-ubyte" | head -c 60 > "$C/idx/seed-images-gzip-cut-short"
{ be32 2051; be32 1; be32 4000; be32 4000; } > "$C/idx/seed-images-header-4000x4000"
{ be32 2049; be32 3; printf '\x01\x0c\x02'; } > "$C/idx/seed-labels-out-of-range"

# ---- cifar ----
cifar_record() { printf "\\x0$1"; local i s=""; for ((i = 0; i < 3072; i++)); do s+=$(printf '\\x%02x' $(((i * 7 + $1) & 255))); done; printf "$s"; }
cifar_record 3 > "$C/cifar/seed-1-record"
{ cifar_record 0; cifar_record 9; } > "$C/cifar/seed-2-records"
{ cifar_record 1; head -c 100 "$C/cifar/seed-1-record"; } > "$C/cifar/seed-partial-record"
{ printf '\x0b'; tail -c +2 "$C/cifar/seed-1-record"; } > "$C/cifar/seed-label-11"

# ---- ckpt and desc: tiny models of every architecture and kind of parameter sets ----
train() { # NAME ARGS...: a checkpoint trained for one epoch on the fake data
  local name=$1; shift
  "$DYNN" train --data "mnist:$tmp/data" --epochs 1 --batch 10 --threads 1 --seed 1 --quiet --out "$tmp/$name.dnn" "$@" \
    >/dev/null
}
train resnet8 --model resnet8 --width 0.125
train uniform --model resnet8 --width 0.125 --method uniform --widths 0.5,1
train individual --model resnet8 --width 0.125 --method individual --widths 0.5,1
train alexnet --model alexnet --width 0.03
for m in resnet8 uniform individual alexnet; do
  cp "$tmp/$m.dnn" "$C/ckpt/seed-$m"
  meta_of "$tmp/$m.dnn" > "$C/desc/seed-$m"
done
head -c 200 "$tmp/resnet8.dnn" > "$C/ckpt/seed-truncated"
printf 'DYNNCKPT\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00DYNNEND\x00' > "$C/ckpt/seed-empty"
# regressions of the input bounds (each crashed or allocated without bound before the fix)
with_meta "$tmp/resnet8.dnn" "$C/ckpt/regress-huge-input" 's/^input 1 8 8$/input 1 100000 100000/'
with_meta "$tmp/resnet8.dnn" "$C/ckpt/regress-huge-classes" 's/^classes 10$/classes 2000000000/'
with_meta "$tmp/resnet8.dnn" "$C/ckpt/regress-many-classes-small-tensor" 's/^classes 10$/classes 900000/'
with_meta "$tmp/resnet8.dnn" "$C/ckpt/regress-big-input-within-bounds" 's/^input 1 8 8$/input 1 16384 16384/'
with_meta "$tmp/alexnet.dnn" "$C/ckpt/regress-alexnet-input-vs-fc1" 's/^input 1 8 8$/input 1 2000 2000/'
for f in "$C"/ckpt/regress-huge-* "$C"/ckpt/regress-many-* "$C"/ckpt/regress-big-*; do
  meta_of "$f" > "$C/desc/${f##*/}"
done
meta_of "$tmp/resnet8.dnn" | sed 's/^norm .*/norm nan 1/' > "$C/desc/regress-norm-nan"
meta_of "$tmp/uniform.dnn" | sed 's/^subnet w0.50 /subnet w1.00 /' > "$C/desc/regress-duplicate-subnet"
meta_of "$tmp/uniform.dnn" | sed 's/^bn_sets 2$/bn_sets 1.5/' > "$C/desc/regress-bn-sets-fraction"
meta_of "$tmp/resnet8.dnn" | sed 's/^width .*/width 0x1p-3/' > "$C/desc/regress-hex-width"

# ---- spec: the repository's experiment files and the refused examples (none names plugins) ----
for f in experiments/*.yaml experiments/examples/*.yaml tests/pipeline/bad/*.yaml; do
  grep -q plugins "$f" && continue
  [ "$(stat -c %s "$f")" -le 4096 ] || continue
  cp "$f" "$C/spec/seed-$(basename "$(dirname "$f")")-$(basename "$f" .yaml)"
done
printf 'stages:\n  a: &a {type: exec, params: {cmd: [true]}}\n  b: *a\n  c: {<<: *a, needs: [a, b]}\n' > "$C/spec/seed-anchors"
printf 'vars: {n: [1, 2, 3]}\nstages:\n  s: {type: exec, matrix: {x: "${n}", y: [a, b]}, params: {cmd: [echo, "${matrix.x}${matrix.y}"]}}\n' \
  > "$C/spec/seed-matrix"

# ---- records ----
T=$'\t'
{ echo "dynn-records 2"
  echo "metric${T}accuracy${T}0.91${T}w0.25${T}0"
  echo "metric${T}train_seconds${T}12.5${T}\\N${T}0"
  echo "artifact${T}model${T}model${T}$(printf 'ab%.0s' {1..32})${T}store/ab/cdef${T}24026"
  echo "measurement${T}w0.25${T}\\N${T}3${T}0.001,0.002,0.0015${T}0${T}1960160${T}15360${T}\\N${T}platform=local${T}batch=1${T}cpus=0-1${T}threads=2"
  echo "result${T}ok${T}0${T}"
  echo "end"; } > "$C/records/seed-ok"
{ echo "dynn-records 2"
  echo "measurement${T}full${T}0.5${T}2${T}0.1,0.2${T}1${T}40000000${T}90000${T}2.5${T}platform=board${T}backend=cpu${T}device=aarch64${T}batch=128${T}cpus=4-7${T}threads=4${T}cpu_freq=1400000"
  echo "result${T}failed${T}1${T}ssh: connection lost\\tafter 2 points\\nretry"
  echo "end"; } > "$C/records/seed-failed"
printf 'dynn-records 2\nmetric\tloss\t1.5\t\\N\t3\n' > "$C/records/seed-no-end"
printf 'dynn-records 1\nend\n' > "$C/records/seed-wrong-magic"
# a sample count far beyond the samples given: the reader allocated it before reading them
{ echo "dynn-records 2"
  echo "measurement${T}w0.25${T}\N${T}99999999999${T}0.001${T}0${T}1960160${T}15360${T}\N${T}platform=local${T}batch=1"
  echo "result${T}ok${T}0${T}"
  echo "end"; } > "$C/records/regress-sample-count-unbounded"

echo "fuzz/gen_corpus.sh: $(find "$C" -type f | wc -l) inputs, $(du -sk "$C" | cut -f1) KiB under $C"
