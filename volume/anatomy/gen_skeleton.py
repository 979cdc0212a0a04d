#!/usr/bin/python3
"""Authoring tool: writes volume/anatomy/skeleton.json — the skeleton of the default anatomy
(label ids 100-199, priorities 200-299, group "skeleton"). Not run at build time; its output
is committed.

Everything is placed from the reference landmarks (landmarks.json: lean man 1750 mm, supine,
RAS mm, soles z = 0) with sizes from ../shared/reference/ANATOMY.md:
  §1.1 landmark heights, §1.2 segment lengths and breadths,
  §2   vertebral body / disc heights (same numbers as gen_landmarks.py), spinal curves,
       sternum lengths [ST1], rib arc lengths [TO], cortical thicknesses [HO] and long-bone
       lengths (femur 0.267 H [FE], tibia 0.22 H, humerus 0.195 H),
  §4   spinal cord / canal sizes [SC1-SC3] (the canal is left open for the cord and CSF).
Sizes marked [u] in ANATOMY.md, or not there at all (vertebral body breadths, scapula,
hand/foot bones), are textbook approximations and flagged "approx." below.

Bones are cortical_bone with a marrow "core": red_marrow in the axial skeleton (vertebrae,
sacrum, ribs, sternum, hip bones, skull diploe), yellow_marrow in the limb bones; the core
depth is the cortical thickness (§2: femur 5 mm, tibia 4 mm, humerus 3.5 mm, rib 1.4 mm).

Every bone is clipped to the inside of the skin (body.json's "body" shrunk by skin_mm) so
that no bone pokes through the skin of a subject whose surface is thinner than the reference.
The rib cage is fitted to body.json's cavity ellipsoids (read at authoring time): rerun this
script after changing them.

Labels (100 ids): vertebrae C1-L5 100-123, sacrum (with coccyx) 124, discs C2/C3..L5/S1
125-147 (one label each so that each is one connected piece), ribs left 1-12 148-159, right
1-12 160-171, sternum 172, costal cartilages 173, then mirrored pairs (right id, left id + 1):
clavicula 174, scapula 176, humerus 178, ulna 180, radius 182, hand 184, hip 186, femur 188,
patella 190, tibia 192, fibula 194, foot 196; skull 198, mandible 199.

Known departures: ribs 1-3 are longer than the [TO] table x s (the reference cavity is
roomier at the apex than a real thoracic inlet), the floating ribs shorter; the upper
thoracic discs are widened to DISC_MIN; the costal cartilages are joined along the sternal
border and across the xiphisternal junction to make one piece.
"""
import json
import math
import os

HERE = os.path.dirname(os.path.abspath(__file__))
L = json.load(open(os.path.join(HERE, "landmarks.json")))["landmarks"]
H = 1750.0

# every bone is clipped to the inside of the skin (body.json's "body" shrunk by the skin
# thickness): bones never replace skin or poke out of a thin subject
INSIDE_SKIN = {"offset": {"d": "-1*skin_mm", "of": {"ref": "body"}}}
structures = []


def r1(v):
    return round(v, 1)


def V(p):
    return [r1(p[0]), r1(p[1]), r1(p[2])]


def add(v, w):
    return [v[0] + w[0], v[1] + w[1], v[2] + w[2]]


def sub(v, w):
    return [v[0] - w[0], v[1] - w[1], v[2] - w[2]]


def mul(v, k):
    return [v[0] * k, v[1] * k, v[2] * k]


def norm(v):
    n = math.sqrt(v[0] ** 2 + v[1] ** 2 + v[2] ** 2)
    return [v[0] / n, v[1] / n, v[2] / n]


def dist(a, b):
    return math.sqrt(sum((a[i] - b[i]) ** 2 for i in range(3)))


def lerp(a, b, t):
    return [a[i] + t * (b[i] - a[i]) for i in range(3)]


# ---- shape helpers ------------------------------------------------------------------------
def sphere(c, r):
    return {"sphere": {"c": V(c), "r": r1(r)}}


def ell(c, r, rot=None):
    e = {"c": V(c), "r": V(r)}
    if rot and any(abs(a) > 1e-9 for a in rot):
        e["rot"] = [r1(a) for a in rot]
    return {"ellipsoid": e}


def sq(c, r, e, rot=None):
    s = {"c": V(c), "r": V(r), "e": [e[0], e[1]]}
    if rot and any(abs(a) > 1e-9 for a in rot):
        s["rot"] = [r1(a) for a in rot]
    return {"superquadric": s}


def cap(a, b, r):
    rr = [r1(r[0]), r1(r[1])] if isinstance(r, (list, tuple)) else r1(r)
    return {"capsule": {"a": V(a), "b": V(b), "r": rr}}


def tube(pts, closed=False):
    t = {"points": [[r1(p[0]), r1(p[1]), r1(p[2]), r1(p[3])] for p in pts]}
    if closed:
        t["closed"] = True
    return {"tube": t}


def half(p, n):
    return {"halfspace": {"p": V(p), "n": [round(x, 4) for x in n]}}


def union(*s):
    return {"union": list(s)}


def sunion(k, *s):
    return {"smooth_union": {"k": k, "of": list(s)}}


def diff(*s):
    return {"difference": list(s)}


def inter(*s):
    return {"intersect": list(s)}


def translate(s, d):
    """Copy of a shape with every position moved by d (anchor-relative -> absolute)."""
    if isinstance(s, list):
        return [translate(x, d) for x in s]
    if not isinstance(s, dict):
        return s
    out = {}
    for k, v in s.items():
        if k in ("c", "a", "b", "p") and isinstance(v, list) and len(v) == 3:
            out[k] = [r1(v[i] + d[i]) for i in range(3)]
        elif k == "points":
            out[k] = [[r1(q[0] + d[0]), r1(q[1] + d[1]), r1(q[2] + d[2]), q[3]] for q in v]
        else:
            out[k] = translate(v, d)
    return out


def S(id, name, color, priority, shape, tissue="cortical_bone", core=None, core_mm=None,
      anchor=None, mirror=False, abbrev=None, connected=True, below_skin=0.0):
    d = {"id": id, "name": name, "group": "skeleton", "tissue": tissue, "color": color,
         "priority": priority}
    if not connected:
        d["connected"] = False
    if abbrev:
        d["abbrev"] = abbrev
    if mirror:
        d["mirror"] = True
    if anchor:  # positions made absolute: the skin clip below refers to a named shape
        shape = translate(shape, L[anchor])
    if core:
        d["core"] = {"tissue": core, "depth_mm": core_mm}
    clip = {"offset": {"d": -below_skin, "of": INSIDE_SKIN}} if below_skin else INSIDE_SKIN
    d["shape"] = {"intersect": [shape, clip]}
    structures.append(d)
    return d


