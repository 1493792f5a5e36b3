#!/usr/bin/env bash
# tests/e2e/test_profile_interference.sh — a profile that shares its CPUs with other work is noticed
# (platforms/interference.h): with a CPU hog started here on CPU 1 (a busy loop pinned with taskset,
# at this script's priority, so it gets about half of CPU 1), `dynn profile --cpus 0-1 --threads 2`
# warns, measures each point again (--interf-retries), and keeps it flagged (interference_flagged,
# its attempts, the shares above --interf-max); --interf-retries 0 flags at once; through the
# pipeline the flag lands in the database (measurement_results.interference_flagged, schema 7), the
# stage log carries the warning, and the report lists the points as "Flagged measurements" instead
# of in the latency table and its figures. Without the hog the same profile is not flagged — unless
# the point's own figures show other work on its CPUs (another job on a shared CI machine: then that
# check is skipped with the numbers, never passed); tests/run.sh runs the e2e scripts one at a time,
# so no other test of `make test` runs meanwhile. The OpenMP wait policy is recorded with each point
# (condition omp_wait): active by default, --wait-policy passive, the environment's with inherit.
. "$(dirname "$0")/lib.sh"
T=$E2E_TMP
cd "$T" || exit 1
HOG=
stop_hog() { [ -n "$HOG" ] && kill "$HOG" 2>/dev/null && wait "$HOG" 2>/dev/null; HOG=; }
trap 'stop_hog; rm -rf "$E2E_TMP"' EXIT

if [ "$(nproc)" -lt 2 ]; then skip "interference" "needs 2 CPUs (this process may use $(nproc))"; e2e_done; fi
if ! command -v taskset >/dev/null; then skip "interference" "needs taskset (util-linux)"; e2e_done; fi
CPUS=$(taskset -pc $$ | sed 's/.*: //')
if ! taskset -c 0,1 true 2>/dev/null; then skip "interference" "CPUs 0 and 1 are not both available here ($CPUS)"; e2e_done; fi
if ! [ -r /proc/self/schedstat ]; then skip "interference" "needs per-thread schedstat (/proc/self/schedstat: CONFIG_SCHED_INFO)"; e2e_done; fi

"$DYNN" train --synthetic-weights --model resnet8 --input 16 --classes 5 --widths 0.5,1 --out m.dnn >/dev/null 2>&1 ||
  fail "a synthetic model"
start_hog() { taskset -c 1 bash -c 'while :; do :; done' & HOG=$!; sleep 0.3; }
prof=(--cpus 0-1 --threads 2 --batch 1 --warmup 2 --repeat 10 --min-time-ms 200 --json)
MAX=0.15 # --interf-max's default (platforms/interference.h)

# ---- dynn profile with the hog ----
start_hog
out=$("$DYNN" profile m.dnn "${prof[@]}" --interf-retries 1 2>err); rc=$?
out0=$("$DYNN" profile m.dnn "${prof[@]}" --interf-retries 0 --subnets w1.00 2>err0); rc0=$?
stop_hog
[ $rc -eq 0 ] && pass "hog: the profile completes (exit 0)" || fail "hog: the profile completes" "exit $rc" "$(cat err)"
check_json "hog: every point flagged after 2 attempts" "$out" \
  '(.results | length) == 2 and all(.results[]; .interference_flagged == true and .attempts == 2)'
check_json "hog: its shares say why (waited for a CPU above $MAX, other work on its CPUs, CPU time below wall x threads)" "$out" \
  "all(.results[]; .wait_share > $MAX and .others_share > 0.05 and .cpu_share < 0.95 and .cpu_share > 0)"
check_json "hog: the OpenMP wait policy recorded (active, the default)" "$out" 'all(.results[]; .omp_wait == "active")'
expect_match "hog: a warning, then measured again" \
  "dynn profile: warning: w0.50, batch 1, cpus 0-1, 2 threads: its threads waited for a CPU [0-9]+% of the time and other work took [0-9]+% of its CPUs \(limit 15%.*measuring it again" \
  "$(cat err)"
expect_match "hog: then kept flagged" "w1.00, batch 1, cpus 0-1, 2 threads: .*FLAGGED: the least disturbed attempt is kept" "$(cat err)"
check_json "--interf-retries 0: flagged at the first attempt" "$out0" \
  '(.results | length) == 1 and .results[0].interference_flagged == true and .results[0].attempts == 1'
n0=$(grep -c "measuring it again" err0)
[ $rc0 -eq 0 ] && [ "$n0" = 0 ] && pass "--interf-retries 0: not measured again" || fail "--interf-retries 0: not measured again" "$(cat err0)"
start_hog
table=$("$DYNN" profile m.dnn --cpus 0-1 --threads 2 --subnets w0.50 --min-time-ms 200 --interf-retries 0 2>/dev/null)
stop_hog
expect_match "table: the point marked FLAGGED" "^w0.50 .* FLAGGED +cpu " "$table"
expect_match "table: a note under it" "^FLAGGED: other work shared the measured CPUs on every attempt" "$table"

