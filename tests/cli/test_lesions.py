#!/usr/bin/python3
"""`synthbody generate --lesions` (README "Pathology"), read back with nibabel.

Run one test:  /usr/bin/python3 test_lesions.py --bin path/to/synthbody --src REPO --work DIR TEST
CTest registers every function named test_* as its own test (tests/cli/CMakeLists.txt).
"""
import argparse
import csv
import hashlib
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import nibabel as nib
from scipy import ndimage

BIN = SRC = WORK = None
OK, INTERNAL, USAGE, INPUT, OUTPUT, MEMORY, EXISTS, LABEL = range(8)
MIX = ("liver-metastasis:3,liver-cyst:2,hcc:1,renal-cyst:1,rcc:1,lung-nodule:3,"
       "bone-metastasis:2,brain-tumour:1,ms-lesion:4,lymph-node:2")


def run(*args, expect=None):
    p = subprocess.run([BIN, *map(str, args)], capture_output=True, text=True,
                       stdin=subprocess.DEVNULL, timeout=600)
    if expect is not None and p.returncode != expect:
        raise AssertionError(f"synthbody {' '.join(map(str, args))}: exit {p.returncode}, "
                             f"expected {expect}\nstderr: {p.stderr}")
    return p


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def generate(name, *extra, seed=3, voxel=6):
    d = os.path.join(WORK, name)
    shutil.rmtree(d, ignore_errors=True)
    run("generate", "--seed", seed, "--voxel", voxel, "--out", d, "-q", *extra, expect=OK)
    return d


def tsv(path):
    with open(path) as f:
        return list(csv.DictReader(f, delimiter="\t"))


def catalogue():
    with open(os.path.join(SRC, "volume", "lesions.json")) as f:
        return json.load(f)["types"]


def host_ids(types, label_rows, host_name, type_name):
    """Label ids a lesion of type_name with host host_name may occupy (its host group)."""
    by_name = {r["name"]: int(r["index"]) for r in label_rows}
    for h in types[type_name]["hosts"]:
        group = h if isinstance(h, list) else [h]
        if group[0] == host_name or (group[0].endswith("*") and
                                     host_name.startswith(group[0][:-1])):
            return {by_name[n] for n in (group if not group[0].endswith("*") else [host_name])
                    if n in by_name}
    raise AssertionError(f"{host_name} is not a host of {type_name}")