# rotation used by the engine: R = Rz Ry Rx, local -> world; here only Rx(a) (sagittal tilt)
def rx_apply(a_deg, p):
    a = math.radians(a_deg)
    return [p[0], p[1] * math.cos(a) - p[2] * math.sin(a), p[1] * math.sin(a) + p[2] * math.cos(a)]


def tilt_of(up):
    """Rx angle (deg) that turns local +z into the (sagittal) direction `up`."""
    return math.degrees(math.atan2(-up[1], up[2]))


# ---- vertebral column ----------------------------------------------------------------------
# Body heights (mm) exactly as in gen_landmarks.py (ANATOMY.md §2: L5 ~28-30 mm [L5], lumbar
# 25-28, thoracic 17 -> 24, cervical 14-15 mm).
LEVELS = ["C1", "C2", "C3", "C4", "C5", "C6", "C7"] + ["T%d" % i for i in range(1, 13)] + \
         ["L1", "L2", "L3", "L4", "L5"]
HEIGHT = {"L5": 28, "L4": 27.5, "L3": 27, "L2": 26.5, "L1": 26, "C2": 18.0, "C1": 10.0}
for i, t in enumerate(range(12, 0, -1)):
    HEIGHT["T%d" % t] = 24 - 7 * i / 11.0
for c in range(3, 8):
    HEIGHT["C%d" % c] = 14.5


def interp_table(tab, name):
    """Linear interpolation of a per-level table given at some levels (index along LEVELS)."""
    idx = LEVELS.index(name)
    keys = sorted((LEVELS.index(k), v) for k, v in tab.items())
    for (i0, v0), (i1, v1) in zip(keys, keys[1:]):
        if i0 <= idx <= i1:
            t = (idx - i0) / float(i1 - i0) if i1 > i0 else 0
            return [a + t * (b - a) for a, b in zip(v0, v1)] if isinstance(v0, list) \
                else v0 + t * (v1 - v0)
    return keys[0][1] if idx < keys[0][0] else keys[-1][1]


# body half-breadth, half-depth (approx. textbook morphometry: C3 body ~17 x 16 mm,
# T1 ~26 x 17, T6 ~30 x 25, T12 ~40 x 30, L3 ~46 x 33, L5 ~50 x 34 mm)
BODY_HW = {"C2": 9, "C3": 8.5, "C7": 11.5, "T1": 13, "T6": 15, "T12": 20, "L1": 21, "L3": 23,
           "L5": 25}
BODY_HD = {"C2": 8, "C3": 8, "C7": 8.5, "T1": 8.5, "T6": 12.5, "T12": 15, "L1": 15.5,
           "L3": 16.5, "L5": 17}
# vertebral canal: centre behind the body centre, half-breadth, half-depth (mm). The canal is
# ~25-30 mm behind the body centres (shared convention with the nervous-system document);
# canal sagittal diameter ~11-17 mm (§4 [SC3] C5 11.2 mm), transverse 17-25 mm (approx.),
# kept >= 17 mm wide everywhere so the cord + CSF fit.
CANAL = {"C1": [22, 13, 10], "C3": [22, 12, 9], "C7": [23, 11.5, 9], "T1": [25, 9, 9],
         "T12": [26, 9, 9], "L1": [27, 10, 9.5], "L5": [29, 11.5, 10]}
# spinous process length, angle below horizontal (deg), radius; transverse process tip
# (lateral x, posterior offset from the canal centre, up), radius. Approx. textbook shapes:
# cervical short and bifid (C7 long, "prominens"), mid-thoracic long and steep, lumbar
# horizontal plates; thoracic transverse processes carry the rib tubercles.
SPINOUS = {"C2": [20, 15, 4], "C3": [13, 15, 3], "C6": [18, 20, 3.5], "C7": [26, 20, 4],
           "T1": [28, 30, 4], "T6": [32, 55, 4], "T9": [30, 50, 4], "T12": [26, 15, 4.5],
           "L1": [25, 5, 5], "L5": [20, 10, 5]}
TRANSV = {"C2": [24, -14, 0, 3.5], "C3": [24, -14, 0, 3.5], "C6": [27, -14, 0, 3.5],
          "C7": [33, -8, 0, 4], "T1": [38, 6, 3, 4.5], "T6": [34, 8, 4, 4.5],
          "T10": [30, 6, 3, 4.5], "T12": [24, 2, 2, 4], "L1": [34, -6, 0, 4.5],
          "L3": [42, -6, 0, 5], "L5": [40, -6, 0, 6]}
ARCH_T = 5.0  # pedicle / lamina thickness (approx.)

VERT_COLORS = {"C": "#f0e6b4", "T": "#e8d8a0", "L": "#e0cc8c"}


def spine_up(name):
    """Unit tangent (sagittal) of the column at a level, pointing up."""
    i = LEVELS.index(name)
    above = L[LEVELS[i - 1]] if i > 0 else None
    below = L[LEVELS[i + 1]] if i + 1 < len(LEVELS) else L["S1"]
    if above is None:  # C1: use C2 -> C1
        above, below = L["C1"], L["C2"]
    return norm(sub(above, below))


def vertebra_shape(name):
    up = spine_up(name)
    a = tilt_of(up)
    h = HEIGHT[name]
    bw, bd = interp_table(BODY_HW, name), interp_table(BODY_HD, name)
    dc, cw, cd = interp_table(CANAL, name)
    T = lambda p: rx_apply(a, p)  # local -> anchor-relative world
    canal = ell([0, 0, 0] if False else T([0, -dc, 0]), [cw, cd, 3.5 * h], [a, 0, 0])
    if name == "C1":
        # atlas: a ring (anterior arch in front of the dens, posterior arch behind the cord),
        # lateral masses and transverse processes; no body (the dens of C2 takes its place)
        ring = diff(ell(T([0, -14, 0]), [27, 27, 6], [a, 0, 0]),
                    ell(T([0, -13, 0]), [16, 20, 20], [a, 0, 0]))
        masses = union(ell(T([19, -6, 0]), [8, 10, 10], [a, 0, 0]),
                       ell(T([-19, -6, 0]), [8, 10, 10], [a, 0, 0]))
        tps = cap(T([-38, -8, 0]), T([38, -8, 0]), 4.5)
        return diff(union(ring, masses, tps), canal)
    body = sq([0, 0, 0], [bw, bd, h / 2.0], [0.35, 1.0], [a, 0, 0])
    arch = ell(T([0, -dc, 0]), [cw + ARCH_T, cd + ARCH_T, 0.42 * h + 2], [a, 0, 0])
    sl, sang, sr = interp_table(SPINOUS, name)
    s0 = T([0, -dc - cd - ARCH_T + 3, 0])
    s1 = T([0, -dc - cd - ARCH_T + 3 - sl * math.cos(math.radians(sang)),
            -sl * math.sin(math.radians(sang))])
    spin = cap(s0, s1, [sr + 1, sr])
    tx, ty, tz, tr = interp_table(TRANSV, name)
    tp = union(cap(T([cw, -dc + 2, 0]), T([tx, -dc - ty, tz]), tr),
               cap(T([-cw, -dc + 2, 0]), T([-tx, -dc - ty, tz]), tr))
    # pedicles: bars from the back of the body to the sides of the canal (keep the arch joined
    # to the body at any voxel size)
    ped = union(cap(T([0.75 * cw, -0.5 * bd, 0]), T([cw + 1.5, -dc, 0]), 4.5),
                cap(T([-0.75 * cw, -0.5 * bd, 0]), T([-cw - 1.5, -dc, 0]), 4.5))
    parts = [body, arch, ped, spin, tp]
    if name == "C2":  # dens: up into the atlas ring, just behind its anterior arch
        top = L["C1"]
        rel = sub(top, L["C2"])
        parts.append(cap(T([0, 1, h / 2 - 2]), add(rel, [0, 1.5, 7]), [5.5, 4.5]))
    return diff(union(*parts), canal)


