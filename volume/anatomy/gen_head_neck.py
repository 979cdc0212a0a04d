#!/usr/bin/python3
"""Authoring tool: writes volume/anatomy/head_neck.json — brain (folded cortex, white matter,
lateral ventricles, cerebellum, brainstem), cerebrospinal fluid (subarachnoid space + spinal
canal), spinal cord, eyes and lenses, thyroid, trachea, main bronchi and oesophagus.
Label ids 50-99, priorities 100-199. Not run at build time; its output is committed.

Reference lean man, 1750 mm (landmarks.json, RAS mm, soles z = 0). Numbers from
/work/shared/reference/ANATOMY.md, cited by section:
  §3  organ levels (thyroid C5-T1, trachea from C6/C7 to the carina at T5, oesophagus C6 ->
      diaphragm at T11, 2.5 cm left of midline below)
  §4  brain ~170 x 140 x 100 mm, cortex 2.5 mm, lateral ventricles 15-30 mL, eye 24 mm,
      lens 9-10 x 3.5-5 mm, spinal cord AP x transverse (C2 8.8 x 12.4 ... T8 6.3 x 8.3 mm),
      trachea AP ~19 mm (M), thyroid lobe ~43 mm long, ~12 mm thick
  §5  ICRP 89 volumes: brain 1380 / 1240 mL, thyroid ~19 / ~16 mL, eye 7.5 g
Coordination: the cranial cavity is body.json's "cranial_cavity" ellipsoid (centre
skull_center + [0, -5, 5], radii 72, 90, 62); the skull (skeleton document) is a 7 mm shell
around it. The vertebral canal centre is ~22 (C) - 29 (L5) mm behind the vertebral body
centres (gen_skeleton.py CANAL table); the cord and its CSF run along that line.
"""
import json
import math
import os

from authoring import S, cross, diff, dot, euler, norm, off, translate, tube, union

HERE = os.path.dirname(os.path.abspath(__file__))
L = json.load(open(os.path.join(HERE, "landmarks.json")))["landmarks"]
z = lambda n: L[n][2]
SC = L["skull_center"]
C0 = [SC[0], SC[1] - 5, SC[2] + 5]          # cranial cavity centre (body.json)
# The brain below is drawn in the coordinates of a skull centre at z 1635; DZ moves it to the
# landmark's (the foramen magnum, fm, stays just above C1).
DZ = SC[2] - 1635.0
CAV = [72, 90, 62]                            # cranial cavity radii (body.json)


# ---- shape helpers ---------------------------------------------------------------------------
def ell(c, r, rot=None):
    e = {"c": list(c), "r": list(r)}
    if rot:
        e["rot"] = rot
    return {"ellipsoid": e}


def box(c, h, rnd=0, rot=None):
    b = {"c": list(c), "h": list(h)}
    if rnd:
        b["round"] = rnd
    if rot:
        b["rot"] = rot
    return {"box": b}


def half(p, n):
    return {"halfspace": {"p": list(p), "n": list(n)}}


def rel(s, anchor):
    a = L[anchor]
    return translate(s, [-a[0], -a[1], -a[2]])


# ---- brain -----------------------------------------------------------------------------------
# Cerebrum envelope: the cranial cavity less ~3 mm of CSF (§4 brain 170 x 140 x 100 mm
# cerebrum; the cavity ellipsoid is 180 x 144 x 124), carved below by the anterior cranial
# fossa (orbits), the sella / brainstem region, the posterior fossa (cerebellum under the
# tentorium) and a floor at the middle cranial fossa.
BR = [CAV[0] - 2.5, CAV[1] - 2.5, CAV[2] - 2.5]
cereb_c, cereb_r = [0, -56, 1626], [49, 31, 24]   # cerebellum ~150 mL (~10 % of the brain)
cerebellum_shape = ell(cereb_c, cereb_r)
env_cuts = [
    off(cerebellum_shape, 2.5),                               # tentorium + CSF
    box([0, 100, 1598], [85, 52, 45], 8),                      # anterior fossa floor / orbits
    box([0, 5, 1598], [14, 28, 40], 6),                       # sella, suprasellar cistern
]
envelope = diff(ell(C0, BR), *[translate(c, [0, 0, DZ]) for c in env_cuts])


