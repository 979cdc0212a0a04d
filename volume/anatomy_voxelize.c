/* anatomy_voxelize.c — a subject's scene (the anatomy mapped onto one body) and its voxelizer.
 *
 * Mapping: reference body -> subject by per-axis scale G (height; girth, then the body
 * composition's sideways scale; the head with the height's scale on every axis, blended along
 * the neck: lateral_m), then per structure a size factor f about its anchor (size model: ICRP
 * volume x body-surface-area ratio x log-normal CV) and a random shift. Distances are carried
 * back to subject millimetres with the smallest scale factor, a bound on the true distance.
 * Before any structure is placed, calibrate_body fits the envelope and the fat to the weight.
 *
 * Voxelizer: blocks of 32^3 voxels, processed in parallel (each voxel's value depends on its
 * position only, so the result is identical at any thread count), split in eight while a
 * distance bound cannot prove them uniform (fill_block); single voxels get their label and,
 * if asked, their partial volume (fill_voxel). Slabs of z planes are made block by block of
 * the whole grid, so any split gives the whole map's bytes.
 */
#include "anatomy_internal.h"
#include "deform.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#define BLOCK 32 /* top-level cube, voxels (a power of two) */
/* Distances are trusted within this factor when culling (the approximate ellipsoid and
 * superquadric distances can overestimate the true one near elongated tips). */
#ifndef CULL_FACTOR
#define CULL_FACTOR 2.0
#endif

typedef struct {
    const anat_structure *src;
    sdf_tree tree;        /* resolved copy */
    double anchor_ref[3]; /* reference-space anchor of the evaluated (right-side) tree */
    double center_ref[3]; /* scaling centre in reference space (mirrored side for left) */
    double f;             /* size factor */
    double target_mm3;    /* size model's volume in reference mm^3 (0: none) */
    double shift[3];      /* subject mm */
    double dscale;        /* reference distance -> subject mm */
    double lo[3], hi[3];  /* subject-space box */
    int tissue, core_tissue;
} scene_struct;

typedef struct {
    double g[3], gmin;
    /* lateral (x, y) factor of the mapping above the neck, and the neck's span (subject z):
     * see lateral_m */
    double head_m[2], head_z0, head_z1;
    int threads;         /* for the body-composition sampling */
    double brain_factor; /* the brain's random size factor (the skull follows it) */
    sb_body_composition comp;
    double params[P_COUNT];
    scene_struct *s;
    int n;
    sdf_tree *within; /* resolved copies of named shapes, by index */
    int nwithin;
    const sb_anatomy *a;
    deform_field warp; /* every point is evaluated at q + u(q) */
} scene;

/* The random deformation: SD of the control displacements and control spacing (mm). */
#define WARP_AMPLITUDE_MM 4.0
#define WARP_SPACING_MM 120.0
#define WARP_STEP_MM 8.0
/* Margin added to every structure's box (mm), see scene_build. */
#define BOX_PAD_MM 3.0

void anat_reference_params(double p[P_COUNT]) {
    p[P_SKIN_MM] = 2.0;
    p[P_FAT_TRUNK_MM] = 15.0;
    p[P_FAT_HIP_MM] = 12.0;
    p[P_FAT_LIMB_MM] = 7.0;
    p[P_FAT_HEAD_MM] = 3.0;
    p[P_FAT_BREAST_MM] = 9.0;
    p[P_BREAST_MM] = 0.0;
    p[P_VAT_MM] = 5.0;
    p[P_MUSCLE_SCALE] = 1.0;
    p[P_PELVIS_SCALE] = 1.0;
    p[P_SHOULDER_SCALE] = 1.0;
    p[P_HEAD_SCALE] = 1.0;
    p[P_CSF_MM] = 1.0;
}

/* Body surface area (Mosteller), m^2. */
static double bsa(double height_cm, double weight_kg) {
    return sqrt(height_cm * weight_kg / 3600.0);
}

/* Subject parameters in reference millimetres (divided by the girth scale so that after the
 * mapping they measure the intended subject millimetres). */
static void subject_params(const sb_subject *s, double voxel_mm, const double g[3],
                           double brain_factor, double p[P_COUNT]) {
    const double gmean = 0.5 * (g[0] + g[1]);
    const int male = s->sex == SB_SEX_MALE;
    double trunk = s->fat_mm;
    p[P_SKIN_MM] = fmax(2.0, 1.5 * voxel_mm); /* > 1 voxel: the skin has no gaps */
    p[P_FAT_TRUNK_MM] = trunk;
    p[P_FAT_HIP_MM] = trunk * (male ? 0.8 : 1.25);
    p[P_FAT_LIMB_MM] = trunk * (male ? 0.45 : 0.75);
    p[P_FAT_HEAD_MM] = fmax(2.0, trunk * 0.15);
    p[P_FAT_BREAST_MM] = trunk * (male ? 0.6 : 1.3);
    p[P_BREAST_MM] = male ? 0.0 : fmax(25.0, 45.0 + 2.0 * (s->bmi - 22.0));
    p[P_VAT_MM] = fmax(2.0, (male ? 1.1 : 0.6) * (s->bmi - 17.0));
    for (int i = 0; i <= P_VAT_MM; i++) p[i] /= gmean;
    p[P_MUSCLE_SCALE] = 1.0;
    p[P_PELVIS_SCALE] = male ? 1.0 : 1.08;
    p[P_SHOULDER_SCALE] = male ? 1.0 : 0.92;
    /* The skull holds the brain: its size follows the brain's volume (ICRP 89: 1450 g men,
     * 1300 g women at 176 / 163 cm, scaled with height^3, times the subject's own brain size
     * draw), not the body's girth. The reference man's cranial cavity fits 1381 ml. */
    double brain = (male ? 1450.0 : 1300.0) / 1.05 * pow(s->height_cm / (male ? 176.0 : 163.0), 3) *
                   brain_factor;
    /* x 1.025: the labelled brain fills ~68 % of the cavity (its sulci, fissures and cut floor),
     * so the cavity is a little larger than the one that fits the ICRP brain's envelope
     * (anatomy_validate, 30 + 30 subjects at 2 mm: brain -14.4 % men / -15.9 % women without) */
    /* the subarachnoid space over the brain: 1 mm, at least a voxel, so that it is sampled as
     * one piece (thinner, the grid cuts it into pockets between the brain and the skull); the
     * cavity (mean radius ~75 mm) grows by what a thicker space takes, so the brain keeps its
     * volume at any voxel size */
    const double csf = fmax(1.0, voxel_mm);
    p[P_HEAD_SCALE] = 1.025 * cbrt(brain / (1450.0 / 1.05 * pow(175.0 / 176.0, 3))) *
                      (1.0 + (csf - 1.0) / 75.0) / g[2];
    p[P_CSF_MM] = csf / g[2];
}

static void scene_free(scene *sc) {
    for (int i = 0; i < sc->n; i++) sdf_tree_free(&sc->s[i].tree);
    for (int i = 0; i < sc->nwithin; i++) sdf_tree_free(&sc->within[i]);
    free(sc->s);
    free(sc->within);
    deform_free(&sc->warp);
}

static int tissue_index(const char *name);

/* The mapping's factor along lateral axis k (0, 1) at subject height z: 1 in the body, head_m
 * in the head, blended smoothly along the neck. The head is mapped with the height's scale on
 * every axis (g[2]): girth and body composition widen the body, not the skull and its
 * contents, and the head keeps the reference's fraction of the stature. */
static double lateral_m(const scene *sc, int k, double z) {
    double t = (z - sc->head_z0) / (sc->head_z1 - sc->head_z0);
    t = t < 0 ? 0 : t > 1 ? 1 : t * t * (3 - 2 * t);
    return 1.0 + t * (sc->head_m[k] - 1.0);
}

/* Reference coordinate x along axis k mapped to the subject (before shifts): the interval
 * spanned over the lateral factors in use, widened into [*lo, *hi]. */
