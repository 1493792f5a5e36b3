#!/usr/bin/env bash
# bench/ci_gate_spread.sh — the spread of the CI gate's candidate latency measures for one model:
# raw wall time and wall time normalized by an in-process reference (bench/latency_reference.c), and
# instructions per forward under callgrind (`dynn profile --count instructions`, build-v3), each
# measured N times (default 10) as the machine is, then N times beside a competing load (one busy loop
# per CPU). Spread = (max - min) / median. Usage: bench/ci_gate_spread.sh CKPT [SUBNETS] [N]
# (SUBNETS: indices, default "0 3"; batch 1, one thread). Needs build/bench/latency_reference
# (make build/bench/latency_reference) and build-v3/dynn with valgrind.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CKPT=${1:?usage: ci_gate_spread.sh CKPT [SUBNETS] [N]}
SUBNETS=${2:-0 3}
N=${3:-10}
REF=$ROOT/build/bench/latency_reference COUNT=$ROOT/build-v3/dynn
[ -x "$REF" ] && [ -x "$COUNT" ] || { echo "ci_gate_spread: build $REF and $COUNT first" >&2; exit 2; }
busy=()
load_on() { for _ in $(seq "$(nproc)"); do (while :; do :; done) & busy+=($!); done; }
load_off() { for p in "${busy[@]}"; do kill "$p"; done; wait "${busy[@]}" 2>/dev/null; busy=(); }
trap load_off EXIT
stats() { # label, values on stdin -> min median max spread
  sort -g | awk -v l="$1" '{ v[NR] = $1 } END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
    printf "%-44s n=%d min %.6g median %.6g max %.6g spread %.2f%%\n", l, NR, v[1], m, v[NR], 100 * (v[NR] - v[1]) / m }'
}
for state in "as is (load $(cut -d' ' -f1 /proc/loadavg))" "with $(nproc) busy loops"; do
  case $state in with*) load_on ;; esac
  for s in $SUBNETS; do
    raw=() norm=() ins=()
    for _ in $(seq "$N"); do
      read -r _ r _ n < <("$REF" "$CKPT" "$s" 1 30)
      raw+=("$r") norm+=("$n")
      ins+=("$("$COUNT" profile "$CKPT" --count instructions --threads 1 --subnets "$s" --warmup 1 --json |
                python3 -c 'import json,sys; print(json.load(sys.stdin)["results"][0]["instructions"])')")
    done
    printf '%s\n' "${raw[@]}" | stats "subnet $s, $state: wall ms"
    printf '%s\n' "${norm[@]}" | stats "subnet $s, $state: wall / reference"
    printf '%s\n' "${ins[@]}" | stats "subnet $s, $state: instructions"
  done
  case $state in with*) load_off ;; esac
done
