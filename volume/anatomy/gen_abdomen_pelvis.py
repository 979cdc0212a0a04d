#!/usr/bin/python3
"""Authoring tool: writes volume/anatomy/abdomen_pelvis.json — the digestive, urinary,
reproductive and endocrine organs below the diaphragm, and the female breasts.
Not run at build time; its output is committed. Run from the repository root:
    /usr/bin/python3 volume/anatomy/gen_abdomen_pelvis.py

Label ids 250–299, priorities 300–399 (lower number wins an overlap): nested parts win over
what contains them (renal pelvis < medulla < cortex; gallbladder < liver), and the solid organs
win over the hollow bowel, which in turn wins over the cavity fillers (visceral fat, 600s).

Positions come from the reference landmarks (landmarks.json: lean man 1750 mm, supine, RAS mm,
x = subject's right) and vertebral levels from ../shared/reference/ANATOMY.md §3; sizes from
§4 and reference volumes from ICRP 89 masses / densities, §5. The engine rescales every
structure that has `volume_ml` to that volume (× body-surface-area ratio), so the shapes here
fix form and position, the volumes fix size.

Left room for the neighbours defined elsewhere: the abdominal aorta just left-anterior of the
lumbar vertebral bodies and the IVC right of it (vessels rank 400–499, below organs, so every
organ that could reach them has the vessel channel cut out: `VESSEL_KEEPOUT`), the psoas
beside the vertebral bodies (clipped by `within: abdominopelvic_cavity`), the oesophagus
ending at the cardia.
"""
import json
import math
import os

from authoring import norm

HERE = os.path.dirname(os.path.abspath(__file__))
LM = json.load(open(os.path.join(HERE, "landmarks.json")))["landmarks"]


def lm(name):
    return LM[name]


def zof(v):
    return lm(v)[2]


def yof(v):
    return lm(v)[1]


def r1(v):
    return [a if isinstance(a, str) else round(float(a), 1) for a in v]


# ---- shape helpers (absolute reference coordinates unless an anchor is given) --------------
def ell(c, r, rot=None):
    d = {"c": r1(c), "r": r1(r)}
    if rot and any(rot):
        d["rot"] = r1(rot)
    return {"ellipsoid": d}


def sq(c, r, e, rot=None):
    d = {"c": r1(c), "r": r1(r), "e": list(e)}
    if rot and any(rot):
        d["rot"] = r1(rot)
    return {"superquadric": d}


def sph(c, r):
    return {"sphere": {"c": r1(c), "r": round(r, 1)}}


def cap(a, b, r):
    return {"capsule": {"a": r1(a), "b": r1(b), "r": r if not isinstance(r, (list, tuple)) else list(r)}}


def tube(points, closed=False):
    assert 2 <= len(points) <= 12, len(points)
    d = {"points": [r1(p) for p in points]}
    if closed:
        d["closed"] = True
    return {"tube": d}


def half(p, n):
    return {"halfspace": {"p": r1(p), "n": [round(a, 4) for a in n]}}


def union(*s):
    return {"union": list(s)}


def sunion(k, *s):
    return {"smooth_union": {"k": k, "of": list(s)}}


def inter(*s):
    return {"intersect": list(s)}


def diff(a, *b):
    return {"difference": [a] + list(b)}


def offset(d, s):
    return {"offset": {"d": d, "of": s}}


def rotmat(deg):
    """R = Rz Ry Rx as the engine (anatomy_load.c set_rotation): local -> world."""
    a, b, g = [math.radians(t) for t in deg]
    ca, sa, cb, sb, cg, sg = math.cos(a), math.sin(a), math.cos(b), math.sin(b), math.cos(g), math.sin(g)
    return [[cg * cb, cg * sb * sa - sg * ca, cg * sb * ca + sg * sa],
            [sg * cb, sg * sb * sa + cg * ca, sg * sb * ca - cg * sa],
            [-sb, cb * sa, cb * ca]]


def place(origin, R, v):
    """World point of local vector v in a frame at origin with rotation R."""
    return [origin[i] + sum(R[i][j] * v[j] for j in range(3)) for i in range(3)]


# ---- neighbours: where the great vessels run (owned by the thorax/vessels part) -----------
# vertebral body half-depth ~17 mm (bodies ~45 mm wide, ~34 mm deep); the aorta lies on the
# front of the bodies slightly left, 2.5 cm at the diaphragm → 1.8 cm at the bifurcation
# (ANATOMY.md §4), bifurcating at L4 (§3); the IVC right of it, < 28 mm (§4).
def vfront(v):
    return yof(v) + 17.0


# the paths below follow gen_thorax.py (aorta from T10 down, IVC, portal/splenic vein, common
# iliac arteries and veins) so the channels match the vessels that fill them
def y_(v):
    return yof(v)


_bif = [-6, y_("L4") + 31, zof("L4")]
_ivc0 = [18, y_("L4") + 27, (zof("L4") + zof("L5")) / 2]
_brim = zof("S1") + 8
AORTA = [[-10, -44, zof("T10"), 12.5], [-5, y_("T12") + 23, zof("T12"), 12],
         [-3, y_("L2") + 27, zof("L2"), 10.5], _bif + [9]]
IVC = [_ivc0 + [11], [22, y_("L2") + 32, zof("L2"), 11.5], [24, y_("T12") + 42, zof("T12"), 12],
       [30, 2, zof("T10"), 12.5], [35, 10, zof("T8") + 2 - 22, 13]]
