#!/usr/bin/env bash
# bench/pipeline_bench.sh — runner overhead: N independent exec stages running `true`, at -j 2.
#
# For each N (default: 500 5000) it generates an experiment file, then times
#   1. a cold run (empty results database): every stage runs in its own process;
#   2. a fully cached re-run: every stage is a cache hit, nothing runs.
# with both executors (local fork server, the default; spawn = one `dynn stage-exec` per stage).
# Wall times are the best of REPEAT runs (default 3). Reference points from the issue, same machine
# class: Snakemake 7.21 ≈ 14 s cold / ≈ 1 s cached, GNU make ≈ 0.6 s cold, for 500 such jobs.
#
# Usage: bench/pipeline_bench.sh [N ...]     Env: DYNN (binary), REPEAT, EXECUTORS ("local spawn")
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
    for ((i = 0; i < $1; i++)); do echo "  s$i: {type: exec, params: {cmd: [\"true\", \"s$i\"]}}"; done; } > "$2"  # distinct keys
}

now() { date +%s.%N; }

best_of() { # best_of SETUP_CMD RUN_CMD... : minimum wall time over REPEAT runs
  local setup=$1; shift
  local best= t0 t1 t
  for ((r = 0; r < REPEAT; r++)); do
    eval "$setup"
    t0=$(now); "$@" > /dev/null; t1=$(now)
    t=$(echo "$t1 - $t0" | bc -l)
    if [ -z "$best" ] || (( $(echo "$t < $best" | bc -l) )); then best=$t; fi
  done
  printf '%.3f' "$best"
}

printf '%-8s %-7s %10s %10s %14s\n' stages executor cold_s cached_s cold_ms/stage
for n in "${sizes[@]}"; do
  gen "$n" "$work/bench$n.yaml"
  for ex in $EXECUTORS; do
    db="$work/$ex-$n/results.db"
    cold=$(best_of "rm -rf '$work/$ex-$n'" "$DYNN" run "$work/bench$n.yaml" -j 2 --executor "$ex" --db "$db")
    cached=$(best_of ":" "$DYNN" run "$work/bench$n.yaml" -j 2 --executor "$ex" --db "$db")
    printf '%-8s %-7s %10s %10s %14.3f\n' "$n" "$ex" "$cold" "$cached" "$(echo "$cold * 1000 / $n" | bc -l)"
  done
done
