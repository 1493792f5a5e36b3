#!/usr/bin/env bash
# tests/e2e/test_report_dest.sh — where a report may be written (`dynn report -o DIR` and the report
# stage's `out`): never the state directory (under any name, through a symlink, the one --db names),
# the working directory or anything containing them, nothing inside the state directory, nothing
# reached through a symlink leading out of the working directory, no user's directory; a directory
# dynn wrote earlier (it has .dynn-report) is replaced, a report that fails leaves it as it was, and
# the removal of the old report does not cross a mount point. After every refusal the database, the
# store and the logs are checked intact.
ROOT=${DYNN_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../pipeline/e2e_helpers.sh"
. "$(dirname "$0")/../pipeline/report_fixture.sh"
BASE=$E2E_TMP/dest; W=$BASE/work; OUTSIDE=$E2E_TMP/outside

# A working directory with a results database (no measurements: a quick report), a store object, a
# log, a user's directory, symlinks, and a directory outside holding a user's file.
setup() {
  cd "$E2E_TMP" && rm -rf "$BASE" "$OUTSIDE" && mkdir -p "$W/.dynn/store/ab" "$W/.dynn/logs" "$OUTSIDE/sub" || exit 1
  cd "$W" || exit 1
  make_report_db .dynn/results.db && sqlite3 .dynn/results.db "DELETE FROM latency_samples; DELETE FROM conditions; DELETE FROM measurement_results;" \
    || { fail "fixture database" "sqlite3 failed"; e2e_done; }
  echo object > .dynn/store/ab/cdef; echo log > .dynn/logs/run.log
  echo mine > "$OUTSIDE/sub/precious.txt"
  mkdir -p sub mydata && echo notes > mydata/notes.txt
  ln -s .dynn st; ln -s . here; ln -s .. up; ln -s "$OUTSIDE" away
}
# What must survive: the database's content, the store, the logs, the user's files.
state() {
  (cd "$W" 2>/dev/null && sqlite3 .dynn/results.db .dump 2>&1 | md5sum && cat .dynn/store/ab/cdef .dynn/logs/run.log mydata/notes.txt
   cat "$OUTSIDE/sub/precious.txt") 2>&1
}
# refused NAME REGEX ARGS...: `dynn report last ARGS` exits non-zero with a message matching REGEX,
# and everything in state() is as before (else the scene is rebuilt for the next check).
refused() {
  local name=$1 re=$2 before; shift 2
  before=$(state)
  expect_fail "$name" "$re" "$DYNN" report last "$@"
  cd "$W" 2>/dev/null || true
  if "$DYNN" runs >/dev/null 2>&1 && [ "$(state)" = "$before" ]; then pass "$name: nothing lost"
  else fail "$name: nothing lost" "dynn runs: $("$DYNN" runs 2>&1 | head -2)" "$(state)"; setup; fi
}
setup

# ---- dynn report -o: the state directory and the working directory under any name ----
refused "-o .dynn" "'.dynn' is the dynn state directory" -o .dynn
refused "-o ./.dynn/" "'./.dynn/' is the dynn state directory" -o ./.dynn/
refused "-o sub/../.dynn" "'sub/../.dynn' may not contain '..'" -o sub/../.dynn
refused "-o st (a symlink to .dynn)" "'st' is the dynn state directory" -o st
refused "-o st/ (a symlink to .dynn, trailing slash)" "'st/' is the dynn state directory" -o st/
refused "-o here/.dynn (through a symlink to .)" "'here/.dynn' is the dynn state directory" -o here/.dynn
refused "-o .dynn/store (inside the state directory)" "'.dynn/store' is inside the dynn state directory" -o .dynn/store
refused "-o .dynn/new (inside the state directory)" "'.dynn/new' is inside the dynn state directory" -o .dynn/new
refused "-o ." "'\.' is the working directory" -o .
refused "-o ./" "'\./' is the working directory" -o ./
refused "-o here (a symlink to .)" "'here' is the working directory" -o here
refused "-o up/work (the working directory through a symlink)" "'up/work' is the working directory" -o up/work
refused "-o up (a symlink to the parent)" "'up' contains the working directory" -o up
refused "-o \$PWD (absolute)" "must be relative to the working directory" -o "$W"
refused "-o the parent, absolute" "must be relative to the working directory" -o "$BASE"
refused "-o away/sub (a symlink leading out)" "'away/sub' leads out of the working directory through a symlink" -o away/sub
refused "-o away/new (a symlink leading out)" "'away/new' leads out of the working directory through a symlink" -o away/new
[ ! -e "$OUTSIDE/new" ] && pass "nothing written outside" || fail "nothing written outside" "$(ls -la "$OUTSIDE")"

# ---- the state directory named by --db ----
mkdir -p other && cp .dynn/results.db other/r.db && echo object > other/keep
refused "--db other/r.db -o other" "'other' is the dynn state directory" --db other/r.db -o other
refused "--db other/r.db -o other/plots" "'other/plots' is inside the dynn state directory" --db other/r.db -o other/plots
[ -s other/keep ] && pass "--db's directory intact" || fail "--db's directory intact" "$(ls -la other)"
# the state directory is the working directory itself: only dynn's own entries in it are refused
cp .dynn/results.db r.db
refused "--db r.db -o store" "'store' is dynn's store" --db r.db -o store
refused "--db r.db -o logs/x" "'logs/x' is inside dynn's logs" --db r.db -o logs/x
expect_ok "--db r.db -o rep (the state directory is the working directory)" "$DYNN" report last --db r.db -o rep

# ---- existing directories ----
refused "a user's directory is not replaced" "'mydata' exists, is not empty and is not a dynn report \(no \.dynn-report\); remove it or choose another directory" -o mydata
touch afile
refused "a file is not replaced" "'afile' exists and is not a directory" -o afile
mkdir empty
expect_ok "an empty directory may be used" "$DYNN" report last -o empty
[ -s empty/report.md ] && [ -f empty/.dynn-report ] && pass "  ... and holds the report and its marker" || fail "  ... and holds the report and its marker" "$(ls -A empty)"
expect_ok "a report" "$DYNN" report last -o rep
expect_match "the report directory has the marker" "^dynn-report 1" "$(cat rep/.dynn-report 2>&1)"
echo stale > rep/stale
expect_ok "a directory dynn wrote is replaced" "$DYNN" report last -o rep
[ ! -e rep/stale ] && [ -s rep/report.md ] && [ -f rep/.dynn-report ] && pass "  ... as a whole" || fail "  ... as a whole" "$(ls -A rep)"
[ -z "$(ls -d rep.* 2>/dev/null)" ] && pass "no temporary directory is left" || fail "no temporary directory is left" "$(ls -A)"

# a report that fails midway (gnuplot fails, after the report's directory and data files were made)
# leaves the previous one as it was
echo stale > rep/stale
printf '#!/bin/sh\necho broken >&2\nexit 1\n' > gp.sh && chmod +x gp.sh
sum=$(cat rep/report.md rep/.dynn-report rep/stale 2>&1 | md5sum)
expect_fail "a report that fails midway fails" "gnuplot failed" env DYNN_GNUPLOT="$W/gp.sh" "$DYNN" report last -o rep
expect_eq "  ... the previous report is intact" "$sum" "$(cat rep/report.md rep/.dynn-report rep/stale 2>&1 | md5sum)"
[ -z "$(ls -d rep.* 2>/dev/null)" ] && pass "  ... and no temporary directory is left" || fail "  ... and no temporary directory is left" "$(ls -A)"

# removing the old report crosses neither a symlink nor a mount point
ln -s "$OUTSIDE" rep/link
expect_ok "a report whose old directory holds a symlink" "$DYNN" report last -o rep
[ -s "$OUTSIDE/sub/precious.txt" ] && [ ! -e rep/link ] && pass "  ... the symlink is removed, not followed" || fail "  ... the symlink is removed, not followed" "$(ls -la "$OUTSIDE/sub" rep)"
if unshare -m true 2>/dev/null; then
  mkdir rep/mnt
  out=$(unshare -m sh -c 'mount -t tmpfs dynn-test rep/mnt && echo mine > rep/mnt/f && "$1" report last -o rep; echo "rc=$?"; echo "f=$(cat rep*/mnt/f 2>/dev/null)"' sh "$DYNN" 2>&1)
  expect_match "a mount point inside the old report is not crossed" "^f=mine" "$(printf '%s' "$out" | tail -1)"
  expect_match "  ... the report says so" "rc=1" "$out"
  expect_match "  ... naming the mount point" "rep/mnt is a mount point" "$out"
  rm -rf rep.* 2>/dev/null
  # a bind mount (same device) of the directory outside
  mkdir -p rep/b
  out=$(unshare -m sh -c 'mount --bind "$2" rep/b && "$1" report last -o rep; echo "rc=$?"' sh "$DYNN" "$OUTSIDE" 2>&1)
  expect_match "a bind mount inside the old report is not crossed" "rep/b is a mount point.*rc=1" "$(printf '%s' "$out" | tr '\n' ' ')"
  [ -s "$OUTSIDE/sub/precious.txt" ] && pass "  ... the files behind it are intact" || fail "  ... the files behind it are intact" "$(ls -laR "$OUTSIDE")"
  rm -rf rep.* 2>/dev/null
else
  skip "a mount point inside the old report is not crossed" "needs unshare -m (root)"
fi

# ---- the report stage: `dynn validate` refuses with FILE:LINE:COL ----
bad_out() { # bad_out NAME OUT REGEX
  printf 'stages:\n  r: {type: report, params: {out: %s}}\n' "$2" > bad.yaml
  expect_fail "validate: $1" "bad\.yaml:2:35: stage 'r': 'out' $3" "$DYNN" validate bad.yaml
}
bad_out "out: .dynn" .dynn "'\.dynn' is the dynn state directory"
bad_out "out: ./.dynn/" "./.dynn/" "'\./\.dynn/' is the dynn state directory"
bad_out "out: st (a symlink to .dynn)" st "'st' is the dynn state directory"
bad_out "out: .dynn/store" .dynn/store "'\.dynn/store' is inside the dynn state directory"
bad_out "out: ." . "'\.' is the working directory"
bad_out "out: here" here "'here' is the working directory"
bad_out "out: up" up "'up' contains the working directory"
bad_out "out: away/x" away/x "'away/x' leads out of the working directory through a symlink"
bad_out "out: mydata" mydata "'mydata' exists, is not empty and is not a dynn report"
printf 'stages:\n  r: {type: report, params: {out: rep}}\n' > good.yaml
expect_ok "validate: out: rep (a report dynn wrote)" "$DYNN" validate good.yaml
[ -s .dynn/store/ab/cdef ] && "$DYNN" runs >/dev/null 2>&1 && pass "validate touched nothing" || fail "validate touched nothing" "$(ls -la .dynn)"

# ---- the report stage at run time: the state directory given by --db ----
# `fresh` does not exist when the file is validated; `dynn run --db fresh/r.db` then makes it the state
# directory, and the stage itself must refuse it.
build_plugin "$ROOT/tests/pipeline/plugin_fake_results.c" fake.so
cat > run.yaml <<'YAML'
plugins: [fake.so]
stages:
  train: {type: fake_train, params: {method: uniform, accuracy: "0.80,0.90"}}
  report: {type: report, needs: train, params: {out: fresh}}
YAML
DB=$W/fresh/r.db
"$DYNN" run run.yaml --db fresh/r.db >/dev/null 2>&1
expect_eq "a report stage writing into --db's directory fails" "1 report=FAILED train=FINISHED" "$? $(states)"
expect_match "  ... saying why" "'fresh' is the dynn state directory" "$(q "SELECT error FROM stages WHERE name = 'report'")"
[ -s fresh/r.db ] && [ -d fresh/logs ] && [ ! -e fresh/.dynn-report ] && pass "  ... and the state directory is intact" || fail "  ... and the state directory is intact" "$(ls -la fresh)"
e2e_done