PORTAL = [[-90, -20, zof("L1") + 2, 4.5], [-62, -14, zof("L1"), 4.5], [-30, -1, zof("L1") - 6, 5],
          [10, 10, (zof("L1") + zof("L2")) / 2, 6.5], [32, 12, zof("L1") + 10, 6.5],
          [50, 10, zof("T12"), 6]]
ILIAC = [[_bif + [8], [30, y_("L5") + 44, zof("L5") - 5, 6.5], [58, 10, _brim - 12, 6]],
         [_bif + [8], [-38, y_("L5") + 44, zof("L5") - 5, 6.5], [-62, 8, _brim - 12, 6]],
         [_ivc0 + [10], [40, y_("L5") + 34, zof("L5") - 12, 8], [62, 2, _brim - 18, 7.5]],
         [_ivc0 + [10], [-12, y_("L5") + 34, zof("L5") - 2, 8], [-44, y_("L5") + 36, zof("L5") - 16, 8],
          [-66, 0, _brim - 18, 7.5]]]


def grown(path, margin):
    """The tube through path's points ([x, y, z, r]) with every radius grown by margin mm."""
    return tube([p[:3] + [p[3] + margin] for p in path])


def keepout(margin, portal=True, iliac=False):
    """The great-vessel channels grown by margin mm."""
    paths = [AORTA, IVC] + ([PORTAL] if portal else []) + (ILIAC if iliac else [])
    return union(*[grown(path, margin) for path in paths])


VESSEL_KEEPOUT = keepout(2.0)
PELVIC_KEEPOUT = keepout(2.0, iliac=True)

S = []  # structures

# (men, women): ICRP volume / mean labelled volume measured with the engine's anatomy_validate
# at 2 mm (the shape loses voxels to bones, to organs that win overlaps, to the cavity clip and
# to the random shifts; women more, their cavity being narrower): volume_ml is the ICRP value
# times this so that the labelled volume meets ICRP on average. Measured against body.json as
# of 2026-11-24 05:40 (cavities 6 mm inside the lean envelope); re-measure when the body
# changes.
# Re-measured 2026-11-24 09:05 after the body-composition calibration (anatomy_validate, 50
# subjects per sex at 2 mm: liver -6.2 % men / -18.6 % women, spleen +17.4 / +18.0 % with the
# factors before): liver (1.2, 1.25) -> (1.27, 1.58), spleen (1.5, 1.75) -> (1.28, 1.49).
# 2026-11-24 18:50: the liver fills its space ("liver_space", volume_clipped: the engine solves
# its size per subject so that its volume inside the space meets the target), so its factor
# only covers what the stomach, colon, pancreas and bones take from it (14 + 14 subjects:
# liver -19.6 % women with the old shape and factor 1.58; +8.3 % men / +3.4 % women with 1.1 /
# 1.12 and the new space) -> (1.04, 1.11); the duodenum now wins over the pancreas (its bulb
# was cut off in 35 % of women), which costs the pancreas ~12 % -> pancreas 1.1; kidney men
# 1.03 -> 0.93 (+13.8 % in 82 men).
VOL_FIX = {"liver": (1.04, 1.11), "spleen": (1.28, 1.49), "pancreas": (1.1, 1.1),
           "stomach": (1.0, 1.12), "kidney": (0.93, 0.94), "urinary_bladder": (0.915, 0.91),
           "gallbladder": (1.1, 1.1), "adrenal": (1.0, 1.0)}


def vfix(name, ml):
    return [round(ml[0] * VOL_FIX[name][0], 1), round(ml[1] * VOL_FIX[name][1], 1)]


def add(**kw):
    d = {}
    for k in ["id", "name", "abbrev", "group", "tissue", "color", "priority", "sex", "mirror",
              "anchor", "volume_ml", "volume_clipped", "cv", "jitter_mm", "size_group", "within", "core",
              "shape"]:
        if k in kw and kw[k] is not None:
            d[k] = kw[k]
    S.append(d)


CAV = "abdominopelvic_cavity"

# ============================================================================================
# Liver — ICRP 89 1800/1400 g / 1.05 → 1710/1330 ml (ANATOMY.md §5). Dome under the right
# diaphragm dome (landmark diaphragm_dome_right, T9; liver dome ≈ T8–T9, §3), lower border
# from the tip of the right 10th rib across to the left (§3 [EL]); MCL craniocaudal ≈ 14.5 cm
# (§4 [KR]). Right lobe = a full ellipsoid cut by an oblique plane (the visceral surface, higher
# posteriorly over the right kidney), left lobe = a flat wedge crossing the midline in front of
# the stomach; cut-outs for the IVC groove, the gallbladder fossa and the right kidney.
# ============================================================================================
dome_r = lm("diaphragm_dome_right")
Z_T10, Z_T12, Z_L1, Z_L2, Z_L3 = zof("T10"), zof("T12"), zof("L1"), zof("L2"), zof("L3")

# right kidney and gallbladder geometry is needed by the liver: define it first
# ---- kidneys (ANATOMY.md §3: left T12–L3, right ~2.5 cm lower, hila L1–L2 ~5 cm off the
# midline, upper poles nearer the midline; §4: length 11 cm, width 4–5, AP 2.5–4 cm;
# Korean-men volumes 129/137 ml; ICRP 89 both 310/275 g / 1.05 → 148/131 ml each, §5)
KID = {}
for side, sg in (("right", 1.0), ("left", -1.0)):
    zc = (Z_L1 + Z_L2) / 2 - (12.0 if side == "right" else -10.0)  # hilum L1–L2; right lower
    c = [sg * 64.0, yof("L1") + 6.0, zc]  # inside body.json's cavity (posterior wall y ≈ -58)
    # long axis: upper pole 15° medial, 18° posterior; hilum turned 22° to face forward
    rot = [18.0, -sg * 15.0, -sg * 22.0]
    KID[side] = dict(c=c, rot=rot, R=rotmat(rot), sg=sg)