def test_lesions_identity_masks_table():
    # the same --seed with and without lesions: labels byte-identical everywhere (lesions never
    # change the label map), images identical outside the lesions, their oedema and the voxels
    # their surface crosses; every lesion inside its host; lesions.tsv = the masks
    contrasts = ("--contrasts", "T1w,T2w,ADC")
    a = generate("les_none", *contrasts)
    b = generate("les_mix", *contrasts, "--lesions", MIX)
    assert sha(os.path.join(a, "labels.nii.gz")) == sha(os.path.join(b, "labels.nii.gz"))
    for f in ("labels.tsv", "labels.itksnap.txt", "labels.ctbl"):
        assert sha(os.path.join(a, f)) == sha(os.path.join(b, f)), f
    assert not os.path.exists(os.path.join(a, "lesions.nii.gz"))
    lab = nib.load(os.path.join(b, "labels.nii.gz"))
    inst_img = nib.load(os.path.join(b, "lesions.nii.gz"))
    cls_img = nib.load(os.path.join(b, "lesion_classes.nii.gz"))
    for im in (inst_img, cls_img):  # same grid and affine as the labels
        assert im.shape == lab.shape and np.array_equal(im.affine, lab.affine)
        assert im.header["intent_code"] == 1002
    inst = np.asarray(inst_img.dataobj)
    cls = np.asarray(cls_img.dataobj)
    labels = np.asarray(lab.dataobj)
    assert inst.dtype == np.uint16 and cls.dtype == np.uint8
    rows = tsv(os.path.join(b, "lesions.tsv"))
    classes = {int(r["index"]): r["name"] for r in tsv(os.path.join(b, "lesion_classes.tsv"))}
    oedema = max(classes)
    assert classes[oedema] == "oedema"
    types = catalogue()
    label_rows = tsv(os.path.join(b, "labels.tsv"))
    # every requested count (all fit at 6 mm in this subject)
    want = {k.split(":")[0]: int(k.split(":")[1]) for k in MIX.split(",")}
    got = {}
    for r in rows:
        got[r["type"]] = got.get(r["type"], 0) + 1
    assert got == want, (got, want)
    # a lesion smaller than a voxel may have none: listed with 0 voxels, absent from the map
    present = {int(r["id"]) for r in rows if int(r["voxels"]) > 0}
    assert [int(r["id"]) for r in rows] == list(range(1, len(rows) + 1))
    assert set(np.unique(inst)) == present | {0} and len(present) >= len(rows) - 2
    vox_ml = float(np.prod(lab.header.get_zooms()[:3])) / 1000
    for r in rows:
        m = inst == int(r["id"])
        n = int(m.sum())
        assert n == int(r["voxels"]), r
        if n == 0:
            continue
        assert abs(n * vox_ml - float(r["volume_ml"])) < 1e-3, r
        ijk = np.argwhere(m).mean(axis=0)
        xyz = lab.affine[:3, :3] @ ijk + lab.affine[:3, 3]
        c = np.array([float(r["centroid_x_mm"]), float(r["centroid_y_mm"]),
                      float(r["centroid_z_mm"])])
        assert np.abs(xyz - c).max() < 0.01, (r, xyz)
        assert set(np.unique(cls[m])) == {int(r["class"])}, r
        assert classes[int(r["class"])] == r["type"].replace("-", "_")
        ok = host_ids(types, label_rows, r["host"], r["type"])
        assert set(np.unique(labels[m])) <= ok, (r, np.unique(labels[m]), ok)
        d = float(r["diameter_mm"])
        assert abs(d - (6 * n * vox_ml * 1000 / np.pi) ** (1 / 3)) < 0.01
    # oedema: only around the brain tumour, only in white matter, never a lesion voxel
    om = cls == oedema
    assert om.sum() > 0 and not (inst[om]).any()
    wm = {int(r["index"]) for r in label_rows if r["name"] == "brain_white_matter"}
    assert set(np.unique(labels[om])) <= wm
    # images identical outside lesions + oedema + one voxel around them (partial volume)
    touched = ndimage.binary_dilation((inst > 0) | om, structure=np.ones((3, 3, 3)))
    # and each lesion's reach (partial volume where its surface crosses a voxel whose centre
    # is outside: half its largest diameter + 2 voxels around its centroid)
    grid = np.stack(np.meshgrid(*[np.arange(n) for n in labels.shape], indexing="ij"), -1)
    world = grid @ lab.affine[:3, :3].T + lab.affine[:3, 3]
    for r in rows:
        c = np.array([float(r[k]) for k in ("centroid_x_mm", "centroid_y_mm", "centroid_z_mm")])
        reach = float(r["max_diameter_mm"]) / 2 + 2 * lab.header.get_zooms()[0]
        touched |= np.linalg.norm(world - c, axis=-1) < reach
    for c in ("T1w", "T2w", "ADC"):
        x = np.asarray(nib.load(os.path.join(a, c + ".nii.gz")).dataobj)
        y = np.asarray(nib.load(os.path.join(b, c + ".nii.gz")).dataobj)
        assert np.array_equal(x[~touched], y[~touched]), c
        assert not np.array_equal(x[inst > 0], y[inst > 0]), c
    sj = json.load(open(os.path.join(b, "subject.json")))
    assert sj["lesions"]["count"] == len(rows) and sj["lesions"]["request"] == MIX
    assert "cyst_fluid" in sj["mri"]["tissue_values"]
    assert "cyst_fluid" not in json.load(open(os.path.join(a, "subject.json")))["mri"][
        "tissue_values"]
    print(f"{len(rows)} lesions, {int((inst > 0).sum())} lesion voxels, {int(om.sum())} oedema")


