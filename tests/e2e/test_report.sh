#!/usr/bin/env bash
# tests/e2e/test_report.sh — `dynn report` and `dynn check` on a fixture database (2 methods x 4 subnets
# x 2 batch sizes x 2 mappings x 2 frequencies), a report without measurements, bad input; then the
# aggregate and report stage types inside `dynn run`, fed by plugin stand-ins for train and profile.
ROOT=${DYNN_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../pipeline/e2e_helpers.sh"
. "$(dirname "$0")/../pipeline/report_fixture.sh"
W=$E2E_TMP/report; mkdir -p "$W"; cd "$W" || exit 1
RUN=11111111

make_report_db r.db || { fail "fixture database" "sqlite3 failed"; e2e_done; }

# ---- dynn report ----
out=$("$DYNN" report $RUN --db r.db -o rep 2>&1); rc=$?
expect_eq "report exits 0" 0 "$rc"
expect_match "report says what it wrote" "report of run 11111111 in rep: .* figures" "$out"
for f in rep/report.md rep/report.html rep/plots/acc_latency_local_b1.png rep/plots/acc_latency_local_b8.svg \
         rep/plots/acc_energy_local_b1.png rep/plots/acc_mflops.png rep/plots/latency_width_uniform_local_b1.png \
         rep/plots/dvfs_mapping_uniform_local_b1.png rep/plots/ranges_latency.svg rep/plots/ranges_energy.png; do
  if [ -s "$f" ]; then pass "report wrote $f"; else fail "report wrote $f" "$(ls -R rep 2>&1 | head -40)"; fi
done
png_ok=1
for f in rep/plots/*.png; do
  [ "$(head -c 8 "$f" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] && [ "$(stat -c %s "$f")" -gt 5000 ] || { png_ok=0; echo "bad png $f"; }
done
expect_eq "every PNG has the PNG signature and real content" 1 "$png_ok"
svg_ok=1
for f in rep/plots/*.svg; do
  [ "$(xmllint --xpath 'name(/*)' "$f" 2>/dev/null)" = svg ] || { svg_ok=0; echo "bad svg $f"; }
done
expect_eq "every SVG parses as XML with root <svg>" 1 "$svg_ok"
n_svg=$(ls rep/plots/*.svg | wc -l)
expect_eq "HTML inlines every figure" "$n_svg" "$(grep -o 'data:image/svg+xml;base64,' rep/report.html | wc -l)"
expect_ok "HTML parses" xmllint --html --noout rep/report.html
md=$(cat rep/report.md)
expect_match "report.md: uniform accuracy per subnet" '\| train@method=uniform \| uniform \| w0.5 \| 1 \| 0.500 \| 85.00 \|' "$md"
expect_match "report.md: individual accuracy" '\| train@method=individual \| individual \| w1.0 \| 3 \| 1.000 \| 90.50 \|' "$md"
expect_match "report.md: latency percentiles" '\| uniform/local/b1 \| w0.25 \| cpus=0 threads=1 \| 1200 \| 5 \| 0.3250 \|' "$md"
expect_match "report.md: backend and device of each measurement (conditions)" '\| uniform/local/b1 \| w0.25 \| cpus=0 threads=1 \| 1200 \| 5 \| 0.3250 \|.*\| cpu / x86_64 \|' "$md"
expect_match "report.md: dynamic ranges (2.2/0.325 = 6.77x; x1/0.6; x1.9/0.6; x1.9)" '\| uniform/local/b1 \| cpus=0-1 threads=2 \| 1200 \| 6.77x \| 11.28x \| 12.86x \| 21.44x \|' "$md"
expect_match "report.md: baseline comparison" '\| uniform \| w0.5 \| 0.500 \| 10.000 \| 85.00 \| individual \| w0.5 \| 85.50 \| -0.50 \|' "$md"
expect_match "report.md: provenance" '\| git commit \| deadbeef0001 \|.*' "$md"
expect_match "report --json" '"figures":1[0-9]' "$("$DYNN" report $RUN --db r.db -o rep --json 2>&1)"
[ ! -e rep.tmp.* ] && [ ! -e rep.old.* ] && pass "report leaves no temporary directory" || fail "report leaves no temporary directory" "$(ls)"
expect_fail "report needs -o" "-o DIR is required" "$DYNN" report $RUN --db r.db
expect_fail "report of an unknown run" "no run 'abcdef'" "$DYNN" report abcdef --db r.db -o x
touch afile
expect_fail "report onto a file" "'afile' exists and is not a directory" "$DYNN" report $RUN --db r.db -o afile

make_report_db bare.db && sqlite3 bare.db "DELETE FROM latency_samples; DELETE FROM conditions; DELETE FROM measurement_results;"
expect_ok "report without measurements" "$DYNN" report last --db bare.db -o bare
expect_match "it says what is missing" "No measurements \(no profile stage ran\)" "$(cat bare/report.md)"
expect_match "it still has the accuracy table" '\| w0.75 \| 2 \| 0.750 \| 88.00 \|' "$(cat bare/report.md)"
[ -s bare/plots/acc_mflops.png ] && [ ! -e bare/plots/ranges_latency.png ] && pass "accuracy figure only" || fail "accuracy figure only" "$(ls bare/plots)"
# two architectures (train param `model`): one accuracy/MFLOPs figure each, and no baseline across them
cp bare.db arch.db
sqlite3 arch.db "INSERT INTO params SELECT stage_id, 'model', CASE value WHEN 'uniform' THEN 'resnet20' ELSE 'alexnet' END FROM params WHERE name = 'method'"
expect_ok "report of two architectures" "$DYNN" report last --db arch.db -o arch
[ -s arch/plots/acc_mflops_resnet20.png ] && [ -s arch/plots/acc_mflops_alexnet.png ] && [ ! -e arch/plots/acc_mflops.png ] \
  && pass "one accuracy figure per architecture" || fail "one accuracy figure per architecture" "$(ls arch/plots)"
expect_eq "no baseline deltas across architectures" 0 "$(grep -c '^| uniform | w' arch/report.md)"

# ---- dynn check ----
out=$("$DYNN" check $RUN --db r.db --update --baseline base.yaml 2>&1); rc=$?
expect_eq "check --update exits 0" 0 "$rc"
expect_match "check --update writes every entry" "wrote base.yaml: 72 entries" "$out"
out=$("$DYNN" check $RUN --db r.db --baseline base.yaml 2>&1); rc=$?
expect_eq "check against its own baseline passes" 0 "$rc"
expect_match "check prints PASS" "^PASS: 0 regressions" "$(printf '%s' "$out" | tail -1)"
sed 's/{method: "uniform", subnet: "w0.5", accuracy: 0.85}/{method: "uniform", subnet: "w0.5", accuracy: 0.87}/' base.yaml > acc.yaml
out=$("$DYNN" check $RUN --db r.db --baseline acc.yaml 2>&1); rc=$?
expect_eq "accuracy regression exits 1" 1 "$rc"
expect_match "accuracy regression names the subnet" 'accuracy +uniform +w0.5 +87.00% +85.00% +-2.00 pt +-1.00 pt +REGRESSION' "$out"
expect_match "accuracy regression: FAIL line" '^FAIL: 1 regression against acc.yaml' "$(printf '%s' "$out" | tail -1)"
make_report_db slow.db 1
out=$("$DYNN" check $RUN --db slow.db --baseline base.yaml --json 2>&1); rc=$?
expect_eq "latency regression exits 1" 1 "$rc"
expect_match "latency regression names the subnet" '"where":"uniform/local/b1/cpus=0 threads=1/1200MHz","subnet":"w0.25".*"change":"\+50.0%".*"status":"REGRESSION"' "$out"
expect_match "only the slowed subnet regresses" '"regressions":8,' "$out"
printf 'format: dynn-baseline\nversion: 1\naccuracy: [{method: uniform, subnet: w1.0}]\n' > bad.yaml
expect_fail "bad baseline: one-line error" "bad.yaml:3:12: 'accuracy' entry 1 is missing 'accuracy'" "$DYNN" check $RUN --db r.db --baseline bad.yaml
"$DYNN" check $RUN --db r.db --baseline bad.yaml >/dev/null 2>&1
expect_eq "bad baseline exits 2" 2 "$?"
"$DYNN" check $RUN --db r.db >/dev/null 2>&1
expect_eq "check without --baseline exits 2" 2 "$?"
"$DYNN" check 99999999 --db r.db --baseline base.yaml >/dev/null 2>&1
expect_eq "check of an unknown run exits 2" 2 "$?"
cp base.yaml before.yaml
sum=$(md5sum < bad.yaml)
"$DYNN" check $RUN --db r.db --update --baseline bad.yaml >/dev/null 2>&1; rc=$?
expect_eq "--update refuses to replace a broken baseline" "2 $sum" "$rc $(md5sum < bad.yaml)"

# ---- a measurement flagged for interference (platforms/interference.h) ----
make_report_db flag.db
fid=$(sqlite3 flag.db "SELECT m.id FROM measurement_results m JOIN stages s ON s.id = m.stage_id JOIN conditions b ON
  b.measurement_id = m.id AND b.key = 'batch' JOIN conditions c ON c.measurement_id = m.id AND c.key = 'cpus' JOIN conditions f ON
  f.measurement_id = m.id AND f.key = 'cpu_freq' WHERE s.name = 'profile@method=uniform' AND m.subnet = 'w0.25' AND b.value = 1
  AND c.value = '0-1' AND f.value = 1200000")
sqlite3 flag.db "UPDATE measurement_results SET interference_flagged = 1, wait_share = 0.31, others_share = 0.3, cpu_share = 0.69,
  attempts = 3 WHERE id = $fid; INSERT INTO conditions VALUES ($fid, 'omp_wait', 'active');"
"$DYNN" report $RUN --db flag.db -o flagrep >/dev/null 2>&1
md=$(cat flagrep/report.md 2>/dev/null)
expect_match "flagged: listed apart, with its shares, attempts and wait policy" \
  '^\| uniform/local/b1 \| w0.25 \| cpus=0-1 threads=2 \| 5 \| [0-9.]+ \| 31 \| 30 \| 69 \| 3 \| active \|$' "$md"
expect_match "flagged: the latency table says so" "^1 measurements flagged for interference are not listed here nor plotted" "$md"
latency_rows() { awk '/^## / {on = ($0 == "## Latency percentiles")} on && /^\| uniform\/local\/b1 \| w0.25 \| cpus=0-1 threads=2 \|/' "$1"; }
expect_eq "flagged: not a latency row (the unflagged report has it at 600 and 1200 MHz)" "2 1" \
  "$(latency_rows rep/report.md | wc -l) $(latency_rows flagrep/report.md | wc -l)"
out=$("$DYNN" check $RUN --db flag.db --baseline base.yaml 2>&1); rc=$?
expect_eq "check: a flagged point is not a regression" 0 "$rc"
expect_match "check: its row is FLAGGED" 'latency ratio +uniform/local/b1/cpus=0-1 threads=2/1200MHz +w0.25 .* FLAGGED \(interference\)' "$out"
expect_match "check: and said so" "^1 latency row not checked: measurements of their group were flagged for interference" \
  "$(printf '%s' "$out" | tail -1)"

# ---- aggregate and report stages inside dynn run ----
P=$W/pipe; mkdir -p "$P"; cd "$P" || exit 1
DB=$P/.dynn/results.db
if ! ${CC:-cc} -shared -fPIC -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -I"$ROOT" \
     "$ROOT/tests/pipeline/plugin_fake_results.c" -o fake.so 2> cc.out; then
  fail "fake stages plugin builds" "$(cat cc.out)"; e2e_done
fi
cat > e.yaml <<'YAML'
name: report-e2e
plugins: [fake.so]
stages:
  train:
    type: fake_train
    matrix: {method: [uniform, individual]}
    params: {method: "${matrix.method}", accuracy: "0.80,0.85,0.88,0.90"}
  profile:
    type: fake_profile
    needs: train
    matrix: {method: [uniform, individual]}
    params: {subnets: "4", slow: "1"}
  aggregate: {type: aggregate, needs: [train, profile]}
  report: {type: report, needs: aggregate, params: {out: rep}}
YAML
out=$("$DYNN" run e.yaml 2>&1); rc=$?
expect_eq "run with aggregate and report stages" 0 "$rc"
expect_eq "every stage finished" "aggregate=FINISHED profile@method=individual=FINISHED profile@method=uniform=FINISHED report=FINISHED train@method=individual=FINISHED train@method=uniform=FINISHED" "$(states)"
expect_eq "the stage graph is recorded" 7 "$(q "SELECT count(*) FROM stage_needs")"
expect_eq "aggregate: width range 10 / 1.5625 = 6.4" "6.4" "$(q "SELECT round(value, 6) FROM metrics WHERE name = 'range_latency_width' AND subnet = 'uniform/local/b1'")"
expect_eq "aggregate: mapping range 10 / 0.9375" "10.666667" "$(q "SELECT round(value, 6) FROM metrics WHERE name = 'range_latency_mapping' AND subnet = 'uniform/local/b1'")"
expect_eq "aggregate: baseline deltas" "4 0.0" "$(q "SELECT count(*) || ' ' || max(abs(value)) FROM metrics WHERE name = 'accuracy_vs_individual'")"
expect_match "report stage wrote the report" '\| uniform/local/b1 \| w0.25 \| cpus=0 threads=1 \| - \| 3 \| 1.5625 \|' "$(cat rep/report.md 2>&1)"
expect_eq "report files are artifacts" "rep/.dynn-report rep/report.html rep/report.md" "$(q "SELECT name FROM artifacts ORDER BY name" | tr '\n' ' ' | sed 's/ $//')"
rm -rf rep
out=$("$DYNN" run e.yaml 2>&1)
[ -s rep/report.md ] && [ -s rep/report.html ] && [ -s rep/.dynn-report ] && pass "a cached report stage puts its files back" || fail "a cached report stage puts its files back" "$out"
expect_ok "  ... so its directory is still a report dynn may replace" "$DYNN" run e.yaml
cat > noneed.yaml <<'YAML'
stages:
  aggregate: {type: aggregate}
YAML
"$DYNN" run noneed.yaml >/dev/null 2>&1
expect_eq "aggregate without inputs fails" "1 FAILED" "$? $(q "SELECT status FROM stages WHERE name = 'aggregate' ORDER BY id DESC LIMIT 1")"
expect_match "  ... naming what to do" "list the train and profile stages under its .needs." "$(q "SELECT error FROM stages WHERE name = 'aggregate' ORDER BY id DESC LIMIT 1")"
printf 'stages:\n  r: {type: report, params: {out: /abs}}\n' > badout.yaml
expect_fail "report out must be relative" "badout.yaml:2:35: stage 'r': 'out' '/abs' must be relative" "$DYNN" validate badout.yaml
e2e_done
