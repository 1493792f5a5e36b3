# tests/e2e/cross.sh — the checks of a cross build under qemu-user, shared by test_cross_aarch64.sh and
# test_cross_armhf.sh (sourced after lib.sh, not run). `cross_checks` builds `make TARGET=$XT` and checks:
# it is an executable for the target whose version names the cross compiler and flags; its 3x3 kernels
# compile to vector FMAs (GCC can lower vector extensions to scalar code without a word); the layer
# gradient checks and the checkpoint, data, SHA-256 and schema unit tests pass on it; checkpoints are
# portable both ways (an x86-trained model has the same info, accuracy and loss there; a short training
# there follows the x86 one step for step and evaluates the same on x86); `dynn profile --json` prints
# a valid profile there, naming the target's kernel set. Emulated OpenBLAS/OpenMP threads hang under
# qemu-user, so everything emulated runs with OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 --threads 1.
# The target's libraries come from Debian multiarch (/usr/lib/<triplet>), where qemu finds them as a
# board would; `ci/deps.sh --cross` installs them (`make test` runs it).
#
# The caller sets:
#   XT        make TARGET (the build goes to build-$XT)
#   XCC       the cross compiler (its objdump is ${XCC%gcc}objdump)
#   XQEMU     the qemu-user binary; XQEMU_CPU the CPU it emulates (empty: qemu's default)
#   XFILE_RE  what file(1) says of the target's executables
#   XMARCH_RE the target flags `dynn version` and the profile's build must show
#   XUNAME    uname -m there (the profile's host.arch)
#   XISA      the kernel set the cpu backend names there (nn/backend_cpu.c)
#   XVFMA_RE / XSFMA_RE  a vector / scalar single-precision FMA in the target's disassembly

# Unit tests cheap enough under emulation (seconds).
XUNITS=(test_layers test_ckpt_file test_data test_pipeline_sha256 test_db_schema)

# num FIELD JSON [NTH]: the NTH (1-based) value of a numeric field in one-line JSON.
num() { printf '%s' "$2" | grep -o "\"$1\":[-0-9.e+]*" | sed -n "${3:-1}s/.*://p"; }
# close A B: |A - B| <= 1e-5 * max(1, |A|).
close() { awk -v a="$1" -v b="$2" 'BEGIN { d = a - b; if (d < 0) d = -d; m = a < 0 ? -a : a;
                                          exit !(a != "" && b != "" && d <= 1e-5 * (m > 1 ? m : 1)) }'; }
# xrun PROGRAM ARGS...: a target program under qemu.
xrun() { if [ -n "${XQEMU_CPU:-}" ]; then QEMU_CPU=$XQEMU_CPU "$XQEMU" "$@"; else "$XQEMU" "$@"; fi; }

