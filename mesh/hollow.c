/* hollow.c — a structure made a shell of given wall thickness, with drain holes, on voxels.
 *
 * References
 *   P. F. Felzenszwalb, D. P. Huttenlocher: "Distance Transforms of Sampled Functions", 2012
 *     (mesh/edt.c: the exact distance transform the wall is measured with).
 *   Solid modelling before meshing (design notes): the shell is a voxel field, so the one
 *   watertight extractor (mesh/marching_cubes.c) makes outer wall, inner wall and drain tubes
 *   as a single closed 2-manifold surface.
 *
 * Passes (in the label's bounding box grown by one background voxel):
 *   1. mask of the label; background not 6-connected to the box's border (enclosed cavities:
 *      the skin's inside) is filled — the shell is the solid the outer surface bounds;
 *   2. g = exact EDT of the filled mask (mm to the nearest outside voxel centre) with each
 *      voxel's nearest outside voxel; the outer surface of the filled mask (marching cubes,
 *      Taubin-smoothed as the pipeline smooths) in a uniform grid;
 *   3. depth of each inside voxel below the outer surface: g - h/2 (h: mean spacing; the
 *      extractors' surface lies at the grid-edge midpoints), except within 1.5 voxels of the
 *      inner wall (|g - T - h/2| <= 1.5 h_max), where it is the exact distance to the smoothed
 *      outer surface's triangles around the nearest outside voxel (g - h/2 errs by up to 0.3
 *      voxel on curved and oblique surfaces); field F = 0 outside, inside
 *      clamp(0.5 + (T - depth) / 2w, 0, 1) with w = min(h_max, T + h/2 - h_max), so every voxel
 *      next to the outside has F = 1 (outer vertices at the midpoints, as the label surface)
 *      and F is linear in the depth where the inner surface crosses;
 *   4. drains: basin floors are plateaus of cavity voxels (inside, F < 0.5; 8-connected in a
 *      plane across the voxel axis nearest world z) with no cavity voxel below any of them;
 *      each gets one drain at its voxel nearest its centroid (lowest first, at least two
 *      diameters apart horizontally, at most max_drains). A drain is a vertical cylinder of
 *      the given diameter from the floor down through the wall (to one radius and a voxel below
 *      where its axis leaves the solid), cut from F as min(F, clamp(0.5 + (rho - R) / 2 h_max,
 *      0, 1)), rho the distance to the axis;
 *   5. the 0.5 iso-surface of F through the surface pipeline (sb_mesh_surface_iso: smoothing,
 *      simplification without crossings, checks with fallback);
 *   6. measurement: vertices are told outer or inner by g at their position (trilinear); the
 *      distance of up to 20000 inner vertices (evenly strided) to the outer triangles (away
 *      from the drains) gives the wall actually obtained.
 */
#include "sb_mesh.h"

#include "mesh_internal.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SAMPLES 20000

typedef struct crop {
    size_t n[3];
    long long o[3]; /* index of the crop's voxel 0 in the full volume */
    double A[3][4]; /* crop voxel -> world */
    double Ainv[3][4];
} crop;

static void to_world(const crop *c, double i, double j, double k, double x[3]) {
    for (int r = 0; r < 3; r++)
        x[r] = c->A[r][0] * i + c->A[r][1] * j + c->A[r][2] * k + c->A[r][3];
}

static void to_index(const crop *c, const double x[3], double ijk[3]) {
    for (int r = 0; r < 3; r++)
        ijk[r] = c->Ainv[r][0] * x[0] + c->Ainv[r][1] * x[1] + c->Ainv[r][2] * x[2] + c->Ainv[r][3];
}

static int invert(const double A[3][4], double B[3][4]) {
    double a = A[0][0], b = A[0][1], c = A[0][2], d = A[1][0], e = A[1][1], f = A[1][2],
           g = A[2][0], h = A[2][1], i = A[2][2];
    double det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
    if (!(fabs(det) > 1e-300)) return 0;
    double M[3][3] = {{(e * i - f * h) / det, (c * h - b * i) / det, (b * f - c * e) / det},
                      {(f * g - d * i) / det, (a * i - c * g) / det, (c * d - a * f) / det},
                      {(d * h - e * g) / det, (b * g - a * h) / det, (a * e - b * d) / det}};
    for (int r = 0; r < 3; r++) {
        for (int k = 0; k < 3; k++) B[r][k] = M[r][k];
        B[r][3] = -(M[r][0] * A[0][3] + M[r][1] * A[1][3] + M[r][2] * A[2][3]);
    }
    return 1;
}

