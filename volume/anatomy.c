/* anatomy.c — the built-in placeholder anatomy and its voxelizer.
 *
 * PLACEHOLDER QUALITY (foundation issue): 33 structures built from ellipsoids, tapered capsules,
 * ellipsoidal shells, one cutting plane and a banded shell (ribs), placed on landmark heights
 * given as fractions of stature (Winter 2009 / ANSUR II, ../shared/reference/ANATOMY.md §1.1)
 * and widths from ANSUR II breadths scaled by sqrt(BMI / 25). The anatomy issue replaces this
 * with a data-driven description read by a generic signed-distance engine.
 *
 * Frame: body millimetres, x to the subject's Right, y Anterior, z Superior (RAS+), soles at
 * z = 0, midline at x = 0. "left" structures have x < 0.
 *
 * Labelling of a point, first match wins:
 *   outside the body surface (smooth union of head/neck, torso, arms, legs) -> 0
 *   within skin thickness of the surface -> skin (2 mm, at least one voxel so it never breaks)
 *   within the local subcutaneous fat thickness -> subcutaneous fat (BMI- and sex-dependent;
 *     thinner on head and limbs)
 *   inside an organ or bone, in table order -> that structure
 *   inside the abdominal cavity -> visceral fat within a BMI-dependent rim, intestine deeper
 *   inside the thoracic cavity -> visceral (mediastinal) fat
 *   otherwise -> skeletal muscle
 */
#include "sb_volume.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

enum {
    L_SKIN = 1,
    L_SAT,
    L_MUSCLE,
    L_VAT,
    L_BRAIN,
    L_CSF,
    L_SKULL,
    L_EYE_L,
    L_EYE_R,
    L_CORD,
    L_VERTEBRAE,
    L_SACRUM,
    L_HIP_L,
    L_HIP_R,
    L_FEMUR_L,
    L_FEMUR_R,
    L_TIBIA_L,
    L_TIBIA_R,
    L_HUMERUS_L,
    L_HUMERUS_R,
    L_RIBS,
    L_STERNUM,
    L_LUNG_L,
    L_LUNG_R,
    L_HEART,
    L_AORTA,
    L_LIVER,
    L_SPLEEN,
    L_STOMACH,
    L_KIDNEY_L,
    L_KIDNEY_R,
    L_BLADDER,
    L_INTESTINE,
    L_COUNT
};

typedef struct {
    int id;
    const char *name, *abbrev, *group, *tissue;
    uint8_t rgb[3];
} label_def;