KR = [27.0, 21.0, 56.0]  # semi-axes: width, AP, half-length (11.2 × 5.4 × 4.2 cm)


def kidney_outline(side, grow=0.0):
    k = KID[side]
    return ell(k["c"], [KR[0] + grow, KR[1] + grow, KR[2] + grow], k["rot"])


# gallbladder (§3: fundus at the tip of the right 9th costal cartilage; §4: 8–10 × 4–5 cm,
# wall ≤ 3 mm; ICRP 89 wall + contents 68/56 g ≈ 66/54 ml): a pear from the fundus below the
# anterior liver edge up and back to the neck at the porta hepatis
GB_FUNDUS = [62.0, 56.0, Z_L1 + 6]
GB_NECK = [38.0, 22.0, Z_L1 + 46]
GB = cap(GB_FUNDUS, GB_NECK, [19.0, 11.0])

liver_right = ell([50, 0, dome_r[2] - 87], [52, 80, 88])  # dome just under the T9 dome
# visceral surface: a plane through (100, 30, 1150) (lowest point, at the right costal margin),
# (0, 60, 1205) (anterior midline, 3 cm below the xiphoid) and (50, -40, 1175) (posterior);
# the right kidney's impression is cut out separately
Bx, By = -0.541, 0.029
z0 = 1205 - 60 * By  # plane z = z0 + Bx x + By y
liver_cut = half([0, 0, z0], [Bx, By, -1.0])  # inside: z >= z0 + Bx x + By y
liver_left = ell([-12, 40, zof("T10") - 38], [62, 36, 30], [0, 0, -12])
liver_caudate = ell([16, -8, Z_T12 + 4], [17, 16, 34])
# keep the liver off the duodenal bulb and the pancreatic head (they win overlaps and would
# cut off small liver pieces)
_yl1 = vfront("L1") + 12
liver_keepoff = union(ell([32, _yl1 + 32, Z_L2 + 4], [27, 23, 34]),
                      cap([22, _yl1 + 52, Z_L1 - 2], [46, _yl1 + 40, Z_L1 + 4], 20.0))
# The gallbladder's fossa and the right kidney's impression are the liver's own (they scale and
# move with it); the notch for the duodenal bulb and the pancreatic head (liver_keepoff) is cut
# from its space, where those lie (see LIVER_BOWEL_GAP). The liver fills its
# space: the cavity less the great vessels' channels, in the body's frame ("liver_space" in
# organ_spaces.json), so a larger liver does not engulf them; volume_ml is its volume inside
# that space (volume_clipped: solved per subject).
LIVER = diff(sunion(25.0, inter(liver_right, liver_cut), liver_left, liver_caudate),
             offset(2.0, GB), kidney_outline("right", 4.0))
# Nor does it reach behind the aorta or left of it there (the crura): the quadrant left of
# x = 8 and behind a plane 2 mm in front of the aorta (its front rises from y = -31.5 at T10 to
# y = 3.6 at L2). Without it a filled liver sent small pieces round the aorta to the spine
# (anatomy_validate: liver in two pieces in 9 of 56 women, 6 of 46 men).
_behind_aorta = inter(half([8, 0, 0], [1, 0, 0]), half([0, -29.5, zof("T10")], [0, 1, 0.279]))
# and its left lobe ends at x = -80 (the left midclavicular line): beyond it, a larger liver's
# tip ran on past the stomach and was cut off by it (3 of 56 women)
_left_of_lobe = half([-80, 0, 0], [1, 0, 0])
LIVER_SPACE = diff({"ref": CAV}, keepout(2.0), _behind_aorta, _left_of_lobe, liver_keepoff)
add(id=250, name="liver", abbrev="LIV", group="digestive", tissue="liver", color="#a0522d",
    priority=330, volume_ml=vfix("liver", [1714, 1333]), volume_clipped=True, cv=0.15, jitter_mm=4,
    within="liver_space", shape=LIVER)

add(id=251, name="gallbladder", abbrev="GB", group="digestive", tissue="bile", color="#4f9a3a",
    priority=312, volume_ml=vfix("gallbladder", [66, 54]), cv=0.3, jitter_mm=3, within=CAV, shape=GB)

# ============================================================================================
# Spleen — left, behind the stomach along ribs 9–11 posteriorly (§3), 12 × 7 × 5 cm (§4);
# ICRP 89 150/130 g / 1.05 → 143/124 ml (§5). Long axis along the 10th rib: from
# posterior-superior down and forward; the diaphragmatic surface convex against the ribs.
# ============================================================================================
SPLEEN = ell([-82, -18, Z_T12 - 6], [22, 30, 50], [10, 0, 25])
add(id=252, name="spleen", abbrev="SPL", group="digestive", tissue="spleen", color="#7b2d5b",
    priority=318, volume_ml=vfix("spleen", [142.9, 123.8]), cv=0.25, jitter_mm=4, within=CAV, shape=SPLEEN)

