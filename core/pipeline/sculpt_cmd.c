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
#include "sb_mesh.h"

#include <cjson/cJSON.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_LAYERS 10000

/* One part kind (the body, or one organ) of the sculpture. */
typedef struct part {
    int id; /* label id; 0 for the body */
    char name[64];
    uint8_t rgba[4];
    double total_mm3; /* model-scale volume over all layers */
} part;

/* One layer. */
typedef struct layer {
    double from, to;     /* world mm along the axis */
    unsigned char *has;  /* has[p]: part p present */
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

/* The range, scale and layer planes. */
static sb_status make_layers(sculpt *c, sb_error *err) {
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

/* Which parts each layer holds: the parts of the planes its resampling reads. */
static sb_status find_presence(sculpt *c, sb_error *err) {
    const sb_volume *v = c->v;
    int a = c->vox_axis;
    size_t np = (size_t)c->nparts, nk = v->dim[a];
    unsigned char *plane = calloc(nk * np, 1);
    c->plane_count = calloc(nk, sizeof *c->plane_count);
    if (!plane || !c->plane_count) {
        free(plane);
        return sb_error_set(err, SB_ERR_MEMORY, "out of memory");
    }
    for (size_t k = 0; k < v->dim[2]; k++)
        for (size_t j = 0; j < v->dim[1]; j++)
            for (size_t i = 0; i < v->dim[0]; i++) {
                double x = sb_volume_get(v, sb_volume_index(v, i, j, k));
                if (!(x >= 1 && x <= 65535 && x == floor(x))) continue;
                uint16_t p = c->part_of[(size_t)x];
                size_t ix[3] = {i, j, k};
                if (p) plane[ix[a] * np + p - 1] = 1;
                if (p) c->plane_count[ix[a]]++;
            }
    sb_status s = SB_OK;
    for (size_t l = 0; !s && l < c->nlayers; l++) {
        layer *L = &c->layers[l];
        if (!(L->has = calloc(np, 1)) || !(L->stl = calloc(np, sizeof *L->stl))) {
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
        for (long k = k0; k <= k1; k++)
            for (size_t p = 0; p < np; p++) L->has[p] |= plane[(size_t)k * np + p];
    }
    free(plane);
    return s;
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
    size_t cuts = 0;
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
        /* the number where the body part (organs removed) is thickest */
        for (size_t i = 0; i < nu * nv; i++) mask[i] = kind[i] == 1;
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
        char num[24];
        snprintf(num, sizeof num, "%zu", l + 1);
        double X = W / 2, Y = H / 2, size = 3;
        if (!s && dist[best] > 0) {
            sheet_xy(&sm, (double)(best % nu), (double)(best / nu), &X, &Y);
            size = fmin(10, fmax(1.5, 1.2 * dist[best]));
        }
        sb_svg_text t = {.x = X, .y = Y, .size_mm = size, .text = num, .cls = "engrave"};
        memcpy(t.rgb, BLUE, 3);
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
    cJSON_AddNumberToObject(g, "engrave_paths", (double)(npaths - cuts));
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
    sb_status s = SB_OK;
    if (!ms || !info || !sm || !idx) {
        s = sb_error_set(err, SB_ERR_MEMORY, "out of memory");
        goto done;
    }
    sb_layer_opts lo;
    sb_layer_opts_default(&lo);
    lo.axis = c->axis, lo.from_mm = L->from, lo.to_mm = L->to;
    lo.smooth_iters = c->o->smooth_iters;
    if (c->o->subdiv > 0) lo.subdiv = c->o->subdiv;
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
    for (size_t p = 0; ms && p < np; p++) sb_trimesh_free(ms[p]);
    free(ms), free(info), free(sm), free(idx);
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
    if ((s = make_parts(&c, counts, names, err)) || (s = make_layers(&c, err)) ||
        (s = load_image(&c, o->input, ctx, err)) || (s = find_presence(&c, err)) ||
        (s = plan(&c, &outs, err)) || (s = outputs_check(&outs, o->force, err)) ||
        (s = sb_mkdir_p(o->out_dir, err)))
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
    if (s) goto done;
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
        free(c.layers[l].has);
        free(c.layers[l].stl);
    }
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
