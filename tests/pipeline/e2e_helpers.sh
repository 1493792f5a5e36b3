# tests/pipeline/e2e_helpers.sh — helpers for the pipeline end-to-end tests (sourced after
# tests/e2e/lib.sh). Each test works in its own directory under $E2E_TMP with its own database.

# q SQL: rows of a read-only query as CSV without the header line.
q() { "$DYNN" query --db "$DB" --csv "$1" | tail -n +2; }

# states: "name=STATUS" of every stage of the last run, sorted by name, on one line.
states() {
  q "SELECT name || '=' || status FROM stages WHERE run_id = (SELECT max(id) FROM runs) ORDER BY name" | tr '\n' ' ' | sed 's/ $//'
}

# alive PID: the process exists and is not a zombie.
alive() {
  local s; s=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
  [ -n "$s" ] && [ "${s#Z}" = "$s" ]
}

# wait_for FILE [TENTHS]: until FILE exists and is not empty (default 10 s).
wait_for() {
  local n=${2:-100}
  while [ $n -gt 0 ]; do [ -s "$1" ] && return 0; sleep 0.1; n=$((n - 1)); done
  return 1
}

# expect_eq NAME WANT GOT
expect_eq() {
  if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "want: $2" "got:  $3"; fi
}

# build_plugin SRC OUT: compiles a plugin (needs $ROOT) as dynn's headers expect; PASS/FAIL "plugin builds",
# and ends the test when it does not build.
build_plugin() {
  if ! ${CC:-cc} -shared -fPIC -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -I"$ROOT" "$1" -o "$2" 2> cc.out; then
    fail "plugin builds" "$(cat cc.out)"; e2e_done
  fi
  pass "plugin builds"
}
