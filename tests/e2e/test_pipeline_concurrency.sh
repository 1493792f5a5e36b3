#!/usr/bin/env bash
# tests/e2e/test_pipeline_concurrency.sh — two `dynn run` processes on one results database at the
# same time (WAL, busy timeout, IMMEDIATE transactions): every stage and metric of both is there.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../pipeline/e2e_helpers.sh"
W=$E2E_TMP/concurrency; mkdir -p "$W"; cd "$W" || exit 1
DB=$W/shared/results.db

for x in a b; do
  { echo "name: conc_$x"; echo "stages:"
    for i in $(seq 60); do echo "  s$i: {type: exec, params: {cmd: [echo, '$x', 'v=$i'], metrics: {v: 'v=(\\d+)'}}}"; done; } > $x.yaml  # distinct keys: no cache hits across the two
done
"$DYNN" run a.yaml -j 2 --db "$DB" > a.out 2>&1 & pa=$!
"$DYNN" run b.yaml -j 2 --db "$DB" > b.out 2>&1 & pb=$!
wait $pa; ra=$?; wait $pb; rb=$?
expect_eq "both runs succeed" "0 0" "$ra $rb"
expect_eq "both runs recorded" "conc_a:FINISHED conc_b:FINISHED" "$(q "SELECT e.name || ':' || r.status FROM runs r JOIN experiments e ON e.id = r.experiment_id ORDER BY e.name" | tr '\n' ' ' | sed 's/ $//')"
expect_eq "every stage of both finished" "120" "$(q "SELECT count(*) FROM stages WHERE status = 'FINISHED'")"
expect_eq "every metric of both" "120 3660" "$(q "SELECT count(*) || ' ' || CAST(sum(value) AS INTEGER) FROM metrics")"
e2e_done
