/* contours.c — closed contours of a 2-D mask by marching squares, and their offset (kerf).
 *
 * Reference: W. E. Lorensen, H. E. Cline, "Marching cubes", SIGGRAPH 1987 (its 2-D case, marching
 * squares); the saddle cells resolved as in our marching cubes (mesh/marching_cubes.c): inside
 * pixels touching only at a corner stay apart (4-connected inside).
 *
 * Passes: (1) every cell of the grid padded by one outside pixel gives oriented segments between
 * the midpoints of its crossed edges, the inside on the left: walking the cell's edges
 * counter-clockwise, each inside-to-outside edge is joined to the nearest preceding
 * outside-to-inside edge; (2) each edge midpoint starts one segment and ends one, so following
 * the segments gives closed loops; (3) points between two collinear segments are dropped.
 * Guarantee: every loop is closed, simple, and loops never cross each other; the loops of a
 * padded mask enclose exactly its inside pixels' centres.
 */
#include "sb_mesh.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void sb_contours_free(sb_contours *c) {
    if (!c) return;
    free(c->start);
    free(c->xy);
    free(c);
}

/* Edge ids on the padded grid (nu + 2) x (nv + 2), pixel (p, q) at padded index (p+1, q+1):
 * 2 * idx for the edge from pixel idx to its +u neighbour, 2 * idx + 1 to its +v neighbour. */
typedef struct grid {
    const uint8_t *m;
    size_t nu, nv, pu; /* pu = nu + 2 */
} grid;

static int inside(const grid *g, long p, long q) {
    if (p < 0 || q < 0 || p >= (long)g->nu || q >= (long)g->nv) return 0;
    return g->m[(size_t)p + g->nu * (size_t)q] != 0;
}

static size_t eid(const grid *g, long p, long q, int dir) {
    return 2 * ((size_t)(p + 1) + g->pu * (size_t)(q + 1)) + (size_t)dir;
}

sb_status sb_mesh_contours(const uint8_t *mask, size_t nu, size_t nv, sb_contours **out,
                           sb_error *err) {
    *out = NULL;
    if (!mask || !nu || !nv || nu > (1u << 30) || nv > (1u << 30))
        return sb_error_set(err, SB_ERR_USAGE, "sb_mesh_contours: bad arguments");
    grid g = {mask, nu, nv, nu + 2};
    size_t nedges = 2 * (nu + 2) * (nv + 2);
    size_t *next = malloc(nedges * sizeof *next);
    sb_contours *c = calloc(1, sizeof *c);
    if (!next || !c) {
        free(next);
        free(c);
        return sb_error_set(err, SB_ERR_MEMORY, "out of memory");
    }
    const size_t NONE = (size_t)-1;
    for (size_t e = 0; e < nedges; e++) next[e] = NONE;
    size_t nseg = 0;
    /* cell (p, q): corners (p,q) (p+1,q) (p+1,q+1) (p,q+1), counter-clockwise */
    for (long q = -1; q < (long)nv; q++)
        for (long p = -1; p < (long)nu; p++) {
            int b[4] = {inside(&g, p, q), inside(&g, p + 1, q), inside(&g, p + 1, q + 1),
                        inside(&g, p, q + 1)};
            size_t ed[4] = {eid(&g, p, q, 0), eid(&g, p + 1, q, 1), eid(&g, p, q + 1, 0),
                            eid(&g, p, q, 1)};
            for (int k = 0; k < 4; k++) {
                if (!(b[k] && !b[(k + 1) % 4])) continue; /* edge k leaves the inside */
                for (int d = 1; d < 4; d++) {
                    int j = (k + 4 - d) % 4; /* preceding edges */
                    if (!b[j] && b[(j + 1) % 4]) {
                        next[ed[k]] = ed[j];
                        nseg++;
                        break;
                    }
                }
            }
        }
    /* points: edge midpoints in pixel coordinates */
    c->xy = malloc((2 * nseg + 2) * sizeof *c->xy);
    c->start = malloc((nseg + 1) * sizeof *c->start);
    if (!c->xy || !c->start) {
        free(next);
        sb_contours_free(c);
        return sb_error_set(err, SB_ERR_MEMORY, "out of memory");
    }
    size_t np = 0;
    c->start[0] = 0;
    for (size_t e0 = 0; e0 < nedges; e0++) {
        if (next[e0] == NONE) continue;
        size_t first = np, e = e0;
        do {
            size_t idx = e / 2, n = next[e];
            double x = (double)(idx % g.pu) - 1, y = (double)(idx / g.pu) - 1;
            if (e & 1)
                y += 0.5;
            else
                x += 0.5;
            c->xy[2 * np] = x, c->xy[2 * np + 1] = y;
            np++;
            next[e] = NONE;
            e = n;
        } while (e != e0 && e != NONE);
        /* drop points between collinear neighbours */
        size_t n = np - first, w = 0;
        double *P = c->xy + 2 * first;
        for (size_t i = 0; i < n; i++) {
            const double *a = P + 2 * ((i + n - 1) % n), *b = P + 2 * i, *d = P + 2 * ((i + 1) % n);
            double cr = (b[0] - a[0]) * (d[1] - b[1]) - (b[1] - a[1]) * (d[0] - b[0]);
            if (cr == 0 && n > 3) continue;
            P[2 * w] = b[0], P[2 * w + 1] = b[1];
            w++;
        }
        np = first + w;
        c->start[++c->nloops] = np;
    }
    free(next);
    *out = c;
    return SB_OK;
}

void sb_contour_offset(double *xy, size_t n, double d) {
    if (n < 3 || d == 0) return;
    double *o = malloc(2 * n * sizeof *o);
    if (!o) return;
    for (size_t i = 0; i < n; i++) {
        const double *a = xy + 2 * ((i + n - 1) % n), *b = xy + 2 * i, *c = xy + 2 * ((i + 1) % n);
        /* right-hand normals of the two edges meeting at b */
        double e1x = b[0] - a[0], e1y = b[1] - a[1], e2x = c[0] - b[0], e2y = c[1] - b[1];
        double l1 = hypot(e1x, e1y), l2 = hypot(e2x, e2y);
        double n1x = e1y / l1, n1y = -e1x / l1, n2x = e2y / l2, n2y = -e2x / l2;
        double mx = n1x + n2x, my = n1y + n2y, dot = 1 + n1x * n2x + n1y * n2y; /* 2 cos^2 */
        if (dot < 0.25) dot = 0.25; /* miter limited to 2 d at spikes */
        o[2 * i] = b[0] + d * mx / dot;
        o[2 * i + 1] = b[1] + d * my / dot;
    }
    memcpy(xy, o, 2 * n * sizeof *o);
    free(o);
}
