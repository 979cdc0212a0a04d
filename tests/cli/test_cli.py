#!/usr/bin/python3
"""CLI and real-client tests of the synthbody command.

Run one test:  /usr/bin/python3 test_cli.py --bin path/to/synthbody --work DIR TEST_NAME
CTest registers every function named test_* as its own test (tests/cli/CMakeLists.txt).

Real clients: nibabel reads every NIfTI we write; VTK's Python (vtkSTLReader + vtkFeatureEdges)
and an independent numpy edge counter check every STL. Debian's /usr/bin/python3 has both.
"""
import argparse
import glob
import hashlib
import re
import json
import os
import shutil
import struct
import subprocess
import sys

import numpy as np
import nibabel as nib

BIN = None
WORK = None

# Exit codes (README "Exit codes"; sb_status in core/sb_core.h)
OK, INTERNAL, USAGE, INPUT, OUTPUT, MEMORY, EXISTS, LABEL = range(8)


def run(*args, expect=None, stdin=subprocess.DEVNULL):
    p = subprocess.run([BIN, *map(str, args)], capture_output=True, text=True, stdin=stdin,
                       timeout=600)
    if expect is not None and p.returncode != expect:
        raise AssertionError(f"synthbody {' '.join(map(str, args))}: exit {p.returncode}, "
                             f"expected {expect}\nstdout: {p.stdout}\nstderr: {p.stderr}")
    return p


