#!/usr/bin/python3
"""Authoring tool: writes volume/anatomy/thorax.json — lungs (five lobes), heart (myocardium and
four blood-filled chambers), aorta, venae cavae, pulmonary artery, portal/splenic vein, common
iliac arteries and veins. Label ids 200-249; priorities 300-349 (heart), 400-449 (vessels, and
the lungs last at 445-449 so that every mediastinal structure wins over them).
Not run at build time; its output is committed.

Reference lean man, 1750 mm (landmarks.json, RAS mm). Numbers from
/work/shared/reference/ANATOMY.md, cited by section:
  §3  heart apex 5th ICS 9 cm left of midline; carina T5; IVC through the diaphragm T10;
      aortic bifurcation L4 just left of midline; IVC confluence L4/5; lung borders
  §4  aorta: ascending 34 mm, arch 25-30, mid-descending 26, abdominal 25 -> 20 -> 18 mm;
      IVC < 28 mm; LV EDD 42-58 mm, wall 6-10 mm; RV wall <= 5 mm
  §5  ICRP 89: heart with blood 840 / 620 g -> ~795 / ~585 mL; lungs 1200 / 950 g at
      0.38 g/mL -> 3160 / 2500 mL
Lungs are big ellipsoids clipped "within" body.json's lung_space; everything in the
mediastinum has precedence over them, so they wrap it without gaps.
"""
import json
import math
import os

from authoring import S, cross, diff, dot, euler, norm, off, translate, tube, union

HERE = os.path.dirname(os.path.abspath(__file__))
L = json.load(open(os.path.join(HERE, "landmarks.json")))["landmarks"]
z = lambda n: L[n][2]
y = lambda n: L[n][1]


def ell(c, r, rot=None):
    e = {"c": [round(v, 2) for v in c], "r": list(r)}
    if rot:
        e["rot"] = rot
    return {"ellipsoid": e}


def inter(*s):
    return {"intersect": list(s)}


def half(p, n):
    return {"halfspace": {"p": [round(v, 2) for v in p], "n": [round(v, 4) for v in n]}}


def rel(s, p):
    return translate(s, [-p[0], -p[1], -p[2]])


# ---- heart -----------------------------------------------------------------------------------
# Long axis from the base (atrioventricular groove, behind the sternum at T6/T7 right of the
# apex) to the apex at the left 5th intercostal space ~90 mm from the midline (§3):
# down, left and forward.
APEX = [-86, 56, z("T9") - 12]
BASE = [2, 10, z("T6") - 8]
ez = norm([APEX[i] - BASE[i] for i in range(3)])          # local z: base -> apex
ex = norm([v - dot([0, 1, 0], ez) * e for v, e in zip([0, 1, 0], ez)])  # local x: anterior-ish
ey = cross(ez, ex)                                          # local y: completes the frame
ROT = euler(ex, ey, ez)


def at(u, a, b):
    """Point at u along the long axis from the apex, a along local x (anterior), b along y."""
    return [APEX[i] - u * ez[i] + a * ex[i] + b * ey[i] for i in range(3)]


# LV: cavity ellipsoid, EDD ~48 mm (§4 42-58) and ~90 mm long; wall 9 mm (§4 6-10)
LV_WALL = 9.0
lv_c = at(60, -4, 4)
lv = ell(lv_c, [23, 23, 46], ROT)
# RV: crescent in front of and right of the LV, wrapped around the septum; wall 4 mm (§4)
rv_c = at(62, 20, -16)
rv = diff(ell(rv_c, [20, 36, 44], ROT), off(lv, LV_WALL + 1))
# atria at the base: LA posterior (in front of the oesophagus), RA right
la_c = [-4, -6, z("T6") - 4]
la = ell(la_c, [30, 17, 22], [0, 0, 10])
ra_c = [36, 16, z("T8") + 2]
ra = ell(ra_c, [23, 24, 31], [0, 10, 0])
# a hull between the chambers (septa, atrioventricular groove, fat-free pericardial mass) keeps
# the heart one solid organ: the chambers (higher precedence) are carved out of it
mid = [(lv_c[i] + ra_c[i]) / 2 for i in range(3)]
dx, dy_ = ra_c[0] - lv_c[0], ra_c[1] - lv_c[1]
hull = ell(mid, [48, 30, 34], [0, 0, round(math.degrees(math.atan2(dy_, dx)), 1)])
myocardium = union(off(lv, LV_WALL), off(rv, 4.0), off(la, 2.5), off(ra, 2.5), hull)
HEART_C = [round(v, 1) for v in at(62, 0, 0)]