/* Names follow TotalSegmentator where it has one. Colours loosely after 3D Slicer's. */
static const label_def LABELS[] = {
    {L_SKIN, "skin", "SKIN", "skin", "skin", {241, 214, 145}},
    {L_SAT, "subcutaneous_fat", "SAT", "fat", "fat", {230, 220, 70}},
    {L_MUSCLE, "skeletal_muscle", "MUS", "muscle", "muscle", {192, 104, 88}},
    {L_VAT, "visceral_fat", "VAT", "fat", "fat", {220, 200, 90}},
    {L_BRAIN, "brain", "BRN", "nervous", "brain", {250, 250, 225}},
    {L_CSF, "cerebrospinal_fluid", "CSF", "nervous", "csf", {85, 188, 255}},
    {L_SKULL, "skull", "SKL", "skeleton", "bone", {241, 241, 241}},
    {L_EYE_L, "eyeball_left", "EYEL", "nervous", "vitreous", {194, 255, 255}},
    {L_EYE_R, "eyeball_right", "EYER", "nervous", "vitreous", {194, 255, 255}},
    {L_CORD, "spinal_cord", "CORD", "nervous", "spinal_cord", {244, 214, 49}},
    {L_VERTEBRAE, "vertebrae", "VERT", "skeleton", "bone", {255, 237, 170}},
    {L_SACRUM, "sacrum", "SAC", "skeleton", "bone", {255, 230, 160}},
    {L_HIP_L, "hip_left", "HIPL", "skeleton", "bone", {230, 220, 190}},
    {L_HIP_R, "hip_right", "HIPR", "skeleton", "bone", {230, 220, 190}},
    {L_FEMUR_L, "femur_left", "FEML", "skeleton", "bone", {255, 250, 220}},
    {L_FEMUR_R, "femur_right", "FEMR", "skeleton", "bone", {255, 250, 220}},
    {L_TIBIA_L, "tibia_left", "TIBL", "skeleton", "bone", {250, 245, 210}},
    {L_TIBIA_R, "tibia_right", "TIBR", "skeleton", "bone", {250, 245, 210}},
    {L_HUMERUS_L, "humerus_left", "HUML", "skeleton", "bone", {255, 248, 215}},
    {L_HUMERUS_R, "humerus_right", "HUMR", "skeleton", "bone", {255, 248, 215}},
    {L_RIBS, "ribs", "RIB", "skeleton", "bone", {253, 232, 158}},
    {L_STERNUM, "sternum", "STE", "skeleton", "bone", {244, 217, 154}},
    {L_LUNG_L, "lung_left", "LUNL", "respiratory", "lung", {197, 165, 145}},
    {L_LUNG_R, "lung_right", "LUNR", "respiratory", "lung", {197, 165, 145}},
    {L_HEART, "heart", "HRT", "cardiovascular", "myocardium", {206, 110, 84}},
    {L_AORTA, "aorta", "AOR", "cardiovascular", "blood", {224, 97, 76}},
    {L_LIVER, "liver", "LIV", "digestive", "liver", {221, 130, 101}},
    {L_SPLEEN, "spleen", "SPL", "digestive", "spleen", {157, 108, 162}},
    {L_STOMACH, "stomach", "STO", "digestive", "stomach", {216, 132, 105}},
    {L_KIDNEY_L, "kidney_left", "KIDL", "urinary", "kidney", {185, 102, 83}},
    {L_KIDNEY_R, "kidney_right", "KIDR", "urinary", "kidney", {185, 102, 83}},
    {L_BLADDER, "urinary_bladder", "BLA", "urinary", "urine", {222, 154, 132}},
    {L_INTESTINE, "intestine", "INT", "digestive", "bowel", {255, 176, 138}},
};

sb_status sb_anatomy_labels(sb_label_table **out, sb_error *err) {
    sb_label_table *t = sb_labels_create();
    if (!t) return sb_error_set(err, SB_ERR_MEMORY, "out of memory");
    for (size_t i = 0; i < sizeof LABELS / sizeof LABELS[0]; i++) {
        sb_label l;
        memset(&l, 0, sizeof l);
        l.id = LABELS[i].id;
        snprintf(l.name, sizeof l.name, "%s", LABELS[i].name);
        snprintf(l.abbrev, sizeof l.abbrev, "%s", LABELS[i].abbrev);
        snprintf(l.group, sizeof l.group, "%s", LABELS[i].group);
        snprintf(l.tissue, sizeof l.tissue, "%s", LABELS[i].tissue);
        memcpy(l.rgba, LABELS[i].rgb, 3);
        l.rgba[3] = 255;
        sb_status s = sb_labels_add(t, &l, err);
        if (s) {
            sb_labels_free(t);
            return s;
        }
    }
    *out = t;
    return SB_OK;
}

/* ---- primitives ---------------------------------------------------------------------------- */
typedef enum { PRIM_ELLIPSOID, PRIM_CAPSULE } prim_kind;

typedef struct {
    prim_kind kind;
    double c[3], r[3]; /* ellipsoid: centre and radii */
    double a[3], b[3]; /* capsule: segment a->b, radius ra at a to rb at b */
    double ra, rb;
    double shell;    /* > 0: keep only the outer `shell` mm */
    double plane[4]; /* if plane[3] != 0 or normal set: keep n.p + d <= 0 */
    int has_plane;
    double band[3];      /* ribs: keep where (z - band[0]) mod band[1] < band[2], if band[1] > 0 */
    double lo[3], hi[3]; /* bounding box */
} prim;

#define MAX_PRIMS 6

typedef struct {
    int label;
    int n;
    prim p[MAX_PRIMS];
    double lo[3], hi[3];
} structure;

typedef struct {
    double skin_mm, fat_mm, vat_mm;
    prim torso[4], head[2], arm[2][3], leg[2][3];
    prim abd_cavity, thx_cavity;
    structure s[L_COUNT];
    int ns;
    double lo[3], hi[3];
} scene;