static void map_extend(const scene *sc, int k, double x, double *lo, double *hi) {
    double a = x * sc->g[k], b = k < 2 ? a * sc->head_m[k] : a;
    *lo = fmin(*lo, fmin(a, b));
    *hi = fmax(*hi, fmax(a, b));
}

/* The head's mapping (see lateral_m) over the neck from C7 to C2 (landmarks; without them the
 * whole body is mapped alike), and the smallest scale factor. */
static void set_head_mapping(scene *sc) {
    const sb_anatomy *a = sc->a;
    const int c7 = anat_find_landmark(a, "C7"), c2 = anat_find_landmark(a, "C2");
    sc->head_z0 = 1e30, sc->head_z1 = 2e30;
    sc->head_m[0] = sc->head_m[1] = 1.0;
    if (c7 >= 0 && c2 >= 0 && a->landmarks[c2].p[2] > a->landmarks[c7].p[2]) {
        sc->head_z0 = a->landmarks[c7].p[2] * sc->g[2];
        sc->head_z1 = a->landmarks[c2].p[2] * sc->g[2];
        sc->head_m[0] = sc->g[2] / sc->g[0];
        sc->head_m[1] = sc->g[2] / sc->g[1];
    }
    sc->gmin = fmin(fmin(sc->g[0], sc->g[1]), sc->g[2]); /* g[2] is the head's on every axis */
}

/* Box of the body (the named shape "body", else all structures), subject mm, undeformed. */
static void scene_box(const scene *sc, double lo[3], double hi[3]) {
    const sb_anatomy *a = sc->a;
    for (int k = 0; k < 3; k++) lo[k] = 1e30, hi[k] = -1e30;
    if (a->body_shape >= 0) {
        const sdf_node *b = &sc->within[a->body_shape].nodes[sc->within[a->body_shape].root];
        for (int k = 0; k < 3; k++) {
            map_extend(sc, k, b->lo[k], &lo[k], &hi[k]);
            map_extend(sc, k, b->hi[k], &lo[k], &hi[k]);
        }
    } else {
        for (int i = 0; i < sc->n; i++)
            for (int k = 0; k < 3; k++)
                lo[k] = fmin(lo[k], sc->s[i].lo[k]), hi[k] = fmax(hi[k], sc->s[i].hi[k]);
    }
}

/* Fraction of a voxel of size w inside a surface at signed distance d from its centre (a plane
 * across the voxel: the box filter of the distance; unbiased for planes, it overestimates a
 * convex structure's volume by about w^2 / (4 R^2) for a radius R). */
static double coverage(double d, double w) {
    double c = 0.5 - d / w;
    return c < 0 ? 0 : c > 1 ? 1 : c;
}

/* A structure's random draws, keyed by its label id (or its size group's): independent of the
 * set of structures, so editing one structure never changes another's draw. z[0] sizes it,
 * z[1..3] shift it; returns its log-normal size factor (mean 1, CV cv). */
static double structure_draws(const anat_structure *st, const sb_subject *subj, double z[4]) {
    sb_rng r;
    sb_rng_init(&r, subj->seed, subj->subject, SB_STREAM_ANATOMY + 65536u * st->draw_key);
    for (int i = 0; i < 4; i++) z[i] = sb_rng_normal(&r);
    double sig = sqrt(log(1 + st->cv * st->cv));
    return exp(sig * z[0] - 0.5 * sig * sig);
}

/* ---- body composition -----------------------------------------------------------------------
 * The body's mass follows the subject's weight: the muscle envelope ("lean", with the body
 * cavities) is scaled sideways to the lean mass and the subcutaneous fat thicknesses (fat_*
 * parameters) to the rest, from the named shapes' volumes (hierarchical sampling; no voxels).
 *   adipose tissue = body fat / 0.8, body fat % from BMI, age and sex (Gallagher et al., Am J
 *   Clin Nutr 2000;72:694: 64.5 - 848/BMI + 0.079 age - 16.4 male + 0.05 male age +
 *   39.0 male/BMI): reference man (176 cm, 73 kg, 35 y) 18.4 % -> 16.8 kg adipose, woman
 *   (163 cm, 60 kg) 29.7 % -> 22.3 kg (ICRP 89: 18.2 / 22.5 kg);
 *   visceral fat (inside the cavities) is ~18 % of adipose tissue in men, ~10 % in women
 *   (ANATOMY.md §6), the rest subcutaneous;
 *   mean densities (g/ml) inside the envelope: 1.16 muscle and bone, 0.44 thoracic cavity (lungs
 *   0.3, heart, mediastinum), 1.0 abdominopelvic cavity; 0.92 fat, 1.09 skin. */
#define RHO_LEAN 1.16
#define RHO_THORAX 0.44
#define RHO_ABDOMEN 1.0
#define RHO_FAT 0.92
#define RHO_SKIN 1.09

/* What a volume is measured of (reference space): named shape `shape`, or, with ss set,
 * structure ss at size factor f (its random shift included) clipped by its "within" shape. */
typedef struct {
    int shape;
    const scene_struct *ss;
    double f, shift[3];
    double cull; /* cubes farther than cull x their half diagonal from the surface are whole */
} vol_query;

static double ref_limit(double below, double scale);

/* The query's distance at r when it is below `below`, else some value >= below (see
 * sdf_eval_below). */
static double query_dist(const vol_query *q, sdf_ctx *cx, const double r[3], double below) {
    if (!q->ss) return sdf_eval_shape_below(cx, q->shape, r, below);
    const scene_struct *ss = q->ss;
    double p[3];
    for (int k = 0; k < 3; k++)
        p[k] = ss->center_ref[k] + (r[k] - q->shift[k] - ss->center_ref[k]) / q->f;
    if (ss->src->mirrored) p[0] = -p[0];
    for (int k = 0; k < 3; k++) p[k] -= ss->anchor_ref[k];
    double d = sdf_eval_below(&ss->tree, ss->tree.root, p, cx, ref_limit(below, q->f)) * q->f;
    if (ss->src->within >= 0 && !(d >= below)) /* (NaN: fmax takes the other) */
        d = fmax(d, sdf_eval_shape_below(cx, ss->src->within, r, below));
    return d;
}

/* Volume (reference mm^3) of the query inside the cube of half size h at c, and in *above the
 * part above z = zcut: cubes whose centre is farther than the safe distance from the surface
 * are inside or outside whole; the smallest ones (half size <= hmin) count their covered
 * fraction. */
static double query_volume_rec(const vol_query *qy, sdf_ctx *cx, const double c[3], double h,
                               double hmin, double zcut, double *above) {
    /* the value is needed where it is at most `safe` */
    const double safe = qy->cull * sqrt(3.0) * h;
    double d = query_dist(qy, cx, c, nextafter(safe, HUGE_VAL)), v;
    if (d > safe) return 0.0;
    if (d < -safe || h <= hmin) {
        v = 8.0 * h * h * h * (d < -safe ? 1.0 : coverage(d, 2.0 * h));
        *above += v * fmin(fmax((c[2] + h - zcut) / (2.0 * h), 0.0), 1.0);
        return v;
    }
    v = 0;
    for (int o = 0; o < 8; o++) {
        double q[3] = {c[0] + (o & 1 ? 0.5 : -0.5) * h, c[1] + (o & 2 ? 0.5 : -0.5) * h,
                       c[2] + (o & 4 ? 0.5 : -0.5) * h};
        v += query_volume_rec(qy, cx, q, 0.5 * h, hmin, zcut, above);
    }
    return v;
}

/* A volume (reference mm^3): in the body and in the head (above the middle of the neck),
 * which are mapped differently (lateral_m). */
typedef struct {
    double body, head;
} split_volume;

/* The cubes of query_volume, taken in turn by its threads. */
typedef struct {
    const scene *sc;
    const vol_query *qy;
    double lo[3], h, hmin, zcut;
    long n[3], ncubes;
    double *v; /* per cube: its volume, the part above zcut */
    atomic_long next;
    atomic_int fail;
} volume_work;

