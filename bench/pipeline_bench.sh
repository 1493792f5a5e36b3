#!/usr/bin/env bash
# bench/pipeline_bench.sh — runner overhead: N independent exec stages running `true`, at -j 2.
#
# For each N (default: 500 5000) it generates an experiment file (every stage a distinct command,
# so every stage has its own cache key), then times
#   cold:   a run on a fresh results database: every stage runs in its own process;
#   cached: the same again: every stage is a cache hit, nothing runs;
# with both executors (local: fork server per slot, the default; spawn: one `dynn stage-exec` per
# stage). Each cold run gets a fresh state directory, removed only at the end: deleting the last one
# just before would make ext4's inode allocator skip thousands of recently freed inodes, a cost of
# the benchmark loop rather than of dynn. Wall times are the best of REPEAT runs (default 3), and
# every run's exit status is checked. Reference points measured for comparison (same kind of machine, 500
# such jobs): Snakemake 7.21 ≈ 14 s cold, ≈ 1 s cached; GNU make ≈ 0.6 s.
# Then the DAG build alone: `dynn validate` of two stages of JOIN instances each (default 20000), the
# second needing the first, joined one to one on their matrix key (linear work: a quadratic join or
# expansion would take seconds here; tests/unit/test_pipeline_dag.c checks the DAG it builds).
#
# Usage: bench/pipeline_bench.sh [N ...]     Env: DYNN (binary), REPEAT, EXECUTORS ("local spawn"), JOIN
set -euo pipefail
cd "$(dirname "$0")/.."
DYNN=${DYNN:-$PWD/build/dynn}
REPEAT=${REPEAT:-3}
EXECUTORS=${EXECUTORS:-local spawn}
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(500 5000)
work=$(mktemp -d "${TMPDIR:-/tmp}/dynn-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

gen() { # gen N FILE
  { echo "name: bench$1"; echo "stages:"
    for ((i = 0; i < $1; i++)); do echo "  s$i: {type: exec, params: {cmd: [\"true\", \"s$i\"]}}"; done; } > "$2"
}

now() { date +%s.%N; }

# timed N EXECUTOR DB: wall seconds of one `dynn run`, which must succeed.
timed() {
  local t0 t1
  t0=$(now)
  if ! "$DYNN" run "$work/bench$1.yaml" -j 2 --executor "$2" --db "$3" > "$work/last.out" 2>&1; then
    echo "bench: dynn run failed:" >&2; tail -5 "$work/last.out" >&2; exit 1
  fi
  t1=$(now)
  echo "$t1 - $t0" | bc -l
}

min() { printf '%s\n' "$@" | sort -g | head -1; }

printf '%-8s %-9s %9s %9s %14s\n' stages executor cold_s cached_s cold_ms/stage
for n in "${sizes[@]}"; do
  gen "$n" "$work/bench$n.yaml"
  for ex in $EXECUTORS; do
    cold=() cached=()
    for ((r = 0; r < REPEAT; r++)); do cold+=("$(timed "$n" "$ex" "$work/$ex-$n-$r/results.db")"); done
    for ((r = 0; r < REPEAT; r++)); do cached+=("$(timed "$n" "$ex" "$work/$ex-$n-0/results.db")"); done
    c=$(min "${cold[@]}"); h=$(min "${cached[@]}")
    printf '%-8s %-9s %9.3f %9.3f %14.3f\n' "$n" "$ex" "$c" "$h" "$(echo "$c * 1000 / $n" | bc -l)"
  done
done

JOIN=${JOIN:-20000}
values=$(seq -s, 0 $((JOIN - 1)))
printf 'name: join\nstages:\n  a:\n    type: exec\n    matrix: {i: [%s]}\n    params: {cmd: [echo, "${matrix.i}"]}\n  b:\n    type: exec\n    needs: a\n    matrix: {i: [%s]}\n    params: {cmd: [echo, "${matrix.i}"]}\n' \
  "$values" "$values" > "$work/join.yaml"
builds=()
for ((r = 0; r < REPEAT; r++)); do
  t0=$(now)
  "$DYNN" validate "$work/join.yaml" > "$work/last.out" 2>&1 || { echo "bench: dynn validate failed:" >&2; cat "$work/last.out" >&2; exit 1; }
  t1=$(now)
  builds+=("$(echo "$t1 - $t0" | bc -l)")
done
printf 'dag build (dynn validate): 2 x %d instances joined one to one: %.3f s (best of %d)\n' "$JOIN" "$(min "${builds[@]}")" "$REPEAT"
