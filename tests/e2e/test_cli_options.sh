#!/usr/bin/env bash
# tests/e2e/test_cli_options.sh — every `dynn` command (as `dynn --help` lists them) parses its options
# through one option table (util/cliopt.h): `--help` exits 0 with a usage line naming the command, a
# misspelt real option (the first long option of its --help with two letters swapped) exits 2 with
# one line that says "did you mean" it, and an unknown `--zzzz-nothing` exits 2 with one line naming it.
. "$(dirname "$0")/lib.sh"

cmds=$("$DYNN" --help | sed -n 's/^  \([a-z][a-z-]*\) .*/\1/p')
n=$(printf '%s\n' "$cmds" | grep -c .)
if [ "$n" -ge 17 ]; then pass "dynn --help lists the commands ($n)"
else fail "dynn --help lists the commands" "found $n:" "$cmds"; fi

# one_line_exit2 NAME REGEX CMD...: exit 2, exactly one line of output, matching REGEX.
one_line_exit2() {
  local name=$1 re=$2; shift 2
  local out; out=$("$@" 2>&1); local rc=$?
  local lines; lines=$(printf '%s\n' "$out" | grep -c .)
  if [ $rc -eq 2 ] && [ "$lines" -eq 1 ] && printf '%s' "$out" | grep -Eq -- "$re"; then pass "$name"
  else fail "$name" "exit $rc (wanted 2), $lines lines (wanted 1), output matching /$re/ from: $*" "$out"; fi
}

for cmd in $cmds; do
  help=$("$DYNN" "$cmd" --help 2>&1); rc=$?
  if [ $rc -eq 0 ] && printf '%s\n' "$help" | grep -q "^usage: dynn $cmd\b"; then pass "$cmd --help"
  else fail "$cmd --help" "exit $rc (wanted 0) and a line 'usage: dynn $cmd ...'" "$help"; fi

  opt=$(printf '%s\n' "$help" | sed -n 's/^  \(-[a-zA-Z], \)\{0,1\}--\([a-z][a-z0-9-]*\).*/\2/p' | grep -vx help | head -1)
  if [ -z "$opt" ]; then
    fail "$cmd: --help lists its options" "no line '  --name ...' in:" "$help"
  else
    bad="${opt:1:1}${opt:0:1}${opt:2}"
    [ "$bad" = "$opt" ] && bad="${opt:0:1}${opt:2:1}${opt:1:1}${opt:3}"
    one_line_exit2 "$cmd --$bad suggests --$opt" "^dynn $cmd: unknown option '--$bad' \(did you mean '--$opt'\?\)" \
      "$DYNN" "$cmd" "--$bad"
  fi
  one_line_exit2 "$cmd --zzzz-nothing refused" "^dynn $cmd: unknown option '--zzzz-nothing'" "$DYNN" "$cmd" --zzzz-nothing
done

# The same through --opt=value, and a value a flag does not take.
one_line_exit2 "runs --limti=3 suggests --limit" "unknown option '--limti' \(did you mean '--limit'\?\)" "$DYNN" runs --limti=3
one_line_exit2 "version --json=1 refused" "^dynn version: --json takes no value" "$DYNN" version --json=1
one_line_exit2 "eval --batch without its value" "^dynn eval: --batch needs a value" "$DYNN" eval m.dnn --batch
e2e_done