def test_lesions_contrast():
    # each type's "expect" (lesions.json) measured on the images: lesion interior against the
    # host's interior away from lesions
    d = generate("les_contrast", "--contrasts", "T1w,T2w,ADC", "--lesions",
                 "liver-cyst:3,liver-metastasis:3,renal-cyst:2,brain-tumour:1", voxel=4)
    inst = np.asarray(nib.load(os.path.join(d, "lesions.nii.gz")).dataobj)
    labels = np.asarray(nib.load(os.path.join(d, "labels.nii.gz")).dataobj)
    label_rows = tsv(os.path.join(d, "labels.tsv"))
    types = catalogue()
    imgs = {c: np.asanyarray(nib.load(os.path.join(d, c + ".nii.gz")).get_fdata())
            for c in ("T1w", "T2w", "ADC")}
    far = ~ndimage.binary_dilation(inst > 0, iterations=2)
    checked = 0
    rows = tsv(os.path.join(d, "lesions.tsv"))
    for t in sorted({r["type"] for r in rows}):
        mine = [r for r in rows if r["type"] == t]
        m = np.zeros(inst.shape, bool)  # interiors of the type's lesions
        for r in mine:
            m |= ndimage.binary_erosion(inst == int(r["id"]))
        host = np.zeros(inst.shape, bool)
        for r in mine:
            host |= np.isin(labels, list(host_ids(types, label_rows, r["host"], r["type"])))
        host = ndimage.binary_erosion(host) & far
        assert m.sum() >= 2, (t, int(m.sum()))
        for c, want in types[t]["expect"].items():
            if want == "variable":  # either, in different subjects (lesion_validate)
                continue
            lm, hm = float(imgs[c][m].mean()), float(imgs[c][host].mean())
            ok = lm > hm if want in ("brighter", "higher") else lm < hm
            print(f"{t} ({int(m.sum())} voxels) {c}: lesion {lm:.1f} host {hm:.1f} ({want})")
            assert ok, (t, c, lm, hm, want)
            checked += 1
    assert checked >= 9, checked


def test_lesions_seed_threads_slabs():
    # --lesion-seed changes the lesions, never the body; threads and slabs never the bytes
    a = generate("les_s1", "--lesions", "liver-metastasis:2,lung-nodule:2", "--lesion-seed", 1,
                 "--protocol", "ukbiobank-dixon", voxel=4)
    b = generate("les_s2", "--lesions", "liver-metastasis:2,lung-nodule:2", "--lesion-seed", 2,
                 "--protocol", "ukbiobank-dixon", voxel=4)
    assert sha(os.path.join(a, "labels.nii.gz")) == sha(os.path.join(b, "labels.nii.gz"))
    assert sha(os.path.join(a, "lesions.nii.gz")) != sha(os.path.join(b, "lesions.nii.gz"))
    assert sha(os.path.join(a, "lesions.tsv")) != sha(os.path.join(b, "lesions.tsv"))
    c = generate("les_s1_t1", "--lesions", "liver-metastasis:2,lung-nodule:2", "--lesion-seed", 1,
                 "--protocol", "ukbiobank-dixon", "--threads", 1, voxel=4)
    d = os.path.join(WORK, "les_s1_slabs")
    shutil.rmtree(d, ignore_errors=True)
    p = run("generate", "--seed", 3, "--voxel", 4, "--out", d, "-v", "--threads", 1, "--lesions",
            "liver-metastasis:2,lung-nodule:2", "--lesion-seed", 1, "--protocol", "ukbiobank-dixon",
            "--max-memory-gb", 0.25, expect=OK)
    assert "in slabs of" in p.stderr, p.stderr
    for f in sorted(os.listdir(a)):
        assert sha(os.path.join(a, f)) == sha(os.path.join(c, f)), f"{f}: threads"
        assert sha(os.path.join(a, f)) == sha(os.path.join(d, f)), f"{f}: slabs"
    # the same lesions in world mm at another voxel size (the plan is made on its own grid)
    e = generate("les_s1_6mm", "--lesions", "liver-metastasis:2,lung-nodule:2", "--lesion-seed",
                 1, "--protocol", "ukbiobank-dixon", voxel=6)
    for r4, r6 in zip(tsv(os.path.join(a, "lesions.tsv")), tsv(os.path.join(e, "lesions.tsv"))):
        assert r4["type"] == r6["type"] and r4["host"] == r6["host"]
        c4 = np.array([float(r4[k]) for k in ("centroid_x_mm", "centroid_y_mm", "centroid_z_mm")])
        c6 = np.array([float(r6[k]) for k in ("centroid_x_mm", "centroid_y_mm", "centroid_z_mm")])
        assert np.linalg.norm(c4 - c6) < 6, (r4, r6)