static double len3(double x, double y, double z) {
    return sqrt(x * x + y * y + z * z);
}

/* Approximate signed distance to an axis-aligned ellipsoid (exact on the axes, bounded error
 * elsewhere; Quilez' k0 (k0 - 1) / k1 form). */
static double sd_ellipsoid(const prim *q, const double p[3]) {
    double x = p[0] - q->c[0], y = p[1] - q->c[1], z = p[2] - q->c[2];
    double k0 = len3(x / q->r[0], y / q->r[1], z / q->r[2]);
    double k1 = len3(x / (q->r[0] * q->r[0]), y / (q->r[1] * q->r[1]), z / (q->r[2] * q->r[2]));
    if (k1 == 0) return -fmin(q->r[0], fmin(q->r[1], q->r[2]));
    return k0 * (k0 - 1.0) / k1;
}

static double sd_capsule(const prim *q, const double p[3]) {
    double ab[3], ap[3], dd = 0, t = 0;
    for (int i = 0; i < 3; i++) {
        ab[i] = q->b[i] - q->a[i];
        ap[i] = p[i] - q->a[i];
        dd += ab[i] * ab[i];
        t += ab[i] * ap[i];
    }
    t = dd > 0 ? fmax(0.0, fmin(1.0, t / dd)) : 0.0;
    double d = len3(ap[0] - t * ab[0], ap[1] - t * ab[1], ap[2] - t * ab[2]);
    return d - (q->ra + t * (q->rb - q->ra));
}

static double sd_prim(const prim *q, const double p[3]) {
    double d = q->kind == PRIM_ELLIPSOID ? sd_ellipsoid(q, p) : sd_capsule(q, p);
    if (q->shell > 0) d = fmax(d, -d - q->shell);
    if (q->has_plane)
        d = fmax(d, q->plane[0] * p[0] + q->plane[1] * p[1] + q->plane[2] * p[2] + q->plane[3]);
    if (q->band[1] > 0) {
        double m = fmod(p[2] - q->band[0], q->band[1]);
        if (m < 0) m += q->band[1];
        if (m >= q->band[2]) d = fmax(d, 0.5);
    }
    return d;
}

static int in_box(const double lo[3], const double hi[3], const double p[3]) {
    return p[0] >= lo[0] && p[0] <= hi[0] && p[1] >= lo[1] && p[1] <= hi[1] && p[2] >= lo[2] &&
           p[2] <= hi[2];
}

static double smin(double a, double b, double k) {
    double h = fmax(k - fabs(a - b), 0.0) / k;
    return fmin(a, b) - h * h * k * 0.25;
}

static prim ellipsoid(double cx, double cy, double cz, double rx, double ry, double rz) {
    prim q;
    memset(&q, 0, sizeof q);
    q.kind = PRIM_ELLIPSOID;
    q.c[0] = cx, q.c[1] = cy, q.c[2] = cz;
    q.r[0] = rx, q.r[1] = ry, q.r[2] = rz;
    for (int i = 0; i < 3; i++) q.lo[i] = q.c[i] - q.r[i], q.hi[i] = q.c[i] + q.r[i];
    return q;
}

static prim capsule(const double a[3], const double b[3], double ra, double rb) {
    prim q;
    memset(&q, 0, sizeof q);
    q.kind = PRIM_CAPSULE;
    double r = fmax(ra, rb);
    for (int i = 0; i < 3; i++) {
        q.a[i] = a[i], q.b[i] = b[i];
        q.lo[i] = fmin(a[i], b[i]) - r;
        q.hi[i] = fmax(a[i], b[i]) + r;
    }
    q.ra = ra, q.rb = rb;
    return q;
}

static void box_grow(double lo[3], double hi[3], const prim *q) {
    for (int i = 0; i < 3; i++) lo[i] = fmin(lo[i], q->lo[i]), hi[i] = fmax(hi[i], q->hi[i]);
}

