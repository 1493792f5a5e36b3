#!/usr/bin/env bash
# bench/ab.sh — two builds of bench/train_step against each other in paired rounds (old, new, old,
# new, ...), so that a slow spell of the machine hits both: per round each one's training throughput,
# then the medians and the median of the per-round ratios new/old. With OPS='regex', also the median
# forward / backward ms of the per-op lines (train_step --ops) whose name matches.
# Not a test: prints figures only. Nothing else may run while it times.
#   bench/ab.sh [-r ROUNDS] [-c CPUS] OLD NEW [train_step args...]
#   e.g. cp build/bench/train_step /tmp/old; (change, make); \
#        OPS='conv4|bn1' bench/ab.sh -r 5 -c 0 /tmp/old build/bench/train_step --model alexnet --threads 1
set -u
rounds=5 cpus=
while [ $# -gt 0 ]; do
  case $1 in
    -r) rounds=$2; shift 2 ;;
    -c) cpus=$2; shift 2 ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) break ;;
  esac
done
if [ $# -lt 2 ] || [ ! -x "$1" ] || [ ! -x "$2" ]; then
  echo "bench/ab.sh: give two train_step binaries (OLD NEW), then its arguments; --help says more" >&2
  exit 2
fi
old=$1 new=$2; shift 2
ops=${OPS:-}
pin=(); [ -n "$cpus" ] && pin=(taskset -c "$cpus")
echo "CPU: $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1), $(nproc) CPUs; flags: $(grep -o -m1 -w avx512f /proc/cpuinfo || echo no-avx512f)" \
  "DYNN_KERNELS=${DYNN_KERNELS:-auto} OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-auto}; pinned: ${cpus:-no}; args: $*"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
median() { sort -g | awk '{v[NR] = $1} END {if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
for r in $(seq 1 "$rounds"); do
  line="round $r:"
  for which in old new; do
    bin=$old; [ $which = new ] && bin=$new
    out=$("${pin[@]}" "$bin" "$@" ${ops:+--ops} 2>&1)
    ips=$(printf '%s\n' "$out" | sed -n 's/.* = \([0-9.]*\) img\/s.*/\1/p' | head -1)
    [ -n "$ips" ] || { echo "bench/ab.sh: $bin printed no img/s:" >&2; printf '%s\n' "$out" | tail -3 >&2; exit 1; }
    echo "$ips" >> "$tmp/$which.ips"
    line="$line $which $ips img/s"
    if [ -n "$ops" ]; then
      printf '%s\n' "$out" | awk -v re="^($ops)$" '$1 ~ re && $3 == "fwd" {print $1, $4, $7} $1 ~ re && $2 == "fwd" {print "all-" $1, $3, $6}' >> "$tmp/$which.ops"
    fi
  done
  echo "$line"
  paste "$tmp/old.ips" "$tmp/new.ips" | tail -1 | awk '{print $2 / $1}' >> "$tmp/ratio"
done
echo "median img/s: old $(median < "$tmp/old.ips"), new $(median < "$tmp/new.ips"); median ratio new/old $(median < "$tmp/ratio")" \
  "(range $(sort -g "$tmp/ratio" | head -1)-$(sort -g "$tmp/ratio" | tail -1))"
if [ -n "$ops" ]; then
  for name in $(awk '{print $1}' "$tmp/old.ops" | awk '!seen[$0]++'); do
    f() { awk -v n="$name" -v c="$2" '$1 == n {print $c}' "$tmp/$1.ops" | median; }
    echo "  $name: fwd $(f old 2) -> $(f new 2) ms, bwd $(f old 3) -> $(f new 3) ms (medians)"
  done
fi
