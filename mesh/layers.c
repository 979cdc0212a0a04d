/* layers.c — one layer (slab) of a label map as closed parts whose cut faces lie exactly on the
 * cutting planes, for layered sculptures (`synthbody sculpt`, README "Sculptures").
 *
 * Method (DESIGN.md: solid modelling on voxels, every mesh from one watertight extractor):
 *   1. Resampling. The slab [p0, p1] along a world axis is resampled onto m sub-layers of
 *      thickness h' = (p1 - p0) / m, m = ceil(subdiv * (p1 - p0) / h) for the voxel size h along
 *      that axis, nearest neighbour along that axis only (the other two axes keep the label
 *      map's voxels). Sub-layer j's centre lies at p0 + (j + 1/2) h'.
 *   2. Parts. Each voxel carries part_of[label] (0: none), so one volume holds every part of
 *      the layer (the body with the organs cut out, and each organ).
 *   3. Extraction. The multi-label marching cubes (sb_mesh_mc_labels, mesh/marching_cubes.c)
 *      pads the volume by one background voxel and puts every vertex at the midpoint of a grid
 *      edge: the edges from the first and last sub-layers into the padding have their midpoints
 *      at p0 + (0 - 1/2 + 1/2) h' = p0 and p0 + m h' = p1, so each cut face is planar by
 *      construction (the vertices' only error is float rounding, ~1e-4 mm at 1 m from the
 *      origin), and closedness and manifoldness are the extractor's guarantee. Neighbouring
 *      parts share their midpoint vertices, so an organ fits its cut-out in the body.
 *   4. Smoothing (optional). Taubin smoothing (sb_mesh_smooth) with the cut-face vertices put
 *      back on their planes afterwards; a part whose smoothed mesh fails sb_mesh_check (e.g. a
 *      thin wall crossing itself) keeps its raw surface.
 *   Carving: o->carve removes body voxels (part 1) near a face from the resampled slab before
 *      extraction (alignment holes, the engraved layer number), so every part still comes out of
 *      the one extractor closed and 2-manifold; depths round up to whole sub-layers (a sub-layer
 *      is carved if its near edge lies within the depth).
 * Caveat: marching cubes bevels the rim where a cut face meets a side wall (a triangular prism
 * of h/2 by h'/2 along the rim is missing): the finer the sub-layers (subdiv), the less volume
 * a cut loses; README "Sculptures" gives the measured sums.
 */
#include "sb_mesh.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void sb_layer_opts_default(sb_layer_opts *o) {
    memset(o, 0, sizeof *o);
    o->axis = 2;
    o->subdiv = SB_LAYER_DEFAULT_SUBDIV;
}

sb_status sb_mesh_layer_axis(const sb_volume *v, int axis, int *vox_axis, sb_error *err) {
    if (axis < 0 || axis > 2)
        return sb_error_set(err, SB_ERR_USAGE, "layer axis %d: 0, 1 or 2", axis);
    int found = -1;
    for (int a = 0; a < 3; a++) {
        double big = 0;
        for (int r = 0; r < 3; r++) big = fmax(big, fabs(v->affine[r][a]));
        for (int r = 0; r < 3; r++) {
            double x = fabs(v->affine[r][a]);
            if (x > 1e-6 * big && x < (1 - 1e-6) * big)
                return sb_error_set(err, SB_ERR_INPUT,
                                    "the label map's affine is oblique (voxel axis %d is not along "
                                    "a world axis): layers need an axis-aligned grid",
                                    a);
        }
        if (fabs(v->affine[axis][a]) >= (1 - 1e-6) * big && big > 0) found = a;
    }
    if (found < 0)
        return sb_error_set(err, SB_ERR_INPUT,
                            "the label map has no voxel axis along world axis %c", "xyz"[axis]);
    *vox_axis = found;
    return SB_OK;
}