/* Adds prim q to structure `label`; organs (not bones) take the subject's scale and offset. */
static void add(scene *sc, int label, prim q, const sb_subject *s, int jitter) {
    structure *st = NULL;
    for (int i = 0; i < sc->ns; i++)
        if (sc->s[i].label == label) st = &sc->s[i];
    if (!st) {
        st = &sc->s[sc->ns++];
        memset(st, 0, sizeof *st);
        st->label = label;
        for (int i = 0; i < 3; i++) st->lo[i] = 1e30, st->hi[i] = -1e30;
    }
    if (jitter) {
        double f = s->scale[label];
        for (int i = 0; i < 3; i++) {
            q.c[i] += s->offset[label][i];
            q.r[i] *= f;
            q.lo[i] = q.c[i] - q.r[i];
            q.hi[i] = q.c[i] + q.r[i];
        }
    }
    if (st->n < MAX_PRIMS) st->p[st->n++] = q;
    box_grow(st->lo, st->hi, &q);
}

static double v3(double *o, double x, double y, double z) {
    o[0] = x, o[1] = y, o[2] = z;
    return 0;
}

static void build_scene(const sb_subject *s, double voxel_mm, scene *sc) {
    memset(sc, 0, sizeof *sc);
    const int male = s->sex == SB_SEX_MALE;
    const double H = s->height_cm * 10.0, hf = H / (male ? 1750.0 : 1611.0);
    const double w = sqrt(fmin(fmax(s->bmi, 15.0), 60.0) / 25.0); /* girth factor */
    const double wabd = male ? pow(w, 1.3) : w, whip = male ? w : pow(w, 1.2);
    sc->skin_mm = fmax(2.0, voxel_mm);
    sc->fat_mm = s->fat_mm;
    sc->vat_mm = fmax(2.0, (male ? 0.9 : 0.5) * (s->bmi - 17.0));

    /* Body surface = lean trunk (half-breadths/depths consistent with ANSUR II at BMI ~25,
     * ANATOMY.md §1.2) widened slightly with BMI, plus the subcutaneous fat layer (thinner over
     * the chest, thicker over the hips in women). Cavities and organs follow the lean trunk, so
     * obesity thickens fat, not organs. */
    const double lw = sqrt(w), fat = sc->fat_mm + sc->skin_mm;
    const double f_chest = 0.7 * fat, f_hip = (male ? 0.8 : 1.1) * fat;
    const double lean_chest_rx = (male ? 130 : 115) * lw * hf,
                 lean_chest_ry = (male ? 105 : 98) * lw * hf;
    const double lean_waist_rx = (male ? 128 : 112) * lw * hf,
                 lean_waist_ry = (male ? 95 : 85) * lw * hf;
    const double chest_rx = lean_chest_rx + f_chest, chest_ry = lean_chest_ry + f_chest;
    const double waist_rx = lean_waist_rx + fat * (male ? 1.1 : 0.9) * wabd / w;
    const double waist_ry = lean_waist_ry + fat * (male ? 1.3 : 1.0) * wabd / w;
    const double hip_rx = (male ? 140 : 150) * lw * whip / w * hf + f_hip;
    const double hip_ry = (male ? 98 : 100) * lw * whip / w * hf + f_hip;
    sc->torso[0] = ellipsoid(0, 0, 0.715 * H, chest_rx, chest_ry, 0.115 * H);
    sc->torso[1] = ellipsoid(0, 8 * w, 0.600 * H, waist_rx, waist_ry, 0.095 * H);
    sc->torso[2] = ellipsoid(0, -5, 0.520 * H, hip_rx, hip_ry, 0.075 * H);
    double a[3], b[3];
    const double sh_x = (male ? 0.118 : 0.112) * H; /* half biacromial breadth */
    v3(a, -sh_x + 20, -10, 0.805 * H), v3(b, sh_x - 20, -10, 0.805 * H);
    sc->torso[3] = capsule(a, b, 55 * w * hf, 55 * w * hf);
    sc->head[0] =
        ellipsoid(0, 5, H - 0.068 * H, (male ? 78 : 74) * hf, (male ? 100 : 95) * hf, 0.070 * H);
    v3(a, 0, -10, 0.90 * H), v3(b, 0, -15, 0.81 * H);
    sc->head[1] = capsule(a, b, (male ? 58 : 50) * w * hf, (male ? 62 : 54) * w * hf);

    const double r_upper = 45 * w * hf, r_fore = 37 * w * hf;
    for (int side = 0; side < 2; side++) { /* 0 = left (x < 0), 1 = right */
        double sg = side ? 1.0 : -1.0;
        double elbow_x = fmax(sh_x + 25, waist_rx + r_fore + 20);
        double wrist_x = fmax(sh_x + 35, hip_rx + r_fore + 20);
        double sh[3], el[3], wr[3];
        v3(sh, sg * sh_x, -10, 0.805 * H), v3(el, sg * elbow_x, -15, 0.630 * H);
        v3(wr, sg * wrist_x, 0, 0.485 * H);
        sc->arm[side][0] = capsule(sh, el, r_upper, 0.85 * r_upper);
        sc->arm[side][1] = capsule(el, wr, r_fore, 0.65 * r_fore);
        sc->arm[side][2] = ellipsoid(sg * wrist_x, 5, 0.43 * H, 22 * hf, 45 * hf, 0.055 * H);
        double hip[3], knee[3], ank[3];
        v3(hip, sg * 0.50 * hip_rx, 0, 0.50 * H), v3(knee, sg * 0.055 * H, 5, 0.285 * H);
        v3(ank, sg * 0.055 * H, -10, 0.045 * H);
        sc->leg[side][0] = capsule(hip, knee, 90 * w * hf, 52 * sqrt(w) * hf);
        sc->leg[side][1] = capsule(knee, ank, 50 * sqrt(w) * hf, 32 * hf);
        sc->leg[side][2] =
            ellipsoid(sg * 0.055 * H, 45 * hf, 0.028 * H, 45 * hf, 0.078 * H, 30 * hf);

        /* limb bones */
        double fh[3] = {hip[0] - sg * 10, hip[1], hip[2] + 5};
        prim femhead = ellipsoid(fh[0], fh[1], fh[2], 24 * hf, 24 * hf, 24 * hf);
        add(sc, side ? L_FEMUR_R : L_FEMUR_L, femhead, s, 0);
        v3(a, fh[0] + sg * 8, fh[1], fh[2] - 20), v3(b, knee[0], knee[1], knee[2] + 15);
        add(sc, side ? L_FEMUR_R : L_FEMUR_L, capsule(a, b, 15 * hf, 20 * hf), s, 0);
        v3(a, knee[0], knee[1], knee[2] - 15), v3(b, ank[0], ank[1] + 5, ank[2] + 15);
        add(sc, side ? L_TIBIA_R : L_TIBIA_L, capsule(a, b, 22 * hf, 12 * hf), s, 0);
        add(sc, side ? L_HUMERUS_R : L_HUMERUS_L,
            ellipsoid(sh[0], sh[1], sh[2] - 10, 22 * hf, 22 * hf, 24 * hf), s, 0);
        v3(a, sh[0], sh[1], sh[2] - 20), v3(b, el[0], el[1], el[2] + 10);
        add(sc, side ? L_HUMERUS_R : L_HUMERUS_L, capsule(a, b, 11 * hf, 13 * hf), s, 0);
        /* hip bone: lateral-upper part of an ellipsoidal shell (iliac wing) */
        prim ilium =
            ellipsoid(sg * 0.62 * hip_rx / whip, -25 * hf, 0.565 * H, 60 * hf, 70 * hf, 55 * hf);
        ilium.shell = 8 * hf;
        ilium.has_plane = 1;
        ilium.plane[2] = -1.0, ilium.plane[3] = 0.54 * H; /* keep z >= 0.54 H */
        add(sc, side ? L_HIP_R : L_HIP_L, ilium, s, 0);
        add(sc, side ? L_HIP_R : L_HIP_L,
            ellipsoid(fh[0] + sg * 10, fh[1], fh[2] + 8, 30 * hf, 30 * hf, 28 * hf), s, 0);
        v3(a, fh[0] + sg * 5, fh[1] + 10, fh[2] - 20), v3(b, sg * 15, 45 * hf, 0.50 * H);
        add(sc, side ? L_HIP_R : L_HIP_L, capsule(a, b, 10 * hf, 10 * hf), s, 0);
    }

    /* Head: brain, CSF, skull, eyes. */
    const double hz = H - 0.062 * H;
    prim brain = ellipsoid(0, -5 * hf, hz, 66 * hf, 84 * hf, 58 * hf);
    add(sc, L_EYE_L, ellipsoid(-32 * hf, 72 * hf, H - 0.068 * H, 12, 12, 12), s, 1);
    add(sc, L_EYE_R, ellipsoid(32 * hf, 72 * hf, H - 0.068 * H, 12, 12, 12), s, 1);
    add(sc, L_BRAIN, brain, s, 0);
    prim csf = ellipsoid(0, -5 * hf, hz, 69 * hf, 87 * hf, 61 * hf);
    add(sc, L_CSF, csf, s, 0);
    prim skull = ellipsoid(0, -5 * hf, hz, 76 * hf, 94 * hf, 68 * hf);
    skull.shell = 7 * hf;
    add(sc, L_SKULL, skull, s, 0);

    /* Spine: cord in its CSF-filled canal, vertebral bodies, sacrum. */
    const double yb = -0.55 * lean_chest_ry, yc = yb - 28 * hf; /* body and canal lines */
    v3(a, 0, yc, 0.605 * H), v3(b, 0, yc + 10, 0.86 * H);
    add(sc, L_CORD, capsule(a, b, 5 * hf, 5 * hf), s, 0);
    v3(a, 0, yc + 10, 0.86 * H), v3(b, 0, -25 * hf, 0.91 * H);
    add(sc, L_CORD, capsule(a, b, 5 * hf, 7 * hf), s, 0);
    v3(a, 0, yc, 0.56 * H), v3(b, 0, yc + 10, 0.86 * H);
    add(sc, L_CSF, capsule(a, b, 9 * hf, 9 * hf), s, 0);
    v3(a, 0, yb, 0.56 * H), v3(b, 0, yb + 5, 0.80 * H);
    add(sc, L_VERTEBRAE, capsule(a, b, 22 * hf, 17 * hf), s, 0);
    v3(a, 0, yb + 5, 0.80 * H), v3(b, 0, -25 * hf + 15, 0.875 * H);
    add(sc, L_VERTEBRAE, capsule(a, b, 16 * hf, 14 * hf), s, 0);
    v3(a, 0, yc - 2, 0.56 * H), v3(b, 0, yc + 8, 0.86 * H);
    add(sc, L_VERTEBRAE, capsule(a, b, 14 * hf, 14 * hf), s, 0); /* posterior arches */
    add(sc, L_SACRUM, ellipsoid(0, yb - 10 * hf, 0.530 * H, 45 * hf, 22 * hf, 50 * hf), s, 0);

    /* Thorax: cavity, ribs, sternum, lungs, heart, aorta. */
    const double cav_rx = lean_chest_rx - 22 * hf, cav_ry = lean_chest_ry - 20 * hf;
    sc->thx_cavity = ellipsoid(0, 0, 0.715 * H, cav_rx, cav_ry, 0.085 * H);
    prim ribs = ellipsoid(0, 0, 0.715 * H, cav_rx + 12, cav_ry + 12, 0.095 * H);
    ribs.shell = 9 * hf;
    ribs.band[0] = 0.64 * H, ribs.band[1] = 23 * hf, ribs.band[2] = 11 * hf;
    ribs.has_plane = 1, ribs.plane[2] = -1, ribs.plane[3] = 0.635 * H; /* below 10th rib: none */
    add(sc, L_RIBS, ribs, s, 0);
    add(sc, L_STERNUM, ellipsoid(0, cav_ry + 8, 0.735 * H, 18 * hf, 7 * hf, 0.055 * H), s, 0);
    add(sc, L_HEART, ellipsoid(-25 * hf, 0.30 * cav_ry, 0.695 * H, 55 * hf, 48 * hf, 60 * hf), s,
        1);
    v3(a, -5 * hf, 0.35 * cav_ry, 0.70 * H), v3(b, -12 * hf, 0.05 * cav_ry, 0.755 * H);
    add(sc, L_AORTA, capsule(a, b, 14 * hf, 14 * hf), s, 0);
    v3(a, -12 * hf, 0.05 * cav_ry, 0.755 * H), v3(b, -20 * hf, yb + 32 * hf, 0.72 * H);
    add(sc, L_AORTA, capsule(a, b, 13 * hf, 13 * hf), s, 0);
    v3(a, -20 * hf, yb + 32 * hf, 0.72 * H), v3(b, -10 * hf, yb + 30 * hf, 0.575 * H);
    add(sc, L_AORTA, capsule(a, b, 12 * hf, 9 * hf), s, 0);
    add(sc, L_LIVER,
        ellipsoid(0.40 * cav_rx, 0.05 * cav_ry, 0.640 * H, 0.62 * cav_rx, 0.75 * cav_ry, 75 * hf),
        s, 1);
    add(sc, L_LUNG_R,
        ellipsoid(0.50 * cav_rx, -0.10 * cav_ry, 0.725 * H, 0.48 * cav_rx, 0.80 * cav_ry,
                  0.075 * H),
        s, 1);
    add(sc, L_LUNG_L,
        ellipsoid(-0.50 * cav_rx, -0.10 * cav_ry, 0.730 * H, 0.45 * cav_rx, 0.80 * cav_ry,
                  0.070 * H),
        s, 1);

    /* Abdomen and pelvis. */
    const double acx = lean_waist_rx - 20 * hf, acy = lean_waist_ry - 18 * hf;
    sc->abd_cavity = ellipsoid(0, 8 * w, 0.580 * H, acx, acy, 0.085 * H);
    add(sc, L_SPLEEN,
        ellipsoid(-0.80 * cav_rx, -0.35 * cav_ry, 0.650 * H, 28 * hf, 50 * hf, 50 * hf), s, 1);
    add(sc, L_STOMACH,
        ellipsoid(-0.40 * cav_rx, 0.25 * cav_ry, 0.640 * H, 48 * hf, 38 * hf, 60 * hf), s, 1);
    add(sc, L_KIDNEY_L, ellipsoid(-55 * hf, yb + 15 * hf, 0.603 * H, 28 * hf, 24 * hf, 55 * hf), s,
        1);
    add(sc, L_KIDNEY_R, ellipsoid(55 * hf, yb + 15 * hf, 0.589 * H, 28 * hf, 24 * hf, 55 * hf), s,
        1);
    add(sc, L_BLADDER, ellipsoid(0, 35 * hf, 0.505 * H, 40 * hf, 32 * hf, 32 * hf), s, 1);

    for (int i = 0; i < 3; i++) sc->lo[i] = 1e30, sc->hi[i] = -1e30;
    for (int i = 0; i < 4; i++) box_grow(sc->lo, sc->hi, &sc->torso[i]);
    for (int i = 0; i < 2; i++) box_grow(sc->lo, sc->hi, &sc->head[i]);
    for (int side = 0; side < 2; side++)
        for (int i = 0; i < 3; i++) {
            box_grow(sc->lo, sc->hi, &sc->arm[side][i]);
            box_grow(sc->lo, sc->hi, &sc->leg[side][i]);
        }
}

