#!/usr/bin/env bash
# bench/ci_gate_demo.sh — shows that the CI gate (ci/regression.yaml checked against ci/baseline.yaml
# by `dynn check`, tests/e2e/test_ci_regression.sh) catches deliberate regressions and raises no false
# alarm. Each case is a copy of HEAD (git archive) in a temp dir — the real tree is never touched —
# with one patch applied, built as the counting build (x86-64-v3), run through the regression
# experiment and checked:
#   slow1    one convolution kernel 10% slower: 1 in 10 blocks of the direct 3x3 kernel is computed
#            twice (nn/conv3x3.c, direct_kernel; inference epilogues only, so results are unchanged)
#   slowall  every convolution 30% slower: 3 in 10 blocks of the direct kernel and 3 in 10 chunks of
#            the im2col + sgemm path (nn/conv2d.c, forward_chunk) are computed twice
#   noslim   a subnet that stops slimming: the cpu backend deploys the smallest subnet at the width
#            of the next one (nn/backend_cpu.c)
#   clean    the unchanged code, run CLEAN_RUNS times (default 10; after the first, training is
#            cached and profile/count are measured again with --force)
# Usage: bench/ci_gate_demo.sh [CASE...]   (default: all four). Prints one line per check and keeps
# nothing (KEEP=1 keeps the temp dir). Needs valgrind; takes ~3 min per case on 2 cores plus ~40 s per
# clean run.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CASES=${*:-slow1 slowall noslim clean}
CLEAN_RUNS=${CLEAN_RUNS:-10}
OPT_V3="-O3 -march=x86-64-v3"
T=$(mktemp -d "${TMPDIR:-/tmp}/dynn-gate-demo.XXXXXX") || exit 1
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$T"' EXIT
command -v valgrind >/dev/null || { echo "ci_gate_demo: valgrind is not installed (ci/deps.sh)" >&2; exit 2; }

# The repeated work writes what it wrote already (a plain or affine epilogue, a beta-0 sgemm), so the
# results and the accuracy stay as they were; blocks whose epilogue accumulates (training's fused BN
# sums, accumulate) are not repeated. DEMO_SHARE in 10 of the direct kernel's blocks are computed twice.
DIRECT_PY='
import sys
p, share = sys.argv[1], sys.argv[2]; s = open(p).read()
old = """            direct_block(out, out_stride, e, inp, wpack + (size_t)cob * cin * 9 * CB, cin, tp, cob, cout, q0, QB);
    for (int cob"""
new = """        {
            static unsigned demo_blocks; /* ci_gate_demo: DEMO_SHARE of every 10 blocks computed twice */
            direct_block(out, out_stride, e, inp, wpack + (size_t)cob * cin * 9 * CB, cin, tp, cob, cout, q0, QB);
            if ((!e || (!e->accumulate && !e->sums && !e->bn)) && demo_blocks++ % 10 < DEMO_SHARE)
                direct_block(out, out_stride, e, inp, wpack + (size_t)cob * cin * 9 * CB, cin, tp, cob, cout, q0, QB);
        }
    for (int cob""".replace("DEMO_SHARE", share)
assert old in s; open(p, "w").write(s.replace(old, new))
'
patch_slow1() { python3 -c "$DIRECT_PY" nn/conv3x3.c 1; }
patch_slowall() { # the direct 3x3 kernel and the im2col + sgemm path (1x1, strided, other kernels): 3 in 10
  python3 -c "$DIRECT_PY" nn/conv3x3.c 3 &&
  python3 - nn/conv2d.c <<'PY'
import sys
p = sys.argv[1]; s = open(p).read()
old = "static void forward_chunk(float *out, const float *in, const float *weight, const ConvShape *s,\n                          ConvScratch sc, int n0, int g, int parallel_inner) {"
assert old in s
wrapper = """static void forward_chunk_once(float *out, const float *in, const float *weight, const ConvShape *s,
                               ConvScratch sc, int n0, int g, int parallel_inner);
static void forward_chunk(float *out, const float *in, const float *weight, const ConvShape *s,
                          ConvScratch sc, int n0, int g, int parallel_inner) {
    static unsigned demo_chunks; /* ci_gate_demo slowall: 3 of every 10 chunks computed twice */
    forward_chunk_once(out, in, weight, s, sc, n0, g, parallel_inner);
    if (demo_chunks++ % 10 < 3) forward_chunk_once(out, in, weight, s, sc, n0, g, parallel_inner);
}
static void forward_chunk_once(float *out, const float *in, const float *weight, const ConvShape *s,
                               ConvScratch sc, int n0, int g, int parallel_inner) {"""
open(p, "w").write(s.replace(old, wrapper))
PY
}
patch_noslim() {
  python3 - nn/backend_cpu.c <<'PY'
import sys
p = sys.argv[1]; s = open(p).read()
old = "    model_set_subnet(&((CpuBackend *)state)->m, subnet);"
new = """    Model *demo_m = &((CpuBackend *)state)->m; /* ci_gate_demo noslim: the smallest subnet at the next width */
    model_set_subnet(demo_m, subnet == 0 && demo_m->d->n_subnets > 1 ? 1 : subnet);"""
assert old in s; open(p, "w").write(s.replace(old, new))
PY
}
patch_clean() { :; }

