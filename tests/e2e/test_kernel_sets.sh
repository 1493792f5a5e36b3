#!/usr/bin/env bash
# tests/e2e/test_kernel_sets.sh — one x86-64 binary, the kernel set chosen at run time (nn/kernel_set.h):
# `dynn version` names the set and the sets this CPU runs; DYNN_KERNELS forces each supported set, and
# training with it learns, repeats bit for bit, and follows the other sets' losses closely (the sets
# round differently: FMA or not, other summation blocking); the CPU backend's device names the set's
# ISA; a set the CPU cannot run (valgrind's CPU has no AVX-512) and an unknown name are refused with
# one line. (Each set against the naive reference: tests/run.sh runs the layer tests once per set.)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../pipeline/e2e_helpers.sh"
T=$E2E_TMP

vj=$("$DYNN" version --json 2>&1)
sets=$(printf '%s' "$vj" | jq -r '.kernel_sets[] | select(.supported) | .name' 2>/dev/null | tr '\n' ' ')
auto=$(printf '%s' "$vj" | jq -r '.kernel_set' 2>/dev/null)
first=${sets%% *}
if [ -n "$auto" ] && [ "$auto" = "$first" ]; then pass "version: the automatic choice is the best supported set ($auto of: $sets)"
else fail "version names the kernel set" "$vj"; fi
vt=$("$DYNN" version 2>&1)
expect_match "version text names the set" "^kernels: $auto \\(" "$vt"
expect_match "version text names the OpenBLAS kernels" "^blas: OpenBLAS [A-Za-z0-9]+ kernels" "$vt"
if [ "$(uname -m)" = x86_64 ]; then
  names=$(printf '%s' "$vj" | jq -r '[.kernel_sets[].name] | join(" ")' 2>/dev/null)
  expect_eq "x86-64 build has the avx512, avx2 and sse2 sets" "avx512 avx2 sse2" "$names"
  expect_ok "sse2 runs on every x86-64 CPU" env DYNN_KERNELS=sse2 "$DYNN" version
fi

# OpenBLAS's own kernels: at the CPU's vector level (nn/blas_core.h re-executes with OPENBLAS_CORETYPE when
# the library took a fallback: Debian 12's OpenBLAS gives Emerald Rapids its SSE3 kernels); a user's own
# OPENBLAS_CORETYPE is kept.
core=$(printf '%s' "$vj" | jq -r '.blas_core')
if grep -qw avx2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo; then
  case $core in
    Haswell|Zen|SkylakeX|Cooperlake|SapphireRapids) pass "OpenBLAS runs AVX2-or-better kernels on this AVX2 CPU ($core)" ;;
    *) fail "OpenBLAS kernels at the CPU's level" "core $core on a CPU with AVX2+FMA" ;;
  esac
  expect_match "a user's OPENBLAS_CORETYPE is kept" '"blas_core":"Prescott"' "$(OPENBLAS_CORETYPE=Prescott "$DYNN" version --json 2>&1)"
else
  skip "OpenBLAS kernels at the CPU's level" "this CPU has no AVX2+FMA ($core)"
fi

expect_fail "unknown set refused" "DYNN_KERNELS=avx1024: no such kernel set in this build: set it to one of" \
  env DYNN_KERNELS=avx1024 "$DYNN" version
if [ "$(uname -m)" = x86_64 ] && command -v valgrind >/dev/null && [ "${DYNN_SANITIZE:-0}" != 1 ]; then
  out=$(DYNN_KERNELS=avx512 valgrind -q "$DYNN" version 2>&1); rc=$?
  if [ "$rc" = 2 ] && [[ $out == *"DYNN_KERNELS=avx512: this CPU cannot run the avx512 kernels"* ]]; then
    pass "a set the CPU cannot run is refused (valgrind's CPU: no AVX-512)"
  else fail "unsupported set refused under valgrind" "exit $rc" "$out"; fi
else
  skip "unsupported set refused" "needs x86-64 and valgrind (whose CPU has no AVX-512), and a build without ASan (valgrind cannot run it)"
fi

# A result depends on the kernels that computed it: the run's provenance and the stage cache keys carry
# the set (and OpenBLAS's kernels), so a run with another set computes again instead of reusing.
mkdir -p "$T/cache" && cd "$T/cache" || exit 1
printf '%s\n' 'name: kcache' 'stages:' '  s:' '    type: exec' "    params: {cmd: [sh, -c, 'echo x >> ran.txt']}" > k.yaml
q() { "$DYNN" query --db .dynn/results.db --csv "$1" | tail -n +2; }
"$DYNN" run k.yaml >/dev/null 2>&1; "$DYNN" run k.yaml >/dev/null 2>&1
other=$(for s in $sets; do [ "$s" != "$auto" ] && echo "$s" && break; done)
if [ -n "$other" ]; then
  DYNN_KERNELS=$other "$DYNN" run k.yaml >/dev/null 2>&1
  expect_eq "same set: cached; another set ($other): computed again" "2" "$(wc -l < ran.txt | tr -d ' ')"
  expect_eq "each run's build id names its kernels" "kernels=$auto kernels=$auto kernels=$other" \
    "$(q "SELECT build_id FROM runs ORDER BY id" | sed -n 's/.* \(kernels=[a-z0-9]*\) .*/\1/p' | tr '\n' ' ' | sed 's/ $//')"