def test_lesions_steatosis():
    a = generate("les_fat0", "--contrasts", "fatfrac", voxel=8)
    b = generate("les_fat1", "--contrasts", "fatfrac", "--lesions", "steatosis", voxel=8)
    fa = json.load(open(os.path.join(a, "subject.json")))["subject_parameters"]
    fb = json.load(open(os.path.join(b, "subject.json")))["subject_parameters"]
    assert 10 <= fb["liver_fat_percent"] <= 35 and fb["liver_fat_percent"] != fa["liver_fat_percent"]
    labels = np.asarray(nib.load(os.path.join(b, "labels.nii.gz")).dataobj)
    liver = [int(r["index"]) for r in tsv(os.path.join(b, "labels.tsv")) if r["name"] == "liver"]
    ff = np.asanyarray(nib.load(os.path.join(b, "fatfrac.nii.gz")).get_fdata())
    inner = ndimage.binary_erosion(labels == liver[0])
    assert abs(np.median(ff[inner]) - fb["liver_fat_percent"]) < 3, np.median(ff[inner])
    assert tsv(os.path.join(b, "lesions.tsv")) == []


def test_lesions_organ_resize():
    # hepatomegaly, splenomegaly: the organs' volume times a factor drawn in the type's range
    # (subject.json lesions.resize: factor asked, volume measured on the map); the label map
    # changes only where one of the two maps has the resized organs
    a = generate("les_resize0", "--contrasts", "T2w", voxel=8)
    b = generate("les_resize1", "--contrasts", "T2w", "--lesions", "splenomegaly,hepatomegaly",
                 voxel=8)
    la = np.asarray(nib.load(os.path.join(a, "labels.nii.gz")).dataobj)
    lb = np.asarray(nib.load(os.path.join(b, "labels.nii.gz")).dataobj)
    ids = {r["name"]: int(r["index"]) for r in tsv(os.path.join(b, "labels.tsv"))}
    sj = json.load(open(os.path.join(b, "subject.json")))["lesions"]
    rs = {r["structure"]: r for r in sj["resize"]}
    assert set(rs) == {"spleen", "liver"}, sj
    types = catalogue()
    assert types["splenomegaly"]["range"][0] <= rs["spleen"]["factor"] <= \
        types["splenomegaly"]["range"][1]
    assert types["hepatomegaly"]["range"][0] <= rs["liver"]["factor"] <= \
        types["hepatomegaly"]["range"][1]
    assert "splenomegaly spleen x" in sj["diffuse"] and "hepatomegaly liver x" in sj["diffuse"]
    organ = np.isin(la, [ids["spleen"], ids["liver"]]) | np.isin(lb, [ids["spleen"],
                                                                      ids["liver"]])
    # outside the organs nothing changes (the specks an enlarged organ cuts off take the organ,
    # specks.c)
    assert la.shape == lb.shape
    changed = (la != lb) & ~organ
    dist = ndimage.distance_transform_edt(~organ) * 8
    print(f"{int(changed.sum())} label voxels changed outside the organs "
          f"(of {int((la != lb).sum())}), the farthest {dist[changed].max(initial=0):.0f} mm away")
    assert not changed.any() and (la != lb).sum() > 100
    for name in ("spleen", "liver"):
        n = int((lb == ids[name]).sum())
        assert abs(rs[name]["volume_ml"] - n * 0.512) < 1e-6, (name, rs[name], n)
    grown = (lb == ids["spleen"]).sum() / (la == ids["spleen"]).sum()
    print(f"spleen x{rs['spleen']['factor']:.2f} asked, x{grown:.2f} on the 8 mm map; liver "
          f"x{rs['liver']['factor']:.2f} asked, x{(lb == ids['liver']).sum() / (la == ids['liver']).sum():.2f}")
    assert grown > 1.3
    # images: identical farther than 60 mm from the organs, except one voxel around a changed
    # label (its partial volume)
    near = (dist <= 60) | ndimage.binary_dilation(la != lb, structure=np.ones((3, 3, 3)))
    x = np.asarray(nib.load(os.path.join(a, "T2w.nii.gz")).dataobj)
    y = np.asarray(nib.load(os.path.join(b, "T2w.nii.gz")).dataobj)
    assert np.array_equal(x[~near], y[~near])
    assert not np.array_equal(x[organ], y[organ])
    assert tsv(os.path.join(b, "lesions.tsv")) == []
    # a resize of a structure the anatomy lacks: exit 2 naming it, nothing written
    d = os.path.join(WORK, "les_resize_bad")
    shutil.rmtree(d, ignore_errors=True)
    f = os.path.join(WORK, "les_resize_bad.json")
    doc = json.load(open(os.path.join(SRC, "volume", "lesions.json")))
    doc["types"]["nephromegaly"] = {"diffuse": "resize", "structure": "kidny", "range": [1.2, 1.5]}
    json.dump(doc, open(f, "w"))
    p = run("generate", "--seed", 3, "--voxel", 8, "--out", d, "--lesions", "nephromegaly",
            "--lesion-file", f, expect=USAGE)
    assert "kidny" in p.stderr and not os.path.exists(d), p.stderr


