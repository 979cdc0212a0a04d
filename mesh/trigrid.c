/* trigrid.c — a uniform grid of triangles for nearest-surface and ray queries (print
 * preparation: wall measurement of hollow shells, wall-thickness rays).
 *
 * References
 *   J. Amanatides, A. Woo: "A Fast Voxel Traversal Algorithm for Ray Tracing", Eurographics 1987
 *     (the cell walk of a ray).
 *   T. Moeller, B. Trumbore: "Fast, Minimum Storage Ray/Triangle Intersection", JGT 2(1), 1997.
 *   C. Ericson: "Real-Time Collision Detection", 2005, sec. 5.1.5 (closest point on a triangle).
 *
 * Every triangle (or every one flagged in `use`) is entered in each cell its bounding box
 * overlaps, in CSR form (counting pass, prefix sums, filling pass). The cell size is the
 * caller's, grown until the grid has at most 4M cells. Queries only read the grid, so threads
 * may share it.
 */
#include "mesh_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CELLS (1u << 22)

static void cell_of(const sb__trigrid *g, const double p[3], long c[3]) {
    for (int a = 0; a < 3; a++) {
        long x = (long)floor((p[a] - g->lo[a]) / g->cell);
        if (x < 0) x = 0;
        if (x >= (long)g->n[a]) x = (long)g->n[a] - 1;
        c[a] = x;
    }
}

int sb__trigrid_build(sb__trigrid *g, const sb_trimesh *m, const uint8_t *use, double cell) {
    memset(g, 0, sizeof *g);
    g->m = m;
    double lo[3] = {INFINITY, INFINITY, INFINITY}, hi[3] = {-INFINITY, -INFINITY, -INFINITY};
    size_t used = 0;
    for (size_t t = 0; t < m->ntris; t++) {
        if (use && !use[t]) continue;
        used++;
        for (int c = 0; c < 3; c++) {
            const float *p = m->verts + 3 * (size_t)m->tris[3 * t + (size_t)c];
            for (int a = 0; a < 3; a++) {
                if (p[a] < lo[a]) lo[a] = p[a];
                if (p[a] > hi[a]) hi[a] = p[a];
            }
        }
    }
    if (!used) {
        g->n[0] = g->n[1] = g->n[2] = 1;
        g->cell = 1;
        g->start = calloc(2, sizeof *g->start);
        g->tris = malloc(sizeof *g->tris);
        return g->start && g->tris;
    }
    double ext = 0;
    for (int a = 0; a < 3; a++)
        if (hi[a] - lo[a] > ext) ext = hi[a] - lo[a];
    if (!(cell > 0)) cell = ext / 64;
    if (cell < ext * 1e-6) cell = ext * 1e-6;
    if (!(cell > 0)) cell = 1;
    for (;;) {
        double cells = 1;
        for (int a = 0; a < 3; a++) cells *= floor((hi[a] - lo[a]) / cell) + 1;
        if (cells <= MAX_CELLS) break;
        cell *= 1.25;
    }
    g->cell = cell;
    for (int a = 0; a < 3; a++) {
        g->lo[a] = lo[a];
        g->n[a] = (size_t)floor((hi[a] - lo[a]) / cell) + 1;
    }
    const size_t ncell = g->n[0] * g->n[1] * g->n[2];
    g->start = calloc(ncell + 1, sizeof *g->start);
    if (!g->start) return 0;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t t = 0; t < m->ntris; t++) {
            if (use && !use[t]) continue;
            double tl[3] = {INFINITY, INFINITY, INFINITY},
                   th[3] = {-INFINITY, -INFINITY, -INFINITY};
            for (int c = 0; c < 3; c++) {
                const float *p = m->verts + 3 * (size_t)m->tris[3 * t + (size_t)c];
                for (int a = 0; a < 3; a++) {
                    if (p[a] < tl[a]) tl[a] = p[a];
                    if (p[a] > th[a]) th[a] = p[a];
                }
            }
            long c0[3], c1[3];
            cell_of(g, tl, c0);
            cell_of(g, th, c1);
            for (long z = c0[2]; z <= c1[2]; z++)
                for (long y = c0[1]; y <= c1[1]; y++)
                    for (long x = c0[0]; x <= c1[0]; x++) {
                        size_t k = (size_t)x + g->n[0] * ((size_t)y + g->n[1] * (size_t)z);
                        if (pass == 0)
                            g->start[k + 1]++;
                        else
                            g->tris[g->start[k]++] = (uint32_t)t;
                    }
        }
        if (pass == 0) {
            for (size_t k = 0; k < ncell; k++) g->start[k + 1] += g->start[k];
            g->tris = malloc((g->start[ncell] ? g->start[ncell] : 1) * sizeof *g->tris);
            if (!g->tris) return 0;
        } else {
            /* start[k] now holds the end of cell k: shift back */
            memmove(g->start + 1, g->start, ncell * sizeof *g->start);
            g->start[0] = 0;
        }
    }
    return 1;
}

