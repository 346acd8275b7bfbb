#!/usr/bin/env bash
# A real Slurm run on this machine (issue 15): installs Debian's slurm-wlm and munge, starts a
# single-node cluster (slurmctld and slurmd on localhost), submits slurm.sh as an array job
# over slurm-small.toml in 4 shards, waits, merges the shards with `gradflow report`, runs the
# same grid on this machine without Slurm, and checks that both reports agree: the headline
# table exactly, and every student's losses and stop reasons.
#   sudo bash experiments/synthetic150/slurm_local.sh 2>&1 | tee experiments/synthetic150/slurm-local.log
# Needs root (packages, daemons); leaves the daemons running (stop: scancel; pkill slurmd
# slurmctld munged).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"
shards=4
work=${WORK:-$here/results/slurm-local}
config=$here/slurm-small.toml
echo "== $(date -u +%FT%TZ) on $(hostname -s): $(nproc) cores"

echo "== packages"
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q slurm-wlm munge >/dev/null
fi
slurmctld -V

echo "== munge"
if [ ! -s /etc/munge/munge.key ]; then mungekey --create; fi
chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
mkdir -p /run/munge && chown munge:munge /run/munge
pgrep -x munged >/dev/null || runuser -u munge -- /usr/sbin/munged
munge -n | unmunge | grep STATUS

echo "== slurm.conf"
host=$(hostname -s)
cpus=$(nproc)
mem=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 * 9 / 10 ))
mkdir -p /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
cat > /etc/slurm/slurm.conf <<CONF
ClusterName=gradflow-local
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
ReturnToService=2
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
grep -E "NodeName|PartitionName" /etc/slurm/slurm.conf

echo "== daemons"
pgrep -x slurmctld >/dev/null || slurmctld -c
pgrep -x slurmd >/dev/null || slurmd
for _ in $(seq 60); do
  state=$(sinfo -h -o %T 2>/dev/null || true)
  [ "$state" = idle ] && break
  sleep 1
done
sinfo

echo "== build"
cargo build --release --bin gradflow 2>&1 | tail -1

echo "== Slurm array: $shards shards of $(basename "$config")"
rm -rf "$work" && mkdir -p "$work"
t0=$(date +%s)
sbatch --wait --array=1-$shards --cpus-per-task=1 --mem=4G --time=60 \
  --output="$work/slurm-%A_%a.out" \
  --export=ALL,CONFIG="$config",OUT="$work/slurm-study",SLURM_ARRAY_TASK_COUNT=$shards \
  "$here/slurm.sh"
echo "array finished in $(( $(date +%s) - t0 )) s"
sacct -X -n -o JobID,State,ExitCode,Elapsed 2>/dev/null || squeue
for f in "$work"/slurm-*.out; do echo "-- $(basename "$f"): $(wc -l < "$f") lines"; tail -2 "$f"; done
target/release/gradflow report "$work/slurm-study" -o "$work/report-slurm"

echo "== the same grid on this machine, without Slurm"
t0=$(date +%s)
target/release/gradflow study --config "$config" --out "$work/local-study" --threads "$cpus" --quiet
echo "single-machine run finished in $(( $(date +%s) - t0 )) s"
target/release/gradflow report "$work/local-study" -o "$work/report-local"

echo "== comparison"
echo "-- headline (Slurm)"
cat "$work/report-slurm/headline.csv"
python3 "$here/compare_reports.py" "$work/report-slurm" "$work/report-local"
