#!/usr/bin/env bash
# tests/run.sh — runs every unit test binary (cmocka) and every end-to-end script, prints each test's
# result as it goes and ends with the summary line `N passed, N failed` (`, N skipped` when a test could
# not run here: a cmocka skip(), or an e2e `SKIP name: reason` line from lib.sh's skip()).
# Usage: tests/run.sh [REGEX]   (only the binaries/scripts whose name matches)
# Env: BUILD (default build), DYNN_VALGRIND=1 runs unit tests under valgrind --leak-check=full.
# The unit tests of the compute kernels (KSET_TESTS) run once per kernel set this CPU supports
# (nn/kernel_set.h: DYNN_KERNELS=NAME forces one; `dynn version --json` lists them), named NAME[SET],
# and again with the Winograd 3x3 path forced wherever it applies (DYNN_CONV3X3=winograd), NAME[SET+winograd];
# a set built in that the CPU lacks (avx512 on an AVX2 machine) is one SKIP per binary;
# under valgrind only with the set it chooses (valgrind's CPU has no AVX-512).
# test_slurm.sh, which mostly waits, runs in the background beside the unit tests and the cross builds
# (BACKGROUND_E2E below). Every test's time goes to $BUILD/test-durations.txt, slowest first.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
filter=${1:-.}
export DYNN_BIN="$PWD/$BUILD/dynn"
export DYNN_ROOT="$PWD"
passed=0; failed=0; skipped=0; failed_names=(); durations=()
start=$(date +%s)

KSET_TESTS=" test_layers test_model test_dynamic "
ksets=; ksets_beyond=
if [ "${DYNN_VALGRIND:-0}" != 1 ] && [ -x "$DYNN_BIN" ]; then
  version_json=$("$DYNN_BIN" version --json 2>/dev/null)
  ksets=$(printf '%s' "$version_json" | jq -r '.kernel_sets[] | select(.supported) | .name' 2>/dev/null | tr '\n' ' ')
  # sets built in but beyond this CPU (avx512 on an AVX2 machine): their runs are skipped, and counted so
  ksets_beyond=$(printf '%s' "$version_json" | jq -r '.kernel_sets[] | select(.supported | not) | "\(.name)=\(.isa | gsub(" "; "-"))"' 2>/dev/null | tr '\n' ' ')
fi