# ---- great vessels ---------------------------------------------------------------------------
# aorta: root at the aortic valve in the heart base, ascending (34 mm) up and right, arch
# (25-30 mm) over the left main bronchus to the left of T4, descending (26 mm) left of the
# vertebral bodies, through the aortic hiatus at T12, abdominal (25 -> 20 -> 18 mm) in front of
# the lumbar bodies to the bifurcation at L4 just left of the midline (§3, §4)
bif = [-6, y("L4") + 31, z("L4")]
aorta = tube([[2, 24, z("T7") + 12, 15], [10, 30, z("T5"), 17], [8, 26, z("T4") + 4, 16],
              [-4, 6, z("T3") + 4, 14], [-20, -22, z("T4") + 2, 13.5], [-22, -46, z("T5") - 12, 13],
              [-16, -48, z("T8"), 13], [-10, -44, z("T10"), 12.5], [-5, y("T12") + 23, z("T12"), 12],
              [-3, y("L2") + 27, z("L2"), 10.5], [bif[0], bif[1], bif[2], 9]])
# pulmonary trunk from the RV outflow up and back to its bifurcation under the arch, right
# branch behind the ascending aorta to the right hilum, left branch over the left bronchus
car = L["carina"]
pa_bif = [-12, 8, car[2] + 8]
pulm = union(tube([at(118, 30, -6) + [13], [-16, 30, z("T6") + 12, 13], pa_bif + [12]]),
             tube([pa_bif + [11], [8, 2, car[2] + 4, 10], [30, -2, car[2] - 6, 9],
                   [52, -6, car[2] - 14, 8]]),
             tube([pa_bif + [11], [-34, -2, car[2] + 6, 10], [-56, -10, car[2] - 6, 8]]))
# SVC: from the brachiocephalic confluence behind the right 1st costal cartilage into the RA
svc = tube([[30, 18, z("T2"), 10], [32, 18, z("T4"), 10.5], [34, 17, ra_c[2] + 20, 11]])
# IVC: confluence right of the aorta at L4/5 (§3), up behind the liver, through the diaphragm
# at T10 (§3) into the RA; < 28 mm (§4)
ivc_bottom = [18, y("L4") + 27, (z("L4") + z("L5")) / 2]
ivc = tube([ivc_bottom + [11], [22, y("L2") + 32, z("L2"), 11.5], [24, y("T12") + 42, z("T12"), 12],
            [30, 2, z("T10"), 12.5], [35, 10, ra_c[2] - 22, 13]])
# portal / splenic vein (one label as TotalSegmentator): splenic hilum -> behind the pancreas ->
# portal confluence behind the pancreatic neck -> portal vein up and right to the liver hilum
portal = tube([[-90, -20, z("L1") + 2, 4.5], [-62, -14, z("L1"), 4.5], [-30, -1, z("L1") - 6, 5],
               [10, 10, (z("L1") + z("L2")) / 2, 6.5], [32, 12, z("L1") + 10, 6.5],
               [50, 10, z("T12"), 6]])
# common iliac arteries (L4 -> pelvic brim at the sacroiliac joints) and veins (behind/medial)
brim_z = z("S1") + 8
il_a_r = tube([bif + [8], [30, y("L5") + 44, z("L5") - 5, 6.5], [58, 10, brim_z - 12, 6]])
il_a_l = tube([bif + [8], [-38, y("L5") + 44, z("L5") - 5, 6.5], [-62, 8, brim_z - 12, 6]])
il_v_r = tube([ivc_bottom + [10], [40, y("L5") + 34, z("L5") - 12, 8], [62, 2, brim_z - 18, 7.5]])
il_v_l = tube([ivc_bottom + [10], [-12, y("L5") + 34, z("L5") - 2, 8], [-44, y("L5") + 36, z("L5") - 16, 8],
               [-66, 0, brim_z - 18, 7.5]])