cross_checks() {
  local T=$E2E_TMP ROOT=${DYNN_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
  local XB=build-$XT XOBJDUMP=${XCC%gcc}objdump
  export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1

  local tool
  for tool in "$XCC" "$XOBJDUMP" "$XQEMU" file jq; do
    if ! command -v "$tool" >/dev/null; then
      fail "cross tools present" "$tool not found: run 'ci/deps.sh --cross' as root ('make test' does)"
      return
    fi
  done

  # The cross build uses the Makefile's own flags, whatever the calling make or the environment set.
  local out rc
  out=$(env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u BUILD -u CC -u CFLAGS -u OPT -u LDFLAGS -u EXTRA_LDFLAGS \
        make -C "$ROOT" -j2 --no-print-directory TARGET="$XT" \
        "$XB/dynn" "${XUNITS[@]/#/$XB/tests/}" 2>&1)
  if [ $? -eq 0 ]; then pass "make TARGET=$XT builds $XB/dynn"
  else fail "make TARGET=$XT" "$(printf '%s\n' "$out" | tail -20)"; return; fi
  local X=$ROOT/$XB/dynn
  ax() { xrun "$X" "$@"; }

  expect_match "$XB/dynn is an $XT executable" "$XFILE_RE" "$(file -L "$X")"
  expect_match "$XB/tests/test_layers is an $XT executable" "$XFILE_RE" "$(file -L "$ROOT/$XB/tests/test_layers")"

  local v commit
  v=$(ax version --json 2>&1)
  commit=$(git -C "$ROOT" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)   # as the Makefile records it
  expect_match "version under $XQEMU: cross compiler, $XMARCH_RE, commit $commit" \
    "\"git_commit\":\"$commit\".*$XCC.*$XMARCH_RE" "$v"

  # The direct 3x3 kernels (forward, input and weight gradients) are vector code: vector FMAs outnumber
  # scalar ones tenfold (without NEON, GCC turns every vector FMA into four scalar ones).
  local dis nv ns
  dis=$("$XOBJDUMP" -d --no-show-raw-insn "$ROOT/$XB/nn/conv3x3-native.o" 2>&1)
  nv=$(printf '%s\n' "$dis" | grep -cE "$XVFMA_RE"); ns=$(printf '%s\n' "$dis" | grep -cE "$XSFMA_RE")
  if [ "$nv" -gt 0 ] && [ "$nv" -gt $((10 * ns)) ]; then
    pass "nn/conv3x3.c compiles to vector FMAs: $nv vector, $ns scalar"
  else fail "nn/conv3x3.c compiles to vector FMAs" "$nv vector (/$XVFMA_RE/), $ns scalar (/$XSFMA_RE/)"; fi

  local t n
  for t in "${XUNITS[@]}"; do
    out=$(xrun "$ROOT/$XB/tests/$t" 2>&1); rc=$?
    n=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p')
    if [ $rc -eq 0 ] && [ -n "$n" ] && [ "$n" -gt 0 ] && ! printf '%s' "$out" | grep -q FAILED; then
      pass "$t on $XT ($n tests)"
    else fail "$t on $XT" "exit $rc" "$(printf '%s\n' "$out" | tail -20)"; fi
  done

  # x86 -> target: a dynamic (two-width) model trained by the host build.
  local common=(--model resnet8 --width 0.5 --epochs 2 --train-limit 2000 --test-limit 200 --threads 1 --seed 1)
  "$DYNN" train "${common[@]}" --method uniform --widths 0.5,1 --out "$T/x86.dnn" --quiet >/dev/null 2>&1
  local hi ai
  hi=$("$DYNN" info "$T/x86.dnn" --json 2>&1)
  ai=$(ax info "$T/x86.dnn" --json 2>&1)
  if [ -n "$(num stored_params "$hi")" ] && [ "$hi" = "$ai" ]; then
    pass "info of an x86 checkpoint: identical on $XT (crc $(printf '%s' "$ai" | sed -n 's/.*"tensors_crc32":"\([0-9a-f]*\)".*/\1/p'))"
  else fail "info of an x86 checkpoint on $XT" "x86: $hi" "$XT: $ai"; fi

  local he ae s ha aa hl al
  he=$("$DYNN" eval "$T/x86.dnn" --test-limit 100 --threads 1 --json 2>&1)
  ae=$(ax eval "$T/x86.dnn" --test-limit 100 --threads 1 --json 2>&1)
  for s in 1 2; do
    ha=$(num accuracy "$he" $s); aa=$(num accuracy "$ae" $s); hl=$(num loss "$he" $s); al=$(num loss "$ae" $s)
    if [ -n "$ha" ] && [ "$ha" = "$aa" ] && close "$hl" "$al"; then
      pass "x86 checkpoint on $XT, subnet $s: accuracy $aa, loss $al (x86: $ha, $hl)"
    else fail "x86 checkpoint on $XT, subnet $s" "x86: $he" "$XT: $ae"; fi
  done
  ha=$(num accuracy "$he" 2)
  if awk -v a="$ha" 'BEGIN { exit !(a >= 0.3) }'; then pass "the portable model has learned (accuracy $ha >= 0.3)"
  else fail "the portable model has learned" "$he"; fi

  # The profiler under emulation prints a valid profile (docs/FORMATS.md, Profile output): one result per
  # subnet with the checkpoint's MACs, every timed sample, consistent statistics. Timings mean nothing here.
  local pj crc macs
  pj=$(ax profile "$T/x86.dnn" --batch 1 --threads 1 --warmup 1 --repeat 5 --min-time-ms 0 --json 2>"$T/profile.err")
  rc=$?
  crc=$(printf '%s' "$hi" | jq -r .tensors_crc32)
  macs=$(printf '%s' "$hi" | jq -c '[.subnets[] | {name, macs}]')
  if [ $rc -eq 0 ] && printf '%s' "$pj" | jq -e --arg crc "$crc" --argjson macs "$macs" --arg arch "$XUNAME" \
       --arg march "$XMARCH_RE" '
       .format == "dynn-profile" and .version == 1 and .model_crc32 == $crc and .host.arch == $arch
       and (.build | test($march)) and .complete != false
       and ([.results[] | {name: .subnet_name, macs}] == $macs)
       and all(.results[]; .batch == 1 and .threads == 1 and .warmup == 1 and (.samples_ms | length) == 5
               and .min_ms > 0 and .min_ms <= .median_ms and .median_ms <= .p90_ms and .p90_ms <= .p99_ms
               and .p99_ms <= .max_ms and .per_image_ms == .median_ms and .peak_rss_kib > 0
               and .freq_khz == null)' >/dev/null; then
    pass "profile --json under $XQEMU: $(printf '%s' "$pj" | jq -r '[.results[] | "\(.subnet_name) \(.median_ms) ms"] | join(", ")') (emulated)"
  else fail "profile --json under $XQEMU" "exit $rc: $(cat "$T/profile.err")" "$pj"; fi
  out=$(ax devices 2>&1)
  if printf '%s' "$out" | grep -qF "$XUNAME, $XISA)"; then pass "the cpu backend there names its kernel set: $XISA"
  else fail "the cpu backend names its kernel set ($XUNAME, $XISA)" "$out"; fi

  # target -> x86: a short training under emulation (4 SGD steps of 32 images) follows the x86 one, and its
  # checkpoint evaluates the same on x86.
  local short=(--model resnet8 --width 0.25 --epochs 1 --train-limit 128 --batch 32 --test-limit 50 --threads 1 --seed 3)
  local at ht xe
  at=$(ax train "${short[@]}" --out "$T/arm.dnn" --json --quiet 2>&1)
  ht=$("$DYNN" train "${short[@]}" --out "$T/x86s.dnn" --json --quiet 2>&1)
  if close "$(num final_train_loss "$at")" "$(num final_train_loss "$ht")" && close "$(num test_loss "$at")" "$(num test_loss "$ht")"; then
    pass "training on $XT follows x86: train loss $(num final_train_loss "$at"), test loss $(num test_loss "$at")"
  else fail "training on $XT follows x86" "$XT: $at" "x86: $ht"; fi
  xe=$("$DYNN" eval "$T/arm.dnn" --test-limit 50 --json 2>&1)
  if [ -n "$(num accuracy "$xe")" ] && [ "$(num accuracy "$xe")" = "$(num test_accuracy "$at")" ] &&
     close "$(num loss "$xe")" "$(num test_loss "$at")"; then
    pass "$XT checkpoint on x86: accuracy $(num accuracy "$xe") as trained"
  else fail "$XT checkpoint on x86" "$XT train: $at" "x86 eval: $xe"; fi
}
