#!/bin/sh
# Installs what is missing, builds with -Werror, runs the whole suite; then builds with
# AddressSanitizer + UndefinedBehaviorSanitizer and runs the suite again.
# Usage: tests/run.sh            (from the repository root, as root on Debian 12)
# Build trees: build-test/ and build-asan/ (removed first).
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
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan -j "$jobs" --output-on-failure
echo "tests/run.sh: all tests passed (Release and ASan+UBSan builds)"
