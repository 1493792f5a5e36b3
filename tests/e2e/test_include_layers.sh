#!/usr/bin/env bash
# tests/e2e/test_include_layers.sh — the layer rule (docs/ARCHITECTURE.md) holds on this source tree:
# ci/check_layers.sh finds no include that points up util → {nn, db} → platforms → pipeline → stages →
# reports → cli. First the checker itself is shown to catch each kind of bad edge on synthetic trees,
# so the last check cannot pass vacuously.
source "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CHECK="$ROOT/ci/check_layers.sh"

# A clean synthetic tree: every folder includes its own headers and the ones below it.
mk_tree() {
  local t=$1 d
  for d in util nn db platforms pipeline stages reports cli; do
    mkdir -p "$t/$d"; printf '#pragma once\n' > "$t/$d/$d.h"
  done
  printf '#include "util/util.h"\n' > "$t/nn/a.c"
  printf '#include "util/util.h"\n#include "db.h"\n' > "$t/db/a.c"
  printf '#include "nn/nn.h"\n#include "db/db.h"\n' > "$t/platforms/a.c"
  printf '#include "platforms/platforms.h"\n' > "$t/pipeline/a.c"
  printf '#include "pipeline/pipeline.h"\n' > "$t/stages/a.c"
  printf '#include "../stages/stages.h"\n' > "$t/reports/a.c"
  printf '#include "reports/reports.h"\n#include "buildinfo.h"\n' > "$t/cli/a.c"
  printf '#include <stdio.h>\n#include "cli/cli.h"\n' > "$t/main.c"
}

t="$E2E_TMP/clean"; mk_tree "$t"
out=$("$CHECK" "$t" 2>&1); rc=$?
if [ $rc -eq 0 ] && [ "$out" = "layers: 11 includes in 16 files checked, 0 against the layers" ]; then
  pass synthetic_clean_tree_passes
else fail synthetic_clean_tree_passes "exit $rc" "$out"; fi

# An upward edge in a header, on a known line; one through ../; nn and db including each other.
t="$E2E_TMP/up"; mk_tree "$t"
printf '#pragma once\n\n#include "stages/stages.h"\n' > "$t/db/db.h"
printf '#include "util/util.h"\n#include "../cli/cli.h"\n' > "$t/nn/a.c"
printf '#include "db/db.h"\n' > "$t/nn/b.c"
out=$("$CHECK" "$t" 2>&1); rc=$?
expect_match synthetic_up_exit "^1$" "$rc"
expect_match synthetic_up_header_named "db/db.h:3: folder db includes stages/stages.h, which is above it" "$out"
expect_match synthetic_up_dotdot_named "nn/a.c:2: folder nn includes cli/cli.h, which is above it" "$out"
expect_match synthetic_same_level_named "nn/b.c:1: folder nn includes db/db.h, which is at the same level" "$out"
expect_match synthetic_up_counted "3 against the layers" "$out"

# An include that resolves nowhere could hide an edge: it fails too.
t="$E2E_TMP/typo"; mk_tree "$t"
printf '#include "pipline/pipeline.h"\n' > "$t/stages/b.c"
expect_fail synthetic_unresolved_fails 'stages/b.c:1: includes "pipline/pipeline.h", which is neither' "$CHECK" "$t"

# Not a source tree: a folder missing, or no includes at all, is an error, never a pass.
t="$E2E_TMP/nofolder"; mk_tree "$t"; rm -r "$t/reports"
out=$("$CHECK" "$t" 2>&1); rc=$?
if [ $rc -eq 2 ] && printf '%s' "$out" | grep -q "reports: no such folder"; then pass synthetic_missing_folder_refused
else fail synthetic_missing_folder_refused "exit $rc" "$out"; fi
t="$E2E_TMP/empty"; mk_tree "$t"; find "$t" -name '*.c' -exec sh -c ': > "$1"' _ {} \;
out=$("$CHECK" "$t" 2>&1); rc=$?
if [ $rc -eq 2 ] && printf '%s' "$out" | grep -q "found no #include"; then pass synthetic_no_includes_refused
else fail synthetic_no_includes_refused "exit $rc" "$out"; fi

# This tree: no edge against the layers, and a sane number of includes was looked at.
out=$("$CHECK" "$ROOT" 2>&1); rc=$?
if [ $rc -eq 0 ]; then pass tree_has_no_upward_include
else fail tree_has_no_upward_include "exit $rc" "$out"; fi
n=$(printf '%s' "$out" | sed -n 's/^layers: \([0-9]*\) includes.*/\1/p')
if [ "${n:-0}" -ge 300 ]; then pass tree_includes_counted
else fail tree_includes_counted "only ${n:-0} includes found (expected hundreds)" "$out"; fi

e2e_done
