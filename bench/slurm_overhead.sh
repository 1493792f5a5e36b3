#!/usr/bin/env bash
# bench/slurm_overhead.sh — what the slurm executor costs, on a real one-node Slurm cluster started
# here (tests/slurm/cluster.sh; root, slurm-wlm and munge needed; the node has this machine's cores):
#
#   1. N (default 200) exec stages running `true` through `dynn run --executor slurm -j N` (every
#      stage submitted at once; Slurm runs as many as the node's cores allow), wall time and wall
#      time per stage; the same N jobs through Snakemake 7's own Slurm support (`snakemake --slurm`,
#      Debian's snakemake) on the same cluster, in the same run of this script;
#   2. the train stages of experiments/quick.yaml, local executor next to slurm executor (both at
#      -j 2), with a reduced budget by default (QUICK_SET: --set epochs=4 --set train_limit=1000
#      --set test_limit=300; nonuniform-single needs an epoch per subnet) so that it takes minutes, not the full 20.
#
# Usage: bench/slurm_overhead.sh      Env: DYNN (binary), N, CPUS (node CPUs), QUICK_SET, SKIP_QUICK=1, SKIP_SMK=1,
#        SMK_N (Snakemake's job count, default N), SMK_TIMEOUT (seconds Snakemake may take, default 1800)
# Wall times depend on the machine's load: say what else ran when quoting them.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DYNN=${DYNN:-$ROOT/build/dynn}
N=${N:-200}
CPUS=${CPUS:-$(nproc)}
QUICK_SET=${QUICK_SET:---set epochs=4 --set train_limit=1000 --set test_limit=300}
work=$(mktemp -d "${TMPDIR:-/tmp}/dynn-slurm-bench.XXXXXX")
trap 'bash "$ROOT/tests/slurm/cluster.sh" stop "$work/cluster"; rm -rf "$work"' EXIT
bash tests/slurm/cluster.sh start "$work/cluster" "$CPUS" > /dev/null
export SLURM_CONF=$work/cluster/slurm.conf
export PATH=$PATH:/usr/sbin
now() { date +%s.%N; }
per() { awk -v t="$1" -v n="$2" 'BEGIN { printf "%.2f s (%.3f s per stage)", t, t / n }'; }

echo "one-node Slurm cluster: $CPUS CPUs ($(nproc) cores here), $(sinfo -V)"

# 1a. dynn
mkdir -p "$work/dynn" && cd "$work/dynn"
{ echo "stages:"; echo "  t:"; echo "    type: exec"; printf '    matrix: {i: [%s]}\n' "$(seq -s, 1 "$N")"
  echo "    params: {cmd: [\"true\", \"\${matrix.i}\"]}"; } > exp.yaml
t0=$(now)
"$DYNN" run exp.yaml --executor slurm -j "$N" > run.out 2>&1 || { tail -5 run.out; exit 1; }
t1=$(now)
dynn_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
echo "dynn --executor slurm, $N exec true stages: $(per "$dynn_s" "$N")"

# 1b. Snakemake 7 --slurm
if [ "${SKIP_SMK:-0}" = 1 ]; then
  echo "Snakemake part skipped (SKIP_SMK=1)"
elif command -v snakemake > /dev/null; then
  mkdir -p "$work/smk" && cd "$work/smk"
  cat > Snakefile <<EOF
rule all:
    input: expand("out/{i}.txt", i=range(${SMK_N:-$N}))
rule t:
    output: "out/{i}.txt"
    shell: "true; touch {output}"
EOF
  t0=$(now)
  # no slurm_account: Snakemake checks one with sacctmgr, which needs the accounting daemon the
  # cluster does not have; it then guesses one through sacct, fails, and goes on without
  if USER=${USER:-$(id -un)} timeout -k 10 "${SMK_TIMEOUT:-1800}" snakemake --slurm -j "${SMK_N:-$N}" --default-resources slurm_partition=debug runtime=10 \
       --latency-wait 5 > run.out 2>&1; then
    t1=$(now)
    smk_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
    echo "snakemake $(snakemake --version) --slurm, ${SMK_N:-$N} jobs: $(per "$smk_s" "${SMK_N:-$N}")"
  else
    echo "snakemake --slurm failed after $(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.0f s", b - a }')," \
         "$(ls out 2>/dev/null | wc -l) of ${SMK_N:-$N} outputs made: $(grep -iE 'error' run.out | sort | uniq -c | sort -rn | head -3 | tr '\n' ' ')"
  fi
else
  echo "snakemake not installed: no comparison"
fi

# 2. the quick experiment's train stages, local and slurm
if [ "${SKIP_QUICK:-0}" != 1 ]; then
  for ex in local slurm; do
    mkdir -p "$work/quick-$ex" && cd "$ROOT" # its board files are found from here
    t0=$(now)
    # shellcheck disable=SC2086
    "$DYNN" run experiments/quick.yaml --only '^train' $QUICK_SET --executor "$ex" -j 2 --db "$work/quick-$ex/results.db" \
      > "$work/quick-$ex/run.out" 2>&1 || { tail -5 "$work/quick-$ex/run.out"; exit 1; }
    t1=$(now)
    echo "quick.yaml train stages ($QUICK_SET), executor $ex: $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f s", b - a }')"
  done
fi
