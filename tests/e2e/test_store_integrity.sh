#!/usr/bin/env bash
# tests/e2e/test_store_integrity.sh — store objects are verified against their hash when reused: a
# same-size in-place corruption of a cached artifact is a cache miss with a warning (stderr and the
# stage's log), the object goes to the quarantine, the stage re-runs and its users get the good
# bytes (an exec chain, and a train model read by a profile stage); `dynn fsck` reports corrupt
# objects, artifact rows without a sound object, runs of dead runners and temp files of dead
# writers (exit 1), `--repair` fixes them without deleting results rows, and a second fsck is clean;
# a temp file whose writer still runs is kept.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../pipeline/e2e_helpers.sh"
W=$E2E_TMP/integrity; mkdir -p "$W"; cd "$W" || exit 1
DB=$W/.dynn/results.db

# obj NAME: the store path of the newest artifact called NAME
obj() { echo ".dynn/$(q "SELECT path FROM artifacts WHERE name = '$1' ORDER BY id DESC LIMIT 1")"; }
# corrupt FILE OFFSET: changes one byte in place, keeping the size (the store's files are 0444)
corrupt() {
  local b; b=$(dd if="$1" bs=1 skip="$2" count=1 2>/dev/null | od -An -tu1 | tr -d ' ')
  chmod u+w "$1"
  printf "\\$(printf %03o $(( (b + 1) % 256 )))" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}
# sound FILE: the file's SHA-256 is its store name
sound() { [ "$(sha256sum < "$1" | cut -c1-64)" = "$(basename "$(dirname "$1")")$(basename "$1")" ]; }

cat > chain.yaml <<'YAML'
name: integrity
stages:
  gen:
    type: exec
    params: {cmd: [sh, -c, 'echo gen >> gen.runs; echo "good bytes from gen" > g.txt'], outs: [g.txt]}
  use:
    type: exec
    needs: gen
    params: {cmd: [sh, -c, 'echo "use read: $(cat g.txt)" > used.txt'], outs: [used.txt]}
YAML
expect_ok "first run" "$DYNN" run chain.yaml
gen_obj=$(obj g.txt); hash=$(basename "$(dirname "$gen_obj")")$(basename "$gen_obj")
size=$(stat -c %s "$gen_obj")
corrupt "$gen_obj" 0
expect_eq "the corruption keeps the size" "$size" "$(stat -c %s "$gen_obj")"
sound "$gen_obj" && fail "the object is corrupt" || pass "the object is corrupt"
cp "$gen_obj" corrupt.copy
rm -f g.txt # a fresh checkout: the cached stage's file would come back from the store

# --- the runner: a miss with a warning, quarantine, re-run, good bytes downstream ---
out=$("$DYNN" run chain.yaml --force '^use$' 2>&1); rc=$?
expect_eq "second run exits 0" 0 "$rc"
expect_eq "the corrupt entry is a miss: gen runs again" "gen=FINISHED use=FINISHED" "$(states)"
expect_eq "gen ran twice" 2 "$(wc -l < gen.runs | tr -d ' ')"
expect_match "one-line warning naming the stage and the object" \
  "^dynn run: warning: stage 'gen': artifact 'g.txt' \(${gen_obj#.dynn/}\): content hashes to [0-9a-f]{16}…, not to its name; moved to $W/.dynn/quarantine/$hash\.[0-9]{8}T[0-9]{6}Z\.[0-9]+; it runs again$" "$out"
log=$(q "SELECT log FROM stages WHERE name = 'gen' ORDER BY id DESC LIMIT 1")
expect_match "the warning is in the stage's log too" "warning: stage 'gen': artifact 'g.txt'" "$(cat "$log" 2>&1)"
qfile=$(ls .dynn/quarantine/"$hash".* 2>/dev/null | head -1)
[ -n "$qfile" ] && pass "the corrupt object is in the quarantine, named by the hash it claimed" \
  || fail "the corrupt object is in the quarantine, named by the hash it claimed" "$(ls -la .dynn/quarantine 2>&1)"
[ -n "$qfile" ] && cmp -s "$qfile" corrupt.copy && pass "the quarantine kept the corrupt bytes" \
  || fail "the quarantine kept the corrupt bytes" "$(ls -la .dynn/quarantine 2>&1)"
