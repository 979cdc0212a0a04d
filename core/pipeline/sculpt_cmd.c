/* sculpt_cmd.c — `synthbody sculpt`: a label map cut into layers (slabs) along an axis, each
 * layer a set of closed parts — the body with the selected organs cut out, and each organ — whose
 * cut faces lie on the cutting planes (mesh/layers.c), written per layer as one STL per part and
 * one 3MF with named, coloured parts (export/'s scene writers), with manifest.json and an
 * assembly sheet (README "Sculptures").
 *
 * Model frame: world RAS+ millimetres scaled by the model scale S and rotated so that the cutting
 * axis is +z (axis z: (x, y, z); axis y: (z, x, y); axis x: (y, z, x); cyclic, so windings stay
 * outward): layer 1 lies lowest, each layer between z = S * from and S * to of its planes, so
 * the files stack as they are assembled and a slicer lays each layer on its lower cut face. */
#include "sb_pipeline.h"

#include "internal.h"
#include "sb_export.h"
#include "sculpt_pack.h"
#include "sb_mesh.h"

#include <cjson/cJSON.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>

#define MAX_LAYERS 10000

/* One part kind (the body, or one organ) of the sculpture. */
typedef struct part {
    int id; /* label id; 0 for the body */
    char name[64];
    uint8_t rgba[4];
    double total_mm3; /* model-scale volume over all layers */
} part;

/* An alignment hole's centre: model mm, and the pixel of the label map's plane. */
typedef struct peg {
    double x, y;
    size_t p, q;
} peg;

/* One layer. */
typedef struct layer {
    double from, to;     /* world mm along the axis */
    unsigned char *has;  /* has[p]: part p present */
    double *box;         /* per part: x0, y0, x1, y1 (model mm) from its voxels: the mesh's */
    double lo[2], hi[2]; /* the union of the boxes */
    sb_trimesh **ms;     /* the parts in the model frame, kept for plates and the GLB */
    sb_svg_path *paths;  /* the sheet's paths, kept for nesting */
    size_t npaths;
    sb_svg_text text;
    char num[24];
    double sheet_w, sheet_h;
    const char **stl;    /* planned STL path per part (NULL: absent) */
    const char *threemf; /* planned 3MF path */
    const char *svg;     /* planned SVG path */
    const char *png;     /* planned PNG path (NULL: no slice images) */
} layer;

typedef struct sculpt {
    const sb_sculpt_opts *o;
    const char *nii;
    sb_volume *v;
    int axis, vox_axis;
    double scale, layer_world;
    part *parts;
    int nparts;
    uint16_t *part_of; /* 65536 */
    layer *layers;
    size_t nlayers;
    const char *manifest, *assembly;
    size_t *plane_count; /* labelled voxels of each plane along the voxel axis */
    sb_volume *img;      /* the contrast of the slice images (NULL: none) */
    char img_path[4096];
    double img_white; /* its white level */
    double sp[2];     /* model mm per pixel along the plane's voxel axes (a + 1, a + 2) % 3 */
    peg (*pegs)[2];   /* pegs[i]: alignment holes between layers i and i + 1 */
    int *npegs;
    const char *glb;
    pack_item *sheet_items;
    size_t nplates, nsheets;
    const char **plates, **sheets;
} sculpt;

static const char AXIS_NAMES[3][10] = {"sagittal", "coronal", "axial"};

static sb_status resolve_input(const char *input, char *nii, size_t n, sb_error *err) {
    struct stat st;
    if (stat(input, &st) != 0)
        return sb_error_set(err, SB_ERR_INPUT, "%s: no such file or directory", input);
    if (!S_ISDIR(st.st_mode)) {
        if ((size_t)snprintf(nii, n, "%s", input) >= n)
            return sb_error_set(err, SB_ERR_INPUT, "%s: path too long", input);
        return SB_OK;
    }
    sb_status s = sb_path_join(nii, n, input, "labels.nii.gz", err);
    if (!s && !sb_path_exists(nii))
        s = sb_error_set(err, SB_ERR_INPUT,
                         "%s is a directory without labels.nii.gz (not a generate output)", input);
    return s;
}

/* World coordinate along the axis of plane k (index along the voxel axis). */
static double plane_world(const sculpt *c, long k) {
    return c->v->affine[c->axis][c->vox_axis] * (double)k + c->v->affine[c->axis][3];
}

/* Parts: the body (every labelled voxel not selected) and each selected label present. */
static sb_status make_parts(sculpt *c, const size_t *counts, const sb_label_table *names,
                            sb_error *err) {
    const sb_sculpt_opts *o = c->o;
    unsigned char *sel = calloc(65536, 1);
    c->part_of = calloc(65536, sizeof *c->part_of);
    if (!sel || !c->part_of) {
        free(sel);
        return sb_error_set(err, SB_ERR_MEMORY, "out of memory");
    }
    sb_status s = SB_OK;
    if (!o->select) {
        sb_error e2 = {0}; /* default: the organs, if the table names any */
        if (select_labels("organs", NULL, "--select", counts, names, c->nii, sel, &e2))
            memset(sel, 0, 65536);
    } else if (strcmp(o->select, "none") != 0) {
        s = select_labels(o->select, NULL, "--select", counts, names, c->nii, sel, err);
    }
    size_t nsel = 0;
    for (size_t id = 1; id < 65536; id++) nsel += sel[id] && counts[id];
    c->parts = calloc(nsel + 1, sizeof *c->parts);
    if (!s && !c->parts) s = sb_error_set(err, SB_ERR_MEMORY, "out of memory");
    if (s) {
        free(sel);
        return s;
    }
    part *b = &c->parts[0];
    const sb_label *skin = names ? sb_labels_find_name(names, "skin") : NULL;
    memcpy(b->rgba, skin ? skin->rgba : (const uint8_t[4]){230, 195, 165, 255}, 4);
    b->rgba[3] = 255;
    snprintf(b->name, sizeof b->name, "%s",
             names && sb_labels_find_name(names, "body") &&
                     sel[sb_labels_find_name(names, "body")->id]
                 ? "body_part"
                 : "body");
    int np = 1;
    for (size_t id = 1; id < 65536; id++) {
        if (!counts[id]) continue;
        if (!sel[id]) {
            c->part_of[id] = 1;
            continue;
        }
        part *p = &c->parts[np];
        const sb_label *l = names ? sb_labels_find_id(names, (int)id) : NULL;
        p->id = (int)id;
        if (l) {
            snprintf(p->name, sizeof p->name, "%s", l->name);
            memcpy(p->rgba, l->rgba, 4);
        } else {
            snprintf(p->name, sizeof p->name, "label_%zu", id);
            memcpy(p->rgba, (const uint8_t[4]){200, 200, 200, 255}, 4);
        }
        p->rgba[3] = 255;
        c->part_of[id] = (uint16_t)++np;
    }
    c->nparts = np;
    free(sel);
    return SB_OK;
}

/* --from / --to by label: the lowest (want_top 0) or highest extent along the axis (world mm,
 * voxel edges) of the labels `sel` names. */
static sb_status label_end(const sculpt *c, const char *sel_text, const char *opt, int want_top,
                           const size_t *counts, const sb_label_table *names, double *out,
                           sb_error *err) {
    unsigned char *sel = calloc(65536, 1);
    if (!sel) return sb_error_set(err, SB_ERR_MEMORY, "out of memory");
    sb_status s = select_labels(sel_text, NULL, opt, counts, names, c->nii, sel, err);
    const sb_volume *v = c->v;
    int a = c->vox_axis;
    long lo = LONG_MAX, hi = -1;
    for (size_t k = 0; !s && k < v->dim[2]; k++)
        for (size_t j = 0; j < v->dim[1]; j++)
            for (size_t i = 0; i < v->dim[0]; i++) {
                double x = sb_volume_get(v, sb_volume_index(v, i, j, k));
                if (!(x >= 1 && x <= 65535 && x == floor(x)) || !sel[(size_t)x]) continue;
                long ix[3] = {(long)i, (long)j, (long)k};
                if (ix[a] < lo) lo = ix[a];
                if (ix[a] > hi) hi = ix[a];
            }
    free(sel);
    if (s) return s;
    if (hi < 0)
        return sb_error_set(err, SB_ERR_LABEL, "%s %s: no such voxel in %s", opt, sel_text, c->nii);
    double h = fabs(v->affine[c->axis][a]) / 2, w0 = plane_world(c, lo), w1 = plane_world(c, hi);
    *out = want_top ? fmax(w0, w1) + h : fmin(w0, w1) - h;
    return SB_OK;
}

/* The range, scale and layer planes. */
static sb_status make_layers(sculpt *c, const size_t *counts, const sb_label_table *names,
                             sb_error *err) {
    const sb_sculpt_opts *o = c->o;
    sb_status s = sb_mesh_layer_axis(c->v, c->axis, &c->vox_axis, err);
    if (s) return s;
    /* the body's extent along the axis and along z: planes holding a labelled voxel */
    int za;
    if ((s = sb_mesh_layer_axis(c->v, 2, &za, err))) return s;
    long lo[3] = {LONG_MAX, LONG_MAX, LONG_MAX}, hi[3] = {-1, -1, -1};
    const sb_volume *v = c->v;
    for (size_t k = 0; k < v->dim[2]; k++)
        for (size_t j = 0; j < v->dim[1]; j++)
            for (size_t i = 0; i < v->dim[0]; i++) {
                double x = sb_volume_get(v, sb_volume_index(v, i, j, k));
                if (!(x >= 1 && x <= 65535 && x == floor(x))) continue;
                long ix[3] = {(long)i, (long)j, (long)k};
                for (int d = 0; d < 3; d++) {
                    if (ix[d] < lo[d]) lo[d] = ix[d];
                    if (ix[d] > hi[d]) hi[d] = ix[d];
                }
            }
    if (hi[0] < 0) return sb_error_set(err, SB_ERR_LABEL, "%s: no labelled voxel", c->nii);
    int a = c->vox_axis;
    double ha = fabs(v->affine[c->axis][a]);
    double e0 = fmin(plane_world(c, lo[a]), plane_world(c, hi[a])) - ha / 2;
    double e1 = fmax(plane_world(c, lo[a]), plane_world(c, hi[a])) + ha / 2;
    double from = o->has_from ? o->from_mm : e0, to = o->has_to ? o->to_mm : e1;
    if (o->from_label && (s = label_end(c, o->from_label, "--from", 0, counts, names, &from, err)))
        return s;
    if (o->to_label && (s = label_end(c, o->to_label, "--to", 1, counts, names, &to, err)))
        return s;
    if (!(to > from))
        return sb_error_set(err, SB_ERR_USAGE, "--from %g / --to %g mm: the range is empty", from,
                            to);
    if (to <= e0 || from >= e1)
        return sb_error_set(err, SB_ERR_USAGE,
                            "--from %g / --to %g mm misses the body (%c from %.1f to %.1f mm)",
                            from, to, "xyz"[c->axis], e0, e1);
    double hz = fabs(v->affine[2][za]);
    double z0 =
        fmin(v->affine[2][za] * lo[za], v->affine[2][za] * hi[za]) + v->affine[2][3] - hz / 2;
    double z1 =
        fmax(v->affine[2][za] * lo[za], v->affine[2][za] * hi[za]) + v->affine[2][3] + hz / 2;
    if (c->axis == 2) z0 = fmax(z0, from), z1 = fmin(z1, to);
    c->scale = o->scale > 0 ? o->scale : o->height_mm > 0 ? o->height_mm / (z1 - z0) : 1.0;
    double t = o->layer_mm / c->scale; /* world mm per layer */
    c->layer_world = t;
    double nf = ceil((to - from) / t - 1e-9);
    if (nf > MAX_LAYERS)
        return sb_error_set(err, SB_ERR_USAGE,
                            "--layer-mm %g at scale %g gives %.0f layers (at most %d)", o->layer_mm,
                            c->scale, nf, MAX_LAYERS);
    size_t n = nf < 1 ? 1 : (size_t)nf;
    /* a last layer thinner than 1 mm of the model joins the one below it */
    if (n > 1 && (to - (from + (double)(n - 1) * t)) * c->scale < 1.0) n--;
    c->layers = calloc(n, sizeof *c->layers);
    if (!c->layers) return sb_error_set(err, SB_ERR_MEMORY, "out of memory");
    c->nlayers = n;
    for (size_t i = 0; i < n; i++) {
        c->layers[i].from = from + (double)i * t;
        c->layers[i].to = i + 1 == n ? to : from + (double)(i + 1) * t;
    }
    return SB_OK;
}