/* g at a world point, trilinear; 0 outside the crop. */
static double sample(const crop *c, const float *g, const double x[3]) {
    double u[3];
    to_index(c, x, u);
    long b[3];
    double f[3];
    for (int a = 0; a < 3; a++) {
        b[a] = (long)floor(u[a]);
        f[a] = u[a] - (double)b[a];
    }
    double s = 0;
    for (int dz = 0; dz < 2; dz++)
        for (int dy = 0; dy < 2; dy++)
            for (int dx = 0; dx < 2; dx++) {
                long i = b[0] + dx, j = b[1] + dy, k = b[2] + dz;
                if (i < 0 || j < 0 || k < 0 || i >= (long)c->n[0] || j >= (long)c->n[1] ||
                    k >= (long)c->n[2])
                    continue;
                double w = (dx ? f[0] : 1 - f[0]) * (dy ? f[1] : 1 - f[1]) * (dz ? f[2] : 1 - f[2]);
                s += w * g[(size_t)i + c->n[0] * ((size_t)j + c->n[1] * (size_t)k)];
            }
    return s;
}

/* A growable array of voxel indices (flood fills, plateaus). */
typedef struct stack {
    size_t *v;
    size_t len, cap;
} stack;

static int push(stack *s, size_t x) {
    if (s->len == s->cap) {
        size_t c = s->cap ? 2 * s->cap : 4096;
        size_t *t = realloc(s->v, c * sizeof *t);
        if (!t) return 0;
        s->v = t, s->cap = c;
    }
    s->v[s->len++] = x;
    return 1;
}

/* Background voxels 6-connected to the border get 2; returns 0 when out of memory. */
static int flood_outside(uint8_t *mask, const size_t n[3]) {
    const size_t nx = n[0], ny = n[1], nz = n[2], nvox = nx * ny * nz;
    stack st = {NULL, 0, 0};
    int ok = 1;
    for (size_t k = 0; k < nz && ok; k++)
        for (size_t j = 0; j < ny && ok; j++)
            for (size_t i = 0; i < nx && ok; i++) {
                if (i && j && k && i < nx - 1 && j < ny - 1 && k < nz - 1) continue;
                size_t v = i + nx * (j + ny * k);
                if (mask[v]) continue;
                mask[v] = 2;
                ok = push(&st, v);
            }
    const long long off[6] = {
        1, -1, (long long)nx, -(long long)nx, (long long)(nx * ny), -(long long)(nx * ny)};
    while (ok && st.len) {
        size_t v = st.v[--st.len];
        size_t i = v % nx, j = (v / nx) % ny, k = v / (nx * ny);
        int in[6] = {i + 1 < nx, i > 0, j + 1 < ny, j > 0, k + 1 < nz, k > 0};
        for (int d = 0; d < 6 && ok; d++) {
            if (!in[d]) continue;
            size_t u = (size_t)((long long)v + off[d]);
            if (u >= nvox || mask[u]) continue;
            mask[u] = 2;
            ok = push(&st, u);
        }
    }
    free(st.v);
    return ok;
}

typedef struct drain {
    double z;
    size_t v;
} drain;

static int by_z(const void *a, const void *b) {
    const drain *x = a, *y = b;
    if (x->z != y->z) return x->z < y->z ? -1 : 1;
    return x->v < y->v ? -1 : x->v > y->v;
}

/* Basin floors of the cavity: plateaus (8-connected cavity voxels of one plane across the voxel
 * axis closest to world z) none of whose voxels has a cavity voxel among the 9 below it — where
 * a liquid comes to rest. One candidate per floor: its voxel nearest the floor's centroid.
 * flag: scratch, nvox bytes, zeroed. Returns the candidates sorted by height (malloc'ed), or
 * NULL (none, or out of memory: *oom set). */