def surf(d):
    """Point of the cerebrum ellipsoid in direction d from its centre, and its normal."""
    s = 1.0 / math.sqrt(sum((d[i] / BR[i]) ** 2 for i in range(3)))
    p = [C0[i] + s * d[i] for i in range(3)]
    n = norm([(p[i] - C0[i]) / BR[i] ** 2 for i in range(3)])
    return p, n


def sulcus(da, db, depth, half_w=0.8):
    """A thin slab cut radially into the cortex between two surface directions."""
    A, _ = surf(da)
    B, _ = surf(db)
    M, n = surf([(A[i] + B[i]) / 2 - C0[i] for i in range(3)])
    t = norm([B[i] - A[i] for i in range(3)])
    n = norm([n[i] - dot(n, t) * t[i] for i in range(3)])
    m = cross(n, t)
    L_ = math.sqrt(sum((B[i] - A[i]) ** 2 for i in range(3)))
    out = 10.0
    c = [M[i] + n[i] * (out - depth) / 2 for i in range(3)]
    return box([round(v, 2) for v in c], [round(L_ / 2, 2), half_w, round((out + depth) / 2, 2)],
               0, euler(t, m, n))


# right-hemisphere sulci (direction from the cerebrum centre: x right, y anterior, z up);
# approximate textbook courses; depths 14-18 mm, the Sylvian fissure ~28 mm down to the insula
SULCI_R = [
    ([0.12, -0.12, 1], [1, 0.15, 0.25], 18),     # central
    ([0.12, 0.12, 1], [1, 0.42, 0.32], 14),      # precentral
    ([0.12, -0.38, 1], [1, -0.12, 0.32], 14),    # postcentral
    ([0.32, 0.2, 1], [0.35, 1, 0.55], 14),       # superior frontal
    ([0.8, 0.35, 0.45], [0.6, 1, 0.15], 14),     # inferior frontal
    ([0.9, 0.8, -0.2], [1, -0.45, 0.25], 26),    # lateral (Sylvian) fissure
    ([0.95, 0.55, -0.5], [1, -0.65, 0.0], 14),   # superior temporal
    ([0.6, -0.3, 0.9], [0.5, -1, 0.35], 16),     # intraparietal
    ([0.85, 0.3, -0.75], [0.8, -0.6, -0.45], 12),  # inferior temporal
]
sulci_r = [sulcus(a, b, d) for a, b, d in SULCI_R]
# medial surface: cingulate, calcarine, parieto-occipital (slabs from the midline outward). The
# cingulate slab reaches 12 mm out: 18 mm met the superior frontal sulcus (grown by the cortex)
# where the dome is low, and the white matter of the gyrus between them was an island
# (anatomy_validate: brain_white_matter in two pieces, man 78 and woman 71)
sulci_r += [translate(s, [0, 0, DZ]) for s in (box([6, -2, 1686], [6, 36, 1.0], 0, [0, 0, 0]),
                                               box([9, -78, 1652], [9, 20, 1.0], 0, [-8, 0, 0]),
                                               box([9, -66, 1674], [9, 1.0, 22], 0, [-25, 0, 0]))]
# interhemispheric fissure (falx): midline slabs down to the corpus callosum
FW = "0.75*csf_mm"   # the fissure's half width: 1.5 mm at 2 mm (at 1.0 sampled with gaps)
midline = [box([0, -10, 1702], [FW, 100, 32]),
           box([0, 58, 1664], [FW, 42, 18]),
           box([0, -78, 1660], [FW, 30, 22])]
midline = [translate(s, [0, 0, DZ]) for s in midline]
sulci = midline + sulci_r + [{"mirror_x": union(*sulci_r)}]
CORTEX = 2.5  # mm, §4 mean cortical thickness

grey = diff(envelope, *sulci)
white = diff(off(envelope, -CORTEX), *[off(s, CORTEX) for s in sulci])

