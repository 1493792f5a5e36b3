#!/usr/bin/env bash
# tests/e2e/test_platform_exclusive.sh — a board is measured by one stage at a time (issue 24):
# two fake boards behind the test sshd (one server, two ports: two identities), each a wrapper that
# logs when every profiler run on it started and ended and which deployment (stage) it belongs to.
#   - one run, profile stages on two boards: the intervals never overlap on one board and do
#     overlap between the boards; the stages' own sweep_started_at/sweep_ended_at metrics agree;
#   - a stage on a remote board takes one thread of the budget: with --threads 2 and `threads: 2`
#     per stage, the two boards still run at once;
#   - two `dynn run` processes on one board take turns (the second says whom it waits for), a third
#     with --board-wait 0.5s fails naming the holder;
#   - a runner killed with -9 while its stage holds the board does not block the next run.
# The profiler is tests/platforms/fake_dynn.sh; each run of it lasts STEP seconds on the "board".
ROOT=${DYNN_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../pipeline/e2e_helpers.sh"
. "$ROOT/tests/platforms/sshd.sh"
if [ ! -x "$SSHD" ]; then
  skip test_platform_exclusive "sshd is not installed (Debian package openssh-server; ci/deps.sh installs it)"
  e2e_done
fi
W=$E2E_TMP/excl; mkdir -p "$W"; cd "$W" || exit 1
trap 'stop_sshd; rm -rf "$E2E_TMP"' EXIT
export DYNN_LOCK_DIR=$W/locks
STEP=0.4

sshd_keys "$W" || { fail "ssh keys"; e2e_done; }
PA=$(free_port) && PB=$(free_port) && [ "$PA" != "$PB" ] || { fail "two free ports"; e2e_done; }
if start_sshd "$W" "$PA" "$PB"; then pass "sshd runs on 127.0.0.1:$PA and :$PB"; else fail "sshd runs" "$(cat sshd.log)"; e2e_done; fi
known_hosts "$W" "$PA" "$PB"
cp "$ROOT/tests/platforms/fake_dynn.sh" fake-dynn; chmod +x fake-dynn
head -c 4096 /dev/urandom > model.bin

# board NAME PORT: the board file NAME.yaml and its wrapper NAME.sh, which logs "START END DEPLOYMENT"
# per profiler run into NAME.log (the deployment directory names the stage that ran it)
board() {
  cat > "$1.sh" <<SH
#!/bin/sh
start=\$(date +%s.%N)
sleep $STEP
"\$@"; rc=\$?
echo "\$start \$(date +%s.%N) \${1%/dynn}" >> $W/$1.log
exit \$rc
SH
  chmod +x "$1.sh"
  mkdir -p "remote-$1"
  cat > "$1.yaml" <<YAML
name: $1
type: ssh
arch: $(uname -m)
host: 127.0.0.1
port: $2
user: $(id -un)
identity: $W/keys/user
known_hosts: $W/keys/known_hosts
strict_host_key_checking: "yes"
workdir: $W/remote-$1
binary: $W/fake-dynn
prefix: [$W/$1.sh]
connect_timeout: 5
retries: 1
backoff_ms: 200
YAML
}
board a "$PA"
board b "$PB"

# spans LOG: one line per deployment, "START END DEPLOYMENT" (its first run's start, its last run's end)
spans() {
  awk '{ if (!($3 in s) || $1 < s[$3]) s[$3] = $1; if (!($3 in e) || $2 > e[$3]) e[$3] = $2 }
       END { for (k in s) printf "%.3f %.3f %s\n", s[k], e[k], k }' "$1" | sort -n
}
# disjoint < SPANS: "N disjoint" when no two of the N overlap, else the first pair that does
disjoint() {
  sort -n | awk 'NR > 1 && $1 < last { print "overlap: " who " and " $3; bad = 1; exit }
                 { if (NR == 1 || $2 > last) { last = $2; who = $3 } } END { if (!bad) print NR " disjoint" }'
}
# overlap A B: "yes" when a span of file A overlaps one of file B
overlap() {
  awk 'NR == FNR { s[NR] = $1; e[NR] = $2; n = NR; next }
       { for (i = 1; i <= n; i++) if ($1 < e[i] && s[i] < $2) { print "yes"; found = 1; exit } }
       END { if (!found) print "no" }' "$1" "$2"
}
# metric_spans PATTERN: "START END NAME" of the last run's stages named like PATTERN, from their metrics
metric_spans() {
  q "SELECT printf('%.3f %.3f ', a.value, b.value) || s.name FROM stages s
     JOIN metrics a ON a.stage_id = s.id AND a.name = 'sweep_started_at'
     JOIN metrics b ON b.stage_id = s.id AND b.name = 'sweep_ended_at'
     WHERE s.run_id = (SELECT max(id) FROM runs) AND s.name LIKE '$1'"
}

two_boards() { # two_boards THREADS: two profile stages on each board
  cat <<YAML
stages:
  on_a:
    type: profile
    matrix: {rep: [1, 2]}
    threads: $1
    params: {platform: $W/a.yaml, model: $W/model.bin, subnets: ["\${matrix.rep}"], batch: [1, 2]}
  on_b:
    type: profile
    matrix: {rep: [1, 2]}
    threads: $1
    params: {platform: $W/b.yaml, model: $W/model.bin, subnets: ["\${matrix.rep}"], batch: [1, 2]}
YAML
}

# ---- one run, two boards, two stages each, room for all four at once ----
DB=$W/.dynn/results.db
two_boards 1 > par.yaml
out=$("$DYNN" run par.yaml -j 4 --threads 4 2>&1); rc=$?
expect_eq "four profile stages on two boards finish" "0 on_a@rep=1=FINISHED on_a@rep=2=FINISHED on_b@rep=1=FINISHED on_b@rep=2=FINISHED" \
  "$rc $(states)"
spans a.log > a.spans; spans b.log > b.spans
expect_eq "each board ran two stages, two points each" "2 2 4 4" \
  "$(wc -l < a.spans) $(wc -l < b.spans) $(wc -l < a.log) $(wc -l < b.log)"
expect_eq "board a: the stages' runs never overlap" "2 disjoint" "$(disjoint < a.spans)"
expect_eq "board b: the stages' runs never overlap" "2 disjoint" "$(disjoint < b.spans)"
expect_eq "boards a and b were measured at the same time" "yes" "$(overlap a.spans b.spans)"
expect_eq "the stages' own sweep intervals: disjoint on a" "2 disjoint" "$(metric_spans 'on_a%' | disjoint)"
expect_eq "the stages' own sweep intervals: disjoint on b" "2 disjoint" "$(metric_spans 'on_b%' | disjoint)"
expect_eq "every stage recorded its wait for the board" "4" "$(q "SELECT count(*) FROM metrics WHERE name = 'board_wait_s' AND value >= 0")"

# ---- remote boards take one thread each: budget 2, stages of threads: 2 ----
rm -f a.log b.log
two_boards 2 > budget.yaml
out=$("$DYNN" run budget.yaml -j 4 --threads 2 2>&1); rc=$?
expect_eq "threads: 2 on two boards with --threads 2 finish" "0 on_a@rep=1=FINISHED on_a@rep=2=FINISHED on_b@rep=1=FINISHED on_b@rep=2=FINISHED" \
  "$rc $(states)"
spans a.log > a.spans; spans b.log > b.spans
expect_eq "a remote stage does not spend the local budget: both boards at once" "yes" "$(overlap a.spans b.spans)"
expect_eq "and still one stage at a time on board a" "2 disjoint" "$(disjoint < a.spans)"

# ---- two runs on one board take turns; a third with a short --board-wait gives up ----
cat > one.yaml <<YAML
stages:
  solo:
    type: profile
    threads: 1
    params: {platform: $W/a.yaml, model: $W/model.bin, subnets: [0], batch: [1, 2, 3]}
YAML
sed "s/batch: \[1, 2, 3\]/batch: [$(seq -s ', ' 20)]/" one.yaml > long.yaml   # 20 points: 8 s of sleep on the board
rm -f a.log; mkdir -p p q r k s
(cd p && exec "$DYNN" run ../one.yaml > out 2>&1) & P=$!
for _ in $(seq 100); do ls remote-a/dynn.* > /dev/null 2>&1 && break; sleep 0.1; done   # p has deployed on a
(cd q && exec "$DYNN" run ../one.yaml > out 2>&1) & Q=$!
# (the option wins over the environment: with the environment's directory it would not wait at all)
(cd r && DYNN_LOCK_DIR=$W/other-locks exec "$DYNN" run ../one.yaml --lock-dir "$W/locks" --board-wait 0.5s > out 2>&1) & R=$!
wait $P; rp=$?; wait $Q; rq=$?; wait $R; rr=$?
DB=$W/p/.dynn/results.db; sp=$(states)
DB=$W/q/.dynn/results.db; sq=$(states); qwait=$(q "SELECT printf('%.1f', value) FROM metrics WHERE name = 'board_wait_s'")
DB=$W/r/.dynn/results.db; sr=$(states); rerr=$(q "SELECT error FROM stages")
expect_eq "two runs on one board both finish, the third gives up" "0 solo=FINISHED 0 solo=FINISHED 1 solo=FAILED" \
  "$rp $sp $rq $sq $rr $sr"
spans a.log > a.spans
expect_eq "the two runs' measurements did not overlap" "2 disjoint" "$(disjoint < a.spans)"
expect_eq "the second run waited for the first" "1" "$(awk -v w="$qwait" 'BEGIN { print (w >= 1.0) }')"
expect_match "its log says for what and whom" "waiting for board 'a' \(ssh:127\.0\.0\.1:$PA\), held by pid [0-9]+ \(since [0-9-]+ [0-9:]+ UTC: stage 'solo' of run [0-9a-f-]+\)" \
  "$(cat q/.dynn/logs/*/solo.log)"
expect_match "the impatient run names the holder and the option" \
  "board 'a' \(ssh:127\.0\.0\.1:$PA\) is still held by pid [0-9]+ \(.*stage 'solo' of run .*\) after waiting [0-9.]+ s \(limit DYNN_BOARD_WAIT, dynn run --board-wait\)" "$rerr"

# ---- a runner killed with -9 while its stage holds the board (20 points: 8 s of it left) ----
rm -f a.log
(cd k && exec "$DYNN" run ../long.yaml > out 2>&1) & K=$!
n=0; while [ $n -lt 100 ] && ! grep -qs "^took board 'a'" k/.dynn/logs/*/solo.log; do sleep 0.1; n=$((n + 1)); done
holder=$(cat locks/*127.0.0.1_"$PA"-*.lock 2>/dev/null | sed -n 's/^pid \([0-9]*\) .*/\1/p')
expect_match "the killed run's stage holds the board" "^[0-9]+$" "$holder"
kill -9 $K; wait $K 2>/dev/null
(cd s && "$DYNN" run ../one.yaml --board-wait 60s > out 2>&1); rs=$?   # a lock left held fails it, never hangs
DB=$W/s/.dynn/results.db
expect_eq "the next run gets the board and finishes" "0 solo=FINISHED" "$rs $(states)"
swait=$(q "SELECT printf('%.2f', value) FROM metrics WHERE name = 'board_wait_s'")
if awk -v w="$swait" 'BEGIN { exit !(w != "" && w < 6) }'; then pass "it waited only until the killed stage was gone, not for its sweep"
else fail "it waited only until the killed stage was gone, not for its sweep" "board_wait_s: '$swait' (wanted under 6)"; fi
if [ -z "$holder" ]; then fail "the killed run's stage process is gone" "no holder pid was found above"
elif alive "$holder"; then fail "the killed run's stage process is gone" "pid $holder is alive"
else pass "the killed run's stage process is gone"; fi

# options are checked
expect_fail "--board-wait must be a duration" "dynn run: --board-wait: 'soon' is not a duration such as 90s, 10m or 2h" \
  "$DYNN" run one.yaml --board-wait soon
stop_sshd
e2e_done