vid = 100
for k, name in enumerate(LEVELS):
    S(vid + k, "vertebrae_" + name, VERT_COLORS[name[0]] if k % 2 == 0 else
      {"C": "#d8cc98", "T": "#d2c088", "L": "#cab478"}[name[0]],
      # atlas and axis sit where the cranial contents reach down: bone wins over them
      95 + k if name in ("C1", "C2") else 220 + k, vertebra_shape(name),
      core="red_marrow", core_mm=1.5, anchor=name, abbrev=name)
# ids 100..123, priorities 220..243 (C1, C2: 95, 96 — before the brainstem and CSF)

# ---- intervertebral discs (one label per level, C2/3 ... L5/S1: ids 125-147) ----------------
# Each disc fills the gap between adjacent vertebral bodies (heights as gen_landmarks.py,
# ANATOMY.md §2: cervical 4-5, thoracic 2.5-5.5, lumbar ~10 mm). Discs thinner than DISC_MIN
# (upper thoracic, 2.7-4 mm) are widened to it and take precedence over the end plates, so a
# disc stays one piece at 2-4 mm voxels.
DISC_MIN = 5.0
for k, (upper, lower) in enumerate(zip(LEVELS[1:], LEVELS[2:] + ["S1"])):
    pu, pl = L[upper], L[lower]
    up = norm(sub(pu, pl))
    hu = HEIGHT[upper]
    hl = 24.0 if lower == "S1" else HEIGHT[lower]  # S1: top 12 mm above its centre
    bot_u = sub(pu, mul(up, hu / 2.0))
    top_l = add(pl, mul(up, 12.0 if lower == "S1" else hl / 2.0))
    gap = dist(bot_u, top_l)
    c = lerp(bot_u, top_l, 0.5)
    bw = 0.5 * (interp_table(BODY_HW, upper) + interp_table(BODY_HW, lower if lower != "S1" else "L5"))
    bd = 0.5 * (interp_table(BODY_HD, upper) + interp_table(BODY_HD, lower if lower != "S1" else "L5"))
    S(125 + k, "intervertebral_disc_%s_%s" % (upper, lower), "#7fb2d0" if k % 2 else "#93c4de", 212,
      sq(c, [bw - 1, bd - 1, max(gap, DISC_MIN) / 2.0], [0.35, 1.0], [tilt_of(up), 0, 0]), tissue="disc",
      abbrev="D%s" % upper)

# ---- sacrum and coccyx ---------------------------------------------------------------------
# S1 body centre from landmarks; the sacrum curves down and back (concave anteriorly), ~105 mm
# long (approx.), alae ~105 mm wide meeting the ilia at the sacroiliac joints (x ~ +-50).
s1 = L["S1"]
sac_pts = [[0, s1[1], s1[2], 17], [0, s1[1] - 14, s1[2] - 24, 14], [0, s1[1] - 27, s1[2] - 46, 11],
           [0, s1[1] - 36, s1[2] - 66, 8.5], [0, s1[1] - 40, s1[2] - 85, 7]]
ala_up = norm([0, 26, 45])
sac_tilt = tilt_of(ala_up)
sac_body = tube(sac_pts)
ala = sq([0, s1[1] - 14, s1[2] - 16], [52, 19, 22], [0.6, 0.7], [sac_tilt, 0, 0])
low = sq([0, s1[1] - 29, s1[2] - 50], [34, 13, 18], [0.7, 0.8], [sac_tilt - 10, 0, 0])
# sacral canal (continuation of the vertebral canal; the dural sac ends at S2)
sac_canal = tube([[0, s1[1] - 26, s1[2] + 14, 9.5], [0, s1[1] - 38, s1[2] - 14, 8],
                  [0, s1[1] - 48, s1[2] - 42, 5.5], [0, s1[1] - 52, s1[2] - 62, 3.5]])
# the coccyx is part of this label (TotalSegmentator's "sacrum" has no separate coccyx)
coccyx = tube([[0, s1[1] - 40, s1[2] - 85, 6], [0, s1[1] - 41, s1[2] - 93, 5.5],
               [0, s1[1] - 40, s1[2] - 106, 4.5], [0, s1[1] - 34, s1[2] - 118, 3.5]])
S(124, "sacrum", "#dcc890", 245, union(diff(sunion(8, sac_body, ala, low), sac_canal), coccyx),
  core="red_marrow", core_mm=1.5, abbrev="SAC")

# ---- ribs 1-12, left and right -------------------------------------------------------------
# Each rib: head at the side of its thoracic vertebra, neck to the tubercle at the transverse
# process tip, then a half-ellipse in the transverse plane (the rib angle posteriorly at
# x = xc, the lateral-most point at x = W, the anterior end towards y = yA) descending
# anteriorly. Arc lengths from the [TO] table (ANATOMY.md §2) times a scale s fitted so the
# 6th rib ends where its costal cartilage starts (anterior, ~65 mm off the midline); the
# other ribs end where their table length takes them. Rib thickness: tubes of 9-10 mm
# (flattened 6-8 x 12-15 mm in reality), cortex 1.4 mm [HO].
RIB_ARC_CM = [13.3, 22.9, 27.9, 31.1, 31.8, 32.0, 31.1, 30.7, 29.2, 26.7, 21.0, 11.4]
RIB_W = [60, 80, 92, 99, 103, 105, 106, 106, 104, 100, 95, 86]     # lateral-most x (approx.)
RIB_YA = [35, 62, 72, 78, 84, 88, 88, 84, 76, 62, 55, 30]         # anterior y of the ellipse
RIB_R = [5.5, 4.8, 4.8, 4.8, 4.8, 4.8, 4.8, 4.8, 4.6, 4.5, 4.2, 4.0]