# lateral ventricle (right; mirrored): frontal horn, body, atrium, temporal horn (§4 15-30 mL)
ventricle = translate(tube([[8, 30, 1662, 4.5], [10, 8, 1670, 5.5], [14, -20, 1668, 6],
                            [24, -40, 1656, 6.5], [31, -24, 1638, 4], [32, 2, 1628, 3]]),
                      [0, 0, DZ])
# brainstem: midbrain at the tentorial notch, pons in front of the cerebellum, medulla down
# to the foramen magnum at the atlas, on the axis of the atlas's canal (gen_skeleton.py CANAL
# C1: 22 mm behind the landmark, half-depth 10; the cord and its CSF start there). The medulla
# narrows to r 5 at fm, inside the cord (r 6) that continues it: the brainstem is drawn in the
# head's frame, the cord in the spine's, and a medulla wider than the cord left a sliver of
# brainstem around the cord's top, cut off at 2 mm in 4 of 200 subjects.
fm = [0, L["C1"][1] - 20, z("C1") - 6]
brainstem = tube([[0, -10, 1676 + DZ, 10], [0, -15, 1650 + DZ, 13], [0, -24, 1628 + DZ, 9.5],
                  [fm[0], fm[1], fm[2], 5.0]])
# cerebellum with its vermis grey/white core (folia not modelled; a horizontal fissure)
cerebellum = translate(diff(cerebellum_shape, box([0, -75, 1628], [50, 12, 1.0], 0, [-12, 0, 0])),
                       [0, 0, DZ])

# ---- spinal canal and cord -------------------------------------------------------------------
# canal centre = vertebral body centre - dc (gen_skeleton.py CANAL: C 22, T1 25, T12 26,
# L1 27, L5 29 mm)
DC = {"C2": 22, "C4": 22, "C6": 23, "T1": 25, "T4": 25.3, "T7": 25.5, "T10": 25.8,
      "T12": 26, "L1": 27, "L2": 27.5, "L3": 28, "L5": 29}


def canal(level, r, dz=0.0):
    p = L[level]
    return [0, p[1] - DC[level], p[2] + dz, r]


# cord radius from §4 cross sections (C2 8.8 x 12.4, C4 8.7 x 14.0 (cervical enlargement),
# C7 7.4 x 11.4, T8 6.3 x 8.3 mm): circular equivalent; conus ends at L1/L2
cord_pts = [fm[:] + [6.0], canal("C2", 5.3), canal("C4", 5.6), canal("C6", 5.2),
            canal("T1", 4.6), canal("T4", 3.9), canal("T7", 3.7), canal("T10", 3.9),
            canal("T12", 4.2), canal("L1", 3.2), canal("L2", 2.6, 8)]
cord = tube(cord_pts)
# CSF-filled thecal sac: ~7-8 mm radius, ends at S2 (skeleton sacral canal). At its top it
# widens through the foramen magnum (~35 x 30 mm) into the cisterna magna behind the medulla,
# 14 mm up into the cranial cavity, so that the spinal CSF meets the cranial CSF in every
# subject (a sleeve of 2.5 mm around the medulla broke at 2 mm in 6 of 200).
s1 = L["S1"]
canal_pts = [[0, fm[1] - 3, fm[2] + 14, 10], fm[:] + [9.5], canal("C2", 8), canal("C6", 8), canal("T1", 7.5), canal("T4", 7),
             canal("T7", 7), canal("T10", 7), canal("L1", 8), canal("L3", 8.5),
             canal("L5", 8.5), [0, s1[1] - 26, s1[2] + 14, 8], [0, s1[1] - 40, s1[2] - 22, 4]]
# the cranial cavity itself (body.json's named shape, sized for the subject's brain)
cranial_csf = diff({"ref": "cranial_cavity"}, box([0, 92, 1600 + DZ], [85, 50, 45], 8),
                   box([0, 22, 1585 + DZ], [42, 36, 25], 6))
csf = union(cranial_csf, tube(canal_pts))