# ---- lungs -----------------------------------------------------------------------------------
# one ellipsoid per lung, apex ~25 mm above the clavicle (about T1), base on the diaphragm
# dome (clipped by lung_space, which excludes the domes), medial edge at the midline;
# lobes by fissure planes: oblique fissure from T3/T4 posteriorly to the 6th costal cartilage
# anteriorly; right horizontal fissure at the 4th costal cartilage (approx. textbook).
APEX_Z = z("T1") - 12
LUNG_C = [70, -5, z("T7")]   # scaling centre of each lung (landmark lung_center_right)
lung_r = inter(ell([58, -6, 1318], [88, 104, APEX_Z - 1318]), half([2, 0, 0], [-1, 0, 0]))
lung_l = inter(ell([-58, -8, 1312], [86, 102, APEX_Z - 1312]), half([-2, 0, 0], [1, 0, 0]))
# the cardiac notch: in front of the heart, left of the midline, the heart lies against the
# anterior chest wall (4th-6th costal cartilages) with no lung between. Without it a tongue of
# the left upper lobe between the heart and the chest wall was cut off from the lobe
# (anatomy_validate: lung_upper_lobe_left in two pieces in 26 of 50 women at 2 mm)
lung_l = diff(lung_l, ell([-15, 68, z("T8") - 15], [38, 32, 58]))
p_post, p_ant = [0, -80, z("T4")], [0, 85, z("T9") + 6]
d = norm([0, p_ant[1] - p_post[1], p_ant[2] - p_post[2]])
n_obl = [0, -d[2], d[1]]          # normal of the oblique plane pointing up / anterior
n_obl = norm(n_obl) if n_obl[2] > 0 else [-v for v in norm(n_obl)]
upper_side = half(p_post, [-v for v in n_obl])   # inside: above/anterior of the fissure
lower_side = half(p_post, n_obl)
horiz_z = z("T6") + 8
above_h = half([0, 0, horiz_z], [0, 0, -1])
below_h = half([0, 0, horiz_z], [0, 0, 1])
LOBES = {
    "lung_upper_lobe_right": inter(lung_r, upper_side, above_h),
    "lung_middle_lobe_right": inter(lung_r, upper_side, below_h),
    "lung_lower_lobe_right": inter(lung_r, lower_side),
    "lung_upper_lobe_left": inter(lung_l, upper_side),
    "lung_lower_lobe_left": inter(lung_l, lower_side),
}

# ---- size model ------------------------------------------------------------------------------
# Heart parts share one factor, lobes share one factor: each heart part gets volume_ml = (its own
# reference shape volume) x K with K = ICRP / (labelled total of the reference geometry), so
# f = cbrt(K (H/Href)^3 / g^3) is common and the parts stay fitted. REF and *_LABELLED were
# measured with the engine (2 mm, male 175 cm BMI 22 (g = 1), no size model).
REF = {"heart_myocardium": 613.0, "heart_atrium_left": 47.1, "heart_atrium_right": 71.7,
       "heart_ventricle_left": 102.1, "heart_ventricle_right": 80.4,
       "lung_upper_lobe_right": 966.8, "lung_middle_lobe_right": 548.3,
       "lung_lower_lobe_right": 4015.2, "lung_upper_lobe_left": 1399.6,
       "lung_lower_lobe_left": 4142.1}
HEART_LABELLED = 305.6 + 42.5 + 71.8 + 101.7 + 78.4
LUNG_K = [float(os.environ.get("TH_LUNG_K", "1.26")), float(os.environ.get("TH_LUNG_KW", "1.35"))]
MODE = os.environ.get("TH_MODE", "")   # "refs": measure shapes; "nosize": measure labels


def size(name, icrp):
    if MODE == "refs":
        return {"volume_ml": [1000, 1000], "scales_with": "none", "cv": 0.0}
    if MODE == "nosize" or not HEART_LABELLED:
        return {}
    # one random size factor per organ (size_group): parts stay fitted; CV after ICRP-like
    # spreads (heart mass ~12 %, lung volumes ~12 %)
    d = {"scales_with": "height", "cv": 0.10,
         "size_group": "heart" if name.startswith("heart") else "lungs"}
    if name.startswith("heart"):
        k = [REF[name] / HEART_LABELLED] * 2
    else:
        # the lungs fill the thoracic cavity: volume_ml is their volume inside it
        # ("volume_clipped", solved per subject by the engine), of which the mediastinum
        # (heart, vessels, airways, which win over the lungs) takes a share: LUNG_K = inside
        # the cavity / labelled, measured with the engine (4 mm, 2 + 2 subjects, lungs made
        # to win everything: 1.19-1.29)
        k = [REF[name] / sum(REF[n] for n in LOBES) * LUNG_K[i] for i in range(2)]
        d["volume_clipped"] = True
    return {"volume_ml": [round(k[0] * icrp[0], 2), round(k[1] * icrp[1], 2)], **d}


