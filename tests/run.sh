#!/bin/sh
# Installs what is missing, builds with -Werror, runs the whole suite; then builds with
# AddressSanitizer + UndefinedBehaviorSanitizer and runs the suite again; then ThreadSanitizer
# on the threaded paths and 30 s of fuzzing per fuzz target (README "Hardening").
# Usage: tests/run.sh            (from the repository root, as root on Debian 12)
# Build trees: build-test/, build-asan/, build-tsan/, build-fuzz/ (removed first).
set -eu
cd "$(dirname "$0")/.."
.ci/install-deps
jobs=$(nproc)

rm -rf build-test build-asan
cmake -S . -B build-test -DCMAKE_BUILD_TYPE=Release -DSYNTHBODY_WERROR=ON
cmake --build build-test -j "$jobs"
ctest --test-dir build-test -j "$jobs" --output-on-failure

cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DSYNTHBODY_WERROR=ON -DSYNTHBODY_SANITIZE=ON
cmake --build build-asan -j "$jobs"
# Under the sanitizers, not the tests that hand our files to other programs (Blender, PrusaSlicer,
# a Slurm cluster) or run valgrind: our binary does the same work in the Release pass and in the
# other sanitized tests, and these took a third of the sanitized pass's time
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan -j "$jobs" --output-on-failure \
    -E 'blender|prusaslicer|plates_slice|gcode|slurm|valgrind'

# Hardening (README "Hardening"): the threaded paths under ThreadSanitizer (clang's libomp and its
# Archer tool; OpenBLAS kept to one thread of its own), then each fuzz target for 30 s, two at a time.
rm -rf build-tsan build-fuzz
tsan_tests='test_mc test_mesh test_volume_maps test_volume_mri test_export_nifti test_outfile'
CC=clang-14 CXX=clang++-14 cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DSYNTHBODY_TSAN=ON -DSYNTHBODY_WITH_VTK=OFF -DBUILD_SHARED_LIBS=OFF
# shellcheck disable=SC2086
cmake --build build-tsan -j "$jobs" --target $tsan_tests
TSAN_OPTIONS=halt_on_error=1:ignore_noninstrumented_modules=1 OMP_NUM_THREADS=2 \
OMP_TOOL_LIBRARIES=/usr/lib/llvm-14/lib/libarcher.so OPENBLAS_NUM_THREADS=1 \
    ctest --test-dir build-tsan -j "$jobs" --output-on-failure -R "^($(echo $tsan_tests | tr ' ' '|'))\$"
CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DSYNTHBODY_FUZZ=ON -DSYNTHBODY_WITH_VTK=OFF -DBUILD_SHARED_LIBS=OFF -DSB_FUZZ_SECONDS=30
cmake --build build-fuzz -j "$jobs"
ctest --test-dir build-fuzz -j 2 --output-on-failure -L fuzz
echo "tests/run.sh: all tests passed (Release, ASan+UBSan, TSan, fuzzing)"
