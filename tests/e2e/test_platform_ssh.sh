#!/usr/bin/env bash
# tests/e2e/test_platform_ssh.sh — the `ssh` platform against a real OpenSSH server on 127.0.0.1:
# its own host and user keys, a free port, `sshd -D -f CONFIG` as the current user. A profile stage
# deploys, profiles (one remote `dynn profile` per point), stores every sample and cleans up; then the
# board goes away mid-sweep (sshd killed between invocations): the stage fails saying where, and the
# measurements taken before are in the database; then hostile parameter values reach the remote
# profiler verbatim and never run a command. The profiler deployed is tests/platforms/fake_dynn.sh
# (contract output) unless this dynn has `profile`, which is then deployed itself.
ROOT=${DYNN_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../pipeline/e2e_helpers.sh"
. "$ROOT/tests/platforms/sshd.sh"
if [ ! -x "$SSHD" ]; then
  skip test_platform_ssh "sshd is not installed (Debian package openssh-server; ci/deps.sh installs it)"
  e2e_done
fi
W=$E2E_TMP/ssh; mkdir -p "$W/remote"; cd "$W" || exit 1
DB=$W/.dynn/results.db
trap 'stop_sshd; rm -rf "$E2E_TMP"' EXIT

sshd_keys "$W" || { fail "ssh keys"; e2e_done; }
PORT=$(free_port) || { fail "a free port"; e2e_done; }
if start_sshd "$W" "$PORT"; then pass "sshd runs on 127.0.0.1:$PORT"; else fail "sshd runs" "$(cat sshd.log)"; e2e_done; fi
known_hosts "$W" "$PORT"

# The profiler to deploy: this dynn when it has `profile` (on a tiny trained model), else the fake.
if "$DYNN" profile --help > /dev/null 2>&1; then
  REAL=1 BINARY= MODEL=m.dnn
  "$DYNN" train --model resnet8 --width 0.25 --method uniform --widths 0.5,1 --epochs 1 --batch 32 --train-limit 64 \
    --test-limit 32 --threads 1 --seed 1 --out m.dnn --quiet > train.log 2>&1 || { fail "train a tiny model" "$(cat train.log)"; e2e_done; }
  W0=w0.50 W1=w1.00 F1= F2=   # no cpufreq here: the profiler measures at the current frequency (null)
else
  REAL=0 BINARY="binary: fake-dynn" MODEL=model.bin
  cp "$ROOT/tests/platforms/fake_dynn.sh" fake-dynn; chmod +x fake-dynn
  head -c 4096 /dev/urandom > model.bin
  W0=w0 W1=w1 F1=100000 F2=200000
fi
echo "profiler: $([ $REAL = 1 ] && echo "$DYNN" || echo tests/platforms/fake_dynn.sh)"

# wrap CMD...: the board-side prefix: logs each invocation's arguments to args.log; when drop_at
# holds N, the Nth invocation kills sshd's listener (the running session survives), then runs CMD.
cat > wrap <<SH
#!/bin/sh
printf '%s\n' "--- invocation" "\$@" >> $W/args.log
if [ -f $W/drop_at ]; then
  n=\$(( \$(cat $W/count 2>/dev/null || echo 0) + 1 )); echo \$n > $W/count
  [ "\$n" -eq "\$(cat $W/drop_at)" ] && kill \$(cat $W/sshd.pid)
fi
exec "\$@"
SH
chmod +x wrap

board() { # board FILE [extra yaml lines...]
  local f=$1; shift
  { cat <<YAML
name: board
type: ssh
arch: $(uname -m)
host: 127.0.0.1
port: $PORT
user: $(id -un)
identity: keys/user
known_hosts: keys/known_hosts
strict_host_key_checking: "yes"
workdir: $W/remote
$BINARY
prefix: [$W/wrap]
connect_timeout: 5
retries: 1
backoff_ms: 200
clusters: {little: "0", big: "1"}
frequencies_khz: {little: [100000, 200000]}
YAML
    printf '%s\n' "$@"; } > "$f"
}
board board.yaml

# ---- deploy, profile, parse, store, clean up ----
cat > sweep.yaml <<YAML
stages:
  prof:
    type: profile
    params:
      platform: board.yaml
      model: $MODEL
      subnets: [0, 1]
      batch: [4]
      mapping: [{cpus: little, threads: 1}]
      frequencies_khz: all
      warmup: 1
      repeat: 3
      min_time_ms: 0
YAML
out=$("$DYNN" run sweep.yaml 2>&1); rc=$?
expect_eq "profile over ssh finishes" "0 prof=FINISHED" "$rc $(states)"
expect_eq "one measurement per point (2 frequencies x 2 subnets)" "4" "$(q "SELECT count(*) FROM measurements")"
expect_eq "every sample kept" "12" "$(q "SELECT count(*) FROM latency_samples")"
expect_eq "measurement columns from the profile JSON" \
  "board|$W1|1|4|0|$F1|3|1|1" \
  "$(q "SELECT platform||'|'||subnet||'|'||subnet_index||'|'||batch||'|'||cpus||'|'||ifnull(frequency_khz,'')||'|'||n_samples||'|'||(macs > 0)||'|'||(peak_rss_kib > 0) FROM measurements WHERE subnet_index=1 ORDER BY id LIMIT 1")"
expect_eq "the larger subnet has more MACs" "1" \
  "$(q "SELECT (SELECT max(macs) FROM measurements WHERE subnet_index=1) > (SELECT max(macs) FROM measurements WHERE subnet_index=0)")"
if [ $REAL = 0 ]; then
  expect_eq "samples in seconds" "0.00225 0.00275" \
    "$(q "SELECT min(l.latency_s)||' '||max(l.latency_s) FROM latency_samples l JOIN measurements m ON m.id=l.measurement_id WHERE m.subnet='w1'")"
else
  expect_eq "samples in seconds" "1" "$(q "SELECT min(latency_s) > 0 AND max(latency_s) < 1 FROM latency_samples")"
fi
expect_eq "one remote invocation per point" "4" "$(grep -c -- '--- invocation' args.log)"
expect_eq "each invocation got the deployed platform file" "4" "$(grep -cx -- '--platform' args.log)"
expect_eq "remote work directory removed" "" "$(ls remote)"
log=$(ls .dynn/logs/*/prof.log | head -1)
expect_match "log names the target" "profiling on ssh $(id -un)@127.0.0.1:$PORT" "$(cat "$log")"

# the board's GPU: the same stage through the opencl backend (pocl stands in for the board's GPU)
if [ $REAL = 1 ] && ocl=$("$DYNN" devices --json 2>/dev/null | jq -re '[.backends[] | select(.name == "opencl") | .devices[]][0].spec'); then
  sed "s|      min_time_ms: 0|      min_time_ms: 0\n      backend: $ocl|" sweep.yaml > ocl-run.yaml
  : > args.log
  out=$("$DYNN" run ocl-run.yaml 2>&1); rc=$?
  expect_eq "profile over ssh with backend: $ocl finishes" "0 prof=FINISHED" "$rc $(states)"
  expect_eq "every point measured through opencl on the board" "4|4" \
    "$(q "SELECT count(*)||'|'||sum(c.value = 'opencl') FROM measurements m JOIN stages s ON s.id = m.stage_id JOIN conditions c ON c.measurement_id = m.id AND c.key = 'backend' WHERE s.run_id = (SELECT max(id) FROM runs)")"
  expect_match "the board was asked for its opencl device" "^--backend$" "$(grep -x -- '--backend' args.log | head -1)"
else
  skip "profile over ssh through opencl" "needs the real profiler and an OpenCL device here (dynn devices)"
fi

# unknown host key: StrictHostKeyChecking=yes refuses, after no retries of a 255 that is not a drop
board strict.yaml "" && sed -i 's|known_hosts: keys/known_hosts|known_hosts: empty_known_hosts|; s|^retries: 1|retries: 0|' strict.yaml
: > empty_known_hosts
sed 's|platform: board.yaml|platform: strict.yaml|' sweep.yaml > strict-run.yaml
out=$("$DYNN" run strict-run.yaml 2>&1)
expect_eq "an unknown host key fails the stage" "prof=FAILED" "$(states)"
expect_match "and says why" "Host key verification failed" "$(q "SELECT error FROM stages WHERE run_id=(SELECT max(id) FROM runs)")"

# ---- the board goes away mid-sweep ----
rm -f count; : > args.log; echo 2 > drop_at
sed 's|subnets: \[0, 1\]|subnets: [0]|; s|batch: \[4\]|batch: [1, 2]|' sweep.yaml > drop-run.yaml
out=$("$DYNN" run drop-run.yaml 2>&1); rc=$?
rm -f drop_at
expect_eq "a drop mid-sweep fails the stage" "1 prof=FAILED" "$rc $(states)"
err=$(q "SELECT error FROM stages WHERE run_id=(SELECT max(id) FROM runs)")
expect_match "the error says where the sweep stopped and what was kept" \
  "sweep point 3 of 4 \(subnet 0, batch 1, cpus 0, threads 1, 200000 kHz\) failed: ssh .*board unreachable \(ssh exited with status 255 after 2 attempts\).*; kept the 2 measurements taken before" "$err"
expect_eq "the measurements taken before the drop are in the database" "2|6|$W0 $W0|1 2" \
  "$(q "SELECT count(*)||'|'||sum(n_samples)||'|'||group_concat(subnet, ' ')||'|'||group_concat(batch, ' ') FROM measurements m JOIN stages s ON s.id=m.stage_id WHERE s.run_id=(SELECT max(id) FROM runs)")"
expect_eq "exactly two invocations reached the board" "2" "$(grep -c -- '--- invocation' args.log)"
if alive "$SSHD_PID"; then fail "sshd was killed by the drop"; else pass "sshd was killed by the drop"; fi
SSHD_PID=

# ---- hostile parameter values never run a command ----
PORT=$(free_port) && start_sshd "$W" "$PORT" || { fail "sshd restarts" "$(cat sshd.log)"; e2e_done; }
known_hosts "$W" "$PORT"
board board.yaml
: > args.log
cat > hostile.yaml <<YAML
stages:
  quote:
    type: profile
    params: {platform: board.yaml, model: $MODEL, subnets: ["'; touch $W/pwned1; '"]}
  subst:
    type: profile
    params: {platform: board.yaml, model: $MODEL, subnets: ["\$(touch $W/pwned2)"]}
  backtick:
    type: profile
    params: {platform: board.yaml, model: $MODEL, subnets: ["\`touch $W/pwned3\`"]}
  newline:
    type: profile
    params: {platform: board.yaml, model: $MODEL, subnets: ["0\ntouch $W/pwned4"]}
YAML
out=$("$DYNN" run --keep-going hostile.yaml 2>&1)
expect_eq "hostile subnets reach the profiler, which refuses them" \
  "backtick=FAILED newline=FAILED quote=FAILED subst=FAILED" "$(states)"
n=0; for i in 1 2 3 4; do [ -e "$W/pwned$i" ] && n=$((n + 1)); done
expect_eq "no marker file was created" "0" "$n"
expect_eq "the values arrived verbatim" "3" \
  "$(grep -cxF -e "'; touch $W/pwned1; '" -e "\$(touch $W/pwned2)" -e "\`touch $W/pwned3\`" args.log)"
expect_match "the profiler's refusal is the stage error" "no subnet ''; touch" \
  "$(q "SELECT error FROM stages WHERE name='quote' AND run_id=(SELECT max(id) FROM runs)")"

# a hostile remote work directory is created as named, and removed again
board weird.yaml && sed -i "s|^workdir: .*|workdir: \"$W/remote/x'; touch $W/pwned5; '\$(touch $W/pwned6)\"|" weird.yaml
sed 's|platform: board.yaml|platform: weird.yaml|' sweep.yaml > weird-run.yaml
out=$("$DYNN" run weird-run.yaml 2>&1)
expect_eq "a work directory with quotes and \$( works" "prof=FINISHED" "$(states)"
expect_eq "and runs nothing" "no" "$([ -e "$W/pwned5" ] || [ -e "$W/pwned6" ] && echo yes || echo no)"
expect_eq "it exists verbatim, empty after cleanup" "" "$(ls "$W/remote/x'; touch $W/pwned5; '\$(touch $W/pwned6)")"

# validation: cpus that are not a cluster or a cpu list, named with file:line:col
sed 's|mapping: \[{cpus: little, threads: 1}\]|mapping: [{cpus: "0; touch x", threads: 1}]|' sweep.yaml > badcpus.yaml
expect_fail "cpus are checked before anything runs" \
  "badcpus.yaml:[0-9]+:[0-9]+: stage 'prof': cpus '0; touch x' is neither a cluster of platform 'board' nor a cpu list" \
  "$DYNN" validate badcpus.yaml
stop_sshd
e2e_done