/* Pixel (p, q) of a plane (p along voxel axis a+1, q along a+2) -> model mm (x, y). */
static void pix_model(const sculpt *c, double p, double q, double *x, double *y) {
    int a = c->vox_axis, ax = c->axis;
    double ijk[3], w[3];
    ijk[a] = 0, ijk[(a + 1) % 3] = p, ijk[(a + 2) % 3] = q;
    sb_volume_to_world(c->v, ijk, w);
    *x = c->scale * w[(ax + 1) % 3];
    *y = c->scale * w[(ax + 2) % 3];
}

/* The model-frame box (x0, y0, x1, y1) of pixels p0..p1 x q0..q1 of a plane, to the voxels'
 * outer faces: where marching cubes puts the surface's extreme vertices. */
static void pix_box(const sculpt *c, long p0, long q0, long p1, long q1, double box[4]) {
    double xa, ya, xb, yb, xp, yp, xq, yq;
    pix_model(c, (double)p0, (double)q0, &xa, &ya);
    pix_model(c, (double)p1, (double)q1, &xb, &yb);
    pix_model(c, (double)p0 + 1, (double)q0, &xp, &yp);
    pix_model(c, (double)p0, (double)q0 + 1, &xq, &yq);
    double ex = 0.5 * (fabs(xp - xa) + fabs(xq - xa)), ey = 0.5 * (fabs(yp - ya) + fabs(yq - ya));
    box[0] = fmin(xa, xb) - ex, box[1] = fmin(ya, yb) - ey;
    box[2] = fmax(xa, xb) + ex, box[3] = fmax(ya, yb) + ey;
}

/* Which parts each layer holds (the parts of the planes its resampling reads) and their boxes. */
static sb_status find_presence(sculpt *c, sb_error *err) {
    const sb_volume *v = c->v;
    int a = c->vox_axis;
    size_t np = (size_t)c->nparts, nk = v->dim[a];
    unsigned char *plane = calloc(nk * np, 1);
    long *pb = malloc(nk * np * 4 * sizeof *pb); /* per plane and part: p0, q0, p1, q1 */
    c->plane_count = calloc(nk, sizeof *c->plane_count);
    if (!plane || !pb || !c->plane_count) {
        free(plane), free(pb);
        return sb_error_set(err, SB_ERR_MEMORY, "out of memory");
    }
    for (size_t i = 0; i < nk * np; i++)
        pb[4 * i] = pb[4 * i + 1] = LONG_MAX, pb[4 * i + 2] = pb[4 * i + 3] = -1;
    {
        double x0, y0, x1, y1;
        pix_model(c, 0, 0, &x0, &y0);
        pix_model(c, 1, 0, &x1, &y1);
        c->sp[0] = hypot(x1 - x0, y1 - y0);
        pix_model(c, 0, 1, &x1, &y1);
        c->sp[1] = hypot(x1 - x0, y1 - y0);
    }
    for (size_t k = 0; k < v->dim[2]; k++)
        for (size_t j = 0; j < v->dim[1]; j++)
            for (size_t i = 0; i < v->dim[0]; i++) {
                double x = sb_volume_get(v, sb_volume_index(v, i, j, k));
                if (!(x >= 1 && x <= 65535 && x == floor(x))) continue;
                uint16_t p = c->part_of[(size_t)x];
                size_t ix[3] = {i, j, k};
                if (!p) continue;
                plane[ix[a] * np + p - 1] = 1;
                c->plane_count[ix[a]]++;
                long *b = &pb[4 * (ix[a] * np + p - 1)], pp = (long)ix[(a + 1) % 3],
                     qq = (long)ix[(a + 2) % 3];
                if (pp < b[0]) b[0] = pp;
                if (qq < b[1]) b[1] = qq;
                if (pp > b[2]) b[2] = pp;
                if (qq > b[3]) b[3] = qq;
            }
    sb_status s = SB_OK;
    for (size_t l = 0; !s && l < c->nlayers; l++) {
        layer *L = &c->layers[l];
        if (!(L->has = calloc(np, 1)) || !(L->stl = calloc(np, sizeof *L->stl)) ||
            !(L->box = calloc(4 * np, sizeof *L->box)) || !(L->ms = calloc(np, sizeof *L->ms))) {
            s = sb_error_set(err, SB_ERR_MEMORY, "out of memory");
            break;
        }
        sb_layer_opts lo;
        sb_layer_opts_default(&lo);
        lo.axis = c->axis, lo.from_mm = L->from, lo.to_mm = L->to;
        if (c->o->subdiv > 0) lo.subdiv = c->o->subdiv;
        long k0, k1;
        int va;
        if ((s = sb_mesh_layer_source(v, &lo, &va, &k0, &k1, err))) break;
        L->lo[0] = L->lo[1] = 1e300, L->hi[0] = L->hi[1] = -1e300;
        for (size_t p = 0; p < np; p++) {
            long b[4] = {LONG_MAX, LONG_MAX, -1, -1};
            for (long k = k0; k <= k1; k++) {
                L->has[p] |= plane[(size_t)k * np + p];
                const long *e = &pb[4 * ((size_t)k * np + p)];
                for (int d = 0; d < 2; d++) b[d] = e[d] < b[d] ? e[d] : b[d];
                for (int d = 2; d < 4; d++) b[d] = e[d] > b[d] ? e[d] : b[d];
            }
            if (!L->has[p]) continue;
            pix_box(c, b[0], b[1], b[2], b[3], &L->box[4 * p]);
            for (int d = 0; d < 2; d++) {
                L->lo[d] = fmin(L->lo[d], L->box[4 * p + d]);
                L->hi[d] = fmax(L->hi[d], L->box[4 * p + 2 + d]);
            }
        }
    }
    free(plane);
    free(pb);
    return s;
}

/* ---- alignment holes and the engraved number ----------------------------------------------- */

/* mask (one byte per pixel of a plane) = 1 where every label plane read for world w0..w1 holds
 * the body part (part 1), and the pixel is not on the grid's border; 0 if no plane is read. */
static sb_status body_mask(const sculpt *c, double w0, double w1, uint8_t *mask, sb_error *err) {
    const sb_volume *v = c->v;
    int a = c->vox_axis, b = (a + 1) % 3, cc = (a + 2) % 3;
    size_t nu = v->dim[b], nv = v->dim[cc], ix[3];
    sb_layer_opts lo;
    sb_layer_opts_default(&lo);
    lo.axis = c->axis, lo.from_mm = w0, lo.to_mm = w1;
    if (c->o->subdiv > 0) lo.subdiv = c->o->subdiv;
    long k0, k1;
    int va;
    sb_status s = sb_mesh_layer_source(v, &lo, &va, &k0, &k1, err);
    if (s) return s;
    memset(mask, k1 >= k0, nu * nv);
    for (long k = k0; k <= k1; k++)
        for (size_t q = 0; q < nv; q++)
            for (size_t p = 0; p < nu; p++) {
                ix[a] = (size_t)k, ix[b] = p, ix[cc] = q;
                double x = sb_volume_get(v, sb_volume_index(v, ix[0], ix[1], ix[2]));
                int in = x >= 1 && x <= 65535 && x == floor(x) && c->part_of[(size_t)x] == 1 &&
                         p > 0 && q > 0 && p + 1 < nu && q + 1 < nv;
                if (!in) mask[p + nu * q] = 0;
            }
    return SB_OK;
}

/* dist = the model-mm distance from each pixel of mask to the nearest pixel outside it. */
static sb_status mask_dist(const sculpt *c, const uint8_t *mask, float *dist, sb_error *err) {
    int a = c->vox_axis;
    size_t dim[3] = {c->v->dim[(a + 1) % 3], c->v->dim[(a + 2) % 3], 1};
    double sp[3] = {c->sp[0], c->sp[1], 1e6};
    return sb_mesh_edt(mask, dim, sp, 1, NULL, dist, err);
}

static double pix_d2(const sculpt *c, size_t i, size_t j, size_t nu) {
    double du = ((double)(i % nu) - (double)(j % nu)) * c->sp[0];
    double dv = ((double)(i / nu) - (double)(j / nu)) * c->sp[1];
    return du * du + dv * dv;
}

/* --pegs D,DEPTH: between layers i and i + 1, up to two holes of D where both layers hold the
 * body part to DEPTH (+ one voxel) on both sides of their plane, each at least D from the body's
 * edge (a wall of D/2 around it): the first where the body is thickest, the second as far from it
 * as possible (at least 2 D away) so the layers cannot turn. An interface where a layer is not
 * thicker than 2 DEPTH gets none. */
static sb_status make_pegs(sculpt *c, sb_error *err) {
    const sb_sculpt_opts *o = c->o;
    if (!(o->peg_mm[0] > 0) || c->nlayers < 2) return SB_OK;
    double vox = fmax(c->sp[0], c->sp[1]);
    if (o->peg_mm[0] < vox)
        return sb_error_set(err, SB_ERR_USAGE,
                            "--pegs %g: the hole is narrower than a voxel of the label map at this "
                            "scale (%.3g mm)",
                            o->peg_mm[0], vox);
    const sb_volume *v = c->v;
    int a = c->vox_axis;
    size_t nu = v->dim[(a + 1) % 3], nv = v->dim[(a + 2) % 3], n = nu * nv;
    c->pegs = calloc(c->nlayers, sizeof *c->pegs);
    c->npegs = calloc(c->nlayers, sizeof *c->npegs);
    uint8_t *mask = malloc(n);
    float *dist = malloc(n * sizeof *dist);
    sb_status s = SB_OK;
    if (!c->pegs || !c->npegs || !mask || !dist)
        s = sb_error_set(err, SB_ERR_MEMORY, "out of memory");
    double D = o->peg_mm[0], dw = o->peg_mm[1] / c->scale, hv = fabs(v->affine[c->axis][a]);
    for (size_t i = 0; !s && i + 1 < c->nlayers; i++) {
        const layer *A = &c->layers[i], *B = &c->layers[i + 1];
        if (2 * dw >= A->to - A->from || 2 * dw >= B->to - B->from) continue;
        double P = A->to;
        if ((s = body_mask(c, P - dw - hv, P + dw + hv, mask, err)) ||
            (s = mask_dist(c, mask, dist, err)))
            break;
        size_t best = 0;
        for (size_t k = 1; k < n; k++)
            if (dist[k] > dist[best]) best = k;
        if (!(dist[best] >= D)) continue;
        size_t far = SIZE_MAX;
        double fd = 4 * D * D;
        for (size_t k = 0; k < n; k++)
            if (dist[k] >= D && pix_d2(c, k, best, nu) >= fd) fd = pix_d2(c, k, best, nu), far = k;
        size_t at[2] = {best, far};
        for (int j = 0; j < 2 && at[j] != SIZE_MAX; j++) {
            peg *g = &c->pegs[i][j];
            g->p = at[j] % nu, g->q = at[j] / nu;
            pix_model(c, (double)g->p, (double)g->q, &g->x, &g->y);
            c->npegs[i]++;
        }
    }
    free(mask);
    free(dist);
    return s;
}

