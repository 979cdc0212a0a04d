#!/usr/bin/python3
"""`synthbody sculpt` checked on what a maker of the sculpture relies on.

Run one test:  /usr/bin/python3 test_sculpt.py --bin synthbody --work DIR TEST
CTest registers every function named test_* (tests/cli/CMakeLists.txt); test_make_sculpture makes
a 4 mm subject and its sculpture of 10 mm axial layers once (a CTest fixture), the
test_on_sculpture_* tests read those files:
  - every part closed and 2-manifold by our checker (`synthbody info`) and by PrusaSlicer 2.5
    (`--info`: manifold = yes, one object per part in the layer's 3MF);
  - the layers' volumes sum to the uncut model's volume (and to the label map's) within 1 %;
  - every cut face planar: each vertex of a part lies between its layer's planes, and every
    vertex of a triangle lying in a cut face is within 0.01 mm of the plane;
  - every laser-cut sheet (SVG) rendered by rsvg-convert (librsvg), sized to its layer's
    bounding box in mm, with closed paths;
  - every slice image (PNG, read by VTK's libpng reader) sized to the layer at the DPI asked.
"""
import argparse
import glob
import hashlib
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import time
import zipfile

import nibabel as nib
import numpy as np

BIN = WORK = TEST = None
OK, INTERNAL, USAGE, INPUT, OUTPUT, MEMORY, EXISTS, LABEL = range(8)
TOL = 0.01  # mm: the acceptance bound on the cut faces


def run(*args, expect=None, timeout=900):
    p = subprocess.run([BIN, *map(str, args)], capture_output=True, text=True,
                       stdin=subprocess.DEVNULL, timeout=timeout)
    if expect is not None and p.returncode != expect:
        raise AssertionError(f"synthbody {' '.join(map(str, args))}: exit {p.returncode}, "
                             f"expected {expect}\nstdout: {p.stdout}\nstderr: {p.stderr}")
    return p


def subject_dir():
    return os.path.join(WORK, "subject")


def sculpt_dir():
    return os.path.join(WORK, "sculpture")


def manifest(d):
    with open(os.path.join(d, "manifest.json")) as f:
        return json.load(f)


def files_in(d):
    return sorted(os.path.relpath(p, d) for p in glob.glob(os.path.join(d, "**", "*"),
                                                           recursive=True) if os.path.isfile(p))


def sha_tree(d):
    out = {}
    for rel in files_in(d):
        with open(os.path.join(d, rel), "rb") as f:
            out[rel] = hashlib.sha256(f.read()).hexdigest()
    return out


def read_stl(path):
    with open(path, "rb") as f:
        head = f.read(84)
        n = struct.unpack("<I", head[80:84])[0]
        rec = np.frombuffer(f.read(50 * n), dtype=np.dtype([("n", "<f4", 3), ("v", "<f4", (3, 3)),
                                                           ("a", "<u2")]))
    return rec["v"].astype(np.float64)  # (n, 3, 3)


def signed_volume(tri):
    return np.einsum("ij,ij->i", tri[:, 0], np.cross(tri[:, 1], tri[:, 2])).sum() / 6.0


def info(path):
    """Our checker (`synthbody info`) on a mesh file -> {key: value}."""
    p = run("info", path, expect=OK)
    return dict(re.findall(r"^(\w+): (.*)$", p.stdout, re.M))


def prusa_info(paths):
    """prusa-slicer --info on many files -> {file name: [{key: value} per object]}."""
    p = subprocess.run(["prusa-slicer", "--info", *paths], capture_output=True, text=True,
                       timeout=600)
    assert p.returncode == 0, f"prusa-slicer exit {p.returncode}: {p.stderr[-2000:]}"
    out, cur = {}, None
    for line in p.stdout.splitlines():
        mm = re.match(r"^\[(.+)\]$", line)
        if mm:
            cur = {}
            out.setdefault(mm.group(1), []).append(cur)
            continue
        kv = re.match(r"^(\w+) = *(.*)$", line)
        if kv and cur is not None:
            cur[kv.group(1)] = kv.group(2).strip()
    return out


# ---- the fixture --------------------------------------------------------------------------------

def test_make_sculpture():
    s, out = subject_dir(), sculpt_dir()
    shutil.rmtree(s, ignore_errors=True)
    shutil.rmtree(out, ignore_errors=True)
    run("generate", "--seed", 1, "--voxel", 4, "--contrasts", "T1w", "--out", s, "-q", expect=OK)
    run("sculpt", s, "--out", out, "--layer-mm", 10, "--dpi", 25.4, "-q", expect=OK)
    left = [f for f in glob.glob(os.path.join(out, "**", ".*"), recursive=True) if ".tmp." in f]
    assert not left, left
    m = manifest(out)
    n = len(m["layers"])
    # the 4 mm man is ~1.8 m tall: 10 mm layers from the soles to the top of the head
    assert 150 <= n <= 200, n
    assert m["axis"] == "z" and m["scale"] == 1 and m["layer_mm"] == 10
    # every file of the manifest exists, and nothing else was written
    want = {"manifest.json", "assembly.md"}
    for L in m["layers"]:
        want.add(L["3mf"])
        want.add(L["svg"]["path"])
        want.add(L["png"]["path"])
        want.update(p["stl"] for p in L["parts"])
    assert set(files_in(out)) == want, set(files_in(out)) ^ want


# ---- the sculpture, read back ---------------------------------------------------------------------

