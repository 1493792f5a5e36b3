#!/usr/bin/env bash
# ci/check_layers.sh — owns the layer rule of docs/ARCHITECTURE.md as an executable check: computes the
# folder-level include graph of the sources and fails on every edge that points up the layer list
#   util → {nn, db} → platforms → pipeline → stages → reports → cli → main.c
# (nn and db are one level and must not include each other). A folder may include its own headers and
# those of any folder below it, nothing else.
# Usage: ci/check_layers.sh [ROOT]   (ROOT defaults to the source tree this script is in)
# Scans every .c/.h under the eight folders (subfolders belong to their top folder) and ROOT/main.c.
# Each `#include "P"` resolves the way gcc -I. does: first next to the including file, then from ROOT;
# a name neither finds is an error too (it could hide an edge), except the headers the Makefile
# generates into $(BUILD) (GENERATED below: buildinfo.h, and the cuda backend's fatbin header), which
# belong to the folder that includes them.
# Prints `FILE:LINE: folder X includes P, which is above it` per bad edge and a one-line summary
# `layers: N includes in M files checked, K against the layers` on stdout; exit 0 when K is 0, 1 otherwise, 2 on
# a tree that is not a dynn source tree (a folder missing, no includes found: the check never passes
# vacuously).
set -u
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
FOLDERS="util nn db platforms pipeline stages reports cli"
GENERATED="buildinfo.h nn/cuda_kernels_fatbin.h"

for d in $FOLDERS; do
  if [ ! -d "$root/$d" ]; then
    echo "ci/check_layers.sh: $root/$d: no such folder (ROOT must be a dynn source tree)" >&2; exit 2
  fi
done
[ -f "$root/main.c" ] || { echo "ci/check_layers.sh: $root/main.c: missing (ROOT must be a dynn source tree)" >&2; exit 2; }

cd "$root" || exit 2
# shellcheck disable=SC2086
files=$( { find $FOLDERS -type f \( -name '*.c' -o -name '*.h' \); echo main.c; } | LC_ALL=C sort)
n_files=$(printf '%s\n' "$files" | grep -c .)

# One line per quoted include: FILE<TAB>LINE<TAB>PATH. (Angle-bracket includes are system headers.)
# shellcheck disable=SC2086
includes=$(awk '
  /^[ \t]*#[ \t]*include[ \t]*"/ {
    s = $0; sub(/^[ \t]*#[ \t]*include[ \t]*"/, "", s); sub(/".*/, "", s)
    printf "%s\t%d\t%s\n", FILENAME, FNR, s
  }' $files)

printf '%s\n' "$includes" | awk -F'\t' -v folders="$FOLDERS" -v generated="$GENERATED" -v n_files="$n_files" '
  function level(f) { return (f in lvl) ? lvl[f] : -1 }
  function folder_of(path,   i) { i = index(path, "/"); return i ? substr(path, 1, i - 1) : "." }
  function exists(p,   line, r) { r = (getline line < p); if (r >= 0) close(p); return r >= 0 }
  function dir_of(path,   i) { i = match(path, /\/[^\/]*$/); return i ? substr(path, 1, i) : "" }
  BEGIN {
    n = split("util nn db platforms pipeline stages reports cli", order, " ")
    lvl["util"] = 0; lvl["nn"] = 1; lvl["db"] = 1; lvl["platforms"] = 2; lvl["pipeline"] = 3
    lvl["stages"] = 4; lvl["reports"] = 5; lvl["cli"] = 6; lvl["."] = 7
    split(generated, g, " "); for (i in g) gen[g[i]] = 1
    total = 0; bad = 0
  }
  NF < 3 { next }
  {
    file = $1; line = $2; inc = $3; total++
    src = folder_of(file)
    if (exists(dir_of(file) inc)) target = dir_of(file) inc
    else if (exists(inc)) target = inc
    else if (inc in gen) target = dir_of(file) inc
    else {
      printf "%s:%d: includes \"%s\", which is neither next to it nor under the source root (a typo, or a generated header ci/check_layers.sh does not know)\n", file, line, inc
      bad++; next
    }
    # normalise a/./b and a/x/../b so the folder is the real one
    np = split(target, parts, "/"); k = 0
    for (i = 1; i <= np; i++) {
      if (parts[i] == "." || parts[i] == "") continue
      if (parts[i] == ".." && k > 0) { k--; continue }
      out[++k] = parts[i]
    }
    target = out[1]; for (i = 2; i <= k; i++) target = target "/" out[i]
    dst = folder_of(target)
    if (dst == src) next
    if (level(dst) < 0) {
      printf "%s:%d: folder %s includes %s, which is outside the layers (%s, main.c)\n", file, line, src, target, folders
      bad++; next
    }
    if (level(dst) > level(src)) {
      printf "%s:%d: folder %s includes %s, which is above it\n", file, line, src, target
      bad++
    } else if (level(dst) == level(src)) {
      printf "%s:%d: folder %s includes %s, which is at the same level (nn and db must not include each other)\n", file, line, src, target
      bad++
    }
  }
  END {
    printf "layers: %d includes in %d files checked, %d against the layers\n", total, n_files, bad
    if (total == 0) { print "ci/check_layers.sh: found no #include \"...\" at all: not a dynn source tree?" > "/dev/stderr"; exit 2 }
    exit bad > 0
  }'