def sternum_y(z):
    """Anterior-posterior centre of the sternum at height z (see the sternum below)."""
    pts = STERNUM_LINE
    for (y0, z0), (y1, z1) in zip(pts, pts[1:]):
        if z1 <= z <= z0:
            return y0 + (z - z0) / (z1 - z0) * (y1 - y0)
    return pts[0][0] if z > pts[0][1] else pts[-1][0]


# Sternum (ANATOMY.md §2 [ST1], men: manubrium 53.6, body 101.1, total with xiphoid 191.8 mm;
# angle 161 deg). The notch and the xiphisternal joint are the landmarks (notch, xiphoid =
# T10 [SA]); their 155 mm span matches manubrium + body (154.7 mm).
notch, xiph = L["suprasternal_notch"], L["xiphoid"]
span = notch[2] - xiph[2]
z_angle = notch[2] - span * 53.6 / 154.7
y_angle = notch[1] + 0.45 * (xiph[1] - notch[1])  # the angle protrudes (161 deg)
STERNUM_LINE = [(notch[1], notch[2]), (y_angle, z_angle), (xiph[1], xiph[2]),
                (xiph[1] + 3, xiph[2] - 38.4)]
# costal notches on the sternum: 1st just below the clavicular notch, 2nd at the angle, 3rd-7th
# spaced down the body, the 7th at the xiphisternal joint
Z_ATT = [notch[2] - 14, z_angle] + [z_angle - (z_angle - xiph[2] - 4) * k / 5.0 for k in range(1, 6)]
# target heights of the costochondral junctions (anterior ends of the bony ribs): the lower
# cartilages ascend to the sternum; the 10th rib/cartilage forms the lowest costal margin
# (ANATOMY.md §1.1: "10th rib" 0.638 H standing; supine the cage rides ~2 cm higher)
Z_END = [Z_ATT[0] - 8, Z_ATT[1] - 8, Z_ATT[2] - 15, Z_ATT[3] - 22, Z_ATT[4] - 30,
         Z_ATT[5] - 40, Z_ATT[6] - 50, 1196, 1162, 1132, 1160, 1180]


# The cage follows the body cavities of body.json (the lungs fill "thoracic_cavity", so the
# ribs must run just outside it): at each height the rib centreline lies on the cavity's
# horizontal cross-section grown by RIB_GAP (thoracic ellipsoid above, the abdominal one where
# it is wider, for the lower ribs around liver and spleen).
def _first_ellipsoid(shape):
    """The first ellipsoid met in a depth-first walk of a shape (the cavity's main body)."""
    if isinstance(shape, dict):
        if "ellipsoid" in shape:
            return shape["ellipsoid"]
        for v in shape.values():
            e = _first_ellipsoid(v)
            if e:
                return e
    elif isinstance(shape, list):
        for v in shape:
            e = _first_ellipsoid(v)
            if e:
                return e
    return None


def _cavity_ellipsoids():
    try:
        shapes = json.load(open(os.path.join(HERE, "body.json")))["shapes"]
        thx = _first_ellipsoid(shapes["thoracic_cavity"])
        abd = _first_ellipsoid(shapes["abdominopelvic_cavity"])
        return [(thx["c"], thx["r"]), (abd["c"], abd["r"])]
    except (KeyError, IndexError, TypeError, OSError, ValueError):
        return [([0, -5, 1345], [118, 90, 175]), ([0, 12, 1085], [112, 80, 170])]


CAVITY = _cavity_ellipsoids()
RIB_GAP = 6.0


def cavity_section(z):
    """(A, B, yc): half-width, half-depth and AP centre of the cavity section at height z — a
    smooth maximum (p-norm) of the sections of the cavity ellipsoids, so the ribs do not jump
    where one ellipsoid takes over from the other."""
    secs = []
    for c, r in CAVITY:
        t = (z - c[2]) / r[2]
        f = math.sqrt(max(0.0, 1 - t * t))
        secs.append((r[0] * f, r[1] * f, c[1]))
    p = 8.0
    wa = [max(sc[0], 1e-3) ** p for sc in secs]
    A = sum(wa) ** (1 / p)
    B = sum(max(sc[1], 1e-3) ** p for sc in secs) ** (1 / p)
    yc = sum(w * sc[2] for w, sc in zip(wa, secs)) / sum(wa)
    return (max(A, 40.0), max(B, 30.0), yc)


def rib_path(i, zfun):
    """Dense centreline of right rib i: head, tubercle, then the cavity contour (+gap) from
    the rib angle (x = xc, behind the cavity) forward; zfun(f) gives the height along it."""
    T = L["T%d" % i]
    name = "T%d" % i
    bw, bd = interp_table(BODY_HW, name), interp_table(BODY_HD, name)
    dc = interp_table(CANAL, name)[0]
    tx, ty, tz, tr = interp_table(TRANSV, name)
    xc = 32.0 if i == 1 else 44.0  # rib angle, lateral to the transverse-process tip
    head = [bw + 2, T[1] - 0.55 * bd, T[2] + 4]
    tub = [tx - 2, T[1] - dc - ty + 14, T[2] + tz]  # in front of the transverse-process tip
    yP = tub[1] - 6
    pts = [head, tub]
    n = 300
    for k in range(n + 1):
        f = k / float(n)
        z = zfun(f)
        # floating ribs: one contour (at their lowest level) so they run out laterally
        A, B, yc = cavity_section(0.5 * (T[2] + Z_END[i - 1]) if i >= 11 else z)
        A, B = A + RIB_GAP, B + RIB_GAP
        ps0 = math.asin(min(1.0, xc / A))
        ps = ps0 + f * (math.pi - ps0)
        # posterior half: never in front of the rib angle (behind the transverse process tip),
        # where the cavity is shallower than the spine (lower thorax)
        Bp = max(B, (yc - yP) / math.cos(ps0))
        pts.append([A * math.sin(ps), yc - (Bp if ps < math.pi / 2 else B) * math.cos(ps), z])
    return pts, T


# drop profile exponent: the lower ribs keep their posterior parts parallel and fall mostly
# in front (costal margin)
RIB_P = [1.35] * 5 + [1.5, 1.6, 1.9, 2.0, 2.0, 1.4, 1.2]


