#!/usr/bin/python3
"""Acceptance sweep of the surfaces (issue 5; README "Surfaces"): not a test, run by hand.

For N subjects at 2 mm and M at 1 mm (seeds 1.., generated with `synthbody generate`):
  final  `synthbody mesh --smooth 10` (the library defaults otherwise: simplification within
         0.1 voxel) -> one STL per structure, timed;
  raw    `synthbody mesh --max-error-mm 0` (no smoothing, no simplification: marching cubes);
  vtk    `synthbody mesh --backend vtk --smooth 0` (vtkDiscreteFlyingEdges3D), --vtk-1mm too at 1 mm.
Per structure of `final`:
  ours   `synthbody info`: boundary / non-manifold edges and vertices, self-intersections, volume;
  vtk    VTK's Python (meshes below 2M triangles, each in a forked child: VTK 9.1 aborts the
         process with std::bad_alloc on some 1 mm meshes, counted as "died"): vtkFeatureEdges
         boundary and non-manifold edges, vtkMassProperties volume;
  prusa  `prusa-slicer --info`: manifold = yes, facet count;
  volume mesh volume vs the label's voxel volume (nibabel) for structures above 5 ml;
  dist   mean distance of the final mesh's vertices to the raw surface, in voxels, from above:
         each vertex's exact distance to the nearest of the 8 raw triangles with the nearest
         centroids (scipy cKDTree; subjects listed by --distance, default the first of each size);
and per structure raw native vs raw VTK: area and volume.
Prints one line per subject and a summary; --json FILE keeps every figure.

Usage: /usr/bin/python3 mesh_acceptance.py --bin build/core/pipeline/synthbody --work DIR
           [--n2 10] [--n1 2] [--first-seed 1] [--threads 2] [--distance 2:1,1:1] [--vtk-1mm]
           [--json FILE]
"""
import argparse
import json
import os
import struct
import subprocess
import sys
import time

import nibabel as nib
import numpy as np


def sh(cmd, timeout=7200):
    t0 = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit {p.returncode}\n{p.stderr[-3000:]}")
    return p.stdout, time.monotonic() - t0


def read_stl(path):
    data = open(path, "rb").read()
    (n,) = struct.unpack_from("<I", data, 80)
    rec = np.frombuffer(data, dtype=np.dtype([("n", "<f4", 3), ("v", "<f4", (3, 3)),
                                              ("a", "<u2")]), count=n, offset=84)
    return rec["v"].astype(np.float64)  # (n, 3, 3)


def area_volume(tri):
    a, b, c = tri[:, 0], tri[:, 1], tri[:, 2]
    o = tri.reshape(-1, 3).mean(axis=0)
    area = 0.5 * np.linalg.norm(np.cross(b - a, c - a), axis=1).sum()
    vol = np.einsum("ij,ij->i", a - o, np.cross(b - o, c - o)).sum() / 6.0
    return float(area), float(vol)


def ours(binary, path):
    out, _ = sh([binary, "info", path])
    f = {l.split(":", 1)[0]: l.split(":", 1)[1].strip() for l in out.splitlines() if ":" in l}
    return {k: f[k] for k in ("triangles", "boundary_edges", "nonmanifold_edges",
                              "nonmanifold_vertices", "self_intersections", "volume_ml",
                              "printable", "genus", "components")}


def vtk_read(path):
    import vtk
    r = vtk.vtkSTLReader()
    r.SetFileName(path)
    r.Update()
    return r.GetOutput()


def vtk_check(poly):
    import vtk
    fe = vtk.vtkFeatureEdges()
    fe.SetInputData(poly)
    fe.FeatureEdgesOff()
    fe.ManifoldEdgesOff()
    fe.BoundaryEdgesOn()
    fe.NonManifoldEdgesOff()
    fe.Update()
    boundary = fe.GetOutput().GetNumberOfCells()
    fe.BoundaryEdgesOff()
    fe.NonManifoldEdgesOn()
    fe.Update()
    mp = vtk.vtkMassProperties()
    mp.SetInputData(poly)
    mp.Update()
    return boundary, fe.GetOutput().GetNumberOfCells(), mp.GetVolume()