/* The slab volume: parts on m sub-layers along voxel axis a (see the file comment). */
static long source_plane(const sb_volume *v, int w, int a, double p0, double h, size_t j);

static sb_status slab_volume(const sb_volume *v, const uint16_t *part_of, int w, int a, double p0,
                             double p1, size_t m, const float *const carve[2], sb_volume **out,
                             sb_error *err) {
    size_t dim[3] = {v->dim[0], v->dim[1], v->dim[2]};
    dim[a] = m;
    double sp[3] = {1, 1, 1};
    sb_volume *s = NULL;
    sb_status st = sb_volume_create(dim, sp, SB_DT_UINT16, &s, err);
    if (st) return st;
    double h = (p1 - p0) / (double)m;
    memcpy(s->affine, v->affine, sizeof s->affine);
    for (int r = 0; r < 3; r++) s->affine[r][a] = 0;
    s->affine[w][a] = h;
    s->affine[w][3] = p0 + 0.5 * h;
    sb_volume_update_spacing(s);
    uint16_t *d = s->data;
    size_t stride[3] = {1, v->dim[0], v->dim[0] * v->dim[1]};
    size_t sstride[3] = {1, dim[0], dim[0] * dim[1]};
    int b = (a + 1) % 3, c = (a + 2) % 3;
    for (size_t j = 0; j < m; j++) {
        long ks = source_plane(v, w, a, p0, h, j);
        if (ks < 0) continue; /* outside the map: background */
        size_t k = (size_t)ks;
        for (size_t q = 0; q < dim[c]; q++)
            for (size_t p = 0; p < dim[b]; p++) {
                size_t src = k * stride[a] + p * stride[b] + q * stride[c];
                double lab = sb_volume_get(v, src);
                uint16_t part = 0;
                if (lab >= 1 && lab <= 65535 && lab == floor(lab)) part = part_of[(size_t)lab];
                for (int f = 0; part == 1 && f < 2; f++) {
                    double from_face = f ? (double)(m - j - 1) : (double)j; /* near edge */
                    if (carve[f] && from_face * h < carve[f][p + q * dim[b]]) part = 0;
                }
                d[j * sstride[a] + p * sstride[b] + q * sstride[c]] = part;
            }
    }
    *out = s;
    return SB_OK;
}

/* Taubin smoothing with the cut faces held on their planes; keeps the raw mesh unless the
 * smoothed one passes every check. Returns 1 if the smoothed mesh was kept. */
static int smooth_held(sb_trimesh *t, int w, double p0, double p1, double h, int iters,
                       const sb_ctx *ctx) {
    size_t n = t->nverts;
    float *raw = malloc(3 * n * sizeof *raw);
    unsigned char *cap = malloc(n ? n : 1);
    if (!raw || !cap) {
        free(raw), free(cap);
        return 0;
    }
    memcpy(raw, t->verts, 3 * n * sizeof *raw);
    for (size_t i = 0; i < n; i++) {
        double x = t->verts[3 * i + w];
        cap[i] = fabs(x - p0) < 1e-3 * h ? 1 : fabs(x - p1) < 1e-3 * h ? 2 : 0;
    }
    sb_error e = {0};
    int kept = 0;
    if (sb_mesh_smooth(t, iters, ctx, &e) == SB_OK) {
        for (size_t i = 0; i < n; i++)
            if (cap[i]) t->verts[3 * i + w] = raw[3 * i + w];
        sb_mesh_report rep;
        kept = sb_mesh_check(t, &rep, &e) == SB_OK && rep.ok;
    }
    if (!kept) memcpy(t->verts, raw, 3 * n * sizeof *raw);
    free(raw);
    free(cap);
    return kept;
}