def build_rib(i, s):
    T = L["T%d" % i]
    target = 10.0 * RIB_ARC_CM[i - 1] * s
    z0 = T[2] - 3
    zend = Z_END[i - 1]
    fend = 1.0
    for _ in range(30):
        zf = lambda f: z0 - (z0 - zend) * min(f / fend, 1.3) ** RIB_P[i - 1]
        pts, _ = rib_path(i, zf)
        acc = 0.0
        kend = len(pts) - 1
        for k in range(1, len(pts)):
            acc += dist(pts[k - 1], pts[k])
            if acc >= target:
                kend = k
                break
        fnew = (kend - 2) / float(len(pts) - 3)
        if abs(fnew - fend) < 0.003:
            break
        fend = 0.5 * (fend + fnew)
    return pts[:kend + 1], acc


def rib_points(path, i):
    """Pick <= 11 tube points along the dense path."""
    head, tub = path[0], path[1]
    rest = path[2:]
    m = 8 if i not in (1, 12) else 5
    sel = [rest[int(round(j * (len(rest) - 1) / float(m)))] for j in range(m + 1)]
    r = RIB_R[i - 1]
    pts = [head + [r * 0.9], tub + [r]] + [p + [r] for p in sel]
    pts[-1][3] = r * 0.9 if i >= 11 else r
    return pts


def fit_scale():
    """s such that rib 6 ends 65 mm off the midline (its costochondral junction)."""
    lo, hi = 0.5, 1.4
    for _ in range(40):
        s = 0.5 * (lo + hi)
        p, _ = build_rib(6, s)
        if p[-1][0] > 65:  # still lateral: too short
            lo = s
        else:
            hi = s
    return 0.5 * (lo + hi)


RIB_S = fit_scale()
# Ribs 1-3 of the table do not reach the front of this cage (the reference cavity is roomier
# at the apex than a real thoracic inlet): they are lengthened until their anterior end lies
# X_FRONT mm off the midline, a typical costochondral junction (approx.).
X_FRONT = {1: 48, 2: 52, 3: 58}
# The floating ribs 11-12 of the table would run past the front of the narrower lower cage of
# the reference body; they are shortened to end at y <= Y_FLOAT (lateral / posterolateral).
Y_FLOAT = {11: -15, 12: -45}
RIB_M = {}
for i in range(1, 13):
    m = 1.0
    if i in X_FRONT:
        lo, hi = 1.0, 3.0
        p, _ = build_rib(i, RIB_S * lo)
        if not (p[-1][1] > 0 and p[-1][0] <= X_FRONT[i]):
            for _ in range(30):
                mm = 0.5 * (lo + hi)
                p, _ = build_rib(i, RIB_S * mm)
                if p[-1][1] > 0 and p[-1][0] <= X_FRONT[i]:
                    hi = mm
                else:
                    lo = mm
            m = hi
    if i in Y_FLOAT:  # floating ribs end behind the 10th costochondral junction
        lo, hi = 0.4, 1.0
        p, _ = build_rib(i, RIB_S)
        if p[-1][1] > Y_FLOAT[i]:
            for _ in range(30):
                mm = 0.5 * (lo + hi)
                p, _ = build_rib(i, RIB_S * mm)
                if p[-1][1] > Y_FLOAT[i]:
                    hi = mm
                else:
                    lo = mm
            m = lo
    RIB_M[i] = m
RIBS = {}
for i in range(1, 13):
    path, arc = build_rib(i, RIB_S * RIB_M[i])
    RIBS[i] = (path, arc)

rib_colors = ["#e9d3a8", "#dcc49a"]
for i in range(1, 13):
    path, arc = RIBS[i]
    pts = rib_points(path, i)
    right = tube(pts)
    left = tube([[-p[0], p[1], p[2], p[3]] for p in pts])
    col = rib_colors[i % 2]
    # ids: left 148..159, right 160..171; priorities 255..266 (ribs lose to vertebrae)
    S(147 + i, "rib_left_%d" % i, col, 254 + i, left, core="red_marrow", core_mm=1.4,
      abbrev="RL%d" % i)
    S(159 + i, "rib_right_%d" % i, col, 254 + i, right, core="red_marrow", core_mm=1.4,
      abbrev="RR%d" % i)

# ---- sternum -------------------------------------------------------------------------------
man_up = norm([0, notch[1] - y_angle, notch[2] - z_angle])
bod_up = norm([0, y_angle - xiph[1], z_angle - xiph[2]])
man_c = [0, 0.5 * (notch[1] + y_angle), 0.5 * (notch[2] + z_angle)]
bod_c = [0, 0.5 * (y_angle + xiph[1]), 0.5 * (z_angle + xiph[2])]
# manubrium ~55 mm wide above, ~30 mm below; body 25-35 mm wide, 10-15 mm thick (approx.)
manubrium = sq(man_c, [25, 8, 0.5 * dist([0, notch[1], notch[2]], [0, y_angle, z_angle]) + 1],
               [0.5, 0.6], [tilt_of(man_up), 0, 0])
sbody = sq(bod_c, [15, 6.5, 0.5 * dist([0, y_angle, z_angle], [0, xiph[1], xiph[2]]) + 1],
           [0.5, 0.6], [tilt_of(bod_up), 0, 0])
xiphoid = cap([0, xiph[1], xiph[2] - 2], [0, xiph[1] + 3, xiph[2] - 36], [7, 4])
S(172, "sternum", "#eedcaa", 248, union(manubrium, sbody, xiphoid), core="red_marrow",
  core_mm=1.5, abbrev="STE")

# ---- costal cartilages (one label, both sides) ---------------------------------------------
# Ribs 1-7 reach the sternum through their own cartilage; 8-10 join the cartilage above;
# 11-12 float (ANATOMY.md §2).


def sternum_half_width(z):
    return 25.0 if z > z_angle - 1 else 15.0  # the manubrium / body superquadrics below


def end_dir(path):
    return norm(sub(path[-1], path[-8]))


cart = []
CART = {}
for i in range(1, 11):
    path, _ = RIBS[i]
    e = path[-1]
    t = end_dir(path)
    r = 5.0 if i > 1 else 6.0
    p0 = e[:]  # starts at the rib's end with the rib's radius (no rim around the rib)
    p1 = add(e, mul(t, 10 if i < 8 else 12))
    if i <= 7:
        za = Z_ATT[i - 1]
        st = [sternum_half_width(za) + 2, sternum_y(za), za]
        mid = lerp(p1, st, 0.5)
        mid[2] = max(mid[2], 0.5 * (p1[2] + za) + 0.15 * (za - p1[2]))
        pts = [p0 + [0.8 * RIB_R[i - 1]], p1 + [r], mid + [r], st + [r]]
    else:
        above = CART[i - 1]
        j = lerp(above[1][:3], above[2][:3], 0.6)
        mid = lerp(p1, j, 0.5)
        mid[1] += 4
        pts = [p0 + [0.8 * RIB_R[i - 1]], p1 + [r], mid + [r * 0.9], j + [r * 0.8]]
    CART[i] = pts
    cart.append(tube(pts))