# ============================================================================================
# Pancreas — head at L2 right of the midline inside the duodenal C, neck at L1 in front of
# the portal confluence, body and tail rising to the splenic hilum at T12 (§3 [EL]);
# AP head 2.5, body/tail 2.0 cm, length 12–15 cm (§4); ICRP 89 140/120 g → 135/116 ml (§5).
# It lies in front of the IVC and aorta (channel cut out) and behind the stomach.
# ============================================================================================
yL1 = vfront("L1") + 12  # aorta centre at L1
P_HEAD = ell([32, yL1 + 32, Z_L2 + 4], [19, 15, 26])
P_BODY = tube([[30, yL1 + 30, Z_L1 - 8, 13], [8, yL1 + 36, Z_L1 + 2, 12],
               [-22, yL1 + 34, Z_L1 + 10, 12], [-50, yL1 + 18, Z_T12 - 8, 11],
               [-66, yL1 - 2, Z_T12 - 2, 10], [-72, yL1 - 10, Z_T12 + 2, 9]])
PANCREAS = sunion(10.0, P_HEAD, P_BODY)
# the channels are cut in the body's frame (pancreas_space), where the vessels are: cut from the
# pancreas's own shape they moved with its size and shift, and a large pancreas cut the portal
# vein (which loses to it) in two (anatomy_validate: woman 86)
PANCREAS_SPACE = diff({"ref": CAV}, VESSEL_KEEPOUT)
add(id=253, name="pancreas", abbrev="PAN", group="digestive", tissue="pancreas", color="#e8b04f",
    priority=314, volume_ml=vfix("pancreas", [135.3, 115.9]), cv=0.2, jitter_mm=3,
    within="pancreas_space", shape=PANCREAS)

# ============================================================================================
# Stomach — fundus under the left diaphragm dome, body on the left, antrum crossing to the
# pylorus at L1 right of the midline (transpyloric plane, §3). ICRP 89 wall 150/140 g +
# contents 250/230 g (§4–5) → ≈ 395/365 ml as one label; rugal wall 5 mm, contents inside.
# ============================================================================================
dome_l = lm("diaphragm_dome_left")
PYLORUS = [22.0, yL1 + 52, Z_L1 - 2]
ANTRUM = [0, 62, Z_L2 + 6]   # the pyloric canal runs from here to the pylorus
STOMACH = diff(tube([[-48, -6, dome_l[2] - 20, 23], [-62, 8, dome_l[2] - 42, 29],
                     [-64, 32, Z_T12, 29], [-54, 50, Z_L1 - 12, 27], [-28, 60, Z_L2 - 6, 22],
                     ANTRUM + [18], PYLORUS + [8]]),
               VESSEL_KEEPOUT)
# The stomach ends at the pylorus, in the body's frame: grown with its random size about its own
# centre, its pyloric tip ran on past the duodenal bulb (which wins over it) and was cut off
# there (anatomy_validate at 2 mm: 4 of 200 subjects, pieces of 9-50 voxels). A cut of its own
# shape would change the reference volume that sizes it; this cuts the space instead.
_canal = norm([PYLORUS[i] - ANTRUM[i] for i in range(3)])
_beyond = {"halfspace": {"p": [round(PYLORUS[i] - 2 * _canal[i], 2) for i in range(3)],
                        "n": [round(-v, 4) for v in _canal]}}
STOMACH_SPACE = diff({"ref": CAV}, {"intersect": [_beyond, ell(PYLORUS, [30, 30, 30])]})
add(id=254, name="stomach", abbrev="STO", group="digestive", tissue="stomach_wall",
    color="#d98c8c", priority=322, volume_ml=vfix("stomach", [388.3, 359.2]), cv=0.25, jitter_mm=4,
    within="stomach_space",
    core={"tissue": "bowel_content", "depth_mm": 5}, shape=STOMACH)

# ============================================================================================
# Duodenum — C-loop around the pancreatic head: D1 from the pylorus (L1) back and right,
# D2 down along the head to L3, D3 across in front of the IVC and aorta at L3, D4 up to the
# duodenojejunal flexure left of L2 (§3); inner diameter ≈ 2.5 cm like the small bowel (§4).
# ============================================================================================
yL3 = vfront("L3") + 10
DUO_PTS = [PYLORUS + [12], [46, yL1 + 40, Z_L1 + 4, 13], [60, yL1 + 18, Z_L1 - 6, 13],
           [62, yL1 + 20, Z_L2 - 10, 13], [52, yL3 + 28, Z_L3 - 4, 13],
           [20, yL3 + 30, Z_L3 - 14, 12], [-14, yL3 + 30, Z_L3 - 10, 12],
           [-34, yL3 + 22, Z_L3 + 14, 12], [-36, vfront("L2") + 34, Z_L2 + 4, 12]]
DUODENUM = diff(tube(DUO_PTS), VESSEL_KEEPOUT)
# It wins over the pancreas (313 < 314): the pancreatic head grows with the pancreas's random size
# about the pancreas's centre, far to the left, so it moves into the C-loop; losing, the bulb was
# cut off in 35 of 100 women (anatomy_validate at 2 mm).
add(id=255, name="duodenum", abbrev="DUO", group="digestive", tissue="bowel_wall",
    color="#c7a26b", priority=313, jitter_mm=2, within=CAV,
    core={"tissue": "bowel_content", "depth_mm": 3}, shape=DUODENUM)

# ============================================================================================
# Colon — inner diameter 4.8 cm (§4 [HF]), wall < 3 mm; caecum in the right iliac fossa,
# ascending on the right flank, hepatic flexure under the liver, transverse hanging across
# at ~L3, splenic flexure high under the spleen, descending on the left flank, sigmoid loop
# into the pelvis, rectum from S3 down to the anorectal junction behind the bladder.
# ============================================================================================
asis = lm("asis_right")
C_HEP = [88.0, 4.0, Z_L2 + 16, 22]
C_SPL = [-86.0, 8.0, Z_L1 - 6, 20]       # in front of the spleen's lower pole and the left kidney
ASC_PTS = [[66, 46, asis[2] - 6, 28], [84, 24, asis[2] + 30, 24], [88, -2, Z_L3 - 10, 23],
           [88, -4, Z_L3 + 22, 22], C_HEP]
