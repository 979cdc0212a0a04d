/* check.c — what a user checks on a triangle mesh: closed, 2-manifold, consistently oriented,
 * no degenerate triangles; components, area, signed volume, bounding box.
 *
 * Passes
 *   1. validate indices; per triangle: degenerate (repeated index or zero area, in double),
 *      area, signed volume by the divergence theorem (sum of det(a-o, b-o, c-o)/6, o the
 *      bounding-box centre to limit cancellation), bounding box of all vertices;
 *   2. sort the half-edges (u,v), u != v, into buckets by min(u,v) (a counting sort, O(n)) and
 *      each bucket by max(u,v) (insertion sort, qsort for large fans): equal keys are the uses
 *      of one undirected edge, carrying their triangle and direction;
 *   3. per edge: 1 use = boundary, > 2 = non-manifold, 2 uses in the same direction =
 *      misoriented; triangles sharing an edge are joined in a union-find (path halving), whose
 *      roots are the components; across each 2-use edge the corners of its two end vertices
 *      are joined in a second union-find, whose roots are the fans around each vertex;
 *   4. a vertex with more than one fan is non-manifold (two cones touching at a point).
 * Memory: 8 bytes per half-edge (24 per triangle) + 4 per triangle (components) + 12 per
 * triangle (corners) + 8 per vertex.
 */
#include "sb_mesh.h"

#include "mesh_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct half {
    uint32_t other; /* max(u, v) */
    uint32_t pay;   /* triangle * 2 + (u > v) */
} half;

static int half_cmp(const void *a, const void *b) {
    const half *x = a, *y = b;
    if (x->other != y->other) return x->other < y->other ? -1 : 1;
    return (x->pay > y->pay) - (x->pay < y->pay);
}

static void sort_bucket(half *h, size_t n) {
    if (n > 24) {
        qsort(h, n, sizeof *h, half_cmp);
        return;
    }
    for (size_t i = 1; i < n; i++) {
        half x = h[i];
        size_t j = i;
        while (j > 0 && half_cmp(&h[j - 1], &x) > 0) {
            h[j] = h[j - 1];
            j--;
        }
        h[j] = x;
    }
}

static uint32_t uf_find(uint32_t *parent, uint32_t x) {
    while (parent[x] != x) {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    return x;
}

static void uf_union(uint32_t *parent, uint32_t a, uint32_t b) {
    a = uf_find(parent, a);
    b = uf_find(parent, b);
    if (a == b) return;
    /* the smaller index becomes the root: deterministic, and keeps trees shallow enough */
    if (a < b)
        parent[b] = a;
    else
        parent[a] = b;
}

/* The corner (3 t + i) of triangle t at vertex x (the first one if x repeats). */
static uint32_t corner_of(const sb_trimesh *m, uint32_t t, uint32_t x) {
    const uint32_t *tv = m->tris + 3 * (size_t)t;
    return 3 * t + (tv[0] == x ? 0u : tv[1] == x ? 1u : 2u);
}

/* Pass 1: geometry, degenerate triangles, bounding box. */
static void geometry(const sb_trimesh *m, sb_mesh_report *rep) {
    if (m->nverts) {
        for (int a = 0; a < 3; a++) rep->bbox_min[a] = rep->bbox_max[a] = m->verts[a];
        for (size_t i = 1; i < m->nverts; i++) {
            for (int a = 0; a < 3; a++) {
                double x = m->verts[3 * i + a];
                if (x < rep->bbox_min[a]) rep->bbox_min[a] = x;
                if (x > rep->bbox_max[a]) rep->bbox_max[a] = x;
            }
        }
    }
    double o[3];
    for (int a = 0; a < 3; a++) o[a] = 0.5 * (rep->bbox_min[a] + rep->bbox_max[a]);
    double area = 0, vol = 0;
    for (size_t t = 0; t < m->ntris; t++) {
        const uint32_t *tv = m->tris + 3 * t;
        double p[3][3];
        for (int c = 0; c < 3; c++)
            for (int a = 0; a < 3; a++) p[c][a] = (double)m->verts[3 * (size_t)tv[c] + a] - o[a];
        double e1[3] = {p[1][0] - p[0][0], p[1][1] - p[0][1], p[1][2] - p[0][2]};
        double e2[3] = {p[2][0] - p[0][0], p[2][1] - p[0][1], p[2][2] - p[0][2]};
        double n[3] = {e1[1] * e2[2] - e1[2] * e2[1], e1[2] * e2[0] - e1[0] * e2[2],
                       e1[0] * e2[1] - e1[1] * e2[0]};
        double a2 = sqrt(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]);
        area += 0.5 * a2;
        /* det(p0, p1, p2) = p0 . (p1 x p2) */
        vol += (p[0][0] * (p[1][1] * p[2][2] - p[1][2] * p[2][1]) -
                p[0][1] * (p[1][0] * p[2][2] - p[1][2] * p[2][0]) +
                p[0][2] * (p[1][0] * p[2][1] - p[1][1] * p[2][0])) /
               6.0;
        if (tv[0] == tv[1] || tv[1] == tv[2] || tv[0] == tv[2] || !(a2 > 0)) rep->degenerate_tris++;
    }
    rep->area_mm2 = area;
    rep->volume_mm3 = vol;
}

sb_status sb_mesh_check(const sb_trimesh *m, sb_mesh_report *rep, sb_error *err) {
    return sb__mesh_check_ex(m, SIZE_MAX, rep, err);
}