# The sternal ends of cartilages 1-7 are linked by a thin band along the lateral sternal border
# (the sternocostal joint capsules), so each side is one piece with the sternum between them.
# The label is two pieces, left and right, as the real cartilages are (they meet only through
# the sternum): a bridge in front of the xiphisternal junction that once joined them was lost
# to the sternum or the fat in thin chests (anatomy_validate at 2 mm: 5 of 200 subjects).
border = [[CART[i][-1][0], CART[i][-1][1], CART[i][-1][2], 3.5] for i in range(1, 8)]
cart.append(tube(border))
cart_right = union(*cart)
S(173, "costal_cartilages", "#9fd3c0", 270, union(cart_right, {"mirror_x": cart_right}),
  tissue="cartilage", abbrev="CC", connected=False)


def cross(a, b):
    return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]


def tri_plate(a, b, c, t, margin=3.0):
    """Flat triangular bone plate through a, b, c: thickness 2t, edges `margin` mm outside the
    triangle (a slab cut by three edge half-spaces, bounded by a sphere for fast evaluation)."""
    n = norm(cross(sub(b, a), sub(c, a)))
    ctr = [(a[k] + b[k] + c[k]) / 3.0 for k in range(3)]
    parts = [half(add(ctr, mul(n, t)), n), half(sub(ctr, mul(n, t)), mul(n, -1))]
    for p, q, o in ((a, b, c), (b, c, a), (c, a, b)):
        en = norm(cross(sub(q, p), n))
        if sum(en[k] * (o[k] - p[k]) for k in range(3)) > 0:
            en = mul(en, -1)
        parts.append(half(add(p, mul(en, margin)), en))
    rad = max(dist(ctr, a), dist(ctr, b), dist(ctr, c)) + margin + t
    parts.append(sphere(ctr, rad))
    return inter(*parts)


# ---- shoulder girdle -----------------------------------------------------------------------
sh, acr = L["shoulder_right"], L["acromion_right"]
# clavicle: S-curve from the sternoclavicular joint (beside the notch) to the acromion;
# length ~150-170 mm (approx.), cross-section ~12 mm
clav = tube([[notch[0] + 20, notch[1] - 4, notch[2] + 3, 7.5], [58, notch[1] - 6, notch[2] + 8, 6.5],
             [105, notch[1] - 32, notch[2] + 12, 6], [148, acr[1] + 10, acr[2] + 10, 6],
             [acr[0] - 18, acr[1] - 2, acr[2] + 4, 6.5]])
S(174, "clavicula", "#f2e2b0", 219, clav, core="yellow_marrow", core_mm=2.5, mirror=True,
  abbrev="CLA")

# scapula: a triangular plate on the back of ribs 2-7 (supine: lying flat), the spine of the
# scapula ending in the acromion over the humeral head, the glenoid facing the head laterally
# and a coracoid process forward under the clavicle (approx. shapes)
def cage_back(x, z, out):
    """Point on the posterior cage surface (rib centreline contour) at lateral x, height z,
    pushed `out` mm outwards (normal of the contour ellipse)."""
    A, B, yc = cavity_section(z)
    A, B = A + RIB_GAP, B + RIB_GAP
    x = min(x, 0.95 * A)
    lev = min(("T%d" % k for k in range(1, 13)), key=lambda n_: abs(L[n_][2] - z))
    yP = L[lev][1] - interp_table(CANAL, lev)[0] - interp_table(TRANSV, lev)[1] + 8
    B = max(B, (yc - yP) / math.cos(math.asin(min(1.0, 44.0 / A))))
    y = yc - B * math.sqrt(1 - (x / A) ** 2)
    n = norm([x / A ** 2, (y - yc) / B ** 2, 0])
    return add([x, y, z], mul(n, out))


# scapula lies on the posterolateral cage from rib 2 to rib 7 (superior angle ~T2, inferior
# angle ~T7), separated from the ribs by subscapularis (~12 mm, approx.)
sup_ang = cage_back(68, L["T2"][2], 12)   # superior angle
inf_ang = cage_back(88, L["T7"][2], 12)   # inferior angle
glen = [sh[0] - 27, sh[1] - 2, sh[2]]  # glenoid fossa, 27 mm medial of the head centre
lat = [glen[0] - 14, glen[1] - 12, glen[2] - 12]  # neck of the scapula
blade = tri_plate(sup_ang, inf_ang, lat, 3.5)
sp0 = add(lerp(sup_ang, inf_ang, 0.2), [0, -4, 0])
sp_mid = lerp(sp0, [acr[0] - 10, acr[1] - 14, acr[2] + 4], 0.5)
spine_s = tube([sp0 + [4], add(sp_mid, [0, -6, 0]) + [6], [acr[0] - 10, acr[1] - 14, acr[2] + 4, 6]])
acromion = ell([acr[0] - 8, acr[1] - 6, acr[2] + 6], [16, 20, 6])
glenoid = union(ell(glen, [7, 15, 20]), cap(lat, glen, [9, 8]))  # fossa and scapular neck
coracoid = cap([glen[0] - 8, glen[1] + 8, glen[2] + 18], [glen[0] - 4, glen[1] + 38, glen[2] + 10], 5)
S(176, "scapula", "#e6d4a0", 222, union(blade, spine_s, acromion, glenoid, coracoid),
  core="red_marrow", core_mm=1.5, mirror=True, abbrev="SCA")

# ---- arm (hanging at the side, palm facing the thigh: thumb forward) -----------------------
el, wr, hd = L["elbow_right"], L["wrist_right"], L["hand_right"]
# humerus ~0.195 H = 341 mm [u] (head top to trochlea); head radius ~23 mm; midshaft ~22 mm
# diameter with a 3-5 mm cortex (ANATOMY.md §2)
ax = norm(sub(el, sh))
hum = union(sphere(sh, 23),
            cap(add(sh, [4, 2, -18]), add(el, mul(ax, -32)), [13, 10]),
            cap(add(el, mul(ax, -60)), add(el, [0, 0, 4]), [11, 15]),
            ell(add(el, [0, -3, 4]), [30, 14, 12]))
S(178, "humerus", "#f4e4b8", 224, hum, core="yellow_marrow", core_mm=3.5, mirror=True,
  abbrev="HUM")
# forearm in mid-pronation: radius anterior (thumb side), ulna posterior; ulna with the
# olecranon behind the elbow, radius head lateral at the capitulum
ulna = union(cap(add(el, [-6, -20, 14]), add(el, [-6, -10, -25]), [8, 9]),
             cap(add(el, [-6, -10, -25]), add(wr, [0, -12, 6]), [8, 5.5]),
             sphere(add(wr, [0, -12, 4]), 6.5))