ASC = tube(ASC_PTS)
# at each junction the part that loses the overlap (higher priority number) starts or ends
# thinner, inside the winner, so that no crescent of it is left cut off
TRANS_PTS = [C_HEP[:3] + [15], [70, 44, Z_L2 - 10, 21], [36, 62, Z_L3 - 14, 21],
             [-4, 66, Z_L3 - 20, 21], [-40, 60, Z_L3 - 8, 21], [-70, 36, Z_L3 + 14, 20], C_SPL]
TRANS = tube(TRANS_PTS)
# descending colon on the left flank, ending in front of the left iliac vessels
DESC = tube([C_SPL[:3] + [13], [-94, -12, Z_L2 - 10, 19], [-94, -14, Z_L3 - 15, 19],
             [-90, 2, zof("L5") - 5, 19], [-84, 32, asis[2] - 10, 19]])
SIG_START = [-84.0, 32.0, asis[2] - 10, 19]
S3 = [0.0, yof("S1") - 22, zof("S1") - 48]  # S3 body centre: the sacrum curves back and down
# sigmoid: from the left iliac fossa (in front of the left iliac vessels) down and back along
# the left pelvic wall to the rectosigmoid junction in front of S3; the ileal loops lie in
# front of and above it
RS = [4, S3[1] + 32, S3[2] + 4]
SIG = tube([SIG_START[:3] + [13], [-60, 24, zof("S1") - 32, 17], [-38, 12, zof("S1") - 46, 17],
            [-20, -10, zof("S1") - 40, 17], [0, -31, zof("S1") - 34, 17], RS + [11]])
# the ascending, transverse and descending colon win over the liver and the stomach they lie
# against (the colic impressions of the liver, the stomach's greater curvature on the transverse
# colon): a larger liver or stomach dents the colon's neighbour instead of cutting the flexures
# into pieces (anatomy_validate: hepatic and splenic flexures cut off in 10-20 % of subjects
# when they lost); they lose to the spleen, duodenum, pancreas, gallbladder and kidneys. The
# colon's parts and the rectum move together (size_group "colon": one random shift), so their
# junctions stay fitted: shifted apart, the loser's end poked out of the winner as a cut-off piece
for i, (nm, shp, col, pr) in enumerate([("colon_ascending", ASC, "#b5835a", 319),
                                         ("colon_transverse", TRANS, "#a9784f", 320),
                                         ("colon_descending", DESC, "#b5835a", 321),
                                         ("colon_sigmoid", SIG, "#9c6d47", 343)]):
    add(id=257 + i, name=nm, abbrev="C" + nm[6:9].upper(), group="digestive", tissue="bowel_wall",
        color=col, priority=pr, jitter_mm=3, size_group="colon", within=CAV,
        core={"tissue": "bowel_content", "depth_mm": 3}, shape=diff(shp, PELVIC_KEEPOUT))

# The liver's space leaves out the duodenum's first two parts and the hepatic flexure grown by
# LIVER_BOWEL_GAP mm, in the body's frame where they lie (tubes through their own points, the
# flexure's from the ascending colon's last bend to the transverse colon's first). They win over
# the liver, and the liver, grown about its own centre to fill its space (x 1.3-2.5 in the
# subjects looked at), carried the notch for the duodenal bulb and the pancreatic head
# (liver_keepoff, then in its own frame) away from them: its lower edge ran on around them as a
# film a voxel thick that they cut into pieces of ~10 voxels (anatomy_validate at 2 mm: liver in
# two pieces in men 8, 62, 87). The gap is of the order of their random shifts (SD 2 and 3 mm);
# the liver's volume is met inside the space all the same (volume_clipped). With the bowel cut
# from the space but the notch left in the liver's frame, man 17's liver had 3 pieces there.
LIVER_BOWEL_GAP = 4.0
LIVER_SPACE["difference"] += [grown(DUO_PTS[:4], LIVER_BOWEL_GAP),
                               grown([ASC_PTS[-2], C_HEP, TRANS_PTS[1]], LIVER_BOWEL_GAP)]
# Nor does it fill the crevices between those channels, which a liver grown 2-2.5x reached as
# a film that the channels cut into pieces of 9-18 voxels (anatomy_validate at 2 mm): the
# inside of the hepatic flexure's bend, between the ascending and the transverse colon (man
# 40), and the pocket in front of the aorta and the IVC below the portal vein at L1-L2 (men
# 22, 85, woman 27). Both filled in the body's frame: the flexure's chord, grown like it, and a
# box between the aorta's and the IVC's channels from below L2 up into the portal vein's.
LIVER_SPACE["difference"] += [grown([ASC_PTS[-2], TRANS_PTS[1]], LIVER_BOWEL_GAP),
                               {"box": {"c": [7.0, -5.0, Z_L2 + 6], "h": [8.0, 15.0, 16.0],
                                        "round": 3.0}}]
# The left lobe stays out from under the left dome, over the fundus: grown 2.5x, it ran on over
# the fundus (which wins) under the left lower lobe as a film of 42 voxels (woman 91). Cut in
# the body's frame: the cavity left of x = -45 above 30 mm below the left dome's top (the
# fundus's own tube grown by 6 mm, with a capsule from it up into the dome, missed a stomach
# larger and higher than the reference's there).
LIVER_SPACE["difference"] += [{"box": {"c": [-110.0, 0.0, dome_l[2] + 40], "h": [65.0, 150.0, 70.0],
                                       "round": 10.0}}]