def test_lesions_bad_input():
    d = os.path.join(WORK, "les_bad")
    shutil.rmtree(d, ignore_errors=True)
    p = run("generate", "--seed", 3, "--voxel", 8, "--out", d, "--lesions", "liver-tumor:2",
            expect=USAGE)
    assert "liver-tumor" in p.stderr and "liver-metastasis" in p.stderr and not os.path.exists(d)
    for bad in ("liver-cyst:x", "liver-cyst:5-2", "liver-cyst:999", "liver-cyst,", "",
                "liver-cyst:1,liver-cyst:2"):
        p = run("generate", "--seed", 3, "--voxel", 8, "--out", d, "--lesions", bad,
                expect=USAGE)
        assert "--lesions" in p.stderr and not os.path.exists(d), (bad, p.stderr)
    f = os.path.join(WORK, "les_bad.json")
    doc = json.load(open(os.path.join(SRC, "volume", "lesions.json")))
    doc["types"]["liver-cyst"]["tissue"] = "jelly"
    json.dump(doc, open(f, "w"))
    p = run("generate", "--seed", 3, "--voxel", 8, "--out", d, "--lesions", "liver-cyst",
            "--lesion-file", f, expect=INPUT)
    assert f in p.stderr and "types.liver-cyst.tissue" in p.stderr and "jelly" in p.stderr
    assert not os.path.exists(d)
    # a new type in a file of one's own, and outputs not overwritten without --force
    doc["types"]["liver-cyst"]["tissue"] = "cyst_fluid"
    doc["types"]["spleen-cyst"] = dict(doc["types"]["liver-cyst"], hosts=["spleen"])
    json.dump(doc, open(f, "w"))
    run("generate", "--seed", 3, "--voxel", 8, "--out", d, "--lesions", "spleen-cyst:1",
        "--lesion-file", f, "-q", expect=OK)
    rows = tsv(os.path.join(d, "lesions.tsv"))
    assert len(rows) == 1 and rows[0]["host"] == "spleen"
    before = sha(os.path.join(d, "lesions.nii.gz"))
    p = run("generate", "--seed", 3, "--voxel", 8, "--out", d, "--lesions", "spleen-cyst:1",
            "--lesion-file", f, "--lesion-seed", 9, expect=EXISTS)
    assert sha(os.path.join(d, "lesions.nii.gz")) == before