HEART_ICRP = [840 / 1.055, 620 / 1.055]   # §5 heart with blood, mL
LUNG_ICRP = [1200 / 0.38, 950 / 0.38]     # §5 lungs with blood, mL


H = "heart_center"
hc = HEART_C
structures = [
    S(200, "heart_myocardium", "cardiovascular", "myocardium", "#b4283c", 305, rel(myocardium, hc),
      anchor=H, abbrev="MYO", within="heart_space", **size("heart_myocardium", HEART_ICRP)),
    S(201, "heart_atrium_left", "cardiovascular", "blood", "#e05a6e", 301, rel(la, hc), anchor=H,
      abbrev="LA", within="heart_space", **size("heart_atrium_left", HEART_ICRP)),
    S(202, "heart_atrium_right", "cardiovascular", "blood", "#5a78e0", 302, rel(ra, hc), anchor=H,
      abbrev="RA", within="heart_space", **size("heart_atrium_right", HEART_ICRP)),
    S(203, "heart_ventricle_left", "cardiovascular", "blood", "#f07878", 300, rel(lv, hc),
      anchor=H, abbrev="LV", within="heart_space",
      **size("heart_ventricle_left", HEART_ICRP)),
    S(204, "heart_ventricle_right", "cardiovascular", "blood", "#7890f0", 303, rel(rv, hc),
      anchor=H, abbrev="RV", within="heart_space",
      **size("heart_ventricle_right", HEART_ICRP)),
    S(205, "aorta", "cardiovascular", "vessel_wall", "#dc3c3c", 400, aorta, core=("blood", 1.5),
      abbrev="AO"),
    S(206, "pulmonary_artery", "cardiovascular", "blood", "#4664c8", 401, pulm, abbrev="PA"),
    S(207, "superior_vena_cava", "cardiovascular", "blood", "#3c50b4", 402, svc, abbrev="SVC"),
    S(208, "inferior_vena_cava", "cardiovascular", "blood", "#3246a0", 403, ivc, abbrev="IVC"),
    S(209, "portal_vein_and_splenic_vein", "cardiovascular", "blood", "#6e50b4", 404, portal,
      abbrev="PV"),
    S(210, "iliac_artery_right", "cardiovascular", "blood", "#e65050", 405, il_a_r, abbrev="IAR"),
    S(211, "iliac_artery_left", "cardiovascular", "blood", "#d24646", 405, il_a_l, abbrev="IAL"),
    S(212, "iliac_vena_right", "cardiovascular", "blood", "#4650be", 406, il_v_r, abbrev="IVR"),
    S(213, "iliac_vena_left", "cardiovascular", "blood", "#3c46aa", 406, il_v_l, abbrev="IVL"),
]
LC = {True: LUNG_C, False: [-LUNG_C[0], LUNG_C[1], LUNG_C[2]]}
colors = {"lung_upper_lobe_right": "#b4dcf0", "lung_middle_lobe_right": "#8cc8e6",
          "lung_lower_lobe_right": "#a0d2c8", "lung_upper_lobe_left": "#c8e6fa",
          "lung_lower_lobe_left": "#96c8d2"}
for i, (name, shp) in enumerate(LOBES.items()):
    structures.append(S(220 + i, name, "respiratory", "lung", colors[name], 445 + i,
                        rel(shp, LC[name.endswith("right")]),
                        anchor="lung_center_" + ("right" if name.endswith("right") else "left"),
                        within="lung_space",
                        abbrev="L" + "".join(w[0].upper() for w in name.split("_")[1:]),
                        **size(name, LUNG_ICRP)))

doc = {"format": "synthbody-anatomy", "version": 1,
       "about": "Lungs (lobes), heart (myocardium, four chambers), aorta, venae cavae, "
                "pulmonary artery, portal/splenic vein, common iliac vessels. Generated by "
                "gen_thorax.py.",
       "landmarks": {"heart_center": HEART_C, "lung_center_right": LUNG_C},
       "shapes": {}, "structures": structures}
out = os.environ.get("TH_OUT", os.path.join(HERE, "thorax.json"))
with open(out, "w") as f:
    json.dump(doc, f, indent=1)
print(len(structures), "structures ->", out, "heart centre", HEART_C, "rot", ROT)
