# tests/e2e/lib.sh — helpers for end-to-end tests of the dynn CLI (sourced, not run).
# Each check prints `PASS name` or `FAIL name` (with the evidence) and the runner counts those lines.
set -u
DYNN=${DYNN_BIN:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/dynn}
E2E_TMP=$(mktemp -d "${TMPDIR:-/tmp}/dynn-e2e.XXXXXX")
trap 'rm -rf "$E2E_TMP"' EXIT
E2E_FAILS=0

pass() { echo "PASS $1"; }
# skip NAME REASON: the check could not run on this machine (tests/run.sh counts it as skipped, not passed).
skip() { echo "SKIP $1: $2"; }
fail() { echo "FAIL $1"; shift; [ $# -gt 0 ] && printf '  %s\n' "$@"; E2E_FAILS=$((E2E_FAILS + 1)); }

# expect_ok NAME CMD...: the command exits 0.
expect_ok() {
  local name=$1; shift
  local out; out=$("$@" 2>&1); local rc=$?
  if [ $rc -eq 0 ]; then pass "$name"; else fail "$name" "exit $rc from: $*" "$out"; fi
}

# expect_fail NAME REGEX CMD...: the command exits non-zero and its output matches REGEX.
expect_fail() {
  local name=$1 re=$2; shift 2
  local out; out=$("$@" 2>&1); local rc=$?
  if [ $rc -ne 0 ] && printf '%s' "$out" | grep -Eq -- "$re"; then pass "$name"
  else fail "$name" "exit $rc (wanted non-zero) and output matching /$re/ from: $*" "$out"; fi
}

# expect_match NAME REGEX TEXT: TEXT matches REGEX.
expect_match() {
  if printf '%s' "$3" | grep -Eq -- "$2"; then pass "$1"; else fail "$1" "no match for /$2/ in:" "$3"; fi
}

# check_json NAME JSON JQ-EXPRESSION: JSON is there and the expression is true of it; check NAME
# JQ-EXPRESSION: the same of $out. (jq -e exits 0 on empty input, so empty JSON must fail here.)
check_json() {
  if [ -n "$2" ] && printf '%s' "$2" | jq -e "$3" >/dev/null 2>&1; then pass "$1"; else fail "$1" "jq: $3" "${2:-(no output)}"; fi
}
check() { check_json "$1" "${out:-}" "$2"; }

e2e_done() { exit $(( E2E_FAILS > 0 )); }