/* Signed distance to the body surface; *region: 0 head/neck, 1 torso, 2 arm, 3 leg. */
static double body_sd(const scene *sc, const double p[3], int *region) {
    double t = sd_prim(&sc->torso[0], p);
    for (int i = 1; i < 4; i++) t = smin(t, sd_prim(&sc->torso[i], p), 60.0);
    double h = smin(sd_prim(&sc->head[0], p), sd_prim(&sc->head[1], p), 30.0);
    double arm = 1e30, leg = 1e30;
    for (int side = 0; side < 2; side++) {
        double as = sd_prim(&sc->arm[side][0], p), ls = sd_prim(&sc->leg[side][0], p);
        for (int i = 1; i < 3; i++) {
            as = smin(as, sd_prim(&sc->arm[side][i], p), 20.0);
            ls = smin(ls, sd_prim(&sc->leg[side][i], p), 30.0);
        }
        arm = fmin(arm, as), leg = fmin(leg, ls);
    }
    double d = smin(smin(t, h, 30.0), leg, 40.0);
    double best = fmin(fmin(t, h), fmin(leg, arm));
    *region = best == h ? 0 : best == t ? 1 : best == arm ? 2 : 3;
    return smin(d, arm, 15.0);
}

static int label_at(const scene *sc, const sb_subject *s, const double p[3]) {
    int region;
    double d = body_sd(sc, p, &region);
    if (d >= 0) return 0;
    if (d > -sc->skin_mm) return L_SKIN;
    static const double fat_female[4] = {0.25, 1.0, 0.8, 0.9}, fat_male[4] = {0.2, 1.0, 0.5, 0.55};
    double fat = sc->fat_mm * (s->sex == SB_SEX_MALE ? fat_male : fat_female)[region];
    if (d > -sc->skin_mm - fat) return L_SAT;
    for (int i = 0; i < sc->ns; i++) {
        const structure *st = &sc->s[i];
        if (!in_box(st->lo, st->hi, p)) continue;
        for (int j = 0; j < st->n; j++)
            if (in_box(st->p[j].lo, st->p[j].hi, p) && sd_prim(&st->p[j], p) < 0) return st->label;
    }
    double da = sd_prim(&sc->abd_cavity, p);
    if (da < 0) return da > -sc->vat_mm ? L_VAT : L_INTESTINE;
    if (sd_prim(&sc->thx_cavity, p) < 0) return L_VAT;
    return L_MUSCLE;
}