# run_unit BIN [KERNEL_SET [CONV3X3]]   (CONV3X3: DYNN_CONV3X3's algorithm, forced: winograd)
run_unit() {
  local bin=$1 kset=${2:-} algo=${3:-auto} name out rc p f s t0=$SECONDS
  name=$(basename "$bin")${kset:+[$kset${3:++$3}]}
  if [ "${DYNN_VALGRIND:-0}" = 1 ]; then
    out=$(valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
          "$bin" 2>&1); rc=$?
  elif [ -n "$kset" ]; then
    out=$(DYNN_KERNELS=$kset DYNN_CONV3X3=$algo "$bin" 2>&1); rc=$?
  else
    out=$("$bin" 2>&1); rc=$?
  fi
  printf '%s\n' "$out" | grep -E '^\[ +(OK|FAILED|SKIPPED) +\] [A-Za-z_]' | sed "s/^/$name: /"
  p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
  f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
  s=$(printf '%s\n' "$out" | sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' | tail -1)
  p=${p:-0}; f=${f:-0}; s=${s:-0}
  p=$((p > s ? p - s : 0))                               # cmocka counts a skipped test as passed too
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi      # crashed, leaked or died without a summary
  if [ "$f" -gt 0 ]; then
    failed_names+=("$name"); printf '%s\n' "$out" | tail -40 | sed "s/^/    /"
  fi
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
  durations+=("$((SECONDS - t0)) $name")
}

# count_e2e NAME OUT RC SECONDS: one e2e script's PASS/FAIL/SKIP lines into the totals
count_e2e() {
  local name=$1 out=$2 rc=$3 p f s
  printf '%s\n' "$out" | grep -E '^(PASS|FAIL|SKIP) ' | sed "s/^/$name: /"
  p=$(printf '%s\n' "$out" | grep -c '^PASS ')
  f=$(printf '%s\n' "$out" | grep -c '^FAIL ')
  s=$(printf '%s\n' "$out" | grep -c '^SKIP ')
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  if [ "$f" -gt 0 ]; then
    failed_names+=("$name"); printf '%s\n' "$out" | grep -v '^PASS ' | tail -40 | sed "s/^/    /"
  fi
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
  durations+=("$4 $name")
}

run_e2e() {
  local script=$1 out rc t0=$SECONDS
  out=$(bash "$script" 2>&1); rc=$?
  count_e2e "$(basename "$script" .sh)" "$out" "$rc" "$((SECONDS - t0))"
}

# E2E scripts that mostly wait (test_slurm: a job over its 1-minute Slurm time limit, jobs that sleep)
# run in the background beside the unit tests and the e2e scripts that check no timing
# (BESIDE_BACKGROUND: the cross builds under qemu), and end before any other e2e script starts (several
# of those measure latencies): about a minute less in all on 2 cores (597 s against 659 s here).
BACKGROUND_E2E=" test_slurm "
BESIDE_BACKGROUND=" test_cross_aarch64 test_cross_armhf "
bg_dir=$(mktemp -d "${TMPDIR:-/tmp}/dynn-tests.XXXXXX") || exit 1
bg_names=(); bg_pids=()
# (interrupted: the scripts get SIGTERM, and their EXIT traps clean up, e.g. stop the Slurm cluster)
trap 'for p in "${bg_pids[@]}"; do pkill -TERM -P "$p" 2>/dev/null; kill "$p" 2>/dev/null; done; rm -rf "$bg_dir"' EXIT
if [ "${DYNN_VALGRIND:-0}" != 1 ]; then
  for name in $BACKGROUND_E2E; do
    [ -f "tests/e2e/$name.sh" ] && [[ $name.sh =~ $filter ]] || continue
    (t0=$SECONDS; bash "tests/e2e/$name.sh" > "$bg_dir/$name.out" 2>&1; echo "$? $((SECONDS - t0))" > "$bg_dir/$name.end") &
    bg_names+=("$name"); bg_pids+=($!)
  done
fi

for bin in "$BUILD"/tests/test_*; do
  [ -x "$bin" ] || continue
  [[ $(basename "$bin") =~ $filter ]] || continue
  if [[ $KSET_TESTS == *" $(basename "$bin") "* ]] && [ -n "$ksets" ]; then
    for k in $ksets; do run_unit "$bin" "$k"; run_unit "$bin" "$k" winograd; done
    for k in $ksets_beyond; do
      echo "$(basename "$bin")[${k%%=*}]: SKIP this CPU has no ${k#*=}: the ${k%%=*} kernel set's tests (direct and Winograd) need a machine with it"
      skipped=$((skipped + 1))
    done
  else
    run_unit "$bin"
  fi
done
beside=" "   # BESIDE_BACKGROUND, when something runs in the background to be beside
[ ${#bg_names[@]} -gt 0 ] && beside=$BESIDE_BACKGROUND
for name in $beside; do
  [ -f "tests/e2e/$name.sh" ] && [[ $name.sh =~ $filter ]] && run_e2e "tests/e2e/$name.sh"
done
# then the background scripts: each waited for, then counted (its time: its own wall time)
for i in "${!bg_names[@]}"; do
  wait "${bg_pids[$i]}"
  read -r rc secs < "$bg_dir/${bg_names[$i]}.end" 2>/dev/null || { rc=1; secs=0; }
  count_e2e "${bg_names[$i]}" "$(cat "$bg_dir/${bg_names[$i]}.out")" "$rc" "$secs"
done
bg_pids=()
if [ "${DYNN_VALGRIND:-0}" != 1 ]; then
  for script in tests/e2e/test_*.sh; do   # the others (lib.sh, ckpt_meta.sh, cross.sh) are sourced by these
    [ -f "$script" ] || continue
    [[ $(basename "$script") =~ $filter ]] || continue
    name=$(basename "$script" .sh)
    [[ $BACKGROUND_E2E$beside == *" $name "* ]] && continue   # run above
    run_e2e "$script"
  done
fi

by_time=$(printf '%s\n' "${durations[@]}" | sort -rn)   # every test's seconds, slowest first
{ printf '%s\n' "$by_time" > "$BUILD/test-durations.txt"; } 2>/dev/null
echo "tests took $(( $(date +%s) - start )) s (each test's time: $BUILD/test-durations.txt); slowest: $(printf '%s\n' "$by_time" | head -6 | awk '{printf "%s%s %d s", (NR == 1 ? "" : ", "), $2, $1}')"
[ ${#failed_names[@]} -gt 0 ] && echo "failing: ${failed_names[*]}"
if [ "$skipped" -gt 0 ]; then echo "$passed passed, $failed failed, $skipped skipped"
else echo "$passed passed, $failed failed"; fi
[ "$failed" -eq 0 ]
