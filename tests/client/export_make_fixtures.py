#!/usr/bin/python3
"""Writes NIfTI fixtures with nibabel for test_export_nibabel_read, and a sidecar
(expected.txt) with what nibabel says about each: version, byte order, shape, dtype code,
best affine, axis codes and a few voxel values. nibabel's affine is the truth.

Usage: export_make_fixtures.py OUTDIR   (run with Debian's /usr/bin/python3: nibabel)
"""
import os
import sys

import nibabel as nib
import numpy as np


def rot(axis, deg):
    c, s = np.cos(np.radians(deg)), np.sin(np.radians(deg))
    i, j = [(1, 2), (0, 2), (0, 1)][axis]
    m = np.eye(3)
    m[i, i], m[i, j], m[j, i], m[j, j] = c, -s, s, c
    return m


def affine(rotation, zooms, flip_x, origin):
    a = np.eye(4)
    a[:3, :3] = rotation @ np.diag(zooms)
    if flip_x:
        a[:3, 0] = -a[:3, 0]
    a[:3, 3] = origin
    return a


def sidecar(out, name, img, data, raw_byteorder):
    """One block of expected.txt, from nibabel's view of the file just written."""
    back = nib.load(os.path.join(out.dir, name))
    hdr = back.header
    aff = back.affine
    vol = np.asanyarray(back.dataobj)
    assert np.array_equal(vol, data), name
    assert vol.dtype.newbyteorder("=") == data.dtype.newbyteorder("="), (name, vol.dtype)
    if vol.ndim > 3:
        vol = vol[..., 0] if vol.ndim == 4 else vol.reshape(vol.shape[:3] + (-1,))[..., 0]
    version = 2 if isinstance(hdr, nib.Nifti2Header) else 1
    lines = [f"file {name}", f"version {version}", f"big_endian {int(raw_byteorder == '>')}",
             f"dtype {int(hdr['datatype'])}", "dim " + " ".join(str(d) for d in vol.shape[:3]),
             f"ndim {int(hdr['dim'][0])}", "axcodes " + "".join(nib.aff2axcodes(aff)),
             f"used_sform {int(hdr['sform_code'] > 0)}",
             "affine " + " ".join(repr(float(x)) for x in aff[:3, :].ravel())]
    rng = np.random.default_rng(5)
    picks = [(0, 0, 0), tuple(s - 1 for s in vol.shape[:3])]
    picks += [tuple(int(rng.integers(0, s)) for s in vol.shape[:3]) for _ in range(6)]
    for ijk in picks:
        lines.append("sample %d %d %d %r" % (ijk + (float(vol[ijk]),)))
    lines.append("end")
    out.write("\n".join(lines) + "\n")


def raw_sizeof_hdr_order(path):
    """The byte order the file really has on disk (checks nibabel did what we asked)."""
    import gzip
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        b = f.read(4)
    if int.from_bytes(b, "little") in (348, 540):
        return "<"
    assert int.from_bytes(b, "big") in (348, 540), path
    return ">"


class Sidecar:
    def __init__(self, d):
        self.dir = d
        self.f = open(os.path.join(d, "expected.txt"), "w")

    def write(self, s):
        self.f.write(s)


def main():
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    out = Sidecar(out_dir)
    rng = np.random.default_rng(1234)

    # 1. big-endian int16, LAS (negative x axis), oblique, NIfTI-1 .nii.gz
    data = rng.integers(-2000, 3000, size=(21, 17, 11)).astype(">i2")
    aff = affine(rot(2, 20) @ rot(0, -8), (0.8, 1.25, 2.5), True, (101.5, -87.25, 40.0))
    hdr = nib.Nifti1Header(endianness=">")
    img = nib.Nifti1Image(data, aff, hdr)
    img.set_data_dtype(data.dtype)  # with a header given, nibabel would keep its float32
    img.set_qform(aff, code=1)
    img.set_sform(aff, code=1)
    name = "be_las_oblique.nii.gz"
    nib.save(img, os.path.join(out_dir, name))
    order = raw_sizeof_hdr_order(os.path.join(out_dir, name))
    assert order == ">", "nibabel did not write big-endian"
    sidecar(out, name, img, data, order)

    # 2. NIfTI-2 float32: sform (code 2) differs from the qform (code 1); the sform wins
    data = rng.normal(0, 50, size=(13, 14, 15)).astype("<f4")
    qaff = affine(np.eye(3), (1.0, 1.0, 1.0), False, (0, 0, 0))
    saff = affine(rot(1, 15), (0.7, 0.7, 3.0), False, (-50.0, 20.5, 10.25))
    img = nib.Nifti2Image(data, saff)
    img.set_qform(qaff, code=1)
    img.set_sform(saff, code=2)
    name = "nifti2_sform.nii"
    nib.save(img, os.path.join(out_dir, name))
    sidecar(out, name, img, data, raw_sizeof_hdr_order(os.path.join(out_dir, name)))

    # 3. 4-D uint8, qform only (sform_code 0), x flipped and rotated: the qfac = -1 path
    data = rng.integers(0, 255, size=(9, 8, 7, 3)).astype("u1")
    aff = affine(rot(0, 25) @ rot(2, 50), (1.5, 1.25, 2.0), True, (12.0, 13.0, -14.0))
    img = nib.Nifti1Image(data, aff)
    img.set_qform(aff, code=1)
    img.set_sform(aff, code=0)
    name = "fourd_qform.nii.gz"
    nib.save(img, os.path.join(out_dir, name))
    assert nib.load(os.path.join(out_dir, name)).header["pixdim"][0] == -1, "qfac"
    sidecar(out, name, img, data, raw_sizeof_hdr_order(os.path.join(out_dir, name)))

    # 4. big-endian NIfTI-2 uint16 label map, plain .nii
    data = rng.integers(0, 60, size=(10, 6, 4)).astype(">u2")
    aff = affine(np.eye(3), (2.0, 2.0, 2.0), False, (-10.0, -6.0, -4.0))
    img = nib.Nifti2Image(data, aff, nib.Nifti2Header(endianness=">"))
    img.set_data_dtype(data.dtype)
    img.set_qform(aff, code=1)
    img.set_sform(aff, code=1)
    name = "nifti2_be_labels.nii"
    nib.save(img, os.path.join(out_dir, name))
    sidecar(out, name, img, data, raw_sizeof_hdr_order(os.path.join(out_dir, name)))
    out.f.close()


if __name__ == "__main__":
    main()