static void *volume_worker(void *arg) {
    volume_work *w = arg;
    sdf_ctx cx;
    if (!sdf_ctx_init(&cx, w->sc->within, w->sc->nwithin)) {
        atomic_store(&w->fail, 1);
        return NULL;
    }
    const double h = w->h;
    for (long c; (c = atomic_fetch_add(&w->next, 1)) < w->ncubes;) {
        double q[3] = {w->lo[0] + h * (double)(2 * (c % w->n[0]) + 1),
                       w->lo[1] + h * (double)(2 * ((c / w->n[0]) % w->n[1]) + 1),
                       w->lo[2] + h * (double)(2 * (c / (w->n[0] * w->n[1])) + 1)};
        w->v[2 * c] = query_volume_rec(w->qy, &cx, q, h, w->hmin, w->zcut, &w->v[2 * c + 1]);
    }
    sdf_ctx_free(&cx);
    return NULL;
}

#define VOLUME_THREADS 64
/* The query's volume in the box [lo, hi], top cubes of half size h down to hmin; {-1, -1} on
 * out of memory. Per cube into its own slot, summed in order: the same at any thread count.
 * On POSIX threads started and joined here, not OpenMP: between the ~30 volumes of a subject's
 * calibration the process runs serial code, through which an OpenMP team's idle thread spins
 * (on the shared 2-core machine 0.2 s of CPU, and as much wall time, of the 2 mm label map's 3.4).
 */
static split_volume query_volume(const scene *sc, const vol_query *qy, const double lo[3],
                                 const double hi[3], double h, double hmin) {
    split_volume sv = {0, 0};
    volume_work w = {.sc = sc, .qy = qy, .h = h, .hmin = hmin};
    w.zcut = 0.5 * (sc->head_z0 + sc->head_z1) / sc->g[2];
    for (int a = 0; a < 3; a++) {
        w.lo[a] = lo[a];
        w.n[a] = (long)fmax(ceil((hi[a] - lo[a]) / (2 * h)), 1.0);
    }
    w.ncubes = w.n[0] * w.n[1] * w.n[2];
    w.v = calloc((size_t)(2 * w.ncubes), sizeof *w.v);
    if (!w.v) return (split_volume){-1, -1};
    atomic_init(&w.next, 0);
    atomic_init(&w.fail, 0);
    const int nthreads = sc->threads < 1                ? 1
                         : sc->threads > VOLUME_THREADS ? VOLUME_THREADS
                                                        : sc->threads;
    pthread_t tid[VOLUME_THREADS];
    int started = 0; /* a thread that cannot be started leaves its cubes to the others */
    while (started < nthreads - 1 && !pthread_create(&tid[started], NULL, volume_worker, &w))
        started++;
    volume_worker(&w);
    for (int t = 0; t < started; t++) pthread_join(tid[t], NULL);
    for (long c = 0; c < w.ncubes; c++)
        sv.body += w.v[2 * c] - w.v[2 * c + 1], sv.head += w.v[2 * c + 1];
    free(w.v);
    return atomic_load(&w.fail) ? (split_volume){-1, -1} : sv;
}

/* A named shape's volume: top cubes of 64 mm, down to 8 mm. */
static split_volume shape_volume(const scene *sc, int k) {
    if (k < 0) return (split_volume){0, 0};
    const sdf_node *r = &sc->within[k].nodes[sc->within[k].root];
    const vol_query qy = {.shape = k, .cull = CULL_FACTOR};
    return query_volume(sc, &qy, r->lo, r->hi, 32.0, 4.0);
}

/* Reference mm^3 -> subject litres in the body and in the head. */
static void jacobians(const scene *sc, double *body, double *head) {
    *body = sc->g[0] * sc->g[1] * sc->g[2] * 1e-6;
    *head = *body * sc->head_m[0] * sc->head_m[1];
}

static int resolve_shapes(scene *sc) {
    for (int i = 0; i < sc->nwithin; i++)
        if (!sdf_resolve(&sc->within[i], sc->params, sc->within)) return 0;
    return 1;
}

/* Resolves the shapes with the fat thicknesses of `base` times f; *mass (kg) of the fat
 * between body and envelope (the envelope's volume vl). */
static int fat_mass(scene *sc, const double base[P_COUNT], double f, int ibody, split_volume vl,
                    double *mass) {
    memcpy(sc->params, base, sizeof sc->params);
    for (int i = P_FAT_TRUNK_MM; i <= P_FAT_BREAST_MM; i++) sc->params[i] *= f;
    if (!resolve_shapes(sc)) return 0;
    split_volume vb = shape_volume(sc, ibody);
    if (vb.body < 0) return 0;
    double jb, jh;
    jacobians(sc, &jb, &jh);
    *mass = RHO_FAT * (jb * fmax(vb.body - vl.body, 0.0) + jh * fmax(vb.head - vl.head, 0.0));
    return 1;
}

/* Scales the envelope sideways (g[0], g[1]; not the head, see lateral_m) and the fat
 * thicknesses to the subject's weight (see above); anatomies without "body" and "lean" shapes
 * are left as they are. 0 on out of memory. */
static int calibrate_body(scene *sc, const sb_subject *subj, double voxel_mm) {
    const sb_anatomy *a = sc->a;
    const int ibody = a->body_shape, ilean = anat_find_shape(a, "lean");
    if (ibody < 0 || ilean < 0) return 1;
    const int male = subj->sex == SB_SEX_MALE;
    const double bmi = subj->bmi, age = subj->age_y, w = subj->weight_kg;
    double bf =
        (64.5 - 848.0 / bmi + 0.079 * age - 16.4 * male + 0.05 * male * age + 39.0 * male / bmi) /
        100.0;
    bf = fmin(fmax(bf, 0.04), 0.60);
    const double adipose = bf * w / 0.8, vat_share = male ? 0.18 : 0.10;
    const double target_lean = w - adipose * (1.0 - vat_share);
    /* the envelope; the cavities are inside it, below the neck */
    split_volume vl = shape_volume(sc, ilean),
                 vt = shape_volume(sc, anat_find_shape(a, "thoracic_cavity")),
                 va = shape_volume(sc, anat_find_shape(a, "abdominopelvic_cavity"));
    if (vl.body < 0 || vt.body < 0 || va.body < 0) return 0;
    double jb, jh;
    jacobians(sc, &jb, &jh);
    /* the body's part grows with g[0] g[1], the head's does not */
    const double m_head = jh * RHO_LEAN * vl.head;
    double m_body = jb * (RHO_LEAN * (vl.body - vt.body - va.body) + RHO_THORAX * vt.body +
                          RHO_ABDOMEN * va.body);
    double s = fmin(fmax(sqrt(fmax(target_lean - m_head, 0.0) / m_body), 0.7), 1.3);
    sc->g[0] *= s;
    sc->g[1] *= s;
    set_head_mapping(sc);
    const double m_lean = m_body * s * s + m_head;
    /* the fat: thicknesses x phi, solved by the secant method on the body's volume */
    double base[P_COUNT];
    subject_params(subj, voxel_mm, sc->g, sc->brain_factor, base);
    const double skin_mm = base[P_SKIN_MM] * 0.5 * (sc->g[0] + sc->g[1]);
    const double skin_extra =
        (RHO_SKIN - RHO_FAT) * 1e-3 * skin_mm * sqrt(subj->height_cm * w / 3600.0) /* BSA m^2 */;
    const double target = w - m_lean - skin_extra;
    double f0 = 1.0, m0 = 0, f1, m1 = 0;
    int ok = fat_mass(sc, base, f0, ibody, vl, &m0);
    f1 = fmin(fmax(m0 > 0 ? target / m0 : 1.0, 0.02), 4.0);
    for (int it = 0; ok && it < 3; it++) {
        if (!(ok = fat_mass(sc, base, f1, ibody, vl, &m1))) break;
        if (fabs(m1 - target) < 0.002 * w || fabs(m1 - m0) < 1e-9) break; /* 0.2 % of weight */
        double f2 = fmin(fmax(f1 + (target - m1) * (f1 - f0) / (m1 - m0), 0.02), 4.0);
        f0 = f1, m0 = m1, f1 = f2;
        if (it == 2) ok = fat_mass(sc, base, f1, ibody, vl, &m1); /* resolve the last */
    }
    sc->comp = (sb_body_composition){.body_fat_percent = 100 * bf,
                                     .adipose_kg = adipose,
                                     .lean_scale = s,
                                     .fat_scale = f1,
                                     .trunk_fat_mm = subj->fat_mm * f1,
                                     .model_kg = m_lean + m1 + skin_extra};
    return ok;
}