def fresh(name):
    d = os.path.join(WORK, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    return d


def no_temporaries(d):
    left = [f for f in glob.glob(os.path.join(d, "**", "*"), recursive=True) + glob.glob(os.path.join(d, "**", ".*"), recursive=True)
            if ".tmp." in os.path.basename(f)]
    assert not left, f"temporary files left behind: {left}"


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def read_stl(path):
    """Binary STL -> (vertices (n,3) float32 merged by exact value, triangles (m,3))."""
    with open(path, "rb") as f:
        data = f.read()
    assert len(data) >= 84, f"{path}: too short for binary STL"
    (n,) = struct.unpack_from("<I", data, 80)
    assert len(data) == 84 + 50 * n, f"{path}: size {len(data)} does not match {n} triangles"
    rec = np.frombuffer(data, dtype=np.dtype([("n", "<f4", 3), ("v", "<f4", (3, 3)),
                                              ("a", "<u2")]), count=n, offset=84)
    verts = np.ascontiguousarray(rec["v"].reshape(-1, 3))
    keys = verts.view(np.dtype((np.void, 12))).ravel()  # exact float bits of x, y, z
    _, first, inv = np.unique(keys, return_index=True, return_inverse=True)
    return verts[first], inv.reshape(-1, 3)


def edge_report(tris):
    """Counts boundary (1 use), non-manifold (>2 uses) and misoriented edges."""
    e = np.concatenate([tris[:, [0, 1]], tris[:, [1, 2]], tris[:, [2, 0]]]).astype(np.int64)
    n = int(e.max()) + 1
    key = np.minimum(e[:, 0], e[:, 1]) * n + np.maximum(e[:, 0], e[:, 1])
    _, counts = np.unique(key, return_counts=True)
    directed = np.unique(e[:, 0] * n + e[:, 1]).shape[0]
    boundary = int(np.sum(counts == 1))
    nonmanifold = int(np.sum(counts > 2))
    misoriented = int(e.shape[0] - directed)  # a directed edge used twice
    return boundary, nonmanifold, misoriented


def signed_volume(verts, tris):
    a, b, c = (verts[tris[:, i]].astype(np.float64) for i in range(3))
    return float(np.sum(np.einsum("ij,ij->i", a, np.cross(b, c))) / 6.0)


def vtk_check(path):
    """Boundary and non-manifold edge counts from VTK's own filters."""
    import vtk
    r = vtk.vtkSTLReader()
    r.SetFileName(path)
    r.Update()
    fe = vtk.vtkFeatureEdges()
    fe.SetInputConnection(r.GetOutputPort())
    fe.BoundaryEdgesOn()
    fe.NonManifoldEdgesOff()
    fe.FeatureEdgesOff()
    fe.ManifoldEdgesOff()
    fe.Update()
    boundary = fe.GetOutput().GetNumberOfCells()
    fe.BoundaryEdgesOff()
    fe.NonManifoldEdgesOn()
    fe.Update()
    return boundary, fe.GetOutput().GetNumberOfCells(), r.GetOutput().GetNumberOfCells()


def generate(name, *extra, seed=1, voxel=4):
    d = os.path.join(WORK, name)
    shutil.rmtree(d, ignore_errors=True)
    run("generate", "--seed", seed, "--voxel", voxel, "--out", d, "-q", *extra, expect=OK)
    return d


# ---- help, version, usage errors --------------------------------------------------------------

def test_help_and_version():
    p = run("--help", expect=OK)
    assert "generate" in p.stdout and "Exit codes" in p.stdout
    for cmd in ("generate", "mesh", "info", "preview"):
        p = run(cmd, "--help", expect=OK)
        assert p.stdout.startswith(f"usage: synthbody {cmd}"), p.stdout
    p = run("--version", expect=OK)
    assert p.stdout.startswith("synthbody 0."), p.stdout
    p = run(expect=USAGE)
    assert "usage:" in p.stderr


def test_unknown_command_and_option():
    p = run("frobnicate", expect=USAGE)
    assert '"frobnicate"' in p.stderr
    p = run("generate", "--bogus", expect=USAGE)
    assert '"--bogus"' in p.stderr
    p = run("info", "--iso", "3", "x.nii", expect=USAGE)  # option of another command
    assert '"--iso"' in p.stderr


def test_missing_and_invalid_values():
    p = run("generate", "--seed", expect=USAGE)
    assert "--seed needs a value" in p.stderr
    for args, needle in ((("--seed", "abc"), '"abc"'), (("--seed", "-4"), '"-4"'),
                         (("--voxel", "4mm"), '"4mm"'), (("--threads", "0"), "--threads 0"),
                         (("--voxel", "nan"), '"nan"'), (("--sex", "x"), '"x"'),
                         (("--age", "12"), "--age 12"), (("--bmi", "200"), "--bmi 200")):
        p = run("generate", *args, "--out", os.path.join(WORK, "never"), expect=USAGE)
        assert needle in p.stderr, (args, p.stderr)
    assert not os.path.exists(os.path.join(WORK, "never"))
    run("mesh", "--out", os.path.join(WORK, "never"), expect=USAGE)  # no input
    run("mesh", "x.nii.gz", expect=USAGE)  # no --out


def test_voxel_nonpositive_or_absurd():
    for v in ("0", "-1", "1000", "0.01"):
        p = run("generate", "--voxel", v, "--out", os.path.join(WORK, "never"), expect=USAGE)
        assert f"--voxel {v}" in p.stderr, p.stderr
    assert not os.path.exists(os.path.join(WORK, "never"))


def test_volume_too_large_refused_before_allocating():
    d = os.path.join(WORK, "huge")
    shutil.rmtree(d, ignore_errors=True)
    p = run("generate", "--seed", 1, "--voxel", "0.1", "--out", d, expect=MEMORY)
    assert "GiB" in p.stderr and "needs" in p.stderr, p.stderr
    assert not os.path.exists(d), "nothing may be created when the job is refused"


# ---- the main job --------------------------------------------------------------------------

def test_generate_acceptance():
    d = generate("acc", "--mesh")
    for f in ("labels.nii.gz", "T1w.nii.gz", "T2w.nii.gz", "labels.tsv", "labels.itksnap.txt",
              "labels.ctbl", "subject.json"):
        assert os.path.isfile(os.path.join(d, f)), f
    no_temporaries(d)
    img = nib.load(os.path.join(d, "labels.nii.gz"))
    hdr = img.header
    assert nib.aff2axcodes(img.affine) == ("R", "A", "S")
    assert int(hdr["intent_code"]) == 1002
    assert np.issubdtype(img.get_data_dtype(), np.integer), img.get_data_dtype()
    assert int(hdr["qform_code"]) == 1 and int(hdr["sform_code"]) == 1
    assert np.allclose(img.get_qform(), img.get_sform(), atol=1e-4)
    assert hdr.get_xyzt_units()[0] == "mm"
    raw = stored_header(os.path.join(d, "labels.nii.gz"))
    assert float(raw["scl_slope"]) == 1.0 and float(raw["scl_inter"]) == 0.0
    assert np.allclose(hdr.get_zooms()[:3], (4, 4, 4))
    data = np.asarray(img.dataobj)
    ids = set(np.unique(data).tolist()) - {0}
    assert len(ids) >= 12, ids
    # label tables agree with the map
    with open(os.path.join(d, "labels.tsv")) as f:
        rows = [l.rstrip("\n").split("\t") for l in f]
    assert rows[0] == ["index", "name", "abbreviation", "color", "group"], rows[0]
    table = {int(r[0]): r[1] for r in rows[1:]}
    assert ids <= set(table), ids - set(table)
    for r in rows[1:]:
        assert len(r[3]) == 7 and r[3][0] == "#", r
    meta = json.load(open(os.path.join(d, "subject.json")))
    assert meta["seed"] == "1" and meta["voxel_mm"] == 4 and meta["version"]
    for c in ("T1w", "T2w"):
        im = nib.load(os.path.join(d, f"{c}.nii.gz"))
        assert np.allclose(im.affine, img.affine) and im.shape == img.shape
        assert nib.aff2axcodes(im.affine) == ("R", "A", "S")
        assert float(np.asarray(im.dataobj).max()) > 500
    # every STL closed and 2-manifold (numpy edge counter; VTK below 1M triangles)
    stls = sorted(glob.glob(os.path.join(d, "meshes", "*.stl")))
    assert len(stls) >= 12, stls
    names = {os.path.basename(s)[:-4] for s in stls}
    assert names <= set(table.values()), names - set(table.values())
    for s in stls:
        v, t = read_stl(s)
        b, nm, mo = edge_report(t)
        assert (b, nm, mo) == (0, 0, 0), f"{s}: boundary {b}, non-manifold {nm}, misoriented {mo}"
        assert signed_volume(v, t) > 0, f"{s}: not oriented outward"
        if len(t) < 1_000_000:
            vb, vnm, ncells = vtk_check(s)
            assert (vb, vnm) == (0, 0) and ncells == len(t), (s, vb, vnm, ncells)
    # mesh volume of a big organ agrees with its voxel count (within 10 % at 4 mm)
    liver_id = [k for k, n in table.items() if n == "liver"][0]
    v, t = read_stl(os.path.join(d, "meshes", "liver.stl"))
    vox_ml = np.sum(data == liver_id) * 64 / 1000.0
    assert abs(signed_volume(v, t) / 1000.0 - vox_ml) < 0.10 * vox_ml


def test_same_seed_same_bytes_any_threads():
    # volumes at 4 mm; meshes (the slow part under sanitizers) at 8 mm
    for voxel, extra in ((4, ()), (8, ("--mesh",))):
        a = generate(f"det1_{voxel}", "--threads", 1, *extra, voxel=voxel)
        b = generate(f"det2_{voxel}", "--threads", 2, *extra, voxel=voxel)
        files = ["labels.nii.gz", "T1w.nii.gz", "T2w.nii.gz", "subject.json", "labels.tsv"]
        files += [os.path.join("meshes", os.path.basename(p))
                  for p in glob.glob(os.path.join(a, "meshes", "*.stl"))]
        assert len(files) > 5 or not extra
        for f in files:
            assert sha(os.path.join(a, f)) == sha(os.path.join(b, f)), \
                f"{f} differs between thread counts at {voxel} mm"


def peak_rss_child_mb(*args):
    """Runs synthbody alone in a fresh Python child and returns its peak RSS in MiB."""
    code = ("import resource, subprocess, sys; "
            "subprocess.run(sys.argv[1:], check=True, capture_output=True); "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    p = subprocess.run([sys.executable, "-c", code, BIN, *map(str, args)], capture_output=True,
                       text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    return int(p.stdout) / 1024


def sanitized():
    with open(BIN, "rb") as f:
        return b"__asan_init" in f.read()


def test_slabs_same_bytes_within_memory_budget():
    # --max-memory-gb: a grid larger than the budget is made and written slab by slab; the
    # files equal the whole-volume run's byte for byte (uneven slabs, Dixon's five images,
    # texture, one and two threads), and the process stays within the budget
    extra = ("--protocol", "ukbiobank-dixon", "--texture", "0.1")
    a = generate("slab_whole", *extra)
    b = os.path.join(WORK, "slab_parts")
    shutil.rmtree(b, ignore_errors=True)
    args = ("generate", "--seed", 1, "--voxel", 4, "--out", b, "--threads", 1, "-v",
            "--max-memory-gb", 0.25, *extra)
    p = run(*args, expect=OK)
    m = re.search(r"in slabs of (\d+) planes", p.stderr)
    nz = nib.load(os.path.join(a, "labels.nii.gz")).shape[2]
    assert m and nz % int(m.group(1)) != 0 and nz // int(m.group(1)) >= 2, p.stderr
    files = sorted(os.listdir(a))
    assert files == sorted(os.listdir(b)) and len(files) >= 14, files
    for f in files:
        assert sha(os.path.join(a, f)) == sha(os.path.join(b, f)), f"{f} differs in slabs"
    no_temporaries(b)
    if not sanitized():  # ASan's shadow memory and quarantine are not the program's
        shutil.rmtree(b)
        rss = peak_rss_child_mb(*args)
        assert rss < 0.25 * 1024, f"peak RSS {rss:.0f} MiB over the 0.25 GiB budget"
        # meshes from the label map gathered slab by slab (Release only: slow under ASan)
        w = generate("slab_mesh_whole", "--mesh")
        m = os.path.join(WORK, "slab_mesh_parts")
        shutil.rmtree(m, ignore_errors=True)
        # (0.27: the meshes keep the whole label map, and a slab carries 2 x 20 planes of margin)
        p = run("generate", "--seed", 1, "--voxel", 4, "--out", m, "--mesh", "-v",
                "--max-memory-gb", 0.27, expect=OK)
        assert "in slabs of" in p.stderr, p.stderr
        stl = sorted(os.listdir(os.path.join(w, "meshes")))
        assert len(stl) > 100 and stl == sorted(os.listdir(os.path.join(m, "meshes")))
        for f in stl + ["../labels.nii.gz"]:
            assert sha(os.path.join(w, "meshes", f)) == sha(os.path.join(m, "meshes", f)), f
    # a budget too small for one plane, and k-space truncation in slabs, are refused
    d = os.path.join(WORK, "slab_small")
    shutil.rmtree(d, ignore_errors=True)
    p = run("generate", "--seed", 1, "--voxel", 0.1, "--out", d, "--max-memory-gb", 0.25,
            expect=MEMORY)
    assert "budget" in p.stderr and not os.path.exists(d), p.stderr
    p = run("generate", "--seed", 1, "--voxel", 4, "--out", d, "--max-memory-gb", 0.3,
            "--slice", 8, expect=MEMORY)
    assert "k-space" in p.stderr and not os.path.exists(d), p.stderr
    run("generate", "--out", d, "--max-memory-gb", "0.1", expect=USAGE)


def test_different_seeds_different_anatomy():
    a = generate("seedA", seed=1, voxel=8)
    b = generate("seedB", seed=2, voxel=8)
    la = nib.load(os.path.join(a, "labels.nii.gz"))
    lb = nib.load(os.path.join(b, "labels.nii.gz"))
    ja, jb = json.load(open(os.path.join(a, "subject.json"))), json.load(open(os.path.join(b, "subject.json")))
    assert ja["subject_parameters"] != jb["subject_parameters"]
    if la.shape == lb.shape:
        assert np.any(np.asarray(la.dataobj) != np.asarray(lb.dataobj))


def test_default_seed_is_printed_and_recorded():
    d = fresh("dflt")
    p = subprocess.run([BIN, "generate", "--voxel", "8"], cwd=d, capture_output=True, text=True,
                       timeout=600)
    assert p.returncode == 0, p.stderr
    seed = p.stderr.split("seed ")[1].split()[0]
    out = os.path.join(d, f"subject-{seed}")
    assert json.load(open(os.path.join(out, "subject.json")))["seed"] == seed


def test_subject_overrides():
    d = generate("ovr", "--sex", "female", "--age", "40", "--height-cm", "170", "--bmi", "22", voxel=8)
    p = json.load(open(os.path.join(d, "subject.json")))["subject_parameters"]
    assert p["sex"] == "female" and p["age_y"] == 40 and p["height_cm"] == 170 and p["bmi"] == 22


# ---- outputs: existing, unwritable, partial ----------------------------------------------------

def test_existing_outputs_need_force():
    d = generate("exist", voxel=8)
    before = sha(os.path.join(d, "labels.nii.gz"))
    p = run("generate", "--seed", 2, "--voxel", 8, "--out", d, expect=EXISTS)
    assert "exists" in p.stderr and "--force" in p.stderr
    assert sha(os.path.join(d, "labels.nii.gz")) == before
    run("generate", "--seed", 2, "--voxel", 8, "--out", d, "--force", "-q", expect=OK)
    assert sha(os.path.join(d, "labels.nii.gz")) != before
    no_temporaries(d)


def test_unwritable_output_directory():
    f = os.path.join(fresh("unw"), "a_file")
    open(f, "w").close()
    p = run("generate", "--voxel", 8, "--out", os.path.join(f, "sub"), expect=OUTPUT)
    assert "a_file" in p.stderr
    p = run("generate", "--voxel", 8, "--out", "/proc/synthbody_cannot", expect=OUTPUT)
    assert "/proc/synthbody_cannot" in p.stderr


def test_failure_midway_leaves_no_partial_files():
    d = fresh("midway")
    # T2w.nii.gz is a directory: labels and T1w are written first, then renaming T2w fails
    os.makedirs(os.path.join(d, "T2w.nii.gz"))
    p = run("generate", "--seed", 1, "--voxel", 8, "--out", d, "--force", expect=OUTPUT)
    assert "T2w.nii.gz" in p.stderr, p.stderr
    assert sorted(os.listdir(d)) == ["T2w.nii.gz"], os.listdir(d)


# ---- mesh ---------------------------------------------------------------------------------

def write_nifti(path, data, affine, dtype, nifti2=False, big_endian=False):
    cls = nib.Nifti2Image if nifti2 else nib.Nifti1Image
    hcls = nib.Nifti2Header if nifti2 else nib.Nifti1Header
    hdr = hcls(endianness=">" if big_endian else "<")
    img = cls(data.astype(dtype), affine, hdr)
    img.set_data_dtype(dtype)
    nib.save(img, path)
    return img


def stored_header(path):
    """The header as stored (nibabel's loaded header resets scaling fields)."""
    import gzip
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        return nib.Nifti1Header.from_fileobj(f)


def test_mesh_las_bigendian_world_positions():
    d = fresh("las")
    data = np.zeros((12, 10, 9), dtype=np.int16)
    data[2:7, 3:8, 1:5] = 5  # a box touching nothing
    data[9:12, 0:3, 6:9] = 9  # a box touching three borders
    # LAS with rotation about z and anisotropic voxels, stored big-endian
    c, s = np.cos(0.3), np.sin(0.3)
    rot = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])
    aff = np.eye(4)
    aff[:3, :3] = rot @ np.diag([-2.0, 1.5, 3.0])
    aff[:3, 3] = [40.0, -20.0, 10.0]
    path = os.path.join(d, "las_be.nii.gz")
    write_nifti(path, data, aff, np.int16, big_endian=True)
    back = nib.load(path)
    assert back.header.endianness == ">" and nib.aff2axcodes(back.affine)[0] == "L"
    out = os.path.join(d, "m")
    run("mesh", path, "--out", out, "-q", expect=OK)
    assert sorted(os.listdir(out)) == ["label_5.stl", "label_9.stl"], os.listdir(out)
    for lab, lo, hi in ((5, (2, 3, 1), (6, 7, 4)), (9, (9, 0, 6), (11, 2, 8))):
        v, t = read_stl(os.path.join(out, f"label_{lab}.stl"))
        assert edge_report(t) == (0, 0, 0)
        assert signed_volume(v, t) > 0, "LAS affine must still give outward normals"
        # vertices sit halfway between inside and outside voxel centres: the box faces at
        # index lo - 0.5 and hi + 0.5; map the vertices back to index space with nibabel's affine
        ijk = nib.affines.apply_affine(np.linalg.inv(back.affine), v.astype(np.float64))
        assert np.allclose(ijk.min(axis=0), np.array(lo) - 0.5, atol=1e-3), ijk.min(axis=0)
        assert np.allclose(ijk.max(axis=0), np.array(hi) + 0.5, atol=1e-3), ijk.max(axis=0)
        # and every vertex is a world position nibabel computes for such a half-index point
        twice = ijk * 2
        assert np.allclose(twice, np.round(twice), atol=2e-3)


def test_mesh_labels_by_name_and_absent_label():
    d = generate("meshsel", voxel=8)
    out = os.path.join(WORK, "meshsel_out")
    shutil.rmtree(out, ignore_errors=True)
    with open(os.path.join(d, "labels.tsv")) as f:
        liver = [l.split("\t")[0] for l in f if "\tliver\t" in l][0]
    run("mesh", os.path.join(d, "labels.nii.gz"), "--out", out, "--labels", f"liver,{liver}", "-q",
        expect=OK)
    assert os.listdir(out) == ["liver.stl"], os.listdir(out)
    p = run("mesh", os.path.join(d, "labels.nii.gz"), "--out", out + "2", "--labels", "999",
            expect=LABEL)
    assert "999" in p.stderr
    p = run("mesh", os.path.join(d, "labels.nii.gz"), "--out", out + "2", "--labels", "spleen,nosuch",
            expect=LABEL)
    assert "nosuch" in p.stderr
    assert not os.path.exists(out + "2")
    run("mesh", os.path.join(d, "labels.nii.gz"), "--out", out, "--labels", "liver", expect=EXISTS)


def test_mesh_smooth_simplify_backend_options():
    # the stomach: a genus-0 surface, whose simplification the self-intersection guard does not
    # stop short of the budget (the liver of this subject, with 10 handles where vessels, ribs and
    # neighbours pass through it at 8 mm, stops at ~870 triangles for 600: README "Surfaces")
    d = generate("meshopt", voxel=8)
    lab = os.path.join(d, "labels.nii.gz")
    out = os.path.join(WORK, "meshopt_out")
    for sub in ("raw", "smooth", "budget", "vtk"):
        shutil.rmtree(os.path.join(out, sub), ignore_errors=True)
    run("mesh", lab, "--out", os.path.join(out, "raw"), "--labels", "stomach", "--max-error-mm", "0",
        "-q", expect=OK)
    run("mesh", lab, "--out", os.path.join(out, "smooth"), "--labels", "stomach", "--smooth", "10",
        "--max-error-mm", "0", "-q", expect=OK)
    run("mesh", lab, "--out", os.path.join(out, "budget"), "--labels", "stomach", "--smooth=10",
        "--target-tris", "600", "--max-error-mm", "0", "-q", expect=OK)
    run("mesh", lab, "--out", os.path.join(out, "vtk"), "--labels", "stomach", "--backend", "vtk",
        "--smooth", "10", "-q", expect=OK)
    m = {k: read_stl(os.path.join(out, k, "stomach.stl")) for k in ("raw", "smooth", "budget", "vtk")}
    for k, (v, t) in m.items():
        assert edge_report(t) == (0, 0, 0) and signed_volume(v, t) > 0, k
    # smoothing moves the vertices but keeps their number, and gives the label's voxel volume
    # (Taubin + volume restoration; the raw surface cuts the voxels' corners: 3 % less here);
    # the budget holds (with --max-error-mm 0 nothing bounds the error first)
    assert len(m["smooth"][1]) == len(m["raw"][1])
    assert not np.array_equal(m["smooth"][0], m["raw"][0])
    img = nib.load(lab)
    with open(os.path.join(d, "labels.tsv")) as f:
        sid = next(int(r.split("\t")[0]) for r in f if r.split("\t")[1] == "stomach")
    vox = float(np.count_nonzero(np.asarray(img.dataobj) == sid)) * abs(np.linalg.det(img.affine))
    vr, vs = signed_volume(*m["raw"]), signed_volume(*m["smooth"])
    assert abs(vs / vox - 1) < 0.01 and vr < vox, (vs, vr, vox)
    assert len(m["budget"][1]) <= 600, len(m["budget"][1])
    assert abs(signed_volume(*m["vtk"]) / vr - 1) < 0.05
    for bad in (("--smooth", "x"), ("--smooth", "1001"), ("--target-tris", "3"),
                ("--max-error-mm", "-1"), ("--backend", "gpu")):
        p = run("mesh", lab, "--out", os.path.join(out, "bad"), *bad, expect=USAGE)
        assert bad[0] in p.stderr, p.stderr
    assert not os.path.exists(os.path.join(out, "bad"))


def test_mesh_prusaslicer_manifold():
    """Real client: PrusaSlicer 2.5 (`--info`, headless) reads our simplified STLs as manifold,
    with our triangle count and volume."""
    d = generate("prusa", voxel=8)
    out = os.path.join(WORK, "prusa_out")
    shutil.rmtree(out, ignore_errors=True)
    run("mesh", os.path.join(d, "labels.nii.gz"), "--out", out, "--labels", "liver,skin",
        "--smooth", "10", "--target-tris", "3000", "-q", expect=OK)
    for name in ("liver", "skin"):
        path = os.path.join(out, name + ".stl")
        p = subprocess.run(["prusa-slicer", "--info", path], capture_output=True, text=True,
                           timeout=300)
        assert p.returncode == 0, (p.returncode, p.stderr[-2000:])
        info = dict(l.split(" = ", 1) for l in p.stdout.splitlines() if " = " in l)
        v, t = read_stl(path)
        assert info["manifold"].strip() == "yes", p.stdout
        assert int(info["number_of_facets"]) == len(t), (info, len(t))
        assert abs(float(info["volume"]) / signed_volume(v, t) - 1) < 1e-3, info


def test_mesh_iso_surface():
    d = generate("iso", voxel=8)
    out = os.path.join(WORK, "iso_out")
    shutil.rmtree(out, ignore_errors=True)
    run("mesh", os.path.join(d, "T1w.nii.gz"), "--out", out, "--iso", "300", "-q", expect=OK)
    v, t = read_stl(os.path.join(out, "isosurface.stl"))
    assert edge_report(t) == (0, 0, 0) and signed_volume(v, t) > 0


def test_mesh_4d_first_volume_with_warning():
    d = fresh("fourd")
    data = np.zeros((6, 6, 6, 3), dtype=np.uint8)
    data[1:4, 1:4, 1:4, 0] = 3
    data[1:5, 1:5, 1:5, 1:] = 4
    path = os.path.join(d, "x4d.nii")
    write_nifti(path, data, np.diag([2.0, 2.0, 2.0, 1.0]), np.uint8, nifti2=True)
    p = run("mesh", path, "--out", os.path.join(d, "m"), expect=OK)
    assert "warning" in p.stderr and "first" in p.stderr, p.stderr
    assert os.listdir(os.path.join(d, "m")) == ["label_3.stl"]


def test_bad_nifti_inputs():
    d = fresh("badnii")
    good = generate("badsrc", voxel=8)
    raw = open(os.path.join(good, "labels.nii.gz"), "rb").read()
    import gzip
    plain = gzip.decompress(raw)
    cases = {
        "missing.nii.gz": None,
        "empty.nii": b"",
        "garbage.nii": b"this is not a nifti file at all" * 20,
        "truncated.nii": plain[: len(plain) // 2],
        "truncated.nii.gz": gzip.compress(plain[: len(plain) // 3]),
        "badmagic.nii": plain[:344] + b"xx+1" + plain[348:],
    }
    hugedims = bytearray(plain)
    struct.pack_into("<8h", hugedims, 40, 3, 30000, 30000, 30000, 1, 1, 1, 1)
    cases["hugedims.nii"] = bytes(hugedims)
    for name, content in cases.items():
        path = os.path.join(d, name)
        if content is not None:
            open(path, "wb").write(content)
        out = os.path.join(d, "out_" + name)
        p = run("mesh", path, "--out", out, expect=None)
        expected = (MEMORY, INPUT) if name == "hugedims.nii" else (INPUT,)
        assert p.returncode in expected, (name, p.returncode, p.stderr)
        assert name in p.stderr, (name, p.stderr)
        assert not os.path.exists(out), name
        p = run("info", path)
        assert p.returncode in expected and name in p.stderr, (name, p.returncode, p.stderr)


# ---- anatomy descriptions -----------------------------------------------------------------

def test_labels_command():
    p = run("labels", expect=OK)
    rows = [l.split("\t") for l in p.stdout.splitlines()]
    assert rows[0] == ["index", "name", "abbreviation", "group", "tissue", "color", "sex"], rows[0]
    ids = [int(r[0]) for r in rows[1:]]
    assert len(ids) == len(set(ids)) and ids == sorted(ids)
    names = {r[1] for r in rows[1:]}
    assert {"skin", "subcutaneous_fat", "skeletal_muscle", "visceral_fat"} <= names
    assert all(r[6] in ("any", "male", "female") for r in rows[1:])
    # the table of a generated subject is the sex's subset of it
    d = generate("labels_subj", voxel=8)
    sub = {l.split("\t")[1] for l in open(os.path.join(d, "labels.tsv")).read().splitlines()[1:]}
    assert sub <= names


def test_custom_anatomy_and_bad_descriptions():
    d = fresh("anat")
    doc = {"format": "synthbody-anatomy", "version": 1,
           "shapes": {"body": {"ellipsoid": {"c": [0, 0, 900], "r": [150, 100, 850]}}},
           "structures": [
               {"id": 7, "name": "blob", "group": "digestive", "tissue": "liver",
                "color": "#aa5500", "priority": 10,
                "shape": {"sphere": {"c": [30, 0, 1000], "r": 40}}, "mirror": True},
               {"id": 1, "name": "rest", "group": "muscle", "tissue": "muscle",
                "color": "#884444", "priority": 20, "shape": {"ref": "body"}}]}
    good = os.path.join(d, "good.json")
    json.dump(doc, open(good, "w"))
    p = run("labels", "--anatomy", good, expect=OK)
    assert [l.split("\t")[1] for l in p.stdout.splitlines()[1:]] == ["rest", "blob_right", "blob_left"]
    out = os.path.join(d, "subj")
    run("generate", "--anatomy", good, "--voxel", 8, "--seed", 3, "--out", out, "-q", expect=OK)
    img = nib.load(os.path.join(out, "labels.nii.gz"))
    data = np.asarray(img.dataobj)
    assert set(np.unique(data).tolist()) == {0, 1, 7, 8}
    # blob_right (7) on the subject's right: x > 0 in RAS; blob_left (8) at x < 0
    for lab, sign in ((7, 1), (8, -1)):
        ijk = np.argwhere(data == lab).mean(axis=0)
        x = nib.affines.apply_affine(img.affine, ijk)[0]
        assert sign * x > 10, (lab, x)
    bad_cases = {
        "syntax.json": ("{\"format\": ", "line"),
        "format.json": (json.dumps({**doc, "format": "other"}), "format"),
        "tissue.json": (json.dumps({**doc, "structures": [{**doc["structures"][1], "tissue": "kryptonite"}]}),
                        "tissue"),
        "param.json": (json.dumps({**doc, "structures": [{**doc["structures"][0], "shape":
                                   {"sphere": {"c": [0, 0, 0], "r": "2*nonsense_mm"}}}]}), "nonsense_mm"),
        "dupid.json": (json.dumps({**doc, "structures": [doc["structures"][1],
                                                         {**doc["structures"][1], "name": "other"}]}), "id 1"),
    }
    for name, (text, needle) in bad_cases.items():
        path = os.path.join(d, name)
        open(path, "w").write(text)
        out = os.path.join(d, "out_" + name)
        p = run("generate", "--anatomy", path, "--voxel", 8, "--out", out, expect=INPUT)
        assert name in p.stderr and needle in p.stderr, (name, p.stderr)
        assert not os.path.exists(out), name
    p = run("labels", "--anatomy", os.path.join(d, "missing.json"), expect=INPUT)
    assert "missing.json" in p.stderr


# ---- info, preview --------------------------------------------------------------------------

def test_info_nifti_and_stl():
    d = generate("info", "--mesh", voxel=8)
    p = run("info", os.path.join(d, "labels.nii.gz"), expect=OK)
    assert "orientation: RAS" in p.stdout and "intent_code: 1002" in p.stdout
    img = nib.load(os.path.join(d, "labels.nii.gz"))
    data = np.asarray(img.dataobj)
    n_labels = len(set(np.unique(data).tolist()) - {0})
    assert f"labels: {n_labels}" in p.stdout
    # the liver's volume in ml as nibabel computes it
    with open(os.path.join(d, "labels.tsv")) as f:
        liver = [int(l.split("\t")[0]) for l in f if "\tliver\t" in l][0]
    ml = np.sum(data == liver) * np.prod(img.header.get_zooms()[:3]) / 1000.0
    line = [l for l in p.stdout.splitlines() if l.split()[:1] == [str(liver)]][0]
    assert abs(float(line.split()[2]) - ml) < 1e-3, (line, ml)
    p = run("info", os.path.join(d, "meshes", "liver.stl"), expect=OK)
    assert "closed: yes" in p.stdout and "boundary_edges: 0" in p.stdout
    # the rest of sb_mesh_check: what generate --mesh wrote is printable
    for line in ("nonmanifold_vertices: 0", "self_intersections: 0", "printable: yes"):
        assert line in p.stdout, (line, p.stdout)
    v, t = read_stl(os.path.join(d, "meshes", "liver.stl"))
    # genus and components agree with Euler's formula on the STL as numpy reads it
    field = {l.split(":")[0]: l.split(":")[1].strip() for l in p.stdout.splitlines()}
    e = np.concatenate([t[:, [0, 1]], t[:, [1, 2]], t[:, [2, 0]]])
    n_edges = np.unique(np.sort(e, axis=1), axis=0).shape[0]
    euler = len(v) - n_edges + len(t)
    assert int(field["components"]) - euler // 2 == int(field["genus"]), (field, euler)
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    g = coo_matrix((np.ones(len(e)), (e[:, 0], e[:, 1])), shape=(len(v), len(v)))
    assert connected_components(g, directed=False)[0] == int(field["components"]), field
    assert f"triangles: {len(t)}" in p.stdout
    vol = [float(l.split()[1]) for l in p.stdout.splitlines() if l.startswith("volume_ml")][0]
    assert abs(vol - signed_volume(v, t) / 1000.0) < 1e-3 * abs(vol) + 1e-3


def test_preview_png():
    d = generate("prev", voxel=8)
    for extra in ((), ("--overlay",), ("--contrast", "T2w")):
        png = os.path.join(WORK, "prev_%d.png" % len(extra))
        if os.path.exists(png):
            os.remove(png)
        run("preview", d, "--out", png, *extra, expect=OK)
        head = open(png, "rb").read(24)
        assert head[:8] == b"\x89PNG\r\n\x1a\n"
        w, h = struct.unpack(">II", head[16:24])
        assert 100 < w < 4000 and 100 < h < 4000, (w, h)
    run("preview", d, "--out", png, expect=EXISTS)
    # axial slices at chosen heights make a third column: the picture gets wider
    w0 = struct.unpack(">I", open(os.path.join(WORK, "prev_0.png"), "rb").read(24)[16:20])[0]
    ax = os.path.join(WORK, "prev_axial.png")
    if os.path.exists(ax):
        os.remove(ax)
    run("preview", d, "--out", ax, "--overlay", "--axial", "0.85,0.72,0.64,0.52", expect=OK)
    w1 = struct.unpack(">I", open(ax, "rb").read(24)[16:20])[0]
    assert w1 == w0, (w0, w1)  # same three columns, the third now holds four axial slices
    for bad in ("1.5", "a,b", "0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9"):
        p = run("preview", d, "--out", os.path.join(WORK, "x.png"), "--axial", bad, expect=USAGE)
        assert "--axial" in p.stderr
    p = run("preview", d, "--out", os.path.join(WORK, "x.png"), "--contrast", "FLAIR", expect=INPUT)
    assert "FLAIR" in p.stderr


# ---- MR contrasts (README "MRI physics") --------------------------------------------------

def label_means(d, image, names):
    """Mean of `image` over the voxels of each label name (labels.tsv), eroded-free."""
    lab = np.asarray(nib.load(os.path.join(d, "labels.nii.gz")).dataobj)
    img = nib.load(os.path.join(d, image)).get_fdata()
    with open(os.path.join(d, "labels.tsv")) as f:
        ids = {r.split("\t")[1]: int(r.split("\t")[0]) for r in list(f)[1:]}
    return {n: float(img[lab == ids[n]].mean()) for n in names}


def test_mri_protocol_outputs_and_sidecars():
    d = generate("mri_onc", "--protocol", "oncology-wb", voxel=8)
    names = ["dixon_water", "dixon_fat", "dixon_in", "dixon_opp", "fatfrac", "T2w", "STIR",
             "dwi_b50", "dwi_b800", "ADC"]
    lab = nib.load(os.path.join(d, "labels.nii.gz"))
    for n in names:
        im = nib.load(os.path.join(d, f"{n}.nii.gz"))
        assert im.get_data_dtype() == np.int16, (n, im.get_data_dtype())
        raw = stored_header(os.path.join(d, f"{n}.nii.gz"))
        assert float(raw["scl_slope"]) > 0 and float(raw["scl_inter"]) == 0, n
        assert np.allclose(im.affine, lab.affine) and im.shape == lab.shape, n
        side = json.load(open(os.path.join(d, f"{n}.json")))
        assert side["MagneticFieldStrength"] == 1.5 and side["SynthbodySeed"] == "1", side
        assert 0 < side["RepetitionTime"] < 10, side  # seconds
        assert side["SynthbodySNR"] > 0 and side["SynthbodyBiasAmplitude"] == 0.2, side
    assert json.load(open(os.path.join(d, "STIR.json")))["InversionTime"] == 0.24
    assert json.load(open(os.path.join(d, "T2w.json")))["EchoTime"] == 0.1
    assert json.load(open(os.path.join(d, "fatfrac.json")))["Units"] == "percent"
    assert not os.path.exists(os.path.join(d, "T1w.nii.gz"))
    meta = json.load(open(os.path.join(d, "subject.json")))
    assert meta["mri"]["protocol"] == "oncology-wb" and len(meta["mri"]["acquisitions"]) == 4
    lf = meta["subject_parameters"]["liver_fat_percent"]
    assert 0.5 <= lf <= 40, lf
    m = label_means(d, "STIR.nii.gz", ["subcutaneous_fat", "skeletal_muscle"])
    assert m["subcutaneous_fat"] < m["skeletal_muscle"], m  # fat suppressed
    m = label_means(d, "fatfrac.nii.gz", ["subcutaneous_fat", "skeletal_muscle"])
    assert m["subcutaneous_fat"] > 60 and m["skeletal_muscle"] < 15, m  # 8 mm: partial volume
    m = label_means(d, "ADC.nii.gz", ["cerebrospinal_fluid", "liver"])
    assert m["cerebrospinal_fluid"] > m["liver"] > 500, m
    # --float: float32, the same values as int16 x slope (within half a slope)
    f = generate("mri_onc_f", "--protocol", "oncology-wb", "--float", voxel=8)
    for n in ("T2w", "fatfrac"):
        a = nib.load(os.path.join(d, f"{n}.nii.gz"))
        b = nib.load(os.path.join(f, f"{n}.nii.gz"))
        assert b.get_data_dtype() == np.float32
        slope = float(stored_header(os.path.join(d, f"{n}.nii.gz"))["scl_slope"])
        assert np.abs(a.get_fdata() - b.get_fdata()).max() <= 0.51 * slope, n


def test_mri_bad_options():
    d = fresh("mri_bad")
    out = os.path.join(d, "s")
    for args, code, words in ((("--protocol", "fast"), USAGE, ["\"fast\"", "neuro"]),
                              (("--contrasts", "T1w,T3w"), USAGE, ["\"T3w\""]),
                              (("--contrasts", "dwi_bx"), USAGE, ["dwi_bx"]),
                              (("--field", "2"), USAGE, ["--field"]),
                              (("--snr", "-1"), USAGE, ["--snr"]),
                              (("--bias", "0.9"), USAGE, ["--bias"]),
                              (("--texture", "0.5"), USAGE, ["--texture", "0.5"]),
                              (("--acq-voxel", "4"), USAGE, ["--acq-voxel", "finer"]),
                              (("--slice", "-3"), USAGE, ["--slice", "-3"]),
                              (("--tissues", os.path.join(d, "none.json")), INPUT, ["none.json"])):
        p = run("generate", "--voxel", 8, "--out", out, *args, expect=code)
        for w in words:
            assert w in p.stderr, (args, p.stderr)
        assert not os.path.exists(out), args
    t = os.path.join(d, "t.json")
    with open(t, "w") as f:
        f.write('{"format": "synthbody-tissues", "version": 1, "tissues": {"livr": {}}}')
    p = run("generate", "--voxel", 8, "--out", out, "--tissues", t, expect=INPUT)
    assert "t.json" in p.stderr and "tissues.livr" in p.stderr, p.stderr
    # a valid override changes the image: liver T1 at 1.5 T set to 2000 ms darkens it in T1w
    with open(t, "w") as f:
        f.write('{"format": "synthbody-tissues", "version": 1, "tissues": {"liver": {'
                '"pd": [0.75, 0], "ff": [0, 0], "t1_ms": [[2000, 0], [2200, 0]], '
                '"t2_ms": [[46, 0], [34, 0]], "t2s_ms": [[28, 0], [15, 0]], "adc": [1.2, 0]}}}')
    a = generate("mri_t_a", "--snr", 0, "--bias", 0, voxel=8)
    b = generate("mri_t_b", "--snr", 0, "--bias", 0, "--tissues", t, voxel=8)
    la = label_means(a, "T1w.nii.gz", ["liver", "spleen"])
    lb = label_means(b, "T1w.nii.gz", ["liver", "spleen"])
    assert lb["liver"] < 0.7 * la["liver"] and abs(lb["spleen"] - la["spleen"]) < 1e-3, (la, lb)


def test_mri_acquisition_options():
    # stations, ghosting, fat-water swap and uncompressed images: bad values exit 2 naming the
    # option and leave nothing; the artefacts are recorded (ground truth) only when asked for;
    # --compress none writes the same images as .nii
    d = fresh("mri_acq")
    out = os.path.join(d, "s")
    for args, words in ((("--stations", "0"), ["--stations", "1..16"]),
                        (("--stations", "17"), ["--stations 17"]),
                        (("--stations", "4", "--overlap-mm", "500"), ["4 stations", "500 mm"]),
                        (("--overlap-mm", "-1"), ["--overlap-mm"]),
                        (("--ghosting", "0.6"), ["--ghosting 0.6"]),
                        (("--ghost-period", "1"), ["--ghost-period 1"]),
                        (("--fat-water-swap", "2"), ["--fat-water-swap 2"]),
                        (("--flow-voids", "600"), ["--flow-voids 600"]),
                        (("--compress", "zip"), ["\"zip\"", "gzip or none"])):
        p = run("generate", "--voxel", 8, "--out", out, *args, expect=USAGE)
        for w in words:
            assert w in p.stderr, (args, p.stderr)
        assert not os.path.exists(out), args
    plain = generate("acq_plain", "--protocol", "ukbiobank-dixon", "--stations", 1, voxel=8)
    side = json.load(open(os.path.join(plain, "dixon_water.json")))
    assert not any(k.startswith(("SynthbodyStation", "SynthbodyGhost", "SynthbodyFatWater"))
                   for k in side), side
    a = generate("acq_all", "--protocol", "ukbiobank-dixon", "--ghosting", 0.05,
                 "--fat-water-swap", 1, "--compress", "none", voxel=8)
    mri = json.load(open(os.path.join(a, "subject.json")))["mri"]
    assert mri["stations"] == 6 and mri["station_overlap_mm"] == 30, mri.keys()
    z = mri["station_z_mm"]
    assert len(z) == 6 and all(abs((z[i][1] - z[i + 1][0]) - 30) < 1e-6 for i in range(5)), z
    swap = mri["fat_water_swap"]
    assert swap["swapped"] and 50 <= swap["radius_mm"] <= 150, swap
    side = json.load(open(os.path.join(a, "dixon_fat.json")))
    assert side["SynthbodyStations"] == 6 and side["PhaseEncodingDirection"] == "j", side
    assert side["SynthbodyFatWaterSwap"]["CentreMM"] == swap["centre_mm"], side
    names = sorted(os.listdir(a))
    assert "dixon_water.nii" in names and "dixon_water.nii.gz" not in names, names
    assert "labels.nii.gz" in names, names  # what the other commands read
    # preview DIR finds the uncompressed images (DIR/NAME.nii when there is no .nii.gz)
    png = os.path.join(d, "water.png")
    run("preview", a, "--out", png, "--contrast", "dixon_water", "--overlay", expect=OK)
    assert open(png, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    # the swap: inside the ball water and fat change places (same grid, same noise streams)
    b = generate("acq_noswap", "--protocol", "ukbiobank-dixon", "--ghosting", 0.05, voxel=8)
    wa = nib.load(os.path.join(a, "dixon_water.nii"))
    fb = nib.load(os.path.join(b, "dixon_fat.nii.gz")).get_fdata()
    ijk = np.indices(wa.shape).reshape(3, -1).T
    xyz = ijk @ wa.affine[:3, :3].T + wa.affine[:3, 3]
    inside = (np.linalg.norm(xyz - swap["centre_mm"], axis=1) < swap["radius_mm"] - 8).reshape(
        wa.shape)
    assert inside.sum() > 50, inside.sum()
    assert np.allclose(wa.get_fdata()[inside], fb[inside], atol=1e-6)
    ib = nib.load(os.path.join(b, "dixon_in.nii.gz")).get_fdata()
    assert np.array_equal(nib.load(os.path.join(a, "dixon_in.nii")).get_fdata(), ib)
    # flow voids: the heart's blood dark on T2w (TE 100 ms at 30 cm/s washes out 15 mm)
    v = generate("acq_flow", "--contrasts", "T2w", "--flow-voids", 30, "--snr", 0, voxel=8)
    n = generate("acq_noflow", "--contrasts", "T2w", "--snr", 0, voxel=8)
    chambers = ["heart_ventricle_left", "heart_atrium_right"]
    mv, mn = label_means(v, "T2w.nii.gz", chambers), label_means(n, "T2w.nii.gz", chambers)
    assert all(mv[c] < 0.5 * mn[c] for c in chambers), (mv, mn)
    assert json.load(open(os.path.join(v, "T2w.json")))["SynthbodyFlowVoidVelocityCMS"] == 30


def main():
    global BIN, WORK
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("test")
    a = ap.parse_args()
    BIN, WORK = os.path.abspath(a.bin), os.path.abspath(a.work)
    os.makedirs(WORK, exist_ok=True)
    fn = globals().get(a.test)
    if not fn or not a.test.startswith("test_"):
        sys.exit(f"no test named {a.test}")
    fn()
    print(f"{a.test}: ok")


if __name__ == "__main__":
    main()