sym = lm("pubic_symphysis")
RECTUM = tube([RS + [17], [0, S3[1] + 28, S3[2] - 24, 20],
               [0, S3[1] + 32, sym[2] - 6, 19], [0, S3[1] + 44, sym[2] - 34, 14]])
add(id=261, name="rectum", abbrev="REC", group="digestive", tissue="bowel_wall", color="#8e5f3d",
    priority=338, jitter_mm=3, size_group="colon", within=CAV,
    core={"tissue": "bowel_content", "depth_mm": 3},
    shape=RECTUM)

# ============================================================================================
# Small bowel — ~3.3 m in vivo, inner diameter 2.5 cm, wall < 3 mm (§4 [HF]); ICRP 89 wall
# 650/600 g + contents 350/280 g ≈ 1 L. Jejunum in the left upper part below the transverse
# mesocolon from the DJ flexure, ileum lower right and in the pelvis, ending at the caecum.
# Drawn as serpentines in coronal layers (each tube ≤ 12 points), 26 mm diameter.
# ============================================================================================
SB_R = 13.0
DJ = [-36, vfront("L2") + 34, Z_L2 + 4]
zs1 = zof("S1")
# One continuous bowel cut into tubes of ≤ 12 points that share their end points:
# jejunum from the DJ flexure in the left upper quadrant (between the stomach, the left kidney
# and the descending colon) → anterior layer (y 80) down → middle layer (y 54) up → posterior
# layer (y 27, in front of the vessels and psoas) down → pelvic ileum over and beside the
# bladder → ileocaecal valve at the caecum in the right iliac fossa.
# (the jejunum passes under the transverse colon, never through it)
jej = [DJ, [-56, 24, Z_L2 + 2], [-64, 10, Z_L3 + 18], [-42, 14, Z_L3 + 4], [-64, 24, Z_L3 - 14],
       [-46, 40, Z_L3 - 40], [-52, 66, Z_L3 - 44]]


def serpentine(y, ztop, zbot, hw, n, first_sign):
    pts = []
    for k in range(n):
        t = k / (n - 1)
        x = hw * first_sign * (1 if k % 2 == 0 else -1) * (0.8 + 0.2 * math.cos(5 * t))
        pts.append([x, y + (7 if k % 2 else -7), ztop + (zbot - ztop) * t])
    return pts


lay_a = serpentine(80, Z_L3 - 46, zof("L5") - 26, 50, 7, -1)
lay_b = serpentine(54, Z_L3 - 26, zs1 - 16, 66, 10, 1)[::-1]
lay_c = serpentine(27, Z_L3 - 24, zs1 - 6, 70, 10, 1)
pelvic = [[-52, 50, zs1 - 22], [-26, 30, zs1 - 24], [0, 52, zs1 - 18], [26, 30, zs1 - 24],
          [52, 50, zs1 - 24], [60, 28, zs1 - 52], [48, 50, zs1 - 58], [58, 40, zs1 - 28],
          [50, 46, asis[2] + 2]]
chain = [jej, [jej[-1]] + lay_a, [lay_a[-1]] + lay_b, [lay_b[-1]] + lay_c,
         [lay_c[-1]] + pelvic]
sb_tubes = [tube([p + [SB_R] for p in part]) for part in chain]
sb_tubes[0] = tube([DJ + [8.0]] + [p + [SB_R] for p in jej[1:]])  # starts inside the duodenum
SMALL_BOWEL = diff(union(*sb_tubes), PELVIC_KEEPOUT)
add(id=256, name="small_bowel", abbrev="SB", group="digestive", tissue="bowel_wall",
    color="#e0a878", priority=350, within=CAV, core={"tissue": "bowel_content", "depth_mm": 3},
    shape=SMALL_BOWEL)

# ============================================================================================
# Kidneys: cortex (the whole outline, named as TotalSegmentator's kidney_left/right),
# medulla (pyramids: an inner ring 8 mm under the capsule, §4 cortex 7–10 mm), pelvis (urine)
# in the sinus at the hilum. The three parts share one anchor (L1) and the same size-model
# ratio (volume_ml ∝ their own reference volume, cv 0) so they scale together and stay nested.
# ============================================================================================
ANCH = lm("L1")


def rel(p):
    return [p[0] - ANCH[0], p[1] - ANCH[1], p[2] - ANCH[2]]


def kparts(side):
    k = KID[side]
    R, c, sg = k["R"], k["c"], k["sg"]
    # local frame: x lateral→ (for the right kidney +x is lateral), y anterior, z up
    medial = -sg  # local x of the hilum side (right kidney: medial = -x world; R is near identity)
    cortex = ell(rel(c), KR, k["rot"])
    inner = ell(rel(c), [KR[0] - 8, KR[1] - 7, KR[2] - 9], k["rot"])
    sinus_c = place(c, R, [medial * 14, 0, 0])
    sinus = ell(rel(sinus_c), [16, 11, 30], k["rot"])
    medulla = diff(inner, sinus)
    pel_c = place(c, R, [medial * 16, 0, -4])
    pel_out = place(c, R, [medial * 34, 2, -14])
    pelvis = sunion(6.0, ell(rel(pel_c), [11, 7, 20], k["rot"]),
                    cap(rel(pel_c), rel(pel_out), [8.0, 4.5]))
    return cortex, medulla, pelvis, sinus


add_later = []
for side, base in (("right", 262), ("left", 263)):
    cortex, medulla, pelvis, sinus = kparts(side)
    add_later.append((side, base, cortex, medulla, pelvis))

