#!/usr/bin/env bash
# tests/e2e/test_platform_plugin.sh — a platform type from a plugin (tests/platforms/plugin_dir.c,
# built here): its description keys are checked with positions, a profile stage on it deploys,
# profiles, stores every point and cleans up; the local platform does the same without copying.
ROOT=${DYNN_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../pipeline/e2e_helpers.sh"
W=$E2E_TMP/plugin; mkdir -p "$W"; cd "$W" || exit 1
DB=$W/.dynn/results.db

build_plugin "$ROOT/tests/platforms/plugin_dir.c" dirplat.so
cp "$ROOT/tests/platforms/fake_dynn.sh" fake-dynn; chmod +x fake-dynn
echo weights > model.bin
mkdir -p platforms
cat > platforms/box.yaml <<YAML
name: box
type: dir
dir: $W/board
binary: ../fake-dynn
clusters: {all: "0-1"}
frequencies_khz: {all: [800000, 1600000]}
YAML
cat > p.yaml <<'YAML'
plugins: [dirplat.so]
stages:
  prof:
    type: profile
    params:
      platform: platforms/box.yaml
      model: model.bin
      subnets: [0, 2]
      mapping: [{cpus: all, threads: 2}]
      frequencies_khz: all
  here:
    type: profile
    params: {platform: {name: here, type: local, binary: fake-dynn}, model: model.bin, batch: [1, 8]}
YAML
out=$("$DYNN" run p.yaml 2>&1); rc=$?
expect_eq "profile on a plugin's platform type" "0 here=FINISHED prof=FINISHED" "$rc $(states)"
expect_eq "plugin platform: every point stored" "box|w0|0-1|2|800000 box|w2|0-1|2|800000 box|w0|0-1|2|1600000 box|w2|0-1|2|1600000" \
  "$(q "SELECT platform||'|'||subnet||'|'||cpus||'|'||threads||'|'||frequency_khz FROM measurements WHERE platform='box' ORDER BY id" | tr '\n' ' ' | sed 's/ $//')"
expect_eq "plugin platform: cleanup removed the copies" "" "$(ls board)"
expect_eq "local platform: batches stored" "here|1 here|8" \
  "$(q "SELECT platform||'|'||batch FROM measurements WHERE platform='here' ORDER BY id" | tr '\n' ' ' | sed 's/ $//')"
expect_eq "second run is cached" "here=CACHED prof=CACHED" "$("$DYNN" run p.yaml > /dev/null 2>&1; states)"

sed 's|^dir: .*|dri: x|' platforms/box.yaml > platforms/typo.yaml
sed 's|platforms/box.yaml|platforms/typo.yaml|' p.yaml > typo.yaml
expect_fail "plugin keys are checked with positions" \
  "platforms/typo.yaml:3:1: unknown key 'dri' in platform 'box' \(dir\) \(did you mean 'dir'\?\)" "$DYNN" validate typo.yaml
sed 's|^dir: .*|binary: ../fake-dynn|; 3d' platforms/box.yaml > platforms/nodir.yaml
sed 's|platforms/box.yaml|platforms/nodir.yaml|' p.yaml > nodir.yaml
expect_fail "the plugin's validate runs" "platforms/nodir.yaml:1:1: platform 'box' \(dir\) needs 'dir'" "$DYNN" validate nodir.yaml
sed '/^plugins:/d' p.yaml > noplugin.yaml
expect_fail "without the plugin the type is unknown" "platforms/box.yaml:2:7: platform 'box': unknown type 'dir'" \
  "$DYNN" validate noplugin.yaml
sed 's|frequencies_khz: all|frequencies_khz: all\n      batch: [0]|' p.yaml > badbatch.yaml
expect_fail "stage params are checked with positions" "badbatch.yaml:11:15: stage 'prof': 'batch' must be between 1" \
  "$DYNN" validate badbatch.yaml
sed 's|model: model.bin|model: nothing.bin|' p.yaml > nomodel.yaml
out=$("$DYNN" run nomodel.yaml 2>&1)
expect_match "a missing model names what was looked for" "model 'nothing.bin': no artifact of that name among the 0 inputs" \
  "$(q "SELECT error FROM stages WHERE name='prof' AND run_id=(SELECT max(id) FROM runs)")"

# a sweep that fails part-way on the local platform: what was measured is kept with the FAILED stage
cat > partial.yaml <<'YAML'
stages:
  partial:
    type: profile
    params: {platform: {name: here, type: local, binary: fake-dynn}, model: model.bin, subnets: [0, 8, 9, 1]}
YAML
out=$("$DYNN" run partial.yaml 2>&1); rc=$?
expect_eq "a failing point fails the stage" "1 partial=FAILED" "$rc $(states)"
expect_match "the error names the point and what was kept" \
  "sweep point 2 of 4 \(subnet 8, .*\) failed: local 'here': dynn profile exited with status 1: fake dynn: stopped part-way; kept the 2 measurements taken before" \
  "$(q "SELECT error FROM stages WHERE run_id=(SELECT max(id) FROM runs)")"
expect_eq "earlier points and the partial output's points are in the database" "w0 w8" \
  "$(q "SELECT group_concat(subnet, ' ') FROM measurements m JOIN stages s ON s.id=m.stage_id WHERE s.run_id=(SELECT max(id) FROM runs)")"
sed 's/subnets: \[0, 8, 9, 1\]/subnets: [0, 9]/' partial.yaml > crash.yaml
out=$("$DYNN" run crash.yaml 2>&1)
expect_match "a point without output says why" \
  "sweep point 2 of 2 \(subnet 9, .*\) failed: local 'here': dynn profile exited with status 3: fake dynn: subnet 9 fails; kept the 1 measurement taken before" \
  "$(q "SELECT error FROM stages WHERE run_id=(SELECT max(id) FROM runs)")"
e2e_done