# The unchanged tree is built once; each case starts from a copy of its objects (mtimes kept), so only
# the patched file recompiles.
# SEED=DIR starts from DIR's objects instead (a build-v3 of exactly HEAD's sources: the script checks
# that the tree's C sources equal HEAD's; build DIR from them first, e.g. SEED=build-v3 after
# make BUILD=build-v3 OPT="-O3 -march=x86-64-v3" build-v3/dynn).
echo "ci_gate_demo: building HEAD ($(git -C "$ROOT" rev-parse --short HEAD)) as x86-64-v3 in $T/head"
mkdir -p "$T/head" && git -C "$ROOT" archive HEAD | tar -x -C "$T/head" || exit 1
if [ -n "${SEED:-}" ]; then
  git -C "$ROOT" diff --quiet HEAD -- '*.c' '*.h' '*.sql' Makefile ||
    { echo "ci_gate_demo: SEED needs the tree's sources to be HEAD's (commit first)" >&2; exit 2; }
  find "$T/head" -type f -exec touch -d '2000-01-01' {} + && cp -a "$SEED" "$T/head/build-v3"
fi
make -C "$T/head" -j2 BUILD=build-v3 OPT="$OPT_V3" build-v3/dynn > "$T/head.build.log" 2>&1 || { tail -20 "$T/head.build.log"; exit 1; }

check() { # case dir, run label -> one line (the verdict, the largest instruction change, the failing rows)
  local dir=$1 label=$2 rc
  (cd "$dir/wd" && "$dir/src/build-v3/dynn" check last --baseline "$ROOT/ci/baseline.yaml" > check.txt 2>&1); rc=$?
  printf '%-8s %-6s exit %d  %-5s largest instruction change %s; failing rows: %s\n' "$(basename "$dir")" "$label" "$rc" \
    "$(tail -1 "$dir/wd/check.txt" | cut -d: -f1)" \
    "$(awk '$1 == "instructions" { v = $(NF-2); sub(/%/, "", v); if (!n++ || v + 0 > m) { m = v + 0; w = $NF == "ok" ? "" : " " $NF } }
            END { if (n) printf "%+.2f%%", m; else printf "none" }' "$dir/wd/check.txt")" \
    "$(awk '$NF == "REGRESSION" || $NF == "MISSING" { k = $1 == "latency" ? "latency-ratio" : $1; c[k]++ }
            END { for (k in c) printf "%s%s x%d", n++ ? ", " : "", k, c[k]; if (!n) printf "none" }' "$dir/wd/check.txt")"
  return $rc
}

for c in $CASES; do
  dir=$T/$c
  mkdir -p "$dir/wd"
  cp -a "$T/head" "$dir/src"
  (cd "$dir/src" && "patch_$c") || { echo "ci_gate_demo: patch $c failed" >&2; exit 1; }
  make -C "$dir/src" -j2 BUILD=build-v3 OPT="$OPT_V3" build-v3/dynn > "$dir/build.log" 2>&1 || { tail -20 "$dir/build.log"; exit 1; }
  cp "$ROOT/ci/regression.yaml" "$dir/wd/"
  runs=1; [ "$c" = clean ] && runs=$CLEAN_RUNS
  for i in $(seq 1 "$runs"); do
    force=(); [ "$i" -gt 1 ] && force=(--force 'profile|count')
    start=$(date +%s)
    (cd "$dir/wd" && "$dir/src/build-v3/dynn" run regression.yaml -j 2 "${force[@]}" > "run$i.log" 2>&1) ||
      { echo "$c run $i: the experiment failed:"; tail -3 "$dir/wd/run$i.log"; continue; }
    echo "$(check "$dir" "run$i") ($(( $(date +%s) - start )) s)"
    if [ "$c" = clean ]; then cp "$dir/wd/check.txt" "$T/clean.check$i.txt"; fi
  done
done
exit 0