sound "$gen_obj" && pass "a good copy is stored again" || fail "a good copy is stored again"
expect_eq "the workspace file has the good bytes" "good bytes from gen" "$(cat g.txt)"
expect_eq "the downstream stage got the good bytes" "use read: good bytes from gen" "$(cat used.txt)"
out=$("$DYNN" run chain.yaml 2>&1)
expect_eq "then everything is cached again" "gen=CACHED use=CACHED" "$(states)"
case $out in *warning*) fail "no warning once the store is sound" "$out" ;; *) pass "no warning once the store is sound" ;; esac

# --- a model: the train stage re-runs instead of every later run failing at profile ---
cat > model.yaml <<'YAML'
name: modelint
seed: 3
stages:
  train:
    type: train
    threads: 1
    params: {model: resnet8, width: 0.25, method: uniform, widths: [0.5, 1], epochs: 1, batch: 64, train_limit: 256, test_limit: 128}
  profile:
    type: profile
    needs: train
    threads: 1
    params: {platform: local, model: model, warmup: 1, repeat: 2, min_time_ms: 1}
YAML
expect_ok "model run" "$DYNN" run model.yaml
model_obj=$(obj model)
corrupt "$model_obj" $(( $(stat -c %s "$model_obj") - 100 )) # a byte of the last tensor's data
out=$("$DYNN" run model.yaml --force '^profile$' 2>&1); rc=$?
expect_eq "the profile stage reads a sound model" 0 "$rc"
expect_eq "train re-ran, profile measured" "profile=FINISHED train=FINISHED" "$(states)"
expect_match "warned about the model" "warning: stage 'train': artifact 'model' \(${model_obj#.dynn/}\): content hashes to" "$out"
sound "$(obj model)" && pass "the new model object is sound" || fail "the new model object is sound"
expect_eq "the corrupt one is in the quarantine" 1 "$(ls .dynn/quarantine/"$(basename "$(dirname "$model_obj")")$(basename "$model_obj")".* | wc -l)"
"$DYNN" run model.yaml > /dev/null 2>&1
expect_eq "then train is cached with the sound model" "profile=CACHED train=CACHED" "$(states)"

# --- dynn fsck: report, repair, clean ---
expect_ok "a sound state directory is clean" "$DYNN" fsck
used_obj=$(obj used.txt)
corrupt "$used_obj" 3
rows="$(q "SELECT (SELECT count(*) FROM stages) || ' ' || (SELECT count(*) FROM artifacts) || ' ' || (SELECT count(*) FROM metrics)")"
out=$("$DYNN" fsck 2>&1); rc=$?
expect_eq "fsck finds the corruption: exit 1" 1 "$rc"
expect_match "it names the object" "^bad-object ${used_obj#.dynn/}: content hashes to [0-9a-f]{16}…, not to its name$" "$out"
expect_match "and the cache entry using it" "^bad-artifact run [0-9a-f]{8} stage 'use' artifact 'used.txt': ${used_obj#.dynn/} does not match its hash" "$out"
expect_match "and sums up" "^fsck \.dynn: [0-9]+ objects, [0-9]+ artifact rows, 0 temp files in flight: [0-9]+ problems \(dynn fsck --repair fixes what it can\)$" "$out"
sound "$used_obj" && fail "fsck without --repair changes nothing" || pass "fsck without --repair changes nothing"
expect_match "--json says the same" '"clean":false.*"kind":"bad-object"' "$("$DYNN" fsck --json --state-dir .dynn)"
out=$("$DYNN" fsck --repair 2>&1); rc=$?
expect_eq "fsck --repair exits 1 (problems were found)" 1 "$rc"
expect_match "it quarantines the object" "^bad-object ${used_obj#.dynn/}: .*; moved to \.dynn/quarantine/" "$out"
expect_match "and voids the cache entries" "stage 'use' artifact 'used.txt': .*; cache entry voided" "$out"
[ ! -e "$used_obj" ] && pass "the object left the store" || fail "the object left the store"
out=$("$DYNN" fsck 2>&1); rc=$?
expect_eq "a second fsck is clean: exit 0" 0 "$rc"
expect_match "  ... and says so" "clean$" "$out"
expect_eq "no results row was deleted" "$rows" "$(q "SELECT (SELECT count(*) FROM stages) || ' ' || (SELECT count(*) FROM artifacts) || ' ' || (SELECT count(*) FROM metrics)")"
"$DYNN" run chain.yaml > /dev/null 2>&1
expect_eq "the voided entry is a miss: use runs again" "gen=CACHED use=FINISHED" "$(states)"
sound "$used_obj" && pass "and stores its output again" || fail "and stores its output again"
expect_ok "still clean afterwards" "$DYNN" fsck --db .dynn/results.db

