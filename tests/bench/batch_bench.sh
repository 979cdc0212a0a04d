#!/bin/bash
# Subjects per hour of `synthbody batch` at 2 mm (labels, T1w, T2w and meshes), side by side with
# the loop a user would otherwise script (`synthbody generate` per subject, same seeds, same
# work), and with the batch split into two shards running at once.
#
# usage: tests/bench/batch_bench.sh SYNTHBODY [COUNT (3)] [WORK (/tmp/synthbody-batch-bench)]
# Prints, per variant, wall seconds, subjects per hour and the peak memory of the largest process
# (GNU time's "Maximum resident set size"; a batch's subject runs in a child process, counted).
# Needs ~250 MB of disk per subject and variant (2 mm, meshes); WORK is removed at the end.
set -euo pipefail

BIN=$(readlink -f "$1")
COUNT=${2:-3}
WORK=${3:-/tmp/synthbody-batch-bench}
SEED=1 VOXEL=2
THREADS=$(nproc)
rm -rf "$WORK"
mkdir -p "$WORK"
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ)"
echo "synthbody $("$BIN" --version | cut -d' ' -f2), $COUNT subjects, seed $SEED, ${VOXEL} mm, --mesh"

timed() { # name, then the command; prints name, wall s, subjects/hour, peak RSS MB
    local name=$1
    shift
    local t0 t1
    t0=$(date +%s.%N)
    /usr/bin/time -f '%M' -o "$WORK/$name.rss" "$@"
    t1=$(date +%s.%N)
    awk -v n="$name" -v a="$t0" -v b="$t1" -v c="$COUNT" -v r="$(tail -n1 "$WORK/$name.rss")" \
        'BEGIN {printf "%-34s %8.1f s %8.1f subjects/h %8.0f MB\n", n, b - a, c * 3600 / (b - a), r / 1024}'
}

timed "batch, 1 process, $THREADS threads" \
    "$BIN" batch --count "$COUNT" --out "$WORK/batch" --seed $SEED --voxel $VOXEL --mesh \
    --shard 0/1 --threads "$THREADS" -q

SEEDS=$(awk -F'\t' 'NR > 1 {print $7}' "$WORK/batch/participants.tsv")
loop() {
    for s in $SEEDS; do
        "$BIN" generate --seed "$s" --voxel $VOXEL --mesh --out "$WORK/loop/$s" \
            --threads "$THREADS" -q
    done
}
export -f loop
export BIN SEEDS VOXEL WORK THREADS
timed "generate loop, $THREADS threads" bash -c loop
s1=$(echo "$SEEDS" | head -n1)
cmp -s "$WORK/loop/$s1/T1w.nii.gz" "$WORK/batch/sub-0001/anat/sub-0001_T1w.nii.gz" &&
    echo "generate --seed $s1 and sub-0001: same T1w bytes"
rm -rf "$WORK/loop" # ~250 MB per subject with meshes

two_shards() {
    "$BIN" batch --count "$COUNT" --out "$WORK/shards" --seed $SEED --voxel $VOXEL --mesh \
        --shard 0/2 --threads 1 -q &
    "$BIN" batch --count "$COUNT" --out "$WORK/shards" --seed $SEED --voxel $VOXEL --mesh \
        --shard 1/2 --threads 1 -q
    wait
}
export -f two_shards
export COUNT SEED
timed "batch, 2 shards x 1 thread" bash -c two_shards

diff -r -x logs "$WORK/batch" "$WORK/shards" >/dev/null && echo "1 process and 2 shards: same bytes"
rm -rf "$WORK"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