# ---- eyes ------------------------------------------------------------------------------------
E = L["eye_right"]
eye = ell(E, [12, 12, 12])  # axial length 24 mm, §4 -> 7.2 mL (ICRP 7.5 g)
lens = ell([E[0], E[1] + 8, E[2]], [4.7, 2.1, 4.7])  # 9-10 x 3.5-5 mm, §4

# ---- neck and mediastinal airway / oesophagus ------------------------------------------------
car = L["carina"]
# trachea from the cricoid (C6/C7, §3) to the carina (T5), outer radius 11 mm (AP lumen ~19 mm
# M, §4, wall ~2 mm); runs down and slightly back
tr_top = [0, 6, (z("C6") + z("C7")) / 2 + 2]
trachea = tube([tr_top + [10.5], [0, 5, z("T1"), 11], [0, 2, z("T3"), 11],
                [car[0], car[1], car[2] + 6, 11]])
# main bronchi: right short and steep (~25 deg), left longer and flatter (~45 deg) under the arch
bronchus_r = tube([[3, car[1], car[2] + 2, 8], [16, car[1] - 3, car[2] - 12, 7.5],
                   [30, car[1] - 6, car[2] - 28, 6.5]])
bronchus_l = tube([[-3, car[1], car[2] + 2, 7.5], [-22, car[1] - 3, car[2] - 14, 6.5],
                   [-46, car[1] - 8, car[2] - 30, 6]])
# oesophagus: C6 behind the trachea, in front of the vertebral bodies, left of the descending
# aorta below the arch it drifts left and forward through the hiatus (T10-T11) to the cardia
# at [-25, 10, T11] (§3: lower part 2.5 cm left of midline; abdomen document continues)
eso = tube([[0, -16, z("C6"), 7], [-3, -22, z("T1"), 7.5], [-3, -30, z("T3"), 8],
            [-1, -33, z("T5"), 8], [0, -34, z("T7"), 8.5], [-6, -22, z("T9"), 9],
            [-14, -8, z("T10"), 9.5], [-25, 10, z("T11"), 10]])

# ---- thyroid ---------------------------------------------------------------------------------
# two lobes C5-T1 beside the trachea (~43 mm long, ~12-18 mm thick) and an isthmus over rings 2-4
# (§3, §4); ICRP volume 19 / 16 mL (§5)
zc = (z("C5") + z("T1")) / 2
lobe = ell([21, 5, zc + 2], [8.5, 10, 25], [0, -8, 0])
thyroid = union(lobe, {"mirror_x": lobe}, box([0, 17, tr_top[2] - 14], [17, 4, 7], 2))


# ---- structures ------------------------------------------------------------------------------


# Brain parts share one size factor: each gets volume_ml = (its own reference shape volume) x
# K, so the engine's factor f = cbrt(K / g^3) is the same for all of them and they scale
# together about skull_center. K is set so that the labelled brain (cortex + white matter +
# ventricles + cerebellum + brainstem) of the reference geometry meets ICRP 1380 / 1240 mL
# (§5). REF = reference shape volumes and BRAIN_LABELLED = labelled total, measured with the
# engine (synthbody, male 175 cm BMI 22, no size model).
REF = {"brain": 1003.4, "brain_white_matter": 672.5, "brain_lateral_ventricle": 11.6,
       "brain_cerebellum": 149.8, "brainstem": 27.8}
BRAIN_LABELLED = 302.4 + 648.1 + 2 * 11.7 + 146.4 + 26.8   # 2 mm grid, measured
# (growing K does not grow the labelled brain: the brain already fills its cavity, which is
# sized for the ICRP brain, and brain_space clips the rest; anatomy_validate, 30 subjects per sex
# at 2 mm: -14.2 % men, -15.8 % women of ICRP with K x 1.1 or without)
K = [1380.0 / BRAIN_LABELLED, 1240.0 / BRAIN_LABELLED]
NO_SIZE = os.environ.get("HN_NO_SIZE") == "1"