def test_lesions_meshes():
    # --mesh: meshes/lesion_<id>.stl, closed, enclosing the lesion's volume (lesions.tsv)
    import struct
    d = generate("les_mesh", "--contrasts", "T2w", "--mesh", "--lesions",
                 "liver-cyst:2,bone-metastasis:1", voxel=6)
    rows = tsv(os.path.join(d, "lesions.tsv"))
    sj = json.load(open(os.path.join(d, "subject.json")))
    listed = {m["name"]: m for m in sj["lesions"]["meshes"]}
    for r in rows:
        path = os.path.join(d, "meshes", f"lesion_{r['id']}.stl")
        if int(r["voxels"]) == 0:
            assert not os.path.exists(path)
            continue
        data = open(path, "rb").read()
        (n,) = struct.unpack_from("<I", data, 80)
        v = np.frombuffer(data, dtype=np.dtype([("n", "<f4", 3), ("v", "<f4", (3, 3)),
                                                ("a", "<u2")]), count=n, offset=84)["v"]
        v = v.astype(np.float64)
        vol = np.einsum("ij,ij->i", v[:, 0], np.cross(v[:, 1], v[:, 2])).sum() / 6000
        e = np.concatenate([v[:, [0, 1]], v[:, [1, 2]], v[:, [2, 0]]])  # (3n, 2, 3)
        a, b = [x.reshape(-1, 3) for x in (e[:, 0], e[:, 1])]
        first = np.array([tuple(p) <= tuple(q) for p, q in zip(a, b)])
        lo, hi = np.where(first[:, None], a, b), np.where(first[:, None], b, a)
        _, counts = np.unique(np.hstack([lo, hi]), axis=0, return_counts=True)
        assert (counts == 2).all(), f"lesion {r['id']}: open or non-manifold"
        ml = float(r["volume_ml"])
        assert abs(vol - ml) < 0.35 * ml + 0.216, (r["id"], vol, ml)  # + one 6 mm voxel
        assert listed[f"lesion_{r['id']}"]["triangles"] == n
    assert len(listed) >= 2


def png_rgb(path):
    """8-bit RGB PNG (as sb_png_write_rgb writes it) -> (h, w, 3) array."""
    import struct
    import zlib
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, b""
    w = h = None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and ctype == 2
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(h, 1 + 3 * w)
    out = np.zeros((h, 3 * w), np.int32)
    prev = np.zeros(3 * w, np.int32)
    for y in range(h):  # PNG filters (None, Sub, Up, Average, Paeth)
        f, line = raw[y, 0], raw[y, 1:].astype(np.int32)
        cur = np.zeros(3 * w, np.int32)
        for x in range(3 * w):
            a = cur[x - 3] if x >= 3 else 0
            b = prev[x]
            c = prev[x - 3] if x >= 3 else 0
            p = (0 if f == 0 else a if f == 1 else b if f == 2 else (a + b) // 2 if f == 3 else
                 (a if abs(b - c) <= abs(a - c) and abs(b - c) <= abs(a + b - 2 * c) else
                  b if abs(a - c) <= abs(a + b - 2 * c) else c))
            cur[x] = (line[x] + p) & 255
        out[y], prev = cur, cur
    return out.reshape(h, w, 3)


def test_lesions_preview_overlay():
    # preview --overlay-map lesion_classes --at X,Y: the lesion colours of lesion_classes.tsv
    # drawn on slices through a lesion
    d = generate("les_preview", "--contrasts", "T2w", "--lesions", "liver-metastasis:1", voxel=8)
    r = tsv(os.path.join(d, "lesions.tsv"))[0]
    x, y, z = (float(r[k]) for k in ("centroid_x_mm", "centroid_y_mm", "centroid_z_mm"))
    png = os.path.join(WORK, "les_preview.png")
    run("preview", d, "--out", png, "--contrast", "T2w", "--overlay", "--overlay-map",
        "lesion_classes", "--at", f"{x},{y}", "--force", expect=OK)
    rgb = png_rgb(png)
    grey = (rgb[..., 0] == rgb[..., 1]) & (rgb[..., 1] == rgb[..., 2])
    coloured = rgb[~grey]
    # the metastasis colour #d55e00 blended 45 % over grey: red > green > blue
    assert len(coloured) > 0 and np.all(coloured[:, 0] > coloured[:, 2]), len(coloured)
    p = run("preview", d, "--out", png, "--contrast", "T2w", "--overlay", "--overlay-map",
            "no_such_map", "--force",
            expect=INPUT)
    assert "no_such_map" in p.stderr
    p = run("preview", d, "--out", png, "--at", "1", "--force", expect=USAGE)
    assert "--at" in p.stderr