# ============================================================================================
# Adrenal glands — caps on the upper poles, anteromedial; limbs < 1 cm thick, 4–6 cm long
# (§4 [RL]); ICRP 89 7.0/6.5 g / 1.03 → 6.8/6.3 ml each (§5). The right one lies behind the
# IVC, the left one beside the aorta above the left renal hilum.
# ============================================================================================
ADR = {}
for side in ("right", "left"):
    k = KID[side]
    top = place(k["c"], k["R"], [-k["sg"] * 8, 4, KR[2] - 4])  # near the upper pole, medial
    c = [top[0] - k["sg"] * 4, top[1] + 6, top[2] + 14]
    ADR[side] = ell(c, [7, 13, 20], [0, 0, k["sg"] * 35])

# ============================================================================================
# Pelvic organs. Bladder behind the pubic symphysis (§3), partly filled: the label
# urinary_bladder is the wall (ICRP 89 50/40 g / 1.03 → 48.5/38.8 ml, §5; 4 mm thick, between
# the < 3 mm of a distended and < 5 mm of an empty bladder, §4), bladder_urine its contents
# (~150 ml); both share one size factor (locked like the kidney parts).
# Prostate (male) below it, ICRP 89 17 g → 16.5 ml (§4: < 25–30 ml). Uterus (female) behind
# and above the bladder, anteverted, 6.9 × 4.2 × 3.9 cm (§4 [UT]), ICRP 89 80 g → 77 ml;
# ovaries in the ovarian fossae on the side walls, 4.9 cm³ premenopausal (§4 [OV]), ICRP 89
# 11 g both → 5.3 ml each.
# ============================================================================================
BLADDER = ell([0, sym[1] - 36, sym[2] + 28], [40, 33, 33], [-15, 0, 0])
PROSTATE = ell([0, sym[1] - 38, sym[2] - 16], [21, 15, 18], [-20, 0, 0])
UTERUS = union(ell([0, sym[1] - 62, sym[2] + 78], [23, 19, 33], [-55, 0, 0]),
               cap([0, sym[1] - 80, sym[2] + 46], [0, sym[1] - 92, sym[2] + 26], [11.0, 10.0]))
OVARY = ell([54, sym[1] - 81, sym[2] + 79], [9, 14, 10], [0, 0, 30])

# ============================================================================================
# Breasts (female): the glandular cone on the chest wall in front of the pectoral muscles,
# centred under the nipple landmark, radius from the subject parameter breast_mm; the fat
# around it is the subcutaneous fat that body.json grows by fat_breast_mm. Kept within
# ~0.6 × breast_mm of the chest wall.
# ============================================================================================
nip = lm("nipple_right")
BREAST = inter(ell([0, -14, -6], ["0.95*breast_mm", "0.62*breast_mm", "0.85*breast_mm"], [0, 0, 18]),
               half([0, -12, 0], [-0.3, -1.0, 0.0]))

# ---- a tiny evaluator of the shapes above (same formulas as volume/sdf.c) to measure the
# reference volumes of the kidney parts, so that their volume_ml ratios lock them together
def sd(sh, p):
    (k, b), = sh.items()
    if k == "ellipsoid":
        c, r = b["c"], b["r"]
        d = [p[i] - c[i] for i in range(3)]
        if "rot" in b:
            R = rotmat(b["rot"])
            d = [sum(R[j][i] * d[j] for j in range(3)) for i in range(3)]
        k0 = math.sqrt(sum((d[i] / r[i]) ** 2 for i in range(3)))
        k1 = math.sqrt(sum((d[i] / r[i] ** 2) ** 2 for i in range(3)))
        return k0 * (k0 - 1) / k1 if k1 > 0 else -min(r)
    if k == "capsule":
        a, bb, r = b["a"], b["b"], b["r"]
        ra, rb = (r, r) if not isinstance(r, list) else r
        ab = [bb[i] - a[i] for i in range(3)]
        ap = [p[i] - a[i] for i in range(3)]
        dd = sum(x * x for x in ab)
        t = max(0.0, min(1.0, sum(ab[i] * ap[i] for i in range(3)) / dd)) if dd > 0 else 0.0
        return math.sqrt(sum((ap[i] - t * ab[i]) ** 2 for i in range(3))) - (ra + t * (rb - ra))
    if k == "shell":
        d = sd(b["of"], p)
        return max(d, -d - b["t"])
    if k == "offset":
        return sd(b["of"], p) - b["d"]
    if k == "difference":
        d = sd(b[0], p)
        for s in b[1:]:
            d = max(d, -sd(s, p))
        return d
    if k == "smooth_union":
        kk, d = b["k"], 1e30
        for s in b["of"]:
            e = sd(s, p)
            h = max(kk - abs(d - e), 0.0) / kk
            d = min(d, e) - h * h * kk * 0.25
        return d
    raise ValueError(k)


def ref_volume(sh, c, ext):  # plain 2 mm grid around c (anchor-relative)
    h, n = 2.0, 0
    m = int(2 * ext / h)
    g = [[c[i] - ext + h / 2 + h * j for j in range(m)] for i in range(3)]
    for x in g[0]:
        for y in g[1]:
            for z in g[2]:
                n += sd(sh, [x, y, z]) < 0
    return n * h ** 3 / 1000.0


