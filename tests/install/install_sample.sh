#!/bin/sh
# install_sample.sh BUILD_DIR SAMPLES_DIR WORK_DIR CMAKE CC
# Installs BUILD_DIR into WORK_DIR/prefix, then builds SAMPLES_DIR/minimal.c against that prefix
# (1) as a CMake project with find_package(synthbody) and (2) with `cc $(pkg-config ...)`, runs
# both and checks each wrote a gzip NIfTI-1 label map. Fails (exit 1) naming the failed step.
set -u
build=$1 samples=$2 work=$3 cmake=$4 cc=$5
prefix=$work/prefix

fail() {
    echo "install_sample: FAIL: $*" >&2
    exit 1
}

# A gzip file whose decompressed bytes 0..3 are sizeof_hdr = 348 (little-endian) and 344..347
# the NIfTI-1 magic "n+1\0".
check_nifti() {
    [ -s "$1" ] || fail "$1 was not written"
    hdr=$(gzip -dc "$1" | head -c 348 | od -An -c -j 344 -N 3 | tr -d ' ')
    [ "$hdr" = "n+1" ] || fail "$1: NIfTI-1 magic missing (got '$hdr')"
    size=$(gzip -dc "$1" | head -c 4 | od -An -tu4 | tr -d ' ')
    [ "$size" = 348 ] || fail "$1: sizeof_hdr is '$size', not 348"
}

rm -rf "$work"
mkdir -p "$work" || fail "cannot create $work"

"$cmake" --install "$build" --prefix "$prefix" >"$work/install.log" 2>&1 ||
    fail "cmake --install (see $work/install.log)"
for f in include/synthbody/sb_core.h include/synthbody/sb_volume.h include/synthbody/sb_export.h \
    include/synthbody/sb_mesh.h include/synthbody/sb_pipeline.h \
    lib/cmake/synthbody/synthbody-config.cmake lib/pkgconfig/synthbody.pc bin/synthbody; do
    [ -f "$prefix/$f" ] || fail "not installed: $prefix/$f"
done

# (1) CMake: a fresh configure of the standalone samples project, nothing from this build tree.
"$cmake" -S "$samples" -B "$work/cmake-build" -DCMAKE_C_COMPILER="$cc" \
    -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF \
    >"$work/cmake-configure.log" 2>&1 || fail "configure samples/ (see $work/cmake-configure.log)"
"$cmake" --build "$work/cmake-build" >"$work/cmake-build.log" 2>&1 ||
    fail "build samples/ (see $work/cmake-build.log)"
"$work/cmake-build/minimal" "$work/out-cmake" 7 || fail "CMake-built minimal exited with $?"
check_nifti "$work/out-cmake/labels.nii.gz"

# (2) pkg-config: the command line of samples/README.md; the loader finds the libraries through
# LD_LIBRARY_PATH (pkg-config gives no rpath).
PKG_CONFIG_PATH=$prefix/lib/pkgconfig
export PKG_CONFIG_PATH
flags=$(pkg-config --cflags --libs synthbody) || fail "pkg-config --cflags --libs synthbody"
case "$flags" in *"$prefix"*) ;; *) fail "pkg-config flags do not point into $prefix: $flags" ;; esac
# shellcheck disable=SC2086 # the flags are meant to split
"$cc" -std=c11 -Wall -Wextra -Werror "$samples/minimal.c" $flags -o "$work/minimal-pc" \
    >"$work/pc-build.log" 2>&1 || fail "cc minimal.c \$(pkg-config ...) (see $work/pc-build.log)"
LD_LIBRARY_PATH=$(pkg-config --variable=libdir synthbody) "$work/minimal-pc" "$work/out-pc" 7 ||
    fail "pkg-config-built minimal exited with $?"
check_nifti "$work/out-pc/labels.nii.gz"

# Same seed, same library: the two programs wrote the same bytes.
cmp -s "$work/out-cmake/labels.nii.gz" "$work/out-pc/labels.nii.gz" ||
    fail "the two builds wrote different label maps for seed 7"

# The exit code is the sb_status: an unwritable output directory is SB_ERR_OUTPUT (4).
"$work/cmake-build/minimal" /proc/synthbody-cannot-write 7 2>"$work/err.txt"
rc=$?
[ "$rc" = 4 ] || fail "unwritable OUT_DIR: exit $rc, expected 4 ($(cat "$work/err.txt"))"
"$work/cmake-build/minimal" >/dev/null 2>&1
rc=$?
[ "$rc" = 2 ] || fail "no arguments: exit $rc, expected 2"

echo "install_sample: OK (prefix $prefix)"