sb_status sb_anatomy_grid(const sb_subject *s, double voxel_mm, size_t dim[3], double origin[3],
                          sb_error *err) {
    if (!(voxel_mm >= 0.1 && voxel_mm <= 50.0))
        return sb_error_set(err, SB_ERR_USAGE, "--voxel %g mm is outside 0.1–50 mm", voxel_mm);
    scene *sc = malloc(sizeof *sc);
    if (!sc) return sb_error_set(err, SB_ERR_MEMORY, "out of memory");
    build_scene(s, voxel_mm, sc);
    const double margin = 10.0;
    uint64_t nvox = 1;
    for (int a = 0; a < 3; a++) {
        origin[a] = floor((sc->lo[a] - margin) / voxel_mm) * voxel_mm;
        double extent = sc->hi[a] + margin - origin[a];
        dim[a] = (size_t)ceil(extent / voxel_mm) + 1;
        nvox *= dim[a];
    }
    free(sc);
    /* label map (2 bytes) + two int16 contrasts + the writer's compressed copy: ~8 bytes/voxel */
    char what[160];
    snprintf(what, sizeof what, "a %zux%zux%zu grid at %g mm (%.0f million voxels)", dim[0], dim[1],
             dim[2], voxel_mm, (double)nvox / 1e6);
    return sb_memory_check(nvox * 8u, what, err);
}

