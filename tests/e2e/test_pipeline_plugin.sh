#!/usr/bin/env bash
# tests/e2e/test_pipeline_plugin.sh — a stage type from a plugin (a shared object listed under
# `plugins:`): validated before anything runs, run in the stage process, records and artifacts kept.
ROOT=${DYNN_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../pipeline/e2e_helpers.sh"
W=$E2E_TMP/plugin; mkdir -p "$W"; cd "$W" || exit 1
DB=$W/.dynn/results.db

build_plugin "$ROOT/tests/pipeline/plugin_constant.c" constant.so
cat > p.yaml <<'YAML'
plugins: [constant.so]
stages:
  widths:
    type: constant
    matrix: {w: ["0.25", "0.5"]}
    params: {metric: width, value: "${matrix.w}", file: w.txt}
  after: {type: exec, needs: widths, params: {cmd: [echo, ok]}}
YAML
out=$("$DYNN" run p.yaml 2>&1); rc=$?
expect_eq "run with a plugin stage type" 0 "$rc"
expect_eq "plugin stages ran" "after=FINISHED widths@w=0.25=FINISHED widths@w=0.5=FINISHED" "$(states)"
expect_eq "plugin metrics recorded" "full:0.25 full:0.5" "$(q "SELECT subnet || ':' || value FROM metrics ORDER BY value" | tr '\n' ' ' | sed 's/ $//')"
expect_eq "plugin artifacts stored" "constant:4 constant:5" "$(q "SELECT kind || ':' || size FROM artifacts ORDER BY size" | tr '\n' ' ' | sed 's/ $//')"
sed 's/value: "${matrix.w}"/value: wide/' p.yaml > bad.yaml
expect_fail "plugin validation names file:line:column" "bad.yaml:6:36: stage 'widths@w=0.25': 'value' must be a number" "$DYNN" validate bad.yaml
sed 's/type: constant/type: constnat/' p.yaml > typo.yaml
expect_fail "plugin types are suggested" "unknown type 'constnat' \(did you mean 'constant'\?\)" "$DYNN" validate typo.yaml
e2e_done