/* The carving of layer l (sb_layer_opts.carve): the holes of the pegs below (face 0) and above
 * (face 1), and the layer number engraved in its underside, mirrored so that it reads from
 * below, where the body is thick enough for it away from the holes. Sets *glyph (model mm per
 * font pixel; 0: no room for the number) and the number's centre. */
static sb_status make_carve(sculpt *c, size_t l, float *carve[2], double *glyph, double num_xy[2],
                            sb_error *err) {
    const sb_sculpt_opts *o = c->o;
    const sb_volume *v = c->v;
    layer *L = &c->layers[l];
    int a = c->vox_axis;
    size_t nu = v->dim[(a + 1) % 3], nv = v->dim[(a + 2) % 3], n = nu * nv;
    *glyph = 0;
    for (int f = 0; f < 2; f++) memset(carve[f], 0, n * sizeof *carve[f]);
    double r = o->peg_mm[0] / 2, dw = o->peg_mm[1] / c->scale;
    for (int f = 0; c->pegs && f < 2; f++) {
        if ((f == 0 && l == 0) || (f == 1 && l + 1 == c->nlayers)) continue;
        size_t i = f ? l : l - 1;
        for (int j = 0; j < c->npegs[i]; j++) {
            const peg *g = &c->pegs[i][j];
            for (size_t k = 0; k < n; k++)
                if (pix_d2(c, k, g->q * nu + g->p, nu) <= r * r) carve[f][k] = (float)dw;
        }
    }
    /* the number: depth 1 mm of the model (a quarter of a thin layer), one sub-layer at least */
    double hv = fabs(v->affine[c->axis][a]);
    int sub = o->subdiv > 0 ? o->subdiv : SB_LAYER_DEFAULT_SUBDIV;
    double ew = fmax(fmin(1.0, 0.25 * c->scale * (L->to - L->from)) / c->scale, 0.6 * hv / sub);
    uint8_t *mask = malloc(n);
    float *dist = malloc(n * sizeof *dist);
    sb_status s = SB_OK;
    if (!mask || !dist) s = sb_error_set(err, SB_ERR_MEMORY, "out of memory");
    if (!s) s = body_mask(c, L->from - hv, L->from + ew + hv, mask, err);
    for (size_t k = 0; !s && k < n; k++)
        if (carve[0][k] > 0) mask[k] = 0;
    /* keep a voxel of body between the holes and the digits */
    if (!s) s = mask_dist(c, mask, dist, err);
    size_t best = 0;
    for (size_t k = 1; !s && k < n; k++)
        if (dist[k] > dist[best]) best = k;
    char *num = L->num;
    snprintf(num, sizeof L->num, "%zu", l + 1);
    size_t nd = strlen(num);
    double vox = fmax(c->sp[0], c->sp[1]);
    int kk = (int)ceil(1.0 / vox - 1e-9); /* font pixels of 1 mm at least, else one voxel */
    if (kk % 2 == 0) kk++;                /* odd: voxel centres never fall on a cell edge */
    for (int t = 0; !s && t < 2 && *glyph == 0; t++) {
        double g = (t == 0 ? kk : 1) * vox, W = (double)(4 * nd - 1) * g, H = 5 * g;
        if (dist[best] < 0.5 * hypot(W, H) + vox) continue;
        *glyph = g;
        double X0, Y0;
        pix_model(c, (double)(best % nu), (double)(best / nu), &X0, &Y0);
        num_xy[0] = X0, num_xy[1] = Y0;
        for (size_t k = 0; k < n; k++) {
            double x, y;
            pix_model(c, (double)(k % nu), (double)(k / nu), &x, &y);
            double u = -(x - X0) + W / 2, w = H / 2 - (y - Y0); /* mirrored: read from below */
            if (u < 0 || w < 0 || u >= W || w >= H) continue;
            int col = (int)floor(u / g), row = (int)floor(w / g);
            if (col % 4 != 3 && digit_pixel(num[col / 4], col % 4, row))
                carve[0][k] = (float)fmax(carve[0][k], ew);
        }
    }
    free(mask);
    free(dist);
    return s;
}

/* ---- build plates and sheets ----------------------------------------------------------------- */

#define PLATE_MARGIN_MM 5.0 /* from the plate's edges (a slicer's skirt needs room) */
#define PLATE_GAP_MM 5.0    /* between parts */
#define PLATE_MIN_MM3 1.0   /* smaller pieces (specks of a voxel or two) are left off the plates */
#define SHEET_MARGIN_MM 5.0
#define SHEET_GAP_MM 3.0

/* --plate-mm: every part of every layer lying on its lower face, packed by its footprint;
 * --sheet-mm: every layer's sheet. SB_ERR_USAGE naming the first that does not fit. */
static sb_status pack(sculpt *c, sb_error *err) {
    const sb_sculpt_opts *o = c->o;
    size_t np = (size_t)c->nparts, bad = 0;
    if (o->plate_mm[0] > 0) { /* every part fits a plate (then each of its pieces does) */
        for (size_t l = 0; l < c->nlayers; l++)
            for (size_t p = 0; p < np; p++) {
                const double *b = &c->layers[l].box[4 * p];
                pack_item it = {.w = b[2] - b[0], .h = b[3] - b[1]};
                if (!c->layers[l].has[p] || pack_shelves(&it, 1, o->plate_mm[0], o->plate_mm[1],
                                                         PLATE_MARGIN_MM, PLATE_GAP_MM, &bad))
                    continue;
                return sb_error_set(err, SB_ERR_USAGE,
                                    "--plate-mm %g,%g: layer %zu's %s (%.1f x %.1f mm) does not "
                                    "fit a plate with %g mm margins",
                                    o->plate_mm[0], o->plate_mm[1], l + 1, c->parts[p].name, it.w,
                                    it.h, PLATE_MARGIN_MM);
            }
    }
    if (o->sheet_mm[0] > 0) {
        size_t n = c->nlayers;
        if (!(c->sheet_items = calloc(n, sizeof *c->sheet_items)))
            return sb_error_set(err, SB_ERR_MEMORY, "out of memory");
        for (size_t l = 0; l < n; l++) {
            const layer *L = &c->layers[l];
            c->sheet_items[l] = (pack_item){.w = L->hi[0] - L->lo[0] + o->kerf_mm,
                                            .h = L->hi[1] - L->lo[1] + o->kerf_mm};
        }
        c->nsheets = pack_shelves(c->sheet_items, n, o->sheet_mm[0], o->sheet_mm[1],
                                  SHEET_MARGIN_MM, SHEET_GAP_MM, &bad);
        if (!c->nsheets && bad == n) return sb_error_set(err, SB_ERR_MEMORY, "out of memory");
        if (!c->nsheets)
            return sb_error_set(err, SB_ERR_USAGE,
                                "--sheet-mm %g,%g: layer %zu's sheet (%.1f x %.1f mm) does not fit "
                                "with %g mm margins",
                                o->sheet_mm[0], o->sheet_mm[1], bad + 1, c->sheet_items[bad].w,
                                c->sheet_items[bad].h, SHEET_MARGIN_MM);
        if (!(c->sheets = calloc(c->nsheets, sizeof *c->sheets)))
            return sb_error_set(err, SB_ERR_MEMORY, "out of memory");
    }
    return SB_OK;
}

static sb_status plan(sculpt *c, outputs *outs, sb_error *err) {
    char dir[4096], name[160];
    sb_status s = SB_OK;
    for (size_t l = 0; !s && l < c->nlayers; l++) {
        layer *L = &c->layers[l];
        snprintf(name, sizeof name, "layer_%03zu", l + 1);
        s = sb_path_join(dir, sizeof dir, c->o->out_dir, name, err);
        for (int p = 0; !s && p < c->nparts; p++) {
            if (!L->has[p]) continue;
            snprintf(name, sizeof name, "%s.stl", c->parts[p].name);
            s = outputs_plan(outs, dir, name, &L->stl[p], err);
        }
        snprintf(name, sizeof name, "layer_%03zu.3mf", l + 1);
        if (!s) s = outputs_plan(outs, c->o->out_dir, name, &L->threemf, err);
        snprintf(name, sizeof name, "layer_%03zu.svg", l + 1);
        if (!s) s = outputs_plan(outs, c->o->out_dir, name, &L->svg, err);
        snprintf(name, sizeof name, "layer_%03zu.png", l + 1);
        if (!s && c->img) s = outputs_plan(outs, c->o->out_dir, name, &L->png, err);
    }
    if (!s) s = outputs_plan(outs, c->o->out_dir, "manifest.json", &c->manifest, err);
    if (!s) s = outputs_plan(outs, c->o->out_dir, "assembly.md", &c->assembly, err);
    if (!s && c->o->glb) s = outputs_plan(outs, c->o->out_dir, "sculpture.glb", &c->glb, err);
    if (!s) s = pack(c, err);
    if (!s && c->o->plate_mm[0] > 0 && !c->o->force) { /* their number is known at the end */
        DIR *d = opendir(c->o->out_dir);
        for (struct dirent *de; !s && d && (de = readdir(d));) {
            size_t nl = strlen(de->d_name);
            if (!strncmp(de->d_name, "plate_", 6) && nl > 10 &&
                !strcmp(de->d_name + nl - 4, ".3mf"))
                s = sb_error_set(err, SB_ERR_EXISTS, "%s/%s exists (use --force to replace it)",
                                 c->o->out_dir, de->d_name);
        }
        if (d) closedir(d);
    }
    for (size_t b = 0; !s && b < c->nsheets; b++) {
        snprintf(name, sizeof name, "sheet_%03zu.svg", b + 1);
        s = outputs_plan(outs, c->o->out_dir, name, &c->sheets[b], err);
    }
    return s;
}

/* World mm -> model frame (see the file comment). */
static void to_model(sb_trimesh *m, int axis, double s) {
    for (size_t i = 0; i < m->nverts; i++) {
        float *p = &m->verts[3 * i];
        double x = p[0], y = p[1], z = p[2], q[3];
        if (axis == 2)
            q[0] = x, q[1] = y, q[2] = z;
        else if (axis == 1)
            q[0] = z, q[1] = x, q[2] = y;
        else
            q[0] = y, q[1] = z, q[2] = x;
        for (int k = 0; k < 3; k++) p[k] = (float)(s * q[k]);
    }
}

static cJSON *vec3(const double *v) {
    return cJSON_CreateDoubleArray(v, 3);
}

static const char *rel(const sculpt *c, const char *path) {
    size_t dl = strlen(c->o->out_dir);
    return strncmp(path, c->o->out_dir, dl) == 0 && path[dl] == '/' ? path + dl + 1 : path;
}

static void hex(const uint8_t *rgba, char out[8]) {
    snprintf(out, 8, "#%02x%02x%02x", rgba[0], rgba[1], rgba[2]);
}

static sb_status write_text(const char *text, const char *path, int force, sb_error *err) {
    sb_outfile f;
    sb_status s = sb_outfile_open(&f, path, force, err);
    if (!s) s = sb_outfile_write(&f, text, strlen(text), err);
    if (!s) s = sb_outfile_commit(&f, err);
    sb_outfile_abort(&f);
    return s;
}

