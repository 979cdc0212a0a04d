"""Run inside Blender 3.4 (blender -b --factory-startup --python-exit-code 2 --python THIS --
MANIFEST OBJ GLB): imports the OBJ and the GLB that `synthbody export` wrote and checks, per
format, against manifest.json (the structures we wrote):
  - one mesh object per structure, object names equal to structure names;
  - the material's base colour equals the label table's colour (OBJ: Kd = sRGB/255 as written;
    GLB: baseColorFactor = sRGB linearised, read back by Blender's glTF importer);
  - the object's world bounding box equals ours within 1 % of its size after unit and axis
    conversion (OBJ imported as Z up, Y forward, scale 0.001: file mm -> Blender m; GLB: glTF
    metres, Y up -> Blender Z up, so Blender (X, Y, Z) = (-x, -y, z) in RAS metres);
  - 0 non-manifold and 0 boundary edges per object (bmesh; after merging by distance for glTF).
Prints one line per failure and a summary; exits 1 on any failure (Blender exits 2 on an
exception with --python-exit-code 2)."""
import json
import sys

import numpy

numpy.bool = bool  # Blender 3.4's glTF importer uses numpy.bool, removed in numpy 1.24

import bmesh
import bpy

args = sys.argv[sys.argv.index("--") + 1:]
manifest_path, obj_path, glb_path = args
with open(manifest_path) as f:
    manifest = json.load(f)
structures = {s["name"]: s for s in manifest["structures"]}
failures = []


def srgb_to_linear(c):
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def clear():
    bpy.ops.wm.read_factory_settings(use_empty=True)


def base_color(obj):
    mat = obj.active_material
    if mat is None:
        return None
    if mat.use_nodes:
        for node in mat.node_tree.nodes:
            if node.type == "BSDF_PRINCIPLED":
                return tuple(node.inputs["Base Color"].default_value)[:3]
    return tuple(mat.diffuse_color)[:3]


def world_bbox(obj):
    mw = obj.matrix_world
    xs = [mw @ v.co for v in obj.data.vertices]
    lo = [min(p[k] for p in xs) for k in range(3)]
    hi = [max(p[k] for p in xs) for k in range(3)]
    return lo, hi


def check(fmt, to_ours, want_color, merge):
    objs = [o for o in bpy.context.scene.objects if o.type == "MESH"]
    names = sorted(o.name for o in objs)
    if names != sorted(structures):
        missing = sorted(set(structures) - set(names))
        extra = sorted(set(names) - set(structures))
        failures.append(f"{fmt}: {len(objs)} mesh objects for {len(structures)} structures; "
                        f"missing {missing[:5]}, unexpected {extra[:5]}")
    tris = 0
    for o in objs:
        s = structures.get(o.name)
        if s is None:
            continue
        # colour
        rgb = [int(s["color"][i:i + 2], 16) / 255 for i in (1, 3, 5)]
        want = want_color(rgb)
        got = base_color(o)
        if got is None or max(abs(a - b) for a, b in zip(got, want)) > 2e-3:
            failures.append(f"{fmt}: {o.name}: base colour {got}, label table gives {want}")
        # bounding box, in RAS mm
        lo, hi = world_bbox(o)
        a, b = to_ours(lo), to_ours(hi)
        olo = [min(a[k], b[k]) for k in range(3)]
        ohi = [max(a[k], b[k]) for k in range(3)]
        size = max(s["bbox_max_mm"][k] - s["bbox_min_mm"][k] for k in range(3))
        err = max(max(abs(olo[k] - s["bbox_min_mm"][k]), abs(ohi[k] - s["bbox_max_mm"][k]))
                  for k in range(3))
        if err > 0.01 * size:
            failures.append(f"{fmt}: {o.name}: bbox {olo}..{ohi} mm vs ours "
                            f"{s['bbox_min_mm']}..{s['bbox_max_mm']} (off by {err:.4g} mm, "
                            f"size {size:.4g} mm)")
        # closedness
        bm = bmesh.new()
        bm.from_mesh(o.data)
        if merge:
            bmesh.ops.remove_doubles(bm, verts=bm.verts, dist=1e-7)
        boundary = sum(1 for e in bm.edges if e.is_boundary)
        nonmanifold = sum(1 for e in bm.edges if not e.is_manifold)
        tris += len(bm.faces)
        if boundary or nonmanifold:
            failures.append(f"{fmt}: {o.name}: {boundary} boundary, {nonmanifold} non-manifold "
                            f"edges")
        if len(bm.faces) != s["triangles"]:
            failures.append(f"{fmt}: {o.name}: {len(bm.faces)} faces, we wrote {s['triangles']}")
        bm.free()
    print(f"blender {fmt}: {len(objs)} objects, {tris} triangles")


clear()
bpy.ops.wm.obj_import(filepath=obj_path, forward_axis="Y", up_axis="Z", global_scale=0.001)
check("obj", lambda p: [1000 * p[0], 1000 * p[1], 1000 * p[2]], lambda rgb: rgb, False)

clear()
bpy.ops.import_scene.gltf(filepath=glb_path)
check("glb", lambda p: [-1000 * p[0], -1000 * p[1], 1000 * p[2]],
      lambda rgb: [srgb_to_linear(c) for c in rgb], True)

for f in failures:
    print("FAIL", f)
print(f"blender check: {len(failures)} failures")
sys.stdout.flush()
if failures:
    import os
    os._exit(1)
