#!/usr/bin/env bash
# A throw-away single-node Slurm cluster (munged, slurmctld, slurmd as plain
# background processes, all state under one folder) for the job-script tests.
#
#   tests/slurm-cluster.sh start DIR   start it; prints "export SLURM_CONF=DIR/slurm.conf"
#   tests/slurm-cluster.sh stop DIR    cancel every job, wait for them, stop the daemons
#
# Ports 6817/6818 on 127.0.0.1; refuses to start when they already answer (a
# stale cluster would otherwise answer in place of the new one).
set -u
cmd=${1:?start|stop}
D=${2:?state directory}
export SLURM_CONF=$D/slurm.conf

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start() {
  for p in 6817 6818; do
    if port_busy $p; then echo "slurm-cluster: port $p is already in use (a stale cluster?)" >&2; return 1; fi
  done
  for exe in munged slurmctld slurmd sbatch; do
    command -v $exe >/dev/null || { echo "slurm-cluster: $exe is not installed (tools/setup.sh --tests installs it)" >&2; return 1; }
  done
  rm -rf "$D"/{state,spool,log,tmp}
  mkdir -p "$D"/{munge,state,spool,log,tmp}
  chmod 755 "$D" "$D/munge"
  dd if=/dev/urandom of="$D/munge/munge.key" bs=1024 count=1 status=none
  chmod 400 "$D/munge/munge.key"
  munged --key-file="$D/munge/munge.key" --socket="$D/munge/munge.socket" --pid-file="$D/munge/munged.pid" \
    --seed-file="$D/munge/munged.seed" --log-file="$D/munge/munged.log" || return 1
  cpus=$(nproc)
  [ "$cpus" -lt 4 ] && cpus=4   # config_overrides: 3-4 ranks on 2 cores
  # cred_expire=10: a requeued job waits cred_expire + 1 s before it starts again (the default is
  # 120 s); starting it sooner is refused ("Job credential revoked"), so nothing may force it
  cat > "$SLURM_CONF" <<CONF
ClusterName=infotherm-ci
SlurmctldHost=localhost
SlurmctldPort=6817
SlurmdPort=6818
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$D/munge/munge.socket,cred_expire=10
StateSaveLocation=$D/state
SlurmdSpoolDir=$D/spool
TmpFS=$D/tmp
SlurmctldPidFile=$D/slurmctld.pid
SlurmdPidFile=$D/slurmd.pid
SlurmctldLogFile=$D/log/slurmctld.log
SlurmdLogFile=$D/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmdParameters=config_overrides
MpiDefault=pmix
SchedulerType=sched/backfill
ReturnToService=2
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MailProg=/bin/true
InactiveLimit=0
KillWait=10
MinJobAge=4
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus Sockets=1 CoresPerSocket=$cpus ThreadsPerCore=1 RealMemory=1000 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
  slurmctld -f "$SLURM_CONF" || return 1
  slurmd -f "$SLURM_CONF" -N localhost || return 1
  for _ in $(seq 200); do
    [ "$(sinfo -h -n localhost -o %T 2>/dev/null)" = idle ] && break
    sleep 0.1
  done
  [ "$(sinfo -h -n localhost -o %T 2>/dev/null)" = idle ] || { echo "slurm-cluster: the node did not become idle" >&2; return 1; }
  kill -0 "$(cat "$D/slurmctld.pid")" && kill -0 "$(cat "$D/slurmd.pid")" || { echo "slurm-cluster: a daemon died at start" >&2; return 1; }
  echo "export SLURM_CONF=$SLURM_CONF"
}

stop() {
  if [ -f "$SLURM_CONF" ]; then
    squeue -h -o %A 2>/dev/null | sort -u | xargs -r scancel 2>/dev/null
    for _ in $(seq 200); do [ -z "$(squeue -h -o %A 2>/dev/null)" ] && break; sleep 0.1; done
    scontrol shutdown >/dev/null 2>&1
  fi
  for pidfile in "$D/slurmd.pid" "$D/slurmctld.pid" "$D/munge/munged.pid"; do
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
  done
  return 0
}

case $cmd in
  start) start || { stop; exit 1; } ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