/* Structure m is a clipped member of the size group of structure st. */
static int in_clipped_group(const scene_struct *m, const anat_structure *st) {
    return m->src->volume_clipped && m->src->draw_key == st->draw_key;
}

/* The summed clipped volume (reference mm^3) of the clipped members of structure i's group,
 * from i on, at c times their size factors. 0 on out of memory. */
static int group_clipped_volume(const scene *sc, int i, double c, double *vol) {
    *vol = 0;
    for (int j = i; j < sc->n; j++) {
        const scene_struct *m = &sc->s[j];
        if (!in_clipped_group(m, sc->s[i].src)) continue;
        /* cubes of ~1/10 of the organ's size, the distance bound taken as exact: 0.2 s of CPU
         * for a subject's liver and lungs, where cubes of 1/20 and CULL_FACTOR took 1.1 s; this
         * overestimates the volume a little, so the livers come out ~2.5 % smaller (the lungs
         * 0.6 %), which volume_ml absorbs */
        vol_query qy = {.ss = m, .f = c * m->f, .cull = 1.0};
        double lo[3], hi[3];
        const sdf_node *root = &m->tree.nodes[m->tree.root];
        for (int k = 0; k < 3; k++) {
            qy.shift[k] = m->shift[k] / sc->g[k];
            double a = root->lo[k] + m->anchor_ref[k], b = root->hi[k] + m->anchor_ref[k];
            if (k == 0 && m->src->mirrored) {
                double t = a;
                a = -b;
                b = -t;
            }
            lo[k] = m->center_ref[k] + (a - m->center_ref[k]) * qy.f + qy.shift[k] - BOX_PAD_MM;
            hi[k] = m->center_ref[k] + (b - m->center_ref[k]) * qy.f + qy.shift[k] + BOX_PAD_MM;
        }
        const double hmin = fmin(fmax(cbrt(m->target_mm3) / 20.0, 0.5), 8.0);
        split_volume sv = query_volume(sc, &qy, lo, hi, 8.0 * hmin, hmin);
        if (sv.body < 0) return 0;
        *vol += sv.body + sv.head;
    }
    return 1;
}

static double resize_factor(const sb_subject *subj, const anat_structure *st);

/* "volume_clipped" structures: their volume_ml is what is left inside their "within" shape,
 * which a larger organ fills rather than overflows (the liver under the diaphragm and the ribs).
 * One factor c on the size factors of a size group's clipped members (so they stay fitted) is
 * solved so that their clipped volumes add up to their targets, by the secant method on
 * log V(log c) (V grows like c^1.3 where the clip binds, not c^3): 1 %, 5 volumes at most,
 * c within [0.7, 2.0], up to 2.0 x the volume factor of a resize (sb_subject.resize): a
 * typical liver needs c ~1.9 already, so an enlarged one stopped at the bound (x1.17 of its
 * voxels for x1.6 asked at 6 mm; x1.49 with it). 0 on out of memory. */
static int calibrate_clipped(scene *sc, const sb_subject *subj) {
    for (int i = 0; i < sc->n; i++) {
        const anat_structure *st = sc->s[i].src;
        if (!st->volume_clipped || sc->s[i].target_mm3 <= 0) continue;
        int first = 1; /* the group is calibrated at its first clipped member */
        for (int j = 0; j < i && first; j++) first = !in_clipped_group(&sc->s[j], st);
        if (!first) continue;
        double target = 0;
        for (int j = i; j < sc->n; j++)
            if (in_clipped_group(&sc->s[j], st)) target += sc->s[j].target_mm3;
        double c = 1.0, v, cmax = 2.0 * fmax(resize_factor(subj, st), 1.0);
        if (!group_clipped_volume(sc, i, c, &v)) return 0;
        double slope = 1.5; /* a first guess of d log V / d log c */
        for (int it = 0; it < 4 && v > 0 && fabs(v / target - 1) >= 0.01; it++) {
            const double cn = fmin(fmax(c * pow(target / v, 1.0 / slope), 0.7), cmax);
            if (cn == c) break;
            double vn;
            if (!group_clipped_volume(sc, i, cn, &vn)) return 0;
            if (vn > 0 && vn != v) slope = fmin(fmax(log(vn / v) / log(cn / c), 0.5), 3.0);
            c = cn, v = vn;
        }
        for (int j = i; j < sc->n; j++)
            if (in_clipped_group(&sc->s[j], st)) sc->s[j].f *= c;
    }
    return 1;
}

/* The subject's resize factor for a structure (sb_subject.resize): the product of those naming
 * it or its size group; 1 if none does. */
static double resize_factor(const sb_subject *subj, const anat_structure *st) {
    double f = 1;
    for (int r = 0; r < subj->nresize; r++)
        if (!strcmp(subj->resize[r].name, st->label.name) ||
            (st->size_group[0] && !strcmp(subj->resize[r].name, st->size_group)))
            f *= subj->resize[r].factor;
    return f;
}

static sb_status check_resize(const sb_anatomy *a, const sb_subject *subj, sb_error *err) {
    if (subj->nresize < 0 || subj->nresize > SB_RESIZE_MAX)
        return sb_error_set(err, SB_ERR_USAGE, "%d structure resizes asked for; at most %d",
                            subj->nresize, SB_RESIZE_MAX);
    for (int r = 0; r < subj->nresize; r++) {
        const char *name = subj->resize[r].name;
        const double f = subj->resize[r].factor;
        if (!(f >= 0.1 && f <= 10))
            return sb_error_set(err, SB_ERR_USAGE, "resize of %s: factor %g is not in 0.1..10",
                                name, f);
        int found = 0;
        for (int i = 0; i < a->nstructs && !found; i++)
            found =
                !strcmp(a->structs[i].label.name, name) || !strcmp(a->structs[i].size_group, name);
        if (!name[0] || !found)
            return sb_error_set(err, SB_ERR_USAGE,
                                "resize: \"%s\" names no structure or size group of the anatomy",
                                name);
    }
    return SB_OK;
}