/* The resampling of a layer: voxel axis a, m sub-layers of h world mm. */
static sb_status layer_grid(const sb_volume *v, const sb_layer_opts *o, int *a, size_t *m,
                            double *h, sb_error *err) {
    if (!(o->to_mm > o->from_mm) || !isfinite(o->from_mm) || !isfinite(o->to_mm))
        return sb_error_set(err, SB_ERR_USAGE, "layer from %g mm to %g mm is empty", o->from_mm,
                            o->to_mm);
    sb_status s = sb_mesh_layer_axis(v, o->axis, a, err);
    if (s) return s;
    int sub = o->subdiv > 0 ? o->subdiv : SB_LAYER_DEFAULT_SUBDIV;
    double hv = fabs(v->affine[o->axis][*a]), t = o->to_mm - o->from_mm;
    double mf = ceil((double)sub * t / hv - 1e-9);
    if (mf < 1) mf = 1;
    if (mf > 1e6) return sb_error_set(err, SB_ERR_USAGE, "layer of %g mm: too thick", t);
    *m = (size_t)mf;
    *h = t / mf;
    return SB_OK;
}

/* The label map's plane (index along voxel axis a) sampled by sub-layer j, or -1 outside. */
static long source_plane(const sb_volume *v, int w, int a, double p0, double h, size_t j) {
    double x = p0 + ((double)j + 0.5) * h;
    double kf = floor((x - v->affine[w][3]) / v->affine[w][a] + 0.5);
    return kf < 0 || kf >= (double)v->dim[a] ? -1 : (long)kf;
}

sb_status sb_mesh_layer_source(const sb_volume *labels, const sb_layer_opts *o, int *vox_axis,
                               long *k0, long *k1, sb_error *err) {
    int a;
    size_t m;
    double h;
    sb_status s = layer_grid(labels, o, &a, &m, &h, err);
    if (s) return s;
    *vox_axis = a;
    *k0 = LONG_MAX, *k1 = -1;
    for (size_t j = 0; j < m; j++) {
        long k = source_plane(labels, o->axis, a, o->from_mm, h, j);
        if (k < 0) continue;
        if (k < *k0) *k0 = k;
        if (k > *k1) *k1 = k;
    }
    if (*k1 < 0) *k0 = 0;
    return SB_OK;
}

sb_status sb_mesh_layer_parts(const sb_volume *labels, const uint16_t *part_of, int nparts,
                              const sb_layer_opts *o, const sb_ctx *ctx, sb_trimesh **out,
                              sb_layer_info *info, sb_error *err) {
    if (!labels || !part_of || !o || !out || nparts < 1 || nparts > 65535)
        return sb_error_set(err, SB_ERR_USAGE, "sb_mesh_layer_parts: bad arguments");
    for (int i = 0; i < nparts; i++) out[i] = NULL;
    int a, w = o->axis;
    size_t m;
    double h, p0 = o->from_mm, p1 = o->to_mm;
    sb_status s = layer_grid(labels, o, &a, &m, &h, err);
    if (s) return s;
    sb_volume *slab = NULL;
    int *ids = malloc((size_t)nparts * sizeof *ids);
    if (!ids) return sb_error_set(err, SB_ERR_MEMORY, "out of memory");
    for (int i = 0; i < nparts; i++) ids[i] = i + 1;
    s = slab_volume(labels, part_of, w, a, p0, p1, m, o->carve, &slab, err);
    if (!s) s = sb_mesh_mc_labels(slab, ids, (size_t)nparts, ctx, out, err);
    sb_volume_free(slab);
    free(ids);
    for (int i = 0; !s && i < nparts; i++) {
        sb_layer_info li = {0};
        li.sublayers = m;
        li.sublayer_mm = h;
        if (out[i]) {
            if (o->smooth_iters > 0)
                li.smoothed = smooth_held(out[i], w, p0, p1, h, o->smooth_iters, ctx);
            s = sb_mesh_check(out[i], &li.report, err);
        }
        if (info) info[i] = li;
    }
    if (s)
        for (int i = 0; i < nparts; i++) sb_trimesh_free(out[i]), out[i] = NULL;
    return s;
}
