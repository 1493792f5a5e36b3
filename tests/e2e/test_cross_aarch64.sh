#!/usr/bin/env bash
# tests/e2e/test_cross_aarch64.sh — the aarch64 cross build (`make TARGET=aarch64`) runs under qemu-user:
# it is an ARM executable, the layer gradient checks pass on it, and checkpoints are portable both ways
# (x86-trained evaluates on aarch64 to the same accuracy and loss, aarch64-trained on x86; a short training
# on aarch64 follows the x86 one step for step), and `dynn profile --json` prints a valid profile there. Emulated OpenBLAS/OpenMP threads hang under qemu-user, so
# everything emulated runs with OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 --threads 1.
# The arm64 libraries come from Debian multiarch (/usr/lib/aarch64-linux-gnu), where qemu finds them as a
# board would; `ci/deps.sh --cross` installs them (`make test` runs it).
. "$(dirname "$0")/lib.sh"
T=$E2E_TMP
ROOT=${DYNN_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
XB=build-aarch64
# Unit tests cheap enough under emulation (seconds): every layer's gradient check, the checkpoint container,
# data readers, SHA-256 (stage cache keys), the database schema.
UNITS=(test_layers test_ckpt_file test_data test_pipeline_sha256 test_db_schema)
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1

for tool in aarch64-linux-gnu-gcc qemu-aarch64 file; do
  if ! command -v "$tool" >/dev/null; then
    fail "cross tools present" "$tool not found: run 'ci/deps.sh --cross' as root ('make test' does)"
    e2e_done
  fi
done

# The cross build uses the Makefile's own flags, whatever the calling make or the environment set.
out=$(env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u BUILD -u CC -u CFLAGS -u OPT -u LDFLAGS -u EXTRA_LDFLAGS \
      make -C "$ROOT" -j2 --no-print-directory TARGET=aarch64 \
      "$XB/dynn" "${UNITS[@]/#/$XB/tests/}" 2>&1)
if [ $? -eq 0 ]; then pass "make TARGET=aarch64 builds $XB/dynn"
else fail "make TARGET=aarch64" "$(printf '%s\n' "$out" | tail -20)"; e2e_done; fi
X=$ROOT/$XB/dynn
ax() { qemu-aarch64 "$X" "$@"; }

expect_match "$XB/dynn is an aarch64 executable" 'ELF 64-bit.*ARM aarch64' "$(file -L "$X")"
expect_match "$XB/tests/test_layers is an aarch64 executable" 'ARM aarch64' "$(file -L "$ROOT/$XB/tests/test_layers")"

v=$(ax version --json 2>&1)
commit=$(git -C "$ROOT" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)   # as the Makefile records it
expect_match "version under qemu: cross compiler, armv8-a, commit $commit" \
  "\"git_commit\":\"$commit\".*aarch64-linux-gnu-gcc.*-march=armv8-a" "$v"

for t in "${UNITS[@]}"; do
  out=$(qemu-aarch64 "$ROOT/$XB/tests/$t" 2>&1); rc=$?
  n=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p')
  if [ $rc -eq 0 ] && [ -n "$n" ] && [ "$n" -gt 0 ] && ! printf '%s' "$out" | grep -q FAILED; then
    pass "$t on aarch64 ($n tests)"
  else fail "$t on aarch64" "exit $rc" "$(printf '%s\n' "$out" | tail -20)"; fi
done

# num FIELD JSON [NTH]: the NTH (1-based) value of a numeric field in one-line JSON.
num() { printf '%s' "$2" | grep -o "\"$1\":[-0-9.e+]*" | sed -n "${3:-1}s/.*://p"; }
# close A B: |A - B| <= 1e-5 * max(1, |A|).
close() { awk -v a="$1" -v b="$2" 'BEGIN { d = a - b; if (d < 0) d = -d; m = a < 0 ? -a : a;
                                          exit !(a != "" && b != "" && d <= 1e-5 * (m > 1 ? m : 1)) }'; }

# x86 -> aarch64: a dynamic (two-width) model trained by the host build.
common=(--model resnet8 --width 0.5 --epochs 2 --train-limit 2000 --test-limit 200 --threads 1 --seed 1)
"$DYNN" train "${common[@]}" --method uniform --widths 0.5,1 --out "$T/x86.dnn" --quiet >/dev/null 2>&1
hi=$("$DYNN" info "$T/x86.dnn" --json 2>&1)
ai=$(ax info "$T/x86.dnn" --json 2>&1)
if [ -n "$(num stored_params "$hi")" ] && [ "$hi" = "$ai" ]; then
  pass "info of an x86 checkpoint: identical on aarch64 (crc $(printf '%s' "$ai" | sed -n 's/.*"tensors_crc32":"\([0-9a-f]*\)".*/\1/p'))"
else fail "info of an x86 checkpoint on aarch64" "x86: $hi" "aarch64: $ai"; fi

he=$("$DYNN" eval "$T/x86.dnn" --test-limit 100 --threads 1 --json 2>&1)
ae=$(ax eval "$T/x86.dnn" --test-limit 100 --threads 1 --json 2>&1)
for s in 1 2; do
  ha=$(num accuracy "$he" $s); aa=$(num accuracy "$ae" $s); hl=$(num loss "$he" $s); al=$(num loss "$ae" $s)
  if [ -n "$ha" ] && [ "$ha" = "$aa" ] && close "$hl" "$al"; then
    pass "x86 checkpoint on aarch64, subnet $s: accuracy $aa, loss $al (x86: $ha, $hl)"
  else fail "x86 checkpoint on aarch64, subnet $s" "x86: $he" "aarch64: $ae"; fi
done
ha=$(num accuracy "$he" 2)
if awk -v a="$ha" 'BEGIN { exit !(a >= 0.3) }'; then pass "the portable model has learned (accuracy $ha >= 0.3)"
else fail "the portable model has learned" "$he"; fi

# The profiler under emulation prints a valid profile (docs/FORMATS.md, Profile output): one result per
# subnet with the checkpoint's MACs, every timed sample, consistent statistics. Timings mean nothing here.
pj=$(ax profile "$T/x86.dnn" --batch 1 --threads 1 --warmup 1 --repeat 5 --min-time-ms 0 --json 2>"$T/profile.err")
rc=$?
crc=$(printf '%s' "$hi" | jq -r .tensors_crc32)
macs=$(printf '%s' "$hi" | jq -c '[.subnets[] | {name, macs}]')
if [ $rc -eq 0 ] && printf '%s' "$pj" | jq -e --arg crc "$crc" --argjson macs "$macs" '
     .format == "dynn-profile" and .version == 1 and .model_crc32 == $crc and .host.arch == "aarch64"
     and (.build | test("armv8-a")) and .complete != false
     and ([.results[] | {name: .subnet_name, macs}] == $macs)
     and all(.results[]; .batch == 1 and .threads == 1 and .warmup == 1 and (.samples_ms | length) == 5
             and .min_ms > 0 and .min_ms <= .median_ms and .median_ms <= .p90_ms and .p90_ms <= .p99_ms
             and .p99_ms <= .max_ms and .per_image_ms == .median_ms and .peak_rss_kib > 0
             and .freq_khz == null)' >/dev/null; then
  pass "profile --json under qemu: $(printf '%s' "$pj" | jq -r '[.results[] | "\(.subnet_name) \(.median_ms) ms"] | join(", ")') (emulated)"
else fail "profile --json under qemu" "exit $rc: $(cat "$T/profile.err")" "$pj"; fi

# aarch64 -> x86: a short training under emulation (4 SGD steps of 32 images) follows the x86 one, and its checkpoint
# evaluates the same on x86.
short=(--model resnet8 --width 0.25 --epochs 1 --train-limit 128 --batch 32 --test-limit 50 --threads 1 --seed 3)
at=$(ax train "${short[@]}" --out "$T/arm.dnn" --json --quiet 2>&1)
ht=$("$DYNN" train "${short[@]}" --out "$T/x86s.dnn" --json --quiet 2>&1)
if close "$(num final_train_loss "$at")" "$(num final_train_loss "$ht")" && close "$(num test_loss "$at")" "$(num test_loss "$ht")"; then
  pass "training on aarch64 follows x86: train loss $(num final_train_loss "$at"), test loss $(num test_loss "$at")"
else fail "training on aarch64 follows x86" "aarch64: $at" "x86: $ht"; fi
xe=$("$DYNN" eval "$T/arm.dnn" --test-limit 50 --json 2>&1)
if [ -n "$(num accuracy "$xe")" ] && [ "$(num accuracy "$xe")" = "$(num test_accuracy "$at")" ] &&
   close "$(num loss "$xe")" "$(num test_loss "$at")"; then
  pass "aarch64 checkpoint on x86: accuracy $(num accuracy "$xe") as trained"
else fail "aarch64 checkpoint on x86" "aarch64 train: $at" "x86 eval: $xe"; fi

e2e_done