static sb_status scene_build(const sb_anatomy *a, const sb_subject *subj, double voxel_mm,
                             int threads, scene *sc, sb_error *err) {
    memset(sc, 0, sizeof *sc);
    sb_status rs = check_resize(a, subj, err);
    if (rs) return rs;
    sc->a = a;
    sc->threads = threads;
    const int male = subj->sex == SB_SEX_MALE;
    double gz = subj->height_cm / 175.0;
    double girth = pow(fmin(fmax(subj->bmi, 15.0), 60.0) / 22.0, 0.15); /* muscle, not fat */
    sc->g[2] = gz;
    sc->g[0] = gz * girth * (male ? 1.0 : 0.95);
    sc->g[1] = gz * girth * (male ? 1.0 : 0.97);
    set_head_mapping(sc);
    /* the brain's random size, for the skull */
    sc->brain_factor = 1.0;
    for (int i = 0; i < a->nstructs; i++)
        if (!strcmp(a->structs[i].label.name, "brain")) {
            double z[4];
            sc->brain_factor =
                structure_draws(&a->structs[i], subj, z) * resize_factor(subj, &a->structs[i]);
            break;
        }
    subject_params(subj, voxel_mm, sc->g, sc->brain_factor, sc->params);
    sc->s = calloc((size_t)a->nstructs, sizeof *sc->s);
    sc->within = calloc((size_t)(a->nshapes ? a->nshapes : 1), sizeof *sc->within);
    if (!sc->s || !sc->within) {
        scene_free(sc);
        return sb_error_set(err, SB_ERR_MEMORY, "out of memory");
    }
    sc->nwithin = a->nshapes;
    for (int i = 0; i < a->nshapes; i++)
        if (!sdf_tree_copy(&sc->within[i], &a->shapes[i].tree) ||
            !sdf_resolve(&sc->within[i], sc->params, sc->within)) {
            scene_free(sc);
            return sb_error_set(err, SB_ERR_MEMORY, "out of memory");
        }
    if (!calibrate_body(sc, subj, voxel_mm)) {
        scene_free(sc);
        return sb_error_set(err, SB_ERR_MEMORY, "out of memory");
    }
    const double ref_bsa = male ? bsa(176, 73) : bsa(163, 60);
    const double ratio_bsa = bsa(subj->height_cm, subj->weight_kg) / ref_bsa;
    for (int i = 0; i < a->nstructs; i++) {
        const anat_structure *st = &a->structs[i];
        if (st->sex >= 0 && st->sex != (int)subj->sex) continue;
        scene_struct *ss = &sc->s[sc->n];
        ss->src = st;
        if (!sdf_tree_copy(&ss->tree, &st->tree) ||
            !sdf_resolve(&ss->tree, sc->params, sc->within)) {
            sc->n++;
            scene_free(sc);
            return sb_error_set(err, SB_ERR_MEMORY, "out of memory");
        }
        sc->n++;
        if (st->anchor >= 0) {
            memcpy(ss->anchor_ref, a->landmarks[st->anchor].p, sizeof ss->anchor_ref);
            /* the left copy's anchor is a _left landmark: its tree (described on the right) is
             * evaluated at mirrored points, relative to the mirror image of that landmark */
            if (st->mirrored) ss->anchor_ref[0] = -ss->anchor_ref[0];
        }
        const sdf_node *root = &ss->tree.nodes[ss->tree.root];
        for (int k = 0; k < 3; k++)
            ss->center_ref[k] =
                st->anchor >= 0 ? ss->anchor_ref[k] : 0.5 * (root->lo[k] + root->hi[k]);
        if (st->mirrored) ss->center_ref[0] = -ss->center_ref[0];
        double z[4];
        const double draw = structure_draws(st, subj, z) * resize_factor(subj, st);
        ss->f = 1.0;
        if (st->volume_ml[0] > 0) {
            double target = st->volume_ml[male ? SB_SEX_MALE : SB_SEX_FEMALE];
            if (st->scaling == SCALE_BSA) target *= ratio_bsa;
            if (st->scaling == SCALE_HEIGHT) target *= pow(gz * 175.0 / (male ? 176.0 : 163.0), 3);
            target *= draw;
            const double zc = ss->center_ref[2] * sc->g[2];
            ss->target_mm3 =
                1000.0 * target /
                (sc->g[0] * sc->g[1] * sc->g[2] * lateral_m(sc, 0, zc) * lateral_m(sc, 1, zc));
            ss->f = cbrt(ss->target_mm3 / (1000.0 * st->ref_volume_ml));
        } else if (st->cv > 0) {
            ss->f = cbrt(draw);
        }
        for (int k = 0; k < 3; k++) ss->shift[k] = st->jitter_mm * z[1 + k];
    }
    if (!calibrate_clipped(sc, subj)) {
        scene_free(sc);
        return sb_error_set(err, SB_ERR_MEMORY, "out of memory");
    }
    for (int n = 0; n < sc->n; n++) {
        scene_struct *ss = &sc->s[n];
        const anat_structure *st = ss->src;
        const sdf_node *root = &ss->tree.nodes[ss->tree.root];
        ss->dscale = sc->gmin * ss->f;
        /* subject-space box: map the reference box corners */
        double lo[3] = {root->lo[0], root->lo[1], root->lo[2]},
               hi[3] = {root->hi[0], root->hi[1], root->hi[2]};
        for (int k = 0; k < 3; k++) lo[k] += ss->anchor_ref[k], hi[k] += ss->anchor_ref[k];
        if (st->mirrored) {
            double t = lo[0];
            lo[0] = -hi[0];
            hi[0] = -t;
        }
        for (int k = 0; k < 3; k++) {
            double u = 1e30, v = -1e30;
            map_extend(sc, k, ss->center_ref[k] + (lo[k] - ss->center_ref[k]) * ss->f, &u, &v);
            map_extend(sc, k, ss->center_ref[k] + (hi[k] - ss->center_ref[k]) * ss->f, &u, &v);
            /* the approximate distances (ellipsoids, superquadrics and their offsets) reach a
             * little past the nodes' boxes */
            ss->lo[k] = u + ss->shift[k] - BOX_PAD_MM;
            ss->hi[k] = v + ss->shift[k] + BOX_PAD_MM;
        }
        if (st->within >= 0) { /* clip the box by the named shape's box */
            const sdf_node *w = &sc->within[st->within].nodes[sc->within[st->within].root];
            for (int k = 0; k < 3; k++) {
                double u = 1e30, v = -1e30;
                map_extend(sc, k, w->lo[k], &u, &v);
                map_extend(sc, k, w->hi[k], &u, &v);
                ss->lo[k] = fmax(ss->lo[k], u);
                ss->hi[k] = fmin(ss->hi[k], v);
            }
        }
        ss->tissue = tissue_index(st->label.tissue);
        ss->core_tissue = st->core_tissue[0] ? tissue_index(st->core_tissue) : -1;
    }
    sdf_share_leaves(sc->within, sc->nwithin); /* the shapes are final */
    double lo[3], hi[3];
    scene_box(sc, lo, hi);
    if (!deform_build(&sc->warp, lo, hi, WARP_AMPLITUDE_MM, WARP_SPACING_MM, WARP_STEP_MM,
                      subj->seed, subj->subject)) {
        scene_free(sc);
        return sb_error_set(err, SB_ERR_MEMORY, "out of memory");
    }
    return SB_OK;
}

/* A limit in subject mm as a limit of reference distances that are multiplied by `scale`: a
 * reference value at or above it gives a subject value at or above `below`. */
static double ref_limit(double below, double scale) {
    return below / scale + 1e-9 * (fabs(below / scale) + 1.0);
}

/* A subject point and what every structure's distance at it needs: the mapping's scales g at
 * its height (see lateral_m) and the point in the reference frame of the "within" shapes. */
typedef struct {
    double q[3], g[3], r[3];
    int have_r; /* r is computed when first needed */
} mapped_point;

static void map_point(const scene *sc, const double q[3], mapped_point *m) {
    const double g[3] = {sc->g[0] * lateral_m(sc, 0, q[2]), sc->g[1] * lateral_m(sc, 1, q[2]),
                         sc->g[2]};
    for (int k = 0; k < 3; k++) m->q[k] = q[k], m->g[k] = g[k];
    m->have_r = 0;
}

/* Signed distance (subject mm) of mapped point m to scene structure ss when it is below
 * `below`, else some value >= below (see sdf_eval_below; HUGE_VAL: always the distance). */
static double struct_dist(const scene *sc, const scene_struct *ss, mapped_point *m, sdf_ctx *cx,
                          double below) {
    double p[3];
    for (int k = 0; k < 3; k++)
        p[k] = ss->center_ref[k] + ((m->q[k] - ss->shift[k]) / m->g[k] - ss->center_ref[k]) / ss->f;
    if (ss->src->mirrored) p[0] = -p[0];
    for (int k = 0; k < 3; k++) p[k] -= ss->anchor_ref[k];
    /* the limits in reference mm, with a margin for the rounding of the products */
    double d =
        sdf_eval_below(&ss->tree, ss->tree.root, p, cx, ref_limit(below, ss->dscale)) * ss->dscale;
    if (ss->src->within >= 0 && !(d >= below)) { /* (NaN: fmax takes the other) */
        if (!m->have_r)
            for (int k = 0; k < 3; k++) m->r[k] = m->q[k] / m->g[k];
        m->have_r = 1;
        d = fmax(d, sdf_eval_shape_below(cx, ss->src->within, m->r, ref_limit(below, sc->gmin)) *
                        sc->gmin);
    }
    return d;
}

