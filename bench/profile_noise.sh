#!/usr/bin/env bash
# bench/profile_noise.sh — the measurement's own noise: runs the same `dynn profile` sweep R times
# and prints, per combination, the median of each run and the coefficient of variation (stddev /
# mean) of those medians. Usage: bench/profile_noise.sh MODEL.dnn [R=5] [profile options...]
# (default options: --subnets all --batch 1,128 --cpus 0,0-1).
set -euo pipefail
model=${1:?usage: bench/profile_noise.sh MODEL.dnn [R] [profile options]}; shift
runs=${1:-5}; [ $# -gt 0 ] && shift
opts=("$@"); [ ${#opts[@]} -eq 0 ] && opts=(--subnets all --batch 1,128 --cpus 0,0-1)
DYNN=${DYNN:-$(dirname "$0")/../build/dynn}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for r in $(seq 1 "$runs"); do
  "$DYNN" profile "$model" "${opts[@]}" --json > "$tmp/$r.json"
done
cat "$tmp"/*.json | jq -r '.results[] | [.subnet_name, .batch, .cpus, .threads, .median_ms] | @tsv' |
  awk -F'\t' '{ k = $1 "\t" $2 "\t" $3 "\t" $4; n[k]++; s[k] += $5; q[k] += $5 * $5; v[k] = v[k] sprintf(" %.4f", $5)
                if (!(k in order)) { order[k] = ++no; keys[no] = k } }
    END { printf "%-8s %6s %5s %7s  %-40s %7s\n", "subnet", "batch", "cpus", "threads", "median of each run (ms)", "CV %"
          worst = 0; tot = 0
          for (i = 1; i <= no; i++) { k = keys[i]; m = s[k] / n[k]; var = (q[k] - n[k] * m * m) / (n[k] > 1 ? n[k] - 1 : 1)
            cv = (var > 0 ? sqrt(var) : 0) / m * 100; tot += cv; if (cv > worst) worst = cv
            split(k, f, "\t"); printf "%-8s %6s %5s %7s  %-40s %7.2f\n", f[1], f[2], f[3], f[4], v[k], cv }
          printf "CV of repeated medians: mean %.2f %%, worst %.2f %% over %d combinations\n", tot / no, worst, no }'
