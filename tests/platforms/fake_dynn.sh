#!/bin/sh
# tests/platforms/fake_dynn.sh — stands in for `dynn profile MODEL [--subnets S] [--batch B] [--cpus C]
# [--platform FILE] [--threads T] [--freq KHZ] [--here] [--warmup W] [--repeat R] [--min-time-ms M] --json` in the platform tests
# (until the real profiler is what they deploy). It prints output that follows the contract in
# docs/FORMATS.md ("Profile output") for one point, with samples that depend on subnet and batch, and
# refuses a subnet that is not an index, as dynn does for an unknown name. Subnet 8 stops part-way
# (its one result, "complete": false, exit 1); subnet 9 fails without output (exit 3).
[ "$1" = profile ] || { echo "fake dynn: only 'profile' is faked" >&2; exit 2; }
model=$2; shift 2
subnet=0 batch=1 cpus=0 threads=1 freq=null
while [ $# -gt 0 ]; do
  case $1 in
    --subnets) subnet=$2; shift 2 ;;
    --platform) [ -r "$2" ] || { echo "fake dynn: cannot read the platform file '$2'" >&2; exit 1; }
                grep -Eq '^name:|"name":' "$2" || { echo "fake dynn: '$2' is not a board file (no name)" >&2; exit 1; }
                shift 2 ;;
    --batch) batch=$2; shift 2 ;;
    --cpus) cpus=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --freq) freq=$2; shift 2 ;;
    --warmup|--repeat|--min-time-ms) shift 2 ;;
    --json|--here) shift ;;
    *) echo "fake dynn: unknown option '$1'" >&2; exit 2 ;;
  esac
done
[ -r "$model" ] || { echo "fake dynn: cannot read the model '$model'" >&2; exit 1; }
case $subnet in ''|*[!0-9]*) echo "fake dynn: no subnet '$subnet'" >&2; exit 1 ;; esac
[ "$subnet" = 9 ] && { echo "fake dynn: subnet 9 fails" >&2; exit 3; }
complete=true; [ "$subnet" = 8 ] && complete=false
crc=$(cksum < "$model" | cut -d' ' -f1)
s=$((subnet + 1))
cat <<JSON
{"format": "dynn-profile", "version": 1, "complete": $complete, "model": "$model", "model_crc32": "$crc",
 "host": {"hostname": "fake", "arch": "$(uname -m)", "cpu_model": "fake", "ncpus": 2}, "build": "fake",
 "dvfs": {"available": false, "reason": "fake", "sysfs_root": "/sys", "method": "none", "frequencies_khz": {}},
 "energy": {"available": false, "reason": "fake", "sensors": []},
 "results": [{"subnet": $subnet, "subnet_name": "w$subnet", "macs": $((1000 * s)), "params": $((100 * s)),
   "batch": $batch, "cpus": "$cpus", "threads": $threads, "freq_khz": $freq,
   "warmup": 1, "repeat": 3, "min_time_ms": 0,
   "samples_ms": [$s.5, $s.25, $s.75], "median_ms": $s.5, "p90_ms": $s.75, "p99_ms": $s.75, "mean_ms": $s.5,
   "stddev_ms": 0.2, "min_ms": $s.25, "max_ms": $s.75, "per_image_ms": $s.5, "peak_rss_kib": 2048,
   "energy_j": null, "avg_power_w": null}]}
JSON
[ "$complete" = true ] || { echo "fake dynn: stopped part-way" >&2; exit 1; }
