#!/bin/bash
# A synthbody dataset made by GNU parallel on one machine, or on several over ssh
# (parallel -S host1,host2 with DIR on a shared file system): job i of JOBS makes the subjects
# k with (k - 1) mod JOBS == i; same bytes as one process.
#
#   samples/cluster/gnu_parallel.sh                 # 100 subjects, 4 jobs, into ./synthbody-dataset
#   COUNT=20 JOBS=2 OUT=bodies samples/cluster/gnu_parallel.sh
#
# Run it again to resume: finished subjects are skipped. With --halt now,fail=1 a failing job
# stops the others (SIGTERM: they remove the subject they were making).
set -euo pipefail

SYNTHBODY=${SYNTHBODY:-synthbody}
OUT=${OUT:-synthbody-dataset}
COUNT=${COUNT:-100}
SEED=${SEED:-1}
VOXEL=${VOXEL:-2}
JOBS=${JOBS:-4}

# shellcheck disable=SC2086  # SYNTHBODY_ARGS is a list of options
seq 0 $((JOBS - 1)) | parallel --will-cite -q --halt now,fail=1 -j "$JOBS" \
    "$SYNTHBODY" batch --count "$COUNT" --out "$OUT" --seed "$SEED" --voxel "$VOXEL" \
    --threads 1 --shard "{}/$JOBS" ${SYNTHBODY_ARGS:-}
