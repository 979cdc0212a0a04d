#!/usr/bin/python3
"""CLI and real-client tests of print preparation (`synthbody export --fit-mm --hollow-mm ...`).

Run one test:  /usr/bin/python3 test_print.py --bin path/to/synthbody --work DIR TEST_NAME
CTest registers every function named test_* as its own test (tests/cli/CMakeLists.txt).
Real client: PrusaSlicer 2.5 (`prusa-slicer --info`, `--export-gcode` on its default printer:
a 200 x 200 mm bed, 200 mm high, 0.4 mm nozzle).
"""
import argparse
import fcntl
import glob
import json
import os
import re
import shutil
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_cli as cli  # noqa: E402  (helpers: run, read_stl, edge_report, signed_volume)

OK, INTERNAL, USAGE, INPUT, OUTPUT, MEMORY, EXISTS, LABEL = range(8)

SEED = 3  # one 4 mm subject shared by the tests of a run


def subject():
    """The shared subject, made once (a lock: CTest may run these tests side by side)."""
    d = os.path.join(cli.WORK, f"print_subject_{SEED}")
    with open(os.path.join(cli.WORK, f"print_subject_{SEED}.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not os.path.exists(os.path.join(d, "labels.nii.gz")):
            cli.generate(f"print_subject_{SEED}", seed=SEED, voxel=4)
    return d


def export(name, *args, expect=OK):
    out = os.path.join(cli.WORK, name)
    shutil.rmtree(out, ignore_errors=True)
    p = cli.run("export", subject(), "--out", out, "--name", "body", *args, expect=expect)
    return out, p


def stl_ok(path):
    verts, tris = cli.read_stl(path)
    b, nm, mis = cli.edge_report(tris)
    assert (b, nm, mis) == (0, 0, 0), f"{path}: boundary {b}, non-manifold {nm}, misoriented {mis}"
    return verts, tris


def prusa_info(path):
    p = subprocess.run(["prusa-slicer", "--info", path], capture_output=True, text=True,
                       timeout=600)
    assert p.returncode == 0, f"prusa-slicer --info {path}: exit {p.returncode}\n{p.stderr}"
    info = dict(re.findall(r"^(\w+) = (.*)$", p.stdout, re.M))
    return info


def gcode(path, out):
    p = subprocess.run(["prusa-slicer", "--export-gcode", path, "--output", out],
                       capture_output=True, text=True, timeout=900)
    assert p.returncode == 0, (f"prusa-slicer --export-gcode {path}: exit {p.returncode}\n"
                               f"{p.stdout[-2000:]}\n{p.stderr[-2000:]}")
    assert os.path.getsize(out) > 10000, f"{out}: {os.path.getsize(out)} bytes"
    with open(out) as f:
        text = f.read()
    layers = text.count(";LAYER_CHANGE")
    height = float(re.search(r"^; layer_height = ([0-9.]+)", text, re.M).group(1))
    return layers, height


def test_print_fit_hollow_closed():
    """--fit-mm 200,200,200 --hollow-mm 2 on a 4 mm subject: every file closed, the whole model
    inside the build volume and touching it on the limiting axis, the skin a shell with drains
    whose wall (as measured by the library: inner vertices to the outer surface) is 2 mm within
    half a voxel at the printed scale, read by PrusaSlicer as manifold with our volume, the thin
    structures named in a warning."""
    out, p = export("print_fit_hollow", "--fit-mm", "200,200,200", "--hollow-mm", "2",
                    "--drain-mm", "4")
    man = json.load(open(os.path.join(out, "manifest.json")))
    files = glob.glob(os.path.join(out, "stl", "*.stl"))
    assert len(files) == len(man["structures"]) and len(files) > 100, len(files)
    lo, hi = np.full(3, np.inf), np.full(3, -np.inf)
    for f in files:
        v, t = stl_ok(f)
        assert cli.signed_volume(v, t) > 0, f
        lo, hi = np.minimum(lo, v.min(0)), np.maximum(hi, v.max(0))
    assert np.all(lo >= -1e-3) and np.all(hi <= 200 + 1e-3), (lo, hi)
    assert abs(lo[2]) < 1e-3, lo  # on the bed
    assert np.max(hi - lo) > 200 * (1 - 1e-4), (lo, hi)  # touching on the limiting axis (height)
    assert abs((lo[0] + hi[0]) / 2 - 100) < 1e-2 and abs((lo[1] + hi[1]) / 2 - 100) < 1e-2
    # the skin: hollow, one closed surface with its drains (no inner island), its wall measured
    # as the distance of inner vertices to the outer surface
    skin = [s for s in man["structures"] if s["name"] == "skin"][0]
    assert skin["hollow"]["drains"] >= 1, skin
    v, t = stl_ok(os.path.join(out, "stl", "skin.stl"))
    info = prusa_info(os.path.join(out, "stl", "skin.stl"))
    assert info["manifold"] == "yes" and int(info["number_of_facets"]) == len(t), info
    scale = man["print"]["scale"]
    voxel = 4 * scale
    wall = skin["hollow"]["wall_mm"]
    # mean within half a voxel, never thinner than that; on the body's curved surfaces the wall
    # comes out up to ~0.3 voxel thicker (README "Print preparation")
    assert abs(wall["mean"] - 2) <= voxel / 2 and wall["min"] >= 2 - voxel / 2 and \
        wall["max"] <= 2 + voxel, (wall, voxel)
    assert abs(float(info["volume"]) - skin["volume_ml"] * 1000) < 1e-3 * skin["volume_ml"] * 1000
    assert "thinner than 0.8 mm" in p.stderr, p.stderr
    m = re.search(r"(\d+) structure\(s\) thinner than 0\.8 mm", p.stderr)
    thin = [s for s in man["structures"] if s["thinnest_wall_mm"] < 0.8]
    assert m and int(m.group(1)) == len(thin) > 0, (p.stderr, len(thin))
    for s in thin[:5]:
        assert s["name"] in p.stderr


def test_print_gcode_skeleton_and_organs():
    """Acceptance: PrusaSlicer 2.5 --export-gcode succeeds for the skeleton and for the organs
    fitted to 200,200,200 (its default printer: 200 x 200 bed, 200 mm high)."""
    for sel, extra in (("skeleton", ["--stand"]), ("skeleton", []), ("organs", [])):
        out, p = export(f"print_gcode_{sel}{len(extra)}", "--select", sel, "--fit-mm",
                        "200,200,200", *extra)
        merged = os.path.join(out, "body.stl")
        v, t = cli.read_stl(merged)
        assert v.min(0)[2] > -1e-3 and v.max(0).max() <= 200 + 1e-3, (v.min(0), v.max(0))
        info = prusa_info(merged)
        assert info["manifold"] == "yes", info
        layers, height = gcode(merged, os.path.join(out, "body.gcode"))
        # layers through most of the 200 mm (organs leave gaps, e.g. in the neck)
        assert layers * height > 0.75 * 200, (layers, height)
        if extra:
            man = json.load(open(os.path.join(out, "manifest.json")))
            stand = [s for s in man["structures"] if s["name"] == "stand"]
            assert stand and man["print"]["post_top_mm"] > 50, man["print"]
            stl_ok(os.path.join(out, "stl", "stand.stl"))


def test_print_budgets():
    """--max-tris-per-file and --max-mb-per-file: every written file within them, all closed."""
    out, p = export("print_budget_tris", "--select", "skeleton", "--max-tris-per-file", "20000",
                    "--formats", "stl,obj")
    v, t = stl_ok(os.path.join(out, "body.stl"))
    assert len(t) <= 20000, len(t)
    for f in glob.glob(os.path.join(out, "stl", "*.stl")):
        stl_ok(f)
    out, p = export("print_budget_mb", "--select", "organs", "--max-mb-per-file", "0.6",
                    "--formats", "stl,obj,glb")
    for f in [os.path.join(out, n) for n in ("body.stl", "body.obj", "body.glb")]:
        assert os.path.getsize(f) <= 0.6e6, (f, os.path.getsize(f))
    stl_ok(os.path.join(out, "body.stl"))


def test_print_same_bytes_any_threads():
    """Print preparation gives the same files with 1 and 2 threads (hollow, drains, fit, stand,
    budget)."""
    args = ["--select", "skin", "--fit-mm", "200,200,200", "--hollow-mm", "2", "--drain-mm", "4",
            "--stand", "--max-tris-per-file", "60000"]
    digests = []
    for threads in (1, 2):
        out, p = export(f"print_threads_{threads}", *args, "--threads", threads)
        files = sorted(glob.glob(os.path.join(out, "**", "*.*"), recursive=True))
        digests.append({os.path.relpath(f, out): cli.sha(f) for f in files})
    assert len(digests[0]) >= 4 and digests[0] == digests[1], digests


def test_print_bad_values():
    """Bad print options: usage errors naming the option and value, nothing written."""
    for args, needle in ((["--fit-mm", "200,0,200"], "--fit-mm"),
                         (["--hollow-mm", "-1"], "--hollow-mm"),
                         (["--hollow-mm", "0.1"], "--hollow-mm 0.1"),
                         (["--hollow", "skin"], "--hollow"),
                         (["--min-wall-mm", "0"], "--min-wall-mm")):
        out, p = export("print_bad", "--select", "skin", *args, expect=USAGE)
        assert needle in p.stderr, (args, p.stderr)
        assert not os.path.exists(out) or not os.listdir(out), os.listdir(out)
    out, p = export("print_bad", "--select", "skin", "--hollow-mm", "20", "--hollow", "liver",
                    expect=LABEL)
    assert "liver" in p.stderr, p.stderr


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("test")
    a = ap.parse_args()
    cli.BIN, cli.WORK = os.path.abspath(a.bin), os.path.abspath(a.work)
    os.makedirs(cli.WORK, exist_ok=True)
    fn = globals().get(a.test)
    if not fn or not a.test.startswith("test_"):
        sys.exit(f"no test named {a.test}")
    fn()
    print(f"{a.test}: ok")


if __name__ == "__main__":
    main()