radius = union(cap(add(el, [14, 0, -10]), add(el, [12, 4, -45]), [10, 6]),
               cap(add(el, [12, 4, -45]), add(wr, [0, 9, 10]), [6, 9]),
               ell(add(wr, [0, 8, 8]), [11, 14, 9]))
S(180, "ulna", "#ecd8a4", 226, ulna, core="yellow_marrow", core_mm=2.5, mirror=True, abbrev="ULN")
S(182, "radius", "#f6e8c0", 225, radius, core="yellow_marrow", core_mm=2.5, mirror=True,
  abbrev="RAD")
# hand (simplified, no separate fingers): carpus + metacarpal block and a finger plate, thin
# across the palm (x), wide front-to-back (y), fingertips at ~0.377 H (§1.1)
carp = sq(add(wr, [0, 3, -22]), [10, 22, 14], [0.6, 0.6])
meta = sq([hd[0], hd[1], 0.5 * (wr[2] - 30 + hd[2])], [8, 28, 0.5 * (wr[2] - 30 - hd[2]) + 4],
          [0.5, 0.5])
fing = sq([hd[0] - 1, hd[1] - 2, hd[2] - 38], [6, 27, 36], [0.6, 0.5])
S(184, "hand", "#f8ecc8", 227, union(carp, meta, fing), core="yellow_marrow", core_mm=2,
  mirror=True, abbrev="HND")

# ---- hip bone (ilium, acetabulum, pubis, ischium) ------------------------------------------
hip, crest, asis, sym = L["hip_right"], L["iliac_crest_right"], L["asis_right"], L["pubic_symphysis"]
psis = [44, -80, s1[2] - 4]  # posterior superior iliac spine (approx., over S2)
# ilium: an anterior plate (iliac fossa / gluteal surface) through the crest top, the ASIS
# and the acetabular roof, and a posterior plate through the crest, the PSIS and the greater
# sciatic notch, rimmed by the crest tube (curved wing approximated by two flat plates)
c_top = [crest[0] - 4, crest[1], crest[2] - 4]
a_roof = add(hip, [8, -2, 28])
c_post = [crest[0] - 28, crest[1] - 40, crest[2] - 8]
notch = [66, -50, hip[2] + 24]
wing = union(tri_plate(c_top, asis, a_roof, 4.5), tri_plate(c_post, psis, notch, 5.0),
             tri_plate(c_top, c_post, a_roof, 4.5), tri_plate(c_post, notch, a_roof, 5.0))
wc = [(crest[k] + asis[k] + psis[k]) / 3.0 for k in range(3)]
crest_t = tube([add(psis, [0, 0, 0]) + [7], [crest[0] - 30, crest[1] - 42, crest[2] - 6, 6.5],
                [crest[0] - 4, crest[1], crest[2] - 4, 6.5],
                [crest[0] - 6, crest[1] + 48, crest[2] - 22, 6], asis[:] + [6.5]])
# ilium body from the sacroiliac joint and the wing down to the acetabulum
il_body = union(cap([52, -62, s1[2] - 18], add(hip, [2, -8, 26]), [14, 16]),
                cap(add(wc, [0, 0, -10]), add(hip, [6, 4, 26]), [8, 15]))
# acetabulum: cup around the femoral head (radius ~25 mm), opening lateral, down and forward
# (inclination ~45 deg, anteversion ~20 deg; approx.)
op = norm([0.66, 0.26, -0.66])
acet = inter(diff(sphere(hip, 37), sphere(hip, 26)), half(add(hip, mul(op, 6)), op))
# pubis + ischium: a closed ring around the obturator foramen, meeting its mirror image at the
# symphysis (2 mm each side for the fibrocartilage)
ring = tube([add(hip, [-20, 22, -16]) + [10], [28, sym[1] + 2, sym[2] + 12, 8],
             [7, sym[1], sym[2] + 2, 9], [9, sym[1] - 12, sym[2] - 24, 7],
             [38, 22, sym[2] - 42, 7], [60, -12, sym[2] - 40, 11],
             add(hip, [-14, -22, -34]) + [12]], closed=True)
# The hip bone stays 3 mm under the skin: in a very thin man (BMI 15, 186 cm, 52 kg: the muscle
# envelope 0.84 of the reference's girth, the skeleton not narrower) the crest's tube reached
# through the flank's muscle to the skin, and clipped at the skin's inner face it left a strip
# a voxel thick that the skin's sampling cut into pieces (anatomy_validate at 2 mm: both hip
# bones in two pieces, the crest's tip of 14-17 voxels, man 77).
S(186, "hip", "#e4cc94", 235, union(wing, crest_t, il_body, acet, ring), core="red_marrow",
  core_mm=2, mirror=True, abbrev="HIP", below_skin=3.0)

# ---- leg -----------------------------------------------------------------------------------
gt, kn, an, heel, toe = (L["greater_trochanter_right"], L["knee_right"], L["ankle_right"],
                         L["heel_right"], L["toe_right"])
# femur: max length 0.267 H = 467 mm [FE]; head radius ~24 mm, neck-shaft angle ~125 deg;
# shaft ~27 mm diameter with a 5-8 mm cortex (ANATOMY.md §2); condyles ~80 mm wide
neck_end = [gt[0] - 16, gt[1] - 4, gt[2] - 6]
fem = union(sphere(hip, 24),
            cap(add(hip, [10, -2, -4]), neck_end, [16, 17]),
            ell([gt[0] - 10, gt[1] - 8, gt[2] + 2], [16, 22, 26]),
            cap([gt[0] - 18, gt[1] - 2, gt[2] - 30], [kn[0] + 4, kn[1] - 4, kn[2] + 90], [15, 13]),
            cap([kn[0] + 4, kn[1] - 4, kn[2] + 90], [kn[0], kn[1] - 6, kn[2] + 30], [13, 22]),
            ell([kn[0], kn[1] - 8, kn[2] + 22], [38, 28, 21]))
S(188, "femur", "#f4e0b0", 228, fem, core="yellow_marrow", core_mm=5, mirror=True, abbrev="FEM")
S(190, "patella", "#fff0c8", 229, ell([kn[0] + 2, kn[1] + 34, kn[2] + 22], [22, 9, 23]),
  core="red_marrow", core_mm=2, mirror=True, abbrev="PAT")
