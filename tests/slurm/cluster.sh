#!/usr/bin/env bash
# tests/slurm/cluster.sh — a real one-node Slurm cluster on this machine, for the tests and
# bench/slurm_overhead.sh: munged, slurmctld and slurmd (Debian's slurm-wlm, munge), as root, with a
# generated munge key and slurm.conf, every file and socket under DIR, no accounting daemon (so the
# slurm executor's `scontrol` path is the one used).
#
#   tests/slurm/cluster.sh start DIR [CPUS]   starts it; prints `export SLURM_CONF=DIR/slurm.conf`
#   tests/slurm/cluster.sh stop DIR           cancels every job, stops the daemons (by their pid files)
#
# CPUS: the node's CPUs (default: this machine's cores); more than the machine has is accepted
# (SlurmdParameters=config_overrides), for tests whose jobs only sleep. start exits 2 with one line
# saying why when the cluster cannot run here (not root, a package missing, a daemon that did not
# come up); its logs stay in DIR. Finished jobs stay known to slurmctld for an hour (MinJobAge): without
# accounting, `scontrol` is the only record of how a job ended (Snakemake asks it one job at a time).
set -u
cmd=${1:-}; dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop DIR [CPUS]" >&2; exit 2; }

stop() {
  [ -f "$dir/slurm.conf" ] && SLURM_CONF=$dir/slurm.conf timeout 10 scancel --full --quiet --user="$(id -un)" 2>/dev/null
  local f pid
  for f in slurmd slurmctld munged; do
    [ -f "$dir/$f.pid" ] || continue
    pid=$(cat "$dir/$f.pid" 2>/dev/null)
    [ -n "$pid" ] && kill "$pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
    rm -f "$dir/$f.pid"
  done
  return 0
}

if [ "$cmd" = stop ]; then stop; exit 0; fi
[ "$cmd" = start ] || { echo "usage: $0 start|stop DIR [CPUS]" >&2; exit 2; }

cannot() { echo "cluster.sh: $*" >&2; stop; exit 2; }
[ "$(id -u)" = 0 ] || cannot "needs root to start munged, slurmctld and slurmd"
for b in munged slurmctld slurmd sbatch squeue scontrol scancel; do
  command -v "$b" >/dev/null 2>&1 || PATH=$PATH:/usr/sbin:/sbin
  command -v "$b" >/dev/null 2>&1 || cannot "'$b' is not installed (ci/deps.sh installs slurm-wlm and munge)"
done

mkdir -p "$dir/ctld" "$dir/spool" "$dir/munge" || cannot "cannot make $dir"
chmod 700 "$dir/munge"
cpus=${3:-$(nproc)}
host=$(hostname -s)
mem=$(awk '/MemTotal/ { printf "%d", $2 / 1024 * 0.9 }' /proc/meminfo)
# ports from the pid, so that two clusters (two test runs) do not meet
base=$((20000 + ($$ * 7) % 20000))

dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none || cannot "cannot write the munge key"
chmod 400 "$dir/munge/munge.key"
munged --force --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.sock" --pid-file="$dir/munged.pid" \
  --log-file="$dir/munged.log" --seed-file="$dir/munge/munge.seed" > "$dir/munged.out" 2>&1 ||
  cannot "munged did not start: $(tail -1 "$dir/munged.out")"

cat > "$dir/slurm.conf" <<EOF
# written by tests/slurm/cluster.sh: one node, this machine
ClusterName=dynntest
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$base
SlurmdPort=$((base + 1))
SrunPortRange=$((base + 2))-$((base + 40))
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.sock
CredType=cred/munge
StateSaveLocation=$dir/ctld
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
SlurmdParameters=config_overrides
ReturnToService=2
KillWait=2
SchedulerParameters=batch_sched_delay=0
MinJobAge=3600
SlurmctldDebug=info
SlurmdDebug=info
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$dir/slurm.conf
slurmctld -i -f "$SLURM_CONF" > "$dir/slurmctld.out" 2>&1 || cannot "slurmctld did not start: $(tail -1 "$dir/slurmctld.log" 2>/dev/null)"
slurmd -f "$SLURM_CONF" > "$dir/slurmd.out" 2>&1 || cannot "slurmd did not start: $(tail -1 "$dir/slurmd.log" 2>/dev/null)"
for _ in $(seq 150); do
  state=$(sinfo -h -N -o %T 2>/dev/null | head -1)
  [ "$state" = idle ] && { echo "export SLURM_CONF=$SLURM_CONF"; exit 0; }
  sleep 0.2
done
cannot "the node did not come up idle in 30 s (state '${state:-none}'; see $dir/slurmctld.log, $dir/slurmd.log)"