static drain *find_floors(const crop *c, const uint8_t *cav, uint8_t *flag, size_t *count,
                          int *oom) {
    const size_t n[3] = {c->n[0], c->n[1], c->n[2]};
    const size_t nvox = n[0] * n[1] * n[2];
    *count = 0;
    *oom = 0;
    int up = 0; /* the voxel axis closest to world z, and its direction */
    for (int a = 1; a < 3; a++)
        if (fabs(c->A[2][a]) > fabs(c->A[2][up])) up = a;
    const long down = c->A[2][up] > 0 ? -1 : 1;
    const int u = (up + 1) % 3, w = (up + 2) % 3; /* the plane's axes */
    const size_t stride[3] = {1, n[0], n[0] * n[1]};
    size_t cap = 64, nd = 0;
    drain *out = malloc(cap * sizeof *out);
    stack st = {NULL, 0, 0}, members = {NULL, 0, 0};
    if (!out) goto oom;
    for (size_t v0 = 0; v0 < nvox; v0++) {
        if (flag[v0] || !cav[v0]) continue;
        int floor_ok = 1;
        members.len = 0;
        flag[v0] = 1;
        if (!push(&st, v0)) goto oom;
        while (st.len) {
            size_t v = st.v[--st.len];
            if (!push(&members, v)) goto oom;
            size_t p[3] = {v % n[0], (v / n[0]) % n[1], v / (n[0] * n[1])};
            for (long a = -1; a <= 1; a++)
                for (long b = -1; b <= 1; b++) {
                    long pu = (long)p[u] + a, pw = (long)p[w] + b;
                    if (pu < 0 || pw < 0 || pu >= (long)n[u] || pw >= (long)n[w]) continue;
                    size_t q = v + (size_t)(a * (long)stride[u]) + (size_t)(b * (long)stride[w]);
                    long pd = (long)p[up] + down;
                    if (floor_ok && pd >= 0 && pd < (long)n[up] &&
                        cav[q + (size_t)(down * (long)stride[up])])
                        floor_ok = 0;
                    if (!flag[q] && cav[q]) {
                        flag[q] = 1;
                        if (!push(&st, q)) goto oom;
                    }
                }
        }
        if (!floor_ok) continue;
        double cen[3] = {0, 0, 0};
        const size_t nm = members.len;
        for (size_t e = 0; e < nm; e++) {
            double x[3];
            size_t v = members.v[e];
            to_world(c, (double)(v % n[0]), (double)((v / n[0]) % n[1]),
                     (double)(v / (n[0] * n[1])), x);
            for (int a = 0; a < 3; a++) cen[a] += x[a] / (double)nm;
        }
        drain best = {INFINITY, 0};
        double bd = INFINITY;
        for (size_t e = 0; e < nm; e++) {
            double x[3];
            size_t v = members.v[e];
            to_world(c, (double)(v % n[0]), (double)((v / n[0]) % n[1]),
                     (double)(v / (n[0] * n[1])), x);
            double d2 = (x[0] - cen[0]) * (x[0] - cen[0]) + (x[1] - cen[1]) * (x[1] - cen[1]);
            if (d2 < bd || (d2 == bd && v < best.v)) bd = d2, best = (drain){x[2], v};
        }
        if (nd == cap) {
            drain *t = realloc(out, 2 * cap * sizeof *t);
            if (!t) goto oom;
            out = t, cap *= 2;
        }
        out[nd++] = best;
    }
    free(st.v);
    free(members.v);
    if (!nd) {
        free(out);
        return NULL;
    }
    qsort(out, nd, sizeof *out, by_z);
    *count = nd;
    return out;
oom:
    free(out);
    free(st.v);
    free(members.v);
    *oom = 1;
    return NULL;
}

/* The outer surface of the filled mask, smoothed as the pipeline smooths (the surface the wall
 * is measured against). */
