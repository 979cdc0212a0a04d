"""Renders a sculpture's sculpture.glb (`synthbody sculpt ... --gap-mm G`) to a PNG with Blender's
Cycles, the README's picture of an exploded sculpture:

    blender -b --python-exit-code 2 --python samples/render_sculpture.py -- SCULPTURE.glb OUT.png

The body parts are made translucent so the organs show; every layer node is kept as imported.
"""
import math
import sys

import numpy

numpy.bool = bool  # Blender 3.4's glTF importer still uses numpy.bool
import bpy  # noqa: E402
from mathutils import Vector  # noqa: E402

glb, out = sys.argv[sys.argv.index("--") + 1:][:2]
bpy.ops.wm.read_factory_settings(use_empty=True)
bpy.ops.import_scene.gltf(filepath=glb)
meshes = [o for o in bpy.context.scene.objects if o.type == "MESH"]
assert meshes, "no mesh in " + glb
for o in meshes:
    if o.name.endswith("_body") or "_body." in o.name:
        m = o.active_material.copy()
        bsdf = m.node_tree.nodes.get("Principled BSDF")
        bsdf.inputs["Alpha"].default_value = 0.25
        m.blend_method = "BLEND"
        o.active_material = m
lo = Vector((min((o.matrix_world @ Vector(c))[i] for o in meshes for c in o.bound_box)
             for i in range(3)))
hi = Vector((max((o.matrix_world @ Vector(c))[i] for o in meshes for c in o.bound_box)
             for i in range(3)))
centre, size = (lo + hi) / 2, (hi - lo).length
cam = bpy.data.objects.new("camera", bpy.data.cameras.new("camera"))
bpy.context.scene.collection.objects.link(cam)
cam.location = centre + Vector((0.9, -1.6, 0.5)) * size * 0.9
cam.rotation_euler = (centre - cam.location).to_track_quat("-Z", "Y").to_euler()
bpy.context.scene.camera = cam
sun = bpy.data.objects.new("sun", bpy.data.lights.new("sun", "SUN"))
sun.data.energy = 4
sun.rotation_euler = (math.radians(40), math.radians(10), math.radians(30))
bpy.context.scene.collection.objects.link(sun)
world = bpy.data.worlds.new("world")
world.color = (1, 1, 1)
bpy.context.scene.world = world
sc = bpy.context.scene
sc.render.engine = "CYCLES"
sc.cycles.samples = 24
sc.cycles.device = "CPU"
sc.cycles.use_denoising = False  # Debian's Blender has no OpenImageDenoise
sc.render.resolution_x, sc.render.resolution_y = 900, 900
sc.render.film_transparent = False
sc.render.filepath = out
bpy.ops.render.render(write_still=True)
