#!/usr/bin/python3
"""Checks with nibabel the NIfTI files test_export_write_samples wrote, against the sidecar
written.txt: affine, aff2axcodes, dtype, intent code, qform_code == sform_code == 1,
get_qform() == get_sform(), units mm, scl 1/0, vox_offset 352, voxel values and sum.

Usage: export_check_written.py DIR   (run with Debian's /usr/bin/python3: nibabel)
"""
import os
import sys

import nibabel as nib
import numpy as np

DTYPES = {2: np.uint8, 4: np.int16, 16: np.float32, 512: np.uint16}


def blocks(path):
    block = {}
    with open(path) as f:
        for line in f:
            key, _, rest = line.strip().partition(" ")
            if key == "end":
                yield block
                block = {}
            elif key == "sample":
                block.setdefault("samples", []).append(rest.split())
            else:
                block[key] = rest


def check(d, b):
    name = b["file"]
    img = nib.load(os.path.join(d, name))
    hdr = img.header
    want_aff = np.array([float(x) for x in b["affine"].split()]).reshape(3, 4)
    # stored as float32: equal to float32 precision
    assert np.allclose(img.affine[:3], want_aff, rtol=1e-6, atol=1e-5), (name, img.affine)
    axcodes = "".join(nib.aff2axcodes(img.affine))
    assert axcodes == b["axcodes"], (name, axcodes, b["axcodes"])
    assert hdr.get_data_dtype() == np.dtype(DTYPES[int(b["dtype"])]), (name, hdr.get_data_dtype())
    assert int(hdr["intent_code"]) == int(b["intent"]), (name, hdr["intent_code"])
    assert int(hdr["qform_code"]) == 1 and int(hdr["sform_code"]) == 1, name
    q, s = hdr.get_qform(), hdr.get_sform()
    assert np.allclose(q, s, rtol=1e-6, atol=1e-5), (name, q, s)
    assert hdr.get_xyzt_units() == ("mm", "unknown"), (name, hdr.get_xyzt_units())
    # a loaded image's header has scl_* and vox_offset reset: read the header as stored
    with nib.openers.ImageOpener(os.path.join(d, name)) as f:
        raw = nib.Nifti1Header.from_fileobj(f)
    assert float(raw["scl_slope"]) == 1.0 and float(raw["scl_inter"]) == 0.0, name
    assert int(raw["vox_offset"]) == 352 and raw["magic"] == b"n+1", name
    assert raw.endianness == "<", name
    assert img.dataobj.slope == 1.0 and img.dataobj.inter == 0.0 and img.dataobj.offset == 352
    assert hdr["descrip"].item() == b"synthbody test", (name, hdr["descrip"])
    assert np.allclose(hdr.get_zooms(), np.linalg.norm(want_aff[:, :3], axis=0), rtol=1e-6), name
    data = np.asanyarray(img.dataobj)
    assert data.shape == tuple(int(x) for x in b["dim"].split()) and data.dtype == DTYPES[int(b["dtype"])], name
    for i, j, k, v in b["samples"]:
        assert data[int(i), int(j), int(k)] == float(v), (name, i, j, k, data[int(i), int(j), int(k)], v)
    total = data.astype(np.float64).sum()
    assert abs(total - float(b["sum"])) <= 1e-6 * max(1.0, abs(float(b["sum"]))), (name, total)
    print(f"{name}: ok ({axcodes}, {data.dtype}, intent {int(hdr['intent_code'])})")


def main():
    d = sys.argv[1]
    n = 0
    for b in blocks(os.path.join(d, "written.txt")):
        check(d, b)
        n += 1
    assert n == 5, f"{n} files in written.txt, expected 5"


if __name__ == "__main__":
    main()