static sb_status outer_surface(const crop *c, const uint8_t *mask, const double sp[3],
                               const sb_ctx *ctx, sb_trimesh **out, sb_error *err) {
    sb_volume *mv = NULL;
    sb_status s = sb_volume_create(c->n, sp, SB_DT_UINT8, &mv, err);
    if (s) return s;
    memcpy(mv->data, mask, c->n[0] * c->n[1] * c->n[2]);
    for (int r = 0; r < 3; r++)
        for (int k = 0; k < 4; k++) mv->affine[r][k] = c->A[r][k];
    sb_volume_update_spacing(mv);
    const int one = 1;
    s = sb_mesh_mc_labels(mv, &one, 1, ctx, out, err);
    sb_volume_free(mv);
    if (!s && !*out) s = sb_error_set(err, SB_ERR_INTERNAL, "hollow: empty outer surface");
    if (!s) s = sb_mesh_smooth(*out, SB_SURFACE_DEFAULT_SMOOTH, ctx, err);
    return s;
}

sb_status sb_mesh_hollow(const sb_volume *labels, int id, const sb_hollow_opts *opts,
                         const sb_ctx *ctx, sb_trimesh **out, sb_hollow_info *info, sb_error *err) {
    if (out) *out = NULL;
    sb_hollow_info inf;
    memset(&inf, 0, sizeof inf);
    if (!labels || !opts || !out) return sb_error_set(err, SB_ERR_USAGE, "sb_mesh_hollow: NULL");
    double hmax = 0, hmean = 0;
    for (int a = 0; a < 3; a++) {
        if (labels->spacing[a] > hmax) hmax = labels->spacing[a];
        hmean += labels->spacing[a] / 3;
    }
    const double T = opts->wall_mm, D = opts->drain_mm;
    if (!(T >= hmax))
        return sb_error_set(err, SB_ERR_USAGE,
                            "hollow: a wall of %g mm is thinner than one voxel (%g mm) of the "
                            "label map; use a finer voxel or a thicker wall",
                            T, hmax);
    if (D != 0 && !(D >= 2 * hmax))
        return sb_error_set(err, SB_ERR_USAGE,
                            "hollow: a drain of %g mm is narrower than two voxels (%g mm) of the "
                            "label map",
                            D, 2 * hmax);
    const int max_drains = opts->max_drains <= 0                    ? 8
                           : opts->max_drains > SB_PRINT_MAX_DRAINS ? SB_PRINT_MAX_DRAINS
                                                                    : opts->max_drains;
    /* 0. bounding box of the label */
    long long lo[3] = {-1, -1, -1}, hi[3] = {-1, -1, -1};
    {
        size_t idx = 0;
        for (size_t k = 0; k < labels->dim[2]; k++)
            for (size_t j = 0; j < labels->dim[1]; j++)
                for (size_t i = 0; i < labels->dim[0]; i++, idx++) {
                    if (sb_volume_get(labels, idx) != (double)id) continue;
                    long long p[3] = {(long long)i, (long long)j, (long long)k};
                    for (int a = 0; a < 3; a++) {
                        if (lo[a] < 0 || p[a] < lo[a]) lo[a] = p[a];
                        if (p[a] > hi[a]) hi[a] = p[a];
                    }
                }
    }
    if (lo[0] < 0) return sb_error_set(err, SB_ERR_LABEL, "hollow: label %d is absent", id);
    crop c;
    for (int a = 0; a < 3; a++) {
        c.o[a] = lo[a] - 1;
        c.n[a] = (size_t)(hi[a] - lo[a] + 3);
    }
    for (int r = 0; r < 3; r++) {
        for (int k = 0; k < 3; k++) c.A[r][k] = labels->affine[r][k];
        c.A[r][3] = labels->affine[r][0] * (double)c.o[0] + labels->affine[r][1] * (double)c.o[1] +
                    labels->affine[r][2] * (double)c.o[2] + labels->affine[r][3];
    }
    if (!invert(c.A, c.Ainv))
        return sb_error_set(err, SB_ERR_INPUT, "hollow: the label map's affine is singular");
    const size_t nx = c.n[0], ny = c.n[1], nz = c.n[2], nvox = nx * ny * nz;
    sb_status s = sb_memory_check((uint64_t)nvox * 18,
                                  "hollowing (mask, distances, nearest sites, field)", err);
    if (s) return s;
    uint8_t *mask = calloc(nvox, 1);
    float *g = malloc(nvox * sizeof *g);
    size_t *site = malloc(nvox * sizeof *site);
    sb_trimesh *outer = NULL;
    sb__trigrid ogrid;
    memset(&ogrid, 0, sizeof ogrid);
    sb_volume *F = NULL;
    sb_trimesh *mesh = NULL;
    drain *cand = NULL;
    uint8_t *use = NULL;
    sb__trigrid grid;
    memset(&grid, 0, sizeof grid);
    if (!mask || !g || !site) {
        s = sb_error_set(err, SB_ERR_MEMORY, "hollow: out of memory");
        goto done;
    }
    /* 1. mask, cavities filled */
    for (size_t k = 1; k + 1 < nz; k++)
        for (size_t j = 1; j + 1 < ny; j++)
            for (size_t i = 1; i + 1 < nx; i++) {
                size_t src = sb_volume_index(labels, (size_t)c.o[0] + i, (size_t)c.o[1] + j,
                                             (size_t)c.o[2] + k);
                mask[i + nx * (j + ny * k)] = sb_volume_get(labels, src) == (double)id;
            }
    if (!flood_outside(mask, c.n)) {
        s = sb_error_set(err, SB_ERR_MEMORY, "hollow: out of memory (cavity fill)");
        goto done;
    }
    for (size_t v = 0; v < nvox; v++) mask[v] = mask[v] != 2;
    /* 2. distances, and the outer surface near the nearest outside voxels */
    {
        double sp[3] = {labels->spacing[0], labels->spacing[1], labels->spacing[2]};
        s = sb__mesh_edt_sites(mask, c.n, sp, 1, ctx, g, site, err);
        if (s) goto done;
        s = outer_surface(&c, mask, sp, ctx, &outer, err);
        if (s) goto done;
        if (!sb__trigrid_build(&ogrid, outer, NULL, hmax)) {
            s = sb_error_set(err, SB_ERR_MEMORY, "hollow: out of memory (surface grid)");
            goto done;
        }
    }
    /* 3. the field */
    const double tin = T + hmean / 2;
    double w = tin - hmax;
    if (w > hmax) w = hmax;
    {
        double sp[3] = {labels->spacing[0], labels->spacing[1], labels->spacing[2]};
        s = sb_volume_create(c.n, sp, SB_DT_FLOAT32, &F, err);
        if (s) goto done;
        for (int r = 0; r < 3; r++)
            for (int k = 0; k < 4; k++) F->affine[r][k] = c.A[r][k];
        F->affine[3][0] = F->affine[3][1] = F->affine[3][2] = 0;
        F->affine[3][3] = 1;
        sb_volume_update_spacing(F);
    }
    float *f = F->data;
    const double band = 1.5 * hmax;
#pragma omp parallel for schedule(dynamic, 4096) num_threads(sb_ctx_threads(ctx))
    for (size_t v = 0; v < nvox; v++) {
        if (!mask[v]) {
            f[v] = 0;
            continue;
        }
        /* depth below the outer surface: from the distance transform (the surface half a
         * voxel beyond the nearest outside voxel centre), near the inner wall measured to the
         * smoothed outer surface itself (triangles around the nearest outside voxel) */
        double depth = g[v] - hmean / 2;
        if (fabs(g[v] - tin) <= band && site[v] != SIZE_MAX) {
            size_t b = site[v];
            double pv[3], pb[3];
            to_world(&c, (double)(v % nx), (double)((v / nx) % ny), (double)(v / (nx * ny)), pv);
            to_world(&c, (double)(b % nx), (double)((b / nx) % ny), (double)(b / (nx * ny)), pb);
            double d = sb__trigrid_nearest_at(&ogrid, pv, pb, 2 * hmax);
            if (isfinite(d)) depth = d;
        }
        double x = 0.5 + (T - depth) / (2 * w);
        f[v] = (float)(x < 0 ? 0 : x > 1 ? 1 : x);
    }
    for (size_t v = 0; v < nvox; v++) {
        mask[v] = mask[v] && f[v] < 0.5f; /* from here on: the cavity */
        if (mask[v]) inf.hollowed = 1;
    }
    /* 4. drains */
    const double R = D / 2;
    double tube[SB_PRINT_MAX_DRAINS][2]; /* z range of each tube */
    if (inf.hollowed && D > 0) {
        uint8_t *flags = calloc(nvox, 1);
        size_t nc = 0;
        int oom = !flags;
        if (flags) cand = find_floors(&c, mask, flags, &nc, &oom);
        free(flags);
        if (oom) {
            s = sb_error_set(err, SB_ERR_MEMORY, "hollow: out of memory (drains)");
            goto done;
        }
        for (size_t q = 0; q < nc && inf.drains < (size_t)max_drains; q++) {
            size_t v = cand[q].v;
            double P[3];
            to_world(&c, (double)(v % nx), (double)((v / nx) % ny), (double)(v / (nx * ny)), P);
            int near = 0;
            for (size_t e = 0; e < inf.drains; e++)
                if (hypot(P[0] - inf.drain_xyz[e][0], P[1] - inf.drain_xyz[e][1]) < 2 * D) near = 1;
            if (near) continue;
            /* walk down the axis until it leaves the solid (F < 0.5 below the wall) */
            double step = hmax / 4, z = P[2], zexit = P[2];
            int in_wall = 0;
            for (int it = 0; it < 1 << 20; it++) {
                z -= step;
                double x[3] = {P[0], P[1], z}, u[3];
                to_index(&c, x, u);
                long ii = lround(u[0]), jj = lround(u[1]), kk = lround(u[2]);
                if (ii < 0 || jj < 0 || kk < 0 || ii >= (long)nx || jj >= (long)ny ||
                    kk >= (long)nz) {
                    zexit = z;
                    break;
                }
                float fv = f[(size_t)ii + nx * ((size_t)jj + ny * (size_t)kk)];
                if (fv >= 0.5f) in_wall = 1;
                if (in_wall && fv < 0.5f) {
                    zexit = z;
                    break;
                }
            }
            const double ztop = P[2] + w, zbot = zexit - R - hmax;
            const size_t e = inf.drains++;
            inf.drain_xyz[e][0] = P[0];
            inf.drain_xyz[e][1] = P[1];
            inf.drain_xyz[e][2] = zexit;
            tube[e][0] = zbot;
            tube[e][1] = ztop;
            /* the voxels of the cylinder's world box */
            long b0[3] = {LONG_MAX, LONG_MAX, LONG_MAX}, b1[3] = {LONG_MIN, LONG_MIN, LONG_MIN};
            for (int corner = 0; corner < 8; corner++) {
                double rr = R + 2 * hmax;
                double x[3] = {P[0] + (corner & 1 ? rr : -rr), P[1] + (corner & 2 ? rr : -rr),
                               corner & 4 ? ztop : zbot},
                       u[3];
                to_index(&c, x, u);
                for (int a = 0; a < 3; a++) {
                    long lo_a = (long)floor(u[a]) - 1, hi_a = (long)ceil(u[a]) + 1;
                    if (lo_a < b0[a]) b0[a] = lo_a;
                    if (hi_a > b1[a]) b1[a] = hi_a;
                }
            }
            for (int a = 0; a < 3; a++) {
                if (b0[a] < 0) b0[a] = 0;
                if (b1[a] > (long)c.n[a] - 1) b1[a] = (long)c.n[a] - 1;
            }
            for (size_t k = (size_t)b0[2]; (long)k <= b1[2]; k++)
                for (size_t j = (size_t)b0[1]; (long)j <= b1[1]; j++)
                    for (size_t i = (size_t)b0[0]; (long)i <= b1[0]; i++) {
                        double x[3];
                        to_world(&c, (double)i, (double)j, (double)k, x);
                        if (x[2] < zbot || x[2] > ztop) continue;
                        double rho = hypot(x[0] - P[0], x[1] - P[1]);
                        if (rho > R + 2 * hmax) continue;
                        double fc = 0.5 + (rho - R) / (2 * hmax);
                        fc = fc < 0 ? 0 : fc > 1 ? 1 : fc;
                        size_t vv = i + nx * (j + ny * k);
                        if (fc < f[vv]) f[vv] = (float)fc;
                    }
        }
    }
    /* 5. the surface */
    s = sb_mesh_surface_iso(F, 0.5, &opts->surf, ctx, &mesh, &inf.surf, err);
    if (s) goto done;
    /* 6. measurement */
    if (inf.hollowed) {
        const size_t nv = mesh->nverts, nt = mesh->ntris;
        const double mid = (hmean / 2 + tin) / 2;
        use = calloc(nv + nt, 1); /* per vertex: 1 outer, 2 inner, 0 excluded; then per tri */
        if (!use) {
            s = sb_error_set(err, SB_ERR_MEMORY, "hollow: out of memory (measurement)");
            goto done;
        }
        size_t ninner = 0;
        for (size_t v = 0; v < nv; v++) {
            double x[3] = {mesh->verts[3 * v], mesh->verts[3 * v + 1], mesh->verts[3 * v + 2]};
            /* near a tube: its own vertices are neither wall (0); inner vertices whose
             * nearest outer wall may be cut by the tube are not sampled (3) */
            double rho = INFINITY;
            for (size_t e = 0; e < inf.drains; e++)
                if (x[2] >= tube[e][0] - tin && x[2] <= tube[e][1] + tin + 2 * hmax) {
                    double d = hypot(x[0] - inf.drain_xyz[e][0], x[1] - inf.drain_xyz[e][1]);
                    if (d < rho) rho = d;
                }
            if (rho < R + 2 * hmax) continue;
            use[v] = sample(&c, g, x) < mid ? 1 : rho < R + tin + 4 * hmax ? 3 : 2;
            ninner += use[v] == 2;
        }
        uint8_t *tuse = use + nv;
        for (size_t t = 0; t < nt; t++) {
            const uint32_t *tv = mesh->tris + 3 * t;
            tuse[t] = use[tv[0]] == 1 && use[tv[1]] == 1 && use[tv[2]] == 1;
        }
        if (!sb__trigrid_build(&grid, mesh, tuse, tin)) {
            s = sb_error_set(err, SB_ERR_MEMORY, "hollow: out of memory (measurement grid)");
            goto done;
        }
        const size_t stride = ninner > MAX_SAMPLES ? (ninner + MAX_SAMPLES - 1) / MAX_SAMPLES : 1;
        const double rmax = 2 * tin + 2 * hmax;
        double sum = 0, mn = INFINITY, mx = 0;
        size_t ns = 0, seen = 0;
        for (size_t v = 0; v < nv; v++) {
            if (use[v] != 2) continue;
            if (seen++ % stride) continue;
            double x[3] = {mesh->verts[3 * v], mesh->verts[3 * v + 1], mesh->verts[3 * v + 2]};
            double d = sb__trigrid_nearest(&grid, x, rmax);
            if (!isfinite(d) || d > rmax) d = rmax;
            sum += d;
            if (d < mn) mn = d;
            if (d > mx) mx = d;
            ns++;
        }
        inf.wall_samples = ns;
        inf.wall_min_mm = ns ? mn : 0;
        inf.wall_max_mm = mx;
        inf.wall_mean_mm = ns ? sum / (double)ns : 0;
        /* outer and inner volumes: signed volume of each class's triangles (closed surfaces
         * when there are no drains) */
        double vo = 0, vi = 0;
        const float *o = mesh->verts;
        for (size_t t = 0; t < nt; t++) {
            double a[3][3];
            for (int q = 0; q < 3; q++)
                for (int k = 0; k < 3; k++)
                    a[q][k] =
                        (double)mesh->verts[3 * (size_t)mesh->tris[3 * t + (size_t)q] + (size_t)k] -
                        o[k];
            double vol = (a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1]) -
                          a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0]) +
                          a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0])) /
                         6.0;
            double xc[3];
            for (int k = 0; k < 3; k++) xc[k] = (a[0][k] + a[1][k] + a[2][k]) / 3 + o[k];
            if (sample(&c, g, xc) < mid)
                vo += vol;
            else
                vi += vol;
        }
        inf.outer_mm3 = fabs(vo);
        inf.inner_mm3 = fabs(vi);
    } else {
        inf.outer_mm3 = fabs(inf.surf.report.volume_mm3);
    }
done:
    sb__trigrid_free(&grid);
    sb__trigrid_free(&ogrid);
    sb_trimesh_free(outer);
    free(site);
    free(use);
    free(cand);
    free(mask);
    free(g);
    sb_volume_free(F);
    if (s) {
        sb_trimesh_free(mesh);
        mesh = NULL;
    }
    *out = mesh;
    if (info) *info = inf;
    return s;
}
