#!/usr/bin/python3
"""Writes the hostile-input set into a directory (README "Hardening"): NIfTI files that lie
about themselves, label tables with dangerous names, a mesh that crashed Assimp. Plain Python
(struct, gzip): every file is built byte by byte, so each lie is exactly the one named.

Usage: make_hostile.py OUTDIR        (prints one line per file: name, expected exit, keyword)
The list is also importable: CASES = [(file name, exit code, words the message must hold)].
"""
import gzip
import math
import os
import struct
import sys

NAN = float("nan")
INF = float("inf")


def nifti1(dim=(3, 4, 4, 4, 1, 1, 1, 1), datatype=4, bitpix=16, pixdim=(1, 2, 2, 2, 1, 1, 1, 1),
           vox_offset=352.0, sform_code=1, qform_code=0, srow=None, magic=b"n+1\0",
           sizeof_hdr=348, endian="<"):
    """A NIfTI-1 header (348 bytes) + 4 extension bytes, little-endian unless endian='>'."""
    if srow is None:
        srow = ((pixdim[1], 0, 0, 0), (0, pixdim[2], 0, 0), (0, 0, pixdim[3], 0))
    e = endian
    h = bytearray(348)
    struct.pack_into(e + "i", h, 0, sizeof_hdr)
    struct.pack_into(e + "8h", h, 40, *dim)
    struct.pack_into(e + "h", h, 70, datatype)
    struct.pack_into(e + "h", h, 72, bitpix)
    struct.pack_into(e + "8f", h, 76, *pixdim)
    struct.pack_into(e + "f", h, 108, vox_offset)
    struct.pack_into(e + "f", h, 112, 1.0)  # scl_slope
    struct.pack_into(e + "h", h, 252, qform_code)
    struct.pack_into(e + "h", h, 254, sform_code)
    for r in range(3):
        struct.pack_into(e + "4f", h, 280 + 16 * r, *srow[r])
    h[344:348] = magic
    return bytes(h) + b"\0\0\0\0"


def nifti2(dim, datatype=2, bitpix=8, pixdim=(1, 1, 1, 1, 1, 1, 1, 1), vox_offset=544):
    h = bytearray(540)
    struct.pack_into("<i", h, 0, 540)
    h[4:12] = b"n+2\0\r\n\x1a\n"
    struct.pack_into("<h", h, 12, datatype)
    struct.pack_into("<h", h, 14, bitpix)
    struct.pack_into("<8q", h, 16, *dim)
    struct.pack_into("<8d", h, 104, *pixdim)
    struct.pack_into("<q", h, 168, vox_offset)
    struct.pack_into("<d", h, 176, 1.0)
    struct.pack_into("<i", h, 344, 0)  # qform_code
    struct.pack_into("<i", h, 348, 1)  # sform_code
    for r in range(3):
        row = [0.0] * 4
        row[r] = pixdim[r + 1]
        struct.pack_into("<4d", h, 400 + 32 * r, *row)
    return bytes(h) + b"\0\0\0\0"


def data(n):
    return bytes(n)


ok = nifti1() + data(4 * 4 * 4 * 2)  # a valid 4x4x4 int16 file, the base of the lies

CASES = []  # (name, bytes, exit code, words)


def case(name, blob, words, code=3):
    CASES.append((name, blob, code, words))


case("empty.nii", b"", ["empty"])
case("wrong_magic.nii", nifti1(magic=b"xyz\0") + data(128), ["magic"])
case("analyze_pair_header.nii", nifti1(magic=b"ni1\0") + data(128), ["ni1"])
case("not_nifti.nii", b"hello, I am a text file pretending to be NIfTI\n" * 8, ["not a NIfTI"])
case("truncated_header.nii", ok[:200], ["truncated header"])
case("truncated_data.nii", nifti1(dim=(3, 64, 64, 64, 1, 1, 1, 1)) + data(1000), ["truncated"])
case("truncated_gzip.nii.gz", gzip.compress(nifti1(dim=(3, 1000, 1000, 1000, 1, 1, 1, 1),
                                                   datatype=64, bitpix=64)), ["truncated"])
