#!/usr/bin/python3
"""Writes the seed corpora of the fuzz targets into tests/fuzz/corpus/<target>/ (committed).

Usage: /usr/bin/python3 tests/fuzz/make_seeds.py SUBJECT_DIR
SUBJECT_DIR is a `synthbody generate --voxel 8 --mesh --contrasts T1w` output (our own files:
label map, labels.tsv, an STL). The NIfTI seeds are small nibabel-written variants (byte
orders, NIfTI-2, 4-D, sform/qform/pixdim affines, datatypes) cut from our label map; the
nibabel test data directory is added by CMake as a further seed directory. Debian's Python.
"""
import gzip
import json
import os
import sys

import nibabel as nib
import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
repo = os.path.dirname(os.path.dirname(here))
subj = sys.argv[1]


def out(target, name, data):
    d = os.path.join(here, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ---- NIfTI: small crops of our label map in every layout the reader accepts
lab = nib.load(os.path.join(subj, "labels.nii.gz"))
arr = np.asarray(lab.dataobj)
cz = arr.shape[2] // 2
crop = np.ascontiguousarray(arr[::4, ::4, cz - 2:cz + 2])  # a few hundred voxels


def nii_bytes(img):
    return img.to_bytes()


aff = lab.affine.copy()
img = nib.Nifti1Image(crop.astype(np.uint16), aff)
img.header.set_intent(1002)
out("nifti", "labels_crop_u16.nii", nii_bytes(img))
out("nifti", "labels_crop_u16.nii.gz", gzip.compress(nii_bytes(img), 6))
out("nifti", "ours_labels_8mm.nii.gz", open(os.path.join(subj, "labels.nii.gz"), "rb").read())
be = nib.Nifti1Image(crop.astype(">i2"), aff)
be.header.set_data_dtype(">i2")
out("nifti", "big_endian_i16.nii", nii_bytes(be))
n2 = nib.Nifti2Image(crop.astype(np.float32), aff)
out("nifti", "nifti2_f32.nii", nii_bytes(n2))
four = nib.Nifti1Image(np.stack([crop, crop], axis=-1).astype(np.uint8), aff)
out("nifti", "4d_u8.nii", nii_bytes(four))
obl = aff.copy()
c, s = np.cos(0.3), np.sin(0.3)
obl[:3, :3] = np.diag([-8.0, 8.0, 8.0]) @ np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])
q = nib.Nifti1Image(crop.astype(np.int32), obl)
q.header.set_sform(None, code=0)  # qform only
out("nifti", "qform_only_las_oblique_i32.nii", nii_bytes(q))
p = nib.Nifti1Image(crop.astype(np.float64), aff)
p.header.set_sform(None, code=0)
p.header.set_qform(None, code=0)  # pixdim only
out("nifti", "pixdim_only_f64.nii", nii_bytes(p))

# ---- anatomy: the embedded documents made self-contained (the landmarks merged in), and a
# small document using every shape kind
adir = os.path.join(repo, "volume", "anatomy")
lm = json.load(open(os.path.join(adir, "landmarks.json")))["landmarks"]
body_shapes = json.load(open(os.path.join(adir, "body.json")))["shapes"]
for name in ("body", "thorax", "head_neck"):
    doc = json.load(open(os.path.join(adir, name + ".json")))
    doc["landmarks"] = {**lm, **doc.get("landmarks", {})}
    if name != "body":  # the named shapes they clip to (`within`) live in body.json
        doc["shapes"] = {**body_shapes, **doc.get("shapes", {})}
        # a few structures only: measuring every organ's reference volume takes > 10 s per
        # input under the fuzzer's instrumentation (0.6 s in a Release build)
        # (and no brain part: measuring a folded cortex alone takes seconds there)
        sized = [st for st in doc["structures"]
                 if "volume_ml" in st and not st["name"].startswith("brain")]
        doc["structures"] = [st for st in doc["structures"] if "volume_ml" not in st][:5] + sized[:1]
    out("anatomy", name + "_with_landmarks.json", json.dumps(doc).encode())