KIDNEY_ML = vfix("kidney", [148.0, 131.0])  # ICRP 89 both kidneys 310/275 g / 1.05 (§5), halved
ADRENAL_ML = vfix("adrenal", [6.8, 6.3])
for side, base, cortex, medulla, pelvis in add_later:
    kc = rel(KID[side]["c"])
    v_all = ref_volume(cortex, kc, 64.0)
    v_med = ref_volume(medulla, kc, 64.0)
    v_pel = ref_volume(pelvis, kc, 64.0)
    ratio = [KIDNEY_ML[0] / v_all, KIDNEY_ML[1] / v_all]
    print(side, "kidney reference volumes: outline %.1f, medulla %.1f, pelvis %.1f ml" % (v_all, v_med, v_pel))
    add(id=base, name="kidney_" + side, abbrev="KID" + side[0].upper(), group="urinary",
        tissue="kidney_cortex", color="#b8664d", priority=306, anchor="L1",
        volume_ml=KIDNEY_ML, within=CAV, shape=cortex)
    add(id=base + 2, name="kidney_medulla_" + side, abbrev="KMD" + side[0].upper(), group="urinary",
        tissue="kidney_medulla", color="#8a3f35", priority=304, anchor="L1",
        volume_ml=[round(v_med * ratio[0], 2), round(v_med * ratio[1], 2)], within=CAV,
        shape=medulla)
    add(id=base + 4, name="kidney_pelvis_" + side, abbrev="KPV" + side[0].upper(), group="urinary",
        tissue="urine", color="#f2e35c", priority=302, anchor="L1",
        volume_ml=[round(v_pel * ratio[0], 2), round(v_pel * ratio[1], 2)], within=CAV,
        shape=pelvis)
for side, base in (("right", 268), ("left", 269)):
    add(id=base, name="adrenal_gland_" + side, abbrev="ADR" + side[0].upper(), group="endocrine",
        tissue="adrenal", color="#e6d23c", priority=308, volume_ml=ADRENAL_ML, cv=0.15,
        jitter_mm=2, within=CAV, shape=diff(ADR[side], VESSEL_KEEPOUT))

BL_WALL = {"shell": {"t": 4.0, "of": BLADDER}}
BL_URINE = offset(-4.0, BLADDER)
bc = BLADDER["ellipsoid"]["c"]
v_wall, v_urine = ref_volume(BL_WALL, bc, 44.0), ref_volume(BL_URINE, bc, 44.0)
BL_ML = vfix("urinary_bladder", [48.5, 38.8])
print("bladder reference volumes: wall %.1f, urine %.1f ml" % (v_wall, v_urine))
add(id=270, name="urinary_bladder", abbrev="BLA", group="urinary", tissue="bowel_wall",
    color="#c9b458", priority=326, volume_ml=BL_ML, within=CAV, shape=BL_WALL)
add(id=277, name="bladder_urine", abbrev="URI", group="urinary", tissue="urine",
    color="#f5e663", priority=325, within=CAV, shape=BL_URINE,
    volume_ml=[round(BL_ML[0] * v_urine / v_wall, 2), round(BL_ML[1] * v_urine / v_wall, 2)])
add(id=271, name="prostate", abbrev="PRO", group="reproductive", tissue="prostate",
    color="#6a8fc9", priority=324, sex="male", volume_ml=[16.5, 16.5], cv=0.2, jitter_mm=2,
    within=CAV, shape=PROSTATE)
# The uterus (327) wins over the sigmoid (343) that passes behind it, but not through the
# sigmoid's core (its centre line's 8 mm): a large or shifted uterus cut the sigmoid's end off
# (anatomy_validate: colon_sigmoid in two pieces, woman 7). Losing everywhere, the uterus lost
# 20-40 % of its voxels; its space costs it only what lies that deep in the sigmoid.
UTERUS_SPACE = diff({"ref": CAV}, offset(-8.0, SIG))
add(id=272, name="uterus", abbrev="UTE", group="reproductive", tissue="uterus", color="#c75b8a",
    priority=327, sex="female", volume_ml=[77, 77], cv=0.25, jitter_mm=4, within="uterus_space",
    shape=UTERUS)
add(id=273, name="ovary", abbrev="OVA", group="reproductive", tissue="ovary", color="#e3a0c8",
    priority=325, sex="female", mirror=True, volume_ml=[5.3, 5.3], cv=0.3, jitter_mm=4,
    within=CAV, shape=OVARY)
add(id=275, name="breast", abbrev="BRE", group="reproductive", tissue="breast_gland",
    color="#f3c6c6", priority=320, sex="female", mirror=True, anchor="nipple_right",
    within="body", shape=BREAST)

S.sort(key=lambda s: s["id"])
ids = [s["id"] for s in S]
assert len(set(ids)) == len(ids) and all(250 <= i <= 299 for i in ids), ids
out = {"format": "synthbody-anatomy", "version": 1,
       "about": "Abdominal and pelvic organs and breasts; generated by gen_abdomen_pelvis.py",
       "landmarks": {}, "shapes": {}, "structures": S}
with open(os.path.join(HERE, "abdomen_pelvis.json"), "w") as f:
    json.dump(out, f, indent=1)
print(len(S), "structures written")
# named shapes that refer to body.json's: in a document read after it (documents are read in
# name order, and a shape can only refer to shapes read before it)
spaces = {"format": "synthbody-anatomy", "version": 1,
          "about": "Spaces organs fill (within), in the body's frame; generated by "
                   "gen_abdomen_pelvis.py",
          "landmarks": {},
          "shapes": {"liver_space": LIVER_SPACE, "stomach_space": STOMACH_SPACE,
                     "pancreas_space": PANCREAS_SPACE, "uterus_space": UTERUS_SPACE},
          "structures": []}
with open(os.path.join(HERE, "organ_spaces.json"), "w") as f:
    json.dump(spaces, f, indent=1)
