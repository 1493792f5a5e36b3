#!/usr/bin/env bash
# tests/e2e/test_pipeline_limits.sh — `dynn validate` refuses experiment files that would exhaust
# memory or time, with FILE:LINE:COL and before allocating for them: too many `env` entries for an exec
# stage, instances whose params together are too large, too many dependencies between instances, vars
# that expand exponentially (the last two also as fixtures in tests/pipeline/bad/). `timeout 60` only
# catches a hang; no duration is asserted.
. "$(dirname "$0")/lib.sh"
W=$E2E_TMP/limits; mkdir -p "$W"; cd "$W" || exit 1

# env: 10001 entries (the limit is 10000); 10000 are accepted
{ printf 'stages:\n  s:\n    type: exec\n    params:\n      cmd: ["true"]\n      env:\n'
  for i in $(seq 10001); do echo "        V$i: x"; done; } > env.yaml
expect_fail "10001 env entries are refused" \
  "^dynn validate: env\.yaml:7:9: stage 's': 'env' has 10001 entries, more than the limit of 10000$" timeout 60 "$DYNN" validate env.yaml
head -n -1 env.yaml > env_ok.yaml
expect_ok "10000 env entries are accepted" timeout 60 "$DYNN" validate env_ok.yaml

# params of all instances: 10000 instances of a 2000-node params mapping (20 million nodes)
{ echo 'vars: {h: ['"$(seq -s ', ' 0 99)"']}'
  printf 'stages:\n  s:\n    type: exec\n    matrix: {x: "${h}", y: "${h}"}\n    params:\n      cmd: ["true"]\n      env:\n'
  for i in $(seq 1000); do echo "        V$i: x"; done; } > params.yaml
expect_fail "instances whose params add up to too much are refused" \
  "^dynn validate: params\.yaml:5:13: stage 's': 10000 instances of 2006-node params bring the params of all instances over the limit of 10000000 nodes$" \
  timeout 60 "$DYNN" validate params.yaml

# dependencies: 2000 x 2000 instances without a shared matrix key, 4 million edges, are fine; 4000 x 4000 are not
deps() {
  { echo "vars: {h: [$(seq -s ', ' 0 $(($1 - 1)))]}"
    printf 'stages:\n  a: {type: exec, matrix: {x: "${h}"}, params: {cmd: [echo, a]}}\n'
    printf '  b: {type: exec, needs: a, matrix: {y: "${h}"}, params: {cmd: [echo, b]}}\n'; } > deps$1.yaml
}
deps 2000; deps 4000
expect_match "4 million dependencies are accepted" "4000000 dependencies" "$(timeout 60 "$DYNN" validate deps2000.yaml 2>&1)"
expect_fail "16 million dependencies are refused" \
  "^dynn validate: deps4000\.yaml:4:26: stage 'b' needs 'a': 16000000 dependencies between their instances, over the limit of 10000000 in total" \
  timeout 60 "$DYNN" validate deps4000.yaml

# var expansion: 100 bytes repeated 8 times per level, 9 levels (13 GB without a limit)
{ echo 'vars:'; echo "  a0: \"$(printf 'x%.0s' $(seq 100))\""
  for k in $(seq 9); do printf '  a%d: %s\n' $k "$(printf '${a%d}' $(yes $((k - 1)) | head -8))"; done
  printf 'stages:\n  s: {type: exec, params: {cmd: [echo, "${a9}"]}}\n'; } > bomb.yaml
expect_fail "exponential var expansion is refused" \
  "^dynn validate: bomb\.yaml:9:12: substitution makes more than 64 MiB of values in all \(does a var repeat another var several times\?\)$" \
  timeout 60 "$DYNN" validate bomb.yaml
e2e_done