/* ---- the laser-cut sheet of a layer ------------------------------------------------------- */

/* The label map's plane drawn on a layer's sheet: the one nearest the layer's mid-plane among
 * those the layer's resampling reads that holds body voxels (-1: none). */
static long sheet_plane(const sculpt *c, const layer *L, const size_t *count, sb_error *err) {
    sb_layer_opts lo;
    sb_layer_opts_default(&lo);
    lo.axis = c->axis, lo.from_mm = L->from, lo.to_mm = L->to;
    if (c->o->subdiv > 0) lo.subdiv = c->o->subdiv;
    long k0, k1, best = -1;
    int va;
    if (sb_mesh_layer_source(c->v, &lo, &va, &k0, &k1, err)) return -2;
    double mid = 0.5 * (L->from + L->to), bestd = 1e300;
    for (long k = k0; k <= k1; k++) {
        if (!count[k]) continue;
        double d = fabs(plane_world(c, k) - mid);
        if (d < bestd) bestd = d, best = k;
    }
    return best;
}

/* Pixel (p, q) of plane k (p along voxel axis a+1, q along a+2) -> sheet mm. */
typedef struct sheet_map {
    const sculpt *c;
    long k;
    double x0, y1, margin; /* the layer's bounding box corner (model mm) and the kerf margin */
} sheet_map;

static void sheet_xy(const sheet_map *sm, double p, double q, double *X, double *Y) {
    const sculpt *c = sm->c;
    int a = c->vox_axis;
    double ijk[3], w[3], m[3];
    ijk[a] = (double)sm->k, ijk[(a + 1) % 3] = p, ijk[(a + 2) % 3] = q;
    sb_volume_to_world(c->v, ijk, w);
    int ax = c->axis; /* model frame: the cyclic rotation putting the axis on z */
    m[0] = w[(ax + 1) % 3], m[1] = w[(ax + 2) % 3], m[2] = w[ax];
    *X = c->scale * m[0] - sm->x0 + sm->margin;
    *Y = sm->y1 - c->scale * m[1] + sm->margin;
}

/* Room for one more path in *paths; 1 on out of memory. */
static int path_room(sb_svg_path **paths, size_t np, size_t *cap) {
    if (np < *cap) return 0;
    size_t nc = *cap ? 2 * *cap : 64;
    sb_svg_path *q = realloc(*paths, nc * sizeof *q);
    if (!q) return 1;
    *paths = q, *cap = nc;
    return 0;
}

/* Adds the loops of mask as paths (sheet mm, offset by d to the outside) to *paths / *pts. */
static sb_status add_loops(const sheet_map *sm, const uint8_t *mask, size_t nu, size_t nv, double d,
                           const uint8_t rgb[3], const char *cls, sb_svg_path **paths, size_t *np,
                           size_t *cap, sb_error *err) {
    sb_contours *ct = NULL;
    sb_status s = sb_mesh_contours(mask, nu, nv, &ct, err);
    if (s) return s;
    /* the map's orientation: the inside stays on the left if it keeps handedness */
    double x00, y00, x10, y10, x01, y01;
    sheet_xy(sm, 0, 0, &x00, &y00);
    sheet_xy(sm, 1, 0, &x10, &y10);
    sheet_xy(sm, 0, 1, &x01, &y01);
    double det = (x10 - x00) * (y01 - y00) - (y10 - y00) * (x01 - x00);
    for (size_t i = 0; !s && i < ct->nloops; i++) {
        size_t n = ct->start[i + 1] - ct->start[i];
        double *xy = malloc(2 * n * sizeof *xy);
        if (*np == *cap) {
            size_t nc = *cap ? 2 * *cap : 64;
            sb_svg_path *q = realloc(*paths, nc * sizeof *q);
            if (q) *paths = q, *cap = nc;
        }
        if (!xy || *np == *cap) {
            free(xy);
            s = sb_error_set(err, SB_ERR_MEMORY, "out of memory");
            break;
        }
        for (size_t k = 0; k < n; k++) {
            const double *P = ct->xy + 2 * (ct->start[i] + k);
            sheet_xy(sm, P[0], P[1], &xy[2 * k], &xy[2 * k + 1]);
        }
        sb_contour_offset(xy, n, det > 0 ? d : -d);
        sb_svg_path *p = &(*paths)[(*np)++];
        *p = (sb_svg_path){.xy = xy, .n = n, .closed = 1, .stroke_mm = 0.1, .cls = cls};
        memcpy(p->rgb, rgb, 3);
    }
    sb_contours_free(ct);
    return s;
}

/* layer_k.svg: the sheet of the layer's plane nearest its middle: the body's outline as cut
 * lines (red, offset outward by half the kerf), each organ's outline as engraving (its colour),
 * the layer number engraved (blue) where the body is thickest; the sheet is the layer's
 * bounding box plus half the kerf on each side. */
static sb_status write_svg(sculpt *c, size_t l, const double lo3[3], const double hi3[3], cJSON *e,
                           sb_error *err) {
    const sb_volume *v = c->v;
    layer *L = &c->layers[l];
    int a = c->vox_axis, b = (a + 1) % 3, cc = (a + 2) % 3;
    size_t nu = v->dim[b], nv = v->dim[cc], np = (size_t)c->nparts;
    uint8_t *kind = malloc(nu * nv), *mask = malloc(nu * nv);
    float *dist = malloc(nu * nv * sizeof *dist);
    sb_svg_path *paths = NULL;
    size_t npaths = 0, cap = 0;
    sb_status s = SB_OK;
    if (!kind || !mask || !dist) {
        s = sb_error_set(err, SB_ERR_MEMORY, "out of memory");
        goto done;
    }
    size_t ix[3];
    long k = sheet_plane(c, L, c->plane_count, err);
    if (k == -2) {
        s = err->status ? err->status : SB_ERR_INTERNAL;
        goto done;
    }
    double kerf = c->o->kerf_mm, W = hi3[0] - lo3[0] + kerf, H = hi3[1] - lo3[1] + kerf;
    sheet_map sm = {c, k < 0 ? 0 : k, lo3[0], hi3[1], kerf / 2};
    size_t cuts = 0, holes = 0;
    if (k >= 0) {
        for (size_t q = 0; q < nv; q++)
            for (size_t p = 0; p < nu; p++) {
                ix[a] = (size_t)k, ix[b] = p, ix[cc] = q;
                double x = sb_volume_get(v, sb_volume_index(v, ix[0], ix[1], ix[2]));
                kind[p + nu * q] = x >= 1 && x <= 65535 && x == floor(x)
                                       ? (uint8_t)(c->part_of[(size_t)x] ? 1 : 0)
                                       : 0;
                if (kind[p + nu * q] && c->part_of[(size_t)x] > 1)
                    kind[p + nu * q] = (uint8_t)(c->part_of[(size_t)x] > 255 ? 255 : 2);
            }
        /* cut: the whole body */
        for (size_t i = 0; i < nu * nv; i++) mask[i] = kind[i] != 0;
        static const uint8_t RED[3] = {255, 0, 0}, BLUE[3] = {0, 0, 255};
        s = add_loops(&sm, mask, nu, nv, kerf / 2, RED, "cut", &paths, &npaths, &cap, err);
        cuts = npaths;
        /* engraving: each organ part in the plane */
        for (size_t pi = 1; !s && pi < np; pi++) {
            size_t hit = 0;
            for (size_t q = 0; q < nv; q++)
                for (size_t p = 0; p < nu; p++) {
                    ix[a] = (size_t)k, ix[b] = p, ix[cc] = q;
                    double x = sb_volume_get(v, sb_volume_index(v, ix[0], ix[1], ix[2]));
                    int in = x >= 1 && x <= 65535 && x == floor(x) &&
                             c->part_of[(size_t)x] == (uint16_t)(pi + 1);
                    mask[p + nu * q] = (uint8_t)in;
                    hit += (size_t)in;
                }
            if (hit)
                s = add_loops(&sm, mask, nu, nv, 0, c->parts[pi].rgba, "engrave", &paths, &npaths,
                              &cap, err);
        }
        /* the number where the body part (organs removed) is thickest, off the holes */
        for (size_t i = 0; i < nu * nv; i++) mask[i] = kind[i] == 1;
        for (int f = 0; c->pegs && f < 2; f++) {
            if ((f == 0 && l == 0) || (f == 1 && l + 1 == c->nlayers)) continue;
            size_t i = f ? l : l - 1;
            double r = c->o->peg_mm[0] / 2 + fmax(c->sp[0], c->sp[1]);
            for (int j = 0; j < c->npegs[i]; j++)
                for (size_t k2 = 0; k2 < nu * nv; k2++)
                    if (pix_d2(c, k2, c->pegs[i][j].q * nu + c->pegs[i][j].p, nu) <= r * r)
                        mask[k2] = 0;
        }
        size_t dim[3] = {nu, nv, 1};
        double sp[3] = {0, 0, 1e6}; /* one plane: the padding above and below is far away */
        for (int r = 0; r < 3; r++) {
            sp[0] += v->affine[r][b] * v->affine[r][b];
            sp[1] += v->affine[r][cc] * v->affine[r][cc];
        }
        sp[0] = c->scale * sqrt(sp[0]), sp[1] = c->scale * sqrt(sp[1]);
        if (!s) s = sb_mesh_edt(mask, dim, sp, 1, NULL, dist, err);
        size_t best = 0;
        for (size_t i = 1; !s && i < nu * nv; i++)
            if (dist[i] > dist[best]) best = i;
        double X = W / 2, Y = H / 2, size = 3;
        if (!s && dist[best] > 0) {
            sheet_xy(&sm, (double)(best % nu), (double)(best / nu), &X, &Y);
            size = fmin(10, fmax(1.5, 1.2 * dist[best]));
        }
        /* registration holes: the pegs of both faces, cut (shrunk by half the kerf) */
        static const uint8_t HOLE[3] = {255, 0, 0};
        for (int f = 0; !s && c->pegs && f < 2; f++) {
            if ((f == 0 && l == 0) || (f == 1 && l + 1 == c->nlayers)) continue;
            size_t i = f ? l : l - 1;
            for (int j = 0; !s && j < c->npegs[i]; j++) {
                enum { NSEG = 48 };
                double *xy = malloc(2 * NSEG * sizeof *xy), r = c->o->peg_mm[0] / 2 - kerf / 2;
                if (path_room(&paths, npaths, &cap) || !xy) {
                    free(xy);
                    s = sb_error_set(err, SB_ERR_MEMORY, "out of memory");
                    break;
                }
                double cx = c->pegs[i][j].x - lo3[0] + kerf / 2,
                       cy = hi3[1] - c->pegs[i][j].y + kerf / 2;
                for (int t = 0; t < NSEG; t++) {
                    double ang = 2 * 3.14159265358979323846 * t / NSEG;
                    xy[2 * t] = cx + r * cos(ang), xy[2 * t + 1] = cy - r * sin(ang);
                }
                paths[npaths++] = (sb_svg_path){
                    .xy = xy, .n = NSEG, .closed = 1, .stroke_mm = 0.1, .cls = "cut", .id = "hole"};
                memcpy(paths[npaths - 1].rgb, HOLE, 3);
                holes++;
            }
        }
        sb_svg_text t = {.x = X, .y = Y, .size_mm = size, .text = L->num, .cls = "engrave"};
        memcpy(t.rgb, BLUE, 3);
        L->text = t;
        char title[64];
        snprintf(title, sizeof title, "synthbody sculpture layer %zu", l + 1);
        if (!s) s = sb_svg_write(W, H, paths, npaths, &t, 1, title, L->svg, c->o->force, err);
    } else {
        s = sb_svg_write(W, H, NULL, 0, NULL, 0, "synthbody sculpture layer", L->svg, c->o->force,
                         err);
    }
    if (s) goto done;
    cJSON *g = cJSON_AddObjectToObject(e, "svg");
    cJSON_AddStringToObject(g, "path", rel(c, L->svg));
    cJSON_AddNumberToObject(g, "width_mm", W);
    cJSON_AddNumberToObject(g, "height_mm", H);
    cJSON_AddNumberToObject(g, "kerf_mm", kerf);
    cJSON_AddNumberToObject(g, "plane_world_mm", k >= 0 ? plane_world(c, k) : 0);
    cJSON_AddNumberToObject(g, "cut_paths", (double)cuts);
    cJSON_AddNumberToObject(g, "engrave_paths", (double)(npaths - cuts - holes));
    cJSON_AddNumberToObject(g, "registration_holes", (double)holes);
    L->sheet_w = W, L->sheet_h = H;
    if (c->nsheets) { /* kept for the nested sheets */
        L->paths = paths, L->npaths = npaths;
        paths = NULL, npaths = 0;
    }
done:
    for (size_t i = 0; i < npaths; i++) free((void *)paths[i].xy);
    free(paths);
    free(kind), free(mask), free(dist);
    return s;
}