def test_on_sculpture_layers():
    """Layers in order, 10 mm each (the last may be thinner), covering the body."""
    m = manifest(sculpt_dir())
    L = m["layers"]
    for a, b in zip(L, L[1:]):
        assert abs(a["to_mm"] - b["from_mm"]) < 1e-9
    for x in L[:-1]:
        assert abs(x["thickness_mm"] - 10) < 1e-9, x["thickness_mm"]
    assert 1 <= L[-1]["thickness_mm"] <= 10 + 1e-9
    im = nib.load(os.path.join(subject_dir(), "labels.nii.gz"))
    d = np.asarray(im.dataobj)
    ks = np.nonzero((d > 0).any(axis=(0, 1)))[0]
    z = im.affine[2, 2] * ks + im.affine[2, 3]
    assert abs(L[0]["from_mm"] - (z.min() - 2)) < 1e-6 and abs(L[-1]["to_mm"] - (z.max() + 2)) < 1e-6
    # organ parts appear in the trunk: a layer through the liver holds it with the body
    names = [{p["name"] for p in x["parts"]} for x in L]
    assert any({"body", "liver"} <= s for s in names)
    assert all("body" in s for s in names)
    # colours and names as labels.tsv
    with open(os.path.join(subject_dir(), "labels.tsv")) as f:
        rows = [r.rstrip("\n").split("\t") for r in f]
    col = {r[1]: r[3] for r in rows[1:]}
    for x in L:
        for p in x["parts"]:
            if p["name"] != "body":
                assert p["color"] == col[p["name"]], p


def test_on_sculpture_closed_ours():
    """Every part of every layer: closed, 2-manifold, no self-intersection (`synthbody info`)."""
    out = sculpt_dir()
    m = manifest(out)
    n = 0
    for L in m["layers"]:
        for p in L["parts"]:
            i = info(os.path.join(out, p["stl"]))
            assert i["closed"] == "yes" and i["printable"] == "yes", (p["stl"], i)
            assert i["nonmanifold_vertices"] == "0" and i["self_intersections"] == "0", i
            assert int(i["triangles"]) == p["triangles"]
            assert abs(float(i["volume_ml"]) - p["volume_ml"]) < 1e-3 * p["volume_ml"] + 1e-3
            n += 1
    assert n > 300, n


def test_on_sculpture_prusaslicer():
    """PrusaSlicer reads the 3MF of every tenth layer: one manifold object per part, the facets
    and names of the manifest."""
    out = sculpt_dir()
    m = manifest(out)
    layers = m["layers"][::10]
    got = prusa_info([os.path.join(out, L["3mf"]) for L in layers])
    for L in layers:
        objs = got[os.path.basename(L["3mf"])]
        assert len(objs) == len(L["parts"]), (L["layer"], len(objs))
        assert all(o.get("manifold") == "yes" for o in objs), L["layer"]
        assert sorted(int(o["number_of_facets"]) for o in objs) == \
            sorted(p["triangles"] for p in L["parts"])
        with zipfile.ZipFile(os.path.join(out, L["3mf"])) as z:
            model = z.read("3D/3dmodel.model").decode()
        for p in L["parts"]:
            assert f'name="{p["name"]}"' in model, p["name"]
            assert p["color"].upper()[1:] in model.upper(), p["color"]


def test_on_sculpture_volumes():
    """The layers' volumes (from the STL files) sum to the uncut model's within 1 %, and to the
    label map's voxel volume within 1 %."""
    out = sculpt_dir()
    m = manifest(out)
    total = 0.0
    for L in m["layers"]:
        v = sum(signed_volume(read_stl(os.path.join(out, p["stl"]))) for p in L["parts"])
        assert abs(v / 1000 - L["volume_ml"]) < 1e-4 * L["volume_ml"] + 1e-3
        total += v / 1000
    whole = m["whole_model_volume_ml"]
    im = nib.load(os.path.join(subject_dir(), "labels.nii.gz"))
    voxels = (np.asarray(im.dataobj) > 0).sum() * abs(np.linalg.det(im.affine[:3, :3])) / 1000
    print(f"layers {total:.1f} ml, uncut model {whole:.1f} ml ({100 * (total / whole - 1):+.3f} %),"
          f" voxels {voxels:.1f} ml ({100 * (total / voxels - 1):+.3f} %)")
    assert abs(total - m["layers_volume_ml"]) < 1e-4 * total
    assert abs(total / whole - 1) < 0.01, (total, whole)
    assert abs(total / voxels - 1) < 0.01, (total, voxels)