/* ---- tissues -------------------------------------------------------------------------------- */
static int tissue_index(const char *name) {
    for (int i = 0; sb_tissue_table[i].name; i++)
        if (!strcmp(sb_tissue_table[i].name, name)) return i;
    return 0;
}

/* ---- hierarchical voxelizer ---------------------------------------------------------------- */
#define PV_ONLY 0x40000000 /* candidate flag: for partial volume only (see fill_block) */
typedef struct {
    const scene *sc;
    sdf_ctx *cx; /* this thread's */
    uint16_t *L;
    uint8_t *T, *P, *F; /* tissues, partial volume: NULL when not asked for */
    size_t dim[3];      /* of the whole grid */
    size_t k0, k1;      /* the slab of z planes written, [k0, k1); the maps start at k0 */
    double origin[3], voxel;
} voxel_job;

static size_t voxel_index(const voxel_job *job, size_t i, size_t j, size_t k) {
    return i + job->dim[0] * (j + job->dim[1] * (k - job->k0));
}

static void fill(const voxel_job *job, size_t i0, size_t j0, size_t k0, size_t size, int label,
                 int tissue) {
    size_t ka = k0 > job->k0 ? k0 : job->k0, kb = k0 + size < job->k1 ? k0 + size : job->k1;
    size_t ni = i0 + size < job->dim[0] ? size : job->dim[0] - i0;
    for (size_t k = ka; k < kb; k++)
        for (size_t j = j0; j < j0 + size && j < job->dim[1]; j++) {
            size_t n = voxel_index(job, i0, j, k);
            for (size_t i = 0; i < ni; i++) job->L[n + i] = (uint16_t)label;
            if (job->T) memset(job->T + n, tissue, ni);
            if (job->P) {
                memset(job->P + n, tissue, ni);
                memset(job->F + n, 255, ni);
            }
        }
}

/* The tissues sharing one voxel and their shares. */
typedef struct {
    int n;
    unsigned char t[16];
    double share[16];
} voxel_mix;

static void mix_add(voxel_mix *x, int tissue, double share) {
    if (share <= 0) return;
    for (int e = 0; e < x->n; e++)
        if (x->t[e] == tissue) {
            x->share[e] += share;
            return;
        }
    if (x->n == (int)sizeof x->t) return; /* a 17th tissue in one voxel: ignored */
    x->t[x->n] = (unsigned char)tissue;
    x->share[x->n++] = share;
}

/* A cube's label and tissue when they are already decided (the cube lies in one structure, or
 * in none), else label < 0. */
typedef struct {
    int label, tissue;
} decided;

/* One voxel at warped centre c: the label and tissue of the first candidate (priority order,
 * PV_ONLY ones excepted) containing the centre, unless decided above; and, if asked, the
 * partial volume: candidates whose surface crosses the voxel take the fraction coverage(d) of
 * what higher-priority ones left (the rest is background); the tissue with the largest share
 * besides the centre's is the voxel's second tissue. */
static void fill_voxel(const voxel_job *job, size_t n, const double c[3], const int *cand,
                       int ncand, decided dec) {
    const scene *sc = job->sc;
    const double w = job->voxel, hw = 0.5 * w;
    int found = dec.label >= 0, label = found ? dec.label : 0, tissue = found ? dec.tissue : 0;
    double rem = 1.0;
    voxel_mix mix; /* (only its first n entries are read) */
    mix.n = 0;
    mapped_point mp;
    map_point(sc, c, &mp);
    for (int m = 0; m < ncand; m++) {
        if (found && !job->P) break;
        const scene_struct *ss = &sc->s[cand[m] & ~PV_ONLY];
        if (ss->lo[0] > c[0] + hw || ss->hi[0] < c[0] - hw || ss->lo[1] > c[1] + hw ||
            ss->hi[1] < c[1] - hw || ss->lo[2] > c[2] + hw || ss->hi[2] < c[2] - hw)
            continue;
        /* the label needs d < 0; partial volume the coverage, 0 from d >= w / 2 */
        double d = struct_dist(sc, ss, &mp, job->cx, job->P ? hw : 0.0);
        const double depth = ss->src->core_depth_mm;
        if (!found && d < 0 && !(cand[m] & PV_ONLY)) {
            found = 1;
            label = ss->src->label.id;
            tissue = ss->core_tissue >= 0 && d < -depth ? ss->core_tissue : ss->tissue;
        }
        double cov = job->P ? coverage(d, w) : 0.0;
        if (cov <= 0) continue;
        /* this structure's share, split between its core and its rim */
        double o = cov * rem, oc = ss->core_tissue >= 0 ? o * coverage(d + depth, w) / cov : 0.0;
        mix_add(&mix, ss->tissue, o - oc);
        if (ss->core_tissue >= 0) mix_add(&mix, ss->core_tissue, oc);
        rem *= 1.0 - cov;
        if (found && rem < 1.0 / 512) break; /* below half a step of pv_frac */
    }
    job->L[n] = (uint16_t)label;
    if (job->T) job->T[n] = (uint8_t)tissue;
    if (!job->P) return;
    mix_add(&mix, 0, rem);
    double mine = 0, other = 0;
    int second = tissue;
    for (int e = 0; e < mix.n; e++) {
        if (mix.t[e] == tissue)
            mine = mix.share[e];
        else if (mix.share[e] > other)
            other = mix.share[e], second = mix.t[e];
    }
    long f = mine + other > 0 ? lround(255.0 * mine / (mine + other)) : 255;
    job->P[n] = (uint8_t)(f >= 255 ? tissue : second);
    job->F[n] = (uint8_t)(f >= 255 ? 255 : f);
}

/* Labels the cube of `size` voxels (a power of two) at (i0, j0, k0) given the candidate
 * structures `cand` (priority order) that may occur in it. At the cube's centre, a structure
 * farther out than twice the cube's radius cannot reach it (distances are bounds with slope
 * <= 2); one deeper inside than that covers it, and hides every later candidate. A cube with
 * no candidate is background; one whose first candidate covers it is filled; otherwise it is
 * split in eight. `next` is scratch space for the children's lists.
 * With partial volume, structures within the wider margin of twice (radius + half a voxel)
 * are kept too, flagged PV_ONLY where the rule above would have dropped them, and a cube is
 * filled only if its voxels are pure; a cube the rule above would have filled passes its
 * label and tissue down as decided. The label and tissue maps are thus the same with or
 * without partial volume. */