/* ---- the slice image of a layer ----------------------------------------------------------- */

/* The contrast image for the slice pictures: <contrast>.nii.gz beside the label map when the
 * input is a folder (default T1w, skipped if absent unless named); "none": no pictures. */
static sb_status load_image(sculpt *c, const char *input, const sb_ctx *ctx, sb_error *err) {
    const char *name = c->o->contrast ? c->o->contrast : "T1w";
    if (!strcmp(name, "none")) return SB_OK;
    struct stat st;
    if (stat(input, &st) != 0 || !S_ISDIR(st.st_mode)) {
        if (c->o->contrast)
            return sb_error_set(err, SB_ERR_USAGE,
                                "--contrast %s needs a generate output folder as INPUT", name);
        return SB_OK;
    }
    char file[300];
    snprintf(file, sizeof file, "%s.nii.gz", name);
    if (!sb_file_name_safe(file))
        return sb_error_set(err, SB_ERR_USAGE, "--contrast \"%s\" is not a contrast name", name);
    sb_status s = sb_path_join(c->img_path, sizeof c->img_path, input, file, err);
    if (s) return s;
    if (!sb_path_exists(c->img_path)) {
        if (c->o->contrast)
            return sb_error_set(err, SB_ERR_INPUT, "%s: no such file (--contrast %s)", c->img_path,
                                name);
        return SB_OK;
    }
    if ((s = sb_nifti_read(c->img_path, ctx, &c->img, NULL, err))) return s;
    c->img_white = vol_percentile995(c->img);
    return SB_OK;
}

/* layer_k.png: the contrast at the layer's mid-plane over the layer's bounding box (x, y of the
 * model frame, seen from +z like the sheet), --dpi pixels per inch of the model, grey levels up
 * to 254 at the image's 99.5th percentile, pure white (255) exactly outside the body (nothing
 * printed on the transparent sheet), label colours blended half with --overlay. */
static sb_status write_png(sculpt *c, size_t l, const double lo3[3], const double hi3[3], cJSON *e,
                           sb_error *err) {
    layer *L = &c->layers[l];
    double dpi = c->o->dpi > 0 ? c->o->dpi : 150, W = hi3[0] - lo3[0], H = hi3[1] - lo3[1];
    double wpx = floor(W / 25.4 * dpi + 0.5), hpx = floor(H / 25.4 * dpi + 0.5);
    if (wpx < 1) wpx = 1;
    if (hpx < 1) hpx = 1;
    if (wpx * hpx > 2e8)
        return sb_error_set(err, SB_ERR_USAGE,
                            "layer %zu: %.0f x %.0f pixels at --dpi %g is too large", l + 1, wpx,
                            hpx, dpi);
    size_t w = (size_t)wpx, h = (size_t)hpx;
    uint8_t *rgb = malloc(w * h * 3);
    if (!rgb) return sb_error_set(err, SB_ERR_MEMORY, "out of memory");
    vol_sampler si, sl;
    if (!vol_sampler_init(&si, c->img) || !vol_sampler_init(&sl, c->v)) {
        free(rgb);
        return sb_error_set(err, SB_ERR_INPUT, "%s: singular affine", c->img_path);
    }
    int ax = c->axis;
    double mid = 0.5 * (L->from + L->to), mmpx = W / (double)w, mmpy = H / (double)h;
    for (size_t y = 0; y < h; y++)
        for (size_t x = 0; x < w; x++) {
            double mx = lo3[0] + ((double)x + 0.5) * mmpx, my = hi3[1] - ((double)y + 0.5) * mmpy;
            double p[3];
            p[(ax + 1) % 3] = mx / c->scale, p[(ax + 2) % 3] = my / c->scale, p[ax] = mid;
            uint8_t *o = rgb + 3 * (y * w + x);
            size_t nl = vol_sample(&sl, p), ni = vol_sample(&si, p);
            double lab = nl == SIZE_MAX ? 0 : sb_volume_get(c->v, nl);
            if (!(lab >= 1 && lab <= 65535 && lab == floor(lab)) || ni == SIZE_MAX) {
                o[0] = o[1] = o[2] = 255;
                continue;
            }
            double g = 255.0 * sb_volume_get(c->img, ni) / c->img_white;
            g = g < 0 ? 0 : g > 254 ? 254 : g; /* 255 (white) only outside the body */
            for (int k = 0; k < 3; k++) o[k] = (uint8_t)(g + 0.5);
            uint16_t pi = c->part_of[(size_t)lab];
            if (c->o->overlay && pi > 1)
                for (int k = 0; k < 3; k++)
                    o[k] = (uint8_t)((o[k] + c->parts[pi - 1].rgba[k] + 1) / 2);
        }
    sb_status s = sb_png_write_rgb(rgb, w, h, L->png, c->o->force, err);
    free(rgb);
    if (s) return s;
    cJSON *g = cJSON_AddObjectToObject(e, "png");
    cJSON_AddStringToObject(g, "path", rel(c, L->png));
    cJSON_AddNumberToObject(g, "width_px", (double)w);
    cJSON_AddNumberToObject(g, "height_px", (double)h);
    cJSON_AddNumberToObject(g, "dpi", dpi);
    cJSON_AddNumberToObject(g, "width_mm", W);
    cJSON_AddNumberToObject(g, "height_mm", H);
    cJSON_AddNumberToObject(g, "plane_world_mm", mid);
    return SB_OK;
}

/* Meshes and writes one layer; appends its manifest entry to `list`. */
static sb_status do_layer(sculpt *c, size_t l, outputs *outs, cJSON *list, double *sum_mm3,
                          const sb_ctx *ctx, sb_error *err) {
    layer *L = &c->layers[l];
    size_t np = (size_t)c->nparts;
    sb_trimesh **ms = calloc(np, sizeof *ms);
    sb_layer_info *info = calloc(np, sizeof *info);
    sb_scene_mesh *sm = calloc(np, sizeof *sm);
    size_t *idx = calloc(np, sizeof *idx);
    size_t npix = c->v->dim[(c->vox_axis + 1) % 3] * c->v->dim[(c->vox_axis + 2) % 3];
    float *carve[2] = {malloc(npix * sizeof(float)), malloc(npix * sizeof(float))};
    int keep = c->o->glb || c->o->plate_mm[0] > 0;
    sb_status s = SB_OK;
    if (!ms || !info || !sm || !idx || !carve[0] || !carve[1]) {
        s = sb_error_set(err, SB_ERR_MEMORY, "out of memory");
        goto done;
    }
    sb_layer_opts lo;
    sb_layer_opts_default(&lo);
    lo.axis = c->axis, lo.from_mm = L->from, lo.to_mm = L->to;
    lo.smooth_iters = c->o->smooth_iters;
    if (c->o->subdiv > 0) lo.subdiv = c->o->subdiv;
    double glyph, num_xy[2];
    if ((s = make_carve(c, l, carve, &glyph, num_xy, err))) goto done;
    lo.carve[0] = carve[0], lo.carve[1] = carve[1];
    if ((s = sb_mesh_layer_parts(c->v, c->part_of, c->nparts, &lo, ctx, ms, info, err))) goto done;
    sb_scene_frame fr = {.scale = 1.0, .up_y = 0};
    size_t n = 0;
    char dir[4096], name[32];
    snprintf(name, sizeof name, "layer_%03zu", l + 1);
    if ((s = sb_path_join(dir, sizeof dir, c->o->out_dir, name, err)) || (s = sb_mkdir_p(dir, err)))
        goto done;
    cJSON *e = cJSON_CreateObject(), *parts = NULL;
    cJSON_AddItemToArray(list, e);
    cJSON_AddNumberToObject(e, "layer", (double)(l + 1));
    cJSON_AddNumberToObject(e, "from_world_mm", L->from);
    cJSON_AddNumberToObject(e, "to_world_mm", L->to);
    cJSON_AddNumberToObject(e, "from_mm", c->scale * L->from);
    cJSON_AddNumberToObject(e, "to_mm", c->scale * L->to);
    cJSON_AddNumberToObject(e, "thickness_mm", c->scale * (L->to - L->from));
    cJSON_AddNumberToObject(e, "sublayer_world_mm", info[0].sublayer_mm);
    cJSON_AddStringToObject(e, "3mf", rel(c, L->threemf));
    parts = cJSON_AddArrayToObject(e, "parts");
    double lo3[3] = {1e300, 1e300, 1e300}, hi3[3] = {-1e300, -1e300, -1e300}, vol = 0;
    for (size_t p = 0; p < np; p++) {
        if (!ms[p] != !L->has[p]) {
            s = sb_error_set(err, SB_ERR_INTERNAL, "layer %zu: part %s %s", l + 1, c->parts[p].name,
                             ms[p] ? "not planned" : "gave no surface");
            goto done;
        }
        if (!ms[p]) continue;
        /* the report of the world-mm mesh, carried into the model frame (a rotation and a
         * uniform scale: closedness and manifoldness are unchanged) */
        sb_mesh_report rep = info[p].report;
        if (!rep.ok) {
            s = sb_error_set(err, SB_ERR_INTERNAL, "layer %zu: part %s is not a closed 2-manifold",
                             l + 1, c->parts[p].name);
            goto done;
        }
        to_model(ms[p], c->axis, c->scale);
        double sc = c->scale;
        rep.volume_mm3 *= sc * sc * sc;
        sb_mesh_bbox((const sb_trimesh *const *)&ms[p], 1, rep.bbox_min, rep.bbox_max);
        part *P = &c->parts[p];
        for (int d = 0; d < 2; d++) /* the planned footprint (plates, sheets) is the mesh's */
            if (fabs(rep.bbox_min[d] - L->box[4 * p + d]) > 1e-3 ||
                fabs(rep.bbox_max[d] - L->box[4 * p + 2 + d]) > 1e-3) {
                s = sb_error_set(err, SB_ERR_INTERNAL,
                                 "layer %zu: part %s's box %g..%g differs from its voxels' %g..%g",
                                 l + 1, P->name, rep.bbox_min[d], rep.bbox_max[d],
                                 L->box[4 * p + d], L->box[4 * p + 2 + d]);
                goto done;
            }
        sm[n] = (sb_scene_mesh){.mesh = ms[p], .name = P->name, .group = "", .id = P->id};
        memcpy(sm[n].rgba, P->rgba, 4);
        idx[n++] = p;
        if ((s = sb_scene_write(SB_SCENE_STL, &sm[n - 1], 1, &fr, P->name, L->stl[p], c->o->force,
                                ctx, err)))
            goto done;
        outputs_mark_done(outs, L->stl[p]);
        P->total_mm3 += rep.volume_mm3;
        vol += rep.volume_mm3;
        for (int k = 0; k < 3; k++) {
            lo3[k] = fmin(lo3[k], rep.bbox_min[k]);
            hi3[k] = fmax(hi3[k], rep.bbox_max[k]);
        }
        cJSON *q = cJSON_CreateObject();
        char col[8];
        hex(P->rgba, col);
        cJSON_AddStringToObject(q, "name", P->name);
        cJSON_AddNumberToObject(q, "id", P->id);
        cJSON_AddStringToObject(q, "color", col);
        cJSON_AddStringToObject(q, "stl", rel(c, L->stl[p]));
        cJSON_AddNumberToObject(q, "triangles", (double)rep.ntris);
        cJSON_AddNumberToObject(q, "components", (double)rep.components);
        cJSON_AddNumberToObject(q, "volume_ml", rep.volume_mm3 / 1000.0);
        cJSON_AddBoolToObject(q, "closed", rep.closed);
        cJSON_AddBoolToObject(q, "smoothed", info[p].smoothed);
        cJSON_AddItemToObject(q, "bbox_min_mm", vec3(rep.bbox_min));
        cJSON_AddItemToObject(q, "bbox_max_mm", vec3(rep.bbox_max));
        cJSON_AddItemToArray(parts, q);
    }
    if (n == 0) {
        s = sb_error_set(err, SB_ERR_INTERNAL, "layer %zu holds no part", l + 1);
        goto done;
    }
    cJSON_AddNumberToObject(e, "volume_ml", vol / 1000.0);
    cJSON_AddItemToObject(e, "bbox_min_mm", vec3(lo3));
    cJSON_AddItemToObject(e, "bbox_max_mm", vec3(hi3));
    for (int f = 0; c->pegs && f < 2; f++) {
        cJSON *g = cJSON_AddArrayToObject(e, f ? "pegs_top" : "pegs_bottom");
        if ((f == 0 && l == 0) || (f == 1 && l + 1 == c->nlayers)) continue;
        size_t i = f ? l : l - 1;
        for (int j = 0; j < c->npegs[i]; j++)
            cJSON_AddItemToArray(
                g, cJSON_CreateDoubleArray((const double[2]){c->pegs[i][j].x, c->pegs[i][j].y}, 2));
    }
    if (glyph > 0) {
        cJSON *g = cJSON_AddObjectToObject(e, "number_engraved");
        cJSON_AddStringToObject(g, "text", L->num);
        cJSON_AddItemToObject(g, "centre_mm", cJSON_CreateDoubleArray(num_xy, 2));
        cJSON_AddNumberToObject(g, "font_pixel_mm", glyph);
        cJSON_AddNumberToObject(g, "height_mm", 5 * glyph);
    } else {
        cJSON_AddNullToObject(e, "number_engraved");
    }
    *sum_mm3 += vol;
    if ((s = sb_scene_write(SB_SCENE_3MF, sm, n, &fr, name, L->threemf, c->o->force, ctx, err)))
        goto done;
    outputs_mark_done(outs, L->threemf);
    if ((s = write_svg(c, l, lo3, hi3, e, err))) goto done;
    outputs_mark_done(outs, L->svg);
    if (L->png) {
        if ((s = write_png(c, l, lo3, hi3, e, err))) goto done;
        outputs_mark_done(outs, L->png);
    }
done:
    for (size_t p = 0; ms && p < np; p++) {
        if (!s && keep)
            L->ms[p] = ms[p];
        else
            sb_trimesh_free(ms[p]);
    }
    free(ms), free(info), free(sm), free(idx), free(carve[0]), free(carve[1]);
    return s;
}

