#!/bin/bash
# A real one-node Slurm cluster on this machine (Debian's slurm-wlm and munge, as root): munged
# with a fresh key, slurmctld and slurmd with a minimal slurm.conf in a temporary directory;
# `sbatch --array=0-3` of samples/cluster/slurm_array.sh makes 8 subjects at 8 mm; the dataset
# must equal, byte for byte, the same 8 subjects made by one process (`--shard 0/1`). The
# daemons are stopped in every case (trap).
#
# usage: slurm_array_test.sh SYNTHBODY SAMPLE_SCRIPT WORK_DIR
set -euo pipefail

BIN=$(readlink -f "$1")
SCRIPT=$(readlink -f "$2")
WORK=$3
COUNT=8 SEED=5 VOXEL=8

fail() {
    echo "slurm_array_test: FAIL: $*" >&2
    exit 1
}

[ "$(id -u)" = 0 ] || fail "must run as root (slurmd runs jobs as their user)"
for tool in munged munge slurmctld slurmd sbatch squeue scontrol sinfo scancel; do
    command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] ||
        fail "$tool is missing: apt-get install slurm-wlm munge (.ci/packages)"
done
PATH=$PATH:/usr/sbin

mkdir -p "$WORK"
WORK=$(readlink -f "$WORK")
T=$(mktemp -d /tmp/sb-slurm.XXXXXX) # daemons' files; short: the munge socket path is limited
export SLURM_CONF=$T/slurm.conf
# the daemons run in the foreground as this script's children, so that a harness killing the
# test's process tree (a CTest timeout) takes them too; the trap stops them otherwise
DAEMONS=""

cleanup() {
    local rc=$?
    set +e
    [ -n "${JOB:-}" ] && scancel "$JOB" 2>/dev/null
    for pid in $DAEMONS; do
        kill "$pid" 2>/dev/null
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null
    done
    if [ $rc != 0 ]; then
        for f in "$T"/slurmctld.log "$T"/slurmd.log "$T"/task-*.out; do
            [ -f "$f" ] && { echo "---- $f"; tail -n 30 "$f"; }
        done >&2
    fi
    rm -rf "$T"
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# free TCP ports for slurmctld and slurmd
read -r CTLD_PORT SLURMD_PORT < <(/usr/bin/python3 -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')

mkdir -p "$T/munge" "$T/state" "$T/spool"
chmod 700 "$T/munge"
head -c 1024 /dev/urandom >"$T/munge/munge.key"
chmod 400 "$T/munge/munge.key"
munged -F -f -S "$T/munge/munge.sock" --key-file="$T/munge/munge.key" \
    --log-file="$T/munge/munged.log" --pid-file="$T/munge/munged.pid" \
    --seed-file="$T/munge/munged.seed" >"$T/munge/munged.out" 2>&1 &
DAEMONS="$!"
for _ in $(seq 100); do [ -S "$T/munge/munge.sock" ] && break; sleep 0.1; done
munge -S "$T/munge/munge.sock" -n | unmunge -S "$T/munge/munge.sock" >/dev/null ||
    fail "munge credentials do not round-trip"

HOST=$(hostname -s)
MEM_MB=$(awk '/MemTotal/ {print int($2 / 1024 * 0.9)}' /proc/meminfo)
CPUS=$(nproc)
cat >"$SLURM_CONF" <<EOF
ClusterName=synthbodytest
SlurmctldHost=$HOST(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
AuthType=auth/munge
AuthInfo=socket=$T/munge/munge.sock
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/builtin
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/slurmctld.log
SlurmdLogFile=$T/slurmd.log
ReturnToService=2
MinJobAge=600
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
NodeName=$HOST NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$MEM_MB State=UNKNOWN
PartitionName=synthbody Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
EOF
slurmctld -D -i -f "$SLURM_CONF" >"$T/slurmctld.out" 2>&1 &
DAEMONS="$! $DAEMONS"
slurmd -D -f "$SLURM_CONF" >"$T/slurmd.out" 2>&1 &
DAEMONS="$! $DAEMONS"
for _ in $(seq 300); do
    [ "$(sinfo -h -o %t 2>/dev/null)" = idle ] && break
    sleep 0.1
done
[ "$(sinfo -h -o %t)" = idle ] || fail "the node is not idle: $(sinfo -h -o '%t %E')"

DS=$WORK/slurm-dataset REF=$WORK/slurm-reference
rm -rf "$DS" "$REF"
START=$(date +%s)
JOB=$(sbatch --parsable --array=0-3 --cpus-per-task=1 --mem=400M --time=30 \
    --output="$T/task-%A_%a.out" --chdir="$WORK" \
    --export="ALL,SYNTHBODY=$BIN,OUT=$DS,COUNT=$COUNT,SEED=$SEED,VOXEL=$VOXEL,SYNTHBODY_ARGS=-q" \
    "$SCRIPT") || fail "sbatch refused the job"
JOB=${JOB%%;*}
for _ in $(seq 1800); do
    [ -z "$(squeue -h -j "$JOB" 2>/dev/null)" ] && break
    sleep 0.5
done
[ -z "$(squeue -h -j "$JOB")" ] || fail "job $JOB still queued or running after 15 min"
echo "slurm_array_test: job $JOB (4 array tasks) done in $(($(date +%s) - START)) s"
STATES=$(scontrol -o show job "$JOB" | grep -o 'JobState=[A-Z]* .*ExitCode=[0-9:]*' |
    sed -E 's/JobState=([A-Z]+) .*ExitCode=([0-9:]+)/\1 \2/' | sort | uniq -c)
echo "$STATES"
[ "$(scontrol -o show job "$JOB" | grep -c 'JobState=COMPLETED .*ExitCode=0:0')" = 4 ] ||
    fail "not every array task completed with exit code 0: $STATES"

# what each task made: shard i of 4 from SLURM_ARRAY_TASK_ID/COUNT, subjects i+1 and i+5
for i in 0 1 2 3; do
    log=$DS/derivatives/synthbody/logs/shard-$i-of-4.tsv
    [ -f "$log" ] || fail "no log of shard $i of 4"
    got=$(awk -F'\t' 'NR > 1 {printf "%s:%s ", $1, $3}' "$log")
    want="sub-$(printf %04d $((i + 1))):done sub-$(printf %04d $((i + 5))):done "
    [ "$got" = "$want" ] || fail "shard $i made '$got', expected '$want'"
done
[ -f "$DS/participants.tsv" ] || fail "no participants.tsv after the last task"

"$BIN" batch --count $COUNT --out "$REF" --seed $SEED --voxel $VOXEL --shard 0/1 -q
nfiles=$(cd "$REF" && find . -type f -not -path './derivatives/synthbody/logs/*' | wc -l)
diff -r -x logs "$REF" "$DS" || fail "the Slurm dataset differs from the one-process dataset"
[ -z "$(find "$DS" -name '.*.tmp.*' -o -name .work)" ] || fail "temporary files left in $DS"
echo "slurm_array_test: ok: $nfiles files identical to the one-process dataset"