def closest_on_triangles(p, a, b, c):
    """Distance of each point p[i] to the triangle (a[i], b[i], c[i]) (C. Ericson, Real-Time
    Collision Detection, 2005, 5.1.5: the Voronoi regions of the vertices, edges and face)."""
    ab, ac, ap = b - a, c - a, p - a
    d1, d2 = np.einsum("ij,ij->i", ab, ap), np.einsum("ij,ij->i", ac, ap)
    bp = p - b
    d3, d4 = np.einsum("ij,ij->i", ab, bp), np.einsum("ij,ij->i", ac, bp)
    cp = p - c
    d5, d6 = np.einsum("ij,ij->i", ab, cp), np.einsum("ij,ij->i", ac, cp)
    va, vb, vc = d3 * d6 - d5 * d4, d5 * d2 - d1 * d6, d1 * d4 - d3 * d2
    with np.errstate(divide="ignore", invalid="ignore"):
        den = va + vb + vc
        v, w = vb / den, vc / den  # inside the face
        q = a + ab * v[:, None] + ac * w[:, None]
        sel = lambda m, r: np.where(m[:, None], r, q)
        t = d2 / (d2 - d6)  # edge ac
        q = sel((vb <= 0) & (d2 >= 0) & (d6 <= 0), a + ac * t[:, None])
        t = (d4 - d3) / ((d4 - d3) + (d5 - d6))  # edge bc
        q = sel((va <= 0) & (d4 - d3 >= 0) & (d5 - d6 >= 0), b + (c - b) * t[:, None])
        t = d1 / (d1 - d3)  # edge ab
        q = sel((vc <= 0) & (d1 >= 0) & (d3 <= 0), a + ab * t[:, None])
        q = sel((d6 >= 0) & (d5 <= d6), c)
        q = sel((d3 >= 0) & (d4 <= d3), b)
        q = sel((d1 <= 0) & (d2 <= 0), a)
    return np.linalg.norm(p - q, axis=1)