/* The uncut model: the body's marching-cubes surface on the label map's own grid (voxels whose
 * centres lie in the range), at model scale: what the layers' volumes are compared with. */
static sb_status whole_model(const sculpt *c, double *mm3, sb_error *err) {
    const sb_volume *v = c->v;
    sb_volume *b = NULL;
    sb_status s = sb_volume_create(v->dim, v->spacing, SB_DT_UINT8, &b, err);
    if (s) return s;
    memcpy(b->affine, v->affine, sizeof b->affine);
    double from = c->layers[0].from, to = c->layers[c->nlayers - 1].to;
    uint8_t *d = b->data;
    size_t ix[3];
    for (ix[2] = 0; ix[2] < v->dim[2]; ix[2]++)
        for (ix[1] = 0; ix[1] < v->dim[1]; ix[1]++)
            for (ix[0] = 0; ix[0] < v->dim[0]; ix[0]++) {
                size_t n = sb_volume_index(v, ix[0], ix[1], ix[2]);
                double x = sb_volume_get(v, n);
                double w = plane_world(c, (long)ix[c->vox_axis]);
                d[n] = x >= 1 && x <= 65535 && x == floor(x) && c->part_of[(size_t)x] &&
                       w >= from && w <= to;
            }
    int one = 1;
    sb_trimesh *m = NULL;
    sb_mesh_report rep;
    s = sb_mesh_mc_labels(b, &one, 1, NULL, &m, err);
    sb_volume_free(b);
    if (!s && !m) s = sb_error_set(err, SB_ERR_LABEL, "%s: no labelled voxel in range", c->nii);
    if (!s) s = sb_mesh_check(m, &rep, err);
    if (!s) *mm3 = rep.volume_mm3 * c->scale * c->scale * c->scale;
    sb_trimesh_free(m);
    return s;
}

/* The connected pieces of m (triangles joined by shared vertices), in the order of their first
 * triangle; *out: n new meshes. */
static sb_status split_pieces(const sb_trimesh *m, sb_trimesh ***out, size_t *n, sb_error *err) {
    size_t nv = m->nverts, nt = m->ntris;
    uint32_t *up = malloc((nv + 1) * sizeof *up), *piece = malloc((nv + 1) * sizeof *piece);
    uint32_t *remap = malloc((nv + 1) * sizeof *remap);
    size_t *nvp = NULL, *ntp = NULL;
    sb_trimesh **ps = NULL;
    size_t np = 0;
    sb_status s = SB_OK;
    if (!up || !piece || !remap) s = sb_error_set(err, SB_ERR_MEMORY, "out of memory");
    for (size_t v = 0; !s && v < nv; v++) up[v] = (uint32_t)v, piece[v] = UINT32_MAX;
#define FIND(x)                                                                                    \
    do {                                                                                           \
        while (up[x] != x) x = up[x] = up[up[x]];                                                  \
    } while (0)
    for (size_t t = 0; !s && t < nt; t++)
        for (int k = 1; k < 3; k++) {
            uint32_t a = m->tris[3 * t], b = m->tris[3 * t + (size_t)k];
            FIND(a);
            FIND(b);
            if (a != b) up[a > b ? a : b] = a < b ? a : b;
        }
    for (size_t t = 0; !s && t < nt; t++) { /* pieces numbered by their first triangle */
        uint32_t r = m->tris[3 * t];
        FIND(r);
        if (piece[r] == UINT32_MAX) piece[r] = (uint32_t)np++;
    }
#undef FIND
    if (!s && (!(nvp = calloc(np + 1, sizeof *nvp)) || !(ntp = calloc(np + 1, sizeof *ntp)) ||
               !(ps = calloc(np + 1, sizeof *ps))))
        s = sb_error_set(err, SB_ERR_MEMORY, "out of memory");
    for (size_t v = 0; !s && v < nv; v++) {
        uint32_t r = (uint32_t)v;
        while (up[r] != r) r = up[r];
        if (piece[r] == UINT32_MAX) continue; /* a vertex of no triangle */
        remap[v] = (uint32_t)nvp[piece[r]]++;
        up[v] = r;
    }
    for (size_t t = 0; !s && t < nt; t++) ntp[piece[up[m->tris[3 * t]]]]++;
    for (size_t i = 0; !s && i < np; i++) {
        sb_trimesh *q = ps[i] = calloc(1, sizeof *q);
        if (!q || !(q->verts = malloc(3 * nvp[i] * sizeof *q->verts)) ||
            !(q->tris = malloc(3 * ntp[i] * sizeof *q->tris)))
            s = sb_error_set(err, SB_ERR_MEMORY, "out of memory");
    }
    for (size_t v = 0; !s && v < nv; v++) {
        if (piece[up[v]] == UINT32_MAX) continue;
        sb_trimesh *q = ps[piece[up[v]]];
        memcpy(&q->verts[3 * (size_t)remap[v]], &m->verts[3 * v], 3 * sizeof *q->verts);
        q->nverts++;
    }
    for (size_t t = 0; !s && t < nt; t++) {
        sb_trimesh *q = ps[piece[up[m->tris[3 * t]]]];
        for (int k = 0; k < 3; k++)
            q->tris[3 * q->ntris + (size_t)k] = remap[m->tris[3 * t + (size_t)k]];
        q->ntris++;
    }
    if (s) {
        for (size_t i = 0; ps && i < np; i++) sb_trimesh_free(ps[i]);
        free(ps), ps = NULL, np = 0;
    }
    free(up), free(piece), free(remap), free(nvp), free(ntp);
    *out = ps, *n = np;
    return s;
}

static double piece_mm3(const sb_trimesh *m) {
    double v = 0;
    for (size_t t = 0; t < m->ntris; t++) {
        const float *a = &m->verts[3 * (size_t)m->tris[3 * t]],
                    *b = &m->verts[3 * (size_t)m->tris[3 * t + 1]],
                    *c = &m->verts[3 * (size_t)m->tris[3 * t + 2]];
        v += (double)a[0] * ((double)b[1] * c[2] - (double)b[2] * c[1]) +
             (double)a[1] * ((double)b[2] * c[0] - (double)b[0] * c[2]) +
             (double)a[2] * ((double)b[0] * c[1] - (double)b[1] * c[0]);
    }
    return v / 6;
}

/* plate_k.3mf: every connected piece of every part (so a slicer finds no empty layer inside an
 * object) lying on its lower cut face, or upside down on its upper one, packed by footprint onto
 * --plate-mm plates (pack_shelves); objects named layer_NNN_<part>[_<piece>] in the part's
 * colour. Left off (counted in the manifest): specks under PLATE_MIN_MM3, and pieces touching
 * neither cut face (enclosed in the layer: no flat face to print on, and no way into their
 * cavity in a printed body part; the layer's 3MF holds them for printing in place). */