static void fill_block(const voxel_job *job, size_t i0, size_t j0, size_t k0, size_t size,
                       const int *cand, int ncand, int *next, decided dec) {
    if (i0 >= job->dim[0] || j0 >= job->dim[1] || k0 >= job->k1 || k0 + size <= job->k0) return;
    const scene *sc = job->sc;
    double h = 0.5 * (double)(size - 1) * job->voxel;
    double q[3] = {job->origin[0] + (double)i0 * job->voxel + h,
                   job->origin[1] + (double)j0 * job->voxel + h,
                   job->origin[2] + (double)k0 * job->voxel + h};
    double c[3];
    deform_apply(&sc->warp, q, c);
    if (size == 1) {
        fill_voxel(job, voxel_index(job, i0, j0, k0), c, cand, ncand, dec);
        return;
    }
    const double safe = CULL_FACTOR * sqrt(3.0) * h;
    const double safe_pv = job->P ? CULL_FACTOR * (sqrt(3.0) * h + 0.5 * job->voxel) : safe;
    const double hb = 1.5 * h + job->voxel; /* the warped cube's box, and a voxel */
    int n = 0, nlab = 0, full = 0, pure = 0, cover = 0;
    double dfull = 0;
    mapped_point mp;
    map_point(sc, c, &mp);
    for (int m = 0; m < ncand && !pure; m++) {
        const scene_struct *ss = &sc->s[cand[m] & ~PV_ONLY];
        if (ss->lo[0] > c[0] + hb || ss->hi[0] < c[0] - hb || ss->lo[1] > c[1] + hb ||
            ss->hi[1] < c[1] - hb || ss->lo[2] > c[2] + hb || ss->hi[2] < c[2] - hb)
            continue;
        /* beyond safe_pv it is dropped, whatever its distance */
        double d = struct_dist(sc, ss, &mp, job->cx, safe_pv);
        int pv_only = (cand[m] & PV_ONLY) || full || d > safe;
        if (d > safe_pv || (pv_only && !job->P)) continue;
        next[n++] = cand[m] | (pv_only ? PV_ONLY : 0);
        if (pv_only) continue;
        nlab++;
        if (d < -safe) { /* covers the centres of the cube: hides later labels */
            full = 1;
            dfull = d;
            cover = cand[m] & ~PV_ONLY;
        }
        if (full && (!job->P || (n == 1 && d < -safe_pv))) pure = 1; /* every voxel in it */
    }
    /* what the label rule alone decides for the whole cube */
    if (dec.label < 0 && nlab == 0) dec = (decided){0, 0};
    if (dec.label < 0 && full && nlab == 1) {
        const scene_struct *ss = &sc->s[cover];
        double depth = ss->src->core_depth_mm;
        if (ss->core_tissue < 0 || dfull > -depth + safe) /* no core, or all of it shallow */
            dec = (decided){ss->src->label.id, ss->tissue};
        else if (dfull < -depth - safe)
            dec = (decided){ss->src->label.id, ss->core_tissue};
    }
    /* filled when no voxel of the cube is mixed */
    if (dec.label >= 0 &&
        (!job->P || n == 0 ||
         (pure && dec.label > 0 && fabs(dfull + sc->s[cover].src->core_depth_mm) > safe_pv))) {
        fill(job, i0, j0, k0, size, dec.label, dec.tissue);
        return;
    }
    size_t half = size / 2;
    for (int o = 0; o < 8; o++)
        fill_block(job, i0 + (o & 1 ? half : 0), j0 + (o & 2 ? half : 0), k0 + (o & 4 ? half : 0),
                   half, next, n, next + n, dec);
}

/* ---- public ---------------------------------------------------------------------------------- */
struct sb_voxelizer {
    scene sc;
    double voxel;
    size_t dim[3];
    double origin[3];
    uint8_t connected[65536]; /* per label id: a structure that is one piece (specks.c): 1,
                               * 2 if it is expected to fill more than SPECK_LARGE voxels;
                               * SPECK_RESIZED alone if sb_subject.resize names it */
    uint16_t skin;            /* the label of the structure "skin" that seals the body, or 0 */
    uint8_t skin_tissue;
};

/* The grid around a built scene (see sb_anatomy_grid); `bytes_per_voxel` of memory checked. */
static sb_status scene_grid(const scene *sc, double voxel_mm, unsigned bytes_per_voxel,
                            size_t dim[3], double origin[3], sb_error *err) {
    double lo[3], hi[3];
    scene_box(sc, lo, hi);
    /* nothing touches the border, even displaced by the deformation (4 SD) */
    const double margin = 5.0 + 2.0 * voxel_mm + 4.0 * WARP_AMPLITUDE_MM;
    uint64_t nvox = 1;
    for (int k = 0; k < 3; k++) {
        origin[k] = floor((lo[k] - margin) / voxel_mm) * voxel_mm;
        dim[k] = (size_t)ceil((hi[k] + margin - origin[k]) / voxel_mm) + 1;
        nvox *= dim[k];
    }
    char what[160];
    snprintf(what, sizeof what, "a %zux%zux%zu grid at %g mm (%.0f million voxels)", dim[0], dim[1],
             dim[2], voxel_mm, (double)nvox / 1e6);
    return sb_memory_check(nvox * bytes_per_voxel, what, err);
}

static sb_status check_voxel(double voxel_mm, sb_error *err) {
    if (!(voxel_mm >= 0.1 && voxel_mm <= 50.0))
        return sb_error_set(err, SB_ERR_USAGE, "--voxel %g mm is outside 0.1–50 mm", voxel_mm);
    return SB_OK;
}

sb_status sb_anatomy_grid(const sb_anatomy *a, const sb_subject *s, double voxel_mm, size_t dim[3],
                          double origin[3], sb_error *err) {
    sb_status st = check_voxel(voxel_mm, err);
    if (st) return st;
    scene sc;
    if ((st = scene_build(a, s, voxel_mm, 1, &sc, err))) return st;
    /* label map (2 bytes) + tissue map (1) + two int16 contrasts + the writer's compressed
     * copy: ~10 bytes per voxel */
    st = scene_grid(&sc, voxel_mm, 10, dim, origin, err);
    scene_free(&sc);
    return st;
}

sb_status sb_voxelizer_new(const sb_anatomy *a, const sb_subject *s, double voxel_mm,
                           const sb_ctx *ctx, sb_voxelizer **out, sb_error *err) {
    sb_status st = check_voxel(voxel_mm, err);
    if (st) return st;
    sb_voxelizer *v = calloc(1, sizeof *v);
    if (!v) return sb_error_set(err, SB_ERR_MEMORY, "out of memory");
    if ((st = scene_build(a, s, voxel_mm, sb_ctx_threads(ctx), &v->sc, err))) {
        free(v);
        return st;
    }
    v->voxel = voxel_mm;
    for (int i = 0; i < a->nstructs; i++)
        v->connected[(uint16_t)a->structs[i].label.id] = !a->structs[i].several;
    /* a one-piece structure expected to fill many voxels has no specks anywhere (specks.c):
     * one with a size model by its expected volume; one without (the small bowel, the CSF,
     * vertebrae, vessels) when its box is SPECK_BOX_FILL times larger still, so that even a
     * thin tube or shell filling 1/64 of its box is large (a structure that is only specks at
     * a coarse voxel keeps them: at 8 mm this needs a box of 17 L) */
    const double vox_ml = voxel_mm * voxel_mm * voxel_mm / 1000.0;
    for (int i = 0; i < v->sc.n; i++) {
        const scene_struct *ss = &v->sc.s[i];
        const double ml =
            ss->src->ref_volume_ml * ss->f * ss->f * ss->f * v->sc.g[0] * v->sc.g[1] * v->sc.g[2];
        const double box_ml =
            (ss->hi[0] - ss->lo[0]) * (ss->hi[1] - ss->lo[1]) * (ss->hi[2] - ss->lo[2]) / 1000.0;
        if (v->connected[(uint16_t)ss->src->label.id] &&
            (ml > SPECK_LARGE * vox_ml || box_ml > SPECK_BOX_FILL * SPECK_LARGE * vox_ml))
            v->connected[(uint16_t)ss->src->label.id] = 2;
    }
    /* an organ resized for this subject takes the specks it cuts off and keeps its own
     * (specks.c) */
    for (int i = 0; i < v->sc.n; i++)
        if (resize_factor(s, v->sc.s[i].src) != 1)
            v->connected[(uint16_t)v->sc.s[i].src->label.id] = SPECK_RESIZED;
    for (int i = 0; i < v->sc.n; i++)
        if (!strcmp(v->sc.s[i].src->label.name, "skin")) {
            v->skin = (uint16_t)v->sc.s[i].src->label.id;
            v->skin_tissue = (uint8_t)v->sc.s[i].tissue;
        }
    v->connected[0] = 0;
    /* only the grid's size is checked here (a slab is checked when it is made) */
    if ((st = scene_grid(&v->sc, voxel_mm, 0, v->dim, v->origin, err))) {
        sb_voxelizer_free(v);
        return st;
    }
    *out = v;
    return SB_OK;
}

void sb_voxelizer_free(sb_voxelizer *v) {
    if (!v) return;
    scene_free(&v->sc);
    free(v);
}

