#!/usr/bin/env bash
# tests/e2e/test_board_yaml.sh — board files and the experiment's `platforms:` end to end: a profile
# stage names a board declared under `platforms:` (inline, and `file:`), both `local` so they run
# here, and its measurement rows name that board; the board file reaches the profiler as it is (no
# reduced copy); unknown and duplicate names and bad declarations are refused with FILE:LINE:COL;
# every shipped board file is accepted by `dynn profile --platform`, and an ssh board that cannot be
# reached fails at connecting, not at parsing.
ROOT=${DYNN_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../pipeline/e2e_helpers.sh"
W=$E2E_TMP/boards; mkdir -p "$W/boards" "$W/seen"; cd "$W" || exit 1
DB=$W/.dynn/results.db

"$DYNN" train --model resnet8 --width 0.25 --method uniform --widths 0.5,1 --epochs 1 --batch 64 --train-limit 128 \
  --test-limit 32 --threads 1 --seed 1 --out "$W/m.dnn" --quiet >/dev/null 2>&1 || { fail "train a tiny model"; e2e_done; }
# the profiler the boards deploy: this dynn, keeping a copy of the board file it is given
cat > rec-dynn <<SH
#!/bin/sh
prev=
for a in "\$@"; do [ "\$prev" = --platform ] && cp "\$a" "$W/seen/\$(date +%s%N).yaml"; prev=\$a; done
exec "$DYNN" "\$@"
SH
chmod +x rec-dynn
cat > boards/filed.yaml <<YAML
# a board file next to the experiment
name: filed
type: local
binary: ../rec-dynn
clusters: {first: "0"}
YAML
cat > e.yaml <<'YAML'
platforms:
  - {name: inline-box, type: local, binary: rec-dynn, clusters: {one: "0"}, description: declared inline}
  - {file: boards/filed.yaml}
  - local
defaults:
  profile: {model: m.dnn, warmup: 0, repeat: 2, min_time_ms: 0}
stages:
  p_inline:
    type: profile
    params: {platform: inline-box, subnets: [0], batch: [1, 2], mapping: [{cpus: one, threads: 1}]}
  p_file:
    type: profile
    params: {platform: filed, subnets: [1], mapping: [{cpus: first, threads: 1}]}
YAML
out=$("$DYNN" run e.yaml 2>&1); rc=$?
expect_eq "profile stages on declared boards finish" "0 p_file=FINISHED p_inline=FINISHED" "$rc $(states)"
expect_eq "measurement rows name the declared boards" "filed|w1.00|0|1 inline-box|w0.50|0|1 inline-box|w0.50|0|2" \
  "$(q "SELECT platform||'|'||subnet||'|'||cpus||'|'||batch FROM measurements ORDER BY platform, batch" | tr '\n' ' ' | sed 's/ $//')"
# the profiler got the board file itself: the `file:` board byte for byte, the inline one as its mapping
n_same=0; n_inline=0
for f in seen/*.yaml; do
  cmp -s "$f" boards/filed.yaml && n_same=$((n_same + 1))
  grep -q '"description":"declared inline"' "$f" && n_inline=$((n_inline + 1))
done
expect_eq "the file: board reached the profiler as it is (1 point)" "1" "$n_same"
expect_eq "the inline board reached the profiler whole (2 points)" "2" "$n_inline"
out=$("$DYNN" run e.yaml 2>&1)
expect_eq "a second run is cached" "p_file=CACHED p_inline=CACHED" "$(states)"
sed 's/description: declared inline/description: changed/' e.yaml > e2.yaml
out=$("$DYNN" run e2.yaml 2>&1)
expect_eq "changing the declared board reruns the stage that names it" "p_file=CACHED p_inline=FINISHED" "$(states)"

# refusals, each one line with the experiment file's position
bad() { # NAME REGEX YAML: dynn validate refuses it
  printf '%s\n' "$3" > bad.yaml
  expect_fail "$1" "$2" "$DYNN" validate bad.yaml
}
STAGE='stages:
  p:
    type: profile
    params: {platform: inline-bx, model: m.dnn}'
bad "unknown platform name: position, did-you-mean, declared and built-in names" \
  "^dynn validate: bad.yaml:7:24: stage 'p': unknown platform 'inline-bx' \(did you mean 'inline-box'\?\) \(declared: inline-box, other; built in: jetson-nano, local, odroid-xu3, raspberry-pi-4\)$" \
  "platforms:
  - {name: inline-box, type: local}
  - {name: other, type: local}
$STAGE"
bad "duplicate platform name" "^dynn validate: bad.yaml:3:12: duplicate platform 'inline-box' \(first at 2:12\)$" \
  "platforms:
  - {name: inline-box, type: local}
  - {name: inline-box, type: ssh, host: h}
$STAGE"
bad "duplicate through a file: board" "^dynn validate: bad.yaml:3:12: duplicate platform 'filed' \(first at 2:5\)$" \
  "platforms:
  - filed
  - {file: boards/filed.yaml}
$STAGE"
bad "a declared board is checked where it is declared" \
  "^dynn validate: bad.yaml:2:44: unknown key 'hots' in platform 'inline-box' \(ssh\) \(did you mean 'host'\?\)$" \
  "platforms:
  - {name: inline-box, type: ssh, host: h, hots: x}
$STAGE"
bad "a missing board file" "^dynn validate: bad.yaml:2:12: platform file 'boards/none.yaml' does not exist" \
  "platforms:
  - {file: boards/none.yaml}
$STAGE"
bad "a file: board whose name differs" "^dynn validate: bad.yaml:2:12: platform 'inline-box': boards/filed.yaml names its board 'filed'" \
  "platforms:
  - {name: inline-box, file: boards/filed.yaml}
$STAGE"

# a board's `binary` that is not there is refused before anything is deployed, saying how to build it
grep -v '^binary:' "$ROOT/experiments/platforms/odroid-xu3.yaml" > xu3-nobin.yaml
echo 'binary: no-such-dynn' >> xu3-nobin.yaml
expect_fail "a board's missing binary: refused, saying how to build it" \
  "^dynn profile: platform 'odroid-xu3': its binary $W/no-such-dynn is not an executable file \(No such file or directory\): build dynn for armv7l \(make TARGET=armhf\) or change 'binary:'$" \
  "$DYNN" profile m.dnn --platform xu3-nobin.yaml --subnets 0

# every shipped board file is accepted by `dynn profile --platform` as it is; the local one
# profiles here, an ssh board stops before measuring with a message that is not about the file: it
# has no binary for its arch, or (a copy where its relative `binary:` leads nowhere, so that no ssh is
# tried) the binary is not there; either way the message says how to build one
mkdir -p shipped/a/b
for f in "$ROOT"/experiments/platforms/*.yaml; do
  name=$(basename "$f" .yaml)
  if grep -q '^type: ssh' "$f"; then
    cp "$f" shipped/a/b/
    out=$("$DYNN" profile m.dnn --platform "shipped/a/b/$name.yaml" --subnets 0 2>&1); rc=$?
    if [ $rc -ne 0 ] && ! printf '%s' "$out" | grep -q "$name.yaml:[0-9]*:[0-9]*:" \
       && printf '%s' "$out" | grep -Eq "(give the platform a 'binary:'|is not an executable file).*make TARGET=(aarch64|armhf)"; then
      pass "shipped board $name: accepted, stops at deploying"
    else fail "shipped board $name" "exit $rc" "$out"; fi
    # with a profiler for it (binary) and no retries, it fails at connecting
    { grep -v '^binary:' "$f"; printf 'binary: %s\nretries: 0\nconnect_timeout: 2\n' "$DYNN"; } > "$name-here.yaml"
    out=$("$DYNN" profile m.dnn --platform "$name-here.yaml" --subnets 0 2>&1); rc=$?
    expect_match "shipped board $name: fails at connecting ($rc)" \
      "dynn profile: ssh [a-z]+@[a-z0-9.-]+:22 \([a-z0-9_]+\): creating the work directory: board unreachable" "$rc $out"
  else
    out=$("$DYNN" profile m.dnn --platform "$f" --subnets 0 --warmup 0 --repeat 1 --min-time-ms 0 --json 2>&1); rc=$?
    if [ $rc -eq 0 ] && printf '%s' "$out" | jq -e '.complete == true and (.results | length) == 1' >/dev/null 2>&1; then
      pass "shipped board $name: profiled here"
    else fail "shipped board $name" "exit $rc" "$out"; fi
  fi
done
e2e_done