def in_child(fn, *args):
    """fn(*args) in a forked child (VTK's filters abort the whole process with std::bad_alloc
    on some large meshes: such a mesh is then left unchecked by VTK). None if the child died."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        code = 1
        try:
            os.write(w, json.dumps(fn(*args)).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(w)
    data = b""
    while True:
        chunk = os.read(r, 65536)
        if not chunk:
            break
        data += chunk
    os.close(r)
    _, status = os.waitpid(pid, 0)
    return json.loads(data) if status == 0 and data else None


def vtk_check_file(path):
    return vtk_check(vtk_read(path))


def mean_distance(final_tri, raw_path, k=8, chunk=200_000):
    """Mean over the final mesh's vertices of their distance to the raw surface, bounded from
    above: each vertex's exact distance to the nearest of the k raw triangles whose centroids
    are nearest to it (a distance to some point of the raw surface, so never below the true
    one). vtkDistancePolyDataFilter ran out of memory on 1 mm surfaces (std::bad_alloc)."""
    from scipy.spatial import cKDTree
    raw = read_stl(raw_path)
    tree = cKDTree(raw.mean(axis=1))
    pts = np.unique(final_tri.reshape(-1, 3), axis=0)
    k = min(k, len(raw))
    total = 0.0
    for i in range(0, len(pts), chunk):
        p = pts[i:i + chunk]
        _, idx = tree.query(p, k=k)
        idx = idx.reshape(len(p), k)
        best = np.full(len(p), np.inf)
        for j in range(k):
            t = raw[idx[:, j]]
            best = np.minimum(best, closest_on_triangles(p, t[:, 0], t[:, 1], t[:, 2]))
        total += float(best.sum())
    return total / len(pts)


def prusa(path):
    p = subprocess.run(["prusa-slicer", "--info", path], capture_output=True, text=True,
                       timeout=1800)
    info = dict(l.split(" = ", 1) for l in p.stdout.splitlines() if " = " in l)
    return p.returncode, info.get("manifold", "?").strip(), int(info.get("number_of_facets", -1))


def subject(args, seed, voxel, distance, with_vtk):
    d = os.path.join(args.work, f"s{seed}_{voxel}mm")
    lab = os.path.join(d, "labels.nii.gz")
    if not os.path.exists(lab):
        sh([args.bin, "generate", "--seed", str(seed), "--voxel", str(voxel), "--out", d,
            "--threads", str(args.threads), "--force", "-q"])
    names = {}
    for l in open(os.path.join(d, "labels.tsv")):
        f = l.rstrip("\n").split("\t")
        if f[0].isdigit():
            names[int(f[0])] = f[1]
    img = nib.load(lab)
    data = np.asarray(img.dataobj)
    vox_ml = abs(np.linalg.det(img.affine[:3, :3])) / 1000.0
    ids, counts = np.unique(data[data > 0], return_counts=True)
    voxml = {names.get(int(i), f"label_{i}"): float(c) * vox_ml for i, c in zip(ids, counts)}
    res = {"seed": seed, "voxel": voxel, "shape": list(data.shape), "labels": len(ids)}
    del data
    outs = {k: os.path.join(d, k) for k in ("final", "raw", "vtk")}
    _, res["t_final"] = sh([args.bin, "mesh", lab, "--out", outs["final"], "--smooth", "10",
                            "--threads", str(args.threads), "--force", "-q"])
    if distance or with_vtk:
        sh([args.bin, "mesh", lab, "--out", outs["raw"], "--max-error-mm", "0", "--threads",
            str(args.threads), "--force", "-q"])
    if with_vtk:
        _, res["t_vtk_raw"] = sh([args.bin, "mesh", lab, "--out", outs["vtk"], "--backend", "vtk",
                                  "--smooth", "0", "--threads", str(args.threads), "--force",
                                  "-q"])
    per = {}
    for name in sorted(voxml):
        path = os.path.join(outs["final"], name + ".stl")
        r = {"voxel_ml": voxml[name]}
        o = ours(args.bin, path)
        r["ours"] = o
        r["ours_ok"] = (o["boundary_edges"] == "0" and o["nonmanifold_edges"] == "0" and
                        o["nonmanifold_vertices"] == "0" and o["self_intersections"] == "0" and
                        float(o["volume_ml"]) > 0 and o["printable"] == "yes")
        ntri = int(o["triangles"])
        got = in_child(vtk_check_file, path) if ntri < 2_000_000 else None
        if got:
            b, nm, vol = got
            r["vtk"] = {"boundary": b, "nonmanifold": nm, "volume_ml": vol / 1000.0}
            r["vtk_ok"] = b == 0 and nm == 0 and vol > 0
        elif ntri < 2_000_000:
            r["vtk_died"] = True
        rc, man, facets = prusa(path)
        r["prusa"] = {"rc": rc, "manifold": man, "facets": facets}
        r["prusa_ok"] = rc == 0 and man == "yes" and facets == ntri
        if voxml[name] > 5:
            r["vol_err"] = float(o["volume_ml"]) / voxml[name] - 1
        if distance:
            r["dist_vox"] = mean_distance(read_stl(path),
                                          os.path.join(outs["raw"], name + ".stl")) / voxel
        if with_vtk:
            an, vn = area_volume(read_stl(os.path.join(outs["raw"], name + ".stl")))
            av, vv = area_volume(read_stl(os.path.join(outs["vtk"], name + ".stl")))
            r["vtk_vs_native"] = {"area": av / an - 1, "volume": vv / vn - 1}
        per[name] = r
    res["structures"] = per
    return res


def summary(res):
    per = res["structures"].values()
    s = {
        "structures": len(res["structures"]),
        "ours_fail": sum(not r["ours_ok"] for r in per),
        "vtk_checked": sum("vtk" in r for r in per),
        "vtk_fail": sum("vtk" in r and not r["vtk_ok"] for r in per),
        "vtk_died": sum(r.get("vtk_died", False) for r in per),
        "prusa_fail": sum(not r["prusa_ok"] for r in per),
        "checkers_disagree": sum(("vtk" in r and r["vtk_ok"] != r["ours_ok"]) or
                                 r["prusa_ok"] != r["ours_ok"] for r in per),
        "vol_gt5ml_worst": max((abs(r["vol_err"]) for r in per if "vol_err" in r), default=0),
        "vol_gt5ml_over2pct": int(sum(abs(r.get("vol_err", 0)) > 0.02 for r in per)),
        "final_tris": sum(int(r["ours"]["triangles"]) for r in per),
    }
    d = [r["dist_vox"] for r in per if "dist_vox" in r]
    if d:
        s["dist_vox_worst"] = max(d)
        s["dist_vox_mean"] = float(np.mean(d))
    c = [r["vtk_vs_native"] for r in per if "vtk_vs_native" in r]
    if c:
        s["vtk_native_area_worst"] = max(abs(x["area"]) for x in c)
        s["vtk_native_vol_worst"] = max(abs(x["volume"]) for x in c)
        s["vtk_native_over2pct"] = int(sum(abs(x["area"]) > 0.02 or abs(x["volume"]) > 0.02
                                           for x in c))
        big = [r["vtk_vs_native"] for r in per if "vtk_vs_native" in r and r["voxel_ml"] > 1]
        s["vtk_native_over2pct_gt1ml"] = int(sum(abs(x["area"]) > 0.02 or
                                                 abs(x["volume"]) > 0.02 for x in big))
    return s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--n2", type=int, default=10)
    ap.add_argument("--n1", type=int, default=2)
    ap.add_argument("--first-seed", type=int, default=1, help="seeds FIRST.. (to split a sweep)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--distance", default="2:1,1:1",
                    help="VOXEL:SEED,... subjects whose distance to the raw surface is measured")
    ap.add_argument("--vtk-1mm", action="store_true", help="also the VTK backend at 1 mm")
    ap.add_argument("--json")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    dist = {tuple(int(x) for x in p.split(":")) for p in args.distance.split(",") if p}
    f = args.first_seed
    plan = [(s, 2) for s in range(f, f + args.n2)] + [(s, 1) for s in range(f, f + args.n1)]
    results, bad = [], 0
    for seed, voxel in plan:
        res = subject(args, seed, voxel, (voxel, seed) in dist, voxel == 2 or args.vtk_1mm)
        res["summary"] = summary(res)
        results.append(res)
        s = res["summary"]
        bad += s["ours_fail"] + s["prusa_fail"] + s["vtk_fail"] + s["checkers_disagree"]
        print(f"seed {seed} {voxel} mm {res['shape']}: {s['structures']} structures, "
              f"{s['final_tris']} triangles, mesh {res['t_final']:.1f} s | fail: ours "
              f"{s['ours_fail']}, vtk {s['vtk_fail']} of {s['vtk_checked']} ({s['vtk_died']} died), prusa "
              f"{s['prusa_fail']}, disagree {s['checkers_disagree']} | volume >5 ml worst "
              f"{100 * s['vol_gt5ml_worst']:.2f} % ({s['vol_gt5ml_over2pct']} over 2 %)" +
              (f" | dist to raw mean {s['dist_vox_mean']:.3f}, worst {s['dist_vox_worst']:.3f} vox"
               if "dist_vox_worst" in s else "") +
              (f" | vtk vs native worst area {100 * s['vtk_native_area_worst']:.2f} %, volume "
               f"{100 * s['vtk_native_vol_worst']:.2f} % ({s['vtk_native_over2pct']} over 2 %, "
               f"{s['vtk_native_over2pct_gt1ml']} of them above 1 ml)"
               if "vtk_native_area_worst" in s else ""), flush=True)
        if args.json:
            with open(args.json, "w") as f:
                json.dump(results, f, indent=1)
    print(f"{len(results)} subjects, {sum(r['summary']['structures'] for r in results)} meshes: "
          f"{bad} check failures or disagreements")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