sb_status sb_voxelizer_check_memory(const sb_voxelizer *v, unsigned bytes_per_voxel,
                                    sb_error *err) {
    size_t dim[3];
    double origin[3];
    return scene_grid(&v->sc, v->voxel, bytes_per_voxel, dim, origin, err);
}

void sb_voxelizer_composition(const sb_voxelizer *v, sb_body_composition *out) {
    *out = v->sc.comp;
}

void sb_voxelizer_grid(const sb_voxelizer *v, size_t dim[3], double origin[3]) {
    for (int k = 0; k < 3; k++) dim[k] = v->dim[k], origin[k] = v->origin[k];
}

void sb_anatomy_maps_free(sb_anatomy_maps *m) {
    sb_volume_free(m->labels);
    sb_volume_free(m->tissues);
    sb_volume_free(m->pv_tissue);
    sb_volume_free(m->pv_frac);
    memset(m, 0, sizeof *m);
}

sb_status sb_voxelizer_slab(const sb_voxelizer *v, size_t k0, size_t k1, unsigned want,
                            const sb_ctx *ctx, sb_anatomy_maps *out, sb_error *err) {
    memset(out, 0, sizeof *out);
    if (k0 >= k1 || k1 > v->dim[2])
        return sb_error_set(err, SB_ERR_USAGE, "slab %zu..%zu is outside the grid's 0..%zu planes",
                            k0, k1, v->dim[2]);
    const scene *sc = &v->sc;
    /* made with SPECK_HALO planes of margin, for the specks near the slab's ends */
    const size_t s0 = k0, s1 = k1, halo = want & SB_MAP_RAW ? 0 : SPECK_HALO;
    k0 = k0 > halo ? k0 - halo : 0;
    k1 = k1 + halo < v->dim[2] ? k1 + halo : v->dim[2];
    const size_t dim[3] = {v->dim[0], v->dim[1], k1 - k0};
    const double sp[3] = {v->voxel, v->voxel, v->voxel};
    sb_anatomy_maps m = {0};
    sb_status st;
    /* the label map is always made (the voxelizer works on it) */
    if ((st = sb_volume_create(dim, sp, SB_DT_UINT16, &m.labels, err)) ||
        ((want & SB_MAP_TISSUES) &&
         (st = sb_volume_create(dim, sp, SB_DT_UINT8, &m.tissues, err))) ||
        ((want & SB_MAP_PV) && ((st = sb_volume_create(dim, sp, SB_DT_UINT8, &m.pv_tissue, err)) ||
                                (st = sb_volume_create(dim, sp, SB_DT_UINT8, &m.pv_frac, err))))) {
        sb_anatomy_maps_free(&m);
        return st;
    }
    sb_volume *maps[4] = {m.labels, m.tissues, m.pv_tissue, m.pv_frac};
    for (int i = 0; i < 4; i++)
        if (maps[i])
            for (int k = 0; k < 3; k++)
                maps[i]->affine[k][3] = v->origin[k] + (k == 2 ? (double)k0 * v->voxel : 0.0);
    /* whole blocks of the full grid, so a slab's voxels are exactly those of the whole map */
    const size_t b0 = k0 / BLOCK, b1 = (k1 + BLOCK - 1) / BLOCK;
    const size_t nb[3] = {(v->dim[0] + BLOCK - 1) / BLOCK, (v->dim[1] + BLOCK - 1) / BLOCK,
                          b1 - b0};
    const long nblocks = (long)(nb[0] * nb[1] * nb[2]);
    voxel_job job0 = {sc,
                      NULL,
                      m.labels->data,
                      m.tissues ? m.tissues->data : NULL,
                      m.pv_tissue ? m.pv_tissue->data : NULL,
                      m.pv_frac ? m.pv_frac->data : NULL,
                      {v->dim[0], v->dim[1], v->dim[2]},
                      k0,
                      k1,
                      {v->origin[0], v->origin[1], v->origin[2]},
                      v->voxel};
    int fail = 0;
#pragma omp parallel num_threads(sb_ctx_threads(ctx))
    {
        /* candidate lists, one per recursion level (log2(BLOCK) + 1 levels) */
        int *cand = malloc((size_t)(sc->n + 1) * 8 * sizeof *cand);
        sdf_ctx cx;
        voxel_job job = job0;
        job.cx = &cx;
        if (cand && !sdf_ctx_init(&cx, sc->within, sc->nwithin)) {
            free(cand);
            cand = NULL;
        }
        if (!cand) {
#pragma omp atomic write
            fail = 1;
        }
#pragma omp for schedule(dynamic, 4)
        for (long b = 0; b < nblocks; b++) {
            if (!cand) continue;
            size_t bz = b0 + (size_t)b / (nb[0] * nb[1]), by = ((size_t)b / nb[0]) % nb[1],
                   bx = (size_t)b % nb[0];
            int n = 0;
            for (int si = 0; si < sc->n; si++) cand[n++] = si;
            fill_block(&job, bx * BLOCK, by * BLOCK, bz * BLOCK, BLOCK, cand, n, cand + sc->n + 1,
                       (decided){-1, -1});
#ifdef _OPENMP
            if (omp_get_thread_num() == 0)
#endif
                sb_progress(ctx, "anatomy", (size_t)b, (size_t)nblocks);
        }
        if (cand) sdf_ctx_free(&cx);
        free(cand);
    }
    sb_progress(ctx, "anatomy", (size_t)nblocks, (size_t)nblocks);
    if (!fail && !(want & SB_MAP_RAW))
        fail = specks_clear(&m, s0 - k0, s1 - k0, v->connected, v->skin, v->skin_tissue,
                            sb_ctx_threads(ctx)) != 0;
    if (fail) {
        sb_anatomy_maps_free(&m);
        return sb_error_set(err, SB_ERR_MEMORY, "out of memory");
    }
    for (int i = 0; i < 4; i++) /* the margin dropped, in place */
        if (maps[i] && (s0 > k0 || s1 < k1)) {
            size_t pl = dim[0] * dim[1] * sb_dtype_size(maps[i]->dtype);
            memmove(maps[i]->data, (uint8_t *)maps[i]->data + (s0 - k0) * pl, (s1 - s0) * pl);
            void *shrunk = realloc(maps[i]->data, (s1 - s0) * pl);
            if (shrunk) maps[i]->data = shrunk;
            maps[i]->dim[2] = s1 - s0;
            maps[i]->affine[2][3] = v->origin[2] + (double)s0 * v->voxel;
        }
    if (!(want & SB_MAP_LABELS)) sb_volume_free(m.labels), m.labels = NULL;
    *out = m;
    return SB_OK;
}

sb_status sb_anatomy_voxelize_maps(const sb_anatomy *a, const sb_subject *s, double voxel_mm,
                                   unsigned want, const sb_ctx *ctx, sb_anatomy_maps *out,
                                   sb_error *err) {
    memset(out, 0, sizeof *out);
    sb_voxelizer *v = NULL;
    sb_status st = sb_voxelizer_new(a, s, voxel_mm, ctx, &v, err);
    if (st) return st;
    /* the whole grid at once: the maps, two contrasts and the writer's copy (see
     * sb_anatomy_grid) */
    if (!(st = sb_voxelizer_check_memory(v, 10, err)))
        st = sb_voxelizer_slab(v, 0, v->dim[2], want, ctx, out, err);
    sb_voxelizer_free(v);
    return st;
}

sb_status sb_anatomy_voxelize(const sb_anatomy *a, const sb_subject *s, double voxel_mm,
                              const sb_ctx *ctx, sb_volume **labels_out, sb_volume **tissues_out,
                              sb_error *err) {
    sb_anatomy_maps m;
    sb_status st = sb_anatomy_voxelize_maps(
        a, s, voxel_mm, SB_MAP_LABELS | (tissues_out ? SB_MAP_TISSUES : 0u), ctx, &m, err);
    if (st) return st;
    *labels_out = m.labels;
    if (tissues_out) *tissues_out = m.tissues;
    return SB_OK;
}
