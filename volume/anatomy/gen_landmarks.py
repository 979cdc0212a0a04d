#!/usr/bin/python3
"""Authoring tool: computes the reference landmarks of the default anatomy and writes
volume/anatomy/landmarks.json. Not run at build time; its output is committed.

Reference body: a lean man of 1750 mm (ICRP reference stature ~1760 mm), supine, RAS mm
(x to the subject's right, y anterior, z superior), soles at z = 0, midline x = 0.
Sources (../shared/reference/ANATOMY.md): landmark heights as fractions of stature (Winter;
ANSUR II), §1.1; vertebral body and disc heights, §2; organ levels, §3.
"""
import json

H = 1750.0

# vertebral body heights (mm) and the disc above each (mm), bottom (L5) to top (C1); thoracic
# and cervical discs at the low end of ANATOMY.md §2 so C1 lands at the palate (~0.92 H)
bodies = [("L5", 28, 10), ("L4", 27.5, 11), ("L3", 27, 10.5), ("L2", 26.5, 10), ("L1", 26, 9.5)]
for i, t in enumerate(range(12, 0, -1)):  # T12 .. T1: 24 -> 17 mm, discs 5.5 -> 3.5
    f = i / 11.0
    bodies.append((f"T{t}", 24 - 7 * f, 5.0 if t == 12 else 4.5 - 2.0 * f))
for c in range(7, 2, -1):
    bodies.append((f"C{c}", 14.5, 4.5 if c < 7 else 4.0))
bodies.append(("C2", 18.0, 5.0))
bodies.append(("C1", 10.0, 4.0))

# L4/L5 disc at the iliac crest height, 0.604 H (ANSUR II)
z = 0.604 * H
lm = {}
# L5 sits below the L4/5 disc: its centre and the S1 promontory
l5 = bodies[0]
lm["L5"] = [0.0, 0.0, z - 5.5 - l5[1] / 2]
lm["S1"] = [0.0, 0.0, lm["L5"][2] - l5[1] / 2 - l5[2] - 12]
zc = z + 5.5  # top of the L4/5 disc
for name, h, disc in bodies[1:]:
    lm[name] = [0.0, 0.0, zc + h / 2]
    zc += h + disc
lm["C1"][2] += 0.0

# AP position of the vertebral body centres (supine curves), interpolated in z
ctrl = [(lm["S1"][2], -50), (lm["L3"][2], -28), (lm["T12"][2], -45), (lm["T6"][2], -62),
        (lm["T1"][2], -45), (lm["C4"][2], -22), (lm["C1"][2], -18)]


def y_at(zz):
    for (z0, y0), (z1, y1) in zip(ctrl, ctrl[1:]):
        if z0 <= zz <= z1:
            t = (zz - z0) / (z1 - z0)
            return y0 + t * (y1 - y0)
    return ctrl[0][1] if zz < ctrl[0][2 - 2] else ctrl[-1][1]


for k in list(lm):
    lm[k][1] = round(y_at(lm[k][2]), 1)
    lm[k][2] = round(lm[k][2], 1)

# head, trunk surface and limb joints (right side; the left is the mirror image, x -> -x)
lm.update({
    "vertex": [0, 0, H],
    # the cranial cavity (centre skull_center + 5 mm up, half height 62 mm) spans the foramen
    # magnum (just above the atlas) to ~15 mm under the vertex (bone, scalp and skin)
    "skull_center": [0, -5, round(H - 83, 1)],
    "eye_right": [32, 72, round(0.936 * H, 1)],
    "chin": [0, 75, round(0.870 * H, 1)],
    "suprasternal_notch": [0, 65, round(0.819 * H, 1)],
    "sternal_angle": [0, 85, round(lm["T4"][2] + 8, 1)],
    "xiphoid": [0, 100, round(lm["T10"][2], 1)],
    "carina": [0, 0, round(lm["T5"][2], 1)],
    "diaphragm_dome_right": [65, 5, round(lm["T9"][2], 1)],
    "diaphragm_dome_left": [-65, 0, round(lm["T10"][2], 1)],
    "umbilicus": [0, 115, round(0.601 * H, 1)],
    "iliac_crest_right": [135, -25, round(0.604 * H, 1)],
    "asis_right": [115, 60, round(0.575 * H, 1)],
    "pubic_symphysis": [0, 65, round(0.515 * H, 1)],
    "shoulder_right": [178, -25, round(0.812 * H, 1)],
    "acromion_right": [205, -20, round(0.820 * H, 1)],
    "elbow_right": [232, -35, round(0.630 * H, 1)],
    "wrist_right": [245, -5, round(0.485 * H, 1)],
    "hand_right": [250, 5, round(0.430 * H, 1)],
    "hip_right": [92, 10, round(0.530 * H, 1)],
    "greater_trochanter_right": [150, 0, round(0.515 * H, 1)],
    "knee_right": [88, 5, round(0.285 * H, 1)],
    "ankle_right": [85, -10, round(0.045 * H, 1)],
    "heel_right": [85, -45, 25],
    "toe_right": [95, 190, 20],
    "nipple_right": [95, 110, round(0.720 * H, 1)],
})
doc = {"format": "synthbody-anatomy", "version": 1,
       "about": "Reference landmarks: lean man, 1750 mm, supine, RAS mm, soles z = 0.",
       "landmarks": lm, "shapes": {}, "structures": []}
with open("volume/anatomy/landmarks.json", "w") as f:
    json.dump(doc, f, indent=1)
for k in ["S1", "L5", "L1", "T12", "T6", "T1", "C7", "C2", "C1"]:
    print(k, lm[k])