def brain_vol(name):
    if NO_SIZE:
        return {}
    # one random size factor for the whole brain (size_group): its parts stay fitted
    return {"volume_ml": [round(REF[name] * K[0], 2), round(REF[name] * K[1], 2)],
            "scales_with": "height", "cv": 0.09, "size_group": "brain"}


# Names: "brain" is the folded cerebral cortex (grey matter) and every brain part starts with
# "brain" (brain_white_matter, brain_lateral_ventricle_*, brain_cerebellum, brainstem) so that
# a prefix match "brain" gives the whole brain (TotalSegmentator has one "brain" label).
A = "skull_center"
structures = [
    S(50, "brain", "nervous", "grey_matter", "#a08cb4", 104, rel(grey, A), anchor=A,
      within="brain_space", abbrev="CTX", **brain_vol("brain")),
    S(51, "brain_white_matter", "nervous", "white_matter", "#f0ece0", 103, rel(white, A),
      anchor=A, within="white_matter_space", abbrev="WM", **brain_vol("brain_white_matter")),
    S(52, "brain_lateral_ventricle", "nervous", "csf", "#3c64dc", 100, rel(ventricle, A), anchor=A,
      mirror=True, abbrev="LV", **brain_vol("brain_lateral_ventricle")),
    S(54, "brain_cerebellum", "nervous", "grey_matter", "#c8a0c8", 102, rel(cerebellum, A), anchor=A,
      within="brain_space", core=("white_matter", 9), abbrev="CBL",
      **brain_vol("brain_cerebellum")),
    S(55, "brainstem", "nervous", "white_matter", "#d2b48c", 101, rel(brainstem, A), anchor=A,
      abbrev="BST", **brain_vol("brainstem")),
    S(56, "cerebrospinal_fluid", "nervous", "csf", "#6496ff", 150, csf, abbrev="CSF"),
    S(57, "spinal_cord", "nervous", "spinal_cord", "#ffe060", 99, cord, abbrev="CORD"),  # wins over the brainstem it enters
    S(58, "eye", "nervous", "tendon", "#f0f0ff", 106, eye, mirror=True, core=("vitreous", 1.0),
      abbrev="EYE"),
    S(60, "eye_lens", "nervous", "lens", "#a0e0ff", 105, lens, mirror=True, abbrev="LENS"),
    S(62, "thyroid_gland", "endocrine", "thyroid", "#b43c50", 130, thyroid,
      # labelled ~0.74 of the shape (trachea) at first; x0.8 after the neck's mapping changed
      # (anatomy_validate, 50 subjects per sex at 2 mm: +26 % men, +24 % women before)
      volume_ml=[20.5, 17.3], scales_with="height", cv=0.15, abbrev="THY"),
    S(63, "trachea", "respiratory", "cartilage", "#9cd0e0", 120, trachea, core=("air", 2.0),
      abbrev="TRA"),
    S(64, "bronchus_right", "respiratory", "cartilage", "#8cc0d8", 121, bronchus_r,
      core=("air", 1.5), abbrev="BRR"),
    S(65, "bronchus_left", "respiratory", "cartilage", "#7cb0d0", 121, bronchus_l,
      core=("air", 1.5), abbrev="BRL"),
    S(66, "esophagus", "digestive", "bowel_wall", "#d49a6a", 125, eso, abbrev="ESO"),
]
if os.environ.get("HN_REFS_ONLY") == "1":   # measurement mode: every brain part size-modelled
    for s in structures:
        if s["id"] in (50, 51, 52, 54, 55):
            s["volume_ml"], s["scales_with"], s["cv"] = [1000, 1000], "none", 0.0

doc = {"format": "synthbody-anatomy", "version": 1,
       "about": "Brain, CSF, spinal cord, eyes, thyroid, trachea, bronchi, oesophagus. "
                "Generated by gen_head_neck.py.",
       "shapes": {}, "structures": structures}
out = os.environ.get("HN_OUT", os.path.join(HERE, "head_neck.json"))
with open(out, "w") as f:
    json.dump(doc, f, indent=1)
print(len(structures), "structures ->", out)