static sb_status write_plates(sculpt *c, outputs *outs, cJSON *root, const sb_ctx *ctx,
                              sb_error *err) {
    const sb_sculpt_opts *o = c->o;
    if (!(o->plate_mm[0] > 0)) return SB_OK;
    size_t np = (size_t)c->nparts, n = 0, cap = 0, bad, left[2] = {0, 0};
    double left_mm3[2] = {0, 0}; /* specks under PLATE_MIN_MM3, pieces without a cut face */
    sb_trimesh **pc = NULL;
    pack_item *it = NULL;
    size_t *lay = NULL, *prt = NULL, *idx = NULL;
    sb_scene_mesh *sm = NULL;
    char(*names)[96] = NULL;
    sb_status s = SB_OK;
    for (size_t l = 0; !s && l < c->nlayers; l++)
        for (size_t p = 0; !s && p < np; p++) {
            if (!c->layers[l].ms[p]) continue;
            sb_trimesh **ps;
            size_t k;
            if ((s = split_pieces(c->layers[l].ms[p], &ps, &k, err))) break;
            if (n + k > cap) {
                size_t nc = 2 * (n + k) + 64;
                sb_trimesh **a = realloc(pc, nc * sizeof *a);
                pack_item *b = a ? realloc(it, nc * sizeof *b) : NULL;
                size_t *d = b ? realloc(lay, nc * sizeof *d) : NULL, *e = NULL, *f = NULL;
                if (a) pc = a;
                if (b) it = b;
                if (d) lay = d;
                e = d ? realloc(prt, nc * sizeof *e) : NULL;
                if (e) prt = e;
                f = e ? realloc(idx, nc * sizeof *f) : NULL;
                if (f) idx = f, cap = nc;
                if (!f) {
                    for (size_t i = 0; i < k; i++) sb_trimesh_free(ps[i]);
                    free(ps);
                    s = sb_error_set(err, SB_ERR_MEMORY, "out of memory");
                    break;
                }
            }
            for (size_t i = 0; i < k; i++) {
                double lo[3], hi[3], vol = piece_mm3(ps[i]);
                sb_mesh_bbox((const sb_trimesh *const *)&ps[i], 1, lo, hi);
                int bottom = fabs(lo[2] - c->scale * c->layers[l].from) < 1e-3;
                int top = fabs(hi[2] - c->scale * c->layers[l].to) < 1e-3;
                if (vol < PLATE_MIN_MM3 || (!bottom && !top)) {
                    int e = vol >= PLATE_MIN_MM3; /* else a speck */
                    left[e]++, left_mm3[e] += vol;
                    sb_trimesh_free(ps[i]);
                    continue;
                }
                if (!bottom) { /* upside down on its upper cut face: (x, -y, -z), a rotation */
                    for (size_t v = 0; v < ps[i]->nverts; v++)
                        ps[i]->verts[3 * v + 1] = -ps[i]->verts[3 * v + 1],
                                             ps[i]->verts[3 * v + 2] = -ps[i]->verts[3 * v + 2];
                    sb_mesh_bbox((const sb_trimesh *const *)&ps[i], 1, lo, hi);
                }
                pc[n] = ps[i];
                it[n] = (pack_item){.w = hi[0] - lo[0], .h = hi[1] - lo[1]};
                lay[n] = l, prt[n] = p, idx[n] = k > 1 ? i + 1 : 0;
                n++;
            }
            free(ps);
        }
    if (!s) {
        c->nplates = pack_shelves(it, n, o->plate_mm[0], o->plate_mm[1], PLATE_MARGIN_MM,
                                  PLATE_GAP_MM, &bad);
        if (!c->nplates) s = sb_error_set(err, SB_ERR_INTERNAL, "plates: a piece does not fit");
    }
    if (!s && (!(c->plates = calloc(c->nplates, sizeof *c->plates)) ||
               !(sm = calloc(n, sizeof *sm)) || !(names = calloc(n, sizeof *names))))
        s = sb_error_set(err, SB_ERR_MEMORY, "out of memory");
    char name[32];
    for (size_t b = 0; !s && b < c->nplates; b++) {
        snprintf(name, sizeof name, "plate_%03zu.3mf", b + 1);
        s = outputs_plan(outs, o->out_dir, name, &c->plates[b], err);
    }
    cJSON *off = cJSON_AddObjectToObject(root, "left_off_plates");
    cJSON_AddNumberToObject(off, "below_mm3", PLATE_MIN_MM3);
    cJSON_AddNumberToObject(off, "specks", (double)left[0]);
    cJSON_AddNumberToObject(off, "specks_mm3", left_mm3[0]);
    cJSON_AddNumberToObject(off, "enclosed", (double)left[1]);
    cJSON_AddNumberToObject(off, "enclosed_mm3", left_mm3[1]);
    cJSON *list = cJSON_AddArrayToObject(root, "plates");
    sb_scene_frame fr = {.scale = 1.0, .up_y = 0};
    for (size_t b = 0; !s && b < c->nplates; b++) {
        cJSON *e = cJSON_CreateObject(), *parts;
        cJSON_AddItemToArray(list, e);
        cJSON_AddStringToObject(e, "3mf", rel(c, c->plates[b]));
        cJSON_AddNumberToObject(e, "width_mm", o->plate_mm[0]);
        cJSON_AddNumberToObject(e, "depth_mm", o->plate_mm[1]);
        parts = cJSON_AddArrayToObject(e, "objects");
        size_t m = 0;
        double top = 0;
        for (size_t i = 0; i < n; i++) {
            if (it[i].bin != b) continue;
            size_t l = lay[i], p = prt[i];
            double lo[3], hi[3];
            sb_mesh_bbox((const sb_trimesh *const *)&pc[i], 1, lo, hi);
            double t[3] = {it[i].x - lo[0], it[i].y - lo[1], -lo[2]};
            sb_mesh_transform(pc[i], 1.0, t);
            if (idx[i])
                snprintf(names[m], sizeof names[m], "layer_%03zu_%s_%zu", l + 1, c->parts[p].name,
                         idx[i]);
            else
                snprintf(names[m], sizeof names[m], "layer_%03zu_%s", l + 1, c->parts[p].name);
            sm[m] =
                (sb_scene_mesh){.mesh = pc[i], .name = names[m], .group = "", .id = c->parts[p].id};
            memcpy(sm[m].rgba, c->parts[p].rgba, 4);
            top = fmax(top, hi[2] - lo[2]);
            cJSON *q = cJSON_CreateObject();
            cJSON_AddStringToObject(q, "name", names[m]);
            cJSON_AddNumberToObject(q, "layer", (double)(l + 1));
            cJSON_AddStringToObject(q, "part", c->parts[p].name);
            cJSON_AddItemToObject(q, "min_mm",
                                  cJSON_CreateDoubleArray((const double[2]){it[i].x, it[i].y}, 2));
            cJSON_AddItemToObject(q, "max_mm",
                                  cJSON_CreateDoubleArray(
                                      (const double[2]){it[i].x + it[i].w, it[i].y + it[i].h}, 2));
            cJSON_AddNumberToObject(q, "height_mm", hi[2] - lo[2]);
            cJSON_AddItemToArray(parts, q);
            m++;
        }
        cJSON_AddNumberToObject(e, "height_mm", top);
        char title[32];
        snprintf(title, sizeof title, "plate_%03zu", b + 1);
        s = sb_scene_write(SB_SCENE_3MF, sm, m, &fr, title, c->plates[b], o->force, ctx, err);
        if (!s) outputs_mark_done(outs, c->plates[b]);
    }
    for (size_t i = 0; i < n; i++) sb_trimesh_free(pc[i]);
    free(pc), free(it), free(lay), free(prt), free(idx), free(sm), free(names);
    return s;
}

/* sculpture.glb: every layer a node (layer_NNN) holding its parts (layer_NNN_<part>), layer k
 * raised by (k - 1) x gap; glTF's frame (metres, +Y up: the model's +z). */
static sb_status write_glb(sculpt *c, outputs *outs, const sb_ctx *ctx, sb_error *err) {
    if (!c->glb) return SB_OK;
    size_t np = (size_t)c->nparts, n = 0;
    sb_scene_mesh *sm = calloc(c->nlayers * np, sizeof *sm);
    char(*names)[96] = calloc(c->nlayers * np, sizeof *names);
    char(*groups)[32] = calloc(c->nlayers, sizeof *groups);
    if (!sm || !names || !groups) {
        free(sm), free(names), free(groups);
        return sb_error_set(err, SB_ERR_MEMORY, "out of memory");
    }
    for (size_t l = 0; l < c->nlayers; l++) {
        layer *L = &c->layers[l];
        snprintf(groups[l], sizeof groups[l], "layer_%03zu", l + 1);
        for (size_t p = 0; p < np; p++) {
            if (!L->ms[p]) continue;
            sb_mesh_transform(L->ms[p], 1.0, (const double[3]){0, 0, (double)l * c->o->gap_mm});
            snprintf(names[n], sizeof names[n], "layer_%03zu_%s", l + 1, c->parts[p].name);
            sm[n] = (sb_scene_mesh){
                .mesh = L->ms[p], .name = names[n], .group = groups[l], .id = c->parts[p].id};
            memcpy(sm[n].rgba, c->parts[p].rgba, 4);
            n++;
        }
    }
    sb_scene_frame fr = {.scale = 0.001, .up_y = 1};
    sb_status s =
        sb_scene_write(SB_SCENE_GLB, sm, n, &fr, "sculpture", c->glb, c->o->force, ctx, err);
    if (!s) outputs_mark_done(outs, c->glb);
    free(sm), free(names), free(groups);
    return s;
}

/* sheet_k.svg: the layers' sheets nested (pack()) on sheets of --sheet-mm, each layer's paths
 * and number moved to its place. */
static sb_status write_sheets(sculpt *c, outputs *outs, cJSON *root, sb_error *err) {
    if (!c->nsheets) return SB_OK;
    size_t total = 0;
    for (size_t l = 0; l < c->nlayers; l++) total += c->layers[l].npaths;
    sb_svg_path *ps = calloc(total + 1, sizeof *ps);
    sb_svg_text *ts = calloc(c->nlayers, sizeof *ts);
    double *xy = NULL;
    size_t nxy = 0;
    for (size_t l = 0; l < c->nlayers; l++)
        for (size_t i = 0; i < c->layers[l].npaths; i++) nxy += c->layers[l].paths[i].n;
    xy = malloc((2 * nxy + 1) * sizeof *xy);
    sb_status s = SB_OK;
    if (!ps || !ts || !xy) s = sb_error_set(err, SB_ERR_MEMORY, "out of memory");
    cJSON *list = cJSON_AddArrayToObject(root, "sheets");
    for (size_t b = 0; !s && b < c->nsheets; b++) {
        size_t n = 0, nt = 0, k = 0;
        cJSON *e = cJSON_CreateObject(), *ls;
        cJSON_AddItemToArray(list, e);
        cJSON_AddStringToObject(e, "svg", rel(c, c->sheets[b]));
        cJSON_AddNumberToObject(e, "width_mm", c->o->sheet_mm[0]);
        cJSON_AddNumberToObject(e, "height_mm", c->o->sheet_mm[1]);
        ls = cJSON_AddArrayToObject(e, "layers");
        for (size_t l = 0; l < c->nlayers; l++) {
            const pack_item *it = &c->sheet_items[l];
            const layer *L = &c->layers[l];
            if (it->bin != b) continue;
            /* the SVG's y runs down: the packed box's lower corner is its top-left here */
            double dx = it->x, dy = it->y;
            for (size_t i = 0; i < L->npaths; i++) {
                ps[n] = L->paths[i];
                for (size_t j = 0; j < L->paths[i].n; j++) {
                    xy[2 * (k + j)] = L->paths[i].xy[2 * j] + dx;
                    xy[2 * (k + j) + 1] = L->paths[i].xy[2 * j + 1] + dy;
                }
                ps[n++].xy = xy + 2 * k;
                k += L->paths[i].n;
            }
            if (L->text.text) {
                ts[nt] = L->text;
                ts[nt].x += dx, ts[nt++].y += dy;
            }
            cJSON *q = cJSON_CreateObject();
            cJSON_AddNumberToObject(q, "layer", (double)(l + 1));
            cJSON_AddItemToObject(q, "min_mm",
                                  cJSON_CreateDoubleArray((const double[2]){dx, dy}, 2));
            cJSON_AddItemToObject(
                q, "max_mm", cJSON_CreateDoubleArray((const double[2]){dx + it->w, dy + it->h}, 2));
            cJSON_AddItemToArray(ls, q);
        }
        char title[64];
        snprintf(title, sizeof title, "synthbody sculpture sheet %zu", b + 1);
        s = sb_svg_write(c->o->sheet_mm[0], c->o->sheet_mm[1], ps, n, ts, nt, title, c->sheets[b],
                         c->o->force, err);
        if (!s) outputs_mark_done(outs, c->sheets[b]);
    }
    free(ps), free(ts), free(xy);
    return s;
}