# tibia ~0.22 H = 385 mm [u]; plateau ~75 mm wide; shaft cortex 4-6 mm; medial malleolus
tib_top = [kn[0] - 2, kn[1] - 4, kn[2] - 16]
tib = union(ell(tib_top, [36, 24, 15]),
            cap(add(tib_top, [0, 0, -8]), [an[0] - 3, an[1] + 4, an[2] + 70], [17, 11]),
            cap([an[0] - 3, an[1] + 4, an[2] + 70], [an[0] - 2, an[1] + 2, an[2] + 16], [11, 16]),
            cap([an[0] - 12, an[1] + 2, an[2] + 14], [an[0] - 15, an[1] + 2, an[2] - 8], [8, 6]))
S(192, "tibia", "#f0dcac", 231, tib, core="yellow_marrow", core_mm=4, mirror=True, abbrev="TIB")
# fibula: lateral and behind the tibia, head below the lateral condyle, lateral malleolus
fib = union(sphere([kn[0] + 34, kn[1] - 20, kn[2] - 38], 10),
            cap([kn[0] + 34, kn[1] - 20, kn[2] - 38], [an[0] + 24, an[1] - 8, an[2] + 40], [7, 6]),
            cap([an[0] + 24, an[1] - 8, an[2] + 40], [an[0] + 24, an[1] - 10, an[2] - 14], [7, 8]))
S(194, "fibula", "#e8d0a0", 232, fib, core="yellow_marrow", core_mm=2, mirror=True, abbrev="FIB")
# foot (simplified, supine: toes up = anterior): talus under the tibia, calcaneus to the heel,
# midfoot and metatarsals sloping to the toes; foot length 0.152 H (§1.2)
talus = ell([an[0], an[1] + 8, an[2] - 14], [18, 26, 13])
calc = ell([heel[0], heel[1] + 22, heel[2] + 14], [17, 36, 20], [-15, 0, 0])
mid = sq([an[0] + 3, an[1] + 55, an[2] - 30], [27, 28, 16], [0.6, 0.6], [-18, 0, 0])
meta_f = sq([toe[0] - 4, toe[1] - 85, 34], [32, 45, 10], [0.5, 0.6], [-16, 0, 0])
toes = sq([toe[0], toe[1] - 25, toe[2] + 2], [30, 22, 7], [0.6, 0.6], [-8, 0, 0])
S(196, "foot", "#f2e6c2", 233, union(talus, calc, mid, meta_f, toes), core="yellow_marrow",
  core_mm=2, mirror=True, abbrev="FOT")

# ---- skull and mandible --------------------------------------------------------------------
# cranium: a 7 mm shell around the cranial cavity of body.json (so the brain always fits),
# with the diploe as red marrow; face: maxilla and zygomatic arches in front of / beside the
# eyes (orbits left open: the eyes are in the nervous/head document with higher precedence)
sc_ = L["skull_center"]
eye = L["eye_right"]
# skull base: nothing of the cranium in a block over the upper neck below ~10 mm above the
# atlas (the posterior fossa floor), so the cranium never wraps the cervical spine
c1 = L["C1"]
neck_block = {"box": {"c": V([0, c1[1] - 10, c1[2] - 40]), "h": [58, 62, 50]}}
cranium = diff({"offset": {"d": 7, "of": {"ref": "cranial_cavity"}}}, {"ref": "cranial_cavity"},
               neck_block)
# (tall enough to meet the cranium's floor under the orbits: one skull)
maxilla = ell([0, eye[1] - 18, eye[2] - 44], [38, 26, 36])
zyg = union(cap([eye[0] + 14, eye[1] - 16, eye[2] - 22], [eye[0] + 34, eye[1] - 62, eye[2] - 18], 5),
            cap([-eye[0] - 14, eye[1] - 16, eye[2] - 22], [-eye[0] - 34, eye[1] - 62, eye[2] - 18], 5))
orb_floor = union(ell([eye[0], eye[1] - 6, eye[2] - 18], [16, 14, 5]),
                  ell([-eye[0], eye[1] - 6, eye[2] - 18], [16, 14, 5]))
# nasal / ethmoid bridge between the orbits joins the face to the frontal bone
nasal = cap([0, eye[1] - 16, eye[2] - 40], [0, eye[1] - 14, eye[2] + 22], 9)
# foramen magnum: the cranium is opened above the atlas for the brainstem and cord
fmag = cap([0, c1[1] - 20, c1[2] - 10], [0, c1[1] - 14, c1[2] + 45], 17)
S(198, "skull", "#f6eed2", 247, diff(union(cranium, maxilla, zyg, orb_floor, nasal), fmag),
  core="red_marrow", core_mm=2.5, abbrev="SKL")
ch = L["chin"]
# mandible: U-shaped body from angle to angle through the chin, rami up to the condyles at the
# temporomandibular joints in front of the ears
cond = [50, -2, eye[2] - 44]
angle = [48, 5, ch[2] + 30]
mand = union(tube([[cond[0], cond[1], cond[2], 6], [angle[0], angle[1] - 2, angle[2] + 10, 7],
                   [angle[0] - 6, angle[1] + 16, angle[2] - 2, 8],
                   [28, ch[1] - 22, ch[2] + 14, 8], [0, ch[1] - 10, ch[2] + 14, 9],
                   [-28, ch[1] - 22, ch[2] + 14, 8],
                   [-angle[0] + 6, angle[1] + 16, angle[2] - 2, 8],
                   [-angle[0], angle[1] - 2, angle[2] + 10, 7], [-cond[0], cond[1], cond[2], 6]]))
S(199, "mandible", "#fbf2da", 249, mand, core="red_marrow", core_mm=2.5, abbrev="MAN")

doc = {"format": "synthbody-anatomy", "version": 1,
       "about": "Skeleton: vertebrae C1-L5, sacrum, coccyx, discs, ribs, costal cartilages, "
                "sternum, shoulder girdle, limb bones, hip bones, skull, mandible. Generated by "
                "gen_skeleton.py.",
       "structures": structures}
with open(os.path.join(HERE, "skeleton.json"), "w") as f:
    json.dump(doc, f, indent=1)

if __name__ == "__main__":
    n = sum(2 if s.get("mirror") else 1 for s in structures)
    print(len(structures), "structures,", n, "labels; rib scale s = %.3f" % RIB_S)
    for i in range(1, 13):
        p, arc = RIBS[i]
        print("rib %2d: arc %.0f mm (table %.0f x s x %.2f), end (%.0f, %.0f, %.0f)" %
              (i, arc, 10 * RIB_ARC_CM[i - 1], RIB_M[i], p[-1][0], p[-1][1], p[-1][2]))
    # consecutive ribs must not touch (each rib one connected piece)
    for i in range(1, 12):
        pa, pb = RIBS[i][0][::3], RIBS[i + 1][0][::3]
        dmin = min(dist(a, b) for a in pa for b in pb)
        if dmin < RIB_R[i - 1] + RIB_R[i] + 3:
            print("WARNING: ribs %d and %d come within %.1f mm" % (i, i + 1, dmin))