case("oversized_dims.nii", nifti1(dim=(3, 32767, 32767, 32767, 1, 1, 1, 1)) + data(64),
     ["truncated"])
case("oversized_dims_nifti2.nii", nifti2((3, 1 << 40, 1 << 20, 1 << 2, 1, 1, 1, 1)) + data(64),
     ["truncated"])
case("dims_overflow_nifti2.nii", nifti2((3, 1 << 62, 1 << 62, 4, 1, 1, 1, 1)) + data(64),
     ["overflow"])
case("negative_dim.nii", nifti1(dim=(3, 4, -4, 4, 1, 1, 1, 1)) + data(128), ["dim[2]"])
case("zero_dim.nii", nifti1(dim=(3, 4, 4, 0, 1, 1, 1, 1)) + data(128), ["dim[3]"])
case("ndim_zero.nii", nifti1(dim=(0, 4, 4, 4, 1, 1, 1, 1)) + data(128), ["dim[0]"])
case("ndim_eight.nii", nifti1(dim=(8, 4, 4, 4, 1, 1, 1, 1)) + data(128), ["dim[0]"])
case("negative_pixdim.nii", nifti1(pixdim=(1, 2, -2, 2, 1, 1, 1, 1)) + data(128), ["pixdim[2]"])
case("zero_pixdim.nii", nifti1(pixdim=(1, 0, 2, 2, 1, 1, 1, 1)) + data(128), ["pixdim[1]"])
case("nan_pixdim.nii", nifti1(pixdim=(1, 2, 2, NAN, 1, 1, 1, 1)) + data(128), ["pixdim[3]"])
case("inf_pixdim.nii", nifti1(pixdim=(1, INF, 2, 2, 1, 1, 1, 1)) + data(128), ["pixdim[1]"])
case("absurd_spacing.nii", nifti1(pixdim=(1, 1e30, 2, 2, 1, 1, 1, 1)) + data(128),
     ["mm long"])
case("singular_sform.nii", nifti1(srow=((2, 0, 0, 0), (4, 0, 0, 0), (0, 0, 2, 0))) + data(128),
     ["singular"])
case("nan_sform.nii", nifti1(srow=((2, 0, 0, NAN), (0, 2, 0, 0), (0, 0, 2, 0))) + data(128),
     ["srow_x"])
case("4d_million_volumes_nifti2.nii", nifti2((4, 4, 4, 4, 1000000, 1, 1, 1)) + data(64),
     ["1000000 volumes"])
case("4d_million_volumes_nifti2.nii.gz",
     gzip.compress(nifti2((4, 4, 4, 4, 1000000, 1, 1, 1)) + data(64)), ["1000000 volumes"])
case("5d_million_volumes.nii", nifti1(dim=(5, 4, 4, 4, 1000, 1000, 1, 1)) + data(128),
     ["1000000 volumes"])
case("unsupported_datatype.nii", nifti1(datatype=32, bitpix=64) + data(1024), ["datatype"])
case("nan_vox_offset.nii", nifti1(vox_offset=NAN) + data(128), ["vox_offset"])
case("huge_vox_offset.nii", nifti1(vox_offset=1e20) + data(128), ["vox_offset"])
case("directory_named.nii", None, ["directory"])


def write_all(out):
    os.makedirs(out, exist_ok=True)
    for name, blob, code, words in CASES:
        p = os.path.join(out, name)
        if blob is None:
            os.makedirs(p, exist_ok=True)
            continue
        with open(p, "wb") as f:
            f.write(blob)


if __name__ == "__main__":
    write_all(sys.argv[1])
    for name, blob, code, words in CASES:
        print(name, code, "|".join(words))
