#!/usr/bin/env bash
# A single-node Slurm cluster on this machine, for trying PAUdm's pilot runners and for
# the Slurm test. Needs root and Debian's slurm-wlm and munge (packaging/install-deps.sh
# --slurm).
#
#   packaging/slurm/local-slurm.sh start STATE_DIR   starts munged, slurmctld and slurmd;
#                                                   prints the SLURM_CONF to export
#   packaging/slurm/local-slurm.sh stop STATE_DIR
#
# Everything (configuration, spool, logs, pid files) stays in STATE_DIR, so it does not
# touch a Slurm installation of the machine. The node offers 8 CPUs whatever the hardware,
# so that several pilots share a small machine.
set -euo pipefail
action=${1:-}
state=${2:-}
if [ -z "$action" ] || [ -z "$state" ]; then
  sed -n '2,12p' "$0"
  exit 2
fi
[ "$(id -u)" -eq 0 ] || { echo "local-slurm: needs root" >&2; exit 1; }
mkdir -p "$state"
state=$(cd "$state" && pwd)
conf="$state/slurm.conf"

stop() {
  for d in slurmd slurmctld; do
    if [ -f "$state/$d.pid" ]; then
      kill "$(cat "$state/$d.pid")" 2>/dev/null || true
    fi
  done
  for _ in $(seq 50); do
    alive=0
    for d in slurmd slurmctld; do
      [ -f "$state/$d.pid" ] && kill -0 "$(cat "$state/$d.pid")" 2>/dev/null && alive=1
    done
    [ $alive -eq 0 ] && break
    sleep 0.1
  done
  rm -f "$state/slurmd.pid" "$state/slurmctld.pid"
}

case "$action" in
  stop) stop; exit 0 ;;
  start) ;;
  *) echo "local-slurm: start or stop" >&2; exit 2 ;;
esac

command -v slurmctld >/dev/null && command -v munged >/dev/null ||
  { echo "local-slurm: slurm-wlm and munge are not installed (packaging/install-deps.sh --slurm)" >&2; exit 1; }

# munge: one key, one daemon for the machine, run as the munge account.
if [ ! -s /etc/munge/munge.key ]; then
  mkdir -p /etc/munge
  dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key status=none
fi
chown munge:munge /etc/munge/munge.key
chmod 0400 /etc/munge/munge.key
mkdir -p /run/munge /var/lib/munge /var/log/munge
chown munge:munge /run/munge /var/lib/munge /var/log/munge
if ! pgrep -x munged >/dev/null; then
  runuser -u munge -- /usr/sbin/munged
fi

host=$(hostname -s)
mkdir -p "$state/spool/ctld" "$state/spool/d" "$state/log"
cat > "$conf" <<CONF
ClusterName=paudm-local
SlurmctldHost=$host
SlurmUser=root
AuthType=auth/munge
StateSaveLocation=$state/spool/ctld
SlurmdSpoolDir=$state/spool/d
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
SlurmctldLogFile=$state/log/slurmctld.log
SlurmdLogFile=$state/log/slurmd.log
SlurmctldPort=6817
SlurmdPort=6818
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
SlurmdParameters=config_overrides
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
NodeName=$host CPUs=8 RealMemory=4000 State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF

stop
export SLURM_CONF="$conf"
slurmctld
slurmd
for _ in $(seq 100); do
  if sinfo -h -o '%t' 2>/dev/null | grep -qE '^(idle|mix|alloc)'; then
    echo "SLURM_CONF=$conf"
    exit 0
  fi
  sleep 0.2
done
echo "local-slurm: the node did not come up; see $state/log" >&2
tail -5 "$state/log/slurmctld.log" "$state/log/slurmd.log" >&2 || true
exit 1