def test_on_sculpture_planar():
    """Every vertex between its layer's planes (within 0.01 mm); every triangle in a cut face
    (normal along the axis, centroid within 0.1 mm of a plane) has its vertices within 0.01 mm of
    the plane; every body part reaches both planes; the caps have area."""
    out = sculpt_dir()
    m = manifest(out)
    worst = 0.0
    for L in m["layers"]:
        z0, z1 = L["from_mm"], L["to_mm"]
        cap_area = {z0: 0.0, z1: 0.0}
        for p in L["parts"]:
            t = read_stl(os.path.join(out, p["stl"]))
            z = t[:, :, 2]
            assert z.min() >= z0 - TOL and z.max() <= z1 + TOL, (p["stl"], z.min(), z.max(), z0, z1)
            n = np.cross(t[:, 1] - t[:, 0], t[:, 2] - t[:, 0])
            area = np.linalg.norm(n, axis=1) / 2
            flat = np.abs(n[:, 2]) > 0.999 * np.linalg.norm(n, axis=1)
            for plane, sign in ((z0, -1), (z1, 1)):
                sel = flat & (np.abs(z.mean(axis=1) - plane) < 0.1)
                if sel.any():
                    dev = np.abs(z[sel] - plane).max()
                    worst = max(worst, dev)
                    assert dev <= TOL, (p["stl"], plane, dev)
                    # cut faces face outward: down at the lower plane, up at the upper one
                    assert (np.sign(n[sel, 2]) == sign).all(), (p["stl"], plane)
                    cap_area[plane] += area[sel].sum()
            if p["name"] == "body" and 1 < L["layer"] < len(m["layers"]):
                assert abs(z.min() - z0) <= TOL and abs(z.max() - z1) <= TOL, (p["stl"], z0, z1)
        if 1 < L["layer"] < len(m["layers"]):
            assert cap_area[z0] > 100 and cap_area[z1] > 100, (L["layer"], cap_area)
    print(f"largest distance of a cut-face vertex from its plane: {worst:.6f} mm")


def test_on_sculpture_assembly():
    """assembly.md lists every layer in order with its parts, and the material volume."""
    out = sculpt_dir()
    m = manifest(out)
    with open(os.path.join(out, "assembly.md")) as f:
        text = f.read()
    rows = re.findall(r"^\| (\d+) \| [-\d.]+ \| [-\d.]+ \| (.*) \| ([\d.]+) \|$", text, re.M)
    assert [int(r[0]) for r in rows] == [L["layer"] for L in m["layers"]]
    for r, L in zip(rows, m["layers"]):
        assert r[1].count("(#") == len(L["parts"])
        assert abs(float(r[2]) - L["volume_ml"]) < 0.006
    assert f"Total material: {m['layers_volume_ml']:.2f} ml" in text


def svg_paths(path):
    with open(path) as f:
        text = f.read()
    m = re.search(r'<svg [^>]*width="([\d.]+)mm" height="([\d.]+)mm" viewBox="0 0 ([\d.]+) ([\d.]+)"',
                  text)
    assert m, path
    w, h, vw, vh = map(float, m.groups())
    assert (w, h) == (vw, vh)
    paths = []
    for cls, col, d in re.findall(r'<path (?:id="\w+" )?class="(\w+)" fill="none" stroke="(#[0-9a-f]{6})" '
                                  r'stroke-width="[\d.]+" d="([^"]*)"/>', text):
        assert d.startswith("M") and d.endswith(" Z"), d[:40]  # closed paths
        xy = np.array([float(v) for v in re.findall(r"-?[\d.]+", d)]).reshape(-1, 2)
        paths.append((cls, col, xy))
    assert text.count("<path") == len(paths)
    return w, h, paths, text


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


