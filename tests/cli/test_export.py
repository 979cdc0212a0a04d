#!/usr/bin/python3
"""`synthbody export` checked by the programs people open its files with.

Run one test:  /usr/bin/python3 test_export.py --bin synthbody --dump assimp_dump --work DIR TEST
CTest registers every function named test_* (tests/cli/CMakeLists.txt); test_make_subject makes
the 4 mm subject and its export in every format once (a CTest fixture; test_make_small an 8 mm
subject for the test_small_* option tests), the test_on_subject_* tests read those files with
real programs:
  - Blender 3.4 (background mode) imports the OBJ and the GLB (tests/client/export_blender_check.py);
  - PrusaSlicer 2.5 `--info` reads every STL and the 3MF: manifold = yes, our facet counts;
  - Assimp 5.2 (C API, tests/unit/export/assimp_dump.c) re-imports every file: triangles, names;
  - VTK 9.1 (Debian's Python) reads the VTP and the PLY with their per-face labels / vertex colours;
  - lib3mf 1.8.1 (the 3MF Consortium's library, tests/unit/export/lib3mf_dump.cpp) reads the 3MF
    in strict mode.
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

import numpy as np

BIN = DUMP = LIB3MF = WORK = None
BLENDER_CHECK = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "client",
                             "export_blender_check.py")
OK, INTERNAL, USAGE, INPUT, OUTPUT, MEMORY, EXISTS, LABEL = range(8)
FORMATS = ["stl", "obj", "ply", "glb", "3mf", "vtp"]
# The export of the fixture: a 4 mm subject, simplification bounded at half a voxel (2 mm) so the
# real programs read ~0.66M triangles instead of 1.7M (the checks do not depend on the count).
SUBJECT_EXPORT = ["--formats", "all", "--max-error-mm", "2"]


def run(*args, expect=None, timeout=600):
    p = subprocess.run([BIN, *map(str, args)], capture_output=True, text=True,
                       stdin=subprocess.DEVNULL, timeout=timeout)
    if expect is not None and p.returncode != expect:
        raise AssertionError(f"synthbody {' '.join(map(str, args))}: exit {p.returncode}, "
                             f"expected {expect}\nstdout: {p.stdout}\nstderr: {p.stderr}")
    return p


def no_temporaries(d):
    left = [f for f in glob.glob(os.path.join(d, "**", ".*"), recursive=True) if ".tmp." in f]
    assert not left, f"temporary files left behind: {left}"


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def tree_hashes(d):
    return {os.path.relpath(p, d): sha(p)
            for p in glob.glob(os.path.join(d, "**", "*"), recursive=True) if os.path.isfile(p)}


def subject_dir():
    return os.path.join(WORK, "export_subject")


def export_dir():
    return os.path.join(WORK, "export_all")


def manifest(d):
    with open(os.path.join(d, "manifest.json")) as f:
        return json.load(f)


def labels_tsv(d):
    with open(os.path.join(d, "labels.tsv")) as f:
        rows = [l.rstrip("\n").split("\t") for l in f]
    head = rows[0]
    return {int(r[0]): dict(zip(head, r)) for r in rows[1:]}


def assimp(path):
    """(meshes, nodes) as Assimp's C API reads the file."""
    p = subprocess.run([DUMP, path], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, f"Assimp cannot read {path}: {p.stderr}"
    meshes, nodes = [], []
    for line in p.stdout.splitlines():
        f = line.split("\t")
        if f[0] == "mesh":
            meshes.append({"name": f[2], "faces": int(f[3]), "triangles": int(f[4]),
                           "material": f[6], "rgba": [float(x) for x in f[7:11]]})
        elif f[0] == "node":
            nodes.append((f[1], [int(x) for x in f[2:]]))
    return meshes, nodes


def srgb_to_linear(c):
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def hex_rgb(s):
    return [int(s[i:i + 2], 16) / 255 for i in (1, 3, 5)]


def read_stl(path):
    with open(path, "rb") as f:
        head = f.read(84)
        n = struct.unpack("<I", head[80:84])[0]
        rec = np.frombuffer(f.read(50 * n), dtype=np.dtype([("n", "<f4", 3), ("v", "<f4", (3, 3)),
                                                           ("a", "<u2")]))
    return head[:80].rstrip(b"\0").decode(), rec["v"].reshape(-1, 3)


# ---- the fixture --------------------------------------------------------------------------------

def test_make_subject():
    s = subject_dir()
    shutil.rmtree(s, ignore_errors=True)
    run("generate", "--seed", 1, "--voxel", 4, "--out", s, "-q", expect=OK)
    out = export_dir()
    shutil.rmtree(out, ignore_errors=True)
    run("export", s, "--out", out, "-q", *SUBJECT_EXPORT, expect=OK)
    no_temporaries(out)
    m = manifest(out)
    table = labels_tsv(s)
    present = {st["id"] for st in m["structures"]}
    # every label of the map is exported (a 4 mm subject: all of the man's 172 labels)
    assert len(m["structures"]) >= 150, len(m["structures"])
    for st in m["structures"]:
        row = table[st["id"]]
        assert st["name"] == row["name"] and st["color"] == row["color"], (st, row)
        assert st["group"] == row["group"], (st, row)
        assert st["triangles"] > 0 and st["volume_ml"] > 0, st
        assert all(a < b for a, b in zip(st["bbox_min_mm"], st["bbox_max_mm"])), st
    files = {f["path"]: f for f in m["files"]}
    base = os.path.basename(s)
    for ext in FORMATS:
        assert f"{base}.{ext}" in files, sorted(files)[:10]
        assert os.path.getsize(os.path.join(out, f"{base}.{ext}")) == files[f"{base}.{ext}"]["bytes"]
    assert os.path.exists(os.path.join(out, f"{base}.mtl"))
    assert len([p for p in files if p.startswith("stl/")]) == len(present)
    total = sum(st["triangles"] for st in m["structures"])
    assert files[f"{base}.glb"]["triangles"] == total
    assert (files[f"{base}.glb"]["units"], files[f"{base}.glb"]["up"]) == ("m", "y")
    for ext in ["stl", "obj", "ply", "3mf", "vtp"]:
        assert (files[f"{base}.{ext}"]["units"], files[f"{base}.{ext}"]["up"]) == ("mm", "z")
    print(f"{len(m['structures'])} structures, {total} triangles")


# ---- real programs on the fixture -------------------------------------------------------------

def test_on_subject_blender():
    out = export_dir()
    base = os.path.basename(subject_dir())
    p = subprocess.run(["blender", "-b", "--factory-startup", "--python-exit-code", "2",
                        "--python", BLENDER_CHECK, "--", os.path.join(out, "manifest.json"),
                        os.path.join(out, f"{base}.obj"), os.path.join(out, f"{base}.glb")],
                       capture_output=True, text=True, timeout=600)
    lines = [l for l in p.stdout.splitlines() if l.startswith(("FAIL", "blender"))]
    print("\n".join(lines))
    assert p.returncode == 0 and "blender check: 0 failures" in p.stdout, \
        f"exit {p.returncode}\n{p.stdout[-4000:]}\n{p.stderr[-2000:]}"
    m = manifest(out)
    n = len(m["structures"])
    assert f"blender obj: {n} objects" in p.stdout and f"blender glb: {n} objects" in p.stdout


def prusa_info(paths):
    """prusa-slicer --info on many files in one run -> {file name: {key: value}}."""
    p = subprocess.run(["prusa-slicer", "--info", *paths], capture_output=True, text=True,
                       timeout=600)
    assert p.returncode == 0, f"prusa-slicer exit {p.returncode}: {p.stderr[-2000:]}"
    info, cur = {}, None
    for line in p.stdout.splitlines():
        mm = re.match(r"^\[(.+)\]$", line)
        if mm:
            cur = info.setdefault(mm.group(1), {"objects": 0})
            cur["objects"] += 1
            continue
        kv = re.match(r"^(\w+) = *(.*)$", line)
        if kv and cur is not None:
            cur.setdefault(kv.group(1), []).append(kv.group(2))
    return info


def test_on_subject_prusaslicer():
    out = export_dir()
    m = manifest(out)
    base = os.path.basename(subject_dir())
    stls = sorted(glob.glob(os.path.join(out, "stl", "*.stl")))
    assert len(stls) == len(m["structures"])
    info = prusa_info(stls + [os.path.join(out, f"{base}.stl"), os.path.join(out, f"{base}.3mf")])
    tris = {st["name"]: st["triangles"] for st in m["structures"]}
    for path in stls:
        name = os.path.basename(path)[:-4]
        i = info.get(os.path.basename(path))
        assert i and i["manifold"] == ["yes"], (name, i)
        assert int(i["number_of_facets"][0]) == tris[name], (name, i["number_of_facets"], tris[name])
    merged = info[f"{base}.stl"]
    assert merged["manifold"] == ["yes"] and int(merged["number_of_facets"][0]) == sum(tris.values())
    # the 3MF: PrusaSlicer lists one object per structure, each manifold
    t = info[f"{base}.3mf"]
    assert t["objects"] == len(tris), (t["objects"], len(tris))
    assert t["manifold"] == ["yes"] * len(tris), [x for x in t["manifold"] if x != "yes"]
    assert sorted(int(x) for x in t["number_of_facets"]) == sorted(tris.values())
    print(f"prusa-slicer: {len(stls)} STL + merged STL + 3MF ({t['objects']} objects) manifold")


def test_on_subject_assimp():
    out = export_dir()
    m = manifest(out)
    base = os.path.basename(subject_dir())
    structs = m["structures"]
    names = [st["name"] for st in structs]
    tris = {st["name"]: st["triangles"] for st in structs}
    colour = {st["name"]: hex_rgb(st["color"]) for st in structs}
    # OBJ, GLB: one mesh per structure, named after it, with its triangles and colour
    for ext, lin in (("obj", False), ("glb", True)):
        meshes, nodes = assimp(os.path.join(out, f"{base}.{ext}"))
        assert sorted(x["name"] for x in meshes) == sorted(names), ext
        for x in meshes:
            assert x["faces"] == x["triangles"] == tris[x["name"]], (ext, x, tris[x["name"]])
            assert x["material"] == x["name"], (ext, x)
            want = [srgb_to_linear(c) for c in colour[x["name"]]] if lin else colour[x["name"]]
            assert np.allclose(x["rgba"][:3], want, atol=2e-3), (ext, x, want)
        named = {n for n, ms in nodes if ms}
        assert set(names) <= named, (ext, set(names) - named)
    # GLB: structures grouped under one node per organ system
    _, nodes = assimp(os.path.join(out, f"{base}.glb"))
    assert any(n == "group_skeleton" for n, _ in nodes)
    # 3MF: Assimp 5.2 names 3MF meshes by object id; our names come back as the material names
    # ("id1_" + base material name) with the colour
    meshes, _ = assimp(os.path.join(out, f"{base}.3mf"))
    assert len(meshes) == len(structs)
    for x, st in zip(meshes, structs):
        assert x["material"] == "id1_" + st["name"], (x, st["name"])
        assert x["faces"] == st["triangles"], (x, st)
        assert np.allclose(x["rgba"][:3], colour[st["name"]], atol=2e-3), (x, st)
    # merged STL and PLY: one mesh, every triangle
    for ext in ("stl", "ply"):
        meshes, _ = assimp(os.path.join(out, f"{base}.{ext}"))
        assert sum(x["faces"] for x in meshes) == sum(tris.values()), ext
    # every per-structure STL
    for st in structs:
        meshes, _ = assimp(os.path.join(out, "stl", st["name"] + ".stl"))
        assert sum(x["faces"] for x in meshes) == st["triangles"], st["name"]
    print(f"assimp: obj, glb, 3mf, ply, stl and {len(structs)} STL files re-imported")


def test_on_subject_lib3mf():
    assert LIB3MF, "built without lib3mf-dev (.ci/packages): no lib3mf_dump"
    out = export_dir()
    m = manifest(out)
    base = os.path.basename(subject_dir())
    # lib3mf 1.8.1 leaks libzip's buffers (480 bytes in 3 objects, LeakSanitizer in the ASan
    # build): the reader is not ours, so its leaks are not reported; everything else is
    env = dict(os.environ)
    env["ASAN_OPTIONS"] = (env.get("ASAN_OPTIONS", "") + ":detect_leaks=0").lstrip(":")
    p = subprocess.run([LIB3MF, os.path.join(out, f"{base}.3mf")], capture_output=True, text=True,
                       timeout=300, env=env)
    assert p.returncode == 0, p.stderr
    rows = [l.split("\t") for l in p.stdout.splitlines()]
    assert rows[0] == ["warnings", "0"], p.stdout[:2000]
    objs = [r for r in rows if r[0] == "object"]
    assert len(objs) == len(m["structures"])
    for r, st in zip(objs, m["structures"]):
        assert r[1] == st["name"] and int(r[3]) == st["triangles"], (r, st)
        want = [int(st["color"][i:i + 2], 16) for i in (1, 3, 5)] + [255]
        assert [int(x) for x in r[4:8]] == want, (r, st["color"])
    print(f"lib3mf (strict): {len(objs)} objects, names, triangles and colours; 0 warnings")


def test_on_subject_vtk():
    import vtk
    from vtk.util.numpy_support import vtk_to_numpy
    out = export_dir()
    m = manifest(out)
    base = os.path.basename(subject_dir())
    tris = {st["id"]: st["triangles"] for st in m["structures"]}
    r = vtk.vtkXMLPolyDataReader()
    r.SetFileName(os.path.join(out, f"{base}.vtp"))
    r.Update()
    pd = r.GetOutput()
    assert pd.GetNumberOfPolys() == sum(tris.values())
    lab = vtk_to_numpy(pd.GetCellData().GetArray("label_id"))
    ids, counts = np.unique(lab, return_counts=True)
    assert dict(zip(ids.tolist(), counts.tolist())) == tris
    fd = pd.GetFieldData().GetAbstractArray("structure_names")
    assert [fd.GetValue(i) for i in range(fd.GetNumberOfValues())] == \
        [st["name"] for st in m["structures"]]
    # points in RAS mm: the bounds are the union of the structures' boxes
    b = pd.GetBounds()
    lo = np.min([st["bbox_min_mm"] for st in m["structures"]], axis=0)
    hi = np.max([st["bbox_max_mm"] for st in m["structures"]], axis=0)
    assert np.allclose(b[0::2], lo, atol=1e-3) and np.allclose(b[1::2], hi, atol=1e-3), (b, lo, hi)
    # PLY: VTK's reader gets the vertex colours of the label table
    pr = vtk.vtkPLYReader()
    pr.SetFileName(os.path.join(out, f"{base}.ply"))
    pr.Update()
    ply = pr.GetOutput()
    assert ply.GetNumberOfPolys() == sum(tris.values())
    rgb = vtk_to_numpy(ply.GetPointData().GetArray("RGB"))
    want = {tuple(int(st["color"][i:i + 2], 16) for i in (1, 3, 5)) for st in m["structures"]}
    assert {tuple(c) for c in np.unique(rgb, axis=0).tolist()} == want
    print(f"vtk: vtp {pd.GetNumberOfPolys()} polys, {len(ids)} labels; ply colours")


# ---- options, selection, units, errors (an 8 mm subject) ---------------------------------------

def small_subject():
    return os.path.join(WORK, "export_small")


def test_make_small():
    s = small_subject()
    shutil.rmtree(s, ignore_errors=True)
    run("generate", "--seed", 3, "--voxel", 8, "--sex", "male", "--out", s, "-q", expect=OK)


def exported_names(out):
    return sorted(st["name"] for st in manifest(out)["structures"])


def test_small_selection_groups_aliases_exclude():
    s = small_subject()
    table = labels_tsv(s)
    out = os.path.join(WORK, "export_sel")

    def sel(*args, expect=OK):
        shutil.rmtree(out, ignore_errors=True)
        p = run("export", s, "--out", out, "-q", *args, expect=expect)
        return exported_names(out) if expect == OK else p

    present = set(exported_names_all(s))
    bygroup = lambda *g: sorted(r["name"] for r in table.values() if r["group"] in g and
                                r["name"] in present)
    assert sel("--select", "skeleton") == bygroup("skeleton")
    assert sel("--select", "muscles") == bygroup("muscle")
    assert sel("--select", "vessels") == sorted(n for n in bygroup("cardiovascular")
                                                if not n.startswith("heart_"))
    assert sel("--select", "brain") == sorted(n for n in present if n.startswith("brain"))
    organs = sel("--select", "organs")
    assert "liver" in organs and "heart_myocardium" in organs and "brain" in organs
    assert "femur_left" not in organs and "aorta" not in organs and "skin" not in organs
    assert sel("--select", "organs", "--exclude", "liver,digestive") == \
        sorted(n for n in organs if n not in bygroup("digestive"))
    bones = sel("--select", "bones")
    assert "femur_left" in bones and not any(n.startswith("intervertebral_disc") for n in bones)
    liver = [i for i, r in table.items() if r["name"] == "liver"][0]
    assert sel("--select", f"{liver},spleen") == ["liver", "spleen"]
    assert sel("--select", "urinary") == bygroup("urinary")
    # unknown name, absent label, empty selection: exit 7, nothing written
    p = sel("--select", "nosuch", expect=LABEL)
    assert "nosuch" in p.stderr and "organs" in p.stderr
    p = sel("--select", "9999", expect=LABEL)
    assert "9999" in p.stderr
    p = sel("--select", "liver", "--exclude", "liver", expect=LABEL)
    assert "empty" in p.stderr
    assert not os.path.exists(out)


def exported_names_all(s):
    nib = __import__("nibabel")
    ids = set(np.unique(np.asarray(nib.load(os.path.join(s, "labels.nii.gz")).dataobj)).tolist())
    table = labels_tsv(s)
    return [table[i]["name"] for i in ids if i]


def test_small_units_axes_one_frame():
    s = small_subject()
    out = os.path.join(WORK, "export_units")
    shutil.rmtree(out, ignore_errors=True)
    run("export", s, "--out", out, "--select", "liver,spleen,femur_left", "--name", "b", "-q",
        expect=OK)
    shutil.rmtree(out + "_m", ignore_errors=True)
    run("export", s, "--out", out + "_m", "--select", "liver,spleen,femur_left", "--name", "b",
        "--units", "m", "--up", "y", "--formats", "stl,glb", "-q", expect=OK)
    m = manifest(out)
    for st in m["structures"]:
        head, v = read_stl(os.path.join(out, "stl", st["name"] + ".stl"))
        assert "SPACE=RAS" in head, head
        # mm, RAS: the STL's box is the structure's box in world mm
        assert np.allclose(v.min(0), st["bbox_min_mm"], atol=1e-3)
        assert np.allclose(v.max(0), st["bbox_max_mm"], atol=1e-3)
        # m, Y up: (x, y, z) -> (-x, z, y) / 1000
        head, w = read_stl(os.path.join(out + "_m", "stl", st["name"] + ".stl"))
        assert "SPACE=RAS" not in head
        want = np.stack([-v[:, 0], v[:, 2], v[:, 1]], axis=1) / 1000
        assert np.allclose(w, want, atol=1e-6), st["name"]
    # one frame for all structures: the merged STL holds the same vertices as the parts
    _, merged = read_stl(os.path.join(out, "b.stl"))
    parts = np.concatenate([read_stl(os.path.join(out, "stl", n + ".stl"))[1]
                            for n in [st["name"] for st in m["structures"]]])
    assert np.array_equal(merged, parts)
    f = {x["path"]: x for x in manifest(out + "_m")["files"]}
    assert (f["b.glb"]["units"], f["b.glb"]["up"]) == ("m", "y")
    assert (f["b.stl"]["units"], f["b.stl"]["up"]) == ("m", "y")
    lo = np.min([st["bbox_min_mm"] for st in m["structures"]], axis=0)
    hi = np.max([st["bbox_max_mm"] for st in m["structures"]], axis=0)
    assert np.allclose(f["b.glb"]["bbox_min"], [-hi[0] / 1000, lo[2] / 1000, lo[1] / 1000])
    assert np.allclose(f["b.glb"]["bbox_max"], [-lo[0] / 1000, hi[2] / 1000, hi[1] / 1000])
    # 3MF unit attribute follows --units
    import zipfile
    run("export", s, "--out", out + "_3mf", "--select", "liver", "--units", "m", "--formats",
        "3mf", "--force", "-q", expect=OK)
    with zipfile.ZipFile(glob.glob(os.path.join(out + "_3mf", "*.3mf"))[0]) as z:
        assert z.testzip() is None
        model = z.read("3D/3dmodel.model").decode()
    assert 'unit="meter"' in model and 'name="liver"' in model


def test_small_same_bytes_any_threads_nifti_input():
    s = small_subject()
    a, b = os.path.join(WORK, "export_t1"), os.path.join(WORK, "export_t2")
    for d, t in ((a, 1), (b, 2)):
        shutil.rmtree(d, ignore_errors=True)
        run("export", s, "--out", d, "--formats", "all", "--select", "organs", "--threads", t,
            "-q", expect=OK)
    ha, hb = tree_hashes(a), tree_hashes(b)
    assert ha == hb, [k for k in ha if ha.get(k) != hb.get(k)]
    # the label NIfTI itself (labels.tsv beside it) gives the same meshes; base name "labels"
    c = os.path.join(WORK, "export_t3")
    shutil.rmtree(c, ignore_errors=True)
    run("export", os.path.join(s, "labels.nii.gz"), "--out", c, "--select", "organs", "-q",
        expect=OK)
    assert os.path.exists(os.path.join(c, "labels.stl"))
    hc = tree_hashes(c)
    stl = [k for k in hc if k.startswith("stl/")]
    assert len(stl) > 10 and all(hc[k] == ha[k] for k in stl)


def test_small_nifti_without_table():
    s = small_subject()
    bare = os.path.join(WORK, "export_bare")
    shutil.rmtree(bare, ignore_errors=True)
    os.makedirs(bare)
    shutil.copy(os.path.join(s, "labels.nii.gz"), os.path.join(bare, "map.nii.gz"))
    out = os.path.join(WORK, "export_bare_out")
    shutil.rmtree(out, ignore_errors=True)
    table = labels_tsv(s)
    liver = [i for i, r in table.items() if r["name"] == "liver"][0]
    run("export", os.path.join(bare, "map.nii.gz"), "--out", out, "--select", f"{liver},1",
        "--formats", "glb,stl", "-q", expect=OK)
    m = manifest(out)
    assert [(x["name"], x["color"], x["group"]) for x in m["structures"]] == \
        [("label_1", "#c8c8c8", ""), (f"label_{liver}", "#c8c8c8", "")], m["structures"]
    assert os.path.exists(os.path.join(out, "map.glb"))
    assert os.path.exists(os.path.join(out, "stl", f"label_{liver}.stl"))
    # names and groups need the table: a clear exit 7
    p = run("export", os.path.join(bare, "map.nii.gz"), "--out", out + "2", "--select", "liver",
            expect=LABEL)
    assert "no labels.tsv" in p.stderr, p.stderr
    p = run("export", os.path.join(bare, "map.nii.gz"), "--out", out + "2", "--select",
            "organs", expect=LABEL)
    assert "organs" in p.stderr


def test_generate_mesh_formats_same_as_export():
    g = os.path.join(WORK, "export_gen")
    shutil.rmtree(g, ignore_errors=True)
    run("generate", "--seed", 4, "--voxel", 8, "--out", g, "--formats", "glb,stl,3mf", "-q",
        expect=OK)
    meshes = os.path.join(g, "meshes")
    with open(os.path.join(g, "subject.json")) as f:
        assert json.load(f)["mesh_manifest"] == "meshes/manifest.json"
    m = manifest(meshes)
    assert {x["path"] for x in m["files"]} >= {"export_gen.glb", "export_gen.stl",
                                               "export_gen.3mf"}
    # the same files as `synthbody export` of the folder: one mesh path, not two
    e = os.path.join(WORK, "export_gen_again")
    shutil.rmtree(e, ignore_errors=True)
    run("export", g, "--out", e, "--formats", "glb,stl,3mf", "-q", expect=OK)
    hg, he = tree_hashes(meshes), tree_hashes(e)
    assert {k: v for k, v in hg.items() if k != "manifest.json"} == \
        {k: v for k, v in he.items() if k != "manifest.json"}
    # outputs exist: exit 6 before any work, nothing changed
    p = run("generate", "--seed", 4, "--voxel", 8, "--out", g, "--formats", "glb")
    assert p.returncode == EXISTS
    assert tree_hashes(meshes) == hg
    assert run("generate", "--out", g, "--formats", "fbx").returncode == USAGE


def test_small_errors_exit_codes_no_partial_output():
    s = small_subject()
    out = os.path.join(WORK, "export_err")
    shutil.rmtree(out, ignore_errors=True)
    run("export", s, "--out", out, "--select", "liver", "--formats", "stl,obj", "-q", expect=OK)
    before = tree_hashes(out)
    p = run("export", s, "--out", out, "--select", "liver", "--formats", "stl,obj", expect=EXISTS)
    assert "--force" in p.stderr
    assert tree_hashes(out) == before
    run("export", s, "--out", out, "--select", "liver", "--formats", "stl,obj", "--force", "-q",
        expect=OK)
    assert run("export", s, "--out", out, "--formats", "fbx").returncode == USAGE
    assert run("export", s, "--out", out, "--units", "cm").returncode == USAGE
    assert run("export", s, "--out", out, "--up", "x").returncode == USAGE
    assert run("export", s).returncode == USAGE
    assert run("export", "--out", out).returncode == USAGE
    p = run("export", WORK, "--out", out + "2", expect=INPUT)
    assert "labels.nii.gz" in p.stderr
    p = run("export", os.path.join(WORK, "nosuch.nii.gz"), "--out", out + "2", expect=INPUT)
    assert "nosuch" in p.stderr
    assert not os.path.exists(out + "2")
    # unwritable output: exit 4, nothing left
    ro = os.path.join(WORK, "export_ro")
    shutil.rmtree(ro, ignore_errors=True)
    os.makedirs(ro)
    os.chmod(ro, 0o500)
    try:
        if os.access(ro, os.W_OK):  # root ignores the mode
            print("running as root: unwritable-directory check skipped")
        else:
            run("export", s, "--out", os.path.join(ro, "x"), "--select", "liver", expect=OUTPUT)
    finally:
        os.chmod(ro, 0o700)
    notdir = os.path.join(WORK, "export_file")
    with open(notdir, "w") as f:
        f.write("a file, not a directory\n")
    p = run("export", s, "--out", os.path.join(notdir, "x"), "--select", "liver", expect=OUTPUT)
    assert "export_file" in p.stderr
    # a failure midway (the 3MF's name is taken by a directory) removes what was written
    mid = os.path.join(WORK, "export_mid")
    shutil.rmtree(mid, ignore_errors=True)
    os.makedirs(os.path.join(mid, "x.3mf"))
    p = run("export", s, "--out", mid, "--name", "x", "--select", "liver", "--formats",
            "stl,obj,3mf", "--force")
    assert p.returncode == OUTPUT, (p.returncode, p.stderr)
    assert "x.3mf" in p.stderr
    left = sorted(os.path.relpath(f, mid) for f in glob.glob(os.path.join(mid, "**", "*"),
                                                            recursive=True))
    assert left in (["x.3mf"], ["stl", "x.3mf"]), left
    no_temporaries(mid)


def main():
    global BIN, DUMP, LIB3MF, WORK
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--dump", required=True)
    ap.add_argument("--lib3mf", default=None)
    ap.add_argument("--work", required=True)
    ap.add_argument("test")
    a = ap.parse_args()
    BIN, DUMP, WORK = map(os.path.abspath, (a.bin, a.dump, a.work))
    LIB3MF = os.path.abspath(a.lib3mf) if a.lib3mf else None
    os.makedirs(WORK, exist_ok=True)
    fn = globals().get(a.test)
    if not fn or not a.test.startswith("test_"):
        sys.exit(f"no test named {a.test}")
    fn()
    print(f"{a.test}: ok")


if __name__ == "__main__":
    main()