# ---- without the hog ----
out=$("$DYNN" profile m.dnn "${prof[@]}" 2>err); rc=$?
[ $rc -eq 0 ] && pass "quiet: the profile completes" || fail "quiet: the profile completes" "exit $rc" "$(cat err)"
# a flag without other work on its CPUs would be a false alarm; with other work (others_share above
# 0.05, /proc/stat), the machine was not quiet
busy=$(printf '%s' "$out" | jq -r "[.results[] | select(.interference_flagged and .others_share > 0.05)] | length")
false_flags=$(printf '%s' "$out" | jq -r "[.results[] | select(.interference_flagged and .others_share <= 0.05)] | length")
if [ "$false_flags" != 0 ]; then fail "quiet: no point flagged" "flagged without other work on its CPUs:" "$out"
elif [ "$busy" != 0 ]; then skip "quiet: no point flagged" "other work ran on CPUs 0-1 meanwhile: $(printf '%s' "$out" | jq -c '[.results[] | {subnet_name, others_share, wait_share, attempts}]')"
else check_json "quiet: no point flagged" "$out" 'all(.results[]; .interference_flagged == false and .attempts >= 1)'; fi

# ---- the wait policy ----
out=$("$DYNN" profile m.dnn --subnets w0.50 --cpus 0 --threads 1 --min-time-ms 5 --wait-policy passive --json 2>/dev/null)
check_json "--wait-policy passive: recorded" "$out" '.results[0].omp_wait == "passive"'
out=$(OMP_WAIT_POLICY=passive GOMP_SPINCOUNT=1000 "$DYNN" profile m.dnn --subnets w0.50 --cpus 0 --threads 1 --min-time-ms 5 \
      --wait-policy inherit --json 2>/dev/null)
check_json "--wait-policy inherit: the environment's, with GOMP_SPINCOUNT" "$out" '.results[0].omp_wait == "passive,spincount=1000"'
out=$(OMP_WAIT_POLICY=passive "$DYNN" profile m.dnn --subnets w0.50 --cpus 0 --threads 1 --min-time-ms 5 --json 2>/dev/null)
check_json "default: active even where the environment says passive" "$out" '.results[0].omp_wait == "active"'
expect_fail "--wait-policy: one of the words" "--wait-policy: 'spin' is not one of: active,passive,inherit" \
  "$DYNN" profile m.dnn --wait-policy spin

# ---- through the pipeline: database, stage log, report ----
cat > e.yaml <<'YAML'
name: interference
seed: 1
stages:
  train:
    type: train
    threads: 1
    params: {model: resnet8, synthetic_weights: true, input: 16, classes: 5, widths: [0.5, 1]}
  profile:
    type: profile
    needs: train
    threads: 2
    params:
      platform: local
      model: model
      mapping: [{cpus: "0-1", threads: 2}]
      min_time_ms: 200
      interference_retries: 1
  aggregate: {type: aggregate, needs: [train, profile]}
  report: {type: report, needs: aggregate, params: {out: rep}}
YAML
start_hog
"$DYNN" run e.yaml >run.out 2>&1; rc=$?
stop_hog
[ $rc -eq 0 ] && pass "pipeline with the hog: the run finishes" || fail "pipeline with the hog: the run finishes" "exit $rc" "$(tail -20 run.out)"
q() { "$DYNN" query --csv "$1" 2>&1 | tail -n +2; }
got=$(q "SELECT group_concat(subnet||':'||interference_flagged||':'||attempts||':'||(wait_share > 0.15 AND others_share > 0.05), ' ') FROM (SELECT * FROM measurement_results ORDER BY subnet)")
[ "$got" = "w0.50:1:2:1 w1.00:1:2:1" ] && pass "database: both points flagged, 2 attempts, shares above the limit" ||
  fail "database: both points flagged, 2 attempts, shares above the limit" "$got"
got=$(q "SELECT group_concat(DISTINCT value) FROM conditions WHERE key = 'omp_wait'")
[ "$got" = "active" ] && pass "database: condition omp_wait = active" || fail "database: condition omp_wait = active" "$got"
log=$(q "SELECT log FROM stages WHERE name = 'profile'")
if grep -q "FLAGGED: the least disturbed attempt is kept" "$log" 2>/dev/null && grep -q "FLAGGED: other work shared its CPUs" "$log"; then
  pass "stage log: the warning and the flagged points"
else fail "stage log: the warning and the flagged points" "$log" "$(cat "$log" 2>&1 | tail -20)"; fi
md=$(cat rep/report.md 2>/dev/null)
expect_match "report: a table of flagged measurements" "Flagged measurements \(interference\)" "$md"
expect_match "report: its rows, with the shares and the policy" '\| synthetic/local/b1 \| w0.50 \| cpus=0-1 threads=2 \| [0-9]+ \| [0-9.]+ \| [0-9]+ \| [0-9]+ \| [0-9]+ \| 2 \| active \|' "$md"
expect_match "report: the latency table says they are left out" "2 measurements flagged for interference are not listed here nor plotted" "$md"
latency=$(printf '%s\n' "$md" | awk '/^## / {on = ($0 == "## Latency percentiles")} on')
if [ -z "$latency" ] || printf '%s' "$latency" | grep -q '^| synthetic/local/b1 |'; then fail "report: no flagged point in the latency table" "$latency"
else pass "report: no flagged point in the latency table"; fi
if ls rep/plots/latency_width_* >/dev/null 2>&1; then fail "report: no latency figure of flagged points" "$(ls rep/plots)"
else pass "report: no latency figure of flagged points"; fi
e2e_done