sb_status sb__mesh_check_ex(const sb_trimesh *m, size_t known_crossings, sb_mesh_report *rep,
                            sb_error *err) {
    if (!m || !rep) return sb_error_set(err, SB_ERR_USAGE, "sb_mesh_check: mesh or report is NULL");
    memset(rep, 0, sizeof *rep);
    if ((m->ntris && !m->tris) || (m->nverts && !m->verts))
        return sb_error_set(err, SB_ERR_INPUT,
                            "mesh check: %zu vertices / %zu triangles but no array", m->nverts,
                            m->ntris);
    if (m->ntris > (size_t)INT32_MAX || m->nverts > (size_t)UINT32_MAX)
        return sb_error_set(err, SB_ERR_INPUT,
                            "mesh check: %zu triangles / %zu vertices exceed 2^31 / 2^32", m->ntris,
                            m->nverts);
    for (size_t i = 0; i < 3 * m->ntris; i++) {
        if (m->tris[i] >= m->nverts)
            return sb_error_set(err, SB_ERR_INPUT, "mesh check: triangle %zu uses vertex %u of %zu",
                                i / 3, (unsigned)m->tris[i], m->nverts);
    }
    rep->nverts = m->nverts;
    rep->ntris = m->ntris;
    geometry(m, rep);

    const size_t nv = m->nverts, nt = m->ntris;
    size_t *off = calloc(nv + 1, sizeof *off);
    half *h = malloc((nt ? 3 * nt : 1) * sizeof *h);
    uint32_t *parent = malloc((nt ? nt : 1) * sizeof *parent);
    uint32_t *corner = malloc((nt ? 3 * nt : 1) * sizeof *corner);
    if (!off || !h || !parent || !corner) {
        free(off);
        free(h);
        free(parent);
        free(corner);
        return sb_error_set(err, SB_ERR_MEMORY,
                            "mesh check: out of memory for %zu triangles (%zu bytes)", nt,
                            nt * (3 * sizeof *h + 4 * sizeof *parent) + (nv + 1) * sizeof *off);
    }
    /* Pass 2: counting sort by min(u, v); off[v] ends as the end of bucket v. */
    for (size_t t = 0; t < nt; t++) {
        const uint32_t *tv = m->tris + 3 * t;
        for (int e = 0; e < 3; e++) {
            uint32_t u = tv[e], v = tv[(e + 1) % 3];
            if (u != v) off[(u < v ? u : v) + 1]++;
        }
    }
    for (size_t v = 1; v <= nv; v++) off[v] += off[v - 1];
    for (size_t t = 0; t < nt; t++) {
        const uint32_t *tv = m->tris + 3 * t;
        for (int e = 0; e < 3; e++) {
            uint32_t u = tv[e], v = tv[(e + 1) % 3];
            if (u == v) continue;
            half *x = &h[off[u < v ? u : v]++];
            x->other = u < v ? v : u;
            x->pay = (uint32_t)t * 2u + (u > v);
        }
    }
    for (size_t t = 0; t < nt; t++) parent[t] = (uint32_t)t;
    for (size_t c = 0; c < 3 * nt; c++) corner[c] = (uint32_t)c;

    /* Pass 3: edges. */
    size_t begin = 0;
    for (size_t v = 0; v < nv; v++) {
        size_t end = off[v];
        sort_bucket(h + begin, end - begin);
        for (size_t i = begin; i < end;) {
            size_t j = i, dir[2] = {0, 0};
            while (j < end && h[j].other == h[i].other) {
                dir[h[j].pay & 1]++;
                if (j > i) uf_union(parent, h[i].pay >> 1, h[j].pay >> 1);
                j++;
            }
            size_t uses = j - i;
            rep->edges++;
            if (uses == 1) {
                rep->boundary_edges++;
            } else if (uses > 2) {
                rep->nonmanifold_edges++;
            } else {
                if (dir[0] != 1) rep->misoriented_edges++;
                uint32_t t1 = h[i].pay >> 1, t2 = h[i + 1].pay >> 1, w = h[i].other;
                uf_union(corner, corner_of(m, t1, (uint32_t)v), corner_of(m, t2, (uint32_t)v));
                uf_union(corner, corner_of(m, t1, w), corner_of(m, t2, w));
            }
            i = j;
        }
        begin = end;
    }
    for (size_t t = 0; t < nt; t++)
        if (parent[t] == t) rep->components++;
    /* Pass 4: fans per vertex (off[] reused as counters). */
    memset(off, 0, (nv + 1) * sizeof *off);
    for (size_t c = 0; c < 3 * nt; c++)
        if (corner[c] == c && ++off[m->tris[c]] == 2) rep->nonmanifold_vertices++;
    free(corner);
    rep->closed =
        rep->boundary_edges == 0 && rep->nonmanifold_edges == 0 && rep->misoriented_edges == 0;
    /* used vertices (off[] reused as flags) */
    memset(off, 0, (nv + 1) * sizeof *off);
    for (size_t c = 0; c < 3 * nt; c++) off[m->tris[c]] = 1;
    for (size_t v = 0; v < nv; v++) rep->used_vertices += off[v];
    rep->euler = (long)rep->used_vertices - (long)rep->edges + (long)rep->ntris;
    rep->genus = rep->closed && rep->euler % 2 == 0 ? (long)rep->components - rep->euler / 2 : -1;
    free(off);
    free(h);
    free(parent);
    if (known_crossings != SIZE_MAX)
        rep->self_intersections = known_crossings;
    else if (!sb__mesh_self_intersections(m, &rep->self_intersections, NULL))
        return sb_error_set(err, SB_ERR_MEMORY,
                            "mesh check: out of memory (self-intersections of %zu triangles)", nt);
    rep->ok = rep->closed && rep->nonmanifold_vertices == 0 && rep->degenerate_tris == 0 &&
              rep->self_intersections == 0 && (nt == 0 || rep->volume_mm3 > 0);
    return SB_OK;
}