def splitmix(z):
    m = (1 << 64) - 1
    z = (z + 0x9E3779B97F4A7C15) & m
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & m
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & m
    return z ^ (z >> 31)


def test_lesions_batch_rate():
    # batch --lesion-rate R: subject k has lesions iff u_k < R (README "Pathology"), recorded in
    # participants.tsv; its lesion files equal `generate --seed S_k --lesions`'s
    d = os.path.join(WORK, "les_batch")
    shutil.rmtree(d, ignore_errors=True)
    spec = "liver-cyst:1,lung-nodule:1"
    run("batch", "--count", 6, "--seed", 7, "--voxel", 8, "--out", d, "--contrasts", "T2w",
        "--lesions", spec, "--lesion-rate", 0.5, "-q", expect=OK)
    rows = tsv(os.path.join(d, "participants.tsv"))
    assert list(rows[0].keys())[-2:] == ["pathology", "lesion_count"], rows[0].keys()
    pj = json.load(open(os.path.join(d, "participants.json")))
    assert "pathology" in pj and "lesion_count" in pj
    abnormal = 0
    for k, r in enumerate(rows, start=1):
        sk = splitmix((7 + (k - 1) * 0x9E3779B97F4A7C15) & ((1 << 64) - 1))
        assert int(r["seed"]) == sk
        u = (splitmix(sk ^ 0x4C4553494F4E) >> 11) / 2.0 ** 53
        der = os.path.join(d, "derivatives", "synthbody", r["participant_id"], "anat")
        les = os.path.join(der, r["participant_id"] + "_desc-lesions_dseg.nii.gz")
        if u < 0.5:
            abnormal += 1
            assert r["pathology"] == spec and int(r["lesion_count"]) == 2, r
            assert os.path.exists(les)
            t = tsv(os.path.join(der, r["participant_id"] + "_lesions.tsv"))
            assert len(t) == 2
        else:
            assert r["pathology"] == "n/a" and r["lesion_count"] == "0" and not os.path.exists(les)
    assert 1 <= abnormal <= 5, abnormal
    # the first abnormal subject: the same bytes as generate
    r = next(r for r in rows if r["pathology"] != "n/a")
    g = generate("les_batch_gen", "--contrasts", "T2w", "--lesions", spec, seed=int(r["seed"]),
                 voxel=8)
    der = os.path.join(d, "derivatives", "synthbody", r["participant_id"], "anat")
    assert sha(os.path.join(g, "lesions.nii.gz")) == sha(
        os.path.join(der, r["participant_id"] + "_desc-lesions_dseg.nii.gz"))
    # a rerun with another rate is refused (settings differ); bad options exit 2
    p = run("batch", "--count", 6, "--seed", 7, "--voxel", 8, "--out", d, "--contrasts", "T2w",
            "--lesions", spec, "--lesion-rate", 0.25, expect=EXISTS)
    p = run("batch", "--count", 2, "--out", d + "_x", "--lesion-rate", 0.5, expect=USAGE)
    assert "--lesions" in p.stderr and not os.path.exists(d + "_x")
    p = run("batch", "--count", 2, "--out", d + "_x", "--lesions", spec, "--lesion-rate", 2,
            expect=USAGE)
    assert "--lesion-rate" in p.stderr
    p = run("batch", "--count", 2, "--out", d + "_x", "--lesions", "liver-tumor:2", expect=USAGE)
    assert "liver-tumor" in p.stderr and not os.path.exists(d + "_x")


def tree_hashes(d):
    out = {}
    for root, _, files in os.walk(d):
        for f in files:
            p = os.path.join(root, f)
            rel = os.path.relpath(p, d)
            if "/logs/" not in "/" + rel:
                out[rel] = sha(p)
    return out