# --- temp files of killed store copies ---
sleep 60 & live=$!
sh -c 'exit 0' & dead=$!; wait $dead
dir=$(dirname "$gen_obj"); base=$(basename "$gen_obj")
echo partial > "$dir/$base.tmp.$dead"; echo partial > "$dir/$base.tmp.$live"
out=$("$DYNN" fsck 2>&1); rc=$?
expect_eq "a dead writer's temp file is a problem" 1 "$rc"
expect_match "  ... named with its pid" "^dead-temp ${dir#.dynn/}/$base\.tmp\.$dead: temp file of a store copy whose writer \(pid $dead\) is gone$" "$out"
expect_match "a live writer's temp file is listed" "^in-flight ${dir#.dynn/}/$base\.tmp\.$live: .*still running \(kept\)$" "$out"
"$DYNN" fsck --repair > /dev/null 2>&1
[ ! -e "$dir/$base.tmp.$dead" ] && pass "--repair removes the dead writer's temp file" || fail "--repair removes the dead writer's temp file"
[ -e "$dir/$base.tmp.$live" ] && pass "--repair keeps the live writer's temp file" || fail "--repair keeps the live writer's temp file"
expect_ok "an in-flight temp file is no problem" "$DYNN" fsck
kill $live; wait $live 2>/dev/null
out=$("$DYNN" fsck --repair 2>&1)
expect_match "once its writer is gone it is removed" "dead-temp .*\.tmp\.$live: .*; removed" "$out"
[ ! -e "$dir/$base.tmp.$live" ] && pass "  ... from the store" || fail "  ... from the store"

# --- something in the store that is not an object ---
echo notes > .dynn/store/README
expect_fail "a stray file in the store is a problem" "^stray store/README: not a store object" "$DYNN" fsck
expect_match "--repair moves it to the quarantine" "^stray store/README: .*; moved to \.dynn/quarantine/stray\.README\." "$("$DYNN" fsck --repair 2>&1)"
[ ! -e .dynn/store/README ] && pass "  ... out of the store" || fail "  ... out of the store"

# --- a run left RUNNING by a runner killed with -9 ---
# slow.pid goes to $DYNN_WORKDIR: the test reads it while the command runs in its private directory
cat > slow.yaml <<'YAML'
stages:
  slow: {type: exec, params: {cmd: [sh, -c, 'echo $$ > "$DYNN_WORKDIR/slow.pid"; sleep 30']}}
YAML
"$DYNN" run slow.yaml > slow.out 2>&1 & runner=$!
wait_for slow.pid || fail "the slow stage started" "$(cat slow.out)"
kill -9 $runner; wait $runner 2>/dev/null
uuid=$(q "SELECT uuid FROM runs ORDER BY id DESC LIMIT 1")
out=$("$DYNN" fsck 2>&1); rc=$?
expect_eq "a dead runner's run is a problem" 1 "$rc"
expect_match "  ... named with its runner" "^dead-run run $uuid: left RUNNING by pid $runner on .*, which is gone \(1 stage RUNNING\)$" "$out"
expect_match "--repair marks it KILLED" "^dead-run run $uuid: .*; marked KILLED$" "$("$DYNN" fsck --repair 2>&1)"
expect_eq "  ... in the database" "KILLED" "$(q "SELECT status FROM runs WHERE uuid = '$uuid'")"
expect_ok "clean again" "$DYNN" fsck

# --- the database itself, and usage ---
printf 'not a database at all, just some text that fills a page or so\n%.0s' $(seq 100) > bogus.db
mkdir -p bogus && cp bogus.db bogus/results.db
expect_fail "a broken database is a problem" "^database bogus/results\.db: .*(not a database|malformed)" "$DYNN" fsck --state-dir bogus
expect_fail "no state directory: usage error" "nowhere: no state directory here" "$DYNN" fsck --state-dir nowhere
"$DYNN" fsck --state-dir nowhere > /dev/null 2>&1; expect_eq "  ... exit 2" 2 "$?"
expect_fail "unknown option" "unknown option '--repiar' \(did you mean '--repair'\?\)" "$DYNN" fsck --repiar
"$DYNN" fsck --repiar > /dev/null 2>&1; expect_eq "  ... exit 2" 2 "$?"
expect_match "--help" "usage: dynn fsck \[--repair\] \[--json\] \[--state-dir DIR \| --db PATH\]" "$("$DYNN" fsck --help)"
e2e_done