static sb_status write_docs(sculpt *c, cJSON *root, double sum, double whole, outputs *outs,
                            sb_error *err) {
    const sb_sculpt_opts *o = c->o;
    char *json = cJSON_Print(root);
    if (!json) return sb_error_set(err, SB_ERR_MEMORY, "out of memory");
    size_t cap = 4096 + c->nlayers * (160 + 96 * (size_t)c->nparts) + 128 * (size_t)c->nparts;
    char *md = malloc(cap), col[8];
    if (!md) {
        free(json);
        return sb_error_set(err, SB_ERR_MEMORY, "out of memory");
    }
    size_t k = 0;
#define PUT(...) k += (size_t)snprintf(md + k, cap - k, __VA_ARGS__)
    PUT("# Assembly sheet\n\n%s, cut %s (along %c) into %zu layers of %g mm at scale %g.\n\n",
        c->nii, AXIS_NAMES[c->axis], "xyz"[c->axis], c -> nlayers, o -> layer_mm, c -> scale);
    PUT("Stack the layers in order, layer 1 at the bottom (the %s end); in each layer the organ "
        "parts sit in the matching cut-outs of the body part.\n\n",
        c->axis == 2   ? "inferior"
        : c->axis == 1 ? "posterior"
                       : "right");
    PUT("| layer | from (mm) | to (mm) | parts | volume (ml) |\n|---|---|---|---|---|\n");
    cJSON *layers = cJSON_GetObjectItem(root, "layers");
    for (int l = 0; l < cJSON_GetArraySize(layers); l++) {
        cJSON *e = cJSON_GetArrayItem(layers, l);
        PUT("| %d | %.1f | %.1f | ", l + 1, cJSON_GetObjectItem(e, "from_mm")->valuedouble,
            cJSON_GetObjectItem(e, "to_mm")->valuedouble);
        cJSON *ps = cJSON_GetObjectItem(e, "parts");
        for (int p = 0; p < cJSON_GetArraySize(ps); p++) {
            cJSON *q = cJSON_GetArrayItem(ps, p);
            PUT("%s%s (%s)", p ? ", " : "", cJSON_GetObjectItem(q, "name")->valuestring,
                cJSON_GetObjectItem(q, "color")->valuestring);
        }
        PUT(" | %.2f |\n", cJSON_GetObjectItem(e, "volume_ml")->valuedouble);
    }
    PUT("\nMaterial per part (all layers):\n\n| part | colour | volume (ml) |\n|---|---|---|\n");
    for (int p = 0; p < c->nparts; p++) {
        if (c->parts[p].total_mm3 <= 0) continue;
        hex(c->parts[p].rgba, col);
        PUT("| %s | %s | %.2f |\n", c->parts[p].name, col, c->parts[p].total_mm3 / 1000.0);
    }
    PUT("\nTotal material: %.2f ml (the uncut model: %.2f ml).\n", sum / 1000.0, whole / 1000.0);
    cJSON *pg = cJSON_GetObjectItem(root, "pegs");
    if (pg)
        PUT("\nDowels: %d of %g mm diameter, %g mm long (holes %g mm deep in both faces; the "
            "layer number is engraved on each layer's underside).\n",
            cJSON_GetObjectItem(pg, "dowels")->valueint, o->peg_mm[0], 2 * o->peg_mm[1],
            o->peg_mm[1]);
    if (c->nplates)
        PUT("\nBuild plates: %zu of %g x %g mm (plate_NNN.3mf; each piece of a part lies on its "
            "cut face, named layer_NNN_<part>[_<piece>]); left off: %d specks under %g mm3 and %d "
            "pieces enclosed in their layer (%.1f mm3; print them in place from the layer's "
            "3MF).\n",
            c->nplates, o->plate_mm[0], o->plate_mm[1],
            cJSON_GetObjectItem(cJSON_GetObjectItem(root, "left_off_plates"), "specks")->valueint,
            PLATE_MIN_MM3,
            cJSON_GetObjectItem(cJSON_GetObjectItem(root, "left_off_plates"), "enclosed")->valueint,
            cJSON_GetObjectItem(cJSON_GetObjectItem(root, "left_off_plates"), "enclosed_mm3")
                ->valuedouble);
    if (c->nsheets)
        PUT("\nLaser sheets: %zu of %g x %g mm (sheet_NNN.svg; red: cut, other colours: "
            "engrave).\n",
            c->nsheets, o->sheet_mm[0], o->sheet_mm[1]);
#undef PUT
    sb_status s = SB_OK;
    if (k >= cap) s = sb_error_set(err, SB_ERR_INTERNAL, "assembly sheet too long");
    size_t jl = strlen(json);
    char *j2 = realloc(json, jl + 2);
    if (!s && !j2) s = sb_error_set(err, SB_ERR_MEMORY, "out of memory");
    if (j2) json = j2, strcpy(json + jl, "\n");
    if (!s) s = write_text(json, c->manifest, o->force, err);
    if (!s) outputs_mark_done(outs, c->manifest);
    if (!s) s = write_text(md, c->assembly, o->force, err);
    if (!s) outputs_mark_done(outs, c->assembly);
    free(json);
    free(md);
    return s;
}

sb_status sb_pipeline_sculpt(const sb_sculpt_opts *o, const sb_ctx *ctx, sb_error *err) {
    char nii[4096];
    sculpt c = {.o = o, .nii = nii, .axis = o->axis};
    outputs outs = {0};
    size_t *counts = NULL;
    sb_label_table *names = NULL;
    cJSON *root = NULL;
    if (!o->input || !o->out_dir || o->axis < 0 || o->axis > 2 || !(o->layer_mm > 0))
        return sb_error_set(err, SB_ERR_USAGE, "sculpt: input, --out, axis and --layer-mm needed");
    sb_status s = resolve_input(o->input, nii, sizeof nii, err);
    if (s) return s;
    if ((s = sb_nifti_read(nii, ctx, &c.v, NULL, err))) return s;
    if (!(counts = calloc(65536, sizeof *counts))) {
        s = sb_error_set(err, SB_ERR_MEMORY, "out of memory");
        goto done;
    }
    if ((s = label_counts(c.v, nii, counts, err))) goto done;
    names = sibling_dseg_tsv(nii);
    if ((s = make_parts(&c, counts, names, err)) || (s = make_layers(&c, counts, names, err)) ||
        (s = load_image(&c, o->input, ctx, err)) || (s = find_presence(&c, err)) ||
        (s = make_pegs(&c, err)) || (s = plan(&c, &outs, err)) ||
        (s = outputs_check(&outs, o->force, err)) || (s = sb_mkdir_p(o->out_dir, err)))
        goto done;
    double whole = 0, sum = 0;
    if ((s = whole_model(&c, &whole, err))) goto done;
    root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "program", "synthbody");
    cJSON_AddStringToObject(root, "version", SB_VERSION_STRING);
    cJSON_AddStringToObject(root, "input", nii);
    cJSON_AddStringToObject(root, "axis", (const char[2]){"xyz"[c.axis], 0});
    cJSON_AddStringToObject(root, "cut", AXIS_NAMES[c.axis]);
    cJSON_AddNumberToObject(root, "scale", c.scale);
    cJSON_AddNumberToObject(root, "layer_mm", o->layer_mm);
    if (c.img) cJSON_AddStringToObject(root, "slice_image", c.img_path);
    cJSON_AddStringToObject(root, "frame",
                            "model mm: world RAS+ mm times scale, rotated so the cutting axis is "
                            "+z (axis z: (x,y,z); y: (z,x,y); x: (y,z,x))");
    cJSON *plist = cJSON_AddArrayToObject(root, "part_kinds");
    for (int p = 0; p < c.nparts; p++) {
        cJSON *q = cJSON_CreateObject();
        char col[8];
        hex(c.parts[p].rgba, col);
        cJSON_AddStringToObject(q, "name", c.parts[p].name);
        cJSON_AddNumberToObject(q, "id", c.parts[p].id);
        cJSON_AddStringToObject(q, "color", col);
        cJSON_AddItemToArray(plist, q);
    }
    cJSON *list = cJSON_AddArrayToObject(root, "layers");
    for (size_t l = 0; !s && l < c.nlayers; l++) {
        s = do_layer(&c, l, &outs, list, &sum, ctx, err);
        sb_progress(ctx, "sculpt", l + 1, c.nlayers);
    }
    if (s || (s = write_plates(&c, &outs, root, ctx, err)) ||
        (s = write_glb(&c, &outs, ctx, err)) || (s = write_sheets(&c, &outs, root, err)))
        goto done;
    if (c.glb) {
        cJSON *g = cJSON_AddObjectToObject(root, "glb");
        cJSON_AddStringToObject(g, "path", rel(&c, c.glb));
        cJSON_AddNumberToObject(g, "gap_mm", o->gap_mm);
    }
    if (c.pegs) {
        size_t nd = 0;
        for (size_t i = 0; i + 1 < c.nlayers; i++) nd += (size_t)c.npegs[i];
        cJSON *g = cJSON_AddObjectToObject(root, "pegs");
        cJSON_AddNumberToObject(g, "diameter_mm", o->peg_mm[0]);
        cJSON_AddNumberToObject(g, "depth_mm", o->peg_mm[1]);
        cJSON_AddNumberToObject(g, "dowels", (double)nd);
        cJSON_AddNumberToObject(g, "dowel_length_mm", 2 * o->peg_mm[1]);
    }
    cJSON_AddNumberToObject(root, "layers_volume_ml", sum / 1000.0);
    cJSON_AddNumberToObject(root, "whole_model_volume_ml", whole / 1000.0);
    cJSON_AddNumberToObject(root, "volume_difference_percent", 100.0 * (sum - whole) / whole);
    sb_log(ctx, SB_LOG_INFO, "%zu layers, %.2f ml; the uncut model %.2f ml (%+.3f %%)", c.nlayers,
           sum / 1000.0, whole / 1000.0, 100.0 * (sum - whole) / whole);
    s = write_docs(&c, root, sum, whole, &outs, err);
done:
    if (s) outputs_rollback(&outs);
    outputs_free(&outs);
    cJSON_Delete(root);
    for (size_t l = 0; c.layers && l < c.nlayers; l++) {
        layer *L = &c.layers[l];
        for (int p = 0; L->ms && p < c.nparts; p++) sb_trimesh_free(L->ms[p]);
        for (size_t i = 0; i < L->npaths; i++) free((void *)L->paths[i].xy);
        free(L->paths), free(L->ms), free(L->box);
        free(L->has);
        free(L->stl);
    }
    free(c.pegs), free(c.npegs), free(c.sheet_items), free(c.plates), free(c.sheets);
    free(c.layers);
    free(c.parts);
    free(c.part_of);
    free(c.plane_count);
    sb_labels_free(names);
    free(counts);
    sb_volume_free(c.v);
    sb_volume_free(c.img);
    return s;
}