mini = {
    "format": "synthbody-anatomy", "version": 1,
    "landmarks": {"L1": [0, -40, 1188], "hip_right": [92, 10, 927.5]},
    "shapes": {"body": {"capsule": {"a": [0, 0, 100], "b": [0, 0, 1600], "r": 150}},
               "core": {"offset": {"d": -20, "of": {"ref": "body"}}}},
    "structures": [
        {"id": 1, "name": "skin", "abbrev": "SKN", "group": "skin", "tissue": "skin",
         "color": "#ffe0c0", "priority": 1, "shape": {"shell": {"t": "skin_mm", "of": {"ref": "body"}}}},
        {"id": 2, "name": "organ", "abbrev": "ORG", "group": "digestive", "tissue": "liver",
         "color": "#dd8265", "priority": 300, "anchor": "L1", "volume_ml": [500, 400], "cv": 0.1,
         "within": "core", "jitter_mm": 2,
         "shape": {"smooth_union": {"k": 5, "of": [
             {"ellipsoid": {"c": [0, 0, 0], "r": [60, 40, 30], "rot": [0, 10, 0]}},
             {"superquadric": {"c": [30, 0, 0], "r": [20, 20, 20], "e": [0.5, 1]}},
             {"box": {"c": [0, 30, 0], "h": [10, 10, 10], "round": 2}},
             {"torus": {"c": [0, 0, 40], "R": 20, "r": 5}},
             {"tube": {"points": [[0, 0, 0, 5], [0, 20, 20, 4], [0, 40, 0, 3]], "closed": False}},
             {"difference": [{"sphere": {"c": [0, 0, 0], "r": 10}},
                             {"halfspace": {"p": [0, 0, 0], "n": [0, 0, 1]}}]},
             {"intersect": [{"sphere": {"c": [5, 0, 0], "r": 10}}, {"sphere": {"c": [-5, 0, 0], "r": 10}}]},
             {"mirror_x": {"sphere": {"c": [50, 0, 0], "r": "0.5*fat_trunk_mm"}}},
             {"union": [{"sphere": {"c": [0, 0, -30], "r": 5}}]}]}}},
        {"id": 3, "name": "bone", "abbrev": "BON", "group": "skeleton", "tissue": "cortical_bone",
         "color": "#eeeeee", "priority": 200, "mirror": True, "anchor": "hip_right",
         "core": {"tissue": "yellow_marrow", "depth_mm": 3}, "sex": "female",
         "shape": {"capsule": {"a": [0, 0, 0], "b": [0, 0, -400], "r": [12, 10]}}},
    ],
}
out("anatomy", "mini_every_shape.json", json.dumps(mini, indent=1).encode())

# ---- tissue tables (the embedded table is a seed directory of its own in CMake)
override = {"format": "synthbody-tissues", "version": 1, "references": {"me": "my lab"},
            "tissues": {"liver": {"pd": [0.75, 0.04], "ff": [0.05, 0.02],
                                  "t1_ms": [[586, 39], [809, 71]], "t2_ms": [[46, 6], [34, 4]],
                                  "t2s_ms": [[28, 5], [15, 3]], "adc": [1.2, 0.15],
                                  "src": {"pd": "me"}}},
            "fat_component": {"t1_ms": [[343, 37], [382, 13]], "t2_ms": [[58, 4], [68, 4]],
                              "adc": [0.015, 0.005], "spectrum_ppm": [-3.8, -3.4, -2.6],
                              "spectrum_amp": [0.1, 0.7, 0.2]}}
out("tissues", "override_liver_fat.json", json.dumps(override, indent=1).encode())

# ---- labels.tsv: ours, and one of another tool with odd rows
out("labels_tsv", "ours_labels.tsv", open(os.path.join(subj, "labels.tsv"), "rb").read())
out("labels_tsv", "other_tool.tsv",
    b"index\tname\n1\tliver\n2\tspleen\n3\t../../etc/passwd\n4\tbad\x01name\n5\tliver\n"
    b"70000\tbig\n-1\tneg\n6\tkidney\t\t#zz00zz\n")

# ---- meshes: first byte picks the extension (fuzz_mesh.c: stl obj ply off glb gltf 3mf mesh)
stl = open(os.path.join(subj, "meshes", "adrenal_gland_left.stl"), "rb").read()
out("mesh", "ours_adrenal.stl.seed", b"\x00" + stl)
cube_v = [(0, 0, 0), (1, 0, 0), (1, 1, 0), (0, 1, 0), (0, 0, 1), (1, 0, 1), (1, 1, 1), (0, 1, 1)]
cube_f = [(0, 2, 1), (0, 3, 2), (4, 5, 6), (4, 6, 7), (0, 1, 5), (0, 5, 4), (2, 3, 7), (2, 7, 6),
          (1, 2, 6), (1, 6, 5), (0, 4, 7), (0, 7, 3)]
obj = "".join("v %g %g %g\n" % v for v in cube_v) + "".join(
    "f %d %d %d\n" % (a + 1, b + 1, c + 1) for a, b, c in cube_f)
out("mesh", "cube.obj.seed", b"\x01" + obj.encode())
ply = ("ply\nformat ascii 1.0\nelement vertex 8\nproperty float x\nproperty float y\n"
       "property float z\nelement face 12\nproperty list uchar int vertex_indices\nend_header\n"
       + "".join("%g %g %g\n" % v for v in cube_v) + "".join("3 %d %d %d\n" % f for f in cube_f))
out("mesh", "cube.ply.seed", b"\x02" + ply.encode())
off = "OFF\n8 12 0\n" + "".join("%g %g %g\n" % v for v in cube_v) + "".join(
    "3 %d %d %d\n" % f for f in cube_f)
out("mesh", "cube.off.seed", b"\x03" + off.encode())

# ---- command-line values: "<number or list or protocol>\n<contrast list>"
for i, s in enumerate([b"2\n", b"0.85,0.72,0.64,0.52\n", b"default\nT1w,T2w",
                       b"oncology-wb\n", b"ukbiobank-dixon\ndixon_water,fatfrac",
                       b"neuro\nFLAIR", b"18446744073709551615\ndwi_b50,dwi_b800,ADC",
                       b"0x1p-3\nSTIR,bSSFP,GRE,PDw", b"1e308\n"]):
    out("cli", "seed%02d" % i, s)
print("seeds written to", os.path.join(here, "corpus"))