else
  skip "another set computes again" "this CPU runs one kernel set ($sets)"
fi
cd "$T" || exit 1

common=(--model resnet8 --width 0.5 --epochs 1 --train-limit 512 --test-limit 256 --batch 64 --threads 2 --seed 3)
crc() { "$DYNN" info "$1" --json | jq -r '.tensors_crc32'; }
loss() { jq -r '.final_train_loss' "$1"; }
# trains_twice LABEL STEM VAR=VALUE...: trains twice with that environment ($T/STEM.dnn, .json, -again.dnn);
# passes when both runs succeed and give the same tensors.
trains_twice() {
  local label=$1 stem=$2 ok=1 l; shift 2
  env "$@" "$DYNN" train "${common[@]}" --out "$T/$stem.dnn" --json > "$T/$stem.json" 2>"$T/$stem.err" || ok=0
  env "$@" "$DYNN" train "${common[@]}" --out "$T/$stem-again.dnn" --quiet >/dev/null 2>&1 || ok=0
  l=$(loss "$T/$stem.json" 2>/dev/null)
  if [ "$ok" = 1 ] && [ -n "$l" ] && [ "$(crc "$T/$stem.dnn")" = "$(crc "$T/$stem-again.dnn")" ]; then
    pass "$label: trains (loss $l) and repeats bit for bit"
  else fail "$label: trains and repeats" "$(cat "$T/$stem.err")"; fi
}
ref_loss=
for s in $sets; do
  trains_twice "$s" "$s" DYNN_KERNELS="$s"
  l=$(loss "$T/$s.json" 2>/dev/null)
  if [ -z "$ref_loss" ]; then ref_loss=$l; ref_set=$s
  elif awk -v a="$l" -v b="$ref_loss" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 2e-3 * (b < 0 ? -b : b) + 1e-6) }'; then
    pass "$s follows $ref_set: loss $l vs $ref_loss"
  else fail "$s follows $ref_set" "loss $l vs $ref_loss"; fi
  isa=$(printf '%s' "$vj" | jq -r --arg s "$s" '.kernel_sets[] | select(.name == $s) | .isa')
  pj=$(DYNN_KERNELS=$s "$DYNN" profile "$T/$s.dnn" --batch 1 --repeat 3 --warmup 1 --threads 1 --json 2>&1)
  if printf '%s' "$pj" | jq -e --arg isa "$isa" '[.results[].device // .device] | map(tostring) | any(contains($isa))' >/dev/null 2>&1; then
    pass "$s: the profile's device names $isa"
  else fail "$s: profile device names $isa" "$(printf '%s' "$pj" | head -c 600)"; fi
done

# The Winograd 3x3 path (nn/winograd3x3.c), forced wherever it applies: training with it repeats bit for bit,
# follows the direct kernels' loss, and its runs carry conv=winograd in their build id (their results are
# never reused for the direct kernels'); an unknown algorithm is refused with one line.
for algo in winograd direct; do trains_twice "DYNN_CONV3X3=$algo" "$algo" DYNN_CONV3X3="$algo"; done
lw=$(loss "$T/winograd.json" 2>/dev/null); ld=$(loss "$T/direct.json" 2>/dev/null)
if [ -n "$lw" ] && [ -n "$ld" ] && awk -v a="$lw" -v b="$ld" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 2e-3 * (b < 0 ? -b : b) + 1e-6) }'; then
  pass "winograd follows direct: loss $lw vs $ld"
else fail "winograd follows direct" "loss $lw vs $ld"; fi
if [ "$(crc "$T/winograd.dnn")" != "$(crc "$T/direct.dnn")" ]; then pass "winograd's tensors are its own (not the direct kernels')"
else fail "winograd path taken" "the same tensors as the direct kernels: the forced path did not run"; fi
expect_match "a forced algorithm is in the build id" 'conv=winograd' "$(DYNN_CONV3X3=winograd "$DYNN" info "$T/winograd.dnn" --json 2>&1)"
expect_fail "unknown 3x3 algorithm refused" "DYNN_CONV3X3=fft: no such 3x3 convolution algorithm: set it to direct, winograd or auto" \
  env DYNN_CONV3X3=fft "$DYNN" version
e2e_done
