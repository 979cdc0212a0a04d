#!/usr/bin/python3
"""Authoring tool: writes volume/anatomy/body.json — the body surface, the muscle envelope,
the body cavities (named shapes other documents clip to) and the body-layer structures:
skin, subcutaneous fat, skeletal muscle, visceral fat, and named muscles.

Reference lean man, 1750 mm (landmarks.json). Breadths and depths after ANSUR II
(ANATOMY.md §1.2: chest 289 x 254 mm, waist 326 x 238, hip breadth 346, head 154 x 200 x 227
at BMI ~27, minus the fat those include), limb joints at the landmark heights (§1.1).
Subcutaneous fat is added per region by subject parameters (fat_*_mm) computed from sex and
BMI (volume/anatomy_voxelize.c).
"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
L = json.load(open(os.path.join(HERE, "landmarks.json")))["landmarks"]


def ell(c, r, rot=None):
    e = {"c": c, "r": r}
    if rot:
        e["rot"] = rot
    return {"ellipsoid": e}


def cap(a, b, r):
    return {"capsule": {"a": a, "b": b, "r": r}}


def off(shape, d):
    return {"offset": {"d": d, "of": shape}}


z = lambda name: L[name][2]
sc = L["skull_center"]

# lean (muscle envelope) parts with the fat parameter that covers each
# the head's envelope is centred 100 mm under the vertex (the cranial cavity and its 7 mm of
# bone, centred at skull_center + 5, fit inside it with room for the scalp), the face lower
head = ell([0, -10, 1650], ["82*head_scale", "100*head_scale", "116*head_scale"])
face = ell([0, 42, 1565], [52, 52, 62])
# brow and cheekbones: the eyes' front and sides under 5+ mm of soft tissue
brow = ell([0, 58, L["eye_right"][2]], [60, 34, 34])
neck = cap([0, -20, z("C7") - 20], [0, -20, z("C2")], 55)  # ~60 mm behind the cervical bodies
chest = ell([0, -14, 1320], [136, 118, 195])  # the back ~70 mm behind the thoracic bodies
abdomen = ell([0, 0, 1075], [128, 100, 150])
pelvis = ell([0, -8, 925], ["150*pelvis_scale", 100, 105])
# the waist between chest and abdomen (T11-L1): wide enough for the liver and spleen
# (ANSUR II waist breadth 326 mm at BMI ~27, less its fat)
waist = ell([0, -6, 1190], [140, 108, 120])
shoulders = cap([-185, -22, 1418], [185, -22, 1418], 52)


def arm():
    s, e, w, h = L["shoulder_right"], L["elbow_right"], L["wrist_right"], L["hand_right"]
    return [cap(s, e, [46, 38]), cap(e, w, [38, 26]), ell([h[0], h[1], h[2]], [18, 45, 85])]


def leg():
    hp, k, a = L["hip_right"], L["knee_right"], L["ankle_right"]
    return [cap([hp[0] - 5, hp[1] - 5, hp[2] - 10], k, [85, 52]), cap(k, a, [52, 32]),
            ell([a[0], 55, 30], [42, 115, 30])]


trunk_parts = [chest, waist, abdomen, pelvis, shoulders]
limb_parts = arm() + leg()
head_parts = [head, face, brow, neck]
breast = {"mirror_pair": None}


def mirrored(parts):
    return parts + [{"mirror_x": p} for p in parts]


SKIN = 2  # mm, the skin's true thickness (ICRP 89: 3.3 kg over 1.9 m^2 at 1.09 g/ml: 1.6 mm)
# the body's top: a wide ellipsoidal cap touching z = H (the vertex)
vertex_cap = ell([0, 0, 1750 - 2000], [900, 900, 2000])


def lean_shape():
    # below the scalp: a head grown for its brain (head_scale) never pokes through the vertex
    below_scalp = off(off(vertex_cap, "-1*fat_head_mm"), -SKIN)
    return {"intersect": [
        {"smooth_union": {"k": 40, "of": head_parts + trunk_parts + mirrored(limb_parts)}},
        below_scalp]}


def body_shape():
    of = [off(p, "1*fat_head_mm") for p in head_parts]
    of += [off(chest, "1*fat_breast_mm"), off(waist, "1*fat_trunk_mm"), off(abdomen, "1*fat_trunk_mm"),
           off(pelvis, "1*fat_hip_mm"), off(shoulders, "1*fat_limb_mm")]
    of += [off(p, "1*fat_limb_mm") for p in mirrored(arm())]
    of += [off(p, "1*fat_hip_mm") if i == 0 else off(p, "1*fat_limb_mm")
           for i, p in enumerate(leg())]
    of += [{"mirror_x": off(leg()[0], "1*fat_hip_mm")}]
    of += [{"mirror_x": off(p, "1*fat_limb_mm")} for p in leg()[1:]]
    # female breasts: a mound on the chest that grows with breast_mm (0 in men)
    n = L["nipple_right"]
    mound = off(ell([n[0], n[1] - 40, n[2]], [20, 10, 20]), "1*breast_mm")
    of += [mound, {"mirror_x": mound}]
    # fat and skin grow outwards everywhere but under the soles and over the vertex: stature
    # is kept (a wide ellipsoidal cap touching z = H trims the scalp's fat at the top)
    # the true skin (2 mm) covers the fat; the skin label (skin_mm, at least 1.5 voxels) is cut
    # from the inside of this surface, so the body's size never depends on the voxel size
    return {"intersect": [off({"smooth_union": {"k": 40, "of": of}}, SKIN),
                          {"halfspace": {"p": [0, 0, 0], "n": [0, 0, -1]}}, vertex_cap]}


dr, dl = L["diaphragm_dome_right"], L["diaphragm_dome_left"]
domes = {"union": [ell([60, 5, dr[2] - 115], [100, 92, 115]),
                   ell([-60, 0, dl[2] - 115], [100, 92, 115])]}
thx_ell = ell([0, -5, 1345], [118, 90, 175])
abd_ell = ell([0, 8, 1090], [124, 88, 175])
pel_ell = ell([0, 0, 935], [95, 68, 85])
inlet_z = z("S1") - 30

shapes = {
    "lean": lean_shape(),
    "body": body_shape(),
    # radii x1.016 (73.2, 91.4, 63 against the cerebrum's 72, 90, 62 in gen_head_neck.py): the
    # cisterna magna below takes ~5 % of the brain out of the cavity, which is sized for the
    # brain (anatomy_voxelize.c, P_HEAD_SCALE), so the cavity is 5 % larger in volume
    "cranial_cavity": ell([sc[0], sc[1] - 5, sc[2] + 5],
                          ["73.2*head_scale", "91.4*head_scale", "63*head_scale"]),
}
# the brain keeps csf_mm of CSF (1 mm, at least a voxel) inside the cranial cavity everywhere
# (so the subarachnoid space stays one piece), and where that clips the brain, the white matter
# stays a cortex' thickness (2.5 mm) further in, so the clipped cortex is one continuous layer
# No brain under the cerebellum and behind the medulla (the cisterna magna, CSF): the cavity's
# ellipsoid reaches down to the atlas there, and the cortex that filled it cut the spinal CSF
# off from the cranial CSF at 2 mm in 6 of 200 subjects. (Cut from the space, not from the
# cerebrum's shape, whose reference volume sizes the brain.)
cisterna = {"box": {"c": [sc[0], sc[1] - 56, sc[2] - 47], "h": ["24*head_scale", "44*head_scale",
                                                                "16*head_scale"], "round": 6}}
shapes["brain_space"] = {"difference": [
    {"offset": {"d": "-1*csf_mm", "of": {"ref": "cranial_cavity"}}}, cisterna]}
shapes["white_matter_space"] = {"offset": {"d": -2.5, "of": {"ref": "brain_space"}}}
# the cavities stay inside the trunk wall: at least 6 mm of muscle
wall = {"offset": {"d": -6, "of": {"ref": "lean"}}}
# the heart stays inside the same wall: its apex lies against the chest wall at the 5th
# intercostal space, and a large heart in a narrow chest (tall thin men) reached through the
# ribs to the skin (anatomy_validate at 2 mm: myocardium in two pieces, one outside the body,
# in 6 of 200 subjects). The chambers are clipped by the same space: clipped 4 mm further in
# (to keep a wall in front), the right ventricle's thin front edge crossed the clipping surface
# twice and left islands of 16 voxels or so (3 of 200 subjects).
shapes["heart_space"] = wall


def chest(*cuts):
    """The chest's ellipsoid less the diaphragm's domes and the cuts, inside the trunk wall."""
    return {"intersect": [{"difference": [thx_ell, domes, *cuts]}, wall]}


shapes["thoracic_cavity"] = chest()
# the lungs' space: the thoracic cavity less the middle mediastinum around the left atrium, behind
# the ascending aorta (in front of the oesophagus and the descending aorta), where the lungs only
# filled the cracks between the aorta, the atrium and the pulmonary arteries (which win over
# them) and the lowest crack was cut off from its lobe (anatomy_validate at 2 mm: the right
# middle lobe in two pieces in 2 of 100 women); mediastinal fat there. In the body's frame: cut
# from the lungs' own shapes, the box moved with their size factors (~1.5 about centres 70 mm
# to each side) and left pieces elsewhere.
mediastinum = {"box": {"c": [-3, 2, 1360], "h": [17, 18, 30], "round": 4}}
# The pocket above the box, behind where the pulmonary trunk meets the ascending aorta and
# under the right pulmonary artery, is fat too: the left upper lobe filled it through a crack
# and the box's top cut it off (anatomy_validate at 2 mm: 11 and 13 voxels in women 34
# and 73 in 200 subjects; the top raised to 1420 or a box over the whole aortopulmonary window cut
# other upper lobes). The pocket's box ends inside the right pulmonary artery (its top, z 1405,
# lies in the artery, which spans z 1399-1420 over it), so it leaves no new edge there.
ap_pocket = {"box": {"c": [-1, 9, 1395], "h": [7, 11, 10], "round": 2}}
# and the crevice in front of the box's upper left edge, between the top of the heart, the
# aortic root and the pulmonary trunk, which the left upper lobe reached round the box's corner
# (9 voxels cut off, man 100)
root_crevice = {"box": {"c": [-16, 24, 1375], "h": [8, 6, 10], "round": 2}}
shapes["lung_space"] = chest(mediastinum, ap_pocket, root_crevice)
shapes["abdominopelvic_cavity"] = {"intersect": [
    {"difference": [{"smooth_union": {"k": 30, "of": [abd_ell, pel_ell, domes]}},
                    {"difference": [thx_ell, domes]}]}, wall]}
shapes["abdominal_cavity"] = {"intersect": [{"ref": "abdominopelvic_cavity"},
                                            {"halfspace": {"p": [0, 0, inlet_z], "n": [0, 0, -1]}}]}
# the part of the abdominopelvic cavity left to the bowel: a rim of visceral fat whose
# thickness grows with BMI (and is larger in men) lies outside it
shapes["bowel_space"] = {"offset": {"d": "-1*vat_mm", "of": {"ref": "abdominopelvic_cavity"}}}
shapes["pelvic_cavity"] = {"intersect": [{"ref": "abdominopelvic_cavity"},
                                         {"halfspace": {"p": [0, 0, inlet_z], "n": [0, 0, 1]}}]}


def S(id, name, group, tissue, color, priority, shape, **kw):
    d = {"id": id, "name": name, "group": group, "tissue": tissue, "color": color,
         "priority": priority, "shape": shape}
    d.update(kw)
    return d


spine_z = [z(k) for k in ["S1", "L5", "L3", "L1", "T11", "T8", "T5", "T2"]]
spine_y = [L[k][1] for k in ["S1", "L5", "L3", "L1", "T11", "T8", "T5", "T2"]]
autochthon = {"tube": {"points": [[28, y - 52, zz, r] for y, zz, r in
                                  zip(spine_y, spine_z, [22, 28, 30, 26, 20, 16, 14, 12])]}}
t12, l3, hip = L["T12"], L["L3"], L["hip_right"]
iliopsoas = {"tube": {"points": [[30, t12[1] + 8, t12[2], 9], [42, l3[1] + 12, l3[2], 20],
                                 [62, L["S1"][1] + 45, z("S1") - 10, 24],
                                 [80, hip[1] + 25, hip[2] + 15, 20],
                                 [88, hip[1] + 15, hip[2] - 60, 12]]}}

structures = [
    # skin first of all: nothing (a bone, a breast) can break through it
    S(1, "skin", "skin", "skin", "#f1d691", 1, {"shell": {"t": "1*skin_mm", "of": {"ref": "body"}}},
      abbrev="SKIN"),
    S(2, "subcutaneous_fat", "fat", "fat", "#e6dc46", 710,
      {"difference": [{"ref": "body"}, {"ref": "lean"}]}, abbrev="SAT", connected=False),
    # the remainder of the muscle envelope: many muscles, separated by bones and organs
    S(3, "skeletal_muscle", "muscle", "muscle", "#c06858", 720, {"ref": "lean"}, abbrev="MUS",
      connected=False),
    S(4, "visceral_fat", "fat", "fat", "#dcc85a", 650,
      {"union": [{"ref": "abdominopelvic_cavity"}, {"ref": "thoracic_cavity"}]}, abbrev="VAT",
      connected=False),
    S(10, "gluteus_maximus", "muscle", "muscle", "#b8584a", 503,
      ell([85, -88, 875], [72, 42, 100], [0, 0, 0]), mirror=True, within="lean", abbrev="GMAX"),
    S(12, "gluteus_medius", "muscle", "muscle", "#c4705c", 502,
      ell([136, -62, 985], [48, 38, 62], [0, 20, 0]), mirror=True, within="lean", abbrev="GMED"),
    S(14, "gluteus_minimus", "muscle", "muscle", "#d08068", 501,
      ell([132, -42, 965], [38, 24, 40], [0, 20, 0]), mirror=True, within="lean", abbrev="GMIN"),
    S(16, "iliopsoas", "muscle", "muscle", "#a85040", 500, iliopsoas, mirror=True, within="lean",
      abbrev="ILPS"),
    S(18, "autochthon", "muscle", "muscle", "#b06050", 504, autochthon, mirror=True,
      within="lean", abbrev="AUT"),
]

doc = {"format": "synthbody-anatomy", "version": 1,
       "about": "Body surface, muscle envelope, body cavities, body layers and named muscles. "
                "Generated by gen_body.py.",
       "shapes": shapes, "structures": structures}
with open(os.path.join(HERE, "body.json"), "w") as f:
    json.dump(doc, f, indent=1)
print(len(structures), "structures")