sb_status sb_anatomy_voxelize(const sb_subject *s, double voxel_mm, const sb_ctx *ctx,
                              sb_volume **out, sb_error *err) {
    size_t dim[3];
    double origin[3];
    sb_status st = sb_anatomy_grid(s, voxel_mm, dim, origin, err);
    if (st) return st;
    double sp[3] = {voxel_mm, voxel_mm, voxel_mm};
    sb_volume *v;
    if ((st = sb_volume_create(dim, sp, SB_DT_UINT16, &v, err))) return st;
    for (int a = 0; a < 3; a++) v->affine[a][3] = origin[a];
    scene *sc = malloc(sizeof *sc);
    if (!sc) {
        sb_volume_free(v);
        return sb_error_set(err, SB_ERR_MEMORY, "out of memory");
    }
    build_scene(s, voxel_mm, sc);
    uint16_t *lab = v->data;
    atomic_size_t done = 0;
    const long nz = (long)dim[2];
#pragma omp parallel for schedule(dynamic, 1) num_threads(sb_ctx_threads(ctx))
    for (long k = 0; k < nz; k++) {
        double p[3];
        p[2] = origin[2] + (double)k * voxel_mm;
        for (size_t j = 0; j < dim[1]; j++) {
            p[1] = origin[1] + (double)j * voxel_mm;
            uint16_t *row = lab + dim[0] * (j + dim[1] * (size_t)k);
            for (size_t i = 0; i < dim[0]; i++) {
                p[0] = origin[0] + (double)i * voxel_mm;
                row[i] = (uint16_t)label_at(sc, s, p);
            }
        }
        size_t n = atomic_fetch_add(&done, 1) + 1;
#ifdef _OPENMP
        if (omp_get_thread_num() == 0)
#endif
            sb_progress(ctx, "anatomy", n, (size_t)nz);
    }
    sb_progress(ctx, "anatomy", (size_t)nz, (size_t)nz);
    free(sc);
    *out = v;
    return SB_OK;
}