void sb__trigrid_free(sb__trigrid *g) {
    free(g->start);
    free(g->tris);
    memset(g, 0, sizeof *g);
}

static void tri_pts(const sb_trimesh *m, uint32_t t, double p[3][3]) {
    for (int c = 0; c < 3; c++)
        for (int a = 0; a < 3; a++)
            p[c][a] = m->verts[3 * (size_t)m->tris[3 * (size_t)t + (size_t)c] + (size_t)a];
}

static double dot3(const double *a, const double *b) {
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

/* Squared distance from p to triangle abc (Ericson's closest-point regions). */
static double tri_dist2(const double p[3], const double a[3], const double b[3],
                        const double c[3]) {
    double ab[3], ac[3], ap[3], q[3];
    for (int k = 0; k < 3; k++) ab[k] = b[k] - a[k], ac[k] = c[k] - a[k], ap[k] = p[k] - a[k];
    double d1 = dot3(ab, ap), d2 = dot3(ac, ap);
    if (d1 <= 0 && d2 <= 0) {
        memcpy(q, a, sizeof q);
        goto done;
    }
    double bp[3];
    for (int k = 0; k < 3; k++) bp[k] = p[k] - b[k];
    double d3 = dot3(ab, bp), d4 = dot3(ac, bp);
    if (d3 >= 0 && d4 <= d3) {
        memcpy(q, b, sizeof q);
        goto done;
    }
    double vc = d1 * d4 - d3 * d2;
    if (vc <= 0 && d1 >= 0 && d3 <= 0) {
        double v = d1 / (d1 - d3);
        for (int k = 0; k < 3; k++) q[k] = a[k] + v * ab[k];
        goto done;
    }
    double cp[3];
    for (int k = 0; k < 3; k++) cp[k] = p[k] - c[k];
    double d5 = dot3(ab, cp), d6 = dot3(ac, cp);
    if (d6 >= 0 && d5 <= d6) {
        memcpy(q, c, sizeof q);
        goto done;
    }
    double vb = d5 * d2 - d1 * d6;
    if (vb <= 0 && d2 >= 0 && d6 <= 0) {
        double w = d2 / (d2 - d6);
        for (int k = 0; k < 3; k++) q[k] = a[k] + w * ac[k];
        goto done;
    }
    double va = d3 * d6 - d5 * d4;
    if (va <= 0 && (d4 - d3) >= 0 && (d5 - d6) >= 0) {
        double w = (d4 - d3) / ((d4 - d3) + (d5 - d6));
        for (int k = 0; k < 3; k++) q[k] = b[k] + w * (c[k] - b[k]);
        goto done;
    }
    {
        double den = 1 / (va + vb + vc);
        double v = vb * den, w = vc * den;
        for (int k = 0; k < 3; k++) q[k] = a[k] + ab[k] * v + ac[k] * w;
    }
done:;
    double d[3] = {p[0] - q[0], p[1] - q[1], p[2] - q[2]};
    return dot3(d, d);
}

double sb__trigrid_nearest(const sb__trigrid *g, const double p[3], double r) {
    return sb__trigrid_nearest_at(g, p, p, r);
}

double sb__trigrid_nearest_at(const sb__trigrid *g, const double p[3], const double c[3],
                              double r) {
    if (!g->start || !g->start[g->n[0] * g->n[1] * g->n[2]]) return INFINITY;
    double lo[3] = {c[0] - r, c[1] - r, c[2] - r}, hi[3] = {c[0] + r, c[1] + r, c[2] + r};
    long c0[3], c1[3];
    cell_of(g, lo, c0);
    cell_of(g, hi, c1);
    double best = INFINITY;
    for (long z = c0[2]; z <= c1[2]; z++)
        for (long y = c0[1]; y <= c1[1]; y++)
            for (long x = c0[0]; x <= c1[0]; x++) {
                size_t k = (size_t)x + g->n[0] * ((size_t)y + g->n[1] * (size_t)z);
                for (size_t e = g->start[k]; e < g->start[k + 1]; e++) {
                    double q[3][3];
                    tri_pts(g->m, g->tris[e], q);
                    double d2 = tri_dist2(p, q[0], q[1], q[2]);
                    if (d2 < best) best = d2;
                }
            }
    return sqrt(best);
}

/* Moeller-Trumbore: ray parameter of the hit, or INFINITY. */
static double ray_tri(const double o[3], const double d[3], const double a[3], const double b[3],
                      const double c[3]) {
    double e1[3], e2[3], pv[3], tv[3], qv[3];
    for (int k = 0; k < 3; k++) e1[k] = b[k] - a[k], e2[k] = c[k] - a[k];
    pv[0] = d[1] * e2[2] - d[2] * e2[1];
    pv[1] = d[2] * e2[0] - d[0] * e2[2];
    pv[2] = d[0] * e2[1] - d[1] * e2[0];
    double det = dot3(e1, pv);
    if (fabs(det) < 1e-300) return INFINITY;
    double inv = 1 / det;
    for (int k = 0; k < 3; k++) tv[k] = o[k] - a[k];
    double u = dot3(tv, pv) * inv;
    if (u < 0 || u > 1) return INFINITY;
    qv[0] = tv[1] * e1[2] - tv[2] * e1[1];
    qv[1] = tv[2] * e1[0] - tv[0] * e1[2];
    qv[2] = tv[0] * e1[1] - tv[1] * e1[0];
    double v = dot3(d, qv) * inv;
    if (v < 0 || u + v > 1) return INFINITY;
    return dot3(e2, qv) * inv;
}

double sb__trigrid_ray(const sb__trigrid *g, const double o[3], const double d[3], double tmin,
                       double tmax, uint32_t skip_v) {
    if (!g->start || !g->start[g->n[0] * g->n[1] * g->n[2]]) return INFINITY;
    /* clip [tmin, tmax] to the grid box */
    double t0 = tmin, t1 = tmax;
    for (int a = 0; a < 3; a++) {
        double blo = g->lo[a], bhi = g->lo[a] + (double)g->n[a] * g->cell;
        if (fabs(d[a]) < 1e-300) {
            if (o[a] < blo || o[a] > bhi) return INFINITY;
            continue;
        }
        double ta = (blo - o[a]) / d[a], tb = (bhi - o[a]) / d[a];
        if (ta > tb) {
            double s = ta;
            ta = tb, tb = s;
        }
        if (ta > t0) t0 = ta;
        if (tb < t1) t1 = tb;
    }
    if (t0 > t1) return INFINITY;
    double p[3];
    for (int a = 0; a < 3; a++) p[a] = o[a] + t0 * d[a];
    long c[3];
    cell_of(g, p, c);
    long step[3];
    double tnext[3], tdelta[3];
    for (int a = 0; a < 3; a++) {
        if (d[a] > 0) {
            step[a] = 1;
            tnext[a] = (g->lo[a] + (double)(c[a] + 1) * g->cell - o[a]) / d[a];
            tdelta[a] = g->cell / d[a];
        } else if (d[a] < 0) {
            step[a] = -1;
            tnext[a] = (g->lo[a] + (double)c[a] * g->cell - o[a]) / d[a];
            tdelta[a] = -g->cell / d[a];
        } else {
            step[a] = 0;
            tnext[a] = INFINITY;
            tdelta[a] = INFINITY;
        }
    }
    double best = INFINITY;
    for (;;) {
        size_t k = (size_t)c[0] + g->n[0] * ((size_t)c[1] + g->n[1] * (size_t)c[2]);
        for (size_t e = g->start[k]; e < g->start[k + 1]; e++) {
            uint32_t t = g->tris[e];
            const uint32_t *tv = g->m->tris + 3 * (size_t)t;
            if (tv[0] == skip_v || tv[1] == skip_v || tv[2] == skip_v) continue;
            double q[3][3];
            tri_pts(g->m, t, q);
            double h = ray_tri(o, d, q[0], q[1], q[2]);
            if (h > tmin && h <= tmax && h < best) best = h;
        }
        int a = tnext[0] < tnext[1] ? (tnext[0] < tnext[2] ? 0 : 2) : (tnext[1] < tnext[2] ? 1 : 2);
        if (best <= tnext[a] || tnext[a] > t1) break;
        c[a] += step[a];
        if (c[a] < 0 || c[a] >= (long)g->n[a]) break;
        tnext[a] += tdelta[a];
    }
    return best;
}