def test_on_sculpture_svg():
    """Every layer's sheet: rsvg-convert renders it; its size in mm is the layer's bounding box
    (x, y); the cut paths are closed, inside the sheet; organ outlines carry the organ colours;
    the layer number is engraved."""
    out = sculpt_dir()
    m = manifest(out)
    for L in m["layers"]:
        path = os.path.join(out, L["svg"]["path"])
        w, h, paths, text = svg_paths(path)
        bw = L["bbox_max_mm"][0] - L["bbox_min_mm"][0]
        bh = L["bbox_max_mm"][1] - L["bbox_min_mm"][1]
        assert abs(w - bw) < 1.5e-3 and abs(h - bh) < 1.5e-3, (L["layer"], w, h, bw, bh)
        cuts = [xy for cls, col, xy in paths if cls == "cut"]
        assert cuts and all(col == "#ff0000" for cls, col, xy in paths if cls == "cut")
        for xy in cuts:
            assert xy[:, 0].min() >= -1e-3 and xy[:, 0].max() <= w + 1e-3
            assert xy[:, 1].min() >= -1e-3 and xy[:, 1].max() <= h + 1e-3
        cols = {p["color"] for p in L["parts"] if p["name"] != "body"}
        assert {col for cls, col, xy in paths if cls == "engrave"} <= cols
        assert re.search(rf'class="engrave">{L["layer"]}</text>', text)
    # a real renderer draws every tenth sheet at 1 pixel per mm
    for L in m["layers"][::10]:
        path = os.path.join(out, L["svg"]["path"])
        png = os.path.join(WORK, "sheet.png")
        p = subprocess.run(["rsvg-convert", "-d", "25.4", "-p", "25.4", path, "-o", png],
                           capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, p.stderr
        w, h = png_size(png)
        assert abs(w - L["svg"]["width_mm"]) <= 1 and abs(h - L["svg"]["height_mm"]) <= 1, (w, h)


def read_png(path):
    """A PNG decoded by VTK's reader (libpng) -> (height, width, 3) uint8."""
    import vtk
    from vtk.util.numpy_support import vtk_to_numpy
    r = vtk.vtkPNGReader()
    r.SetFileName(path)
    r.Update()
    img = r.GetOutput()
    w, h, _ = img.GetDimensions()
    a = vtk_to_numpy(img.GetPointData().GetScalars()).reshape(h, w, -1)
    return a[::-1, :, :3]  # VTK's rows run bottom to top


def loops_area(paths, cls):
    a = 0.0
    for c, _, xy in paths:
        if c == cls:
            x, y = xy[:, 0], xy[:, 1]
            a += 0.5 * (x * np.roll(y, -1) - np.roll(x, -1) * y).sum()
    return abs(a)


def test_on_sculpture_png():
    """Every layer's slice image: the layer's bounding box at --dpi 25.4 (1 pixel per mm), white
    outside the body; the body's pixels cover the area inside the sheet's cut lines (within 10 %:
    the same plane, pixels against the midpoint contour)."""
    out = sculpt_dir()
    m = manifest(out)
    assert m["slice_image"].endswith("T1w.nii.gz")
    for L in m["layers"][::5]:
        g = L["png"]
        img = read_png(os.path.join(out, g["path"]))
        assert img.shape[:2] == (g["height_px"], g["width_px"])
        assert g["dpi"] == 25.4
        assert abs(g["width_px"] - (L["bbox_max_mm"][0] - L["bbox_min_mm"][0])) <= 0.5 + 1e-6
        assert abs(g["height_px"] - (L["bbox_max_mm"][1] - L["bbox_min_mm"][1])) <= 0.5 + 1e-6
        body = (img != 255).any(axis=2)
        grey = (img[..., 0] == img[..., 1]) & (img[..., 1] == img[..., 2])
        assert grey.all()  # no --overlay: grey levels only
        w, h, paths, _ = svg_paths(os.path.join(out, L["svg"]["path"]))
        area = loops_area(paths, "cut")
        px = body.sum() * (g["width_mm"] / g["width_px"]) * (g["height_mm"] / g["height_px"])
        if L["svg"]["plane_world_mm"] == round(g["plane_world_mm"] / 4) * 4:
            assert abs(px / area - 1) < 0.1, (L["layer"], px, area)
        assert 0 < body.mean() < 1


# ---- options and bad input (a small 8 mm subject made here) -------------------------------------

def small_subject():
    # one per test: ctest runs these tests in parallel, and two making one folder collide
    s = os.path.join(WORK, "small_" + TEST)
    if not os.path.exists(os.path.join(s, "subject.json")):
        shutil.rmtree(s, ignore_errors=True)
        run("generate", "--seed", 2, "--voxel", 8, "--contrasts", "T1w", "--out", s, "-q",
            expect=OK)
    return s


def test_sculpt_coronal_scaled():
    """--axis y with --height-mm and a range: layers of the given model thickness, the model
    frame's z along the cutting axis, the same bytes at 1 and 2 threads."""
    s = small_subject()
    outs = []
    for th in (1, 2):
        out = os.path.join(WORK, f"coronal_{th}")
        shutil.rmtree(out, ignore_errors=True)
        run("sculpt", s, "--out", out, "--axis", "y", "--layer-mm", 8, "--height-mm", 300,
            "--from", -60, "--to", 60, "--select", "liver,kidney_left,kidney_right", "--threads", th, "-q",
            expect=OK)
        outs.append(out)
    assert sha_tree(outs[0]) == sha_tree(outs[1])
    # --kerf-mm 0.4: the sheets grow by the kerf, their cut lines by half of it on each side
    kerf = os.path.join(WORK, "coronal_kerf")
    shutil.rmtree(kerf, ignore_errors=True)
    run("sculpt", s, "--out", kerf, "--axis", "y", "--layer-mm", 8, "--height-mm", 300,
        "--from", -60, "--to", 60, "--select", "liver,kidney_left,kidney_right", "--kerf-mm",
        0.4, "-q", expect=OK)
    for a, b in zip(manifest(outs[0])["layers"], manifest(kerf)["layers"]):
        w0, h0, p0, _ = svg_paths(os.path.join(outs[0], a["svg"]["path"]))
        w1, h1, p1, _ = svg_paths(os.path.join(kerf, b["svg"]["path"]))
        assert abs(w1 - w0 - 0.4) < 2e-3 and abs(h1 - h0 - 0.4) < 2e-3
        c0 = np.vstack([xy for cls, _, xy in p0 if cls == "cut"])
        c1 = np.vstack([xy for cls, _, xy in p1 if cls == "cut"])
        grow = (c1.max(axis=0) - c1.min(axis=0)) - (c0.max(axis=0) - c0.min(axis=0))
        assert (grow >= 0.4 - 1e-3).all() and (grow <= 0.4 * 1.5).all(), grow
    m = manifest(outs[0])
    sc = m["scale"]
    assert m["axis"] == "y" and 0.1 < sc < 0.25, sc
    L = m["layers"]
    assert abs(L[0]["from_mm"] - sc * -60) < 1e-9 and abs(L[-1]["to_mm"] - sc * 60) < 1e-9
    for x in L[:-1]:
        assert abs(x["thickness_mm"] - 8) < 1e-9
    names = set(p["name"] for x in L for p in x["parts"])
    assert "liver" in names and "body" in names and "stomach" not in names, names
    for x in L:
        for p in x["parts"]:
            t = read_stl(os.path.join(outs[0], p["stl"]))
            assert t[:, :, 2].min() >= x["from_mm"] - TOL and t[:, :, 2].max() <= x["to_mm"] + TOL
            assert info(os.path.join(outs[0], p["stl"]))["closed"] == "yes"


def test_sculpt_prusaslicer_slices():
    """PrusaSlicer 2.5 slices a layer's 3MF (body and organs in place, scale 0.3) into G-code:
    exit 0, and the printed height is the layer's thickness (to one print layer)."""
    s = small_subject()
    out = os.path.join(WORK, "sliced")
    shutil.rmtree(out, ignore_errors=True)
    run("sculpt", s, "--out", out, "--layer-mm", 8, "--scale", 0.3, "--from", 1000, "--to",
        1300, "--contrast", "none", "-q", expect=OK)
    m = manifest(out)
    L = m["layers"][len(m["layers"]) // 2]
    assert len(L["parts"]) > 1
    gcode = os.path.join(WORK, "layer.gcode")
    if os.path.exists(gcode):
        os.remove(gcode)
    p = subprocess.run(["prusa-slicer", "--export-gcode", os.path.join(out, L["3mf"]), "--output",
                        gcode], capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    with open(gcode) as f:
        text = f.read()
    zs = [float(z) for z in re.findall(r"^;Z:([\d.]+)", text, re.M)]
    lh = float(re.search(r"^; layer_height = ([\d.]+)", text, re.M).group(1))
    assert zs and abs(max(zs) - L["thickness_mm"]) <= lh + 1e-6, (max(zs), L["thickness_mm"])


def glb_json(path):
    with open(path, "rb") as f:
        b = f.read()
    assert b[:4] == b"glTF" and struct.unpack("<I", b[8:12])[0] == len(b)
    n = struct.unpack("<I", b[12:16])[0]
    assert b[16:20] == b"JSON"
    return json.loads(b[20:20 + n])


def threemf_objects(path):
    """The 3MF's objects -> {name: (n, 3) vertices}, read from 3D/3dmodel.model."""
    with zipfile.ZipFile(path) as z:
        model = z.read("3D/3dmodel.model").decode()
    out = {}
    for name, body in re.findall(r'<object id="\d+"[^>]* name="([^"]+)"[^>]*>(.*?)</object>', model, re.S):
        v = re.findall(r'<vertex x="([-\d.e+]+)" y="([-\d.e+]+)" z="([-\d.e+]+)"', body)
        out[name] = np.array(v, dtype=float)
    return out


def threemf_triangles(path):
    """The 3MF's objects -> {name: (n, 3, 3) triangles}."""
    with zipfile.ZipFile(path) as z:
        model = z.read("3D/3dmodel.model").decode()
    out = {}
    for name, body in re.findall(r'<object id="\d+"[^>]* name="([^"]+)"[^>]*>(.*?)</object>', model, re.S):
        v = np.array(re.findall(r'<vertex x="([-\d.e+]+)" y="([-\d.e+]+)" z="([-\d.e+]+)"', body),
                     dtype=float)
        t = np.array(re.findall(r'<triangle v1="(\d+)" v2="(\d+)" v3="(\d+)"', body), dtype=int)
        out[name] = v[t]
    return out


PLATE = (250, 210)
# PrusaSlicer's defaults (MK3S, 0.15 mm layers) with coarser layers: the test is "slices without
# error", not print quality, and 0.3 mm layers halve its time
PRUSA_FAST = ["--layer-height", "0.3", "--first-layer-height", "0.3", "--fill-density", "10%"]


def slice_plate(path, gcode):
    if os.path.exists(gcode):
        os.remove(gcode)
    bed = f"0x0,{PLATE[0]}x0,{PLATE[0]}x{PLATE[1]},0x{PLATE[1]}"
    p = subprocess.run(["prusa-slicer", "--export-gcode", path, "--dont-arrange", "--bed-shape", bed,
                        *PRUSA_FAST, "--output", gcode], capture_output=True, text=True,
                       timeout=900)
    log = p.stdout + p.stderr
    assert p.returncode == 0, f"{path}: exit {p.returncode}\n{log[-3000:]}"
    assert "Slicing result exported" in log and "error" not in log.lower(), log[-3000:]
    # PrusaSlicer's warnings (exit 0): said and counted, not failed on
    warnings = re.findall(r"^print warning: (.*)\n(Object name: .*)?", log, re.M)
    with open(gcode) as f:
        return f.read(), warnings


def test_on_sculpture_plates_slice():
    """Acceptance: PrusaSlicer 2.5 slices every build plate of a 10 mm-layer sculpture of the 4 mm
    subject (--height-mm 300, plates 250 x 210 mm) without error (exit 0, G-code written; its
    warnings are printed); every object on a
    plate is manifold for PrusaSlicer, lies inside the plate with its margin, overlaps no other
    object, stands on z = 0; the printed height is the plate's tallest object."""
    out = os.path.join(WORK, "plates")
    shutil.rmtree(out, ignore_errors=True)
    run("sculpt", subject_dir(), "--out", out, "--layer-mm", 10, "--height-mm", 300, "--plate-mm",
        f"{PLATE[0]},{PLATE[1]}", "--contrast", "none", "-q", expect=OK)
    m = manifest(out)
    plates = m["plates"]
    assert len(plates) >= 2, len(plates)
    # the plates hold the sculpture: their objects' volumes (from the 3MF files) and the specks
    # under 1 mm3 left off sum to the layers' volume; every object is a part of its layer
    per_layer = {L["layer"]: {p["name"] for p in L["parts"]} for L in m["layers"]}
    for P in plates:
        for o in P["objects"]:
            assert o["part"] in per_layer[o["layer"]], o
    off = m["left_off_plates"]
    assert off["below_mm3"] == 1 and off["specks_mm3"] <= off["specks"] * 1
    placed_mm3 = sum(signed_volume(t) for P in plates
                     for t in threemf_triangles(os.path.join(out, P["3mf"])).values())
    total = sum(L["volume_ml"] for L in m["layers"]) * 1000
    left = off["specks_mm3"] + off["enclosed_mm3"]
    print(f"plates: {placed_mm3:.1f} mm3 placed + {off['specks_mm3']:.1f} mm3 in {off['specks']} "
          f"specks + {off['enclosed_mm3']:.1f} mm3 in {off['enclosed']} enclosed pieces left off = "
          f"{placed_mm3 + left:.1f} of {total:.1f} mm3")
    assert abs(placed_mm3 + left - total) < 1e-4 * total
    assert left < 0.01 * total  # almost everything is printed
    got = prusa_info([os.path.join(out, P["3mf"]) for P in plates])
    for k, P in enumerate(plates):
        path = os.path.join(out, P["3mf"])
        objs = got[os.path.basename(path)]
        assert len(objs) == len(P["objects"]) and all(o.get("manifold") == "yes" for o in objs), k
        verts = threemf_objects(path)
        assert set(verts) == {o["name"] for o in P["objects"]}
        boxes = []
        for name, v in verts.items():
            lo, hi = v.min(axis=0), v.max(axis=0)
            assert lo[0] >= 5 - 1e-3 and lo[1] >= 5 - 1e-3, (name, lo)
            assert hi[0] <= PLATE[0] - 5 + 1e-3 and hi[1] <= PLATE[1] - 5 + 1e-3, (name, hi)
            assert abs(lo[2]) < 1e-4, (name, lo[2])
            boxes.append((lo, hi, name))
        for i, (a0, a1, an) in enumerate(boxes):  # footprints apart by the 5 mm gap
            for b0, b1, bn in boxes[i + 1:]:
                assert (a1[:2] + 5 - 1e-3 <= b0[:2]).any() or (b1[:2] + 5 - 1e-3 <= a0[:2]).any(), \
                    (an, bn)
        t0 = time.time()
        text, warnings = slice_plate(path, os.path.join(WORK, f"plate_{k + 1}.gcode"))
        for w in warnings:
            print(f"plate {k + 1}: PrusaSlicer warning: {w[0]} {w[1]}")
        zs = [float(z) for z in re.findall(r"^;Z:([\d.]+)", text, re.M)]
        top = max(float(o["height_mm"]) for o in P["objects"])
        assert zs and abs(max(zs) - top) <= 0.3 + 1e-6, (max(zs), top)
        print(f"plate {k + 1}: {len(P['objects'])} objects, sliced in {time.time() - t0:.0f} s")


def test_sculpt_pegs_number():
    """--pegs 5,2 (8 mm voxels at scale 0.3: 2.4 mm): holes in both faces of adjacent layers at the same xy (the hole's floor 2 mm
    from the plane, in the upper face of the lower layer and the lower face of the upper one),
    the layer number engraved in each underside; every part still closed and 2-manifold (ours
    and PrusaSlicer), cut faces still on their planes; the sheets carry the holes."""
    s = small_subject()
    out = os.path.join(WORK, "pegs")
    shutil.rmtree(out, ignore_errors=True)
    run("sculpt", s, "--out", out, "--layer-mm", 10, "--scale", 0.3, "--from", 900, "--to",
        1400, "--pegs", "5,2", "--contrast", "none", "-q", expect=OK)
    m = manifest(out)
    L = m["layers"]
    assert m["pegs"]["dowels"] == sum(len(x["pegs_top"]) for x in L) > 10, m["pegs"]
    for a, b in zip(L, L[1:]):
        assert a["pegs_top"] == b["pegs_bottom"]
    engraved = 0
    for x in L:
        sub = x["sublayer_world_mm"] * m["scale"]
        body = [p for p in x["parts"] if p["name"] == "body"][0]
        i = info(os.path.join(out, body["stl"]))
        assert i["closed"] == "yes" and i["printable"] == "yes" and i["nonmanifold_vertices"] == "0"
        t = read_stl(os.path.join(out, body["stl"]))
        z = t[:, :, 2]
        assert z.min() >= x["from_mm"] - TOL and z.max() <= x["to_mm"] + TOL
        n = np.cross(t[:, 1] - t[:, 0], t[:, 2] - t[:, 0])
        flat = np.abs(n[:, 2]) > 0.999 * np.linalg.norm(n, axis=1)
        c = t.mean(axis=1)
        v = t.reshape(-1, 3)
        for key, plane, sign in (("pegs_top", x["to_mm"], -1), ("pegs_bottom", x["from_mm"], 1)):
            for px, py in x[key]:
                # the hole (voxel centres within D/2 = 2.5 mm: surface within 2.5 + 1.2 mm) has
                # body voxels all round to D = 5 mm (their surface beyond 5 - 1.2 mm) and to a
                # voxel (2.4 mm) below its floor, so the surface within 3.75 mm is the hole's;
                # its floor 2 mm deep, rounded up to whole sub-layers
                depth = sign * (v[:, 2] - plane)
                near = (np.hypot(v[:, 0] - px, v[:, 1] - py) < 3.75) & (depth > 0.05) & \
                    (depth < 2 + 2 * sub + 1e-3)
                assert near.any(), (x["layer"], key, px, py)
                deepest = depth[near].max()
                assert 2 - 1e-3 <= deepest <= 2 + sub + 1e-3, (x["layer"], key, deepest)
        ne = x["number_engraved"]
        if ne:
            engraved += 1
            assert ne["text"] == str(x["layer"])
            cx, cy = ne["centre_mm"]
            g = ne["font_pixel_mm"]
            half = 0.5 * np.hypot((4 * len(ne["text"]) - 1) * g, 5 * g)
            # inside the text's circle (body all round it, no hole): surface 0.1 to 1 mm (+ one
            # sub-layer) above the lower face is the engraving's
            near = (np.hypot(c[:, 0] - cx, c[:, 1] - cy) < half) & \
                (c[:, 2] > x["from_mm"] + 0.05) & (c[:, 2] < x["from_mm"] + 1 + sub + 1e-3)
            assert near.any(), x["layer"]
        w, h, paths, text = svg_paths(os.path.join(out, x["svg"]["path"]))
        holes = text.count('id="hole"')
        assert holes == len(x["pegs_top"]) + len(x["pegs_bottom"]) == x["svg"]["registration_holes"]
    assert engraved >= len(L) - 2, engraved
    got = prusa_info([os.path.join(out, x["3mf"]) for x in L])
    for x in L:
        objs = got[os.path.basename(x["3mf"])]
        assert all(o.get("manifold") == "yes" for o in objs) and len(objs) == len(x["parts"])
    with open(os.path.join(out, "assembly.md")) as f:
        assert f"Dowels: {m['pegs']['dowels']} of 5 mm diameter, 4 mm long" in f.read()


def test_sculpt_glb_exploded():
    """--gap-mm 20: sculpture.glb, one node per layer holding its parts by name, layer k raised
    by (k - 1) x 20 mm (glTF: metres, +Y up)."""
    s = small_subject()
    out = os.path.join(WORK, "glb")
    shutil.rmtree(out, ignore_errors=True)
    run("sculpt", s, "--out", out, "--layer-mm", 20, "--height-mm", 300, "--gap-mm", 20,
        "--contrast", "none", "-q", expect=OK)
    m = manifest(out)
    g = glb_json(os.path.join(out, m["glb"]["path"]))
    nodes = g["nodes"]
    byname = {n["name"]: n for n in nodes}
    for k, L in enumerate(m["layers"]):
        layer = byname[f"group_layer_{L['layer']:03d}"]
        kids = {nodes[i]["name"] for i in layer["children"]}
        assert kids == {f"layer_{L['layer']:03d}_{p['name']}" for p in L["parts"]}, kids
        body = byname[f"layer_{L['layer']:03d}_body"]
        acc = g["accessors"][g["meshes"][body["mesh"]]["primitives"][0]["attributes"]["POSITION"]]
        want = (L["from_mm"] + 20 * k) / 1000
        assert abs(acc["min"][1] - want) < 1e-5, (L["layer"], acc["min"][1], want)


def test_sculpt_sheets_nested():
    """--sheet-mm 300,200 (kerf 0.2): the layers' sheets nested without overlap onto sheets
    rendered by rsvg-convert at 300 x 200 mm, every layer on one sheet with its closed paths."""
    s = small_subject()
    out = os.path.join(WORK, "sheets")
    shutil.rmtree(out, ignore_errors=True)
    run("sculpt", s, "--out", out, "--layer-mm", 10, "--height-mm", 300, "--sheet-mm", "300,200",
        "--kerf-mm", 0.2, "--pegs", "3,2", "--contrast", "none", "-q", expect=OK)
    m = manifest(out)
    sheets = m["sheets"]
    assert sorted(x["layer"] for S in sheets for x in S["layers"]) == \
        [L["layer"] for L in m["layers"]]
    for k, S in enumerate(sheets):
        path = os.path.join(out, S["svg"])
        w, h, paths, text = svg_paths(path)
        assert (w, h) == (300, 200)
        boxes = [(np.array(x["min_mm"]), np.array(x["max_mm"])) for x in S["layers"]]
        for i, (a0, a1) in enumerate(boxes):
            assert (a0 >= 5 - 1e-6).all() and a1[0] <= 295 + 1e-6 and a1[1] <= 195 + 1e-6
            for b0, b1 in boxes[i + 1:]:
                assert (a1 + 3 - 1e-6 <= b0).any() or (b1 + 3 - 1e-6 <= a0).any()
        # every path lies in one layer's box (a kerf-offset cut line's mitred spike may reach
        # half the kerf beyond it: the offset is at most twice the half kerf there)
        for cls, col, xy in paths:
            lo, hi = xy.min(axis=0), xy.max(axis=0)
            assert any((lo >= a0 - 0.1 - 1e-3).all() and (hi <= a1 + 0.1 + 1e-3).all()
                       for a0, a1 in boxes)
        want = sum(len(L["pegs_top"]) + len(L["pegs_bottom"]) for L in m["layers"]
                   if L["layer"] in {x["layer"] for x in S["layers"]})
        assert text.count('id="hole"') == want
        png = os.path.join(WORK, f"nested_{k}.png")
        p = subprocess.run(["rsvg-convert", "-d", "25.4", "-p", "25.4", path, "-o", png],
                           capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, p.stderr
        assert png_size(png) == (300, 200)
    with open(os.path.join(out, "assembly.md")) as f:
        assert f"Laser sheets: {len(sheets)} of 300 x 200 mm" in f.read()


def test_sculpt_range_by_label():
    """--from / --to by label: the range runs from the liver's lowest voxel face to the lungs'
    highest (world mm, from the label map)."""
    s = small_subject()
    out = os.path.join(WORK, "by_label")
    shutil.rmtree(out, ignore_errors=True)
    run("sculpt", s, "--out", out, "--from", "liver", "--to", "lung_upper_lobe_left,lung_upper_lobe_right", "--layer-mm",
        20, "--contrast", "none", "-q", expect=OK)
    m = manifest(out)
    im = nib.load(os.path.join(s, "labels.nii.gz"))
    d = np.asarray(im.dataobj)
    with open(os.path.join(s, "labels.tsv")) as f:
        ids = {r.split("\t")[1]: int(r.split("\t")[0]) for r in list(f)[1:]}
    def zext(names):
        ks = np.nonzero(np.isin(d, [ids[n] for n in names]).any(axis=(0, 1)))[0]
        z = im.affine[2, 2] * ks + im.affine[2, 3]
        return z.min() - abs(im.affine[2, 2]) / 2, z.max() + abs(im.affine[2, 2]) / 2
    assert abs(m["layers"][0]["from_world_mm"] - zext(["liver"])[0]) < 1e-6
    assert abs(m["layers"][-1]["to_world_mm"] - zext(["lung_upper_lobe_left", "lung_upper_lobe_right"])[1]) < 1e-6
    p = run("sculpt", s, "--out", out, "--from", "no_such_organ", "--force", expect=LABEL)
    assert "no_such_organ" in p.stderr


def test_sculpt_body_only_sagittal():
    s = small_subject()
    out = os.path.join(WORK, "sagittal")
    shutil.rmtree(out, ignore_errors=True)
    run("sculpt", s, "--out", out, "--axis", "x", "--layer-mm", 20, "--select", "none", "-q",
        expect=OK)
    m = manifest(out)
    assert all([p["name"] for p in x["parts"]] == ["body"] for x in m["layers"])
    assert abs(m["volume_difference_percent"]) < 3, m["volume_difference_percent"]


def test_sculpt_bad_input():
    s = small_subject()
    out = os.path.join(WORK, "bad")
    shutil.rmtree(out, ignore_errors=True)
    cases = [
        (["sculpt", os.path.join(WORK, "missing"), "--out", out], INPUT, "missing"),
        (["sculpt", s, "--out", out, "--axis", "w"], USAGE, "--axis w"),
        (["sculpt", s, "--out", out, "--layer-mm", "0"], USAGE, "--layer-mm 0"),
        (["sculpt", s, "--out", out, "--layer-mm", "abc"], USAGE, "--layer-mm"),
        (["sculpt", s, "--out", out, "--scale", "2", "--height-mm", "100"], USAGE, "exclude"),
        (["sculpt", s, "--out", out, "--from", "5000", "--to", "6000"], USAGE, "misses the body"),
        (["sculpt", s, "--out", out, "--from", "100", "--to", "50"], USAGE, "empty"),
        (["sculpt", s, "--out", out, "--select", "no_such_organ"], LABEL, "no_such_organ"),
        (["sculpt", s], USAGE, "--out"),
        (["sculpt", s, "--out", out, "--bogus"], USAGE, "--bogus"),
        (["sculpt", s, "--out", out, "--plate-mm", "20,20"], USAGE, "does not fit"),
        (["sculpt", s, "--out", out, "--plate-mm", "200"], USAGE, "--plate-mm"),
        (["sculpt", s, "--out", out, "--pegs", "0.5,1"], USAGE, "narrower than a voxel"),
        (["sculpt", s, "--out", out, "--sheet-mm", "30,20"], USAGE, "does not fit"),
        (["sculpt", s, "--out", out, "--gap-mm", "-1"], USAGE, "--gap-mm"),
    ]
    for args, code, word in cases:
        p = run(*args, expect=code)
        assert word in p.stderr, (args, p.stderr)
        assert not os.path.exists(out) or not files_in(out), (args, files_in(out))
    # an oblique label map: refused, naming the affine
    im = nib.load(os.path.join(s, "labels.nii.gz"))
    a = im.affine.copy()
    c, sn = np.cos(0.3), np.sin(0.3)
    a[:3, :3] = a[:3, :3] @ np.array([[c, -sn, 0], [sn, c, 0], [0, 0, 1]])
    obl = os.path.join(WORK, "oblique.nii.gz")
    nib.save(nib.Nifti1Image(np.asarray(im.dataobj), a), obl)
    p = run("sculpt", obl, "--out", out, expect=INPUT)
    assert "oblique" in p.stderr and not files_in(out) if os.path.exists(out) else True
    # existing outputs are kept without --force, replaced with it
    run("sculpt", s, "--out", out, "--layer-mm", 40, "--select", "none", "-q", expect=OK)
    before = sha_tree(out)
    p = run("sculpt", s, "--out", out, "--layer-mm", 40, "-q", expect=EXISTS)
    assert "exists" in p.stderr and sha_tree(out) == before
    run("sculpt", s, "--out", out, "--layer-mm", 40, "-q", "--force", expect=OK)
    assert sha_tree(out) != before
    # plates are counted at the end: any plate_*.3mf already there is refused up front
    with open(os.path.join(out, "plate_007.3mf"), "w") as f:
        f.write("x")
    before = sha_tree(out)
    p = run("sculpt", s, "--out", out, "--layer-mm", 40, "--plate-mm", "1000,1000", "-q",
            expect=EXISTS)
    assert "plate_007.3mf" in p.stderr and sha_tree(out) == before


def main():
    global BIN, WORK
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("test")
    a = ap.parse_args()
    BIN, WORK = map(os.path.abspath, (a.bin, a.work))
    os.makedirs(WORK, exist_ok=True)
    global TEST
    TEST = a.test
    fn = globals().get(a.test)
    if not fn or not a.test.startswith("test_"):
        sys.exit(f"no test named {a.test}")
    fn()
    print(f"{a.test}: ok")


if __name__ == "__main__":
    main()
