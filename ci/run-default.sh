#!/usr/bin/env bash
# ci/run-default.sh — `make run`: the default experiment, experiments/quick.yaml, through the pipeline
# (train five methods, profile every subnet on this machine, aggregate, report). Results go to
# .dynn/results.db, the report to out/quick/. A second run is all cache hits and takes seconds.
# Extra arguments go to `dynn run` (e.g. --set epochs=8).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
./build/dynn run experiments/quick.yaml "$@"
elapsed=$(( $(date +%s) - start ))
echo "report: out/quick/report.md and out/quick/report.html (plots in out/quick/plots/); make run took ${elapsed} s"
if grep -q '^## Flagged measurements (interference)' out/quick/report.md 2>/dev/null; then
  echo "warning: some latencies were measured while other work shared the CPUs and are flagged, not reported as" \
       "latencies: see \"Flagged measurements (interference)\" in out/quick/report.md; measure again on a quiet machine:" \
       "ci/run-default.sh --force profile"
fi
echo "explore: ./dynn show last | ./dynn query \"SELECT ...\" | sqlite3 .dynn/results.db"