def test_lesions_batch_twins():
    # batch --normal-twins: each subject with lesions is followed by sub-<k>normal, the same
    # subject without lesions (= generate --seed S_k), named in participants.tsv's twin column
    d = os.path.join(WORK, "les_twins")
    shutil.rmtree(d, ignore_errors=True)
    spec = "liver-cyst:1,renal-cyst:1"
    args = ["batch", "--count", 4, "--seed", 7, "--voxel", 8, "--contrasts", "T2w", "--lesions",
            spec, "--lesion-rate", 0.5, "--normal-twins", "-q"]
    run(*args, "--out", d, expect=OK)
    rows = tsv(os.path.join(d, "participants.tsv"))
    assert list(rows[0].keys())[-3:] == ["pathology", "lesion_count", "twin"], rows[0].keys()
    assert "twin" in json.load(open(os.path.join(d, "participants.json")))
    assert json.load(open(os.path.join(d, "derivatives", "synthbody", "batch.json")))[
        "normal_twins"] is True
    ids = [r["participant_id"] for r in rows]
    twins = 0
    for k in range(1, 5):
        sk = splitmix((7 + (k - 1) * 0x9E3779B97F4A7C15) & ((1 << 64) - 1))
        u = (splitmix(sk ^ 0x4C4553494F4E) >> 11) / 2.0 ** 53
        sub = f"sub-{k:04d}"
        r = rows[ids.index(sub)]
        if u >= 0.5:
            assert r["pathology"] == "n/a" and r["twin"] == "n/a", r
            assert sub + "normal" not in ids
            continue
        twins += 1
        t = rows[ids.index(sub) + 1]
        assert t["participant_id"] == sub + "normal" and r["twin"] == sub + "normal", (r, t)
        assert t["twin"] == sub and t["pathology"] == "n/a" and t["lesion_count"] == "0"
        assert r["pathology"] == spec and int(r["lesion_count"]) == 2
        for c in ("sex", "age", "height", "weight", "bmi", "seed"):
            assert r[c] == t[c], c
        der = os.path.join(d, "derivatives", "synthbody")
        # the same labels; other T2w (the lesions); no lesion files for the twin
        assert sha(os.path.join(der, sub, "anat", sub + "_dseg.nii.gz")) == sha(
            os.path.join(der, sub + "normal", "anat", sub + "normal_dseg.nii.gz"))
        assert sha(os.path.join(d, sub, "anat", sub + "_T2w.nii.gz")) != sha(
            os.path.join(d, sub + "normal", "anat", sub + "normal_T2w.nii.gz"))
        assert not os.path.exists(os.path.join(der, sub + "normal", "anat",
                                               sub + "normal_desc-lesions_dseg.nii.gz"))
        if twins == 1:  # the twin is generate --seed S_k, byte for byte
            g = generate("les_twin_gen", "--contrasts", "T2w", seed=sk, voxel=8)
            assert sha(os.path.join(g, "T2w.nii.gz")) == sha(
                os.path.join(d, sub + "normal", "anat", sub + "normal_T2w.nii.gz"))
    assert len(rows) == 4 + twins and twins >= 1, (len(rows), twins)
    # any split, the same bytes; a rerun skips everything and keeps them
    d2 = d + "_split"
    shutil.rmtree(d2, ignore_errors=True)
    for i in (1, 0):
        run(*args, "--out", d2, "--shard", f"{i}/2", expect=OK)
    assert tree_hashes(d) == tree_hashes(d2)
    before = tree_hashes(d)
    run(*args, "--out", d, expect=OK)
    assert tree_hashes(d) == before
    log = tsv(os.path.join(d, "derivatives", "synthbody", "logs", "shard-0-of-1.tsv"))
    assert [r["status"] for r in log[-(4 + twins):]] == ["skipped"] * (4 + twins), log
    # other settings refused; --normal-twins needs --lesions
    run(*[a for a in args if a != "--normal-twins"], "--out", d, expect=EXISTS)
    p = run("batch", "--count", 2, "--out", d + "_x", "--normal-twins", expect=USAGE)
    assert "--normal-twins" in p.stderr and not os.path.exists(d + "_x")


def main():
    global BIN, SRC, WORK
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--src", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("test")
    a = ap.parse_args()
    BIN, SRC, WORK = map(os.path.abspath, (a.bin, a.src, a.work))
    os.makedirs(WORK, exist_ok=True)
    fn = globals().get(a.test)
    if not fn or not a.test.startswith("test_"):
        sys.exit(f"no test named {a.test}")
    fn()
    print(f"{a.test}: ok")


if __name__ == "__main__":
    main()
