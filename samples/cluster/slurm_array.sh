#!/bin/bash
# A synthbody dataset made by a Slurm job array: every array task makes its share of the
# subjects, with the same bytes as one process making them all.
#
#   sbatch --array=0-3 samples/cluster/slurm_array.sh                  # 4 tasks
#   COUNT=1000 SEED=42 OUT=/scratch/$USER/bodies sbatch --array=0-99 samples/cluster/slurm_array.sh
#
# Task i of N (N = SLURM_ARRAY_TASK_COUNT, i = SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN) makes
# the subjects k with (k - 1) mod N == i. Rerun the same sbatch line after a failure, a time
# limit or a preemption: finished subjects are skipped, partial ones are made again. The last
# task to finish writes participants.tsv (or run `synthbody batch --merge "$OUT"`).
# Settings come from the environment (sbatch exports it): SYNTHBODY (the command), OUT, COUNT,
# SEED, VOXEL, SYNTHBODY_ARGS (more options, e.g. "--mesh --protocol oncology-wb").
#
#SBATCH --job-name=synthbody
#SBATCH --array=0-3
#SBATCH --cpus-per-task=2
#SBATCH --mem=8G
#SBATCH --time=04:00:00
#SBATCH --output=synthbody-%A_%a.log
set -euo pipefail

SYNTHBODY=${SYNTHBODY:-synthbody}
OUT=${OUT:-synthbody-dataset}
COUNT=${COUNT:-100}
SEED=${SEED:-1}
VOXEL=${VOXEL:-2}

# Slurm sends SIGTERM before killing a task (time limit, scancel, preemption): synthbody then
# removes the subject it was making and exits; `exec` lets the signal reach it directly.
# shellcheck disable=SC2086  # SYNTHBODY_ARGS is a list of options
exec "$SYNTHBODY" batch --count "$COUNT" --out "$OUT" --seed "$SEED" --voxel "$VOXEL" \
    --threads "${SLURM_CPUS_PER_TASK:-1}" ${SYNTHBODY_ARGS:-}
